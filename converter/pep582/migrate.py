"""Moving a venv or a ``__pypackages__`` into a ``__pypackages__`` layout: plan, then execute.

The plan is plain data: every file to link or copy (with the RECORD entry that verifies
it) and every file to write (regenerated scripts, rewritten RECORDs and ``.pth`` files),
plus what is skipped and why. ``--dry-run`` prints it, ``--json`` serialises it, and
execution carries it out without re-deciding anything.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installer.records import RecordEntry

from pep582.errors import ConflictError, DestinationError
from pep582.records import check, entry_for, hash_stream, render_record
from pep582.scheme import Layout, Scheme, scheme_for
from pep582.scripts import locator, retarget_shebang, wrapper
from pep582.sources import SCAFFOLDING, Distribution, Source
from pep582.staging import Existing, check_destination, staged
from pep582.startup import DIRNAME

SEED_DISTRIBUTIONS = frozenset({"pip"})


@dataclass
class Action:
    """One file of the new tree: linked/copied from ``source``, or written from ``data``."""

    target: str  # path relative to the new __pypackages__, POSIX separators
    source: str | None = None
    data: bytes | None = None
    mode: int = 0o644
    expected: RecordEntry | None = None  # what RECORD promises about ``source``
    symlink: str | None = None  # recreate a symlink with this target

    @property
    def kind(self) -> str:
        if self.symlink is not None:
            return "symlink"
        return "write" if self.data is not None else "carry"


@dataclass
class Skipped:
    what: str
    reason: str


@dataclass
class DistributionSummary:
    name: str
    version: str
    kind: str
    editable: bool
    requested: bool
    scripts: list[str]


@dataclass
class Plan:
    """Everything a migration will do, decided before anything is written."""

    sources: list[str]
    project: Path
    layout: Layout
    schemes: list[Scheme]
    interpreter: str
    link: bool
    verify: bool
    existing: Existing
    distributions: list[DistributionSummary] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    already_present: int = 0  # --merge: files already there with the same content

    @property
    def target(self) -> Path:
        return self.project / DIRNAME

    def counts(self) -> dict[str, int]:
        counts = {"carry": 0, "write": 0, "symlink": 0}
        for action in self.actions:
            counts[action.kind] += 1
        return counts

    def as_dict(self, with_actions: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sources": self.sources,
            "target": str(self.target),
            "layout": self.layout,
            "schemes": [s.as_dict() for s in self.schemes],
            "interpreter": self.interpreter,
            "mode": "link" if self.link else "copy",
            "verify": self.verify,
            "existing": self.existing,
            "distributions": [vars(d) for d in self.distributions],
            "files": self.counts(),
            "already_present": self.already_present,
            "skipped": [vars(s) for s in self.skipped],
            "warnings": self.warnings,
        }
        if with_actions:
            data["actions"] = [
                {"kind": a.kind, "target": a.target, "source": str(a.source) if a.source else None}
                for a in self.actions
            ]
        return data


@dataclass
class Report:
    """What execution did."""

    plan: Plan
    linked: int = 0
    copied: int = 0
    written: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        data = self.plan.as_dict()
        data["result"] = {
            "linked": self.linked,
            "copied": self.copied,
            "written": self.written,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 4),
        }
        return data


def _under(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or inside it (both normalised, absolute strings)."""
    return path == directory or path.startswith(directory + os.sep)


def _pyc_source(relative: str) -> str | None:
    """``pkg/__pycache__/mod.cpython-311.pyc`` → ``pkg/mod.py``."""
    head, _, name = relative.rpartition("/")
    if not name.endswith(".pyc") or not (head == "__pycache__" or head.endswith("/__pycache__")):
        return None
    package = head[: -len("__pycache__")]
    return package + name.split(".")[0] + ".py"


