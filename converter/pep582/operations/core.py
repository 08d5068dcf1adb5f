"""Running one change end to end: read, plan (inside the project's lock), execute.

The CLI modules call these and print; nothing here prints. Each function returns an
:class:`Outcome`: the plan, and what execution did (None for a dry run or a no-op).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pep582.errors import CacheEntryModified, DestinationError, InterpreterError, SourceError
from pep582.install.requirements import Artifact, check_hashes, fetch
from pep582.interpreter import Interpreter, find_python, outside_toolkit
from pep582.names import inside
from pep582.plan.executor import Progress, execute
from pep582.plan.model import Change, Operation, Plan, Report
from pep582.plan.planner import Planner, TreeState
from pep582.plan.staging import Existing, check_destination, transaction
from pep582.scheme import InterpreterFacts, Layout
from pep582.sources.reader import Source, detect
from pep582.step.startup import DIRNAME


@dataclass
class Outcome:
    plan: Plan
    report: Report | None = None
    recovered: list[str] = field(default_factory=list)


def script_interpreter(python: str | None, sources: list[Source]) -> tuple[str, list[str]]:
    """What console scripts will name, and warnings: ``--python`` (checked against every
    source's version), else the base interpreter the source records, else ``pythonX.Y``
    on PATH outside this toolkit's environment, else ``/usr/bin/env pythonX.Y``."""
    facts = [s.facts for s in sources]
    if python:
        interpreter = find_python(python)
        for source in sources:
            if interpreter.facts.command != source.facts.command:
                raise InterpreterError(
                    f"--python {python} is {interpreter.facts.describe()}, but "
                    f"{source.path} is for {source.facts.describe()}"
                )
        return str(interpreter.executable), []
    for source in sources:
        if source.base_executable:
            return source.base_executable, []
    if not facts:
        return "", []
    if shutil.which(facts[0].command, path=outside_toolkit()):
        with contextlib.suppress(InterpreterError):  # asked, so a launcher is seen through
            return str(find_python(facts[0].command).executable), []
    fallback = f"/usr/bin/env {facts[0].command}"
    needs = any(d.entry_points for s in sources for d in s.distributions)
    warnings = (
        [f"no {facts[0].command} found; console scripts use `{fallback}` (name one with --python)"]
        if needs
        else []
    )
    return fallback, warnings


def _run(
    project: Path,
    build: Callable[[], Plan],
    dry_run: bool,
    progress: Progress | None,
    cache_root: str | None = None,
) -> Outcome:
    if dry_run:
        return Outcome(_planned(build))
    with transaction(project) as txn:
        plan = _planned(build)
        if plan.noop:
            return Outcome(plan, None, txn.recovered)
        report = execute(plan, txn, progress, cache_root=cache_root)
        return Outcome(plan, report, txn.recovered)


def _planned(build: Callable[[], Plan]) -> Plan:
    try:
        return build()
    except OSError as exc:
        raise SourceError(f"{exc.filename or 'a source file'}: {exc.strerror}") from exc


def migrate(
    source_path: Path,
    project: Path | None,
    layout: Layout,
    existing: Existing,
    *,
    python: str | None = None,
    link: bool = True,
    verify: bool = True,
    include_pip: bool = False,
    include_unowned: bool = False,
    compile: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> Outcome:
    """Carry a venv or a ``__pypackages__`` (either layout) into ``project``."""
    sources = detect(source_path)
    project = (project or sources[0].path.parent).absolute()
    for source in sources:
        if source.kind == "venv" and inside(os.path.realpath(project), str(source.path)):
            raise DestinationError(
                f"the project {project} is inside the source venv {source.path}; "
                "choose --project outside it"
            )
    taken = dry_run and existing == "refuse" and (project / DIRNAME).exists()
    check_destination(project, "merge" if taken else existing)
    interpreter, warnings = script_interpreter(python, sources)
    if taken:  # a dry run shows the plan anyway, with what a real run would refuse
        warnings.append(
            f"{project / DIRNAME} already exists: a real run needs --merge or --replace"
        )

    def build() -> Plan:
        planner = Planner(
            "migrate",
            project,
            layout,
            "merge" if taken else existing,
            interpreter=interpreter,
            link=link,
            verify=verify,
            compile=compile,
            include_pip=include_pip,
            include_unowned=include_unowned,
        )
        planner.plan.warnings.extend(warnings)
        for source in sources:
            planner.carry(source)
        return planner.finish()

    return _run(project, build, dry_run, progress)


def install(
    artifacts: list[Artifact],
    interpreter: Interpreter,
    project: Path,
    layout: Layout,
    existing: Existing,
    *,
    operation: Operation = "install",
    origin: str = "",
    options: list[str] | None = None,
    compile: bool = False,
    dry_run: bool = False,
    show_progress: bool = False,
    progress: Progress | None = None,
) -> Outcome:
    """Install resolved ``artifacts`` (wheels through the unpacked-wheel cache)."""
    from pep582.install import wheelcache

    project = project.absolute()
    check_destination(project, "merge" if existing == "refuse" and dry_run else existing)
    facts = interpreter.facts
    tree = TreeState(project / DIRNAME)
    needed: list[Artifact] = []
    kept: list[Change] = []
    for artifact in artifacts:
        present = None if existing == "replace" else tree.find(layout, facts, artifact.key)
        if present is not None and present.version == artifact.version:
            kept.append(Change(present.name, present.version, "keep", facts.version_tag))
        else:
            needed.append(artifact)

    def preview() -> Plan:
        planner = Planner(
            "install", project, layout, existing, interpreter=str(interpreter.executable)
        )
        plan = planner.plan
        plan.sources.append(origin)
        plan.changes.extend(kept)
        for artifact in needed:
            old = None if existing == "replace" else tree.find(layout, facts, artifact.key)
            plan.changes.append(
                Change(
                    artifact.name,
                    artifact.version,
                    "upgrade" if old is not None else "add",
                    facts.version_tag,
                    previous=old.version if old is not None else None,
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

    with tempfile.TemporaryDirectory(prefix="pep582-wheels-") as work:
        entries: dict[str, Path] = {}
        for artifact in needed:
            if artifact.sha256 and wheelcache.cached(artifact.sha256):
                entries[artifact.key] = wheelcache.entry_path(artifact.sha256)
        fetch(
            [a for a in needed if a.key not in entries],
            interpreter,
            options or [],
            Path(work),
            origin,
            show_progress,
        )
        unpacking: list[tuple[Artifact, str | None]] = []
        for artifact in needed:
            if artifact.key in entries:
                continue
            assert artifact.wheel is not None
            digest = None
            if artifact.is_wheel:  # a built wheel: pip checked the hashes of what it built
                digest = check_hashes(artifact.wheel, artifact.hashes, _promised_by(origin))
            unpacking.append((artifact, digest))
        entries.update(_unpack_all(unpacking))

        def build() -> Plan:
            planner = Planner(
                operation,
                project,
                layout,
                existing,
                interpreter=str(interpreter.executable),
                compile=compile,
            )
            planner.plan.changes.extend(kept)
            for artifact in needed:
                source = wheelcache.as_source(entries[artifact.key], facts)
                dist = source.distributions[0]
                dist.requested = artifact.requested
                dist.direct_url = artifact.direct_url
                dist.origin = artifact.url or str(artifact.wheel)
                planner.carry(source)
            planner.plan.sources = [origin]
            return planner.finish()

        try:
            return _run(project, build, False, progress, str(wheelcache.cache_root().resolve()))
        except CacheEntryModified as exc:
            wheelcache.evict(exc.entry.split(os.sep)[-1])
            raise CacheEntryModified(
                f"{exc}; the cached copy was removed: run the command again to unpack the "
                "wheel afresh",
                exc.entry,
            ) from None


UNPACK_THREADS = 4  # at most; inflating and writing release the GIL for most of the work


def _unpack_all(work: list[tuple[Artifact, str | None]]) -> dict[str, Path]:
    """Unpack wheels into the cache side by side: each into its own directory, renamed
    into place when whole, so a failure leaves no entry (the first error is raised after
    the others have finished)."""
    from concurrent.futures import ThreadPoolExecutor

    from pep582.install import wheelcache

    def one(item: tuple[Artifact, str | None]) -> tuple[str, Path]:
        artifact, digest = item
        assert artifact.wheel is not None
        return artifact.key, wheelcache.unpack(artifact.wheel, digest)[0]

    if len(work) < 2:
        return dict(map(one, work))
    threads = min(UNPACK_THREADS, os.cpu_count() or 1, len(work))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="unpack") as pool:
        return dict(pool.map(one, work))


def _promised_by(origin: str) -> str:
    name = Path(origin).name if origin else "the resolver"
    locked = name.startswith("pylock.")
    return f"the hash locked in {name}" if locked else f"what {name} resolved"


def uninstall(
    names: list[str],
    project: Path,
    layout: Layout,
    versions: list[InterpreterFacts],
    *,
    dry_run: bool = False,
) -> Outcome:
    """Remove distributions by name (RECORD-driven) from the given versions' trees."""
    project = project.absolute()
    if not (project / DIRNAME).is_dir():
        raise SourceError(f"{project / DIRNAME} does not exist; nothing to uninstall")
    check_destination(project, "merge")

    def build() -> Plan:
        planner = Planner("uninstall", project, layout, "merge")
        planner.uninstall(names, versions)
        return planner.finish()

    return _run(project, build, dry_run, None)


def installed(project: Path) -> list[Source]:
    """What ``project/__pypackages__`` holds, one source per Python version and layout."""
    return TreeState(project.absolute() / DIRNAME).sources


InputKind = str  # "tree", "requirements", "pylock", "pyproject"


def kind_of(path: Path) -> InputKind:
    """What a ``pep582-migrate`` SOURCE is, by name and content: a directory (venv or
    ``__pypackages__``), a ``pyproject.toml``, a PEP 751 lock, a requirements file. A
    Python script or anything else is refused here, never handed to pip."""
    if not path.exists():
        raise SourceError(f"{path} does not exist")
    if path.is_dir():
        return "tree"
    from packaging.pylock import is_valid_pylock_path

    if path.name == "pyproject.toml":
        return "pyproject"
    if is_valid_pylock_path(path):
        return "pylock"
    head = path.read_bytes()[:4096]
    if path.suffix in (".py", ".pyw", ".pyz") or head.startswith(b"#!"):
        raise SourceError(
            f"{path} is a Python script, not a list of requirements; to run it with a "
            f"__pypackages__ use `pep582 run {path}`"
        )
    if path.suffix == ".toml":
        raise SourceError(
            f"{path} is neither a pyproject.toml nor a PEP 751 lock (pylock.toml, "
            "pylock.NAME.toml)"
        )
    if b"\0" in head:
        raise SourceError(f"{path} is a binary file, not a list of requirements")
    return "requirements"


def names_requirements(path: Path) -> bool:
    """Whether a requirements file has any line pip would act on."""
    from pep582.sources.records import read_text

    for line in read_text(path).splitlines():
        text = line.split(" #", 1)[0].strip()
        if text and not text.startswith("#"):
            return True
    return False
