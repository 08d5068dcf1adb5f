"""``pep582 audit``: what a project's ``__pypackages__`` makes possible, found as data.

:func:`audit` inspects a project directory and returns a :class:`Report` whose findings
each carry a check name, a severity (high, medium, low), the path, what it means and the
fix. Nothing here prints; ``audit_cli`` renders the report and documents its JSON form.
The trust finding comes from :func:`pep582.step.startup.judge`, the function the startup step
uses, so the audit and the interpreter cannot disagree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import time
from collections import defaultdict
from collections.abc import Container, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pep582.errors import InterpreterError, SourceError, VerificationError
from pep582.interpreter import (
    Interpreter,
    choose_python,
    find_python,
    probe,
    run_python,
    versions_in,
)
from pep582.scheme import InterpreterFacts, Layout, scheme_for
from pep582.sources.distribution import Distribution, inventory
from pep582.sources.records import check, hash_stream
from pep582.step.startup import CUSTOMIZE, DIRNAME, judge, startup_files

Severity = Literal["high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low")
SCHEMA_VERSION = 1
EXIT_FINDINGS = 11  # a finding reached --fail-on (errors.EXIT_CODES lists it)
# Files hashed per task, and threads: hashlib and reads release the GIL, so hashing runs
# beside the other checks and on every core.
HASH_BATCH = 256
HASH_THREADS = min(8, 2 * (os.cpu_count() or 1))

# Python 3.9 has no sys.stdlib_module_names. This list was generated once with CPython
# 3.10.13: sorted(set(sys.stdlib_module_names) | REMOVED_IN_310). Python 3.10 added no
# top-level module (every name 3.10 can import here, 3.9.18 can too), and REMOVED_IN_310
# are the modules 3.9 ships that 3.10 dropped (test-only modules stay out, as in 3.10).
REMOVED_IN_310 = frozenset({"_bootlocale", "_peg_parser", "formatter", "parser", "symbol"})
STDLIB_39 = frozenset(
    """
    __future__ _abc _aix_support _ast _asyncio _bisect _blake2 _bootlocale _bootsubprocess _bz2
    _codecs _codecs_cn _codecs_hk _codecs_iso2022 _codecs_jp _codecs_kr _codecs_tw _collections
    _collections_abc _compat_pickle _compression _contextvars _crypt _csv _ctypes _curses
    _curses_panel _datetime _dbm _decimal _elementtree _frozen_importlib _frozen_importlib_external
    _functools _gdbm _hashlib _heapq _imp _io _json _locale _lsprof _lzma _markupbase _md5 _msi
    _multibytecodec _multiprocessing _opcode _operator _osx_support _overlapped _peg_parser _pickle
    _posixshmem _posixsubprocess _py_abc _pydecimal _pyio _queue _random _scproxy _sha1 _sha256
    _sha3 _sha512 _signal _sitebuiltins _socket _sqlite3 _sre _ssl _stat _statistics _string
    _strptime _struct _symtable _thread _threading_local _tkinter _tracemalloc _uuid _warnings
    _weakref _weakrefset _winapi _zoneinfo abc aifc antigravity argparse array ast asynchat asyncio
    asyncore atexit audioop base64 bdb binascii binhex bisect builtins bz2 cProfile calendar cgi
    cgitb chunk cmath cmd code codecs codeop collections colorsys compileall concurrent
    configparser contextlib contextvars copy copyreg crypt csv ctypes curses dataclasses datetime
    dbm decimal difflib dis distutils doctest email encodings ensurepip enum errno faulthandler
    fcntl filecmp fileinput fnmatch formatter fractions ftplib functools gc genericpath getopt
    getpass gettext glob graphlib grp gzip hashlib heapq hmac html http idlelib imaplib imghdr imp
    importlib inspect io ipaddress itertools json keyword lib2to3 linecache locale logging lzma
    mailbox mailcap marshal math mimetypes mmap modulefinder msilib msvcrt multiprocessing netrc
    nis nntplib nt ntpath nturl2path numbers opcode operator optparse os ossaudiodev parser pathlib
    pdb pickle pickletools pipes pkgutil platform plistlib poplib posix posixpath pprint profile
    pstats pty pwd py_compile pyclbr pydoc pydoc_data pyexpat queue quopri random re readline
    reprlib resource rlcompleter runpy sched secrets select selectors shelve shlex shutil signal
    site smtpd smtplib sndhdr socket socketserver spwd sqlite3 sre_compile sre_constants sre_parse
    ssl stat statistics string stringprep struct subprocess sunau symbol symtable sys sysconfig
    syslog tabnanny tarfile telnetlib tempfile termios textwrap this threading time timeit tkinter
    token tokenize trace traceback tracemalloc tty turtle turtledemo types typing unicodedata
    unittest urllib uu uuid venv warnings wave weakref webbrowser winreg winsound wsgiref xdrlib
    xml xmlrpc zipapp zipfile zipimport zlib zoneinfo
    """.split()  # noqa: SIM905 (a word list reads better than 308 quoted strings)
)

# Runs inside the target interpreter under -I (site on, user site and cwd off). Records
# which modules startup already imported before anything else, then how each standard
# library name resolves there: a file on sys.path[0] cannot shadow a built-in, frozen or
# already-imported module, only one the stdlib directories would provide ("path"), or one
# this build lacks ("absent"). Also names the directories pip writes scripts into.
_PROBE = r"""
import sys
startup = set(sys.modules)
import importlib.machinery as machinery, json, os, site, sysconfig
names = getattr(sys, "stdlib_module_names", None)
own = names is not None
if names is None:
    names = json.loads(sys.argv[1])
