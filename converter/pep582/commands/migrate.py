"""The ``pep582-migrate`` command: move what you have into a ``__pypackages__`` layout.

Imports stay lazy: a venv migration never loads the wheel installer, pip plumbing or
the lock-file code, and ``--help`` loads none of them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pep582 import __version__
from pep582.commands.output import (
    JsonUsageCommand,
    errors_reported,
    pip_options,
    show_outcome,
    terminal_progress,
)
from pep582.errors import exit_codes_help
from pep582.scheme import LAYOUTS, Layout

if TYPE_CHECKING:
    from pep582.install.resolver import IndexOptions
    from pep582.plan.model import Existing

PROG = "pep582-migrate"
EPILOG = (
    "\b\nExamples:\n"
    "  pep582-migrate .venv                    # ./.venv -> ./__pypackages__\n"
    "  pep582-migrate .venv --dry-run          # show the plan, write nothing\n"
    "  pep582-migrate __pypackages__ --layout pep582 --replace   # PDM layout -> PEP layout\n"
    "  pep582-migrate requirements.txt --python 3.12   # resolve with pip for 3.12\n"
    "  pep582-migrate pyproject.toml --extra dev --group test\n"
    "  pep582-migrate pylock.toml              # install exactly what is locked\n"
    "\n\b\nExit codes:\n" + exit_codes_help(with_command_codes=False)
)


@click.command(
    cls=JsonUsageCommand,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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
@click.option("--copy", "copy", is_flag=True, help="Copy files instead of hard-linking them.")
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Check every file against its RECORD hash while carrying it.",
)
@click.option(
    "--merge",
    "existing",
    flag_value="merge",
    help="Add to an existing __pypackages__: new versions replace old ones, same ones stay.",
)
@click.option(
    "--replace",
    "existing",
    flag_value="replace",
    help="Replace what an existing __pypackages__ holds for this Python version (other "
    "versions stay; what goes is listed).",
)
@click.option(
    "--include-pip",
    is_flag=True,
    help="Also carry the seed packages (pip, setuptools, wheel) the venv got when it was made.",
)
@click.option(
    "--include-unowned",
    is_flag=True,
    help="Also carry files no RECORD lists (share/, etc/, ...) into the data directory.",
)
@click.option("--compile", "compile_", is_flag=True, help="Byte-compile the new tree.")
@click.option(
    "--python",
    "python",
    metavar="PY",
    help="A path, a command or a version such as 3.12. For requirements, pyproject and lock "
    "files: the interpreter to resolve for (default: a python3 outside this toolkit). For a "
    "venv: what console scripts name; it must be the venv's Python version (default: the "
    "venv's base interpreter).",
)
@click.option("--extra", "extras", metavar="NAME", multiple=True, help="pyproject: an extra.")
@click.option(
    "--group", "groups", metavar="NAME", multiple=True, help="pyproject: a dependency group."
)
@click.option(
    "--with-project",
    is_flag=True,
    help="pyproject: install the project itself too (built by pip in place: setuptools "
    "leaves build/ and *.egg-info in it, as `pip install .` does).",
)
@pip_options
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan; write nothing. (Resolving may build a source distribution to read "
    "its metadata, as pip does.)",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan or report as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="List every file; tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.version_option(__version__, prog_name=PROG)
def main(
    source: Path,
    project: Path | None,
    layout: Layout,
    copy: bool,
    verify: bool,
    existing: Existing | None,
    include_pip: bool,
    include_unowned: bool,
    compile_: bool,
    python: str | None,
    extras: tuple[str, ...],
    groups: tuple[str, ...],
    with_project: bool,
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
    file, a pyproject.toml or a PEP 751 lock file (pylock.toml).

    From a venv or a __pypackages__, every installed distribution is carried over: files
    are hard-linked (or copied) and checked against RECORD, console scripts are
    regenerated so that __pypackages__/bin/TOOL runs without any hook, RECORD files are
    rewritten for the new places. Requirements and pyproject files are resolved by pip for
    the target interpreter; a lock file is installed exactly as locked, hashes checked.
    Everything is staged beside the target and moved in atomically; SOURCE is only read.
    """
    with errors_reported(PROG, as_json, verbose):
        from pep582.operations.migrate import kind_of

        kind = kind_of(source)
        pip_flags = index_url or extra_index_url or find_links or no_index or pre or only_binary
        if kind == "tree":
            if pip_flags or extras or groups or with_project:
                raise click.UsageError(
                    "index and pyproject options apply to requirements, pyproject and lock "
                    "files only"
                )
            _from_tree(
                source, project, layout, copy, verify, existing, include_pip,
                include_unowned, compile_, python, dry_run, as_json, verbose, quiet,
            )  # fmt: skip
            return
        venv_only = [
            flag
            for flag, on in (
                ("--copy", copy),
                ("--no-verify", not verify),
                ("--include-pip", include_pip),
                ("--include-unowned", include_unowned),
            )
            if on
        ]
        if venv_only:
            raise click.UsageError(f"{', '.join(venv_only)} apply to venv sources only")
        if kind != "pyproject" and (extras or groups or with_project):
            raise click.UsageError("--extra, --group and --with-project apply to pyproject.toml")
        from pep582.install.resolver import IndexOptions

        index = IndexOptions(index_url, extra_index_url, find_links, no_index, pre, only_binary)
        _from_file(
            source, kind, project, layout, existing or "refuse", python, index,
            extras, groups, with_project, compile_, dry_run, as_json, verbose, quiet,
        )  # fmt: skip


