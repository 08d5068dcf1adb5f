"""Shared benchmark machinery: wheelhouse, venv, peer file set, shuffled timing, profiles.

How every benchmark here stays honest (ARCHITECTURE.md, issue 13):

- Same work: the same distributions and file set on both sides; no ``.pyc`` compiled on
  one side only (pip ``--no-compile``, uv ``--no-compile-bytecode``, its default; the
  toolkit compiles nothing); pip's config files and ``PIP_*``/``UV_*`` settings are
  dropped for every command, ours included (its pip inherits the environment).
- Offline: the wheelhouse is downloaded from PyPI once and cached; without network (or
  with ``--offline``) it is repacked from the distributions of the venv running this.
- Timing: one unmeasured warm-up round (it warms uv's cache and the tools' bytecode
  cache), then rounds in a new random order each; min/median/max for every figure,
  ratios ours/peer from medians. Each run's output is removed and the file system synced
  outside the timing, so no run pays for the write-back of the one before.
- Bytecode: every Python tool runs from cached bytecode (``PYTHONPYCACHEPREFIX`` under
  benchmarks/.cache), as when installed from a wheel; the machines' global
  ``PYTHONDONTWRITEBYTECODE=1`` would otherwise recompile the tools' source on every run.
- The user's wheel cache is never touched: every command gets ``PEP582_CACHE_DIR`` inside
  the scratch directory in use (a per-benchmark one by default, or one a peer names);
  outside any scratch directory it names a path that cannot exist, so a stray run of ours
  fails instead of filling ``~/.cache``.
- Load: the 1-minute load average is sampled before every round and printed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import hashlib
import importlib.util
import io
import json
import os
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
PYCACHE = CACHE / "pycache"
TAG = f"py{sys.version_info[0]}{sys.version_info[1]}"
PACKAGES = [
    "numpy", "requests", "rich", "click", "attrs", "packaging", "six", "python-dateutil",
    "pytz", "tzdata", "pyyaml", "jinja2", "pydantic", "sqlalchemy", "pytest", "toml",
    "tomli", "wrapt", "decorator", "more-itertools", "docutils", "pygments",
]  # fmt: skip
SEED = "pip"  # what `python -m venv` seeds and pep582-migrate leaves out by default

# Settings that would change what a measured pip or uv command does behind its flags.
_NOISE = re.compile(r"^(PIP_(?!DISABLE_PIP_VERSION_CHECK$|CERT$)|UV_|PYTHONDONTWRITEBYTECODE$)")

# A peer does its work into a fresh empty directory (made and removed outside the timing).
Peer = Callable[[Path], object]

OUR_CACHE = "PEP582_CACHE_DIR"  # the toolkit's unpacked-wheel cache (pep582.install.wheelcache)
# Directories a peer may keep in its output that are a cache, not installed files.
CACHE_NAMES = ("uv-cache", "pep582-cache")
_scratches: list[Path] = []  # the scratch directories open now, innermost last


def bench_env(pep582_cache: Path | None = None) -> dict[str, str]:
    """The environment of every command: no pip/uv settings or config, cached bytecode,
    and our wheel cache at ``pep582_cache`` (default: ``pep582-cache`` in the innermost
    open scratch directory; outside one, a path that cannot be created)."""
    env = {k: v for k, v in os.environ.items() if not _NOISE.match(k)}
    env["PYTHONPYCACHEPREFIX"] = os.fspath(PYCACHE)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_CONFIG_FILE"] = os.devnull  # no machine-wide index, find-links or constraints
    if pep582_cache is None:
        pep582_cache = _scratches[-1] / CACHE_NAMES[1] if _scratches else Path(os.devnull, "x")
    env[OUR_CACHE] = os.fspath(pep582_cache)
    return env


def sh(*args: str | os.PathLike[str], pep582_cache: Path | None = None) -> None:
    """Run a command in :func:`bench_env`; fail loudly."""
    subprocess.run([os.fspath(a) for a in args], check=True, env=bench_env(pep582_cache))


def load_average() -> float:
    """The 1-minute load average (NaN where the system has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def describe_load(samples: Sequence[float]) -> str:
    """min/median/max of load-average samples, and the CPU count they compare with."""
    if not samples:
        return f"load average not sampled ({os.cpu_count()} CPUs)"
    return (
        f"load average (1 min, sampled each round) {min(samples):.2f} / "
        f"{statistics.median(samples):.2f} / {max(samples):.2f} on {os.cpu_count()} CPUs"
    )


def ours(*args: str | os.PathLike[str]) -> list[str]:
    """The ``pep582-migrate`` command line (module form, so it can run under cProfile)."""
    return [sys.executable, "-m", "pep582.commands.migrate", *(os.fspath(a) for a in args)]


def pip(python: Path) -> list[str]:
    """The pip the toolkit itself runs (this environment's), acting for ``python``."""
    return [sys.executable, "-m", "pip", "--python", os.fspath(python)]


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A temporary directory under benchmarks/.cache, and on exit the bytecode cached
    for files inside it (``PYTHONPYCACHEPREFIX`` mirrors absolute paths)."""
    CACHE.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pep582-bench-", dir=CACHE) as tmp:
        _scratches.append(Path(tmp))
        try:
            yield Path(tmp)
        finally:
            _scratches.pop()
            # also when the benchmark failed: nothing of this run may outlive it
            shutil.rmtree(PYCACHE / Path(tmp).relative_to(Path(tmp).anchor), ignore_errors=True)


# -- the wheelhouse -------------------------------------------------------------------------


def wheelhouse(offline: bool) -> tuple[Path, str]:
    """Wheels for the benchmark venv, and where they came from; built once, then cached."""
    pypi = CACHE / f"wheels-pypi-{TAG}"
    if not offline and (pypi / ".complete").exists():
        return pypi, f"PyPI: {', '.join(PACKAGES)} and their dependencies"
    if not offline:
        if pypi.exists():
            shutil.rmtree(pypi)
        pypi.mkdir(parents=True)
        download = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--only-binary=:all:",
            "--retries",
            "0",
            "--timeout",
            "15",
            "-d",
            os.fspath(pypi),
            *PACKAGES,
        ]
        if subprocess.run(download, env=bench_env()).returncode == 0:
            (pypi / ".complete").write_text("")
            return pypi, f"PyPI: {', '.join(PACKAGES)} and their dependencies"
        print("PyPI did not answer: repacking the wheels of this environment instead")
    local = CACHE / f"wheels-local-{TAG}"
    source = Path(sysconfig.get_paths()["purelib"])
    if not (local / ".complete").exists():
        if local.exists():
            shutil.rmtree(local)
        local.mkdir(parents=True)
        repack_installed(source, Path(sys.prefix), local, skip={SEED})
        (local / ".complete").write_text("")
    return local, f"offline: repacked from the distributions installed in {source}"


Row = tuple[str, str, str]


def record_row(path: str, data: bytes) -> Row:
    """A RECORD row for ``data`` stored at ``path`` (sha256, as installers write it)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return path, f"sha256={digest}", str(len(data))


def render_record(rows: Iterable[Row], own: str) -> str:
    """RECORD text: ``rows`` and, last, the RECORD file's own row (``own``) without a hash."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerows(rows)
    writer.writerow((own, "", ""))
    return text.getvalue()


def _wheel_tag(wheel_metadata: str) -> str:
    """One compressed tag (``py2.py3-none-any``) from the ``Tag:`` lines of a WHEEL file."""
    parts: list[set[str]] = [set(), set(), set()]
    for line in wheel_metadata.splitlines():
        if line.startswith("Tag:"):
            for part, value in zip(parts, line.split(":", 1)[1].strip().split("-")):
                part.add(value)
    return "-".join(".".join(sorted(p)) for p in parts) if all(parts) else "py3-none-any"


def repack_installed(site: Path, prefix: Path, out: Path, skip: Iterable[str] = ()) -> int:
    """Wheels rebuilt from the installed (non-editable) distributions of ``site``.

    Each wheel holds what the distribution's RECORD lists, minus ``.pyc`` files and
    installer bookkeeping; files installed outside ``site`` go to ``.data/scripts`` (the
    scripts directory, except console scripts, which installers regenerate) or
    ``.data/data``. Returns the number of wheels written.
    """
    skipped = {name.lower().replace("_", "-") for name in skip}
    scripts = (prefix / "bin").resolve()
    written = 0
    for info in sorted(site.glob("*.dist-info")):
        stem = info.name[: -len(".dist-info")]
        name = stem.rpartition("-")[0]
        if name.lower().replace("_", "-") in skipped or not (info / "RECORD").is_file():
            continue
        direct = info / "direct_url.json"
        if direct.exists() and json.loads(direct.read_text()).get("dir_info", {}).get("editable"):
            continue
        entry_points = info / "entry_points.txt"
        generated = set()
        if entry_points.exists():
            section = ""
            for line in entry_points.read_text().splitlines():
                if line.startswith("["):
                    section = line.strip("[] ")
                elif "=" in line and section in ("console_scripts", "gui_scripts"):
                    generated.add(line.split("=", 1)[0].strip())
        rows: list[Row] = []
        version = stem.rpartition("-")[2]
        tag = _wheel_tag((info / "WHEEL").read_text())
        wheel = out / f"{name.replace('-', '_')}-{version}-{tag}.whl"
        with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
            with open(info / "RECORD", newline="") as handle:
                listed = [row[0] for row in csv.reader(handle) if row]
            for relative in listed:
                path = Path(os.path.normpath(site / relative))
                if path.suffix == ".pyc" or not path.is_file():
                    continue
                if path.parent == info and path.name in (
                    "RECORD",
                    "INSTALLER",
                    "REQUESTED",
                    "direct_url.json",
                ):
                    continue
                if path.is_relative_to(site):
                    arcname = path.relative_to(site).as_posix()
                elif path.parent.resolve() == scripts:
                    if path.name in generated:
                        continue
                    arcname = f"{stem}.data/scripts/{path.name}"
                elif path.is_relative_to(prefix):
                    arcname = f"{stem}.data/data/{path.relative_to(prefix).as_posix()}"
                else:
                    continue
                data = path.read_bytes()
                if arcname.startswith(f"{stem}.data/scripts/") and data.startswith(b"#!"):
                    first, newline, rest = data.partition(b"\n")
                    if b"python" in first:
                        data = b"#!python" + newline + rest
                archive.writestr(arcname, data)
                rows.append(record_row(arcname, data))
            own = f"{info.name}/RECORD"
            archive.writestr(own, render_record(rows, own))
        written += 1
    return written


# -- the venv -------------------------------------------------------------------------------


@dataclass
class Venv:
    path: Path
    python: Path
    site: Path
    frozen: Path  # name==version of every distribution but the seed pip
    distributions: int


def build_venv(root: Path, house: Path) -> Venv:
    """``python -m venv`` (seed pip kept) plus every wheel of ``house``, nothing compiled.

    Installed with ``--no-compile``, as uv installs by default, so the venv holds no
    ``.pyc`` for the migration to carry that an installing peer would not write. A seed
    other than pip (setuptools on Python < 3.12) is removed unless the house has it, so
    that the venv is exactly the seed pip plus the house.
    """
    venv = root / "venv"
    sh(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    wheels = sorted(house.glob("*.whl"))
    sh(python, "-m", "pip", "install", "-q", "--no-compile", "--no-deps", "--no-index", *wheels)
    site = next(venv.glob("lib/python*/site-packages"))
    wanted = {_canonical(w.name.split("-")[0]) for w in wheels} | {SEED}
    extra = [
        info.name.split("-")[0]
        for info in site.glob("*.dist-info")
        if _canonical(info.name.split("-")[0]) not in wanted
    ]
    if extra:
        sh(python, "-m", "pip", "uninstall", "-q", "-y", *extra)
    frozen = root / "frozen.txt"
    pins = ["==".join(w.name.split("-")[:2]) for w in wheels]
    frozen.write_text("".join(f"{pin}\n" for pin in pins))
    return Venv(venv, python, site, frozen, len(pins))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def without_seed(site: Path, destination: Path) -> Path:
    """A copy of ``site`` minus the files of the seed pip: what the migration carries."""
    info = next(site.glob(f"{SEED}-*.dist-info"))
    with open(info / "RECORD", newline="") as handle:
        owned = {row[0].split("/")[0] for row in csv.reader(handle) if row}
    owned.discard("..")

    def ignore(directory: str, names: list[str]) -> set[str]:
        return set(names) & owned if Path(directory) == site else set()

    shutil.copytree(site, destination, symlinks=True, ignore=ignore)
    return destination


def count_files(tree: Path) -> tuple[int, int]:
    """(files and symlinks, ``.pyc`` files) under ``tree``, a cold uv or pep582 cache left
    out."""
    files = pyc = 0
    for directory, subdirectories, names in os.walk(tree):
        if Path(directory) == tree:
            subdirectories[:] = [d for d in subdirectories if d not in CACHE_NAMES]
        files += len(names)
        pyc += sum(1 for name in names if name.endswith(".pyc"))
    return files, pyc


# -- peers ----------------------------------------------------------------------------------


def our_cache(root: Path, warm: bool) -> Callable[[Path], Path]:
    """Where a run of ours (its output directory given) keeps its unpacked-wheel cache.

    Warm: one directory under the scratch ``root``, kept across rounds and filled by the
    unmeasured warm-up round. Cold: a new empty directory inside each run's output
    (removed with it, never counted as output).
    """
    kept = root / "pep582-cache-warm"
    return (lambda out: kept) if warm else (lambda out: out / CACHE_NAMES[1])


# How every install benchmark describes its two caches of ours.
OUR_CACHES = (
    "ours: warm = one PEP582_CACHE_DIR kept across rounds (filled by the warm-up round), "
    "cold = a new empty one per run, both inside the scratch directory"
)


def profile_warm(
    what: str, command: Callable[[Path], list[str]], root: Path, warm: Callable[[Path], Path]
) -> None:
    """Profile one run of ours (``command(project)``) with the warm cache, in a new
    project directory under ``root``."""
    project = root / "profiled"
    project.mkdir()
    print(f"profile of one run: {what} (warm cache)")
    profile(command(project), root, pep582_cache=warm(project))


def uv_install(
    uv: str, house: Path, python: Path, requirements: Path, cache: Path | None, no_deps: bool
) -> Peer:
    """``uv pip install --target -r REQUIREMENTS`` (pins, or a ``pylock.toml``): hard
    links from a warm cache (``cache``), or a cold one.

    A warm cache is filled by the unmeasured warm-up round; ``cache=None`` gives every
    run a new empty cache. No bytecode is compiled (uv's default, stated explicitly).
    """

    def install(out: Path) -> None:
        sh(
            uv,
            "pip",
            "install",
            "-q",
            "--no-index",
            "--find-links",
            house,
            "--cache-dir",
            cache or out / "uv-cache",
            "--link-mode",
            "hardlink",
            "--no-compile-bytecode",
            "--python",
            python,
            *(["--no-deps"] if no_deps else []),
            "--target",
            out / "t",
            "-r",
            requirements,
        )

    return install


def pip_target(python: Path, house: Path, frozen: Path, no_deps: bool) -> Peer:
    """``pip install --target --no-compile``, with the same pip the toolkit runs."""

    def install(out: Path) -> None:
        sh(
            *pip(python),
            "install",
            "-q",
            "--no-compile",
            "--no-index",
            "--find-links",
            house,
            *(["--no-deps"] if no_deps else []),
            "--target",
            out / "t",
            "-r",
            frozen,
        )

    return install


# -- timing and reporting -------------------------------------------------------------------


@dataclass
class Measured:
    samples: dict[str, list[float]]  # seconds, per peer
    outputs: dict[str, tuple[int, int]]  # (files, .pyc) each peer left, from the warm-up
    rounds: int
    seed: int
    loads: list[float]  # 1-minute load average before each measured round

    def median(self, name: str) -> float:
        return statistics.median(self.samples[name])


def measure(peers: dict[str, Peer], rounds: int, scratch: Path, seed: int) -> Measured:
    """One unmeasured warm-up round, then ``rounds`` rounds, each in a new random order."""
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {name: [] for name in peers}
    outputs: dict[str, tuple[int, int]] = {}
    numbers = iter(range(1 << 30))
    loads: list[float] = []
    for round_number in range(rounds + 1):
        if round_number:
            loads.append(load_average())
        order = list(peers)
        rng.shuffle(order)
        for name in order:
            out = scratch / f"out{next(numbers)}"
            out.mkdir()
            start = time.perf_counter()
            peers[name](out)
            elapsed = time.perf_counter() - start
            if round_number == 0:
                outputs[name] = count_files(out)
            else:
                samples[name].append(elapsed)
            shutil.rmtree(out)
            # Write back what this run created and removed before the next one starts:
            # otherwise its journal and discard work lands in the next peer's timing.
            os.sync()
    return Measured(samples, outputs, rounds, seed, loads)


def print_figures(measured: Measured, unit: float = 1000.0, label: str = "ms") -> None:
    """min/median/max of every peer, with what it left on disk."""
    width = max(len(name) for name in measured.samples) + 2
    print(f"  {'':<{width}}{'min':>9}{'median':>9}{'max':>9} {label:<3} {'output':>18}")
    for name, values in measured.samples.items():
        low, mid, high = min(values), statistics.median(values), max(values)
        files, pyc = measured.outputs.get(name, (0, 0))
        output = f"{files} files, {pyc} .pyc" if files else "-"
        print(
            f"  {name:<{width}}{low * unit:9.1f}{mid * unit:9.1f}{high * unit:9.1f}"
            f"     {output:>18}"
        )
    print(f"  {describe_load(measured.loads)}")


@dataclass
class Ratio:
    label: str
    ours: Sequence[str]  # peers whose medians add up to the numerator
    peer: Sequence[str]  # ... and to the denominator
    target: float | None = None  # issue 22's target, shown for reference, never asserted


def print_ratios(measured: Measured, ratios: Sequence[Ratio]) -> None:
    print("ratios, ours/peer, from medians (issue 22's target in brackets):")
    width = max(len(r.label) for r in ratios) + 2
    for ratio in ratios:
        if not all(n in measured.samples for n in (*ratio.ours, *ratio.peer)):
            continue
        value = sum(map(measured.median, ratio.ours)) / sum(map(measured.median, ratio.peer))
        goal = f"[<= {ratio.target}x]" if ratio.target is not None else ""
        print(f"  {ratio.label:<{width}}{value:6.2f}x  {goal}")


def print_report(
    origin: str, notes: Sequence[str], measured: Measured, ratios: Sequence[Ratio]
) -> None:
    """Where the wheels came from, what the run did (``notes``), figures and ratios."""
    print(f"wheelhouse: {origin}")
    for note in notes:
        print(note)
    print_figures(measured)
    print_ratios(measured, ratios)


def add_arguments(parser: argparse.ArgumentParser, rounds: int) -> None:
    parser.add_argument("--rounds", type=int, default=rounds, help="measured rounds")
    parser.add_argument("--seed", type=int, help="seed of the shuffled order (default: random)")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="never ask PyPI: repack this environment's distributions",
    )


def _package_root() -> Path:
    """The directory ``pep582`` is imported from (a checkout's ``converter/``)."""
    spec = importlib.util.find_spec("pep582")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent.parent


# What the cumulative listing keeps: the toolkit's own functions and waits on children
# (click's and runpy's wrappers would fill it otherwise).
_OURS_OR_CHILDREN = r"pep582/|subprocess\.py.*\(run\)"


def profile(
    command: list[str], scratch: Path, top: int = 25, pep582_cache: Path | None = None
) -> None:
    """Run ``command`` (``python -m MODULE ...``) once under cProfile and print the top
    ``top`` of the toolkit's functions (and ``subprocess.run``, time spent waiting on a
    child) by cumulative time, then the top 12 of all by own time (``tottime``)."""
    assert command[1] == "-m", command
    stats_file = scratch / "profile.out"
    profiled = [command[0], "-m", "cProfile", "-o", os.fspath(stats_file), *command[1:]]
    start = time.perf_counter()
    subprocess.run(profiled, check=True, env=bench_env(pep582_cache))
    print(f"  wall time under the profiler: {(time.perf_counter() - start) * 1000:.0f} ms")
    short = {
        sysconfig.get_paths()["purelib"] + os.sep: "",
        os.fspath(_package_root()) + os.sep: "",
        sysconfig.get_paths()["stdlib"] + os.sep: "stdlib:",
    }
    listings = (
        ("cumulative", (_OURS_OR_CHILDREN, top), f"top {top} of ours by cumulative time"),
        ("tottime", (12,), "top 12 by own time"),
    )
    for key, restrictions, what in listings:
        text = io.StringIO()
        stats = pstats.Stats(os.fspath(stats_file), stream=text).sort_stats(key)
        stats.print_stats(*restrictions)
        lines = [line for line in text.getvalue().splitlines() if line.strip()]
        if key == "cumulative":
            print(f"  {next(line for line in lines if 'function calls' in line).strip()}")
        print(f"  {what}:")
        for line in lines[next(i for i, x in enumerate(lines) if "ncalls" in x) :]:
            for long, brief in short.items():
                line = line.replace(long, brief)
            print(f"  {line}")


def synthetic_venv(root: Path, dists: int, files_per_dist: int) -> Path:
    """A venv-shaped tree of ``dists`` distributions with valid RECORDs, no interpreter."""
    venv = root / f"synthetic-{dists}"
    site = venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    site.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(
        f"home = {Path(sys.executable).parent}\nversion = {sys.version.split()[0]}\n"
    )
    for number in range(dists):
        name = f"synth{number:04d}"
        package = site / name
        package.mkdir()
        entries: list[Row] = []
        for index in range(files_per_dist - 3):
            data = f"VALUE = {index}\n".encode() * 20
            (package / f"m{index}.py").write_bytes(data)
            entries.append(record_row(f"{name}/m{index}.py", data))
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        for meta, text in (
            ("METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"),
            ("WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"),
        ):
            (info / meta).write_text(text)
            entries.append(record_row(f"{info.name}/{meta}", text.encode()))
        (info / "RECORD").write_text(render_record(entries, f"{info.name}/RECORD"))
    return venv


def uv_binary() -> str | None:
    """uv on PATH, else the ``uv`` package beside this toolkit (its ``uv`` extra)."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    found_bin: str = find_uv_bin()
    return found_bin
