"""``pep582 ide --mypy``: mypy finds what ``__pypackages__`` holds as installed packages.

mypy learns where installed packages are by running its ``python_executable`` with
``pyinfo.py`` and reading that interpreter's ``sys.path`` and site directories; modules
found there are installed code: their types are used, their errors are not reported
(``mypy_path`` would make them the user's own source instead: "This file shadows library
module"). mypy starts that interpreter with ``PYTHONSAFEPATH=1``, which switches the PEP
582 step off, so a plain interpreter (hooked or not) will not do. We therefore write a
small launcher into the tree's scripts directory, ``pep582-pythonX.Y``: the tree's
Python with the tree's site directories added by the startup step's own rules (the
trust rule included), the way console scripts add them; its first lines clear
``PYTHONSAFEPATH`` for that one process. The config names it relative to itself
(``$MYPY_CONFIG_FILE_DIR``), so mypy started from any directory finds it.

Entries an older version of this command wrote (a site directory on ``mypy_path``, the
marked per-module sections) are removed. Every other line stays as it is; the edited file
is parsed again and must differ from the old one only in those settings, or nothing is
written.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

from pep582 import fs
from pep582.errors import DestinationError, SourceError
from pep582.interpreter import Interpreter, named_by_scripts
from pep582.operations import editing
from pep582.operations.ide import Written, ours, status
from pep582.parse import toml_text
from pep582.scheme import Tree
from pep582.step import scripts
from pep582.step.startup import judge

MARKER = "# pep582 ide: installed in __pypackages__, not your code: errors there are silenced"
_HEADER = re.compile(r"^\s*\[")
LAUNCHER_HEAD = """\
#!/bin/sh
'''unset' PYTHONSAFEPATH
'exec' {python} "$0" "$@"
' '''
# Written by `pep582 ide --mypy`: {python_text}
# with this __pypackages__'s site directories (added by the PEP 582 step's rules, trust rule
# included), for tools that ask an interpreter for its search path (mypy's
# python_executable). It runs SCRIPT [ARGS].
"""
LAUNCHER_TAIL = """
import os
import runpy
import sys

if __name__ == "__main__":
    _root = os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(__file__)), {up!r}))
    if not any((os.path.realpath(p) + os.sep).startswith(_root + os.sep) for p in sys.path if p):
        sys.exit("pep582: %s: nothing of %s is on sys.path (see above)" % (sys.argv[0], _root))
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: %s SCRIPT [ARGS]" % sys.argv[0])
    del sys.argv[0]
    runpy.run_path(sys.argv[0], run_name="__main__")
"""


def launcher_name(tree: Tree) -> str:
    return f"pep582-{tree.facts.command}"


def launcher(tree: Tree, executable: str) -> bytes:
    """The launcher script for ``tree`` run by the interpreter ``executable``."""
    if "\n" in executable or "\0" in executable:
        raise SourceError(f"{executable!r}: an interpreter path with a line break")
    base, scripts_dir = str(tree.scheme.data), str(tree.scheme.scripts)  # data: the prefix
    head = LAUNCHER_HEAD.format(python=shlex.quote(executable), python_text=executable)
    body = scripts.locator(base, scripts_dir, None)
    tail = LAUNCHER_TAIL.format(up=os.path.relpath(base, scripts_dir))
    return (head + body + tail).encode("utf-8")


def is_launcher(data: bytes, tree: Tree) -> bool:
    """Whether ``data`` is exactly the launcher this version writes for ``tree`` (for
    ``pep582 audit``: such a file is the toolkit's, not an unknown one)."""
    lines = data.split(b"\n", 3)
    if len(lines) < 3 or not lines[2].startswith(b"'exec' "):
        return False
    try:
        words = shlex.split(lines[2].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return len(words) == 4 and launcher(tree, words[1]) == data


def _header(line: str) -> str:
    """A section header without its trailing comment: ``[tool.mypy]  # x`` → ``[tool.mypy]``."""
    return line.split("#", 1)[0].strip()


def _section(lines: list[str], header: str) -> tuple[int, int] | None:
    """``(header line, end)`` of section ``header``; None when absent."""
    try:
        start = next(i for i, line in enumerate(lines) if _header(line) == header)
    except StopIteration:
        return None
    end = next((i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i])), len(lines))
    return start, end


def _key_line(lines: list[str], header: str, key: str) -> int | None:
    found = _section(lines, header)
    if found is None:
        return None
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    return next((i for i in range(found[0] + 1, found[1]) if pattern.match(lines[i])), None)


