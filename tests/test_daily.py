"""The daily verbs on one plan: install, upgrade, uninstall, list, freeze, ide; the JSON
schema of every source; the CLI's small promises (exit codes, one-line errors)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from pep582.scheme import scheme_for
from pep582.step.startup import DIRNAME

from helpers import (
    PACKAGES,
    bare_venv,
    build_wheels,
    copy_packages,
    fake_dist,
    interpreter,
    migrate_cli,
    pep582,
    run,
)

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
PLAN_KEYS = {
    "schema", "operation", "sources", "target", "layout", "existing", "interpreter",
    "schemes", "mode", "verify", "compile", "distributions", "files", "skipped", "warnings",
    "notes", "unowned", "noop",
}  # fmt: skip
CHANGE_KEYS = {
    "name", "version", "action", "previous", "python", "kind", "editable", "requested",
    "scripts", "origin",
}  # fmt: skip


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """The test wheels, plus hello 2.0."""
    links = tmp_path_factory.mktemp("daily-wheels")
    for wheel in wheelhouse.glob("*.whl"):
        shutil.copy(wheel, links)
    hello = next(p for p in copy_packages(tmp_path_factory.mktemp("src")) if p.name == "hello")
    pyproject = hello / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "1.0"', 'version = "2.0"'))
    build_wheels(links, hello)
    return links


def offline(wheels: Path) -> list[str]:
    return ["--no-index", "--find-links", str(wheels), "--python", sys.executable]


def pip_list(site: Path) -> dict[str, str]:
    proc = run([sys.executable, "-m", "pip", "list", "--format", "json", "--path", site])
    return {d["name"].lower(): d["version"] for d in json.loads(proc.stdout)}


def our_list(project: Path) -> dict[str, str]:
    data = json.loads(pep582("list", "--json", "--project", project).stdout)
    assert data["schema"] == 1
    (tree,) = [t for t in data["trees"] if t["python"] == PY]
    return {d["name"].lower(): d["version"] for d in tree["distributions"]}


def site_of(project: Path) -> Path:
    python = interpreter(PY)
    assert python is not None
    return Path(scheme_for(project, python.facts, "pep582").purelib)


def check_plan(data: dict[str, Any], operation: str) -> None:
    assert set(data) >= PLAN_KEYS, PLAN_KEYS - set(data)
    assert data["schema"] == 1 and data["operation"] == operation
    for change in data["distributions"]:
        assert set(change) == CHANGE_KEYS
        assert change["action"] in ("add", "upgrade", "keep", "remove")


@pytest.mark.slow
def test_install_list_upgrade_uninstall_round_trip(tmp_path: Path, wheels: Path) -> None:
    project = tmp_path / "app"
    project.mkdir()
    proc = pep582("install", *offline(wheels), "hello==1.0", "withdata", "--project", project)
    assert proc.returncode == 0, proc.stderr
    assert "added: hello 1.0, withdata 2.0" in proc.stdout
    site = site_of(project)
    assert pip_list(site) == our_list(project) == {"hello": "1.0", "withdata": "2.0"}
    assert run([project / DIRNAME / "bin" / "hello-cli"]).stdout.startswith("hello from")
    listed = json.loads(pep582("list", "--json", "--project", project).stdout)
    (hello,) = [d for d in listed["trees"][0]["distributions"] if d["name"] == "hello"]
    assert hello["scripts"] == ["hello-cli"]  # its refused hello.py was never written

    proc = pep582("install", *offline(wheels), "withdata", "--project", project)
    assert proc.returncode == 0 and "nothing to do" in proc.stdout

    proc = pep582("install", *offline(wheels), "--upgrade", "hello", "--project", project)
    assert proc.returncode == 0, proc.stderr
    assert "upgraded: hello 1.0 → 2.0" in proc.stdout
    assert "already present: withdata 2.0" in proc.stdout
    assert pip_list(site) == our_list(project) == {"hello": "2.0", "withdata": "2.0"}
    assert not (site / "hello-1.0.dist-info").exists()

    freeze = pep582("freeze", "--project", project).stdout.split()
    assert freeze == ["hello==2.0", "withdata==2.0"]

    proc = pep582("uninstall", "withdata", "--project", project)
    assert proc.returncode == 0, proc.stderr
    assert "removed: withdata 2.0" in proc.stdout
    removed = int(proc.stdout.split("files: ")[1].split()[0])
    assert removed >= 4  # module, data file, script, metadata files: counted one by one
    assert pip_list(site) == our_list(project) == {"hello": "2.0"}
    assert not (project / DIRNAME / "share" / "withdata").exists()
    assert run([project / DIRNAME / "bin" / "hello-cli"]).returncode == 0

    proc = pep582("uninstall", "withdata", "--project", project)
    assert proc.returncode == 5 and "withdata is not installed" in proc.stderr


@pytest.mark.slow
def test_a_fresh_migration_of_the_same_requirements_gives_the_same_files(
    tmp_path: Path, wheels: Path
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for project in (one, two):
        project.mkdir()
        (project / "requirements.txt").write_text("hello==1.0\nwithdata\n")
    assert pep582("install", *offline(wheels), "hello==1.0", "--project", one).returncode == 0
    assert pep582("install", *offline(wheels), "withdata", "--project", one).returncode == 0
    assert migrate_cli(two / "requirements.txt", *offline(wheels)).returncode == 0

    def files(project: Path) -> set[str]:
        root = project / DIRNAME
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    assert files(one) == files(two)


def test_uninstall_leaves_what_another_version_rewrote_and_says_what_still_needs_it(
    tmp_path: Path,
) -> None:
    project = tmp_path / "app"
    venv = project / ".venv"
    site = bare_venv(venv)
    fake_dist(site, "base", "1.0", {"base.py": b"X = 1\n"})
    fake_dist(site, "user", "1.0", {"user.py": b"import base\n"}, requires=("base",))
    assert migrate_cli(venv).returncode == 0
    proc = pep582("uninstall", "base", "--project", project, "--python", sys.executable)
    assert proc.returncode == 0, proc.stderr
    assert f"user 1.0 (Python {PY}) still requires base" in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("source", ["venv", "requirements", "pylock", "pyproject", "uninstall"])
def test_json_schema_for_every_source(tmp_path: Path, wheels: Path, source: str) -> None:
    project = tmp_path / "app"
    project.mkdir()
    if source == "venv":
        site = bare_venv(project / ".venv")
        fake_dist(site, "hello", "1.0", {"hello_mod.py": b""})
        args = [project / ".venv"]
    elif source == "requirements":
        (project / "requirements.txt").write_text("hello==1.0\n")
        args = [project / "requirements.txt", *offline(wheels)]
    elif source == "pyproject":
        (project / "pyproject.toml").write_text(
            '[project]\nname = "app"\nversion = "0"\ndependencies = ["hello==1.0"]\n'
            '[dependency-groups]\ntest = ["withdata"]\n'
        )
        args = [project / "pyproject.toml", "--group", "test", *offline(wheels)]
    elif source == "pylock":
        if run([sys.executable, "-m", "pip", "lock", "--help"]).returncode != 0:
            pytest.skip("this pip has no `pip lock`")
        (project / "requirements.txt").write_text("hello==1.0\n")
        run([sys.executable, "-m", "pip", "lock", "-q", "--no-index", "--find-links", wheels,
             "-r", project / "requirements.txt", "-o", project / "pylock.toml"],
            check=True)  # fmt: skip
        args = [project / "pylock.toml", "--python", sys.executable]
    else:
        assert (
            pep582("install", *offline(wheels), "hello==1.0", "--project", project).returncode == 0
        )
        proc = pep582("uninstall", "hello", "--project", project, "--json", "--dry-run")
        check_plan(json.loads(proc.stdout), "uninstall")
        proc = pep582("uninstall", "hello", "--project", project, "--json")
        data = json.loads(proc.stdout)
        check_plan(data, "uninstall")
        assert data["result"]["removed"] >= 3
        return
    operation = "migrate" if source == "venv" else "install"
    dry = migrate_cli(*args, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    check_plan(json.loads(dry.stdout), operation)
    proc = migrate_cli(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    check_plan(data, operation)
    assert set(data["result"]) >= {"linked", "copied", "written", "removed", "seconds"}
    names = {c["name"] for c in data["distributions"]}
    assert "hello" in names
    if source == "pyproject":
        assert "withdata" in names and "app" not in names


def test_json_errors_are_json(tmp_path: Path) -> None:
    proc = migrate_cli(tmp_path / "missing", "--json")
    assert proc.returncode == 5
    error = json.loads(proc.stderr)["error"]
    assert error["exit_code"] == 5 and "does not exist" in error["message"]
    proc = pep582("list", "--json", "--python", "no-such-python")
    assert proc.returncode == 3 and json.loads(proc.stderr)["error"]["kind"] == "InterpreterError"


def test_inputs_that_are_not_requirements_are_recognised(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hi')\n")
    proc = migrate_cli(tmp_path / "app.py")
    assert proc.returncode == 5 and "is a Python script" in proc.stderr
    (tmp_path / "requirements.txt").write_text("# nothing yet\n\n")
    proc = migrate_cli(tmp_path / "requirements.txt")
    assert proc.returncode == 0
    assert "names no requirements; nothing to install" in proc.stdout
    assert not (tmp_path / DIRNAME).exists()


def test_run_of_a_missing_script_is_pythons_own_one_line(tmp_path: Path) -> None:
    """pep582 run starts the interpreter itself: no launcher frames, Python's exit 2."""
    proc = pep582("run", "--python", sys.executable, "missing.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert "can't open file" in proc.stderr and "Traceback" not in proc.stderr
    (tmp_path / "boom.py").write_text("raise SystemExit('boom')\n")
    assert pep582("run", "--python", sys.executable, "boom.py", cwd=tmp_path).returncode == 1
    (tmp_path / "tb.py").write_text("def f():\n    1 / 0\nf()\n")
    proc = pep582("run", "--python", sys.executable, "tb.py", cwd=tmp_path)
    assert "pep582" not in proc.stderr and "launch" not in proc.stderr
    assert proc.stderr.count('File "') == 2  # <module> and f: nothing of ours


def test_in_place_layout_conversion_counts_each_distribution_once(
    tmp_path: Path, wheels: Path
) -> None:
    assert pep582("install", *offline(wheels), "hello==1.0", "--project", tmp_path).returncode == 0
    proc = migrate_cli(tmp_path / DIRNAME, "--layout", "pdm", "--replace")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("migrated 1 distribution in")
    assert "removed:" not in proc.stdout


def test_help_summaries_are_whole_sentences() -> None:
    text = pep582("--help").stdout
    commands = text.split("Commands:")[1].split("Exit codes")[0]
    for line in commands.strip().splitlines():
        assert not line.rstrip().endswith("..."), line
    assert (PACKAGES / "hello").is_dir()


@pytest.mark.parametrize(
    "command",
    [
        ["pep582-migrate", "--bogus", "--json"],
        ["pep582-migrate", "--json"],  # SOURCE missing
        ["pep582", "where", "--json", "--bogus"],
        ["pep582", "install", "--json", "--python"],  # option without its value
        ["pep582", "audit", "--json", "/nonexistent/project"],
    ],
)
def test_usage_errors_are_json_with_json(tmp_path: Path, command: list[str]) -> None:
    """With --json every error is one JSON object on stderr, usage errors (exit 2) too."""
    if command[0] == "pep582-migrate":
        proc = migrate_cli(*command[1:], cwd=tmp_path)
    else:
        proc = pep582(*command[1:], cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    error = json.loads(proc.stderr)["error"]
    assert error["kind"] == "UsageError" and error["exit_code"] == 2 and error["message"]
    assert proc.stdout == ""


@pytest.mark.slow
def test_byte_code_by_default_only_where_python_writes_none(tmp_path: Path, wheels: Path) -> None:
    """Issue 25: with PYTHONDONTWRITEBYTECODE set (common in containers) Python never
    writes byte code, so every start would compile every module again: then the default
    is to compile what is installed (listed in RECORD); otherwise Python writes it at the
    first import. --compile/--no-compile override."""
    cases = [({}, [], False), ({"PYTHONDONTWRITEBYTECODE": "1"}, [], True),
             ({"PYTHONDONTWRITEBYTECODE": "1"}, ["--no-compile"], False),
             ({}, ["--compile"], True)]  # fmt: skip
    for number, (env, flags, compiled) in enumerate(cases):
        project = tmp_path / f"p{number}"
        project.mkdir()
        command = [sys.executable, "-m", "pep582.commands.main", "install", *offline(wheels),
                   *flags, "hello==1.0", "--project", str(project)]  # fmt: skip
        proc = run(command, env=env)
        assert proc.returncode == 0, proc.stderr
        pyc = list((project / DIRNAME).rglob("*.pyc"))
        assert bool(pyc) is compiled, (env, flags)
        record = next(site_of(project).glob("hello-1.0.dist-info/RECORD")).read_text()
        assert ("__pycache__" in record) is compiled
    # a change to an existing tree compiles what it adds, in place
    command = [sys.executable, "-m", "pep582.commands.main", "install", *offline(wheels),
               "withdata", "--project", str(tmp_path / "p1")]  # fmt: skip
    proc = run(command, env={"PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.returncode == 0, proc.stderr
    record = next(site_of(tmp_path / "p1").glob("withdata-*.dist-info/RECORD")).read_text()
    assert "__pycache__" in record


@pytest.mark.slow
def test_reinstall_repairs_a_file_edited_through_its_hard_link(
    tmp_path: Path, wheels: Path
) -> None:
    """A file edited in place changes the wheel cache's copy too (one inode): audit
    reports it, ``install --reinstall`` unpacks the wheel afresh and replaces the file,
    and another project installing the same wheel gets the wheel's bytes."""
    project = tmp_path / "app"
    project.mkdir()
    assert pep582("install", *offline(wheels), "hello==1.0", "--project", project).returncode == 0
    edited = site_of(project) / "hello" / "__init__.py"
    pristine = edited.read_bytes()
    with open(edited, "a") as handle:
        handle.write("EDITED = True\n")
    audit = pep582("audit", str(project), "--python", sys.executable, "--json")
    (finding,) = [f for f in json.loads(audit.stdout)["findings"] if f["check"] == "hash-mismatch"]
    assert finding["path"] == str(edited)
    proc = pep582("install", *offline(wheels), "--reinstall", "hello", "--project", project)
    assert proc.returncode == 0, proc.stderr
    assert "reinstalled: hello 1.0" in proc.stdout
    assert edited.read_bytes() == pristine
    assert pep582("audit", str(project), "--python", sys.executable).returncode == 0
    other = tmp_path / "other"
    other.mkdir()
    assert pep582("install", *offline(wheels), "hello==1.0", "--project", other).returncode == 0
    assert (site_of(other) / "hello" / "__init__.py").read_bytes() == pristine
