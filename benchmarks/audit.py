"""``pep582 audit`` on a synthetic 1,000-distribution tree, against hashing every file once.

    python benchmarks/audit.py [--dists 1000] [--modules 20] [--rounds 5] [--seed 0]

Builds (in a temporary directory, offline) a project whose ``__pypackages__`` holds
``--dists`` distributions for the running interpreter, each a package of ``--modules``
modules (200 B to 16 KiB, deterministic), a console script for one in ten, and a
dist-info with METADATA, WHEEL, INSTALLER, top_level.txt, entry_points.txt and a RECORD
hashing every file. Each round runs, in a new random order after one unmeasured warm-up
round (so every peer sees a warm page cache):

- the audit through the library (``audit()``, in this process);
- ``pep582 audit --json`` as a process (interpreter start, click, probes included);
- hashing every file of the tree once (sha256, the audit's hash, same 1 MiB reads);
- reading the inventory only (metadata and RECORDs of every distribution).

The process runs in the environment every benchmark here uses (common.py: cached
bytecode, no pip settings) with ``PEP582_CACHE_DIR`` inside the temporary directory, so
the user's wheel cache is never touched.

Printed: min/median/max of each, the load average sampled before every round, and the
audit's median over the hashing median. The audit hashes every RECORD-listed file once
and probes the target interpreter twice (``choose_python`` and the stdlib names), so its
floor is hashing plus ~0.1 s.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import bench_env, describe_load, load_average

from pep582.audit import audit
from pep582.scheme import InterpreterFacts, scheme_for
from pep582.sources.distribution import inventory

CHUNK = 1 << 20


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_tree(project: Path, dists: int, modules: int, seed: int) -> tuple[int, int]:
    """Fill ``project/__pypackages__``; return (files, bytes)."""
    scheme = scheme_for(project, InterpreterFacts.running(), "pep582")
    site, scripts = Path(scheme.purelib), Path(scheme.scripts)
    site.mkdir(parents=True)
    scripts.mkdir(parents=True)
    (project / "__pypackages__" / ".gitignore").write_text("*\n")
    rng = random.Random(seed)
    files = size = 0
    for number in range(dists):
        name = f"dist{number:04d}"
        package, info = site / name, site / f"{name}-1.0.dist-info"
        package.mkdir()
        info.mkdir()
        written: dict[Path, bytes] = {}
        for index in range(modules):
            body = f"# {name} module {index}\n".encode()
            body += b"x = 1\n" * (rng.randint(200, 16384) // 6)
            written[package / ("__init__.py" if index == 0 else f"m{index}.py")] = body
        meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
        written[info / "METADATA"] = meta.encode()
        written[info / "WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        written[info / "INSTALLER"] = b"benchmark\n"
        written[info / "top_level.txt"] = f"{name}\n".encode()
        if number % 10 == 0:
            points = f"[console_scripts]\n{name}-cli = {name}:main\n"
            written[info / "entry_points.txt"] = points.encode()
            written[scripts / f"{name}-cli"] = f"#!python\nimport {name}\n".encode()
        rows = []
        for path, data in written.items():
            path.write_bytes(data)
            relative = os.path.relpath(path, site)
            rows.append(f"{relative},sha256={_b64(data)},{len(data)}")
            files += 1
            size += len(data)
        rows.append(f"{name}-1.0.dist-info/RECORD,,")
        record = "\n".join(rows) + "\n"
        (info / "RECORD").write_text(record)
        files += 1
        size += len(record)
    return files, size


def _cpu() -> float:
    """CPU seconds used so far by this process (every thread) and its children."""
    import resource

    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def hash_every_file(tree: Path) -> None:
    for directory, _, names in os.walk(tree):
        for name in names:
            with open(os.path.join(directory, name), "rb") as handle:
                hasher = hashlib.sha256()
                while chunk := handle.read(CHUNK):
                    hasher.update(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dists", type=int, default=1000)
    parser.add_argument("--modules", type=int, default=20, help="modules per distribution")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pep582-audit-bench-") as tmp:
        project = Path(tmp) / "project"
        start = time.perf_counter()
        files, size = build_tree(project, args.dists, args.modules, args.seed)
        print(
            f"tree: {args.dists} distributions, {files} files, {size / 1e6:.1f} MB "
            f"(built in {time.perf_counter() - start:.1f}s), Python "
            f"{sys.version_info[0]}.{sys.version_info[1]}"
        )
        site = Path(scheme_for(project, InterpreterFacts.running(), "pep582").purelib)
        command = [sys.executable, "-m", "pep582.commands.main", "audit", str(project)]
        command += ["--python", sys.executable, "--json"]

        def library() -> None:
            report = audit(project, sys.executable)
            assert not report.findings, [f.as_dict() for f in report.findings[:3]]
            assert report.files_hashed == files - args.dists  # every file but RECORD

        env = bench_env(Path(tmp) / "pep582-cache")

        def cli() -> None:
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)

        def inventory_only() -> None:
            inventory(site)

        peers: dict[str, Callable[[], None]] = {
            "pep582 audit (library)": library,
            "pep582 audit --json (process)": cli,
            "hash every file once": lambda: hash_every_file(project / "__pypackages__"),
            "inventory only (metadata, RECORDs)": inventory_only,
        }
        samples: dict[str, list[float]] = {name: [] for name in peers}
        cpu: dict[str, list[float]] = {name: [] for name in peers}
        rng = random.Random(args.seed)
        loads: list[float] = []
        for round_number in range(args.rounds + 1):
            if round_number:
                loads.append(load_average())
            order = list(peers)
            rng.shuffle(order)
            for name in order:
                used = _cpu()
                start = time.perf_counter()
                peers[name]()
                if round_number:  # round 0 warms the page cache and bytecode
                    samples[name].append(time.perf_counter() - start)
                    cpu[name].append(_cpu() - used)
        print(
            f"{args.rounds} rounds, shuffled; {describe_load(loads)}; wall seconds min / "
            "median / max, and median CPU seconds (all threads and child processes):"
        )
        for name, values in samples.items():
            print(
                f"  {name:<36} {min(values):6.3f} / {statistics.median(values):6.3f} / "
                f"{max(values):6.3f}   cpu {statistics.median(cpu[name]):6.3f}"
            )
        medians = {name: statistics.median(values) for name, values in samples.items()}
        ratio = medians["pep582 audit (library)"] / medians["hash every file once"]
        print(f"audit / hashing every file once: {ratio:.2f}x (medians)")


if __name__ == "__main__":
    main()
