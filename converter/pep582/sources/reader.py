"""Reading what people have: a venv, a ``__pypackages__`` (either layout), an unpacked wheel.

A source is described like a scheme (site directories, scripts, include, data) plus the
facts of its interpreter, and holds an inventory of installed distributions. Nothing here
writes anything, and nothing follows a link out of the source.
"""

from __future__ import annotations

import configparser
import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pep582.errors import SourceError
from pep582.names import check_component
from pep582.scheme import InterpreterFacts, Layout, scheme_for, trees_in
from pep582.sources.records import MAX_FILE, RecordEntry, read_record, read_regular, read_text
from pep582.step.startup import DIRNAME, trusted_real_path

VERSION = re.compile(r"^(\d+)\.(\d+)")
VERSION_IN_NAME = re.compile(r"(\d+)\.(\d+)t?$")  # python3.12, pypy3.10, python3.13t
VERSION_KEYS = ("version", "version_info", "python-version")
# Files a venv tool puts in site-packages that belong to no distribution.
SCAFFOLDING = frozenset({"_virtualenv.py", "_virtualenv.pth"})
_DOTTED = re.compile(r"[^\W\d]\w*(\.[^\W\d]\w*)*")  # an importable name: it is pasted into code
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")

SourceKind = Literal["venv", "pypackages", "wheel"]


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


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
    kind: Literal["dist-info", "egg-info", "egg-link"]
    site_dir: Path  # the site directory RECORD paths are relative to
    record: list[RecordEntry] | None = None
    entry_points: list[EntryPoint] = field(default_factory=list)
    editable: bool = False
    requested: bool = False
    installer: str = ""
    requires: list[str] = field(default_factory=list)  # canonical names of Requires-Dist
    direct_url: dict[str, Any] | None = None
    link_file: Path | None = None  # the .egg-link file for legacy editables
    origin: str = ""  # where it came from (a wheel's location), for reports

    @property
    def key(self) -> str:
        return canonical(self.name)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    @functools.cached_property
    def owned_files(self) -> list[str]:
        """Absolute, normalised paths (strings) of the files RECORD lists, in RECORD order."""
        base = str(self.site_dir)
        return [os.path.normpath(os.path.join(base, e.path)) for e in self.record or []]


@dataclass
class Source:
    """A place installed distributions are read from, described like a scheme."""

    kind: SourceKind
    path: Path  # the venv, the __pypackages__ directory, or the unpacked wheel
    facts: InterpreterFacts
    site_dirs: list[Path]
    scripts: Path
    include: Path
    data: Path
    layout: Layout | None = None  # for a __pypackages__ source
    base_executable: str | None = None  # the interpreter new scripts should name
    system_site: bool = False
    created: float | None = None  # a venv's creation time (pyvenv.cfg's mtime)
    # name -> version of what ``python -m venv`` seeds (ensurepip's bundled wheels); None
    # when unknown (virtualenv made it, or the interpreter's wheels cannot be found)
    seed_versions: dict[str, str] | None = None
    notes: list[str] = field(default_factory=list)
    distributions: list[Distribution] = field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "wheel":
            return ", ".join(d.origin or d.label for d in self.distributions)
        what = "virtual environment" if self.kind == "venv" else f"{self.layout} __pypackages__"
        return f"{what} {self.path} ({self.facts.describe()})"


def read_pyvenv_cfg(path: Path) -> dict[str, str]:
    """``key = value`` lines of pyvenv.cfg (keys lower-cased, as venv and virtualenv write)."""
    config = {}
    for line in read_text(path).splitlines():
        key, sep, value = line.partition("=")
        if sep:
            config[key.strip().lower()] = value.strip()
    return config


def detect(path: Path) -> list[Source]:
    """Recognise ``path`` as a venv or a ``__pypackages__``; raise SourceError otherwise."""
    if not path.exists():
        raise SourceError(f"{path} does not exist")
    if (path / "pyvenv.cfg").is_file():
        return [read_venv(path)]
    if path.is_dir() and path.name != DIRNAME and (path / DIRNAME).is_dir():
        path = path / DIRNAME
    if path.is_dir() and path.name == DIRNAME:
        return read_pypackages(path)
    raise SourceError(
        f"{path} is not a virtual environment (no pyvenv.cfg) nor a {DIRNAME} directory; "
        "pep582-migrate reads a venv, a __pypackages__, a requirements file, a "
        "pyproject.toml or a pylock.toml"
    )


