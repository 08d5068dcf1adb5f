"""``pep582 ide``: real mypy, the written pyright and VS Code settings (JSON with comments
edited in place), and edits that never leave the project directory, even while another
user swaps it (or a directory in it) for a link in a loop."""

from __future__ import annotations

import configparser
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from pep582 import jsonc
from pep582.errors import Pep582Error
from pep582.operations.ide import finder_mapping
from pep582.operations.ide_mypy import is_launcher
from pep582.scheme import trees_in
from pep582.step.startup import DIRNAME

from helpers import interpreter, pep582, run, tree_snapshot

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
SITE = f"{DIRNAME}/lib/python{PY}/site-packages"
LAUNCHER = f"$MYPY_CONFIG_FILE_DIR/{DIRNAME}/bin/pep582-python{PY}"
MARK = "# pep582 ide: installed in __pypackages__, not your code: errors there are silenced"


def project_with_tree(top: Path, name: str = "app") -> Path:
    """A project whose tree holds a typed package (with an error of its own), a module
    without types, and an editable checkout in src/ (a .pth path line)."""
    project = top / name
    site = project / SITE
    (site / "typedpkg").mkdir(parents=True)
    (site / "typedpkg" / "__init__.py").write_text(
        'broken: int = "not an int"\n\ndef answer() -> int:\n    return 42\n'
    )
    (site / "typedpkg" / "py.typed").write_text("")
    (project / "src" / "mine").mkdir(parents=True)
    (project / "src" / "mine" / "__init__.py").write_text("def name() -> str:\n    return 'x'\n")
    (project / "src" / "mine" / "py.typed").write_text("")
    (site / "_mine.pth").write_text(f"{project / 'src'}\n")
    (project / "app.py").write_text(
        "import typedpkg\nfrom mine import name\n\n"
        "wrong: str = typedpkg.answer()\nright: str = name()\n"
    )
    return project


