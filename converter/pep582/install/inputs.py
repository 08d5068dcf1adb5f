"""What an install request names on this machine, looked at before any resolver runs.

pip and uv both read a wheel named by path (or ``file:`` URL) while resolving, and both
wait forever on a FIFO or ``/dev/zero`` and read a sparse file of any size to hash it.
So the local files a request names — command-line requirements and editables, the
lines of requirements files (nested ``-r``/``-c`` included) — are judged first by
:mod:`pep582.install.localfiles`; so are the project directories it names, which a
resolver builds (running their code) to read their metadata; and so are the local
places a resolver takes packages from and may build from — ``--find-links`` directories
and local indexes, wherever they are named (:mod:`pep582.install.locations`).

The files still go to the resolver unchanged, so each line is read the ways the
resolvers read it: as pip does (a trailing backslash joins lines without a space,
comments and ``${VAR}`` as pip treats them, the options ``shlex``-split and parsed by
``optparse`` — several on a line, a unique prefix of a long option meaning that option)
and as uv does (an option's value is the rest of the line; lines joined with a space; an
empty variable expanded). Every value naming a place is judged under every reading,
relative to the file's directory and to the current directory (pip and uv take a
relative ``-f`` from the file's directory when it exists there). A line pip's rules
cannot account for (an unknown or ambiguous option, a stray word, an unbalanced quote)
is refused, never skipped. It also notes what only pip understands in a requirements
file (``--hash`` and ``--require-hashes``, which uv's compile ignores, per-requirement
build options, a remote ``-r URL``), so such a file is never resolved by uv.
"""

from __future__ import annotations

import optparse
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from packaging.requirements import InvalidRequirement, Requirement

from pep582.errors import SourceError
from pep582.install import locations
from pep582.install.localfiles import check_directory, check_file, path_of_url
from pep582.sources.records import read_text
from pep582.step.startup import untrusted_path

ARCHIVES = locations.ARCHIVES
MAX_NESTING = 20
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_COMMENT = re.compile(r"(^|\s+)#.*$")  # pip's rule
# pip's requirements-file options: every name of each (the union over the pip versions
# the toolkit accepts, so an abbreviation unique here is unique for pip and means the
# same option), what it holds, whether it takes a value.
_PIP_OPTIONS: tuple[tuple[tuple[str, ...], str, bool], ...] = (
    (("-i", "--index-url", "--pypi-url"), "index_url", True),
    (("--extra-index-url",), "extra_index_url", True),
    (("--no-index",), "no_index", False),
    (("-c", "--constraint"), "constraint", True),
    (("-r", "--requirement"), "requirement", True),
    (("-e", "--editable"), "editable", True),
    (("-f", "--find-links"), "find_links", True),
    (("--no-binary",), "no_binary", True),
    (("--only-binary",), "only_binary", True),
    (("--prefer-binary",), "prefer_binary", False),
    (("--require-hashes",), "require_hashes", False),
    (("--pre",), "pre", False),
    (("--trusted-host",), "trusted_host", True),
    (("--use-feature",), "use_feature", True),
    (("--global-option",), "global_option", True),
    (("--install-option",), "install_option", True),
    (("--hash",), "hash", True),
    (("-C", "--config-settings"), "config_settings", True),
)
_LONG = {dest: next(n for n in names if n.startswith("--")) for names, dest, _ in _PIP_OPTIONS}
# What uv's compile ignores or cannot do: such a file is resolved by pip.
_PIP_ONLY = ("hash", "require_hashes", "config_settings", "global_option", "install_option")
# Options uv reads in a requirements file, and what their value names; uv takes the rest
# of the line as the value.
_UV_OPTION = re.compile(
    r"(-f|--find-links|-i|--index-url|--extra-index-url|-r|--requirement|-c|--constraint"
    r"|-e|--editable)(?:[ \t]*=[ \t]*|[ \t]+)(\S.*)$"
)
_UV_DEST = {"-f": "find_links", "--find-links": "find_links", "-i": "index_url",
            "--index-url": "index_url", "--extra-index-url": "extra_index_url",
            "-r": "requirement", "--requirement": "requirement", "-c": "constraint",
            "--constraint": "constraint", "-e": "editable", "--editable": "editable"}  # fmt: skip


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
    prefix: Path | None = None,
    run_in: Path | None = None,
) -> Scan:
    """Judge every local file the request names, and every local place packages may come
    from (``index_urls``: the command line's ``--index-url`` and ``--extra-index-url``;
    ``uv_config``: whether uv may read the configuration files it discovers; ``prefix``:
    the target interpreter's ``sys.prefix``, whose ``pip.conf`` pip reads; ``run_in``:
    the resolver's working directory, None for ``/``); what only pip can do is
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
    judge_configuration(cwd, uv_config, prefix, run_in, found=found, seen=seen)
    return found


def judge_configuration(
    cwd: Path,
    uv_config: bool,
    prefix: Path | None,
    run_in: Path | None,
    only: str | None = None,
    *,
    found: Scan | None = None,
    seen: set[str] | None = None,
) -> None:
    """Judge every configuration file pip and uv (``only``: one of them) read, and every
    place and requirements file those files and their variables name (see
    :func:`pep582.install.locations.configured` for the arguments)."""
    found = found if found is not None else Scan()
    seen = seen if seen is not None else set()
    for location, kind, base, where in locations.configured(cwd, uv_config, prefix, run_in, only):
        if kind == locations.REQUIREMENTS:
            _configured_file(location, base, where, found, seen)
        else:
            locations.check(location, kind, base, where)


class _Refused(Exception):
    """optparse's complaint about an option line."""


