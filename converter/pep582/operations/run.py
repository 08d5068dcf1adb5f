"""Running one change inside the project's lock: plan, then execute (or only plan)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pep582.errors import SourceError
from pep582.plan.executor import Progress, execute
from pep582.plan.model import Plan, Report
from pep582.plan.staging import transaction


@dataclass
class Outcome:
    plan: Plan
    report: Report | None = None
    recovered: list[str] = field(default_factory=list)


def run(
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
