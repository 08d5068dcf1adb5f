"""Hostile __pypackages__ directories are never activated and are reported in one line."""

from __future__ import annotations

import os
import pwd
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pep582.interpreter import Interpreter

from helpers import add_module, interpreter, make_venv, pep582, run

pytestmark = pytest.mark.usefixtures("root_only")


@pytest.fixture(scope="module")
def base() -> Interpreter:
    found = interpreter(f"{sys.version_info[0]}.{sys.version_info[1]}")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def hooked_python(base: Interpreter, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv_python = make_venv(base, tmp_path_factory.mktemp("trust") / "v")
    assert pep582("enable", "--python", venv_python).returncode == 0
    return venv_python


@pytest.fixture
def nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


@pytest.fixture
def project(tmp_path: Path, base: Interpreter) -> Iterator[Path]:
    """proj/ with app.py and a __pypackages__ whose .pth writes a canary if it ever runs."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "app.py").write_text(
        "try:\n    import localmod; print('LOCAL', localmod.WHERE)\n"
        "except ImportError:\n    print('NONE')\n"
    )
    purelib = add_module(proj, base).parent
    canary = tmp_path / "canary"
    (purelib / "evil.pth").write_text(
        f"import pathlib; pathlib.Path({str(canary)!r}).write_text('ran')\n"
    )
    yield proj
    for path in [tmp_path, *tmp_path.rglob("*")]:  # let pytest clean up
        if not path.is_symlink():
            os.chmod(path, 0o755)


def chown_tree(path: Path, uid: int) -> None:
    for item in [path, *path.rglob("*")]:
        os.lchown(item, uid, -1)


def outcome(how: str, python: Path, project: Path) -> tuple[str, list[str]]:
    if how == "hook":
        proc = run([python, "app.py"], cwd=project)
    else:
        proc = pep582("run", "--python", python, str(project / "app.py"), cwd=project.parent)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip(), proc.stderr.strip().splitlines()


def assert_refused(how: str, python: Path, project: Path, path: Path, reason: str) -> None:
    stdout, warnings = outcome(how, python, project)
    assert stdout == "NONE"
    assert not (project.parent / "canary").exists(), "the .pth ran"
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"pep582: ignoring {project / '__pypackages__'}: ")
    assert str(path) in warnings[0]
    assert reason in warnings[0]


def assert_activated(how: str, python: Path, project: Path) -> None:
    stdout, warnings = outcome(how, python, project)
    assert stdout.startswith(f"LOCAL {project / '__pypackages__'}")
    assert warnings == []
    assert (project.parent / "canary").read_text() == "ran"


HOW = pytest.mark.parametrize("how", ["hook", "run"])


@HOW
def test_foreign_owner_refused(how: str, hooked_python: Path, project: Path, nobody: int) -> None:
    chown_tree(project / "__pypackages__", nobody)
    assert_refused(how, hooked_python, project, project / "__pypackages__", "owned by nobody")


@HOW
def test_foreign_owned_inner_directory_refused(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    lib = project / "__pypackages__" / "lib"
    os.chown(lib, nobody, -1)
    assert_refused(how, hooked_python, project, lib, "owned by nobody")


@HOW
def test_world_writable_refused(how: str, hooked_python: Path, project: Path) -> None:
    site = next((project / "__pypackages__").rglob("site-packages"))
    os.chmod(site, 0o777)
    assert_refused(how, hooked_python, project, site, "writable by others")


@HOW
def test_parent_world_writable_without_sticky_refused(
    how: str, hooked_python: Path, project: Path
) -> None:
    os.chmod(project, 0o777)
    assert_refused(how, hooked_python, project, project, "no sticky bit")


@HOW
def test_symlink_to_foreign_directory_refused(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    foreign = project.parent / "foreign"
    (project / "__pypackages__").rename(foreign)
    chown_tree(foreign, nobody)
    (project / "__pypackages__").symlink_to(foreign)
    assert_refused(how, hooked_python, project, project / "__pypackages__", "owned by nobody")


@HOW
def test_symlink_into_open_directory_refused(how: str, hooked_python: Path, project: Path) -> None:
    open_dir = project.parent / "open"
    open_dir.mkdir()
    (project / "__pypackages__").rename(open_dir / "pp")
    os.chmod(open_dir, 0o777)
    (project / "__pypackages__").symlink_to(open_dir / "pp")
    assert_refused(how, hooked_python, project, open_dir, "no sticky bit")


@HOW
def test_own_directory_in_sticky_world_writable_dir_activated(
    how: str, hooked_python: Path, project: Path
) -> None:
    os.chmod(project, 0o777 | stat.S_ISVTX)  # like /tmp
    assert_activated(how, hooked_python, project)


@HOW
def test_group_writable_is_allowed(how: str, hooked_python: Path, project: Path) -> None:
    for item in (project / "__pypackages__").rglob("*"):
        if item.is_dir():
            os.chmod(item, 0o775)
    assert_activated(how, hooked_python, project)


@HOW
def test_script_owner_may_own_pypackages(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    chown_tree(project / "__pypackages__", nobody)
    os.chown(project / "app.py", nobody, -1)
    assert_activated(how, hooked_python, project)


def test_script_owner_does_not_extend_to_cwd_modes(
    hooked_python: Path, project: Path, nobody: int
) -> None:
    chown_tree(project / "__pypackages__", nobody)
    os.chown(project / "app.py", nobody, -1)
    proc = run([hooked_python, "-c", "import localmod"], cwd=project)
    assert proc.returncode != 0
    assert "owned by nobody" in proc.stderr
    assert not (project.parent / "canary").exists()
