"""Local places a resolver takes packages from, judged before any resolver runs.

pip and uv read a local ``--find-links`` directory (each archive in it, and each HTML page
in it as a list of links) or file, and a local package index (``--index-url`` or
``--extra-index-url`` naming a directory or a ``file:`` URL: its pages and the files they
link to), and they *build* a source distribution found there to learn its metadata —
running its build backend as you, ``--dry-run`` included. So such a place is used only
when it passes the trust rule (``pep582.step.startup.untrusted_path``), as a project
directory or an archive named directly does:

- a ``--find-links`` directory itself (nobody else may add a file to it) and every entry
  in it (an archive or page is also a regular file of sane size, never a FIFO or device);
  a ``--find-links`` file (an archive or a page of links);
- a local index: its directory and every directory and file below it;
- every local file or directory an HTML page there links to (pages may link anywhere).

Places are gathered from everywhere they can be named: the command line, requirements
files (``-f``, ``-i``, ``--extra-index-url``, read as pip and as uv read them:
:mod:`pep582.install.inputs`), pip's and uv's variables (split at white space and at
commas), the requirements and constraints files variables and pip's configuration name
(``PIP_CONSTRAINT``, ``UV_CONSTRAINT``, ``constraint = …``), pip's configuration files
(those of the *target* interpreter: pip re-runs under it and reads its
``sys.prefix/pip.conf``), the ``uv.toml``/``[tool.uv]`` files uv could discover (all of
them, not only the one it would use) and the file ``UV_CONFIG_FILE`` names, which uv
reads even with ``--no-config``. :func:`sources` is the one list of those files: each
must pass the trust rule itself (pip cannot be told to skip one, nor uv that one), and
the same list is scanned for places and chooses the resolver. Remote places are the
user's choice of index, not judged here.
"""

from __future__ import annotations

import configparser
import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from pep582 import fs
from pep582.errors import SourceError
from pep582.install.localfiles import check_file, path_of_url
from pep582.step.startup import untrusted_path

ARCHIVES = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz", ".tar")
PAGES = (".html", ".htm")
MAX_PAGE = 64 << 20  # an HTML page of links larger than this is refused, not read
FIND_LINKS = "find-links"
INDEX = "index"
REQUIREMENTS = "requirements"  # a requirements or constraints file (its lines name places)
# Variables that name places, and which kind each names (values are space-separated).
VARIABLES = {
    "PIP_FIND_LINKS": FIND_LINKS,
    "UV_FIND_LINKS": FIND_LINKS,
    "PIP_INDEX_URL": INDEX,
    "PIP_EXTRA_INDEX_URL": INDEX,
    "UV_INDEX_URL": INDEX,
    "UV_EXTRA_INDEX_URL": INDEX,
    "UV_INDEX": INDEX,
    "UV_DEFAULT_INDEX": INDEX,
    "PIP_CONSTRAINT": REQUIREMENTS,
    "PIP_REQUIREMENT": REQUIREMENTS,
    "PIP_BUILD_CONSTRAINT": REQUIREMENTS,
    "UV_CONSTRAINT": REQUIREMENTS,
    "UV_OVERRIDE": REQUIREMENTS,
    "UV_BUILD_CONSTRAINT": REQUIREMENTS,
}
_CONFIG_KEYS = {"find-links": FIND_LINKS, "index-url": INDEX, "extra-index-url": INDEX}
# pip configuration keys naming files pip reads as requirements files
_PIP_FILE_KEYS = {"constraint": REQUIREMENTS, "requirement": REQUIREMENTS,
                  "build-constraint": REQUIREMENTS}  # fmt: skip


def local_path(location: str, base: Path) -> Path | None:
    """The local path ``location`` names (a ``file:`` URL or a path, relative to
    ``base``), or None for a remote URL."""
    if "://" in location or location.startswith("file:"):
        return path_of_url(location)
    return base / os.path.expanduser(location)


def check(location: str, kind: str, base: Path, what: str) -> None:
    """Judge the local place ``location`` (``kind``: :data:`FIND_LINKS` or :data:`INDEX`)
    as the module docstring says; a SourceError naming ``what`` otherwise."""
    local = local_path(location, base)
    if local is None or not os.path.lexists(local):
        return  # remote, or absent: the resolvers skip it too
    key = (os.path.realpath(local), kind)
    if key in _JUDGED:
        return  # judged in this run: nobody else can have changed it since
    _judge(local, kind, what)
    _JUDGED.add(key)


# Places that passed in this process (each resolver run judges what it reads; a place
# that passed is one only you and root can change, so it is not walked twice).
_JUDGED: set[tuple[str, str]] = set()


