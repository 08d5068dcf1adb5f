"""PEP 751 lock files (``pylock.toml``): select for the target, verify, never resolve.

Selection is ``packaging.pylock``'s: the lock's environments, requires-python and
markers are evaluated for the *target* interpreter's marker environment and wheel tags
(computed here from facts the target reports with its standard library only), so a
lock that does not cover it is an error. What each kind of entry must be:

- ``wheels``, ``sdist``, ``archive``: a hash this toolkit can check (sha256 or another
  ``hashlib`` algorithm); a local one (``path``, ``file:`` URL) must pass
  :mod:`pep582.install.localfiles` (a regular file of at most ``MAX_ARTIFACT_BYTES`` that
  passes the trust rule) before a byte of it is read; remote ones are fetched through
  pip, so pip's configuration applies.
- ``directory`` (editable or not) and ``vcs`` with a ``path``: no hash exists, so the
  directory must pass the trust rule (building it runs its code as you); an editable
  directory is installed editable. ``vcs`` with a ``url`` is fetched at its locked
  ``commit-id`` by pip.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from packaging.pylock import (
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
    Pylock,
    PylockSelectError,
    PylockUnsupportedVersionError,
    PylockValidationError,
)

from pep582.errors import SourceError
from pep582.install.artifacts import Artifact, pin
from pep582.install.localfiles import check_directory, check_file, path_of_url
from pep582.interpreter import Interpreter, target_environment
from pep582.parse import load_toml


@functools.lru_cache(maxsize=8)
def environment_of(interpreter: Interpreter) -> tuple[dict[str, str], list[Any]]:
    """``interpreter``'s marker environment and tags, asked once per run (a probe)."""
    return target_environment(interpreter)


def read_lock(path: Path) -> Pylock:
    """Parse and validate ``path``; errors name the file and what is wrong."""
    return parse_lock(load_toml(path), str(path))


def parse_lock(data: dict[str, Any], name: str) -> Pylock:
    try:
        return Pylock.from_dict(data)
    except (PylockValidationError, PylockUnsupportedVersionError) as exc:
        raise SourceError(f"{name}: not a valid PEP 751 lock file: {exc}") from exc


def select(
    path: Path,
    interpreter: Interpreter,
    *,
    extras: Collection[str] = (),
    groups: Collection[str] = (),
) -> list[Artifact]:
    """The locked artifacts of the lock file ``path`` for ``interpreter``."""
    return select_lock(read_lock(path), path.parent, str(path), interpreter, extras, groups)


def select_lock(
    lock: Pylock,
    base: Path,
    name: str,
    interpreter: Interpreter,
    extras: Collection[str] = (),
    groups: Collection[str] = (),
) -> list[Artifact]:
    """The locked artifacts for ``interpreter``, each with its hashes and a pin; relative
    paths in the lock are relative to ``base``; errors start with ``name``."""
    environment, tags = environment_of(interpreter)
    try:
        chosen = list(
            lock.select(
                environment=environment,  # type: ignore[arg-type]
                tags=tags,
                extras=extras,
                dependency_groups=groups,
            )
        )
    except PylockSelectError as exc:
        raise SourceError(f"{name} does not cover {interpreter.facts.describe()}: {exc}") from exc
    return [
        _artifact(package.name, package.version, entry, base, name) for package, entry in chosen
    ]


def _artifact(name_: Any, version_: Any, entry: Any, base: Path, lock_name: str) -> Artifact:
    name, version = str(name_), str(version_ or "")
    what = f"{lock_name}: [[packages]] {name} {version}".rstrip()
    hashes = dict(getattr(entry, "hashes", None) or {})
    if isinstance(entry, (PackageWheel, PackageSdist, PackageArchive)):
        usable = [a for a in hashes if a in hashlib.algorithms_guaranteed]
        if not usable:
            listed = ", ".join(sorted(hashes)) or "none"
            raise SourceError(
                f"{what} has no hash this toolkit can check (given: {listed}); "
                "a lock entry needs sha256 or another hashlib algorithm"
            )
    local = _local_path(base, entry)
    if isinstance(entry, (PackageDirectory, PackageVcs)) and local is not None:
        local = check_directory(local, what)
    elif local is not None:
        info = check_file(local, what)  # before any byte is read
        size = getattr(entry, "size", None)
        if size is not None and size != info.st_size:
            raise SourceError(f"{what}: {local} is {info.st_size} bytes; the lock says {size}")
    if not version and isinstance(entry, PackageDirectory) and local is not None:
        version = _static_version(local)  # for the plan; the build says the rest
    info_610 = _direct_url(entry, local, what)
    found = Artifact(name, version, url=info_610["url"], hashes=hashes, pin=pin(name, info_610))
    if isinstance(entry, (PackageVcs, PackageDirectory, PackageArchive)):
        found.direct_url = info_610  # not from an index: recorded as PEP 610 says
    if isinstance(entry, PackageDirectory) and entry.editable:
        assert local is not None
        found.editable = local
        found.direct_url = None  # written for where the editable really points
    elif (
        local is not None
        and local.name.endswith(".whl")
        and not isinstance(entry, (PackageVcs, PackageDirectory))
    ):
        found.wheel = local
    return found


def _static_version(project: Path) -> str:
    """``[project].version`` of a project directory when it is written there (not
    dynamic), else empty."""
    try:
        table = load_toml(project / "pyproject.toml").get("project")
    except (OSError, SourceError):
        return ""
    version = table.get("version") if isinstance(table, dict) else None
    return version if isinstance(version, str) else ""


def _local_path(base: Path, entry: Any) -> Path | None:
    """The local file or directory an entry names (``path``, or a ``file:`` URL)."""
    relative = getattr(entry, "path", None)
    if relative:
        return base / str(relative)
    url = getattr(entry, "url", None)
    if url and not isinstance(entry, PackageVcs):
        return path_of_url(str(url))
    return None


def _direct_url(entry: Any, local: Path | None, what: str) -> dict[str, Any]:
    """The artifact described in PEP 610's shape (``pin`` and ``direct_url.json``)."""
    where = getattr(entry, "url", None)
    url = str(where) if where else (local.absolute().as_uri() if local is not None else None)
    if url is None:
        raise SourceError(f"{what}: the locked artifact has neither a path nor a url")
    subdirectory = getattr(entry, "subdirectory", None)
    info: dict[str, Any]
    if isinstance(entry, PackageVcs):
        if local is not None:
            url = local.as_uri()
        info = {"url": url, "vcs_info": {"vcs": entry.type, "commit_id": entry.commit_id}}
        if entry.requested_revision:
            info["vcs_info"]["requested_revision"] = entry.requested_revision
    elif isinstance(entry, PackageDirectory):
        assert local is not None
        info = {"url": local.as_uri(), "dir_info": {}}
    else:
        hashes = dict(getattr(entry, "hashes", None) or {})
        info = {"url": url, "archive_info": {"hashes": hashes}}
    if subdirectory:
        info["subdirectory"] = subdirectory
    return info
