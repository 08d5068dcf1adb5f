"""Installing into a ``__pypackages__``: what stays, what moves, then one plan.

``pep582 install`` and ``pep582-migrate`` of a requirements, pyproject or lock file end
here. The decisions are made once, in this module: which installed distributions stay
pinned and which may move (``--upgrade`` and the closure of what the named ones require,
markers evaluated for the *target* interpreter), how the request is resolved
(:mod:`pep582.install.resolver`), which resolved artifacts are already present, and
which are fetched, unpacked (the wheel cache) or built editable. The tree is read and
planned through :func:`_read_tree`, :func:`_planner` and :func:`_plan` only.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pep582.errors import CacheEntryModified, SourceError
from pep582.install.artifacts import Artifact, pin
from pep582.install.indexes import IndexOptions
from pep582.install.localfiles import check_hashes
from pep582.install.pip import fetch
from pep582.install.resolver import Request, Resolver, resolve
from pep582.interpreter import Interpreter, named_by_scripts
from pep582.operations.run import Outcome, run
from pep582.parse import toml_text
from pep582.plan.executor import Progress
from pep582.plan.index import TreeIndex
from pep582.plan.model import Change, Existing, Operation, Plan
from pep582.plan.planner import Planner
from pep582.plan.staging import check_destination
from pep582.scheme import Layout, scheme_for
from pep582.sources import Source
from pep582.sources.distribution import Distribution
from pep582.step.startup import DIRNAME

if TYPE_CHECKING:
    from pep582.install.editable import PrivatePrefix

# -- the existing tree (the one place this module reads it) -------------------------------


def _read_tree(project: Path) -> TreeIndex:
    """What ``project/__pypackages__`` holds, read once per command (cheap metadata
    first, RECORD when asked)."""
    return TreeIndex(project / DIRNAME)


def _present(
    index: TreeIndex, interpreter: Interpreter, layout: Layout
) -> dict[str, Distribution]:
    """The distributions installed for ``interpreter`` in ``layout``, by canonical name."""
    tag = interpreter.facts.version_tag
    return {
        dist.key: dist
        for source in index.sources
        if source.layout == layout and source.facts.version_tag == tag
        for dist in source.distributions
    }


def _planner(
    operation: Operation,
    project: Path,
    layout: Layout,
    existing: Existing,
    interpreter: Interpreter,
    compile: bool,
    index: TreeIndex,
) -> Planner:
    """A planner for one change of the tree (the one place this module makes one)."""
    scripts_name = named_by_scripts(interpreter.executable)
    return Planner(
        operation, project, layout, existing, index=index, interpreter=scripts_name,
        python=str(interpreter.executable), compile=compile,
    )  # fmt: skip


def _plan(
    operation: Operation,
    project: Path,
    layout: Layout,
    existing: Existing,
    interpreter: Interpreter,
    *,
    sources: list[Source],
    kept: list[Change],
    replaced: list[str],
    compile: bool,
    origin: str,
    index: TreeIndex,
) -> Plan:
    """The plan that carries ``sources`` into the tree (``replaced``: keys of installed
    distributions of the same version that the sources replace, e.g. by an editable)."""
    planner = _planner(operation, project, layout, existing, interpreter, compile, index)
    planner.plan.changes.extend(kept)
    tag = interpreter.facts.version_tag
    for key in replaced:
        old = index.find(layout, interpreter.facts, key)
        if old is not None:
            for changed in planner.removal.distribution(old, "replaced", keep_changed=False):
                if changed.endswith("installed it)"):
                    planner.plan.notes.append(f"replaced {changed}")
            planner.plan.changes.append(Change(old.name, old.version, "remove", tag))
    for source in sources:
        planner.carry(source)
    planner.plan.sources = [origin]
    return planner.finish()


# -- requirements against what is there ---------------------------------------------------


@dataclass
class Wanted:
    """What ``pep582 install`` was asked for, as parsed by the command."""

    requirements: list[str] = field(default_factory=list)
    editables: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    constraints: list[Path] = field(default_factory=list)
    upgrade: bool = False
    reinstall: bool = False  # the named ones are written afresh even when present
    cwd: Path = field(default_factory=Path.cwd)

    @property
    def origin(self) -> str:
        parts = [*self.requirements, *(f"-e {e}" for e in self.editables)]
        return " ".join([*parts, *(f"-r {f}" for f in self.files)])


def install_requirements(
    wanted: Wanted,
    interpreter: Interpreter,
    project: Path,
    index: IndexOptions,
    *,
    resolver: Resolver | None = None,
    compile: bool = False,
    dry_run: bool = False,
    show_progress: bool = False,
    progress: Progress | None = None,
) -> Outcome:
    """``pep582 install``: resolve ``wanted`` against what the tree holds (installed
    versions stay pinned unless named with ``upgrade``, or required by a named one), then
    install what changed."""
    project = project.absolute()
    index = index.absolute(wanted.cwd)
    check_destination(project, "merge")  # before anything is resolved
    tree = _read_tree(project)  # read once for the whole command
    present = _present(tree, interpreter, "pep582")
    named = {name for r in wanted.requirements if (name := _name_of(r))}
    moving = set(named)
    if wanted.upgrade:
        moving |= upgrade_closure(named, present, interpreter)
    keep = [d for key, d in present.items() if key not in moving and not d.editable]
    requirements = [_absolute(r, wanted.cwd) for r in wanted.requirements]
    if wanted.reinstall and not wanted.upgrade:
        # a bare name reinstalls what is there, not a newer version
        requirements = [_installed_pin(r, present) for r in requirements]
    request = Request(
        requirements=requirements,
        editables=[_absolute(e, wanted.cwd) for e in wanted.editables],
        files=[wanted.cwd / f for f in wanted.files],
        constraints=[wanted.cwd / c for c in wanted.constraints],
        pins=[f"{d.name}=={d.version}" for d in keep if d.direct_url is None],
        cwd=wanted.cwd,
        what=wanted.origin or "the requirements",
    )
    for dist in keep:  # what is there takes part, so the result stays consistent
        if dist.requested or dist.direct_url is not None:
            direct = dist.direct_url
            request.requirements.append(pin(dist.name, direct) if direct else dist.name)
    with _workdir() as work:
        prefix = _Prefix(interpreter, work)
        resolution = resolve(
            request, interpreter, index, work, resolver=resolver, src=prefix.src,
            show_progress=show_progress,
        )  # fmt: skip
        outcome = install(
            resolution.artifacts,
            interpreter,
            project,
            "pep582",
            "merge",
            origin=request.what,
            index=index,
            compile=compile,
            dry_run=dry_run,
            show_progress=show_progress,
            progress=progress,
            workdir=work,
            prefix=prefix,
            tree=tree,
            reinstall=frozenset(named) if wanted.reinstall else frozenset(),
        )
    outcome.plan.notes.extend(resolution.notes)
    return outcome


def upgrade_closure(
    named: set[str], present: dict[str, Distribution], interpreter: Interpreter
) -> set[str]:
    """The installed distributions the ``named`` ones require, transitively: each
    ``Requires-Dist`` counted only when its marker holds for the target interpreter
    (no extra; ``Distribution.requires``)."""
    from pep582.install.pylock import environment_of

    environment = environment_of(interpreter)[0]  # the target's own, asked once
    found: set[str] = set()
    pending = list(named)
    while pending:
        dist = present.get(pending.pop())
        for key in dist.requires(environment) if dist is not None else []:
            if key not in found and key not in named:
                found.add(key)
                pending.append(key)
    return found


def _installed_pin(requirement: str, present: dict[str, Distribution]) -> str:
    """``requirement`` pinned to the installed version when it is a bare name of an
    installed distribution; otherwise as written."""
    name = _name_of(requirement)
    if name is None or name not in present or requirement.strip() != Requirement(requirement).name:
        return requirement
    return f"{requirement.strip()}=={present[name].version}"


def _name_of(requirement: str) -> str | None:
    """The canonical name a command-line requirement names, when it names one (a path
    or URL alone names none until it is resolved)."""
    try:
        return canonicalize_name(Requirement(requirement).name)
    except InvalidRequirement:
        return None


def _absolute(requirement: str, cwd: Path) -> str:
    """A command-line requirement that is a relative path, made absolute: the resolver
    then runs outside the user's directory."""
    if "://" in requirement or "@" in requirement or requirement.startswith("-"):
        return requirement
    path, bracket, extras = requirement.partition("[")
    if not (path.startswith(".") or os.sep in path or path.endswith((".whl", ".zip"))):
        return requirement  # a name, as pip reads it
    return str(cwd / path) + bracket + extras