def ide(
    *args: str | os.PathLike[str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    python = interpreter(PY)
    assert python is not None
    return pep582("ide", "--python", python.executable, *args, cwd=cwd)


def mypy(*args: str | os.PathLike[str], cwd: Path) -> list[str]:
    checked = run([sys.executable, "-m", "mypy", "--no-incremental", *args], cwd=cwd)
    assert "Traceback" not in checked.stderr + checked.stdout, checked.stdout + checked.stderr
    return [line for line in checked.stdout.splitlines() if ": error:" in line]


# -- mypy, for real ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("config", ["mypy.ini", "pyproject.toml", "setup.cfg"])
def test_mypy_uses_the_tree_as_installed_packages(tmp_path: Path, config: str) -> None:
    """Types from the tree are used, its own errors are not reported, the project's are,
    the same from another directory; mypy_path is not used (the site directory would be
    the project's own source: "This file shadows library module")."""
    pytest.importorskip("mypy")
    project = project_with_tree(tmp_path)
    settings = {
        "mypy.ini": "[mypy]\nstrict = True\n",
        "pyproject.toml": "[project]\nname = 'app'\n\n[tool.mypy]\nstrict = true\n",
        "setup.cfg": "[metadata]\nname = app\n\n[mypy]\nstrict = True\n",
    }[config]
    (project / config).write_text(settings)
    before = mypy("app.py", cwd=project)
    assert any("typedpkg" in line for line in before), before  # not found without us
    for _ in range(2):
        proc = ide("--mypy", "--project", project)
        assert proc.returncode == 0, proc.stderr
    text = (project / config).read_text()
    assert LAUNCHER in text and "mypy_path" not in text and settings.split("\n")[1] in text
    errors = mypy("app.py", cwd=project)
    assert len(errors) == 1 and errors[0].startswith("app.py:4:"), errors
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    errors = mypy("--config-file", project / config, project / "app.py", cwd=elsewhere)
    assert len(errors) == 1 and ":4: error:" in errors[0] and DIRNAME not in errors[0], errors


def test_mypy_settings_of_an_older_version_are_replaced(tmp_path: Path) -> None:
    """mypy_path entries in the tree and the marked per-module sections go; the user's own
    mypy_path entries and settings stay; mypy no longer says the site directory is on
    its path."""
    pytest.importorskip("mypy")
    project = project_with_tree(tmp_path)
    (project / "stubs").mkdir()
    ini = project / "mypy.ini"
    ini.write_text(
        f"[mypy]\nstrict = True\nmypy_path = stubs:{SITE}\n\n"
        f"{MARK}\n[mypy-typedpkg.*,single.*]\nfollow_imports = silent\n\n"
        "[mypy-other.*]\nignore_missing_imports = True\n"
    )
    proc = ide("--mypy", "--project", project)
    assert proc.returncode == 0, proc.stderr
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(ini.read_text())
    assert parser.get("mypy", "mypy_path") == "stubs"
    assert parser.get("mypy", "python_executable") == LAUNCHER
    assert parser.sections() == ["mypy", "mypy-other.*"] and MARK not in ini.read_text()
    errors = mypy("app.py", cwd=project)
    assert len(errors) == 1 and errors[0].startswith("app.py:4:"), errors


def test_the_launcher_refuses_a_tree_the_trust_rule_refuses(tmp_path: Path) -> None:
    """The launcher adds the tree by the step's rules: made writable by everyone, mypy's
    probe fails with the step's line instead of reading the tree."""
    project = project_with_tree(tmp_path)
    assert ide("--mypy", "--project", project).returncode == 0
    launcher = project / DIRNAME / "bin" / f"pep582-python{PY}"
    (tree,) = trees_in(project / DIRNAME)
    assert is_launcher(launcher.read_bytes(), tree)  # what audit may recognise as ours
    assert not is_launcher(launcher.read_bytes().replace(b"runpy", b"other"), tree)
    probe = run([launcher, "-c"], cwd=tmp_path)
    assert probe.returncode != 0 and "usage" in probe.stderr
    script = tmp_path / "show.py"
    script.write_text("import sys; print(sys.path)\n")
    shown = run([launcher, script], env={"PYTHONSAFEPATH": "1"}, cwd=tmp_path)
    assert shown.returncode == 0 and str(project / SITE) in shown.stdout, shown.stderr
    (project / SITE).chmod(0o777)
    try:
        refused = run([launcher, script], env={"PYTHONSAFEPATH": "1"}, cwd=tmp_path)
    finally:
        (project / SITE).chmod(0o755)
    assert refused.returncode == 1 and "writable by" in refused.stderr, refused.stderr
    assert str(project / SITE) not in refused.stdout


@pytest.mark.parametrize(
    "text",
    [
        f"[mypy]\nstrict = True\n\n{MARK}",  # at the end, no final newline
        f"[mypy]\n{MARK}\n[mypy-a.*]\nfollow_imports = silent\n"
        f"{MARK}\n[mypy-b.*]\nfollow_imports = silent\n",  # twice
        f"[mypy]\nstrict = True\n\n{MARK}\n[mypy-a.*]\nfollow_imports = silent\n\n"
        "[mypy-c.*]\nignore_errors = True\n",
    ],
)
def test_marked_sections_of_older_versions_go_wherever_they_are(tmp_path: Path, text: str) -> None:
    project = project_with_tree(tmp_path)
    ini = project / "mypy.ini"
    ini.write_text(text)
    for _ in range(2):
        proc = ide("--mypy", "--project", project)
        assert proc.returncode == 0, proc.stderr
    written = ini.read_text()
    assert MARK not in written and "mypy-a" not in written and "mypy-b" not in written
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(written)
    assert parser.get("mypy", "python_executable") == LAUNCHER
    assert ("strict" in text) == parser.has_option("mypy", "strict")
    assert ("mypy-c" in text) == parser.has_section("mypy-c.*")


def test_the_newest_python_is_chosen_and_entries_of_another_are_replaced(
    tmp_path: Path,
) -> None:
    """With trees for two Pythons the newest is chosen (as everywhere else; this machine
    has no 3.99, so no interpreter is written), and a later run for another Python
    replaces the entries an earlier run wrote: the user's own stay, ours never pile up."""
    project = project_with_tree(tmp_path)
    newer = project / DIRNAME / "lib" / "python3.99" / "site-packages"
    newer.mkdir(parents=True)
    settings = project / ".vscode" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"python.analysis.extraPaths": ["stubs"]}))
    proc = pep582("ide", "--vscode", "--project", project)
    assert proc.returncode == 0, proc.stderr
    assert "Python 3.99's site directory" in proc.stdout and "no python3.99" in proc.stdout
    data = jsonc.loads(settings.read_text())
    assert data["python.analysis.extraPaths"] == [
        "stubs",
        f"{DIRNAME}/lib/python3.99/site-packages",
    ]
    assert "python.defaultInterpreterPath" not in data
    proc = pep582("ide", "--mypy", "--project", project)
    assert proc.returncode == 3 and "--python" in proc.stderr
    proc = ide("--vscode", "--project", project)
    assert proc.returncode == 0, proc.stderr
    data = jsonc.loads(settings.read_text())
    assert data["python.analysis.extraPaths"] == ["stubs", SITE, "src"]