def read_venv(venv: Path) -> Source:
    """Describe a POSIX virtual environment (venv, virtualenv, uv) and inventory it.

    Everything comes from the environment's files (site directory name, platlibdir,
    pyvenv.cfg): nothing the environment names is ever run, since whoever controls its
    ``pyvenv.cfg`` chooses what its ``bin/python`` would run.
    """
    venv = Path(os.path.realpath(venv))
    config = read_pyvenv_cfg(venv / "pyvenv.cfg")
    if (venv / "Lib" / "site-packages").is_dir() and not (venv / "lib").is_dir():
        raise SourceError(f"{venv} is a Windows virtual environment; migrate it on Windows")
    trees = [t for t in trees_in_prefix(venv)]
    if len(trees) != 1:
        listed = ", ".join(str(Path(d).relative_to(venv)) for t in trees for d in t[1]) or "none"
        raise SourceError(f"{venv}: expected one lib/pythonX.Y/site-packages, found {listed}")
    facts, site_dirs = trees[0]
    site_dir = site_dirs[0]
    disagreements = []
    for key in VERSION_KEYS:  # venv, virtualenv and uv each write some of these
        match = VERSION.match(config.get(key, ""))
        if match and (int(match[1]), int(match[2])) != facts.version:
            disagreements.append(
                f"pyvenv.cfg {key} says {config[key]}, {site_dir.relative_to(venv)} says "
                f"{facts.version_tag}"
            )
    cfg_impl = config.get("implementation", "").lower()
    if cfg_impl and cfg_impl != facts.implementation:
        disagreements.append(
            f"pyvenv.cfg says {cfg_impl}, {site_dir.relative_to(venv)} says {facts.implementation}"
        )
    if disagreements:
        raise SourceError(f"{venv}: the environment's facts disagree: {'; '.join(disagreements)}")
    source = Source(
        kind="venv",
        path=venv,
        facts=facts,
        site_dirs=[site_dir],
        scripts=venv / "bin",
        include=venv / "include" / "site" / site_dir.parent.name,
        data=venv,
        system_site=config.get("include-system-site-packages", "false").lower() == "true",
        created=(venv / "pyvenv.cfg").stat().st_mtime,
    )
    source.distributions = inventory(site_dir)
    source.base_executable = base_executable(config, source.facts)
    if "virtualenv" not in config:
        source.seed_versions = ensurepip_versions(config.get("home"), source.facts)
    return source


def trees_in_prefix(prefix: Path) -> list[tuple[InterpreterFacts, list[Path]]]:
    """``(facts, [site directory])`` for each ``lib*/pythonX.Y/site-packages`` of an
    installation prefix (a venv): the layout reader's naming, a real ``lib64`` (not a link
    to ``lib``) giving the platlibdir."""
    found = []
    for tree in trees_in(prefix):
        if tree.layout == "pep582":
            found.append((tree.facts, [Path(d) for d in tree.scheme.site_dirs]))
    return found


def ensurepip_versions(home: str | None, facts: InterpreterFacts) -> dict[str, str] | None:
    """The versions ``python -m venv`` installs into a new venv: the wheels ensurepip
    bundles with the base interpreter (``home`` is its bin directory), or Debian's
    ``/usr/share/python-wheels`` where ensurepip takes them from there."""
    if not home:
        return None
    stdlib = Path(home).parent / "lib" / f"python{facts.version_tag}"
    places = [stdlib / "ensurepip" / "_bundled"]
    if os.path.realpath(home) == "/usr/bin":
        places.append(Path("/usr/share/python-wheels"))  # Debian's python3-venv
    for place in places:
        wheels = sorted(place.glob("*.whl")) if place.is_dir() else []
        if wheels:
            return {canonical(w.name.split("-")[0]): w.name.split("-")[1] for w in wheels}
    return None


