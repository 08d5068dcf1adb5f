"""``audit()``: read the tree once, walk it once, run every family of checks in turn."""

from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pep582 import fs
from pep582.audit import (
    drift,
    git,
    integrity,
    permissions,
    scripts,
    shadowing,
    startup_code,
    trust,
)
from pep582.audit.context import Context, lies_inside
from pep582.audit.model import Report
from pep582.audit.stdlib import stdlib_of
from pep582.audit.tree import find_checkouts, find_trees, read_distributions
from pep582.audit.walk import HASH_THREADS, finish_hashing, start_hashing, walk_tree
from pep582.errors import InterpreterError, SourceError
from pep582.interpreter import choose_python
from pep582.step.startup import DIRNAME


def _not_inside(program: str | os.PathLike[str], project: Path, what: str) -> None:
    """Nothing that lives in the audited project (or its tree) is ever run."""
    if lies_inside(os.fspath(program), str(project)):
        raise InterpreterError(
            f"not running {what} {program}: it lives inside the audited project {project}"
        )


def _search_outside(project: Path) -> None:
    """Choosing an interpreter runs what PATH and pyenv offer: refuse when a place they
    search lies inside the audited project (a relative PATH entry is the current
    directory's)."""
    places = os.environ.get("PATH", os.defpath).split(os.pathsep)
    places.append(os.path.join(os.environ.get("PYENV_ROOT", "~/.pyenv"), "versions"))
    for place in places:
        where = os.path.abspath(os.path.expanduser(place or os.curdir))
        if lies_inside(where, str(project)):
            raise InterpreterError(
                f"{where} is searched for interpreters (PATH, pyenv) and lies inside the "
                f"audited project {project}; name the interpreter with --python"
            )


def audit(project: str | os.PathLike[str], python: str | None = None) -> Report:
    """Audit ``project`` (a directory, or its ``__pypackages__``) for the target interpreter.

    ``python`` is ``--python`` (path, command or version); by default an interpreter
    matching a site directory in the tree, as ``pep582 run`` chooses. Raises
    InterpreterError when none can be found, or when it lives inside the project.
    """
    start = time.perf_counter()
    path = Path(os.path.abspath(project))
    if path.name == DIRNAME:
        path = path.parent
    if not path.is_dir():
        raise SourceError(f"{path} is not a directory")
    root = path / DIRNAME
    exists = root.is_dir()
    if python and (os.sep in python or os.path.exists(python)):
        _not_inside(os.path.abspath(python), path, "interpreter")
    elif not python:
        _search_outside(path)
    interpreter, why = choose_python(python, root if exists else None)
    _not_inside(interpreter.executable, path, "interpreter")
    report = Report(str(path), str(root), exists, interpreter, why)
    with contextlib.ExitStack() as stack:
        top = stack.enter_context(fs.Dir.open(root, follow=True)) if exists else None
        # entered last, left first: every task (they use ``top``) ends before it closes
        pool = stack.enter_context(ThreadPoolExecutor(HASH_THREADS, "pep582-audit"))
        ctx = Context(report, pool, path)
        asked = pool.submit(stdlib_of, interpreter.executable)
        if top is not None:
            report.trees = find_trees(str(root))
            drift.start_lookups(ctx)  # other Pythons are asked on the pool meanwhile
            site_dirs = {d for tree in report.trees for d in tree.site_dirs}
            # one after the other: both are Python work, and threads would only contend
            own = frozenset(integrity.toolkit_paths(str(root), report.trees))
            ctx.index = walk_tree(top, site_dirs, own)
            wanted = integrity.plan(ctx, read_distributions(ctx))
            report.entries_walked = 1 + sum(len(e) for e in ctx.index.dirs.values())
            hashing = start_hashing(top, ctx.index, wanted, pool)  # beside the checks
            find_checkouts(ctx)
        ctx.target = asked.result()
        report.stdlib_source = ctx.target.source
        shadowing.project(ctx)
        if top is not None:
            drift.resolve(ctx)
            trust.run(ctx)
            shadowing.tree(ctx)
            scripts.run(ctx)
            startup_code.run(ctx)
            integrity.toolkit_files(ctx)
            integrity.unowned(ctx)
            permissions.run(ctx)
            git.run(ctx)
            drift.pdm_drift(ctx)
            finish_hashing(ctx.index, hashing)
            integrity.verify(ctx)
        else:
            scripts.nested(ctx)
            ctx.skip(f"{root} does not exist: only the project directory was checked")
    report.sort()
    report.seconds = time.perf_counter() - start
    return report
