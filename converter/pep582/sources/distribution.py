"""Installed distributions: found in a site directory, their metadata parsed by ``packaging``.

Files are read through the source's :class:`pep582.fs.Tree` (never following a link,
never blocking on a FIFO, never past a size a metadata file may have); what they say is
parsed by the library made for it: ``packaging.metadata`` for METADATA/PKG-INFO (folded
header lines included), ``packaging.requirements`` for ``Requires-Dist`` (markers
evaluated for the interpreter the distribution is installed for),
``packaging.utils.canonicalize_name`` for names. RECORD is read only when it is needed.
"""

from __future__ import annotations

import configparser
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pep582.errors import SourceError
from pep582.fs import NotPlain, Tree
from pep582.names import check_component
from pep582.parse import json_text
from pep582.scheme import InterpreterFacts
from pep582.sources.records import (
    MAX_FILE,
    RecordEntry,
    decode_text,
    parse_record,
    record_paths,
)

_DOTTED = re.compile(r"[^\W\d]\w*(\.[^\W\d]\w*)*")  # an importable name: it is pasted into code
MetaKind = Literal["dist-info", "egg-info", "egg-link"]


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name (``packaging.utils.canonicalize_name``)."""
    return str(canonicalize_name(name))


def marker_environment(facts: InterpreterFacts) -> dict[str, str]:
    """The PEP 508 marker environment of an interpreter described by ``facts`` on this
    machine, without running it: this machine's platform values, the facts' Python."""
    from packaging.markers import default_environment

    env = {key: str(value) for key, value in default_environment().items()}
    major, minor = facts.version
    if env["python_version"] != f"{major}.{minor}":
        env["python_full_version"] = f"{major}.{minor}.0"
    env["python_version"] = f"{major}.{minor}"
    env["implementation_name"] = facts.implementation
    env["platform_python_implementation"] = {"cpython": "CPython", "pypy": "PyPy"}.get(
        facts.implementation, facts.implementation
    )
    return env


@dataclass
class EntryPoint:
    """One console or GUI script a distribution declares."""

    name: str
    module: str
    attr: str
    section: str


@dataclass
class Distribution:
    """One installed distribution found in a source's site directory."""

    name: str
    version: str
    meta_dir: Path  # the .dist-info / .egg-info directory (egg-link: in the source tree)
    kind: MetaKind
    site_dir: Path  # the site directory RECORD paths are relative to
    tree: Tree | None = field(default=None, repr=False, compare=False)  # where it is read
    requires_dist: list[str] = field(default_factory=list)  # Requires-Dist, as written
    editable: bool = False
    requested: bool = False
    installer: str = ""
    direct_url: dict[str, Any] | None = None
    link_file: Path | None = None  # the .egg-link file for legacy editables
    origin: str = ""  # where it came from (a wheel's location), for reports
    _record: list[RecordEntry] | None = field(default=None, repr=False, compare=False)
    _record_read: bool = field(default=False, repr=False, compare=False)
    _entry_points: list[EntryPoint] | None = field(default=None, repr=False, compare=False)
    _record_text: str | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> str:
        return canonical(self.name)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def record(self) -> list[RecordEntry] | None:
        """The RECORD rows (``installed-files.txt`` for an egg-info), read on first use;
        None when there is none."""
        if not self._record_read:
            self._record = _read_record_of(self)
            self._record_read = True
        return self._record

    @record.setter
    def record(self, entries: list[RecordEntry] | None) -> None:
        self._record, self._record_read = entries, True

    @property
    def entry_points(self) -> list[EntryPoint]:
        """Console and GUI scripts from ``entry_points.txt``, read on first use."""
        if self._entry_points is None:
            self._entry_points = _read_entry_points(self)
        return self._entry_points

    @entry_points.setter
    def entry_points(self, points: list[EntryPoint]) -> None:
        self._entry_points = points

    def requires(self, environment: dict[str, str]) -> list[str]:
        """Canonical names of what it requires in ``environment`` (no extras asked for):
        a requirement whose marker is false there (``sys_platform == "win32"`` on Linux)
        or that only an extra brings is not required."""
        found = []
        for value in self.requires_dist:
            try:
                requirement = Requirement(" ".join(value.split()))
            except InvalidRequirement:
                continue  # metadata of an installed distribution is not ours to police
            marker = requirement.marker
            if marker is None or marker.evaluate({**environment, "extra": ""}):
                found.append(canonical(requirement.name))
        return found

    @functools.cached_property
    def owned_files(self) -> list[str]:
        """Absolute, normalised paths (strings) of the files RECORD lists, in RECORD order."""
        base = str(self.site_dir)
        return [os.path.normpath(os.path.join(base, e.path)) for e in self.record or []]

    def record_text(self) -> str:
        """RECORD as text ("" without one), read once."""
        if self._record_text is None:
            record, tree = self.meta_dir / "RECORD", self.tree
            readable = tree is not None and self.kind == "dist-info" and _exists(tree, record)
            self._record_text = read_text_file(tree, record) if tree and readable else ""
        return self._record_text

    @functools.cached_property
    def listed_files(self) -> list[str]:
        """What :attr:`owned_files` gives, from the path column alone when RECORD was not
        parsed yet (knowing who owns what needs every RECORD, but not their hashes)."""
        if self._record_read or self.kind != "dist-info" or self.tree is None:
            return self.owned_files
        text = self.record_text()
        if not text:
            return []
        base = str(self.site_dir)
        rows = record_paths(text, str(self.meta_dir / "RECORD"))
        plain = base + os.sep  # most rows need no normalising: join them as they are
        return [
            plain + row
            if os.sep == "/"
            and ".." not in row
            and "//" not in row
            and "./" not in row
            and not row.startswith("/")
            else os.path.normpath(os.path.join(base, row))
            for row in rows
        ]


