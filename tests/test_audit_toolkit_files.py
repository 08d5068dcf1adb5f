"""``pep582 audit`` vouches for the toolkit's own files only by their content (finding 5).

A tree holds files the toolkit writes besides what distributions install: the bootstrap
(``.pep582/sitecustomize.py``, run by every Python child of the tree's programs), a
launcher per Python (``bin/pythonX.Y``, their ``sys.executable``), ``pep582 ide
--mypy``'s launcher (``bin/pep582-pythonX.Y``, mypy's ``python_executable``),
``conftest.py`` (imported whenever pytest runs in the project) and ``.gitignore``. Each is
exempt from the audit's other checks only when its bytes are exactly what this version
writes for this tree and a launcher starts, by an absolute path, an existing Python this
machine offers for the tree that nobody else can change (finding 305: not a path another
user may create later, not a PATH lookup);
otherwise it is a ``toolkit-file`` finding, high (low for ``.gitignore``), whose printed
fix, run as printed, makes it go away.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pep582.interpreter import Interpreter
from pep582.operations.ide_mypy import launcher
from pep582.scheme import trees_in
from pep582.step.children import launcher_source
from pep582.step.startup import DIRNAME

from helpers import pep582, tiny_wheel

pytestmark = pytest.mark.slow  # each attack built for real: the full tier

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
FILES = {
    "bootstrap": f"{DIRNAME}/.pep582/sitecustomize.py",
    "launcher": f"{DIRNAME}/bin/{PY}",
    "mypy-launcher": f"{DIRNAME}/bin/pep582-{PY}",
    "conftest.py": f"{DIRNAME}/conftest.py",
    ".gitignore": f"{DIRNAME}/.gitignore",
}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, base: Interpreter) -> Path:
    """A project the toolkit filled: an install (bootstrap, launcher, hygiene) and
    ``pep582 ide --mypy`` (its launcher)."""
    top = tmp_path_factory.mktemp("made")
    wheels = top / "wheels"
    wheels.mkdir()
    points = b"[console_scripts]\nhi = hello:main\n"
    tiny_wheel(
        wheels,
        "hello",
        "1.0",
        {
            "hello/__init__.py": b"def main(): pass\n",
            "hello-1.0.dist-info/entry_points.txt": points,
        },
    )
    project = top / "proj"
    project.mkdir()
    (project / "mypy.ini").write_text("[mypy]\n")
    done = pep582("install", "--python", base.executable, "--no-index", "--find-links", wheels,
                  "hello", cwd=project)  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = pep582("ide", "--mypy", "--python", base.executable, cwd=project)
    assert done.returncode == 0, done.stderr
    for relative in FILES.values():
        assert (project / relative).is_file(), relative
    return project


@pytest.fixture
def project(made: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "proj"
    subprocess.run(["cp", "-a", made, copy], check=True)
    return copy


def audit(project: Path, base: Interpreter) -> list[dict[str, Any]]:
    done = pep582("audit", project, "--python", base.executable, "--json", "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    findings: list[dict[str, Any]] = json.loads(done.stdout)["findings"]
    return findings


def about(findings: list[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    return [
        f for f in findings if f["path"] == str(path) or str(path) in f["details"].get("files", [])
    ]


def test_what_the_toolkit_wrote_is_not_reported(project: Path, base: Interpreter) -> None:
    findings = audit(project, base)
    for relative in FILES.values():
        assert about(findings, project / relative) == [], relative


def test_the_attack_is_real(project: Path, tmp_path: Path) -> None:
    """The bootstrap runs in every Python child of a program run with the tree."""
    canary = tmp_path / "canary"
    bootstrap = project / FILES["bootstrap"]
    bootstrap.write_text(f"open({str(canary)!r}, 'w').write('ran')\n")
    code = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'])"
    assert pep582("run", "-c", code, cwd=project).returncode == 0
    assert canary.exists()


@pytest.mark.parametrize("kind", list(FILES))
def test_a_changed_toolkit_file_is_reported_and_its_fix_works(
    project: Path, base: Interpreter, kind: str
) -> None:
    path = project / FILES[kind]
    path.write_bytes(path.read_bytes() + b"\nimport os  # added\n")
    found = [f for f in audit(project, base) if f["check"] == "toolkit-file"]
    assert [f["path"] for f in found] == [str(path)], found
    assert found[0]["severity"] == ("low" if kind == ".gitignore" else "high")
    assert found[0]["details"]["file"] == kind
    assert found[0]["message"].startswith("a toolkit file was changed: ")
    assert about(audit(project, base), path) == found  # reported once, not also as unowned
    fix = found[0]["fix"]
    if kind == "mypy-launcher":
        assert fix.endswith("pep582 ide --mypy")
        fix = fix.replace("pep582 ide --mypy", f"{sys.executable} -m pep582.commands.main "
                          f"ide --mypy --python {base.executable}")  # fmt: skip
    subprocess.run(["sh", "-c", fix], check=True)
    assert about(audit(project, base), path) == []


@pytest.mark.usefixtures("root_only")
@pytest.mark.parametrize("kind", ["launcher", "mypy-launcher"])
def test_a_well_formed_launcher_naming_another_users_interpreter_is_reported(
    project: Path, base: Interpreter, tmp_path: Path, kind: str
) -> None:
    """Exactly the text the toolkit writes, but for an interpreter another user could
    re-point (their link to a real Python)."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "python").symlink_to(os.path.realpath(base.executable))
    nobody = pwd.getpwnam("nobody").pw_uid
    os.chown(theirs, nobody, -1)
    os.lchown(theirs / "python", nobody, -1)
    path = project / FILES[kind]
    if kind == "launcher":
        path.write_bytes(launcher_source(str(theirs / "python")))
    else:
        (tree,) = [t for t in trees_in(project / DIRNAME) if t.facts.command == PY]
        path.write_bytes(launcher(tree, str(theirs / "python")))
    (found,) = [f for f in audit(project, base) if f["check"] == "toolkit-file"]
    assert found["path"] == str(path) and found["severity"] == "high"
    assert f"it starts {theirs / 'python'}, which is not safe to run" in found["message"]


