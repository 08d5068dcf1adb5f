"""``pep582-migrate SOURCE`` reads a named file as ``pep582 install -r`` does (finding 7).

Deciding what SOURCE is reads its first bytes through the toolkit's one safe open
(``sources.records.read_head``: no link followed, a regular file only, a non-blocking
open, a bounded read). So a FIFO (planted in a shared project), a link to ``/dev/zero``
or to a FIFO, a device, or a sparse file of many GiB is one line and exit 5 — the same
line ``pep582 install -r`` gives — never a wait and never a read of the whole file.
The interpreter probe peeks at a program the same way (a FIFO named by ``--python``).
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run

pytestmark = pytest.mark.slow  # each attack built for real: the full tier

TIMEOUT = 30  # far above the second these take; a wait on a FIFO would hit it


def cli(*args: str | os.PathLike[str], cwd: Path, tool: str) -> subprocess.CompletedProcess[str]:
    module = "pep582.commands.migrate" if tool == "migrate" else "pep582.commands.main"
    try:
        return subprocess.run(
            [sys.executable, "-m", module, *map(os.fspath, args)],
            cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"{tool} {args} was still waiting after {TIMEOUT} s")


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A sticky shared project directory, as /tmp is."""
    project = tmp_path / "proj"
    project.mkdir()
    project.chmod(0o1777)
    return project


def plant(shared: Path, how: str, name: str) -> Path:
    path = shared / name
    if how == "fifo":
        os.mkfifo(path)
        if os.geteuid() == 0:
            os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)
    elif how == "link to /dev/zero":
        path.symlink_to("/dev/zero")
    elif how == "link to a fifo":
        os.mkfifo(shared / "fifo")
        path.symlink_to(shared / "fifo")
    elif how == "sparse 9 GiB":
        with open(path, "wb") as handle:
            handle.truncate(9 << 30)
    return path


HOW = ["fifo", "link to /dev/zero", "link to a fifo", "sparse 9 GiB"]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("name", ["requirements.txt", "deps.in", "pylock.toml", "pyproject.toml"])
def test_a_hostile_source_is_one_line_never_a_wait(shared: Path, how: str, name: str) -> None:
    plant(shared, how, name)
    done = cli(name, "--dry-run", cwd=shared, tool="migrate")
    assert done.returncode == 5, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pep582-migrate: error: "), lines
    assert name in lines[0]


@pytest.mark.parametrize("how", HOW[:3])  # (the sparse file's zeros: "a binary file")
def test_the_line_is_the_one_install_gives(shared: Path, how: str) -> None:
    plant(shared, how, "requirements.txt")
    migrated = cli("requirements.txt", "--dry-run", cwd=shared, tool="migrate")
    installed = cli("install", "--dry-run", "-r", "requirements.txt", cwd=shared, tool="main")
    assert migrated.returncode == installed.returncode == 5, (migrated.stderr, installed.stderr)
    said = migrated.stderr.strip().removeprefix("pep582-migrate: error: ")
    assert said == installed.stderr.strip().removeprefix("pep582: error: ")


def test_a_fifo_named_as_the_interpreter_is_never_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "python3"
    os.mkfifo(fifo)
    done = cli("where", "--python", fifo, cwd=tmp_path, tool="main")
    assert done.returncode == 3, done.stderr
    assert done.stderr.strip().count("\n") == 0


def test_an_ordinary_requirements_file_is_still_one(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("# nothing\n")
    done = run([sys.executable, "-c", "from pathlib import Path; "
                "from pep582.operations.migrate import kind_of; "
                "print(kind_of(Path('requirements.txt')))"], cwd=tmp_path)  # fmt: skip
    assert done.stdout.strip() == "requirements", done.stderr
