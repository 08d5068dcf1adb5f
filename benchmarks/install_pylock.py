"""pep582-migrate pylock.toml against ``uv pip install --target -r pylock.toml``, side by side.

    python benchmarks/install_pylock.py [--rounds 15] [--seed N] [--offline]
                                        [--lock-with auto|pip-lock|report] [--profile]

The lock is made offline from the same local wheelhouse (see common.py) and pins every
distribution of it, each a ``file://`` wheel with its sha256: with ``pip lock`` where the
toolkit's pip has it (``auto``, ``pip-lock``), else (or with ``report``) written here from
``pip install --dry-run --report``. It is then checked with ``packaging.pylock``. Nobody
resolves: every command installs exactly what is locked, for the same interpreter, into
an empty directory, offline, compiling nothing. Each round runs, in a new random order:

- ``pep582-migrate pylock.toml`` with a warm wheel cache (one ``PEP582_CACHE_DIR`` kept
  across rounds, filled by the unmeasured warm-up round) and with a cold one (a new empty
  ``PEP582_CACHE_DIR`` each run), both inside the scratch directory;
- ``uv pip install --target -r pylock.toml`` with a warm uv cache (filled by the warm-up
  round) and with a new empty one; ``--link-mode hardlink``, ``--no-compile-bytecode``;
- ``uv pip install --target -r pins.txt`` (the same pins, resolved) with the warm cache,
  to show what uv's lock path saves over resolving.

Same wheels and the same work on both sides (unpack once, hard-link from the cache, write
console scripts and the dist-info); the layouts differ by three directory levels (ours:
``__pypackages__/lib/pythonX.Y/site-packages`` and ``__pypackages__/bin``; uv: ``t/`` and
``t/bin``). uv also writes ``REQUESTED``, ``uv_cache.json`` and a ``.lock`` (the file
counts show it).

--profile runs one warm ``pep582-migrate pylock.toml`` under cProfile and prints the
toolkit's top 25 functions by cumulative time and the top 12 by own time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import (
    OUR_CACHES,
    Peer,
    Ratio,
    Venv,
    add_arguments,
    bench_env,
    build_venv,
    measure,
    our_cache,
    ours,
    pip,
    print_report,
    profile_warm,
    scratch,
    sh,
    uv_binary,
    uv_install,
    wheelhouse,
)
from packaging.pylock import PackageWheel, Pylock
from packaging.utils import canonicalize_name as canonical

from pep582.parse import load_toml

OURS_WARM = "pep582-migrate pylock.toml (warm cache)"
OURS_COLD = "pep582-migrate pylock.toml (cold cache)"
UV_WARM = "uv pip install --target -r pylock.toml (warm)"
UV_COLD = "uv pip install --target -r pylock.toml (cold)"
UV_PINS = "uv pip install --target -r pins (warm)"


def has_pip_lock() -> bool:
    """Whether the toolkit's pip has the (experimental) ``pip lock`` command."""
    probe = [sys.executable, "-m", "pip", "lock", "--help"]
    return subprocess.run(probe, capture_output=True, env=bench_env()).returncode == 0


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's for these ASCII names and URLs)."""
    return json.dumps(value, ensure_ascii=True)


def lock_from_report(report: dict[str, Any], path: Path) -> None:
    """Write a PEP 751 lock of every wheel pip's ``--report`` lists (name, version, url,
    hashes), the shape ``pip lock`` writes for local wheels."""
    lines = ['lock-version = "1.0"', 'created-by = "pep582-toolkit benchmarks"', ""]
    for item in sorted(report["install"], key=lambda i: canonical(i["metadata"]["name"])):
        info = item["download_info"]
        url = str(info["url"])
        hashes = info["archive_info"]["hashes"]
        lines += [
            "[[packages]]",
            f"name = {_toml_string(canonical(item['metadata']['name']))}",
            f"version = {_toml_string(item['metadata']['version'])}",
            "",
            "[[packages.wheels]]",
            f"name = {_toml_string(url.rsplit('/', 1)[-1])}",
            f"url = {_toml_string(url)}",
            "",
            "[packages.wheels.hashes]",
            *(f"{algorithm} = {_toml_string(value)}" for algorithm, value in hashes.items()),
            "",
        ]
    path.write_text("\n".join(lines))


