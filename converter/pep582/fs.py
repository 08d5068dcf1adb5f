"""Trees read and changed through directory descriptors: a path is resolved once.

A tree is opened at its root (one resolution of the path the user gave); everything
below is reached relative to the descriptor of the directory that holds it: listed with
``os.scandir(fd)``, inspected with ``os.stat(name, dir_fd=..., follow_symlinks=False)``,
opened with ``O_NOFOLLOW``, linked, renamed and removed with ``dir_fd`` arguments. No
link is ever followed below the root, so a directory swapped for a link while we work
is an error (``ELOOP``/``ENOTDIR``), never a way out of the tree; and no per-file
``realpath`` or ``/proc/self/fd`` check is needed, which is also what makes it fast.
This is the technique of CPython's ``shutil.rmtree`` on platforms with ``os.open(dir_fd=)``.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections import OrderedDict
from collections.abc import Callable, Iterator

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
NONBLOCK = getattr(os, "O_NONBLOCK", 0)
DIRECTORY = getattr(os, "O_DIRECTORY", 0)
DIR_FLAGS = os.O_RDONLY | DIRECTORY | NOFOLLOW | CLOEXEC
# Never block on a FIFO or a device someone planted, never follow a link at the last part.
READ_FLAGS = os.O_RDONLY | NOFOLLOW | NONBLOCK | CLOEXEC
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC
CHUNK = 1 << 20
# Directories below a root the toolkit reads or writes: a real package nests a few dozen
# at most; a deeper one is refused (one descriptor is open per level while walking, and
# Python code that recurses per level would exceed the recursion limit near 1,000).
MAX_DEPTH = 256
SUPPORTED = (
    os.open in os.supports_dir_fd
    and os.stat in os.supports_dir_fd
    and os.scandir in os.supports_fd
    and bool(NOFOLLOW)
)


class NotPlain(OSError):
    """A name below the root is not what the walk expected: a link, or another kind."""


def _not_plain(path: str, what: str) -> NotPlain:
    return NotPlain(errno.ELOOP, f"not a plain {what} (a link?)", path)


def too_deep(path: str) -> NotPlain:
    """The error for a directory below :data:`MAX_DEPTH` (its path shortened to be read)."""
    parts = path.split(os.sep)
    shown = os.sep.join([*parts[:10], "...", *parts[-2:]]) if len(parts) > 14 else path
    return NotPlain(errno.ENAMETOOLONG, f"more than {MAX_DEPTH} directories deep", shown)


class Dir:
    """An open directory: ``fd`` for the system calls, ``path`` only for messages."""

    __slots__ = ("fd", "path")

    def __init__(self, fd: int, path: str) -> None:
        self.fd = fd
        self.path = path

    # opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, follow: bool = False) -> Dir:
        """The directory at ``path``. With ``follow`` the path may pass links (the one
        resolution a walk starts with); without, its last part must not be a link."""
        text = os.fspath(path)
        flags = DIR_FLAGS & ~NOFOLLOW if follow else DIR_FLAGS
        try:
            fd = os.open(text, flags)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR) and not follow:
                raise _not_plain(text, "directory") from None
            raise
        return cls(fd, text)

    def sub(self, name: str) -> Dir:
        """The directory ``name`` inside this one, never through a link."""
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise _not_plain(self.join(name), "directory") from None
            exc.filename = self.join(name)
            raise
        return Dir(fd, self.join(name))

    def descend(self, relative: str, *, create: bool = False, mode: int = 0o777) -> Dir:
        """The directory at ``relative`` (``/``-separated) below this one, each part opened
        without following a link (and made first with ``create``)."""
        here = Dir(os.dup(self.fd), self.path)
        try:
            for part in [p for p in relative.split("/") if p]:
                if part in (".", ".."):
                    raise NotPlain(errno.EINVAL, "not a plain relative path", relative)
                if create:
                    here.mkdir(part, mode, exist_ok=True)
                nxt = here.sub(part)
                here.close()
                here = nxt
        except BaseException:
            here.close()
            raise
        return here

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Dir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def join(self, name: str) -> str:
        return os.path.join(self.path, name)

    # reading ---------------------------------------------------------------------------------

    def entries(self) -> list[os.DirEntry[str]]:
        """What the directory holds (``entry.stat(follow_symlinks=False)`` asks relative to
        this descriptor), sorted by name."""
        with os.scandir(self.fd) as found:
            return sorted(found, key=lambda e: e.name)

    def names(self) -> list[str]:
        return sorted(os.listdir(self.fd))

    def lstat(self, name: str) -> os.stat_result:
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except OSError as exc:
            exc.filename = self.join(name)
            raise

    def exists(self, name: str) -> bool:
        try:
            self.lstat(name)
        except FileNotFoundError:
            return False
        return True

    def readlink(self, name: str) -> str:
        return os.readlink(name, dir_fd=self.fd)

    def open_file(self, name: str) -> int:
        """A read descriptor for the regular file ``name``: never a link, never blocking
        on a FIFO; anything but a regular file is a :class:`NotPlain`."""
        try:
            fd = os.open(name, READ_FLAGS, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _not_plain(self.join(name), "file") from None
            exc.filename = self.join(name)
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise NotPlain(errno.EINVAL, "not a regular file", self.join(name))
        return fd

    def read(self, name: str, limit: int) -> bytes:
        """The bytes of the regular file ``name``; more than ``limit`` is an OSError."""
        fd = self.open_file(name)
        try:
            return read_fd(fd, limit, self.join(name))
        finally:
            os.close(fd)

    # writing ---------------------------------------------------------------------------------

    def mkdir(self, name: str, mode: int = 0o777, exist_ok: bool = False) -> None:
        try:
            os.mkdir(name, mode, dir_fd=self.fd)
        except FileExistsError:
            if not exist_ok:
                raise
            if not stat.S_ISDIR(self.lstat(name).st_mode):
                raise _not_plain(self.join(name), "directory") from None

    def create(self, name: str, data: bytes, mode: int) -> None:
        """A new file ``name`` holding ``data`` (never replacing anything, never through a
        link), with exactly ``mode``."""
        fd = os.open(name, CREATE_FLAGS, mode & 0o777, dir_fd=self.fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode & 0o777)
        finally:
            os.close(fd)

    def create_fd(self, name: str, mode: int) -> int:
        """A write descriptor for a new file ``name`` (the caller closes it)."""
        return os.open(name, CREATE_FLAGS, mode & 0o777, dir_fd=self.fd)

    def symlink(self, target: str, name: str) -> None:
        os.symlink(target, name, dir_fd=self.fd)

    def link_from(self, source: Dir, source_name: str, name: str) -> None:
        """Hard-link ``source/source_name`` here as ``name`` (a link itself is linked, not
        what it points to)."""
        os.link(source_name, name, src_dir_fd=source.fd, dst_dir_fd=self.fd, follow_symlinks=False)

    def rename(self, name: str, target: Dir, target_name: str) -> None:
        os.rename(name, target_name, src_dir_fd=self.fd, dst_dir_fd=target.fd)

    def unlink(self, name: str) -> None:
        os.unlink(name, dir_fd=self.fd)

    def rmdir(self, name: str) -> None:
        os.rmdir(name, dir_fd=self.fd)

    def remove_tree(self, name: str) -> int:
        """Remove ``name`` (a file, a link or a whole directory) without following any link;
        return how many files (non-directories) went. A loop, not recursion, with one
        descriptor open per level."""
        if not stat.S_ISDIR(self.lstat(name).st_mode):
            self.unlink(name)
            return 1
        removed = 0
        # (parent, name in it, the directory open, its subdirectories not yet removed)
        stack: list[tuple[Dir, str, Dir, Iterator[str]]] = []
        try:
            parent, here_name = self, name
            while True:
                here = parent.sub(here_name)
                subdirs: list[str] = []
                stack.append((parent, here_name, here, iter(subdirs)))
                for entry in here.entries():
                    if entry.is_dir(follow_symlinks=False):
                        subdirs.append(entry.name)
                    else:
                        here.unlink(entry.name)
                        removed += 1
                while stack:
                    parent, here_name, here, pending = stack[-1]
                    following = next(pending, None)
                    if following is not None:
                        parent, here_name = here, following
                        break
                    stack.pop()
                    here.close()
                    parent.rmdir(here_name)
                else:
                    return removed
        finally:
            for _, _, opened, _ in stack:
                opened.close()


def remove_quietly(path: str | os.PathLike[str]) -> None:
    """Remove what is at ``path`` if anything (never following a link); errors are
    ignored: for the toolkit's own stages and leftovers."""
    head, name = os.path.split(os.path.abspath(os.fspath(path)))
    try:
        with Dir.open(head, follow=True) as parent:
            parent.remove_tree(name)
    except OSError:
        pass


def read_fd(fd: int, limit: int, what: str) -> bytes:
    """At most ``limit`` bytes from ``fd``: more is an OSError (EFBIG) naming ``what``."""
    chunks = []
    size = 0
    while chunk := os.read(fd, min(CHUNK, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", what)
    return b"".join(chunks)


Listing = list[tuple[str, os.stat_result]]  # (name, lstat) of each entry, by name


def listing(directory: Dir) -> Listing:
    """What ``directory`` holds, each entry stat'ed once relative to its descriptor."""
    with os.scandir(directory.fd) as found:
        items = [(entry.name, entry.stat(follow_symlinks=False)) for entry in found]
    items.sort(key=lambda item: item[0])
    return items


def walk(
    root: Dir,
    *,
    prune: frozenset[str] = frozenset(),
    onerror: Callable[[OSError], None] | None = None,
) -> Iterator[tuple[Dir, str, Listing]]:
    """Every directory below ``root`` (``root`` first, then depth first by name), open,
    with its ``/``-separated path from the root and its :func:`listing`. A directory is
    entered only through its parent's descriptor, never through a link; names in
    ``prune`` are listed but not entered. At most one descriptor per level is open, and
    a yielded directory stays open only until the walk moves on. A directory below the
    root that cannot be opened or listed raises, or with ``onerror`` is passed to it and
    skipped (the walk goes on)."""
    items = listing(root)
    yield root, "", items
    stack: list[tuple[Dir, str, Iterator[str]]] = [(root, "", _subdirs(items, prune))]
    while stack:
        here, relative, pending = stack[-1]
        name = next(pending, None)
        if name is None:
            stack.pop()
            if here is not root:
                here.close()
            continue
        try:
            inner = here.sub(name)
        except OSError as exc:
            if onerror is None:
                raise
            onerror(exc)
            continue
        inner_relative = f"{relative}/{name}" if relative else name
        if len(stack) >= MAX_DEPTH:
            inner.close()
            if onerror is None:
                raise too_deep(inner.path)
            onerror(too_deep(inner.path))
            continue
        try:
            items = listing(inner)
        except OSError as exc:
            inner.close()
            if onerror is None:
                raise
            exc.filename = inner.path
            onerror(exc)
            continue
        yield inner, inner_relative, items
        stack.append((inner, inner_relative, _subdirs(items, prune)))


def _subdirs(items: Listing, prune: frozenset[str]) -> Iterator[str]:
    return iter([n for n, info in items if stat.S_ISDIR(info.st_mode) and n not in prune])


class Tree:
    """A tree opened once at its root: directories below are reached by name from their
    parent's descriptor (never through a link) and kept open, a bounded number at a time,
    so planning and carrying thousands of files opens each directory about once.

    ``path`` is the root's real path as it was opened, for messages and for naming files
    to the user; every system call goes through descriptors.
    """

    def __init__(self, root: Dir, path: str, keep: int = 64) -> None:
        self.root = root
        self.path = path
        self._open: OrderedDict[str, Dir] = OrderedDict()
        self._keep = keep

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Tree:
        """The tree at ``path``: the one place a path the user gave is resolved."""
        text = os.path.abspath(os.fspath(path))
        root = Dir.open(text, follow=True)
        real = _real_path_of(root.fd, text)
        root.path = real
        return cls(root, real)

    def close(self) -> None:
        for directory in self._open.values():
            directory.close()
        self._open.clear()
        self.root.close()

    def __enter__(self) -> Tree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def relative(self, path: str) -> str:
        """``path`` (under :attr:`path`) as a ``/``-separated path from the root."""
        if path == self.path:
            return ""
        prefix = self.path.rstrip(os.sep) + os.sep
        if not path.startswith(prefix):
            raise NotPlain(errno.EXDEV, f"not inside {self.path}", path)
        return path[len(prefix) :].replace(os.sep, "/")

    def absolute(self, relative: str) -> str:
        return os.path.join(self.path, *relative.split("/")) if relative else self.path

    def dir(self, relative: str, create: bool = False, mode: int = 0o777) -> Dir:
        """The directory at ``relative`` (made, with its parents, when ``create``)."""
        relative = relative.strip("/")
        if not relative:
            return self.root
        found = self._open.get(relative)
        if found is not None:
            self._open.move_to_end(relative)
            return found
        names = relative.split("/")
        if any(name in ("", ".", "..") for name in names):
            raise NotPlain(errno.EINVAL, "not a plain relative path", relative)
        # From the deepest directory on the way that is open, one level at a time (a
        # loop, not recursion: a source may nest deeper than Python's recursion limit).
        start = len(names) - 1
        here = self.root
        while start:
            cached = self._open.get("/".join(names[:start]))
            if cached is not None:
                self._open.move_to_end("/".join(names[:start]))
                here = cached
                break
            start -= 1
        for depth in range(start, len(names)):
            if create:
                here.mkdir(names[depth], mode, exist_ok=True)
            here = here.sub(names[depth])
            self._open["/".join(names[: depth + 1])] = here
            while len(self._open) > self._keep:
                self._open.popitem(last=False)[1].close()
        return here

    def forget(self, relative: str) -> None:
        """Close what is cached at or below ``relative`` (it was removed or renamed)."""
        relative = relative.strip("/")
        for key in [k for k in self._open if k == relative or k.startswith(relative + "/")]:
            self._open.pop(key).close()

    def split(self, relative: str) -> tuple[Dir, str]:
        """``(open parent directory, last name)`` of ``relative``."""
        head, _, name = relative.strip("/").rpartition("/")
        return self.dir(head), name

    def lstat(self, relative: str) -> os.stat_result:
        parent, name = self.split(relative)
        return parent.lstat(name) if name else os.fstat(self.root.fd)

    def read(self, relative: str, limit: int) -> bytes:
        parent, name = self.split(relative)
        return parent.read(name, limit)

    def open_file(self, relative: str) -> int:
        parent, name = self.split(relative)
        return parent.open_file(name)

    def head(self, relative: str, size: int) -> bytes:
        """The first ``size`` bytes (at most) of the regular file at ``relative``."""
        fd = self.open_file(relative)
        try:
            return os.read(fd, size)
        finally:
            os.close(fd)


def _real_path_of(fd: int, fallback: str) -> str:
    """Where the kernel says an opened directory is (Linux), else ``realpath``."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(fallback)


AT_FDCWD = -100  # a "directory descriptor" meaning the working directory (paths as given)
_RENAME_EXCHANGE = 2


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's renameat2, where the system has it (Linux with glibc 2.28+ or musl)."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return None
    import ctypes
    import ctypes.util

    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    libc = ctypes.CDLL(libc_name, use_errno=True)
    return getattr(libc, "renameat2", None)


def exchange(first_fd: int, first_name: str, second_fd: int, second_name: str, where: str) -> bool:
    """Swap two entries atomically (``renameat2`` with ``RENAME_EXCHANGE``), each named
    relative to a directory descriptor (or :data:`AT_FDCWD`); False when the system
    cannot, an ``OSError`` naming ``where`` when the swap itself fails."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    import ctypes

    first, second = os.fsencode(first_name), os.fsencode(second_name)
    if renameat2(first_fd, first, second_fd, second, _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), where)