class _Planner:
    """Builds the actions that carry one source into one target scheme.

    Paths are plain normalised strings here: a venv holds thousands of files and
    planning must stay a small fraction of the time spent linking them.
    """

    def __init__(self, plan: Plan, source: Source, scheme: Scheme, include_pip: bool) -> None:
        self.plan = plan
        self.source = source
        self.scheme = scheme
        self.include_pip = include_pip
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

    def rel(self, target: str) -> str:
        return target[len(self.root) + 1 :].replace(os.sep, "/")

    def target_of(self, path: str) -> str | None:
        for source_dir, target_dir in self.places:
            if _under(path, source_dir):
                return target_dir + path[len(source_dir) :]
        return None

    def add(self, action: Action) -> None:
        self.plan.actions.append(action)

    def run(self) -> None:
        carried, excluded = self.select()
        expected: dict[str, RecordEntry] = {}
        for dist in carried:
            expected.update(zip(dist.owned_files, dist.record or []))
        self.plan_outside_files(carried, expected)
        self.plan_site_files(carried, excluded, expected)
        for dist in carried:
            self.plan_scripts(dist)
        for dist in carried:
            self.plan_record(dist)

    def select(self) -> tuple[list[Distribution], set[str]]:
        carried, excluded = [], set()
        for dist in self.source.distributions:
            seed = dist.name.lower() in SEED_DISTRIBUTIONS and self.source.kind == "venv"
            if seed and not self.include_pip:
                excluded.update(dist.owned_files)
                excluded.add(str(dist.meta_dir))
                self.plan.skipped.append(
                    Skipped(
                        f"{dist.name} {dist.version}",
                        "the venv's seed installer (pass --include-pip to keep it)",
                    )
                )
                continue
            carried.append(dist)
            if dist.kind == "egg-info" and dist.record is None:
                self.plan.warnings.append(
                    f"{dist.name} {dist.version}: legacy .egg-info without installed-files.txt; "
                    "its files are carried with the rest of site-packages"
                )
            scripts = [ep.name for ep in dist.entry_points]
            self.plan.distributions.append(
                DistributionSummary(
                    dist.name,
                    dist.version,
                    dist.kind,
                    dist.editable,
                    dist.requested,
                    scripts,
                )
            )
        return carried, excluded

    def plan_outside_files(
        self, carried: list[Distribution], expected: dict[str, RecordEntry]
    ) -> None:
        """Files RECORD lists outside the site directories: scripts, data, headers."""
        for dist in carried:
            entry_scripts = {ep.name for ep in dist.entry_points}
            for path in dist.owned_files:
                if any(_under(path, site) for site in self.source_sites):
                    continue
                target = self.target_of(path)
                if target is None:
                    self.plan.warnings.append(
                        f"{dist.name}: {path} lies outside the environment; left where it is"
                    )
                    continue
                self.moved[path] = target
                is_script = _under(path, self.source_scripts)
                if is_script and os.path.basename(path) in entry_scripts:
                    continue  # regenerated from entry_points.txt
                if not os.path.isfile(path):
                    self.plan.warnings.append(f"{dist.name}: {path} is in RECORD but missing")
                    continue
                if is_script:
                    with open(path, "rb") as handle:
                        data = handle.read()
                    new = retarget_shebang(
                        data, self.source_root, self.plan.interpreter, self.locator
                    )
                    if new is not None:
                        self.write(target, new, 0o755)
                        continue
                self.add(Action(self.rel(target), source=path, expected=expected.get(path)))

    def plan_site_files(
        self, carried: list[Distribution], excluded: set[str], expected: dict[str, RecordEntry]
    ) -> None:
        """Everything in the site directories, minus what is excluded or rewritten.

        Symbolic links (to files or directories) are recreated as links, never followed.
        """
        records = {os.path.join(d.meta_dir, "RECORD") for d in carried if d.kind == "dist-info"}
        for site_dir, target_dir in self.site_pairs:
            cut = len(site_dir) + 1
            pending = [site_dir]
            while pending:
                here = pending.pop()
                top = here == site_dir
                with os.scandir(here) as entries:
                    for entry in entries:
                        path = entry.path
                        if path in excluded or path in records:
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(path)
                            continue
                        relative = path[cut:].replace(os.sep, "/")
                        if "__pycache__" in relative:
                            pyc_source = _pyc_source(relative)
                            if pyc_source and os.path.join(site_dir, pyc_source) in excluded:
                                continue
                        name = entry.name
                        if top and name in SCAFFOLDING and path not in expected:
                            self.plan.skipped.append(Skipped(path, "venv scaffolding"))
                            continue
                        target = os.path.join(target_dir, relative)
                        if entry.is_symlink():
                            self.add(Action(self.rel(target), symlink=os.readlink(path)))
                        elif top and name.endswith(".pth"):
                            self.plan_pth(path, target, expected.get(path))
                        else:
                            self.add(
                                Action(self.rel(target), source=path, expected=expected.get(path))
                            )

    def plan_pth(self, path: str, target: str, expected: RecordEntry | None) -> None:
        """Rewrite path lines of a ``.pth`` that point into the old environment."""
        with open(path, "rb") as handle:
            data = handle.read()
        lines = data.decode("utf-8", "surrogateescape").splitlines(keepends=True)
        changed = False
        for index, line in enumerate(lines):
            text = line.strip()
            if not text or text.startswith(("#", "import ", "import\t")):
                continue
            absolute = os.path.normpath(os.path.join(os.path.dirname(path), text))
            if not _under(absolute, self.source_root):
                continue
            new_place = self.target_of(absolute)
            if new_place is None:
                self.plan.warnings.append(
                    f"{path}: line {index + 1} points into the old environment ({absolute}) "
                    "at nothing that is carried; the line will match nothing"
                )
                continue
            ending = line[len(line.rstrip("\r\n")) :]
            lines[index] = os.path.relpath(new_place, os.path.dirname(target)) + ending
            changed = True
        if changed:
            self.write(target, "".join(lines).encode("utf-8", "surrogateescape"), 0o644)
        else:
            self.add(Action(self.rel(target), source=path, expected=expected))

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
            if ep.name.endswith(".py"):  # the PEP: it could shadow a module of that name
                self.plan.skipped.append(
                    Skipped(
                        f"console script {ep.name} of {dist.name}",
                        "names ending in .py can shadow modules; not written",
                    )
                )
                continue
            data = wrapper(ep.module, ep.attr, self.plan.interpreter, self.locator)
            self.write(os.path.join(self.target_scripts, ep.name), data, 0o755)

    def plan_record(self, dist: Distribution) -> None:
        """A new RECORD whose every row resolves from the dist's new place."""
        if dist.kind != "dist-info" or dist.record is None:
            return
        site_target = self.target_of(str(dist.site_dir))
        assert site_target is not None
        record_target = os.path.join(site_target, dist.meta_dir.name, "RECORD")
        entries, seen = [], set()
        site_source = str(dist.site_dir)
        for entry, path in zip(dist.record, dist.owned_files):
            if path in self.dropped:
                continue
            if _under(path, site_source) and path not in self.moved:
                same_place = site_target + path[len(site_source) :]
                if same_place == record_target:
                    continue
                if same_place not in self.written:  # same path relative to the site dir
                    seen.add(same_place)
                    entries.append(entry)
                    continue
            new_path = self.moved.get(path) or self.target_of(path)
            if new_path is None:  # outside the environment: keep it findable
                entries.append(RecordEntry(path, entry.hash_, entry.size))
                continue
            if new_path == record_target:
                continue
            seen.add(new_path)
            relative = os.path.relpath(new_path, site_target).replace(os.sep, "/")
            data = self.written.get(new_path)
            entries.append(
                entry_for(relative, data)
                if data is not None
                else RecordEntry(relative, entry.hash_, entry.size)
            )
        for ep in dist.entry_points:  # scripts RECORD did not list (e.g. legacy tools)
            script = os.path.join(self.target_scripts, ep.name)
            if script not in seen and script in self.written:
                relative = os.path.relpath(script, site_target).replace(os.sep, "/")
                entries.append(entry_for(relative, self.written[script]))
        relative = os.path.relpath(record_target, site_target).replace(os.sep, "/")
        entries.append(RecordEntry(relative, None, None))
        self.write(record_target, render_record(entries), 0o644)

    def write(self, target: str, data: bytes, mode: int) -> None:
        self.written[target] = data
        self.add(Action(self.rel(target), data=data, mode=mode))


