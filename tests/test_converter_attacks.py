"""The converter and daily commands against a hostile review's attacks (each rebuilt
here): removals that leave the tree, interpreters another user controls, projects and
sources another user can change under us, option injection, settings files that are
links, a poisoned wheel cache, FIFOs and devices, strange interpreter facts."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pep582.errors import InterpreterError, SourceError
from pep582.interpreter import _facts
from pep582.operations.migrate import migrate
from pep582.step.startup import DIRNAME

from helpers import bare_venv, fake_dist, migrate_cli, pep582, record_row, tree_snapshot

pytestmark = pytest.mark.slow  # each attack built for real: the full tier

HELLO = {"hello_mod.py": b"def main():\n    print('hi')\n"}


@pytest.fixture
def nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


def tree_with(tmp_path: Path, **dists: dict[str, bytes]) -> tuple[Path, Path]:
    """A project whose __pypackages__ holds the given distributions (from a venv), each
    with a console script."""
    project = tmp_path / "proj"
    project.mkdir()
    venv = tmp_path / "venv"
    site = bare_venv(venv)
    for name, files in dists.items():
        module = next(iter(files))[: -len(".py")]
        fake_dist(site, name, "1.0", files, f"[console_scripts]\n{name}-cli = {module}:main\n")
    assert migrate_cli(venv, "--project", project).returncode == 0
    return project, next((project / DIRNAME).glob("lib/python*/site-packages"))


# -- removals never leave the tree --------------------------------------------------------


def test_uninstall_of_a_hostile_record_removes_only_its_own_files(tmp_path: Path) -> None:
    """A RECORD naming a file through a link out of the tree, a directory, another
    distribution's file, the scripts directory and the tree's root: nothing of that goes."""
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "victim.txt").write_text("precious\n")
    project, site = tree_with(tmp_path, hello=HELLO, evil={"evil.py": b"def main(): pass\n"})
    (site / "evillink").symlink_to(outside)
    record = next(site.glob("evil-1.0.dist-info")) / "RECORD"
    record.write_text(
        record_row("evillink/victim.txt", b"precious\n")
        + "evillink/sub,,\nhello_mod.py,,\n../../../bin,,\n../../..,,\n"
        + record.read_text()
    )
    before_outside = tree_snapshot(outside)
    proc = pep582("uninstall", "evil", "--project", project, "--python", sys.executable)
    assert proc.returncode == 0, proc.stderr
    assert tree_snapshot(outside) == before_outside
    assert (site / "hello_mod.py").is_file() and (project / DIRNAME / "bin").is_dir()
    assert not (site / "evil.py").exists()
    assert "evillink/victim.txt (reached through a link)" in proc.stdout
    assert "site-packages/hello_mod.py (another distribution lists it too)" in proc.stdout


# -- interpreters found in a source are run only when nobody else can change them -----------


def test_a_venv_python_another_user_controls_is_never_run(
    tmp_path: Path, root_only: None, nobody: int
) -> None:
    venv = tmp_path / "venv"
    site = bare_venv(venv)
    fake_dist(site, "tool", "1.0", HELLO, "[console_scripts]\ntool = hello_mod:main\n")
    canary = tmp_path / "ran-as-root"
    for name in os.listdir(venv / "bin"):
        if name.startswith("python"):
            (venv / "bin" / name).unlink()
    fake = venv / "bin" / "python"
    fake.write_text(f'#!/bin/sh\nid > {canary}\nexec {sys.executable} "$@"\n')
    fake.chmod(0o755)
    config = venv / "pyvenv.cfg"
    config.write_text(config.read_text() + f"executable = {fake}\n")
    for path in [venv, *venv.rglob("*")]:
        os.lchown(path, nobody, -1)
    project = tmp_path / "proj"
    project.mkdir()
    proc = migrate_cli(venv, "--project", project, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert not canary.exists()  # a venv is read from its files, never run
    proc = migrate_cli(venv, "--project", project, "--compile")
    assert proc.returncode == 0, proc.stderr
    assert not canary.exists()
    first = (project / DIRNAME / "bin" / "tool").read_text().splitlines()[0]
    assert str(fake) not in first


@pytest.mark.parametrize("key", ["executable", "home", "pdm-shebang"])
def test_a_path_another_user_can_re_point_never_reaches_a_published_script(
    tmp_path: Path, root_only: None, nobody: int, key: str
) -> None:
    """Issue 21 class 2: a source names ``/home/other/py``, today a link to a real,
    trusted interpreter. Whatever the toolkit writes names the resolved path (every
    directory and link on the way judged), never the link its owner could re-point."""
    real = os.path.realpath(os.path.join(sys.base_prefix, "bin", "python3"))
    theirs = tmp_path / "other"
    theirs.mkdir()
    (theirs / "bin").mkdir()
    link = theirs / "bin" / os.path.basename(real)
    link.symlink_to(real)
    for path in [theirs, theirs / "bin"]:
        os.chown(path, nobody, -1)
    os.lchown(link, nobody, -1)
    venv = tmp_path / "venv"
    site = bare_venv(venv)
    fake_dist(site, "tool", "1.0", HELLO, "[console_scripts]\ntool = hello_mod:main\n")
    config = venv / "pyvenv.cfg"
    text = config.read_text()
    source = venv
    if key == "executable":
        config.write_text(text + f"executable = {link}\n")
    elif key == "home":
        config.write_text(
            "\n".join(
                f"home = {theirs / 'bin'}" if line.startswith("home") else line
                for line in text.splitlines()
            )
            + "\n"
        )
    else:  # a PDM tree whose scripts name the link
        pdm = tmp_path / "pdmproj"
        pdm.mkdir()
        assert migrate_cli(venv, "--project", pdm, "--layout", "pdm").returncode == 0
        for script in (pdm / DIRNAME).rglob("bin/tool"):
            body = script.read_text().split("\n", 1)[1]
            script.write_text(f"#!{link}\n{body}")
        source = pdm / DIRNAME
    project = tmp_path / "proj"
    project.mkdir()
    args = ["--layout", "pep582", "--replace"] if key == "pdm-shebang" else []
    proc = migrate_cli(source, "--project", project, *args)
    assert proc.returncode == 0, proc.stderr
    for written in [
        project / DIRNAME / "bin" / "tool",
        *(project / DIRNAME / "bin").glob("python*"),
    ]:
        assert str(link) not in written.read_text(), written
        assert str(theirs) not in written.read_text(), written


def test_a_project_another_user_owns_is_refused(
    tmp_path: Path, root_only: None, nobody: int
) -> None:
    """Its owner could swap the stage for a link while root fills it."""
    venv = tmp_path / "venv"
    fake_dist(bare_venv(venv), "hello", "1.0", HELLO)
    project = tmp_path / "proj"
    project.mkdir()
    os.chown(project, nobody, -1)
    proc = migrate_cli(venv, "--project", project)
    assert proc.returncode == 4
    assert "cannot hold a trusted __pypackages__" in proc.stderr
    assert "run this as the project directory's owner" in proc.stderr
    assert os.listdir(project) == []


def test_a_source_file_replaced_after_planning_is_not_carried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inode the plan saw is the one carried; a name swapped in between is refused."""
    venv = tmp_path / "venv"
    site = bare_venv(venv)
    fake_dist(site, "hello", "1.0", HELLO)
    secret = tmp_path / "secret"
    secret.write_text("def main():\n    print('hi')\n")  # same bytes, another inode
    project = tmp_path / "proj"
    project.mkdir()
    from pep582.plan import executor

    original = executor.execute

    def swap_then_execute(*args: object, **kwargs: object) -> object:
        (site / "hello_mod.py").unlink()
        os.link(secret, site / "hello_mod.py")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("pep582.operations.run.execute", swap_then_execute)
    with pytest.raises(SourceError, match="was replaced after planning"):
        migrate(venv, project, "pep582", "refuse")
    assert os.listdir(project) == []


