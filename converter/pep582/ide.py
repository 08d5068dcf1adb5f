"""Telling editors and type checkers where a project's ``__pypackages__`` lives.

Each tool's own configuration gets the project's site directories (relative paths, so
the file stays portable), merged with what is there: other settings, comments and order
are kept; a file we cannot edit safely is an error naming it, never overwritten.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from pep582.errors import SourceError

TOOLS = ("vscode", "pyright", "mypy")


def _merged(existing: list[str], paths: list[str]) -> list[str]:
    return list(dict.fromkeys([*existing, *paths]))


def _load_json(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SourceError(
            f"{path}: not plain JSON ({exc}); comments or trailing commas? add the paths by hand"
        ) from exc
    if not isinstance(data, dict):
        raise SourceError(f"{path}: expected a JSON object")
    return data


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.pep582-tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _json_list(path: Path, key: str, paths: list[str]) -> list[str]:
    data = _load_json(path)
    current = data.get(key, [])
    if not isinstance(current, list):
        raise SourceError(f"{path}: {key} is not a list")
    merged = _merged([str(p) for p in current], paths)
    if merged != current or not path.exists():
        data[key] = merged
        _write(path, json.dumps(data, indent=4) + "\n")
    return merged


def vscode(project: Path, paths: list[str]) -> Path:
    """``.vscode/settings.json``: ``python.analysis.extraPaths`` (Pylance)."""
    path = project / ".vscode" / "settings.json"
    _json_list(path, "python.analysis.extraPaths", paths)
    return path


def pyright(project: Path, paths: list[str]) -> Path:
    """``pyrightconfig.json``: ``extraPaths``."""
    path = project / "pyrightconfig.json"
    _json_list(path, "extraPaths", paths)
    return path


_HEADER = re.compile(r"^\s*\[")


def _set_in_section(lines: list[str], header: str, key: str, value: str) -> list[str] | None:
    """``key = value`` set inside the ``header`` section of an INI or TOML file, by lines
    (comments and everything else untouched); None when the section is absent."""
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == header)
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
    ``mypy.ini``; existing entries are kept."""
    ini, pyproject = project / "mypy.ini", project / "pyproject.toml"
    if ini.exists() or not pyproject.exists():
        lines = ini.read_text(encoding="utf-8").splitlines(keepends=True) if ini.exists() else []
        current = _current(lines, "[mypy]", "mypy_path", quoted=False)
        value = ":".join(_merged(current, paths))
        updated = _set_in_section(lines, "[mypy]", "mypy_path", value)
        if updated is None:
            updated = [*lines, *(["\n"] if lines else []), "[mypy]\n", f"mypy_path = {value}\n"]
        _write(ini, "".join(updated))
        return ini
    lines = pyproject.read_text(encoding="utf-8").splitlines(keepends=True)
    current = _current(lines, "[tool.mypy]", "mypy_path", quoted=True)
    value = json.dumps(":".join(_merged(current, paths)))
    updated = _set_in_section(lines, "[tool.mypy]", "mypy_path", value)
    if updated is None:
        updated = [*lines, "\n[tool.mypy]\n", f"mypy_path = {value}\n"]
    _write(pyproject, "".join(updated))
    return pyproject


def _current(lines: list[str], header: str, key: str, quoted: bool) -> list[str]:
    inside = False
    for line in lines:
        if _HEADER.match(line):
            inside = line.strip() == header
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