def _set(lines: list[str], header: str, key: str, value: str | None) -> list[str]:
    """``key = value`` in section ``header`` (by lines; the section is added at the top
    when absent); ``value`` None removes the line."""
    lines = list(lines)
    index = _key_line(lines, header, key)
    if value is None:
        if index is not None:
            del lines[index]
        return lines
    if index is not None:
        lines[index] = f"{key} = {value}\n"
        return lines
    found = _section(lines, header)
    if found is None:
        return [f"{header}\n", f"{key} = {value}\n", *(["\n"] if lines else []), *lines]
    lines.insert(found[0] + 1, f"{key} = {value}\n")
    return lines


def _strip_marked(lines: list[str]) -> list[str]:
    """``lines`` without the blocks :data:`MARKER` starts (the marker, its section header
    and what follows up to the next section, blank lines before that kept)."""
    kept: list[str] = []
    index = 0
    while index < len(lines):
        if lines[index].rstrip("\r\n") != MARKER:
            kept.append(lines[index])
            index += 1
            continue
        end = next(
            (
                i
                for i in range(index + 2, len(lines))
                if _HEADER.match(lines[i]) or lines[i].rstrip("\r\n") == MARKER
            ),
            len(lines),
        )
        while end > index + 2 and not lines[end - 1].strip():
            end -= 1
        index = end
    while kept and not kept[-1].strip() and len(kept) < len(lines):
        kept.pop()  # the blank line that separated the block
    if kept and not kept[-1].endswith("\n"):
        kept[-1] += "\n"
    return kept


