"""Options several commands share, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pep582.step.startup import DIRNAME


def python_help(verb: str) -> str:
    return (
        f"The Python whose site directory to {verb}: a path, a command or a version such as "
        "3.12 (default: one matching a site directory already in __pypackages__, else the "
        "first python3 on PATH)."
    )


PROJECT = click.option(
    "--project",
    type=click.Path(path_type=Path, file_okay=False),
    default=".",
    show_default=True,
    help="The directory holding __pypackages__.",
)
PYTHON = click.option("--python", "python_spec", metavar="PY", help=python_help("change"))
PYTHON_READ = click.option("--python", "python_spec", metavar="PY", help=python_help("read"))
JSON = click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
DRY_RUN = click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
DRY_RUN_RESOLVING = click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan; change nothing. (Resolving may build a source distribution to "
    "read its metadata, as pip does.)",
)
VERBOSE = click.option("-v", "--verbose", is_flag=True, help="More detail; tracebacks.")
QUIET = click.option("-q", "--quiet", is_flag=True, help="Print errors only.")


def interpreter_for(python_spec: str | None, project: Path) -> Any:
    from pep582.interpreter import choose_python

    return choose_python(python_spec, project.absolute() / DIRNAME)[0]
