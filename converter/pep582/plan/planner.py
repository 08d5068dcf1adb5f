"""Building the plan: carry sources into a scheme, merge with the existing tree, remove.

Every source (a venv, a ``__pypackages__``, an unpacked wheel) is carried by the same
code: RECORD says what each distribution owns, the site directories are walked once
(links kept as links, ``__pycache__`` left behind), scripts are regenerated or
retargeted, RECORDs rewritten. The existing tree is read first, so upgrades replace
exactly the old version's files and conflicts name both owners. Paths are plain strings
here: a venv holds thousands of files and planning must stay cheap.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from pep582.errors import CacheEntryModified, ConflictError, SourceError
from pep582.names import check_component, inside
from pep582.plan.model import Change, FileAction, Operation, Plan, Removal, Skipped
from pep582.plan.staging import Existing
from pep582.scheme import InterpreterFacts, Layout, Scheme, scheme_for
from pep582.sources.reader import (
    SCAFFOLDING,
    Distribution,
    Source,
    canonical,
    read_pypackages,
)
from pep582.sources.records import (
    MAX_FILE,
    RecordEntry,
    entry_for,
    hash_stream,
    open_inside,
    read_regular,
    render_record,
)
from pep582.step.scripts import classify_script, locator, retarget_shebang, wrapper
from pep582.step.startup import DIRNAME

INSTALLER_NAME = b"pep582-toolkit\n"
# What venv tools put at the top of an environment that belongs to no distribution.
VENV_SCAFFOLDING = frozenset(
    {"pyvenv.cfg", ".gitignore", "CACHEDIR.TAG", ".lock", "lib", "lib64", "include", "bin"}
)
BIN_SCAFFOLDING_PREFIXES = ("activate", "python", "pypy", "Activate", "deactivate")
SHOWN_UNOWNED = 5
SEED_WINDOW = 600  # seconds between creating a venv and its seed packages being installed
# What venv (pip; setuptools up to Python 3.11) and virtualenv (pip, setuptools, wheel) put
# into every new environment: build tools of the venv, not dependencies of the project.
SEED_NAMES = frozenset({"pip", "setuptools", "wheel"})


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory + os.sep)


class TreeState:
    """The existing ``__pypackages__``: its distributions and who owns which file."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.sources: list[Source] = []
        if root.is_dir():
            try:
                self.sources = read_pypackages(root)
            except SourceError:
                self.sources = []  # a tree with no site directory yet
        # relative path → (distribution, its source); claimed: every claimant's id()
        self.owner: dict[str, tuple[Distribution, Source]] = {}
        self.claimed: dict[str, set[int]] = {}
        for source in self.sources:
            for dist in source.distributions:
                for path in dist.owned_files:
                    if _under(path, self.root):
                        rel = path[len(self.root) + 1 :]
                        self.owner.setdefault(rel, (dist, source))
                        self.claimed.setdefault(rel, set()).add(id(dist))
        self._real: dict[str, bool] = {self.root: True}

    def real_dir(self, directory: str) -> bool:
        """Whether ``directory`` and every directory between it and the tree root are
        plain directories (no link on the way: removals never leave the tree)."""
        if directory in self._real:
            return self._real[directory]
        parent = os.path.dirname(directory)
        real = False
        if _under(parent, self.root) and self.real_dir(parent):
            try:
                real = stat.S_ISDIR(os.lstat(directory).st_mode)
            except OSError:
                real = False
        self._real[directory] = real
        return real

    def find(self, layout: Layout, facts: InterpreterFacts, key: str) -> Distribution | None:
        for source in self.sources:
            if source.layout == layout and source.facts.version_tag == facts.version_tag:
                for dist in source.distributions:
                    if dist.key == key:
                        return dist
        return None

    def versions(self) -> list[Source]:
        return self.sources

    def rel(self, path: str) -> str | None:
        return path[len(self.root) + 1 :] if _under(path, self.root) else None