def base_executable(config: dict[str, str], facts: InterpreterFacts) -> str | None:
    """The real interpreter behind a venv (pyvenv.cfg's ``home``, ``executable``,
    ``base-executable``), as its resolved path, when it exists, is for the venv's Python
    version and nobody but root or we could change it or anything on the way to it: the
    only form in which a source may name what published scripts start."""
    candidates = []
    home = config.get("home")
    if home:
        stem = facts.command.removesuffix(facts.version_tag)
        for name in (facts.command, f"{stem}{facts.version[0]}", stem):
            candidates.append(os.path.join(home, name))
    candidates += [config.get("executable", ""), config.get("base-executable", "")]
    for candidate in candidates:
        found = usable_interpreter(candidate, facts) if candidate else None
        if found:
            return found
    return None


def read_pypackages(root: Path) -> list[Source]:
    """Describe each interpreter version found in a ``__pypackages__`` (either layout)."""
    root = Path(os.path.realpath(root))
    sources = [_pypackages_source(root, tree.facts, tree.layout) for tree in trees_in(root)]
    if not sources:
        raise SourceError(
            f"{root} holds no lib/pythonX.Y/site-packages (PEP 582 layout) "
            "nor X.Y/lib (PDM draft layout)"
        )
    sources.sort(key=lambda s: (s.layout != "pep582", s.facts.version_tag))
    return sources


def _pypackages_source(root: Path, facts: InterpreterFacts, layout: Layout) -> Source:
    scheme = scheme_for(root.parent, facts, layout)
    source = Source(
        kind="pypackages",
        path=root,
        facts=facts,
        site_dirs=[Path(d) for d in scheme.site_dirs if Path(d).is_dir()],
        scripts=Path(scheme.scripts),
        include=Path(scheme.include),
        data=Path(scheme.data),
        layout=layout,
    )
    for site_dir in source.site_dirs:
        source.distributions.extend(inventory(site_dir))
    source.base_executable = _recorded_interpreter(source)
    return source


_SHEBANG = re.compile(rb"^#!(/\S+)")


def _recorded_interpreter(source: Source) -> str | None:
    """The interpreter the tree's own console scripts name, if it still exists.

    A PDM tree's scripts name the base interpreter it was built for: keep naming it.
    """
    names = {ep.name for d in source.distributions for ep in d.entry_points}
    for name in sorted(names):
        try:
            first = read_regular(source.scripts / name, limit=MAX_FILE)[:4096]
        except SourceError:
            continue
        match = _SHEBANG.match(first)
        if match:
            found = usable_interpreter(os.fsdecode(match.group(1)), source.facts)
            if found:
                return found
    return None


def usable_interpreter(executable: str, facts: InterpreterFacts | None = None) -> str | None:
    """The resolved path of ``executable`` when it is an executable file that only root or
    we could change (every directory and link on the way too) and, given ``facts``, whose
    name does not say it is another Python version; else None. A program found in a
    source (rather than named by the user with ``--python``) is run or named only so."""
    if not os.path.isabs(executable):
        return None
    real, refused = trusted_real_path(executable)
    if refused or not (os.path.isfile(real) and os.access(real, os.X_OK)):
        return None
    if facts is not None:
        named = VERSION_IN_NAME.search(os.path.basename(real))
        if named and (int(named[1]), int(named[2])) != facts.version:
            return None
    return real


def inventory(site_dir: Path) -> list[Distribution]:
    """Every distribution installed in ``site_dir``: dist-info, egg-info and egg-link."""
    found = []
    for entry in sorted(os.scandir(site_dir), key=lambda e: e.name):
        path = Path(entry.path)
        if entry.name.endswith((".dist-info", ".egg-info", ".egg-link")):
            try:
                entry.name.encode("utf-8")
            except UnicodeEncodeError:
                raise SourceError(f"{path!r}: a metadata name that is not UTF-8") from None
        if entry.name.endswith(".dist-info"):
            if entry.is_symlink():
                raise SourceError(
                    f"{path} is a symbolic link; a distribution's metadata must be a real "
                    "directory inside the environment"
                )
            if entry.is_dir():
                found.append(read_dist_info(path, site_dir))
        elif entry.name.endswith(".egg-info"):
            found.append(_read_egg_info(path, site_dir, "egg-info"))
        elif entry.name.endswith(".egg-link") and entry.is_file(follow_symlinks=False):
            linked = _read_egg_link(path, site_dir)
            if linked is not None:
                found.append(linked)
    return found


