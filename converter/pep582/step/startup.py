"""The PEP 582 startup step: put the applicable ``__pypackages__`` on ``sys.path``.

This module is the reference implementation of the PEP's rules, and their only home: the
layout, which directory applies, when the step is off, the trust rule, the placement on
``sys.path`` and what children inherit. It imports only the standard library and nothing
else from ``pep582``, so ``pep582 enable`` can copy it into any interpreter (CPython or
PyPy, 3.9+) as ``_pep582_step.py``; the one-line ``.pth`` (and, for 3.15+, the ``.start``
entry point) that imports it only when a candidate directory exists is :data:`FRONT_DOOR`;
console-script wrappers and the ``site.py`` patch embed the functions they need, cut from
this file by ``pep582.step.slicer``.
"""

import os
import sys

HOOK_VERSION = "5"
DIRNAME = "__pypackages__"
# Names a __pypackages__ for a process and its children (set when a tree is activated).
ENV_VAR = "PYTHONPYPACKAGES"
# Switches the step off for a user (non-empty), like -X nopypackages.
OFF_VAR = "PYTHONNOPYPACKAGES"
OFF_XOPTION = "nopypackages"
# The pyvenv.cfg key by which a virtual environment opts in to the step.
VENV_KEY = "include-local-packages"
HOOK_NAME = "_pep582_hook"  # the .pth/.start name pep582 enable writes into site-packages
# Where a tree keeps the sitecustomize that lets children without the hook do the step.
BOOTSTRAP_DIR = ".pep582"
# sys.argv[0] while site runs, for the invocations whose __pypackages__ is the cwd's.
CWD_ARGV0 = ("", "-", "-c", "-m")
# Files a site directory runs at startup besides its .pth files.
CUSTOMIZE = ("sitecustomize", "usercustomize")
MAX_LINKS = 40  # links followed while resolving one path, as the kernel's limit

# The cheap first half of the step as one expression over ``os`` and ``sys``: is there
# any directory the step could use? It never says no when the step would say yes (a test
# runs every rule case through both); only then is the step imported. pep582 enable
# writes it as the import line of _pep582_hook.pth and as the body of the
# _pep582_hook:activate entry point a .start file names (Python 3.15+, PEP 829).
FRONT_DOOR = (
    '(lambda a: sys.flags.no_site or sys.flags.isolated or getattr(sys.flags, "safe_path", 0)'
    ' or not (os.environ.get("PYTHONPYPACKAGES") or "nopypackages" in getattr(sys,'
    ' "_xoptions", {}) or os.path.isdir(os.path.join("" if a in'
    ' ("", "-", "-c", "-m") else a if os.path.isdir(a) else'
    ' os.path.dirname(os.path.realpath(a)), "__pypackages__"))) or'
    ' __import__("_pep582_step").activate(a))(sys.argv[0] if sys.argv else "")'
)


# -- the layout ------------------------------------------------------------------------------


def scheme_paths(
    base: str,
    *,
    implementation: str,
    version: "tuple[int, int]",
    freethreaded: bool = False,
    abiflags: str = "",
    platlibdir: str = "lib",
    os_name: str = "posix",
    platform_suffix: str = "",
) -> "dict[str, str]":
    """Return the "localpackages" scheme rooted at ``base`` (a ``__pypackages__`` path).

    POSIX: ``posix_prefix`` with ``base = platbase = installed_base = base``. Windows: the
    ``nt_user`` shape, version-specific (``platform_suffix`` is ``-32`` or ``-arm64`` as in
    ``sys.winver``). Only PyPy names its directories after itself (``pypy3.10``); every
    other implementation uses ``python3.X``/``Python3XX``, as its sysconfig does. The keys
    are sysconfig's: purelib, platlib, scripts, include, data.

    >>> scheme_paths("/p/__pypackages__", implementation="cpython", version=(3, 12))["purelib"]
    '/p/__pypackages__/lib/python3.12/site-packages'
    """
    major, minor = version
    thread = "t" if freethreaded else ""
    name = "PyPy" if implementation == "pypy" else "Python"
    if os_name == "nt":
        root = f"{base}\\{name}{major}{minor}{thread}{platform_suffix}"
        site_dir = f"{root}\\site-packages"
        return {
            "purelib": site_dir,
            "platlib": site_dir,
            "scripts": f"{root}\\Scripts",
            "include": f"{root}\\Include",
            "data": base,
        }
    tag = f"{name.lower()}{major}.{minor}"
    return {
        "purelib": f"{base}/lib/{tag}{thread}/site-packages",
        "platlib": f"{base}/{platlibdir}/{tag}{thread}/site-packages",
        "scripts": f"{base}/bin",
        "include": f"{base}/include/{tag}{abiflags}",
        "data": base,
    }


