"""PEP 751 lock files (``pylock.toml``): select for the target, verify, never resolve.

Selection is ``packaging.pylock``'s: the lock's environments, requires-python and
markers are evaluated for the *target* interpreter's marker environment and wheel tags
(computed here from facts the target reports with its standard library only), so a
lock that does not cover it is an error. Every artifact must carry a hash this toolkit
can check; remote files are fetched through pip, so pip's configuration applies.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

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
from pep582.install.requirements import Artifact, pin
from pep582.install.tomlfiles import load_toml
from pep582.interpreter import Interpreter, target_environment


def read_lock(path: Path) -> Pylock:
    """Parse and validate ``path``; errors name the file and what is wrong."""
    try:
        return Pylock.from_dict(load_toml(path))
    except (PylockValidationError, PylockUnsupportedVersionError) as exc:
        raise SourceError(f"{path}: not a valid PEP 751 lock file: {exc}") from exc


def select(path: Path, interpreter: Interpreter) -> list[Artifact]:
    """The locked artifacts for ``interpreter``, each with its hashes and a pin."""
    lock = read_lock(path)
    environment, tags = target_environment(interpreter)
    try:
        chosen = list(lock.select(environment=environment, tags=tags))  # type: ignore[arg-type]
    except PylockSelectError as exc:
        raise SourceError(f"{path} does not cover {interpreter.facts.describe()}: {exc}") from exc
    artifacts = []
    for package, artifact in chosen:
        name, version = str(package.name), str(package.version or "")
        entry = f"{path.name}: {name} {version}".rstrip()
        hashes = dict(getattr(artifact, "hashes", None) or {})
        if isinstance(artifact, (PackageWheel, PackageSdist, PackageArchive)):
            usable = [a for a in hashes if a in hashlib.algorithms_guaranteed]
            if not usable:
                listed = ", ".join(sorted(hashes)) or "none"
                raise SourceError(
                    f"{entry} has no hash this toolkit can check (given: {listed}); "
                    "a lock entry needs sha256 or another hashlib algorithm"
                )
        info = _direct_url(path.parent, artifact, entry)
        found = Artifact(name, version, url=info["url"], hashes=hashes, pin=pin(name, info))
        if isinstance(artifact, (PackageVcs, PackageDirectory, PackageArchive)):
            found.direct_url = info  # not from an index: recorded as PEP 610 says
        if isinstance(artifact, PackageWheel):
            parts = urlsplit(found.url)
            if parts.scheme == "file":
                found.wheel = Path(unquote(parts.path))
        artifacts.append(found)
    return artifacts


def _direct_url(base: Path, artifact: Any, entry: str) -> dict[str, Any]:
    """The artifact described in PEP 610's shape (``pin`` and ``direct_url.json``)."""
    where = getattr(artifact, "url", None)
    relative = getattr(artifact, "path", None)
    url = where or ((base / str(relative)).resolve().as_uri() if relative else None)
    if url is None:
        raise SourceError(f"{entry}: the locked artifact has neither a path nor a url")
    if isinstance(artifact, PackageVcs):
        info: dict[str, Any] = {
            "url": url,
            "vcs_info": {"vcs": artifact.type, "commit_id": artifact.commit_id},
        }
        if artifact.subdirectory:
            info["subdirectory"] = artifact.subdirectory
        return info
    if isinstance(artifact, PackageDirectory):
        if artifact.editable:
            raise SourceError(
                f"{entry} is locked as an editable directory; pep582 installs wheels only: "
                f"install it with `python -m pip install --prefix __pypackages__ -e "
                f"{artifact.path}`"
            )
        info = {"url": url, "dir_info": {}}
        if artifact.subdirectory:
            info["subdirectory"] = artifact.subdirectory
        return info
    hashes = {a: v for a, v in (getattr(artifact, "hashes", None) or {}).items()}
    info = {"url": url, "archive_info": {"hashes": hashes}}
    subdirectory = getattr(artifact, "subdirectory", None)
    if subdirectory:
        info["subdirectory"] = subdirectory
    return info
