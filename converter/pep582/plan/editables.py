"""Editable installs that point into the old environment, carried so they keep working.

pip's ``-e git+…`` puts the checkout inside the venv (``venv/src/NAME``); a PEP 660
``.pth``, finder module or ``.egg-link`` points at it, and ``direct_url.json`` records it.
When the venv goes, so would the checkout: it is copied whole (uncommitted work too) to
``__pypackages__/src/NAME`` and every file that names it is rewritten to the new place.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from pep582.errors import SourceError
from pep582.fs import walk
from pep582.parse import json_text
from pep582.plan.index import under
from pep582.plan.model import FileAction
from pep582.sources.records import RecordEntry

if TYPE_CHECKING:
    from pep582.plan.carry import Carried
    from pep582.sources import Source


class Editables:
    """The part of :class:`pep582.plan.carry.SourcePlanner` that moves editables."""

    source: Source
    source_root: str
    places: list[tuple[str, str]]
    trees: dict[str, str]
    result: Carried

    if TYPE_CHECKING:  # provided by the source planner

        def target_of(self, path: str) -> str | None: ...

        def rel(self, target: str) -> str: ...

        def add(self, action: FileAction) -> None: ...

        def write(self, target: str, data: bytes, mode: int, owner: str) -> None: ...

        def read(self, path: str, limit: int = ...) -> bytes: ...

    def relocate(self, where: str, what: str) -> str | None:
        """The new place of ``where`` (inside the old environment), carrying the editable
        checkout that holds it when nothing else carries it; None if it cannot be."""
        if any(under(where, d) for d, _ in self.places[:-1]):
            return self.target_of(where)
        relative = where[len(self.source_root) + 1 :].split(os.sep)
        depth = 2 if relative[0] == "src" and len(relative) > 1 else 1
        top = os.path.join(self.source_root, *relative[:depth])
        tree = self.source.tree
        try:
            is_dir = stat.S_ISDIR(tree.lstat(tree.relative(top)).st_mode)
        except OSError:
            is_dir = False
        if not is_dir:
            self.result.warnings.append(
                f"{what} points into the old environment ({where}) at nothing that exists; "
                "the line will match nothing"
            )
            return None
        if top not in self.trees:
            destination = self.target_of(top)
            assert destination is not None
            for _, inner, items in walk(tree.dir(tree.relative(top))):
                for name, info in items:
                    if not (
                        stat.S_ISREG(info.st_mode)
                        or stat.S_ISLNK(info.st_mode)
                        or stat.S_ISDIR(info.st_mode)
                    ):
                        path = os.path.join(top, *inner.split("/"), name) if inner else top
                        raise SourceError(
                            f"{os.path.join(path, name)} (in the editable checkout {top}) is "
                            "not a regular file or link; refusing to copy the checkout"
                        )
            self.trees[top] = destination
            self.add(FileAction("tree", self.rel(destination), source=top, owner=what))
            self.result.notes.append(
                f"editable checkout {top} is copied to {destination} (it lived inside the "
                "environment; uncommitted work comes along)"
            )
        return self.target_of(where)

    def plan_pth(self, path: str, target: str, expected: RecordEntry | None, owner: str) -> None:
        """Rewrite path lines of a ``.pth`` that point into the old environment."""
        lines = self.read(path).decode("utf-8", "surrogateescape").splitlines(keepends=True)
        changed = False
        for index, line in enumerate(lines):
            text = line.strip()
            if not text or text.startswith(("#", "import ", "import\t")):
                continue
            absolute = os.path.normpath(os.path.join(os.path.dirname(path), text))
            if not under(absolute, self.source_root):
                continue
            new_place = self.relocate(absolute, f"{path}: line {index + 1}")
            if new_place is None:
                continue
            ending = line[len(line.rstrip("\r\n")) :]
            lines[index] = os.path.relpath(new_place, os.path.dirname(target)) + ending
            changed = True
        if changed:
            self.write(target, "".join(lines).encode("utf-8", "surrogateescape"), 0o644, owner)
        else:
            self.add(
                FileAction("carry", self.rel(target), source=path, expected=expected, owner=owner)
            )

    def plan_finder(
        self, path: str, target: str, expected: RecordEntry | None, owner: str
    ) -> None:
        """A PEP 660 finder module maps names to absolute paths: move those that point
        into the old environment."""
        text = self.read(path).decode("utf-8", "surrogateescape")
        prefix = self.source_root + os.sep
        if prefix not in text:
            self.add(
                FileAction("carry", self.rel(target), source=path, expected=expected, owner=owner)
            )
            return
        for quoted in {part for part in text.split("'") if part.startswith(prefix)}:
            new = self.relocate(os.path.normpath(quoted), f"{path}")
            if new is not None:
                text = text.replace(f"'{quoted}'", f"'{new}'")
        self.write(target, text.encode("utf-8", "surrogateescape"), 0o644, owner)

    def plan_egg_link(self, path: str, target: str, owner: str) -> None:
        lines = self.read(path).decode("utf-8", "surrogateescape").splitlines(keepends=True)
        first = os.path.normpath(lines[0].strip()) if lines else ""
        if first and under(first, self.source_root):
            new = self.relocate(first, path)
            if new is not None:
                lines[0] = new + "\n"
                self.write(target, "".join(lines).encode("utf-8", "surrogateescape"), 0o644, owner)
                return
        self.add(FileAction("carry", self.rel(target), source=path, owner=owner))

    def plan_direct_url(
        self, path: str, target: str, expected: RecordEntry | None, owner: str
    ) -> bool:
        """``direct_url.json`` of an editable whose checkout is carried: its ``url`` names
        the checkout's new place (``pep582 freeze`` and pip read it). False when the file
        is carried as it is."""
        try:
            data = json_text(self.read(path), path)
        except SourceError:
            return False
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url.startswith("file:"):
            return False
        where = os.path.normpath(unquote(urlsplit(url).path))
        if not under(where, self.source_root):
            return False
        new = self.relocate(where, path)
        if new is None:
            return False
        data["url"] = Path(new).as_uri()
        self.write(target, json.dumps(data, sort_keys=True).encode(), 0o644, owner)
        return True
