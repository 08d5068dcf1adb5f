"""The site.py patch at work: CPython copies with it, CPython's own tests, startup cost.

    python benchmarks/site_patch.py [suite|cost|all] [--python 3.13 --python 3.9]
                                    [--runs 60] [--jobs 2] [--seed N]

This module is also the runner tests/test_site_patch.py uses: ``build`` makes a CPython
whose ``site.py`` carries pep/reference/site-pep582.patch *without touching the installed
interpreter*. It copies the standard library (lib-dynload included, the installed
site-packages left out: the copy gets an empty one of its own) and the executable into a
new prefix, applies the patch to the copy's ``site.py`` (``patch -p1`` when installed, else
in Python) and byte-compiles it. The copy runs with ``PYTHONHOME`` set to its prefix; with
the executable copied too, children started through ``sys.executable`` (even under
``-I``/``-E``) use the copy's standard library. Where ``site`` is frozen (3.11+) it runs
with ``-X frozen_modules=off`` (and ``PYTHON_FROZEN_MODULES=off`` from 3.13, so children
started without the flag read the patched source too). ``build`` then asserts that the
copy's ``site`` is the patched source file and that ``sys.path`` holds only the copy.

suite: ``python -m test`` with the test files below on an unpatched and a patched copy of
each interpreter (no ``-u``: tests needing network or other resources are skipped, as
``python -m test`` does by default); prints the counts and every test whose outcome
differs. cost: ``python -c pass`` on both copies and on an unpatched copy with the ``.pth``
hook, with no ``__pypackages__`` and with one, interleaved in a new random order each
round; prints min/median/max. Slow (minutes); not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATCH = ROOT / "pep" / "reference" / "site-pep582.patch"
ENTRY = "activate"  # what the patch adds to site (make_site_patch.ENTRY)
SUITE = (
    "test_site", "test_sys", "test_cmd_line", "test_cmd_line_script", "test_venv",
    "test_import", "test_runpy", "test_zipimport",
)  # fmt: skip
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_LAYOUT = """
import json, os, platform, sys, sysconfig
print(json.dumps({
    "executable": os.path.realpath(sys.executable),
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "exec_prefix": sys.exec_prefix,
    "stdlib": sysconfig.get_path("stdlib"),
    "platstdlib": sysconfig.get_path("platstdlib"),
    "libdir": sysconfig.get_config_var("LIBDIR") or "",
    "library": sysconfig.get_config_var("INSTSONAME") or "",
    "version": platform.python_version(),
    "implementation": sys.implementation.name,
}))
"""
_CHECK = f"""
import json, os, sys, site
print(json.dumps({{
    "origin": site.__spec__.origin,
    "loader": type(site.__spec__.loader).__name__,
    "prefix": sys.prefix,
    "exec_prefix": sys.exec_prefix,
    "path": sys.path,
    "os": os.__file__,
    "patched": hasattr(site, {ENTRY!r}),
}}))
"""


class CopyError(Exception):
    """This interpreter's standard library cannot be copied and run from elsewhere."""


def clean_environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment without ``PYTHON*`` variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class CopiedPython:
    """A CPython whose prefix is a copy: how to start it so it runs the copy's site.py."""

    prefix: Path
    executable: Path
    version: tuple[int, int]
    full_version: str
    patched: bool
    site_py: Path

    @property
    def flags(self) -> list[str]:
        return ["-X", "frozen_modules=off"] if self.version >= (3, 11) else []

    def command(self, *args: str | os.PathLike[str]) -> list[str]:
        return [os.fspath(self.executable), *self.flags, *(os.fspath(a) for a in args)]

    def environ(self) -> dict[str, str]:
        """Variables to add to a clean environment (see ``clean_environ``)."""
        env = {"PYTHONHOME": os.fspath(self.prefix)}
        if self.version >= (3, 13):
            env["PYTHON_FROZEN_MODULES"] = "off"
        return env

    def run(
        self,
        *args: str | os.PathLike[str],
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            cwd=cwd,
            env=clean_environ({**self.environ(), **(env or {})}),
            capture_output=True,
            text=True,
            check=False,
        )


