"""What a resolver or a lock file chose: one :class:`Artifact` per distribution."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name


@dataclass
class Artifact:
    """One distribution to install, where it comes from, and what to record about it."""

    name: str
    version: str
    url: str = ""  # where the resolver or the lock found it
    hashes: dict[str, str] = field(default_factory=dict)  # algorithm → hex digest
    requested: bool = False
    direct_url: dict[str, Any] | None = None  # PEP 610, when requested by URL or path
    wheel: Path | None = None  # a local wheel file, once known
    pin: str = ""  # a requirement line naming exactly this artifact (for pip wheel)
    editable: Path | None = None  # the project directory of an editable install

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)

    @property
    def is_wheel(self) -> bool:
        """Whether the resolved file is itself a wheel (else pip builds one from it)."""
        return urlsplit(self.url).path.endswith(".whl")

    @property
    def sha256(self) -> str | None:
        """The wheel's sha256, when the resolved file is a wheel and its hash is known."""
        return self.hashes.get("sha256") if self.is_wheel else None

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}".rstrip()


def pin(name: str, direct_url: dict[str, Any]) -> str:
    """A requirement line naming exactly the artifact a PEP 610 ``direct_url`` (or pip's
    ``download_info``, the same shape) describes: VCS commit, subdirectory, hashes."""
    url = direct_url["url"]
    fragment = ""
    if direct_url.get("subdirectory"):
        fragment = f"#subdirectory={direct_url['subdirectory']}"
    if "vcs_info" in direct_url:
        vcs = direct_url["vcs_info"]
        return f"{name} @ {vcs['vcs']}+{url}@{vcs['commit_id']}{fragment}"
    hashes = (direct_url.get("archive_info") or {}).get("hashes") or {}
    line = f"{name} @ {url}{fragment}"
    return line + "".join(f" --hash={algo}:{value}" for algo, value in sorted(hashes.items()))
