"""Installing, removing and inspecting the startup hook in an interpreter's site directory."""

from __future__ import annotations

import ast
import contextlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pep582.errors import DestinationError
from pep582.interpreter import Interpreter, run_python
from pep582.step import startup

MODULE_NAME = "_pep582_hook"  # the front door the .pth imports at every start
STEP_NAME = "_pep582_step"  # startup.py itself, imported only when a __pypackages__ exists
PTH_NAME = f"{MODULE_NAME}.pth"
PTH_LINE = f"import {MODULE_NAME}; {MODULE_NAME}.activate()\n"
_VERSION_LINE = re.compile(r'^HOOK_VERSION = "([^"]+)"$', re.MULTILINE)
# What the front door needs of startup.py: the cheap first half of the step.
_FRONT_NAMES = ("HOOK_VERSION", "DIRNAME", "ENV_VAR", "CWD_ARGV0", "disabled_by", "inherited",
                "locate", "_is_zip", "applicable")  # fmt: skip
_FRONT_HEAD = f'''"""PEP 582 startup hook (written by ``pep582 enable``; do not edit).

The front door: decides cheaply whether a ``__pypackages__`` is there at all, and only
then imports ``{STEP_NAME}`` (the toolkit's ``startup.py``) for the trust rule and the
rest of the step. Its functions are copied from that same file.
"""

import os
import sys

'''
_FRONT_ACTIVATE = f'''

def activate(argv0=None, export_tree=False):
    """The ``.pth`` line calls this at every start; it never raises."""
    try:
        if argv0 is None:
            argv0 = sys.argv[0] if sys.argv else ""
        if applicable(argv0) is None:
            return []
        import {STEP_NAME}
    except Exception as exc:  # pragma: no cover - never break startup
        sys.stderr.write("pep582: startup step failed: %r\\n" % (exc,))
        return []
    return {STEP_NAME}.activate(argv0, export_tree)
'''


def step_source() -> bytes:
    """The bytes installed as ``_pep582_step.py``: the package's own ``startup.py``."""
    return Path(startup.__file__).read_bytes()


def hook_source() -> bytes:
    """The bytes installed as ``_pep582_hook.py``: the parts of ``startup.py`` that the
    first half of the step needs, cut from its text (so the rule stays written once)."""
    text = step_source().decode("utf-8")
    tree = ast.parse(text)
    pieces = []
    for node in tree.body:
        names = [getattr(node, "name", None)]
        names += [getattr(t, "id", None) for t in getattr(node, "targets", [])]
        if any(name in _FRONT_NAMES for name in names):
            segment = ast.get_source_segment(text, node)
            assert segment is not None
            pieces.append(segment)
    return (_FRONT_HEAD + "\n\n\n".join(pieces) + "\n\n" + _FRONT_ACTIVATE).encode("utf-8")


@dataclass
class HookState:
    """What one site directory holds of the hook."""

    site_dir: Path
    module: Path | None = None
    step: Path | None = None
    pth: Path | None = None
    bytecode: list[Path] = field(default_factory=list)
    version: str | None = None
    current: bool = False  # both modules are what this toolkit would write

    @property
    def installed(self) -> bool:
        return self.module is not None and self.pth is not None

    def files(self) -> list[Path]:
        return [p for p in (self.pth, self.module, self.step, *self.bytecode) if p is not None]


def inspect_site_dir(site_dir: Path) -> HookState:
    """Read which hook files ``site_dir`` holds, without importing anything."""
    state = HookState(site_dir)
    module = site_dir / f"{MODULE_NAME}.py"
    step = site_dir / f"{STEP_NAME}.py"
    pth = site_dir / PTH_NAME
    if module.is_file():
        state.module = module
        text = module.read_bytes()
        found = _VERSION_LINE.search(text.decode("utf-8", "replace"))
        state.version = found.group(1) if found else None
        state.current = text == hook_source()
    if step.is_file():
        state.step = step
        state.current = state.current and step.read_bytes() == step_source()
    else:
        state.current = False
    if pth.is_file():
        state.pth = pth
    cache = site_dir / "__pycache__"
    if cache.is_dir():
        state.bytecode = sorted(
            [*cache.glob(f"{MODULE_NAME}.*.pyc"), *cache.glob(f"{STEP_NAME}.*.pyc")]
        )
    return state


def target_site_dir(interpreter: Interpreter, user: bool) -> Path:
    """The directory ``enable``/``disable`` act on: site-packages, or the user site."""
    return interpreter.user_site if user else interpreter.purelib


def _check_writable(directory: Path) -> None:
    """Refuse read-only and foreign-owned directories, even when running as root."""
    info = directory.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise DestinationError(f"{directory} is not a directory")
    if os.name != "nt":
        if info.st_uid not in (os.geteuid(), 0):
            raise DestinationError(
                f"{directory} is owned by uid {info.st_uid}, not by you or root; "
                "refusing to install a startup hook there"
            )
        if not info.st_mode & 0o222 or not os.access(directory, os.W_OK):
            raise DestinationError(f"{directory} is read-only; cannot install the hook")


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def enable(interpreter: Interpreter, user: bool = False) -> tuple[HookState, bool]:
    """Install or upgrade the hook; return the new state and whether anything changed."""
    site_dir = target_site_dir(interpreter, user)
    if user and not interpreter.user_site_enabled:
        raise DestinationError(
            f"{interpreter.executable} does not read its user site directory (a venv, or "
            "user site disabled); enable the hook without --user"
        )
    if user and not site_dir.exists():
        site_dir.mkdir(parents=True)
    if not site_dir.is_dir():
        raise DestinationError(f"{site_dir} does not exist")
    _check_writable(site_dir)
    before = inspect_site_dir(site_dir)
    pth_ok = before.pth is not None and before.pth.read_text() == PTH_LINE
    if before.current and pth_ok and before.bytecode:
        return before, False
    module = site_dir / f"{MODULE_NAME}.py"
    step = site_dir / f"{STEP_NAME}.py"
    # The step, then the front door, then the .pth that imports it: a start in between
    # sees no hook or a complete one.
    _write_atomic(step, step_source())
    _write_atomic(module, hook_source())
    for stale in before.bytecode:
        stale.unlink()
    run_python(
        interpreter.executable,
        [
            "-c",
            "import py_compile, sys\n"
            "for path in sys.argv[1:]: py_compile.compile(path, doraise=True)",
            os.fspath(step),
            os.fspath(module),
        ],
    )
    _write_atomic(site_dir / PTH_NAME, PTH_LINE.encode())
    return inspect_site_dir(site_dir), True


def disable(interpreter: Interpreter, user: bool = False) -> HookState:
    """Remove exactly the files ``enable`` wrote; return what was removed."""
    site_dir = target_site_dir(interpreter, user)
    state = inspect_site_dir(site_dir) if site_dir.is_dir() else HookState(site_dir)
    if state.files():
        _check_writable(site_dir)
    for path in state.files():  # .pth first: no start may import a half-removed hook
        path.unlink()
    if state.bytecode:
        with contextlib.suppress(OSError):  # only when enable's .pyc was all it held
            (site_dir / "__pycache__").rmdir()
    return state


def installed_states(interpreter: Interpreter) -> list[HookState]:
    """The hook as found in the interpreter's site-packages and (if it reads it) user site."""
    user = [interpreter.user_site] if interpreter.user_site_enabled else []
    dirs = list(dict.fromkeys([interpreter.purelib, *interpreter.site_packages, *user]))
    return [inspect_site_dir(d) for d in dirs if d.is_dir()]