def _from_tree(
    source: Path,
    project: Path | None,
    layout: Layout,
    copy: bool,
    verify: bool,
    existing: Existing | None,
    include_pip: bool,
    include_unowned: bool,
    compile_: bool,
    python: str | None,
    dry_run: bool,
    as_json: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    from pep582.operations.migrate import migrate

    with terminal_progress("carrying files", quiet or as_json) as progress:
        outcome = migrate(
            source,
            project,
            layout,
            existing or "refuse",
            python=python,
            link=not copy,
            verify=verify,
            include_pip=include_pip,
            include_unowned=include_unowned,
            compile=compile_,
            dry_run=dry_run,
            progress=progress,
        )
    show_outcome(PROG, outcome, dry_run, as_json, verbose, quiet)


def _from_file(
    source: Path,
    kind: str,
    project: Path | None,
    layout: Layout,
    existing: Existing,
    python: str | None,
    index: IndexOptions,
    extras: tuple[str, ...],
    groups: tuple[str, ...],
    with_project: bool,
    compile_: bool,
    dry_run: bool,
    as_json: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Install what a requirements, pyproject or lock file declares."""
    from pep582.interpreter import choose_python
    from pep582.operations.install import install_file
    from pep582.operations.migrate import names_requirements
    from pep582.plan.staging import check_destination

    target_project = (project or source.absolute().parent).absolute()
    taken = dry_run and existing == "refuse" and (target_project / "__pypackages__").exists()
    check_destination(target_project, "merge" if taken else existing)  # fail before resolving
    if taken:
        existing = "merge"
        click.echo(
            f"warning: {target_project / '__pypackages__'} already exists: a real run needs "
            "--merge or --replace; showing what --merge would do",
            err=True,
        )
    if kind == "requirements" and not names_requirements(source):
        if not quiet:
            click.echo(f"{source} names no requirements; nothing to install")
        return
    interpreter, _ = choose_python(python)
    show_progress = sys.stderr.isatty() and not (quiet or as_json)
    if show_progress and kind != "pylock":
        click.echo(f"resolving {source} for {interpreter.executable} …", err=True)
    with terminal_progress("installing files", quiet or as_json) as progress:
        outcome = install_file(
            source,
            kind,
            interpreter,
            target_project,
            layout,
            existing,
            index,
            extras=extras,
            groups=groups,
            with_project=with_project,
            compile=compile_,
            dry_run=dry_run,
            show_progress=show_progress,
            progress=progress,
        )
    show_outcome(PROG, outcome, dry_run, as_json, verbose, quiet)


if __name__ == "__main__":
    main()
