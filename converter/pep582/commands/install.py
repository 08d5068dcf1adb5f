"""``pep582 install`` and ``pep582 uninstall``: change a ``__pypackages__`` through the same
plan, lock, stage and swap as a migration."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from pep582.install.resolver import Resolver


RESOLVER = click.option(
    "--resolver",
    type=click.Choice(["pip", "uv"]),
    envvar="PEP582_RESOLVER",
    help="Who resolves: uv (the default when installed and pip has no index settings of "
    "its own) or pip. Wheels are fetched through pip either way. [env: PEP582_RESOLVER]",
)


@click.command(
    epilog="\b\nExamples:\n"
    "  pep582 install requests 'rich>=13'\n"
    "  pep582 install -r requirements.txt --python 3.12\n"
    "  pep582 install --upgrade requests\n"
    "  pep582 install -e .                 # the project itself, editable\n"
    "  pep582 install ./dist/app-1.0-py3-none-any.whl\n"
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
@click.option(
    "-e",
    "--editable",
    "editables",
    multiple=True,
    metavar="PATH|VCS",
    help="Install a project editable (PEP 660, built by pip): a directory, or a VCS URL "
    "whose checkout goes to __pypackages__/src.",
)
@click.option("-U", "--upgrade", is_flag=True, help="Upgrade the named distributions.")
@click.option("--compile", "compile_", is_flag=True, help="Byte-compile what is installed.")
@RESOLVER
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
    editables: tuple[str, ...],
    upgrade: bool,
    compile_: bool,
    resolver: Resolver | None,
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
    """Install REQUIREMENTS (names, paths, URLs; -r FILEs; -e projects) into
    ./__pypackages__ (with none: what ./pyproject.toml's lock, or else its
    dependencies, declare), resolved against what is there: installed versions stay unless
    --upgrade names them; an older version is replaced ("upgraded X 1.0 → 2.0"); files of
    other distributions still conflict."""
    from pep582.install.resolver import IndexOptions
    from pep582.operations.install import Wanted, install_file, install_requirements

    project = project.absolute()
    pyproject = project / "pyproject.toml"
    if not requirements and not files and not editables and not pyproject.is_file():
        raise click.UsageError(
            "name at least one requirement, -r FILE or -e PATH (or run it where a "
            "pyproject.toml is: its lock or dependencies are installed)"
        )
    interpreter = interpreter_for(python_spec, project)
    wanted = Wanted(
        requirements=list(requirements),
        editables=list(editables),
        files=[Path(f) for f in files],
        constraints=[Path(c) for c in constraints],
        upgrade=upgrade,
    )
    index = IndexOptions(index_url, extra_index_url, find_links, no_index, pre, only_binary)
    talk = sys.stderr.isatty() and not (quiet or as_json)
    if talk:
        click.echo(f"resolving for {interpreter.executable} …", err=True)
    with terminal_progress("installing files", quiet or as_json) as progress:
        if not requirements and not files and not editables:  # the project's own needs
            outcome = install_file(
                pyproject, "pyproject", interpreter, project, "pep582", "merge", index,
                resolver=resolver, compile=compile_, dry_run=dry_run,
                show_progress=talk, progress=progress,
            )  # fmt: skip
            show_outcome("pep582", outcome, dry_run, as_json, verbose, quiet)
            return
        outcome = install_requirements(
            wanted,
            interpreter,
            project,
            index,
            resolver=resolver,
            compile=compile_,
            dry_run=dry_run,
            show_progress=talk,
            progress=progress,
        )
    show_outcome("pep582", outcome, dry_run, as_json, verbose, quiet)


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