class Planner:
    """Collects the changes of one run and turns them into a :class:`Plan`."""

    def __init__(
        self,
        operation: Operation,
        project: Path,
        layout: Layout,
        existing: Existing,
        *,
        interpreter: str = "",
        link: bool = True,
        verify: bool = True,
        compile: bool = False,
        include_pip: bool = False,
        include_unowned: bool = False,
    ) -> None:
        self.plan = Plan(
            operation=operation,
            project=project.absolute(),
            layout=layout,
            existing=existing,
            interpreter=interpreter,
            link=link,
            verify=verify,
            compile=compile,
        )
        self.plan.unowned_carried = include_unowned
        self.include_pip = include_pip
        self.include_unowned = include_unowned
        self.root = str(self.plan.target)
        self.tree = TreeState(self.plan.target)
        self.incoming: dict[str, FileAction] = {}
        self.removed: set[str] = set()  # relative paths removed (files and whole dirs)
        self.removed_dists: set[int] = set()  # id() of tree distributions going away
        self.wiped: set[str] = set()  # version tags whose old content is replaced whole

    # -- what the tree loses ---------------------------------------------------------

    def _remove(self, target: str, owner: str, reason: str) -> None:
        if target not in self.removed:
            self.removed.add(target)
            self.plan.removals.append(Removal(target, owner, reason))

    def remove_distribution(self, dist: Distribution, reason: str) -> list[str]:
        """Plan the removal of a tree distribution: the files its RECORD lists, and its
        metadata directory.

        Only files inside the tree, reached without passing a link, that no other
        distribution also lists and whose bytes still match RECORD are removed; a row that
        names a directory, the tree itself or a place outside it removes nothing. What is
        left is named in the return value.
        """
        self.removed_dists.add(id(dist))
        left = []
        meta = str(dist.meta_dir)
        for entry, path in zip(dist.record or [], dist.owned_files):
            rel = self.tree.rel(path)
            if _under(path, meta):
                continue
            if not rel:
                left.append(f"{path} (outside the tree)")
                continue
            others = self.tree.claimed.get(rel, set()) - {id(dist)}
            if others:
                left.append(f"{rel} (another distribution lists it too)")
                continue
            if not self.tree.real_dir(os.path.dirname(path)):
                left.append(f"{rel} (reached through a link)")
                continue
            try:
                info = os.lstat(path)
            except OSError:
                continue  # already gone
            if stat.S_ISDIR(info.st_mode):
                left.append(f"{rel} (a directory; RECORD lists files)")
                continue
            if (
                stat.S_ISREG(info.st_mode)
                and entry.hash_ is not None
                and not _matches(path, entry)
            ):
                left.append(f"{rel} (changed since {dist.label} installed it)")
                continue
            self._remove(rel, dist.label, reason)
            if path.endswith(".py") and stat.S_ISREG(info.st_mode):
                self._remove_bytecode(path, dist.label, reason)
        meta_rel = self.tree.rel(meta)
        if meta_rel and self.tree.real_dir(meta):
            self._remove(meta_rel, dist.label, reason)
        if dist.link_file is not None:
            link = self.tree.rel(str(dist.link_file))
            if link and self.tree.real_dir(os.path.dirname(str(dist.link_file))):
                self._remove(link, dist.label, reason)
        return left

    def _remove_bytecode(self, source_file: str, owner: str, reason: str) -> None:
        folder, name = os.path.split(source_file)
        cache = os.path.join(folder, "__pycache__")
        stem = name[: -len(".py")] + "."
        if not self.tree.real_dir(cache):
            return
        try:
            names = os.listdir(cache)
        except OSError:
            return
        for compiled in names:
            if compiled.startswith(stem) and compiled.endswith(".pyc"):
                rel = self.tree.rel(os.path.join(cache, compiled))
                if rel is not None:
                    self._remove(rel, owner, reason)

    def wipe_version(self, facts: InterpreterFacts, reason: str) -> None:
        """``--replace``: drop what the tree holds for this Python version, in both
        layouts (its site and include directories, its scripts); other versions stay."""
        tag = facts.version_tag
        if tag in self.wiped:
            return
        self.wiped.add(tag)
        for source in self.tree.sources:
            if source.facts.version_tag != tag:
                continue
            for dist in source.distributions:
                self.remove_distribution(dist, reason)
                self.plan.changes.append(
                    Change(dist.name, dist.version, "remove", tag, kind=dist.kind, origin=reason)
                )
            places = [*source.site_dirs, source.include]
            if source.layout == "pdm":
                places = [source.site_dirs[0].parent] if source.site_dirs else places
            for place in places:
                rel = self.tree.rel(os.path.normpath(str(place)))
                if rel and os.path.lexists(place) and self.tree.real_dir(os.path.dirname(place)):
                    self._remove(rel, f"Python {tag}", reason)  # a link goes, not its target

    # -- what the tree gains -----------------------------------------------------------

    def add(self, action: FileAction) -> None:
        other = self.incoming.get(action.target)
        if other is None:
            self.incoming[action.target] = action
            self.plan.actions.append(action)
            return
        if (other.kind, other.source, other.data, other.link_target) == (
            action.kind,
            action.source,
            action.data,
            action.link_target,
        ):
            return
        raise ConflictError(
            f"{action.owner or 'a file'} and {other.owner or 'another file'} would both "
            f"write {self.plan.target / action.target}"
        )

    def carry(self, source: Source) -> None:
        """Plan carrying every distribution of ``source`` into the target layout."""
        plan = self.plan
        plan.sources.append(source.describe())
        plan.warnings.extend(source.notes)
        if source.system_site:
            plan.warnings.append(
                f"{source.path} sees the system site-packages (include-system-site-packages "
                "= true); packages it used from there are not carried"
            )
        same_tree = source.kind == "pypackages" and str(source.path) == self.root
        if same_tree and source.layout == plan.layout:
            plan.skipped.append(Skipped(source.describe(), f"already in the {plan.layout} layout"))
            return
        scheme = scheme_for(plan.project, source.facts, plan.layout)
        if scheme not in plan.schemes:
            plan.schemes.append(scheme)
        if plan.existing == "replace":
            self.wipe_version(source.facts, "replaced")
        nested = Path(scheme.scripts) / DIRNAME
        if nested.exists():
            plan.warnings.append(
                f"{nested} exists: it would apply to every script in {scheme.scripts}"
            )
        _SourcePlanner(self, source, scheme).run()

    def uninstall(self, names: list[str], facts: list[InterpreterFacts]) -> None:
        """Plan removing distributions by name from the given Python versions' trees."""
        tags = {f.version_tag for f in facts}
        for name in names:
            key = canonical(name)
            found = [
                (dist, source)
                for source in self.tree.sources
                if source.facts.version_tag in tags and source.layout == self.plan.layout
                for dist in source.distributions
                if dist.key == key
            ]
            if not found:
                where = ", ".join(f"Python {tag}" for tag in sorted(tags)) or "any Python"
                raise SourceError(f"{name} is not installed in {self.plan.target} for {where}")
            for dist, source in found:
                left = self.remove_distribution(dist, "uninstalled")
                self.plan.changes.append(
                    Change(
                        dist.name,
                        dist.version,
                        "remove",
                        source.facts.version_tag,
                        kind=dist.kind,
                        editable=dist.editable,
                        requested=dist.requested,
                        scripts=[ep.name for ep in dist.entry_points],
                    )
                )
                for what in left:
                    self.plan.notes.append(f"left {what}")
        for source in self.tree.sources:
            if source.facts.version_tag not in tags:
                continue
            gone = {c.name.lower() for c in self.plan.changes if c.action == "remove"}
            gone_keys = {canonical(n) for n in gone}
            for dist in source.distributions:
                if id(dist) in self.removed_dists:
                    continue
                needs = sorted(k for k in dist.requires if k in gone_keys)
                if needs:
                    self.plan.warnings.append(
                        f"{dist.label} (Python {source.facts.version_tag}) still requires "
                        f"{', '.join(needs)}"
                    )
        if self.tree.sources:
            self.plan.schemes = [
                scheme_for(self.plan.project, s.facts, self.plan.layout)
                for s in self.tree.sources
                if s.facts.version_tag in tags and s.layout == self.plan.layout
            ]
        self.plan.clone = True

    # -- merging with the existing tree -----------------------------------------------

    def finish(self) -> Plan:
        """Check the gains against the tree and return the plan."""
        plan = self.plan
        if not plan.actions and not plan.removals:
            if plan.operation != "uninstall" and not plan.noop:
                plan.noop = _noop_reason(plan)
            return plan
        # A distribution the run removes and adds again (--replace, a layout converted in
        # place) is one change: re-added at the same version (``previous`` says so), or an
        # upgrade (or a downgrade) from the version removed; never also "removed".
        removed = {
            (canonical(c.name), c.python): c.version for c in plan.changes if c.action == "remove"
        }
        again = set()
        for change in plan.changes:
            key = (canonical(change.name), change.python)
            if change.action == "add" and key in removed:
                change.previous = removed[key]
                if change.previous != change.version:
                    change.action = "upgrade"
                again.add(key)
        plan.changes = [
            c
            for c in plan.changes
            if c.action != "remove" or (canonical(c.name), c.python) not in again
        ]
        has_tree = os.path.isdir(self.root)
        every_version_replaced = bool(self.tree.sources) and all(
            s.facts.version_tag in self.wiped for s in self.tree.sources
        )
        plan.clone = has_tree and not every_version_replaced
        if plan.clone:
            plan.actions = [a for a in plan.actions if self._settle(a)]
            if not plan.actions and not plan.removals and plan.operation != "uninstall":
                plan.noop = _noop_reason(plan)
        self._check_parents()
        return plan

    def _settle(self, action: FileAction) -> bool:
        """Whether ``action`` stays: drop it when the tree already holds the same thing;
        replace another Python version's script; refuse any other collision."""
        target = action.target
        if _removed_above(target, self.removed):
            return True
        path = os.path.join(self.root, target)
        if not os.path.lexists(path):
            return True
        if _same_content(action, path):
            self.plan.already_present += 1
            return False
        owned = self.tree.owner.get(target)
        if owned is None:
            raise ConflictError(
                f"{path} already exists and belongs to no distribution; "
                f"{action.owner or 'the new tree'} would overwrite it (use --replace to "
                "start afresh)"
            )
        dist, source = owned
        tag = source.facts.version_tag
        if id(dist) in self.removed_dists:
            self._remove(target, dist.label, "replaced")
            return True
        scripts = str(scheme_for(self.plan.project, source.facts, self.plan.layout).scripts)
        if _under(path, scripts) and action.python and action.python != tag:
            self._remove(target, dist.label, "replaced")
            self.plan.notes.append(
                f"{target} of {dist.label} (Python {tag}) is replaced by {action.owner}'s "
                f"(Python {action.python}); `python{tag} {path}` still runs it with Python "
                f"{tag}'s packages"
            )
            return True
        raise ConflictError(
            f"{path} belongs to {dist.label} (Python {tag}); "
            f"{action.owner or 'the new tree'} also installs it, with other content"
        )

    def _check_parents(self) -> None:
        """No file may be written below a link the plan creates (it would land outside)."""
        links = {a.target for a in self.plan.actions if a.kind == "symlink"}
        if not links:
            return
        for action in self.plan.actions:
            parent = action.target
            while "/" in parent:
                parent = parent.rsplit("/", 1)[0]
                if parent in links:
                    raise SourceError(
                        f"{action.source or action.target} lies below {parent}, which is a "
                        "symbolic link in the source; refusing to write through it"
                    )