# -- pyright and VS Code: the written settings --------------------------------------------------


def test_pyright_gets_the_site_directory_and_every_editable_source(tmp_path: Path) -> None:
    """A .pth path line (src/), a setuptools PEP 660 finder mapping and an .egg-link each
    name a directory that goes on sys.path: pyright gets them all."""
    project = project_with_tree(tmp_path)
    site = project / SITE
    for folder in ("lib2/pkg2", "legacy"):
        (project / folder).mkdir(parents=True)
    (site / "__editable___pkg2_1_0_finder.py").write_text(
        f"MAPPING: dict[str, str] = {{'pkg2': {str(project / 'lib2' / 'pkg2')!r}}}\n"
        "NAMESPACES: dict[str, list[str]] = {}\n"
    )
    (site / "legacy.egg-link").write_text(f"{project / 'legacy'}\n.\n")
    outside = tmp_path / "checkout"
    outside.mkdir()
    (site / "far.pth").write_text(f"# a comment\nimport os\n{outside}\n")
    (project / "pyrightconfig.json").write_text('{\n  "extraPaths": ["typings"], // ours\n}\n')
    proc = ide("--pyright", "--project", project)
    assert proc.returncode == 0, proc.stderr
    text = (project / "pyrightconfig.json").read_text()
    assert "// ours" in text
    # in the order the site directory lists them: the finder, _mine.pth, far.pth, the link
    assert jsonc.loads(text)["extraPaths"] == [
        "typings", SITE, "lib2", "src", str(outside), "legacy"
    ]  # fmt: skip


# A distribution ships its finder: what pep582 ide reads of it is one line, never parsed as
# Python (hostile review finding 306: nested deeply, the parser raised RecursionError, an
# internal error, or crashed Python 3.9).
HOSTILE_FINDERS = {
    "deep-expression": "MAPPING = " + "1+" * 200_000 + "1\n",
    "deep-unary": "MAPPING = " + "-" * 1_000_000 + "1\n",
    "deep-dict": "MAPPING = {'a': " + "{'a': " * 100_000 + "'x'" + "}" * 100_001 + "\n",
    "deep-brackets": "MAPPING: dict[str, str] = {" + "[" * 100_000 + "]" * 100_000 + "}\n",
    "not-a-string": "MAPPING = {'pkg': __file__}\n",
    "f-string": "MAPPING = {'pkg': f'/{x}'}\n",
    "over-the-limit": "MAPPING = {'pkg': '/x'}\n" + "#" * (1 << 20),
}