# -- what a well-formed launcher starts (hostile review finding 305) ---------------------------
#
# A launcher is exempt only when it starts, by an absolute path, an interpreter that exists,
# passes the trust rule as a program, and is a Python this machine offers for the tree. A
# missing one is judged by the nearest directory on its way that exists: if anyone else
# may create it there, the launcher is as good as theirs.


def rewrite_launcher(project: Path, kind: str, interpreter: str) -> Path:
    """The launcher of ``kind`` rewritten, byte for byte as the toolkit writes it, to
    start ``interpreter``."""
    path = project / FILES[kind]
    if kind == "launcher":
        path.write_bytes(launcher_source(interpreter))
    else:
        (tree,) = [t for t in trees_in(project / DIRNAME) if t.facts.command == PY]
        path.write_bytes(launcher(tree, interpreter))
    return path


def toolkit_finding(project: Path, base: Interpreter, path: Path) -> dict[str, Any]:
    (found,) = [f for f in audit(project, base) if f["check"] == "toolkit-file"]
    assert found["path"] == str(path), found
    return found


def run_fix(found: dict[str, Any], kind: str, base: Interpreter) -> None:
    fix = found["fix"]
    if kind == "mypy-launcher":
        assert fix.endswith("pep582 ide --mypy")
        fix = fix.replace("pep582 ide --mypy", f"{sys.executable} -m pep582.commands.main "
                          f"ide --mypy --python {base.executable}")  # fmt: skip
    subprocess.run(["sh", "-c", fix], check=True)


@pytest.fixture
def shared() -> Iterator[Path]:
    """A directory like /tmp (everyone may create in it, sticky), reachable by nobody."""
    top = Path(tempfile.mkdtemp(dir="/tmp", prefix="pep582-shared-"))
    top.chmod(0o755)
    place = top / "shared"
    place.mkdir()
    place.chmod(0o1777)
    yield place
    shutil.rmtree(top)