def install_file(
    source: Path,
    kind: str,
    interpreter: Interpreter,
    project: Path,
    layout: Layout,
    existing: Existing,
    index: IndexOptions,
    *,
    extras: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    with_project: bool = False,
    resolver: Resolver | None = None,
    compile: bool = False,
    dry_run: bool = False,
    show_progress: bool = False,
    progress: Progress | None = None,
) -> Outcome:
    """``pep582-migrate FILE`` (and ``pep582 install`` in a project): install what a
    requirements file, a ``pyproject.toml`` (through the lock beside it when one can be
    read, see :mod:`pep582.install.lockfiles`) or a PEP 751 lock declares."""
    from pep582.install.lockfiles import ProjectLock, project_lock
    from pep582.install.pylock import parse_lock, select, select_lock
    from pep582.install.requirements import pyproject_requirements

    project = project.absolute()
    index = index.absolute(Path.cwd())
    origin = str(source.absolute())
    notes: list[str] = []
    lock = ProjectLock(None)
    if kind == "pyproject":
        lock = project_lock(source, extras, groups, with_project)
    with _workdir() as work:
        prefix = _Prefix(interpreter, work)
        if kind == "pylock":
            artifacts = select(source, interpreter)
        elif lock.text is not None:
            name = lock.name
            parsed = parse_lock(toml_text(lock.text, name), name)
            artifacts = select_lock(parsed, lock.base, name, interpreter, extras, groups)
            own = _project_name(source)
            if not with_project:
                artifacts = [a for a in artifacts if a.key != own]
            direct = {own} | _direct_names(source, extras, groups)
            for artifact in artifacts:  # what the project names itself: as pip's report says
                artifact.requested = artifact.requested or artifact.key in direct
            origin = name
        else:
            request = Request(cwd=Path.cwd(), what=origin)
            if kind == "pyproject":
                request.requirements = pyproject_requirements(source, extras, groups, with_project)
            else:
                request.files = [source.absolute()]
            resolution = resolve(
                request, interpreter, index, work, resolver=resolver, src=prefix.src,
                show_progress=show_progress,
            )  # fmt: skip
            artifacts, notes = resolution.artifacts, notes + resolution.notes
        outcome = install(
            artifacts, interpreter, project, layout, existing, operation="install",
            origin=origin, index=index, compile=compile, dry_run=dry_run,
            show_progress=show_progress, progress=progress, workdir=work, prefix=prefix,
        )  # fmt: skip
    outcome.plan.notes.extend(notes)
    if lock.text is None:
        outcome.plan.warnings.extend(lock.notes)  # present, not used: what to run instead
    else:
        outcome.plan.notes.extend(lock.notes)
    return outcome


