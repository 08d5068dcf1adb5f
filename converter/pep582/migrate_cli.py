"""The ``pep582-migrate`` command: move what you have into a ``__pypackages__`` layout."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import click
from packaging.pylock import is_valid_pylock_path

from pep582 import __version__
from pep582.cli import errors_reported
from pep582.errors import exit_codes_help
from pep582.install import describe_plan, new_plan, summary
from pep582.install import execute as execute_install
from pep582.interpreter import choose_python
from pep582.lock import select
from pep582.migrate import Plan, build_plan, ensure_not_inside, execute, iter_summary
from pep582.requirements import index_options, resolve
from pep582.scheme import LAYOUTS, Layout
from pep582.sources import detect
from pep582.staging import Existing, check_destination

PROG = "pep582-migrate"
EPILOG = (
    "\b\nExamples:\n"
    "  pep582-migrate .venv                    # ./.venv -> ./__pypackages__\n"
    "  pep582-migrate .venv --dry-run          # show the plan, write nothing\n"
    "  pep582-migrate __pypackages__ --layout pep582 --replace   # PDM layout -> PEP layout\n"
    "  pep582-migrate requirements.txt --python 3.12   # resolve with pip for 3.12\n"
    "  pep582-migrate pylock.toml             # install exactly what is locked\n"
    "\n\b\nExit codes:\n" + exit_codes_help()
)


def _print_plan(plan: Plan, verbose: bool) -> None:
    echo = click.echo
    for source in plan.sources:
        echo(f"source:  {source}")
    echo(f"target:  {plan.target} ({plan.layout} layout, {plan.existing})")
    for scheme in plan.schemes:
        for key, value in scheme.as_dict().items():
            echo(f"  {key:<8} {value}")
    echo(f"scripts: #!{plan.interpreter}")
    counts = plan.counts()
    mode = "hard-link" if plan.link else "copy"
    echo(
        f"files:   {counts['carry']} to {mode}, {counts['write']} to write, "
        f"{counts['symlink']} symlinks; verify: {'yes' if plan.verify else 'no'}"
    )
    echo(f"distributions ({len(plan.distributions)}):")
    for dist in plan.distributions:
        flags = [f for f, on in (("editable", dist.editable), ("requested", dist.requested)) if on]
        scripts = f" scripts: {', '.join(dist.scripts)}" if dist.scripts else ""
        echo(
            f"  {dist.name} {dist.version} [{dist.kind}{', ' if flags else ''}"
            f"{', '.join(flags)}]{scripts}"
        )
    for skipped in plan.skipped:
        echo(f"skip:    {skipped.what}: {skipped.reason}")
    for warning in plan.warnings:
        echo(f"warning: {warning}")
    if verbose:
        for action in plan.actions:
            echo(f"  {action.kind:<7} {action.target}")


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--project",
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory that gets __pypackages__ (default: the one holding SOURCE).",
)
@click.option(
    "--layout",
    type=click.Choice(LAYOUTS),
    default="pep582",
    show_default=True,
    help="pep582: lib/pythonX.Y/site-packages; pdm: the draft X.Y/lib layout.",
)
@click.option(
    "--copy", "copy", is_flag=True, help="Copy files instead of hard-linking them from the source."
)
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Check every file against its RECORD hash while reading it.",
)
@click.option(
    "--merge",
    "existing",
    flag_value="merge",
    help="Add to an existing __pypackages__; a conflicting file is an error.",
)
@click.option(
    "--replace",
    "existing",
    flag_value="replace",
    help="Replace an existing __pypackages__ (the old one stays until the new is in).",
)
@click.option("--include-pip", is_flag=True, help="Also carry the venv's seed pip.")
@click.option(
    "--python",
    "python",
    metavar="PY",
    help="Target interpreter: a path, a command or a version such as 3.12. For a "
    "requirements or lock file it decides resolution and layout (default: this Python); "
    "for a venv, what console scripts name (default: its base interpreter).",
)
@click.option("--index-url", metavar="URL", help="pip's --index-url (requirements/lock files).")
@click.option("--extra-index-url", metavar="URL", multiple=True, help="pip's --extra-index-url.")
@click.option("--find-links", metavar="PATH", multiple=True, help="pip's --find-links.")
@click.option("--no-index", is_flag=True, help="pip's --no-index.")
@click.option("--pre", is_flag=True, help="pip's --pre.")
@click.option("--only-binary", metavar="SPEC", multiple=True, help="pip's --only-binary.")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan or report as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="List every file.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.version_option(__version__, prog_name="pep582-migrate")
def main(
    source: Path,
    project: Path | None,
    layout: Layout,
    copy: bool,
    verify: bool,
    existing: Existing | None,
    include_pip: bool,
    python: str | None,
    index_url: str | None,
    extra_index_url: tuple[str, ...],
    find_links: tuple[str, ...],
    no_index: bool,
    pre: bool,
    only_binary: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Move SOURCE into a __pypackages__ layout.

    SOURCE is a virtual environment, a __pypackages__ (either layout), a requirements
    file or a PEP 751 lock file (pylock.toml).

    From a venv or a __pypackages__, every installed distribution is carried over: files
    are hard-linked (or copied) and checked against RECORD, console scripts are
    regenerated so that __pypackages__/bin/TOOL runs without any hook, RECORD files are
    rewritten for the new places. A requirements file is resolved and fetched by pip for
    the target interpreter; a lock file is installed exactly as locked, hashes checked.
    Everything is staged beside the target and moved in atomically; SOURCE is only read.
    """
    if source.is_file():
        venv_only = [
            f
            for f, on in (
                ("--copy", copy),
                ("--no-verify", not verify),
                ("--include-pip", include_pip),
            )
            if on
        ]
        if venv_only:
            raise click.UsageError(f"{', '.join(venv_only)} apply to venv sources only")
        options = index_options(index_url, extra_index_url, find_links, no_index, pre, only_binary)
        _from_file(
            source, project, layout, existing or "refuse", python, options, dry_run, as_json, quiet
        )
        return
    if index_url or extra_index_url or find_links or no_index or pre or only_binary:
        raise click.UsageError("index options apply to requirements and lock files only")
    started = time.perf_counter()
    with errors_reported(PROG):
        sources = detect(source, python)
        if project is None:
            project = sources[0].path.parent
        ensure_not_inside(project, sources)
        plan = build_plan(
            sources,
            project,
            layout,
            link=not copy,
            verify=verify,
            existing=existing or "refuse",
            include_pip=include_pip,
            interpreter=python,
        )
        if dry_run:
            if as_json:
                click.echo(json.dumps(plan.as_dict(with_actions=verbose), indent=2))
            elif not quiet:
                _print_plan(plan, verbose)
            return
        show_bar = sys.stderr.isatty() and not (as_json or quiet)
        with click.progressbar(
            length=len(plan.actions), label="migrating", file=sys.stderr, hidden=not show_bar
        ) as bar:
            report = execute(plan, progress=bar.update)
        report.seconds = time.perf_counter() - started  # reading and planning included
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    elif not quiet:
        for line in iter_summary(report):
            click.echo(line)


