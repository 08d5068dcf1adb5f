"""Reading what people have: a venv, a ``__pypackages__`` (either layout), an unpacked wheel.

A source is described like a scheme (site directories, scripts, include, data) plus the
facts of its interpreter, and holds an inventory of installed distributions. It is opened
once, at its root (:class:`pep582.fs.Tree`), and read through directory descriptors from
there: nothing here follows a link out of the source, writes anything, or runs anything a
source names. This package may import ``errors``, ``fs``, ``names``, ``scheme`` and the
step's trust rule; nothing that plans or writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pep582.errors import SourceError
from pep582.fs import Tree
from pep582.scheme import InterpreterFacts, Layout
from pep582.sources.distribution import Distribution
from pep582.step.startup import DIRNAME

SourceKind = Literal["venv", "pypackages", "wheel"]


@dataclass
class Source:
    """A place installed distributions are read from, described like a scheme."""

    kind: SourceKind
    path: Path  # the venv, the __pypackages__ directory, or the unpacked wheel (real path)
    facts: InterpreterFacts
    site_dirs: list[Path]
    scripts: Path
    include: Path
    data: Path
    tree: Tree = field(repr=False, compare=False)  # the source, opened once at its root
    layout: Layout | None = None  # for a __pypackages__ source
    base_executable: str | None = None  # the interpreter new scripts should name (resolved)
    system_site: bool = False
    created: float | None = None  # a venv's creation time (pyvenv.cfg's mtime)
    # name -> version of what ``python -m venv`` seeds (ensurepip's bundled wheels); None
    # when unknown (virtualenv made it, or the interpreter's wheels cannot be found)
    seed_versions: dict[str, str] | None = None
    notes: list[str] = field(default_factory=list)
    distributions: list[Distribution] = field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "wheel":
            return ", ".join(d.origin or d.label for d in self.distributions)
        what = "virtual environment" if self.kind == "venv" else f"{self.layout} __pypackages__"
        return f"{what} {self.path} ({self.facts.describe()})"


def detect(path: Path) -> list[Source]:
    """Recognise ``path`` as a venv or a ``__pypackages__``; raise SourceError otherwise."""
    from pep582.sources.pypackages import read_pypackages
    from pep582.sources.venv import read_venv

    if not path.exists():
        raise SourceError(f"{path} does not exist")
    if (path / "pyvenv.cfg").is_file():
        return [read_venv(path)]
    if path.is_dir() and path.name != DIRNAME and (path / DIRNAME).is_dir():
        path = path / DIRNAME
    if path.is_dir() and path.name == DIRNAME:
        return read_pypackages(path)
    raise SourceError(
        f"{path} is not a virtual environment (no pyvenv.cfg) nor a {DIRNAME} directory; "
        "pep582-migrate reads a venv, a __pypackages__, a requirements file, a "
        "pyproject.toml or a pylock.toml"
    )


__all__ = ["Distribution", "Source", "SourceKind", "detect"]
