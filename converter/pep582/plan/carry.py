"""Carrying one source into one target scheme: the actions, changes and notes it needs.

Every source (a venv, a ``__pypackages__``, an unpacked wheel) is carried by the same
code: RECORD says what each distribution owns, the site directories are walked once
through the source's directory descriptors (``__pycache__`` left behind), scripts are
regenerated or retargeted, RECORDs rewritten. A link that stays among its distribution's
own files is kept as a link; one that leaves them is never published as a link: the file
it leads to is copied when the trust rule accepts the way there, otherwise the run is
refused in one line. The planner (``plan.planner``) merges the :class:`Carried` result
with the existing tree; nothing here touches the plan or the tree.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from pep582.errors import CacheEntryModified, SourceError
from pep582.fs import walk
from pep582.names import check_component, inside
from pep582.plan.editables import Editables
from pep582.plan.index import TreeIndex, under
from pep582.plan.leftovers import Leftovers
from pep582.plan.model import Change, FileAction, Plan, Skipped
from pep582.plan.records import Records
from pep582.scheme import Scheme
from pep582.sources import Source
from pep582.sources.distribution import Distribution, marker_environment, read_file
from pep582.sources.records import MAX_FILE, RecordEntry
from pep582.sources.venv import (
    SCAFFOLDING,
    SEED_NAMES,
    is_seed,
)
from pep582.step.scripts import classify_script, locator, retarget_shebang, wrapper
from pep582.step.startup import trusted_real_path


@dataclass
class Carried:
    """What carrying one source adds to a plan (the planner merges it)."""

    scheme: Scheme
    changes: list[Change] = field(default_factory=list)
    actions: list[FileAction] = field(default_factory=list)
    replaced: list[tuple[Distribution, str]] = field(default_factory=list)  # (old, reason)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unowned: list[str] = field(default_factory=list)


class SourcePlanner(Editables, Leftovers, Records):
    """The actions that carry one source into one target scheme."""

    def __init__(
        self,
        plan: Plan,
        index: TreeIndex,
        source: Source,
        scheme: Scheme,
        *,
        gone: set[int],
        replacing: bool,
        include_pip: bool,
        include_unowned: bool,
    ) -> None:
        self.plan = plan
        self.index = index
        self.source = source
        self.scheme = scheme
        self.gone = gone  # id() of tree distributions already going (read only)
        self.replacing = replacing  # --replace: what the tree holds for this Python goes
        self.include_pip = include_pip
        self.include_unowned = include_unowned
        self.result = Carried(scheme)
        self.tag = source.facts.version_tag
        self.root = str(plan.target)
        self.source_root = str(source.path)
        self.source_sites = [str(d) for d in source.site_dirs]
        self.target_sites = [str(d) for d in scheme.site_dirs]
        self.source_scripts = str(source.scripts)
        self.target_scripts = str(scheme.scripts)
        # each source site directory → its target (a single target site takes both)
        self.site_pairs = list(zip(self.source_sites, self.target_sites * 2))
        # source directory → target directory, most specific first
        self.places: list[tuple[str, str]] = [
            *self.site_pairs,
            (str(source.include), str(scheme.include)),
            (self.source_scripts, self.target_scripts),
            (str(source.data), str(scheme.data)),
        ]
        fixed_sites = None if scheme.layout == "pep582" else self.target_sites
        self.locator = locator(str(scheme.root), self.target_scripts, fixed_sites)
        self.moved: dict[str, str] = {}  # source file → target file (outside site dirs)
        self.written: dict[str, bytes] = {}  # target file → new bytes
        self.dropped: set[str] = set()  # source files deliberately not carried
        self.owner: dict[str, str] = {}  # source file → "name version"
        self.files_of: dict[str, set[str]] = {}  # "name version" → its source files
        self.trees: dict[str, str] = {}  # source directory → target (editable checkouts)

    # helpers ---------------------------------------------------------------------------

    def rel(self, target: str) -> str:
        return target[len(self.root) + 1 :].replace(os.sep, "/")

    def target_of(self, path: str) -> str | None:
        for source_dir, target_dir in self.places:
            if under(path, source_dir):
                return target_dir + path[len(source_dir) :]
        return None

    def add(self, action: FileAction) -> None:
        action.python = self.tag
        readable = action.kind in ("carry", "tree") and action.tree is None and action.source
        if readable and under(str(action.source), self.source_root):
            action.tree = self.source.tree
        self.result.actions.append(action)

    def write(self, target: str, data: bytes, mode: int, owner: str) -> None:
        self.written[target] = data
        self.add(FileAction("write", self.rel(target), data=data, mode=mode, owner=owner))

    def lstat(self, path: str) -> os.stat_result:
        return self.source.tree.lstat(self.source.tree.relative(path))

    def read(self, path: str, limit: int = MAX_FILE) -> bytes:
        return read_file(self.source.tree, path, limit)

    def read_script(self, path: str) -> bytes:
        """A script's bytes: scripts are small; a large binary is read only far enough to
        see that it has no ``#!``."""
        head = self.source.tree.head(self.source.tree.relative(path), 1 << 20)
        return self.read(path) if head.startswith(b"#!") else head

    # the run ---------------------------------------------------------------------------

    def run(self) -> Carried:
        carried, excluded = self.select()
        expected: dict[str, RecordEntry] = {}
        for dist in carried:
            expected.update(zip(dist.owned_files, dist.record or []))
            self.files_of[dist.label] = set(dist.owned_files)
            for path in dist.owned_files:
                self.owner.setdefault(path, dist.label)
        self.plan_outside_files(carried, expected)
        self.plan_site_files(carried, excluded, expected)
        for dist in carried:
            self.plan_scripts(dist)
        if self.source.kind == "venv":
            self.plan_venv_leftovers(carried)
        for dist in carried:
            self.plan_record(dist)
        return self.result

    def select(self) -> tuple[list[Distribution], set[str]]:
        """Which distributions are carried; the files of the others are excluded."""
        carried: list[Distribution] = []
        excluded: set[str] = set()
        environment = marker_environment(self.source.facts)
        needed = {
            key
            for d in self.source.distributions
            if d.key not in SEED_NAMES or self.include_pip
            for key in d.requires(environment)
        }
        for dist in self.source.distributions:
            if is_seed(self.source, dist, needed, self.include_pip):
                excluded.update(dist.owned_files)
                excluded.add(str(dist.meta_dir))
                self.result.skipped.append(
                    Skipped(
                        dist.label,
                        "seeded into the venv when it was made and required by nothing "
                        "carried (pass --include-pip to keep the seed packages)",
                    )
                )
                continue
            change = self.change_for(dist)
            self.result.changes.append(change)
            if change.action == "keep":
                excluded.update(dist.owned_files)
                excluded.add(str(dist.meta_dir))
                continue
            carried.append(dist)
            if dist.kind == "egg-info" and dist.record is None:
                self.result.warnings.append(
                    f"{dist.label}: legacy .egg-info without installed-files.txt; "
                    "its files are carried with the rest of site-packages"
                )
        return carried, excluded

    def change_for(self, dist: Distribution) -> Change:
        """add, keep (same version present) or upgrade (another version present: it is
        replaced) — the one place this is decided."""
        change = Change(
            dist.name,
            dist.version,
            "add",
            self.tag,
            kind=dist.kind,
            editable=dist.editable,
            requested=dist.requested,
            scripts=[ep.name for ep in dist.entry_points],
            origin=dist.origin,
        )
        if self.replacing:
            return change
        old = self.index.find(self.plan.layout, self.source.facts, dist.key)
        if old is None or id(old) in self.gone:
            return change
        if old.version == dist.version:
            change.action = "keep"
            return change
        change.action, change.previous = "upgrade", old.version
        self.result.replaced.append((old, f"replaced by {dist.version}"))
        return change

    def plan_outside_files(
        self, carried: list[Distribution], expected: dict[str, RecordEntry]
    ) -> None:
        """Files RECORD lists outside the site directories: scripts, data, headers."""
        for dist in carried:
            entry_scripts = {ep.name for ep in dist.entry_points}
            for path in dist.owned_files:
                if any(under(path, site) for site in self.source_sites):
                    continue
                if path.endswith(".pyc") or f"{os.sep}__pycache__{os.sep}" in path:
                    self.dropped.add(path)
                    continue
                target = self.target_of(path) if under(path, self.source_root) else None
                if target is None:
                    self.result.warnings.append(
                        f"{dist.label}: {path} lies outside the environment; not carried"
                    )
                    self.dropped.add(path)
                    continue
                self.moved[path] = target
                is_script = under(path, self.source_scripts)
                if is_script and os.path.basename(path) in entry_scripts:
                    continue  # regenerated from entry_points.txt
                self.plan_file(path, target, expected.get(path), dist.label, is_script)

    def plan_file(
        self, path: str, target: str, expected: RecordEntry | None, owner: str, script: bool
    ) -> None:
        """One file outside the site directories: a link is judged as :meth:`plan_link`
        says, a script naming the old interpreter is retargeted."""
        try:
            info = self.lstat(path)
        except OSError:
            self.result.warnings.append(f"{owner}: {path} is in RECORD but missing")
            self.dropped.add(path)
            return
        if stat.S_ISLNK(info.st_mode):
            self.plan_link(path, target, owner, expected)
            return
        if not stat.S_ISREG(info.st_mode):
            self.result.warnings.append(f"{owner}: {path} is not a regular file; not carried")
            self.dropped.add(path)
            return
        if script:
            data = self.read_script(path)
            new = retarget_shebang(data, self.source_root, self.plan.interpreter, self.locator)
            if new is not None:
                self.write(target, new, 0o755, owner)
                return
            if classify_script(data, self.source_root) == "foreign-launcher":
                self.result.warnings.append(
                    f"{owner}: {path} starts its interpreter in a way pep582-migrate cannot "
                    "rewrite; not carried"
                )
                self.dropped.add(path)
                return
        self.add(
            FileAction(
                "carry",
                self.rel(target),
                source=path,
                expected=expected,
                owner=owner,
                inode=info.st_ino,
            )
        )

    def plan_link(
        self, path: str, target: str, owner: str, expected: RecordEntry | None = None
    ) -> None:
        """A link stays a link only while it leads to something carried along, reached
        inside the source without passing another link (rewritten relative to its new
        place). One that leaves is never published as a link: the file it leads to is
        copied when nobody else could change the way there or the file, and otherwise
        the run is refused in one line."""
        tree = self.source.tree
        parent, name = tree.split(tree.relative(path))
        link = parent.readlink(name)
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), link))
        new_place = None
        if inside(resolved, self.source_root) and resolved != self.source_root:
            try:
                tree.lstat(tree.relative(resolved))  # no link on the way, or it raises
            except OSError:
                pass
            else:
                new_place = self.target_of(resolved)
        if new_place is not None:
            relative = os.path.relpath(new_place, os.path.dirname(target))
            self.add(FileAction("symlink", self.rel(target), link_target=relative, owner=owner))
            return
        real, refused = trusted_real_path(path)
        what = f"{path} is a link to {link}, outside what is carried"
        if refused:
            raise SourceError(
                f"{what}, and another user could change where it leads ({refused}); "
                "refusing to carry it (replace the link by the file)"
            )
        if os.path.isdir(real):
            raise SourceError(
                f"{what}, to a directory; refusing to publish a link out of the tree "
                "(copy the directory into the environment, or remove the link)"
            )
        if not os.path.isfile(real):
            self.result.warnings.append(f"{what}, to nothing that exists; not carried")
            self.dropped.add(path)
            return
        self.result.notes.append(f"{what}: the file it leads to ({real}) is copied")
        self.add(
            FileAction("carry", self.rel(target), source=real, expected=expected, owner=owner)
        )

    def plan_site_files(
        self, carried: list[Distribution], excluded: set[str], expected: dict[str, RecordEntry]
    ) -> None:
        """Everything in the site directories, minus what is excluded or rewritten, walked
        once through the source's directory descriptors. Byte code is left behind
        (``--compile`` makes new); files no RECORD owns are carried and listed."""
        records = {os.path.join(d.meta_dir, "RECORD") for d in carried if d.kind == "dist-info"}
        egg_links = {str(d.link_file) for d in carried if d.link_file is not None}
        tree = self.source.tree
        for site_dir, target_dir in self.site_pairs:
            meta_of: dict[str, str] = {site_dir: ""}  # directory → the metadata dir it is in
            start = tree.dir(tree.relative(site_dir))
            for _, relative, items in walk(start, prune=frozenset({"__pycache__"})):
                here = os.path.join(site_dir, *relative.split("/")) if relative else site_dir
                if here not in meta_of:
                    continue  # inside a directory that is not carried
                meta = meta_of[here]
                top = not relative
                for name, info in items:
                    path = os.path.join(here, name)
                    if path in excluded or path in records:
                        continue
                    target = os.path.join(target_dir, path[len(site_dir) + 1 :])
                    if stat.S_ISLNK(info.st_mode):
                        owner = self.owner.get(path, meta)
                        self.plan_link(path, target, owner, expected.get(path))
                        continue
                    if stat.S_ISDIR(info.st_mode):
                        if name != "__pycache__":  # byte code is never carried
                            inner = (
                                name
                                if top and name.endswith((".dist-info", ".egg-info"))
                                else meta
                            )
                            meta_of[path] = inner
                        continue
                    self.plan_site_file(path, target, info, top, meta, egg_links, expected)

    def plan_site_file(
        self,
        path: str,
        target: str,
        info: os.stat_result,
        top: bool,
        meta: str,
        egg_links: set[str],
        expected: dict[str, RecordEntry],
    ) -> None:
        """One file met in a site directory (not a link, not a directory)."""
        name = os.path.basename(path)
        if name.endswith(".pyc"):
            return
        owner = self.owner.get(path) or meta
        if top and name in SCAFFOLDING and not owner:
            self.result.skipped.append(Skipped(path, "venv scaffolding"))
            return
        if not owner and path not in egg_links and name != "easy-install.pth":
            if self.source.kind == "wheel":  # installer listed every file
                raise CacheEntryModified(
                    f"{path} is in the unpacked-wheel cache but not in the wheel's RECORD",
                    os.path.basename(self.source_root),
                )
            self.result.unowned.append(path)
        if top and name.endswith(".pth"):
            self.plan_pth(path, target, expected.get(path), owner)
        elif top and name.startswith("__editable__") and name.endswith(".py"):
            self.plan_finder(path, target, expected.get(path), owner)
        elif path in egg_links:
            self.plan_egg_link(path, target, owner)
        elif (
            name == "direct_url.json"
            and meta.endswith(".dist-info")
            and self.plan_direct_url(path, target, expected.get(path), owner)
        ):
            pass  # rewritten: its checkout moved
        elif stat.S_ISREG(info.st_mode):
            self.add(
                FileAction(
                    "carry",
                    self.rel(target),
                    source=path,
                    expected=expected.get(path),
                    owner=owner,
                    inode=info.st_ino,
                )
            )
        else:
            raise SourceError(
                f"{path} is not a regular file, directory or link; refusing to carry it"
            )

    # scripts ----------------------------------------------------------------------------

    def plan_scripts(self, dist: Distribution) -> None:
        if not dist.entry_points:
            return
        names = {ep.name for ep in dist.entry_points}
        for path in dist.owned_files:
            name = os.path.basename(path)
            if under(path, self.source_scripts) and name in names:
                if name.endswith(".py"):
                    self.dropped.add(path)
                else:
                    self.moved[path] = os.path.join(self.target_scripts, name)
        for ep in dist.entry_points:
            check_component(ep.name, f"{ep.section} script of {dist.label}")
            if ep.name.endswith(".py"):  # the PEP: it could shadow a module of that name
                self.result.skipped.append(
                    Skipped(
                        f"console script {ep.name} of {dist.name}",
                        "names ending in .py can shadow modules; not written",
                    )
                )
                continue
            data = wrapper(ep.module, ep.attr, self.plan.interpreter, self.locator)
            self.write(os.path.join(self.target_scripts, ep.name), data, 0o755, dist.label)