@pytest.mark.parametrize("content", list(HOSTILE_FINDERS))
def test_a_hostile_finder_is_ignored_never_parsed(tmp_path: Path, content: str) -> None:
    project = project_with_tree(tmp_path)
    site = project / SITE
    (project / "lib2" / "pkg2").mkdir(parents=True)
    (site / "__editable___deep_1_0_finder.py").write_text(HOSTILE_FINDERS[content])
    proc = ide("--pyright", "--project", project)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert jsonc.loads((project / "pyrightconfig.json").read_text())["extraPaths"] == [
        SITE, "src"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "mapping"),
    [
        ("MAPPING: dict[str, str] = {'a': '/x/a', 'b.c': '/y'}", {"a": "/x/a", "b.c": "/y"}),
        ("MAPPING = {}", {}),
        ("MAPPING = {'a': '/x',}", {"a": "/x"}),
        (
            """MAPPING = {"it's": '/d\\u00e9j\\xe0\\\\q', 'b': "/\\"q\\""}""",
            {"it's": "/d\u00e9j\xe0\\q", "b": '/"q"'},
        ),
        ("MAPPING = {'a': '/x'} | {}", None),
        ("MAPPING = {'a': '/x' '/y'}", None),
        ("MAPPING = {b'a': '/x'}", None),
        ("MAPPING = {'a': '/x', 'b'}", None),
        ("    MAPPING = {'a': '/x'}", None),  # not at the top level
        ("NAMESPACES = {'a': '/x'}", None),
    ],
)
def test_the_finder_mapping_is_read_as_setuptools_writes_it(
    line: str, mapping: dict[str, str] | None
) -> None:
    assert finder_mapping(f"import sys\n{line}\nNAMESPACES = {{}}\n") == mapping


@pytest.mark.slow
def test_a_real_setuptools_editable_finder_is_read(tmp_path: Path) -> None:
    """Control: ``pep582 install -e .`` of a project whose package lives elsewhere
    (``package-dir``), so setuptools writes a PEP 660 finder: its checkout is found."""
    import virtualenv  # type: ignore[import-untyped]

    links = tmp_path / "links"
    links.mkdir()
    embedded = Path(virtualenv.__file__).parent / "seed" / "wheels" / "embed"
    for wheel in embedded.glob("setuptools-*.whl"):
        shutil.copy(wheel, links)
    project = tmp_path / "proj"
    (project / "lib2" / "pkg2").mkdir(parents=True)
    (project / "lib2" / "pkg2" / "__init__.py").write_text("X = 1\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "pkg2"\nversion = "1.0"\n'
        '[tool.setuptools]\npackages = ["pkg2"]\npackage-dir = {"pkg2" = "lib2/pkg2"}\n'
    )
    python = interpreter(PY)
    assert python is not None
    proc = pep582("install", "--python", python.executable, "--no-index", "--find-links", links,
                  "-e", ".", cwd=project)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (finder,) = (project / SITE).glob("__editable___pkg2_*_finder.py")
    assert finder_mapping(finder.read_text()) == {"pkg2": str(project / "lib2" / "pkg2")}
    proc = ide("--pyright", "--project", project)
    assert proc.returncode == 0, proc.stderr
    extra = jsonc.loads((project / "pyrightconfig.json").read_text())["extraPaths"]
    assert extra == [SITE, "lib2"]


def test_vscode_settings_with_comments_are_edited_in_place(tmp_path: Path) -> None:
    project = project_with_tree(tmp_path)
    settings = project / ".vscode" / "settings.json"
    settings.parent.mkdir()
    original = textwrap.dedent(
        """\
        {
            // the editor
            "editor.tabSize": 4, // four
            /* paths */
            "python.analysis.extraPaths": [
                "typings", // stubs
                "__pypackages__/lib/python3.99/site-packages",
            ],
            "files.watcherExclude": {
                "**/.git/objects/**": true,
            },
            "python.testing.pytestArgs": ["tests"],
        }
        """
    )
    settings.write_text(original)
    proc = ide("--vscode", "--project", project)
    assert proc.returncode == 0, proc.stderr
    text = settings.read_text()
    for comment in ("// the editor", "// four", "/* paths */", "// stubs"):
        assert comment in text
    data = jsonc.loads(text)
    python = interpreter(PY)
    assert python is not None
    assert data == {
        "editor.tabSize": 4,
        "python.analysis.extraPaths": ["typings", SITE, "src"],
        "files.watcherExclude": {"**/.git/objects/**": True, f"**/{DIRNAME}/**": True},
        "python.testing.pytestArgs": ["tests", f"--ignore={DIRNAME}"],
        "python.defaultInterpreterPath": str(python.executable),
        "search.exclude": {f"**/{DIRNAME}": True},
    }
    assert text.startswith(original.split('    "python.analysis')[0])  # untouched above
    again = ide("--vscode", "--project", project)
    assert again.returncode == 0 and "unchanged" in again.stdout and settings.read_text() == text


