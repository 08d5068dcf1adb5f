"""A local place a resolver takes packages from passes the trust rule first (finding 4).

pip and uv *build* a source distribution they find in a ``--find-links`` directory or a
local index to read its metadata, running its build backend as you, ``--dry-run``
included. So every local place, however it is named (the command line, a requirements
file, pip's and uv's variables, pip's configuration files), and everything it holds or
links to, is judged before any resolver runs: another user's directory, file, hard link,
link or page refuses the install in one line (exit 5), and their backend never runs.
Built for real with an sdist whose in-tree backend writes a canary.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from pep582.install.uv import find_uv

from helpers import NO_PIP_CONFIG, run, tiny_wheel

# each attack built for real (a second or more): the full tier
pytestmark = [pytest.mark.usefixtures("root_only"), pytest.mark.slow]


@pytest.fixture
def nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


def canary_sdist(where: Path, canary: Path, name: str = "hello-9.0.tar.gz") -> Path:
    """An sdist of hello 9.0 whose in-tree build backend writes ``canary``."""
    source = where.parent / f".src-{where.name}" / "hello-9.0"
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
    where.mkdir(parents=True, exist_ok=True)
    with tarfile.open(where / name, "w:gz") as archive:
        archive.add(source, "hello-9.0")
    shutil.rmtree(source.parent)
    return where / name


def install(
    project: Path, *args: str | os.PathLike[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "pep582.commands.main", "install", "--dry-run",
                "--python", sys.executable, *args], cwd=project,
               env={**NO_PIP_CONFIG, **(env or {})})  # fmt: skip


def assert_refused(done: subprocess.CompletedProcess[str], named: Path, canary: Path) -> None:
    assert done.returncode == 5, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "could be changed by another user" in lines[0], lines[0]
    assert str(named) in lines[0]
    assert not canary.exists()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "proj"
    project.mkdir()
    return project


RESOLVERS = [
    "pip",
    pytest.param("uv", marks=pytest.mark.skipif(find_uv() is None, reason="no uv")),
]


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_the_attack_is_real_with_a_place_of_your_own(
    tmp_path: Path, project: Path, resolver: str
) -> None:
    """The control: from your own find-links directory the resolver builds the sdist."""
    canary = tmp_path / "canary"
    canary_sdist(tmp_path / "links", canary)
    install(project, "--resolver", resolver, "--no-index", "--find-links", tmp_path / "links",
            "hello")  # fmt: skip
    assert canary.exists()


def named_ways(
    tmp_path: Path, place: Path, project: Path
) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Each way of naming a local place: arguments and variables of ``pep582 install``."""
    (project / "req-f.txt").write_text(f"-f {place}\nhello\n")
    (project / "req-i.txt").write_text(f"--extra-index-url file://{place}\nhello\n")
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nfind-links = {place}\n")
    return {
        "--find-links": (["--no-index", "--find-links", str(place), "hello"], {}),
        "--index-url": (["--index-url", f"file://{place}", "hello"], {}),
        "--extra-index-url": (["--no-index", "--extra-index-url", str(place), "hello"], {}),
        "requirements -f": (["--no-index", "-r", "req-f.txt"], {}),
        "requirements --extra-index-url": (["--no-index", "-r", "req-i.txt"], {}),
        "PIP_FIND_LINKS": (["--no-index", "hello"], {"PIP_FIND_LINKS": str(place)}),
        "UV_FIND_LINKS": (["--no-index", "hello"], {"UV_FIND_LINKS": str(place)}),
        "PIP_EXTRA_INDEX_URL": (["hello"], {"PIP_EXTRA_INDEX_URL": f"file://{place}"}),
        "UV_INDEX": (["hello"], {"UV_INDEX": f"mine=file://{place}"}),
        "pip.conf": (["--no-index", "hello"], {"PIP_CONFIG_FILE": str(conf)}),
    }


WAYS = [
    "--find-links", "--index-url", "--extra-index-url", "requirements -f",
    "requirements --extra-index-url", "PIP_FIND_LINKS", "UV_FIND_LINKS",
    "PIP_EXTRA_INDEX_URL", "UV_INDEX", "pip.conf",
]  # fmt: skip


@pytest.mark.parametrize("way", WAYS)
def test_another_users_place_is_refused_however_it_is_named(
    tmp_path: Path, project: Path, nobody: int, way: str
) -> None:
    canary = tmp_path / "canary"
    place = tmp_path / "links"
    canary_sdist(place / "hello", canary)  # a PEP 503 project directory works for both kinds
    shutil.copy(place / "hello" / "hello-9.0.tar.gz", place)
    for path in (place, *place.rglob("*")):
        os.lchown(path, nobody, -1)
    args, env = named_ways(tmp_path, place, project)[way]
    assert_refused(install(project, *args, env=env), place, canary)


@pytest.mark.parametrize(
    "how", ["file", "hard link", "link", "page", "acl", "index file", "index page", "fifo"]
)
def test_what_a_place_of_yours_holds_is_judged_too(
    tmp_path: Path, project: Path, nobody: int, how: str
) -> None:
    """Your directory, but a file, a hard link, a link or an HTML page's target in it is
    another user's (or the directory grants them write by ACL, or a FIFO waits there)."""
    canary = tmp_path / "canary"
    theirs = tmp_path / "theirs"
    sdist = canary_sdist(theirs, canary)
    os.chown(sdist, nobody, -1)
    place = tmp_path / "links"
    place.mkdir()
    kind = "--find-links"
    named = sdist
    if how == "file":
        shutil.copy(sdist, place)
        os.chown(place / sdist.name, nobody, -1)
        named = place / sdist.name
    elif how == "hard link":
        os.link(sdist, place / sdist.name)
        named = place / sdist.name
    elif how == "link":
        (place / sdist.name).symlink_to(sdist)
        named = place / sdist.name
    elif how == "page":
        (place / "links.html").write_text(f'<a href="file://{sdist}">hello-9.0.tar.gz</a>\n')
    elif how == "acl":
        shutil.copy(sdist, place)
        subprocess.run(["setfacl", "-m", f"u:{nobody}:rwx", place], check=True)
        named = place
    elif how == "index file":
        kind = "--index-url"
        (place / "hello").mkdir()
        shutil.copy(sdist, place / "hello")
        os.chown(place / "hello" / sdist.name, nobody, -1)
        named = place / "hello" / sdist.name
    elif how == "index page":
        kind = "--index-url"
        (place / "hello").mkdir()
        (place / "hello" / "index.html").write_text(f'<a href="../../theirs/{sdist.name}">x</a>\n')
    else:
        os.mkfifo(place / "hello-9.0.tar.gz")
        done = install(project, "--no-index", "--find-links", place, "hello")
        assert done.returncode == 5 and "is a FIFO" in done.stderr, done.stderr
        return
    target = f"file://{place}" if kind == "--index-url" else str(place)
    extra = [] if kind == "--index-url" else ["--no-index"]
    assert_refused(install(project, *extra, kind, target, "hello"), named, canary)


def test_a_place_of_your_own_still_works(tmp_path: Path, project: Path) -> None:
    place = tmp_path / "links"
    place.mkdir()
    tiny_wheel(place, "hello", "1.0", {"hello/__init__.py": b""})
    (place / "links.html").write_text('<a href="https://example.invalid/x.whl">x</a>\n')
    done = install(project, "--no-index", "--find-links", place, "hello")
    assert done.returncode == 0, done.stderr
    assert "hello 1.0" in done.stdout
