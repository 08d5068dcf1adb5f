"""`pep582 audit` runs nothing the audited project controls (issue 21, classes 1 and 3).

Every child goes through ``pep582.proc`` (a trusted absolute program, ``-I`` for Python,
a cleaned environment, ``/`` as working directory). An interpreter that lives in the
project, named with ``--python`` or planted where PATH would find it, is never started;
git is not run for a project another user owns, and ``skipped`` says why.
"""

from __future__ import annotations

import ast
import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_audit import PY, audit, found, one, site_of

import pep582.audit

from helpers import run

PACKAGE = Path(pep582.audit.__file__).parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    site_of(proj).mkdir(parents=True)
    (proj / "__pypackages__" / ".gitignore").write_text("*\n")
    return proj


def planted(where: Path, canary: Path) -> Path:
    """An executable that would leave ``canary`` if anything ran it, then act as Python."""
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(f'#!/bin/sh\ntouch {canary}\nexec {sys.executable} "$@"\n')
    where.chmod(0o755)
    return where


def cli(project: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": path} if path is not None else None
    return run([sys.executable, "-m", "pep582.commands.main", "audit", project, "--json", *args],
               env=env)  # fmt: skip


def test_an_interpreter_inside_the_project_is_never_started(project: Path, tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    python = planted(project / "tools" / "python3", canary)
    proc = cli(project, "--python", str(python))
    assert proc.returncode == 3, proc.stderr
    error = json.loads(proc.stderr)["error"]
    assert error["kind"] == "InterpreterError"
    assert (
        f"not running interpreter {python}: it lives inside the audited project"
        in (error["message"])
    )
    assert not canary.exists()


def test_a_python_planted_on_path_inside_the_project_is_never_started(
    project: Path, tmp_path: Path
) -> None:
    canary = tmp_path / "canary"
    stale = project / "__pypackages__" / "lib" / "python3.99" / "site-packages"
    stale.mkdir(parents=True)
    bin_dir = project / "__pypackages__" / "bin"
    planted(bin_dir / "python3.99", canary)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    # the tree's own Python is named: looking for one for python3.99 skips the planted one
    proc = cli(project, "--python", PY, path=path)
    assert proc.returncode == 11, proc.stderr
    data = json.loads(proc.stdout)
    assert one(data, "stale-tree", stale.parent)
    # where the toolkit keeps the python3.99 tree's launcher, and not what it writes there
    assert one(data, "toolkit-file", bin_dir / "python3.99")["severity"] == "high"
    assert not canary.exists()
    # nothing named: choosing one would search PATH, which reaches into the project
    proc = cli(project, path=path)
    assert proc.returncode == 3
    message = json.loads(proc.stderr)["error"]["message"]
    assert message.startswith(f"{bin_dir} is searched for interpreters (PATH, pyenv) and lies")
    assert message.endswith("name the interpreter with --python")
    assert not canary.exists()


def test_no_module_of_the_audit_starts_a_process_itself() -> None:
    """Children start only through pep582.proc (git, the stdlib probe)."""
    spawning = ("exec", "spawn", "system", "popen", "fork", "posix_spawn")
    for module in PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name for a in node.names} & {"subprocess", "pty"}, module
            elif isinstance(node, ast.ImportFrom):
                assert node.module not in ("subprocess", "pty", "os"), module
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                bad = node.value.id == "os" and node.attr.startswith(spawning)
                assert not bad, (module, node.attr)
    assert "proc.run(" in (PACKAGE / "git.py").read_text()
    assert "proc.run(" in (PACKAGE / "stdlib.py").read_text()


@pytest.mark.usefixtures("root_only")
def test_another_users_project_gets_no_git(project: Path) -> None:
    """git reads a repository's config, which can name programs: for a project another
    user owns it is not run at all, and the reason is in ``skipped``."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "-f", "."], cwd=project, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], cwd=project, check=True)
    (project / "__pypackages__" / ".gitignore").unlink()
    _, mine = audit(project)
    assert one(mine, "git-tracked", project / "__pypackages__")  # our own project: git ran
    nobody = pwd.getpwnam("nobody").pw_uid
    for item in [project, *project.rglob("*")]:
        os.lchown(item, nobody, -1)
    _, theirs = audit(project)
    assert not found(theirs, "git-tracked")
    [note] = [s for s in theirs["skipped"] if s.startswith("git:")]
    assert note.startswith(f"git: not run for {project}, another user could make it run code")
    assert f"{project} is owned by nobody" in note