def apply_unified(source: str, patch_text: str) -> str:
    """Apply a one-file unified diff to ``source``: hunks must match exactly (no fuzz) but
    may sit at an offset, as ``patch --fuzz=0`` allows."""
    lines = source.splitlines(keepends=True)
    patch_lines = patch_text.splitlines(keepends=True)
    shift, index = 0, 0
    while index < len(patch_lines):
        found = _HUNK.match(patch_lines[index])
        index += 1
        if not found:
            continue  # the preamble and the ---/+++ lines
        start = int(found.group(1))
        old_count = int(found.group(2) or 1)
        new_count = int(found.group(4) or 1)
        old: list[str] = []
        new: list[str] = []
        while len(old) < old_count or len(new) < new_count:
            tag, body = patch_lines[index][:1], patch_lines[index][1:]
            index += 1
            if tag not in " -+":
                raise CopyError(f"patch line {index}: unexpected {tag!r} in a hunk")
            if tag in " -":
                old.append(body)
            if tag in " +":
                new.append(body)
        expected = start - 1 + shift if old_count else start + shift
        places = [
            at for at in range(len(lines) - len(old) + 1) if lines[at : at + len(old)] == old
        ]
        if not places:
            raise CopyError(f"hunk at line {start} does not apply")
        at = min(places, key=lambda place: abs(place - expected))
        lines[at : at + len(old)] = new
        shift = at - (start - 1 if old_count else start) + new_count - old_count
    return "".join(lines)


def apply_patch(target: Path, patch_text: str) -> None:
    """Patch ``target`` in place: with ``patch -p1`` when installed, else in Python."""
    tool = shutil.which("patch")
    if tool is None:
        target.write_text(apply_unified(target.read_text("utf-8"), patch_text), "utf-8")
        return
    proc = subprocess.run(
        [tool, "--batch", "--forward", "--fuzz=0", "--no-backup-if-mismatch",
         "--reject-file=-", "--silent", "-p1", os.fspath(target)],
        input=patch_text, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise CopyError(f"patch failed on {target}: {proc.stdout}{proc.stderr}")


def _copy_file(source: str, destination: str) -> None:
    shutil.copy2(source, destination)


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, destination)


def layout(python: str | os.PathLike[str]) -> dict[str, str]:
    """Where an installed CPython keeps its executable, stdlib and shared library."""
    proc = subprocess.run(
        [os.fspath(python), "-I", "-S", "-c", _LAYOUT],
        capture_output=True, text=True, check=False, env=clean_environ(),
    )  # fmt: skip
    if proc.returncode != 0:
        raise CopyError(f"{python} did not start: {proc.stderr.strip()}")
    data: dict[str, str] = json.loads(proc.stdout)
    if data["implementation"] != "cpython":
        raise CopyError(f"{python} is {data['implementation']}, not CPython")
    if data["prefix"] != data["base_prefix"]:
        raise CopyError(f"{python} is a virtual environment; give its base interpreter")
    return data


