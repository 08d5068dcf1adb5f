"""Reading TOML input files (``pyproject.toml``, ``pylock.toml``): one line per error."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pep582.errors import SourceError
from pep582.sources.records import read_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib


__all__ = ["load_toml", "tomllib"]


def load_toml(path: Path) -> dict[str, Any]:
    """The parsed file; not UTF-8 or not TOML is a SourceError naming file and line."""
    try:
        return tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: not valid TOML: {exc}") from exc