def make_lock(venv: Venv, house: Path, root: Path, how: str) -> tuple[Path, str]:
    """``root/pylock.toml`` for every pin of ``venv.frozen``, and how it was made."""
    lock = root / "pylock.toml"
    index = ["--no-index", "--find-links", os.fspath(house)]
    if how == "pip-lock" or (how == "auto" and has_pip_lock()):
        quiet = [*pip(venv.python), "lock", "-q", *index, "-r", os.fspath(venv.frozen)]
        # pip warns on stderr that the command is experimental; that is all it prints.
        subprocess.run([*quiet, "-o", os.fspath(lock)], check=True, env=bench_env())
        made = "pip lock"
    else:
        report = root / "report.json"
        resolve = ["install", "-q", "--dry-run", "--ignore-installed", "--report"]
        sh(*pip(venv.python), *resolve, report, *index, "-r", venv.frozen)
        lock_from_report(json.loads(report.read_text()), lock)
        made = "written from pip install --dry-run --report"
    parsed = Pylock.from_dict(load_toml(lock))
    wheels = [w for p in parsed.packages for w in (p.wheels or []) if isinstance(w, PackageWheel)]
    if len(parsed.packages) != venv.distributions or len(wheels) != venv.distributions:
        raise SystemExit(f"{lock}: expected {venv.distributions} locked wheels")
    return lock, made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, rounds=15)
    parser.add_argument(
        "--lock-with",
        choices=("auto", "pip-lock", "report"),
        default="auto",
        help="how to make the lock (auto: pip lock when the toolkit's pip has it)",
    )
    parser.add_argument("--profile", action="store_true", help="profile one warm run of ours")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    uv = uv_binary()
    if uv is None:
        raise SystemExit("uv is not on PATH: nothing to compare with")
    house, origin = wheelhouse(args.offline)
    with scratch() as root:
        venv = build_venv(root, house)
        lock, made = make_lock(venv, house, root, args.lock_with)
        warm, cold = our_cache(root, warm=True), our_cache(root, warm=False)

        def command(project: Path) -> list[str]:
            return ours(lock, "-q", "--python", venv.python, "--project", project)

        peers: dict[str, Peer] = {
            OURS_WARM: lambda out: sh(*command(out), pep582_cache=warm(out)),
            OURS_COLD: lambda out: sh(*command(out), pep582_cache=cold(out)),
            UV_WARM: uv_install(uv, house, venv.python, lock, root / "uv-cache", no_deps=False),
            UV_COLD: uv_install(uv, house, venv.python, lock, None, no_deps=False),
            UV_PINS: uv_install(
                uv, house, venv.python, venv.frozen, root / "uv-cache", no_deps=False
            ),
        }
        measured = measure(peers, args.rounds, root, seed)
        version = subprocess.run([uv, "--version"], capture_output=True, text=True).stdout
        notes = [
            f"lock: {venv.distributions} wheels ({made}), file:// URLs and sha256 each; "
            f"{version.strip()}; {args.rounds} rounds after a warm-up, order shuffled each "
            f"round (seed {seed}); no bytecode anywhere (uv --no-compile-bytecode, "
            "--link-mode hardlink; ours compiles nothing by default); " + OUR_CACHES,
        ]
        print_report(
            origin,
            notes,
            measured,
            [
                Ratio("ours / uv, pylock.toml, warm caches", [OURS_WARM], [UV_WARM], 1.5),
                Ratio("ours / uv, pylock.toml, cold caches", [OURS_COLD], [UV_COLD]),
                Ratio("ours (lock, warm) / uv (pins, warm)", [OURS_WARM], [UV_PINS]),
                Ratio("ours: warm / cold", [OURS_WARM], [OURS_COLD]),
            ],
        )
        if args.profile:
            profile_warm("pep582-migrate pylock.toml", command, root, warm)


if __name__ == "__main__":
    main()
