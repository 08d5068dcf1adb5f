"""The trees of a ``__pypackages__`` and who owns each file in them.

Trees come from :func:`pep582.scheme.trees_in` (the one reader of the layout's directory
names), distributions from :func:`pep582.sources.distribution.inventory`. A file is owned by
the distribution whose RECORD lists it; an editable install's checkout carried into the
tree (``__pypackages__/src/NAME``, with its uncommitted work) is owned, whole, by the
distribution whose ``.pth`` line, PEP 660 finder or ``.egg-link`` points into it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pep582.audit.context import Context
from pep582.audit.model import Tree
from pep582.errors import SourceError
from pep582.scheme import trees_in
from pep582.sources.distribution import inventory
from pep582.step.startup import pth_kind, pth_lines

# What marks the top of a version-control checkout (pip's editable VCS installs).
VCS_MARKERS = (".git", ".hg", ".svn", ".bzr")


def find_trees(pypackages: str) -> list[Tree]:
    """Each interpreter's part of ``pypackages``, either layout, newest first."""
    found = []
    for tree in trees_in(pypackages):
        scheme = tree.scheme
        site_dirs = [str(d) for d in tree.present_site_dirs]
        if tree.layout == "pdm":
            version_dirs = [str(scheme.data)]
        else:  # lib/python3.12 (and lib64/python3.12 when platlib lives there)
            version_dirs = list(dict.fromkeys(os.path.dirname(str(d)) for d in scheme.site_dirs))
        found.append(Tree(tree.layout, tree.facts, site_dirs, str(scheme.scripts), version_dirs))
    return found


def read_distributions(ctx: Context) -> dict[str, str]:
    """Read every tree's distributions and index who owns which file; return the site
    directories whose distributions could not be read, with why."""
    failed: dict[str, str] = {}
    for tree in ctx.report.trees:
        for site_dir in tree.site_dirs:
            try:
                tree.distributions.extend(inventory(Path(site_dir)))
            except (SourceError, OSError) as exc:
                tree.unreadable = True
                failed[site_dir] = str(exc)
    for tree in ctx.report.trees:
        for dist in tree.distributions:
            files = list(dist.owned_files)
            if dist.link_file is not None:
                files.append(os.path.normpath(dist.link_file))
            for path in files:
                first = ctx.owners.setdefault(path, dist.label)
                if first != dist.label:
                    ctx.shared.append((path, first, dist.label))
    return failed


def split_pth(text: str) -> tuple[list[str], list[str]]:
    """The import lines and the path lines of a ``.pth`` file, as site.py tells them
    apart (comments and blank lines are neither), on every Python version: a file that
    versions split differently (:func:`pth_problem`) gives the lines of each reading."""
    readings = text.splitlines() + re.split(r"\r\n|\r|\n", text)
    if text.startswith("\ufeff"):
        readings += text[1:].splitlines()[:1]
    lines = list(dict.fromkeys(readings))
    imports = [line for line in lines if pth_kind(line) == "import"]
    paths = [line for line in lines if pth_kind(line) == "path"]
    return imports, paths


def pth_problem(text: str) -> str | None:
    """Why site.py would read different lines from a ``.pth`` file's text on different
    Python versions (the startup step refuses such a tree), or None."""
    try:
        pth_lines(text.encode("utf-8", "surrogatepass"))
    except ValueError as exc:
        return str(exc)
    return None


def find_checkouts(ctx: Context) -> None:
    """Give each editable distribution the checkout in the tree its pointers lead to:
    path lines of the ``.pth`` files it owns, the paths its PEP 660 finder maps names to,
    the project directory of its ``.egg-link``."""
    index = ctx.index
    site_dirs = {d for t in ctx.report.trees for d in t.site_dirs}
    for tree in ctx.report.trees:
        for dist in tree.distributions:
            pointers = [str(dist.meta_dir.parent)] if dist.kind == "egg-link" else []
            for path in dist.owned_files:
                text = index.texts.get(path)
                if not isinstance(text, str) or os.path.dirname(path) not in site_dirs:
                    continue
                if path.endswith(".pth"):
                    base = os.path.dirname(path)
                    pointers += [os.path.join(base, line.rstrip()) for line in split_pth(text)[1]]
                else:  # a finder: MAPPING = {'name': '/abs/path', ...}
                    pointers += [p for q in ("'", '"') for p in text.split(q) if p[:1] == "/"]
            for pointer in pointers:
                checkout = _checkout_at(ctx, os.path.normpath(pointer), site_dirs)
                if checkout is not None:
                    ctx.checkouts.setdefault(checkout, dist.label)


def _checkout_at(ctx: Context, pointer: str, site_dirs: set[str]) -> str | None:
    """The checkout directory in the tree that ``pointer`` leads into: the nearest
    directory above it holding a VCS marker, else pip's ``src/NAME``, else the directory
    itself. None when it leads out of the tree, into a site directory (a plain path entry),
    or to nothing the walk saw."""
    index = ctx.index
    if pointer.startswith(index.real_root + os.sep):  # a finder names resolved paths
        pointer = index.root + pointer[len(index.real_root) :]
    if not pointer.startswith(ctx.prefix) or not index.is_dir(pointer):
        return None
    if any(pointer == d or pointer.startswith(d + os.sep) for d in site_dirs):
        return None
    here = pointer
    while here.startswith(ctx.prefix):
        if any(marker in index.entries(here) for marker in VCS_MARKERS):
            return here
        here = os.path.dirname(here)
    parts = pointer[len(ctx.prefix) :].split(os.sep)
    if parts[0] == "src" and len(parts) > 1:
        return os.path.join(ctx.root, "src", parts[1])
    return pointer
