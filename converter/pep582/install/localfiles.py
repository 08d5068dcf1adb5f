"""Local files and directories an install is asked to use: judged before anything reads them.

A wheel or source archive named by a lock entry (``path``, ``file:`` URL), a requirement
(``./dist/x.whl``, ``name @ file:///…``) or found by a resolver in a ``--find-links``
directory is used only when it is a regular file of at most :data:`MAX_ARTIFACT_BYTES`
that passes the trust rule (``pep582.step.startup.untrusted_path``: the file and every
directory above it owned by root or you and writable by nobody else). The checks look
(``lstat``) before anything is opened, open without following a link and without
blocking (a FIFO never stalls us), and ``fstat`` the descriptor before reading: a FIFO,
a device such as ``/dev/zero``, a directory, a file larger than any wheel, or one
another user could change is refused in one line before a byte of it is read.

A local *directory* (a project to build, an editable, a lock's ``directory`` or ``vcs``
entry with a ``path``) is used only when it passes the same trust rule: building it runs
its code as you.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

from pep582.errors import SourceError, VerificationError
from pep582.parse import url_parts
from pep582.step.startup import untrusted_path

# The largest wheel or source archive the toolkit reads: far above the largest files on
# PyPI (a few GiB), far below what a sparse file or a device can pretend to hold. This
# is the one place the limit is defined (the README's "Lock files" section names it).
MAX_ARTIFACT_BYTES = 8 << 30

_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_CHUNK = 1 << 20
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def path_of_url(url: str) -> Path | None:
    """The local path a ``file:`` URL names (None for any other URL)."""
    parts = url_parts(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parts.path))


def _kind(mode: int) -> str:
    return next((word for test, word in _KINDS if test(mode)), "not a regular file")


def check_file(path: Path, what: str, *, trust: bool = True) -> os.stat_result:
    """Judge the local artifact ``path`` (see the module docstring) without reading it;
    ``what`` starts each error line (a lock file and entry, a requirement). Returns the
    ``lstat`` of the file its real path names. ``trust=False``: only what could stall a
    reader (its kind and size), for files a resolver may merely look at."""
    real = os.path.realpath(path)
    try:
        info = os.lstat(real)
    except OSError as exc:
        raise SourceError(f"{what}: {path} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        shown = f"{path} (→ {real})" if real != os.path.abspath(path) else str(path)
        raise SourceError(f"{what}: {shown} is {_kind(info.st_mode)}, not a wheel or archive")
    if info.st_size > MAX_ARTIFACT_BYTES:
        raise SourceError(
            f"{what}: {path} is {info.st_size >> 20} MiB, more than any wheel may be "
            f"({MAX_ARTIFACT_BYTES >> 30} GiB); refusing to read it"
        )
    refused = untrusted_path(real) if trust else None
    if refused:
        raise SourceError(
            f"{what}: {path} could be changed by another user ({refused}); copy it "
            "somewhere only you can write"
        )
    return info


def open_file(path: Path, what: str) -> int:
    """A read descriptor for the judged artifact ``path``: opened without following a
    link or blocking, and ``fstat``-ed to be the very file that was judged."""
    info = check_file(path, what)
    real = os.path.realpath(path)
    try:
        fd = os.open(real, _READ_FLAGS)
    except OSError as exc:
        raise SourceError(f"{what}: {path} cannot be opened ({exc.strerror})") from None
    opened = os.fstat(fd)
    if (
        not stat.S_ISREG(opened.st_mode)
        or (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino)
        or opened.st_size > MAX_ARTIFACT_BYTES
    ):
        os.close(fd)
        raise SourceError(f"{what}: {path} changed while it was being opened")
    return fd


def digests(path: Path, algorithms: Iterable[str], what: str) -> dict[str, str]:
    """Hex digests of the judged artifact ``path``, read once through one descriptor and
    never past :data:`MAX_ARTIFACT_BYTES`."""
    hashers = {name: hashlib.new(name) for name in algorithms}
    fd = open_file(path, what)
    size = 0
    try:
        while chunk := os.read(fd, _CHUNK):
            size += len(chunk)
            if size > MAX_ARTIFACT_BYTES:
                raise SourceError(f"{what}: {path} grew past {MAX_ARTIFACT_BYTES >> 30} GiB")
            for hasher in hashers.values():
                hasher.update(chunk)
    except OSError as exc:
        if exc.errno == errno.EAGAIN:  # pragma: no cover - a regular file never says this
            raise SourceError(f"{what}: {path} would block") from None
        raise
    finally:
        os.close(fd)
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}


def check_hashes(path: Path, hashes: dict[str, str], promised_by: str, what: str = "") -> str:
    """Raise unless the artifact ``path`` matches every hash in ``hashes`` that hashlib
    can compute (at least one must be computable when any is given); the file is judged
    first (:func:`check_file`). Returns its sha256."""
    usable = {n: v for n, v in hashes.items() if n in hashlib.algorithms_guaranteed}
    if hashes and not usable:
        raise SourceError(
            f"{promised_by} gives {path.name} only hashes this toolkit cannot check "
            f"({', '.join(sorted(hashes))}); add a sha256"
        )
    found = digests(path, {"sha256", *usable}, what or promised_by)
    for name, value in usable.items():
        if found[name] != value.lower():
            raise VerificationError(
                f"{path}: {name} {found[name]} does not match {promised_by} ({value})"
            )
    return found["sha256"]


def check_directory(path: Path, what: str) -> Path:
    """The real path of the local project directory ``path`` when it passes the trust
    rule (it will be built, which runs its code as you); else one line naming it."""
    real = Path(os.path.realpath(path))
    try:
        info = os.lstat(real)
    except OSError as exc:
        raise SourceError(f"{what}: {path} cannot be read ({exc.strerror})") from None
    if not stat.S_ISDIR(info.st_mode):
        raise SourceError(f"{what}: {path} is {_kind(info.st_mode)}, not a project directory")
    refused = untrusted_path(str(real))
    if refused:
        raise SourceError(
            f"{what}: {path} could be changed by another user ({refused}); building it "
            "would run their code as you"
        )
    return real
