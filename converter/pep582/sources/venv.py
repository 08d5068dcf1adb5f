"""A virtual environment as a source: its facts from its files, its seeds, its scaffolding.

Nothing a venv names is run: whoever controls its ``pyvenv.cfg`` chooses the standard
library its ``bin/python`` would start (``home``), so the facts come from the directory
names and ``pyvenv.cfg`` alone, and the interpreter new scripts name is the one behind
the venv, resolved and judged by the trust rule (:func:`usable_interpreter`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pep582.errors import SourceError
from pep582.fs import Tree
from pep582.scheme import InterpreterFacts, trees_in
from pep582.sources import Source
from pep582.sources.distribution import Distribution, canonical, inventory, read_text_file
from pep582.step.startup import trusted_real_path

VERSION = re.compile(r"^(\d+)\.(\d+)")
VERSION_IN_NAME = re.compile(r"(\d+)\.(\d+)t?$")  # python3.12, pypy3.10, python3.13t
VERSION_KEYS = ("version", "version_info", "python-version")
# Files a venv tool puts in site-packages that belong to no distribution.
SCAFFOLDING = frozenset({"_virtualenv.py", "_virtualenv.pth"})
# What venv tools put at the top of an environment that belongs to no distribution.
VENV_SCAFFOLDING = frozenset(
    {"pyvenv.cfg", ".gitignore", "CACHEDIR.TAG", ".lock", "lib", "lib64", "include", "bin"}
)
BIN_SCAFFOLDING_PREFIXES = ("activate", "python", "pypy", "Activate", "deactivate")
SEED_WINDOW = 600  # seconds between creating a venv and its seed packages being installed
# What venv (pip; setuptools up to Python 3.11) and virtualenv (pip, setuptools, wheel) put
# into every new environment: build tools of the venv, not dependencies of the project.
SEED_NAMES = frozenset({"pip", "setuptools", "wheel"})


def read_pyvenv_cfg(tree: Tree) -> dict[str, str]:
    """``key = value`` lines of pyvenv.cfg (keys lower-cased, as venv and virtualenv write)."""
    config = {}
    for line in read_text_file(tree, os.path.join(tree.path, "pyvenv.cfg")).splitlines():
        key, sep, value = line.partition("=")
        if sep:
            config[key.strip().lower()] = value.strip()
    return config


def read_venv(venv: Path) -> Source:
    """Describe a POSIX virtual environment (venv, virtualenv, uv) and inventory it, from
    its files alone."""
    tree = Tree.open(venv)
    venv = Path(tree.path)
    config = read_pyvenv_cfg(tree)
    if (venv / "Lib" / "site-packages").is_dir() and not (venv / "lib").is_dir():
        raise SourceError(f"{venv} is a Windows virtual environment; migrate it on Windows")
    found = [t for t in trees_in(venv) if t.layout == "pep582"]
    if len(found) != 1:
        listed = (
            ", ".join(os.path.relpath(d, venv) for t in found for d in t.scheme.site_dirs)
            or "none"
        )
        raise SourceError(f"{venv}: expected one lib/pythonX.Y/site-packages, found {listed}")
    facts = found[0].facts
    site_dir = Path(found[0].scheme.purelib)
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
        tree=tree,
        system_site=config.get("include-system-site-packages", "false").lower() == "true",
        created=tree.lstat("pyvenv.cfg").st_mtime,
    )
    source.distributions = inventory(site_dir, tree)
    source.base_executable = base_executable(config, source.facts)
    if "virtualenv" not in config:
        source.seed_versions = ensurepip_versions(config.get("home"), source.facts)
    return source


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


def is_seed(source: Source, dist: Distribution, needed: set[str], include_pip: bool) -> bool:
    """pip, setuptools or wheel as the venv's creator put them there: installed when the
    venv was made (ensurepip marks them REQUESTED, so that alone says nothing), and nothing
    in the venv requires them (``needed``). setuptools and wheel count only at the very
    version ``python -m venv`` seeds (ensurepip's bundled wheel): an upgraded one, or one
    in a venv whose seeds are unknown (virtualenv), is carried."""
    if source.kind != "venv" or dist.key not in SEED_NAMES or include_pip:
        return False
    if dist.key in needed or source.created is None:
        return False
    if dist.key != "pip":  # a build tool some code imports at run time: be sure
        seeded = (source.seed_versions or {}).get(dist.key)
        if seeded != dist.version:  # upgraded, or a venv whose seeds we cannot know
            return False
    try:
        installed = source.tree.lstat(source.tree.relative(str(dist.meta_dir))).st_mtime
    except OSError:
        return False
    return abs(installed - source.created) < SEED_WINDOW
