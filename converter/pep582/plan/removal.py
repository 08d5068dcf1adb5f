"""What a tree loses in one run: the counterpart of pip's ``UninstallPathSet``.

A removal is sized by the distribution: its RECORD says what it owns; each listed file is
removed only when it lies inside the tree, is reached without passing a link, is listed by
no other distribution and still has the bytes RECORD promises. What stays is named.
"""

from __future__ import annotations

import os
import stat

from pep582.plan.index import TreeIndex, under
from pep582.plan.model import Removal
from pep582.sources.distribution import Distribution
from pep582.sources.records import RecordEntry, hash_stream


class RemovalSet:
    """The removals of one run, each path once, and the distributions that go."""

    def __init__(self, index: TreeIndex) -> None:
        self.index = index
        self.removals: list[Removal] = []
        self.paths: set[str] = set()  # relative paths removed (files and whole dirs)
        self.dists: set[int] = set()  # id() of tree distributions going away

    def add(self, target: str, owner: str, reason: str) -> None:
        """Remove ``target`` (relative to the tree, ``/``-separated; a directory whole)."""
        target = target.replace(os.sep, "/")
        if target not in self.paths:
            self.paths.add(target)
            self.removals.append(Removal(target, owner, reason))

    def covers(self, target: str) -> bool:
        """Whether ``target`` or a directory above it is removed."""
        path = target
        while True:
            if path in self.paths:
                return True
            if "/" not in path:
                return False
            path = path.rsplit("/", 1)[0]

    def distribution(
        self, dist: Distribution, reason: str, keep_changed: bool = True
    ) -> list[str]:
        """Remove a tree distribution: the files its RECORD lists, and its metadata
        directory (a legacy ``.egg-link`` too). Returns what is left, and why. A file
        changed since installation stays when ``keep_changed`` (an uninstall keeps your
        edits); a distribution being replaced takes its changed files with it, and what
        was changed is returned too."""
        index = self.index
        self.dists.add(id(dist))
        left = []
        meta = str(dist.meta_dir)
        shared = index.also_listed(dist, dist.owned_files)
        for entry, path in zip(dist.record or [], dist.owned_files):
            rel = index.rel(path)
            if under(path, meta):
                continue
            if not rel:
                left.append(f"{path} (outside the tree)")
                continue
            if path in shared:
                left.append(f"{rel} (another distribution lists it too)")
                continue
            if not index.real_dir(os.path.dirname(path)):
                left.append(f"{rel} (reached through a link)")
                continue
            info = index.lstat(path)
            if info is None:
                continue  # already gone
            if stat.S_ISDIR(info.st_mode):
                left.append(f"{rel} (a directory; RECORD lists files)")
                continue
            if (
                stat.S_ISREG(info.st_mode)
                and entry.hash_ is not None
                and not _matches(index, rel, entry)
            ):
                left.append(f"{rel} (changed since {dist.label} installed it)")
                if keep_changed:
                    continue
            self.add(rel, dist.label, reason)
            if path.endswith(".py") and stat.S_ISREG(info.st_mode):
                self._bytecode(path, dist.label, reason)
        meta_rel = index.rel(meta)
        if meta_rel and index.real_dir(meta):
            self.add(meta_rel, dist.label, reason)
        if dist.link_file is not None:
            link = index.rel(str(dist.link_file))
            if link and index.real_dir(os.path.dirname(str(dist.link_file))):
                self.add(link, dist.label, reason)
        return left

    def _bytecode(self, source_file: str, owner: str, reason: str) -> None:
        """The ``__pycache__`` files compiled from a removed ``.py``."""
        folder, name = os.path.split(source_file)
        cache = os.path.join(folder, "__pycache__")
        stem = name[: -len(".py")] + "."
        index = self.index
        rel = index.rel(cache)
        if rel is None or index.tree is None or not index.real_dir(cache):
            return
        try:
            names = index.tree.dir(rel.replace(os.sep, "/")).names()
        except OSError:
            return
        for compiled in names:
            if compiled.startswith(stem) and compiled.endswith(".pyc"):
                self.add(f"{rel}/{compiled}", owner, reason)


def _matches(index: TreeIndex, relative: str, entry: RecordEntry) -> bool:
    """Whether the tree's file still has the bytes ``entry`` promises."""
    assert entry.hash_ is not None and index.tree is not None
    try:
        fd = index.tree.open_file(relative.replace(os.sep, "/"))
    except OSError:
        return False
    with os.fdopen(fd, "rb") as handle:
        digest, _ = hash_stream(handle, entry.hash_.name)
    return digest == entry.hash_.value
