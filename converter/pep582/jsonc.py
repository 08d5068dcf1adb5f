"""JSON with comments and trailing commas (JSONC, as VS Code and pyright read it), edited
as text.

:class:`Document` parses a file once with the position of every value, and changes it by
replacing or inserting text at those positions, so comments, order, indentation and
everything not changed stay exactly as they were. Only what is really invalid (an
unterminated string or comment, a missing comma, a stray character) is an error: one
line naming the file and the line.

>>> doc = Document('{\\n    // mine\\n    "a": 1,\\n}\\n', "settings.json")
>>> doc.set(("b",), [2])
>>> print(doc.text, end="")
{
    // mine
    "a": 1,
    "b": [
        2
    ]
}
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pep582.errors import SourceError

_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}


@dataclass
class Node:
    """One value: where it starts and ends in the text, and what it is."""

    kind: str  # "object", "array" or "scalar"
    start: int
    end: int  # one past its last character
    value: Any = None
    members: list[tuple[str, Node]] = field(default_factory=list)  # objects, in text order
    items: list[Node] = field(default_factory=list)  # arrays
    starts: list[int] = field(default_factory=list)  # where each member (its key) or item starts

    def member(self, key: str) -> Node | None:
        """The value of ``key`` (the last one, as VS Code reads duplicates)."""
        found = None
        for name, node in self.members:
            if name == key:
                found = node
        return found

    @property
    def children(self) -> list[Node]:
        return [node for _, node in self.members] if self.kind == "object" else self.items


MAX_DEPTH = 100  # containers inside containers; editor settings use a handful


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.text, self.where, self.pos = text, where, 0
        self.depth = 0  # containers open at pos (bounded: the parser recurses per level)

    def fail(self, message: str, pos: int | None = None) -> SourceError:
        at = self.pos if pos is None else pos
        line = self.text.count("\n", 0, at) + 1
        return SourceError(f"{self.where}:{line}: not valid JSON with comments: {message}")

    def skip(self) -> None:
        """Whitespace and comments."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r\n\ufeff":
                self.pos += 1
            elif text.startswith("//", self.pos):
                newline = text.find("\n", self.pos)
                self.pos = len(text) if newline < 0 else newline
            elif text.startswith("/*", self.pos):
                close = text.find("*/", self.pos + 2)
                if close < 0:
                    raise self.fail("a /* comment is never closed")
                self.pos = close + 2
            else:
                return

    def document(self) -> Node | None:
        self.skip()
        if self.pos == len(self.text):
            return None
        node = self.value()
        self.skip()
        if self.pos != len(self.text):
            raise self.fail(f"unexpected {self.text[self.pos]!r} after the value")
        return node

    def value(self) -> Node:
        if self.pos >= len(self.text):
            raise self.fail("the text ends where a value should be")
        char = self.text[self.pos]
        if char == "{":
            return self.container("object", "}")
        if char == "[":
            return self.container("array", "]")
        start = self.pos
        if char == '"':
            text = self.string()
            return Node("scalar", start, self.pos, text)
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, start):
                self.pos += len(word)
                return Node("scalar", start, self.pos, literal)
        match = _NUMBER.match(self.text, start)
        if match is None or match.end() == start:
            raise self.fail(f"unexpected {char!r}")
        self.pos = match.end()
        number = json.loads(match.group())
        return Node("scalar", start, self.pos, number)

    def string(self) -> str:
        match = _STRING.match(self.text, self.pos)
        if match is None:
            raise self.fail("a string is not closed on its line, or has a bad escape")
        self.pos = match.end()
        value: str = json.loads(match.group())
        return value

    def container(self, kind: str, close: str) -> Node:
        if self.depth >= MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} levels deep")
        self.depth += 1
        node = Node(kind, self.pos, self.pos)
        self.pos += 1
        while True:
            self.skip()
            if self.text.startswith(close, self.pos):
                break
            node.starts.append(self.pos)
            if kind == "object":
                if not self.text.startswith('"', self.pos):
                    raise self.fail("expected a quoted key or '}'")
                key = self.string()
                self.skip()
                if not self.text.startswith(":", self.pos):
                    raise self.fail(f"expected ':' after the key {key!r}")
                self.pos += 1
                self.skip()
                node.members.append((key, self.value()))
            else:
                node.items.append(self.value())
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith(close, self.pos):
                raise self.fail(f"expected ',' or {close!r}")
        self.pos += 1
        self.depth -= 1
        node.end = self.pos
        if kind == "object":
            node.value = {key: child.value for key, child in node.members}
        else:
            node.value = [child.value for child in node.items]
        return node


