"""The PEP 582 startup step: put the applicable ``__pypackages__`` on ``sys.path``.

This module is the reference implementation of the PEP's rules. It imports only the
standard library and nothing else from ``pep582``, so ``pep582 enable`` can copy it into
any interpreter (CPython or PyPy, 3.9+) as ``_pep582_hook.py`` beside a one-line
``_pep582_hook.pth``, and ``pep582 run`` can load it by path into another interpreter.
"""

import os
import sys

HOOK_VERSION = "1"
DIRNAME = "__pypackages__"
# sys.argv[0] while site runs, for the invocations whose __pypackages__ is the cwd's.
CWD_ARGV0 = ("", "-", "-c", "-m")


def scheme_paths(
    base: str,
    *,
    implementation: str,
    version: tuple[int, int],
    freethreaded: bool = False,
    platlibdir: str = "lib",
    os_name: str = "posix",
    win32: bool = False,
) -> dict[str, str]:
    """Return the "localpackages" scheme rooted at ``base`` (a ``__pypackages__`` path).

    POSIX: ``posix_prefix`` with ``base = platbase = base``. Windows: the ``nt_user``
    shape, version-specific. The keys are sysconfig's: purelib, platlib, scripts,
    include, data.

    >>> scheme_paths("/p/__pypackages__", implementation="cpython", version=(3, 12))["purelib"]
    '/p/__pypackages__/lib/python3.12/site-packages'
    """
    major, minor = version
    thread = "t" if freethreaded else ""
    if os_name == "nt":
        impl = "PyPy" if implementation == "pypy" else "Python"
        root = f"{base}\\{impl}{major}{minor}{thread}{'-32' if win32 else ''}"
        site_dir = f"{root}\\site-packages"
        return {
            "purelib": site_dir,
            "platlib": site_dir,
            "scripts": f"{root}\\Scripts",
            "include": f"{root}\\Include",
            "data": base,
        }
    impl = "pypy" if implementation == "pypy" else "python"
    tag = f"{impl}{major}.{minor}{thread}"
    return {
        "purelib": f"{base}/lib/{tag}/site-packages",
        "platlib": f"{base}/{platlibdir}/{tag}/site-packages",
        "scripts": f"{base}/bin",
        "include": f"{base}/include/{tag}",
        "data": base,
    }


