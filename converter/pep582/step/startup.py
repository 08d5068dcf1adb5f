"""The PEP 582 startup step: put the applicable ``__pypackages__`` on ``sys.path``.

This module is the reference implementation of the PEP's rules, and their only home: the
layout, which directory applies, the trust rule, and the placement on ``sys.path``. It
imports only the standard library and nothing else from ``pep582``, so ``pep582 enable``
can copy it into any interpreter (CPython or PyPy, 3.9+) as ``_pep582_step.py``, beside a
small ``_pep582_hook.py`` cut from it (the cheap first half, :func:`applicable`) and a
one-line ``_pep582_hook.pth``; console-script wrappers and the ``site.py`` patch embed its
functions verbatim.
"""

import os
import sys

HOOK_VERSION = "2"
DIRNAME = "__pypackages__"
# Names a __pypackages__ for a process and its children (pep582 run, console scripts).
ENV_VAR = "PYTHONPYPACKAGES"
# sys.argv[0] while site runs, for the invocations whose __pypackages__ is the cwd's.
CWD_ARGV0 = ("", "-", "-c", "-m")
# How implementations spell themselves in scheme paths (POSIX lower-cases these).
IMPLEMENTATION_NAMES = {"cpython": "Python", "pypy": "PyPy", "graalpy": "GraalPy"}
# Files a site directory runs at startup besides its .pth files.
CUSTOMIZE = ("sitecustomize", "usercustomize")


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
    ``sys.winver``). The keys are sysconfig's: purelib, platlib, scripts, include, data.

    >>> scheme_paths("/p/__pypackages__", implementation="cpython", version=(3, 12))["purelib"]
    '/p/__pypackages__/lib/python3.12/site-packages'
    """
    major, minor = version
    thread = "t" if freethreaded else ""
    name = IMPLEMENTATION_NAMES.get(implementation, implementation.capitalize())
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


def disabled_by(flags: object = None, environ: object = None) -> "str | None":
    """Say which interpreter mode switches the step off, or None when it applies."""
    flags = sys.flags if flags is None else flags
    env = os.environ if environ is None else environ
    if getattr(flags, "no_site", 0):
        return "site is disabled (-S)"
    if getattr(flags, "isolated", 0):
        return "isolated mode (-I)"
    if getattr(flags, "safe_path", False):
        return "safe-path mode (-P or PYTHONSAFEPATH)"
    # Before 3.11 the interpreter ignores PYTHONSAFEPATH; the step still honours it.
    if (
        not hasattr(flags, "safe_path")
        and not getattr(flags, "ignore_environment", 0)
        and env.get("PYTHONSAFEPATH")  # type: ignore[attr-defined]
    ):
        return "safe-path mode (PYTHONSAFEPATH)"
    return None


def inherited(flags: object = None, environ: object = None) -> "str | None":
    """The ``__pypackages__`` a parent process named in ``PYTHONPYPACKAGES``, if honoured.

    Like every ``PYTHON*`` variable it is ignored under ``-E`` (and ``-I``).
    """
    flags = sys.flags if flags is None else flags
    env = os.environ if environ is None else environ
    if getattr(flags, "ignore_environment", 0):
        return None
    value = env.get(ENV_VAR)  # type: ignore[attr-defined]
    return value if value and os.path.isabs(value) else None


def locate(argv0: str, cwd: "str | None" = None) -> "tuple[str | None, str | None]":
    """Return ``(__pypackages__ path, script path)`` for an invocation, or ``(None, None)``.

    ``argv0`` is ``sys.argv[0]`` as it is while ``site`` runs: ``''`` (REPL, stdin),
    ``'-'`` (script from stdin), ``'-c'``, ``'-m'``, or the script, directory or zip
    argument. The path returned need not exist. The script path is the real path of the
    file being run (a directory's ``__main__.py``), whose owner the trust rule accepts.
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


_sole: "dict[int, int | None]" = {}


def _sole_member(gid: int) -> "int | None":
    """The uid of group ``gid``'s only member (by primary group or membership list), or
    None when it has none or several: a private group, as OpenSSH StrictModes tests."""
    if gid not in _sole:
        found = None
        try:
            import grp
            import pwd

            members = set(grp.getgrgid(gid).gr_mem)
            members.update(p.pw_name for p in pwd.getpwall() if p.pw_gid == gid)
            if len(members) == 1:
                found = pwd.getpwnam(members.pop()).pw_uid
        except (ImportError, KeyError):
            pass
        _sole[gid] = found
    return _sole[gid]


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

    Other-write always counts; group-write counts unless the group's only member is one
    of those users (a private group); POSIX ACL entries count with the ACL mask applied.
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
        if _sole_member(info.st_gid) in trusted:
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
        if tag in (_ACL_GROUP, _ACL_GROUP_OBJ) and _sole_member(ident) not in trusted:
            return f"{_name_of(ident, True)} (ACL)"
    return None


def _chain(path: str) -> "list[str]":
    """``path`` and every directory above it, from the filesystem root down."""
    chain = [path]
    while True:
        parent = os.path.dirname(path)
        if parent == path:
            return chain[::-1]
        chain.append(parent)
        path = parent


def _inside(pypackages: str, candidates: "list[str]") -> "set[str]":
    """The real path of every directory from ``__pypackages__`` down to each candidate:
    what the tree is made of, wherever links lead (none of it may be shared)."""
    base = os.path.abspath(pypackages)
    steps = {os.path.realpath(base)}
    for candidate in candidates:
        relative = os.path.relpath(os.path.abspath(candidate), base)
        here = base
        for part in relative.split(os.sep):
            if part not in ("", os.curdir):
                here = os.path.join(here, part)
                steps.add(os.path.realpath(here))
    return steps


class _Verdict(Exception):
    """Why a tree is refused (raised inside judge, returned as text)."""


def _judge(path: str, allowed: "set[int]", script: "str | None", sticky_ok: bool) -> None:
    """One path by the owner/write rule; ``path`` is resolved, so never a link."""
    import stat

    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise _Verdict(f"{path} changed while being checked (it is a link now)")
    if info.st_uid not in allowed:
        owners = "you, root or the script's owner" if script else "you or root"
        raise _Verdict(f"{path} is owned by {_name_of(info.st_uid)}, not by {owners}")
    writers = foreign_writers(path, info, allowed)
    if writers and not sticky_ok:
        raise _Verdict(f"{path} is writable by {writers}")
    if writers and not info.st_mode & stat.S_ISVTX:
        raise _Verdict(f"{path} is writable by {writers} and has no sticky bit")


def _judge_named(path: str, allowed: "set[int]", script: "str | None", what: str) -> None:
    """A place the tree points at (a ``.pth`` line, a link): its real path and everything
    above it by the owner rule; the place itself, or when it does not exist yet the
    nearest directory that does, writable by nobody else (no one may create it)."""
    real = os.path.realpath(path)
    while not os.path.lexists(real):
        parent = os.path.dirname(real)
        if parent == real:
            return
        real = parent
    chain = _chain(real)
    try:
        for directory in chain[:-1]:
            _judge(directory, allowed, script, True)
        _judge(real, allowed, script, False)
    except _Verdict as verdict:
        raise _Verdict(f"{what} leads to {real}: {verdict}") from None


def _judge_site_entries(site_dir: str, allowed: "set[int]", script: "str | None") -> None:
    """Everything one level inside a site directory (modules, packages, ``.pth`` files,
    ``__pycache__`` and what it holds, ``sitecustomize``/``usercustomize`` whole), by the
    owner/write rule; the places ``.pth`` lines and links name, by :func:`_judge_named`.
    Deeper files are ``pep582 audit``'s job."""
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
                    _judge_named(path, allowed, script, path)
                    continue
                if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                    # a FIFO named x.pth would stop site (and us) reading it forever
                    raise _Verdict(f"{path} is not a regular file or directory")
                if info.st_uid not in allowed or info.st_mode & 0o022:
                    _judge(path, allowed, script, False)
                if not first or not stat.S_ISDIR(info.st_mode):
                    if first and entry.name.endswith(".pth"):
                        _judge_pth(path, site_dir, allowed, script)
                    continue
                if entry.name == "__pycache__" or entry.name.partition(".")[0] in CUSTOMIZE:
                    pending.append(path)
        first = False


def startup_files(site_dir: str) -> "list[str]":
    """The files of ``site_dir`` that run at startup: ``.pth`` files and top-level
    ``sitecustomize``/``usercustomize`` modules or packages (for reports; :func:`judge`
    checks every entry of the directory)."""
    return sorted(
        os.path.join(site_dir, name)
        for name in os.listdir(site_dir)
        if name.endswith(".pth") or name.partition(".")[0] in CUSTOMIZE
    )


def _judge_pth(path: str, site_dir: str, allowed: "set[int]", script: "str | None") -> None:
    try:
        with open(path, "rb") as handle:
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return
    for number, line in enumerate(lines, start=1):
        line = line.rstrip()
        if line and not line.startswith(("#", "import ", "import\t")):
            _judge_named(os.path.join(site_dir, line), allowed, script, f"{path}:{number}")


def judge(
    pypackages: str,
    candidates: "list[str]",
    script: "str | None" = None,
    also: "list[str] | tuple[str, ...]" = (),
) -> "tuple[list[str], str | None]":
    """Apply the trust rule; return ``(resolved site directories, None)`` or ``([], why)``.

    The ``__pypackages__`` path and the ``candidates`` (its purelib and platlib) are
    resolved once; what is judged, and what goes on ``sys.path``, are the resolved paths,
    so swapping a link later changes nothing. Every directory from the filesystem root
    down to the directory holding ``__pypackages__`` and down to each site directory must
    be owned by root, the effective user or the script's owner, and be writable by nobody
    else (other-write; group-write unless the group's only member is one of those users;
    ACL grants). A directory writable by others is accepted only with the sticky bit and
    only above the tree: never ``__pypackages__`` or anything reached from it down to a
    site directory, wherever links lead. Every entry one level inside a site directory
    (``.pth`` files, ``sitecustomize``, modules, packages, ``__pycache__``) passes the same
    owner/write rule, and so do the places ``.pth`` lines and links there name. ``also``:
    more paths of the tree to judge, never activated (a console script and its folder).
    With no candidates, only the holder's chain is judged (the converter asks that before
    it builds a tree). Nothing is checked on Windows (the PEP states the rule in
    owner/DACL terms).
    """
    resolved: list[str] = []
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if real not in resolved and os.path.isdir(real):
            resolved.append(real)
    if os.name == "nt":
        return resolved, None
    try:
        allowed = {0, os.geteuid()}
        if script and os.path.exists(script):
            allowed.add(os.stat(script).st_uid)
        holder = os.path.realpath(os.path.dirname(os.path.abspath(pypackages)))
        present = [c for c in candidates if os.path.isdir(c)]
        inside = _inside(pypackages, present) if present else set()
        inside.update(os.path.realpath(p) for p in also)
        lenient: dict[str, bool] = dict.fromkeys(_chain(holder), True)
        for path in inside:
            for directory in _chain(path):
                lenient[directory] = lenient.get(directory, True) and directory not in inside
        for path, sticky_ok in sorted(lenient.items(), key=lambda item: item[1]):
            _judge(path, allowed, script, sticky_ok)  # strict ones first
        for site_dir in resolved:
            _judge_site_entries(site_dir, allowed, script)
    except _Verdict as verdict:
        return [], str(verdict)
    except OSError as exc:
        return [], f"cannot inspect it ({exc.strerror}: {exc.filename})"
    return resolved, None


def untrusted_path(path: str) -> "str | None":
    """Why the file or directory ``path`` (its real path) could be changed by a user other
    than root or the effective user, or None when it cannot: the path itself, and every
    directory above it, by the owner/write rule (a sticky directory above is fine). The
    converter asks this before it runs or names an interpreter it found on disk."""
    if os.name == "nt":
        return None
    allowed = {0, os.geteuid()}
    try:
        real = os.path.realpath(path)
        chain = _chain(real)
        for directory in chain[:-1]:
            _judge(directory, allowed, None, True)
        _judge(real, allowed, None, False)
    except _Verdict as verdict:
        return str(verdict)
    except OSError as exc:
        return f"cannot inspect it ({exc.strerror}: {exc.filename})"
    return None


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


class Decision:
    """What the step decides for one invocation (``pep582 where`` prints it)."""

    def __init__(self, disabled: "str | None" = None) -> None:
        self.disabled = disabled  # the mode switch that turns the step off, if any
        self.pypackages: str | None = None  # the one directory that applies
        self.origin = ""  # "script", "current directory" or the variable's name
        self.script: str | None = None  # real path of the script being run
        self.exists = False
        self.scheme: dict[str, str] = {}
        self.candidates: list[str] = []  # purelib and platlib, deduplicated
        self.present: list[str] = []  # the candidates that are directories
        self.refused: str | None = None  # why the trust rule refused it
        self.activate: list[str] = []  # what goes on sys.path: resolved site directories
        # children may be pointed at it: accepted without the script owner's allowance
        self.exportable = False

    def as_dict(self) -> "dict[str, object]":
        return dict(vars(self))


def describe(argv0: str, cwd: "str | None" = None, flags: object = None) -> Decision:
    """Decide, without changing anything, what the step does for one invocation."""
    decision = Decision(disabled_by(flags))
    if decision.disabled:
        return decision
    pypackages, script = inherited(flags), None
    if pypackages is not None:
        decision.origin = ENV_VAR
    else:
        pypackages, script = locate(argv0, cwd)
        decision.origin = "script" if script else "current directory"
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
        decision.activate, decision.refused = judge(pypackages, decision.present)
        decision.exportable = decision.refused is None
        if decision.refused and script:
            decision.activate, decision.refused = judge(pypackages, decision.present, script)
    return decision


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

    ``.pth`` files in them are processed; a directory already on ``sys.path`` is skipped,
    so running the step twice adds nothing twice. Returns the entries added.
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


def export(pypackages: str) -> None:
    """Let child processes and tools find what this process uses from ``pypackages``.

    Sets ``PYTHONPYPACKAGES`` (children started with any interpreter run the step for the
    same directory, from any working directory) and prepends the scheme's data
    directories to Jupyter's search paths (tools consult those instead of
    ``sys.prefix``); a data directory is added only if it passes the trust rule too, since
    Jupyter runs configuration files and kernel commands from there. Used by
    ``pep582 run`` and console-script wrappers, never by the plain hook.
    """
    root = os.path.realpath(pypackages)
    os.environ[ENV_VAR] = root
    for variable, place in (
        ("JUPYTER_PATH", os.path.join(root, "share", "jupyter")),
        ("JUPYTER_CONFIG_PATH", os.path.join(root, "etc", "jupyter")),
    ):
        current = [p for p in os.environ.get(variable, "").split(os.pathsep) if p]
        if not os.path.isdir(place) or place in current:
            continue
        _, refused = judge(root, [], None, also=[os.path.dirname(place), place])
        if refused:
            warn(f"not adding {place} to {variable}: {refused}")
            continue
        os.environ[variable] = os.pathsep.join([place, *current])


_done: "dict[str, str | None]" = {}  # argv0 → the __pypackages__ children may be given


def activate(argv0: "str | None" = None, export_tree: bool = False) -> "list[str]":
    """Run the PEP 582 step for this process (the hook's front door calls this at startup
    once :func:`applicable` found a ``__pypackages__``).

    Never raises: a startup hook must not stop the interpreter. A refused directory is
    reported in one line on stderr. Returns the ``sys.path`` entries added. A second call
    for the same invocation adds nothing (site runs a venv's ``.pth`` files twice). With
    ``export_tree`` (``pep582 run``), children are pointed at the directory activated.
    """
    try:
        if argv0 is None:
            argv0 = sys.argv[0] if sys.argv else ""
        added: list[str] = []
        if argv0 not in _done:
            _done[argv0] = None
            added = _step(argv0)
        exportable = _done[argv0]
        if export_tree and exportable:
            export(exportable)
        return added
    except Exception as exc:  # pragma: no cover - defensive: never break startup
        warn(f"startup step failed: {exc!r}")
        return []


def applicable(argv0: str) -> "str | None":
    """The ``__pypackages__`` this invocation would consider, when it exists: the cheap
    first half of the step (no trust rule yet). With none, the step ends here; the
    installed hook carries only this much, and loads the rest when it returns a path."""
    if disabled_by():
        return None
    pypackages = inherited() or locate(argv0)[0]
    return pypackages if pypackages is not None and os.path.isdir(pypackages) else None


def _step(argv0: str) -> "list[str]":
    pypackages = applicable(argv0)
    if pypackages is None:
        return []
    decision = describe(argv0)
    if decision.refused:
        warn(f"ignoring {pypackages}: {decision.refused}")
        purge(pypackages)
        return []
    if decision.exportable:
        _done[argv0] = pypackages
    return add_site_dirs(decision.activate)
