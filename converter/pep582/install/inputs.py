"""What an install request names on this machine, looked at before any resolver runs.

pip and uv both read a wheel named by path (or ``file:`` URL) while resolving, and both
wait forever on a FIFO or ``/dev/zero`` and read a sparse file of any size to hash it.
So the local files a request names — command-line requirements and editables, the
lines of requirements files (nested ``-r``/``-c`` included) — are judged first by
:mod:`pep582.install.localfiles`; so are the project directories it names, which a
resolver builds (running their code) to read their metadata; and so are the local
places a resolver takes packages from and may build from — ``--find-links`` directories
and local indexes, wherever they are named (:mod:`pep582.install.locations`).

This is a scan, not a second parser: the files still go to the resolver unchanged. It
also notes what only pip understands in a requirements file (``--hash`` and
``--require-hashes``, which uv's compile ignores, per-requirement build options, a
remote ``-r URL``), so such a file is never resolved by uv.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from pep582.errors import SourceError
from pep582.install import locations
from pep582.install.localfiles import check_directory, check_file, path_of_url
from pep582.sources.records import read_text

ARCHIVES = locations.ARCHIVES
PIP_ONLY = ("--hash", "--require-hashes", "--config-settings", "--global-option",
            "--install-option")  # fmt: skip
MAX_NESTING = 20
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_OPTION_WITH_VALUE = re.compile(
    r"^(-r|--requirement|-c|--constraint|-e|--editable|-f|--find-links|-i|--index-url|"
    r"--extra-index-url)(?:\s*=\s*|\s+|(?<=^-[rcefi]))(\S+)"
)


@dataclass
class Scan:
    """What the scan found: pip-only features (``file:line: feature``) and VCS editables."""

    pip_only: list[str] = field(default_factory=list)
    vcs_editables: list[str] = field(default_factory=list)


def scan(
    requirements: list[str],
    editables: list[str],
    files: list[Path],
    find_links: list[str],
    cwd: Path,
    index_urls: list[str] | tuple[str, ...] = (),
    uv_config: bool = True,
) -> Scan:
    """Judge every local file the request names, and every local place packages may come
    from (``index_urls``: the command line's ``--index-url`` and ``--extra-index-url``;
    ``uv_config``: whether uv may read its configuration files); what only pip can do is
    returned."""
    found = Scan()
    for requirement in requirements:
        _check_requirement(requirement, cwd, f"requirement {requirement!r}")
    for editable in editables:
        _check_editable(editable, cwd, f"editable {editable!r}", found)
    for link in find_links:
        locations.check(link, locations.FIND_LINKS, cwd, f"--find-links {link}")
    for url in index_urls:
        locations.check(url, locations.INDEX, cwd, f"index {url}")
    seen: set[str] = set()
    for name in files:
        _scan_file(cwd / name, cwd, found, seen, 0)
    for location, kind, base, where in locations.configured(cwd, uv_config):
        locations.check(location, kind, base, where)
    return found


def _scan_file(path: Path, cwd: Path, found: Scan, seen: set[str], depth: int) -> None:
    real = os.path.realpath(path)
    if real in seen or depth > MAX_NESTING:
        return
    seen.add(real)
    text = read_text(path)  # never a FIFO or device, never absurdly large
    for number, line in _logical_lines(text):
        where = f"{path}:{number}"
        if any(re.search(rf"(^|\s){option}\b", line) for option in PIP_ONLY):
            option = next(o for o in PIP_ONLY if re.search(rf"(^|\s){o}\b", line))
            found.pip_only.append(f"{where}: {option}")
        match = _OPTION_WITH_VALUE.match(line)
        if match:
            option, value = match.groups()
            if option in ("-r", "--requirement", "-c", "--constraint"):
                if "://" in value:
                    found.pip_only.append(f"{where}: {option} {value}")
                    continue
                nested = path.parent / value  # pip: relative to the including file
                _scan_file(nested, cwd, found, seen, depth + 1)
            elif option in ("-e", "--editable"):
                _check_editable(value, cwd, where, found)
            else:
                kind = locations.FIND_LINKS if option in ("-f", "--find-links") else "index"
                locations.check(value, kind, cwd, f"{where}: {option} {value}")
            continue
        if line.startswith("-"):
            continue  # another option: an index URL, --pre, ...
        _check_requirement(line.split(" --", 1)[0].strip(), cwd, where)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines as pip joins them (a trailing backslash continues), comments removed,
    ``${VAR}`` expanded."""
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = raw if raw.lstrip().startswith("#") else raw.split(" #", 1)[0]
        line = "" if line.lstrip().startswith("#") else line
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = _VARIABLE.sub(lambda m: os.environ.get(m[1], m[0]), pending + line).strip()
        pending = ""
        if whole:
            yield start, whole


def _local_of(text: str, cwd: Path) -> Path | None:
    """The local path a requirement names, if it names one."""
    if text.startswith("file:"):
        return path_of_url(text)
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        requirement = None
    if requirement is not None:
        return path_of_url(requirement.url) if requirement.url else None
    candidate = re.sub(r"\[[^\]]*\]$", "", text.split(";", 1)[0].strip())
    if "://" in candidate or not candidate:
        return None
    if os.sep in candidate or candidate.startswith(".") or candidate.endswith(ARCHIVES):
        return cwd / candidate
    return None


def _check_requirement(text: str, cwd: Path, what: str) -> None:
    local = _local_of(text, cwd)
    if local is None:
        return
    if not os.path.lexists(local):
        raise SourceError(f"{what}: {local} does not exist")
    if os.path.isdir(local):
        check_directory(local, what)  # building it runs its code: before any resolver
        return
    check_file(local, what)


def _check_editable(text: str, cwd: Path, what: str, found: Scan) -> None:
    if re.match(r"^[a-z]+\+", text):  # git+https://..., hg+file://...
        found.vcs_editables.append(text)
        return
    local = path_of_url(text) if text.startswith("file:") else cwd / text.split("[", 1)[0]
    if local is None:
        return
    if not os.path.lexists(local):
        raise SourceError(f"{what}: {local} does not exist")
    check_directory(local, what)  # a project directory others cannot change


__all__ = ["ARCHIVES", "Scan", "scan"]
