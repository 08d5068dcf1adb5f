"""The PEP text: its preamble, its budget and form, its console sessions (run and compared
here), how it renders, python/peps' own checks when a checkout is given (``PEPS_REPO``), and
the claims it makes about CPython, checked against real interpreters."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import pwd
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from docutils import nodes

from pep582.step.startup import running_scheme, scheme_paths

from helpers import ROOT, VERSIONS, interpreter, make_venv, pep582, run

sys.path.insert(0, str(ROOT / "pep" / "_ext"))
sys.path.insert(0, str(ROOT / "examples"))

import transcript
from pep_preamble import check

PEP = ROOT / "pep" / "pep-0582.rst"
TEXT = PEP.read_text(encoding="utf-8")

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


def preamble_of(text: str) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for line in text.split("\n\n", 1)[0].splitlines():
        if line[:1].isspace():
            name, value = headers[-1]
            headers[-1] = (name, value + "\n" + line.strip())
        else:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
    return headers


def test_check_peps_header_rules_hold_for_the_file() -> None:
    """The header rules of python/peps' check-peps.py (pep_preamble), on the file itself;
    ``test_python_peps_checks_and_builds_the_pep`` runs check-peps.py proper."""
    assert check(preamble_of(TEXT)) == []


def test_preamble_tells_the_truth_about_its_process() -> None:
    """Discussions-To is not the thread that ended in the rejection; the first section
    says how this text differs from PEP 582 and how it is submitted (PEP 1)."""
    headers = dict(preamble_of(TEXT))
    assert "/963" not in headers["Discussions-To"]
    for entry in re.findall(r"`([^`]+)`__", headers.get("Post-History", "")):
        assert "<https://" in entry, entry  # every entry links its thread
    first = re.search(r"^(\S.*)\n=+\n", TEXT, re.MULTILINE)
    assert first is not None and "Rejected PEP 582" in first[1]
    section = TEXT[first.end() : TEXT.index("\nAbstract\n")]
    for needed in ("Replaces: 582", ":pep:`1`", ":pep:`772`", "Sponsor"):
        assert needed in section, needed


# -- form and budget ----------------------------------------------------------------------


def sections(text: str) -> dict[str, str]:
    """Top-level section title -> its text (preamble excluded)."""
    found = list(re.finditer(r"^(\S[^\n]*)\n(=+)\n", text, re.MULTILINE))
    return {
        m[1]: text[m.end() : found[i + 1].start() if i + 1 < len(found) else len(text)]
        for i, m in enumerate(found)
        if len(m[2]) == len(m[1])
    }


def words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def test_body_and_specification_fit_their_budget() -> None:
    """Issue 23: body at most 5,000 words, Specification at most 300 lines."""
    parts = sections(TEXT)
    body = sum(words(text) for title, text in parts.items() if title != "Copyright")
    assert body <= 5000, body
    assert len(parts["Specification"].strip().splitlines()) <= 300


def test_sections_follow_pep_12() -> None:
    order = [t for t in sections(TEXT) if t != "This Revision and the Rejected PEP 582"]
    template = ["Abstract", "Motivation", "Specification", "Rationale",
                "Backwards Compatibility", "Security Implications", "How to Teach This",
                "Reference Implementation", "Rejected Ideas", "Open Issues",
                "Acknowledgements", "Copyright"]  # fmt: skip
    assert [t for t in order if t in template] == template


def test_text_lines_are_short_and_tab_free() -> None:
    """79 columns, except inside console sessions (real output is not wrapped) and URLs."""
    in_session = False
    for number, line in enumerate(TEXT.splitlines(), 1):
        assert "\t" not in line, number
        if line.startswith(".. code-block:: console"):
            in_session = True
        elif line and not line.startswith(" "):
            in_session = False
        if not in_session and "://" not in line:
            assert len(line) <= 79, f"line {number} has {len(line)} characters"


def test_no_harness_code_and_no_links_into_this_repository() -> None:
    """Readers see plain sessions; python/peps cannot resolve :doc:/:download: to our
    files, and the reference implementation has no public address yet, so the PEP names
    it without a link (a placeholder link is not honest) and defines no link target."""
    for banned in (">>>", "import transcript", "os.chmod", ":doc:", ":download:",
                   ".. doctest::", ".. testcode::"):  # fmt: skip
        assert banned not in TEXT, banned
    assert not re.search(r"(?<![.\w])run\(", TEXT), "the harness's run()"
    assert re.findall(r"^\.\. _([^:]+): (\S+)$", TEXT, re.MULTILINE) == []
    section = " ".join(sections(TEXT)["Reference Implementation"].split())
    assert "pep582-toolkit (address to be given on submission)" in section


def test_pre_commit_rst_checks_of_python_peps() -> None:
    """python/peps' pygrep hooks (v1.10.0): rst-backticks, rst-inline-touching-normal,
    rst-directive-colons."""
    for number, line in enumerate(TEXT.splitlines(), 1):
        if not line.startswith("    "):
            assert not re.search(r"(^| )`[^`]+`([^_]|$)", line), (number, line)
        assert not re.search(r"\w``\w", line), (number, line)
        assert not re.search(r"^\s*\.\. [a-z]+(| | :):$", line), (number, line)


# -- the console sessions, run and compared ------------------------------------------------------


@dataclass
class Session:
    """One ``.. code-block:: console`` of the PEP: commands with their expected output."""

    line: int
    steps: list[tuple[str, list[str]]] = field(default_factory=list)


def parse_sessions(text: str) -> list[Session]:
    """Every console block of the text, in order."""
    found: list[Session] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith(".. code-block:: console"):
            session = Session(index + 1)
            index += 1
            while index < len(lines) and (not lines[index] or lines[index].startswith("   ")):
                content = lines[index][3:]
                if content.startswith("$ "):
                    session.steps.append((content[2:], []))
                elif session.steps:
                    session.steps[-1][1].append(content.rstrip())
                index += 1
            for _, expected in session.steps:
                while expected and not expected[-1]:
                    expected.pop()
            found.append(session)
            continue
        index += 1
    return found


SESSIONS = parse_sessions(TEXT)
SESSION_VERSION = "3.13"  # the version the sessions are written for


@dataclass
class Shell:
    home: Path
    prefix: Path
    env: dict[str, str]
    version: str


@pytest.fixture(scope="module")
def stepping_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A venv of CPython 3.13 (else the newest here) with the hook enabled: the sessions'
    ``python``."""
    for version in (SESSION_VERSION, *reversed(VERSIONS)):
        base = interpreter(version)
        if base is not None:
            break
    else:
        pytest.skip("no CPython 3.9-3.13 here")
    venv = tmp_path_factory.mktemp("session-python") / "venv"
    python = make_venv(base, venv)
    enabled = pep582("enable", "--python", python)
    assert enabled.returncode == 0, enabled.stderr
    return venv, version