class _Parser(optparse.OptionParser):
    def error(self, msg: str) -> NoReturn:
        raise _Refused(msg)


def _parser() -> _Parser:
    parser = _Parser(add_help_option=False)
    for names, dest, takes_value in _PIP_OPTIONS:
        if takes_value:
            parser.add_option(*names, dest=dest, action="append", default=[])
        else:
            parser.add_option(*names, dest=dest, action="store_true", default=False)
    return parser


def _pip_options(options: str, where: str) -> dict[str, Any]:
    """The options of one line as pip reads them (``shlex`` split, then ``optparse``:
    a unique prefix of a long option is that option); a line pip's rules cannot account
    for exactly is refused."""
    try:
        words = shlex.split(options)
    except ValueError as exc:
        raise SourceError(f"{where}: cannot split the options {options!r} ({exc})") from None
    try:
        values, rest = _parser().parse_args(words)
    except _Refused as exc:
        raise SourceError(f"{where}: {exc}: {options!r} is not a line pip and uv both read "
                          "the same way") from None  # fmt: skip
    if rest:
        raise SourceError(
            f"{where}: {' '.join(rest)!r} after the options of {options!r} is neither an "
            "option nor its value"
        )
    return vars(values)


def _configured_file(name: str, base: Path, where: str, found: Scan, seen: set[str]) -> None:
    """A requirements or constraints file a variable or configuration file names: it
    passes the trust rule (nobody else may add a ``-f`` line to it) and its lines are
    scanned like those of a file the user named."""
    path = locations.local_path(name, base)
    if path is None or not os.path.lexists(path):
        return  # remote, or absent from here (the resolver reports it)
    refused = untrusted_path(os.fspath(path))
    if refused:
        raise SourceError(
            f"{where}: {path} could be changed by another user ({refused}); its lines "
            "choose where a resolver takes packages from"
        )
    _scan_file(path, base, found, seen, 0)


def _scan_file(path: Path, cwd: Path, found: Scan, seen: set[str], depth: int) -> None:
    real = os.path.realpath(path)
    if real in seen or depth > MAX_NESTING:
        return
    seen.add(real)
    text = read_text(path)  # never a FIFO or device, never absurdly large
    for number, readings in _logical_lines(text):
        where = f"{path}:{number}"
        args, options = _break_args_options(readings[0])
        parsed = _pip_options(options, where)
        for dest in _PIP_ONLY:
            if parsed[dest]:
                found.pip_only.append(f"{where}: {_LONG[dest]}")
        dests = dict.fromkeys(_UV_DEST.values())
        named = {(dest, value): True for dest in dests for value in parsed[dest]}
        for reading in readings:  # how uv (and pip's other readings) may see the line
            for key in _uv_values(reading):
                named.setdefault(key, False)
        for (dest, value), pips in named.items():
            _named(dest, value, pips, path, cwd, found, seen, depth, where)
        if args.strip():
            _check_requirement(args.strip(), cwd, where)
        for reading in readings[1:]:  # another reading's requirement, when it is local
            other = _break_args_options(reading)[0].strip()
            local = _local_of(other, cwd) if other and other != args.strip() else None
            if local is not None and os.path.lexists(local):
                _check_requirement(other, cwd, where)


