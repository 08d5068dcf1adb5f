"""``pep582 run``: the PEP 582 step for this process and every Python it starts.

``pep582 run`` puts this directory on ``PYTHONPATH``; every interpreter of the run's
process tree imports this module at startup (CPython imports ``sitecustomize`` after
site-packages are set up). It removes its directory from ``sys.path``, performs the step
with ``startup.py`` from the toolkit, which also sets ``PYTHONPYPACKAGES`` so children use
the same ``__pypackages__`` from any working directory, and then imports the
``sitecustomize`` it shadows, if there is one. The syntax stays valid for Python 2, so an
old interpreter started by the program only skips the step.
"""

import os
import sys


def _pep582_run_step():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if not p or os.path.abspath(p) != here]
    if sys.version_info < (3, 9):
        return
    location = os.path.join(os.path.dirname(here), "startup.py")
    step = sys.modules.get("_pep582_step")  # the hook's step, when it has run already
    front = sys.modules.get("_pep582_hook")  # 3.15+: the .start entry point's module
    if step is None and front is not None and not _same_version(front, location):
        step = front  # a hook of another version (before 3: the whole step in one module)
    if step is None or not _same_file(getattr(step, "__file__", None), location):
        import importlib.util

        spec = importlib.util.spec_from_file_location("_pep582_run_step", location)
        ours = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ours)
        if step is not None:
            ours.warn(
                "%s is another version of the startup hook and ran first; "
                "run `pep582 enable` to update it" % step.__file__
            )
        step = ours
    step.activate(launcher=True)


def _same_version(module, location):
    """Whether a front-door module belongs to the step at ``location`` (same version)."""
    marker = 'HOOK_VERSION = "%s"' % getattr(module, "HOOK_VERSION", None)
    try:
        with open(location) as handle:
            return marker in handle.read()
    except OSError:
        return False


def _same_file(first, second):
    try:
        with open(first, "rb") as one, open(second, "rb") as two:
            return one.read() == two.read()
    except (OSError, TypeError):
        return False


_pep582_run_step()
del _pep582_run_step
_pep582_self = sys.modules.pop("sitecustomize")
try:
    import sitecustomize  # noqa: F401 - the one this module shadows
except ImportError as exc:
    sys.modules["sitecustomize"] = _pep582_self  # the import system expects an entry
    if getattr(exc, "name", "sitecustomize") != "sitecustomize":
        raise
