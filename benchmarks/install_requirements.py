"""pep582-migrate requirements.txt against pip and uv ``--target``, side by side.

    python benchmarks/install_requirements.py [--rounds 11] [--seed N] [--offline] [--profile]

The requirements file pins every distribution of the wheelhouse (see common.py) exactly;
every command resolves it (dependencies included) and installs it offline from the same
local wheelhouse, for the same interpreter, into an empty directory, compiling nothing.
Each round runs, in a new random order:

- ``pep582-migrate requirements.txt`` with a *warm* wheel cache (one ``PEP582_CACHE_DIR``
  kept across rounds, filled by the unmeasured warm-up round: every wheel is hard-linked
  from its unpacked entry) and with a *cold* one (a new empty ``PEP582_CACHE_DIR`` each
  run: every wheel is hashed, unpacked into the cache, then linked);
- ``pep582-migrate requirements.txt --dry-run`` (it resolves only: our time before any
  file is touched), with the default resolver and with each of pip and uv
  (``PEP582_RESOLVER``); and a warm run resolved by uv;
- ``pip install --target --no-compile`` with the very pip the toolkit drives;
- ``uv pip install --target`` with a warm cache (filled by the warm-up round) and with a
  new empty cache;
- as the floor under our time, pip's resolution alone (``pip install --dry-run --report``,
  the command we run first): what fraction of our run it is, is printed.

Every run of ours gets its ``PEP582_CACHE_DIR`` inside the scratch directory; the user's
cache is never read or written.

--profile runs one ``pep582-migrate requirements.txt`` with the warm cache under cProfile
and prints the toolkit's top 25 functions by cumulative time and the top 12 by own time.
pip's time shows as waiting on its subprocess (``subprocess.run``): cProfile sees this
process's main thread only.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from common import (
    OUR_CACHES,
    Peer,
    Ratio,
    add_arguments,
    build_venv,
    measure,
    our_cache,
    ours,
    pip,
    pip_target,
    print_report,
    profile_warm,
    scratch,
    sh,
    uv_binary,
    uv_install,
    wheelhouse,
)

OURS_WARM = "pep582-migrate requirements.txt (warm cache)"
OURS_COLD = "pep582-migrate requirements.txt (cold cache)"
OURS_DRY = "pep582-migrate requirements.txt --dry-run"
OURS_DRY_PIP = "pep582-migrate requirements.txt --dry-run (pip resolves)"
OURS_DRY_UV = "pep582-migrate requirements.txt --dry-run (uv resolves)"
OURS_WARM_UV = "pep582-migrate requirements.txt (warm cache, uv resolves)"
PIP = "pip install --target --no-compile"
UV_WARM = "uv pip install --target (warm)"
UV_COLD = "uv pip install --target (cold)"
RESOLVE = "floor: pip resolve only (--report)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, rounds=11)
    parser.add_argument("--profile", action="store_true", help="profile one warm run of ours")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    house, origin = wheelhouse(args.offline)
    uv = uv_binary()
    with scratch() as root:
        venv = build_venv(root, house)  # the interpreter everything installs for
        index = ["--no-index", "--find-links", os.fspath(house)]
        warm, cold = our_cache(root, warm=True), our_cache(root, warm=False)

        def command(project: Path, *flags: str) -> list[str]:
            python = ["--python", os.fspath(venv.python)]
            return ours(venv.frozen, "-q", *flags, *index, *python, "--project", project)

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
            OURS_WARM: lambda out: sh(*command(out), pep582_cache=warm(out)),
            OURS_COLD: lambda out: sh(*command(out), pep582_cache=cold(out)),
            OURS_DRY: lambda out: sh(*command(out, "--dry-run"), pep582_cache=warm(out)),
            OURS_DRY_PIP: lambda out: sh(
                "env", "PEP582_RESOLVER=pip", *command(out, "--dry-run"), pep582_cache=warm(out)
            ),
            PIP: pip_target(venv.python, house, venv.frozen, no_deps=False),
            RESOLVE: resolve_only,
        }
        if uv:
            peers[OURS_DRY_UV] = lambda out: sh(
                "env", "PEP582_RESOLVER=uv", *command(out, "--dry-run"), pep582_cache=warm(out)
            )
            peers[OURS_WARM_UV] = lambda out: sh(
                "env", "PEP582_RESOLVER=uv", *command(out), pep582_cache=warm(out)
            )
            peers[UV_WARM] = uv_install(
                uv, house, venv.python, venv.frozen, root / "uv-cache", no_deps=False
            )
            peers[UV_COLD] = uv_install(uv, house, venv.python, venv.frozen, None, no_deps=False)
        measured = measure(peers, args.rounds, root, seed)
        notes = [
            f"{venv.distributions} pinned distributions, resolved with dependencies by every "
            f"command; {args.rounds} rounds after a warm-up, order shuffled each round "
            f"(seed {seed}); uv: --link-mode hardlink, no bytecode; " + OUR_CACHES,
        ]
        print_report(
            origin,
            notes,
            measured,
            [
                Ratio("ours (warm) / pip install --target", [OURS_WARM], [PIP], 0.5),
                Ratio("ours (cold) / pip install --target", [OURS_COLD], [PIP]),
                Ratio("ours (warm) / uv (warm cache)", [OURS_WARM], [UV_WARM]),
                Ratio("ours (cold) / uv (cold cache)", [OURS_COLD], [UV_COLD]),
                Ratio("floor: pip resolve / pip install --target", [RESOLVE], [PIP]),
            ],
        )
        if uv:
            print(
                "our resolution (--dry-run medians): pip "
                f"{measured.median(OURS_DRY_PIP) * 1000:.0f} ms, uv "
                f"{measured.median(OURS_DRY_UV) * 1000:.0f} ms"
            )
        floor = measured.median(RESOLVE)
        print("pip's resolution (the floor) as a fraction of our time, from medians:")
        for name in (OURS_WARM, OURS_COLD, OURS_DRY):
            ours_time = measured.median(name)
            print(
                f"  {name:<46} {floor / ours_time:6.0%}  "
                f"(the rest: {(ours_time - floor) * 1000:.0f} ms)"
            )
        dry = measured.median(OURS_DRY)
        linking = measured.median(OURS_WARM) - dry
        print(
            f"  warm run minus --dry-run (what installing from the cache adds): "
            f"{linking * 1000:.0f} ms over a {dry * 1000:.0f} ms dry run"
        )
        if args.profile:
            profile_warm("pep582-migrate requirements.txt", command, root, warm)


if __name__ == "__main__":
    main()