def shell(venv: Path, version: str, home: Path) -> Shell:
    env = {
        "HOME": str(home),
        "PATH": os.pathsep.join([str(venv / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
    }
    return Shell(home, venv, env, version)


def for_version(text: str, version: str) -> str:
    return text if version == SESSION_VERSION else text.replace(SESSION_VERSION, version)


def run_session(sh: Shell, session: Session) -> list[list[str]]:
    """Run the session's commands in one shell from ``~``; each command's output (stdout
    and stderr, in order), with ``~`` and ``<prefix>`` put back."""
    marker = "@@pep-session-step@@"
    script = ["exec 2>&1", 'cd "$HOME"']
    for command, _ in session.steps:
        script += [f"echo {marker}", for_version(command, sh.version)]
    proc = subprocess.run(["bash", "-c", "\n".join(script)], env=sh.env, cwd=sh.home,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    output = proc.stdout
    for path, name in ((sh.prefix, "<prefix>"), (sh.home, "~")):
        for spelling in {str(path.resolve()), str(path)}:
            output = output.replace(spelling, name)
    if sh.version != SESSION_VERSION:
        output = output.replace(sh.version, SESSION_VERSION)
    chunks = output.split(marker + "\n")[1:]
    return [
        [line.rstrip() for line in chunk.rstrip("\n").split("\n") if chunk] for chunk in chunks
    ]


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; a line ``...`` stands for any number of lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0] == expected[0] and matches(expected[1:], actual[1:])


def test_the_pep_shows_sessions() -> None:
    assert len(SESSIONS) >= 4
    assert all(session.steps for session in SESSIONS)


@pytest.mark.parametrize("index", range(len(SESSIONS)), ids=lambda i: f"line{SESSIONS[i].line}")
def test_session(index: int, stepping_venv: tuple[Path, str], tmp_path: Path) -> None:
    """Each session, after the sessions before it (they share ``~``), as the text shows."""
    session = SESSIONS[index]
    home = tmp_path / "home"
    home.mkdir()
    sh = shell(*stepping_venv, home)
    for earlier in SESSIONS[:index]:
        run_session(sh, earlier)
    outputs = run_session(sh, session)
    assert len(outputs) == len(session.steps)
    for (command, expected), actual in zip(session.steps, outputs):
        assert matches(expected, actual), (
            f"line {session.line}: $ {command}\nexpected:\n" + "\n".join(expected)
            + "\nactual:\n" + "\n".join(actual)
        )  # fmt: skip


def test_session_parser_and_matcher() -> None:
    text = (
        "intro\n\nA child:\n\n.. code-block:: console\n\n"
        "   $ echo a\n   a\n\n   b\n   $ true\n\nafter\n"
    )
    (session,) = parse_sessions(text)
    assert session.line == 5
    assert session.steps == [("echo a", ["a", "", "b"]), ("true", [])]
    assert matches(["a", "...", "z"], ["a", "b", "c", "z"])
    assert not matches(["a"], ["a", "b"])


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


def test_pep_page_has_a_contents_sidebar(html: Path) -> None:
    page = (html / "pep" / "pep-0582.html").read_text()
    sidebar = page[page.index('class="sphinxsidebarwrapper"') :]
    assert "Table of Contents" in sidebar
    for section in ("#the-trust-rule", "#security-implications", "#rejected-ideas"):
        assert f'href="{section}"' in sidebar


def test_reference_implementation_page_is_rendered(html: Path) -> None:
    page = (html / "pep" / "reference-implementation.html").read_text()
    assert "Reference implementation" in page
    for example in ("quickstart", "untrusted-directory", "two-pythons"):
        assert f"examples/{example}/README.html" in page


def written_list_tables(text: str) -> dict[str, list[int]]:
    """Title -> cells per row (header row included) of every list-table as written."""
    tables: dict[str, list[int]] = {}
    rows: list[int] | None = None
    indent = 0
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if stripped.startswith(".. list-table::"):
            indent = len(line) - len(stripped)
            rows = tables.setdefault(stripped.partition("::")[2].strip(), [])
        elif rows is not None and line.startswith(" " * (indent + 3) + "* - "):
            rows.append(1)
        elif rows is not None and line.startswith(" " * (indent + 5) + "- "):
            rows[-1] += 1
        elif rows is not None and line.strip() and len(line) - len(stripped) <= indent:
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
    assert not re.search(r"^ *=+( +=+)+ *$", TEXT, re.MULTILINE), "a simple table"
    assert not re.search(r"^ *\+[-=+]+\+ *$", TEXT, re.MULTILINE), "a grid table"
    with open(html / ".doctrees" / "pep" / "pep-0582.doctree", "rb") as handle:
        doctree = pickle.load(handle)
    written = {title.replace("``", ""): rows for title, rows in written_list_tables(TEXT).items()}
    assert len(written) >= 4
    assert rendered_tables(doctree) == written


@pytest.mark.slow
def test_doctest_build_runs_the_examples(site: Path, tmp_path: Path) -> None:
    code, output = sphinx("doctest", site, tmp_path / "doctest")
    report = (tmp_path / "doctest" / "output.txt").read_text()
    assert code == 0, output + report[-4000:]
    assert " 0 failures in tests" in report


@pytest.mark.slow
def test_broken_preamble_fails_the_build(site: Path, tmp_path: Path) -> None:
    pep = site / "pep" / "pep-0582.rst"
    original = pep.read_text()
    try:
        pep.write_text(original.replace("Type: Standards Track", "Type: Standard"))
        code, output = sphinx("html", site, tmp_path / "html")
    finally:
        pep.write_text(original)
    assert code != 0
    assert "PEP preamble: header 'Type': must be one of" in output
    assert "pep-0582.rst" in output


def test_sphinx_lint_is_clean() -> None:
    proc = run([sys.executable, "-m", "sphinxlint", ROOT / "pep", ROOT / "examples"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- python/peps' own checks, against a checkout ------------------------------------------------

PEPS_REPO = os.environ.get("PEPS_REPO", "")


def peps_python(repo: Path) -> str:
    """The interpreter with python/peps' requirements: PEPS_PYTHON, else the checkout's
    ``.venv`` (``make venv``), else this one."""
    chosen = os.environ.get("PEPS_PYTHON") or repo / ".venv" / "bin" / "python"
    return str(chosen) if Path(chosen).exists() else sys.executable


def sentences(text: str) -> set[str]:
    """The sentences of a PEP's body (four words or more), lower-cased, words only."""
    body = re.sub(r"\s+", " ", text.split("\n\n", 1)[1])
    found = set()
    for sentence in re.split(r"(?<=[.!?:])\s+", body):
        words = re.findall(r"[a-z0-9_]+", sentence.lower())
        if len(words) >= 4:
            found.add(" ".join(words))
    return found


def test_sentence_check_finds_a_shared_sentence() -> None:
    old = "PEP: 1\n\nThis PEP adds a new step. Something else entirely here."
    new = "PEP: 2\n\nIntro text goes here now. This  PEP adds a new\nstep."
    assert sentences(old) & sentences(new) == {"this pep adds a new step"}


@pytest.mark.skipif(not PEPS_REPO, reason="set PEPS_REPO to a python/peps checkout")
def test_python_peps_checks_and_builds_the_pep(tmp_path: Path) -> None:
    """The PEP shares no sentence with the rejected text it replaces there, and, dropped
    into a copy of python/peps as peps/pep-0582.rst: check-peps.py and
    sphinx-lint (its pre-commit arguments) pass, and its Sphinx build with the Makefile's
    flags reports no warning for the PEP (other PEPs' intersphinx warnings, which appear
    offline, are not ours)."""
    repo = Path(PEPS_REPO)
    assert (repo / "check-peps.py").is_file(), f"{repo} is not a python/peps checkout"
    copy = tmp_path / "peps"
    shutil.copytree(repo, copy, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", "build", ".venv", "venv"))  # fmt: skip
    rejected = (copy / "peps" / "pep-0582.rst").read_text(encoding="utf-8")
    assert not sentences(rejected) & sentences(TEXT), "a sentence of the 2023 text"
    shutil.copy(PEP, copy / "peps" / "pep-0582.rst")
    python = peps_python(repo)
    checked = run([python, "check-peps.py", "peps/pep-0582.rst"], cwd=copy)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr
    lint = run([sys.executable, "-m", "sphinxlint", "--disable=trailing-whitespace",
                copy / "peps" / "pep-0582.rst"])  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr
    warnings = tmp_path / "sphinx-warnings.txt"
    build = run([python, "-m", "sphinx", "--builder", "html", "--jobs", "auto",
                 "--fail-on-warning", "--keep-going", "--warning-file", warnings,
                 "peps", tmp_path / "build"], cwd=copy)  # fmt: skip
    assert (tmp_path / "build" / "pep-0582.html").is_file(), build.stdout[-3000:] + build.stderr
    ours = [line for line in warnings.read_text().splitlines() if "pep-0582" in line]
    assert ours == [], "\n".join(ours)


# -- claims the PEP makes, each checked on real interpreters ----------------------------


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


@pytest.mark.slow
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
def test_the_allowance_owner_is_the_owner_of_what_python_puts_first(tmp_path: Path) -> None:
    """The PEP's table: ``python DIR`` allows the owner of DIR/__main__.py, and ``-c`` or
    ``-m`` in DIR the owner of the current directory, so root gets the same tree both ways
    in a project another user owns (the bind-mount case)."""
    nobody = pwd.getpwnam("nobody").pw_uid
    app = tmp_path / "app"
    purelib = Path(running_scheme(str(app / "__pypackages__"))["purelib"])
    purelib.mkdir(parents=True)
    (purelib / "localmod.py").write_text("")
    show = "import localmod; print('found', localmod.__file__)\n"
    (app / "__main__.py").write_text(show)
    (app / "probe.py").write_text(show)
    for path in [app, *app.rglob("*")]:
        os.lchown(path, nobody, -1)
    python = transcript.interpreter()
    found = f"found {os.path.realpath(purelib)}"
    try:
        ran = run([python, app], cwd=tmp_path)
        assert ran.stdout.startswith(found) and ran.stderr == "", ran.stderr
        for args in (["-c", show], ["-m", "probe"]):
            ran = run([python, *args], cwd=app)
            assert ran.stdout.startswith(found) and ran.stderr == "", (args, ran.stderr)
    finally:
        for path in [app, *app.rglob("*")]:
            os.lchown(path, 0, -1)


def test_e_leaves_pythonuserbase_in_force() -> None:
    """Why the PEP does not say "-E ignores every PYTHON* variable"."""
    for version in VERSIONS:
        python = interpreter(version)
        if python is None:
            continue
        code = "import site; print(site.getuserbase())"
        ran = run([python.executable, "-E", "-c", code], env={"PYTHONUSERBASE": "/nowhere"})
        assert ran.stdout.strip() == "/nowhere", (version, ran.stderr)


def test_a_pth_import_line_can_replace_a_standard_module(tmp_path: Path) -> None:
    """Why the PEP does not say that coming after the standard library rules out
    shadowing: an import line in a site directory can install a finder for ``json``."""
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "finder.py").write_text(
        "import importlib.machinery, sys, types\n"
        "class F:\n"
        "    @classmethod\n"
        "    def find_spec(cls, name, path=None, target=None):\n"
        "        return importlib.machinery.ModuleSpec(name, cls) if name == 'json' else None\n"
        "    create_module = staticmethod(lambda spec: types.ModuleType(spec.name))\n"
        "    exec_module = staticmethod(lambda module: setattr(module, 'planted', True))\n"
        "sys.meta_path.insert(0, F)\n"
    )
    (site_dir / "finder.pth").write_text("import finder\n")
    code = f"import site; site.addsitedir({str(site_dir)!r}); import json; print(json.planted)"
    assert run([sys.executable, "-c", code], check=True).stdout.strip() == "True"


@pytest.mark.slow
def test_pip_prefix_skips_what_the_environment_has_and_writes_broken_scripts(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """Why the PEP says installers must adopt the scheme: ``pip install --prefix`` counts
    the running environment's distributions as installed, and its console scripts cannot
    import their package."""
    base = interpreter(SESSION_VERSION) or interpreter("3.12")
    if base is None:
        pytest.skip("no CPython 3.12/3.13 here")
    venv = tmp_path / "venv"
    run([base.executable, "-m", "venv", venv], check=True)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--no-index",
           "--find-links", wheelhouse, "--disable-pip-version-check"]  # fmt: skip
    run([*pip, "editme"], check=True)
    again = run([*pip, "--prefix", tmp_path / "proj" / "__pypackages__", "editme"], check=True)
    assert "Requirement already satisfied: editme" in again.stdout
    assert not (tmp_path / "proj" / "__pypackages__").exists()
    fresh = tmp_path / "fresh"
    run([*pip, "--ignore-installed", "--prefix", fresh / "__pypackages__", "editme"], check=True)
    run([venv / "bin" / "python", "-m", "pip", "uninstall", "-y", "editme"], check=True)
    script = run([fresh / "__pypackages__" / "bin" / "editme-cli"], cwd=fresh)
    assert "ModuleNotFoundError: No module named 'editme'" in script.stderr


# -- sentences the clean-room reading of the Specification needed, checked ------------------


def session_python(stepping_venv: tuple[Path, str]) -> tuple[Path, tuple[int, int]]:
    venv, version = stepping_venv
    major, minor = version.split(".")
    return venv / "bin" / "python", (int(major), int(minor))


def tree_with(holder: Path, version: tuple[int, int], files: dict[str, str]) -> Path:
    """A tree at ``holder`` (any name) whose purelib for CPython ``version`` holds ``files``."""
    purelib = Path(scheme_paths(str(holder), implementation="cpython", version=version)["purelib"])
    purelib.mkdir(parents=True)
    for name, text in files.items():
        (purelib / name).write_text(text)
    return purelib


def test_site_processes_a_venvs_site_packages_twice(tmp_path: Path) -> None:
    """Why the PEP says what a second performance does, and the reference page's claim: in
    a virtual environment of CPython 3.9-3.13 ``site`` runs the ``.pth`` files of its
    site-packages twice, so a startup hook runs twice."""
    found = [v for v in (VERSIONS[0], VERSIONS[-1]) if interpreter(v) is not None]
    if not found:
        pytest.skip("no CPython 3.9-3.13 here")
    for version in found:
        base = interpreter(version)
        assert base is not None
        python = make_venv(base, tmp_path / version)
        ask = "import sysconfig; print(sysconfig.get_path('purelib'))"
        purelib = run([python, "-c", ask], check=True).stdout.strip()
        Path(purelib, "count.pth").write_text("import sys; print('ran')\n")
        assert run([python, "-c", "pass"], check=True).stdout.split() == ["ran", "ran"], version


def test_a_hook_in_a_venv_opts_it_in_unless_pyvenv_cfg_says_otherwise(tmp_path: Path) -> None:
    """Step 1: a startup hook installed into a virtual environment's own site-packages is
    that environment's opt-in; ``include-local-packages`` with another value still wins."""
    base = interpreter(SESSION_VERSION) or next(
        (found for v in reversed(VERSIONS) if (found := interpreter(v))), None
    )
    if base is None:
        pytest.skip("no CPython 3.9-3.13 here")
    python = make_venv(base, tmp_path / "venv")
    assert pep582("enable", "--python", python).returncode == 0
    project = tmp_path / "project"
    tree_with(project / "__pypackages__", base.facts.version, {"localmod.py": ""})
    assert run([python, "-c", "import localmod"], cwd=project).returncode == 0
    with open(tmp_path / "venv" / "pyvenv.cfg", "a") as cfg:
        cfg.write("include-local-packages = false\n")
    off = run([python, "-c", "import localmod"], cwd=project)
    assert "No module named 'localmod'" in off.stderr
    with open(tmp_path / "venv" / "pyvenv.cfg", "a") as cfg:  # as site: the last line wins
        cfg.write("Include-Local-Packages =  TRUE \n")
    assert run([python, "-c", "import localmod"], cwd=project).returncode == 0


def test_pythonpypackages_may_name_a_directory_of_any_name(
    stepping_venv: tuple[Path, str], tmp_path: Path
) -> None:
    """Step 3: the inherited path need not end in ``__pypackages__`` (an exported tree is a
    resolved path, which may be a link's target)."""
    python, version = session_python(stepping_venv)
    tree_with(tmp_path / "deps", version, {"depmod.py": ""})
    empty = tmp_path / "empty"
    empty.mkdir()
    ran = run([python, "-c", "import depmod"], cwd=empty,
              env={"PYTHONPYPACKAGES": str(tmp_path / "deps")})  # fmt: skip
    assert ran.returncode == 0, ran.stderr


def test_a_path_that_names_no_file_locates_nothing(
    stepping_venv: tuple[Path, str], tmp_path: Path
) -> None:
    """Step 2: a ``sys.argv[0]`` that is no file, directory or archive (here a script that
    does not exist) locates nothing, so the tree beside it does not run."""
    python, version = session_python(stepping_venv)
    project = tmp_path / "project"
    tree_with(project / "__pypackages__", version, {"x.pth": "import sys; print('tree ran')\n"})
    ran = run([python, project / "missing.py"], cwd=tmp_path)
    assert "can't open file" in ran.stderr
    assert "tree ran" not in ran.stdout


# -- claims of the second editor review, checked --------------------------------------------


def test_the_interpreter_does_not_pass_x_nopypackages_to_its_children() -> None:
    """Why the PEP (step 1) has the interpreter pass ``-X nopypackages`` on: the options
    ``subprocess._args_from_interpreter_flags()`` gives a child, which ``multiprocessing``
    uses for its workers, carry only some ``-X`` options, and not this one."""
    code = "import subprocess; print(subprocess._args_from_interpreter_flags())"
    found = [v for v in VERSIONS if interpreter(v) is not None]
    if not found:
        pytest.skip("no CPython 3.9-3.13 here")
    for version in found:
        python = interpreter(version)
        assert python is not None
        ran = run([python.executable, "-X", "nopypackages", "-X", "faulthandler", "-c", code])
        assert "faulthandler" in ran.stdout and "nopypackages" not in ran.stdout, version


def test_a_site_packages_entry_on_pythonpath_moves_the_insertion_point_before_the_stdlib(
    stepping_venv: tuple[Path, str], tmp_path: Path
) -> None:
    """Why the PEP says the tree *normally* follows the standard library: a ``PYTHONPATH``
    entry that is a site-packages directory is the first one, so the tree goes before the
    standard library and a module in it replaces ``json``."""
    python, version = session_python(stepping_venv)
    project = tmp_path / "project"
    tree_with(project / "__pypackages__", version, {"json.py": "PLANTED = True\n"})
    site_packages = run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                        check=True).stdout.strip()  # fmt: skip
    show = "import json; print(getattr(json, 'PLANTED', False))"
    assert run([python, "-c", show], cwd=project, check=True).stdout.strip() == "False"
    moved = run([python, "-c", show], cwd=project, env={"PYTHONPATH": site_packages})
    assert moved.stdout.strip() == "True", moved.stderr


def test_a_symbolic_links_own_mode_grants_everyone_write() -> None:
    """Why clause 3 judges a link by its owner only: on Linux every symbolic link has mode
    0o777, so "not writable by others" could never hold for one."""
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux's link modes")
    assert os.lstat("/proc/self").st_mode & 0o777 == 0o777


def test_an_embedding_application_that_sets_argv_has_an_orig_argv(tmp_path: Path) -> None:
    """Why the PEP does not define embedding by an empty ``sys.orig_argv`` and the reference
    page calls that an approximation: CPython copies the ``argv`` an embedding application
    sets into ``sys.orig_argv``; only one that sets none leaves it empty."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    found = [p for v in ("3.10", "3.13") if (p := interpreter(v)) is not None]
    if compiler is None or not found:
        pytest.skip("no C compiler or CPython 3.10/3.13 here")
    source = tmp_path / "embed.c"
    source.write_text(
        "#include <Python.h>\n"
        "int main(int argc, char **argv) {\n"
        "    PyConfig config;\n"
        "    PyConfig_InitPythonConfig(&config);\n"
        '    wchar_t *args[] = {L"embedder", L"x"};\n'
        "    if (argc > 1) PyConfig_SetArgv(&config, 2, args);\n"
        "    Py_InitializeFromConfig(&config);\n"
        '    PyRun_SimpleString("import sys; print(len(sys.orig_argv))");\n'
        "    Py_Finalize();\n"
        "    return 0;\n"
        "}\n"
    )
    for python in found:
        config = Path(f"{python.executable}-config")
        if not config.exists():
            continue
        flags = run([config, "--includes"], check=True).stdout.split()
        flags += run([config, "--embed", "--ldflags"], check=True).stdout.split()
        program = tmp_path / f"embed{python.facts.version[1]}"
        built = run([compiler, source, "-o", program, *flags])
        if built.returncode:
            pytest.skip(f"cannot build against {python.executable}: {built.stderr[-300:]}")
        assert run([program], check=True).stdout.strip() == "0"
        assert run([program, "set-argv"], check=True).stdout.strip() == "2"


def test_pythonpypackages_applies_to_cwd_invocations_and_to_the_projects_own_scripts(
    stepping_venv: tuple[Path, str], tmp_path: Path
) -> None:
    """Step 3: an inherited tree comes before the current directory's for ``-c``; a script
    takes it only when it has none beside it and lies in the project that holds the tree
    (never a script elsewhere, never one inside the tree)."""
    python, version = session_python(stepping_venv)
    project, other = tmp_path / "project", tmp_path / "other"
    tree = project / "__pypackages__"
    tree_with(tree, version, {"which.py": "NAME = 'project'\n"})
    tree_with(other / "__pypackages__", version, {"which.py": "NAME = 'other'\n"})
    show = "try:\n import which; print(which.NAME)\nexcept ImportError:\n print('none')\n"
    for where in (project / "tools", other / "bin", tmp_path / "elsewhere", tree / "bin"):
        where.mkdir(parents=True, exist_ok=True)
        (where / "show.py").write_text(show)
    env = {"PYTHONPYPACKAGES": str(tree)}

    def sees(*args: str | os.PathLike[str], cwd: Path = tmp_path) -> str:
        ran = run([python, *args], cwd=cwd, env=env)
        assert ran.returncode == 0, ran.stderr
        return ran.stdout.strip()

    assert sees("-c", show, cwd=other) == "project"  # ahead of the cwd's own
    assert sees(project / "tools" / "show.py") == "project"  # the project's helper
    assert sees(tmp_path / "elsewhere" / "show.py") == "none"  # outside the project
    assert sees(tree / "bin" / "show.py") == "none"  # inside the tree itself
    assert sees(other / "bin" / "show.py") == "none"  # another project, no tree beside
    (other / "bin" / "show.py").rename(other / "show.py")
    assert sees(other / "show.py") == "other"  # a script's own tree wins


@pytest.mark.usefixtures("root_only")
def test_the_step_is_off_when_real_and_effective_user_differ(
    stepping_venv: tuple[Path, str], tmp_path: Path
) -> None:
    """Step 1: a process whose real and effective user IDs differ performs no step."""
    python, version = session_python(stepping_venv)
    project = tmp_path / "project"
    tree_with(project / "__pypackages__", version, {"localmod.py": ""})
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("no setpriv here")
    code = (
        "import os, importlib.util as u; "
        "print(os.getuid() != os.geteuid(), u.find_spec('localmod') is not None)"
    )
    ran = run([setpriv, "--ruid=nobody", "--", python, "-c", code], cwd=project)
    assert ran.stdout.split() == ["True", "False"], ran.stdout + ran.stderr
