"""Parsing what a source, a project or a request holds (TOML and JSON files, URLs): every
way one can be unreadable (not UTF-8, not the format, nested deeper than the parser can
follow, a URL ``urllib`` refuses) is one :class:`~pep582.errors.SourceError` naming it,
never an internal error."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from pep582.errors import SourceError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib


__all__ = ["json_text", "load_toml", "toml_text", "url_parts"]


def toml_text(text: str, where: str) -> dict[str, Any]:
    """``text`` parsed as TOML; ``where`` names it in the error."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{where}: not valid TOML: {exc}") from exc
    except RecursionError:
        raise SourceError(f"{where}: nested too deeply to be read as TOML") from None


def json_text(text: str | bytes, where: str) -> Any:
    """``text`` parsed as JSON; ``where`` names it in the error."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SourceError(f"{where}: not valid JSON: {exc}") from exc
    except RecursionError:
        raise SourceError(f"{where}: nested too deeply to be read as JSON") from None


def load_toml(path: Path) -> dict[str, Any]:
    """The TOML file at ``path`` (read as UTF-8 text through the safe open)."""
    from pep582.sources.records import read_text  # (pep582.sources imports this module)

    return toml_text(read_text(path), str(path))


def url_parts(url: str) -> SplitResult:
    """``urlsplit(url)``; a URL it refuses (``file://[x``: "Invalid IPv6 URL") is a
    SourceError naming it."""
    try:
        return urlsplit(url)
    except ValueError as exc:
        raise SourceError(f"{url!r}: not a valid URL ({exc})") from None