def _removed_above(target: str, removed: set[str]) -> bool:
    path = target
    while True:
        if path in removed:
            return True
        if "/" not in path:
            return False
        path = path.rsplit("/", 1)[0]


def _noop_reason(plan: Plan) -> str:
    if plan.skipped and not plan.changes:
        return "; ".join(f"{s.what}: {s.reason}" for s in plan.skipped)
    if plan.changes and all(c.action == "keep" for c in plan.changes):
        return "every distribution is already present"
    return "nothing to do"


def _matches(path: str, entry: RecordEntry) -> bool:
    assert entry.hash_ is not None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    with os.fdopen(fd, "rb") as handle:
        digest, _ = hash_stream(handle, entry.hash_.name)
    return digest == entry.hash_.value


def _same_content(action: FileAction, existing: str) -> bool:
    info = os.lstat(existing)
    if action.kind == "symlink":
        return stat.S_ISLNK(info.st_mode) and os.readlink(existing) == action.link_target
    if not stat.S_ISREG(info.st_mode) or action.kind == "tree":
        return False
    if action.kind == "write":
        assert action.data is not None
        if info.st_size != len(action.data):
            return False
        with open(existing, "rb") as handle:
            return handle.read() == action.data
    assert action.source is not None
    try:
        if os.path.samestat(info, os.lstat(action.source)):
            return True
    except OSError:
        return False
    if action.expected is not None and action.expected.hash_ is not None:
        return _matches(existing, action.expected)
    with open(action.source, "rb") as a, open(existing, "rb") as b:
        return hash_stream(a, "sha256") == hash_stream(b, "sha256")