skip = set()
try:
    skip.update(site.getsitepackages())
    skip.add(site.getusersitepackages())
except AttributeError:
    pass
paths = [p for p in sys.path if p and p not in skip]
def kind(name):
    if name in sys.builtin_module_names:
        return "builtin"
    try:
        if machinery.FrozenImporter.find_spec(name) is not None:
            return "frozen"
    except Exception:
        pass
    if name in startup:
        return "startup"
    try:
        if machinery.PathFinder.find_spec(name, paths) is not None:
            return "path"
    except Exception:
        pass
    return "absent"
scripts = [sysconfig.get_path("scripts")]
try:
    user = sysconfig.get_preferred_scheme("user")
except AttributeError:
    user = os.name + "_user"
try:
    scripts.append(sysconfig.get_path("scripts", user))
except KeyError:
    pass
print(json.dumps({"own": own, "kinds": {n: kind(n) for n in sorted(names)}, "scripts": scripts}))
"""

_COMMAND = re.compile(r"^(?P<stem>[a-z]+?)3\.(?P<minor>\d+)(?P<t>t?)$")
_PDM_DIR = re.compile(r"^3\.(?P<minor>\d+)(?P<t>t?)(?P<suffix>-32|-arm64)?$")
_PYCACHE = os.sep + "__pycache__"
_CODE = (".py", ".pyc", ".pyo", ".so", ".pyd", ".pth")
# (distribution label, the distribution, RECORD row index, absolute path, hash algorithm)
_Job = tuple[str, Distribution, int, str, str]
_FIX_TRUST = (
    "make every directory from / down to the site directory, and the .pth and "
    "sitecustomize files in it, owned by you or root and writable by nobody else "
    "(chown, chmod go-w, setfacl -b); if you did not put them there, inspect the tree first"
)


@dataclass
class Finding:
    """One thing worth knowing about the project, with what to do about it."""

    check: str  # a stable identifier: "hash-mismatch", "trust-refused", ...
    severity: Severity
    path: str
    message: str  # what it means
    fix: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
            "fix": self.fix,
            "details": self.details,
        }


@dataclass
class Stdlib:
    """An interpreter's standard library names and how each resolves there."""

    kinds: dict[str, str]  # name -> builtin | frozen | startup | path | absent
    source: str  # where the names came from, said in the report
    scripts_dirs: list[str] = field(default_factory=list)


@dataclass
class Tree:
    """The part of ``__pypackages__`` one interpreter version uses."""

    layout: Layout
    command: str  # python3.12, python3.13t, pypy3.10
    site_dirs: list[str]
    scripts: str
    interpreter: str | None = None  # an executable for it on this machine; None: stale
    distributions: list[Distribution] = field(default_factory=list)
    unreadable: bool = False  # its distributions could not be read; checks skipped
    stdlib: Stdlib | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "command": self.command,
            "site_dirs": self.site_dirs,
            "scripts": self.scripts,
            "interpreter": self.interpreter,
            "distributions": len(self.distributions),
        }


@dataclass
class Report:
    """Everything the audit found, as data; ``as_dict`` is the ``--json`` object."""

    project: str
    pypackages: str
    exists: bool
    interpreter: Interpreter
    why: str
    stdlib_source: str
    trees: list[Tree] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    files_hashed: int = 0
    bytes_hashed: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def reaches(self, fail_on: str) -> bool:
        """Whether a finding is at or above ``fail_on`` (``never``: never)."""
        if fail_on not in SEVERITIES:
            return False
        worst = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        return any(f.severity in worst for f in self.findings)

    @property
    def distributions(self) -> int:
        return sum(len(t.distributions) for t in self.trees)

    def as_dict(self, fail_on: str = "high") -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "project": self.project,
            "pypackages": self.pypackages,
            "exists": self.exists,
            "interpreter": {
                "executable": str(self.interpreter.executable),
                "command": self.interpreter.facts.command,
                "why": self.why,
                "stdlib": self.stdlib_source,
            },
            "trees": [t.as_dict() for t in self.trees],
            "findings": [f.as_dict() for f in self.findings],
            "counts": self.counts(),
            "fail_on": fail_on,
            "failed": self.reaches(fail_on),
            "skipped": self.skipped,
            "stats": {
                "distributions": self.distributions,
                "files_hashed": self.files_hashed,
                "bytes_hashed": self.bytes_hashed,
                "seconds": round(self.seconds, 3),
            },
        }


def module_name(name: str, path: str, is_dir: bool) -> str | None:
    """The top-level import name a directory entry provides, or None.

    Modules (``x.py``, ``x.pyc``, extension modules) and regular packages count; a plain
    directory is at most a namespace portion, which never shadows a regular module.

    >>> module_name("json.py", "/p/json.py", False), module_name("a-b.py", "", False)
    ('json', None)
    """
    stem, _, rest = name.partition(".")
    if not stem.isidentifier():
        return None
    if is_dir:
        if rest:
            return None
        init = os.path.join(path, "__init__")
        return stem if os.path.isfile(init + ".py") or os.path.isfile(init + ".pyc") else None
    if rest in ("py", "pyc") or name.endswith((".so", ".pyd")):
        return stem
    return None


def _entries(directory: str) -> list[os.DirEntry[str]]:
    try:
        return sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return []