def read_headers(path: Path) -> dict[str, list[str]]:
    """The RFC 822 headers of METADATA / PKG-INFO (the body is not needed here)."""
    headers: dict[str, list[str]] = {}
    for line in read_text(path).splitlines():
        if not line.strip():
            break
        if line[0] in " \t":
            continue  # a folded continuation line
        key, sep, value = line.partition(":")
        if sep:
            headers.setdefault(key.strip().lower(), []).append(value.strip())
    return headers


def _name_version(metadata_file: Path, fallback: str) -> tuple[str, str, list[str]]:
    headers = read_headers(metadata_file) if metadata_file.is_file() else {}
    requires = [
        canonical(match.group(1))
        for value in headers.get("requires-dist", [])
        if "extra" not in value.partition(";")[2]  # only with an extra: not needed as is
        and (match := _REQUIREMENT_NAME.match(value))
    ]
    if headers.get("name"):
        return headers["name"][0], headers.get("version", [""])[0], requires
    name, _, version = fallback.partition("-")
    return name, version.split("-py")[0], requires


def _entry_points(meta_dir: Path, label: str) -> list[EntryPoint]:
    path = meta_dir / "entry_points.txt"
    if not path.is_file():
        return []
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(read_text(path), source=str(path))
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
            check_component(name, f"{path}: {kind} script of {label}")
            found.append(EntryPoint(name, module.strip(), attr, kind))
    return found


def read_dist_info(meta_dir: Path, site_dir: Path) -> Distribution:
    name, version, requires = _name_version(
        meta_dir / "METADATA", meta_dir.name[: -len(".dist-info")]
    )
    record_file = meta_dir / "RECORD"
    dist = Distribution(
        name=name,
        version=version,
        meta_dir=meta_dir,
        kind="dist-info",
        site_dir=site_dir,
        record=read_record(record_file) if record_file.is_file() else None,
        entry_points=_entry_points(meta_dir, f"{name} {version}"),
        requested=(meta_dir / "REQUESTED").exists(),
        requires=requires,
    )
    installer = meta_dir / "INSTALLER"
    if installer.is_file():
        dist.installer = read_text(installer).strip()
    direct_url = meta_dir / "direct_url.json"
    if direct_url.is_file():
        try:
            dist.direct_url = json.loads(read_text(direct_url))
        except ValueError as exc:
            raise SourceError(f"{direct_url}: not valid JSON: {exc}") from exc
        info = dist.direct_url.get("dir_info", {}) if isinstance(dist.direct_url, dict) else {}
        dist.editable = bool(info.get("editable"))
    return dist


def _read_egg_info(
    meta_dir: Path, site_dir: Path, kind: Literal["egg-info", "egg-link"]
) -> Distribution:
    pkg_info = meta_dir / "PKG-INFO" if meta_dir.is_dir() else meta_dir
    name, version, requires = _name_version(pkg_info, meta_dir.name[: -len(".egg-info")])
    dist = Distribution(
        name=name, version=version, meta_dir=meta_dir, kind=kind, site_dir=site_dir
    )
    dist.requires = requires
    if meta_dir.is_dir():
        dist.entry_points = _entry_points(meta_dir, f"{name} {version}")
        listed = meta_dir / "installed-files.txt"
        if listed.is_file():
            base = os.path.relpath(meta_dir, site_dir)
            dist.record = [
                RecordEntry(os.path.join(base, line.strip()), None, None)
                for line in read_text(listed).splitlines()
                if line.strip()
            ]
    return dist


def _read_egg_link(link: Path, site_dir: Path) -> Distribution | None:
    """A legacy ``setup.py develop`` install: metadata lives in the source tree."""
    lines = read_text(link).splitlines()
    if not lines:
        raise SourceError(f"{link}:1: empty .egg-link file")
    project = Path(lines[0].strip())
    if len(lines) > 1 and lines[1].strip() not in ("", "."):
        project = project / lines[1].strip()
    infos = sorted(project.glob("*.egg-info")) if project.is_dir() else []
    if not infos:
        raise SourceError(f"{link}:1: {project} holds no .egg-info; the editable is broken")
    dist = _read_egg_info(infos[0], site_dir, "egg-link")
    dist.record = None  # files in the source tree stay where they are
    dist.editable = True
    dist.link_file = link
    return dist