def _judge(local: Path, kind: str, what: str) -> None:
    if not os.path.isdir(local):
        _check_entry(str(local), what)
        if local.name.endswith(PAGES):
            _check_links(str(local), what)
        return
    _check_place(str(local), what)
    real = os.path.realpath(local)
    if kind == FIND_LINKS:
        with os.scandir(real) as entries:
            for entry in entries:
                _check_entry(entry.path, what)
                if entry.name.endswith(PAGES):
                    _check_links(entry.path, what)
        return
    with fs.Dir.open(real, follow=True) as root:
        for _, relative, items in fs.walk(root):
            for name, info in items:
                path = (
                    os.path.join(real, *relative.split("/"), name)
                    if relative
                    else (os.path.join(real, name))
                )
                if stat.S_ISLNK(info.st_mode) and os.path.isdir(path):
                    raise SourceError(
                        f"{what}: {path} is a link to a directory inside a local index, "
                        "which is not followed to be judged; copy what it holds instead"
                    )
                _check_entry(path, what)
                if name.endswith(PAGES):
                    _check_links(path, what, real)


def _check_place(path: str, what: str) -> None:
    refused = untrusted_path(path)
    if refused:
        raise SourceError(
            f"{what}: {path} could be changed by another user ({refused}); a resolver "
            "builds the source distributions it finds there, running their code as you"
        )


def _check_entry(path: str, what: str) -> None:
    """One file or directory of a place: archives and pages are regular files of sane
    size (never a FIFO a resolver would wait on); everything passes the trust rule."""
    if path.endswith(ARCHIVES + PAGES):
        check_file(Path(path), what)  # kind, size and the trust rule
        return
    _check_place(path, what)


class _Links(HTMLParser):
    """The ``href`` of every ``<a>`` (and the ``<base href>``) of a page, as pip reads
    them."""

    def __init__(self) -> None:
        super().__init__()
        self.base: str | None = None
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if href is None:
            return
        if tag == "base" and self.base is None:
            self.base = href
        elif tag == "a":
            self.hrefs.append(href)


def _check_links(page: str, what: str, judged: str | None = None) -> None:
    """Every local file or directory the page links to (relative links resolve against
    the page, or its ``<base href>``), except those inside ``judged`` (a real directory
    whose every entry is judged anyway)."""
    from pep582.sources.records import read_regular

    text = read_regular(os.path.realpath(page), MAX_PAGE).decode("utf-8", "replace")
    parser = _Links()
    parser.feed(text)
    page_url = Path(page).as_uri()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    for href in parser.hrefs:
        target = urljoin(base, href.split("#", 1)[0])
        if urlsplit(target).scheme != "file":
            continue
        local = path_of_url(target)
        if local is None or not os.path.lexists(local):
            continue
        if judged and os.path.realpath(local).startswith(judged + os.sep):
            continue
        _check_entry(str(local), f"{what}: {page} links to {local}")


# -- where places are named -------------------------------------------------------------

PIP = "pip"
UV = "uv"


@dataclass(frozen=True)
class Source:
    """One configuration file a resolver reads (or would read, were it created).

    ``discovered``: a file uv finds by looking (its project, user and system files), which
    ``--no-config`` switches off; pip's files and the file ``UV_CONFIG_FILE`` names are
    read whatever the toolkit passes."""

    resolver: str
    path: str
    discovered: bool = False


def sources(cwd: Path | None, prefix: Path | None) -> list[Source]:
    """Every configuration file pip and uv read for a run in ``cwd`` for the target whose
    ``sys.prefix`` is ``prefix``: the one list both the trust judgement
    (:func:`source_refusal`) and the scan of the places they name (:func:`configured`)
    use, and that chooses the resolver (``resolver.pip_index_configuration``)."""
    from pep582.install import uv

    found = [Source(PIP, path) for path in pip_config_files(prefix)]
    found += [Source(UV, path, discovered=True) for path in uv.candidate_files(cwd)]
    explicit = uv.named_config_file()
    if explicit is not None:
        found.append(Source(UV, explicit))
    return found


def pip_config_files(prefix: Path | None = None) -> list[str]:
    """The configuration files pip reads, in pip's order, present or not: pip's
    ``--python TARGET`` re-runs pip under TARGET, so its *site* file is TARGET's
    ``sys.prefix/pip.conf`` (``prefix``; the toolkit's own when None); then
    ``PIP_CONFIG_FILE``. None at all when ``PIP_CONFIG_FILE`` is the null device."""
    named = os.environ.get("PIP_CONFIG_FILE")
    if named == os.devnull:
        return []
    home = os.path.expanduser("~")
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS", "").strip() or "/etc/xdg"
    files = [os.path.join(d, "pip", "pip.conf") for d in xdg_dirs.split(os.pathsep) if d]
    files += ["/etc/pip.conf", os.path.join(home, ".pip", "pip.conf")]
    xdg_home = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.join(home, ".config")
    files += [
        os.path.join(xdg_home, "pip", "pip.conf"),
        os.path.join(os.fspath(prefix) if prefix is not None else sys.prefix, "pip.conf"),
    ]
    if named:
        files.append(named)
    return list(dict.fromkeys(files))


def place_refusal(path: str, reader: str) -> str | None:
    """Why another user could change the configuration file ``path`` or, when it does not
    exist, create it (the nearest directory that exists is judged); ``reader`` names who
    reads it."""
    if not os.path.isabs(path):
        return f"{reader} would read {path!r}, relative to its working directory"
    here = path
    while not os.path.lexists(here):
        here = os.path.dirname(here)
    refused = untrusted_path(here)
    return f"{reader} would read {path}: {refused}" if refused else None


