"""Reading what people have: a virtual environment or a ``__pypackages__`` (either layout).

A source is described like a scheme (site directories, scripts, include, data) plus the
facts of its interpreter, and holds an inventory of installed distributions. Nothing here
writes anything.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from installer.records import RecordEntry
from installer.utils import parse_entrypoints, parse_metadata_file

from pep582.errors import InterpreterError, SourceError
from pep582.interpreter import probe_facts
from pep582.records import read_record
from pep582.scheme import InterpreterFacts, Layout, scheme_for
from pep582.startup import DIRNAME

SITE_NAME = re.compile(r"^(?P<impl>[a-z]+?)(?P<major>\d+)\.(?P<minor>\d+)(?P<t>t?)$")
PDM_NAME = re.compile(r"^(?P<major>\d+)\.(?P<minor>\d+)(?P<t>t?)(?P<suffix>-32|-arm64)?$")
VERSION = re.compile(r"^(\d+)\.(\d+)")
VERSION_KEYS = ("version", "version_info", "python-version")
# Files a venv tool puts in site-packages that belong to no distribution.
SCAFFOLDING = frozenset({"_virtualenv.py", "_virtualenv.pth"})

SourceKind = Literal["venv", "pypackages"]


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
    link_file: Path | None = None  # the .egg-link file for legacy editables

    @functools.cached_property
    def owned_files(self) -> list[str]:
        """Absolute, normalised paths (strings) of the files RECORD lists, in RECORD order."""
        base = str(self.site_dir)
        return [os.path.normpath(os.path.join(base, e.path)) for e in self.record or []]


@dataclass
class Source:
    """A place installed distributions are read from, described like a scheme."""

    kind: SourceKind
    path: Path  # the venv, or the __pypackages__ directory
    facts: InterpreterFacts
    site_dirs: list[Path]
    scripts: Path
    include: Path
    data: Path
    layout: Layout | None = None  # for a __pypackages__ source
    base_executable: str | None = None  # the interpreter new scripts should name
    system_site: bool = False
    notes: list[str] = field(default_factory=list)
    distributions: list[Distribution] = field(default_factory=list)

    def describe(self) -> str:
        what = "virtual environment" if self.kind == "venv" else f"{self.layout} __pypackages__"
        return f"{what} {self.path} ({self.facts.describe()})"


def read_pyvenv_cfg(path: Path) -> dict[str, str]:
    """``key = value`` lines of pyvenv.cfg (keys lower-cased, as venv and virtualenv write)."""
    config = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            config[key.strip().lower()] = value.strip()
    return config


def detect(path: Path, python: str | None = None) -> list[Source]:
    """Recognise ``path`` as a venv or a ``__pypackages__``; raise SourceError otherwise."""
    if not path.exists():
        raise SourceError(f"{path} does not exist")
    if (path / "pyvenv.cfg").is_file():
        return [read_venv(path)]
    if path.is_dir() and path.name != DIRNAME and (path / DIRNAME).is_dir():
        path = path / DIRNAME
    if path.is_dir() and path.name == DIRNAME:
        return read_pypackages(path, python)
    raise SourceError(
        f"{path} is not a virtual environment (no pyvenv.cfg) nor a {DIRNAME} directory; "
        "pep582-migrate reads a venv, a __pypackages__, a requirements file or a pylock.toml"
    )


def _facts_from_site_name(name: str) -> InterpreterFacts | None:
    match = SITE_NAME.match(name)
    if not match:
        return None
    return InterpreterFacts(
        implementation="cpython" if match["impl"] == "python" else match["impl"],
        version=(int(match["major"]), int(match["minor"])),
        freethreaded=bool(match["t"]),
    )


def read_venv(venv: Path) -> Source:
    """Describe a POSIX virtual environment (venv, virtualenv, uv) and inventory it."""
    venv = venv.absolute()
    config = read_pyvenv_cfg(venv / "pyvenv.cfg")
    if (venv / "Lib" / "site-packages").is_dir() and not (venv / "lib").is_dir():
        raise SourceError(f"{venv} is a Windows virtual environment; migrate it on Windows")
    sites = sorted(
        {p.resolve(): p for p in venv.glob("lib*/*/site-packages") if p.is_dir()}.values()
    )
    named = [(p, _facts_from_site_name(p.parent.name)) for p in sites]
    named = [(p, f) for p, f in named if f is not None]
    if len(named) != 1:
        found = ", ".join(str(p.relative_to(venv)) for p in sites) or "none"
        raise SourceError(f"{venv}: expected one lib/pythonX.Y/site-packages, found {found}")
    site_dir, site_facts = named[0]
    assert site_facts is not None
    disagreements = []
    for key in VERSION_KEYS:  # venv, virtualenv and uv each write some of these
        match = VERSION.match(config.get(key, ""))
        if match and (int(match[1]), int(match[2])) != site_facts.version:
            disagreements.append(
                f"pyvenv.cfg {key} says {config[key]}, {site_dir.relative_to(venv)} says "
                f"{site_facts.version_tag}"
            )
    cfg_impl = config.get("implementation", "").lower()
    if cfg_impl and cfg_impl != site_facts.implementation:
        disagreements.append(
            f"pyvenv.cfg says {cfg_impl}, {site_dir.relative_to(venv)} says "
            f"{site_facts.implementation}"
        )
    notes = []
    facts = site_facts
    try:
        running = probe_facts(venv / "bin" / "python")
    except InterpreterError as exc:
        notes.append(f"the venv's interpreter does not run ({exc}); platlibdir taken as 'lib'")
    else:
        if running.version_tag != site_facts.version_tag:
            disagreements.append(
                f"bin/python is {running.version_tag}, {site_dir.relative_to(venv)} says "
                f"{site_facts.version_tag}"
            )
        if running.implementation != site_facts.implementation:
            disagreements.append(
                f"bin/python is {running.implementation}, site-packages says "
                f"{site_facts.implementation}"
            )
        facts = running
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
        base_executable=_base_executable(config, facts),
        system_site=config.get("include-system-site-packages", "false").lower() == "true",
        notes=notes,
    )
    source.distributions = inventory(site_dir)
    return source


def _base_executable(config: dict[str, str], facts: InterpreterFacts) -> str | None:
    """The real interpreter behind a venv, from pyvenv.cfg, if it still exists."""
    candidates = [config.get("executable"), config.get("base-executable")]
    home = config.get("home")
    if home:
        short = f"{facts.version[0]}.{facts.version[1]}{'t' if facts.freethreaded else ''}"
        stem = "pypy" if facts.implementation == "pypy" else "python"
        for name in (f"{stem}{short}", f"{stem}{facts.version[0]}", stem):
            candidates.append(os.path.join(home, name))
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def read_pypackages(root: Path, python: str | None = None) -> list[Source]:
    """Describe each interpreter version found in a ``__pypackages__`` (either layout)."""
    root = root.absolute()
    sources = []
    for lib_dir in sorted(root.glob("lib/*/site-packages")):
        facts = _facts_from_site_name(lib_dir.parent.name)
        if facts is None:
            continue
        platlib = [
            d
            for d in sorted(root.glob(f"*/{lib_dir.parent.name}/site-packages"))
            if d.parent.parent.name != "lib"
        ]
        if platlib:
            facts = InterpreterFacts(
                facts.implementation,
                facts.version,
                facts.freethreaded,
                platlib[0].parent.parent.name,
            )
        sources.append(_pypackages_source(root, facts, "pep582", python))
    for version_dir in sorted(root.iterdir()):
        match = PDM_NAME.match(version_dir.name)
        if match and (version_dir / "lib").is_dir():
            facts = InterpreterFacts(
                version=(int(match["major"]), int(match["minor"])),
                freethreaded=bool(match["t"]),
                platform_suffix=match["suffix"] or "",
            )
            sources.append(_pypackages_source(root, facts, "pdm", python))
    if not sources:
        raise SourceError(
            f"{root} holds no lib/pythonX.Y/site-packages (PEP 582 layout) "
            "nor X.Y/lib (PDM draft layout)"
        )
    return sources


def _pypackages_source(
    root: Path, facts: InterpreterFacts, layout: Layout, python: str | None
) -> Source:
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
        base_executable=python or _python_on_machine(facts),
    )
    for site_dir in source.site_dirs:
        source.distributions.extend(inventory(site_dir))
    return source


def _python_on_machine(facts: InterpreterFacts) -> str | None:
    stem = "pypy" if facts.implementation == "pypy" else "python"
    return shutil.which(f"{stem}{facts.version_tag}")


def inventory(site_dir: Path) -> list[Distribution]:
    """Every distribution installed in ``site_dir``: dist-info, egg-info and egg-link."""
    found = []
    for entry in sorted(os.scandir(site_dir), key=lambda e: e.name):
        path = Path(entry.path)
        if entry.name.endswith(".dist-info") and entry.is_dir():
            found.append(_read_dist_info(path, site_dir))
        elif entry.name.endswith(".egg-info"):
            found.append(_read_egg_info(path, site_dir, "egg-info"))
        elif entry.name.endswith(".egg-link") and entry.is_file():
            linked = _read_egg_link(path, site_dir)
            if linked is not None:
                found.append(linked)
    return found


def _name_version(metadata_file: Path, fallback: str) -> tuple[str, str]:
    try:
        metadata = parse_metadata_file(metadata_file.read_text(encoding="utf-8"))
    except OSError:
        metadata = None
    if metadata is not None and metadata.get("Name"):
        return str(metadata["Name"]), str(metadata.get("Version", ""))
    name, _, version = fallback.partition("-")
    return name, version.split("-py")[0]


def _entry_points(meta_dir: Path) -> list[EntryPoint]:
    path = meta_dir / "entry_points.txt"
    if not path.is_file():
        return []
    try:
        return [
            EntryPoint(name, module, attr, section)
            for name, module, attr, section in parse_entrypoints(path.read_text("utf-8"))
        ]
    except Exception as exc:
        raise SourceError(f"{path}: cannot parse entry points: {exc}") from exc


def _read_dist_info(meta_dir: Path, site_dir: Path) -> Distribution:
    name, version = _name_version(meta_dir / "METADATA", meta_dir.name[: -len(".dist-info")])
    record_file = meta_dir / "RECORD"
    dist = Distribution(
        name=name,
        version=version,
        meta_dir=meta_dir,
        kind="dist-info",
        site_dir=site_dir,
        record=read_record(record_file) if record_file.is_file() else None,
        entry_points=_entry_points(meta_dir),
        requested=(meta_dir / "REQUESTED").exists(),
    )
    direct_url = meta_dir / "direct_url.json"
    if direct_url.is_file():
        try:
            info = json.loads(direct_url.read_text(encoding="utf-8"))
            dist.editable = bool(info.get("dir_info", {}).get("editable"))
        except ValueError as exc:
            raise SourceError(f"{direct_url}: not valid JSON: {exc}") from exc
    return dist


def _read_egg_info(
    meta_dir: Path, site_dir: Path, kind: Literal["egg-info", "egg-link"]
) -> Distribution:
    pkg_info = meta_dir / "PKG-INFO" if meta_dir.is_dir() else meta_dir
    name, version = _name_version(pkg_info, meta_dir.name[: -len(".egg-info")])
    dist = Distribution(
        name=name, version=version, meta_dir=meta_dir, kind=kind, site_dir=site_dir
    )
    if meta_dir.is_dir():
        dist.entry_points = _entry_points(meta_dir)
        listed = meta_dir / "installed-files.txt"
        if listed.is_file():
            base = os.path.relpath(meta_dir, site_dir)
            dist.record = [
                RecordEntry(os.path.join(base, line.strip()), None, None)
                for line in listed.read_text(encoding="utf-8").splitlines()
                if line.strip()
            ]
    return dist


def _read_egg_link(link: Path, site_dir: Path) -> Distribution | None:
    """A legacy ``setup.py develop`` install: metadata lives in the source tree."""
    lines = link.read_text(encoding="utf-8").splitlines()
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
