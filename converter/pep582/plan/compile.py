"""``--compile``: byte code for what a run publishes, made by the interpreter it is for.

The interpreter (a resolved path that passes the trust rule: the one console scripts
name) runs isolated through :mod:`pep582.proc`; the ``.pyc`` files name the final place
of each source file, and are listed in the RECORD of the distribution that owns it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pep582 import proc
from pep582.errors import InterpreterError
from pep582.plan.executor import site_dirs_in
from pep582.plan.model import Plan, Report
from pep582.sources.records import entry_for, read_record, render_record

_COMPILE = r"""
import compileall, json, sys
stage, final, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
ok = all(compileall.compile_dir(d, quiet=1, stripdir=stage, prependdir=final, workers=0)
         for d in dirs)
print(json.dumps({"ok": bool(ok), "tag": sys.implementation.cache_tag}))
"""


def compile_tree(plan: Plan, stage: Path, report: Report) -> int:
    """Byte-compile the stage's site directories with the plan's interpreter and list the
    ``.pyc`` files in RECORD; return how many were listed."""
    python = plan.python or plan.interpreter
    if not os.path.isabs(python) or not os.path.isfile(python):
        report.warnings.append("--compile: no interpreter to compile with; nothing compiled")
        return 0
    site_dirs = [d for d in site_dirs_in(plan, stage) if os.path.isdir(d)]
    result = _run(python, [_COMPILE, str(stage), str(plan.target), *site_dirs])
    if result.returncode != 0:
        raise InterpreterError(
            f"--compile failed: {(result.stderr.strip() or 'no output')[-300:]}"
        )
    tag = json.loads(result.stdout.strip().splitlines()[-1])["tag"]
    count = 0
    for site_dir in site_dirs:
        for record_path in Path(site_dir).glob("*.dist-info/RECORD"):
            count += _add_bytecode_rows(record_path, Path(site_dir), tag)
    return count


_COMPILE_FILES = r"""
import compileall, json, sys
ok = all(compileall.compile_file(f, quiet=1) for f in sys.argv[1:])
print(json.dumps({"ok": bool(ok), "tag": sys.implementation.cache_tag}))
"""


def compile_published(plan: Plan, files: list[str], report: Report) -> int:
    """Byte code for ``files`` (``.py`` files just published into the live tree, where
    ``__pycache__`` is a cache ``importlib`` writes atomically), listed in RECORD."""
    python = plan.python or plan.interpreter
    if not files:
        return 0
    if not os.path.isabs(python) or not os.path.isfile(python):
        report.warnings.append("--compile: no interpreter to compile with; nothing compiled")
        return 0
    result = _run(python, [_COMPILE_FILES, *files])
    if result.returncode != 0:
        raise InterpreterError(
            f"--compile failed: {(result.stderr.strip() or 'no output')[-300:]}"
        )
    tag = json.loads(result.stdout.strip().splitlines()[-1])["tag"]
    count = 0
    site_dirs = {d for s in plan.schemes for d in map(str, s.site_dirs)}
    for record_path in sorted({p for f in files for p in _records_near(f, site_dirs)}):
        count += _add_bytecode_rows(Path(record_path), Path(record_path).parent.parent, tag)
    return count


def _records_near(path: str, site_dirs: set[str]) -> list[str]:
    for site_dir in site_dirs:
        if path.startswith(site_dir + os.sep):
            return [str(p) for p in Path(site_dir).glob("*.dist-info/RECORD")]
    return []


def _run(python: str, arguments: list[str]) -> proc.Result:
    """The compiling child, isolated, with a umask that lets nobody else write what it
    makes (``__pycache__`` directories and ``.pyc`` files)."""
    previous = os.umask(0o022)
    os.umask(previous | 0o022)
    try:
        return proc.run([python, "-c", *arguments], python=True, what="interpreter")
    finally:
        os.umask(previous)


def _add_bytecode_rows(record_path: Path, site_dir: Path, tag: str) -> int:
    entries = read_record(record_path)
    known = {e.path for e in entries}
    added = []
    for entry in entries:
        if not entry.path.endswith(".py"):
            continue
        folder, _, name = entry.path.rpartition("/")
        compiled = f"{folder + '/' if folder else ''}__pycache__/{name[:-3]}.{tag}.pyc"
        path = site_dir / compiled
        if compiled not in known and path.is_file():
            added.append(entry_for(compiled, path.read_bytes()))
    if added:
        # a new file renamed over the old name: never written in place (the stage may
        # share the inode with the live tree), never missing for a reader
        spare = record_path.with_name(f".{record_path.name}.new")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(spare, flags, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(render_record([*entries, *added]))
        os.replace(spare, record_path)
    return len(added)
