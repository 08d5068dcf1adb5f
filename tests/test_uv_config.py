"""uv never reads a configuration file another user could change or create (finding 3).

uv reads a ``uv.toml``, or a ``pyproject.toml`` with a ``[tool.uv]`` table, from its
working directory or the nearest directory above that has one, skipping a
``pyproject.toml`` without the table (or that it cannot parse), plus the user's and the
system's ``uv.toml``. Which one it uses depends on content another user may change, so the
toolkit judges every candidate: each directory from uv's working directory up to ``/``
(nobody else may create a file there), every ``uv.toml``/``pyproject.toml`` in them, the
user and system files; any failure runs uv with ``--no-config``. Built for real: files
and directories of ``nobody``, a sticky shared directory, an ACL grant, and a real uv
run whose planted find-links holds an sdist with a canary build backend.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pep582.install.uv import config_guard, config_refusal, find_uv
from pep582.interpreter import Interpreter

from helpers import NO_PIP_CONFIG, run, tiny_wheel

pytestmark = pytest.mark.usefixtures("root_only")


@pytest.fixture
def nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


@pytest.fixture
def area() -> Iterator[Path]:
    """A directory whose every ancestor passes the trust rule (the home directory; the
    suite's tmp_path lies under /tmp, where anyone may create a uv.toml)."""
    top = Path(tempfile.mkdtemp(prefix=".pep582-uvconfig-", dir=os.path.expanduser("~")))
    if config_refusal(top):
        shutil.rmtree(top)
        pytest.skip(f"no trusted directory to test in: {config_refusal(top)}")
    yield top
    shutil.rmtree(top)


def project_in(top: Path) -> Path:
    """top/shared/proj with a pyproject.toml uv skips ([project] only)."""
    project = top / "shared" / "proj"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "1"\n')
    return project


def test_your_own_configuration_is_read(area: Path) -> None:
    project = project_in(area)
    (area / "shared" / "uv.toml").write_text("[pip]\nprerelease = 'allow'\n")
    (area / "pyproject.toml").write_text("[tool.uv]\n")
    assert config_refusal(project) is None
    assert config_guard(project) == []


@pytest.mark.parametrize(
    "planted",
    [
        "shared/uv.toml",  # the finding: above a project pyproject.toml uv skips
        "pyproject.toml",  # two levels up, with [tool.uv]
        "shared/proj/uv.toml",  # beside the project's own pyproject.toml
        "shared/proj/pyproject.toml",  # the project's own file, given away
    ],
)
def test_a_file_of_another_user_anywhere_above_is_never_read(
    area: Path, nobody: int, planted: str
) -> None:
    project = project_in(area)
    path = area / planted
    if not path.exists():
        path.write_text("[tool.uv]\n" if path.name == "pyproject.toml" else "")
    assert config_guard(project) == []
    os.chown(path, nobody, -1)
    assert f"uv would read {path}: {path} is owned by nobody" in str(config_refusal(project))
    assert config_guard(project) == ["--no-config"]


@pytest.mark.parametrize("how", ["owner", "sticky", "acl", "link"])
def test_a_directory_where_another_user_could_create_one_is_never_trusted(
    area: Path, nobody: int, how: str
) -> None:
    """No file there today, but one could appear between our look and uv's."""
    project = project_in(area)
    shared = area / "shared"
    if how == "owner":
        os.chown(shared, nobody, -1)
    elif how == "sticky":
        shared.chmod(0o1777)
    elif how == "acl":
        subprocess.run(["setfacl", "-m", f"u:{nobody}:rwx", shared], check=True)
    else:  # the project reached through another user's link
        theirs = area / "theirs"
        theirs.mkdir()
        os.chown(theirs, nobody, -1)
        (theirs / "proj").symlink_to(project)
        os.lchown(theirs / "proj", nobody, -1)
        project = theirs / "proj"
    refused = config_refusal(project)
    assert refused is not None and "another user could" in refused, refused
    assert config_guard(project) == ["--no-config"]


def test_a_shared_sticky_directory_such_as_tmp_always_means_no_config(tmp_path: Path) -> None:
    """Anyone may create /tmp/uv.toml at any moment: a project below /tmp runs uv with
    --no-config even when nothing is planted yet."""
    assert config_guard(tmp_path) == ["--no-config"]
    assert "/tmp is writable by others" in str(config_refusal(tmp_path))


@pytest.mark.parametrize("variable", ["XDG_CONFIG_HOME", "XDG_CONFIG_DIRS"])
def test_user_and_system_files_are_judged(
    area: Path, nobody: int, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    project = project_in(area)
    config = area / "config"
    (config / "uv").mkdir(parents=True)
    monkeypatch.setenv(variable, str(config))
    assert config_guard(project) == []
    (config / "uv" / "uv.toml").write_text("")
    os.chown(config / "uv" / "uv.toml", nobody, -1)
    assert config_guard(project) == ["--no-config"]
    os.chown(config / "uv" / "uv.toml", 0, 0)
    os.chown(config / "uv", nobody, -1)  # could be created there
    (config / "uv" / "uv.toml").unlink()
    assert config_guard(project) == ["--no-config"]
    monkeypatch.setenv(variable, "relative/config")
    assert "relative to its working directory" in str(config_refusal(project))


# -- for real --------------------------------------------------------------------------------


def canary_sdist(where: Path, canary: Path) -> None:
    """hello-9.0.tar.gz in ``where``: an in-tree build backend that writes ``canary``."""
    source = where / "src" / "hello-9.0"
    source.mkdir(parents=True)
    (source / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    (source / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: hello\nVersion: 9.0\n")
    (source / "backend.py").write_text(
        f"open({str(canary)!r}, 'w').write('built')\n"
        "def get_requires_for_build_wheel(config_settings=None): return []\n"
        "def prepare_metadata_for_build_wheel(d, config_settings=None): raise SystemExit(1)\n"
        "def build_wheel(d, c=None, m=None): raise SystemExit(1)\n"
    )
    with tarfile.open(where / "hello-9.0.tar.gz", "w:gz") as archive:
        archive.add(source, "hello-9.0")
    shutil.rmtree(where / "src")


@pytest.mark.skipif(find_uv() is None, reason="uv is not installed")
@pytest.mark.parametrize("place", ["sticky", "trusted"])
def test_uv_resolves_without_the_planted_configuration(
    tmp_path: Path, area: Path, nobody: int, place: str, base: Interpreter
) -> None:
    """The reproducer: ``pep582 install -r requirements.txt`` in a project of yours whose
    parent holds another user's uv.toml naming their find-links (an sdist whose backend
    would run as you). In a sticky shared directory, and in a trusted one where the file
    alone is foreign."""
    top = tmp_path / "shared" if place == "sticky" else area / "shared"
    top.mkdir()
    if place == "sticky":
        top.chmod(0o1777)
    project = top / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "1"\n')
    (project / "requirements.txt").write_text("hello\n")
    evil = top / "evil"
    evil.mkdir()
    canary = tmp_path / "canary"
    canary_sdist(evil, canary)
    (top / "uv.toml").write_text(f'[pip]\nfind-links = ["{evil}"]\n')
    for path in (evil, *evil.iterdir(), top / "uv.toml"):
        os.chown(path, nobody, -1)
    wheelhouse = tmp_path / "wheels"
    wheelhouse.mkdir()
    tiny_wheel(wheelhouse, "hello", "1.0", {"hello/__init__.py": b""})
    done = run([sys.executable, "-m", "pep582.commands.main", "install", "--resolver", "uv",
                "--python", base.executable, "-r", "requirements.txt", "--no-index",
                "--find-links", wheelhouse], cwd=project, env=NO_PIP_CONFIG)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "hello 1.0" in done.stdout
    assert not canary.exists()
