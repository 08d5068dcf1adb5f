"""Checks of what the RECORD files promise: every listed file there and unchanged, no row
outside the tree, and no file that no RECORD (nor an editable's checkout) accounts for."""

from __future__ import annotations

import os
import shlex
from collections import defaultdict
from dataclasses import dataclass

from pep582 import proc
from pep582.audit.context import Context, quoted
from pep582.audit.drift import candidates
from pep582.audit.model import Severity, Tree
from pep582.audit.registry import declare
from pep582.errors import InterpreterError, VerificationError
from pep582.scheme import HYGIENE, scheme_for
from pep582.scheme import Tree as SchemeTree
from pep582.sources.distribution import Distribution
from pep582.sources.records import RecordEntry, check
from pep582.step.children import BOOTSTRAP, bootstrap_source, launcher_source
from pep582.step.startup import DIRNAME, startup_files, untrusted_path

FAMILY = "integrity"
DIST = "distribution"
HASH_MISMATCH = declare(
    "hash-mismatch",
    FAMILY,
    "high",
    "a file no longer matches its RECORD hash or size, or cannot be read to check it",
    {
        DIST: "",
        "record_hash": "",
        "actual_hash": "",
        "record_size": "",
        "size": "",
        "error": "instead of the hashes, when it cannot be read",
    },
)
MISSING_FILE = declare(
    "missing-file", FAMILY, "low", "a file its RECORD lists is gone", {DIST: ""}
)
UNOWNED = declare(
    "unowned-files",
    FAMILY,
    "medium for code, else low",
    "files no RECORD lists and no editable checkout holds, grouped by top-level entry",
    {"files": ""},
)
RECORD_OUTSIDE = declare(
    "record-outside",
    FAMILY,
    "high",
    "RECORD rows naming paths outside __pypackages__ (an uninstaller would delete them)",
    {DIST: "", "rows": ""},
)
RECORD_UNREADABLE = declare(
    "record-unreadable",
    FAMILY,
    "medium",
    "a site directory's distributions cannot be read (RECORD checks skipped there)",
    {"error": ""},
)
NO_RECORD = declare(
    "no-record",
    FAMILY,
    "low",
    "a distribution has no RECORD (nor installed-files.txt)",
    {DIST: ""},
)

TOOLKIT_FILE = declare(
    "toolkit-file",
    FAMILY,
    "high; medium for a launcher starting a program nobody else can change that is not a "
    "Python this machine offers for the tree; low for a launcher naming a missing "
    "interpreter nobody else can create, and for the .gitignore",
    "a file pep582-toolkit writes into the tree (the bootstrap, a launcher, conftest.py, "
    ".gitignore) is not exactly what it writes there, or a launcher does not start, by an "
    "absolute path, an existing Python for the tree that nobody else can change",
    {
        "file": "bootstrap, launcher, mypy-launcher, conftest.py or .gitignore",
        "reason": "how it differs",
        "interpreter": "what a launcher starts, when it is well formed",
    },
)

_PYCACHE = os.sep + "__pycache__"
CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".so", ".pyd", ".pth")


