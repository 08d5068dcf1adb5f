"""Issue 21 class 1: a program is started only by a path nobody else controls.

CPython reads the ``pyvenv.cfg`` beside the path it was *started by* (not its real
path), and the ``home`` there chooses the standard library that runs. So another path to
the very binary the toolkit runs on — a link in another user's directory, with their
``pyvenv.cfg`` beside it — runs their code. Only ``sys.executable`` itself (the path this
process was started by) is exempt from the trust rule; every other path is judged, and a
bare name (``python3.11``, ``3.11``, a command) is looked up on ``PATH`` (absolute entries
only) and in pyenv's versions, never taken from the current directory. Each attack is
built for real: another user's link to the toolkit's own interpreter with a
``pyvenv.cfg`` whose ``home`` holds a standard library with a canary ``sitecustomize``.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from pep582 import interpreter, proc
from pep582.errors import InterpreterError

from helpers import bare_venv, fake_dist, migrate_cli, pep582

# each attack built for real (a second or more): the full tier
pytestmark = [pytest.mark.usefixtures("root_only"), pytest.mark.slow]

REAL = os.path.realpath(sys.executable)
VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture
def nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


def evil_home(home: Path, canary: Path) -> Path:
    """A prefix whose standard library is the real one plus a sitecustomize that writes
    ``canary``; returns the ``bin`` a ``pyvenv.cfg`` names as ``home``."""
    lib = home / "lib" / f"python{VERSION}"
    lib.mkdir(parents=True)
    (home / "bin").mkdir()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for entry in stdlib.iterdir():  # byte code goes to a __pycache__ of its own
        if entry.name not in ("sitecustomize.py", "__pycache__"):
            (lib / entry.name).symlink_to(entry)
    (lib / "sitecustomize.py").write_text(
        f"open({str(canary)!r}, 'w').write('ran as %d' % __import__('os').getuid())\n"
    )
    return home / "bin"


def planted(directory: Path, canary: Path, name: str = "python") -> Path:
    """``directory/name``: a link to the toolkit's own interpreter with a ``pyvenv.cfg``
    beside it whose ``home`` runs the canary."""
    directory.mkdir(parents=True, exist_ok=True)
    bin_dir = evil_home(directory.parent / f".home-{directory.name}", canary)
    (directory / name).symlink_to(REAL)
    (directory / "pyvenv.cfg").write_text(f"home = {bin_dir}\n")
    return directory / name


def give(top: Path, uid: int) -> None:
    for path in [top, *top.rglob("*")]:
        os.lchown(path, uid, -1)


def test_the_attack_is_real_when_nothing_judges_it(tmp_path: Path) -> None:
    """The control: started by that path, the binary runs the other standard library."""
    canary = tmp_path / "canary"
    link = planted(tmp_path / "theirs", canary)
    subprocess.run([link, "-I", "-c", "pass"], check=True)
    assert canary.exists()


@pytest.mark.parametrize("how", ["link", "directory", "pyvenv.cfg"])
def test_another_path_to_the_toolkits_own_interpreter_is_judged(
    tmp_path: Path, nobody: int, how: str
) -> None:
    """Another user's link (or a link in their directory, or their pyvenv.cfg beside
    yours) to the binary this toolkit runs on is refused like any other program."""
    canary = tmp_path / "canary"
    link = planted(tmp_path / "place", canary)
    if how == "link":
        os.lchown(link, nobody, -1)
    elif how == "directory":
        os.lchown(link.parent, nobody, -1)
    else:
        os.lchown(link.parent / "pyvenv.cfg", nobody, -1)
    proc._trusted.clear()
    with pytest.raises(InterpreterError, match="another user could change what it runs"):
        proc.run([link, "-c", "pass"], python=True)
    assert not canary.exists()


@pytest.mark.parametrize("level", ["beside", "one up"])
def test_a_pyvenv_cfg_another_user_could_create_is_judged(
    tmp_path: Path, nobody: int, level: str
) -> None:
    """CPython reads ``pyvenv.cfg`` beside the path it is started by and one level up.
    Where none is there yet, whoever may create one chooses the standard library: the
    directory that would hold it (sticky and world-writable, as /tmp) refuses the
    program before it runs, in ``pep582 ide --mypy``'s launcher and everywhere else; the
    attack then (creating the file) has nothing to run."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    place = shared if level == "beside" else shared / "py"
    place.mkdir(exist_ok=True)
    link = place / "python3"
    link.symlink_to(REAL)
    proc._trusted.clear()
    with pytest.raises(InterpreterError, match="another user could change what it runs"):
        proc.run([link, "-c", "pass"], python=True)
    project = tmp_path / "proj"
    fake_dist(project / "__pypackages__" / "lib" / f"python{VERSION}" / "site-packages",
              "small", "1.0", {"small/__init__.py": b""})  # fmt: skip
    result = pep582("ide", "--mypy", "--python", link, cwd=project)
    assert result.returncode == 3 and "another user could change" in result.stderr
    assert not (project / "mypy.ini").exists()
    canary = tmp_path / "canary"
    home = evil_home(tmp_path / "theirs", canary)
    (link.parent / "pyvenv.cfg" if level == "beside" else shared / "pyvenv.cfg").write_text(
        f"home = {home}\n"
    )
    subprocess.run([link, "-I", "-c", "pass"], check=True)  # the control: the attack is real
    assert canary.exists()


