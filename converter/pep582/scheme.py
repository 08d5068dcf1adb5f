"""Paths of a ``__pypackages__`` layout for an interpreter, computed without running it."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Literal

from pep582.step.startup import DIRNAME, scheme_paths

Layout = Literal["pep582", "pdm"]
LAYOUTS: tuple[Layout, ...] = ("pep582", "pdm")


@dataclass(frozen=True)
class InterpreterFacts:
    """What decides the layout: implementation, ``X.Y``, free-threading, platlibdir, OS."""

    implementation: str = "cpython"
    version: tuple[int, int] = (3, 12)
    freethreaded: bool = False
    platlibdir: str = "lib"
    os_name: str = "posix"
    platform_suffix: str = ""  # Windows: "-32" or "-arm64", as in sys.winver
    abiflags: str = ""  # POSIX: sys.abiflags ("t", "d", "td"); only include/ uses it

    @classmethod
    def running(cls) -> InterpreterFacts:
        """The facts of the interpreter running this code."""
        import sysconfig

        winver = getattr(sys, "winver", "")
        return cls(
            implementation=sys.implementation.name,
            version=(sys.version_info[0], sys.version_info[1]),
            freethreaded=bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
            platlibdir=getattr(sys, "platlibdir", "lib"),
            os_name=os.name,
            platform_suffix=f"-{winver.partition('-')[2]}" if "-" in winver else "",
            abiflags=getattr(sys, "abiflags", ""),
        )

    @property
    def version_tag(self) -> str:
        """``3.12``, ``3.13t``: the version as layouts spell it."""
        return f"{self.version[0]}.{self.version[1]}{'t' if self.freethreaded else ''}"

    @property
    def command(self) -> str:
        """The conventional command name: ``python3.12``, ``pypy3.10``, ``python3.13t``."""
        stem = "python" if self.implementation == "cpython" else self.implementation.lower()
        return f"{stem}{self.version_tag}"

    def describe(self) -> str:
        name = {"cpython": "CPython", "pypy": "PyPy"}.get(self.implementation, self.implementation)
        return f"{name} {self.version_tag} ({self.os_name}, platlibdir={self.platlibdir})"


@dataclass(frozen=True)
class Scheme:
    """Where each kind of installed file goes in one ``__pypackages__`` layout."""

    layout: Layout
    root: PurePath  # the __pypackages__ directory itself
    purelib: PurePath
    platlib: PurePath
    scripts: PurePath
    include: PurePath
    data: PurePath

    @property
    def site_dirs(self) -> list[PurePath]:
        """purelib and platlib, deduplicated: what goes on ``sys.path``."""
        return list(dict.fromkeys([self.purelib, self.platlib]))

    def as_dict(self) -> dict[str, str]:
        return {
            "purelib": str(self.purelib),
            "platlib": str(self.platlib),
            "scripts": str(self.scripts),
            "include": str(self.include),
            "data": str(self.data),
        }


def _pure(os_name: str) -> type[PurePath]:
    return PureWindowsPath if os_name == "nt" else PurePosixPath


def scheme_for(project: str | os.PathLike[str], facts: InterpreterFacts, layout: Layout) -> Scheme:
    """The scheme of ``project/__pypackages__`` for ``facts`` in ``layout``.

    >>> s = scheme_for("/p", InterpreterFacts(version=(3, 13), freethreaded=True), "pep582")
    >>> str(s.purelib), str(s.scripts)
    ('/p/__pypackages__/lib/python3.13t/site-packages', '/p/__pypackages__/bin')
    >>> str(scheme_for("/p", InterpreterFacts(version=(3, 11)), "pdm").purelib)
    '/p/__pypackages__/3.11/lib'
    """
    pure = _pure(facts.os_name)
    root = pure(os.fspath(project)) / DIRNAME
    if layout == "pep582":
        paths = scheme_paths(
            str(root),
            implementation=facts.implementation,
            version=facts.version,
            freethreaded=facts.freethreaded,
            abiflags=facts.abiflags or ("t" if facts.freethreaded else ""),
            platlibdir=facts.platlibdir,
            os_name=facts.os_name,
            platform_suffix=facts.platform_suffix,
        )
        parts: dict[str, PurePath] = {key: pure(value) for key, value in paths.items()}
    elif layout == "pdm":
        base = root / (facts.version_tag + facts.platform_suffix)
        lib = base / "lib"
        scripts = base / ("Scripts" if facts.os_name == "nt" else "bin")
        parts = {
            "purelib": lib,
            "platlib": lib,
            "scripts": scripts,
            "include": base / "include",
            "data": base,
        }
    else:
        raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if facts.os_name == os.name:  # a local layout: concrete paths, ready for I/O
        root = Path(root)
        parts = {key: Path(value) for key, value in parts.items()}
    return Scheme(layout=layout, root=root, **parts)
