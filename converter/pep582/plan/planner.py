"""Building the plan: carry sources, merge them with the existing tree, remove.

The :class:`Planner` holds one run's :class:`Plan`. It reads nothing itself but through
the :class:`TreeIndex` it is given (the existing tree, read once per command), asks
:class:`pep582.plan.carry.SourcePlanner` what each source adds, lets a
:class:`pep582.plan.removal.RemovalSet` decide what goes, and settles what the new files
meet in the tree (the same file already there; another Python's script; a conflict). It
also decides how the plan is published: a whole new tree (migrations, ``--replace``, a
first install) or, for daily installs and uninstalls, only what changes (``incremental``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pep582.errors import ConflictError, SourceError
from pep582.plan.carry import Carried, SourcePlanner
from pep582.plan.index import TreeIndex, under
from pep582.plan.model import (
    Change,
    Existing,
    FileAction,
    Operation,
    Plan,
    Skipped,
)
from pep582.plan.removal import RemovalSet
from pep582.scheme import InterpreterFacts, Layout, scheme_for
from pep582.sources import Source
from pep582.sources.distribution import canonical, marker_environment
from pep582.sources.records import RecordEntry, hash_stream
from pep582.step.children import BOOTSTRAP, bootstrap_source, launcher_source
from pep582.step.startup import DIRNAME

TOOLKIT = "pep582-toolkit"  # the owner of the tree's own files


class Planner:
    """Collects the changes of one run and turns them into a :class:`Plan`."""

    def __init__(
        self,
        operation: Operation,
        project: Path,
        layout: Layout,
        existing: Existing,
        *,
        index: TreeIndex | None = None,
        interpreter: str = "",
        python: str = "",
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
            python=python,
            link=link,
            verify=verify,
            compile=compile,
        )
        self.plan.unowned_carried = include_unowned
        self.include_pip = include_pip
        self.include_unowned = include_unowned
        self.index = index if index is not None else TreeIndex(self.plan.target)
        self.root = self.index.root
        self.incoming: dict[str, FileAction] = {}
        self.removal = RemovalSet(self.index)
        self.wiped: set[str] = set()  # version tags whose old content is replaced whole

    # -- what the tree loses ---------------------------------------------------------

    def wipe_version(self, facts: InterpreterFacts, reason: str) -> None:
        """``--replace``: drop what the tree holds for this Python version, in both
        layouts (its site and include directories, its scripts); other versions stay."""
        tag = facts.version_tag
        if tag in self.wiped:
            return
        self.wiped.add(tag)
        for source in self.index.sources:
            if source.facts.version_tag != tag:
                continue
            for dist in source.distributions:
                self.removal.distribution(dist, reason)
                self.plan.changes.append(
                    Change(dist.name, dist.version, "remove", tag, kind=dist.kind, origin=reason)
                )
            places = [*source.site_dirs, source.include]
            if source.layout == "pdm":
                places = [source.site_dirs[0].parent] if source.site_dirs else places
            for place in places:
                path = os.path.normpath(str(place))
                rel = self.index.rel(path)
                if rel and self.index.lstat(path) and self.index.real_dir(os.path.dirname(path)):
                    self.removal.add(rel, f"Python {tag}", reason)  # a link goes, not its target

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
        carried = SourcePlanner(
            plan,
            self.index,
            source,
            scheme,
            gone=self.removal.dists,
            replacing=source.facts.version_tag in self.wiped,
            include_pip=self.include_pip,
            include_unowned=self.include_unowned,
        ).run()
        self.merge(carried)

    def merge(self, carried: Carried) -> None:
        """Take what carrying one source adds into the plan."""
        plan = self.plan
        for old, reason in carried.replaced:
            for changed in self.removal.distribution(old, reason, keep_changed=False):
                if changed.endswith("installed it)"):
                    plan.notes.append(f"replaced {changed}")
        plan.changes.extend(carried.changes)
        for action in carried.actions:
            self.add(action)
        plan.skipped.extend(carried.skipped)
        plan.warnings.extend(carried.warnings)
        plan.notes.extend(carried.notes)
        plan.unowned.extend(carried.unowned)

    def uninstall(self, names: list[str], facts: list[InterpreterFacts]) -> None:
        """Plan removing distributions by name from the given Python versions' trees."""
        tags = {f.version_tag for f in facts}
        for name in names:
            key = canonical(name)
            found = [
                (dist, source)
                for source in self.index.sources
                if source.facts.version_tag in tags and source.layout == self.plan.layout
                for dist in source.distributions
                if dist.key == key
            ]
            if not found:
                where = ", ".join(f"Python {tag}" for tag in sorted(tags)) or "any Python"
                raise SourceError(f"{name} is not installed in {self.plan.target} for {where}")
            for dist, source in found:
                left = self.removal.distribution(dist, "uninstalled")
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
        gone_keys = {canonical(c.name) for c in self.plan.changes if c.action == "remove"}
        for source in self.index.sources:
            if source.facts.version_tag not in tags:
                continue
            environment = marker_environment(source.facts)
            for dist in source.distributions:
                if id(dist) in self.removal.dists:
                    continue
                needs = sorted(k for k in dist.requires(environment) if k in gone_keys)
                if needs:
                    self.plan.warnings.append(
                        f"{dist.label} (Python {source.facts.version_tag}) still requires "
                        f"{', '.join(needs)}"
                    )
        if self.index.sources:
            self.plan.schemes = [
                scheme_for(self.plan.project, s.facts, self.plan.layout)
                for s in self.index.sources
                if s.facts.version_tag in tags and s.layout == self.plan.layout
            ]

    # -- merging with the existing tree -----------------------------------------------

    def tree_environment(self) -> None:
        """What the tree gives the processes its programs start (``step.children``): the
        bootstrap, and a launcher per Python, refreshed with everything a run adds."""
        plan = self.plan
        if plan.layout != "pep582" or not plan.interpreter or not plan.actions:
            return
        self.add(
            FileAction("write", BOOTSTRAP, data=bootstrap_source(), mode=0o644, owner=TOOLKIT)
        )
        for scheme in plan.schemes:
            name = Path(scheme.purelib).parent.name  # python3.12, pypy3.10, python3.13t
            target = Path(scheme.scripts, name).relative_to(plan.target).as_posix()
            data = launcher_source(plan.interpreter)
            self.add(FileAction("write", target, data=data, mode=0o755, owner=TOOLKIT))

    def finish(self) -> Plan:
        """Check the gains against the tree, choose how to publish, return the plan."""
        plan = self.plan
        self.tree_environment()
        plan.removals = self.removal.removals
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
        has_tree = self.index.tree is not None
        every_version_replaced = bool(self.index.sources) and all(
            s.facts.version_tag in self.wiped for s in self.index.sources
        )
        if has_tree and plan.operation != "migrate" and plan.existing != "replace":
            plan.publish = "incremental"
        else:
            plan.clone = has_tree and not every_version_replaced
        if plan.clone or plan.publish == "incremental":
            plan.actions = [a for a in plan.actions if self._settle(a)]
            if not plan.actions and not plan.removals and plan.operation != "uninstall":
                plan.noop = _noop_reason(plan)
        self._check_parents()
        return plan

    def _settle(self, action: FileAction) -> bool:
        """Whether ``action`` stays: drop it when the tree already holds the same thing;
        replace another Python version's script; refuse any other collision."""
        target = action.target
        if self.removal.covers(target):
            return True
        path = os.path.join(self.root, *target.split("/"))
        info = self.index.lstat(path)
        if info is None:
            return True
        if self._same_content(action, target, info):
            if action.owner != TOOLKIT:
                self.plan.already_present += 1
            return False
        if action.owner == TOOLKIT and stat.S_ISREG(info.st_mode):
            return True  # the tree's own file, from another version of the toolkit
        owners = self.index.owners(target.replace("/", os.sep))
        if not owners:
            raise ConflictError(
                f"{path} already exists and belongs to no distribution; "
                f"{action.owner or 'the new tree'} would overwrite it (use --replace to "
                "start afresh)"
            )
        dist, source = owners[0]
        tag = source.facts.version_tag
        if id(dist) in self.removal.dists:
            self.removal.add(target, dist.label, "replaced")
            return True
        scripts = str(scheme_for(self.plan.project, source.facts, self.plan.layout).scripts)
        if under(path, scripts) and action.python and action.python != tag:
            self.removal.add(target, dist.label, "replaced")
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

    def _same_content(self, action: FileAction, target: str, info: os.stat_result) -> bool:
        """Whether the tree's entry at ``target`` is already what ``action`` makes."""
        tree = self.index.tree
        assert tree is not None
        if action.kind == "symlink":
            if not stat.S_ISLNK(info.st_mode):
                return False
            parent, name = tree.split(target)
            return parent.readlink(name) == action.link_target
        if not stat.S_ISREG(info.st_mode) or action.kind == "tree":
            return False
        if action.kind == "write":
            assert action.data is not None
            return info.st_size == len(action.data) and tree.read(target, info.st_size) == (
                action.data
            )
        assert action.source is not None
        if action.tree is not None:
            try:
                source_info = action.tree.lstat(action.tree.relative(action.source))
            except OSError:
                return False
            if os.path.samestat(info, source_info):
                return True
        if action.expected is not None and action.expected.hash_ is not None:
            return _matches(tree.open_file(target), action.expected)
        return False


def _matches(fd: int, entry: RecordEntry) -> bool:
    assert entry.hash_ is not None
    with os.fdopen(fd, "rb") as handle:
        digest, _ = hash_stream(handle, entry.hash_.name)
    return digest == entry.hash_.value


def _noop_reason(plan: Plan) -> str:
    if plan.skipped and not plan.changes:
        return "; ".join(f"{s.what}: {s.reason}" for s in plan.skipped)
    if plan.changes and all(c.action == "keep" for c in plan.changes):
        return "every distribution is already present"
    return "nothing to do"
