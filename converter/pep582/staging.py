"""Atomic replacement of a ``__pypackages__``: a lock, a staging directory, a swap.

Everything is built in a directory beside the target and moved into place with one
rename (or an atomic exchange with the old tree on Linux), so an interruption at any
moment leaves either the old state or the new one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pep582.errors import DestinationError
from pep582.startup import DIRNAME

Existing = Literal["refuse", "merge", "replace"]
GITIGNORE = b"*\n"


@contextlib.contextmanager
def locked(project: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``project``'s ``__pypackages__`` for one run."""
    lock_path = project / f".{DIRNAME}.lock"
    try:
        handle = open(lock_path, "a+b")  # noqa: SIM115 - held for the whole block
    except OSError as exc:
        raise DestinationError(f"cannot create {lock_path}: {exc.strerror}") from exc
    with handle:
        if os.name == "posix":
            import fcntl

            busy = f"{project / DIRNAME} is being changed by another run (lock {lock_path})"
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                raise DestinationError(busy) from exc
            # The holder unlinks the file when done: a lock on an unlinked file guards
            # nothing, since the next run creates a new one.
            try:
                current = os.stat(lock_path)
            except FileNotFoundError:
                raise DestinationError(busy) from None
            if not os.path.samestat(current, os.fstat(handle.fileno())):
                raise DestinationError(busy)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock_path.unlink()


def check_destination(project: Path, existing: Existing) -> None:
    """Refuse early what a run could not finish: a missing, read-only or taken target."""
    if not project.is_dir():
        raise DestinationError(f"project directory {project} does not exist")
    if not os.access(project, os.W_OK) or not project.stat().st_mode & 0o222:
        raise DestinationError(f"{project} is not writable")
    target = project / DIRNAME
    if (target.exists() or target.is_symlink()) and existing == "refuse":
        raise DestinationError(
            f"{target} already exists; pass --merge to add to it or --replace to replace it"
        )
    if target.is_symlink():
        raise DestinationError(f"{target} is a symlink; point --project at its real place")


def remove_leftovers(project: Path) -> None:
    """Delete stages and old trees that a killed run left behind (we hold the lock)."""
    for pattern in (f".{DIRNAME}.stage-*", f".{DIRNAME}.old-*"):
        for leftover in project.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)


def new_stage(project: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix=f".{DIRNAME}.stage-", dir=project))


def clone_tree(source: Path, stage: Path) -> None:
    """Fill ``stage`` with hard links of ``source`` (copies where links are impossible)."""

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError:
            shutil.copy2(src, dst, follow_symlinks=False)

    shutil.copytree(source, stage, symlinks=True, copy_function=link_or_copy, dirs_exist_ok=True)


def _exchange(first: Path, second: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE); False if unsupported."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return False
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = libc.renameat2(
        at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange
    )
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(first))


def publish(stage: Path, project: Path) -> None:
    """Move ``stage`` into place as ``project/__pypackages__``, replacing any old tree."""
    target = project / DIRNAME
    if not (stage / ".gitignore").exists():
        (stage / ".gitignore").write_bytes(GITIGNORE)
    if not target.exists():
        os.rename(stage, target)
        return
    if not _exchange(stage, target):
        old = Path(tempfile.mkdtemp(prefix=f".{DIRNAME}.old-", dir=project))
        os.rename(target, old / DIRNAME)
        os.rename(stage, target)
        shutil.rmtree(old, ignore_errors=True)
        return
    shutil.rmtree(stage, ignore_errors=True)  # now holds the old tree


def discard(stage: Path) -> None:
    shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def staged(project: Path, existing: Existing) -> Iterator[Path]:
    """Yield a stage to fill for ``project/__pypackages__``; publish it if the block ends
    normally, discard it on any exception (Ctrl-C included).

    The run holds the project's lock throughout; with ``merge`` the stage starts as a
    hard-linked copy of the current tree.
    """
    with locked(project):
        check_destination(project, existing)
        remove_leftovers(project)
        stage = new_stage(project)
        try:
            target = project / DIRNAME
            if existing == "merge" and target.exists():
                clone_tree(target, stage)
            yield stage
            publish(stage, project)
        except BaseException:
            discard(stage)
            raise
