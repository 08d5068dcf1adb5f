"""The command layer: ``pep582`` (``main``) and ``pep582-migrate`` (``migrate``).

One module per command family (``run``: run and where; ``hook``: enable, disable,
status; ``install``; ``inspect``: list and freeze; ``ide``; ``audit``), built on ``base``
(the command classes: errors reported by each command's own parsed ``--json``/``-v``,
commands imported only when they run), with the options several commands share declared
once in ``options`` and everything printed in ``output``. A command parses, calls one
operation (``pep582.operations``) and renders; it is the only place that prints or turns
errors into exit codes. Imports below ``pep582.commands`` happen inside the commands, so
``--help`` stays fast.
"""