def _modules_in(directory: str, wanted: Container[str]) -> dict[str, str]:
    """``{import name: path}`` of what ``directory`` provides at top level, for the names
    in ``wanted`` (only those are looked into)."""
    found: dict[str, str] = {}
    for entry in _entries(directory):
        if entry.name.partition(".")[0] not in wanted:
            continue
        is_dir = entry.is_dir(follow_symlinks=True)
        name = module_name(entry.name, entry.path, is_dir)
        if name is not None:
            found.setdefault(name, entry.path)
    return found


def stdlib_of(executable: str | os.PathLike[str]) -> Stdlib:
    """Ask ``executable`` for its standard library names and how each resolves there.

    Python 3.9 lacks ``sys.stdlib_module_names``; :data:`STDLIB_39` stands in.
    """
    out = run_python(executable, ["-I", "-c", _PROBE, json.dumps(sorted(STDLIB_39))])
    try:
        data = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise InterpreterError(f"{executable} did not list its stdlib: {out[:200]!r}") from exc
    source = (
        f"sys.stdlib_module_names of {executable}"
        if data["own"]
        else f"{executable} has no sys.stdlib_module_names: the toolkit's list for 3.9 "
        "(CPython 3.10's names plus the five modules 3.10 removed)"
    )
    return Stdlib(dict(data["kinds"]), source, [str(p) for p in data["scripts"]])


def find_trees(project: Path) -> list[Tree]:
    """Each interpreter version's part of ``project/__pypackages__``, either layout."""
    root = project / DIRNAME
    trees = []
    groups: dict[str, list[str]] = {}
    for command, site_dir in versions_in(root):
        groups.setdefault(command, []).append(site_dir)
    for command, site_dirs in groups.items():
        match = _COMMAND.match(command)
        if match is None:  # pragma: no cover - versions_in only yields such names
            continue
        platlib = {Path(d).relative_to(root).parts[0] for d in site_dirs} - {"lib"}
        facts = InterpreterFacts(
            implementation="cpython" if match["stem"] == "python" else match["stem"],
            version=(3, int(match["minor"])),
            freethreaded=bool(match["t"]),
            platlibdir=min(platlib) if platlib else "lib",
        )
        scheme = scheme_for(project, facts, "pep582")
        trees.append(Tree("pep582", command, sorted(site_dirs), str(scheme.scripts)))
    for entry in _entries(str(root)):
        pdm = _PDM_DIR.match(entry.name)
        if pdm and os.path.isdir(os.path.join(entry.path, "lib")):
            facts = InterpreterFacts(
                version=(3, int(pdm["minor"])),
                freethreaded=bool(pdm["t"]),
                platform_suffix=pdm["suffix"] or "",
            )
            scheme = scheme_for(project, facts, "pdm")
            trees.append(Tree("pdm", facts.command, [str(scheme.purelib)], str(scheme.scripts)))
    return trees


def interpreter_for(command: str) -> Interpreter | None:
    """An interpreter on this machine (PATH, pyenv) for a tree's ``command``, or None."""
    match = _COMMAND.match(command)
    try:
        if match and match["stem"] == "python":
            return find_python(f"3.{match['minor']}{match['t']}")
        on_path = shutil.which(command)
        if on_path:
            found = probe(on_path)
            return found if found.facts.command == command else None
    except InterpreterError:
        return None
    return None


def _other_python(command: str) -> tuple[Interpreter | None, Stdlib | None]:
    found = interpreter_for(command)
    if found is None:
        return None, None
    try:
        return found, stdlib_of(found.executable)
    except InterpreterError:
        return found, None


