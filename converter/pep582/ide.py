"""Telling editors and type checkers where a project's ``__pypackages__`` lives.

Each tool's own configuration gets the project's site directories (relative paths, so
the file stays portable), merged with what is there: other settings, comments and order
are kept; a file we cannot edit safely is an error naming it, never overwritten.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import stat
import tempfile
from pathlib import Path

from pep582.errors import SourceError
from pep582.records import read_text
from pep582.tomlfiles import tomllib

TOOLS = ("vscode", "pyright", "mypy")


def _merged(existing: list[str], paths: list[str]) -> list[str]:
    return list(dict.fromkeys([*existing, *paths]))


def _load_json(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    try:
        data = json.loads(read_text(path))
    except ValueError as exc:
        raise SourceError(
            f"{path}: not plain JSON ({exc}); comments or trailing commas? add the paths by hand"
        ) from exc
    if not isinstance(data, dict):
        raise SourceError(f"{path}: expected a JSON object")
    return data


def _write(project: Path, path: Path, text: str) -> None:
    """Replace ``path`` (inside ``project``) atomically: every directory on the way is a
    plain directory (created if missing, never through a link), the file itself is a
    regular file or absent, the temporary file is new (``O_EXCL``), the mode is kept."""
    here = project
    for part in path.parent.relative_to(project).parts:
        here = here / part
        try:
            info = os.lstat(here)
        except FileNotFoundError:
            os.mkdir(here)
            continue
        if not stat.S_ISDIR(info.st_mode):
            raise SourceError(f"{here} is not a plain directory (a link?); not writing into it")
    mode = 0o644
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(f"{path} is not a regular file (a link?); not replacing it")
        mode = stat.S_IMODE(info.st_mode)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _json_list(project: Path, path: Path, key: str, paths: list[str]) -> list[str]:
    data = _load_json(path)
    current = data.get(key, [])
    if not isinstance(current, list):
        raise SourceError(f"{path}: {key} is not a list")
    merged = _merged([str(p) for p in current], paths)
    if merged != current or not path.exists():
        data[key] = merged
        _write(project, path, json.dumps(data, indent=4) + "\n")
    return merged


def vscode(project: Path, paths: list[str]) -> Path:
    """``.vscode/settings.json``: ``python.analysis.extraPaths`` (Pylance)."""
    path = project / ".vscode" / "settings.json"
    _json_list(project, path, "python.analysis.extraPaths", paths)
    return path


def pyright(project: Path, paths: list[str]) -> Path:
    """``pyrightconfig.json``: ``extraPaths``."""
    path = project / "pyrightconfig.json"
    _json_list(project, path, "extraPaths", paths)
    return path


_HEADER = re.compile(r"^\s*\[")


def _header(line: str) -> str:
    """A section header without its trailing comment: ``[tool.mypy]  # x`` → ``[tool.mypy]``."""
    return line.split("#", 1)[0].strip()


def _set_in_section(lines: list[str], header: str, key: str, value: str) -> list[str] | None:
    """``key = value`` set inside the ``header`` section of an INI or TOML file, by lines
    (comments and everything else untouched); None when the section is absent."""
    try:
        start = next(i for i, line in enumerate(lines) if _header(line) == header)
    except StopIteration:
        return None
    end = next((i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i])), len(lines))
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for index in range(start + 1, end):
        if pattern.match(lines[index]):
            lines[index] = f"{key} = {value}\n"
            return lines
    lines.insert(start + 1, f"{key} = {value}\n")
    return lines


def mypy(project: Path, paths: list[str]) -> Path:
    """``mypy_path`` in ``mypy.ini``, else ``[tool.mypy]`` of ``pyproject.toml``, else a new
    ``mypy.ini``; existing entries are kept. The edited file is parsed again and must
    say exactly that, or nothing is written."""
    ini, pyproject = project / "mypy.ini", project / "pyproject.toml"
    if ini.exists() or not pyproject.exists():
        lines = read_text(ini).splitlines(keepends=True) if ini.exists() else []
        current = _current(lines, "[mypy]", "mypy_path", quoted=False)
        value = ":".join(_merged(current, paths))
        updated = _set_in_section(lines, "[mypy]", "mypy_path", value)
        if updated is None:
            updated = [*lines, *(["\n"] if lines else []), "[mypy]\n", f"mypy_path = {value}\n"]
        text = "".join(updated)
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text)
            ok = parser.get("mypy", "mypy_path") == value
        except configparser.Error:
            ok = False
        _refuse_unless(ok, ini, f"mypy_path = {value}", "[mypy]")
        _write(project, ini, text)
        return ini
    lines = read_text(pyproject).splitlines(keepends=True)
    current = _current(lines, "[tool.mypy]", "mypy_path", quoted=True)
    joined = ":".join(_merged(current, paths))
    value = json.dumps(joined)
    updated = _set_in_section(lines, "[tool.mypy]", "mypy_path", value)
    if updated is None:
        updated = [*lines, "\n[tool.mypy]\n", f"mypy_path = {value}\n"]
    text = "".join(updated)
    try:
        ok = tomllib.loads(text).get("tool", {}).get("mypy", {}).get("mypy_path") == joined
    except tomllib.TOMLDecodeError:
        ok = False
    _refuse_unless(ok, pyproject, f"mypy_path = {value}", "[tool.mypy]")
    _write(project, pyproject, text)
    return pyproject


def _refuse_unless(ok: bool, path: Path, line: str, section: str) -> None:
    if not ok:
        raise SourceError(
            f"{path}: cannot add mypy_path safely (its {section} is laid out in a way this "
            f"edit does not handle); add `{line}` under {section} by hand"
        )


def _current(lines: list[str], header: str, key: str, quoted: bool) -> list[str]:
    """The entries ``key`` holds in section ``header`` (separated by ``:`` or ``,``)."""
    inside = False
    for line in lines:
        if _HEADER.match(line):
            inside = _header(line) == header
            continue
        name, sep, value = line.partition("=")
        if inside and sep and name.strip() == key:
            value = value.strip()
            if quoted:
                value = value.strip("\"'")
            return [p for p in re.split(r"[:,]", value) if p.strip()]
    return []


def configure(project: Path, tools: list[str], site_dirs: list[Path]) -> list[Path]:
    """Write the site directories into each tool's configuration; return the files."""
    paths = [os.path.relpath(d, project) for d in site_dirs]
    writers = {"vscode": vscode, "pyright": pyright, "mypy": mypy}
    return [writers[tool](project, paths) for tool in tools]
