"""PEP 751 lock files (``pylock.toml``): select for the target, fetch, verify, no resolving.

Selection is ``packaging.pylock``'s: the lock's environments, requires-python and
markers are evaluated for the *target* interpreter's marker environment and wheel tags
(asked of that interpreter), so a lock that does not cover it is an error. Every
artifact's hash is checked before anything is installed.
"""

from __future__ import annotations

import shutil
import sys
import urllib.request
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
from packaging.tags import Tag, parse_tag

from pep582.errors import ResolutionError, SourceError
from pep582.install import Artifact
from pep582.interpreter import Interpreter, target_environment
from pep582.requirements import build_wheels, check_hashes, pip_command

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib


def read_lock(path: Path) -> Pylock:
    """Parse and validate ``path``; errors name the file and what is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return Pylock.from_dict(data)
    except (PylockValidationError, PylockUnsupportedVersionError) as exc:
        raise SourceError(f"{path}: not a valid PEP 751 lock file: {exc}") from exc


def select(
    path: Path, interpreter: Interpreter, workdir: Path, options: list[str]
) -> list[Artifact]:
    """The locked wheels for ``interpreter``, fetched into ``workdir`` and verified."""
    lock = read_lock(path)
    environment, tag_strings = target_environment(interpreter)
    tags: list[Tag] = [tag for text in tag_strings for tag in parse_tag(text)]
    try:
        chosen = list(lock.select(environment=environment, tags=tags))  # type: ignore[arg-type]
    except PylockSelectError as exc:
        raise SourceError(f"{path} does not cover {interpreter.facts.describe()}: {exc}") from exc
    artifacts, pins, to_build = [], [], []
    for package, artifact in chosen:
        name, version = str(package.name), str(package.version or "")
        if isinstance(artifact, PackageWheel):
            wheel = _fetch(path.parent, artifact.path, artifact.url, workdir, artifact.name)
            check_hashes(wheel, dict(artifact.hashes), f"the hash locked in {path.name}")
            artifacts.append(
                Artifact(name, version, wheel, origin=artifact.url or str(artifact.path))
            )
            continue
        pins.append(_pin(path.parent, name, artifact))
        to_build.append(Artifact(name, version, Path(), origin=pins[-1]))
    if to_build:
        pip = pip_command(interpreter)
        artifacts.extend(
            build_wheels(
                to_build,
                pins,
                pip,
                options,
                workdir,
                f"build the locked source artifacts of {path}",
            )
        )
    return artifacts


def _fetch(
    base: Path, relative: str | None, url: str | None, workdir: Path, filename: str | None
) -> Path:
    """A local path for an artifact named by ``path`` (relative to the lock) or ``url``."""
    if relative:
        return (base / relative).resolve()
    if not url:
        raise SourceError(f"locked artifact {filename} has neither path nor url")
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    target = workdir / (filename or Path(parts.path).name)
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as exc:
        raise ResolutionError(f"cannot download {url}: {exc}") from exc
    return target


def _pin(base: Path, name: str, artifact: Any) -> str:
    """A requirement line for a locked sdist, archive, directory or VCS checkout."""
    if isinstance(artifact, PackageVcs):
        where = artifact.url or (base / str(artifact.path)).resolve().as_uri()
        line = f"{name} @ {artifact.type}+{where}@{artifact.commit_id}"
        return line + (f"#subdirectory={artifact.subdirectory}" if artifact.subdirectory else "")
    if isinstance(artifact, PackageDirectory):
        if artifact.editable:
            raise SourceError(
                f"{name} is locked as an editable directory; pep582-migrate installs wheels "
                "only: install it with `python -m pip install --prefix __pypackages__ -e "
                f"{artifact.path}`"
            )
        return f"{name} @ {(base / artifact.path).resolve().as_uri()}"
    if isinstance(artifact, (PackageSdist, PackageArchive)):
        where = artifact.url or (base / str(artifact.path)).resolve().as_uri()
        hashes = "".join(f" --hash={a}:{v}" for a, v in artifact.hashes.items())
        return f"{name} @ {where}{hashes}"
    raise SourceError(f"{name}: unsupported locked artifact {artifact!r}")