def running_scheme(base: str) -> "dict[str, str]":
    """The localpackages scheme of the running interpreter, rooted at ``base``."""
    winver = getattr(sys, "winver", "")
    if os.name == "nt":
        head, _, tail = winver.partition("-")
        freethreaded, abiflags, suffix = head.endswith("t"), "", f"-{tail}" if tail else ""
    else:
        abiflags = getattr(sys, "abiflags", "")
        freethreaded, suffix = "t" in abiflags, ""
    return scheme_paths(
        base,
        implementation=sys.implementation.name,
        version=(sys.version_info[0], sys.version_info[1]),
        freethreaded=freethreaded,
        abiflags=abiflags,
        platlibdir=getattr(sys, "platlibdir", "lib"),
        os_name=os.name,
        platform_suffix=suffix,
    )


# -- when the step is off ------------------------------------------------------------------------


def venv_opts_in(prefix: "str | None" = None) -> bool:
    """Whether the virtual environment at ``prefix`` (default: the running one) opts in to
    the step: ``include-local-packages = true`` in its ``pyvenv.cfg``, or this step's hook
    installed into its own site-packages (``pep582 enable`` for that environment)."""
    prefix = sys.prefix if prefix is None else prefix
    setting: bool | None = None
    try:
        with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8") as handle:
            # Read as site reads its own keys: the last line naming the key decides.
            for line in handle:
                key, sep, value = line.partition("=")
                if sep and key.strip().lower() == VENV_KEY:
                    setting = value.strip().lower() == "true"
    except (OSError, UnicodeDecodeError):
        pass
    if setting is not None:
        return setting
    import site

    return any(
        os.path.isfile(os.path.join(directory, HOOK_NAME + ".pth"))
        for directory in site.getsitepackages([prefix])
    )


def disabled_by(flags: object = None, environ: object = None) -> "str | None":
    """Say what switches the step off for this process, or None when it applies.

    ``-S``, ``-I``, ``-P``/``PYTHONSAFEPATH``; the user's switch (``PYTHONNOPYPACKAGES``,
    ``-X nopypackages``); a virtual environment that does not opt in; an interpreter an
    application embeds (it has no command line: ``sys.orig_argv`` is empty, 3.10+);
    Windows, where this reference implementation does not implement the trust rule; a
    process whose real and effective IDs differ.
    """
    flags = sys.flags if flags is None else flags
    env = os.environ if environ is None else environ
    ignore_env = getattr(flags, "ignore_environment", 0)
    if getattr(flags, "no_site", 0):
        return "site is disabled (-S)"
    if getattr(flags, "isolated", 0):
        return "isolated mode (-I)"
    if getattr(flags, "safe_path", False):
        return "safe-path mode (-P or PYTHONSAFEPATH)"
    # Before 3.11 the interpreter ignores PYTHONSAFEPATH; the step still honours it.
    if not hasattr(flags, "safe_path") and not ignore_env and env.get("PYTHONSAFEPATH"):  # type: ignore[attr-defined]
        return "safe-path mode (PYTHONSAFEPATH)"
    if OFF_XOPTION in getattr(sys, "_xoptions", {}):
        return f"switched off (-X {OFF_XOPTION})"
    if not ignore_env and env.get(OFF_VAR):  # type: ignore[attr-defined]
        return f"switched off ({OFF_VAR})"
    if os.name == "nt":
        return "the trust rule is not implemented on Windows in this reference implementation"
    if os.getuid() != os.geteuid() or os.getgid() != os.getegid():
        return "real and effective user or group IDs differ (as site skips the user site)"
    if getattr(sys, "orig_argv", None) == []:  # 3.10+: initialised by an embedding program
        return "an embedded interpreter (no command line of its own)"
    if sys.prefix != getattr(sys, "base_prefix", sys.prefix) and not venv_opts_in():
        return (
            f"a virtual environment ({sys.prefix}) that does not opt in "
            f"({VENV_KEY} = true in its pyvenv.cfg)"
        )
    return None


def inherited(flags: object = None, environ: object = None) -> "str | None":
    """The ``__pypackages__`` a parent process named in ``PYTHONPYPACKAGES``, if honoured
    (an absolute path; ignored under ``-E`` and ``-I``, like every ``PYTHON*`` variable)."""
    flags = sys.flags if flags is None else flags
    env = os.environ if environ is None else environ
    if getattr(flags, "ignore_environment", 0):
        return None
    value = env.get(ENV_VAR)  # type: ignore[attr-defined]
    return value if value and os.path.isabs(value) else None