class _Auditor:
    """Runs the checks over one project, collecting findings."""

    def __init__(self, report: Report, pool: Executor) -> None:
        self.report = report
        self.pool = pool
        self.target = Stdlib({}, "")  # the target's, once stdlib_of answers
        self.root = report.pypackages
        self.prefix = self.root.rstrip(os.sep) + os.sep
        self.owners: dict[str, str] = {}  # owned file -> "name version"
        self.shared: list[tuple[str, str, str]] = []  # (file, first owner, second owner)
        self.others: dict[str, Future[tuple[Interpreter | None, Stdlib | None]]] = {}
        self.seen: set[tuple[str, str, str]] = set()

    def add(
        self, check_: str, severity: Severity, path: str, message: str, fix: str, **details: Any
    ) -> None:
        key = (check_, path, message)
        if key not in self.seen:
            self.seen.add(key)
            self.report.findings.append(Finding(check_, severity, path, message, fix, details))

    # -- trees ----------------------------------------------------------------------------

    def read_trees(self, project: Path) -> None:
        """Find the trees, read their distributions; other Pythons are asked meanwhile."""
        python = self.report.interpreter
        for tree in find_trees(project):
            self.report.trees.append(tree)
            if tree.command == python.facts.command:
                tree.interpreter = str(python.executable)
            elif tree.command not in self.others:
                self.others[tree.command] = self.pool.submit(_other_python, tree.command)
            for site_dir in tree.site_dirs:
                try:
                    tree.distributions.extend(inventory(Path(site_dir)))
                except (SourceError, OSError) as exc:
                    tree.unreadable = True
                    self.add(
                        "record-unreadable",
                        "medium",
                        site_dir,
                        f"its installed distributions cannot be read ({exc}); RECORD "
                        "checks and the unowned-file check were skipped for this tree",
                        "repair or reinstall the distribution named in the message",
                        error=str(exc),
                    )
        for tree in self.report.trees:
            for dist in tree.distributions:
                label = f"{dist.name} {dist.version}"
                files = list(dist.owned_files)
                if dist.link_file is not None:
                    files.append(os.path.normpath(dist.link_file))
                for path in files:
                    first = self.owners.setdefault(path, label)
                    if first != label:
                        self.shared.append((path, first, label))

    def resolve_trees(self, target: Stdlib) -> None:
        """Give each tree its interpreter's stdlib; report trees no Python here uses."""
        self.target = target
        for tree in self.report.trees:
            if tree.interpreter == str(self.report.interpreter.executable):
                tree.stdlib = target
                continue
            found, stdlib = self.others[tree.command].result()
            if found is None:
                self.stale(tree)
            else:
                tree.interpreter, tree.stdlib = str(found.executable), stdlib

    def stale(self, tree: Tree) -> None:
        version_dir = os.path.dirname(tree.site_dirs[0])
        if tree.layout == "pdm":
            version_dir = os.path.dirname(version_dir)
        self.add(
            "stale-tree",
            "low",
            version_dir,
            f"no {tree.command} on this machine (PATH, pyenv) uses this site directory; it "
            "is dead weight, and the code in it is checked against another Python's stdlib",
            f"remove {version_dir}, or install {tree.command}",
            command=tree.command,
            layout=tree.layout,
        )

    # -- trust ----------------------------------------------------------------------------

    def trust(self) -> None:
        """The startup step's own verdict (``startup.judge``), as the auditing user."""
        for tree in self.report.trees:
            present = [d for d in tree.site_dirs if os.path.isdir(d)]
            blocking = [p for d in present for p in _startup_paths(d) if _blocks(p)]
            if blocking:  # the rule reads .pth files; a FIFO would hang it, and site.py
                self.report.skipped.append(
                    f"trust rule not applied to {tree.command}: {blocking[0]} is not a "
                    "regular file, and reading it would block (see the pth finding)"
                )
                continue
            _, reason = judge(self.root, present)
            if reason:
                self.add(
                    "trust-refused",
                    "high",
                    self.root,
                    f"the startup step refuses this __pypackages__ for {_you()} "
                    f"({tree.command}): {reason}; nothing in it would be imported",
                    _FIX_TRUST,
                    reason=reason,
                    command=tree.command,
                )

    # -- shadowing ------------------------------------------------------------------------

    def project_shadowing(self, project: Path) -> None:
        """Modules beside the project's scripts: sys.path[0], before the stdlib."""
        python = self.report.interpreter.facts.command
        for name, path in _modules_in(str(project), self.target.kinds).items():
            kind = self.target.kinds.get(name)
            if kind is None:
                continue
            if kind == "path":
                severity: Severity = "high"
                means = (
                    f"every script in {project} (and -c, -m and the REPL run there) imports "
                    f"this file as {name!r} instead of the standard library's {name}"
                )
            elif kind == "absent":
                severity = "medium"
                means = (
                    f"{python} lacks its own {name}, so `import {name}` gets this file for "
                    "scripts run here; elsewhere it gets the standard library's"
                )
            else:
                severity = "low"
                means = (
                    f"{python}'s {name} is {_KIND_WORDS[kind]}, so this file does not shadow "
                    "it there, but it would on an interpreter where the module is a file"
                )
            self.add(
                "stdlib-shadow",
                severity,
                path,
                f"{os.path.basename(path)} is named like the standard library module "
                f"{name!r}: {means}",
                "rename it (and its imports) to a name the standard library does not use",
                module=name,
                where="project",
                stdlib_kind=kind,
            )

    def tree_shadowing(self) -> None:
        """Modules in a site directory named like the stdlib: after it on sys.path."""
        for tree in self.report.trees:
            stdlib = tree.stdlib or self.target
            for site_dir in tree.site_dirs:
                for name, path in _modules_in(site_dir, stdlib.kinds).items():
                    kind = stdlib.kinds.get(name)
                    if kind is None:
                        continue
                    owner = self.owner_of(path)
                    if kind == "absent":
                        severity: Severity = "medium"
                        means = (
                            f"{tree.command} lacks its own {name}, so `import {name}` gets "
                            "this copy"
                        )
                    else:
                        severity = "low"
                        means = (
                            "the standard library's copy comes first on sys.path, so this one "
                            "is dead code, unless a tool puts the directory before the stdlib "
                            "(PYTHONPATH, running a file from inside it)"
                        )
                    self.add(
                        "stdlib-shadow",
                        severity,
                        path,
                        f"{owner or 'a file no distribution installed'} provides a module "
                        f"named like the standard library's {name!r}: {means}",
                        f"remove {owner or 'it'} if your Python already provides the module",
                        module=name,
                        where="pypackages",
                        stdlib_kind=kind,
                        distribution=owner,
                    )

    def owner_of(self, path: str) -> str | None:
        """The distribution owning ``path`` (a file, or any file under a directory)."""
        norm = os.path.normpath(path)
        if norm in self.owners:
            return self.owners[norm]
        under = norm + os.sep
        return next((o for p, o in self.owners.items() if p.startswith(under)), None)

    def duplicates(self) -> None:
        """Two distributions providing one top-level import name."""
        for tree in self.report.trees:
            for site_dir in tree.site_dirs:
                self._duplicates_in(tree, site_dir)

    def _duplicates_in(self, tree: Tree, site_dir: str) -> None:
        base = site_dir.rstrip(os.sep) + os.sep
        cut = len(base)
        provided: dict[str, dict[str, str]] = defaultdict(dict)  # name -> label -> kind
        for dist in tree.distributions:
            if os.path.normpath(dist.site_dir) != os.path.normpath(site_dir):
                continue
            sep = os.sep
            rels = [p[cut:] for p in dist.owned_files if p.startswith(base)]
            files = {r for r in rels if sep not in r}
            packages = {
                r.partition(sep)[0]
                for r in rels
                if r.count(sep) == 1 and r.rpartition(sep)[2].startswith("__init__.")
            }
            label = f"{dist.name} {dist.version}"
            for top in {r.partition(sep)[0] for r in rels}:
                if top in files:
                    kind, name = "module", module_name(top, "", False)
                else:
                    kind = "package" if top in packages else "portion"
                    name = top if top.isidentifier() and top != "__pycache__" else None
                if name is not None and provided[name].get(label) != "module":
                    provided[name][label] = kind
        shared_by_name: dict[str, list[str]] = defaultdict(list)
        for path, _, _ in self.shared:
            if path.startswith(base):
                top = path[cut:].partition(os.sep)[0]
                name = top if os.sep in path[cut:] else module_name(top, "", False)
                if name:
                    shared_by_name[name].append(path)
        for name, by_dist in sorted(provided.items()):
            if len(by_dist) < 2:
                continue
            labels = sorted(by_dist)
            shared = sorted(set(shared_by_name.get(name, [])))
            regular = [label for label in labels if by_dist[label] != "portion"]
            if not shared and len(regular) < 2:
                continue  # namespace portions, or a plug-in adding files to a package
            if shared:
                means = (
                    f"{' and '.join(labels)} install the same files of {name!r}; the one "
                    "installed last overwrote the other's, whose RECORD no longer describes them"
                )
            else:
                means = (
                    f"{' and '.join(labels)} both provide the import name {name!r}; which one "
                    "`import` finds depends on file names, not on what you installed"
                )
            self.add(
                "duplicate-module",
                "medium",
                os.path.join(site_dir, name),
                means,
                "keep one of them (uninstall the other, or migrate again from a clean set)",
                module=name,
                distributions=labels,
                shared_files=shared,
            )

    # -- scripts --------------------------------------------------------------------------

    def scripts(self) -> None:
        """Files in a scripts directory that the scripts beside them can import."""
        declared: dict[str, str] = {}
        for tree in self.report.trees:
            for dist in tree.distributions:
                for point in dist.entry_points:
                    declared.setdefault(point.name, f"{dist.name} {dist.version}")
        found: list[tuple[str, os.DirEntry[str], str]] = []
        for scripts_dir in dict.fromkeys(t.scripts for t in self.report.trees):
            for entry in _entries(scripts_dir):
                name = module_name(entry.name, entry.path, entry.is_dir())
                if name is not None and entry.name != DIRNAME:
                    found.append((scripts_dir, entry, name))
        names = {name for _, _, name in found}
        importable = {n for n in names if self.target.kinds.get(n, "absent") != "absent"}
        for tree in self.report.trees:
            for site_dir in tree.site_dirs:
                importable.update(_modules_in(site_dir, names))
        for scripts_dir, entry, name in found:
            owner = declared.get(entry.name) or self._owning_dist(entry.path)
            shadows = name in importable
            severity: Severity = "high" if shadows else "medium"
            if shadows:
                means = (
                    f"every script in {scripts_dir} runs with that directory first on "
                    f"sys.path, so each one that imports {name!r} gets this script "
                    "instead of the module"
                )
            else:
                means = (
                    f"scripts in {scripts_dir} run with that directory first on sys.path: "
                    f"this file is importable as {name!r} by all of them, and shadows "
                    "that module as soon as a distribution provides it"
                )
            self.add(
                "script-py",
                severity,
                entry.path,
                f"the script {entry.name!r}"
                + (f" (from {owner})" if owner else "")
                + f" is importable as a module: {means}",
                "remove it; installers should refuse console scripts whose names end in "
                ".py (pep582-migrate does)",
                module=name,
                shadows=shadows,
                distribution=owner,
            )
        self.scripts_dirs_with_pypackages()

    def scripts_dirs_with_pypackages(self) -> None:
        dirs = [t.scripts for t in self.report.trees] + list(self.target.scripts_dirs)
        dirs.append(os.path.dirname(os.path.abspath(self.report.interpreter.executable)))
        seen: set[str] = set()
        for scripts_dir in dirs:
            real = os.path.realpath(scripts_dir)
            if real in seen:
                continue
            seen.add(real)
            nested = os.path.join(scripts_dir, DIRNAME)
            if os.path.isdir(nested):
                self.add(
                    "scripts-dir-pypackages",
                    "high",
                    nested,
                    f"{scripts_dir} is a scripts directory and holds a {DIRNAME}: every "
                    "script there runs with that directory's packages (the startup step "
                    "applies the __pypackages__ beside the script), not the ones the script "
                    "was installed with",
                    f"remove or move {nested}; keep {DIRNAME} only beside your own scripts",
                    scripts_dir=scripts_dir,
                )

    def _owning_dist(self, path: str) -> str | None:
        return self.owners.get(os.path.normpath(path))

    # -- startup files --------------------------------------------------------------------

    def startup_code(self) -> None:
        """``.pth`` files and sitecustomize/usercustomize: code run at every start."""
        for tree in self.report.trees:
            for site_dir in tree.site_dirs:
                for path in _startup_paths(site_dir):
                    if path.endswith(".pth") and not os.path.isdir(path):
                        self._pth(tree, path)
                    elif os.path.basename(path).partition(".")[0] in CUSTOMIZE:
                        self._customize(tree, path)

    def _pth(self, tree: Tree, path: str) -> None:
        try:
            lines = read_small(path).splitlines()
        except OSError as exc:
            self.add(
                "pth",
                "high",
                path,
                f"cannot read it ({exc}); site.py would try to, at every start",
                "inspect it, then delete it",
                import_lines=[],
                path_lines=[],
                distribution=self._owning_dist(path),
                error=str(exc),
            )
            return
        imports = [line for line in lines if line.startswith(("import ", "import\t"))]
        paths = [line for line in lines if line.strip() and not line.startswith("#")]
        paths = [line for line in paths if line not in imports]
        owner = self._owning_dist(path)
        if not imports and owner:
            return  # a distribution's path entries (editable installs, namespaces)
        by = f"installed by {owner}" if owner else "no distribution installed it"
        if imports:
            severity: Severity = "medium" if owner else "high"
            runs = "; ".join(f"`{line.strip()}`" for line in imports)
            message = (
                f"runs code at every start of {tree.command} with this tree active ({by}): {runs}"
            )
            fix = (
                "keep it only if you trust what it runs"
                if owner
                else "delete it unless you put it there yourself"
            )
        else:
            severity = "low"
            message = f"adds {', '.join(paths) or 'nothing'} to sys.path ({by})"
            fix = "delete it unless you put it there yourself"
        self.add(
            "pth",
            severity,
            path,
            message,
            fix,
            import_lines=imports,
            path_lines=paths,
            distribution=owner,
        )

    def _customize(self, tree: Tree, path: str) -> None:
        owner = self._owning_dist(path) or (
            self._owning_dist(os.path.join(path, "__init__.py")) if os.path.isdir(path) else None
        )
        name = os.path.basename(path).partition(".")[0]
        by = f"installed by {owner}" if owner else "no distribution installed it"
        self.add(
            "customize",
            "medium" if owner else "high",
            path,
            f"{name} in {DIRNAME} is imported at every start of {tree.command} with this tree "
            f"active, before any script ({by}); it replaces the interpreter's own {name}",
            "delete it unless you put it there yourself; put start-up code in your program",
            module=name,
            distribution=owner,
        )

    # -- RECORD ---------------------------------------------------------------------------

    def start_hashing(self) -> list[tuple[list[_Job], Future[list[Any]]]]:
        """Queue every RECORD-hashed file in the tree for ``pool``; report RECORD rows
        outside the tree (never opened) and distributions without a RECORD."""
        jobs: list[_Job] = []
        for tree in self.report.trees:
            for dist in tree.distributions:
                label = f"{dist.name} {dist.version}"
                if dist.record is None:
                    if dist.kind != "egg-link":
                        self.add(
                            "no-record",
                            "low",
                            str(dist.meta_dir),
                            f"{label} has no RECORD (nor installed-files.txt): its files "
                            "cannot be verified and show up as unowned",
                            f"reinstall {dist.name} with a current installer",
                            distribution=label,
                        )
                    continue
                outside = []
                for index, (entry, path) in enumerate(zip(dist.record, dist.owned_files)):
                    if not path.startswith(self.prefix):
                        outside.append(entry.path)
                    elif entry.hash_ is not None:
                        jobs.append((label, dist, index, path, entry.hash_.name))
                if outside:
                    self.add(
                        "record-outside",
                        "high",
                        str(dist.meta_dir / "RECORD"),
                        f"{label}'s RECORD lists {len(outside)} path(s) outside {DIRNAME} "
                        f"({', '.join(outside[:3])}{', ...' if len(outside) > 3 else ''}): "
                        "an uninstaller trusting it would delete them",
                        f"do not uninstall {dist.name} with a tool; remove its files by hand "
                        "and reinstall it from a trusted source",
                        distribution=label,
                        rows=outside,
                    )
        batches = [jobs[at : at + HASH_BATCH] for at in range(0, len(jobs), HASH_BATCH)]
        return [
            (
                batch,
                self.pool.submit(
                    _hash_files, [(path, algorithm) for *_, path, algorithm in batch]
                ),
            )
            for batch in batches
        ]

    def finish_hashing(self, pending: list[tuple[list[_Job], Future[list[Any]]]]) -> None:
        for batch, future in pending:
            for (label, dist, index, path, _), result in zip(batch, future.result()):
                self._verified(label, dist, index, path, result)

    def _verified(
        self, label: str, dist: Distribution, index: int, path: str, result: Any
    ) -> None:
        assert dist.record is not None
        entry = dist.record[index]
        assert entry.hash_ is not None
        project = label.split()[0]
        if isinstance(result, FileNotFoundError):
            self.add(
                "missing-file",
                "low",
                path,
                f"{label}'s RECORD lists it, but it is gone: the installation is incomplete",
                f"reinstall {project}",
                distribution=label,
            )
            return
        if isinstance(result, Exception):
            self.add(
                "hash-mismatch",
                "high",
                path,
                f"{label}'s file cannot be verified: {result}",
                f"inspect it, then reinstall {project}",
                distribution=label,
                error=str(result),
            )
            return
        digest, size = result
        self.report.files_hashed += 1
        self.report.bytes_hashed += size
        try:
            check(path, entry, digest, size)
        except VerificationError:
            if self._matches_another_record(dist, path, entry.hash_.name, digest, size):
                return  # a shared file (bin/) one Python's install replaced: it is intact
            self.add(
                "hash-mismatch",
                "high",
                path,
                f"its bytes no longer match {label}'s RECORD: it was changed after "
                "installation (an edit, or tampering)",
                f"inspect the change, then reinstall {project}",
                distribution=label,
                record_hash=f"{entry.hash_.name}={entry.hash_.value}",
                actual_hash=f"{entry.hash_.name}={digest}",
                record_size=entry.size,
                size=size,
            )

    def _matches_another_record(
        self, owner: Distribution, path: str, algorithm: str, digest: str, size: int
    ) -> bool:
        """Whether ``path`` is a shared script another Python's install replaced: it lies
        in the scripts directory every Python's tree shares, and a distribution of another
        Python's tree lists it in its RECORD with exactly these bytes. Nothing else is
        excused: a RECORD in the owner's own tree vouching for a file proves nothing."""
        own = next(t for t in self.report.trees if any(d is owner for d in t.distributions))
        if os.path.dirname(path) != own.scripts.rstrip(os.sep):
            return False
        for tree in self.report.trees:
            if tree is own:
                continue
            for dist in tree.distributions:
                if dist.record is None:
                    continue
                for entry, owned in zip(dist.record, dist.owned_files):
                    if owned != path or entry.hash_ is None or entry.hash_.name != algorithm:
                        continue
                    try:
                        check(path, entry, digest, size)
                    except VerificationError:
                        continue
                    return True
        return False

    def unowned(self, listed: list[tuple[str, str, str]]) -> None:
        """Files in the tree (``listed`` by :func:`_files_under`) that no RECORD lists,
        grouped by top-level entry."""
        skip_dirs = {d for t in self.report.trees if t.unreadable for d in t.site_dirs}
        skipped = tuple(d + os.sep for d in skip_dirs)
        site_dirs = {d for t in self.report.trees for d in t.site_dirs} - skip_dirs
        scripts_dirs = {t.scripts for t in self.report.trees}
        # reported by startup_code(), with what they run
        startup = {p for site_dir in site_dirs for p in _startup_paths(site_dir)}
        groups: dict[str, list[str]] = defaultdict(list)
        code: set[str] = set()
        gitignore = os.path.join(self.root, ".gitignore")
        for directory, name, path in listed:
            if path in self.owners or path == gitignore or (skipped and path.startswith(skipped)):
                continue
            source = path
            if directory.endswith(_PYCACHE):
                source = os.path.join(os.path.dirname(directory), name.partition(".")[0] + ".py")
                if source in self.owners or not os.path.exists(source):
                    continue  # bytecode that imports wrote, or dead bytecode
            key = self._group(source, site_dirs, scripts_dirs)
            if key in startup:
                continue
            groups[key].append(path)
            if name.endswith(_CODE) or directory in scripts_dirs:
                code.add(key)
        for key, files in sorted(groups.items()):
            severity: Severity = "medium" if key in code else "low"
            what = "code Python can import or run" if key in code else "files"
            self.add(
                "unowned-files",
                severity,
                key,
                f"{len(files)} file(s) here that no installed distribution's RECORD lists: "
                f"{what} that no installer put there (or an installer that kept no RECORD)",
                "delete them unless you know where they came from; reinstall what needs them",
                files=sorted(files),
            )

    def _group(self, path: str, site_dirs: set[str], scripts_dirs: set[str]) -> str:
        parent = os.path.dirname(path)
        if parent in scripts_dirs:
            return path
        for site_dir in site_dirs:
            if path.startswith(site_dir + os.sep):
                top = path[len(site_dir) + 1 :].split(os.sep)[0]
                return os.path.join(site_dir, top)
        return os.path.join(self.root, path[len(self.prefix) :].split(os.sep)[0])

    # -- git ------------------------------------------------------------------------------

    def git(self, project: Path) -> None:
        gitignore = Path(self.root) / ".gitignore"
        try:
            ignores_all = "*" in {line.strip() for line in read_small(str(gitignore)).splitlines()}
        except OSError:
            ignores_all = False
        repository, ignored = self._git_tracked(project)
        if not ignores_all and not ignored:
            in_repo = repository is not None
            self.add(
                "gitignore-missing",
                "medium" if in_repo else "low",
                str(gitignore),
                f"{DIRNAME} has no .gitignore ignoring everything (a line `*`)"
                + (
                    f", and {repository} is a git repository: one `git add .` commits it"
                    if in_repo
                    else "; the first `git init; git add .` would commit it"
                ),
                f"printf '*\\n' > {gitignore}",
                repository=repository,
            )

    def _git_tracked(self, project: Path) -> tuple[str | None, bool]:
        """Report a tracked tree; return the repository's top directory (if any) and
        whether its ignore rules already keep new files of the tree out."""
        git = shutil.which("git")
        if git is None:
            self.report.skipped.append("git: not installed; tracked files not checked")
            return None, False
        base = [git, "-c", "core.fsmonitor=false", "-C", str(project)]
        top = _quiet([*base, "rev-parse", "--show-toplevel"])
        if top is None:
            self.report.skipped.append(
                f"git: {project} is not in a repository git will open (none, or owned by "
                "another user); tracked files not checked"
            )
            return None, False
        repository = top.strip()
        probe = f"{DIRNAME}/pep582-audit-probe.py"
        ignored = _quiet([*base, "check-ignore", "-q", "--no-index", "--", probe]) is not None
        listed = _quiet([*base, "ls-files", "-z", "--", DIRNAME])
        tracked = [p for p in (listed or "").split("\0") if p]
        if tracked:
            self.add(
                "git-tracked",
                "high",
                self.root,
                f"git tracks {len(tracked)} file(s) of {DIRNAME} in {repository}: installed "
                "code (often compiled, for one platform) travels with every clone and push, "
                "and runs on the machines that check it out",
                f"git rm -r --cached {DIRNAME} && git commit (the .gitignore then keeps it out)",
                repository=repository,
                files=len(tracked),
            )
        return repository, ignored