def test_only_sys_executable_itself_is_exempt(tmp_path: Path) -> None:
    """The path this process was started by runs; your own link to the same binary,
    with your own pyvenv.cfg, passes the rule as any program of yours does."""
    assert proc.run([sys.executable, "-c", "pass"], python=True).returncode == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "python").symlink_to(REAL)
    result = proc.run([mine / "python", "-c", "print(1)"], python=True)
    assert result.returncode == 0 and result.stdout.strip() == "1"


def test_a_console_script_of_another_users_tree_is_not_run(tmp_path: Path, nobody: int) -> None:
    """``pep582 run NAME``: NAME in another user's ``__pypackages__/bin`` is their link
    to the toolkit's interpreter, their pyvenv.cfg above it."""
    canary = tmp_path / "canary"
    project = tmp_path / "proj"
    tool = planted(project / "__pypackages__" / "bin", canary, "tool")
    (tool.parent / "pyvenv.cfg").rename(project / "__pypackages__" / "pyvenv.cfg")
    give(project, nobody)
    done = pep582("run", "tool", "-c", "print('child ran')", cwd=project)
    assert done.returncode == 3, done.stderr
    assert "child ran" not in done.stdout
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith(f"pep582: error: not running interpreter {tool}: another user could change")
    )
    assert not canary.exists()


@pytest.mark.parametrize("command", ["where", "status", "run"])
def test_python_naming_another_users_venv_interpreter_is_not_run(
    tmp_path: Path, nobody: int, command: str
) -> None:
    """``--python THEIR_VENV/bin/python``, a link to the toolkit's own interpreter."""
    canary = tmp_path / "canary"
    venv = tmp_path / "venv"
    python = planted(venv / "bin", canary)
    (python.parent / "pyvenv.cfg").rename(venv / "pyvenv.cfg")
    give(venv, nobody)
    args = ["-c", "pass"] if command == "run" else []
    done = pep582(command, "--python", python, *args, cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "another user could change what it runs" in done.stderr
    assert not canary.exists()


@pytest.mark.parametrize(
    "spec", [f"python{VERSION}", VERSION, "python3", "mypython"], ids=lambda s: s
)
@pytest.mark.parametrize("path_entry", ["", ".", "relative"])
def test_a_bare_name_is_never_a_file_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, path_entry: str
) -> None:
    """A file of that name here (even your own, even with ``.``, an empty or a relative
    entry on PATH) is never what a bare name finds; ``./NAME`` is how to name it."""
    here = tmp_path / "here"
    canary = tmp_path / "canary"
    mine = planted(here, canary, spec)
    (here / "relative").mkdir()
    (here / "relative" / spec).symlink_to(mine)
    monkeypatch.chdir(here)
    monkeypatch.setenv("PATH", os.pathsep.join([path_entry, os.environ["PATH"]]))
    try:
        found = interpreter.find_python(spec)
    except InterpreterError as exc:
        assert spec == "mypython", exc  # no such command anywhere else
        assert "./mypython" in str(exc)
    else:
        assert not str(found.executable).startswith(str(here))
    assert not canary.exists()
    assert proc.which(spec) is None or not proc.which(spec).startswith(str(here))  # type: ignore[union-attr]
    assert interpreter.find_python(f"./{spec}").executable == here / spec
    assert canary.exists()  # named as a path, it is the file here (the user's own)


def test_the_converter_never_takes_an_interpreter_from_the_current_directory(
    tmp_path: Path, nobody: int
) -> None:
    """A venv whose base interpreter is gone: console scripts name ``pythonX.Y`` found
    on PATH, never the file of that name another user planted in the shared current
    directory (a sticky one, as /tmp)."""
    canary = tmp_path / "canary"
    shared = tmp_path / "shared"
    planted(shared, canary, f"python{VERSION}")
    give(shared, nobody)
    os.chown(shared, 0, 0)
    os.chmod(shared, 0o1777)
    venv = tmp_path / "src" / "venv"
    bare_venv(venv)
    (venv / "pyvenv.cfg").write_text(f"home = /nonexistent/bin\nversion = {VERSION}.0\n")
    (tmp_path / "dest").mkdir()
    done = migrate_cli(venv, "--project", tmp_path / "dest", "--dry-run", cwd=shared)
    assert done.returncode == 0, done.stderr
    assert not canary.exists()
