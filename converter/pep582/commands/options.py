"""Options several commands share, declared once, and the dataclasses they fill.

A command takes its parsed parameters as ``**params`` and builds the dataclasses it needs
with :func:`from_params`, so handlers pass one typed object instead of a dozen
positional flags.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from pep582.step.startup import DIRNAME

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def python_help(verb: str) -> str:
    return (
        f"The Python whose site directory to {verb}: a path, a command or a version such as "
        "3.12 (default: one matching a site directory already in __pypackages__, else the "
        "first python3 on PATH)."
    )


STEP_PYTHON_HELP = (
    "The interpreter to run or ask: a path, a command, or a version such as 3.12. Default: "
    "one whose version has a site directory in the __pypackages__ that applies, else the "
    "first python3 on PATH; never the toolkit's own environment."
)

PROJECT = click.option(
    "--project",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=".",
    show_default=True,
    help="The (existing) directory holding __pypackages__.",
)
PYTHON = click.option("--python", "python_spec", metavar="PY", help=python_help("change"))
PYTHON_READ = click.option("--python", "python_spec", metavar="PY", help=python_help("read"))
STEP_PYTHON = click.option("--python", "python_spec", metavar="PY", help=STEP_PYTHON_HELP)
JSON = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object; errors too (on stderr)."
)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
DRY_RUN_RESOLVING = click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan; change nothing. (Resolving may build a source distribution to "
    "read its metadata, as pip does.)",
)
VERBOSE = click.option(
    "-v", "--verbose", is_flag=True, help="More detail: every file; tracebacks on errors."
)
QUIET = click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
COMPILE = click.option(
    "--compile/--no-compile",
    "compile_",
    default=None,
    help="Byte-compile what is written (listed in RECORD). Default: only when "
    "PYTHONDONTWRITEBYTECODE is set, since Python then never writes byte code itself and "
    "would compile every module again at every start; otherwise Python writes it at the "
    "first import.",
)


def compile_wanted(value: bool | None) -> bool:
    """``--compile``/``--no-compile``, or the default :data:`COMPILE` describes."""
    return bool(os.environ.get("PYTHONDONTWRITEBYTECODE")) if value is None else value


PIP_OPTIONS = (
    click.option(
        "--index-url", metavar="URL", help="The package index (pip's and uv's --index-url)."
    ),
    click.option(
        "--extra-index-url",
        metavar="URL",
        multiple=True,
        help="Another package index (repeatable; pip's and uv's --extra-index-url).",
    ),
    click.option(
        "--find-links",
        metavar="PATH",
        multiple=True,
        help="A directory or page of archives (repeatable; pip's and uv's --find-links).",
    ),
    click.option(
        "--no-index", is_flag=True, help="Use --find-links only (pip's and uv's --no-index)."
    ),
    click.option("--pre", is_flag=True, help="pip's --pre: allow pre-release versions."),
    click.option(
        "--only-binary",
        metavar="SPEC",
        multiple=True,
        help="pip's --only-binary: :all:, :none: or names that must come as wheels.",
    ),
)


def pip_options(command: F) -> F:
    """The index options a command passes through (``index_url``,
    ``extra_index_url``, ``find_links``, ``no_index``, ``pre``, ``only_binary``)."""
    for option in reversed(PIP_OPTIONS):
        command = option(command)
    return command


def from_params(cls: type[T], params: Mapping[str, Any]) -> T:
    """A dataclass ``cls`` filled from a command's parsed parameters (by field name)."""
    assert dataclasses.is_dataclass(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{key: value for key, value in params.items() if key in names})


@dataclass(frozen=True)
class Output:
    """How a command that changes a tree reports: a dry run, JSON, more, or less."""

    dry_run: bool = False
    as_json: bool = False
    verbose: bool = False
    quiet: bool = False

    @property
    def silent(self) -> bool:
        """No progress lines: nothing but the result (or nothing at all)."""
        return self.quiet or self.as_json


def interpreter_for(python_spec: str | None, project: Path) -> Any:
    from pep582.interpreter import choose_python

    return choose_python(python_spec, project.absolute() / DIRNAME)[0]


RESOLVER = click.option(
    "--resolver",
    type=click.Choice(["pip", "uv"]),
    envvar="PEP582_RESOLVER",
    help="Who resolves: uv (the default when installed and pip has no index settings of "
    "its own) or pip, for requirements and pyproject files. Wheels are fetched through "
    "pip either way. [env: PEP582_RESOLVER]",
)
