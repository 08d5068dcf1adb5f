"""``pep582 install`` and ``pep582 uninstall``: parse, call one operation, render."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from pep582.commands.base import command
from pep582.commands.options import (
    COMPILE,
    DRY_RUN,
    DRY_RUN_RESOLVING,
    JSON,
    PROJECT,
    PYTHON,
    QUIET,
    RESOLVER,
    VERBOSE,
    Output,
    compile_wanted,
    from_params,
    interpreter_for,
    pip_options,
)
from pep582.commands.output import report, terminal_progress
from pep582.install.indexes import IndexOptions


@command(
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
@click.option(
    "--reinstall",
    is_flag=True,
    help="Write the named distributions afresh even when the same version is present "
    "(repairs files pep582 audit reports changed).",
)
@COMPILE
@RESOLVER
@pip_options
@PROJECT
@PYTHON
@DRY_RUN_RESOLVING
@JSON
@VERBOSE
@QUIET
def install(**params: Any) -> None:
    """Install REQUIREMENTS (names, paths, URLs; -r FILEs; -e projects) into
    ./__pypackages__ (with none: what ./pyproject.toml's lock, or else its
    dependencies, declare), resolved against what is there: installed versions stay
    unless --upgrade names them; an older version is replaced ("upgraded X 1.0 → 2.0");
    files of other distributions still conflict."""
    from pep582.operations.install import Wanted, install_file, install_requirements

    output = from_params(Output, params)
    index = from_params(IndexOptions, params)
    wanted = Wanted(
        requirements=list(params["requirements"]),
        editables=list(params["editables"]),
        files=[Path(f) for f in params["files"]],
        constraints=[Path(c) for c in params["constraints"]],
        upgrade=params["upgrade"],
        reinstall=params["reinstall"],
    )
    project: Path = params["project"].absolute()
    pyproject = project / "pyproject.toml"
    everything = wanted.requirements or wanted.files or wanted.editables
    if not everything and not pyproject.is_file():
        raise click.UsageError(
            "name at least one requirement, -r FILE or -e PATH (or run it where a "
            "pyproject.toml is: its lock or dependencies are installed)"
        )
    interpreter = interpreter_for(params["python_spec"], project)
    talk = sys.stderr.isatty() and not output.silent
    if talk:
        click.echo(f"resolving for {interpreter.executable} …", err=True)
    compile_ = compile_wanted(params["compile_"])
    with terminal_progress("installing files", output.silent) as progress:
        if not everything:  # the project's own needs
            outcome = install_file(
                pyproject, "pyproject", interpreter, project, "pep582", "merge", index,
                resolver=params["resolver"], compile=compile_, dry_run=output.dry_run,
                show_progress=talk, progress=progress,
            )  # fmt: skip
        else:
            outcome = install_requirements(
                wanted, interpreter, project, index, resolver=params["resolver"],
                compile=compile_, dry_run=output.dry_run, show_progress=talk,
                progress=progress,
            )  # fmt: skip
    report("pep582", outcome, output)


@command(epilog="Example: pep582 uninstall requests --python 3.12")
@click.argument("names", nargs=-1, required=True)
@PROJECT
@PYTHON
@DRY_RUN
@JSON
@VERBOSE
@QUIET
def uninstall(**params: Any) -> None:
    """Remove NAMES from ./__pypackages__: the files their RECORD lists (a file changed
    since, e.g. another version's script, is left and named), for one Python (--python)
    or every Python the tree holds. Says what still requires them."""
    from pep582.operations.uninstall import installed
    from pep582.operations.uninstall import uninstall as run_uninstall

    output = from_params(Output, params)
    project: Path = params["project"].absolute()
    if params["python_spec"]:
        versions = [interpreter_for(params["python_spec"], project).facts]
    else:
        versions = [s.facts for s in installed(project) if s.layout == "pep582"]
    outcome = run_uninstall(list(params["names"]), project, "pep582", versions,
                            dry_run=output.dry_run)  # fmt: skip
    report("pep582", outcome, output)
