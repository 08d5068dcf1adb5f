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
        fresh = FreshDirs(root)

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
            "pip install --target": lambda: pip_install(
                python,
                house,
                "--target",
                fresh() / "t",
                "-r",
                frozen,
            ),
        }
        if uv:
            peers["uv pip install --target (warm)"] = uv_target_install(
                uv, house, python, frozen, fresh, root / "uv-cache"
            )
        medians = interleaved(peers, args.rounds)
        count = sum(1 for line in frozen.read_text().splitlines() if "==" in line)
    print(f"{count} pinned distributions, {args.rounds} interleaved rounds; medians:")
    print_medians(medians)
    ours_median = medians["pep582-migrate requirements.txt"]
    ratio = medians["pip install --target"] / ours_median
    verdict = "ok" if ratio >= 1.5 else "MISSED"
    print(f"pep582-migrate is {ratio:.2f}x faster than pip install --target [>= 1.5x] {verdict}")
    if uv:
        ratio = ours_median / medians["uv pip install --target (warm)"]
        print(f"pep582-migrate takes {ratio:.2f}x the time of uv pip install --target (warm)")


if __name__ == "__main__":
    main()