def read_sources(found: list[Source], uv_config: bool) -> list[Source]:
    """What of ``found`` is read: everything but the files uv discovers when it runs with
    ``--no-config`` (``uv_config`` False)."""
    return [s for s in found if uv_config or not s.discovered]


def source_refusal(found: list[Source], uv_config: bool) -> None:
    """A SourceError when a configuration file that will be read (pip's, the one
    ``UV_CONFIG_FILE`` names, and uv's own when ``uv_config``) could be changed or
    created by another user: no option switches those off."""
    for source in read_sources(found, uv_config):
        refused = place_refusal(source.path, source.resolver)
        if refused:
            raise SourceError(
                f"{refused}; {source.resolver} takes packages from the places a "
                "configuration file names and builds what it finds there, running its "
                "code as you"
            )


def configured(
    cwd: Path,
    uv_config: bool,
    prefix: Path | None = None,
    run_in: Path | None = None,
    only: str | None = None,
) -> Iterator[tuple[str, str, Path, str]]:
    """``(location, kind, base, where)`` for each place pip's and uv's variables and
    configuration files name, and each requirements or constraints file they name
    (:data:`REQUIREMENTS`: its lines name places too; ``uv_config``: whether uv may read
    the files it discovers, i.e. it runs without ``--no-config``; ``prefix``: the
    target's ``sys.prefix``; ``run_in``: the resolver's working directory, None for
    ``/``; ``only``: :data:`PIP` or :data:`UV` for what one resolver reads). Every file
    read is judged first (:func:`source_refusal`)."""
    for variable, kind in VARIABLES.items():
        if only is not None and not variable.startswith(f"{only.upper()}_"):
            continue
        for value in _items(os.environ.get(variable, "")):
            for base in dict.fromkeys((cwd, Path("/"))):  # pip runs in either
                yield _strip_name(value), kind, base, f"{variable} {value}"
    found = [s for s in sources(run_in, prefix) if only is None or s.resolver == only]
    source_refusal(found, uv_config)
    for source in read_sources(found, uv_config):
        if not os.path.isfile(source.path):
            continue
        if source.resolver == PIP:
            for key, value in pip_entries(source.path):
                named = {**_CONFIG_KEYS, **_PIP_FILE_KEYS}.get(key.replace("_", "-"))
                if named is None:
                    continue
                for item in value.split():
                    for base in dict.fromkeys((cwd, Path("/"))):  # pip runs in either
                        yield item, named, base, f"{key} in {source.path}"
            continue
        table = _uv_table(source.path)
        for value, named in _uv_places(table):
            for base in dict.fromkeys((Path(source.path).parent, cwd)):
                yield value, named, base, source.path


def pip_entries(path: str) -> Iterator[tuple[str, str]]:
    """``(key, value)`` of every entry of the pip configuration file ``path``, read
    through the safe open (never a FIFO or device); a file pip cannot parse yields
    nothing (pip refuses it)."""
    from pep582.sources.records import read_text

    parser = configparser.RawConfigParser()
    try:
        parser.read_string(read_text(path), path)
    except configparser.Error:
        return
    for section in parser.sections():
        for key in parser.options(section):
            yield key, parser.get(section, key) or ""


def _items(value: str) -> list[str]:
    """The entries of a variable: split at white space (pip, most of uv's) and at commas
    too (uv's ``UV_FIND_LINKS``): every reading is judged."""
    return list(dict.fromkeys([*value.split(), *filter(None, re.split(r"[\s,]+", value))]))


def _strip_name(value: str) -> str:
    """uv's ``UV_INDEX`` entries may be ``name=URL``."""
    name, sep, rest = value.partition("=")
    return rest if sep and "/" not in name and ":" not in name else value


def _uv_table(path: str) -> dict[str, Any]:
    """The settings table of the uv configuration file ``path`` (``[tool.uv]`` of a
    ``pyproject.toml``); empty when uv would skip the file."""
    from pep582.parse import load_toml

    try:
        data = load_toml(Path(path))
    except SourceError:
        return {}  # uv skips (or refuses) a file it cannot parse
    if os.path.basename(path) == "pyproject.toml":
        tool = data.get("tool")
        data = tool.get("uv", {}) if isinstance(tool, dict) else {}
    return data if isinstance(data, dict) else {}


def _uv_places(table: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for scope in (table, table.get("pip")):
        if not isinstance(scope, dict):
            continue
        for key, kind in _CONFIG_KEYS.items():
            value = scope.get(key)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    yield item, kind
    for entry in table.get("index", []) if isinstance(table.get("index"), list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            kind = FIND_LINKS if entry.get("format") == "flat" else INDEX
            yield entry["url"], kind


__all__ = [
    "FIND_LINKS",
    "INDEX",
    "REQUIREMENTS",
    "Source",
    "check",
    "configured",
    "local_path",
    "pip_config_files",
    "pip_entries",
    "place_refusal",
    "source_refusal",
    "sources",
]