def build(
    python: str | os.PathLike[str],
    destination: Path,
    *,
    patched: bool = True,
    with_tests: bool = False,
    link: bool = False,
    patch_text: str | None = None,
) -> CopiedPython:
    """Copy ``python``'s prefix (minus site-packages; minus ``test`` unless
    ``with_tests``) to ``destination``, patch its site.py when ``patched``, and check it.

    ``link`` hard-links the files instead of copying them where the filesystem allows:
    nothing writes them in place (``site.py`` is always a real copy, bytecode is replaced
    atomically), so the installed files stay as they are.
    """
    info = layout(python)
    prefix, exec_prefix = Path(info["prefix"]), Path(info["exec_prefix"])
    stdlib = Path(info["stdlib"])
    copy_function = _link_or_copy if link else _copy_file
    if destination.exists() and any(destination.iterdir()):
        raise CopyError(f"{destination} is not empty")
    copied: set[Path] = set()
    for tree, base in ((stdlib, prefix), (Path(info["platstdlib"]), exec_prefix)):
        if tree in copied or not tree.is_dir():
            continue
        try:
            relative = tree.relative_to(base)
        except ValueError:
            raise CopyError(f"{tree} is not inside {base}") from None
        skip = {"site-packages"} | (set() if with_tests else {"test"})

        def ignore(
            directory: str, names: list[str], top: Path = tree, skip: set[str] = skip
        ) -> set[str]:
            return skip & set(names) if Path(directory) == top else set()

        try:
            shutil.copytree(
                tree, destination / relative, symlinks=True, ignore=ignore,
                copy_function=copy_function, dirs_exist_ok=True,
            )  # fmt: skip
        except (OSError, shutil.Error) as exc:
            raise CopyError(f"cannot copy {tree}: {exc}") from exc
        (destination / relative / "site-packages").mkdir(exist_ok=True)
        copied.add(tree)
    library = Path(info["libdir"]) / info["library"] if info["library"] else None
    if library is not None and library.is_file() and library.is_relative_to(exec_prefix):
        # For interpreters that find libpython relative to themselves ($ORIGIN/../lib).
        target = destination / library.relative_to(exec_prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_function(os.fspath(library), os.fspath(target))
    executable = Path(info["executable"])
    (destination / "bin").mkdir(exist_ok=True)
    new_executable = destination / "bin" / executable.name
    shutil.copy2(executable, new_executable)
    site_py = destination / stdlib.relative_to(prefix) / "site.py"
    site_py.unlink()  # perhaps a hard link to the installed file: write a new one
    shutil.copy2(stdlib / "site.py", site_py)
    for stale in (site_py.parent / "__pycache__").glob("site.*"):
        stale.unlink()
    if patched:
        apply_patch(site_py, PATCH.read_text("utf-8") if patch_text is None else patch_text)
    major, minor = (int(part) for part in info["version"].split(".")[:2])
    copy = CopiedPython(
        destination, new_executable, (major, minor), info["version"], patched, site_py
    )
    compiled = copy.run("-I", "-c", "import py_compile, sys; py_compile.compile(sys.argv[1])",
                        site_py)  # fmt: skip
    if compiled.returncode != 0:
        raise CopyError(f"cannot compile {site_py}: {compiled.stderr}")
    check(copy)
    return copy


def check(copy: CopiedPython) -> None:
    """Raise CopyError unless the copy runs its own (patched or pristine) site.py and
    nothing of the installed interpreter is on its ``sys.path``."""
    with tempfile.TemporaryDirectory(prefix="pep582-check-") as empty:
        proc = copy.run("-s", "-c", _CHECK, cwd=empty)
        if proc.returncode != 0:
            raise CopyError(f"{copy.executable} did not start: {proc.stderr.strip()}")
        data = json.loads(proc.stdout)
        outside = [p for p in data["path"] if p and not p.startswith(f"{copy.prefix}{os.sep}")]
    problems = []
    if data["origin"] != os.fspath(copy.site_py) or data["loader"] != "SourceFileLoader":
        problems.append(f"site is {data['origin']} ({data['loader']}), not {copy.site_py}")
    if data["patched"] != copy.patched:
        problems.append(f"site.{ENTRY} {'missing' if copy.patched else 'present'}")
    if data["prefix"] != os.fspath(copy.prefix) or data["exec_prefix"] != data["prefix"]:
        problems.append(f"sys.prefix is {data['prefix']}, exec_prefix {data['exec_prefix']}")
    if outside or not data["os"].startswith(os.fspath(copy.prefix)):
        problems.append(f"outside the copy: {outside or data['os']}")
    if problems:
        raise CopyError(f"{copy.executable}: {'; '.join(problems)}")


# -- CPython's own tests ------------------------------------------------------------------


def outcomes(junit: Path) -> dict[str, str]:
    """``test id -> passed|failure|error|skipped`` from regrtest's JUnit XML."""
    result: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name", "?")
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        result[name] = kinds[0] if kinds else "passed"
    return result


def run_suite(copy: CopiedPython, work: Path, tests: list[str], jobs: int) -> dict[str, str]:
    work.mkdir(parents=True)
    junit = work / "junit.xml"
    args: list[str | os.PathLike[str]] = ["-m", "test", "--junit-xml", junit]
    args += ["--tempdir", work / "tmp", *tests]
    if jobs > 1:
        args[2:2] = ["-j", str(jobs)]
    start = time.perf_counter()
    proc = copy.run(*args, cwd=work)
    tail = [line for line in proc.stdout.splitlines() if line.strip()][-4:]
    print(f"    exit {proc.returncode} in {time.perf_counter() - start:.0f} s: {' | '.join(tail)}")
    if not junit.exists():
        raise CopyError(f"no JUnit report from {copy.executable}:\n{proc.stdout[-3000:]}")
    return outcomes(junit)


def suite(python: str, root: Path, jobs: int) -> None:
    info = layout(python)
    tests_dir = Path(info["stdlib"]) / "test"
    print(f"\nCPython {info['version']} ({info['executable']})")
    if not (tests_dir / "libregrtest").is_dir():
        print("  no test package (Lib/test) in this installation: nothing to compare")
        return
    present = [t for t in SUITE if (tests_dir / f"{t}.py").exists() or (tests_dir / t).is_dir()]
    missing = sorted(set(SUITE) - set(present))
    print(f"  test files: {' '.join(present)}" + (f"; absent: {missing}" if missing else ""))
    results = {}
    for patched in (False, True):
        label = "patched" if patched else "unpatched"
        copy = build(python, root / label, patched=patched, with_tests=True)
        print(f"  {label}: python -m test on {copy.executable}")
        results[label] = run_suite(copy, root / f"{label}-run", present, jobs)
        shutil.rmtree(copy.prefix)
    for label, result in results.items():
        counts = Counter(result.values())
        print(
            f"  {label:<10} tests={len(result)} passed={counts['passed']} "
            f"failures={counts['failure']} errors={counts['error']} "
            f"skipped={counts['skipped']}"
        )
    before, after = results["unpatched"], results["patched"]
    differ = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    print(f"  outcomes that differ: {len(differ)}")
    for name in differ:
        print(f"    {name}: unpatched {before.get(name)}, patched {after.get(name)}")


# -- start-up cost ------------------------------------------------------------------------


def time_once(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall-clock milliseconds of one run."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True)
    return (time.perf_counter() - start) * 1000


def site_import_time(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Milliseconds ``-X importtime`` reports for importing ``site`` (cumulative): the part
    of a start that the patch or the hook changes, without the process around it."""
    proc = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        cwd=cwd, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    for line in proc.stderr.splitlines():
        fields = line.split("|")
        if len(fields) == 3 and fields[2].strip() == "site":
            return int(fields[1]) / 1000
    raise CopyError(f"no import time for site in:\n{proc.stderr}")


_MICRO = """
import importlib.util, json, marshal, os, site, sys, timeit

def best(statement, number=2000):
    return min(timeit.repeat(statement, number=number, repeat=7)) / number * 1e6

def load_us(source):
    data = open(importlib.util.cache_from_source(source), "rb").read()[16:]
    return best(lambda: marshal.loads(data), 500)

plain, patched, empty, project = sys.argv[1:]
os.chdir(empty)
fast = best(lambda: site.activate.__globals__["_step"]("-c"))
os.chdir(project)
full = best(lambda: site.describe("-c"), 200)
print(json.dumps([load_us(plain), load_us(patched), fast, full]))
"""


def micro(plain: CopiedPython, patched: CopiedPython, empty: Path, project: Path) -> None:
    """What the patch adds, measured inside one process (so scheduling noise stays out):
    loading site's bytecode, and the step without and with a ``__pypackages__``."""
    proc = patched.run("-c", _MICRO, plain.site_py, patched.site_py, empty, project)
    if proc.returncode != 0:
        raise CopyError(proc.stderr)
    plain_load, patched_load, fast, full = json.loads(proc.stdout)
    print(
        f"  in-process, best of 7: unmarshalling site's .pyc {plain_load:.0f} µs unpatched, "
        f"{patched_load:.0f} µs patched;\n  the step with no __pypackages__ {fast:.1f} µs; "
        f"deciding on one (trust rule included) {full:.0f} µs"
    )


def _row(name: str, values: list[float], reference: list[float]) -> str:
    delta = statistics.median(values) - statistics.median(reference)
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"  {name:<34} {low:7.2f} {mid:7.2f} {high:7.2f} {delta:+7.2f}"


def cost(python: str, root: Path, runs: int, rng: random.Random) -> None:
    from pep582.interpreter import find_python
    from pep582.step import hook, startup

    plain = build(python, root / "plain", patched=False, link=True)
    patched = build(python, root / "patched", patched=True, link=True)
    hooked = build(python, root / "hooked", patched=False, link=True)
    state, _ = hook.enable(find_python(os.fspath(hooked.executable)))
    empty, project = root / "empty", root / "project"
    empty.mkdir()
    purelib = Path(
        startup.scheme_paths(
            os.fspath(project / startup.DIRNAME), implementation="cpython", version=plain.version
        )["purelib"]
    )
    purelib.mkdir(parents=True)
    (purelib / "localmod.py").write_text("X = 1\n")
    configs: dict[str, tuple[list[str], Path, dict[str, str]]] = {}
    for label, copy in (("unpatched", plain), ("patched", patched), (".pth hook", hooked)):
        for where, cwd in (("no __pypackages__", empty), ("__pypackages__ here", project)):
            env = clean_environ(copy.environ())
            configs[f"{label}, {where}"] = (copy.command("-c", "pass"), cwd, env)
    wall: dict[str, list[float]] = {name: [] for name in configs}
    site: dict[str, list[float]] = {name: [] for name in configs}
    names = list(configs)
    for name in names:  # warm the page cache
        time_once(*configs[name])
    for _ in range(runs):
        rng.shuffle(names)
        for name in names:
            wall[name].append(time_once(*configs[name]))
            site[name].append(site_import_time(*configs[name]))
    flags = "".join(f"{flag} " for flag in plain.flags)
    print(f"\nCPython {plain.full_version}: python {flags}-c pass; {runs} runs each")
    print(f"  (interleaved, new random order each round; hook .pyc: {bool(state.bytecode)})")
    for title, samples in (("wall clock, ms", wall), ("import of site (-X importtime), ms", site)):
        print(f"  {title:<34} {'min':>7} {'median':>7} {'max':>7} {'Δmedian':>7}")
        for name in configs:
            reference = samples[f"unpatched, {name.partition(', ')[2]}"]
            print(_row(name, samples[name], reference))
    micro(plain, patched, empty, project)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=["all", "suite", "cost"], default="all")
    parser.add_argument("--python", action="append", help="CPython (default: 3.13 and 3.9)")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=random.randrange(2**32))
    args = parser.parse_args()
    from pep582.interpreter import find_python

    pythons = [os.fspath(find_python(spec).executable) for spec in args.python or ["3.13", "3.9"]]
    print(f"patch: {PATCH.relative_to(ROOT)}; patch tool: {shutil.which('patch') or 'Python'}")
    print(f"seed: {args.seed}")
    rng = random.Random(args.seed)
    for python in pythons:
        with tempfile.TemporaryDirectory(prefix="pep582-site-") as tmp:
            if args.what in ("all", "cost"):
                cost(python, Path(tmp) / "cost", args.runs, rng)
            if args.what in ("all", "suite"):
                suite(python, Path(tmp) / "suite", args.jobs)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
