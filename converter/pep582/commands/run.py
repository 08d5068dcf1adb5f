"""``pep582 run`` and ``pep582 where``: the step for one process, without enabling it."""

from __future__ import annotations

import click

from pep582.commands.base import command
from pep582.commands.options import JSON, STEP_PYTHON

NOTHING_APPLIES = 9


def print_decision(python: object, why: str, decision: dict[str, object]) -> None:
    """The step's decision, one fact a line (``where`` and ``status``)."""
    from pep582.interpreter import Interpreter
    from pep582.operations.step import verdict

    assert isinstance(python, Interpreter)
    click.echo(f"interpreter: {python.executable} ({python.facts.describe()}; {why})")
    origin = decision["origin"]
    if decision["script"]:
        origin = f"script {decision['script']}"
    click.echo(f"__pypackages__: {decision['pypackages'] or 'none located'}  ({origin})")
    scheme = decision["scheme"]
    present = decision["present"]
    assert isinstance(scheme, dict) and isinstance(present, list)
    for key, value in scheme.items():
        mark = " [present]" if value in present else ""
        click.echo(f"  {key:<8} {value}{mark}")
    click.echo(f"  result   {verdict(decision)}")


@command(
    short_help="Which __pypackages__ applies, and why.",
    epilog="\b\nExamples:\n"
    "  pep582 where                 # for -c, -m and the prompt here\n"
    "  pep582 where tools/report.py --json\n\n"
    f"Exits 0 when something would be activated, {NOTHING_APPLIES} when nothing would.",
)
@click.argument("script", required=False)
@STEP_PYTHON
@JSON
def where(script: str | None, python_spec: str | None, as_json: bool) -> None:
    """Show which __pypackages__ applies to SCRIPT (or to -c/-m/REPL here), and why.

    Says so when none applies here but a parent directory holds one (it does not apply:
    the rule is one directory, never a parent walk); the JSON key parent_pypackages
    names it.
    """
    import json
    import sys

    from pep582.operations.step import where as decide

    found = decide(script, python_spec)
    for note in found.notes:
        click.echo(f"pep582 where: note: {note}", err=True)
    if as_json:
        click.echo(json.dumps(found.as_dict(), indent=2))
    else:
        print_decision(found.python, found.why, found.decision)
    sys.exit(0 if found.decision["activate"] else NOTHING_APPLIES)


@command(
    short_help="Run a script, -m module, -c code or console script under the rules.",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog="\b\nExamples:\n"
    "  pep582 run app.py --verbose     # app.py's own options follow it\n"
    "  pep582 run -m pytest\n"
    "  pep582 run -c 'import requests'\n"
    "  pep582 run black .              # __pypackages__/bin/black, bin first on PATH",
)
@STEP_PYTHON
@click.argument("program", nargs=-1, type=click.UNPROCESSED, required=True)
def run(python_spec: str | None, program: tuple[str, ...]) -> None:
    """Run SCRIPT [ARGS], -m MODULE [ARGS], -c CODE [ARGS] or NAME [ARGS] under the PEP's
    rules.

    Nothing is installed. The interpreter starts as usual, with a bootstrap on PYTHONPATH
    that performs the step at startup, as the hook would, and sets PYTHONPYPACKAGES so
    that Python processes the program starts (sys.executable, python -m ...) use the same
    __pypackages__ from any directory. NAME, a console script in __pypackages__/bin (and no
    file of that name here), runs with that bin first on PATH. `-m pip install` is refused
    (it would change the interpreter's own packages): use `pep582 install`. The program's
    exit code becomes ours.
    """
    from pep582 import proc
    from pep582.operations.step import prepare_run

    if program[0].startswith("-") and program[0] not in ("-c", "-m"):
        raise click.UsageError(f"expected SCRIPT, -m MODULE or -c CODE, not {program[0]!r}")
    launch = prepare_run(program, python_spec)
    for note in launch.notes:
        click.echo(f"pep582 run: {note}", err=True)
    proc.exec_user_program(launch.argv, launch.env)