def build_plan(
    sources: list[Source],
    project: Path,
    layout: Layout,
    *,
    link: bool = True,
    verify: bool = True,
    existing: Existing = "refuse",
    include_pip: bool = False,
    interpreter: str | None = None,
) -> Plan:
    """Decide everything a migration of ``sources`` into ``project`` will do."""
    project = project.absolute()
    check_destination(project, existing)
    executable = interpreter or next(
        (s.base_executable for s in sources if s.base_executable), None
    )
    plan = Plan(
        sources=[s.describe() for s in sources],
        project=project,
        layout=layout,
        schemes=[],
        interpreter=executable or "",
        link=link,
        verify=verify,
        existing=existing,
    )
    for source in sources:
        plan.warnings.extend(source.notes)
        if source.system_site:
            plan.warnings.append(
                f"{source.path} sees the system site-packages (include-system-site-packages "
                "= true); packages it used from there are not carried"
            )
        scheme = scheme_for(project, source.facts, layout)
        if source.kind == "pypackages" and source.layout == layout and source.path == plan.target:
            plan.skipped.append(Skipped(source.describe(), f"already in the {layout} layout"))
            continue
        needs_scripts = any(d.entry_points for d in source.distributions)
        if not plan.interpreter:
            stem = "pypy" if source.facts.implementation == "pypy" else "python"
            plan.interpreter = f"/usr/bin/env {stem}{source.facts.version_tag}"
            if needs_scripts:
                plan.warnings.append(
                    f"no interpreter for {source.facts.describe()} found; scripts use "
                    f"`{plan.interpreter}` (pass --python to name one)"
                )
        plan.schemes.append(scheme)
        nested = Path(scheme.scripts) / DIRNAME
        if nested.exists():
            plan.warnings.append(
                f"{nested} exists: it would apply to every script in {scheme.scripts}"
            )
        _Planner(plan, source, scheme, include_pip).run()
    _check_duplicates(plan)
    if existing == "merge" and plan.target.exists():
        _drop_present(plan)
    return plan