# -- which directory applies ---------------------------------------------------------------------


def locate(argv0: str, cwd: "str | None" = None) -> "tuple[str | None, str | None]":
    """Return ``(__pypackages__ path, script path)`` for an invocation, or ``(None, None)``.

    ``argv0`` is ``sys.argv[0]`` as it is while ``site`` runs: ``''`` (REPL, stdin, an
    embedding application), ``'-'`` (script from stdin), ``'-c'``, ``'-m'``, or the
    script, directory or zip argument. The path returned need not exist. The script path
    is the real path of the file being run (a directory's ``__main__.py``), whose owner
    the trust rule accepts.
    """
    if argv0 in CWD_ARGV0:
        try:
            cwd = cwd or os.getcwd()
        except OSError:  # the current directory was deleted: nothing applies
            return None, None
        return os.path.join(cwd, DIRNAME), None
    if os.path.isdir(argv0):
        where = os.path.realpath(argv0)
        return os.path.join(where, DIRNAME), os.path.join(where, "__main__.py")
    script = os.path.realpath(argv0)
    if not os.path.isfile(script):
        # A pipe, a device, a name that does not exist: nothing is beside it.
        return None, None
    candidate = os.path.join(os.path.dirname(script), DIRNAME)
    if os.path.isdir(candidate) and _is_zip(script):
        # Python puts the archive itself first on sys.path; nothing beside it applies.
        return None, None
    return candidate, script


def _is_zip(path: str) -> bool:
    if not os.path.isfile(path):
        return False
    import zipimport

    try:
        zipimport.zipimporter(path)
    except Exception:
        return False
    return True


def applying(
    argv0: str, cwd: "str | None" = None, flags: object = None, environ: object = None
) -> "tuple[str | None, str | None, str]":
    """The ``__pypackages__`` that applies to an invocation (need not exist), the script
    whose owner the trust rule allows, and where the directory came from.

    A tree a parent named (``PYTHONPYPACKAGES``) applies to an invocation located by the
    current directory (``-c``, ``-m``, the prompt, stdin: a multiprocessing worker, a
    ``sys.executable -m tool``), ahead of the current directory's own, as an activated
    environment stays active after ``cd``. A script keeps its own directory's tree; with
    none beside it, it takes the parent's only when it lies in the project that holds
    that tree and outside the tree itself (a project's helper script, not
    ``/usr/bin/tool``, another project's program or a build backend's helper).
    """
    pypackages, script = locate(argv0, cwd)
    origin = "current directory" if argv0 in CWD_ARGV0 else "script"
    parent = inherited(flags, environ)
    if parent is None:
        return pypackages, script, origin
    if argv0 not in CWD_ARGV0:
        if pypackages is not None and os.path.isdir(pypackages):
            return pypackages, script, origin
        tree = os.path.realpath(parent)
        real = os.path.realpath(argv0)
        inside = real.startswith(os.path.dirname(tree) + os.sep)
        if not inside or real == tree or real.startswith(tree + os.sep):
            return pypackages, script, origin
    return parent, None, ENV_VAR


# -- the trust rule -----------------------------------------------------------------------------

# POSIX ACL entry tags and the write permission bit (linux/posix_acl_xattr.h).
_ACL_USER, _ACL_GROUP_OBJ, _ACL_GROUP, _ACL_MASK, _ACL_WRITE = 0x02, 0x04, 0x08, 0x10, 0x02


def _acl_entries(path: str) -> "list[tuple[int, int, int]] | None":
    """``(tag, permissions, id)`` of ``path``'s POSIX access ACL; None when it has none."""
    try:
        raw = os.getxattr(path, "system.posix_acl_access", follow_symlinks=False)
    except (AttributeError, OSError):  # no xattr support, or no ACL beyond the mode bits
        return None
    return [
        (
            int.from_bytes(raw[at : at + 2], "little"),
            int.from_bytes(raw[at + 2 : at + 4], "little"),
            int.from_bytes(raw[at + 4 : at + 8], "little"),
        )
        for at in range(4, len(raw) - 7, 8)
    ]


_private: "dict[int, int | None]" = {}


def _private_to(gid: int) -> "int | None":
    """The uid of the user whose private group ``gid`` is, or None: the group has a
    user's name, is that user's primary group and lists no other member. Decided from
    the two entries alone, never by listing every user (a directory service may not
    list them, and listing them is slow)."""
    if gid not in _private:
        found = None
        try:
            import grp
            import pwd

            group = grp.getgrgid(gid)
            user = pwd.getpwnam(group.gr_name)
            if user.pw_gid == gid and set(group.gr_mem) <= {user.pw_name}:
                found = user.pw_uid
        except (ImportError, KeyError):
            pass
        _private[gid] = found
    return _private[gid]


