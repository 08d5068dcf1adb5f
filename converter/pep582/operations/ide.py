"""``pep582 ide``: point editors and type checkers at a project's ``__pypackages__``.

- VS Code (``.vscode/settings.json``): Pylance's ``python.analysis.extraPaths``, the
  tree's Python as ``python.defaultInterpreterPath``, ``__pypackages__`` left out of file
  watching, search and pytest discovery.
- pyright (``pyrightconfig.json``): ``extraPaths``.
- mypy (``mypy.ini``, ``.mypy.ini``, ``pyproject.toml`` or ``setup.cfg``, whichever mypy
  reads): ``python_executable``, see :mod:`pep582.operations.ide_mypy`.

Search paths are the tree's site directories and the project's editable source
directories that its ``.pth`` lines, PEP 660 finders and ``.egg-link`` files name
(``src/``), relative when inside the project. Files are JSON with comments as VS Code
writes them, edited as text (:mod:`pep582.jsonc`): comments and everything else stay; the
edited text is parsed again and must say exactly what was meant, or nothing is written.
Every file is read and replaced through the project directory's descriptor
(:mod:`pep582.operations.editing`).
"""

from __future__ import annotations

import ast
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pep582 import fs, jsonc
from pep582.errors import DestinationError, InterpreterError, SourceError
from pep582.interpreter import Interpreter
from pep582.operations import editing
from pep582.scheme import Tree, trees_in
from pep582.step.startup import DIRNAME

TOOLS = ("vscode", "pyright", "mypy")
READ_LIMIT = 1 << 20  # bytes of a .pth, finder or .egg-link file we read
EXCLUDES = {
    ("files.watcherExclude", f"**/{DIRNAME}/**"): True,
    ("search.exclude", f"**/{DIRNAME}"): True,
}
PYTEST_IGNORE = f"--ignore={DIRNAME}"

# A file written and what happened to it: "created", "updated" or "unchanged".
Written = tuple[Path, str]


@dataclass
class Setup:
    """What the editors are told: one Python's tree of a project."""

    project: Path  # absolute, as the user named it
    tree: Tree
    search_paths: list[str]  # site directories, then editable sources (project-relative)
    python: Interpreter | None  # the tree's Python, when this machine has it
    notes: list[str] = field(default_factory=list)


def ours(entry: str) -> bool:
    """Whether a search-path entry lies in ``__pypackages__`` (an earlier run wrote it)."""
    return DIRNAME in PurePosixPath(entry.replace("\\", "/")).parts


def merged(existing: list[Any], wanted: list[str]) -> list[Any]:
    """The user's entries where they are, ours that are still wanted, the new ones last:
    entries inside ``__pypackages__`` from an earlier run (maybe another Python's) go."""
    kept = [e for e in existing if not (isinstance(e, str) and ours(e)) or e in wanted]
    return kept + [p for p in wanted if p not in kept]


def _shown(path: str, project: Path) -> str:
    relative = os.path.relpath(path, project)
    if relative == os.curdir:
        return "."
    if relative.startswith(os.pardir):
        return path
    return PurePosixPath(*Path(relative).parts).as_posix()


def _pth_lines(text: str) -> Iterator[str]:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "import ", "import\t")):
            yield line


# A setuptools PEP 660 finder's mapping, as its template writes it on one line:
# ``MAPPING: dict[str, str] = {'pkg': '/checkout/src/pkg'}`` (older: ``MAPPING = {...}``).
# Read without Python's parser (a distribution ships this file: nested deeply enough, the
# parser raises RecursionError or, on 3.9, crashes): one line, a flat dict of plain
# string literals, each decoded alone; anything else and the file is ignored.
_MAPPING_LINE = re.compile(r"MAPPING[ \t]*(?::[^=]*)?=[ \t]*\{(?P<items>.*)\}[ \t]*")
_STRING = r"'(?:[^'\\\n]|\\.)*'" + r'|"(?:[^"\\\n]|\\.)*"'  # no prefix, one line
_ITEM = re.compile(
    rf"[ \t]*(?P<key>{_STRING})[ \t]*:[ \t]*(?P<value>{_STRING})[ \t]*(?P<comma>,?)"
)
_BLANK = re.compile(r"[ \t]*\Z")


