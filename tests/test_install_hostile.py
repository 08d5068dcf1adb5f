"""Hostile local files named by a lock or a requirement (issue 21, class 7): refused in one
line naming where they were named, exit 5, before a byte past a wheel's size is read and
without ever waiting on a FIFO; nothing is written."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pep582.install.localfiles import MAX_ARTIFACT_BYTES
from pep582.step.startup import DIRNAME

from helpers import copy_packages

pytestmark = pytest.mark.slow  # each attack built for real: the full tier

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
WHEEL = "hello-1.0-py3-none-any.whl"
TIMEOUT = 120  # seconds: a run that waits on a FIFO or reads /dev/zero never ends


def run(args: list[str | os.PathLike[str]], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run(
        [os.fspath(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def nobody_owns(path: Path) -> None:
    import pwd

    os.chown(path, pwd.getpwnam("nobody").pw_uid, -1, follow_symlinks=False)


def hostile(kind: str, area: Path, wheelhouse: Path) -> str:
    """Make the hostile thing of ``kind`` in ``area``; return the TOML of its lock entry."""
    real = next(wheelhouse.glob(WHEEL.replace("-1.0-", "-1.0*")))
    digest = hashlib.sha256(real.read_bytes()).hexdigest()
    wheel = area / WHEEL
    hashes = f'hashes = {{ sha256 = "{digest}" }}'
    if kind == "dev-zero":
        return f'wheels = [{{ name = "{WHEEL}", url = "file:///dev/zero", {hashes} }}]'
    if kind == "fifo":
        os.mkfifo(wheel)
    elif kind == "sparse":
        with open(wheel, "wb") as handle:
            handle.truncate(MAX_ARTIFACT_BYTES + 1)  # no block written: a sparse file
    elif kind == "directory":
        wheel.mkdir()
    elif kind == "link-to-theirs":
        theirs = area / "theirs"
        theirs.mkdir()
        nobody_owns(theirs)
        shutil.copy(real, theirs / WHEEL)
        nobody_owns(theirs / WHEEL)
        wheel.symlink_to(theirs / WHEEL)
    elif kind == "their-directory":
        theirs = area / "theirs"
        theirs.mkdir()
        shutil.copy(real, theirs / WHEEL)
        nobody_owns(theirs)
        return f'wheels = [{{ name = "{WHEEL}", path = "theirs/{WHEEL}", {hashes} }}]'
    elif kind == "their-project":
        project = next(p for p in copy_packages(area / "src") if p.name == "hello")
        nobody_owns(project)
        return f'directory = {{ path = "{os.path.relpath(project, area)}" }}'
    return f'wheels = [{{ name = "{WHEEL}", path = "{WHEEL}", {hashes} }}]'


KINDS = ["dev-zero", "fifo", "sparse", "directory", "link-to-theirs", "their-directory",
         "their-project"]  # fmt: skip
SAID = {
    "dev-zero": "is a character device",
    "fifo": "is a FIFO",
    "sparse": "more than any wheel may be",
    "directory": "is a directory",
    "link-to-theirs": "could be changed by another user",
    "their-directory": "could be changed by another user",
    "their-project": "building it would run their code as you",
}


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_lock_entries_are_refused_in_one_line(
    tmp_path: Path, wheelhouse: Path, kind: str, root_only: None
) -> None:
    entry = hostile(kind, tmp_path, wheelhouse)
    lock = tmp_path / "pylock.toml"
    version = "" if kind == "their-project" else 'version = "1.0"\n'
    lock.write_text(
        f'lock-version = "1.0"\ncreated-by = "tests"\n\n[[packages]]\nname = "hello"\n'
        f"{version}{entry}\n"
    )
    proc = run([sys.executable, "-m", "pep582.commands.migrate", lock, "--python", PY], tmp_path)
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert f"{lock}: [[packages]] hello" in proc.stderr
    assert SAID[kind] in proc.stderr
    assert not (tmp_path / DIRNAME).exists()


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "sparse", "link-to-theirs"])
@pytest.mark.parametrize("named", ["command line", "requirements file", "file: URL"])
def test_hostile_wheels_named_by_requirements_are_refused(
    tmp_path: Path, wheelhouse: Path, kind: str, named: str, root_only: None
) -> None:
    """pip and uv both wait forever on these; they are judged before either runs."""
    if kind == "dev-zero":
        (tmp_path / WHEEL).symlink_to("/dev/zero")
    else:
        hostile(kind, tmp_path, wheelhouse)
    requirement = f"./{WHEEL}" if named != "file: URL" else (tmp_path / WHEEL).as_uri()
    arguments: list[str | os.PathLike[str]] = [requirement]
    if named == "requirements file":
        (tmp_path / "requirements.txt").write_text(f"# local wheels\n{requirement}\n")
        arguments = ["-r", "requirements.txt"]
    proc = run(
        [sys.executable, "-m", "pep582.commands.main", "install", "--python", PY,
         "--no-index", *arguments],
        tmp_path,
    )  # fmt: skip
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert WHEEL in proc.stderr
    if named == "requirements file":
        assert "requirements.txt:2" in proc.stderr
    assert SAID["link-to-theirs" if kind == "link-to-theirs" else kind] in proc.stderr or (
        kind == "dev-zero" and "character device" in proc.stderr
    )
    assert not (tmp_path / DIRNAME).exists()


@pytest.mark.parametrize("how", ["requirement", "editable", "requirements file"])
@pytest.mark.parametrize("resolver", ["pip", "uv"])
def test_a_project_another_user_owns_is_never_built(
    tmp_path: Path, how: str, resolver: str, root_only: None
) -> None:
    """Resolving a local project runs its build backend (its code, as us): a directory
    another user could change is refused before any resolver sees it; the canary in its
    setup.py never runs."""
    project = next(p for p in copy_packages(tmp_path / "theirs") if p.name == "hello")
    canary = tmp_path / "canary"
    (project / "setup.py").write_text(
        f"import pathlib\npathlib.Path({str(canary)!r}).write_text('ran')\n"
        "from setuptools import setup\nsetup()\n"
    )
    nobody_owns(project)
    arguments: list[str] = ["./theirs/hello"]
    if how == "editable":
        arguments = ["-e", "./theirs/hello"]
    elif how == "requirements file":
        (tmp_path / "requirements.txt").write_text("./theirs/hello\n")
        arguments = ["-r", "requirements.txt"]
    proc = run(
        [sys.executable, "-m", "pep582.commands.main", "install", "--resolver", resolver,
         "--python", PY, "--no-index", *arguments],
        tmp_path,
    )  # fmt: skip
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "building it would run their code as you" in proc.stderr
    assert not canary.exists()
    assert not (tmp_path / DIRNAME).exists()