def _name_of(ident: int, group: bool = False) -> str:
    try:
        if group:
            import grp

            return f"group {grp.getgrgid(ident).gr_name}"
        import pwd

        return f"{pwd.getpwuid(ident).pw_name} (uid {ident})"
    except (ImportError, KeyError):
        return f"{'gid' if group else 'uid'} {ident}"


def foreign_writers(
    path: str, info: "os.stat_result", allowed: "set[int] | None" = None
) -> "str | None":
    """Who, besides the owner, root and the ``allowed`` users, may write ``path``; None
    when nobody may.

    Other-write always counts; group-write counts unless the group is the private group of
    one of those users (:func:`_private_to`); POSIX ACL entries count with the ACL mask
    applied.
    Only a group-write bit can hide an ACL grant (it shows the mask), so the ACL is read
    only then.
    """
    mode = info.st_mode
    if mode & 0o002:
        return f"others (mode {oct(mode & 0o7777)})"
    if not mode & 0o020:
        return None
    trusted = {info.st_uid, 0, *(allowed or ())}
    acl = _acl_entries(path)
    if acl is None:
        if _private_to(info.st_gid) in trusted:
            return None
        return f"{_name_of(info.st_gid, True)} (mode {oct(mode & 0o7777)})"
    mask = next((perm for tag, perm, _ in acl if tag == _ACL_MASK), 0o7)
    for tag, perm, ident in acl:
        if not perm & mask & _ACL_WRITE:
            continue
        if tag == _ACL_USER and ident not in trusted:
            return f"{_name_of(ident)} (ACL)"
        if tag == _ACL_GROUP_OBJ:
            ident = info.st_gid
        if tag in (_ACL_GROUP, _ACL_GROUP_OBJ) and _private_to(ident) not in trusted:
            return f"{_name_of(ident, True)} (ACL)"
    return None


class _Verdict(Exception):
    """Why a tree is refused (raised inside judge, returned as text)."""


def _judge(path: str, info: "os.stat_result", allowed: "set[int]", sticky_ok: bool) -> None:
    """One entry by the owner/write rule (``info`` is its lstat)."""
    import stat

    if info.st_uid not in allowed:
        raise _Verdict(f"{path} is owned by {_name_of(info.st_uid)}, not by {_owners(allowed)}")
    if stat.S_ISLNK(info.st_mode):
        return  # a link's own mode means nothing; its directory and owner are what count
    writers = foreign_writers(path, info, allowed)
    if writers and not sticky_ok:
        raise _Verdict(f"{path} is writable by {writers}")
    if writers and not info.st_mode & stat.S_ISVTX:
        raise _Verdict(f"{path} is writable by {writers} and has no sticky bit")


def _owners(allowed: "set[int]") -> str:
    others = sorted(allowed - {0, os.geteuid()})
    return "you or root" + "".join(f" or {_name_of(uid)}" for uid in others)


def _resolve(
    here: str, parts: "list[str]", allowed: "set[int]", strict_from: int, links: "list[int]"
) -> str:
    """The real path of ``here`` (a real directory already judged) joined with ``parts``,
    resolved once, component by component, judging everything met on the way: each
    directory passed (one writable by others is accepted, with the sticky bit, only for
    components before index ``strict_from``), each link (it must belong to an allowed
    user; its target is resolved the same way, the target's last component as strictly as
    the link itself). A component that does not exist ends the walk: the path so far
    plus the rest is returned, unjudged past that point."""
    import stat

    for index, name in enumerate(parts):
        if name in ("", os.curdir):
            continue
        if name == os.pardir:
            here = os.path.dirname(here)
            continue
        candidate = os.path.join(here, name)
        try:
            info = os.lstat(candidate)
        except FileNotFoundError:
            return os.path.join(candidate, *parts[index + 1 :])
        sticky_ok = index < strict_from
        _judge(candidate, info, allowed, sticky_ok)
        if not stat.S_ISLNK(info.st_mode):
            here = candidate
            continue
        links[0] += 1
        if links[0] > MAX_LINKS:
            raise _Verdict(f"{candidate}: too many levels of links")
        target = os.readlink(candidate)
        start = here
        if os.path.isabs(target):
            start = _root(allowed)
        steps = _parts(target)
        here = _resolve(start, steps, allowed, len(steps) if sticky_ok else len(steps) - 1, links)
    return here