def _string(literal: str) -> str | None:
    """The value of one plain string literal (the regex matched it whole), or None."""
    if "\\" not in literal:
        return literal[1:-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an invalid escape warns on 3.12+
        try:
            value = ast.literal_eval(literal)
        except (SyntaxError, ValueError):
            return None
    return value if isinstance(value, str) else None


def finder_mapping(text: str) -> dict[str, str] | None:
    """The ``MAPPING`` a setuptools PEP 660 finder assigns, or None when no line says it
    as a flat dict of string literals (then the file is ignored)."""
    for line in text.splitlines():
        match = _MAPPING_LINE.fullmatch(line)
        if match is None:
            continue
        items, mapping, at = match.group("items"), {}, 0
        while not _BLANK.match(items, at):
            item = _ITEM.match(items, at)
            if item is None or (not item.group("comma") and not _BLANK.match(items, item.end())):
                return None
            key, value = _string(item.group("key")), _string(item.group("value"))
            if key is None or value is None:
                return None
            mapping[key] = value
            at = item.end()
        return mapping
    return None


def _finder_paths(text: str) -> Iterator[str]:
    """The directories a setuptools PEP 660 finder maps packages to (``MAPPING``)."""
    for location in (finder_mapping(text) or {}).values():
        if os.path.isabs(location):
            yield os.path.dirname(os.path.normpath(location))


def source_paths(site_dir: Path) -> list[str]:
    """Directories the site directory's editable installs put on ``sys.path`` (absolute):
    ``.pth`` path lines, PEP 660 finder mappings, ``.egg-link`` files."""
    found: list[str] = []
    readers: list[tuple[Callable[[str], bool], Callable[[str], Iterable[str]]]] = [
        (lambda n: n.endswith(".pth"), _pth_lines),
        (lambda n: n.startswith("__editable__") and n.endswith("_finder.py"), _finder_paths),
        (lambda n: n.endswith(".egg-link"), lambda text: list(_pth_lines(text))[:1]),
    ]
    try:
        directory = fs.Dir.open(site_dir, follow=True)
    except OSError:
        return found
    with directory:
        for name in directory.names():
            for matches, lines in readers:
                if not matches(name):
                    continue
                try:
                    text = directory.read(name, READ_LIMIT).decode("utf-8", "replace")
                except OSError:
                    continue
                for line in lines(text):
                    path = os.path.normpath(os.path.join(site_dir, line))
                    if os.path.isdir(path) and path not in found:
                        found.append(path)
    return found


def prepare(project: Path, python_spec: str | None) -> Setup:
    """The tree to point editors at (``--python``'s, else the newest) and its Python."""
    from pep582.interpreter import choose_python

    project = project.absolute()
    pypackages = project / DIRNAME
    trees = [t for t in trees_in(pypackages) if t.layout == "pep582" and t.present_site_dirs]
    if not trees:
        raise SourceError(
            f"{pypackages} holds no site directory yet: install something first "
            "(pep582 install NAME, or pep582-migrate .venv)"
        )
    notes = []
    python: Interpreter | None = None
    if python_spec:
        python = choose_python(python_spec, pypackages)[0]
        tree = next((t for t in trees if t.facts.command == python.facts.command), None)
        if tree is None:
            held = ", ".join(t.facts.command for t in trees)
            raise SourceError(f"{pypackages} holds nothing for {python.facts.command} ({held})")
    else:
        tree = trees[0]  # the newest, as everywhere an interpreter is chosen
        try:
            found = choose_python(None, pypackages)[0]
        except InterpreterError:
            found = None
        if found is not None and found.facts.command == tree.facts.command:
            python = found
        else:
            notes.append(f"no {tree.facts.command} found on this machine (PATH, pyenv)")
    others = [t.facts.version_tag for t in trees if t is not tree]
    if others:
        notes.append(f"also present: {', '.join(others)}; pick one with --python")
    if python is not None:
        from pep582 import proc

        proc.trusted_program(python.executable, "interpreter")  # what we write must be safe
    site_dirs = [str(d) for d in tree.present_site_dirs]
    paths = [_shown(d, project) for d in site_dirs]
    for site_dir in tree.present_site_dirs:
        for path in source_paths(site_dir):
            shown = _shown(path, project)
            if shown not in paths and shown != ".":
                paths.append(shown)
    return Setup(project, tree, paths, python, notes)


# -- JSON settings ----------------------------------------------------------------------------


def status(before: str | bytes | None, after: str | bytes) -> str:
    """What writing ``after`` over ``before`` (None: no file) does to a file."""
    if before is None:
        return "created"
    return "unchanged" if before == after else "updated"


def _edit_json(
    project: fs.Dir,
    folder: str,
    name: str,
    change: Callable[[jsonc.Document], None],
) -> Written:
    """Apply ``change`` to the JSONC file ``folder/name`` of the project (new when absent);
    what happened to it."""
    with editing.open_inside(project, folder, create=True) if folder else _same(project) as d:
        text, info = editing.read(d, name)
        document = jsonc.Document(text or "", d.join(name))
        change(document)
        path = Path(d.join(name))
        if text is not None and document.text == text:
            return path, "unchanged"
        editing.replace(
            d, name, document.text.encode("utf-8"), info, owner=editing.project_owner(project)
        )
        return path, status(text, document.text)


class _same:
    """``project`` itself as a context (closed by its owner, not here)."""

    def __init__(self, directory: fs.Dir) -> None:
        self.directory = directory

    def __enter__(self) -> fs.Dir:
        return self.directory

    def __exit__(self, *exc: object) -> None:
        pass


def _checked(document: jsonc.Document, expected: dict[str, Any]) -> None:
    """The edited text must parse to exactly ``expected``."""
    if jsonc.loads(document.text, document.where) != expected:
        raise SourceError(
            f"{document.where}: cannot edit it safely (the edit would change more than the "
            "settings it is meant to); add them by hand"
        )


def _set_search_paths(document: jsonc.Document, key: str, paths: list[str]) -> dict[str, Any]:
    expected = dict(document.value)
    current = document.value.get(key, [])
    if not isinstance(current, list):
        raise SourceError(f"{document.where}: {key} is not a list; not changing it")
    wanted = merged(current, paths)
    if wanted != current or key not in document.value:
        document.set_list((key,), wanted)
    expected[key] = wanted
    return expected


def vscode(project: fs.Dir, setup: Setup) -> Written:
    """``.vscode/settings.json``: search paths, interpreter, excludes."""

    def change(document: jsonc.Document) -> None:
        expected = _set_search_paths(document, "python.analysis.extraPaths", setup.search_paths)
        if setup.python is not None:
            executable = os.fspath(setup.python.executable)
            if document.value.get("python.defaultInterpreterPath") != executable:
                document.set(("python.defaultInterpreterPath",), executable)
            expected["python.defaultInterpreterPath"] = executable
        for (key, pattern), value in EXCLUDES.items():
            current = document.value.get(key, {})
            if not isinstance(current, dict):
                raise SourceError(f"{document.where}: {key} is not an object; not changing it")
            if current.get(pattern) != value:
                document.set((key, pattern), value)
            expected[key] = {**current, pattern: value}
        args = document.value.get("python.testing.pytestArgs", [])
        if not isinstance(args, list):
            raise SourceError(f"{document.where}: python.testing.pytestArgs is not a list")
        if PYTEST_IGNORE not in args:
            document.set_list(("python.testing.pytestArgs",), [*args, PYTEST_IGNORE])
        expected["python.testing.pytestArgs"] = [*args] + [PYTEST_IGNORE] * (
            PYTEST_IGNORE not in args
        )
        _checked(document, expected)

    return _edit_json(project, ".vscode", "settings.json", change)


def pyright(project: fs.Dir, setup: Setup) -> Written:
    """``pyrightconfig.json``: ``extraPaths``."""

    def change(document: jsonc.Document) -> None:
        _checked(document, _set_search_paths(document, "extraPaths", setup.search_paths))

    return _edit_json(project, "", "pyrightconfig.json", change)


def configure(setup: Setup, tools: list[str]) -> list[Written]:
    """Write each tool's settings; return each file and what happened to it."""
    written: list[Written] = []
    try:
        with editing.open_project(setup.project) as project:
            _configure(project, setup, tools, written)
    except PermissionError as exc:
        raise DestinationError(f"{exc.filename or setup.project}: {exc.strerror}") from None
    except OSError as exc:  # something changed under us: a name vanished, a link appeared
        raise SourceError(f"{exc.filename or setup.project}: {exc.strerror}") from None
    return written


def _configure(project: fs.Dir, setup: Setup, tools: list[str], written: list[Written]) -> None:
    from pep582.operations import ide_mypy

    if "mypy" in tools and setup.python is not None:
        ide_mypy.check_place(project, setup.tree)  # before anything is written
    for tool in tools:
        if tool == "vscode":
            written.append(vscode(project, setup))
        elif tool == "pyright":
            written.append(pyright(project, setup))
        elif setup.python is None:
            raise InterpreterError(
                f"mypy needs {setup.tree.facts.command} to run, and this machine has none on "
                "PATH or in pyenv; name one with --python"
            )
        else:
            written.extend(ide_mypy.configure(project, setup.tree, setup.python))
