"""The PEP 582 startup step: put the applicable ``__pypackages__`` on ``sys.path``.

This module is the reference implementation of the PEP's rules, and their only home: the
layout, which directory applies, the trust rule, and the placement on ``sys.path``. It
imports only the standard library and nothing else from ``pep582``, so ``pep582 enable``
can copy it into any interpreter (CPython or PyPy, 3.9+) as ``_pep582_hook.py`` beside a
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


_private: "dict[tuple[int, int], bool]" = {}


def _is_private_group(gid: int, owner: int) -> bool:
    """Whether group ``gid`` has exactly one member, ``owner`` (OpenSSH StrictModes' test)."""
    key = (gid, owner)
    if key not in _private:
        try:
            import grp
            import pwd

            name = pwd.getpwuid(owner).pw_name
            members = set(grp.getgrgid(gid).gr_mem)
            members.update(p.pw_name for p in pwd.getpwall() if p.pw_gid == gid)
            _private[key] = members == {name}
        except (ImportError, KeyError):
            _private[key] = False
    return _private[key]


def _name_of(ident: int, group: bool = False) -> str:
    try:
        if group:
            import grp

            return f"group {grp.getgrgid(ident).gr_name}"
        import pwd

        return f"{pwd.getpwuid(ident).pw_name} (uid {ident})"
    except (ImportError, KeyError):
        return f"{'gid' if group else 'uid'} {ident}"


def foreign_writers(path: str, info: "os.stat_result") -> "str | None":
    """Who besides the owner (and root) may write ``path``, or None when nobody may.

    Other-write always counts; group-write counts unless the group is the owner's private
    group; POSIX ACL entries count with the ACL mask applied. Only a group-write bit can
    hide an ACL grant (it shows the mask), so the ACL is read only then.
    """
    mode = info.st_mode
    if mode & 0o002:
        return f"others (mode {oct(mode & 0o7777)})"
    if not mode & 0o020:
        return None
    acl = _acl_entries(path)
    if acl is None:
        if _is_private_group(info.st_gid, info.st_uid):
            return None
        return f"{_name_of(info.st_gid, True)} (mode {oct(mode & 0o7777)})"
    mask = next((perm for tag, perm, _ in acl if tag == _ACL_MASK), 0o7)
    for tag, perm, ident in acl:
        if not perm & mask & _ACL_WRITE:
            continue
        if tag == _ACL_USER and ident not in (info.st_uid, 0):
            return f"{_name_of(ident)} (ACL)"
        if tag == _ACL_GROUP_OBJ:
            ident = info.st_gid
        if tag in (_ACL_GROUP, _ACL_GROUP_OBJ) and not _is_private_group(ident, info.st_uid):
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


def _judge_path(
    path: str, allowed: "set[int]", sticky_ok: bool, directory: bool, script: "str | None"
) -> "str | None":
    """One path by the owner/write rule; ``path`` is a resolved path, so never a link."""
    import stat

    info = os.lstat(path)
    kind = stat.S_ISDIR(info.st_mode) if directory else stat.S_ISREG(info.st_mode)
    if not kind:
        what = "a directory" if directory else "a regular file"
        return f"{path} is not {what} (it changed while being checked, or is a link)"
    if info.st_uid not in allowed:
        owners = "you, root or the script's owner" if script else "you or root"
        return f"{path} is owned by {_name_of(info.st_uid)}, not by {owners}"
    writers = foreign_writers(path, info)
    if writers and not sticky_ok:
        return f"{path} is writable by {writers}"
    if writers and not info.st_mode & stat.S_ISVTX:
        return f"{path} is writable by {writers} and has no sticky bit"
    return None


def startup_files(site_dir: str) -> "list[tuple[str, bool]]":
    """``(path, is_directory)`` of what ``site_dir`` runs at startup: ``.pth`` files and
    ``sitecustomize``/``usercustomize`` (modules, packages, and their bytecode)."""
    found = []
    customize = False
    for name in os.listdir(site_dir):
        stem = name.partition(".")[0]
        if name.endswith(".pth"):
            found.append((os.path.join(site_dir, name), False))
        elif stem in CUSTOMIZE:
            customize = True
            path = os.path.join(site_dir, name)
            is_dir = os.path.isdir(path) and not os.path.islink(path)
            found.append((path, is_dir))
            if is_dir:
                found.extend((os.path.join(path, n), False) for n in os.listdir(path))
    cache = os.path.join(site_dir, "__pycache__")
    if customize and os.path.isdir(cache):
        found.append((cache, True))
        found.extend(
            (os.path.join(cache, n), False)
            for n in os.listdir(cache)
            if n.partition(".")[0] in CUSTOMIZE
        )
    return found


def judge(
    pypackages: str, candidates: "list[str]", script: "str | None" = None
) -> "tuple[list[str], str | None]":
    """Apply the trust rule; return ``(resolved site directories, None)`` or ``([], why)``.

    The ``__pypackages__`` path and the ``candidates`` (its purelib and platlib) are
    resolved once; what is judged, and what goes on ``sys.path``, are the resolved paths,
    so swapping a link later changes nothing. Every directory from the filesystem root
    down to the directory holding ``__pypackages__`` and down to each site directory must
    be owned by root, the effective user or the script's owner, and be writable by nobody
    else (other-write, group-write unless the owner's private group, ACL grants); a
    directory writable by others is accepted only with the sticky bit and only at or above
    the directory holding ``__pypackages__``. The ``.pth`` files and
    ``sitecustomize``/``usercustomize`` in the site directories pass the same owner/write
    rule. Nothing is checked on Windows (the PEP states the rule in owner/DACL terms).
    """
    resolved: list[str] = []
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if real not in resolved and os.path.isdir(real):
            resolved.append(real)
    if not resolved or os.name == "nt":
        return resolved, None
    root = os.path.realpath(pypackages)
    try:
        allowed = {0, os.geteuid()}
        if script and os.path.exists(script):
            allowed.add(os.stat(script).st_uid)
        seen: set[str] = set()
        holder = os.path.realpath(os.path.dirname(os.path.abspath(pypackages)))
        paths = [(p, True) for p in _chain(holder)]
        for site_dir in resolved:
            paths.extend((p, root.startswith(p.rstrip(os.sep) + os.sep)) for p in _chain(site_dir))
        for path, sticky_ok in paths:
            if path not in seen:
                seen.add(path)
                reason = _judge_path(path, allowed, sticky_ok, True, script)
                if reason:
                    return [], reason
        for site_dir in resolved:
            for path, is_dir in startup_files(site_dir):
                reason = _judge_path(path, allowed, False, is_dir, script)
                if reason:
                    return [], reason
    except OSError as exc:
        return [], f"cannot inspect it ({exc.strerror}: {exc.filename})"
    return resolved, None


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


def export(pypackages: str) -> None:
    """Let child processes and tools find what this process uses from ``pypackages``.

    Sets ``PYTHONPYPACKAGES`` (children started with any interpreter run the step for the
    same directory, from any working directory) and prepends the scheme's data
    directories to Jupyter's search paths, which tools consult instead of ``sys.prefix``.
    Used by ``pep582 run`` and console-script wrappers, never by the plain hook.
    """
    root = os.path.realpath(pypackages)
    os.environ[ENV_VAR] = root
    for variable, place in (
        ("JUPYTER_PATH", os.path.join(root, "share", "jupyter")),
        ("JUPYTER_CONFIG_PATH", os.path.join(root, "etc", "jupyter")),
    ):
        current = [p for p in os.environ.get(variable, "").split(os.pathsep) if p]
        if os.path.isdir(place) and place not in current:
            os.environ[variable] = os.pathsep.join([place, *current])


_done: "dict[str, str | None]" = {}  # argv0 → the __pypackages__ it activated, if any


def activate(argv0: "str | None" = None, export_tree: bool = False) -> "list[str]":
    """Run the PEP 582 step for this process; the ``.pth`` line calls this at startup.

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
            if added:
                _done[argv0] = inherited() or locate(argv0)[0]
        activated = _done[argv0]
        if export_tree and activated:
            export(activated)
        return added
    except Exception as exc:  # pragma: no cover - defensive: never break startup
        sys.stderr.write(f"pep582: startup step failed: {exc!r}\n")
        return []


def _step(argv0: str) -> "list[str]":
    if disabled_by():
        return []
    pypackages = inherited() or locate(argv0)[0]
    if pypackages is None or not os.path.isdir(pypackages):
        # The common case, a few microseconds: stop before describe() builds a full
        # decision; it locates again, but only when a __pypackages__ exists.
        return []
    decision = describe(argv0)
    if decision.refused:
        sys.stderr.write(f"pep582: ignoring {pypackages}: {decision.refused}\n")
        return []
    return add_site_dirs(decision.activate)
