"""The one rule for names that become paths, and for paths that must stay inside a tree."""

from __future__ import annotations

import os

from pep582.errors import SourceError


def check_component(name: str, what: str) -> str:
    """Return ``name`` if it is one plain path component; raise SourceError otherwise.

    Console and GUI script names, dist-info directory names and cache keys become file
    names: no separator (either kind), no NUL, not empty, ``.`` or ``..``, not absolute,
    no surrounding blanks.

    >>> check_component("black", "script")
    'black'
    >>> check_component("../../etc/x", "console script of evil 1.0")
    Traceback (most recent call last):
    ...
    pep582.errors.SourceError: console script of evil 1.0: '../../etc/x' is not a plain file name
    """
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or os.path.isabs(name)
        or name.strip() != name
    ):
        raise SourceError(f"{what}: {name!r} is not a plain file name")
    return name


def inside(path: str, root: str) -> bool:
    """Whether normalised absolute ``path`` is ``root`` or lies below it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def resolve_inside(base: str, relative: str, root: str) -> str | None:
    """``base/relative`` normalised, or None when it leaves ``root`` (a ``..`` too many,
    or an absolute path elsewhere)."""
    joined = os.path.normpath(os.path.join(base, relative))
    return joined if inside(joined, root) else None
