"""Living with a ``__pypackages__``: ``pep582 install``, ``uninstall``, ``list``, ``freeze``,
``ide``. Each change goes through the same plan, lock, stage and swap as a migration."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from pep582.commands.output import pip_options, show_outcome, terminal_progress
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


def _interpreter(python_spec: str | None, project: Path) -> Any:
    from pep582.interpreter import choose_python

    return choose_python(python_spec, project.absolute() / DIRNAME)[0]


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
    from pep582.operations.core import install as run_install
    from pep582.operations.core import installed
    from pep582.sources.reader import canonical

    if not requirements and not files:
        raise click.UsageError("name at least one requirement or -r FILE")
    project = project.absolute()
    interpreter = _interpreter(python_spec, project)
    existing = {
        dist.key: dist
        for source in installed(project)
        if source.layout == "pep582" and source.facts.command == interpreter.facts.command
        for dist in source.distributions
    }
    named = {canonical(_name_of(r)) for r in requirements}
    unpinned = set(named)
    if upgrade:
        pending = list(named)
        while pending:
            dist = existing.get(pending.pop())
            for key in dist.requires if dist is not None else []:
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
    from pep582.operations.core import installed
    from pep582.operations.core import uninstall as run_uninstall

    project = project.absolute()
    if python_spec:
        versions = [_interpreter(python_spec, project).facts]
    else:
        versions = [s.facts for s in installed(project) if s.layout == "pep582"]
    outcome = run_uninstall(list(names), project, "pep582", versions, dry_run=dry_run)
    show_outcome("pep582", outcome, dry_run, as_json, verbose, quiet)


def _listing(project: Path, python_spec: str | None) -> list[dict[str, Any]]:
    from pep582.operations.core import installed

    project = project.absolute()
    command = _interpreter(python_spec, project).facts.command if python_spec else None
    found = []
    for source in installed(project):
        if command and source.facts.command != command:
            continue
        found.append(
            {
                "python": source.facts.version_tag,
                "command": source.facts.command,
                "layout": source.layout,
                "site_dirs": [str(d) for d in source.site_dirs],
                "distributions": [
                    {
                        "name": d.name,
                        "version": d.version,
                        "installer": d.installer,
                        "requested": d.requested,
                        "editable": d.editable,
                        "direct_url": (d.direct_url or {}).get("url"),
                        "scripts": [  # those written: a refused name is not there
                            ep.name
                            for ep in d.entry_points
                            if os.path.lexists(os.path.join(source.scripts, ep.name))
                        ],
                    }
                    for d in sorted(source.distributions, key=lambda d: d.key)
                ],
            }
        )
    return found


def _nothing_in(project: Path) -> str:
    pypackages = project.absolute() / DIRNAME
    if not pypackages.exists():
        return f"{pypackages} does not exist: nothing is installed here yet"
    return f"{pypackages} holds no site directory (for this Python)"


@click.command(name="list", epilog="Example: pep582 list --json")
@PROJECT
@PYTHON_READ
@JSON
def list_(project: Path, python_spec: str | None, as_json: bool) -> None:
    """What ./__pypackages__ holds, per Python version: name, version, installer, whether
    it was requested."""
    listing = _listing(project, python_spec)
    if as_json:
        data = {"schema": 1, "pypackages": str(project.absolute() / DIRNAME), "trees": listing}
        click.echo(json.dumps(data, indent=2))
        return
    if not listing:
        click.echo(_nothing_in(project))
        return
    for tree in listing:
        click.echo(f"Python {tree['python']} ({tree['layout']} layout): {tree['site_dirs'][0]}")
        rows = tree["distributions"]
        width = max((len(r["name"]) for r in rows), default=4)
        version_width = max((len(r["version"]) for r in rows), default=7)
        for row in rows:
            flags = ", ".join(
                f
                for f, on in (("requested", row["requested"]), ("editable", row["editable"]))
                if on
            )
            click.echo(
                f"  {row['name']:<{width}}  {row['version']:<{version_width}}  "
                f"{row['installer'] or '-':<16}"
                f" {flags}".rstrip()
            )


@click.command(
    epilog="Example: pep582 freeze --python 3.12 > requirements.lock.txt",
)
@PROJECT
@PYTHON_READ
def freeze(project: Path, python_spec: str | None) -> None:
    """Pins of what ./__pypackages__ holds, in pip's requirements format (one Python:
    --python, or the only one; with several, each gets a comment header)."""
    listing = [t for t in _listing(project, python_spec) if t["layout"] == "pep582"]
    if not listing:
        click.echo(f"pep582 freeze: {_nothing_in(project)}", err=True)
    for tree in listing:
        if len(listing) > 1:
            click.echo(f"# Python {tree['python']}")
        for row in tree["distributions"]:
            if row["direct_url"]:
                click.echo(f"{row['name']} @ {row['direct_url']}")
            else:
                click.echo(f"{row['name']}=={row['version']}")


@click.command(
    epilog="Example: pep582 ide --vscode --mypy",
)
@click.option("--vscode", is_flag=True, help=".vscode/settings.json (Pylance extraPaths).")
@click.option("--pyright", is_flag=True, help="pyrightconfig.json extraPaths.")
@click.option(
    "--mypy",
    "mypy_",
    is_flag=True,
    help="mypy_path, errors inside __pypackages__ silenced (mypy.ini or pyproject.toml).",
)
@PROJECT
@click.option("--python", "python_spec", metavar="PY", help=python_help("point editors at"))
def ide(vscode: bool, pyright: bool, mypy_: bool, project: Path, python_spec: str | None) -> None:
    """Write the project's site directories into editor and type-checker settings,
    merged with what is there (default: all three)."""
    from pep582.errors import SourceError
    from pep582.operations import ide as editors

    tools = [t for t, on in (("vscode", vscode), ("pyright", pyright), ("mypy", mypy_)) if on]
    tools = tools or list(editors.TOOLS)
    listing = [t for t in _listing(project, python_spec) if t["layout"] == "pep582"]
    if not listing:
        raise SourceError(
            f"{project.absolute() / DIRNAME} holds no site directory yet: install something "
            "first (pep582 install NAME, or pep582-migrate .venv)"
        )

    def version(tree: dict[str, Any]) -> tuple[int, ...]:
        return tuple(int(part.rstrip("t")) for part in tree["python"].split("."))

    chosen = max(listing, key=version)  # the newest, as everywhere an interpreter is chosen
    site_dirs = [Path(d) for d in chosen["site_dirs"]]
    others = ", ".join(t["python"] for t in listing if t is not chosen)
    click.echo(
        f"Python {chosen['python']}'s site directory"
        + (f" (also present: {others}; pick one with --python)" if others else "")
    )
    for written, changed in editors.configure(project.absolute(), tools, site_dirs):
        click.echo(f"{'updated' if changed else 'unchanged'} {written}")