def _direct_names(pyproject: Path, extras: tuple[str, ...], groups: tuple[str, ...]) -> set[str]:
    """The names a project requires itself (its dependencies, extras, groups)."""
    from pep582.install.requirements import pyproject_requirements

    try:
        named = pyproject_requirements(pyproject, extras, groups, False)
    except SourceError:
        return set()
    return {key for requirement in named if (key := _name_of(requirement))}


def _project_name(pyproject: Path) -> str | None:
    from pep582.parse import load_toml

    project = load_toml(pyproject).get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return canonicalize_name(name) if isinstance(name, str) else None


# -- artifacts into the tree ----------------------------------------------------------------


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="pep582-install-") as work:
        yield Path(work)


class _Prefix:
    """The private prefix of this run's editables, made when first needed (it asks the
    target interpreter where pip puts things)."""

    def __init__(self, interpreter: Interpreter, workdir: Path) -> None:
        self._interpreter, self._workdir = interpreter, workdir
        self._made: PrivatePrefix | None = None

    def get(self) -> PrivatePrefix:
        if self._made is None:
            from pep582.install.editable import PrivatePrefix

            self._made = PrivatePrefix(self._interpreter, self._workdir)
        return self._made

    def src(self) -> Path:
        return self.get().src


def _same(old: Distribution, artifact: Artifact) -> bool:
    """Whether the installed ``old`` already is what ``artifact`` would install."""
    if old.version != artifact.version and artifact.version:
        return False
    if artifact.editable is None:
        return not old.editable
    url = (old.direct_url or {}).get("url")
    return old.editable and url == artifact.editable.as_uri()


