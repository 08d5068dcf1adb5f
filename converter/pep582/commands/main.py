"""The ``pep582`` command group: every command is imported only when it runs (``--help``
stays fast), parses its own options, calls one operation and renders the result."""

from __future__ import annotations

import click

from pep582 import __version__
from pep582.commands.base import CONTEXT, Group
from pep582.errors import exit_codes_help

# name → (module, attribute, one-line summary for the command list)
COMMANDS = {
    "run": (
        "pep582.commands.run",
        "run",
        "Run a script, -m module, -c code or console script under the rules.",
    ),
    "where": ("pep582.commands.run", "where", "Which __pypackages__ applies, and why."),
    "enable": ("pep582.commands.hook", "enable", "Install the startup hook into an interpreter."),
    "disable": ("pep582.commands.hook", "disable", "Remove the files `pep582 enable` wrote."),
    "status": ("pep582.commands.hook", "status", "Is the hook installed; what applies from here?"),
    "install": (
        "pep582.commands.install",
        "install",
        "Add or upgrade distributions (resolved by uv or pip).",
    ),
    "uninstall": ("pep582.commands.install", "uninstall", "Remove distributions (RECORD-driven)."),
    "list": ("pep582.commands.inspect", "list_", "What __pypackages__ holds."),
    "freeze": (
        "pep582.commands.inspect",
        "freeze",
        "Pins of what __pypackages__ holds (pip format).",
    ),
    "ide": ("pep582.commands.ide", "ide", "Point editors and type checkers at __pypackages__."),
    "audit": ("pep582.commands.audit", "audit", "Find what a __pypackages__ makes possible."),
}


@click.group(
    name="pep582",
    cls=Group,
    lazy=COMMANDS,
    epilog="Exit codes:\n\n\b\n" + exit_codes_help(),
    context_settings=CONTEXT,
)
@click.version_option(__version__, prog_name="pep582")
def main() -> None:
    """PEP 582 local packages: put ./__pypackages__ on sys.path, by the PEP's rules.

    \b
    pep582 run app.py          run one program with its __pypackages__ (nothing installed)
    pep582 enable              make an interpreter do the step at every start
    pep582 where app.py        show which __pypackages__ applies and why
    pep582 install requests    add (or upgrade) distributions in ./__pypackages__
    pep582 list / freeze       what ./__pypackages__ holds
    pep582 ide                 point VS Code, pyright and mypy at ./__pypackages__
    pep582 audit               what ./__pypackages__ makes possible, before it bites
    """


if __name__ == "__main__":
    main()
