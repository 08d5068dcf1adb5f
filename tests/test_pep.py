"""The PEP text: its preamble rules, its doctests, how it renders (tables, contents,
code width), and the claims it makes, checked against real interpreters."""

from __future__ import annotations

import datetime as dt
import doctest
import os
import pickle
import pwd
import re
import shutil
import sys
import sysconfig
from pathlib import Path

import pytest
from docutils import nodes

from pep582.step.startup import running_scheme, scheme_paths

from helpers import ROOT, interpreter, pep582, run

sys.path.insert(0, str(ROOT / "pep" / "_ext"))
sys.path.insert(0, str(ROOT / "examples"))

import transcript
from pep_preamble import check

PEP = ROOT / "pep" / "pep-0582.rst"
# The flags conf.py gives Sphinx's doctest builder.
DOCTEST_FLAGS = (
    doctest.ELLIPSIS
    | doctest.IGNORE_EXCEPTION_DETAIL
    | doctest.DONT_ACCEPT_TRUE_FOR_1
    | doctest.NORMALIZE_WHITESPACE
)

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
    headers = []
    for header, current in GOOD:
        if header == name and value is None:
            continue
        headers.append((header, value if header == name and value is not None else current))
    return headers


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
    """79 columns fit the rendered code boxes (conf.py widens the page for them)."""
    for number, line in enumerate(PEP.read_text().splitlines(), 1):
        assert "\t" not in line, number
        assert len(line) <= 79 or "://" in line, f"line {number} has {len(line)} characters"


# -- the PEP's examples are real runs -------------------------------------------------


def test_pep_doctests_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``>>>`` example of the PEP, run here as Sphinx's doctest builder runs it."""
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    result = doctest.testfile(
        str(PEP), module_relative=False, optionflags=DOCTEST_FLAGS, verbose=False
    )
    assert result.attempted > 90
    assert result.failed == 0


# -- rendering --------------------------------------------------------------------------


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
    skip = shutil.ignore_patterns("__pycache__", "__pypackages__", "*.egg-info")
    shutil.copytree(ROOT / "pep", copy / "pep", ignore=skip)
    shutil.copytree(ROOT / "examples", copy / "examples", ignore=skip)
    # The PEP links the reference implementation's source (:download:).
    shutil.copytree(ROOT / "converter", copy / "converter", ignore=skip)
    return copy