def running_scheme(base: str) -> dict[str, str]:
    """The localpackages scheme of the running interpreter, rooted at ``base``."""
    if os.name == "nt":
        winver = getattr(sys, "winver", "")
        freethreaded = winver.split("-")[0].endswith("t")
        win32 = winver.endswith("-32")
    else:
        freethreaded = "t" in getattr(sys, "abiflags", "")
        win32 = False
    return scheme_paths(
        base,
        implementation=sys.implementation.name,
        version=(sys.version_info[0], sys.version_info[1]),
        freethreaded=freethreaded,
        platlibdir=getattr(sys, "platlibdir", "lib"),
        os_name=os.name,
        win32=win32,
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


def locate(argv0: str, cwd: "str | None" = None) -> "tuple[str | None, str | None]":
    """Return ``(__pypackages__ path, script path)`` for an invocation, or ``(None, None)``.

    ``argv0`` is ``sys.argv[0]`` as it is while ``site`` runs: ``''`` (REPL, stdin),
    ``'-'`` (script from stdin), ``'-c'``, ``'-m'``, or the script, directory or zip
    argument. The path returned need not exist; the script path is the real path of
    the file whose owner the trust check also accepts.
    """
    if argv0 in CWD_ARGV0:
        try:
            cwd = cwd or os.getcwd()
        except OSError:  # the current directory was deleted: nothing applies
            return None, None
        return os.path.join(cwd, DIRNAME), None
    if os.path.isdir(argv0):
        main = os.path.join(argv0, "__main__.py")
        return os.path.join(os.path.abspath(argv0), DIRNAME), main
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


def untrusted_reason(pypackages: str, targets: list[str], script: "str | None") -> "str | None":
    """Say why ``pypackages`` must not be used, or None when it passes the trust rule.

    Every directory from ``pypackages`` down to each target must be owned by the
    effective user, root, or the script's owner, and must not be writable by others; a
    directory holding ``pypackages`` (or holding the target of any symlink on the way)
    that is writable by others must carry the sticky bit. Links are judged by what they
    point to. Ownership and mode bits are not checked on Windows.
    """
    if os.name == "nt":
        return None
    import stat  # only needed once a __pypackages__ exists

    try:
        allowed = {os.geteuid(), 0}
        if script and os.path.exists(script):
            allowed.add(os.stat(script).st_uid)
        holders = [os.path.dirname(os.path.abspath(pypackages))]
        chain: list[str] = []
        for target in targets:
            path = pypackages
            steps = [path]
            for part in os.path.relpath(target, pypackages).split(os.sep):
                if part not in ("", os.curdir):
                    path = os.path.join(path, part)
                    steps.append(path)
            chain.extend(p for p in steps if p not in chain)
        for path in chain:
            if os.path.islink(path):
                holders.append(os.path.dirname(os.path.realpath(path)))
        for holder in holders:
            mode = os.stat(holder).st_mode
            if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
                return f"{holder} is writable by others and has no sticky bit"
        for path in chain:
            info = os.stat(path)
            if info.st_uid not in allowed:
                owners = "you, root or the script's owner" if script else "you or root"
                return f"{path} is owned by {_user_name(info.st_uid)}, not by {owners}"
            if info.st_mode & stat.S_IWOTH:
                return f"{path} is writable by others"
    except OSError as exc:
        return f"cannot inspect it ({exc.strerror}: {exc.filename})"
    return None


def _user_name(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


class Decision:
    """What the step decides for one invocation (``pep582 where`` prints it)."""

    def __init__(self, disabled: "str | None" = None) -> None:
        self.disabled = disabled  # the mode switch that turns the step off, if any
        self.pypackages: str | None = None  # the one directory that applies
        self.script: str | None = None  # real path of the script being run
        self.exists = False
        self.scheme: dict[str, str] = {}
        self.candidates: list[str] = []  # purelib and platlib, deduplicated
        self.present: list[str] = []  # the candidates that are directories
        self.refused: str | None = None  # why the trust check failed
        self.activate: list[str] = []  # what goes on sys.path

    def as_dict(self) -> dict[str, object]:
        return dict(vars(self))


def describe(argv0: str, cwd: "str | None" = None, flags: object = None) -> Decision:
    """Decide, without changing anything, what the step does for one invocation."""
    decision = Decision(disabled_by(flags))
    if decision.disabled:
        return decision
    pypackages, script = locate(argv0, cwd)
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
        decision.refused = untrusted_reason(pypackages, decision.present, script)
        if decision.refused is None:
            decision.activate = decision.present
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


def add_site_dirs(dirs: list[str]) -> list[str]:
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


_done: "set[str]" = set()  # argv0 values already handled in this process


def activate(argv0: "str | None" = None) -> "list[str]":
    """Run the PEP 582 step for this process; the ``.pth`` line calls this at startup.

    Never raises: a startup hook must not stop the interpreter. A refused directory is
    reported in one line on stderr. Returns the ``sys.path`` entries added. A second call
    for the same invocation adds nothing (site runs a venv's ``.pth`` files twice).
    """
    try:
        if argv0 is None:
            argv0 = sys.argv[0] if sys.argv else ""
        if argv0 in _done:
            return []
        _done.add(argv0)
        if disabled_by():
            return []
        pypackages, _ = locate(argv0)
        if pypackages is None or not os.path.isdir(pypackages):
            # The common case, ~2.5 us: stop before describe() builds a full decision
            # (~25 us); it locates again, but only when a __pypackages__ exists.
            return []
        decision = describe(argv0)
        if decision.refused:
            sys.stderr.write(f"pep582: ignoring {pypackages}: {decision.refused}\n")
            return []
        return add_site_dirs(decision.activate)
    except Exception as exc:  # pragma: no cover - defensive: never break startup
        sys.stderr.write(f"pep582: startup step failed: {exc!r}\n")
        return []
