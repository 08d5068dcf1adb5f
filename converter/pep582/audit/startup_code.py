"""Code a site directory runs at every start: ``.pth`` import lines and
``sitecustomize``/``usercustomize``."""

from __future__ import annotations

import os
import re

from pep582.audit.context import Context
from pep582.audit.integrity import startup_paths
from pep582.audit.model import Severity, Tree
from pep582.audit.registry import declare
from pep582.audit.tree import pth_problem, split_pth
from pep582.step.startup import CUSTOMIZE, DIRNAME

FAMILY = "startup code"
PTH = declare(
    "pth",
    FAMILY,
    "medium for import lines; high when no RECORD owns the file, it cannot be read, or "
    "Python versions would read different lines from it; "
    "low for an unowned file of path lines",
    "a .pth file that runs code (import lines) or that no distribution installed",
    {"import_lines": "", "path_lines": "", "distribution": "", "error": "when it cannot be read"},
)
CUSTOMIZE_CHECK = declare(
    "customize",
    FAMILY,
    "medium; high when unowned",
    "sitecustomize or usercustomize in a site directory",
    {"module": "", "distribution": ""},
)


def run(ctx: Context) -> None:
    for tree in ctx.report.trees:
        for site_dir in tree.site_dirs:
            for path in startup_paths(site_dir):
                info = ctx.index.lstat(path)
                is_dir = info is not None and ctx.index.is_dir(path)
                if path.endswith(".pth") and not is_dir:
                    _pth(ctx, tree, path)
                elif os.path.basename(path).partition(".")[0] in CUSTOMIZE:
                    _customize(ctx, tree, path, is_dir)


# The line setuptools' PEP 660 editable install writes to load its own finder module.
_FINDER_HOOK = re.compile(r"import (__editable___\w+_finder); \1\.install\(\)")


def _editable_hooks(ctx: Context, path: str, owner: str, imports: list[str]) -> bool:
    """Whether every import line only installs ``owner``'s own PEP 660 finder (a module
    beside the ``.pth`` that its RECORD lists, so its hash is checked)."""
    site_dir = os.path.dirname(path)
    for line in imports:
        match = _FINDER_HOOK.fullmatch(line.strip())
        if match is None or ctx.owning_dist(os.path.join(site_dir, f"{match[1]}.py")) != owner:
            return False
    return True


def _pth_owner(ctx: Context, path: str, paths: list[str]) -> str | None:
    """The distribution whose RECORD lists the ``.pth`` file; for one no RECORD lists
    (``easy-install.pth``), the editable distribution whose checkout every line leads
    into."""
    owner = ctx.owning_dist(path)
    if owner is None and paths and ctx.checkouts:
        base = os.path.dirname(path)
        places = [os.path.normpath(os.path.join(base, line.rstrip())) for line in paths]
        owners = {ctx.checkouts.get(ctx.checkout_of(place) or "") for place in places}
        if len(owners) == 1:
            owner = owners.pop()
    return owner


def _pth(ctx: Context, tree: Tree, path: str) -> None:
    text = ctx.index.texts.get(path)
    if not isinstance(text, str):
        why = getattr(text, "strerror", None) or str(text or "it was not read")
        ctx.add(
            PTH,
            "high",
            path,
            f"cannot read it ({why}); site.py would try to, at every start",
            "inspect it, then delete it",
            import_lines=[],
            path_lines=[],
            distribution=ctx.owning_dist(path),
            error=why,
        )
        return
    imports, paths = split_pth(text)
    owner = _pth_owner(ctx, path, paths)
    problem = pth_problem(text)
    if problem:
        ctx.add(
            PTH,
            "high",
            path,
            f"Python versions would read different lines from it: it {problem} (the "
            "startup step refuses the tree)",
            "delete it, or rewrite it as UTF-8 text with plain line ends (\\n)",
            import_lines=imports,
            path_lines=paths,
            distribution=owner,
        )
        return
    if owner and (not imports or _editable_hooks(ctx, path, owner, imports)):
        return  # a distribution's path entries or its own finder (editables, namespaces)
    by = f"installed by {owner}" if owner else "no distribution installed it"
    if imports:
        severity: Severity = "medium" if owner else "high"
        runs = "; ".join(f"`{line.strip()}`" for line in imports)
        message = (
            f"runs code at every start of {tree.command} with this tree active ({by}): {runs}"
        )
        fix = (
            "keep it only if you trust what it runs"
            if owner
            else "delete it unless you put it there yourself"
        )
    else:
        severity = "low"
        message = f"adds {', '.join(paths) or 'nothing'} to sys.path ({by})"
        fix = "delete it unless you put it there yourself"
    ctx.add(
        PTH,
        severity,
        path,
        message,
        fix,
        import_lines=imports,
        path_lines=paths,
        distribution=owner,
    )


def _customize(ctx: Context, tree: Tree, path: str, is_dir: bool) -> None:
    owner = ctx.owning_dist(path) or (
        ctx.owning_dist(os.path.join(path, "__init__.py")) if is_dir else None
    )
    name = os.path.basename(path).partition(".")[0]
    by = f"installed by {owner}" if owner else "no distribution installed it"
    ctx.add(
        CUSTOMIZE_CHECK,
        "medium" if owner else "high",
        path,
        f"{name} in {DIRNAME} is imported at every start of {tree.command} with this tree "
        f"active, before any script ({by}); it replaces the interpreter's own {name}",
        "delete it unless you put it there yourself; put start-up code in your program",
        module=name,
        distribution=owner,
    )