_KIND_WORDS = {
    "builtin": "built into the interpreter",
    "frozen": "frozen into the interpreter",
    "startup": "imported during startup, before the script's directory is searched",
}


class NotRegularFile(OSError):
    """A path that should be a regular file is a FIFO, device, socket or directory."""


def open_regular(path: str) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file (after links).

    Opened non-blocking, so a FIFO planted in a tree cannot hang the audit, and checked
    with fstat, so a link to a device is refused instead of read forever.
    """
    flags = os.O_RDONLY
    if os.name == "posix":  # and never become the controlling terminal, nor leak the fd
        flags |= os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(f"{path} is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return open(fd, "rb", buffering=0)


def read_small(path: str, limit: int = 1 << 20) -> str:
    """The text of a small regular file (``.pth``, ``.gitignore``); OSError otherwise."""
    with open_regular(path) as handle:
        return handle.read(limit).decode("utf-8", errors="replace")


def _hash_files(jobs: list[tuple[str, str]]) -> list[Any]:
    """``(digest, size)`` of each ``(path, algorithm)``, or the exception it raised."""
    results: list[Any] = []
    for path, algorithm in jobs:
        try:
            with open_regular(path) as handle:
                results.append(hash_stream(handle, algorithm))
        except (OSError, ValueError) as exc:
            results.append(exc)
    return results


def _startup_paths(site_dir: str) -> list[str]:
    """The top-level ``.pth`` files and sitecustomize/usercustomize entries of a site
    directory, as :func:`pep582.step.startup.startup_files` lists them (either of its shapes:
    paths, or ``(path, is_dir)`` pairs that also name package contents and bytecode)."""
    try:
        listed = startup_files(site_dir)
    except OSError:
        return []
    top = site_dir.rstrip(os.sep)
    paths = (item if isinstance(item, str) else item[0] for item in listed)
    return sorted(p for p in paths if os.path.dirname(p) == top)


def _blocks(path: str) -> bool:
    """Whether ``path`` (not a link) is something other than a regular file or directory:
    opening a FIFO for reading waits for a writer."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode))


