"""The existing ``__pypackages__``, read once per command.

What every command needs is read eagerly and is small: each tree's distributions with
their METADATA headers, INSTALLER, REQUESTED and ``direct_url.json`` (a few small files
per distribution, never the distribution's own files). What only some changes need is
read when asked: a distribution's RECORD (to remove or replace it), and who owns which
file (only when a new file would land on an existing one, or a removal must know that no
other distribution lists a file). The tree is opened once at its root and read through
directory descriptors.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pep582.errors import SourceError
from pep582.fs import Tree
from pep582.scheme import InterpreterFacts, Layout
from pep582.sources import Source
from pep582.sources.distribution import Distribution


def under(path: str, directory: str) -> bool:
    """Whether normalised ``path`` is ``directory`` or lies below it."""
    return path == directory or path.startswith(directory + os.sep)


class TreeIndex:
    """The existing ``__pypackages__``: its distributions, per tree, and who owns what."""

    def __init__(self, target: Path) -> None:
        self.root = str(target)
        self.tree: Tree | None = None
        self.sources: list[Source] = []
        if target.is_dir() and not target.is_symlink():
            from pep582.sources.pypackages import read_pypackages

            _finish_interrupted(target)
            self.tree = Tree.open(target)
            self.root = self.tree.path
            try:
                self.sources = read_pypackages(Path(self.root), self.tree)
            except SourceError as exc:
                if "holds no" not in str(exc):
                    raise
                self.sources = []  # a tree with no site directory yet
        self._owners: dict[str, list[tuple[Distribution, Source]]] | None = None
        self._real: dict[str, bool] = {self.root: True}

    def find(self, layout: Layout, facts: InterpreterFacts, key: str) -> Distribution | None:
        """The distribution ``key`` in the tree for ``facts`` in ``layout``, if any."""
        for source in self.sources:
            if source.layout == layout and source.facts.version_tag == facts.version_tag:
                for dist in source.distributions:
                    if dist.key == key:
                        return dist
        return None

    def rel(self, path: str) -> str | None:
        """``path`` relative to the tree root (OS separators), None when outside it."""
        return path[len(self.root) + 1 :] if under(path, self.root) and path != self.root else None

    def owners(self, relative: str) -> list[tuple[Distribution, Source]]:
        """Every distribution whose RECORD lists ``relative`` (read, for all of them, on
        the first call only: most changes never ask)."""
        if self._owners is None:
            self._owners = {}
            cut = len(self.root) + 1
            for source in self.sources:
                for dist in source.distributions:
                    claim = (dist, source)
                    for path in dist.listed_files:
                        if path.startswith(self.root) and path[cut - 1 : cut] == os.sep:
                            self._owners.setdefault(path[cut:], []).append(claim)
        return self._owners.get(relative, [])

    def also_listed(self, dist: Distribution, paths: list[str]) -> set[str]:
        """Which of ``paths`` (absolute files of ``dist``) another distribution lists too.

        Only a RECORD that names one of ``dist``'s top-level entries at all is parsed (a
        substring test on its text), so removing one distribution reads the others'
        RECORDs but parses only those it shares a directory with."""
        if self._owners is not None:
            return {
                p for p in paths if any(d is not dist for d, _ in self.owners(self.rel(p) or ""))
            }
        site = str(dist.site_dir) + os.sep
        tops = {p[len(site) :].split(os.sep, 1)[0] for p in paths if p.startswith(site)}
        wanted = set(paths)
        found: set[str] = set()
        for source in self.sources:
            for other in source.distributions:
                if other is dist:
                    continue
                if other.kind == "dist-info" and other.tree is not None:
                    text = other.record_text()
                    if not any(top in text for top in tops):
                        continue
                found.update(p for p in other.listed_files if p in wanted)
        return found

    def real_dir(self, directory: str) -> bool:
        """Whether ``directory`` and every directory between it and the tree root are
        plain directories (no link on the way: removals never leave the tree)."""
        if directory in self._real:
            return self._real[directory]
        parent = os.path.dirname(directory)
        real = False
        if under(parent, self.root) and self.real_dir(parent) and self.tree is not None:
            rel = self.rel(directory)
            try:
                real = rel is not None and stat.S_ISDIR(self.tree.lstat(_posix(rel)).st_mode)
            except OSError:
                real = False
        self._real[directory] = real
        return real

    def lstat(self, path: str) -> os.stat_result | None:
        """The entry at absolute ``path`` in the tree (not followed), or None."""
        rel = self.rel(path)
        if rel is None or self.tree is None:
            return None
        try:
            return self.tree.lstat(_posix(rel))
        except OSError:
            return None


def _finish_interrupted(target: Path) -> None:
    """A change a killed run left half-done is finished before the tree is read (under
    the project's lock; when another run holds it, that run finishes it)."""
    from pep582.errors import DestinationError
    from pep582.plan import journal, staging

    if not journal.transactions(target.parent):
        return
    try:
        with staging.locked(target.parent):
            staging.recover(target.parent)
    except DestinationError:
        pass


def _posix(relative: str) -> str:
    return relative.replace(os.sep, "/")