def _parts(path: str) -> "list[str]":
    return [p for p in path.split(os.sep) if p]


def _root(allowed: "set[int]") -> str:
    _judge(os.sep, os.lstat(os.sep), allowed, True)
    return os.sep


def _resolve_path(path: str, allowed: "set[int]", strict_last: bool) -> str:
    """:func:`_resolve` of an absolute path from the filesystem root; with
    ``strict_last`` its last component is judged strictly, the rest leniently."""
    steps = _parts(os.path.abspath(path))
    return _resolve(_root(allowed), steps, allowed, len(steps) - strict_last, [0])


def _judge_named(path: str, allowed: "set[int]", what: str) -> None:
    """A place the tree points at (a ``.pth`` line, a link): resolved and judged like the
    tree; when it does not exist yet, the nearest directory that does must be writable by
    nobody else (no one may create it)."""
    try:
        real = _resolve_path(path, allowed, True)
        while not os.path.lexists(real):
            real = os.path.dirname(real)
        _judge(real, os.lstat(real), allowed, False)
    except _Verdict as verdict:
        raise _Verdict(f"{what} leads to {verdict}") from None


def _judge_site_entries(site_dir: str, allowed: "set[int]") -> None:
    """Everything one level inside a site directory (modules, packages, ``.pth`` and
    ``.start`` files, ``__pycache__`` and what it holds, ``sitecustomize``/
    ``usercustomize`` whole), by the owner/write rule; the places ``.pth`` lines and
    links name, by :func:`_judge_named`. Deeper files are ``pep582 audit``'s job."""
    import stat

    pending = [site_dir]
    first = True
    while pending:
        here = pending.pop()
        with os.scandir(here) as entries:
            for entry in entries:
                info = entry.stat(follow_symlinks=False)
                path = entry.path
                if stat.S_ISLNK(info.st_mode):
                    _judge(path, info, allowed, False)
                    _judge_named(path, allowed, path)
                    continue
                if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                    # a FIFO named x.pth would stop site (and us) reading it forever
                    raise _Verdict(f"{path} is not a regular file or directory")
                if info.st_uid not in allowed or info.st_mode & 0o022:
                    _judge(path, info, allowed, False)
                if not first or not stat.S_ISDIR(info.st_mode):
                    if first and entry.name.endswith(".pth"):
                        _judge_pth(path, site_dir, allowed)
                    continue
                if entry.name == "__pycache__" or entry.name.partition(".")[0] in CUSTOMIZE:
                    pending.append(path)
        first = False


def startup_files(site_dir: str) -> "list[str]":
    """The files of ``site_dir`` that run at startup: ``.pth`` and ``.start`` files and
    top-level ``sitecustomize``/``usercustomize`` modules or packages (for reports;
    :func:`judge` checks every entry of the directory)."""
    return sorted(
        os.path.join(site_dir, name)
        for name in os.listdir(site_dir)
        if name.endswith((".pth", ".start")) or name.partition(".")[0] in CUSTOMIZE
    )


# Line breaks str.splitlines() honours besides \n, \r and \r\n. site.py splits a .pth
# file's text with splitlines() from 3.13 on, but reads it line by line with universal
# newlines (\n, \r, \r\n only) on 3.9-3.12, so a .pth holding one of these (or a NUL,
# which ends site's reading of the file) is refused: every version must read the lines
# the rule judged.
PTH_ODD_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00"


