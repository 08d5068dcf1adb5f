"""pep582-migrate on a realistic venv against its peers, measured side by side in one run.

    python benchmarks/migrate_venv.py [--rounds 15] [--seed N] [--offline]
                                      [--profile [default|no-verify|copy]] [--scale]

The venv is ``python -m venv`` (its seed pip kept, as users have it) plus every wheel of
the wheelhouse (see common.py), installed without ``.pyc`` files. Each round runs, in a new
random order: pep582-migrate in its default mode (hard links + RECORD verification), with
--no-verify and with --copy; ``cp -al`` and ``cp -a`` of site-packages; hashing every
file once; ``uv pip install --target`` (warm cache) and ``pip install --target
--no-compile`` of the same distributions from the same local wheelhouse.

Same file set on both sides: pep582-migrate leaves the seed pip out by default (with its
``.pyc``, ~1,000 of a fresh venv's ~1,500 files), so the copy and hash peers work on a copy
of site-packages without pip's files, and the installing peers install every distribution
but pip. We chose this over ``--include-pip`` because the default is what users run and
what issues 13 and 22's targets are about; the peers get the same reduced set instead.

--profile runs one migration (default mode unless named) under cProfile and prints the
toolkit's top 25 functions by cumulative time and the top 12 by own time. --scale adds
synthetic venvs of 100 and 1,000 distributions (10,000 / 100,000 files) to show that time
grows linearly and peak memory stays small.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from common import (
    Peer,
    Ratio,
    add_arguments,
    bench_env,
    build_venv,
    count_files,
    measure,
    ours,
    pip_target,
    print_report,
    profile,
    scratch,
    sh,
    synthetic_venv,
    uv_binary,
    uv_install,
    wheelhouse,
    without_seed,
)

MODES = {"default": [], "no-verify": ["--no-verify"], "copy": ["--copy"]}


def hash_tree(tree: Path) -> None:
    """sha256 of every regular file once (RECORD's algorithm), in this process."""
    for directory, _, files in os.walk(tree):
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                with open(path, "rb") as handle:
                    digest = hashlib.sha256()
                    while chunk := handle.read(1 << 20):
                        digest.update(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, rounds=15)
    parser.add_argument(
        "--profile",
        nargs="?",
        const="default",
        choices=MODES,
        help="profile one migration in this mode (default: default)",
    )
    parser.add_argument("--scale", action="store_true", help="also run the 100k-file scale test")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    uv = uv_binary()
    house, origin = wheelhouse(args.offline)
    with scratch() as root:
        venv = build_venv(root, house)
        tree = without_seed(venv.site, root / "site-without-pip")
        files, pyc = count_files(tree)
        all_files, _ = count_files(venv.site)

        def migrate(*flags: str) -> Peer:
            return lambda out: sh(*ours(venv.path, "-q", *flags, "--project", out))

        peers: dict[str, Peer] = {
            "migrate (default: link+verify)": migrate(),
            "migrate --no-verify": migrate("--no-verify"),
            "migrate --copy": migrate("--copy"),
            "cp -al site-packages": lambda out: sh("cp", "-al", tree, out / "sp"),
            "cp -a site-packages": lambda out: sh("cp", "-a", tree, out / "sp"),
            "hash every file once": lambda out: hash_tree(tree),
            "pip install --target --no-compile": pip_target(
                venv.python, house, venv.frozen, no_deps=True
            ),
        }
        if uv:
            peers["uv pip install --target (warm)"] = uv_install(
                uv, house, venv.python, venv.frozen, root / "uv-cache", no_deps=True
            )
        measured = measure(peers, args.rounds, root, seed)
        notes = [
            f"venv: seed pip + {venv.distributions} distributions; site-packages holds "
            f"{all_files} files, {files} without pip ({pyc} .pyc): the set every peer handles",
            f"{args.rounds} rounds after a warm-up, order shuffled each round (seed {seed}); "
            "uv: cache warmed by the warm-up round, --link-mode hardlink, no bytecode; "
            "pip: --no-compile, the toolkit's own pip; hashing runs in this process",
        ]
        print_report(
            origin,
            notes,
            measured,
            [
                Ratio(
                    "default / (cp -al + hash once)",
                    ["migrate (default: link+verify)"],
                    ["cp -al site-packages", "hash every file once"],
                    1.1,
                ),
                Ratio(
                    "--no-verify / uv pip install --target",
                    ["migrate --no-verify"],
                    ["uv pip install --target (warm)"],
                    1.2,
                ),
                Ratio("--no-verify / cp -al", ["migrate --no-verify"], ["cp -al site-packages"]),
                Ratio("--copy / cp -a", ["migrate --copy"], ["cp -a site-packages"]),
                Ratio(
                    "default / pip install --target",
                    ["migrate (default: link+verify)"],
                    ["pip install --target --no-compile"],
                ),
            ],
        )
        if args.profile:
            project = root / "profiled"
            project.mkdir()
            flags = " ".join(["VENV", *MODES[args.profile]])
            print(f"profile of one run: pep582-migrate {flags}")
            profile(ours(venv.path, "-q", *MODES[args.profile], "--project", project), root)
    if args.scale:
        scale()


def scale() -> None:
    with scratch() as root:
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
                    "pep582.commands.migrate",
                    os.fspath(venv),
                    "-q",
                    "--project",
                    os.fspath(project),
                ],
                check=True,
                capture_output=True,
                text=True,
                env=bench_env(),
            ).stdout.split()
            seconds, peak_kb = float(out[0]), int(out[1])
            print(
                f"  {dists:>5} distributions, {dists * 100:>7} files: {seconds:6.2f} s, "
                f"{seconds / (dists * 100) * 1e6:5.1f} us/file, peak RSS {peak_kb / 1024:.0f} MB"
            )


if __name__ == "__main__":
    main()
