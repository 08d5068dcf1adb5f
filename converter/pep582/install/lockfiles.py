"""Lock files other tools keep beside a ``pyproject.toml``, read as PEP 751 locks.

One lock is used, the first present of: ``pylock.toml`` (read as it is), ``uv.lock``
(``uv export --format pylock.toml --frozen --offline``, when uv is installed, on a
private copy that is its own workspace root unless the project declares one),
``pdm.lock`` (``pdm export --format pylock``, when PDM is installed) and
``poetry.lock`` (``poetry export --format pylock.toml``, when Poetry and an export
plugin that writes it are installed). A lock that cannot be turned into a PEP 751 lock
offline is not used, and one line says so and what to run; the project's
``[project]`` dependencies are then resolved instead.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pep582 import fs, proc, usercache
from pep582.errors import Pep582Error, SourceError
from pep582.install import uv
from pep582.install.pylock import parse_lock
from pep582.interpreter import outside_toolkit
from pep582.parse import load_toml, toml_text
from pep582.sources.records import read_text

LOCK_NAMES = ("pylock.toml", "uv.lock", "pdm.lock", "poetry.lock")


@dataclass
class ProjectLock:
    """The PEP 751 text a project's lock became, and what to tell the user."""

    text: str | None  # None: no lock was usable
    name: str = ""  # the lock file it came from
    base: Path = Path(".")  # what relative paths in ``text`` are relative to
    notes: list[str] = field(default_factory=list)


def project_lock(
    pyproject: Path, extras: Sequence[str], groups: Sequence[str], with_project: bool
) -> ProjectLock:
    """The lock beside ``pyproject``, as PEP 751 text (see the module docstring)."""
    project = pyproject.absolute().parent
    present = [name for name in LOCK_NAMES if (project / name).is_file()]
    if not present:
        return ProjectLock(None)
    name = present[0]
    found = ProjectLock(None, str(project / name), project)
    if len(present) > 1:
        found.notes.append(f"{name} is used; also present and not read: {', '.join(present[1:])}")
    try:
        if name == "pylock.toml":
            from pep582.sources.records import read_text

            found.text = read_text(project / name)
        elif name == "uv.lock":
            found.text = _uv(project, extras, groups, with_project)
        elif name == "pdm.lock":
            found.text = _tool(project, "pdm", ["export", "--format", "pylock"])
        else:
            found.text = _tool(project, "poetry", ["export", "--format", "pylock.toml"])
    except _NotUsed as exc:
        found.notes.append(f"{project / name} was not used: {exc}")
        found.text = None
    if found.text is not None:
        try:
            parse_lock(toml_text(found.text, found.name), found.name)
        except SourceError as exc:
            found.notes.append(f"{project / name} was not used: its export is not valid ({exc})")
            found.text = None
        else:
            found.notes.insert(0, f"installed as {project / name} locks it")
    return found


class _NotUsed(Exception):
    """A lock that cannot be read here; the message says what to run instead."""


def _uv(project: Path, extras: Sequence[str], groups: Sequence[str], with_project: bool) -> str:
    executable = uv.find_uv()
    if executable is None:
        raise _NotUsed(
            "uv is not installed (install uv, or run `uv export --format pylock.toml -o "
            "pylock.toml` where it is)"
        )
    options = ["--no-default-groups"]
    for extra in extras:
        options += ["--extra", extra]
    for group in groups:
        options += ["--group", group]
    options += ["--no-editable"] if with_project else ["--no-emit-project"]
    try:
        if _declares_workspace(project):  # a workspace root: uv looks no further up
            return uv.export_lock(executable, project, options, "uv.lock")
        with _as_workspace_root(project) as copy:
            return uv.export_lock(executable, copy, options, "uv.lock")
    except Pep582Error as exc:
        raise _NotUsed(str(exc).splitlines()[0]) from exc


def _declares_workspace(project: Path) -> bool:
    tool = load_toml(project / "pyproject.toml").get("tool")
    settings = tool.get("uv") if isinstance(tool, dict) else None
    return isinstance(settings, dict) and isinstance(settings.get("workspace"), dict)


@contextmanager
def _as_workspace_root(project: Path) -> Iterator[Path]:
    """A private copy of the project's ``pyproject.toml`` (declaring itself a workspace
    root) and ``uv.lock``. uv looks for a workspace in every directory above a project
    that declares none, and exports the lock of one that claims it as a member: another
    user who may create files above the project (``/tmp``) could choose what is
    installed. A project that is its own workspace root is read from its copy alone."""
    text = read_text(project / "pyproject.toml")
    lock = read_text(project / "uv.lock")
    copy = Path(tempfile.mkdtemp(prefix="uv-export-", dir=usercache.directory("scratch")))
    try:
        (copy / "pyproject.toml").write_text(text + "\n\n[tool.uv.workspace]\n", "utf-8")
        (copy / "uv.lock").write_text(lock, "utf-8")
        yield copy
    finally:
        fs.remove_quietly(copy)


def _tool(project: Path, tool: str, arguments: list[str]) -> str:
    program = proc.which(tool, path=outside_toolkit())
    export = f"`{tool} {' '.join(arguments)} -o pylock.toml`"
    if program is None:
        raise _NotUsed(f"{tool} is not installed (run {export} where it is)")
    try:
        result = proc.run(
            [os.path.abspath(program), *arguments],
            python=False,
            what=tool,
            cwd=str(project),
            timeout=120,
        )
    except Pep582Error as exc:
        raise _NotUsed(str(exc)) from exc
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise _NotUsed(f"{export} failed: {last}")
    return result.stdout