def pth_lines(data: bytes) -> "list[tuple[int, str]]":
    """``(number, line)`` for each line of a ``.pth`` file as ``site.py`` reads it on
    every version from 3.9: UTF-8 text split at ``\n``, ``\r`` and ``\r\n``; with a
    byte-order mark the first line comes twice, with it (3.9-3.12 keep it) and without
    (3.13+ drop it). ValueError naming what versions would read differently: text that is
    not UTF-8 (read in the locale's encoding), any other line break, a NUL."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"is not UTF-8 text (byte {exc.start}), which site.py reads in the locale's encoding"
        ) from None
    odd = [text.index(char) for char in PTH_ODD_BREAKS if char in text]
    if odd:
        at = min(odd)
        number = text[:at].replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
        what = "a NUL" if text[at] == "\0" else "a line break site.py honours only on 3.13+"
        raise ValueError(f"line {number} holds {text[at]!r}, {what}")
    lines = list(enumerate(text.splitlines(), start=1))
    if text.startswith("\ufeff"):
        lines.insert(0, (1, lines[0][1][1:]))
    return lines


def pth_kind(line: str) -> str:
    """What ``site.py`` does with one line of a ``.pth`` file: ``"skip"`` (a comment or
    blank), ``"import"`` (executed) or ``"path"`` (``line.rstrip()`` is joined to the site
    directory)."""
    if line.startswith("#") or not line.strip():
        return "skip"
    if line.startswith(("import ", "import\t")):
        return "import"
    return "path"


def _judge_pth(path: str, site_dir: str, allowed: "set[int]") -> None:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return
    try:
        lines = pth_lines(data)
    except ValueError as exc:
        raise _Verdict(f"{path} {exc}") from None
    for number, line in lines:
        if pth_kind(line) == "path":
            _judge_named(os.path.join(site_dir, line.rstrip()), allowed, f"{path}:{number}")


def _judge_tree(
    pypackages: str,
    candidates: "list[str]",
    owner: "str | None",
    also: "list[str] | tuple[str, ...]",
) -> "tuple[str, list[str]]":
    """:func:`judge`'s work: ``(the resolved __pypackages__, resolved site directories)``
    or a :class:`_Verdict`/OSError."""
    allowed = {0, os.geteuid()}
    if owner and os.path.exists(owner):
        allowed.add(os.stat(owner).st_uid)
    holder, name = os.path.split(os.path.abspath(pypackages))
    real_holder = _resolve_path(holder, allowed, False)
    if not (candidates or also):
        return os.path.join(real_holder, name), []
    real_base = _resolve(real_holder, [name], allowed, 0, [0])
    _judge(real_base, os.lstat(real_base), allowed, False)
    resolved: list[str] = []
    for candidate in candidates:
        relative = os.path.relpath(os.path.abspath(candidate), os.path.abspath(pypackages))
        here = real_base
        for part in _parts(relative):  # each part strictly, wherever links lead
            here = _resolve(here, [part], allowed, 0, [0])
        if here not in resolved and os.path.isdir(here):
            resolved.append(here)
    for extra in also:
        _resolve_path(extra, allowed, True)
    for site_dir in resolved:
        _judge_site_entries(site_dir, allowed)
    return real_base, resolved


def judge(
    pypackages: str,
    candidates: "list[str]",
    owner: "str | None" = None,
    also: "list[str] | tuple[str, ...]" = (),
) -> "tuple[list[str], str | None]":
    """Apply the trust rule; return ``(resolved site directories, None)`` or ``([], why)``.

    Each path is resolved once, walking it component by component from the filesystem
    root, and everything met is judged on the way (see :func:`_resolve`); the resolved
    strings are what goes on ``sys.path``, so swapping a link later changes nothing.
    Every directory from the root down to the directory holding ``__pypackages__`` and
    down to each site directory must be owned by root, the effective user or the owner of
    ``owner`` (the script being run, or the current directory for ``-c``/``-m``/the
    prompt), and be writable by nobody else (other-write; group-write unless the group is
    the private group of one of those users; ACL grants); every link met must belong to one of
    them. A directory writable by others is accepted only with the sticky bit and only
    above the tree: never ``__pypackages__`` or anything reached from it down to a site
    directory, wherever links lead. Every entry one level inside a site directory passes
    the same owner/write rule, and so do the places ``.pth`` lines and links there name.
    ``also``: more paths of the tree to judge strictly, never activated (a console script
    and its folder). With no candidates, only the holder's chain is judged.
    """
    return judged(pypackages, candidates, owner, also)[1:]


def judged(
    pypackages: str,
    candidates: "list[str]",
    owner: "str | None" = None,
    also: "list[str] | tuple[str, ...]" = (),
) -> "tuple[str, list[str], str | None]":
    """:func:`judge`, with the resolved ``__pypackages__`` first ("" when refused): what a
    caller that also exports the tree to children needs."""
    try:
        root, resolved = _judge_tree(pypackages, candidates, owner, also)
    except _Verdict as verdict:
        return "", [], str(verdict)
    except OSError as exc:
        return "", [], f"cannot inspect it ({exc.strerror}: {exc.filename})"
    return root, resolved, None


def trusted_real_path(path: str) -> "tuple[str, str | None]":
    """``(real path, None)`` when nobody but root or the effective user could change what
    the file or directory ``path`` is — every directory and link met while resolving it,
    and the result, pass the owner/write rule (a sticky directory above is fine) — else
    ``("", why)``. The converter asks this before it runs or names a program."""
    allowed = {0, os.geteuid()}
    try:
        real = _resolve_path(path, allowed, True)
        _judge(real, os.lstat(real), allowed, False)
    except _Verdict as verdict:
        return "", str(verdict)
    except OSError as exc:
        return "", f"cannot inspect it ({exc.strerror}: {exc.filename})"
    return real, None


def untrusted_path(path: str) -> "str | None":
    """Why another user could change what ``path`` is (see :func:`trusted_real_path`),
    or None when nobody could."""
    return trusted_real_path(path)[1]


def printable(text: str) -> str:
    """``text`` with control characters escaped, so a file name cannot rewrite the
    terminal line or split the one-line warning."""
    return "".join(
        c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii")
        for c in text
    )


def warn(message: str) -> None:
    """The step's one line on stderr."""
    sys.stderr.write(f"pep582: {printable(message)}\n")


