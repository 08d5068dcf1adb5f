"""The PEP text: preamble rules (unit), and the Sphinx builds that render and test it."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

import pytest

from helpers import ROOT, run

sys.path.insert(0, str(ROOT / "pep" / "_ext"))

from pep_preamble import check

TODAY = dt.date(2026, 11, 25)
GOOD = [
    ("PEP", "582"),
    ("Title", "Python local packages directory"),
    ("Author", "Kushal Das <mail@kushaldas.in>, Steve Dower <steve.dower@python.org>,\n"
               "Alyssa Coghlan <ncoghlan@gmail.com>"),
    ("Discussions-To", "https://discuss.python.org/t/pep-582-python-local-packages-directory/963/"),
    ("Status", "Draft"),
    ("Type", "Standards Track"),
    ("Topic", "Packaging"),
    ("Created", "16-May-2018"),
    ("Python-Version", "3.16"),
    ("Post-History", "`01-Mar-2019 <https://discuss.python.org/t/pep-582/963>`__, 02-Feb-2023"),
]  # fmt: skip


def replaced(name: str, value: str | None) -> list[tuple[str, str]]:
    """GOOD with one header changed (None: removed)."""
    return [(n, value if n == name else v) for n, v in GOOD if n != name or value is not None]


def test_good_preamble_passes() -> None:
    assert check(GOOD, TODAY) == []


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (replaced("PEP", "0582"), "header 'PEP': must be a PEP number 0-9999"),
        (replaced("PEP", "12345"), "header 'PEP': must be a PEP number"),
        (replaced("Title", ""), "header 'Title': must not be empty"),
        (replaced("Title", "x" * 80), "header 'Title': must be at most 79 characters, got 80"),
        (replaced("Author", "kushal@example.org"), "header 'Author': must be 'Name <email>'"),
        (
            replaced("Author", "Kushal Das <mail@kushaldas.in>\nSteve Dower"),
            "header 'Author': a continued author line must end with a comma",
        ),
        (replaced("Status", "Pending"), "header 'Status': must be one of"),
        (replaced("Type", "Standard"), "header 'Type': must be one of"),
        (replaced("Topic", "packaging"), "header 'Topic': unknown topic 'packaging'"),
        (replaced("Topic", "Typing, Packaging"), "topics must be sorted"),
        (replaced("Created", "2018-05-16"), "header 'Created': dates must be DD-Mmm-YYYY"),
        (replaced("Created", "6-May-2018"), "header 'Created': dates must be DD-Mmm-YYYY"),
        (replaced("Created", "31-Feb-2018"), "header 'Created': '31-Feb-2018' is not a real"),
        (replaced("Created", "01-Jan-1989"), "is before 1990"),
        (replaced("Created", "01-Jan-2027"), "more than 14 days in the future"),
        (replaced("Python-Version", "3.016"), "header 'Python-Version': must be X.Y"),
        (replaced("Python-Version", "4.0"), "header 'Python-Version': must be X.Y"),
        (
            replaced("Discussions-To", "https://discuss.python.org/t/pep-582/963/430"),
            "header 'Discussions-To': must link a discussion thread, not a single post",
        ),
        (replaced("Discussions-To", "http://example.com"), "header 'Discussions-To': must be"),
        (
            replaced("Post-History", "`01-Mar-2019 <https://example.com/x>`__"),
            "header 'Post-History': must link a discussion thread",
        ),
        (replaced("Post-History", "1 March 2019"), "header 'Post-History': dates must be"),
        (replaced("Type", None), "header 'Type': required but missing"),
        ([*GOOD, ("Version", "$Revision$")], "header 'Version': not allowed"),
        ([*GOOD, ("Content-Type", "text/x-rst")], "header 'Content-Type': not allowed"),
        ([*GOOD, ("Colour", "blue")], "header 'Colour': not a PEP header"),
        ([*GOOD, ("Status", "Draft")], "header 'Status': appears more than once"),
        ([GOOD[1], GOOD[0], *GOOD[2:]], "the preamble must start with the 'PEP' header"),
        ([*GOOD[:4], GOOD[5], GOOD[4], *GOOD[6:]], "headers are out of order"),
        ([*GOOD, ("Requires", "8, x")], "header 'Requires': must be PEP numbers"),
        ([*GOOD, ("Resolution", "https://example.com/")], "header 'Resolution': must be a"),
    ],
)
def test_each_rule(headers: list[tuple[str, str]], expected: str) -> None:
    problems = check(headers, TODAY)
    assert any(expected in p for p in problems), problems


def test_resolution_forms() -> None:
    post = "https://discuss.python.org/t/pep-582-python-local-packages-directory/963/430"
    assert check([*GOOD, ("Resolution", post)], TODAY) == []
    assert check([*GOOD, ("Resolution", f"`27-Mar-2023 <{post}>`__")], TODAY) == []


def test_pep_text_lines_are_short_and_tab_free() -> None:
    for number, line in enumerate((ROOT / "pep" / "pep-0582.rst").read_text().splitlines(), 1):
        assert "\t" not in line, number
        assert len(line) <= 79 or "://" in line, f"line {number} has {len(line)} characters"


def sphinx(builder: str, source: Path, out: Path) -> tuple[int, str]:
    proc = run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", builder, source, out])
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the documentation sources (so builds never write into the checkout)."""
    copy = tmp_path_factory.mktemp("site") / "src"
    copy.mkdir()
    for name in ("conf.py", "index.rst"):
        shutil.copy(ROOT / name, copy / name)
    shutil.copytree(ROOT / "pep", copy / "pep", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        ROOT / "examples",
        copy / "examples",
        ignore=shutil.ignore_patterns("__pycache__", "__pypackages__"),
    )
    return copy


def test_html_build_renders_title_and_header_table(site: Path, tmp_path: Path) -> None:
    code, output = sphinx("html", site, tmp_path / "html")
    assert code == 0, output
    page = (tmp_path / "html" / "pep" / "pep-0582.html").read_text()
    assert "<h1>PEP 582 \N{EN DASH} Python local packages directory" in page
    assert 'class="rfc2822 pep-headers field-list' in page
    assert "Security Implications" in page


def test_doctest_build_runs_the_examples(site: Path, tmp_path: Path) -> None:
    code, output = sphinx("doctest", site, tmp_path / "doctest")
    assert code == 0, output
    report = (tmp_path / "doctest" / "output.txt").read_text()
    assert " 0 failures in tests" in report


def test_broken_preamble_fails_the_build(site: Path, tmp_path: Path) -> None:
    pep = site / "pep" / "pep-0582.rst"
    original = pep.read_text()
    try:
        pep.write_text(original.replace("Created: 16-May-2018", "Created: 2018-05-16"))
        code, output = sphinx("html", site, tmp_path / "html")
    finally:
        pep.write_text(original)
    assert code != 0
    assert "PEP preamble: header 'Created': dates must be DD-Mmm-YYYY" in output
    assert "pep-0582.rst" in output


def test_sphinx_lint_is_clean() -> None:
    proc = run([sys.executable, "-m", "sphinxlint", ROOT / "pep", ROOT / "examples"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
