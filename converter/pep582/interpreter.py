"""Finding a Python interpreter and asking it for its facts and site directories."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pep582 import proc, usercache
from pep582.errors import InterpreterError
from pep582.scheme import InterpreterFacts

PROBE_TIMEOUT = proc.PROBE_TIMEOUT

# Runs inside the target interpreter (any 3.9+) and prints one JSON object; the facts part
# needs no site, so it can run under -I -S, which starts several times faster.
_FACTS = r"""
import json, os, sys, sysconfig
winver = getattr(sys, "winver", "")
info = {
    "executable": sys.executable,
    "implementation": sys.implementation.name,
    "version": list(sys.version_info[:3]),
    "freethreaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "platlibdir": getattr(sys, "platlibdir", "lib"),
    "os_name": os.name,
    "platform_suffix": winver[winver.index("-"):] if "-" in winver else "",
    "abiflags": getattr(sys, "abiflags", ""),
}
"""
_SITE = r"""
import site
info.update(
    purelib=sysconfig.get_paths()["purelib"],
    site_packages=site.getsitepackages(),
    user_site=site.getusersitepackages(),
    user_site_enabled=bool(site.ENABLE_USER_SITE),
    prefix=sys.prefix,
    base_prefix=getattr(sys, "base_prefix", sys.prefix),
)
"""
# The target answers with its standard library only (any 3.9+, with or without
# packaging); markers and tags are then computed here with packaging.
_ENVIRONMENT = r"""
import json, os, platform, sys, sysconfig
def fmt(info):
    text = "%d.%d.%d" % (info.major, info.minor, info.micro)
    return text if info.releaselevel == "final" else text + info.releaselevel[0] + str(info.serial)
try:
    glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
except (AttributeError, ValueError, OSError):
    glibc = ""