def _from_file(
    source: Path,
    project: Path | None,
    layout: Layout,
    existing: Existing,
    python: str | None,
    options: list[str],
    dry_run: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Install what a requirements or lock file declares."""
    started = time.perf_counter()
    with errors_reported(PROG):
        target_project = project or source.absolute().parent
        check_destination(target_project.absolute(), existing)  # fail before resolving
        interpreter, _ = choose_python(python)
        with tempfile.TemporaryDirectory(prefix="pep582-migrate-") as work:
            if is_valid_pylock_path(source):
                artifacts = select(source, interpreter, Path(work), options)
            else:
                artifacts = resolve(source, interpreter, options, Path(work))
            plan = new_plan(
                str(source.absolute()),
                target_project,
                layout,
                interpreter,
                artifacts,
                existing,
            )
            if dry_run:
                if as_json:
                    click.echo(json.dumps(plan.as_dict(), indent=2))
                elif not quiet:
                    for line in describe_plan(plan):
                        click.echo(line)
                return
            execute_install(plan)
            seconds = time.perf_counter() - started  # resolving and fetching included
    if as_json:
        click.echo(json.dumps({**plan.as_dict(), "seconds": round(seconds, 4)}, indent=2))
    elif not quiet:
        for line in summary(plan, seconds):
            click.echo(line)


if __name__ == "__main__":
    main()
