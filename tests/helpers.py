"""Shared test helpers: interpreters on this machine, venvs, projects, wheels."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pep582.interpreter import Interpreter, InterpreterError, find_python
from pep582.scheme import Scheme, scheme_for

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "tests" / "packages"
VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
# The fast tier (`-m "not slow"`) runs interpreter-parametrized cases on the running
# Python only; the other versions and kinds are the full tier.
RUNNING = f"{sys.version_info[0]}.{sys.version_info[1]}"


def across(*kinds: str, versions: Sequence[str] = VERSIONS) -> list[Any]:
    """pytest params (kind, version) or version: all but the running version are slow."""
    return [
        pytest.param(
            (kind, version) if kinds else version,
            id=f"{kind}-{version}" if kinds else version,
            marks=() if version == RUNNING else pytest.mark.slow,
        )
        for kind in (kinds or ("",))
        for version in versions
    ]


# The other kinds of interpreter the suite runs when the machine has them.
KINDS = {"debian": "/usr/bin/python3", "pypy": "pypy3"}


@functools.cache
def interpreter(version: str) -> Interpreter | None:
    """The machine's Python ``version`` (or kind: debian, pypy), or None when absent."""
    spec = KINDS.get(version, version)
    if version == "debian" and not Path(spec).exists():
        return None
    if version == "pypy" and shutil.which(spec) is None:
        return None
    try:
        return find_python(spec)
    except InterpreterError:
        return None


def run(
    args: list[str | os.PathLike[str]],
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output; the environment is ours minus PYTHON* noise."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    full_env.update(env or {})
    proc = subprocess.run(
        [os.fspath(a) for a in args],
        cwd=cwd,
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{args} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def pep582(
    *args: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the ``pep582`` CLI of this checkout in a subprocess."""
    return run([sys.executable, "-m", "pep582.commands.main", *args], cwd=cwd, input=input)


def copy_packages(destination: Path) -> list[Path]:
    """Copies of the test packages (builds write into their trees; the repo stays clean)."""
    copies = []
    for package in sorted(PACKAGES.iterdir()):
        if (package / "pyproject.toml").exists():
            copies.append(Path(shutil.copytree(package, destination / package.name)))
    return copies


def build_wheels(out: Path, *projects: Path) -> None:
    """Wheels of ``projects`` into ``out``: offline, with the running interpreter's setuptools."""
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-index", "--no-deps",
         "--no-build-isolation", "-w", out, *projects], check=True)  # fmt: skip


def make_venv(python: Interpreter, path: Path) -> Path:
    """A bare venv (no pip) for ``python``; returns its interpreter."""
    run([python.executable, "-m", "venv", "--without-pip", path], check=True)
    return path / "bin" / "python"


# pip's own configuration on a machine (find-links, extra indexes) must not reach one
# resolver and not the other
NO_PIP_CONFIG = {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "",
                 "PIP_EXTRA_INDEX_URL": "", "PIP_INDEX_URL": ""}  # fmt: skip


def links_with_hello_2(out: Path, wheelhouse: Path, sources: Path) -> Path:
    """``out`` holding the test wheels plus hello 2.0 (built from a copy in ``sources``)."""
    for wheel in wheelhouse.glob("*.whl"):
        shutil.copy(wheel, out)
    hello = next(p for p in copy_packages(sources) if p.name == "hello")
    pyproject = hello / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "1.0"', 'version = "2.0"'))
    build_wheels(out, hello)
    return out


def hooked_venv(python: Interpreter, path: Path) -> Path:
    """A bare venv of ``python`` with the hook enabled (``pep582 enable``); its python."""
    venv_python = make_venv(python, path)
    enabled = pep582("enable", "--python", venv_python)
    assert enabled.returncode == 0, enabled.stderr
    return venv_python


def local_scheme(project: Path, python: Interpreter) -> Scheme:
    return scheme_for(project, python.facts, "pep582")


def add_module(project: Path, python: Interpreter, name: str = "localmod") -> Path:
    """Put ``name.py`` (which knows where it lives) into the project's purelib."""
    purelib = Path(local_scheme(project, python).purelib)
    purelib.mkdir(parents=True, exist_ok=True)
    module = purelib / f"{name}.py"
    module.write_text("WHERE = __file__\n")
    return module


def record_row(path: str, data: bytes) -> str:
    """One RECORD row for ``data`` at ``path`` (sha256, size), CSV-quoted as needed."""
    import base64
    import csv
    import hashlib
    import io

    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([path, f"sha256={digest}", len(data)])
    return out.getvalue()


def make_dirs(path: Path) -> None:
    """``mkdir -p`` as a loop (``os.makedirs`` and pathlib recurse once per level)."""
    missing = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir()


def fake_dist(
    site: Path,
    name: str,
    version: str,
    files: dict[str, bytes],
    entry_points: str | None = None,
    extra_record: str = "",
    requires: tuple[str, ...] = (),
) -> Path:
    """Install a distribution by hand into ``site``: its files (paths relative to
    ``site``, may climb to ``bin/``), METADATA, entry_points.txt and a RECORD listing all
    of it with hashes. Returns the dist-info directory."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    meta = {
        "METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            + "".join(f"Requires-Dist: {r}\n" for r in requires)
        ).encode(),
        "INSTALLER": b"pip\n",
    }
    if entry_points is not None:
        meta["entry_points.txt"] = entry_points.encode()
    rows = []
    for relative, data in {**files, **{f"{info.name}/{k}": v for k, v in meta.items()}}.items():
        target = site / relative
        make_dirs(target.parent)
        target.write_bytes(data)
        rows.append(record_row(relative, data))
    (info / "RECORD").write_text("".join(rows) + extra_record + f"{info.name}/RECORD,,\n")
    return info


def bare_venv(path: Path, python: str = sys.executable) -> Path:
    """A venv without pip (fast); returns its site-packages."""
    run([python, "-m", "venv", "--without-pip", path], check=True)
    return next(path.glob("lib/python*/site-packages"))


def tree_snapshot(top: Path) -> dict[str, str]:
    """Every path under ``top`` with its content hash or link target (what changed?)."""
    import hashlib

    found = {}
    for path in sorted(top.rglob("*")):
        if path.is_symlink():
            found[str(path)] = "->" + os.readlink(path)
        elif path.is_file():
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[str(path)] = "dir"
    return found


def migrate_cli(
    *args: str | os.PathLike[str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``pep582-migrate`` of this checkout in a subprocess."""
    return run([sys.executable, "-m", "pep582.commands.migrate", *args], cwd=cwd)


def exchange(first: Path, second: Path) -> None:
    """Swap two names atomically: renameat2(RENAME_EXCHANGE) (Linux), as an attacker's
    loop would, so there is never a moment when either name is missing."""
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    at_fdcwd, rename_exchange = -100, 2
    if libc.renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second),
                      rename_exchange) != 0:  # fmt: skip
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(first))


def tiny_wheel(out: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A pure-Python wheel written by hand (no build: milliseconds): ``files`` plus its
    METADATA, WHEEL and a true RECORD. Returns its path."""
    import zipfile

    info = f"{name}-{version}.dist-info"
    files = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = "".join(record_row(p, d) for p, d in files.items()) + f"{info}/RECORD,,\n"
    wheel = out / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in {**files, f"{info}/RECORD": record.encode()}.items():
            archive.writestr(path, data)
    return wheel
