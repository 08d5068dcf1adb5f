"""``pep582 ide --mypy`` writes its launcher only where nobody else can change it
(finding 6), and what ``pep582 ide`` makes is never given to another user.

mypy runs the launcher as you (its ``python_executable``), so it is code: its directory
(``__pypackages__/bin``) and its place must pass the trust rule, as console-script
wrappers and the tree's exports do (root, you, or the project's owner — whose project it
is, as the step accepts the current directory's owner). Otherwise the command refuses in
one line (exit 4) and writes nothing. A file or directory ``pep582 ide`` makes belongs
to the effective user, or — when root edits another user's project — to the project's
owner inside a directory they own; never to anyone else. Built for real as root with ``nobody`` and
``daemon`` as the other users (ACL, group and other write, owners, links).
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from pep582 import fs
from pep582.interpreter import Interpreter
from pep582.operations import editing

from helpers import add_module, pep582, tree_snapshot

pytestmark = pytest.mark.usefixtures("root_only")
PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
STAFF = 50  # Debian's "staff": no members, nobody's private group


@pytest.fixture
def nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


@pytest.fixture
def project(tmp_path: Path, base: Interpreter) -> Path:
    project = tmp_path / "proj"
    add_module(project, base)
    (project / "__pypackages__" / "bin").mkdir()
    (project / "app.py").write_text("import localmod\n")
    return project


def ide_mypy(project: Path, base: Interpreter) -> subprocess.CompletedProcess[str]:
    return pep582("ide", "--mypy", "--python", base.executable, cwd=project)


def test_a_trusted_bin_gets_the_launcher(project: Path, base: Interpreter) -> None:
    done = ide_mypy(project, base)
    assert done.returncode == 0, done.stderr
    launcher = project / "__pypackages__" / "bin" / f"pep582-{PY}"
    assert launcher.is_file() and launcher.stat().st_uid == os.geteuid()


@pytest.mark.parametrize(
    "how",
    [
        "acl",
        "group",
        "other",
        "owner",
        "sticky",
        "link",
        "launcher owner",
        "no bin, tree owner",
        "a third user in a colleague's project",
    ],
)
def test_a_bin_another_user_could_change_gets_nothing(
    project: Path, base: Interpreter, tmp_path: Path, nobody: int, how: str
) -> None:
    bin_dir = project / "__pypackages__" / "bin"
    launcher = bin_dir / f"pep582-{PY}"
    if how == "acl":
        subprocess.run(["setfacl", "-m", f"u:{nobody}:rwx", bin_dir], check=True)
    elif how == "group":
        os.chown(bin_dir, -1, STAFF)
        bin_dir.chmod(0o775)
    elif how == "other":
        bin_dir.chmod(0o777)
    elif how == "owner":
        os.chown(bin_dir, nobody, -1)
    elif how == "sticky":  # a sticky bit excuses nothing inside a tree
        bin_dir.chmod(0o1777)
    elif how == "link":
        bin_dir.rmdir()
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        os.chown(theirs, nobody, -1)
        bin_dir.symlink_to(theirs)
    elif how == "launcher owner":
        launcher.write_text("#!/bin/sh\n")
        os.chown(launcher, nobody, -1)
    elif how == "no bin, tree owner":  # bin/ would be made inside a tree another user owns
        bin_dir.rmdir()
        os.chown(project / "__pypackages__", nobody, -1)
    else:  # root in nobody's project, whose bin/ daemon owns
        for path in [project, *project.rglob("*")]:
            os.lchown(path, nobody, -1)
        os.chown(bin_dir, pwd.getpwnam("daemon").pw_uid, -1)
    before = tree_snapshot(project)
    done = ide_mypy(project, base)
    assert done.returncode == 4, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"pep582: error: not writing {launcher}: ")
    assert "another user could change it" in lines[0]
    assert tree_snapshot(project) == before  # nothing written: no launcher, no mypy.ini


def make_dir(path: Path, uid: int) -> fs.Dir:
    path.mkdir()
    os.chown(path, uid, -1)
    return fs.Dir.open(path)


@pytest.mark.parametrize(
    ("directory", "owner", "expected"),
    [
        ("nobody", "nobody", "nobody"),  # root editing nobody's project: theirs stays theirs
        ("daemon", "nobody", "root"),  # a directory of a third user: never given to them
        ("nobody", None, "root"),  # no project owner named: stays root's
        ("root", "nobody", "root"),
    ],
)
def test_a_new_file_is_never_given_to_another_user(
    tmp_path: Path, directory: str, owner: str | None, expected: str
) -> None:
    uid = {name: pwd.getpwnam(name).pw_uid for name in ("root", "nobody", "daemon")}
    with make_dir(tmp_path / "d", uid[directory]) as here:
        editing.replace(here, "new.txt", b"x", None, owner=uid[owner] if owner else None)
    assert (tmp_path / "d" / "new.txt").stat().st_uid == uid[expected]


def test_directories_made_for_settings_go_to_the_project_owner_only(
    tmp_path: Path, nobody: int
) -> None:
    daemon = pwd.getpwnam("daemon").pw_uid
    project = tmp_path / "proj"
    project.mkdir()
    os.chown(project, nobody, -1)
    (project / "shared").mkdir()
    os.chown(project / "shared", daemon, -1)
    with fs.Dir.open(project) as top:
        editing.open_inside(top, ".vscode", create=True).close()
        editing.open_inside(top, "shared/inner", create=True).close()
    assert (project / ".vscode").stat().st_uid == nobody
    assert (project / "shared" / "inner").stat().st_uid == os.geteuid()
