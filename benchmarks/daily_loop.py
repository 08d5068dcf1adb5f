"""The daily loop: install one small wheel, then uninstall it, in trees of growing size.

    python benchmarks/daily_loop.py [--rounds 9] [--seed N] [--sizes 0,5000,20000]
                                    [--large] [--profile SIZE]

For each size N (files already in the tree: 0, 5,000, 20,000; 100,000 with --large) one
round runs, in a new random order:

- ours: ``pep582 install --no-index --find-links H tiny`` then ``pep582 uninstall tiny``
  in a project whose ``__pypackages__`` holds N files (synthetic distributions of 100
  files each, migrated from a venv so both sides hold the same files);
- uv: ``uv pip install`` then ``uv pip uninstall`` of the same wheel into a venv holding
  the same N files (its default: hard links from a warm cache, no byte code);
- pip: ``pip --python VENV install --no-compile`` then ``pip uninstall -y`` there;
- floor (once): two Python starts importing click and packaging, plus ``uv pip compile``
  of the one requirement: what any command line built on those libraries pays before it
  does any work, against which ours is compared too.

``tiny`` is a one-module wheel built here. Every command gets the same environment (no
pip/uv configuration, our wheel cache warm after the unmeasured first round). Printed:
min/median/max per peer and size, the ratios ours/uv and ours/pip per size, and how our
loop grows with the tree (ours at N / ours at 0). --profile SIZE runs our install once
under cProfile in a tree of that size. Nothing is asserted: a busy machine changes the
times; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from common import (
    Measured,
    Peer,
    Ratio,
    add_arguments,
    bench_env,
    measure,
    pip,
    print_figures,
    print_ratios,
    profile,
    record_row,
    render_record,
    scratch,
    sh,
    synthetic_venv,
    uv_binary,
)

FILES_PER_DIST = 100
FLOOR_IMPORTS = "import click, packaging.metadata, packaging.requirements, packaging.tags"


def tiny_wheel(house: Path) -> Path:
    """``tiny-1.0-py3-none-any.whl``: one module, valid RECORD."""
    house.mkdir(parents=True, exist_ok=True)
    wheel = house / "tiny-1.0-py3-none-any.whl"
    files = {
        "tiny.py": b"VALUE = 1\n",
        "tiny-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tiny\nVersion: 1.0\n",
        "tiny-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    rows = [record_row(name, data) for name, data in files.items()]
    with zipfile.ZipFile(wheel, "w") as out:
        for name, data in files.items():
            out.writestr(name, data)
        out.writestr("tiny-1.0.dist-info/RECORD", render_record(rows, "tiny-1.0.dist-info/RECORD"))
    return wheel


def ours_command(*args: str | os.PathLike[str]) -> list[str]:
    return [sys.executable, "-m", "pep582.commands.main", *(os.fspath(a) for a in args)]


def setup(root: Path, size: int, base_python: str) -> tuple[Path, Path]:
    """A venv holding ``size`` files of synthetic distributions (a real interpreter, so
    pip and uv can act on it) and a project whose ``__pypackages__`` holds the same."""
    dists = size // FILES_PER_DIST
    filler = synthetic_venv(root / f"filler{size}", dists, FILES_PER_DIST)
    venv = root / f"venv{size}"
    sh(base_python, "-m", "venv", "--without-pip", venv)
    site = next(venv.glob("lib/python*/site-packages"))
    for item in next(filler.glob("lib/python*/site-packages")).iterdir():
        shutil.move(os.fspath(item), os.fspath(site / item.name))
    project = root / f"project{size}"
    project.mkdir()
    if dists:
        sh(
            sys.executable,
            "-m",
            "pep582.commands.migrate",
            venv,
            "-q",
            "--no-verify",
            "--project",
            project,
            "--python",
            base_python,
        )
    else:
        (project / "__pypackages__").mkdir()
    return venv, project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, rounds=9)
    parser.add_argument("--sizes", default="0,5000,20000", help="files in the tree, per size")
    parser.add_argument("--large", action="store_true", help="also a tree of 100,000 files")
    parser.add_argument("--profile", type=int, metavar="SIZE", help="profile our install")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    sizes = [int(s) for s in args.sizes.split(",")] + ([100_000] if args.large else [])
    base_python = os.path.realpath(
        os.path.join(sys.base_prefix, "bin", f"python{sys.version_info[0]}.{sys.version_info[1]}")
    )
    uv = uv_binary()
    if uv is None:
        raise SystemExit("the daily loop needs uv (pip install -e '.[uv]', or uv on PATH)")
    with scratch() as root:
        house = root / "house"
        tiny_wheel(house)
        uv_cache = root / "uv-cache"
        peers: dict[str, Peer] = {}
        for size in sizes:
            venv, project = setup(root, size, base_python)
            python = venv / "bin" / "python"

            def loop_ours(_: Path, project: Path = project) -> None:
                common: list[str | os.PathLike[str]] = [
                    "--project", project, "--python", base_python, "-q"
                ]  # fmt: skip
                sh(*ours_command("install", *common, "--no-index", "--find-links", house, "tiny"))
                sh(*ours_command("uninstall", *common, "tiny"))

            def loop_uv(_: Path, python: Path = python) -> None:
                sh(uv, "pip", "install", "-q", "--python", python, "--no-index", "--find-links",
                   house, "--cache-dir", uv_cache, "tiny")  # fmt: skip
                sh(uv, "pip", "uninstall", "-q", "--python", python, "tiny")

            def loop_pip(_: Path, python: Path = python) -> None:
                sh(*pip(python), "install", "-q", "--no-compile", "--no-index", "--find-links",
                   house, "tiny")  # fmt: skip
                sh(*pip(python), "uninstall", "-q", "-y", "tiny")

            peers[f"ours {size}"] = loop_ours
            peers[f"uv {size}"] = loop_uv
            peers[f"pip {size}"] = loop_pip

        requested = root / "requested.in"
        requested.write_text("tiny\n")

        def floor(_: Path) -> None:
            """What any Python command line built on click and packaging pays for the
            loop before doing its work: two interpreter starts importing them, and uv's
            resolution of the one requirement."""
            for _command in range(2):
                sh(sys.executable, "-c", FLOOR_IMPORTS)
            sh(uv, "pip", "compile", "-q", "--no-header", "--format", "pylock.toml", "--python",
               base_python, "--no-index", "--find-links", house, requested)  # fmt: skip

        peers["floor"] = floor
        if args.profile is not None:
            project = root / f"project{args.profile}"
            command = ours_command("install", "--project", project, "--python", base_python,
                                   "--no-index", "--find-links", house, "tiny")  # fmt: skip
            profile(command, root)
            sh(*ours_command("uninstall", "--project", project, "-q", "tiny"))
            return
        measured: Measured = measure(peers, args.rounds, root, seed)
    print(
        f"daily loop (install + uninstall of one small wheel), {args.rounds} rounds, seed {seed}"
    )
    version = subprocess.run([uv, "--version"], capture_output=True, text=True, env=bench_env())
    print(f"interpreter: {base_python}; {version.stdout.strip()}")
    print_figures(measured)
    ratios = [
        Ratio("floor/uv (click + packaging + uv's resolution)", ["floor"], [f"uv {sizes[0]}"])
    ]
    for size in sizes:
        ratios.append(Ratio(f"ours/uv, {size} files", [f"ours {size}"], [f"uv {size}"], 3.0))
        ratios.append(Ratio(f"ours/pip, {size} files", [f"ours {size}"], [f"pip {size}"]))
        if size:
            ratios.append(Ratio(f"ours {size} / ours 0", [f"ours {size}"], ["ours 0"], 1.3))
    print_ratios(measured, ratios)


if __name__ == "__main__":
    main()
