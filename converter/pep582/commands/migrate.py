"""The ``pep582-migrate`` command: move what you have into a ``__pypackages__`` layout.

Imports stay lazy: a venv migration never loads the wheel installer, pip plumbing or
the lock-file code, and ``--help`` loads none of them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pep582 import __version__
from pep582.commands.base import command
from pep582.commands.options import (
    COMPILE,
    DRY_RUN_RESOLVING,
    QUIET,
    RESOLVER,
    Output,
    compile_wanted,
    from_params,
    pip_options,
)
from pep582.commands.output import report, terminal_progress
from pep582.errors import exit_codes_help
from pep582.install.indexes import IndexOptions
from pep582.scheme import LAYOUTS, Layout
from pep582.step.startup import DIRNAME

if TYPE_CHECKING:
    from pep582.install.resolver import Resolver
    from pep582.plan.model import Existing

PROG = "pep582-migrate"
EPILOG = (
    "\b\nExamples:\n"
    "  pep582-migrate .venv                    # ./.venv -> ./__pypackages__\n"
    "  pep582-migrate .venv --dry-run          # show the plan, write nothing\n"
    "  pep582-migrate __pypackages__ --layout pep582 --replace   # PDM layout -> PEP layout\n"
    "  pep582-migrate requirements.txt --python 3.12   # resolve (uv or pip) for 3.12\n"
    "  pep582-migrate pyproject.toml --extra dev --group test\n"
    "  pep582-migrate pylock.toml              # install exactly what is locked\n"
    "\n\b\nExit codes:\n" + exit_codes_help(with_command_codes=False)
)


@dataclass(frozen=True)
class MigrateOptions:
    """What ``pep582-migrate`` was asked to do."""

    source: Path
    project: Path | None
    layout: Layout
    existing: Existing | None
    python: str | None
    compile_: bool | None
    # venv and __pypackages__ sources only
    copy: bool
    verify: bool
    include_pip: bool
    include_unowned: bool
    # pyproject.toml only
    extras: tuple[str, ...]
    groups: tuple[str, ...]
    with_project: bool
    resolver: Resolver | None

    def venv_only_flags(self) -> list[str]:
        flags = (
            ("--copy", self.copy),
            ("--no-verify", not self.verify),
            ("--include-pip", self.include_pip),
            ("--include-unowned", self.include_unowned),
        )
        return [flag for flag, on in flags if on]

    def pyproject_only(self) -> bool:
        return bool(self.extras or self.groups or self.with_project)


@command(name=PROG, epilog=EPILOG)
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--project",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Existing directory that gets __pypackages__ (default: the one holding SOURCE).",
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
    is_flag=True,
    help="Add to an existing __pypackages__: new versions replace old ones, same ones stay.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Replace what an existing __pypackages__ holds for this Python version (other "
    "versions stay; what goes is listed). Excludes --merge.",
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
@COMPILE
@click.option(
    "--python",
    "python",
    metavar="PY",
    help="A path, a command or a version such as 3.12. For requirements, pyproject and lock "
    "files: the interpreter to resolve for (default: a python3 outside this toolkit). For a "
    "venv: what console scripts name; it must be the venv's Python version (default: the "
    "venv's base interpreter).",
)
@click.option(
    "--extra", "extras", metavar="NAME", multiple=True, help="pyproject: add this extra."
)
@click.option(
    "--group",
    "groups",
    metavar="NAME",
    multiple=True,
    help="pyproject: add this dependency group (PEP 735).",
)
@click.option(
    "--with-project",
    is_flag=True,
    help="pyproject: install the project itself too (built by pip in place: setuptools "
    "leaves build/ and *.egg-info in it, as `pip install .` does).",
)
@pip_options
@RESOLVER
@DRY_RUN_RESOLVING
@click.option("--json", "as_json", is_flag=True, help="Print the plan or report as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="List every file; tracebacks on errors.")
@QUIET
@click.version_option(__version__, prog_name=PROG)
def main(**params: Any) -> None:
    """Carry SOURCE into a __pypackages__ layout (SOURCE is only read).

    SOURCE is a virtual environment, a __pypackages__ (either layout), a requirements
    file, a pyproject.toml or a PEP 751 lock file (pylock.toml).

    From a venv or a __pypackages__, every installed distribution is carried over: files
    are hard-linked (or copied) and checked against RECORD, console scripts are
    regenerated so that __pypackages__/bin/TOOL runs without any hook, RECORD files are
    rewritten for the new places. Requirements and pyproject files are resolved by uv or
    pip (--resolver) for the target interpreter; a lock file is installed exactly as
    locked, hashes checked.
    Everything is staged beside the target and moved in atomically; SOURCE is only read.
    """
    from pep582.operations.migrate import kind_of

    if params["merge"] and params["replace"]:
        raise click.UsageError("--merge and --replace exclude each other: choose one")
    params["existing"] = "merge" if params["merge"] else "replace" if params["replace"] else None
    options = from_params(MigrateOptions, params)
    index = from_params(IndexOptions, params)
    output = from_params(Output, params)
    kind = kind_of(options.source)
    if kind == "tree":
        if index.given() or options.pyproject_only():
            raise click.UsageError(
                "index and pyproject options apply to requirements, pyproject and lock files only"
            )
        _from_tree(options, output)
        return
    venv_only = options.venv_only_flags()
    if venv_only:
        raise click.UsageError(f"{', '.join(venv_only)} apply to venv sources only")
    if kind != "pyproject" and options.pyproject_only():
        raise click.UsageError("--extra, --group and --with-project apply to pyproject.toml")
    _from_file(options, kind, index, output)


def _from_tree(options: MigrateOptions, output: Output) -> None:
    from pep582.operations.migrate import migrate

    with terminal_progress("carrying files", output.silent) as progress:
        outcome = migrate(
            options.source,
            options.project,
            options.layout,
            options.existing or "refuse",
            python=options.python,
            link=not options.copy,
            verify=options.verify,
            include_pip=options.include_pip,
            include_unowned=options.include_unowned,
            compile=compile_wanted(options.compile_),
            dry_run=output.dry_run,
            progress=progress,
        )
    report(PROG, outcome, output)


def _from_file(options: MigrateOptions, kind: str, index: IndexOptions, output: Output) -> None:
    """Install what a requirements, pyproject or lock file declares."""
    from pep582.interpreter import choose_python
    from pep582.operations.install import install_file
    from pep582.operations.migrate import names_requirements
    from pep582.plan.staging import check_destination

    source = options.source
    existing: Existing = options.existing or "refuse"
    target_project = (options.project or source.absolute().parent).absolute()
    taken = output.dry_run and existing == "refuse" and (target_project / DIRNAME).exists()
    check_destination(target_project, "merge" if taken else existing)  # fail before resolving
    if taken:
        existing = "merge"
        click.echo(
            f"warning: {target_project / DIRNAME} already exists: a real run needs "
            "--merge or --replace; showing what --merge would do",
            err=True,
        )
    if kind == "requirements" and not names_requirements(source):
        if not output.quiet:
            click.echo(f"{source} names no requirements; nothing to install")
        return
    interpreter, _ = choose_python(options.python)
    show_progress = sys.stderr.isatty() and not output.silent
    if show_progress and kind != "pylock":
        click.echo(f"resolving {source} for {interpreter.executable} …", err=True)
    with terminal_progress("installing files", output.silent) as progress:
        outcome = install_file(
            source,
            kind,
            interpreter,
            target_project,
            options.layout,
            existing,
            index,
            extras=options.extras,
            groups=options.groups,
            with_project=options.with_project,
            resolver=options.resolver,
            compile=compile_wanted(options.compile_),
            dry_run=output.dry_run,
            show_progress=show_progress,
            progress=progress,
        )
    report(PROG, outcome, output)


if __name__ == "__main__":
    main()
