"""Cutting from ``startup.py`` exactly what a piece of code needs: the one slicer.

Console-script wrappers embed the step's functions; the ``site.py`` patch inserts them
into CPython's ``site``. Both take the *transitive closure* of the names their entry
points use, computed from the syntax tree, so no hand-kept list can miss a name (a missed
one would be a ``NameError`` inside a user's interpreter). Text is cut from the original
source, never regenerated, so it stays valid for every interpreter ``startup.py`` supports.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path

_OWN_SOURCE = Path(__file__).read_bytes()  # a change to the slicing itself is a new key


class SliceError(Exception):
    """The source no longer fits the way it is sliced (a name no statement binds)."""


def top_level_names(tree: ast.Module) -> set[str]:
    """Every name a module binds at top level (or declares ``global`` in a function)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            names.update(node.names)
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).partition(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try, ast.For, ast.While, ast.With)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []):
                    stack.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
    return names


def binds(node: ast.stmt) -> set[str]:
    """The top-level names one statement binds."""
    return top_level_names(ast.Module(body=[node], type_ignores=[]))


def uses(node: ast.AST) -> set[str]:
    """Every plain name a piece of syntax reads or writes."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def attributes_of(code: str, owner: str) -> set[str]:
    """The names ``code`` takes from ``owner`` as ``owner.NAME`` (what a wrapper calls on
    the step module)."""
    return {
        n.attr
        for n in ast.walk(ast.parse(code))
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == owner
    }


def body_of(source: str) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """``(imports, other statements)`` of a module, its docstring dropped."""
    body = list(ast.parse(source).body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    imports: list[ast.stmt] = [n for n in body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return imports, [n for n in body if n not in imports]


def closure(statements: list[ast.stmt], entries: Iterable[str]) -> list[ast.stmt]:
    """The statements the ``entries`` need, transitively, in source order."""
    binders: dict[str, ast.stmt] = {}
    for node in statements:
        for name in binds(node):
            binders.setdefault(name, node)
    needed: list[ast.stmt] = []
    todo = []
    for entry in entries:
        if entry not in binders:
            raise SliceError(f"startup.py defines no {entry}")
        todo.append(binders[entry])
    while todo:
        node = todo.pop()
        if node in needed:
            continue
        needed.append(node)
        todo.extend(binders[name] for name in uses(node) if name in binders)
    return [node for node in statements if node in needed]


@functools.lru_cache(maxsize=4)
def _analysed(source: str) -> tuple[list[ast.stmt], list[ast.stmt], set[int]]:
    """``(imports, statements, docstring lines)`` of a module, parsed once per source."""
    imports, code = body_of(source)
    docstrings: set[int] = set()
    for node in code:
        for inner in ast.walk(node):
            if isinstance(inner, (ast.FunctionDef, ast.ClassDef)) and len(inner.body) > 1:
                first = inner.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return imports, code, docstrings


SLICES = "slices-v1"  # the user cache's directory of cut code (pep582.usercache)


@functools.lru_cache(maxsize=8)
def cut(source: str, entries: tuple[str, ...]) -> str:
    """The code ``entries`` need from ``source`` (a module such as ``startup.py``): its
    imports and the closure of its statements, without docstrings, comments or blank
    lines (wrappers carry it as a string).

    Parsing costs tens of milliseconds, paid by every command that writes a wrapper or a
    tree's bootstrap; the result is kept in the user's cache under the hash of the source,
    the entries and this module, so it is computed once per version of the toolkit."""
    from pep582 import usercache

    key = hashlib.sha256(
        b"\0".join([source.encode(), ",".join(entries).encode(), _OWN_SOURCE])
    ).hexdigest()
    kept = usercache.read_record(SLICES, key)
    if not isinstance(kept, str):
        kept = _cut(source, entries)
        usercache.write_record(SLICES, key, kept)
    return kept


def _cut(source: str, entries: tuple[str, ...]) -> str:
    imports, code, drop = _analysed(source)
    needed = closure(code, entries)
    lines = source.splitlines()
    kept: list[str] = []
    for node in [*imports, *needed]:
        for number in range(node.lineno, (node.end_lineno or node.lineno) + 1):
            line = lines[number - 1]
            if number not in drop and line.strip() and not line.lstrip().startswith("#"):
                kept.append(line)
    return "\n".join(kept)
