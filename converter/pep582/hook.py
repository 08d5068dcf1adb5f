"""Installing, removing and inspecting the startup hook in an interpreter's site directory."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pep582 import startup
from pep582.errors import DestinationError
from pep582.interpreter import Interpreter, run_python

MODULE_NAME = "_pep582_hook"
PTH_NAME = f"{MODULE_NAME}.pth"
PTH_LINE = f"import {MODULE_NAME}; {MODULE_NAME}.activate()\n"
_VERSION_LINE = re.compile(r'^HOOK_VERSION = "([^"]+)"$', re.MULTILINE)


def hook_source() -> bytes:
    """The bytes installed as ``_pep582_hook.py``: the package's own ``startup.py``."""
    return Path(startup.__file__).read_bytes()


@dataclass
class HookState:
    """What one site directory holds of the hook."""

    site_dir: Path
    module: Path | None = None
    pth: Path | None = None
    bytecode: list[Path] = field(default_factory=list)
    version: str | None = None
    current: bool = False  # the module is byte-identical to this toolkit's startup.py

    @property
    def installed(self) -> bool:
        return self.module is not None and self.pth is not None

    def files(self) -> list[Path]:
        return [p for p in (self.pth, self.module, *self.bytecode) if p is not None]


def inspect_site_dir(site_dir: Path) -> HookState:
    """Read which hook files ``site_dir`` holds, without importing anything."""
    state = HookState(site_dir)
    module = site_dir / f"{MODULE_NAME}.py"
    pth = site_dir / PTH_NAME
    if module.is_file():
        state.module = module
        text = module.read_bytes()
        found = _VERSION_LINE.search(text.decode("utf-8", "replace"))
        state.version = found.group(1) if found else None
        state.current = text == hook_source()
    if pth.is_file():
        state.pth = pth
    cache = site_dir / "__pycache__"
    if cache.is_dir():
        state.bytecode = sorted(cache.glob(f"{MODULE_NAME}.*.pyc"))
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
    # Module first, then the .pth that imports it: a start in between sees no hook.
    _write_atomic(module, hook_source())
    for stale in before.bytecode:
        stale.unlink()
    run_python(
        interpreter.executable,
        [
            "-c",
            "import py_compile, sys; py_compile.compile(sys.argv[1], doraise=True)",
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