@pytest.mark.parametrize(
    "text, line",
    [
        ('{\n  "a": 1\n  "b": 2\n}\n', 3),  # a missing comma
        ('{\n  "a": 1,\n  /* never closed\n}\n', 3),
        ('{\n\n  "a": "tab\there"\n}\n', 3),
        ("[1, 2]\n", None),
    ],
)
def test_invalid_settings_are_one_line_and_untouched(
    tmp_path: Path, text: str, line: int | None
) -> None:
    project = project_with_tree(tmp_path)
    settings = project / ".vscode" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(text)
    proc = ide("--vscode", "--project", project)
    assert proc.returncode == 5 and proc.stderr.count("\n") == 1, proc.stderr
    where = f"{settings}:{line}:" if line else f"{settings}:"
    assert where in proc.stderr
    assert settings.read_text() == text


def test_links_are_followed_only_inside_the_project(tmp_path: Path) -> None:
    """Control: the project's own link to a folder inside it is used. A link out of the
    project, and a settings file that is a link, are refused: the target is untouched."""
    project = project_with_tree(tmp_path)
    (project / "config" / "vscode").mkdir(parents=True)
    (project / ".vscode").symlink_to("config/vscode")
    proc = ide("--vscode", "--project", project)
    assert proc.returncode == 0, proc.stderr
    assert (project / "config" / "vscode" / "settings.json").is_file()
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "important.conf").write_text("important\n")
    (project / ".vscode").unlink()
    (project / ".vscode").symlink_to(victim)
    proc = ide("--vscode", "--project", project)
    assert proc.returncode == 5 and "not a plain directory" in proc.stderr
    (project / "pyrightconfig.json").symlink_to(victim / "important.conf")
    proc = ide("--pyright", "--project", project)
    assert proc.returncode == 5 and "not a regular file" in proc.stderr
    assert sorted(os.listdir(victim)) == ["important.conf"]
    assert (victim / "important.conf").read_text() == "important\n"
    through = tmp_path / "through-a-link"
    through.symlink_to(project)  # the user's own link to the project: fine
    proc = ide("--pyright", "--project", through)
    assert proc.returncode == 5 and "not a regular file" in proc.stderr  # reached it
    (project / "pyrightconfig.json").unlink()
    assert ide("--pyright", "--project", through).returncode == 0
    assert (project / "pyrightconfig.json").is_file()