# -- inputs are never options ---------------------------------------------------------------


def test_pyproject_entries_that_are_options_are_refused(tmp_path: Path) -> None:
    victim = tmp_path / "keep.txt"
    victim.write_text("precious\n")
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "p"\nversion = "0"\ndependencies = ["hello", "--report={victim}"]\n'
    )
    proc = migrate_cli(tmp_path / "pyproject.toml", "--dry-run", "--no-index")
    assert proc.returncode == 5
    assert "is not a requirement" in proc.stderr
    assert victim.read_text() == "precious\n"


def test_entry_point_that_is_not_an_importable_name_is_refused(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    fake_dist(
        bare_venv(venv),
        "epx",
        "1.0",
        HELLO,
        "[console_scripts]\nepx = epx import main\n  import os; os.system('id')\n"
        "  from epx:main\n",
    )
    project = tmp_path / "proj"
    project.mkdir()
    proc = migrate_cli(venv, "--project", project)
    assert proc.returncode == 5 and "is not module:attr" in proc.stderr


# -- the wheel cache cannot be poisoned -----------------------------------------------------


def test_a_file_planted_in_the_wheel_cache_is_refused_and_the_entry_dropped(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a cache of its own: another test's hello 1.0 (built elsewhere) is another entry
    monkeypatch.setenv("PEP582_CACHE_DIR", str(tmp_path / "cache"))
    cache = tmp_path / "cache" / "unpacked-v1"
    first, second = tmp_path / "a", tmp_path / "b"
    for project in (first, second):
        project.mkdir()
    args = ["--no-index", "--find-links", str(wheelhouse), "--python", sys.executable]
    assert pep582("install", *args, "hello==1.0", "--project", first).returncode == 0
    entries = [e for e in cache.glob("*/*") if list(e.glob("purelib/hello-1.0.dist-info"))]
    (entry,) = entries
    (entry / "purelib" / "zzz_evil.pth").write_text("import os; os.system('id')\n")
    proc = pep582("install", *args, "hello==1.0", "--project", second)
    assert proc.returncode == 6
    assert "not in the wheel's RECORD" in proc.stderr and "run the command again" in proc.stderr
    assert not entry.exists()
    assert pep582("install", *args, "hello==1.0", "--project", second).returncode == 0
    assert not list((second / DIRNAME).rglob("zzz_evil.pth"))


@pytest.mark.usefixtures("root_only")
@pytest.mark.parametrize("planted", ["prefix", "entry"])
def test_cache_directories_another_user_can_change_are_refused(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch, planted: str
) -> None:
    """A safe cache root says nothing about directories planted below it earlier (a
    prefix directory or an entry another user owns or may write): both are refused, and
    nothing is installed from them."""
    monkeypatch.setenv("PEP582_CACHE_DIR", str(tmp_path / "cache"))
    args = ["--no-index", "--find-links", str(wheelhouse), "--python", sys.executable]
    first, second = tmp_path / "a", tmp_path / "b"
    for project in (first, second):
        project.mkdir()
    assert pep582("install", *args, "hello==1.0", "--project", first).returncode == 0
    (entry,) = [
        e
        for e in (tmp_path / "cache" / "unpacked-v1").glob("*/*")
        if list(e.glob("purelib/hello-1.0.dist-info"))
    ]
    place = entry.parent if planted == "prefix" else entry
    nobody = pwd.getpwnam("nobody")
    os.chown(place, nobody.pw_uid, nobody.pw_gid)
    place.chmod(0o777)
    proc = pep582("install", *args, "hello==1.0", "--project", second)
    assert proc.returncode == 4, proc.stderr
    assert "another user could change" in proc.stderr and str(place) in proc.stderr
    assert not (second / DIRNAME).exists()


def test_what_a_killed_unpack_left_in_the_cache_is_removed_later(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed while unpacking leaves ``.unpacking-*``; the next unpack into the same
    prefix removes it once it is an hour old, never a younger one (a run in progress)."""
    monkeypatch.setenv("PEP582_CACHE_DIR", str(tmp_path / "cache"))
    args = ["--no-index", "--find-links", str(wheelhouse), "--python", sys.executable]
    project = tmp_path / "a"
    project.mkdir()
    assert pep582("install", *args, "hello==1.0", "--project", project).returncode == 0
    (entry,) = [
        e
        for e in (tmp_path / "cache" / "unpacked-v1").glob("*/*")
        if list(e.glob("purelib/hello-1.0.dist-info"))
    ]
    old, young = entry.parent / ".unpacking-old", entry.parent / ".unpacking-young"
    for leftover in (old, young):
        (leftover / "purelib").mkdir(parents=True)
    hours_ago = time.time() - 7200
    os.utime(old, (hours_ago, hours_ago))
    shutil.rmtree(entry)  # the next install unpacks into this prefix again
    project = tmp_path / "b"
    project.mkdir()
    assert pep582("install", *args, "hello==1.0", "--project", project).returncode == 0
    assert not old.exists() and young.exists()


# -- FIFOs, devices, strange facts -----------------------------------------------------------


def test_a_fifo_never_hangs_a_command(tmp_path: Path) -> None:
    project, site = tree_with(tmp_path, hello=HELLO)
    os.mkfifo(project / DIRNAME / "bin" / "tool")
    os.mkfifo(site / "x.pth")
    proc = subprocess.run(
        [sys.executable, "-m", "pep582.commands.main", "list", "--project", str(project)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    venv = tmp_path / "venv2"
    os.mkfifo(bare_venv(venv) / "x.pth")
    other = tmp_path / "other"
    other.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "pep582.commands.migrate", str(venv), "--project", str(other),
         "--dry-run"], capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 5 and "not a regular file" in proc.stderr


def test_a_device_in_an_editable_checkout_is_refused(tmp_path: Path, root_only: None) -> None:
    venv = tmp_path / "venv"
    site = bare_venv(venv)
    checkout = venv / "src" / "proj"
    (checkout / "proj").mkdir(parents=True)
    (checkout / "proj" / "__init__.py").write_text("")
    os.mknod(checkout / "proj" / "zero", 0o600 | stat.S_IFCHR, os.makedev(1, 5))
    fake_dist(site, "proj", "0.1", {"__editable__.proj-0.1.pth": f"{checkout}\n".encode()})
    project = tmp_path / "proj"
    project.mkdir()
    proc = migrate_cli(venv, "--project", project, "--dry-run")
    assert proc.returncode == 5
    assert "is not a regular file or link" in proc.stderr


@pytest.mark.parametrize(
    ("key", "value"),
    [("abiflags", "/../../../victim"), ("platlibdir", "../lib"), ("platform_suffix", "-a/b")],
)
def test_interpreter_facts_that_would_leave_the_tree_are_refused(key: str, value: str) -> None:
    data = {
        "implementation": "cpython", "version": [3, 12, 0], "freethreaded": False,
        "platlibdir": "lib", "os_name": "posix", "platform_suffix": "", "abiflags": "",
    }  # fmt: skip
    data[key] = value
    with pytest.raises(InterpreterError, match="strange"):
        _facts(data)


def test_json_plan_counts_files_carried_without_a_hash(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    site = bare_venv(venv)
    info = fake_dist(site, "hello", "1.0", HELLO)
    record = info / "RECORD"
    record.write_text(
        record.read_text().replace(
            record_row("hello_mod.py", HELLO["hello_mod.py"]), "hello_mod.py,,\n"
        )
    )
    project = tmp_path / "proj"
    project.mkdir()
    proc = migrate_cli(venv, "--project", project, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"]["unverified"] == 1
    shutil.rmtree(venv)
