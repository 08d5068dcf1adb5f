"""The PEP 582 step and what installs it.

:mod:`.startup` is the step itself — the only home of the rules (layout, which directory
applies, the switches, the trust rule, the placement, what children inherit); it imports
only the standard library and nothing from ``pep582``, since it is copied into
interpreters, cut into console-script wrappers and the ``site.py`` patch by the one
:mod:`.slicer`, and loaded by path by :mod:`.launch` and the ``_bootstrap`` of
``pep582 run``. :mod:`.hook` installs it into an interpreter (``pep582 enable``),
:mod:`.scripts` writes console-script wrappers and retargets shebangs, :mod:`.children`
writes what a tree gives the processes its programs start (a bootstrap and launchers).

May import (besides :mod:`.startup`, which imports nothing of ours): ``errors``, ``proc``,
``interpreter``.
"""