def _entries(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [p.strip() for p in re.split(r"[,:]", str(value)) if p.strip()]


def _old_ours(section: str, options: dict[str, Any]) -> bool:
    """A per-module section an older version wrote: only ``follow_imports``."""
    return section.startswith("mypy-") and set(options) == {"follow_imports"}


def _normal_ini(text: str, path: str) -> dict[str, dict[str, Any]]:
    """Every INI setting but ours (``python_executable``; our ``mypy_path`` entries and
    sections from older versions)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        reason = exc.message.splitlines()[0]
        raise SourceError(f"{path}: not valid INI ({reason}); fix it first") from exc
    settings: dict[str, dict[str, Any]] = {n: dict(parser[n]) for n in parser.sections()}
    mypy = settings.get("mypy", {})
    mypy.pop("python_executable", None)
    if "mypy_path" in mypy:
        mine = [e for e in _entries(mypy.pop("mypy_path")) if not ours(e)]
        if mine:
            mypy["mypy_path"] = mine
    return {n: o for n, o in settings.items() if o and not _old_ours(n, o)}


def _normal_toml(text: str, path: str) -> dict[str, Any]:
    """Every TOML setting but ours, as :func:`_normal_ini`."""
    data = toml_text(text, path)
    mypy = data.get("tool", {}).get("mypy")
    if isinstance(mypy, dict):
        mypy.pop("python_executable", None)
        if "mypy_path" in mypy:
            mine = [e for e in _entries(mypy.pop("mypy_path")) if not ours(e)]
            if mine:
                mypy["mypy_path"] = mine
        overrides = mypy.get("overrides")
        if isinstance(overrides, list):
            mypy["overrides"] = [
                o
                for o in overrides
                if not (isinstance(o, dict) and set(o) == {"module", "follow_imports"})
            ]
            if not mypy["overrides"]:
                del mypy["overrides"]
        if not mypy:
            del data["tool"]["mypy"]
            if not data["tool"]:
                del data["tool"]
    return data


def edit(text: str, path: str, toml: bool, executable: str) -> str:
    """``text`` with ``python_executable = executable`` in the mypy section and what older
    versions wrote removed; refused unless nothing else changed."""
    header = "[tool.mypy]" if toml else "[mypy]"
    lines = _strip_marked(text.splitlines(keepends=True))
    if toml:
        current = toml_text("".join(lines), path) if lines else {}
        old = current.get("tool", {}).get("mypy", {}).get("mypy_path")
    else:
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string("".join(lines))
        old = parser.get("mypy", "mypy_path", fallback=None)
    if old is not None:
        entries = _entries(old)
        mine = [e for e in entries if not ours(e)]
        if mine != entries:
            value = None
            if mine:
                joined = ":".join(mine)
                value = json.dumps(mine if isinstance(old, list) else joined) if toml else joined
            lines = _set(lines, header, "mypy_path", value)
    value = json.dumps(executable) if toml else executable
    if toml and _section(lines, header) is None:
        gap = ["\n"] if lines and lines[-1].strip() else []
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines = [*lines, *gap, f"{header}\n", f"python_executable = {value}\n"]
    else:
        lines = _set(lines, header, "python_executable", value)
    new = "".join(lines)
    normal = _normal_toml if toml else _normal_ini
    try:
        if toml:
            written = toml_text(new, path).get("tool", {}).get("mypy", {})
        else:
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(new)
            written = dict(parser["mypy"]) if parser.has_section("mypy") else {}
        ok = written.get("python_executable") == executable
        ok = ok and normal(new, path) == normal(text, path)
    except (SourceError, configparser.Error, AttributeError):
        ok = False
    if not ok:
        raise SourceError(
            f"{path}: cannot set python_executable safely (the edit would change more than "
            f"that: its {header} is laid out in a way this edit does not handle, or a marker "
            f"line sits inside a string); add `python_executable = {value}` under {header} by "
            "hand"
        )
    return new


def _choose(project: fs.Dir) -> tuple[str, str | None, Any, bool]:
    """The file mypy reads its settings from (name, text, status, is TOML): ``mypy.ini``,
    ``.mypy.ini``, ``pyproject.toml`` with ``[tool.mypy]``, ``setup.cfg`` with ``[mypy]``;
    else ``pyproject.toml`` when there is one, else a new ``mypy.ini``."""
    found = {}
    for name in ("mypy.ini", ".mypy.ini", "pyproject.toml", "setup.cfg"):
        text, info = editing.read(project, name)
        if text is not None:
            found[name] = (text, info)
    for name in ("mypy.ini", ".mypy.ini"):
        if name in found:
            return name, *found[name], False
    if "pyproject.toml" in found:
        text = found["pyproject.toml"][0]
        if any(_header(line) == "[tool.mypy]" for line in text.splitlines()):
            return "pyproject.toml", *found["pyproject.toml"], True
    if "setup.cfg" in found:
        text = found["setup.cfg"][0]
        if any(_header(line) == "[mypy]" for line in text.splitlines()):
            return "setup.cfg", *found["setup.cfg"], False
    if "pyproject.toml" in found:
        return "pyproject.toml", *found["pyproject.toml"], True
    return "mypy.ini", None, None, False


def check_place(project: fs.Dir, tree: Tree) -> None:
    """Refuse (DestinationError) unless the launcher's directory and place pass the trust
    rule: owned by root, you or the project's owner (whose project it is, as the step
    allows the current directory's owner), and writable by nobody else."""
    place = Path(tree.scheme.scripts, launcher_name(tree))
    owner = f"/proc/self/fd/{project.fd}"  # the project directory that was opened
    also = [str(place.parent), str(place)]
    _, refused = judge(str(tree.scheme.data), [], owner if os.path.exists(owner) else None, also)
    if refused:
        raise DestinationError(
            f"not writing {place}: mypy would run it as you, and another user could change "
            f"it ({refused})"
        )


def configure(project: fs.Dir, tree: Tree, python: Interpreter) -> list[Written]:
    """Write the launcher and point the mypy settings at it. The launcher is code mypy
    runs as you: its directory and its place must pass the trust rule (as for console
    scripts), else nothing is written (:func:`check_place`)."""
    check_place(project, tree)
    scripts_dir = Path(tree.scheme.scripts)
    relative = scripts_dir.relative_to(Path(project.path)).as_posix()
    name = launcher_name(tree)
    data = launcher(tree, named_by_scripts(python.executable))  # its real path, judged
    written: list[Written] = []
    with editing.open_inside(project, relative, create=True) as directory:
        path = Path(directory.join(name))
        try:
            current = directory.read(name, editing.LIMIT)
        except FileNotFoundError:
            current = None
        except OSError as exc:  # a link or another kind planted there
            raise SourceError(f"{path}: {exc.strerror}; not replacing it") from None
        if current != data:
            info = directory.lstat(name) if current is not None else None
            owner = editing.project_owner(project)  # theirs when root edits their project
            editing.replace(directory, name, data, info, mode=0o755, owner=owner)
        written.append((path, status(current, data)))
    config, text, info, toml = _choose(project)
    executable = f"$MYPY_CONFIG_FILE_DIR/{relative}/{name}"
    new = edit(text or "", project.join(config), toml, executable)
    config_path = Path(project.join(config))
    if text is not None and new == text:
        written.append((config_path, "unchanged"))
    else:
        editing.replace(
            project, config, new.encode("utf-8"), info, owner=editing.project_owner(project)
        )
        written.append((config_path, status(text, new)))
    return written
