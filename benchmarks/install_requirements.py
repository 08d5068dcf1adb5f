"""pep582-migrate requirements.txt against pip and uv ``--target``, side by side.

    python benchmarks/install_requirements.py [--rounds 11] [--seed N] [--offline] [--profile]

The requirements file pins every distribution of the wheelhouse (see common.py) exactly;
every command resolves it (dependencies included) and installs it offline from the same
local wheelhouse, for the same interpreter, into an empty directory, compiling nothing.
Each round runs, in a new random order: ``pep582-migrate requirements.txt``; ``pip
install --target --no-compile`` with the very pip the toolkit drives; ``uv pip install
--target`` with a warm cache (filled by the unmeasured warm-up round) and with a new
empty cache (unzipping every wheel, as we do today); and, as the floor under our time,
pip's resolution alone (``pip install --dry-run --report``, the first thing we run).

--profile runs one ``pep582-migrate requirements.txt`` under cProfile and prints the top
15 entries by cumulative time and the top 10 by own time. pip's time shows as waiting on
its subprocess, and wheels installed in worker threads as the main thread waiting on a
lock: cProfile sees the main thread only.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from common import (
    Peer,
    Ratio,
    add_arguments,
    build_venv,
    measure,
    ours,
    pip,
    pip_target,
    print_figures,
    print_ratios,
    profile,
    scratch,
    sh,
    uv_install,
    wheelhouse,
)

OURS = "pep582-migrate requirements.txt"
PIP = "pip install --target --no-compile"
UV_WARM = "uv pip install --target (warm)"
UV_COLD = "uv pip install --target (cold)"
RESOLVE = "floor: pip resolve only (--report)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, rounds=11)
    parser.add_argument("--profile", action="store_true", help="profile one run of ours")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    house, origin = wheelhouse(args.offline)
    uv = shutil.which("uv")
    with scratch() as root:
        venv = build_venv(root, house)  # the interpreter everything installs for
        index = ["--no-index", "--find-links", os.fspath(house)]

        def command(project: Path) -> list[str]:
            requirements = project / "requirements.txt"
            shutil.copy(venv.frozen, requirements)
            return ours(requirements, "-q", *index, "--python", venv.python)

        def resolve_only(out: Path) -> None:
            sh(
                *pip(venv.python),
                "install",
                "-q",
                "--dry-run",
                "--ignore-installed",
                "--report",
                out / "report.json",
                *index,
                "-r",
                venv.frozen,
            )

        peers: dict[str, Peer] = {
            OURS: lambda out: sh(*command(out)),
            PIP: pip_target(venv.python, house, venv.frozen, no_deps=False),
            RESOLVE: resolve_only,
        }
        if uv:
            peers[UV_WARM] = uv_install(
                uv, house, venv.python, venv.frozen, root / "uv-cache", no_deps=False
            )
            peers[UV_COLD] = uv_install(uv, house, venv.python, venv.frozen, None, no_deps=False)
        measured = measure(peers, args.rounds, root, seed)
        print(f"wheelhouse: {origin}")
        print(
            f"{venv.distributions} pinned distributions, resolved with dependencies by every "
            f"command; {args.rounds} rounds after a warm-up, order shuffled each round "
            f"(seed {seed}); uv: --link-mode hardlink, no bytecode"
        )
        print_figures(measured)
        print_ratios(
            measured,
            [
                Ratio("ours / pip install --target", [OURS], [PIP], 0.5),
                Ratio("ours / uv (warm cache)", [OURS], [UV_WARM]),
                Ratio("ours / uv (cold cache)", [OURS], [UV_COLD]),
                Ratio("share of ours spent in pip resolve", [RESOLVE], [OURS]),
            ],
        )
        if args.profile:
            project = root / "profiled"
            project.mkdir()
            print("profile of one run: pep582-migrate requirements.txt")
            profile(command(project), root)


if __name__ == "__main__":
    main()
