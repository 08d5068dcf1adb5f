"""``pep582 ide``: point VS Code, pyright and mypy at ``__pypackages__``."""

from __future__ import annotations

from pathlib import Path

import click

from pep582.commands.base import command
from pep582.commands.options import PROJECT, python_help


@command(
    epilog="\b\nExamples:\n"
    "  pep582 ide                  # all three, for the newest Python in __pypackages__\n"
    "  pep582 ide --mypy --python 3.12\n\n"
    "Files are edited in place (comments, order and other settings kept), through the "
    "project directory opened once: a link swapped in meanwhile is refused, never followed.",
)
@click.option(
    "--vscode",
    is_flag=True,
    help=".vscode/settings.json: Pylance's extraPaths, the tree's Python as "
    "python.defaultInterpreterPath, __pypackages__ left out of file watching, search and "
    "pytest discovery.",
)
@click.option(
    "--pyright",
    is_flag=True,
    help="pyrightconfig.json: extraPaths (site directories and editable sources such as src/).",
)
@click.option(
    "--mypy",
    "mypy_",
    is_flag=True,
    help="python_executable in mypy's settings (mypy.ini, .mypy.ini, pyproject.toml or "
    "setup.cfg): a launcher in __pypackages__/bin that gives mypy the tree as installed "
    "packages: their types used, their errors not reported.",
)
@PROJECT
@click.option("--python", "python_spec", metavar="PY", help=python_help("point editors at"))
def ide(vscode: bool, pyright: bool, mypy_: bool, project: Path, python_spec: str | None) -> None:
    """Point editors and type checkers at the project's __pypackages__ (default: all
    three tools), merged with the settings already there."""
    from pep582.operations import ide as editors

    tools = [t for t, on in (("vscode", vscode), ("pyright", pyright), ("mypy", mypy_)) if on]
    setup = editors.prepare(project, python_spec)
    python = f" ({setup.python.executable})" if setup.python is not None else ""
    click.echo(
        f"pointing editors at Python {setup.tree.facts.version_tag}'s site directory{python}"
    )
    for note in setup.notes:
        click.echo(f"  note: {note}")
    for written, happened in editors.configure(setup, tools or list(editors.TOOLS)):
        click.echo(f"{happened} {written}")