class _SourcePlanner:
    """The actions that carry one source into one target scheme."""

    def __init__(self, planner: Planner, source: Source, scheme: Scheme) -> None:
        self.planner = planner
        self.plan = planner.plan
        self.source = source
        self.scheme = scheme
        self.tag = source.facts.version_tag
        self.root = planner.root
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
        self.trees: dict[str, str] = {}  # source directory → target (editable checkouts)

    # helpers ---------------------------------------------------------------------------

    def rel(self, target: str) -> str:
        return target[len(self.root) + 1 :].replace(os.sep, "/")

    def target_of(self, path: str) -> str | None:
        for source_dir, target_dir in self.places:
            if _under(path, source_dir):
                return target_dir + path[len(source_dir) :]
        return None

    def add(self, action: FileAction) -> None:
        action.python = self.tag
        if action.kind == "carry":
            action.source_root = self.source_root
        self.planner.add(action)

    def write(self, target: str, data: bytes, mode: int, owner: str) -> None:
        self.written[target] = data
        self.add(FileAction("write", self.rel(target), data=data, mode=mode, owner=owner))

    # the run ---------------------------------------------------------------------------

    def run(self) -> None:
        carried, excluded = self.select()
        expected: dict[str, RecordEntry] = {}
        for dist in carried:
            expected.update(zip(dist.owned_files, dist.record or []))
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

    def select(self) -> tuple[list[Distribution], set[str]]:
        """Which distributions are carried; the files of the others are excluded."""
        carried: list[Distribution] = []
        excluded: set[str] = set()
        needed = {key for d in self.source.distributions for key in d.requires}
        for dist in self.source.distributions:
            if self._is_seed(dist, needed):
                excluded.update(dist.owned_files)
                excluded.add(str(dist.meta_dir))
                self.plan.skipped.append(
                    Skipped(
                        dist.label,
                        "seeded into the venv when it was made and required by nothing "
                        "carried (pass --include-pip to keep the seed packages)",
                    )
                )
                continue
            change = self._change_for(dist)
            self.plan.changes.append(change)
            if change.action == "keep":
                excluded.update(dist.owned_files)
                excluded.add(str(dist.meta_dir))
                continue
            carried.append(dist)
            if dist.kind == "egg-info" and dist.record is None:
                self.plan.warnings.append(
                    f"{dist.label}: legacy .egg-info without installed-files.txt; "
                    "its files are carried with the rest of site-packages"
                )
        return carried, excluded

    def _is_seed(self, dist: Distribution, needed: set[str]) -> bool:
        """pip, setuptools or wheel as the venv's creator put them there: installed when
        the venv was made (ensurepip marks them REQUESTED, so that alone says nothing),
        and nothing in the venv requires them. setuptools and wheel count only at the
        very version ``python -m venv`` seeds (ensurepip's bundled wheel): an upgraded
        one, or one in a venv whose seeds are unknown (virtualenv), is carried."""
        if self.source.kind != "venv" or dist.key not in SEED_NAMES or self.planner.include_pip:
            return False
        if dist.key in needed or self.source.created is None:
            return False
        if dist.key != "pip":  # a build tool some code imports at run time: be sure
            seeded = (self.source.seed_versions or {}).get(dist.key)
            if seeded != dist.version:  # upgraded, or a venv whose seeds we cannot know
                return False
        try:
            installed = os.stat(dist.meta_dir).st_mtime
        except OSError:
            return False
        return abs(installed - self.source.created) < SEED_WINDOW

    def _change_for(self, dist: Distribution) -> Change:
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
        if self.tag in self.planner.wiped:
            return change
        old = self.planner.tree.find(self.plan.layout, self.source.facts, dist.key)
        if old is None or id(old) in self.planner.removed_dists:
            return change
        if old.version == dist.version:
            change.action = "keep"
            return change
        change.action, change.previous = "upgrade", old.version
        self.planner.remove_distribution(old, f"replaced by {dist.version}")
        return change

    def plan_outside_files(
        self, carried: list[Distribution], expected: dict[str, RecordEntry]
    ) -> None:
        """Files RECORD lists outside the site directories: scripts, data, headers."""
        for dist in carried:
            entry_scripts = {ep.name for ep in dist.entry_points}
            for path in dist.owned_files:
                if any(_under(path, site) for site in self.source_sites):
                    continue
                if path.endswith(".pyc") or f"{os.sep}__pycache__{os.sep}" in path:
                    self.dropped.add(path)
                    continue
                target = self.target_of(path) if _under(path, self.source_root) else None
                if target is None:
                    self.plan.warnings.append(
                        f"{dist.label}: {path} lies outside the environment; not carried"
                    )
                    self.dropped.add(path)
                    continue
                self.moved[path] = target
                is_script = _under(path, self.source_scripts)
                if is_script and os.path.basename(path) in entry_scripts:
                    continue  # regenerated from entry_points.txt
                self.plan_file(path, target, expected.get(path), dist.label, is_script)

    def plan_file(
        self, path: str, target: str, expected: RecordEntry | None, owner: str, script: bool
    ) -> None:
        """One file outside the site directories: a link stays a link (never read
        through), a script naming the old interpreter is retargeted."""
        try:
            info = os.lstat(path)
        except OSError:
            self.plan.warnings.append(f"{owner}: {path} is in RECORD but missing")
            self.dropped.add(path)
            return
        if stat.S_ISLNK(info.st_mode):
            self.plan_link(path, target, owner)
            return
        if not stat.S_ISREG(info.st_mode):
            self.plan.warnings.append(f"{owner}: {path} is not a regular file; not carried")
            self.dropped.add(path)
            return
        if script:
            data = _read_head_or_all(path, self.source_root)
            new = retarget_shebang(data, self.source_root, self.plan.interpreter, self.locator)
            if new is not None:
                self.write(target, new, 0o755, owner)
                return
            if classify_script(data, self.source_root) == "foreign-launcher":
                self.plan.warnings.append(
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

    def plan_link(self, path: str, target: str, owner: str) -> None:
        link = os.readlink(path)
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), link))
        if not inside(resolved, self.source_root):
            self.plan.warnings.append(
                f"{path} is a link to {link}, outside the environment; kept as a link"
            )
        self.add(FileAction("symlink", self.rel(target), link_target=link, owner=owner))

    def plan_site_files(
        self, carried: list[Distribution], excluded: set[str], expected: dict[str, RecordEntry]
    ) -> None:
        """Everything in the site directories, minus what is excluded or rewritten.

        Links (to files or directories) are recreated as links, never followed; byte code
        is left behind (``--compile`` makes new); files no RECORD owns are carried and
        listed.
        """
        records = {os.path.join(d.meta_dir, "RECORD") for d in carried if d.kind == "dist-info"}
        egg_links = {str(d.link_file) for d in carried if d.link_file is not None}
        for site_dir, target_dir in self.site_pairs:
            cut = len(site_dir) + 1
            pending: list[tuple[str, str]] = [(site_dir, "")]
            while pending:
                here, meta = pending.pop()
                top = here == site_dir
                with os.scandir(here) as entries:
                    for entry in entries:
                        path = entry.path
                        name = entry.name
                        if path in excluded or path in records:
                            continue
                        if name == "__pycache__" and not entry.is_symlink():
                            continue
                        relative = path[cut:].replace(os.sep, "/")
                        target = os.path.join(target_dir, relative)
                        if entry.is_symlink():
                            self.plan_link(path, target, self.owner.get(path, meta))
                            continue
                        if entry.is_dir():
                            inner = meta
                            if top and name.endswith((".dist-info", ".egg-info")):
                                inner = name
                            pending.append((path, inner))
                            continue
                        if name.endswith(".pyc"):
                            continue
                        owner = self.owner.get(path) or meta
                        if top and name in SCAFFOLDING and not owner:
                            self.plan.skipped.append(Skipped(path, "venv scaffolding"))
                            continue
                        if not owner and path not in egg_links and name != "easy-install.pth":
                            if self.source.kind == "wheel":  # installer listed every file
                                raise CacheEntryModified(
                                    f"{path} is in the unpacked-wheel cache but not in the "
                                    "wheel's RECORD",
                                    os.path.basename(self.source_root),
                                )
                            self.plan.unowned.append(path)
                        if top and name.endswith(".pth"):
                            self.plan_pth(path, target, expected.get(path), owner)
                        elif top and name.startswith("__editable__") and name.endswith(".py"):
                            self.plan_finder(path, target, expected.get(path), owner)
                        elif path in egg_links:
                            self.plan_egg_link(path, target, owner)
                        elif entry.is_file(follow_symlinks=False):
                            self.add(
                                FileAction(
                                    "carry",
                                    self.rel(target),
                                    source=path,
                                    expected=expected.get(path),
                                    owner=owner,
                                    inode=entry.inode(),
                                )
                            )
                        else:
                            raise SourceError(
                                f"{path} is not a regular file, directory or link; "
                                "refusing to carry it"
                            )

    # editables -------------------------------------------------------------------------

    def relocate(self, where: str, what: str) -> str | None:
        """The new place of ``where`` (inside the old environment), carrying the editable
        checkout that holds it when nothing else carries it; None if it cannot be."""
        if any(_under(where, d) for d, _ in self.places[:-1]):
            return self.target_of(where)
        relative = where[len(self.source_root) + 1 :].split(os.sep)
        depth = 2 if relative[0] == "src" and len(relative) > 1 else 1
        top = os.path.join(self.source_root, *relative[:depth])
        if not os.path.isdir(top) or os.path.islink(top):
            self.plan.warnings.append(
                f"{what} points into the old environment ({where}) at nothing that exists; "
                "the line will match nothing"
            )
            return None
        if top not in self.trees:
            destination = self.target_of(top)
            assert destination is not None
            for here, _, files in os.walk(top):
                for name in files:
                    kind = os.lstat(os.path.join(here, name)).st_mode
                    if not (stat.S_ISREG(kind) or stat.S_ISLNK(kind)):
                        raise SourceError(
                            f"{os.path.join(here, name)} (in the editable checkout {top}) is "
                            "not a regular file or link; refusing to copy the checkout"
                        )
            self.trees[top] = destination
            self.add(FileAction("tree", self.rel(destination), source=top, owner=what))
            self.plan.notes.append(
                f"editable checkout {top} is copied to {destination} (it lived inside the "
                "environment; uncommitted work comes along)"
            )
        return self.target_of(where)

    def plan_pth(self, path: str, target: str, expected: RecordEntry | None, owner: str) -> None:
        """Rewrite path lines of a ``.pth`` that point into the old environment."""
        data = _read_all(path, self.source_root)
        lines = data.decode("utf-8", "surrogateescape").splitlines(keepends=True)
        changed = False
        for index, line in enumerate(lines):
            text = line.strip()
            if not text or text.startswith(("#", "import ", "import\t")):
                continue
            absolute = os.path.normpath(os.path.join(os.path.dirname(path), text))
            if not _under(absolute, self.source_root):
                continue
            new_place = self.relocate(absolute, f"{path}: line {index + 1}")
            if new_place is None:
                continue
            ending = line[len(line.rstrip("\r\n")) :]
            lines[index] = os.path.relpath(new_place, os.path.dirname(target)) + ending
            changed = True
        if changed:
            self.write(target, "".join(lines).encode("utf-8", "surrogateescape"), 0o644, owner)
        else:
            self.add(
                FileAction("carry", self.rel(target), source=path, expected=expected, owner=owner)
            )

    def plan_finder(
        self, path: str, target: str, expected: RecordEntry | None, owner: str
    ) -> None:
        """A PEP 660 finder module maps names to absolute paths: move those that point
        into the old environment."""
        data = _read_all(path, self.source_root)
        text = data.decode("utf-8", "surrogateescape")
        prefix = self.source_root + os.sep
        if prefix not in text:
            self.add(
                FileAction("carry", self.rel(target), source=path, expected=expected, owner=owner)
            )
            return
        for quoted in {part for part in text.split("'") if part.startswith(prefix)}:
            new = self.relocate(os.path.normpath(quoted), f"{path}")
            if new is not None:
                text = text.replace(f"'{quoted}'", f"'{new}'")
        self.write(target, text.encode("utf-8", "surrogateescape"), 0o644, owner)

    def plan_egg_link(self, path: str, target: str, owner: str) -> None:
        lines = (
            _read_all(path, self.source_root)
            .decode("utf-8", "surrogateescape")
            .splitlines(keepends=True)
        )
        first = os.path.normpath(lines[0].strip()) if lines else ""
        if first and _under(first, self.source_root):
            new = self.relocate(first, path)
            if new is not None:
                lines[0] = new + "\n"
                self.write(target, "".join(lines).encode("utf-8", "surrogateescape"), 0o644, owner)
                return
        self.add(FileAction("carry", self.rel(target), source=path, owner=owner))

    # scripts ----------------------------------------------------------------------------

    def plan_scripts(self, dist: Distribution) -> None:
        if not dist.entry_points:
            return
        names = {ep.name for ep in dist.entry_points}
        for path in dist.owned_files:
            name = os.path.basename(path)
            if _under(path, self.source_scripts) and name in names:
                if name.endswith(".py"):
                    self.dropped.add(path)
                else:
                    self.moved[path] = os.path.join(self.target_scripts, name)
        for ep in dist.entry_points:
            check_component(ep.name, f"{ep.section} script of {dist.label}")
            if ep.name.endswith(".py"):  # the PEP: it could shadow a module of that name
                self.plan.skipped.append(
                    Skipped(
                        f"console script {ep.name} of {dist.name}",
                        "names ending in .py can shadow modules; not written",
                    )
                )
                continue
            data = wrapper(ep.module, ep.attr, self.plan.interpreter, self.locator)
            self.write(os.path.join(self.target_scripts, ep.name), data, 0o755, dist.label)

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
        scripts = self.source_scripts
        if os.path.isdir(scripts) and not os.path.islink(scripts):
            for entry in sorted(os.scandir(scripts), key=lambda e: e.name):
                path, name = entry.path, entry.name
                if (
                    path in owned
                    or name in regenerated
                    or name.startswith(BIN_SCAFFOLDING_PREFIXES)
                ):
                    continue
                if name in seed_scripts or name.startswith(("pip", "easy_install")):
                    continue
                target = os.path.join(self.target_scripts, name)
                if not entry.is_file(follow_symlinks=False):
                    self._unowned(path, target, entry.is_symlink())
                    continue
                data = _read_head_or_all(path, self.source_root)
                kind = classify_script(data, self.source_root)
                if kind in ("venv", "relocatable"):
                    new = retarget_shebang(
                        data, self.source_root, self.plan.interpreter, self.locator
                    )
                    if new is not None:
                        self.write(target, new, 0o755, "")
                        self.plan.notes.append(
                            f"script {name}, which no RECORD lists, now runs from {target}"
                        )
                        continue
                self._unowned(path, target, False)
        for entry in sorted(os.scandir(self.source_root), key=lambda e: e.name):
            if entry.name in VENV_SCAFFOLDING or entry.name.startswith("pyvenv"):
                continue
            if entry.path in self.trees:
                continue
            self._walk_unowned(entry.path, owned)

    def _walk_unowned(self, top: str, owned: set[str]) -> None:
        pending = [top]
        while pending:
            here = pending.pop()
            if any(_under(here, tree) for tree in self.trees):
                continue
            if os.path.islink(here) or not os.path.isdir(here):
                if here not in owned:
                    target = self.target_of(here)
                    assert target is not None
                    self._unowned(here, target, os.path.islink(here))
                continue
            with os.scandir(here) as entries:
                pending.extend(e.path for e in entries)

    def _unowned(self, path: str, target: str, is_link: bool) -> None:
        self.plan.unowned.append(path)
        if not self.planner.include_unowned:
            return
        if is_link:
            self.plan_link(path, target, "")
        else:
            self.add(FileAction("carry", self.rel(target), source=path, owner=""))

    # RECORD ------------------------------------------------------------------------------

    def plan_record(self, dist: Distribution) -> None:
        """A new RECORD whose every row resolves from the dist's new place; wheels from
        the cache also get INSTALLER, REQUESTED and direct_url.json."""
        if dist.kind != "dist-info" or dist.record is None:
            return
        site_target = self.target_of(str(dist.site_dir))
        assert site_target is not None
        meta_target = os.path.join(site_target, dist.meta_dir.name)
        record_target = os.path.join(meta_target, "RECORD")
        entries: list[RecordEntry] = []
        seen: set[str] = set()
        site_source = str(dist.site_dir)
        if self.source.kind == "wheel":
            for name, data in _install_metadata(dist).items():
                target = os.path.join(meta_target, name)
                self.write(target, data, 0o644, dist.label)
        for entry, path in zip(dist.record, dist.owned_files):
            if path in self.dropped or path.endswith(".pyc"):
                continue
            if _under(path, site_source) and path not in self.moved:
                same_place = site_target + path[len(site_source) :]
                if same_place == record_target or same_place in seen:
                    continue
                seen.add(same_place)
                rewritten = self.written.get(same_place)
                relative = path[len(site_source) + 1 :].replace(os.sep, "/")  # as it was
                entries.append(
                    entry_for(relative, rewritten)
                    if rewritten is not None
                    else RecordEntry(relative, entry.hash_, entry.size)
                )
                continue
            new_path = self.moved.get(path) or self.target_of(path)
            if new_path is None or new_path == record_target or new_path in seen:
                continue
            seen.add(new_path)
            relative = os.path.relpath(new_path, site_target).replace(os.sep, "/")
            rewritten = self.written.get(new_path)
            entries.append(
                entry_for(relative, rewritten)
                if rewritten is not None
                else RecordEntry(relative, entry.hash_, entry.size)
            )
        extra = [os.path.join(self.target_scripts, ep.name) for ep in dist.entry_points]
        extra += [os.path.join(meta_target, n) for n in _install_metadata(dist)]
        for path in extra:  # files RECORD did not list (scripts of legacy tools, metadata)
            if path not in seen and path in self.written:
                seen.add(path)
                relative = os.path.relpath(path, site_target).replace(os.sep, "/")
                entries.append(entry_for(relative, self.written[path]))
        relative = os.path.relpath(record_target, site_target).replace(os.sep, "/")
        entries.append(RecordEntry(relative, None, None))
        self.write(record_target, render_record(entries), 0o644, dist.label)


def _install_metadata(dist: Distribution) -> dict[str, bytes]:
    """INSTALLER, REQUESTED and direct_url.json for a distribution we install."""
    if not dist.origin:
        return {}
    files = {"INSTALLER": INSTALLER_NAME}
    if dist.requested:
        files["REQUESTED"] = b""
    if dist.direct_url is not None:
        files["direct_url.json"] = json.dumps(dist.direct_url, sort_keys=True).encode()
    return files


def _read_all(path: str, root: str) -> bytes:
    return read_regular(path, inside=root)


def _read_head_or_all(path: str, root: str) -> bytes:
    """A script's bytes: scripts are small; a large binary is read only far enough to see
    that it has no ``#!``."""
    fd = open_inside(path, root)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SourceError(f"{path}: not a regular file")
        head = os.read(fd, 1 << 20)
        if not head.startswith(b"#!"):
            return head
        rest = [head]
        while chunk := os.read(fd, 1 << 20):
            rest.append(chunk)
            if sum(map(len, rest)) > MAX_FILE:
                raise SourceError(f"{path}: a script larger than {MAX_FILE >> 20} MiB")
        return b"".join(rest)
    finally:
        os.close(fd)