@pytest.mark.parametrize(
    "text, edited",
    [
        ("[tool.mypy]  # the checker\nstrict = true\n", True),
        ('[tool.mypy]\nmypy_path = [\n  "stubs",\n]\n', True),
        # our old entry inside a multi-line array: not removable line by line
        (f'[tool.mypy]\nmypy_path = [\n  "stubs",\n  "{SITE}",\n]\n', False),
        # a marker line inside a multi-line string: editing would change the string
        (f'[project]\nname = "x"\ndescription = """\n{MARK}\nline\n[x]\n"""\n', False),
    ],
)
def test_a_pyproject_that_cannot_be_edited_safely_is_left_alone(
    tmp_path: Path, text: str, edited: bool
) -> None:
    import tomllib

    project = project_with_tree(tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(text)
    proc = ide("--mypy", "--project", project)
    if edited:
        assert proc.returncode == 0, proc.stderr
        data = tomllib.loads(pyproject.read_text())
        assert data["tool"]["mypy"].pop("python_executable") == LAUNCHER
        assert data == tomllib.loads(text)
    else:
        assert proc.returncode == 5 and "by hand" in proc.stderr, proc.stderr
        assert pyproject.read_text() == text


@pytest.mark.parametrize(
    "config, flag",
    [("mypy.ini", "--mypy"), ("pyproject.toml", "--mypy"), (".vscode/settings.json", "--vscode")],
)
def test_a_config_with_undecodable_bytes_is_one_line_and_untouched(
    tmp_path: Path, config: str, flag: str
) -> None:
    project = project_with_tree(tmp_path)
    path = project / config
    path.parent.mkdir(exist_ok=True)
    data = b'[mypy]\nstrict = "\xff\xfe"\n' if flag == "--mypy" else b'{\n"a": "\xff"}'
    path.write_bytes(data)
    proc = ide(flag, "--project", project)
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.count("\n") == 1 and f"{path}:2: not UTF-8" in proc.stderr
    assert path.read_bytes() == data


# -- ownership ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("root_only")
def test_root_keeps_the_owner_of_what_it_edits_and_gives_new_files_the_projects(
    tmp_path: Path,
) -> None:
    """Root editing a colleague's project: their mypy.ini stays theirs (mode too), and
    .vscode, settings.json and the launcher it makes belong to them."""
    project = project_with_tree(tmp_path)
    nobody = pwd.getpwnam("nobody")
    for path in [project, *project.rglob("*")]:
        os.lchown(path, nobody.pw_uid, nobody.pw_gid)
    ini = project / "mypy.ini"
    ini.write_text("[mypy]\nstrict = True\n")
    os.chown(ini, nobody.pw_uid, nobody.pw_gid)
    ini.chmod(0o600)
    proc = ide("--project", project)
    assert proc.returncode == 0, proc.stderr
    info = ini.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (
        nobody.pw_uid, nobody.pw_gid, 0o600
    )  # fmt: skip
    for made in (".vscode", ".vscode/settings.json", "pyrightconfig.json",
                 f"{DIRNAME}/bin", f"{DIRNAME}/bin/pep582-python{PY}"):  # fmt: skip
        assert (project / made).stat().st_uid == nobody.pw_uid, made


# -- another user swaps directories for links while root edits (issue 21, class 6) -------------

EXCHANGE = textwrap.dedent(
    """\
    import ctypes, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    first, second, stop = sys.argv[1:4]
    swaps = 0
    exchange = getattr(libc, "renameat2", None)
    while not os.path.exists(stop):
        if exchange is not None:
            if exchange(-100, first.encode(), -100, second.encode(), 2) == 0:
                swaps += 1
        else:  # no renameat2: move the directory away and put the link in its place
            try:
                os.rename(first, first + ".away")
                os.rename(second, first)
                os.rename(first, second)
                os.rename(first + ".away", first)
                swaps += 1
            except OSError:
                pass
    print(swaps)
    """
)


@pytest.fixture
def arena() -> Iterator[Path]:
    """A directory every user can reach (pytest's own tmp is root's private one)."""
    top = Path(tempfile.mkdtemp(prefix="pep582-ide-", dir="/tmp"))
    top.chmod(0o755)
    yield top
    shutil.rmtree(top, ignore_errors=True)


def _canary(top: Path) -> Path:
    """A root-owned project that a misdirected edit would change or add to."""
    canary = project_with_tree(top, "canary")
    (canary / ".vscode").mkdir()
    (canary / ".vscode" / "settings.json").write_text('{"canary": true}\n')
    (canary / "pyrightconfig.json").write_text('{"canary": true}\n')
    (canary / "mypy.ini").write_text("[mypy]\ncanary = True\n")
    (canary / DIRNAME / "bin").mkdir()
    return canary


def _state(top: Path) -> dict[str, object]:
    found: dict[str, object] = dict(tree_snapshot(top))
    for path in [top, *top.rglob("*")]:
        info = path.lstat()
        found[f"{path} owner"] = (info.st_uid, info.st_gid, info.st_mode)
    return found


@pytest.mark.slow
@pytest.mark.usefixtures("root_only")
@pytest.mark.parametrize("swapped", ["project", ".vscode", DIRNAME, ".vscode/settings.json"])
def test_swapping_a_directory_for_a_link_in_a_loop_never_reaches_outside(
    arena: Path, swapped: str
) -> None:
    """As root, `pep582 ide` runs (in-process, many times, and as the command) on a
    project that belongs to nobody, while nobody exchanges the project directory (or its
    .vscode, its __pypackages__, the settings file) with a link into a root-owned canary
    project, using
    renameat2(RENAME_EXCHANGE), in a loop. The canary stays byte for byte and owner for
    owner what it was; every run either edits the real project or stops with one line."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    python = interpreter(PY)
    assert python is not None
    from pep582.operations import ide as editors

    canary = _canary(arena)
    before = _state(canary)
    attack = arena / "attack"
    attack.mkdir()
    project = project_with_tree(attack, "proj")
    nobody = pwd.getpwnam("nobody")
    for path in [attack, *attack.rglob("*")]:
        os.lchown(path, nobody.pw_uid, nobody.pw_gid)
    setup = editors.prepare(project, str(python.executable))
    if swapped == "project":
        first, target = project, canary
    else:
        first, target = project / swapped, canary / swapped
        if swapped.endswith(".json"):
            first.parent.mkdir()
            first.write_text("{}\n")
        else:
            first.mkdir(exist_ok=True)
        for made in (first, first.parent):
            os.lchown(made, nobody.pw_uid, nobody.pw_gid)
    link = first.parent / f"{first.name}-link"
    link.symlink_to(target)
    os.lchown(link, nobody.pw_uid, nobody.pw_gid)
    script = arena / "exchange.py"
    script.write_text(EXCHANGE)
    stop = arena / "stop"
    attacker = subprocess.Popen(
        ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
         "/usr/bin/python3", str(script), str(first), str(link), str(stop)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    outcomes = {"edited": 0, "refused": 0}
    try:
        for _ in range(150):
            try:
                editors.configure(setup, list(editors.TOOLS))
                outcomes["edited"] += 1
            except (Pep582Error, OSError):
                outcomes["refused"] += 1
        for _ in range(3):
            proc = ide("--project", project)
            assert proc.returncode in (0, 4, 5), proc.stderr  # 4: a place changed while judged
            assert proc.returncode == 0 or proc.stderr.count("\n") == 1, proc.stderr
    finally:
        stop.write_text("")
        out, _ = attacker.communicate(timeout=60)
    print(swapped, outcomes, "swaps:", out.strip())
    assert attacker.returncode == 0 and int(out) > 100, out  # the race really ran
    assert outcomes["edited"] > 0, outcomes
    assert _state(canary) == before


@pytest.mark.usefixtures("root_only")
def test_a_link_to_the_project_that_another_user_owns_is_not_followed(arena: Path) -> None:
    """Control for the loop above: the project named through nobody's link is refused
    (nobody could re-point it); through root's own link in a root-owned directory it is
    used."""
    project = project_with_tree(arena, "proj")
    nobody = pwd.getpwnam("nobody")
    theirs = arena / "theirs"
    theirs.mkdir()
    os.chown(theirs, nobody.pw_uid, nobody.pw_gid)
    (theirs / "proj").symlink_to(project)
    os.lchown(theirs / "proj", nobody.pw_uid, nobody.pw_gid)
    proc = ide("--pyright", "--project", theirs / "proj")
    assert proc.returncode == 5 and "link owned by nobody" in proc.stderr, proc.stderr
    assert not (project / "pyrightconfig.json").exists()
    (arena / "mine").symlink_to(project)
    proc = ide("--pyright", "--project", arena / "mine")
    assert proc.returncode == 0, proc.stderr
    assert (project / "pyrightconfig.json").is_file()
