"""What a venv holds that no RECORD lists: scripts that start its Python (retargeted, so
they run from the new tree) and other files (listed; carried with --include-unowned)."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from pep582.fs import NotPlain, walk
from pep582.plan.index import under
from pep582.plan.model import FileAction
from pep582.sources.distribution import Distribution
from pep582.sources.records import RecordEntry
from pep582.sources.venv import BIN_SCAFFOLDING_PREFIXES, SEED_NAMES, VENV_SCAFFOLDING
from pep582.step.scripts import classify_script, retarget_shebang

if TYPE_CHECKING:
    from pep582.plan.carry import Carried
    from pep582.plan.model import Plan
    from pep582.sources import Source


class Leftovers:
    """The part of :class:`pep582.plan.carry.SourcePlanner` that carries a venv's rest."""

    plan: Plan
    source: Source
    source_root: str
    source_scripts: str
    target_scripts: str
    locator: str
    trees: dict[str, str]
    include_unowned: bool
    result: Carried

    if TYPE_CHECKING:  # provided by the source planner

        def target_of(self, path: str) -> str | None: ...

        def rel(self, target: str) -> str: ...

        def add(self, action: FileAction) -> None: ...

        def write(self, target: str, data: bytes, mode: int, owner: str) -> None: ...

        def lstat(self, path: str) -> os.stat_result: ...

        def read_script(self, path: str) -> bytes: ...

        def plan_link(
            self, path: str, target: str, owner: str, expected: RecordEntry | None = None
        ) -> None: ...

    def plan_venv_leftovers(self, carried: list[Distribution]) -> None:
        """Files of the venv no RECORD owns: scripts pointing into the venv are carried
        (retargeted); everything else outside the site directories is listed, and carried
        into the scheme's data path only with --include-unowned."""
        owned = {p for d in self.source.distributions for p in d.owned_files}
        regenerated = {ep.name for d in carried for ep in d.entry_points}
        seed_scripts = {
            os.path.basename(p)
            for d in self.source.distributions
            if d.key in SEED_NAMES
            for p in d.owned_files
        }
        tree = self.source.tree
        try:
            scripts = tree.dir(tree.relative(self.source_scripts))
        except (NotPlain, FileNotFoundError):
            scripts = None  # no bin/, or a link: nothing is read through it
        for entry in scripts.entries() if scripts is not None else []:
            name = entry.name
            path = os.path.join(self.source_scripts, name)
            if path in owned or name in regenerated or name.startswith(BIN_SCAFFOLDING_PREFIXES):
                continue
            if name in seed_scripts or name.startswith(("pip", "easy_install")):
                continue
            target = os.path.join(self.target_scripts, name)
            if not entry.is_file(follow_symlinks=False):
                self._unowned(path, target, entry.is_symlink())
                continue
            data = self.read_script(path)
            kind = classify_script(data, self.source_root)
            if kind in ("venv", "relocatable"):
                new = retarget_shebang(data, self.source_root, self.plan.interpreter, self.locator)
                if new is not None:
                    self.write(target, new, 0o755, "")
                    self.result.notes.append(
                        f"script {name}, which no RECORD lists, now runs from {target}"
                    )
                    continue
            self._unowned(path, target, False)
        for entry in tree.root.entries():
            if entry.name in VENV_SCAFFOLDING or entry.name.startswith("pyvenv"):
                continue
            path = os.path.join(self.source_root, entry.name)
            if path in self.trees:
                continue
            self._walk_unowned(path, owned, entry.is_dir(follow_symlinks=False))

    def _walk_unowned(self, top: str, owned: set[str], is_dir: bool) -> None:
        tree = self.source.tree
        if not is_dir:
            if top not in owned:
                target = self.target_of(top)
                assert target is not None
                self._unowned(top, target, stat.S_ISLNK(self.lstat(top).st_mode))
            return
        for _, relative, items in walk(tree.dir(tree.relative(top))):
            here = os.path.join(top, *relative.split("/")) if relative else top
            if any(under(here, checkout) for checkout in self.trees):
                continue
            for name, info in items:
                path = os.path.join(here, name)
                if stat.S_ISDIR(info.st_mode) or path in owned:
                    continue
                if any(under(path, checkout) for checkout in self.trees):
                    continue
                target = self.target_of(path)
                assert target is not None
                self._unowned(path, target, stat.S_ISLNK(info.st_mode))

    def _unowned(self, path: str, target: str, is_link: bool) -> None:
        self.result.unowned.append(path)
        if not self.include_unowned:
            return
        if is_link:
            self.plan_link(path, target, "")
        else:
            self.add(FileAction("carry", self.rel(target), source=path, owner=""))
