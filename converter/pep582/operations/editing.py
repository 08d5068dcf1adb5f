"""Editing a user's files in a project directory that others may be able to change.

The project directory is opened once and everything is read and written relative to that
descriptor: a directory on the way is entered with ``O_NOFOLLOW``, a file is read with
``O_NOFOLLOW`` (never a FIFO, never past a size limit), and a new version is written to a
new temporary file in the same directory and renamed over the old one with
``src_dir_fd``/``dst_dir_fd``. Swapping the project directory, ``.vscode`` or the file
itself for a link while this runs therefore changes nothing outside the directory that
was opened: the swap is an error, or too late to matter.

Links are followed only where nobody else could have put them: a link owned by root or
the effective user, in a directory only they may change (a sticky directory such as
``/tmp`` counts when they own it). Below the project directory a link must also stay
inside it (a relative target that never climbs out). A file keeps its owner and mode.
A file or directory made here belongs to the effective user, except that root editing
another user's project gives what it makes to the project's owner when it is made in a
directory that user owns (their project keeps being theirs); never to anyone else.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import stat
from pathlib import Path

from pep582 import fs
from pep582.errors import DestinationError, SourceError
from pep582.step.startup import foreign_writers

LIMIT = 4 << 20  # bytes a settings file may have
MAX_LINKS = 40


def _owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _followable(here: fs.Dir, name: str, info: os.stat_result) -> str | None:
    """Why the link ``name`` in ``here`` must not be followed, or None when only root or
    the effective user could have made it say what it says."""
    allowed = {0, os.geteuid()}
    path = here.join(name)
    if info.st_uid not in allowed:
        return f"{path} is a link owned by {_owner_name(info.st_uid)}"
    holder = os.fstat(here.fd)
    if holder.st_uid not in allowed:
        return f"{path} is a link in a directory {_owner_name(holder.st_uid)} owns"
    writers = foreign_writers(f"/proc/self/fd/{here.fd}", holder, allowed)
    if writers and not holder.st_mode & stat.S_ISVTX:
        return f"{path} is a link in a directory writable by {writers}"
    return None


def project_owner(project: fs.Dir) -> int:
    """Who owns the project directory open at ``project``."""
    return os.fstat(project.fd).st_uid


def _give(directory: fs.Dir, fd: int, owner: int | None) -> None:
    """As root, make the new file or directory ``fd`` belong to ``owner`` (the project's
    owner) when ``directory`` is theirs; otherwise it stays the effective user's."""
    if os.geteuid() != 0 or owner is None or owner == 0:
        return
    holder = os.fstat(directory.fd)
    if holder.st_uid == owner:
        os.fchown(fd, holder.st_uid, holder.st_gid)


def _walk(
    stack: list[fs.Dir],
    parts: list[str],
    *,
    confined: bool,
    create: bool,
    owner: int | None = None,
) -> fs.Dir:
    """Enter ``parts`` from ``stack[-1]`` (``stack`` holds the directories entered so far,
    the first one the start); return the directory reached (the caller closes it).
    ``confined``: the walk must stay below ``stack[0]`` (no absolute link, no ``..`` above
    it); a directory made (``create``) is given to ``owner`` as :func:`_give` says.
    Everything in ``stack`` is closed."""
    links = 0
    try:
        while parts:
            name = parts.pop(0)
            here = stack[-1]
            if name in ("", os.curdir):
                continue
            if name == os.pardir:
                if len(stack) > 1:
                    stack.pop().close()
                elif confined:
                    raise SourceError(f"{here.path}: a path leaves the project; not following it")
                continue
            try:
                info = here.lstat(name)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    here.mkdir(name, exist_ok=True)
                    with here.sub(name) as made:
                        _give(here, made.fd, owner)
                except fs.NotPlain as exc:
                    raise SourceError(
                        f"{exc.filename} is not a plain directory (a link?)"
                    ) from None
                info = here.lstat(name)
            if stat.S_ISLNK(info.st_mode):
                refused = _followable(here, name, info)
                target = here.readlink(name)
                if refused is None and confined and os.path.isabs(target):
                    refused = f"{here.join(name)} is a link out of the project (to {target})"
                if refused:
                    raise SourceError(f"{refused}; not following it (not a plain directory)")
                links += 1
                if links > MAX_LINKS:
                    raise SourceError(f"{here.join(name)}: too many levels of links")
                if os.path.isabs(target):
                    while len(stack) > 1:
                        stack.pop().close()
                parts[:0] = target.split("/")
                continue
            try:
                stack.append(here.sub(name))  # a link swapped in since the lstat: refused
            except fs.NotPlain as exc:
                raise SourceError(f"{exc.filename} is not a plain directory (a link?)") from None
        found = stack.pop()
        return found
    finally:
        for directory in stack:
            directory.close()


