"""`pep582-migrate VENV`: a real venv, built offline, carried into __pypackages__."""

from __future__ import annotations

import base64
import csv
import fcntl
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from pep582.operations.migrate import migrate as run_migration
from pep582.scheme import InterpreterFacts, scheme_for

from helpers import PACKAGES, copy_packages, run

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
FACTS = InterpreterFacts.running()
CHECK_IMPORTS = """\
import json, cext._speed, editme, extra_mod, hello, legacy_pkg, nsdemo.a, nsdemo.b, withdata
print(json.dumps({
    "twice": cext._speed.twice(21),
    "hello": hello.__file__,
    "editme": editme.__file__,
    "legacy": legacy_pkg.__file__,
    "ns": [nsdemo.a.NAME, nsdemo.b.NAME],
    "extra": extra_mod.FOUND,
    "withdata": withdata.__file__,
}))
"""


def migrate(*args: str | os.PathLike[str], cwd: Path | None = None) -> Any:
    return run([sys.executable, "-m", "pep582.commands.migrate", *args], cwd=cwd)


def snapshot(tree: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry under ``tree``: mode, mtime and content hash (or link target)."""
    result = {}
    for path in sorted(tree.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            content = "->" + os.readlink(path)
        elif path.is_file():
            content = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            content = "dir"
        result[str(path.relative_to(tree))] = (info.st_mode, info.st_mtime_ns, content)
    return result


@pytest.fixture(scope="module")
def rich_venv(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """A virtualenv (path with a space) holding every kind of installed distribution."""
    root = tmp_path_factory.mktemp("rich")
    venv = root / "my env"
    run(
        [
            sys.executable,
            "-m",
            "virtualenv",
            "-q",
            "--no-periodic-update",
            "--no-download",
            "--setuptools",
            "bundle",
            "-p",
            sys.executable,
            venv,
        ],
        check=True,
    )
    python = venv / "bin" / "python"
    run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--find-links",
            wheelhouse,
            "hello",
            "withdata",
            "cext",
            "nsa",
            "nsb",
            "pthdist",
        ],
        check=True,
    )
    sources = copy_packages(root / "src")
    editme = next(p for p in sources if p.name == "editme")
    run(
        [python, "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation", "-e", editme],
        check=True,
    )
    site = next(venv.glob("lib/python*/site-packages"))
    # A legacy `setup.py develop` install, as old pip/setuptools left it.
    legacy = root / "legacy"
    (legacy / "legacy_pkg").mkdir(parents=True)
    (legacy / "legacy_pkg" / "__init__.py").write_text("def main():\n    print('legacy ok')\n")
    info = legacy / "legacy_pkg.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: legacy-pkg\nVersion: 0.9\n")
    (info / "entry_points.txt").write_text("[console_scripts]\nlegacy-cli = legacy_pkg:main\n")
    (site / "legacy-pkg.egg-link").write_text(f"{legacy}\n.\n")
    (site / "easy-install.pth").write_text(f"{legacy}\n")
    # A hand-made .pth pointing into the venv itself, by absolute path.
    (site / "zz_custom.pth").write_text(f"{site / 'pthdist_extra'}\n")
    return venv


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "check.py").write_text(CHECK_IMPORTS)
    return proj


def record_problems(site: Path) -> list[str]:
    """RECORD entries that do not resolve, or resolve to other bytes.

    Hashless entries that virtualenv's seeder records but never writes (``x.pyc`` beside
    ``x.py``, directories) are tolerated: they are missing in the source venv too.
    """
    problems = []
    for record in site.glob("*.dist-info/RECORD"):
        with open(record, newline="") as handle:
            for path, digest, size in csv.reader(handle):
                target = (site / path).resolve() if not os.path.isabs(path) else Path(path)
                if not target.exists():
                    if digest or not (path.endswith(".pyc") or path.endswith("__pycache__")):
                        problems.append(f"{record}: {path} missing")
                    continue
                if digest:
                    algorithm, value = digest.split("=", 1)
                    data = target.read_bytes()
                    raw = hashlib.new(algorithm, data).digest()
                    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != value:
                        problems.append(f"{record}: {path} hash differs")
                    if int(size) != len(data):
                        problems.append(f"{record}: {path} size differs")
    return problems


def pip_list(python: Path | str, path: Path) -> list[tuple[str, str]]:
    proc = run([python, "-m", "pip", "list", "--format", "json", "--path", path], check=True)
    return sorted((d["name"].lower(), d["version"]) for d in json.loads(proc.stdout))


@pytest.mark.parametrize("layout", ["pep582", "pdm"])
def test_full_migration(rich_venv: Path, project: Path, layout: str, tmp_path: Path) -> None:
    before = snapshot(rich_venv)
    proc = migrate(rich_venv, "--project", project, "--layout", layout)
    assert proc.returncode == 0, proc.stderr
    assert "skipped pip" in proc.stdout
    assert snapshot(rich_venv) == before, "the source venv changed"
    scheme = scheme_for(project, FACTS, layout)  # type: ignore[arg-type]
    site = Path(scheme.purelib)
    assert (project / "__pypackages__" / ".gitignore").read_text() == "*\n"
    assert record_problems(site) == []
    venv_site = next(rich_venv.glob("lib/python*/site-packages"))
    # virtualenv made it: only its pip is known to be a seed (setuptools is carried)
    expected = [d for d in pip_list(rich_venv / "bin" / "python", venv_site) if d[0] != "pip"]
    assert pip_list(sys.executable, site) == expected
    # data files and non-entry-point scripts landed in the scheme
    assert (Path(scheme.data) / "share" / "withdata" / "data.txt").read_text() == "payload\n"
    tool = Path(scheme.scripts) / "withdata-tool"
    assert (
        tool.read_text().splitlines()[0] == f"#!{Path(sys.base_prefix)}/bin/python{PY}"
        or "my env" not in tool.read_text().splitlines()[0]
    )
    # hard links by default, modes and mtimes kept
    source_init = venv_site / "hello" / "__init__.py"
    target_init = site / "hello" / "__init__.py"
    assert os.path.samefile(source_init, target_init)
    # delete the venv (a copy stands in, so the fixture stays usable) and run everything
    moved = tmp_path / "venv-gone"
    shutil.move(rich_venv, moved)
    try:
        if layout == "pep582":
            proc = run(
                [sys.executable, "-m", "pep582.commands.main", "run", "check.py"], cwd=project
            )
            assert proc.returncode == 0, proc.stderr
            data = json.loads(proc.stdout)
            assert data["twice"] == 42
            assert data["hello"].startswith(str(project / "__pypackages__"))
            assert data["ns"] == ["nsa", "nsb"] and data["extra"] is True
            assert "__pypackages__" not in data["editme"]  # still the source tree
        for script, expect in [
            ("hello-cli", "hello from"),
            ("editme-cli", "editme from"),
            ("legacy-cli", "legacy ok"),
            ("withdata-tool", "tool"),
        ]:
            proc = run([Path(scheme.scripts) / script], cwd=tmp_path)
            assert proc.returncode == 0, (script, proc.stderr)
            assert expect in proc.stdout
            assert "written by pep582-toolkit" in (Path(scheme.scripts) / script).read_text()
    finally:
        shutil.move(moved, rich_venv)


def test_pth_pointing_into_venv_is_rewritten(rich_venv: Path, project: Path) -> None:
    assert migrate(rich_venv, "--project", project).returncode == 0
    site = Path(scheme_for(project, FACTS, "pep582").purelib)
    assert (site / "zz_custom.pth").read_text() == "pthdist_extra\n"
    assert (site / "pthdist.pth").read_text() == "pthdist_extra\n"


def test_copy_mode_makes_independent_files(rich_venv: Path, project: Path) -> None:
    proc = migrate(rich_venv, "--project", project, "--copy", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["result"]["linked"] == 0 and report["result"]["copied"] > 0
    venv_site = next(rich_venv.glob("lib/python*/site-packages"))
    site = Path(scheme_for(project, FACTS, "pep582").purelib)
    source, target = venv_site / "hello" / "__init__.py", site / "hello" / "__init__.py"
    assert not os.path.samefile(source, target)
    assert source.stat().st_mtime_ns == target.stat().st_mtime_ns
    assert source.stat().st_mode == target.stat().st_mode


def test_round_trip_pdm_pep582_pdm(rich_venv: Path, tmp_path: Path) -> None:
    first, second, third = (tmp_path / n for n in ("a", "b", "c"))
    for directory in (first, second, third):
        directory.mkdir()
    assert migrate(rich_venv, "--project", first, "--layout", "pdm").returncode == 0
    proc = migrate(first / "__pypackages__", "--project", second, "--layout", "pep582")
    assert proc.returncode == 0, proc.stderr
    proc = migrate(second / "__pypackages__", "--project", third, "--layout", "pdm")
    assert proc.returncode == 0, proc.stderr
    one = Path(scheme_for(first, FACTS, "pdm").purelib)
    two = Path(scheme_for(second, FACTS, "pep582").purelib)
    three = Path(scheme_for(third, FACTS, "pdm").purelib)
    assert (
        pip_list(sys.executable, one)
        == pip_list(sys.executable, two)
        == pip_list(sys.executable, three)
    )
    assert record_problems(two) == [] and record_problems(three) == []
    names = lambda root: sorted(  # noqa: E731
        str(p.relative_to(root)) for p in root.rglob("*") if "RECORD" not in p.name
    )
    assert names(one) == names(three)
    proc = run([Path(scheme_for(third, FACTS, "pdm").scripts) / "hello-cli"], check=True)
    assert str(three) in proc.stdout


def test_in_place_layout_conversion_with_replace(rich_venv: Path, tmp_path: Path) -> None:
    assert migrate(rich_venv, "--project", tmp_path, "--layout", "pdm").returncode == 0
    proc = migrate(tmp_path / "__pypackages__", "--layout", "pep582")
    assert proc.returncode == 4 and "--replace" in proc.stderr
    proc = migrate(tmp_path / "__pypackages__", "--layout", "pep582", "--replace")
    assert proc.returncode == 0, proc.stderr
    assert not Path(scheme_for(tmp_path, FACTS, "pdm").purelib).exists()
    assert record_problems(Path(scheme_for(tmp_path, FACTS, "pep582").purelib)) == []


def test_existing_target_refused_then_merge_and_replace(rich_venv: Path, project: Path) -> None:
    assert migrate(rich_venv, "--project", project).returncode == 0
    proc = migrate(rich_venv, "--project", project)
    assert proc.returncode == 4
    assert proc.stderr.count("\n") == 1 and "already exists" in proc.stderr
    proc = migrate(rich_venv, "--project", project, "--merge", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["noop"] == "every distribution is already present"
    assert {d["action"] for d in data["distributions"]} == {"keep"}
    site = Path(scheme_for(project, FACTS, "pep582").purelib)
    (site / "stray.txt").write_text("old tree\n")
    proc = migrate(rich_venv, "--project", project, "--replace")
    assert proc.returncode == 0, proc.stderr
    assert not (site / "stray.txt").exists()
    assert record_problems(site) == []


def test_tampered_file_stops_migration(rich_venv: Path, tmp_path: Path) -> None:
    venv = tmp_path / "copy"
    shutil.copytree(rich_venv, venv, symlinks=True)
    victim = next(venv.glob("lib/python*/site-packages")) / "hello" / "__init__.py"
    victim.write_text(victim.read_text() + "# tampered\n")
    project = tmp_path / "proj"
    project.mkdir()
    proc = migrate(venv, "--project", project)
    assert proc.returncode == 6
    assert str(victim) in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert sorted(os.listdir(project)) == []
    assert migrate(venv, "--project", project, "--no-verify").returncode == 0


def test_dry_run_writes_nothing(rich_venv: Path, project: Path) -> None:
    proc = migrate(rich_venv, "--project", project, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "hello 1.0" in proc.stdout and "to hard-link" in proc.stdout
    data = json.loads(migrate(rich_venv, "--project", project, "--dry-run", "--json").stdout)
    assert {d["name"] for d in data["distributions"]} >= {"hello", "editme", "legacy-pkg"}
    skipped = {s["what"].split()[0] for s in data["skipped"]}
    assert {"pip", "console"} <= skipped  # (and virtualenv's scaffolding, where it has one)
    assert sorted(os.listdir(project)) == ["check.py"]


def test_failure_midway_leaves_nothing(
    rich_venv: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    original = os.link

    def flaky_link(src: Any, dst: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 20:
            raise KeyboardInterrupt
        original(src, dst, **kwargs)

    monkeypatch.setattr(os, "link", flaky_link)
    with pytest.raises(KeyboardInterrupt):
        run_migration(rich_venv, project, "pep582", "refuse")
    assert sorted(os.listdir(project)) == ["check.py"]


def test_lock_stops_a_second_run(rich_venv: Path, project: Path) -> None:
    with open(project / ".__pypackages__.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        proc = migrate(rich_venv, "--project", project)
    assert proc.returncode == 4 and "another run" in proc.stderr
    assert not (project / "__pypackages__").exists()


def test_bad_sources_are_one_line_errors(tmp_path: Path, rich_venv: Path) -> None:
    proc = migrate(tmp_path / "missing")
    assert proc.returncode == 5 and proc.stderr.count("\n") == 1
    (tmp_path / "plain").mkdir()
    proc = migrate(tmp_path / "plain")
    assert proc.returncode == 5 and "not a virtual environment" in proc.stderr
    venv = tmp_path / "liar"
    shutil.copytree(rich_venv, venv, symlinks=True)
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace(f"version_info = {PY}", "version_info = 3.4"))
    proc = migrate(venv, "--project", tmp_path)
    assert proc.returncode == 5
    assert "disagree" in proc.stderr and "3.4" in proc.stderr


def test_system_site_packages_is_warned(rich_venv: Path, tmp_path: Path) -> None:
    venv = tmp_path / "sys"
    shutil.copytree(rich_venv, venv, symlinks=True)
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(
        cfg.read_text().replace(
            "include-system-site-packages = false", "include-system-site-packages = true"
        )
    )
    proc = migrate(venv, "--project", tmp_path, "--dry-run")
    assert "include-system-site-packages" in proc.stdout


def test_help_documents_exit_codes() -> None:
    text = migrate("--help").stdout
    assert "Exit codes" in text and "--dry-run" in text and "pep582-migrate .venv" in text


def test_packages_dir_is_untouched_by_builds() -> None:
    assert not list(PACKAGES.glob("*/build")) and not list(PACKAGES.rglob("*.egg-info"))


def test_record_rows_are_unique(rich_venv: Path, project: Path) -> None:
    assert migrate(rich_venv, "--project", project).returncode == 0
    site = Path(scheme_for(project, FACTS, "pep582").purelib)
    for record in site.glob("*.dist-info/RECORD"):
        rows = [row[0] for row in csv.reader(record.read_text().splitlines())]
        assert len(rows) == len(set(rows)), record
        assert rows.count(f"{record.parent.name}/RECORD") == 1


def test_console_scripts_named_py_are_not_written(rich_venv: Path, project: Path) -> None:
    proc = migrate(rich_venv, "--project", project)
    assert proc.returncode == 0, proc.stderr
    assert "skipped console script hello.py of hello: names ending in .py" in proc.stdout
    scheme = scheme_for(project, FACTS, "pep582")
    assert not (Path(scheme.scripts) / "hello.py").exists()
    assert (rich_venv / "bin" / "hello.py").exists()  # the venv had it
    record = next(Path(scheme.purelib).glob("hello-*.dist-info/RECORD")).read_text()
    assert "hello.py," not in record and "bin/hello-cli," in record


def test_scripts_dir_holding_its_own_pypackages_is_warned(rich_venv: Path, project: Path) -> None:
    nested = project / "__pypackages__" / "bin" / "__pypackages__"
    nested.mkdir(parents=True)
    proc = migrate(rich_venv, "--project", project, "--merge", "--dry-run")
    assert f"warning: {nested} exists: it would apply to every script" in proc.stdout


def test_uv_venv_is_recognised(tmp_path: Path, wheelhouse: Path) -> None:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not os.path.exists(uv):
        pytest.skip("uv is not installed")
    venv = tmp_path / "uvenv"
    run([uv, "venv", "-q", "--python", sys.executable, venv], check=True)
    run(
        [
            uv,
            "pip",
            "install",
            "-q",
            "--no-index",
            "--find-links",
            wheelhouse,
            "--python",
            venv / "bin" / "python",
            "hello",
            "withdata",
        ],
        check=True,
    )
    assert "uv" in (venv / "pyvenv.cfg").read_text()
    project = tmp_path / "proj"
    project.mkdir()
    proc = migrate(venv, "--project", project)
    assert proc.returncode == 0, proc.stderr
    scheme = scheme_for(project, FACTS, "pep582")
    assert record_problems(Path(scheme.purelib)) == []
    assert pip_list(sys.executable, Path(scheme.purelib)) == [
        ("hello", "1.0"),
        ("withdata", "2.0"),
    ]
    shutil.rmtree(venv)
    proc = run([Path(scheme.scripts) / "hello-cli"], check=True)
    assert str(project / "__pypackages__") in proc.stdout


def test_symlinks_in_site_packages_are_kept_as_links(rich_venv: Path, tmp_path: Path) -> None:
    venv = tmp_path / "links"
    shutil.copytree(rich_venv, venv, symlinks=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "hello_alias").symlink_to("hello", target_is_directory=True)
    (site / "alias_mod.py").symlink_to("hello/__init__.py")
    project = tmp_path / "proj"
    project.mkdir()
    assert migrate(venv, "--project", project).returncode == 0
    target = Path(scheme_for(project, FACTS, "pep582").purelib)
    assert os.readlink(target / "hello_alias") == "hello"
    assert os.readlink(target / "alias_mod.py") == "hello/__init__.py"
    assert (target / "hello_alias" / "__init__.py").is_file()


def test_dry_run_shows_the_plan_when_the_target_exists(rich_venv: Path, project: Path) -> None:
    """A dry run never stops at an existing tree: it shows the plan and says what a real
    run would need."""
    assert migrate(rich_venv, "--project", project).returncode == 0
    proc = migrate(rich_venv, "--project", project, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "already exists: a real run needs --merge or --replace" in proc.stdout
    assert "keep    hello 1.0" in proc.stdout
