"""Every examples/*/README.rst is a doctest that runs against this checkout, as Sphinx runs it."""

from __future__ import annotations

import doctest
import os
import re
import sys
import warnings
from pathlib import Path

import pytest

from helpers import ROOT, run

pytestmark = pytest.mark.slow  # builds many environments: the full tier

EXAMPLES = sorted((ROOT / "examples").glob("*/README.rst"))
# The flags conf.py gives Sphinx's doctest builder.
FLAGS = (
    doctest.ELLIPSIS
    | doctest.IGNORE_EXCEPTION_DETAIL
    | doctest.DONT_ACCEPT_TRUE_FOR_1
    | doctest.NORMALIZE_WHITESPACE
)
# A ".. doctest::" block: its option lines, then its indented (or blank) body lines.
DIRECTIVE = re.compile(r"^\.\. doctest::.*\n((?:   :.*\n)*)((?:(?:   .*)?\n)*)", re.MULTILINE)


def without_skipped(text: str) -> tuple[str, list[str]]:
    """``text`` with the ``.. doctest::`` blocks whose ``:skipif:`` holds blanked out (line
    numbers kept), and the reasons; Sphinx's doctest builder skips the same blocks."""
    reasons: list[str] = []

    def blank(match: re.Match[str]) -> str:
        option = re.search(r"^   :skipif: (.*)$", match[1], re.MULTILINE)
        if option is None:
            return match[0]
        reason = eval(option[1], {"sys": sys})
        if not reason:
            return match[0]
        reasons.append(reason if isinstance(reason, str) else option[1])
        return re.sub(r"[^\n]", "", match[0])

    return DIRECTIVE.sub(blank, text), reasons


@pytest.mark.parametrize("readme", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_readme(readme: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(readme.parent))
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    for name in [m for m in sys.modules if m == "demo"]:
        monkeypatch.delitem(sys.modules, name)
    text, skipped = without_skipped(readme.read_text(encoding="utf-8"))
    test = doctest.DocTestParser().get_doctest(text, {}, readme.parent.name, str(readme), 0)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    result = runner.run(test)
    assert result.attempted > 0
    assert result.failed == 0
    for reason in skipped:
        warnings.warn(f"{readme.parent.name}: a part was not run: {reason}", stacklevel=1)


def test_skipif_blocks_are_blanked_and_reported() -> None:
    text = (
        "intro\n\n.. doctest::\n   :skipif: 'no reason here'\n\n   >>> 1\n   2\n\n"
        ".. doctest::\n   :skipif: ''\n\n   >>> 3\n   3\n\nend\n"
    )
    kept, reasons = without_skipped(text)
    assert reasons == ["no reason here"]
    assert kept.count("\n") == text.count("\n")
    assert ">>> 1" not in kept and ">>> 3" in kept and "end" in kept


def test_every_example_is_a_page_linked_from_the_reference_implementation() -> None:
    """index.rst lists each README and the reference implementation's page links each
    (the PEP itself links that page once, as python/peps needs)."""
    index = (ROOT / "index.rst").read_text(encoding="utf-8")
    reference = (ROOT / "pep" / "reference-implementation.rst").read_text(encoding="utf-8")
    for readme in EXAMPLES:
        page = f"examples/{readme.parent.name}/README"
        assert f"   {page}\n" in index, page
        assert f"<../{page}>" in reference, page


@pytest.mark.parametrize("readme", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_readme_is_short(readme: Path) -> None:
    """Readable in two minutes: the prose, without the transcripts, stays short."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    prose = [line for line in lines if line and not line.startswith((" ", ">>>", "..."))]
    assert len(" ".join(prose).split()) < 400, len(" ".join(prose).split())


def test_quickstart_demo_runs_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """The README's first command runs this script; it plays the quickstart and removes
    every temporary directory it made."""
    scratch = tmp_path / "tmp"
    scratch.mkdir(mode=0o700)
    env = {"TMPDIR": str(scratch), "PATH": os.environ["PATH"]}
    proc = run([sys.executable, ROOT / "examples" / "quickstart" / "demo.py"], env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "hello, __pypackages__" in proc.stdout
    assert list(scratch.iterdir()) == []
