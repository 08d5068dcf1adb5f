"""Where packages come from, as the command line said (``--index-url``, ``--find-links``
and the rest), and each resolver's spelling of it: one dataclass shared by the commands
that take the options and the resolvers that pass them on."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class IndexOptions:
    """Where packages come from, as the command line said; each resolver's spelling."""

    index_url: str | None = None
    extra_index_url: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    pre: bool = False
    only_binary: tuple[str, ...] = ()

    def given(self) -> bool:
        """Whether the command line said anything about where packages come from."""
        return self != IndexOptions()

    def absolute(self, cwd: Path) -> IndexOptions:
        """The same, local ``--find-links`` paths made absolute (resolvers run elsewhere)."""
        links = tuple(
            link if "://" in link or os.path.isabs(link) else str(cwd / link)
            for link in self.find_links
        )
        return dataclasses.replace(self, find_links=links)

    def for_pip(self) -> list[str]:
        options = ["--index-url", self.index_url] if self.index_url else []
        for url in self.extra_index_url:
            options += ["--extra-index-url", url]
        for link in self.find_links:
            options += ["--find-links", link]
        options += ["--no-index"] if self.no_index else []
        options += ["--pre"] if self.pre else []
        for value in self.only_binary:
            options += ["--only-binary", value]
        return options

    def for_uv(self) -> list[str]:
        options = ["--index-url", self.index_url] if self.index_url else []
        for url in self.extra_index_url:
            options += ["--extra-index-url", url]
        if self.extra_index_url and "UV_INDEX_STRATEGY" not in os.environ:
            # pip picks the best version across every index; so must uv for the same plan
            options += ["--index-strategy", "unsafe-best-match"]
        for link in self.find_links:
            options += ["--find-links", link]
        options += ["--no-index"] if self.no_index else []
        options += ["--prerelease", "allow"] if self.pre else []
        for value in self.only_binary:
            options += ["--only-binary", value]
        return options
