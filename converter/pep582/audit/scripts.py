"""Scripts directories: a file there that the scripts beside it can import, and a
``__pypackages__`` inside one (the step would apply it to every script there)."""

from __future__ import annotations

import os
import stat

from pep582.audit.context import Context
from pep582.audit.model import Severity
from pep582.audit.registry import declare
from pep582.audit.shadowing import has_init, modules_in
from pep582.audit.stdlib import module_name
from pep582.step.startup import DIRNAME

FAMILY = "scripts"
SCRIPT_PY = declare(
    "script-py",
    FAMILY,
    "high when it shadows a module; else medium",
    "an importable file (x.py, a package) in a scripts directory",
    {"module": "", "shadows": "bool", "distribution": ""},
)
NESTED = declare(
    "scripts-dir-pypackages",
    FAMILY,
    "high",
    "a scripts directory holds a __pypackages__",
    {"scripts_dir": ""},
)


def run(ctx: Context) -> None:
    """Files in a scripts directory that the scripts beside it can import."""
    index = ctx.index
    declared: dict[str, str] = {}
    for tree in ctx.report.trees:
        for dist in tree.distributions:
            for point in dist.entry_points:
                declared.setdefault(point.name, dist.label)
    found: list[tuple[str, str, str]] = []  # (scripts dir, path, import name)
    for scripts_dir in dict.fromkeys(t.scripts for t in ctx.report.trees):
        for name, info in sorted(index.entries(scripts_dir).items()):
            path = os.path.join(scripts_dir, name)
            is_dir = stat.S_ISDIR(info.st_mode)
            module = module_name(name, is_dir, is_dir and has_init(index, path))
            if module is not None and name != DIRNAME:
                found.append((scripts_dir, path, module))
    names = {module for _, _, module in found}
    importable = {n for n in names if ctx.target.kinds.get(n, "absent") != "absent"}
    for tree in ctx.report.trees:
        for site_dir in tree.site_dirs:
            importable.update(modules_in(site_dir, index.entries(site_dir), names, index))
    for scripts_dir, path, module in found:
        owner = declared.get(os.path.basename(path)) or ctx.owning_dist(path)
        shadows = module in importable
        severity: Severity = "high" if shadows else "medium"
        if shadows:
            means = (
                f"every script in {scripts_dir} runs with that directory first on sys.path, "
                f"so each one that imports {module!r} gets this script instead of the module"
            )
        else:
            means = (
                f"scripts in {scripts_dir} run with that directory first on sys.path: this "
                f"file is importable as {module!r} by all of them, and shadows that module "
                "as soon as a distribution provides it"
            )
        ctx.add(
            SCRIPT_PY,
            severity,
            path,
            f"the script {os.path.basename(path)!r}"
            + (f" (from {owner})" if owner else "")
            + f" is importable as a module: {means}",
            "remove it; installers should refuse console scripts whose names end in .py "
            "(pep582-migrate does)",
            module=module,
            shadows=shadows,
            distribution=owner,
        )
    nested(ctx)


def nested(ctx: Context) -> None:
    """A ``__pypackages__`` in a scripts directory: the tree's, the target's own (and its
    user scheme's), and the interpreter's."""
    dirs = [t.scripts for t in ctx.report.trees] + list(ctx.target.scripts_dirs)
    dirs.append(os.path.dirname(os.path.abspath(ctx.report.interpreter.executable)))
    seen: set[str] = set()
    for scripts_dir in dirs:
        real = os.path.realpath(scripts_dir)
        if real in seen:
            continue
        seen.add(real)
        inner = os.path.join(scripts_dir, DIRNAME)
        if os.path.isdir(inner):
            ctx.add(
                NESTED,
                "high",
                inner,
                f"{scripts_dir} is a scripts directory and holds a {DIRNAME}: every script "
                "there runs with that directory's packages (the startup step applies the "
                "__pypackages__ beside the script), not the ones the script was installed "
                "with",
                f"remove or move {inner}; keep {DIRNAME} only beside your own scripts",
                scripts_dir=scripts_dir,
            )
