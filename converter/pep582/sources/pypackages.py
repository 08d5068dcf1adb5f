"""A ``__pypackages__`` as a source (to convert between layouts, or to read what it holds)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pep582.errors import SourceError
from pep582.fs import Tree
from pep582.scheme import InterpreterFacts, Layout, scheme_at, trees_in
from pep582.sources import Source
from pep582.sources.distribution import inventory
from pep582.sources.venv import usable_interpreter

_SHEBANG = re.compile(rb"^#!(/\S+)")


def read_pypackages(root: Path, tree: Tree | None = None) -> list[Source]:
    """Describe each interpreter version found in a ``__pypackages__`` (either layout),
    read through ``tree`` (opened here at ``root`` when not given)."""
    tree = tree or Tree.open(root)
    real = Path(tree.path)
    sources = [_pypackages_source(tree, t.facts, t.layout) for t in trees_in(real)]
    if not sources:
        raise SourceError(
            f"{real} holds no lib/pythonX.Y/site-packages (PEP 582 layout) "
            "nor X.Y/lib (PDM draft layout)"
        )
    sources.sort(key=lambda s: (s.layout != "pep582", s.facts.version_tag))
    return sources


def _pypackages_source(tree: Tree, facts: InterpreterFacts, layout: Layout) -> Source:
    root = Path(tree.path)
    scheme = scheme_at(root, facts, layout)
    source = Source(
        kind="pypackages",
        path=root,
        facts=facts,
        site_dirs=[Path(d) for d in scheme.site_dirs if os.path.isdir(d)],
        scripts=Path(scheme.scripts),
        include=Path(scheme.include),
        data=Path(scheme.data),
        tree=tree,
        layout=layout,
    )
    for site_dir in source.site_dirs:
        source.distributions.extend(inventory(site_dir, tree))
    source.base_executable = _recorded_interpreter(source)
    return source


def _recorded_interpreter(source: Source) -> str | None:
    """The interpreter the tree's own console scripts name, resolved, if it still exists
    and passes the trust rule: a PDM tree's scripts name the base interpreter it was
    built for; keep naming it (never the link or name the tree wrote)."""
    names = {ep.name for d in source.distributions for ep in d.entry_points}
    for name in sorted(names):
        try:
            first = source.tree.head(source.tree.relative(str(source.scripts / name)), 4096)
        except OSError:
            continue
        match = _SHEBANG.match(first)
        if match:
            found = usable_interpreter(os.fsdecode(match.group(1)), source.facts)
            if found:
                return found
    return None