target = {
    "environment": {
        "implementation_name": sys.implementation.name,
        "implementation_version": fmt(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    },
    "implementation": sys.implementation.name,
    "version": list(sys.version_info[:2]),
    "platform": sysconfig.get_platform(),
    "bits64": sys.maxsize > 2**32,
    "soabi": sysconfig.get_config_var("SOABI") or "",
    "freethreaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "debug": bool(sysconfig.get_config_var("Py_DEBUG")),
    "glibc": glibc,
}
"""
_PRINT = "print(json.dumps(info))\n"


@dataclass(frozen=True)
class Interpreter:
    """A runnable interpreter and what it told us about itself."""

    executable: Path  # as the user named it (a venv's bin/python stays a venv's)
    facts: InterpreterFacts
    full_version: tuple[int, int, int]
    purelib: Path
    site_packages: tuple[Path, ...]
    user_site: Path
    user_site_enabled: bool
    prefix: Path
    base_prefix: Path
    # its marker environment and what its wheel tags are made of (target_environment)
    target: dict[str, Any] | None = field(default=None, compare=False, repr=False)


def run_python(
    executable: str | os.PathLike[str],
    args: list[str],
    cwd: str | None = None,
    stdin: str | None = None,
    flags: tuple[str, ...] = proc.ISOLATED,
    env: dict[str, str] | None = None,
) -> str:
    """Run ``executable args`` through :mod:`pep582.proc` (isolated; see there) and return
    its stdout; a failure to start or a non-zero exit raises InterpreterError."""
    result = proc.run(
        [executable, *args],
        python=True,
        what="interpreter",
        cwd=cwd,
        stdin=stdin,
        env=env,
        timeout=PROBE_TIMEOUT,
        python_flags=flags,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise InterpreterError(f"{executable} failed (exit {result.returncode}): {last}")
    return result.stdout


_PROBE = _FACTS + _SITE + _ENVIRONMENT + 'info["target"] = target\n' + _PRINT
# Descriptions are kept in the user's cache (pep582.usercache) under a key naming the
# executable, the identity of the file it is and of its pyvenv.cfg, and what else the
# answer depends on; a record older than this is asked again anyway.
PROBE_RECORDS = "interpreters-v1"
PROBE_RECORD_AGE = 24 * 3600  # seconds
_USER_SITE_VARIABLES = ("PYTHONUSERBASE", "PYTHONNOUSERSITE")


def _probe_key(executable: str) -> str | None:
    """The cache key of ``executable``'s description, or None when it must be asked each
    time: a launcher script (a pyenv shim) picks its interpreter by directory."""
    real = os.path.realpath(executable)
    if _first_bytes(real) in (b"#!", None):
        return None
    parts = [_PROBE, executable, real, os.uname().release, str(os.geteuid()), _host_libc()]
    parts += [os.environ.get(name, "") for name in (*_USER_SITE_VARIABLES, "HOME")]
    for path in (
        real,
        os.path.join(os.path.dirname(executable), "pyvenv.cfg"),
        os.path.join(os.path.dirname(os.path.dirname(executable)), "pyvenv.cfg"),
    ):
        try:
            info = os.stat(path)
            parts.append(f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _host_libc() -> str:
    with contextlib.suppress(AttributeError, ValueError, OSError):
        return os.confstr("CS_GNU_LIBC_VERSION") or ""
    return ""


def _described(executable: str) -> dict[str, Any]:
    """What ``executable`` says about itself: from the cache when an earlier run asked the
    same file, else by running it once (not -I: the probe must see the user site as the
    user has it; the working directory stays trusted)."""
    key = _probe_key(executable) if hasattr(os, "uname") else None
    if key is not None:
        record = usercache.read_record(PROBE_RECORDS, key)
        if (
            isinstance(record, dict)
            and isinstance(record.get("data"), dict)
            and 0 <= time.time() - float(record.get("asked", 0)) < PROBE_RECORD_AGE
        ):
            cached: dict[str, Any] = record["data"]
            return cached
    data = _ask_with(executable, ["-c", _PROBE], proc.SITE_PROBE)
    if key is not None:
        usercache.write_record(PROBE_RECORDS, key, {"asked": time.time(), "data": data})
    return data


def probe(executable: str | os.PathLike[str]) -> Interpreter:
    """Describe ``executable`` (asked once, then remembered; see :func:`_described`)."""
    executable = os.path.abspath(executable)
    data = _described(executable)
    facts = _facts(data)
    # What the interpreter calls itself: a venv's bin/python stays a venv's, while a
    # launcher such as a pyenv shim is replaced by the interpreter it started.
    own = data.get("executable") or executable
    own = _past_launcher(own if os.path.isabs(own) else executable, data)
    return Interpreter(
        executable=Path(own),
        facts=facts,
        full_version=tuple(data["version"]),
        purelib=Path(data["purelib"]),
        site_packages=tuple(Path(p) for p in data["site_packages"]),
        user_site=Path(data["user_site"]),
        user_site_enabled=data["user_site_enabled"],
        prefix=Path(data["prefix"]),
        base_prefix=Path(data["base_prefix"]),
        target=data.get("target"),
    )


def _past_launcher(executable: str, data: dict[str, Any]) -> str:
    """The interpreter itself when ``executable`` is a launcher script (a pyenv shim
    starts Python with ``argv[0]`` = its bare name, so Python finds the shim on PATH and
    calls itself that): the same-named file in the interpreter's own ``bin``. Scripts
    would otherwise name the launcher, whose choice changes with the directory."""
    if _first_bytes(executable) != b"#!":
        return executable  # a real binary (or a link to one)
    own = os.path.join(str(data.get("prefix", "")), "bin", os.path.basename(executable))
    head = _first_bytes(own)
    return own if head is not None and head != b"#!" else executable


def _first_bytes(path: str) -> bytes | None:
    """The first two bytes of the regular file ``path`` (links followed), or None when it
    is not one or cannot be read: opened without blocking, so a FIFO never stalls us."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        return os.read(fd, 2) if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _ask_with(
    executable: str | os.PathLike[str], args: list[str], flags: tuple[str, ...] = proc.ISOLATED
) -> dict[str, Any]:
    keep = _USER_SITE_VARIABLES if flags == proc.SITE_PROBE else ()
    env = {k: os.environ[k] for k in keep if k in os.environ}
    out = run_python(executable, args, flags=flags, env=env)
    try:
        data: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise InterpreterError(f"{executable} did not describe itself: {out[:200]!r}") from exc
    return data


