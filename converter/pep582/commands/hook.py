"""``pep582 enable``, ``disable`` and ``status``: the startup hook in an interpreter."""

from __future__ import annotations

import click

from pep582.commands.base import command
from pep582.commands.options import STEP_PYTHON

USER = "Use the user site directory instead of site-packages."


@command(
    short_help="Install the startup hook into an interpreter.",
    epilog="\b\nExamples:\n  pep582 enable --python 3.12\n  pep582 enable --user",
)
@STEP_PYTHON
@click.option("--user", is_flag=True, help=USER)
def enable(python_spec: str | None, user: bool) -> None:
    """Install the startup hook into an interpreter's site-packages (or user site).

    Writes _pep582_step.py (the step), _pep582_hook.py (its cheap first half, imported at
    every start), their byte-compiled .pyc files, a one-line _pep582_hook.pth and, for
    Python 3.15+ (PEP 829), _pep582_hook.start naming the same first half.
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


@command(
    short_help="Remove the files `pep582 enable` wrote.",
    epilog="Example: pep582 disable --python .venv/bin/python",
)
@STEP_PYTHON
@click.option("--user", is_flag=True, help=USER)
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


@command(
    short_help="Is the hook installed; what applies from here?",
    epilog="Example: pep582 status --python 3.11",
)
@STEP_PYTHON
def status(python_spec: str | None) -> None:
    """Say whether an interpreter has the hook, and what the step does from here."""
    from pep582.commands.run import print_decision
    from pep582.interpreter import choose_python
    from pep582.operations.step import describe, pypackages_for
    from pep582.step import hook, startup

    python, why = choose_python(python_spec, pypackages_for(""))
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
    print_decision(python, why, describe(python, ""))
