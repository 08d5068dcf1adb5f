"""pytest configuration: make ``tests.helpers`` importable and share fixtures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pep582.interpreter import Interpreter

from helpers import RUNNING, VERSIONS, across, build_wheels, copy_packages, interpreter


@pytest.fixture(params=across())
def any_python(request: pytest.FixtureRequest) -> Interpreter:
    """Each Python 3.9-3.13 present on the machine; absent ones are skipped."""
    found = interpreter(request.param)
    if found is None:
        pytest.skip(f"Python {request.param} is not installed here")
    return found


@pytest.fixture(params=across(versions=[*VERSIONS, "debian", "pypy"]))
def any_interpreter(request: pytest.FixtureRequest) -> Interpreter:
    """Every kind of interpreter here: pyenv's CPython 3.9-3.13, Debian's system python3
    (dist-packages, posix_local), PyPy. Absent ones are skipped."""
    found = interpreter(request.param)
    if found is None:
        pytest.skip(f"{request.param} is not installed here")
    return found


@pytest.fixture(scope="session")
def base() -> Interpreter:
    """The interpreter this suite runs on, as the machine installed it (not our venv)."""
    found = interpreter(RUNNING)
    assert found is not None
    return found


@pytest.fixture
def root_only() -> None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root (chown to nobody), as in CI")


@pytest.fixture(scope="session", autouse=True)
def private_wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every run of the toolkit in this session unpacks wheels into a cache of its own."""
    os.environ["PEP582_CACHE_DIR"] = str(tmp_path_factory.mktemp("wheel-cache"))


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheels of every package under tests/packages, built offline once per session."""
    out = tmp_path_factory.mktemp("wheelhouse")
    build_wheels(out, *copy_packages(tmp_path_factory.mktemp("package-sources")))
    return out