def _files_under(top: str) -> Iterator[tuple[str, str, str]]:
    """``(directory, name, path)`` of every non-directory under ``top`` (links to
    directories are listed, not followed)."""
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        yield directory, entry.name, entry.path
        except OSError:
            continue


def _quiet(command: list[str]) -> str | None:
    """stdout of ``command``, or None when it cannot run or fails."""
    try:
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


def _you() -> str:
    if not hasattr(os, "geteuid"):
        return "you"
    uid = os.geteuid()
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def audit(project: str | os.PathLike[str], python: str | None = None) -> Report:
    """Audit ``project`` (a directory, or its ``__pypackages__``) for the target interpreter.

    ``python`` is ``--python`` (path, command or version); by default an interpreter
    matching a site directory in the tree, as ``pep582 run`` chooses. Raises
    InterpreterError when none can be found.
    """
    start = time.perf_counter()
    path = Path(os.path.abspath(project))
    if path.name == DIRNAME:
        path = path.parent
    if not path.is_dir():
        raise SourceError(f"{path} is not a directory")
    root = path / DIRNAME
    exists = root.is_dir()
    interpreter, why = choose_python(python, root if exists else None)
    report = Report(str(path), str(root), exists, interpreter, why, stdlib_source="")
    with ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="pep582-audit") as pool:
        asked = pool.submit(stdlib_of, interpreter.executable)
        auditor = _Auditor(report, pool)
        pending = []
        if exists:
            listing = pool.submit(lambda: list(_files_under(str(root))))  # beside inventory
            auditor.read_trees(path)
            pending = auditor.start_hashing()  # runs on the pool beside the other checks
        target = asked.result()
        report.stdlib_source = target.source
        auditor.resolve_trees(target)
        auditor.project_shadowing(path)
        if exists:
            auditor.trust()
            auditor.tree_shadowing()
            auditor.duplicates()
            auditor.scripts()
            auditor.startup_code()
            auditor.unowned(listing.result())
            auditor.git(path)
            auditor.finish_hashing(pending)
        else:
            auditor.scripts_dirs_with_pypackages()
            report.skipped.append(f"{root} does not exist: only the project directory was checked")
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}
    report.findings.sort(key=lambda f: (rank[f.severity], f.check, f.path))
    report.seconds = time.perf_counter() - start
    return report


__all__ = [
    "EXIT_FINDINGS",
    "SCHEMA_VERSION",
    "SEVERITIES",
    "STDLIB_39",
    "Finding",
    "Report",
    "Tree",
    "audit",
    "find_trees",
    "module_name",
    "stdlib_of",
]
