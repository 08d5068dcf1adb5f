"""What the commands print: plans, summaries, errors (text and JSON)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NoReturn

import click

# pip_options is re-exported: commands import it from here too
from pep582.commands.options import PIP_OPTIONS as PIP_OPTIONS
from pep582.commands.options import Output
from pep582.commands.options import pip_options as pip_options
from pep582.errors import Pep582Error

if TYPE_CHECKING:
    from pep582.operations.run import Outcome
    from pep582.plan.model import Change, Plan, Report

VERBS = {"migrate": "migrated", "install": "installed", "uninstall": "uninstalled"}
SHOWN = 5


@contextlib.contextmanager
def errors_reported(program: str, as_json: bool = False, verbose: bool = False) -> Iterator[None]:
    """Library errors become one line on stderr (a JSON object with ``--json``) and the
    documented exit code; anything unexpected is one line too, the traceback only with
    ``-v``."""
    try:
        yield
    except Pep582Error as exc:
        fail(program, str(exc), exc.exit_code, type(exc).__name__, as_json)
    except KeyboardInterrupt:
        fail(program, "interrupted; nothing was changed", 130, "Interrupted", as_json)
    except BrokenPipeError:  # the reader (| head) went away: nothing left to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except click.UsageError as exc:
        if not as_json:
            raise
        usage_failure(program, exc)
    except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
        raise
    except Exception as exc:
        if verbose:
            import traceback

            traceback.print_exc()
        hint = "" if verbose else " (rerun with -v for the traceback)"
        fail(program, f"internal error: {exc!r}{hint}", 1, "InternalError", as_json)


def usage_failure(program: str, exc: click.UsageError) -> NoReturn:
    """A usage error as the one JSON object ``--json`` promises for every error."""
    fail(program, exc.format_message(), exc.exit_code, "UsageError", True)


def fail(program: str, message: str, code: int, kind: str, as_json: bool) -> NoReturn:
    if as_json:
        error = {"error": {"kind": kind, "message": message, "exit_code": code}}
        click.echo(json.dumps(error), err=True)
    else:
        click.echo(f"{program}: error: {message}", err=True)
    sys.exit(code)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def print_plan(plan: Plan, verbose: bool) -> None:
    """A dry run: everything the run would do."""
    echo = click.echo
    for source in plan.sources:
        echo(f"source:  {source}")
    echo(f"target:  {plan.target} ({plan.layout} layout, {plan.existing})")
    for scheme in plan.schemes:
        for key, value in scheme.as_dict().items():
            echo(f"  {key:<8} {value}")
    if plan.interpreter:
        echo(f"scripts: #!{plan.interpreter}")
    counts = plan.counts()
    mode = "hard-link" if plan.link else "copy"
    echo(
        f"files:   {counts['carry']} to {mode}, {counts['write']} to write, "
        f"{counts['symlink']} links, {counts['tree']} checkouts to copy, "
        f"{counts['remove']} to remove, {counts['already_present']} already present; "
        f"verify: {'yes' if plan.verify else 'no'}"
    )
    echo(f"distributions ({len(plan.changes)}):")
    for change in plan.changes:
        flags = [
            f for f, on in (("editable", change.editable), ("requested", change.requested)) if on
        ]
        what = _word_for(change)
        if change.previous and change.previous != change.version:
            what += f" from {change.previous}"
        scripts = f" scripts: {', '.join(change.scripts)}" if change.scripts else ""
        extra = f", {', '.join(flags)}" if flags else ""
        echo(
            f"  {what:<7} {change.name} {change.version} (Python {change.python}, "
            f"{change.kind}{extra}){scripts}"
        )
    for removal in plan.removals:
        echo(f"remove:  {removal.target} ({removal.owner}: {removal.reason})")
    _print_tail(plan, verbose)
    if verbose:
        for action in plan.actions:
            echo(f"  {action.kind:<7} {action.target}")


def _print_tail(plan: Plan, verbose: bool) -> None:
    echo = click.echo
    for skipped in plan.skipped:
        echo(f"skipped: {skipped.what}: {skipped.reason}")
    for note in plan.notes:
        echo(f"note:    {note}")
    for warning in plan.warnings:
        echo(f"warning: {warning}")
    if plan.noop:
        echo(f"nothing to do: {plan.noop}")


def _word_for(change: Change) -> str:
    """The word a reader expects for a change: a distribution put back at the version it
    had is a "reinstall", a lower version replacing a higher one a "downgrade" (both are
    ``add``/``upgrade`` in the JSON, with ``previous``)."""
    if change.action == "add" and change.previous is not None:
        return "reinstall"
    if change.action == "upgrade":
        from packaging.version import InvalidVersion, Version

        try:
            if Version(change.version) < Version(change.previous or ""):
                return "downgrade"
        except InvalidVersion:
            pass
    return change.action


_PAST = {"add": "added", "reinstall": "reinstalled", "upgrade": "upgraded",
         "downgrade": "downgraded", "remove": "removed", "keep": "already present"}  # fmt: skip


def _grouped(plan: Plan) -> list[tuple[str, list[Change]]]:
    """The plan's changes grouped under :func:`_word_for`'s words, in the past tense."""
    groups: dict[str, list[Change]] = {word: [] for word in _PAST.values()}
    for change in plan.changes:
        groups[_PAST[_word_for(change)]].append(change)
    return list(groups.items())


def summary_lines(plan: Plan, report: Report | None, verbose: bool) -> list[str]:
    """The closing summary of a run (also used after a no-op)."""
    verb = VERBS[plan.operation]
    lines = []
    uninstalling = plan.operation == "uninstall"
    moved = plan.changed("remove") if uninstalling else plan.changed("add", "upgrade")
    took = f" in {report.seconds:.3f}s" if report is not None else ""
    if report is None and plan.noop:
        lines.append(f"nothing to do for {plan.target}: {plan.noop}")
    else:
        lines.append(
            f"{verb} {_plural(len(moved), 'distribution')} in {plan.target} "
            f"({plan.layout} layout){took}"
        )
    for label, changes in _grouped(plan):
        if changes:
            shown = [
                f"{c.name} {c.previous} → {c.version}"
                if c.previous and c.previous != c.version
                else f"{c.name} {c.version}"
                for c in changes
            ]
            if not verbose and len(shown) > 12:
                shown = [*shown[:12], f"… {len(shown) - 12} more"]
            lines.append(f"  {label}: {', '.join(shown)}")
    if report is not None and plan.operation == "uninstall":
        lines.append(f"  files: {report.removed} removed")
    elif report is not None:
        copied = f"{report.copied} copied"
        if report.copied_foreign:
            copied += f" ({report.copied_foreign} because another user owns the source file)"
        parts = [f"{report.linked} linked", copied, f"{report.written} written"]
        if report.symlinks:
            parts.append(f"{report.symlinks} links")
        if report.trees:
            parts.append(f"{report.trees} checkouts copied")
        if report.removed:
            parts.append(f"{report.removed} removed")
        if plan.already_present:
            parts.append(f"{plan.already_present} already present")
        if report.compiled:
            parts.append(f"{report.compiled} byte-compiled")
        verified = "yes" if plan.verify else "no (--no-verify)"
        if plan.verify and report.unverified:
            verified += f", but {report.unverified} had no hash in RECORD"
        lines.append(
            f"  files: {', '.join(parts)}; {report.bytes / 1e6:.1f} MB; "
            f"verified against RECORD: {verified}"
        )
    lines += [f"  skipped {s.what}: {s.reason}" for s in plan.skipped]
    lines += [f"  note: {n}" for n in plan.notes]
    lines += [f"  warning: {w}" for w in plan.warnings]
    if report is not None and plan.operation != "uninstall":
        lines.append("next:")
        lines += [f"  {step}" for step in next_steps(plan)]
    if plan.unowned:
        lines += unowned_lines(plan, verbose)
    return lines


def unowned_lines(plan: Plan, verbose: bool) -> list[str]:
    shown = plan.unowned if verbose else plan.unowned[:SHOWN]
    lines = [f"files no RECORD lists ({len(plan.unowned)}):"]
    lines += [f"  {path}" for path in shown]
    if len(shown) < len(plan.unowned):
        lines.append(f"  … {len(plan.unowned) - len(shown)} more (-v lists them all)")
    outside = [p for p in plan.unowned if "site-packages" not in p.split(os.sep)]
    if outside and not plan.unowned_carried:
        lines.append(
            f"{_plural(len(outside), 'file')} outside site-packages were not carried: deleting "
            "the source loses them (--include-unowned carries them into the data directory)"
        )
    return lines


def next_steps(plan: Plan) -> list[str]:
    """How to use the result."""
    if plan.layout == "pdm":
        return ["pdm run ...  (the pdm layout is read by PDM's hook, not by pep582 run)"]
    python = f" --python {plan.interpreter}" if plan.interpreter.startswith("/") else ""
    steps = [
        f"pep582 run{python} SCRIPT   (a script in {plan.project} uses {plan.target})",
        f"pep582 enable{python}       "
        "(that interpreter then does the step at every start, for all its users)",
    ]
    scripts = sorted({s for c in plan.changes if c.action != "remove" for s in c.scripts})
    if scripts and plan.schemes:
        tool = os.path.join(plan.schemes[0].scripts, scripts[0])
        steps.append(f"{tool}   (console scripts run as is)")
    return steps


def print_outcome(
    plan: Plan, report: Report | None, as_json: bool, quiet: bool, verbose: bool
) -> None:
    if as_json:
        data = report.as_dict() if report is not None else plan.as_dict(with_actions=verbose)
        click.echo(json.dumps(data, indent=2))
    elif not quiet:
        for line in summary_lines(plan, report, verbose):
            click.echo(line)


@contextlib.contextmanager
def terminal_progress(label: str, silent: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A one-line counter on stderr for long file phases, on a terminal only."""
    if silent or not sys.stderr.isatty():
        yield None
        return
    shown = [False]

    def update(done: int, total: int) -> None:
        if total >= 2048:
            sys.stderr.write(f"\r{label}: {done}/{total}")
            sys.stderr.flush()
            shown[0] = True

    try:
        yield update
    finally:
        if shown[0]:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


STARTED = time.perf_counter()  # the command's start: summaries count resolving and planning


def show_outcome(
    program: str, outcome: Outcome, dry_run: bool, as_json: bool, verbose: bool, quiet: bool
) -> None:
    """What a run prints: what recovery did, then the plan (a dry run) or the summary."""
    if outcome.report is not None:
        outcome.report.seconds = time.perf_counter() - STARTED
    for line in outcome.recovered:
        click.echo(f"{program}: {line}", err=True)
    if dry_run and not as_json:
        if not quiet:
            print_plan(outcome.plan, verbose)
        return
    print_outcome(outcome.plan, outcome.report, as_json, quiet, verbose)


def report(program: str, outcome: Outcome, output: Output) -> None:
    """:func:`show_outcome` for a command's :class:`~pep582.commands.options.Output`."""
    show_outcome(program, outcome, output.dry_run, output.as_json, output.verbose, output.quiet)
