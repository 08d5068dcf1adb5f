"""pep582-migrate requirements.txt against pip and uv ``--target``, side by side.

    python benchmarks/install_requirements.py [--rounds 5]

Uses the same 30+ distribution set as benchmarks/migrate_venv.py (wheelhouse cached in
benchmarks/.cache, built once), frozen to exact pins, installed offline from the local
wheelhouse. Each round runs, interleaved: ``pep582-migrate requirements.txt``,
``pip install --target`` and, when uv is installed, ``uv pip install --target``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from migrate_venv import CACHE, build_venv, sh, wheelhouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    house = wheelhouse()
    uv = shutil.which("uv")
    with tempfile.TemporaryDirectory(prefix="pep582-bench-", dir=CACHE) as tmp:
        root = Path(tmp)
        venv, _, frozen = build_venv(root, house)  # the freeze gives the exact pin set
        python = venv / "bin" / "python"
        counter = iter(range(10**6))

        def fresh() -> Path:
            target = root / f"out{next(counter)}"
            target.mkdir()
            return target

        def ours() -> None:
            project = fresh()
            shutil.copy(frozen, project / "requirements.txt")
            sh(
                sys.executable,
                "-m",
                "pep582.migrate_cli",
                project / "requirements.txt",
                "-q",
                "--no-index",
                "--find-links",
                house,
                "--python",
                python,
            )

        peers: dict[str, Callable[[], None]] = {
            "pep582-migrate requirements.txt": ours,
            "pip install --target": lambda: sh(
                python,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-index",
                "--find-links",
                house,
                "--target",
                fresh() / "t",
                "-r",
                frozen,
            ),
        }
        if uv:
            cache = root / "uv-cache"

            def uv_install() -> None:
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
                    "--target",
                    fresh() / "t",
                    "-r",
                    frozen,
                )

            uv_install()  # warm its cache, as users' caches are
            peers["uv pip install --target (warm)"] = uv_install
        samples: dict[str, list[float]] = {name: [] for name in peers}
        for _ in range(args.rounds):
            for name, action in peers.items():
                start = time.perf_counter()
                action()
                samples[name].append(time.perf_counter() - start)
        count = sum(1 for line in frozen.read_text().splitlines() if "==" in line)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"{count} pinned distributions, {args.rounds} interleaved rounds; medians:")
    for name, value in medians.items():
        print(f"  {name:<34} {value * 1000:8.1f} ms")
    ratio = medians["pip install --target"] / medians["pep582-migrate requirements.txt"]
    verdict = "ok" if ratio >= 1.5 else "MISSED"
    print(f"pep582-migrate is {ratio:.2f}x faster than pip install --target [>= 1.5x] {verdict}")
    if uv:
        ratio = (
            medians["pep582-migrate requirements.txt"] / medians["uv pip install --target (warm)"]
        )
        print(f"pep582-migrate takes {ratio:.2f}x the time of uv pip install --target (warm)")


if __name__ == "__main__":
    main()
