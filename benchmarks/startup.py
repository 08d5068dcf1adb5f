"""Start-up cost of the PEP 582 hook: ``python -c pass`` with and without it, shuffled.

    python benchmarks/startup.py [--python PY] [--runs 60] [--seed N]

Five configurations of one interpreter are timed, every run in a new random order (so
drift hits all alike), after one unmeasured warm-up run each: no hook; hook and no
__pypackages__; hook and a __pypackages__ holding a module; a peer venv whose .pth imports
an empty compiled module (the least any .pth hook can cost); and, as the floor, the same
venv with -S (no site at all). min/median/max are printed; deltas and ratios against
"no hook" are computed from medians. Whether the hook's ``.pyc`` exists is printed too.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pep582 import hook
from pep582.interpreter import find_python
from pep582.scheme import scheme_for

REFERENCE = "no hook"


def time_once(command: list[str], cwd: Path) -> float:
    """Milliseconds one run of ``command`` takes, process start to exit."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", help="interpreter to build the venv from (default: this)")
    parser.add_argument("--runs", type=int, default=60, help="measured runs per configuration")
    parser.add_argument("--seed", type=int, help="seed of the shuffled order (default: random)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    base = find_python(args.python or sys.executable)
    with tempfile.TemporaryDirectory(prefix="pep582-bench-") as tmp:
        root = Path(tmp)
        plain, hooked, peer = root / "plain", root / "hooked", root / "peer"
        for venv in (plain, hooked, peer):
            subprocess.run([base.executable, "-m", "venv", "--without-pip", venv], check=True)
        # The least any .pth-based hook can cost: a .pth importing an empty, compiled module.
        peer_site = find_python(str(peer / "bin" / "python")).purelib
        (peer_site / "empty_hook.py").write_text("")
        (peer_site / "empty_hook.pth").write_text("import empty_hook\n")
        subprocess.run(
            [peer / "bin" / "python", "-m", "py_compile", peer_site / "empty_hook.py"], check=True
        )
        hooked_python = find_python(str(hooked / "bin" / "python"))
        state, _ = hook.enable(hooked_python)
        empty, project = root / "empty", root / "project"
        empty.mkdir()
        purelib = Path(scheme_for(project, base.facts, "pep582").purelib)
        purelib.mkdir(parents=True)
        (purelib / "localmod.py").write_text("X = 1\n")
        configs = {
            "floor: -S": ([os.fspath(plain / "bin" / "python"), "-S", "-c", "pass"], empty),
            REFERENCE: ([os.fspath(plain / "bin" / "python"), "-c", "pass"], empty),
            "peer: .pth importing empty module": (
                [os.fspath(peer / "bin" / "python"), "-c", "pass"],
                empty,
            ),
            "hook, no __pypackages__": (
                [os.fspath(hooked / "bin" / "python"), "-c", "pass"],
                empty,
            ),
            "hook, __pypackages__ here": (
                [os.fspath(hooked / "bin" / "python"), "-c", "pass"],
                project,
            ),
        }
        env_note = os.environ.get("PYTHONDONTWRITEBYTECODE")
        samples: dict[str, list[float]] = {name: [] for name in configs}
        for command, cwd in configs.values():  # warm the page cache
            time_once(command, cwd)
        for _ in range(args.runs):
            order = list(configs)
            rng.shuffle(order)
            for name in order:
                command, cwd = configs[name]
                samples[name].append(time_once(command, cwd))
    print(f"interpreter: {base.executable} ({base.facts.describe()})")
    print(f"hook .pyc present: {bool(state.bytecode)}; PYTHONDONTWRITEBYTECODE={env_note}")
    print(f"{args.runs} runs per configuration, order shuffled each round (seed {seed}):")
    reference = statistics.median(samples[REFERENCE])
    width = max(map(len, configs)) + 2
    print(f"  {'':<{width}}{'min':>8}{'median':>8}{'max':>8} ms  {'median vs no hook':>18}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(
            f"  {name:<{width}}{min(values):8.2f}{median:8.2f}{max(values):8.2f}     "
            f"{median - reference:+6.2f} ms  x{median / reference:.3f}"
        )


if __name__ == "__main__":
    main()
