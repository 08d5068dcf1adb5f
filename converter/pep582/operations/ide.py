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
from typing import Any

from pep582.errors import SourceError
from pep582.install.tomlfiles import tomllib
from pep582.sources.records import read_text
from pep582.step.startup import DIRNAME

TOOLS = ("vscode", "pyright", "mypy")


def _merged(existing: list[str], paths: list[str]) -> list[str]:
    """The user's own entries, then ours: entries inside ``__pypackages__`` (written by an
    earlier run, maybe for another Python) are replaced, never accumulated."""
    theirs = [e for e in existing if e.replace("\\", "/").split("/")[0] != DIRNAME]
    return list(dict.fromkeys([*theirs, *paths]))


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


def _write(project: Path, path: Path, text: str) -> bool:
    """Replace ``path`` (inside ``project``) atomically: every directory on the way is a
    plain directory (created if missing, never through a link), the file itself is a
    regular file or absent, the temporary file is new (``O_EXCL``), the mode and owner are kept.
    A file that already says ``text`` is left alone: False is returned then."""
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
    owner: tuple[int, int] | None = None
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            owner = (info.st_uid, info.st_gid)  # kept: the file stays its owner's
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(f"{path} is not a regular file (a link?); not replacing it")
        mode = stat.S_IMODE(info.st_mode)
        if read_text(path) == text:
            return False
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        if owner is not None:
            try:
                os.chown(temporary, *owner)
            except PermissionError:
                raise SourceError(
                    f"{path} belongs to another user; not replacing it (ask them, or add "
                    "the paths by hand)"
                ) from None
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return True


def _json_list(project: Path, path: Path, key: str, paths: list[str]) -> bool:
    """Merge ``paths`` into the list ``key``; whether the file changed (a file already
    listing them is not rewritten, so its own formatting stays)."""
    data = _load_json(path)
    current = data.get(key, [])
    if not isinstance(current, list):
        raise SourceError(f"{path}: {key} is not a list")
    merged = _merged([str(p) for p in current], paths)
    if merged == current and path.exists():
        return False
    data[key] = merged
    return _write(project, path, json.dumps(data, indent=4) + "\n")


def vscode(project: Path, paths: list[str]) -> tuple[Path, bool]:
    """``.vscode/settings.json``: ``python.analysis.extraPaths`` (Pylance)."""
    path = project / ".vscode" / "settings.json"
    return path, _json_list(project, path, "python.analysis.extraPaths", paths)


def pyright(project: Path, paths: list[str]) -> tuple[Path, bool]:
    """``pyrightconfig.json``: ``extraPaths``."""
    path = project / "pyrightconfig.json"
    return path, _json_list(project, path, "extraPaths", paths)


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


MARKER = "# pep582 ide: installed in __pypackages__, not your code: errors there are silenced"


def installed_modules(site_dirs: list[Path]) -> list[str]:
    """The top-level import names the site directories provide (packages, namespace
    packages, modules and extensions), sorted."""
    names: set[str] = set()
    for site_dir in site_dirs:
        for entry in os.scandir(site_dir):
            stem = entry.name.partition(".")[0]
            if entry.is_dir(follow_symlinks=False):
                if "." in entry.name or not entry.name.isidentifier():
                    continue  # dist-info, egg-info and other data directories
                names.add(entry.name)
            elif entry.name.endswith((".py", ".pyi", ".so", ".pyd")) and stem.isidentifier():
                names.add(stem)
    names.discard("__pycache__")
    return sorted(names)


def _replace_marked(lines: list[str], block: list[str]) -> list[str]:
    """``lines`` with every block :data:`MARKER` starts (the marker, its section header and
    what follows up to the next section or the end) removed, and ``block`` put where the
    first one was; appended when there is no marker yet."""
    kept: list[str] = []
    first = None
    index = 0
    while index < len(lines):
        if lines[index].rstrip("\r\n") != MARKER:
            kept.append(lines[index])
            index += 1
            continue
        if first is None:
            first = len(kept)
        end = next(
            (i for i in range(index + 2, len(lines)) if _HEADER.match(lines[i])), len(lines)
        )
        while end > index + 2 and not lines[end - 1].strip():
            end -= 1  # keep the blank lines before the next section
        index = end
    if first is None:
        tail = kept[-1] if kept else ""
        gap = ["\n"] if tail.strip() else []
        if tail and not tail.endswith("\n"):
            gap = ["\n", "\n"]
        return [*kept, *gap, MARKER + "\n", *block]
    return [*kept[:first], MARKER + "\n", *block, *kept[first:]]


def _ours(section: str, options: dict[str, str]) -> bool:
    """A section this module writes: ``[mypy-a.*,b.*]`` with only ``follow_imports``."""
    return section.startswith("mypy-") and set(options) == {"follow_imports"}