def open_project(project: Path) -> fs.Dir:
    """The project directory, opened once: ``.`` is the current directory itself;
    another path is entered from ``/`` component by component (links only as
    :func:`_followable` allows). Messages name it as given (made absolute)."""
    shown = os.fspath(project.absolute())
    try:
        if os.fspath(project) in ("", os.curdir):
            return fs.Dir(os.open(os.curdir, fs.DIR_FLAGS), shown)
        start = fs.Dir.open("/")
        found = _walk([start], shown.split("/"), confined=False, create=False)
    except FileNotFoundError:
        raise SourceError(f"{shown} does not exist") from None
    except NotADirectoryError:
        raise SourceError(f"{shown} is not a directory") from None
    found.path = shown
    return found


def open_inside(project: fs.Dir, relative: str, *, create: bool = False) -> fs.Dir:
    """The directory ``relative`` (``/``-separated) below ``project`` (made when missing
    with ``create``)."""
    start = fs.Dir(os.dup(project.fd), project.path)
    owner = project_owner(project)
    found = _walk([start], relative.split("/"), confined=True, create=create, owner=owner)
    found.path = os.path.join(project.path, relative)
    return found


def read(directory: fs.Dir, name: str) -> tuple[str | None, os.stat_result | None]:
    """The text of the regular file ``name`` and its status (None, None when absent); a
    link, a FIFO or anything else is refused, and so are bytes that are not UTF-8."""
    path = directory.join(name)
    try:
        fd = directory.open_file(name)
    except FileNotFoundError:
        return None, None
    except fs.NotPlain:
        raise SourceError(f"{path} is not a regular file (a link?); not replacing it") from None
    try:
        info = os.fstat(fd)
        data = fs.read_fd(fd, LIMIT, path)
    except OSError as exc:
        raise SourceError(f"{path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8"), info
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(f"{path}:{line}: not UTF-8 ({exc.reason} at byte {exc.start})") from None


def replace(
    directory: fs.Dir,
    name: str,
    data: bytes,
    existing: os.stat_result | None,
    mode: int = 0o644,
    owner: int | None = None,
) -> None:
    """Make ``name`` in ``directory`` hold ``data``: written to a new temporary file there,
    given the old file's owner and mode (a new file: ``mode``, and ``owner`` — the
    project's — as :func:`_give` says; with None it stays the effective user's), and
    renamed over ``name``."""
    path = directory.join(name)
    fd = -1
    temporary = ""
    for _ in range(16):
        temporary = f".{name}.pep582-{secrets.token_hex(4)}"
        try:
            fd = directory.create_fd(temporary, 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise DestinationError(f"{path}: cannot make a temporary file beside it")
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if existing is not None:
                os.fchmod(fd, stat.S_IMODE(existing.st_mode))
                if existing.st_uid != os.geteuid() or existing.st_gid != os.getegid():
                    try:
                        os.fchown(fd, existing.st_uid, existing.st_gid)
                    except PermissionError:
                        raise SourceError(
                            f"{path} belongs to another user; not replacing it (ask them, or "
                            "make the change by hand)"
                        ) from None
            else:
                os.fchmod(fd, mode & ~_umask())
                _give(directory, fd, owner)
            os.fsync(fd)
        finally:
            os.close(fd)
        directory.rename(temporary, directory, name)
    except BaseException:
        with contextlib.suppress(OSError):
            directory.unlink(temporary)
        raise


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
