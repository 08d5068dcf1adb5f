"""Installing resolved artifacts (wheels through the unpacked-wheel cache)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pep582.errors import CacheEntryModified
from pep582.install.requirements import Artifact, check_hashes, fetch
from pep582.interpreter import Interpreter, named_by_scripts
from pep582.operations.run import Outcome, run
from pep582.plan.executor import Progress
from pep582.plan.index import TreeIndex
from pep582.plan.model import Change, Existing, Operation, Plan
from pep582.plan.planner import Planner
from pep582.plan.staging import check_destination
from pep582.scheme import Layout
from pep582.step.startup import DIRNAME


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
    tree = TreeIndex(project / DIRNAME)  # read once for the whole command
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
            "install",
            project,
            layout,
            existing,
            index=tree,
            interpreter=named_by_scripts(interpreter.executable),
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
                index=tree,
                interpreter=named_by_scripts(interpreter.executable),
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
            return run(project, build, False, progress, str(wheelcache.cache_root().resolve()))
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
