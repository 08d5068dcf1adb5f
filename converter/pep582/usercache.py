"""The toolkit's per-user cache directory: unpacked wheels and interpreter descriptions.

``$PEP582_CACHE_DIR``, else the platform's user cache directory (``platformdirs``:
``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS) plus our
folder. What is read from it decides what runs or where files go, so every part of it
must belong to the effective user and be writable by nobody else; small records are
read without following links and only from files the user owns.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from pep582.errors import DestinationError
from pep582.step.startup import untrusted_path

CACHE_ENV = "PEP582_CACHE_DIR"
MAX_RECORD = 1 << 20  # bytes: a small record (an interpreter's description) is far smaller


def directory(name: str) -> Path:
    """The cache's subdirectory ``name`` (created private), refused when another user
    could change it or anything above it."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        base = Path(configured)
    else:
        from platformdirs import user_cache_dir

        base = Path(user_cache_dir("pep582-toolkit", appauthor=False))
    root = base / name
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = os.lstat(root)
    except OSError as exc:
        raise DestinationError(f"cannot use the cache {root}: {exc.strerror}") from exc
    refused = untrusted_path(str(root)) if os.name == "posix" else None
    if os.name == "posix" and not refused and info.st_uid != os.geteuid():
        refused = f"{root} is not yours"
    if refused:
        raise DestinationError(
            f"the cache {root} could be changed by another user ({refused}); fix it "
            f"or set {CACHE_ENV}"
        )
    return root


def read_record(name: str, key: str) -> Any | None:
    """The JSON record ``key`` in subdirectory ``name``, or None when there is none, it
    cannot be read, or it is not a plain file of ours that only we can write."""
    try:
        path = directory(name) / f"{key}.json"
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except (DestinationError, OSError):
        return None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if (
            not stat.S_ISREG(info.st_mode)
            or (os.name == "posix" and info.st_uid != os.geteuid())
            or info.st_mode & 0o022
            or info.st_size > MAX_RECORD
        ):
            return None
        try:
            return json.loads(handle.read(MAX_RECORD))
        except ValueError:
            return None


def write_record(name: str, key: str, data: Any) -> None:
    """Store ``data`` as record ``key`` (written beside, renamed into place); a cache that
    cannot be written is no error: the record is only a shortcut."""
    try:
        root = directory(name)
        descriptor, temporary = tempfile.mkstemp(prefix=".writing-", dir=root)
    except (DestinationError, OSError):
        return
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temporary, root / f"{key}.json")
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
