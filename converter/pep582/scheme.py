"""Paths of a ``__pypackages__`` layout for an interpreter, computed without running it."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Literal

from pep582.step.startup import DIRNAME, scheme_paths

Layout = Literal["pep582", "pdm"]
# What every tree holds at its root besides its schemes, written when it is made, so the
# tools around a project leave it alone: git ignores it all, pytest collects nothing in it.
HYGIENE = {
    ".gitignore": b"*\n",
    "conftest.py": (
        b"# Written by pep582-toolkit: test runners never collect what __pypackages__ holds\n"
        b'collect_ignore_glob = ["*"]\n'
    ),
}
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
    return scheme_at(_pure(facts.os_name)(os.fspath(project)) / DIRNAME, facts, layout)


def scheme_at(root: str | os.PathLike[str], facts: InterpreterFacts, layout: Layout) -> Scheme:
    """The scheme of the layout rooted at ``root`` (a ``__pypackages__``, or any prefix
    shaped like one, such as a venv) for ``facts``."""
    pure = _pure(facts.os_name)
    root = pure(os.fspath(root))
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


# -- reading a layout back: the inverse of scheme_for ---------------------------------------

_SITE_NAME = re.compile(r"(?P<impl>[a-z]+?)(?P<major>\d+)\.(?P<minor>\d+)(?P<t>t?)")
_PDM_NAME = re.compile(r"(?P<major>\d+)\.(?P<minor>\d+)(?P<t>t?)(?P<suffix>-32|-arm64)?")


def facts_from_version_dir(name: str) -> InterpreterFacts | None:
    """The facts a POSIX version directory name encodes (``python3.12`` → CPython 3.12,
    ``pypy3.10``, ``python3.13t``): the inverse of :func:`scheme_for`'s naming. Every
    implementation but PyPy names it ``python`` (as sysconfig's ``posix_prefix`` does)."""
    match = _SITE_NAME.fullmatch(name)
    if match is None or match["impl"] not in ("python", "pypy"):
        return None
    return InterpreterFacts(
        implementation="cpython" if match["impl"] == "python" else match["impl"],
        version=(int(match["major"]), int(match["minor"])),
        freethreaded=bool(match["t"]),
        abiflags="t" if match["t"] else "",
    )


def facts_from_pdm_dir(name: str) -> InterpreterFacts | None:
    """The facts a draft-layout version directory encodes (``3.11``, ``3.13t``,
    ``3.12-32``); the implementation is not part of it."""
    match = _PDM_NAME.fullmatch(name)
    if match is None:
        return None
    return InterpreterFacts(
        version=(int(match["major"]), int(match["minor"])),
        freethreaded=bool(match["t"]),
        platform_suffix=match["suffix"] or "",
    )


@dataclass(frozen=True)
class Tree:
    """One interpreter's part of a ``__pypackages__``: its layout, facts and scheme."""

    layout: Layout
    facts: InterpreterFacts
    scheme: Scheme

    @property
    def present_site_dirs(self) -> list[Path]:
        return [Path(d) for d in self.scheme.site_dirs if os.path.isdir(d)]


def trees_in(pypackages: str | os.PathLike[str]) -> list[Tree]:
    """Each interpreter's tree found in ``pypackages`` (POSIX, either layout), newest
    first: ``lib*/pythonX.Y/site-packages`` (a ``lib64`` or other platlib directory holding
    the same version gives the platlibdir) and the draft ``X.Y/lib``. Links are not
    followed to find them; a name no interpreter would use is ignored."""
    root = Path(pypackages)
    found: list[Tree] = []
    libs = sorted(e.name for e in _dirs(root) if e.name.startswith("lib"))
    versions: dict[str, list[str]] = {}  # version directory name → lib dirs holding it
    for lib in libs:
        for entry in _dirs(root / lib):
            if (root / lib / entry.name / "site-packages").is_dir():
                versions.setdefault(entry.name, []).append(lib)
    for name, holders in versions.items():
        facts = facts_from_version_dir(name)
        if facts is None or "lib" not in holders:
            continue
        platlib = next((lib for lib in holders if lib != "lib"), "lib")
        facts = InterpreterFacts(
            facts.implementation,
            facts.version,
            facts.freethreaded,
            platlib,
            abiflags=facts.abiflags,
        )
        found.append(Tree("pep582", facts, scheme_at(root, facts, "pep582")))
    for entry in _dirs(root):
        facts = facts_from_pdm_dir(entry.name)
        if facts is not None and (root / entry.name / "lib").is_dir():
            found.append(Tree("pdm", facts, scheme_at(root, facts, "pdm")))
    found.sort(key=lambda t: (t.facts.version, t.facts.freethreaded, t.layout), reverse=True)
    return found


def _dirs(directory: Path) -> list[os.DirEntry[str]]:
    """Plain directories (never links) in ``directory``; none when it cannot be read."""
    try:
        with os.scandir(directory) as entries:
            return [e for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []
