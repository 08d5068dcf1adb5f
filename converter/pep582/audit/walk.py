"""One walk of the whole ``__pypackages__`` through directory descriptors (``pep582.fs``).

The root is opened once; every directory below is entered through its parent's
descriptor and no link is followed. Each entry is looked at once, as the walk lists it:
who owns it and who else may write it (``startup.foreign_writers``), what a link says,
which files no RECORD lists; the ``.pth`` files and PEP 660 finders at the top of site
directories are read while their directory is open. What the checks need afterwards is
kept in an :class:`Index`. Then the files the RECORDs hash are hashed in batches on a
thread pool (hashlib and reads release the GIL) while the other checks run, each batch
reaching its directories from the open root without following a link.
"""

from __future__ import annotations

import errno
import os
import stat
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Union

from pep582 import fs
from pep582.sources.records import hash_stream
from pep582.step.startup import foreign_writers

HASH_BATCH = 256  # files per task
HASH_THREADS = min(8, 2 * (os.cpu_count() or 1))
TEXT_LIMIT = 1 << 20  # a .pth file or a finder larger than this is not read
# (digest, size), or why the file could not be hashed
Hashed = Union[tuple[str, int], Exception]


def is_site_text(name: str) -> bool:
    """Files at the top of a site directory the walk reads: ``.pth`` files (site runs
    their import lines) and PEP 660 finders (they map names to checkouts)."""
    return name.endswith(".pth") or (name.startswith("__editable__") and name.endswith(".py"))


@dataclass
class Index:
    """What the walk saw: every directory's entries (lstat, never followed)."""

    root: str  # the __pypackages__ path, as every path here starts
    real_root: str  # where it is (the one resolution the walk made)
    uid: int  # its owner: entries owned by anyone else but root are reported
    dirs: dict[str, dict[str, os.stat_result]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # link path -> its text
    files: list[tuple[str, str, str]] = field(default_factory=list)  # (dir, name, path)
    foreign: list[tuple[str, os.stat_result]] = field(default_factory=list)
    writable: list[tuple[str, os.stat_result, str]] = field(default_factory=list)
    texts: dict[str, str | OSError] = field(default_factory=dict)  # read during the walk
    hashed: dict[tuple[str, str], Hashed] = field(default_factory=dict)
    unreadable: dict[str, OSError] = field(default_factory=dict)  # directories not entered

    def entries(self, directory: str) -> dict[str, os.stat_result]:
        return self.dirs.get(directory, {})

    def lstat(self, path: str) -> os.stat_result | None:
        parent, _, name = path.rpartition(os.sep)
        return self.dirs.get(parent, {}).get(name)

    def is_dir(self, path: str) -> bool:
        info = self.lstat(path)
        return info is not None and stat.S_ISDIR(info.st_mode)

    def inside(self, path: str) -> bool:
        return path == self.root or path.startswith(self.root + os.sep)

    def link_above(self, path: str) -> str | None:
        """The link (or unreadable directory) on the way from the root to ``path``, if
        any: what the walk did not go through."""
        parent = os.path.dirname(path)
        while self.inside(parent) and parent != self.root:
            if parent in self.links or parent in self.unreadable:
                return parent
            parent = os.path.dirname(parent)
        return None

    def resolve(self, link: str, limit: int = 40) -> str:
        """Where the link at ``link`` leads, as the kernel resolves it: inside the tree
        from what the walk saw (links in the tree expanded from their text, nothing
        opened), outside it by ``realpath``. The result is a real path."""
        here = os.path.dirname(self.real_root + link[len(self.root) :])
        pending = self.links[link].split("/")
        if self.links[link].startswith("/"):
            here = "/"
        real_prefix = self.real_root + os.sep
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                here = os.path.dirname(here)
                continue
            nxt = os.path.join(here, part)
            inside = nxt == self.real_root or nxt.startswith(real_prefix)
            if not inside:
                return os.path.realpath(os.path.join(nxt, *pending))
            seen = self.root + nxt[len(self.real_root) :]
            if seen in self.links:
                limit -= 1
                if limit < 0:
                    return nxt  # a loop: the kernel gives up (ELOOP)
                text = self.links[seen]
                pending = text.split("/") + pending
                if text.startswith("/"):
                    here = "/"
                continue
            here = nxt
        return here


def start_hashing(
    top: fs.Dir, index: Index, wanted: dict[str, tuple[str, ...]], pool: Executor
) -> list[Future[list[tuple[str, str, Hashed]]]]:
    """Hash the files in ``wanted`` (path -> RECORD algorithms) that the walk saw as
    regular files, in batches on ``pool``; each batch reaches its directories from ``top``
    without following a link (``Dir.descend``) and opens each file relative to its
    directory's descriptor. What the walk saw as something else gets its reason now; a
    link, or a file below a link, is left to the link check."""
    futures: list[Future[list[tuple[str, str, Hashed]]]] = []
    batch: dict[str, list[tuple[str, str, str]]] = {}  # directory (relative) -> files
    size = 0
    cut = len(index.root) + 1
    dirs, hashed = index.dirs, index.hashed
    for path, algorithms in wanted.items():
        parent, _, name = path.rpartition(os.sep)
        info = dirs.get(parent, {}).get(name)
        if info is None or stat.S_ISLNK(info.st_mode):
            continue  # missing, or not opened through a link: verify() tells which
        if not stat.S_ISREG(info.st_mode):
            for algorithm in algorithms:
                hashed[path, algorithm] = fs.NotPlain(errno.EINVAL, "not a regular file", path)
            continue
        files = batch.get(parent[cut:])
        if files is None:
            files = batch[parent[cut:]] = []
        for algorithm in algorithms:
            files.append((name, path, algorithm))
        size += len(algorithms)
        if size >= HASH_BATCH:  # off to the pool now: hashing starts while we go on
            futures.append(pool.submit(_hash_batch, top, list(batch.items())))
            batch, size = {}, 0
    if batch:
        futures.append(pool.submit(_hash_batch, top, list(batch.items())))
    return futures


def finish_hashing(index: Index, futures: list[Future[list[tuple[str, str, Hashed]]]]) -> None:
    for future in futures:
        for path, algorithm, result in future.result():
            index.hashed[path, algorithm] = result


def _hash_batch(
    top: fs.Dir, batch: list[tuple[str, list[tuple[str, str, str]]]]
) -> list[tuple[str, str, Hashed]]:
    out: list[tuple[str, str, Hashed]] = []
    for relative, files in batch:
        try:
            directory = top.descend(relative)
        except OSError as exc:  # swapped for a link since the walk, or gone
            out += [(path, algorithm, exc) for _, path, algorithm in files]
            continue
        with directory:
            for name, path, algorithm in files:
                result: Hashed
                try:
                    with open(directory.open_file(name), "rb", buffering=0) as stream:
                        result = hash_stream(stream, algorithm)
                except (OSError, ValueError) as exc:
                    result = exc
                out.append((path, algorithm, result))
    return out


def walk_tree(top: fs.Dir, site_dirs: set[str], also: frozenset[str] = frozenset()) -> Index:
    """Walk the tree open at ``top`` once: note every entry, and read the ``.pth`` files
    and finders at the top of ``site_dirs``, the tree's own ``.gitignore`` and the files
    ``also`` names (the toolkit's own: :attr:`Index.texts`)."""
    root = top.path
    info = os.fstat(top.fd)
    index = Index(root, os.path.realpath(root), info.st_uid)
    _judge(index, root, info, is_root=True)
    links, files, sep = index.links, index.files, os.sep

    def unreadable(exc: OSError) -> None:
        index.unreadable[str(exc.filename)] = exc

    for directory, _, items in fs.walk(top, onerror=unreadable):
        here = directory.path
        index.dirs[here] = dict(items)
        in_site_dir = here in site_dirs
        for name, entry in items:
            path = here + sep + name
            mode = entry.st_mode
            if not stat.S_ISDIR(mode):
                files.append((here, name, path))
                if stat.S_ISLNK(mode):
                    links[path] = directory.readlink(name)
            _judge(index, path, entry)
            if (
                (in_site_dir and is_site_text(name))
                or (here == root and name == ".gitignore")
                or path in also
            ):
                index.texts[path] = _read(directory, name, mode)
    return index


def _read(directory: fs.Dir, name: str, mode: int) -> str | OSError:
    """The text of a small regular file (never through a link, never a FIFO's wait)."""
    if stat.S_ISLNK(mode):
        why = "a symbolic link, which the audit does not follow"
        return fs.NotPlain(errno.ELOOP, why, directory.join(name))
    try:
        return directory.read(name, TEXT_LIMIT).decode("utf-8", "replace")
    except OSError as exc:
        return exc


def _judge(index: Index, path: str, info: os.stat_result, is_root: bool = False) -> None:
    """Note an entry owned by someone else than the tree's owner or root, and one someone
    else may write (a link's own mode means nothing)."""
    if not is_root and info.st_uid not in (index.uid, 0):
        index.foreign.append((path, info))
    if info.st_mode & 0o022 and not stat.S_ISLNK(info.st_mode):
        writers = foreign_writers(path, info, {index.uid})
        if writers:
            index.writable.append((path, info, writers))