@pytest.mark.usefixtures("root_only")
@pytest.mark.parametrize("kind", ["launcher", "mypy-launcher"])
def test_a_launcher_naming_a_path_others_could_create_is_high_before_and_after(
    project: Path, base: Interpreter, shared: Path, kind: str
) -> None:
    """The attack for real: the launcher names a program in a sticky world-writable
    directory that does not exist yet; ``nobody`` creates it later."""
    theirs = shared / "att" / "python"
    path = rewrite_launcher(project, kind, str(theirs))
    found = toolkit_finding(project, base, path)
    assert found["severity"] == "high"
    assert found["details"]["interpreter"] == str(theirs)
    assert (
        f"it starts {theirs}, which does not exist, and another user could create it"
        in (found["message"])
    )
    assert f"{shared} is writable by" in found["message"]
    create = f"mkdir {theirs.parent} && cp /bin/true {theirs}"
    nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    made = subprocess.run([*nobody, "sh", "-c", create])
    assert made.returncode == 0 and theirs.stat().st_uid == pwd.getpwnam("nobody").pw_uid
    found = toolkit_finding(project, base, path)
    assert found["severity"] == "high"
    assert f"it starts {theirs}, which is not safe to run" in found["message"]
    run_fix(found, kind, base)
    assert about(audit(project, base), path) == []


@pytest.mark.parametrize("kind", ["launcher", "mypy-launcher"])
def test_a_launcher_naming_a_missing_interpreter_nobody_else_can_create_is_low(
    project: Path, base: Interpreter, tmp_path: Path, kind: str
) -> None:
    """A Python that was uninstalled, in a directory only you (or root) may write: the
    launcher is broken, not someone else's."""
    gone = tmp_path / "gone" / "bin" / "python3"
    path = rewrite_launcher(project, kind, str(gone))
    found = toolkit_finding(project, base, path)
    assert found["severity"] == "low"
    assert (
        f"it starts {gone}, which does not exist (nobody else can create it)" in (found["message"])
    )
    run_fix(found, kind, base)
    assert about(audit(project, base), path) == []


@pytest.mark.parametrize("name", [f"/usr/bin/env {PY}", PY, f"bin/{PY}"])
def test_a_launcher_finding_its_python_on_path_is_never_exempt(
    project: Path, base: Interpreter, name: str
) -> None:
    """``/usr/bin/env pythonX.Y`` (or a relative name): whoever runs it decides what it
    finds."""
    path = rewrite_launcher(project, "launcher", name)
    found = toolkit_finding(project, base, path)
    assert found["severity"] == "high"
    if name.startswith("/usr/bin/env "):
        assert f"it finds its interpreter by a PATH lookup ({name})" in found["message"]
    else:
        assert f"it starts {name} by a relative name" in found["message"]
    run_fix(found, "launcher", base)
    assert about(audit(project, base), path) == []


@pytest.mark.parametrize("kind", ["launcher", "mypy-launcher"])
def test_a_launcher_starting_a_trusted_program_that_is_not_the_trees_python_is_reported(
    project: Path, base: Interpreter, kind: str
) -> None:
    """Nobody else can change /bin/sh, but it is not the tree's Python: a Python child
    started as ``sys.executable -c CODE`` would run CODE as shell."""
    program = os.path.realpath("/bin/sh")
    path = rewrite_launcher(project, kind, program)
    found = toolkit_finding(project, base, path)
    assert found["severity"] == "medium"
    assert f"it starts {program}, which is not a {PY} this machine offers" in found["message"]
    run_fix(found, kind, base)
    assert about(audit(project, base), path) == []


@pytest.mark.parametrize("kind", ["launcher", "mypy-launcher"])
def test_a_launcher_starting_the_trees_python_by_another_name_is_exempt(
    project: Path, base: Interpreter, tmp_path: Path, kind: str
) -> None:
    """Control: a link of your own to the tree's Python (``--python`` given as a venv's
    or your own link's path) is that Python."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "python").symlink_to(os.path.realpath(base.executable))
    path = rewrite_launcher(project, kind, str(mine / "python"))
    assert about(audit(project, base), path) == []
