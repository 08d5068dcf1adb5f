"""The ``pep582`` command: enable, disable, inspect and run the PEP 582 startup step."""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from pep582 import __version__
from pep582.commands.output import errors_reported
from pep582.errors import exit_codes_help
from pep582.step import startup

if TYPE_CHECKING:
    from pathlib import Path

    from pep582.interpreter import Interpreter

STEP_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "step")
LAUNCH = os.path.join(STEP_DIR, "launch.py")
BOOTSTRAP = os.path.join(STEP_DIR, "_bootstrap")
NOTHING_APPLIES = 9
PYTHON_HELP = (
    "Target interpreter: a path, a command, or a version such as 3.12. Default: one whose "
    "version has a site directory in the __pypackages__ that applies, else the first "
    "python3 on PATH; never the toolkit's own environment."
)


# Commands defined in other modules, imported only when used (``--help`` stays fast):
# name → (module, attribute, one-line summary for the command list).
LAZY = {
    "audit": ("pep582.commands.audit", "audit", "Find what a __pypackages__ makes possible."),
    "install": (
        "pep582.commands.install",
        "install",
        "Add or upgrade distributions (resolved by pip).",
    ),
    "uninstall": ("pep582.commands.install", "uninstall", "Remove distributions (RECORD-driven)."),
    "list": ("pep582.commands.inspect", "list_", "What __pypackages__ holds."),
    "freeze": (
        "pep582.commands.inspect",
        "freeze",
        "Pins of what __pypackages__ holds (pip format).",
    ),
    "ide": (
        "pep582.commands.inspect",
        "ide",
        "Point editors and type checkers at __pypackages__.",
    ),
}


class Group(click.Group):
    """The ``pep582`` command group: one-line errors, and commands loaded on use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*self.commands, *LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY and name not in self.commands:
            module, attribute, _ = LAZY[name]
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit=60)))
            else:
                rows.append((name, LAZY[name][2]))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        argv = sys.argv[1:]
        with errors_reported("pep582", "--json" in argv, "-v" in argv or "--verbose" in argv):
            return super().invoke(ctx)


@click.group(
    cls=Group,
    epilog="Exit codes:\n\n\b\n" + exit_codes_help(),
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
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
    pep582 audit               what ./__pypackages__ makes possible, before it bites
    """


def _pypackages_for(argv0: str) -> Path:
    """The ``__pypackages__`` an invocation would look at (for choosing an interpreter)."""
    from pathlib import Path

    inherited = startup.inherited()
    if inherited:
        return Path(inherited)
    where, _ = startup.locate(argv0)
    return Path(where) if where else Path.cwd() / startup.DIRNAME


def _describe(python: Interpreter, argv0: str) -> dict[str, Any]:
    from pep582.interpreter import describe_step

    return describe_step(python.executable, argv0)


def _verdict(decision: dict[str, Any]) -> str:
    if decision["disabled"]:
        return f"nothing applies: {decision['disabled']}"
    if decision["pypackages"] is None:
        return "nothing applies: the program is a zip archive"
    if not decision["exists"]:
        return "not present"
    if decision["refused"]:
        return f"refused: {decision['refused']}"
    if not decision["present"]:
        from pathlib import Path

        return "present, but holds no site directory for this interpreter" + _what_it_holds(
            Path(decision["pypackages"])
        )
    return "would activate: " + os.pathsep.join(decision["activate"])


def _what_it_holds(pypackages: Path) -> str:
    """What a ``__pypackages__`` holds instead, and what to do about it."""
    from pep582.interpreter import versions_in

    versions = [command for command, _ in versions_in(pypackages)]
    if versions:
        return f" (it holds {', '.join(versions)}: name one with --python)"
    if any(p.parent.name[:1].isdigit() for p in pypackages.glob("*/lib") if p.is_dir()):
        return (
            " (it is in the draft X.Y/lib layout PDM uses: convert it with "
            "`pep582-migrate __pypackages__ --layout pep582 --replace`)"
        )
    return ""


def _print_decision(python: Interpreter, why: str, decision: dict[str, Any]) -> None:
    click.echo(f"interpreter: {python.executable} ({python.facts.describe()}; {why})")
    origin = decision["origin"]
    if decision["script"]:
        origin = f"script {decision['script']}"
    click.echo(f"__pypackages__: {decision['pypackages']}  ({origin})")
    for key, value in decision["scheme"].items():
        mark = " [present]" if value in decision["present"] else ""
        click.echo(f"  {key:<8} {value}{mark}")
    click.echo(f"  result   {_verdict(decision)}")


@main.command(
    short_help="Install the startup hook into an interpreter.",
    epilog="Example: pep582 enable --python 3.12",
)
@click.option("--python", "python_spec", metavar="PY", help=PYTHON_HELP)
@click.option("--user", is_flag=True, help="Install into the user site directory instead.")
def enable(python_spec: str | None, user: bool) -> None:
    """Install the startup hook into an interpreter's site-packages (or user site).

    Writes _pep582_step.py (the step), _pep582_hook.py (its cheap first half, imported at
    every start), their byte-compiled .pyc files and a one-line _pep582_hook.pth.
    Running it again changes nothing; an older hook is upgraded in place.
    """
    from pep582.interpreter import choose_python
    from pep582.step import hook

    python, why = choose_python(python_spec)
    state, changed = hook.enable(python, user=user)
    verb = "enabled" if changed else "already enabled"
    click.echo(f"pep582 hook {verb} (version {state.version}) for {python.executable} ({why})")
    for path in state.files():
        click.echo(f"  {path}")


