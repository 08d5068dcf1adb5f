"""Trees that no longer match what runs them: a tree for a Python this machine lacks,
and PDM still writing its draft ``X.Y/lib`` tree beside a converted one."""

from __future__ import annotations

from collections.abc import Iterator

from packaging.utils import canonicalize_name

from pep582 import proc
from pep582.audit.context import Context, lies_inside
from pep582.audit.model import Stdlib, Tree
from pep582.audit.registry import declare
from pep582.audit.stdlib import stdlib_of
from pep582.errors import InterpreterError
from pep582.interpreter import Interpreter, candidates_for_version, probe
from pep582.scheme import InterpreterFacts
from pep582.step.startup import DIRNAME

FAMILY = "stale and drift"
STALE = declare(
    "stale-tree",
    FAMILY,
    "low",
    "a tree for a Python version no interpreter on this machine (PATH, pyenv) provides",
    {"command": "", "layout": ""},
)
DRIFT = declare(
    "pdm-drift",
    FAMILY,
    "medium",
    "PDM's draft X.Y/lib tree and the converted tree for the same Python hold different "
    "distributions or versions",
    {
        "command": "",
        "pdm_site_dir": "",
        "site_dir": "the converted tree's",
        "only_pdm": "",
        "only_converted": "",
        "versions": "[{name, pdm, converted}]",
    },
)


def candidates(facts: InterpreterFacts, project: str) -> Iterator[str]:
    """Executables that may run a tree for ``facts``, none inside the project (nothing
    that lives in the audited project or tree is ever run)."""
    if facts.implementation == "cpython":
        major, minor = facts.version
        found = candidates_for_version(str(major), str(minor), "t" if facts.freethreaded else "")
    else:
        on_path = proc.which(facts.command)
        found = [on_path] if on_path else []
    return (c for c in found if not lies_inside(c, project))


def other_python(
    facts: InterpreterFacts, project: str
) -> tuple[Interpreter | None, Stdlib | None]:
    """An interpreter on this machine for a tree's ``facts``, and its stdlib; ``(None,
    None)`` when there is none."""
    for candidate in candidates(facts, project):
        try:
            found = probe(candidate)
        except InterpreterError:
            continue  # e.g. a pyenv shim for a version that is not selected
        if found.facts.command != facts.command:
            continue
        try:
            return found, stdlib_of(found.executable)
        except InterpreterError:
            return found, None
    return None, None


def start_lookups(ctx: Context) -> None:
    """Ask, on the pool, for an interpreter for every tree the target does not run."""
    python = ctx.report.interpreter
    for tree in ctx.report.trees:
        if tree.command == python.facts.command:
            tree.interpreter = str(python.executable)
        elif tree.command not in ctx.others:
            ctx.others[tree.command] = ctx.pool.submit(other_python, tree.facts, str(ctx.project))


def resolve(ctx: Context) -> None:
    """Give each tree its interpreter's stdlib; report trees no Python here runs."""
    for tree in ctx.report.trees:
        if tree.interpreter == str(ctx.report.interpreter.executable):
            tree.stdlib = ctx.target
            continue
        found, stdlib = ctx.others[tree.command].result()
        if found is None:
            _stale(ctx, tree)
        else:
            tree.interpreter, tree.stdlib = str(found.executable), stdlib


def _stale(ctx: Context, tree: Tree) -> None:
    where = tree.version_dirs[0]
    ctx.add(
        STALE,
        "low",
        where,
        f"no {tree.command} on this machine (PATH, pyenv) uses this site directory; it is "
        "dead weight, and the code in it is checked against another Python's stdlib",
        f"remove {' '.join(tree.version_dirs)}, or install {tree.command}",
        command=tree.command,
        layout=tree.layout,
    )


def pdm_drift(ctx: Context) -> None:
    """A draft-layout tree beside a converted tree for the same Python: PDM in
    ``__pypackages__`` mode keeps installing into the draft one, which the step never
    reads. Equal contents are a finished conversion; different ones are drift."""
    converted = {t.facts.version_tag: t for t in ctx.report.trees if t.layout == "pep582"}
    for draft in ctx.report.trees:
        other = converted.get(draft.facts.version_tag)
        if draft.layout != "pdm" or other is None or draft.unreadable or other.unreadable:
            continue
        pdm = {canonicalize_name(d.name): (d.name, d.version) for d in draft.distributions}
        ours = {canonicalize_name(d.name): (d.name, d.version) for d in other.distributions}
        only_pdm = sorted(f"{pdm[k][0]} {pdm[k][1]}" for k in pdm.keys() - ours.keys())
        only_ours = sorted(f"{ours[k][0]} {ours[k][1]}" for k in ours.keys() - pdm.keys())
        versions = [
            {"name": pdm[k][0], "pdm": pdm[k][1], "converted": ours[k][1]}
            for k in sorted(pdm.keys() & ours.keys())
            if pdm[k][1] != ours[k][1]
        ]
        if not (only_pdm or only_ours or versions):
            continue
        said = [f"only in PDM's: {', '.join(only_pdm)}"] if only_pdm else []
        said += [f"only here: {', '.join(only_ours)}"] if only_ours else []
        if versions:
            pairs = (f"{v['name']} {v['pdm']} there, {v['converted']} here" for v in versions)
            said.append(f"versions differ: {', '.join(pairs)}")
        version_dir = draft.version_dirs[0]
        python = f" --python {other.interpreter}" if other.interpreter else ""
        ctx.add(
            DRIFT,
            "medium",
            version_dir,
            f"PDM's draft tree {version_dir} and the converted tree here for {other.command} "
            f"({other.site_dirs[0]}) have drifted apart ({'; '.join(said)}): PDM, in its "
            f"{DIRNAME} mode, keeps installing into the draft tree, which the PEP 582 step "
            "and pep582 run never read",
            f"pep582-migrate {ctx.root} --layout pep582 --replace{python}  # convert again; "
            "or stop "
            "PDM's __pypackages__ mode (pdm config --local python.use_venv true, then pdm "
            f"use a venv) and remove {version_dir}",
            command=other.command,
            pdm_site_dir=draft.site_dirs[0],
            site_dir=other.site_dirs[0],
            only_pdm=only_pdm,
            only_converted=only_ours,
            versions=versions,
        )