def _check_duplicates(plan: Plan) -> None:
    claimed: dict[str, Action] = {}
    for action in plan.actions:
        other = claimed.setdefault(action.target, action)
        if other is not action and (other.source, other.data) != (action.source, action.data):
            raise ConflictError(f"two files would land on {plan.target / action.target}")


def _same_file(action: Action, existing: Path) -> bool:
    if action.symlink is not None:
        return existing.is_symlink() and os.readlink(existing) == action.symlink
    if action.data is not None:
        return existing.read_bytes() == action.data
    assert action.source is not None
    if os.path.samefile(action.source, existing):
        return True
    with open(action.source, "rb") as a, open(existing, "rb") as b:
        return hash_stream(a, "sha256") == hash_stream(b, "sha256")


def _drop_present(plan: Plan) -> None:
    """--merge: keep what is already there unchanged; a different file is a conflict."""
    kept = []
    for action in plan.actions:
        existing = plan.target / action.target
        if existing.exists() or existing.is_symlink():
            if not _same_file(action, existing):
                raise ConflictError(
                    f"{existing} already exists with different content; "
                    "use --replace to start afresh"
                )
            plan.already_present += 1
            continue
        kept.append(action)
    plan.actions = kept


Progress = Callable[[int], None]


def execute(plan: Plan, progress: Progress | None = None) -> Report:
    """Carry out ``plan``: stage everything, verify while reading, publish atomically."""
    started = time.perf_counter()
    report = Report(plan)
    with staged(plan.project, plan.existing) as stage:
        _Executor(plan, stage, report, progress).run()
    report.seconds = time.perf_counter() - started
    return report