def _relative(tree: Tree, path: Path | str) -> str:
    return tree.relative(os.fspath(path))


def read_file(tree: Tree, path: Path | str, limit: int = MAX_FILE) -> bytes:
    """The bytes of a regular file of ``tree`` (absolute ``path`` below its root): never
    through a link, never a FIFO or device, never more than ``limit``; errors name it."""
    try:
        return tree.read(_relative(tree, path), limit)
    except NotPlain as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from exc
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from exc


def read_text_file(tree: Tree, path: Path | str) -> str:
    return decode_text(read_file(tree, path), str(path))


def _exists(tree: Tree, path: Path | str) -> bool:
    try:
        tree.lstat(_relative(tree, path))
    except OSError:
        return False
    return True


def inventory(site_dir: str | os.PathLike[str], tree: Tree | None = None) -> list[Distribution]:
    """Every distribution installed in ``site_dir``: dist-info, egg-info and egg-link, read
    through ``tree`` (by default a tree opened at ``site_dir`` itself)."""
    if tree is None:
        tree = Tree.open(site_dir)
        site_dir = tree.path
    site = Path(site_dir)
    try:
        directory = tree.dir(_relative(tree, site))
        entries = directory.entries()
    except OSError as exc:
        raise SourceError(f"{site}: cannot list it: {exc.strerror}") from exc
    found = []
    for entry in entries:
        name = entry.name
        if not name.endswith((".dist-info", ".egg-info", ".egg-link")):
            continue
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise SourceError(f"{site / name!r}: a metadata name that is not UTF-8") from None
        path = site / name
        if name.endswith(".dist-info"):
            if entry.is_symlink():
                raise SourceError(
                    f"{path} is a symbolic link; a distribution's metadata must be a real "
                    "directory inside the environment"
                )
            if entry.is_dir(follow_symlinks=False):
                found.append(_read_dist_info(tree, path, site))
        elif name.endswith(".egg-info") and not entry.is_symlink():
            found.append(_read_egg_info(tree, path, site, entry.is_dir(follow_symlinks=False)))
        elif name.endswith(".egg-link") and entry.is_file(follow_symlinks=False):
            found.append(_read_egg_link(tree, path, site))
    return found


def _metadata(data: bytes, where: str) -> dict[str, Any]:
    raw, _ = parse_email(decode_text(data, where))
    return dict(raw)


