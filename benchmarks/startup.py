"""Start-up cost of the PEP 582 hook: ``python -c pass`` with and without it, shuffled.

    python benchmarks/startup.py [--python PY] [--runs 60] [--seed N]

The hook measured is the one ``pep582 enable`` installs today: a ``.pth`` whose one
import line imports the small ``_pep582_hook`` module and calls its front door
(``startup.FRONT_DOOR``: is there any candidate directory?), which imports
``_pep582_step`` (startup.py itself) only when one exists; on Python 3.15+ a matching
``.start`` file calls the same front door as an entry point instead. Before
timing, one verbose start in each directory shows which modules load, whether the step
loads from its ``.pyc`` (printed with whether the ``.pyc`` files exist), how many times
site runs the ``.pth`` per start, and that the ``__pypackages__`` is really activated
(its module imports).

Five configurations of one interpreter are timed, every run in a new random order (so
drift hits all alike), after one unmeasured warm-up run each: no hook; hook and no
__pypackages__; hook and a __pypackages__ holding a module; a peer venv whose .pth imports
an empty compiled module (the least any .pth hook can cost); and, as the floor, the same
venv with -S (no site at all). min/median/max are printed; deltas and ratios against
"no hook" are computed from medians, with issue 22's targets beside them, and so is the
median of the paired differences (each run minus the "no hook" run of the same round),
which cancels drift between rounds on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pep582.interpreter import find_python
from pep582.scheme import scheme_for
from pep582.step import hook

REFERENCE = "no hook"
NO_TREE = "hook, no __pypackages__"
TREE = "hook, __pypackages__ here"
PEER = "peer: .pth importing empty module"
GOALS = {NO_TREE: 0.3, TREE: 1.0, PEER: None}  # ms over "no hook", issues 13 and 22
_CODE_FROM = re.compile(r"^# code object from '?(.+?)'?$")


def time_once(command: list[str], cwd: Path) -> float:
    """Milliseconds one run of ``command`` takes, process start to exit."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True)
    return (time.perf_counter() - start) * 1000


def inspect_start(python: Path, cwd: Path, pth: str) -> str:
    """One ``python -v`` start in ``cwd``: the hook modules loaded (and from where), how
    often site ran the hook's ``.pth``, and whether ``localmod`` is importable."""
    probe = (
        "import importlib.util, sys\n"
        "print(sorted(m for m in sys.modules if m.startswith('_pep582')))\n"
        "print(importlib.util.find_spec('localmod') is not None)\n"
    )
    done = subprocess.run(
        [os.fspath(python), "-v", "-c", probe], cwd=cwd, capture_output=True, text=True
    )
    loaded, importable = done.stdout.splitlines()[:2]
    origins = []
    for line in done.stderr.splitlines():
        found = _CODE_FROM.match(line)
        if found and Path(found[1]).name.startswith(("_pep582_hook", "_pep582_step")):
            origins.append(Path(found[1]).name)
    runs = sum(1 for line in done.stderr.splitlines() if line.endswith(f"{pth}'"))
    return (
        f"modules {loaded}, code from {origins or 'nothing'}; .pth run {runs}x per start; "
        f"__pypackages__ module importable: {importable}"
    )


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
        peer_site = find_python(os.fspath(peer / "bin" / "python")).purelib
        (peer_site / "empty_hook.py").write_text("")
        (peer_site / "empty_hook.pth").write_text("import empty_hook\n")
        subprocess.run(
            [peer / "bin" / "python", "-m", "py_compile", peer_site / "empty_hook.py"], check=True
        )
        hooked_python = find_python(os.fspath(hooked / "bin" / "python"))
        state, _ = hook.enable(hooked_python)
        if not (state.installed and state.step is not None and state.current):
            raise SystemExit(f"pep582 enable did not install the current hook: {state}")
        empty, project = root / "empty", root / "project"
        empty.mkdir()
        purelib = Path(scheme_for(project, base.facts, "pep582").purelib)
        purelib.mkdir(parents=True)
        (purelib / "localmod.py").write_text("X = 1\n")
        python = hooked / "bin" / "python"
        seen = {
            NO_TREE: inspect_start(python, empty, hook.PTH_NAME),
            TREE: inspect_start(python, project, hook.PTH_NAME),
        }
        configs = {
            "floor: -S": ([os.fspath(plain / "bin" / "python"), "-S", "-c", "pass"], empty),
            REFERENCE: ([os.fspath(plain / "bin" / "python"), "-c", "pass"], empty),
            PEER: ([os.fspath(peer / "bin" / "python"), "-c", "pass"], empty),
            NO_TREE: ([os.fspath(python), "-c", "pass"], empty),
            TREE: ([os.fspath(python), "-c", "pass"], project),
        }
        env_note = os.environ.get("PYTHONDONTWRITEBYTECODE")
        samples: dict[str, list[float]] = {name: [] for name in configs}
        loads: list[float] = []
        for command, cwd in configs.values():  # warm the page cache
            time_once(command, cwd)
        for _ in range(args.runs):
            loads.append(os.getloadavg()[0])
            order = list(configs)
            rng.shuffle(order)
            for name in order:
                command, cwd = configs[name]
                samples[name].append(time_once(command, cwd))
    print(f"interpreter: {base.executable} ({base.facts.describe()})")
    print(
        f"hook: {hook.PTH_NAME} ({hook.PTH_LINE.strip()!r}) -> {hook.MODULE_NAME}.py (the "
        f"front door, {len(hook.hook_source())} B) -> {hook.STEP_NAME}.py (the step, "
        f"{len(hook.step_source())} B, only when a candidate directory exists); "
        f"version {state.version}"
    )
    pyc = ", ".join(p.name for p in state.bytecode) or "none"
    print(f".pyc files present: {pyc}; PYTHONDONTWRITEBYTECODE={env_note}")
    for name, what in seen.items():
        print(f"  {name}: {what}")
    print(
        f"{args.runs} runs per configuration, order shuffled each round (seed {seed}); "
        f"load average (1 min) {min(loads):.2f} / {statistics.median(loads):.2f} / "
        f"{max(loads):.2f} on {os.cpu_count()} CPUs:"
    )
    reference = statistics.median(samples[REFERENCE])
    width = max(map(len, configs)) + 2
    print(
        f"  {'':<{width}}{'min':>8}{'median':>8}{'max':>8} ms  {'median vs no hook':>18}"
        f"  {'paired':>8}  (target)"
    )
    for name, values in samples.items():
        median = statistics.median(values)
        paired = statistics.median(a - b for a, b in zip(values, samples[REFERENCE]))
        goal = GOALS.get(name)
        print(
            f"  {name:<{width}}{min(values):8.2f}{median:8.2f}{max(values):8.2f}     "
            f"{median - reference:+6.2f} ms  x{median / reference:.3f}  {paired:+6.2f} ms"
            + (f"  [<= +{goal} ms]" if goal is not None else "")
        )


if __name__ == "__main__":
    main()
