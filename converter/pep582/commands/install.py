"""``pep582 install`` and ``pep582 uninstall``: change a ``__pypackages__`` through the same
plan, lock, stage and swap as a migration."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from pep582.commands.options import (
    DRY_RUN,
    DRY_RUN_RESOLVING,
    JSON,
    PROJECT,
    PYTHON,
    QUIET,
    VERBOSE,
    interpreter_for,
)
from pep582.commands.output import pip_options, show_outcome, terminal_progress


@click.command(
    epilog="\b\nExamples:\n"
    "  pep582 install requests 'rich>=13'\n"
    "  pep582 install -r requirements.txt --python 3.12\n"
    "  pep582 install --upgrade requests\n"
    "  pep582 install --no-index --find-links ./wheels hello",
)
@click.argument("requirements", nargs=-1)
@click.option(
    "-r",
    "--requirement",
    "files",
    multiple=True,
    metavar="FILE",
    help="Install what a requirements file lists (anything pip reads in one).",
)
@click.option(
    "-c",
    "--constraint",
    "constraints",
    multiple=True,
    metavar="FILE",
    help="Constrain versions with this file, as pip's -c does.",
)
@click.option("-U", "--upgrade", is_flag=True, help="Upgrade the named distributions.")
@click.option("--compile", "compile_", is_flag=True, help="Byte-compile what is installed.")
@pip_options
@PROJECT
@PYTHON
@DRY_RUN_RESOLVING
@JSON
@VERBOSE
@QUIET
def install(
    requirements: tuple[str, ...],
    files: tuple[str, ...],
    constraints: tuple[str, ...],
    upgrade: bool,
    compile_: bool,
    index_url: str | None,
    extra_index_url: tuple[str, ...],
    find_links: tuple[str, ...],
    no_index: bool,
    pre: bool,
    only_binary: tuple[str, ...],
    project: Path,
    python_spec: str | None,
    dry_run: bool,
    as_json: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Install REQUIREMENTS (and -r FILEs) into ./__pypackages__, resolved by pip against
    what is there: installed versions stay unless --upgrade names them; an older version
    is replaced ("upgraded X 1.0 → 2.0"); files of other distributions still conflict."""
    from pep582.install.requirements import index_options, pin, resolve
    from pep582.operations.install import install as run_install
    from pep582.operations.uninstall import installed
    from pep582.sources.distribution import canonical

    if not requirements and not files:
        raise click.UsageError("name at least one requirement or -r FILE")
    project = project.absolute()
    interpreter = interpreter_for(python_spec, project)
    existing = {
        dist.key: dist
        for source in installed(project)
        if source.layout == "pep582" and source.facts.command == interpreter.facts.command
        for dist in source.distributions
    }
    named = {canonical(_name_of(r)) for r in requirements}
    unpinned = set(named)
    if upgrade:
        from pep582.sources.distribution import marker_environment

        environment = marker_environment(interpreter.facts)
        pending = list(named)
        while pending:
            dist = existing.get(pending.pop())
            for key in dist.requires(environment) if dist is not None else []:
                if key not in unpinned:
                    unpinned.add(key)
                    pending.append(key)
    options = index_options(index_url, extra_index_url, find_links, no_index, pre, only_binary)
    with tempfile.TemporaryDirectory(prefix="pep582-install-") as work:
        keep = [d for k, d in existing.items() if k not in unpinned and not d.editable]
        pins = [f"{d.name}=={d.version}" for d in keep if d.direct_url is None]
        pinned = Path(work) / "installed.txt"
        pinned.write_text("\n".join(pins) + "\n", encoding="utf-8")
        arguments = [*requirements]
        for name in files:
            arguments += ["-r", name]
        for name in constraints:
            arguments += ["-c", name]
        for dist in keep:  # what is there takes part, so the result stays consistent
            if dist.requested or dist.direct_url is not None:
                arguments.append(pin(dist.name, dist.direct_url) if dist.direct_url else dist.name)
        arguments += ["-c", str(pinned)]
        talk = sys.stderr.isatty() and not (quiet or as_json)
        if talk:
            click.echo(f"resolving with pip for {interpreter.executable} …", err=True)
        artifacts = resolve(arguments, interpreter, options, Path(work), "the requirements", talk)
        with terminal_progress("installing files", quiet or as_json) as progress:
            outcome = run_install(
                artifacts,
                interpreter,
                project,
                "pep582",
                "merge",
                origin=" ".join([*requirements, *(f"-r {f}" for f in files)]),
                options=options,
                compile=compile_,
                dry_run=dry_run,
                show_progress=talk,
                progress=progress,
            )
    show_outcome("pep582", outcome, dry_run, as_json, verbose, quiet)


def _name_of(requirement: str) -> str:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(requirement).name
    except InvalidRequirement as exc:
        raise click.UsageError(f"not a requirement: {requirement!r} ({exc})") from exc


@click.command(
    epilog="Example: pep582 uninstall requests --python 3.12",
)
@click.argument("names", nargs=-1, required=True)
@PROJECT
@PYTHON
@DRY_RUN
@JSON
@VERBOSE
@QUIET
def uninstall(
    names: tuple[str, ...],
    project: Path,
    python_spec: str | None,
    dry_run: bool,
    as_json: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Remove NAMES from ./__pypackages__: the files their RECORD lists (a file changed
    since, e.g. another version's script, is left and named), for one Python (--python)
    or every Python the tree holds. Says what still requires them."""
    from pep582.operations.uninstall import installed
    from pep582.operations.uninstall import uninstall as run_uninstall

    project = project.absolute()
    if python_spec:
        versions = [interpreter_for(python_spec, project).facts]
    else:
        versions = [s.facts for s in installed(project) if s.layout == "pep582"]
    outcome = run_uninstall(list(names), project, "pep582", versions, dry_run=dry_run)
    show_outcome("pep582", outcome, dry_run, as_json, verbose, quiet)
