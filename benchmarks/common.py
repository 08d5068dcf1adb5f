"""Shared benchmark machinery: the cached wheelhouse, a venv built from it, fresh output
directories, uv's ``--target`` install, and interleaved timing with medians."""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
PACKAGES = [
    "numpy", "requests", "rich", "click", "attrs", "packaging", "six", "python-dateutil",
    "pytz", "tzdata", "pyyaml", "jinja2", "pydantic", "sqlalchemy", "pytest", "toml",
    "tomli", "wrapt", "decorator", "more-itertools", "docutils", "pygments",
]  # fmt: skip


def sh(*args: str | os.PathLike[str]) -> None:
    subprocess.run([os.fspath(a) for a in args], check=True)


def pip_install(python: Path, house: Path, *args: str | os.PathLike[str]) -> None:
    """``pip install`` for ``python``, offline from the wheelhouse."""
    sh(python, "-m", "pip", "install", "-q", "--no-index", "--find-links", house, *args)


def wheelhouse() -> Path:
    """Wheels for PACKAGES and their dependencies; downloaded once, then offline."""
    house = CACHE / f"wheels-py{sys.version_info[0]}{sys.version_info[1]}"
    if not house.is_dir() or len(list(house.glob("*.whl"))) < 30:
        house.mkdir(parents=True, exist_ok=True)
        sh(
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--only-binary=:all:",
            "-d",
            house,
            *PACKAGES,
        )
    return house


def build_venv(root: Path, house: Path) -> tuple[Path, Path, Path]:
    """A venv holding every wheel of ``house``: (venv, its site-packages, pip freeze file)."""
    venv = root / "venv"
    sh(sys.executable, "-m", "venv", venv)
    names = sorted(w.name.split("-")[0] for w in house.glob("*.whl"))
    pip_install(venv / "bin" / "python", house, *names)
    frozen = root / "frozen.txt"
    out = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "freeze"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    frozen.write_text(out)
    return venv, next(venv.glob("lib/python*/site-packages")), frozen


class FreshDirs:
    """New empty directories under ``root``, one per call."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.numbers = itertools.count()

    def __call__(self) -> Path:
        path = self.root / f"out{next(self.numbers)}"
        path.mkdir()
        return path


def uv_target_install(
    uv: str, house: Path, python: Path, frozen: Path, fresh: FreshDirs, cache: Path
) -> Callable[[], None]:
    """``uv pip install --target`` of the frozen set, its cache warmed by one run first."""

    def install() -> None:
        sh(
            uv,
            "pip",
            "install",
            "-q",
            "--no-index",
            "--find-links",
            house,
            "--cache-dir",
            cache,
            "--python",
            python,
            "--no-deps",
            "--target",
            fresh() / "t",
            "-r",
            frozen,
        )

    install()
    return install


def interleaved(peers: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    """Run every peer once per round, round-robin; return the median seconds of each."""
    samples: dict[str, list[float]] = {name: [] for name in peers}
    for _ in range(rounds):
        for name, action in peers.items():
            start = time.perf_counter()
            action()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def print_medians(medians: dict[str, float]) -> None:
    for name, value in medians.items():
        print(f"  {name:<34} {value * 1000:8.1f} ms")