class _Executor:
    def __init__(self, plan: Plan, stage: Path, report: Report, progress: Progress | None) -> None:
        self.plan, self.stage, self.report = plan, str(stage), report
        self.progress = progress
        self.link = plan.link
        self.made: set[str] = set()

    def run(self) -> None:
        for number, action in enumerate(self.plan.actions, start=1):
            destination = os.path.join(self.stage, action.target)
            parent = os.path.dirname(destination)
            if parent not in self.made:
                os.makedirs(parent, exist_ok=True)
                self.made.add(parent)
            if action.symlink is not None:
                os.symlink(action.symlink, destination)
            elif action.data is not None:
                with open(destination, "wb") as handle:
                    handle.write(action.data)
                os.chmod(destination, action.mode)
                self.report.written += 1
                self.report.bytes += len(action.data)
            else:
                assert action.source is not None
                self.carry(action.source, destination, action.expected)
            if self.progress is not None and number % 256 == 0:
                self.progress(256)
        if self.progress is not None:
            self.progress(len(self.plan.actions) % 256)

    def carry(self, source: str, destination: str, expected: RecordEntry | None) -> None:
        hash_ = expected.hash_ if self.plan.verify and expected is not None else None
        if self.link:
            if hash_ is not None:
                assert expected is not None
                with open(source, "rb") as handle:
                    digest, size = hash_stream(handle, hash_.name)
                check(source, expected, digest, size)
            try:
                os.link(source, destination)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                self.link = False  # another filesystem: copy from now on
                self.plan.warnings.append(
                    f"cannot hard-link from {os.path.dirname(source)} ({exc.strerror}); "
                    "copying instead"
                )
            else:
                self.report.linked += 1
                known = expected.size if expected is not None else None
                self.report.bytes += known if known is not None else os.stat(source).st_size
                return
        if hash_ is not None:
            assert expected is not None
            with open(source, "rb") as src, open(destination, "wb") as dst:
                digest, size = hash_stream(src, hash_.name, sink=dst)
            check(source, expected, digest, size)
        else:
            shutil.copyfile(source, destination)
            size = os.stat(destination).st_size
        shutil.copystat(source, destination)
        self.report.copied += 1
        self.report.bytes += size


def next_steps(plan: Plan) -> list[str]:
    """How to use the result, for the closing lines of the summary."""
    steps = [
        f"pep582 run SCRIPT      (a script in {plan.project} uses {plan.target})",
        "pep582 enable          (let the interpreter do the step at every start)",
    ]
    if plan.layout == "pdm":
        steps = ["pdm run ...  (the pdm layout is read by PDM's hook, not by pep582 run)"]
    scripts = sorted({s for d in plan.distributions for s in d.scripts})
    if scripts and plan.schemes:
        steps.append(f"{Path(plan.schemes[0].scripts) / scripts[0]}   (console scripts run as is)")
    return steps


def iter_summary(report: Report) -> Iterable[str]:
    """Human-readable closing summary lines."""
    plan = report.plan
    yield (
        f"migrated {len(plan.distributions)} distributions into {plan.target} "
        f"({plan.layout} layout) in {report.seconds:.3f}s"
    )
    yield (
        f"  files: {report.linked} linked, {report.copied} copied, {report.written} written"
        + (f", {plan.already_present} already present" if plan.already_present else "")
        + f"; {report.bytes / 1e6:.1f} MB; verified against RECORD: "
        + ("yes" if plan.verify else "no")
    )
    for skipped in plan.skipped:
        yield f"  skipped {skipped.what}: {skipped.reason}"
    for warning in plan.warnings:
        yield f"  warning: {warning}"
    yield "next:"
    for step in next_steps(plan):
        yield f"  {step}"


def ensure_not_inside(project: Path, sources: list[Source]) -> None:
    """Refuse a target inside a source venv: the source is only ever read."""
    for source in sources:
        if source.kind == "venv" and _under(str(project.absolute()), str(source.path)):
            raise DestinationError(
                f"the project {project} is inside the source venv {source.path}; "
                "choose --project outside it"
            )
