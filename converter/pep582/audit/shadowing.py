"""Modules named like the standard library (beside the project's scripts, or in a site
directory) and import names two distributions both provide."""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Container

from pep582 import fs
from pep582.audit.context import Context
from pep582.audit.model import Severity, Tree
from pep582.audit.registry import declare
from pep582.audit.stdlib import KIND_WORDS, module_name
from pep582.audit.walk import Index

FAMILY = "shadowing"
SHADOW = declare(
    "stdlib-shadow",
    FAMILY,
    "high beside the project's scripts; low there when the module is built in, frozen or "
    "imported at startup; low in __pypackages__ (the stdlib comes first); medium when the "
    "target lacks the module",
    "a module named like one of the target's standard library modules",
    {
        "module": "",
        "where": '"project"|"pypackages"',
        "stdlib_kind": '"path"|"absent"|"builtin"|"frozen"|"startup"',
        "distribution": "in __pypackages__",
    },
)
DUPLICATE = declare(
    "duplicate-module",
    FAMILY,
    "medium",
    "two distributions provide one top-level import name (or install the same files)",
    {"module": "", "distributions": "", "shared_files": ""},
)


def has_init(index: Index | None, path: str) -> bool:
    """Whether the directory ``path`` is a regular package (from the walk when it saw it;
    a directory reached through a link is asked directly)."""
    if index is not None and path in index.dirs:
        names = index.dirs[path]
        return "__init__.py" in names or "__init__.pyc" in names
    init = os.path.join(path, "__init__")
    return os.path.isfile(init + ".py") or os.path.isfile(init + ".pyc")


def modules_in(
    directory: str,
    entries: dict[str, os.stat_result],
    wanted: Container[str],
    index: Index | None = None,
) -> dict[str, str]:
    """``{import name: path}`` of what ``directory`` provides at top level, for the names
    in ``wanted`` (only those are looked into). A link counts as what it leads to, as
    for ``import``."""
    found: dict[str, str] = {}
    for name in sorted(entries):
        if name.partition(".")[0] not in wanted:
            continue
        path = os.path.join(directory, name)
        mode = entries[name].st_mode
        is_dir = stat.S_ISDIR(mode) or (stat.S_ISLNK(mode) and os.path.isdir(path))
        module = module_name(name, is_dir, is_dir and has_init(index, path))
        if module is not None:
            found.setdefault(module, path)
    return found


def project(ctx: Context) -> None:
    """Modules beside the project's scripts: sys.path[0], before the stdlib."""
    kinds = ctx.target.kinds
    python = ctx.report.interpreter.facts.command
    with fs.Dir.open(ctx.project, follow=True) as here:
        entries = dict(fs.listing(here))
    for name, path in modules_in(str(ctx.project), entries, kinds).items():
        kind = kinds[name]
        if kind == "path":
            severity: Severity = "high"
            means = (
                f"every script in {ctx.project} (and -c, -m and the REPL run there) imports "
                f"this file as {name!r} instead of the standard library's {name}"
            )
        elif kind == "absent":
            severity = "medium"
            means = (
                f"{python} lacks its own {name}, so `import {name}` gets this file for "
                "scripts run here; elsewhere it gets the standard library's"
            )
        else:
            severity = "low"
            means = (
                f"{python}'s {name} is {KIND_WORDS[kind]}, so this file does not shadow "
                "it there, but it would on an interpreter where the module is a file"
            )
        ctx.add(
            SHADOW,
            severity,
            path,
            f"{os.path.basename(path)} is named like the standard library module "
            f"{name!r}: {means}",
            "rename it (and its imports) to a name the standard library does not use",
            module=name,
            where="project",
            stdlib_kind=kind,
        )


def tree(ctx: Context) -> None:
    """Modules in a site directory named like the stdlib (after it on sys.path), and
    import names provided twice."""
    for each in ctx.report.trees:
        kinds = (each.stdlib or ctx.target).kinds
        for site_dir in each.site_dirs:
            entries = ctx.index.entries(site_dir)
            for name, path in modules_in(site_dir, entries, kinds, ctx.index).items():
                _in_tree(ctx, each, name, path, kinds[name])
            _duplicates_in(ctx, each, site_dir)


def _in_tree(ctx: Context, tree: Tree, name: str, path: str, kind: str) -> None:
    owner = ctx.owner_of(path)
    if kind == "absent":
        severity: Severity = "medium"
        means = f"{tree.command} lacks its own {name}, so `import {name}` gets this copy"
    else:
        severity = "low"
        means = (
            "the standard library's copy comes first on sys.path, so this one is dead code, "
            "unless a tool puts the directory before the stdlib (PYTHONPATH, running a file "
            "from inside it)"
        )
    ctx.add(
        SHADOW,
        severity,
        path,
        f"{owner or 'a file no distribution installed'} provides a module named like the "
        f"standard library's {name!r}: {means}",
        f"remove {owner or 'it'} if your Python already provides the module",
        module=name,
        where="pypackages",
        stdlib_kind=kind,
        distribution=owner,
    )


def _duplicates_in(ctx: Context, tree: Tree, site_dir: str) -> None:
    base = site_dir.rstrip(os.sep) + os.sep
    cut = len(base)
    sep = os.sep
    provided: dict[str, dict[str, str]] = defaultdict(dict)  # name -> label -> kind
    for dist in tree.distributions:
        if os.path.normpath(dist.site_dir) != os.path.normpath(site_dir):
            continue
        rels = [p[cut:] for p in dist.owned_files if p.startswith(base)]
        files = {r for r in rels if sep not in r}
        packages = {
            r.partition(sep)[0]
            for r in rels
            if r.count(sep) == 1 and r.rpartition(sep)[2].startswith("__init__.")
        }
        for top in {r.partition(sep)[0] for r in rels}:
            if top in files:
                kind, name = "module", module_name(top)
            else:
                kind = "package" if top in packages else "portion"
                name = top if top.isidentifier() and top != "__pycache__" else None
            if name is not None and provided[name].get(dist.label) != "module":
                provided[name][dist.label] = kind
    shared_by_name: dict[str, list[str]] = defaultdict(list)
    for path, _, _ in ctx.shared:
        if path.startswith(base):
            top = path[cut:].partition(sep)[0]
            name = top if sep in path[cut:] else module_name(top)
            if name:
                shared_by_name[name].append(path)
    for name, by_dist in sorted(provided.items()):
        if len(by_dist) < 2:
            continue
        labels = sorted(by_dist)
        shared = sorted(set(shared_by_name.get(name, [])))
        regular = [label for label in labels if by_dist[label] != "portion"]
        if not shared and len(regular) < 2:
            continue  # namespace portions, or a plug-in adding files to a package
        if shared:
            means = (
                f"{' and '.join(labels)} install the same files of {name!r}; the one "
                "installed last overwrote the other's, whose RECORD no longer describes them"
            )
        else:
            means = (
                f"{' and '.join(labels)} both provide the import name {name!r}; which one "
                "`import` finds depends on file names, not on what you installed"
            )
        ctx.add(
            DUPLICATE,
            "medium",
            os.path.join(site_dir, name),
            means,
            "keep one of them (uninstall the other, or migrate again from a clean set)",
            module=name,
            distributions=labels,
            shared_files=shared,
        )