def loads(text: str, where: str = "<text>") -> Any:
    """The value of a JSONC text (None for an empty one)."""
    root = _Parser(text, where).document()
    return None if root is None else root.value


class Document:
    """A JSONC file whose top level is an object, changed by editing its text."""

    def __init__(self, text: str, where: str) -> None:
        self.where = where
        self.text = text
        self.unit = _indent_unit(text)
        self._parse()

    def _parse(self) -> None:
        root = _Parser(self.text, self.where).document()
        if root is None:
            lead = self.text if not self.text or self.text.endswith("\n") else self.text + "\n"
            self.text = lead + "{}\n"
            root = _Parser(self.text, self.where).document()
        assert root is not None
        if root.kind != "object":
            raise SourceError(f"{self.where}: the top level is not an object")
        self.root = root

    @property
    def value(self) -> dict[str, Any]:
        value: dict[str, Any] = self.root.value
        return value

    def get(self, path: Sequence[str]) -> Node | None:
        node: Node | None = self.root
        for key in path:
            if node is None or node.kind != "object":
                return None
            node = node.member(key)
        return node

    def set(self, path: Sequence[str], value: Any) -> None:
        """Make the value at ``path`` (keys of nested objects) ``value``: replaced where it
        is, or inserted as the last member of the innermost object that exists."""
        node = self.root
        for depth, key in enumerate(path):
            child = node.member(key)
            if child is None:
                rest = value
                for inner in reversed(path[depth + 1 :]):
                    rest = {inner: rest}
                self._insert(node, [(key, rest)])
                return
            if depth == len(path) - 1:
                rendered = self._render(value, self._indent_at(child.start))
                self._edit(child.start, child.end, rendered)
                return
            if child.kind != "object":
                shown = ".".join(path[: depth + 1])
                raise SourceError(f"{self.where}: {shown} is not an object; not changing it")
            node = child

    def set_list(self, path: Sequence[str], values: list[Any]) -> None:
        """Make the array at ``path`` hold ``values``: items no longer wanted are removed,
        new ones appended, the others (and comments between them) stay where they are."""
        node = self.get(path)
        if node is None or node.kind != "array":
            self.set(path, values)
            return
        for index in reversed(range(len(node.items))):
            if node.items[index].value not in values:
                self._remove_item(node, index)
                node = self.get(path)
                assert node is not None
        present = [item.value for item in node.items]
        self._append(node, [v for v in values if v not in present])

    # -- text edits ---------------------------------------------------------------------------

    def _edit(self, start: int, end: int, replacement: str) -> None:
        self.text = self.text[:start] + replacement + self.text[end:]
        self._parse()

    def _render(self, value: Any, indent: str) -> str:
        text = json.dumps(value, indent=self.unit, ensure_ascii=False)
        return text.replace("\n", "\n" + indent)

    def _line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1

    def _indent_at(self, pos: int) -> str:
        """The indentation of the line ``pos`` is on."""
        line = self.text[self._line_start(pos) : pos]
        return line[: len(line) - len(line.lstrip(" \t"))]

    def _after(self, pos: int) -> int:
        """``pos`` moved past spaces and comments on the same line."""
        text = self.text
        while pos < len(text):
            if text[pos] in " \t":
                pos += 1
            elif text.startswith("/*", pos) and "\n" not in text[pos : text.find("*/", pos)]:
                pos = text.find("*/", pos) + 2
            elif text.startswith("//", pos):
                newline = text.find("\n", pos)
                return len(text) if newline < 0 else newline
            else:
                break
        return pos

    def _comma_after(self, pos: int, limit: int) -> int | None:
        """Where the comma that follows a value ending at ``pos`` is (before ``limit``)."""
        parser = _Parser(self.text, self.where)
        parser.pos = pos
        parser.skip()
        if parser.pos < limit and self.text[parser.pos] == ",":
            return parser.pos
        return None

    def _child_indent(self, node: Node) -> str:
        """The indentation for a new member or item of ``node``: its last one's when that
        starts its own line, else one step more than ``node``'s line."""
        if node.starts:
            start = node.starts[-1]
            if not self.text[self._line_start(start) : start].strip():
                return self._indent_at(start)
        return self._indent_at(node.start) + self.unit

    def _insert(self, node: Node, entries: list[tuple[str | None, Any]]) -> None:
        """Add ``entries`` (key, or None in an array; value) after the last child of
        ``node``, each on its own line when ``node`` spans several lines."""
        close = node.end - 1
        indent = self._child_indent(node)
        texts = [
            (rendered if key is None else f"{json.dumps(key, ensure_ascii=False)}: {rendered}")
            for key, value in entries
            for rendered in [self._render(value, indent)]
        ]
        multiline = "\n" in self.text[node.start : node.end] or (
            node is self.root and not node.children
        )
        if not multiline:  # stays on one line
            texts = [
                (compact if key is None else f"{json.dumps(key, ensure_ascii=False)}: {compact}")
                for key, value in entries
                for compact in [json.dumps(value, ensure_ascii=False)]
            ]
        lines = ",".join(f"\n{indent}{t}" for t in texts)
        if not node.children:
            inside = self.text[node.start + 1 : close]
            if not multiline:
                self._edit(node.start + 1, close, inside.strip() + ", ".join(texts))
                return
            kept = inside.rstrip() if inside.strip() else ""  # comments inside stay
            self._edit(node.start + 1, close, kept + lines + "\n" + self._indent_at(node.start))
            return
        last_end = node.children[-1].end
        comma = self._comma_after(last_end, close)
        anchor = comma + 1 if comma is not None else last_end
        if multiline:
            at = self._after(anchor)
            if at >= close:  # the closing bracket is on the last child's line
                at = anchor
            insertion = lines
        else:
            at, insertion = anchor, " " + ", ".join(texts)
        self.text = self.text[:at] + insertion + self.text[at:]
        if comma is None:
            self.text = self.text[:last_end] + "," + self.text[last_end:]
        self._parse()

    def _append(self, node: Node, values: list[Any]) -> None:
        if values:
            self._insert(node, [(None, v) for v in values])

    def _remove_item(self, node: Node, index: int) -> None:
        """Remove one array item with its comma (and the line, when it has one alone)."""
        item = node.items[index]
        close = node.end - 1
        comma = self._comma_after(item.end, close)
        start, end = item.start, (comma + 1 if comma is not None else item.end)
        line_start = self._line_start(start)
        after = self._after(end)
        whole_line = not self.text[line_start:start].strip() and (
            after >= len(self.text) or self.text[after] == "\n"
        )
        if whole_line:
            start, end = line_start, min(after + 1, len(self.text))
        while comma is not None and not whole_line and end < close and self.text[end] in " \t":
            end += 1
        before = None
        if comma is None and index > 0:  # the last item: the comma before it goes too
            before = self._comma_after(node.items[index - 1].end, close)
        if before is not None and not whole_line:
            start = before
        self.text = self.text[:start] + self.text[end:]
        if before is not None and whole_line:
            self.text = self.text[:before] + self.text[before + 1 :]
        self._parse()


def _indent_unit(text: str) -> str:
    """The indentation step a file uses (its first indented line's), else four spaces."""
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        if stripped and stripped != line:
            return line[: len(line) - len(stripped)]
    return " " * 4