@main.command(
    short_help="Remove the files `pep582 enable` wrote.",
    epilog="Example: pep582 disable --python .venv/bin/python",
)
@click.option("--python", "python_spec", metavar="PY", help=PYTHON_HELP)
@click.option("--user", is_flag=True, help="Remove it from the user site directory instead.")
def disable(python_spec: str | None, user: bool) -> None:
    """Remove exactly the files `pep582 enable` wrote."""
    from pep582.interpreter import choose_python
    from pep582.step import hook

    python, _ = choose_python(python_spec)
    state = hook.disable(python, user=user)
    if not state.files():
        click.echo(f"pep582 hook was not installed in {state.site_dir}")
        return
    click.echo(f"pep582 hook removed from {state.site_dir}")
    for path in state.files():
        click.echo(f"  removed {path}")


@main.command(
    short_help="Is the hook installed; what applies from here?",
    epilog="Example: pep582 status --python 3.11",
)
@click.option("--python", "python_spec", metavar="PY", help=PYTHON_HELP)
def status(python_spec: str | None) -> None:
    """Say whether an interpreter has the hook, and what the step does from here."""
    from pep582.interpreter import choose_python
    from pep582.step import hook

    python, why = choose_python(python_spec, _pypackages_for(""))
    states = [s for s in hook.installed_states(python) if s.module or s.pth]
    if not states:
        click.echo("hook: not installed (`pep582 enable`; `pep582 run` works without it)")
    for state in states:
        freshness = (
            "current" if state.current else f"differs from this toolkit's {startup.HOOK_VERSION}"
        )
        if not state.installed:
            freshness = "incomplete: " + ", ".join(str(p) for p in state.files())
        click.echo(f"hook: version {state.version} in {state.site_dir} ({freshness})")
        if state.module and not state.bytecode:
            click.echo("  warning: no .pyc; each start compiles it (run `pep582 enable` again)")
    _print_decision(python, why, _describe(python, ""))


@main.command(
    short_help="Which __pypackages__ applies, and why.",
    epilog="Example: pep582 where tools/report.py\n\nExits 0 when something would be "
    f"activated, {NOTHING_APPLIES} when nothing would.",
)
@click.argument("script", required=False)
@click.option("--python", "python_spec", metavar="PY", help=PYTHON_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
def where(script: str | None, python_spec: str | None, as_json: bool) -> None:
    """Show which __pypackages__ applies to SCRIPT (or to -c/-m/REPL here), and why."""
    import json

    from pep582.interpreter import choose_python

    if script and not os.path.exists(script):
        click.echo(
            f"pep582 where: note: {script} does not exist; answering for it anyway", err=True
        )
    python, why = choose_python(python_spec, _pypackages_for(script or ""))
    decision = _describe(python, script or "")
    if as_json:
        decision["interpreter"] = {"executable": str(python.executable), "why": why}
        click.echo(json.dumps(decision, indent=2))
    else:
        _print_decision(python, why, decision)
    sys.exit(0 if decision["activate"] else NOTHING_APPLIES)


def _serves(pypackages: Path, python: Interpreter) -> bool:
    """Whether ``pypackages`` has a site directory for ``python`` (the step's layout)."""
    from pep582.scheme import scheme_for

    scheme = scheme_for(pypackages.parent, python.facts, "pep582")
    return os.path.isdir(scheme.purelib) or os.path.isdir(scheme.platlib)


def run_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a ``pep582 run``: the bootstrap first on ``PYTHONPATH``."""
    env = dict(os.environ if environ is None else environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([os.fspath(BOOTSTRAP), *paths])
    return env


@main.command(
    short_help="Run a script, -m module or -c code under the rules.",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog="Examples: pep582 run app.py --verbose; pep582 run -m pytest; pep582 run -c 'import x'",
)
@click.option("--python", "python_spec", metavar="PY", help=PYTHON_HELP)
@click.argument("program", nargs=-1, type=click.UNPROCESSED, required=True)
def run(python_spec: str | None, program: tuple[str, ...]) -> None:
    """Run SCRIPT [ARGS], -m MODULE [ARGS] or -c CODE [ARGS] under the PEP's rules.

    Nothing is installed. The interpreter starts as usual, with a bootstrap on PYTHONPATH
    that performs the step at startup, as the hook would, and sets PYTHONPYPACKAGES so
    that Python processes the program starts (sys.executable, python -m ...) use the same
    __pypackages__ from any directory. The program's exit code becomes ours.
    """
    import subprocess

    from pep582.interpreter import choose_python

    if program[0].startswith("-") and program[0] not in ("-c", "-m"):
        raise click.UsageError(f"expected SCRIPT, -m MODULE or -c CODE, not {program[0]!r}")
    pypackages = _pypackages_for(program[0] if program[0] not in ("-c", "-m") else "")
    python, _ = choose_python(python_spec, pypackages)
    if pypackages.is_dir() and not _serves(pypackages, python):
        click.echo(
            f"pep582 run: warning: {pypackages} holds nothing for {python.facts.describe()}"
            + _what_it_holds(pypackages),
            err=True,
        )
    command = [os.fspath(python.executable), *program]
    env = run_environment()
    if os.name == "posix":
        sys.stdout.flush()
        os.execve(command[0], command, env)
    sys.exit(subprocess.call(command, env=env))


if __name__ == "__main__":
    main()
