"""Carrying a venv or a ``__pypackages__`` into a project, and what a SOURCE is."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from pep582 import proc
from pep582.errors import DestinationError, InterpreterError, SourceError
from pep582.interpreter import find_python, named_by_scripts, outside_toolkit
from pep582.names import inside
from pep582.operations.run import Outcome, run
from pep582.plan.executor import Progress
from pep582.plan.model import Existing, Plan
from pep582.plan.planner import Planner
from pep582.plan.staging import check_destination
from pep582.scheme import Layout
from pep582.sources import Source, detect
from pep582.step.startup import DIRNAME


def script_interpreter(python: str | None, sources: list[Source]) -> tuple[str, list[str]]:
    """What console scripts will name (always a resolved path that passes the trust rule,
    or ``/usr/bin/env``), and warnings: ``--python`` (checked against every source's
    version), else the base interpreter the source records, else ``pythonX.Y`` on PATH
    outside this toolkit's environment, else ``/usr/bin/env pythonX.Y``."""
    facts = [s.facts for s in sources]
    if python:
        interpreter = find_python(python)
        for source in sources:
            if interpreter.facts.command != source.facts.command:
                raise InterpreterError(
                    f"--python {python} is {interpreter.facts.describe()}, but "
                    f"{source.path} is for {source.facts.describe()}"
                )
        return named_by_scripts(interpreter.executable), []
    for source in sources:
        if source.base_executable:
            return source.base_executable, []
    if not facts:
        return "", []
    if proc.which(facts[0].command, path=outside_toolkit()):
        with contextlib.suppress(InterpreterError):  # asked, so a launcher is seen through
            return named_by_scripts(find_python(facts[0].command).executable), []
    fallback = f"/usr/bin/env {facts[0].command}"
    needs = any(d.entry_points for s in sources for d in s.distributions)
    warnings = (
        [f"no {facts[0].command} found; console scripts use `{fallback}` (name one with --python)"]
        if needs
        else []
    )
    return fallback, warnings


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
            f"{project / DIRNAME} already exists: a real run needs --merge or --replace; "
            "showing what --merge would do"
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

    return run(project, build, dry_run, progress)


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
    from pep582.sources.records import read_head

    head = read_head(path.absolute(), 4096)  # never a link, never a FIFO or device
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
