"""Installing, removing and inspecting the startup hook in an interpreter's site directory."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pep582 import proc
from pep582.errors import DestinationError
from pep582.interpreter import Interpreter
from pep582.step import startup

MODULE_NAME = startup.HOOK_NAME  # the module a .start entry point names (Python 3.15+)
STEP_NAME = "_pep582_step"  # startup.py itself, imported only when a __pypackages__ may apply
PTH_NAME = f"{MODULE_NAME}.pth"
START_NAME = f"{MODULE_NAME}.start"
# One line: site runs lines of a .pth that start with "import" (to 3.17). It imports the
# front door rather than holding it: site compiles every import line at every start (twice
# in a venv), which costs more than loading a small cached module (benchmarks/startup.py).
PTH_LINE = f"import {MODULE_NAME}; {MODULE_NAME}.activate()\n"
# PEP 829 (3.15+): a matching .start file makes site call this instead of the import line.
START_LINE = f"{MODULE_NAME}:activate\n"
_VERSION_LINE = re.compile(r'^HOOK_VERSION = "([^"]+)"$', re.MULTILINE)
_MODULE = f'''"""PEP 582 startup hook (written by ``pep582 enable``; do not edit).

The import line of ``{PTH_NAME}`` (and, on Python 3.15+, ``{START_NAME}``) calls
:func:`activate`, the front door: does any ``__pypackages__`` candidate exist? Only then is
``{STEP_NAME}`` (the toolkit's ``startup.py``) imported for the rest of the step.
"""

import os
import sys

HOOK_VERSION = "{startup.HOOK_VERSION}"


def activate():
    return {startup.FRONT_DOOR}
'''


def step_source() -> bytes:
    """The bytes installed as ``_pep582_step.py``: the package's own ``startup.py``."""
    return Path(startup.__file__).read_bytes()


def hook_source() -> bytes:
    """The bytes installed as ``_pep582_hook.py``: the front door as an entry point."""
    return _MODULE.encode("utf-8")


@dataclass
class HookState:
    """What one site directory holds of the hook."""

    site_dir: Path
    module: Path | None = None
    step: Path | None = None
    pth: Path | None = None
    start: Path | None = None
    bytecode: list[Path] = field(default_factory=list)
    version: str | None = None  # HOOK_VERSION of the installed step
    current: bool = False  # every file is what this toolkit would write

    @property
    def installed(self) -> bool:
        return self.step is not None and self.pth is not None

    def files(self) -> list[Path]:
        """Every file of the hook, the ones that start it first (removal order)."""
        found = (self.pth, self.start, self.module, self.step, *self.bytecode)
        return [p for p in found if p is not None]


def _expected() -> dict[str, bytes]:
    return {
        PTH_NAME: PTH_LINE.encode(),
        START_NAME: START_LINE.encode(),
        f"{MODULE_NAME}.py": hook_source(),
        f"{STEP_NAME}.py": step_source(),
    }


def inspect_site_dir(site_dir: Path) -> HookState:
    """Read which hook files ``site_dir`` holds, without importing anything."""
    state = HookState(site_dir)
    current = True
    for name, wanted in _expected().items():
        path = site_dir / name
        if not path.is_file():
            current = False
            continue
        data = path.read_bytes()
        current = current and data == wanted
        if name == PTH_NAME:
            state.pth = path
        elif name == START_NAME:
            state.start = path
        elif name == f"{MODULE_NAME}.py":
            state.module = path
        else:
            state.step = path
            found = _VERSION_LINE.search(data.decode("utf-8", "replace"))
            state.version = found.group(1) if found else None
    if state.step is None and state.module is not None:  # a hook from before version 3
        found = _VERSION_LINE.search(state.module.read_text("utf-8", "replace"))
        state.version = found.group(1) if found else None
    state.current = current
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
    if before.current and before.bytecode:
        return before, False
    module = site_dir / f"{MODULE_NAME}.py"
    step = site_dir / f"{STEP_NAME}.py"
    # The step and the entry-point module, compiled, then the files that start them: a
    # start in between sees no hook or a complete one.
    _write_atomic(step, step_source())
    _write_atomic(module, hook_source())
    for stale in before.bytecode:
        stale.unlink()
    compiled = proc.run(
        [
            interpreter.executable,
            "-c",
            "import py_compile, sys\n"
            "for path in sys.argv[1:]: py_compile.compile(path, doraise=True)",
            os.fspath(step),
            os.fspath(module),
        ],
        python=True,
        what="interpreter",
        timeout=proc.PROBE_TIMEOUT,
    )
    if compiled.returncode != 0:
        last = (compiled.stderr.strip().splitlines() or ["no output"])[-1]
        raise DestinationError(f"{interpreter.executable} could not compile the hook: {last}")
    _write_atomic(site_dir / START_NAME, START_LINE.encode())
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