def describe_step(executable: str | os.PathLike[str], argv0: str) -> dict[str, Any]:
    """What the PEP 582 step decides in ``executable`` for an invocation with ``argv0``
    from the current directory, in our environment (``pep582 where``/``status``): the
    interpreter runs ``step/launch.py`` isolated and is told the directory and the
    variables the step reads."""
    from pep582.step import startup

    launch = os.path.join(os.path.dirname(startup.__file__), "launch.py")
    read = (startup.ENV_VAR, startup.OFF_VAR, "PYTHONSAFEPATH")
    asked: dict[str, Any] = {
        "cwd": os.getcwd(),
        "environ": {k: os.environ[k] for k in read if k in os.environ},
    }
    # isolated, so running in the user's directory only resolves a relative script there
    out = run_python(
        executable, [launch, "describe", argv0], cwd=asked["cwd"], stdin=json.dumps(asked)
    )
    decision: dict[str, Any] = json.loads(out)
    return decision


def _facts(data: dict[str, Any]) -> InterpreterFacts:
    """The facts an interpreter told us, checked: they become parts of paths."""
    plain = re.compile(r"[A-Za-z0-9_]*")
    for key in ("implementation", "platlibdir", "abiflags", "os_name"):
        if not isinstance(data.get(key), str) or not plain.fullmatch(data[key]):
            raise InterpreterError(f"the interpreter reported a strange {key}: {data.get(key)!r}")
    if not re.fullmatch(r"(-[A-Za-z0-9]+)?", str(data.get("platform_suffix", ""))):
        raise InterpreterError("the interpreter reported a strange platform suffix")
    return InterpreterFacts(
        implementation=data["implementation"],
        version=(data["version"][0], data["version"][1]),
        freethreaded=data["freethreaded"],
        platlibdir=data["platlibdir"],
        os_name=data["os_name"],
        platform_suffix=data["platform_suffix"],
        abiflags=data["abiflags"],
    )


_VERSION_SPEC = re.compile(r"^(?:python)?(3)\.(\d+)(t?)$")


def candidates_for_version(major: str, minor: str, thread: str) -> list[str]:
    """Executables that may be Python ``major.minor[t]``: PATH first, then pyenv's versions."""
    name = f"python{major}.{minor}{thread}"
    found = []
    on_path = proc.which(name)
    if on_path:
        found.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    if os.path.isabs(pyenv_root):  # a relative root would be looked up from here
        pattern = os.path.join(
            glob.escape(pyenv_root), "versions", f"{major}.{minor}.*{thread}", "bin", name
        )
        found.extend(sorted(glob.glob(pattern), reverse=True))
    return found


def outside_toolkit() -> str:
    """PATH without this toolkit's own environment (when it runs from a venv)."""
    entries = os.environ.get("PATH", os.defpath).split(os.pathsep)
    if sys.prefix == getattr(sys, "base_prefix", sys.prefix):
        return os.pathsep.join(entries)
    own = os.path.realpath(os.path.join(sys.prefix, "bin"))
    return os.pathsep.join(e for e in entries if e and os.path.realpath(e) != own)


def _is_toolkit(interpreter: Interpreter) -> bool:
    return sys.prefix != getattr(sys, "base_prefix", sys.prefix) and os.path.realpath(
        interpreter.prefix
    ) == os.path.realpath(sys.prefix)


def is_path_spec(spec: str) -> bool:
    """Whether ``--python SPEC`` names a file: only when it holds a path separator. A bare
    name (``python3.12``, ``3.12``, ``pypy3``) is a command or a version, looked up on
    ``PATH`` and in pyenv's versions, never as a file in the current directory (which
    may be a shared one, such as ``/tmp``)."""
    return os.sep in spec or bool(os.altsep and os.altsep in spec)


def find_python(spec: str) -> Interpreter:
    """Resolve ``--python``: a path (it holds a ``/``), a command, or a version such as
    ``3.12``/``3.13t`` (see :func:`is_path_spec`)."""
    if is_path_spec(spec):
        if not os.path.exists(spec):
            raise InterpreterError(f"no interpreter at {spec!r} (give a path, a command or 3.X)")
        return probe(spec)
    match = _VERSION_SPEC.match(spec)
    if match:
        major, minor, thread = match.groups()
        for candidate in candidates_for_version(major, minor, thread):
            try:
                found = probe(candidate)
            except InterpreterError:
                continue  # e.g. a pyenv shim for a version that is not selected
            if found.facts.version_tag == f"{major}.{minor}{thread}" and not _is_toolkit(found):
                return found
        raise InterpreterError(f"no Python {spec} found on PATH or in pyenv's versions")
    path = proc.which(spec)
    if not path:
        raise InterpreterError(
            f"no command {spec!r} on PATH (give a path, a command or 3.X; a file here is ./{spec})"
        )
    return probe(path)


