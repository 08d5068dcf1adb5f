"""Removing distributions by name, and reading what a tree holds."""

from __future__ import annotations

from pathlib import Path

from pep582.errors import SourceError
from pep582.operations.run import Outcome, run
from pep582.plan.index import TreeIndex
from pep582.plan.model import Plan
from pep582.plan.planner import Planner
from pep582.plan.staging import check_destination
from pep582.scheme import InterpreterFacts, Layout
from pep582.sources import Source
from pep582.step.startup import DIRNAME


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
        planner = Planner(
            "uninstall", project, layout, "merge", index=TreeIndex(project / DIRNAME)
        )
        planner.uninstall(names, versions)
        return planner.finish()

    return run(project, build, dry_run, None)


def installed(project: Path) -> list[Source]:
    """What ``project/__pypackages__`` holds, one source per Python version and layout."""
    return TreeIndex(project.absolute() / DIRNAME).sources
