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
files (``-f``, ``-i``, ``--extra-index-url``), pip's and uv's variables, pip's
configuration files and the ``uv.toml``/``[tool.uv]`` files uv could read (all of them,
not only the one it would use). Remote places are the user's choice of index, not
judged here.
"""

from __future__ import annotations

import configparser
import os
import stat
import sys
from collections.abc import Iterator
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
}
_CONFIG_KEYS = {"find-links": FIND_LINKS, "index-url": INDEX, "extra-index-url": INDEX}


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


def configured(cwd: Path, uv_config: bool) -> Iterator[tuple[str, str, Path, str]]:
    """``(location, kind, base, where)`` for each place pip's and uv's variables and
    configuration files name (``uv_config``: whether uv may read its files, i.e. it runs
    without ``--no-config``)."""
    for variable, kind in VARIABLES.items():
        for value in os.environ.get(variable, "").split():
            yield _strip_name(value), kind, cwd, f"{variable} {value}"
    for path in pip_config_files():
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in parser.sections():
            for key in parser.options(section):
                named = _CONFIG_KEYS.get(key.replace("_", "-"))
                if named is None:
                    continue
                for value in (parser.get(section, key) or "").split():
                    yield value, named, cwd, f"{key} in {path}"
    if uv_config:
        for path, table in _uv_tables(cwd):
            for value, named in _uv_places(table):
                yield value, named, Path(path).parent, path


def _strip_name(value: str) -> str:
    """uv's ``UV_INDEX`` entries may be ``name=URL``."""
    name, sep, rest = value.partition("=")
    return rest if sep and "/" not in name and ":" not in name else value


def pip_config_files() -> list[str]:
    """The configuration files pip reads, in pip's order (pip's documented locations)."""
    configured = os.environ.get("PIP_CONFIG_FILE")
    if configured == os.devnull:
        return []
    home = Path.home()
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [os.path.join(d, "pip", "pip.conf") for d in xdg_dirs.split(os.pathsep) if d]
    files += ["/etc/pip.conf", str(home / ".pip" / "pip.conf")]
    xdg_home = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    files += [os.path.join(xdg_home, "pip", "pip.conf"), os.path.join(sys.prefix, "pip.conf")]
    if configured:
        files.append(configured)
    return [f for f in files if os.path.isfile(f)]


def _uv_tables(cwd: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The settings table of every configuration file uv could read from ``cwd``."""
    from pep582.install.uv import candidate_files
    from pep582.parse import load_toml

    for path in candidate_files(cwd):
        if not os.path.isfile(path):
            continue
        try:
            data = load_toml(Path(path))
        except SourceError:
            continue  # uv skips (or refuses) a file it cannot parse
        if os.path.basename(path) == "pyproject.toml":
            data = data.get("tool", {}).get("uv", {}) if isinstance(data.get("tool"), dict) else {}
        if isinstance(data, dict):
            yield path, data


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


__all__ = ["FIND_LINKS", "INDEX", "check", "configured", "local_path", "pip_config_files"]