def named_by_scripts(executable: str | os.PathLike[str]) -> str:
    """What a console script the toolkit writes names for ``executable``: its real path
    (a venv's ``bin/python`` becomes the interpreter behind it), which must pass the
    trust rule for the effective user — nobody else could change a directory or link on
    the way, or the file; otherwise :class:`InterpreterError`."""
    from pep582.step.startup import trusted_real_path

    real, refused = trusted_real_path(os.fspath(executable))
    if refused:
        raise InterpreterError(
            f"console scripts cannot name {executable}: another user could change what it "
            f"runs ({refused})"
        )
    return real


def versions_in(pypackages: Path) -> list[tuple[str, str]]:
    """``(command, site directory)`` for each interpreter a ``__pypackages__`` (PEP 582
    layout) has a site directory for, newest first: ``("python3.12", ".../site-packages")``."""
    from pep582.scheme import trees_in

    return [
        (tree.facts.command, str(tree.scheme.purelib))
        for tree in trees_in(pypackages)
        if tree.layout == "pep582"
    ]


def choose_python(spec: str | None, pypackages: Path | None = None) -> tuple[Interpreter, str]:
    """The interpreter a command acts for, and why it was chosen.

    ``--python`` when given; otherwise an interpreter (PATH, then pyenv) matching a site
    directory present in ``pypackages``, newest first; otherwise the first ``python3`` on
    PATH. Never this toolkit's own environment unless it is named with ``--python``.
    """
    if spec:
        return find_python(spec), "named with --python"
    path = outside_toolkit()
    if pypackages is not None and pypackages.is_dir():
        from pep582.step.startup import judge

        versions = versions_in(pypackages)
        if judge(str(pypackages), [d for _, d in versions])[1] is not None:
            versions = []  # a tree the step would refuse does not choose the interpreter
        for command, site_dir in versions:
            match = _VERSION_SPEC.match(command)
            candidates: list[str | None] = [proc.which(command, path=path)]
            if match:
                candidates += candidates_for_version(*match.groups())
            for candidate in dict.fromkeys(c for c in candidates if c):
                with contextlib.suppress(InterpreterError):
                    found = probe(candidate)
                    if found.facts.command == command and not _is_toolkit(found):
                        return found, f"{command} matches {site_dir}"
    for name in ("python3", "python"):
        on_path = proc.which(name, path=path)
        if on_path:
            found = probe(on_path)
            if not _is_toolkit(found):
                return found, f"the first {name} on PATH"
    raise InterpreterError(
        "no python3 on PATH outside this toolkit's environment; name one with --python"
    )


def target_environment(interpreter: Interpreter) -> tuple[dict[str, str], list[Any]]:
    """``interpreter``'s marker environment and wheel tags (most preferred first).

    The target reports stdlib facts; the tags come from packaging's public tag builders
    here (the host's platform tags when the target runs on the same platform and libc).
    """
    import sysconfig

    from packaging import tags

    data = interpreter.target or _ask_with(
        interpreter.executable, ["-I", "-S", "-c", _ENVIRONMENT + "print(json.dumps(target))\n"]
    )
    major, minor = data["version"]
    version = (major, minor)
    same_platform = (
        data["platform"] == sysconfig.get_platform()
        and data["bits64"] == (sys.maxsize > 2**32)
        and data["glibc"] == _host_libc()
    )
    platforms = (
        list(tags.platform_tags()) if same_platform else [re.sub(r"[-.]", "_", data["platform"])]
    )
    implementation = data["implementation"]
    if implementation == "cpython":
        abi = (
            f"cp{major}{minor}{'t' if data['freethreaded'] else ''}{'d' if data['debug'] else ''}"
        )
        interpreter_tag = f"cp{major}{minor}"
        found = list(tags.cpython_tags(version, [abi], platforms))
    else:
        short = tags.INTERPRETER_SHORT_NAMES.get(implementation, implementation)
        interpreter_tag = f"{short}{major}{minor}"
        abis = [re.sub(r"[-.]", "_", data["soabi"])] if data["soabi"] else []
        found = list(tags.generic_tags(interpreter_tag, abis, platforms))
    found += list(tags.compatible_tags(version, interpreter_tag, platforms))
    return dict(data["environment"]), found