def _ini_settings(text: str, path: Path) -> dict[str, dict[str, str]]:
    """Every INI setting but ours (``mypy_path`` and the marked sections)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        reason = exc.message.splitlines()[0]
        raise SourceError(f"{path}: not valid INI ({reason}); fix it first") from exc
    settings = {name: dict(parser[name]) for name in parser.sections()}
    settings.get("mypy", {}).pop("mypy_path", None)
    return {
        name: options
        for name, options in settings.items()
        if options and not _ours(name, options)  # a [mypy] we only added is no change
    }


def _toml_settings(text: str, path: Path) -> dict[str, Any]:
    """Every TOML setting but ours (``mypy_path`` and the marked overrides)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: not valid TOML ({exc}); fix it first") from exc
    settings = data.get("tool", {}).get("mypy")
    if isinstance(settings, dict):
        settings.pop("mypy_path", None)
        overrides = settings.get("overrides")
        if isinstance(overrides, list):
            settings["overrides"] = [
                o
                for o in overrides
                if not (isinstance(o, dict) and set(o) == {"module", "follow_imports"})
            ]
            if not settings["overrides"]:
                del settings["overrides"]
        if not settings:  # a [tool.mypy] we only added is no change
            del data["tool"]["mypy"]
            if not data["tool"]:
                del data["tool"]
    return data


def mypy(project: Path, paths: list[str], modules: list[str]) -> tuple[Path, bool]:
    """``mypy_path`` in ``mypy.ini``, else ``[tool.mypy]`` of ``pyproject.toml``, else a new
    ``mypy.ini``; existing entries are kept. mypy checks what ``mypy_path`` finds as if it
    were the project's own code, so a section (marked with :data:`MARKER`, rewritten on
    every run) sets ``follow_imports = silent`` for the ``modules`` installed there: their
    types are used, their errors are not reported, as for site-packages. The edited file
    is parsed again and must say exactly that, or nothing is written."""
    ini, pyproject = project / "mypy.ini", project / "pyproject.toml"
    patterns = [f"{name}.*" for name in modules]
    if ini.exists() or not pyproject.exists():
        lines = read_text(ini).splitlines(keepends=True) if ini.exists() else []
        current = _current(lines, "[mypy]", "mypy_path", quoted=False)
        value = ":".join(_merged(current, paths))
        updated = _set_in_section(lines, "[mypy]", "mypy_path", value)
        if updated is None:
            updated = ["[mypy]\n", f"mypy_path = {value}\n", *(["\n"] if lines else []), *lines]
        section = f"mypy-{','.join(patterns)}"
        if patterns:
            updated = _replace_marked(updated, [f"[{section}]\n", "follow_imports = silent\n"])
        text = "".join(updated)
        before = _ini_settings("".join(lines), ini)
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text)
            ok = parser.get("mypy", "mypy_path") == value and (
                not patterns or parser.get(section, "follow_imports") == "silent"
            )
        except configparser.Error:
            ok = False
        ok = ok and _ini_settings(text, ini) == before  # nothing else changed
        _refuse_unless(ok, ini, f"mypy_path = {value}", "[mypy]")
        return ini, _write(project, ini, text)
    lines = read_text(pyproject).splitlines(keepends=True)
    before_toml = _toml_settings("".join(lines), pyproject)
    current = _current(lines, "[tool.mypy]", "mypy_path", quoted=True)
    joined = ":".join(_merged(current, paths))
    value = json.dumps(joined)
    updated = _set_in_section(lines, "[tool.mypy]", "mypy_path", value)
    if updated is None:
        updated = [*lines, "\n[tool.mypy]\n", f"mypy_path = {value}\n"]
    if patterns:
        block = [
            "[[tool.mypy.overrides]]\n",
            f"module = {json.dumps(patterns)}\n",
            'follow_imports = "silent"\n',
        ]
        updated = _replace_marked(updated, block)
    text = "".join(updated)
    try:
        settings = tomllib.loads(text).get("tool", {}).get("mypy", {})
        ok = settings.get("mypy_path") == joined and (
            not patterns
            or any(
                o.get("module") == patterns and o.get("follow_imports") == "silent"
                for o in settings.get("overrides", [])
            )
        )
    except (tomllib.TOMLDecodeError, AttributeError):
        ok = False
    ok = ok and _toml_settings(text, pyproject) == before_toml  # nothing else changed
    _refuse_unless(ok, pyproject, f"mypy_path = {value}", "[tool.mypy]")
    return pyproject, _write(project, pyproject, text)


def _refuse_unless(ok: bool, path: Path, line: str, section: str) -> None:
    if not ok:
        raise SourceError(
            f"{path}: cannot add mypy_path safely (the edit would change more than that: "
            f"its {section} is laid out in a way this edit does not handle, or a marker "
            f"line sits inside a string); add `{line}` under {section} by hand"
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


def configure(project: Path, tools: list[str], site_dirs: list[Path]) -> list[tuple[Path, bool]]:
    """Write the site directories into each tool's configuration; return each file and
    whether it changed."""
    paths = [os.path.relpath(d, project) for d in site_dirs]
    written = []
    for tool in tools:
        if tool == "mypy":
            written.append(mypy(project, paths, installed_modules(site_dirs)))
        else:
            written.append({"vscode": vscode, "pyright": pyright}[tool](project, paths))
    return written