def install(
    artifacts: list[Artifact],
    interpreter: Interpreter,
    project: Path,
    layout: Layout,
    existing: Existing,
    *,
    operation: Operation = "install",
    origin: str = "",
    index: IndexOptions | None = None,
    compile: bool = False,
    dry_run: bool = False,
    show_progress: bool = False,
    progress: Progress | None = None,
    workdir: Path | None = None,
    prefix: _Prefix | None = None,
    tree: TreeIndex | None = None,
    reinstall: frozenset[str] = frozenset(),
) -> Outcome:
    """Install resolved ``artifacts``: wheels through the unpacked-wheel cache, editables
    built by pip; what is already present (same version, same kind) is kept unless its
    name is in ``reinstall``."""
    from pep582.install import wheelcache

    project = project.absolute()
    check_destination(project, "merge" if existing == "refuse" and dry_run else existing)
    facts = interpreter.facts
    tree = tree or _read_tree(project)
    present = {} if existing == "replace" else _present(tree, interpreter, layout)
    needed: list[Artifact] = []
    kept: list[Change] = []
    replaced: list[str] = []
    for artifact in artifacts:
        old = present.get(artifact.key)
        if old is not None and artifact.key not in reinstall and _same(old, artifact):
            kept.append(Change(old.name, old.version, "keep", facts.version_tag))
            continue
        needed.append(artifact)
        if old is not None and old.version == (artifact.version or old.version):
            replaced.append(artifact.key)  # same version (or not known yet), other kind

    def preview() -> Plan:
        plan = _planner("install", project, layout, existing, interpreter, False, tree).plan
        plan.sources.append(origin)
        plan.changes.extend(kept)
        for artifact in needed:
            old = present.get(artifact.key)
            plan.changes.append(
                Change(
                    artifact.name,
                    artifact.version or (old.version if old is not None else ""),
                    "upgrade" if old is not None else "add",
                    facts.version_tag,
                    previous=old.version if old is not None else None,
                    editable=artifact.editable is not None,
                    requested=artifact.requested,
                    origin=artifact.url,
                )
            )
        plan.notes.append("a dry run resolves only: files are listed once wheels are fetched")
        if not needed:
            plan.noop = "every distribution is already present"
        return plan

    if dry_run:
        return Outcome(preview())
    if not needed and existing != "replace":
        plan = preview()
        plan.notes.clear()
        return Outcome(plan)

    options = (index or IndexOptions()).for_pip()
    with contextlib.ExitStack() as stack:
        work = workdir or stack.enter_context(_workdir())
        wheels = [a for a in needed if a.editable is None]
        entries: dict[str, Path] = {}
        for artifact in wheels:
            if artifact.key in reinstall:
                continue  # written afresh from its wheel: its cache entry is unpacked again
            if artifact.sha256 and wheelcache.cached(artifact.sha256):
                entries[artifact.key] = wheelcache.entry_path(artifact.sha256)
        fetch([a for a in wheels if a.key not in entries], interpreter, options, work, origin,
              show_progress)  # fmt: skip
        unpacking: list[tuple[Artifact, str | None]] = []
        for artifact in wheels:
            if artifact.key in entries:
                continue
            assert artifact.wheel is not None
            digest = None
            if artifact.is_wheel:  # a built wheel: pip checked the hashes of what it built
                digest = check_hashes(
                    artifact.wheel, artifact.hashes, _promised_by(origin),
                    f"{origin}: {artifact.label}",
                )  # fmt: skip
            if artifact.key in reinstall:
                digest = digest or wheelcache.sha256_of(artifact.wheel)
                wheelcache.evict(digest)  # an edit through a hard link may have changed it
            unpacking.append((artifact, digest))
        entries.update(
            wheelcache.unpack_all([(a.key, a.wheel, d) for a, d in unpacking if a.wheel])
        )
        sources: list[Source] = []
        for artifact in wheels:
            source = wheelcache.as_source(entries[artifact.key], facts)
            dist = source.distributions[0]
            dist.requested = artifact.requested
            dist.direct_url = artifact.direct_url
            dist.origin = artifact.url or str(artifact.wheel)
            sources.append(source)
        editable = [a for a in needed if a.editable is not None]
        if editable:
            from pep582.install import editable as editables

            private = (prefix or _Prefix(interpreter, work)).get()
            scheme = scheme_for(project, facts, layout)
            sources.append(
                editables.install(
                    editable, interpreter, options, private, scheme, origin, show_progress
                )
            )

        def build() -> Plan:
            return _plan(
                operation, project, layout, existing, interpreter, sources=sources,
                kept=kept, replaced=replaced, compile=compile, origin=origin, index=tree,
            )  # fmt: skip

        try:
            return run(project, build, False, progress, str(wheelcache.cache_root().resolve()))
        except CacheEntryModified as exc:
            wheelcache.evict(exc.entry.split(os.sep)[-1])
            raise CacheEntryModified(
                f"{exc}; the cached copy was removed: run the command again to unpack the "
                "wheel afresh",
                exc.entry,
            ) from None


def _promised_by(origin: str) -> str:
    name = Path(origin).name if origin else "the resolver"
    locked = name.startswith("pylock.") or name.endswith(".lock")
    return f"the hash locked in {name}" if locked else f"what {name} resolved"
