"""pep582-migrate on a realistic venv against its peers, measured side by side in one run.

    python benchmarks/migrate_venv.py [--rounds 5] [--scale]

Builds (once, cached in benchmarks/.cache) a wheelhouse of 30+ distributions including
numpy, then a venv from it, offline. Each round runs, interleaved: pep582-migrate in its
default mode (hard links + RECORD verification), with --no-verify, and with --copy;
``cp -al`` and ``cp -a`` of site-packages; hashing every file once; ``uv pip install
--target`` (warm cache) and ``pip install --target`` of the same frozen set from the
local wheelhouse. Medians and ratios against the targets in issue 3 are printed.

--scale adds a synthetic venv of 1,000 distributions / 100,000 files (and one of a tenth
of that size) to show that time grows linearly and peak memory stays small.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import (
    CACHE,
    FreshDirs,
    build_venv,
    interleaved,
    pip_install,
    print_medians,
    sh,
    uv_target_install,
    wheelhouse,
)


def hash_tree(tree: Path) -> None:
    for directory, _, files in os.walk(tree):
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                with open(path, "rb") as handle:
                    hashlib.file_digest(handle, "sha256") if hasattr(
                        hashlib, "file_digest"
                    ) else hashlib.sha256(handle.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scale", action="store_true", help="also run the 100k-file scale test")
    args = parser.parse_args()
    uv = shutil.which("uv")
    house = wheelhouse()
    with tempfile.TemporaryDirectory(prefix="pep582-bench-", dir=CACHE) as tmp:
        root = Path(tmp)
        venv, site, frozen = build_venv(root, house)
        files = sum(len(f) for _, _, f in os.walk(site))
        dists = len(list(site.glob("*.dist-info")))
        migrate = [sys.executable, "-m", "pep582.migrate_cli", os.fspath(venv), "-q"]
        fresh = FreshDirs(root)
        peers: dict[str, Callable[[], None]] = {
            "migrate (default: link+verify)": lambda: sh(*migrate, "--project", fresh()),
            "migrate --no-verify": lambda: sh(*migrate, "--no-verify", "--project", fresh()),
            "migrate --copy": lambda: sh(*migrate, "--copy", "--project", fresh()),
            "cp -al site-packages": lambda: sh("cp", "-al", site, fresh() / "sp"),
            "cp -a site-packages": lambda: sh("cp", "-a", site, fresh() / "sp"),
            "hash every file once": lambda: hash_tree(site),
            "pip install --target": lambda: pip_install(
                venv / "bin" / "python",
                house,
                "--no-deps",
                "--target",
                fresh() / "t",
                "-r",
                frozen,
            ),
        }
        if uv:
            peers["uv pip install --target (warm)"] = uv_target_install(
                uv, house, venv / "bin" / "python", frozen, fresh, root / "uv-cache"
            )
        med = interleaved(peers, args.rounds)
    print(
        f"venv: {dists} distributions, {files} files in site-packages; "
        f"{args.rounds} interleaved rounds; medians:"
    )
    print_medians(med)
    default = med["migrate (default: link+verify)"]
    checks = [
        (
            "default / (cp -al + hash once)",
            default / (med["cp -al site-packages"] + med["hash every file once"]),
            1.5,
        ),
        ("--copy / cp -a", med["migrate --copy"] / med["cp -a site-packages"], 1.5),
        ("default / pip install --target", default / med["pip install --target"], 0.1),
    ]
    if uv:
        checks.insert(
            1,
            (
                "--no-verify / uv pip install --target",
                med["migrate --no-verify"] / med["uv pip install --target (warm)"],
                1.0,
            ),
        )
    print("ratios (target in brackets):")
    for label, ratio, target in checks:
        verdict = "ok" if ratio <= target else "MISSED"
        print(f"  {label:<40} {ratio:6.2f}x  [<= {target}x] {verdict}")
    if args.scale:
        scale()


def synthetic_venv(root: Path, dists: int, files_per_dist: int) -> Path:
    """A venv-shaped tree of ``dists`` distributions with valid RECORDs, no interpreter."""
    from pep582.records import entry_for, render_record

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
        entries = []
        for index in range(files_per_dist - 3):
            data = f"VALUE = {index}\n".encode() * 20
            (package / f"m{index}.py").write_bytes(data)
            entries.append(entry_for(f"{name}/m{index}.py", data))
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        for meta, text in (
            ("METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"),
            ("WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"),
        ):
            (info / meta).write_text(text)
            entries.append(entry_for(f"{info.name}/{meta}", text.encode()))
        from installer.records import RecordEntry

        entries.append(RecordEntry(f"{info.name}/RECORD", None, None))
        (info / "RECORD").write_bytes(render_record(entries))
    return venv


def scale() -> None:
    with tempfile.TemporaryDirectory(prefix="pep582-scale-", dir=CACHE) as tmp:
        root = Path(tmp)
        print("scale (synthetic venvs, default mode):")
        for dists in (100, 1000):
            venv = synthetic_venv(root, dists, 100)
            project = root / f"p{dists}"
            project.mkdir()
            # A fresh parent per run, so its children's peak RSS is this run's alone.
            probe = (
                "import resource, subprocess, sys, time\n"
                "t = time.perf_counter()\n"
                "subprocess.run(sys.argv[1:], check=True)\n"
                "print(time.perf_counter() - t, "
                "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            )
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    probe,
                    sys.executable,
                    "-m",
                    "pep582.migrate_cli",
                    os.fspath(venv),
                    "-q",
                    "--project",
                    os.fspath(project),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            seconds, peak_kb = float(out[0]), int(out[1])
            print(
                f"  {dists:>5} distributions, {dists * 100:>7} files: {seconds:6.2f} s, "
                f"{seconds / (dists * 100) * 1e6:5.1f} us/file, peak RSS {peak_kb / 1024:.0f} MB"
            )


if __name__ == "__main__":
    main()