# -- the decision ---------------------------------------------------------------------------------


class Decision:
    """What the step decides for one invocation (``pep582 where`` prints it)."""

    def __init__(self, disabled: "str | None" = None) -> None:
        self.disabled = disabled  # what switches the step off, if anything
        self.pypackages: str | None = None  # the one directory that applies
        self.origin = ""  # "script", "current directory" or the variable's name
        self.script: str | None = None  # real path of the script being run
        self.exists = False
        self.scheme: dict[str, str] = {}
        self.candidates: list[str] = []  # purelib and platlib, deduplicated
        self.present: list[str] = []  # the candidates that are directories
        self.refused: str | None = None  # why the trust rule refused it
        self.activate: list[str] = []  # what goes on sys.path: resolved site directories
        self.root = ""  # the resolved __pypackages__ those belong to
        # children may be pointed at it: accepted without the script/cwd owner's allowance
        self.exportable = False

    def as_dict(self) -> "dict[str, object]":
        return dict(vars(self))


def describe(
    argv0: str, cwd: "str | None" = None, flags: object = None, environ: object = None
) -> Decision:
    """Decide, without changing anything, what the step does for one invocation.

    The directory the invocation's own rule locates wins when it exists; a
    ``PYTHONPYPACKAGES`` inherited from a parent applies otherwise (a child started in
    another directory, a program whose own directory holds none).
    """
    decision = Decision(disabled_by(flags, environ))
    if decision.disabled:
        return decision
    pypackages, script, decision.origin = applying(argv0, cwd, flags, environ)
    if pypackages is None:
        return decision
    decision.pypackages, decision.script = pypackages, script
    decision.exists = os.path.isdir(pypackages)
    decision.scheme = running_scheme(pypackages)
    decision.candidates = list(
        dict.fromkeys([decision.scheme["purelib"], decision.scheme["platlib"]])
    )
    if not decision.exists:
        return decision
    decision.present = [d for d in decision.candidates if os.path.isdir(d)]
    if decision.present:
        found = judged(pypackages, decision.present)
        decision.exportable = found[2] is None
        if found[2] and decision.origin != ENV_VAR:
            # what Python puts first on sys.path already belongs to this owner
            owner = script or os.path.dirname(os.path.abspath(pypackages))
            found = judged(pypackages, decision.present, owner)
        decision.root, decision.activate, decision.refused = found
    return decision


# -- the placement --------------------------------------------------------------------------------


def _site_key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _first_site_index() -> int:
    """Index of the first site-packages entry (user site if enabled) in ``sys.path``."""
    import site

    site_dirs = set()
    if site.ENABLE_USER_SITE:
        site_dirs.add(_site_key(site.getusersitepackages()))
    # A venv's site-packages is processed before site.PREFIXES names it: ask for both.
    prefixes = [*site.PREFIXES, sys.prefix, sys.exec_prefix]
    site_dirs.update(_site_key(p) for p in site.getsitepackages(prefixes))
    for index, entry in enumerate(sys.path):
        if _site_key(entry) in site_dirs:
            return index
    return len(sys.path)


def add_site_dirs(dirs: "list[str]") -> "list[str]":
    """Add ``dirs`` as site directories just before the first site-packages entry.

    ``.pth`` (and, from 3.15, ``.start``) files in them are processed by ``site``; a
    directory already on ``sys.path`` is skipped, so running the step twice adds nothing
    twice. Returns the entries added.
    """
    import site

    present = {_site_key(p) for p in sys.path}
    added: list[str] = []
    for directory in dirs:
        if _site_key(directory) in present:
            continue
        before = set(sys.path)
        site.addsitedir(directory)
        new = [p for p in sys.path if p not in before]
        for entry in new:
            sys.path.remove(entry)
        index = _first_site_index()
        sys.path[index:index] = new
        present.update(_site_key(p) for p in new)
        added.extend(new)
    return added


