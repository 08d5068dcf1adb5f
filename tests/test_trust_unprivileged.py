"""The trust rule for an ordinary user: their own trees are used, other users' are not.

The victim is Debian's ``daemon`` account (its group ``daemon`` has no other member, so
it is a private group), started with ``setpriv``; the attacker is ``nobody``. The
interpreter is Debian's system ``python3`` in a venv with the hook installed, since the
pyenv interpreters live under root's private home.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pep582.interpreter import Interpreter

from helpers import add_module, interpreter, make_venv, pep582

pytestmark = pytest.mark.usefixtures("root_only")

APP = (
    "try:\n    import localmod; print('LOCAL', localmod.WHERE)\n"
    "except ImportError:\n    print('NONE')\n"
)


@pytest.fixture(scope="module")
def victim() -> pwd.struct_passwd:
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    try:
        account = pwd.getpwnam("daemon")
    except KeyError:
        pytest.skip("no daemon account here")
    if grp.getgrgid(account.pw_gid).gr_mem:
        pytest.skip("daemon's group has members here; it is not a private group")
    return account


@pytest.fixture(scope="module")
def debian() -> Interpreter:
    found = interpreter("debian")
    if found is None:
        pytest.skip("no system python3 readable by other users")
    return found


@pytest.fixture(scope="module")
def area() -> Iterator[Path]:
    """A directory every user can reach (pytest's own tmp is root's private one)."""
    top = Path(tempfile.mkdtemp(prefix="pep582-unprivileged-", dir="/tmp"))
    top.chmod(0o755)
    yield top
    shutil.rmtree(top)


@pytest.fixture(scope="module")
def hooked(area: Path, debian: Interpreter) -> Path:
    venv_python = make_venv(debian, area / "venv")
    proc = pep582("enable", "--python", venv_python)
    assert proc.returncode == 0, proc.stderr
    return venv_python


@pytest.fixture
def canary_dir(area: Path) -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(dir=area))
    where.chmod(0o1777)  # like /tmp: the .pth runs as the victim; let it write if it runs
    yield where
    shutil.rmtree(where)


def make_project(where: Path, python: Interpreter, canary: Path, uid: int, gid: int) -> Path:
    where.mkdir()
    (where / "app.py").write_text(APP)
    purelib = add_module(where, python).parent
    (purelib / "evil.pth").write_text(
        f"import pathlib; pathlib.Path({str(canary)!r}).write_text('ran')\n"
    )
    for item in [where, *where.rglob("*")]:
        os.lchown(item, uid, gid)
    return where


def as_victim(
    victim: pwd.struct_passwd, python: Path, cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}
    command = ["setpriv", f"--reuid={victim.pw_uid}", f"--regid={victim.pw_gid}",
               "--clear-groups", "--", str(python), *args]  # fmt: skip
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


def check(proc: subprocess.CompletedProcess[str], project: Path, canary: Path, used: bool) -> None:
    assert proc.returncode == 0, proc.stderr
    if used:
        assert proc.stdout.startswith(f"LOCAL {project / '__pypackages__'}"), proc.stdout
        assert proc.stderr == ""
        assert canary.read_text() == "ran"
    else:
        assert proc.stdout.strip() == "NONE"
        assert proc.stderr.startswith(f"pep582: ignoring {project / '__pypackages__'}: ")
        assert len(proc.stderr.splitlines()) == 1
        assert not canary.exists()


@pytest.mark.parametrize("form", ["script", "cwd"])
def test_own_tree_is_used(
    form: str, victim: pwd.struct_passwd, hooked: Path, debian: Interpreter, canary_dir: Path
) -> None:
    canary = canary_dir / "canary"
    proj = make_project(canary_dir / "proj", debian, canary, victim.pw_uid, victim.pw_gid)
    args = ["app.py"] if form == "script" else ["-c", APP]
    check(as_victim(victim, hooked, proj, *args), proj, canary, used=True)


def test_own_project_directly_in_tmp_is_used(
    victim: pwd.struct_passwd, hooked: Path, debian: Interpreter, canary_dir: Path
) -> None:
    canary = canary_dir / "canary"
    proj = Path(tempfile.mkdtemp(prefix="pep582-victim-", dir="/tmp"))
    proj.rmdir()
    try:
        make_project(proj, debian, canary, victim.pw_uid, victim.pw_gid)
        check(as_victim(victim, hooked, proj, "-c", APP), proj, canary, used=True)
    finally:
        shutil.rmtree(proj)


def test_group_private_umask_002_tree_is_used(
    victim: pwd.struct_passwd, hooked: Path, debian: Interpreter, canary_dir: Path
) -> None:
    canary = canary_dir / "canary"
    proj = make_project(canary_dir / "proj", debian, canary, victim.pw_uid, victim.pw_gid)
    for item in [proj, *proj.rglob("*")]:
        item.chmod(0o775 if item.is_dir() else 0o664)
    check(as_victim(victim, hooked, proj, "app.py"), proj, canary, used=True)


def test_root_owned_tree_is_used(
    victim: pwd.struct_passwd, hooked: Path, debian: Interpreter, canary_dir: Path
) -> None:
    canary = canary_dir / "canary"
    proj = make_project(canary_dir / "proj", debian, canary, 0, 0)
    check(as_victim(victim, hooked, proj, "-c", APP), proj, canary, used=True)


def test_another_users_tree_is_refused(
    victim: pwd.struct_passwd, hooked: Path, debian: Interpreter, canary_dir: Path
) -> None:
    canary = canary_dir / "canary"
    nobody = pwd.getpwnam("nobody")
    proj = make_project(canary_dir / "proj", debian, canary, victim.pw_uid, victim.pw_gid)
    for item in (proj / "__pypackages__").rglob("*"):
        os.lchown(item, nobody.pw_uid, nobody.pw_gid)
    proc = as_victim(victim, hooked, proj, "-c", APP)
    check(proc, proj, canary, used=False)
    assert "owned by nobody" in proc.stderr


def test_group_shared_with_other_users_is_refused(
    victim: pwd.struct_passwd, hooked: Path, debian: Interpreter, canary_dir: Path
) -> None:
    canary = canary_dir / "canary"
    proj = make_project(canary_dir / "proj", debian, canary, victim.pw_uid, victim.pw_gid)
    site = next((proj / "__pypackages__").rglob("site-packages"))
    os.chown(site, victim.pw_uid, grp.getgrnam("nogroup").gr_gid)
    site.chmod(0o775)
    proc = as_victim(victim, hooked, proj, "app.py")
    check(proc, proj, canary, used=False)
    assert f"{site} is writable by group nogroup" in proc.stderr


def test_acl_grant_to_another_user_is_refused(
    victim: pwd.struct_passwd, hooked: Path, debian: Interpreter, canary_dir: Path
) -> None:
    if shutil.which("setfacl") is None:
        pytest.skip("setfacl is not installed (Debian package acl)")
    canary = canary_dir / "canary"
    proj = make_project(canary_dir / "proj", debian, canary, victim.pw_uid, victim.pw_gid)
    lib = proj / "__pypackages__" / "lib"
    subprocess.run(["setfacl", "-m", "u:nobody:rwx", lib], check=True)
    proc = as_victim(victim, hooked, proj, "app.py")
    check(proc, proj, canary, used=False)
    assert f"{lib} is writable by nobody (uid 65534) (ACL)" in proc.stderr