def _named(
    dest: str,
    value: str,
    pips: bool,
    path: Path,
    cwd: Path,
    found: Scan,
    seen: set[str],
    depth: int,
    where: str,
) -> None:
    """Judge what option ``dest`` names with ``value`` on a line of ``path`` (``pips``:
    pip reads it so; another reading's value is judged only when it names something)."""
    option = _LONG[dest]
    here = path.parent
    if dest in ("requirement", "constraint"):
        if "://" in value:
            note = f"{where}: {option} {value}"
            if note not in found.pip_only:
                found.pip_only.append(note)
            return
        nested = here / value  # pip and uv: relative to the including file
        if pips or os.path.isfile(nested):
            _scan_file(nested, cwd, found, seen, depth + 1)
        return
    if dest == "editable":
        local = path_of_url(value) if value.startswith("file:") else cwd / value.split("[", 1)[0]
        if pips or (local is not None and os.path.isdir(local)):
            _check_editable(value, cwd, where, found)
        return
    kind = locations.FIND_LINKS if dest == "find_links" else locations.INDEX
    for base in dict.fromkeys((here, cwd)):  # pip and uv: the file's directory, else cwd
        locations.check(value, kind, base, f"{where}: {option} {value}")


def _uv_values(line: str) -> Iterator[tuple[str, str]]:
    """``(dest, value)`` for each option uv could see in ``line`` (at the start of any
    word), its value being the rest of the line as uv takes it, and the shorter readings
    (quotes removed, cut at a ``#``, the first word)."""
    for match in re.finditer(r"(?:^|(?<=\s))-", line):
        found = _UV_OPTION.match(line, match.start())
        if found is None:
            continue
        rest = found[2].strip()
        variants = {rest, rest.split("#", 1)[0].strip(), rest.split(None, 1)[0]}
        for value in list(variants):
            variants.add(value.strip("\"'"))
        for value in sorted(v for v in variants if v):
            yield _UV_DEST[found[1]], value


def _break_args_options(line: str) -> tuple[str, str]:
    """pip's split of a line into its requirement and its options: the words up to the
    first one starting with ``-``."""
    tokens = line.split(" ")
    for number, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:number]), " ".join(tokens[number:])
    return line, ""


def _logical_lines(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each logical line, first as pip reads it (a trailing backslash joins the next line
    without a space, comments removed, then ``${VAR}`` expanded when set and not empty),
    then the other ways a reader may see it (joined with a space, empty variables
    expanded, expanded before comments are removed)."""
    for number, parts in _groups(text):
        pip_line = "".join(part.strip("\\") if _continues(part) else part for part in parts)
        spaced = " ".join(part[:-1] if _continues(part) else part for part in parts)
        readings = [_expand(_COMMENT.sub("", pip_line).strip(), empty=False)]
        for joined in (pip_line, spaced):
            for empty in (False, True):
                for line in (
                    _expand(_COMMENT.sub("", joined).strip(), empty),
                    _COMMENT.sub("", _expand(joined, empty)).strip(),
                ):
                    if line and line not in readings:
                        readings.append(line)
        if any(readings):
            yield number, readings


def _continues(line: str) -> bool:
    return line.endswith("\\") and not _COMMENT.match(line)


def _groups(text: str) -> Iterator[tuple[int, list[str]]]:
    """The physical lines of each logical line, and its first line's number (pip's
    ``join_lines``: a comment line never continues)."""
    group: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if _continues(line):
            first = first if group else number
            group.append(line)
        elif group:
            yield first, [*group, line]
            group = []
        else:
            yield number, [line]
    if group:
        yield first, group


def _expand(line: str, empty: bool) -> str:
    """``${VAR}`` replaced by its value; an empty value only when ``empty`` (pip keeps
    the text, uv does not)."""

    def value(match: re.Match[str]) -> str:
        found = os.environ.get(match[1])
        return found if found or (empty and found is not None) else match[0]

    return _VARIABLE.sub(value, line)


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


__all__ = ["ARCHIVES", "Scan", "judge_configuration", "scan"]