def plan(ctx: Context, unreadable: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """The files the walk hashes (path -> algorithms), from every RECORD; report RECORD
    rows outside the tree (never opened), distributions without a RECORD, and site
    directories whose distributions could not be read."""
    for site_dir, error in unreadable.items():
        ctx.add(
            RECORD_UNREADABLE,
            "medium",
            site_dir,
            f"its installed distributions cannot be read ({error}); RECORD checks and the "
            "unowned-file check were skipped for this tree",
            "repair or reinstall the distribution named in the message",
            error=error,
        )
    wanted: dict[str, tuple[str, ...]] = {}
    for tree in ctx.report.trees:
        for dist in tree.distributions:
            if dist.record is None:
                if dist.kind != "egg-link":
                    ctx.add(
                        NO_RECORD,
                        "low",
                        str(dist.meta_dir),
                        f"{dist.label} has no RECORD (nor installed-files.txt): its files "
                        "cannot be verified and show up as unowned",
                        reinstall(ctx, tree, dist.name),
                        distribution=dist.label,
                    )
                continue
            outside = []
            for entry, path in zip(dist.record, dist.owned_files):
                if not path.startswith(ctx.prefix):
                    outside.append(entry.path)
                elif entry.hash_ is not None:
                    algorithms = wanted.get(path, ())
                    if entry.hash_.name not in algorithms:
                        wanted[path] = (*algorithms, entry.hash_.name)
            if outside:
                shown = ", ".join(outside[:3]) + (", ..." if len(outside) > 3 else "")
                ctx.add(
                    RECORD_OUTSIDE,
                    "high",
                    str(dist.meta_dir / "RECORD"),
                    f"{dist.label}'s RECORD lists {len(outside)} path(s) outside {DIRNAME} "
                    f"({shown}): an uninstaller trusting it would delete them",
                    f"do not uninstall {dist.name} with a tool; remove its files by hand "
                    "and reinstall it from a trusted source",
                    distribution=dist.label,
                    rows=outside,
                )
    return wanted


def reinstall(ctx: Context, tree: Tree, name: str) -> str:
    """The command that writes ``name``'s files afresh, as its wheel has them."""
    python = f" --python {quoted(tree.interpreter)}" if tree.interpreter else ""
    return f"cd {quoted(str(ctx.project))} && pep582 install --reinstall{python} {name}"


def verify(ctx: Context) -> None:
    """Compare what the walk hashed with every RECORD row."""
    index = ctx.index
    for done in index.hashed.values():
        if isinstance(done, tuple):
            ctx.report.files_hashed += 1
            ctx.report.bytes_hashed += done[1]
    for tree in ctx.report.trees:
        for dist in tree.distributions:
            for entry, path in zip(dist.record or (), dist.owned_files):
                if entry.hash_ is None or not path.startswith(ctx.prefix):
                    continue
                result = index.hashed.get((path, entry.hash_.name))
                if result is None or isinstance(result, FileNotFoundError):
                    if result is None and (path in index.links or index.link_above(path)):
                        continue  # not opened through a link: the link is reported
                    ctx.add(
                        MISSING_FILE,
                        "low",
                        path,
                        f"{dist.label}'s RECORD lists it, but it is gone: the installation "
                        "is incomplete",
                        reinstall(ctx, tree, dist.name),
                        distribution=dist.label,
                    )
                elif isinstance(result, Exception):
                    why = getattr(result, "strerror", None) or str(result)
                    ctx.add(
                        HASH_MISMATCH,
                        "high",
                        path,
                        f"{dist.label}'s file cannot be verified: {why}",
                        f"inspect it, then: {reinstall(ctx, tree, dist.name)}",
                        distribution=dist.label,
                        error=why,
                    )
                else:
                    _compare(ctx, tree, dist, entry, path, *result)


def _compare(
    ctx: Context,
    tree: Tree,
    dist: Distribution,
    entry: RecordEntry,
    path: str,
    digest: str,
    size: int,
) -> None:
    assert entry.hash_ is not None
    try:
        check(path, entry, digest, size)
    except VerificationError:
        if _matches_another_record(ctx, dist, path, entry.hash_.name, digest, size):
            return  # a shared file (bin/) one Python's install replaced: it is intact
        ctx.add(
            HASH_MISMATCH,
            "high",
            path,
            f"its bytes no longer match {dist.label}'s RECORD: it was changed after "
            "installation (an edit, or tampering)",
            f"inspect the change, then: {reinstall(ctx, tree, dist.name)}",
            distribution=dist.label,
            record_hash=f"{entry.hash_.name}={entry.hash_.value}",
            actual_hash=f"{entry.hash_.name}={digest}",
            record_size=entry.size,
            size=size,
        )


def _matches_another_record(
    ctx: Context, owner: Distribution, path: str, algorithm: str, digest: str, size: int
) -> bool:
    """Whether ``path`` is a shared script another Python's install replaced: it lies in
    the scripts directory every Python's tree shares, and a distribution of another
    Python's tree lists it in its RECORD with exactly these bytes. Nothing else is
    excused: a RECORD in the owner's own tree vouching for a file proves nothing."""
    own = next(t for t in ctx.report.trees if any(d is owner for d in t.distributions))
    if os.path.dirname(path) != own.scripts.rstrip(os.sep):
        return False
    for tree in ctx.report.trees:
        if tree is own:
            continue
        for dist in tree.distributions:
            for entry, owned in zip(dist.record or (), dist.owned_files):
                if owned != path or entry.hash_ is None or entry.hash_.name != algorithm:
                    continue
                try:
                    check(path, entry, digest, size)
                except VerificationError:
                    continue
                return True
    return False


def startup_paths(site_dir: str) -> list[str]:
    """The top-level ``.pth`` files and sitecustomize/usercustomize entries of a site
    directory, as :func:`pep582.step.startup.startup_files` lists them."""
    try:
        return startup_files(site_dir)
    except OSError:
        return []


# What each file the toolkit keeps in a tree is, for messages and for the fix.
_BOOTSTRAP_KIND, _LAUNCHER, _MYPY_LAUNCHER = "bootstrap", "launcher", "mypy-launcher"
_ROLES = {
    ".gitignore": "the .gitignore that keeps the tree out of git",
    "conftest.py": "the conftest.py pytest imports whenever it runs in the project",
    _BOOTSTRAP_KIND: "the bootstrap every Python child of the tree's programs runs",
    _LAUNCHER: "the launcher the tree's programs run as sys.executable",
    _MYPY_LAUNCHER: "the launcher mypy runs as its python_executable",
}


def toolkit_paths(root: str, trees: list[Tree]) -> dict[str, tuple[str, Tree | None]]:
    """The files the toolkit keeps in a tree besides what distributions install, each
    with its kind and tree: .gitignore and conftest.py, the bootstrap, and each Python's
    launchers (``step.children``; ``pep582 ide --mypy``'s)."""
    own: dict[str, tuple[str, Tree | None]] = {
        os.path.join(root, name): (name, None) for name in HYGIENE
    }
    own[os.path.join(root, BOOTSTRAP)] = (_BOOTSTRAP_KIND, None)
    for tree in trees:
        if tree.layout == "pep582":
            own[os.path.join(tree.scripts, tree.command)] = (_LAUNCHER, tree)
            own[os.path.join(tree.scripts, f"pep582-{tree.command}")] = (_MYPY_LAUNCHER, tree)
    return own


def _launcher_interpreter(data: bytes) -> str | None:
    """The interpreter a ``bin/pythonX.Y`` launcher's ``exec`` line starts, as
    :func:`pep582.step.children.launcher_source` was given it."""
    for line in data.decode("utf-8", "replace").splitlines():
        if line.startswith("exec ") and line.endswith(' "$@"'):
            try:
                words = shlex.split(line[len("exec ") : -len(' "$@"')])
            except ValueError:
                return None
            if len(words) == 2 and words[0] == "/usr/bin/env":
                return " ".join(words)
            return words[0] if len(words) == 1 else None
    return None


@dataclass
class _Verdict:
    """Why a toolkit file is not vouched for, and how much that matters."""

    reason: str
    severity: Severity = "high"
    interpreter: str | None = None  # what a well-formed launcher starts


def _mismatch(ctx: Context, path: str, kind: str, tree: Tree | None) -> _Verdict | None:
    """Why ``path`` is not exactly what the toolkit writes there (None when it is): its
    bytes differ from every text this version writes for the tree, or a launcher starts
    an interpreter that is not one the toolkit would name for it (:func:`_interpreter`)."""
    text = ctx.index.texts.get(path)
    if not isinstance(text, str):
        return _Verdict(getattr(text, "strerror", None) or str(text))
    data = text.encode("utf-8")
    interpreter: str | None = None
    if kind in HYGIENE:
        same = data == HYGIENE[kind]
    elif kind == _BOOTSTRAP_KIND:
        same = data == bootstrap_source()
    elif kind == _LAUNCHER:
        interpreter = _launcher_interpreter(data)
        same = interpreter is not None and launcher_source(interpreter) == data
    else:
        assert tree is not None
        from pep582.operations.ide_mypy import is_launcher

        facts = tree.facts
        scheme_tree = SchemeTree(tree.layout, facts, scheme_for(ctx.project, facts, tree.layout))
        same = is_launcher(data, scheme_tree)
        interpreter = shlex.split(data.split(b"\n", 3)[2].decode())[1] if same else None
    if not same:
        return _Verdict("its content is not what this version of pep582-toolkit writes there")
    if interpreter is None:
        return None
    assert tree is not None
    verdict = _interpreter(ctx, tree, interpreter)
    if verdict is not None:
        verdict.interpreter = interpreter
    return verdict


def _interpreter(ctx: Context, tree: Tree, interpreter: str) -> _Verdict | None:
    """Why a launcher of ``tree`` starting ``interpreter`` is not vouched for, or None:
    it must name, by an absolute path, an existing program that passes the trust rule
    (:func:`pep582.proc.trusted_program`) and that is a Python this machine offers for
    the tree (the audit's interpreter for it, or one on PATH or in pyenv's versions for
    its version: what ``pep582 install --python`` names, resolved). A PATH lookup
    (``/usr/bin/env NAME``) is never vouched for: whoever runs it decides what it finds.
    A missing interpreter is judged by the nearest directory on its way that exists:
    high when someone else could create it there, else low (the launcher is broken)."""
    if interpreter.startswith("/usr/bin/env "):
        return _Verdict(
            f"it finds its interpreter by a PATH lookup ({interpreter}): what runs is "
            "whatever comes first on the PATH of whoever runs it, which the audit cannot "
            "vouch for"
        )
    if not os.path.isabs(interpreter):
        return _Verdict(
            f"it starts {interpreter} by a relative name, which the shell looks up on PATH "
            "or from the current directory of whoever runs it"
        )
    if not os.path.lexists(interpreter):
        place = os.path.dirname(interpreter)
        while not os.path.lexists(place):
            place = os.path.dirname(place)
        refused = untrusted_path(place)
        if refused:
            return _Verdict(
                f"it starts {interpreter}, which does not exist, and another user could "
                f"create it ({refused})"
            )
        return _Verdict(
            f"it starts {interpreter}, which does not exist (nobody else can create it): "
            "the tree's programs cannot start Python children",
            "low",
        )
    try:
        proc.trusted_program(interpreter, "interpreter")
    except InterpreterError as exc:
        return _Verdict(f"it starts {interpreter}, which is not safe to run: {exc}")
    known = [tree.interpreter] if tree.interpreter else []
    known += candidates(tree.facts, str(ctx.project))
    if os.path.realpath(interpreter) not in {os.path.realpath(k) for k in known}:
        return _Verdict(
            f"it starts {interpreter}, which is not a {tree.command} this machine offers "
            "for the tree (the audit's interpreter for it, PATH, pyenv); if you chose it, "
            f"audit with --python {quoted(interpreter)}",
            "medium",
        )
    return None


def toolkit_files(ctx: Context) -> None:
    """A file the toolkit writes into the tree that is not what it writes: code that runs
    (high; a launcher whose interpreter is merely missing or unknown: low or medium), or
    the .gitignore (low)."""
    for path, (kind, tree) in sorted(toolkit_paths(ctx.root, ctx.report.trees).items()):
        if ctx.index.lstat(path) is None:
            continue
        verdict = _mismatch(ctx, path, kind, tree)
        if verdict is None:
            continue
        if kind in HYGIENE:
            lines = " ".join(quoted(line) for line in HYGIENE[kind].decode().splitlines())
            fix = f"printf '%s\\n' {lines} > {quoted(path)}"
        elif kind == _MYPY_LAUNCHER:
            fix = f"cd {quoted(str(ctx.project))} && pep582 ide --mypy"
        else:
            fix = (
                f"rm -- {quoted(path)}  # the next pep582 install or uninstall that "
                "changes the tree writes it again"
            )
        details: dict[str, str] = {"file": kind, "reason": verdict.reason}
        if verdict.interpreter is not None:
            details["interpreter"] = verdict.interpreter
        ctx.add(
            TOOLKIT_FILE,
            "low" if kind == ".gitignore" else verdict.severity,
            path,
            f"a toolkit file was changed: {_ROLES[kind]}: {verdict.reason}",
            fix,
            **details,
        )


def unowned(ctx: Context) -> None:
    """Files in the tree that no RECORD lists and no editable checkout holds, grouped by
    top-level entry."""
    index = ctx.index
    skip_dirs = {d for t in ctx.report.trees if t.unreadable for d in t.site_dirs}
    skipped = tuple(d + os.sep for d in skip_dirs)
    site_dirs = {d for t in ctx.report.trees for d in t.site_dirs} - skip_dirs
    scripts_dirs = {t.scripts for t in ctx.report.trees}
    # reported by the startup-code checks, with what they run
    startup = {p for site_dir in site_dirs for p in startup_paths(site_dir)}
    groups: dict[str, list[str]] = defaultdict(list)
    code: set[str] = set()
    own = set(toolkit_paths(ctx.root, ctx.report.trees))  # toolkit_files reports them
    for directory, name, path in index.files:
        if path in own or (skipped and path.startswith(skipped)):
            continue
        if path in ctx.owners or (ctx.checkouts and ctx.owning_dist(path)):
            continue
        source = path
        if directory.endswith(_PYCACHE):
            source = os.path.join(os.path.dirname(directory), name.partition(".")[0] + ".py")
            if ctx.owning_dist(source) or index.lstat(source) is None:
                continue  # bytecode that imports wrote, or dead bytecode
        key = _group(ctx, source, site_dirs, scripts_dirs)
        if key in startup:
            continue
        groups[key].append(path)
        if name.endswith(CODE_SUFFIXES) or directory in scripts_dirs:
            code.add(key)
    for key, files in sorted(groups.items()):
        severity: Severity = "medium" if key in code else "low"
        what = "code Python can import or run" if key in code else "files"
        ctx.add(
            UNOWNED,
            severity,
            key,
            f"{len(files)} file(s) here that no installed distribution's RECORD lists: "
            f"{what} that no installer put there (or an installer that kept no RECORD)",
            "delete them unless you know where they came from; reinstall what needs them",
            files=sorted(files),
        )


def _group(ctx: Context, path: str, site_dirs: set[str], scripts_dirs: set[str]) -> str:
    parent = os.path.dirname(path)
    if parent in scripts_dirs:
        return path
    for site_dir in site_dirs:
        if path.startswith(site_dir + os.sep):
            top = path[len(site_dir) + 1 :].split(os.sep)[0]
            return os.path.join(site_dir, top)
    return os.path.join(ctx.root, path[len(ctx.prefix) :].split(os.sep)[0])