def _read_dist_info(tree: Tree, meta_dir: Path, site_dir: Path) -> Distribution:
    fallback = meta_dir.name[: -len(".dist-info")]
    raw = (
        _metadata(read_file(tree, meta_dir / "METADATA"), str(meta_dir / "METADATA"))
        if (_exists(tree, meta_dir / "METADATA"))
        else {}
    )
    name, version = _name_version(raw, fallback)
    dist = Distribution(
        name=name,
        version=version,
        meta_dir=meta_dir,
        kind="dist-info",
        site_dir=site_dir,
        tree=tree,
        requires_dist=list(raw.get("requires_dist", [])),
        requested=_exists(tree, meta_dir / "REQUESTED"),
    )
    if _exists(tree, meta_dir / "INSTALLER"):
        dist.installer = read_text_file(tree, meta_dir / "INSTALLER").strip()
    direct_url = meta_dir / "direct_url.json"
    if _exists(tree, direct_url):
        dist.direct_url = json_text(read_text_file(tree, direct_url), str(direct_url))
        info = dist.direct_url.get("dir_info", {}) if isinstance(dist.direct_url, dict) else {}
        dist.editable = bool(isinstance(info, dict) and info.get("editable"))
    return dist


def _name_version(raw: dict[str, Any], fallback: str) -> tuple[str, str]:
    if raw.get("name"):
        return str(raw["name"]), str(raw.get("version", ""))
    name, _, version = fallback.partition("-")
    return name, version.split("-py")[0]


def _read_egg_info(tree: Tree, meta_dir: Path, site_dir: Path, is_dir: bool) -> Distribution:
    pkg_info = meta_dir / "PKG-INFO" if is_dir else meta_dir
    raw = _metadata(read_file(tree, pkg_info), str(pkg_info)) if _exists(tree, pkg_info) else {}
    name, version = _name_version(raw, meta_dir.name[: -len(".egg-info")])
    return Distribution(
        name=name,
        version=version,
        meta_dir=meta_dir,
        kind="egg-info",
        site_dir=site_dir,
        tree=tree,
        requires_dist=list(raw.get("requires_dist", [])),
    )


def _read_egg_link(tree: Tree, link: Path, site_dir: Path) -> Distribution:
    """A legacy ``setup.py develop`` install: metadata lives in the source tree the link
    names (read by path: it is the user's checkout, outside every tree we open)."""
    lines = read_text_file(tree, link).splitlines()
    if not lines:
        raise SourceError(f"{link}:1: empty .egg-link file")
    project = Path(lines[0].strip())
    if len(lines) > 1 and lines[1].strip() not in ("", "."):
        project = project / lines[1].strip()
    infos = sorted(project.glob("*.egg-info")) if project.is_dir() else []
    if not infos:
        raise SourceError(f"{link}:1: {project} holds no .egg-info; the editable is broken")
    with Tree.open(infos[0].parent) as checkout:
        dist = _read_egg_info(checkout, Path(checkout.path) / infos[0].name, site_dir, True)
        dist.entry_points = _read_entry_points(dist)
    dist.tree = tree
    dist.kind = "egg-link"
    dist.record = None  # files in the source tree stay where they are
    dist.editable = True
    dist.link_file = link
    return dist


def _read_record_of(dist: Distribution) -> list[RecordEntry] | None:
    tree = dist.tree
    if tree is None or dist.kind == "egg-link":
        return None
    if dist.kind == "dist-info":
        text = dist.record_text()
        return parse_record(text, str(dist.meta_dir / "RECORD")) if text else None
    listed = dist.meta_dir / "installed-files.txt"
    if not _exists(tree, dist.meta_dir) or not _exists(tree, listed):
        return None
    base = os.path.relpath(dist.meta_dir, dist.site_dir)
    return [
        RecordEntry(os.path.join(base, line.strip()), None, None)
        for line in read_text_file(tree, listed).splitlines()
        if line.strip()
    ]


def _read_entry_points(dist: Distribution) -> list[EntryPoint]:
    tree = dist.tree
    path = dist.meta_dir / "entry_points.txt"
    if tree is None or dist.kind == "egg-link" or not _exists(tree, path):
        return []
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(read_text_file(tree, path), source=str(path))
    except configparser.Error as exc:
        raise SourceError(f"{path}: not an entry points file: {exc}") from exc
    found = []
    for section, kind in (("console_scripts", "console"), ("gui_scripts", "gui")):
        if not parser.has_section(section):
            continue
        for name, value in parser.items(section):
            module, colon, attr = value.partition(":")
            attr = attr.split("[")[0].strip()  # extras in brackets are not part of the target
            if not colon or not _DOTTED.fullmatch(module.strip()) or not _DOTTED.fullmatch(attr):
                raise SourceError(f"{path}: [{section}] {name} = {value!r} is not module:attr")
            check_component(name, f"{path}: {kind} script of {dist.label}")
            found.append(EntryPoint(name, module.strip(), attr, kind))
    return found
