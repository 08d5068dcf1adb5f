"""What a tree gives the processes its programs start: a bootstrap and a launcher.

A console script run directly (``__pypackages__/bin/jupyter``) uses its tree through its
own wrapper, whether the interpreter has the startup hook or not; the Python programs it
starts must too (a Jupyter kernel, a pre-commit hook, a nox session without a venv). So a
tree gets, written by the converter beside what it installs:

- ``.pep582/sitecustomize.py`` (:func:`bootstrap_source`): the startup step, cut from
  ``startup.py`` by the one slicer. The wrappers and ``pep582 run`` put its directory
  first on ``PYTHONPATH``; a child interpreter then performs the step at startup, by the
  same rules (a virtual environment that does not opt in, such as one a child creates,
  is left alone), and imports the ``sitecustomize`` it shadows;
- ``bin/pythonX.Y`` (:func:`launcher_source`), one per Python version in the tree: that
  interpreter with the bootstrap on ``PYTHONPATH`` and the tree in ``PYTHONPYPACKAGES``.
  Wrappers set ``sys.executable`` to it, so what a program records by that name (a
  kernelspec, the git hook ``pre-commit install`` writes) keeps using the tree later.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from pep582.step import startup
from pep582.step.slicer import cut

BOOTSTRAP = f"{startup.BOOTSTRAP_DIR}/sitecustomize.py"

_BOOTSTRAP = """\
# -*- coding: utf-8 -*-
# Written by pep582-toolkit (do not edit): on PYTHONPATH of the processes this tree's
# programs start, so that a Python child without the startup hook performs the PEP 582
# step too. It stays valid for any Python (older ones skip the step).
import os
import sys


def _pep582_tree_bootstrap(code):
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if not p or os.path.abspath(p) != here]
    if sys.version_info < (3, 9) or "_pep582_step" in sys.modules:
        return  # too old for the step, or the hook's own step decided already
    import types

    step = types.ModuleType("_pep582_tree_step")
    exec(compile(code, "<pep582 step>", "exec"), step.__dict__)
    step.activate(launcher=True)


_pep582_tree_bootstrap({code!r})
del _pep582_tree_bootstrap
_pep582_self = sys.modules.pop("sitecustomize")
try:
    import sitecustomize  # noqa: F401 - the one this module shadows
except ImportError as exc:
    sys.modules["sitecustomize"] = _pep582_self  # the import system expects an entry
    if getattr(exc, "name", "sitecustomize") != "sitecustomize":
        raise
"""

_LAUNCHER = """\
#!/bin/sh
# Written by pep582-toolkit (do not edit): {python} with this __pypackages__, for the
# programs its console scripts start (their sys.executable names this file).
tree=$(cd -- "$(dirname -- "$0")/.." && pwd -P) || exit 1
PYTHONPATH="$tree/{bootstrap}${{PYTHONPATH:+:$PYTHONPATH}}"
PYTHONPYPACKAGES=$tree
export PYTHONPATH PYTHONPYPACKAGES
exec {command} "$@"
"""


def bootstrap_source() -> bytes:
    """The tree's ``.pep582/sitecustomize.py`` for this version of the step."""
    source = Path(startup.__file__).read_text(encoding="utf-8")
    return _BOOTSTRAP.format(code=cut(source, ("activate",))).encode("utf-8")


def launcher_source(interpreter: str) -> bytes:
    """A tree's ``bin/pythonX.Y`` starting ``interpreter`` (a resolved path, or
    ``/usr/bin/env pythonX.Y``)."""
    parts = interpreter.split() if interpreter.startswith("/usr/bin/env ") else [interpreter]
    command = " ".join(shlex.quote(part) for part in parts)
    return _LAUNCHER.format(
        python=interpreter, bootstrap=startup.BOOTSTRAP_DIR, command=command
    ).encode("utf-8")