def purge(pypackages: str) -> None:
    """Take off ``sys.path`` whatever lies in a refused tree (an older hook without the
    trust rule may have put it there before this step ran)."""
    root = os.path.realpath(pypackages)
    sys.path[:] = [
        p
        for p in sys.path
        if not (os.path.realpath(p or os.curdir) + os.sep).startswith(root + os.sep)
    ]


# -- children -----------------------------------------------------------------------------------


def export(pypackages: str, launcher: bool = False) -> None:
    """Let child processes use what this process uses from ``pypackages`` (resolved,
    accepted without an owner's allowance).

    Sets ``PYTHONPYPACKAGES`` (a Python child started from any directory, whose own
    invocation names no ``__pypackages__``, uses this one), puts the tree's scripts
    directory first on ``PATH`` (its console scripts are found by name), the tree's
    bootstrap directory (:data:`BOOTSTRAP_DIR`, when the converter wrote one) first on
    ``PYTHONPATH`` (a Python child without the hook still performs the step), and the data
    directories first on Jupyter's search paths (tools consult those instead of
    ``sys.prefix``). With ``launcher`` (a console script, ``pep582 run``), ``sys.executable``
    becomes the tree's launcher for this Python (:func:`launcher_of`), so what a program
    starts or records by ``sys.executable`` (a Jupyter kernel, a pre-commit git hook)
    performs the step too. Each place must pass the trust rule, since what is found there
    runs.
    """
    os.environ[ENV_VAR] = pypackages
    scripts = running_scheme(pypackages)["scripts"]
    for variable, place in (
        ("PATH", scripts),
        ("PYTHONPATH", os.path.join(pypackages, BOOTSTRAP_DIR)),
        ("JUPYTER_PATH", os.path.join(pypackages, "share", "jupyter")),
        ("JUPYTER_CONFIG_PATH", os.path.join(pypackages, "etc", "jupyter")),
    ):
        current = [p for p in os.environ.get(variable, "").split(os.pathsep) if p]
        if not os.path.isdir(place) or current[:1] == [place]:
            continue
        _, refused = judge(pypackages, [], None, also=[os.path.dirname(place), place])
        if refused:
            warn(f"not adding {place} to {variable}: {refused}")
            continue
        # First, once: an earlier copy further down would be shadowed anyway.
        os.environ[variable] = os.pathsep.join([place, *(p for p in current if p != place)])
    own = launcher_of(pypackages)
    if launcher and os.path.isfile(own):
        _, refused = judge(pypackages, [], None, also=[scripts, own])
        if refused:
            warn(f"not running children with {own}: {refused}")
        else:
            sys.executable = own


def launcher_of(pypackages: str) -> str:
    """The tree's launcher for the running Python (``bin/pythonX.Y``): that interpreter
    with the tree's bootstrap on ``PYTHONPATH``, written by the converter."""
    name = "pypy" if sys.implementation.name == "pypy" else "python"
    thread = "t" if "t" in getattr(sys, "abiflags", "") else ""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}{thread}"
    return os.path.join(running_scheme(pypackages)["scripts"], f"{name}{version}")


# -- the step -------------------------------------------------------------------------------------

_done: "dict[str, str | None]" = {}  # argv0 → the __pypackages__ children may be given


def activate(argv0: "str | None" = None, launcher: bool = False) -> "list[str]":
    """Run the PEP 582 step for this process (the front door calls this at startup once
    it found a candidate directory; ``pep582 run`` and the tree's bootstrap call it with
    ``launcher``, see :func:`export`).

    Never raises: a startup hook must not stop the interpreter. A refused directory is
    reported in one line on stderr. Returns the ``sys.path`` entries added. A second call
    for the same invocation adds nothing (site runs a venv's ``.pth`` files twice).
    """
    try:
        if argv0 is None:
            argv0 = sys.argv[0] if sys.argv else ""
        if argv0 in _done:
            return []
        _done[argv0] = None
        decision = describe(argv0)
        if decision.disabled and OFF_XOPTION in getattr(sys, "_xoptions", {}):
            # what the interpreter passes on itself (-X to multiprocessing workers) goes
            # to every child here: the user switched this process tree off
            os.environ[OFF_VAR] = "1"
        if decision.pypackages is None or not decision.present:
            return []
        if decision.refused:
            warn(f"ignoring {decision.pypackages}: {decision.refused}")
            purge(decision.pypackages)
            return []
        added = add_site_dirs(decision.activate)
        if decision.exportable:
            export(decision.root, launcher)
        return added
    except Exception as exc:  # pragma: no cover - defensive: never break startup
        warn(f"startup step failed: {exc!r}")
        return []