@pytest.fixture(scope="module")
def html(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html")
    code, output = sphinx("html", site, out)
    assert code == 0, output
    return out


def test_html_build_renders_title_and_header_table(html: Path) -> None:
    page = (html / "pep" / "pep-0582.html").read_text()
    assert "<h1>PEP 582 \N{EN DASH} Python local packages directory" in page
    assert 'class="rfc2822 pep-headers field-list' in page
    assert "Security Implications" in page
    assert "Response to the 2023 Decision" in page


def test_pep_page_has_a_contents_sidebar(html: Path) -> None:
    page = (html / "pep" / "pep-0582.html").read_text()
    sidebar = page[page.index('class="sphinxsidebarwrapper"') :]
    assert "Table of Contents" in sidebar
    for section in ("#the-trust-rule", "#security-implications", "#change-history"):
        assert f'href="{section}"' in sidebar


def test_pep_links_the_reference_implementation(html: Path) -> None:
    page = (html / "pep" / "pep-0582.html").read_text()
    downloads = {p.name for p in (html / "_downloads").rglob("*") if p.is_file()}
    assert {"startup.py", "site-pep582.patch"} <= downloads
    assert page.count('class="reference download internal"') >= 2


def written_list_tables(text: str) -> dict[str, list[int]]:
    """Title -> cells per row (header row included) of every list-table as written."""
    tables: dict[str, list[int]] = {}
    rows: list[int] | None = None
    for line in text.splitlines():
        if line.startswith(".. list-table::"):
            rows = tables.setdefault(line.partition("::")[2].strip(), [])
        elif rows is not None and line.startswith("   * - "):
            rows.append(1)
        elif rows is not None and line.startswith("     - "):
            rows[-1] += 1
        elif rows is not None and line and not line.startswith(" "):
            rows = None
    return tables


def rendered_tables(doctree: nodes.document) -> dict[str, list[int]]:
    """Title -> cells per row of every table in a doctree; every row checked against the
    table's column count."""
    tables = {}
    for table in doctree.findall(nodes.table):
        title = next(iter(table.findall(nodes.title))).astext()
        group = next(iter(table.findall(nodes.tgroup)))
        cells = [len(row.children) for row in group.findall(nodes.row)]
        assert set(cells) == {group["cols"]}, (title, cells)
        tables[title] = cells
    return tables


def test_every_table_renders_the_rows_written(html: Path) -> None:
    """Simple tables turn a wrapped first-column cell into a new row; the PEP uses
    list-tables only, and each renders exactly the rows and cells its source lists."""
    text = PEP.read_text()
    assert not re.search(r"^=+( +=+)+ *$", text, re.MULTILINE), "a simple table"
    assert not re.search(r"^\+[-=+]+\+ *$", text, re.MULTILINE), "a grid table"
    with open(html / ".doctrees" / "pep" / "pep-0582.doctree", "rb") as handle:
        doctree = pickle.load(handle)
    written = {title.replace("``", ""): rows for title, rows in written_list_tables(text).items()}
    assert len(written) >= 3
    assert rendered_tables(doctree) == written


def test_the_table_check_catches_a_wrapped_first_column() -> None:
    """The check above on the interplay table as the previous revision wrote it."""
    border = "=" * 21 + "  " + "=" * 26
    broken = "\n".join([
        border, "mechanism              interplay", border,
        "``sitecustomize``,     imported after the step,",
        "``usercustomize``      so modules of these names", border,
    ])  # fmt: skip
    assert re.search(r"^=+( +=+)+ *$", broken, re.MULTILINE)
    from docutils.core import publish_doctree

    doctree = publish_doctree(
        ".. table:: interplay\n\n" + "\n".join("   " + line for line in broken.splitlines()),
        settings_overrides={"report_level": 5},
    )
    # Written as one row, rendered as two: what the list-table rule prevents.
    assert len(list(doctree.findall(nodes.row))) == 3


def test_doctest_build_runs_the_examples(site: Path, tmp_path: Path) -> None:
    code, output = sphinx("doctest", site, tmp_path / "doctest")
    report = (tmp_path / "doctest" / "output.txt").read_text()
    assert code == 0, output + report[-4000:]
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


# -- claims the PEP makes, each checked on real interpreters ----------------------------


def test_rejection_notice_is_linked_from_a_referenced_footnote() -> None:
    text = PEP.read_text()
    notice = "https://discuss.python.org/t/pep-582-python-local-packages-directory/963/430"
    footnote = text[text.index(".. [#rejection]") :].split("\n\n")[0]
    assert notice in footnote
    assert "[#rejection]_" in text


def test_windows_scheme_is_nt_user_including_the_platform_suffix() -> None:
    """py_version_nodot_plat (3.10+) carries -32/-arm64; ours must spell it the same."""
    if sys.version_info < (3, 10):
        pytest.skip("nt_user names the platform only from Python 3.10")
    for suffix in ("", "-32", "-arm64"):
        ours = scheme_paths(
            "C:\\p",
            implementation="cpython",
            version=(3, 12),
            os_name="nt",
            platform_suffix=suffix,
        )
        theirs = sysconfig.get_paths(
            "nt_user",
            vars={"userbase": "C:\\p", "py_version_nodot_plat": f"312{suffix}",
                  "implementation": "Python"},
        )  # fmt: skip
        for key, path in ours.items():
            assert path.replace("\\", "/") == theirs[key].replace("\\", "/"), (suffix, key)


def test_pip_prefix_on_debian_system_python_lands_outside_the_scheme(tmp_path: Path) -> None:
    """Debian's default prefix scheme is posix_local: --prefix writes local/.../dist-packages,
    which the step does not read; --target into the scheme's purelib works."""
    debian = interpreter("debian")
    if debian is None or run([debian.executable, "-m", "pip", "--version"]).returncode:
        pytest.skip("no Debian system python3 with pip here")
    wheel = transcript.wheel(tmp_path, "probe", {"probe.py": "X = 1\n"})
    prefix = tmp_path / "prefix" / "__pypackages__"
    pip: list[str | os.PathLike[str]] = [debian.executable, "-m", "pip", "install", "-q"]
    pip += ["--no-index", "--no-deps", "--root-user-action=ignore"]
    run([*pip, "--prefix", prefix, wheel], check=True)
    major, minor = debian.facts.version
    local = prefix / "local" / "lib" / f"python{major}.{minor}" / "dist-packages"
    assert (local / "probe.py").is_file()
    ours = scheme_paths(str(prefix), implementation="cpython", version=(major, minor))
    assert not os.path.exists(ours["purelib"])
    target = tmp_path / "target" / "__pypackages__"
    scheme = scheme_paths(str(target), implementation="cpython", version=(major, minor))
    purelib = scheme["purelib"]
    run([*pip, "--target", purelib, wheel], check=True)
    assert os.path.isfile(os.path.join(purelib, "probe.py"))


def test_sitecustomize_of_the_standard_library_wins(tmp_path: Path) -> None:
    """Debian's python3 has a sitecustomize in its standard library: it comes before any
    __pypackages__ on sys.path, so one there is never imported."""
    debian = interpreter("debian")
    if debian is None:
        pytest.skip("no Debian system python3 here")
    ask = "import os, sysconfig; print(os.path.isfile(sysconfig.get_path('stdlib')"
    ask += " + '/sitecustomize.py'))"
    if run([debian.executable, "-c", ask]).stdout.strip() != "True":
        pytest.skip("this python3 has no sitecustomize in its standard library")
    venv = tmp_path / "venv"
    run([debian.executable, "-m", "venv", "--without-pip", venv], check=True)
    assert pep582("enable", "--python", venv / "bin" / "python").returncode == 0
    project = tmp_path / "project"
    purelib = Path(scheme_paths(str(project / "__pypackages__"), implementation="cpython",
                                version=debian.facts.version)["purelib"])  # fmt: skip
    purelib.mkdir(parents=True)
    (purelib / "sitecustomize.py").write_text("")
    show = "import sitecustomize, sys; print(sitecustomize.__file__); print(sys.path)"
    proc = run([venv / "bin" / "python", "-c", show], cwd=project, check=True)
    imported, path = proc.stdout.splitlines()
    assert not imported.startswith(str(project))
    assert str(purelib) in path  # the step did add the directory


@pytest.mark.usefixtures("root_only")
def test_directory_argument_accepts_the_owner_of_its_main(tmp_path: Path) -> None:
    """``python DIR``: the owner of DIR/__main__.py is the script owner; ``-c`` in DIR has
    no script owner, so the same tree is refused there."""
    nobody = pwd.getpwnam("nobody").pw_uid
    app = tmp_path / "app"
    purelib = Path(running_scheme(str(app / "__pypackages__"))["purelib"])
    purelib.mkdir(parents=True)
    (purelib / "localmod.py").write_text("")
    show = "import localmod; print('found', localmod.__file__)\n"
    (app / "__main__.py").write_text(show)
    for path in [app, *app.rglob("*")]:
        os.lchown(path, nobody, -1)
    python = transcript.interpreter()
    try:
        ran = run([python, app], cwd=tmp_path)
        assert ran.stdout.startswith(f"found {os.path.realpath(purelib)}"), ran.stderr
        assert ran.stderr == ""
        refused = run([python, "-c", show], cwd=app)
        assert "pep582: ignoring" in refused.stderr and "owned by nobody" in refused.stderr
        assert "ModuleNotFoundError" in refused.stderr
    finally:
        for path in [app, *app.rglob("*")]:
            os.lchown(path, 0, -1)


def test_check_peps_header_rules_hold_for_the_file() -> None:
    """python/peps' own check-peps.py is not vendored; its header rules are the ones
    pep_preamble enforces, applied here to the file itself."""
    text = PEP.read_text()
    preamble = text.split("\n\n", 1)[0]
    headers: list[tuple[str, str]] = []
    for line in preamble.splitlines():
        if line[:1].isspace():
            name, value = headers[-1]
            headers[-1] = (name, value + "\n" + line.strip())
        else:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
    assert check(headers) == []
