"""``pep582 list`` and ``freeze``: read what a ``__pypackages__`` holds."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from pep582.commands.base import command
from pep582.commands.options import JSON, PROJECT, PYTHON_READ, interpreter_for
from pep582.step.startup import DIRNAME


def _listing(project: Path, python_spec: str | None) -> list[dict[str, Any]]:
    from pep582.operations.uninstall import installed

    project = project.absolute()
    command = interpreter_for(python_spec, project).facts.command if python_spec else None
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


def _nothing_in(project: Path, python_spec: str | None) -> str:
    from pep582.operations.step import what_it_holds

    pypackages = project.absolute() / DIRNAME
    if not pypackages.exists():
        return f"{pypackages} does not exist: nothing is installed here yet"
    if python_spec:
        python = interpreter_for(python_spec, project).facts.command
        return f"{pypackages} holds no site directory for {python}" + what_it_holds(pypackages)
    return f"{pypackages} holds no site directory" + what_it_holds(pypackages)


@command(
    name="list",
    epilog="\b\nExamples:\n  pep582 list\n  pep582 list --python 3.12 --json",
)
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
        click.echo(_nothing_in(project, python_spec))
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


@command(epilog="Example: pep582 freeze --python 3.12 > requirements.lock.txt")
@PROJECT
@PYTHON_READ
def freeze(project: Path, python_spec: str | None) -> None:
    """Pins of what ./__pypackages__ holds, in pip's requirements format (one Python:
    --python, or the only one; with several, each gets a comment header)."""
    listing = [t for t in _listing(project, python_spec) if t["layout"] == "pep582"]
    if not listing:
        click.echo(f"pep582 freeze: {_nothing_in(project, python_spec)}", err=True)
    for tree in listing:
        if len(listing) > 1:
            click.echo(f"# Python {tree['python']}")
        for row in tree["distributions"]:
            if row["direct_url"] and row["editable"]:
                from pep582.install.editable import freeze_line

                click.echo(freeze_line(row["name"], row["direct_url"]))
            elif row["direct_url"]:
                click.echo(f"{row['name']} @ {row['direct_url']}")
            else:
                click.echo(f"{row['name']}=={row['version']}")
