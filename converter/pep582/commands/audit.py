"""The ``pep582 audit`` command: print an audit report, or its JSON form, and exit by it."""

from __future__ import annotations

import gc
import json
import sys
import textwrap
from pathlib import Path

import click

from pep582.audit import EXIT_FINDINGS, SEVERITIES, Report, checks_help, details_help
from pep582.audit import audit as run_audit
from pep582.errors import exit_codes_help

FAIL_ON = (*SEVERITIES, "never")
SHOWN_FILES = 5
EPILOG = f"""\
\b
Examples:
  pep582 audit                         # the current project, default interpreter
  pep582 audit app --python 3.12 --json
  pep582 audit --fail-on medium        # CI: fail on medium and high findings

\b
Checks, by family (severity):
{checks_help()}

\b
--json prints one object (schema 1; keys are only ever added):
  schema       1
  project      absolute project directory
  pypackages   its __pypackages__ path;  exists: bool
  interpreter  {{executable, command ("python3.12"), why, stdlib (where the names came from)}}
  trees        [{{layout ("pep582"|"pdm"), command, site_dirs, scripts,
                 interpreter (path or null: stale), distributions (count)}}]
  findings     [{{check, severity ("high"|"medium"|"low"), path, message, fix, details}}],
               most severe first, then by check and path; details by check:
{details_help()}
               ("distribution" is "name version", or null when no RECORD owns the path)
  counts       {{high, medium, low}}
  fail_on      the --fail-on level;  failed: bool (the exit code is {EXIT_FINDINGS})
  skipped      [what was not checked, and why]
  stats        {{distributions, files_hashed, bytes_hashed, entries_walked, seconds}}

\b
Exit codes ({EXIT_FINDINGS}: a finding reached --fail-on; 0: none did):
{exit_codes_help()}
"""


def shown(text: str) -> str:
    r"""``text`` with control characters escaped: file names and ``.pth`` lines come from
    the tree, and must not rewrite the terminal.

    >>> shown("evil\x1b[2Kname")
    'evil\\x1b[2Kname'
    """
    return "".join(
        c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii")
        for c in text
    )


def _wrap(text: str) -> list[str]:
    """Lines of at most 92 columns that never split a word (paths stay whole)."""
    return textwrap.wrap(text, 92, break_long_words=False, break_on_hyphens=False)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _print(report: Report, fail_on: str) -> None:
    def echo(text: str = "") -> None:
        click.echo("\n".join(shown(line) for line in text.split("\n")))

    python = report.interpreter
    echo(f"project:     {report.project}")
    echo(f"interpreter: {python.executable} ({python.facts.command}; {report.why})")
    for tree in report.trees:
        state = tree.interpreter or "no interpreter on this machine"
        echo(
            f"tree:        {tree.layout} {tree.command}: "
            f"{_plural(len(tree.distributions), 'distribution')} ({state})"
        )
    if not report.exists:
        echo(f"tree:        none ({report.pypackages} does not exist)")
    for note in report.skipped:
        echo(f"skipped:     {note}")
    for severity in SEVERITIES:
        findings = [f for f in report.findings if f.severity == severity]
        if not findings:
            continue
        echo(f"\n{severity.upper()} ({len(findings)})")
        for finding in findings:
            echo(f"  [{finding.check}] {finding.path}")
            for line in _wrap(finding.message):
                echo(f"      {line}")
            files = finding.details.get("files")
            if isinstance(files, list) and len(files) > 1:
                for name in files[:SHOWN_FILES]:
                    echo(f"        {name}")
                if len(files) > SHOWN_FILES:
                    echo(f"        ... and {len(files) - SHOWN_FILES} more")
            echo(f"      fix: {finding.fix}")  # one line, however long: it gets pasted
    counts = report.counts()
    verdict = (
        f"fails --fail-on {fail_on}" if report.reaches(fail_on) else f"passes --fail-on {fail_on}"
    )
    summary = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES)
    if not report.findings:
        summary = "no findings"
    echo(
        f"\n{summary}: {_plural(report.distributions, 'distribution')}, "
        f"{_plural(report.files_hashed, 'file')} hashed in {report.seconds:.2f}s; {verdict}"
    )


@click.command(
    "audit",
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.argument(
    "path",
    required=False,
    default=".",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option(
    "--python",
    "python_spec",
    metavar="PY",
    help="Target interpreter (path, command or 3.X) whose standard library and scheme are "
    "checked. Default: one matching a site directory in the tree, else python3 on PATH.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="high",
    show_default=True,
    help=f"Exit {EXIT_FINDINGS} when a finding has this severity or a higher one.",
)
def audit(path: Path, python_spec: str | None, as_json: bool, fail_on: str) -> None:
    """Find what PATH's __pypackages__ makes possible, before it bites.

    Checks the project directory PATH (default: the current one) and its __pypackages__:
    the trust rule, standard-library shadowing, conflicting or importable scripts, .pth
    and sitecustomize code, files changed since installation or owned by no RECORD,
    RECORD rows outside the tree, every entry's owner, permissions and links however
    deep, git hygiene, trees for Pythons no longer installed and a PDM tree drifting
    from the converted one. Nothing is changed and nothing in the project is run.
    """
    # The audit allocates a few objects per installed file and frees them only at exit:
    # the cyclic collector would traverse them again and again (15% of a large audit).
    gc.disable()
    report = run_audit(path, python_spec)
    if as_json:
        click.echo(json.dumps(report.as_dict(fail_on), indent=2))
    else:
        _print(report, fail_on)
    sys.exit(EXIT_FINDINGS if report.reaches(fail_on) else 0)
