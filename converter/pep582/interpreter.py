"""Finding a Python interpreter and asking it for its facts and site directories."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pep582.errors import InterpreterError
from pep582.scheme import InterpreterFacts

# Runs inside the target interpreter (any 3.9+) and prints one JSON object; the facts part
# needs no site, so it can run under -I -S, which starts several times faster.
_FACTS = r"""
import json, os, sys, sysconfig
info = {
    "executable": sys.executable,
    "implementation": sys.implementation.name,
    "version": list(sys.version_info[:3]),
    "freethreaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "platlibdir": getattr(sys, "platlibdir", "lib"),
    "os_name": os.name,
    "win32": os.name == "nt" and sys.maxsize <= 2**32,
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

    @property
    def in_venv(self) -> bool:
        return self.prefix != self.base_prefix


def run_python(executable: str | os.PathLike[str], args: list[str], cwd: str | None = None) -> str:
    """Run ``executable args`` (in an empty directory unless ``cwd`` is given).

    Returns stdout; a failure to start or a non-zero exit raises InterpreterError.
    """
    with contextlib.ExitStack() as stack:
        if cwd is None:  # an empty directory: no __pypackages__ can apply to the probe
            cwd = stack.enter_context(tempfile.TemporaryDirectory(prefix="pep582-probe-"))
        try:
            proc = subprocess.run(
                [os.fspath(executable), *args],
                capture_output=True,
                text=True,
                cwd=cwd,
                check=False,
            )
        except OSError as exc:
            raise InterpreterError(f"cannot run {executable}: {exc.strerror}") from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InterpreterError(f"{executable} failed (exit {proc.returncode}): {last}")
    return str(proc.stdout)


def probe(executable: str | os.PathLike[str]) -> Interpreter:
    """Run ``executable`` once and describe it."""
    executable = os.path.abspath(executable)
    data = _ask(executable, [], _FACTS + _SITE + _PRINT)
    facts = _facts(data)
    return Interpreter(
        executable=Path(executable),
        facts=facts,
        full_version=tuple(data["version"]),
        purelib=Path(data["purelib"]),
        site_packages=tuple(Path(p) for p in data["site_packages"]),
        user_site=Path(data["user_site"]),
        user_site_enabled=data["user_site_enabled"],
        prefix=Path(data["prefix"]),
        base_prefix=Path(data["base_prefix"]),
    )


def probe_facts(executable: str | os.PathLike[str]) -> InterpreterFacts:
    """Only the layout facts of ``executable`` (isolated, without site: a fast start)."""
    return _facts(_ask(os.path.abspath(executable), ["-I", "-S"], _FACTS + _PRINT))


def _ask(executable: str, flags: list[str], code: str) -> dict[str, Any]:
    return _ask_with(executable, [*flags, "-c", code])


def _ask_with(executable: str | os.PathLike[str], args: list[str]) -> dict[str, Any]:
    out = run_python(executable, args)
    try:
        data: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise InterpreterError(f"{executable} did not describe itself: {out[:200]!r}") from exc
    return data


def _facts(data: dict[str, Any]) -> InterpreterFacts:
    return InterpreterFacts(
        implementation=data["implementation"],
        version=(data["version"][0], data["version"][1]),
        freethreaded=data["freethreaded"],
        platlibdir=data["platlibdir"],
        os_name=data["os_name"],
        win32=data["win32"],
    )


_VERSION_SPEC = re.compile(r"^(?:python)?(3)\.(\d+)(t?)$")


def candidates_for_version(major: str, minor: str, thread: str) -> list[str]:
    """Executables that may be Python ``major.minor[t]``: PATH first, then pyenv's versions."""
    name = f"python{major}.{minor}{thread}"
    found = []
    on_path = shutil.which(name)
    if on_path:
        found.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    pattern = os.path.join(pyenv_root, "versions", f"{major}.{minor}.*{thread}", "bin", name)
    found.extend(sorted(glob.glob(pattern), reverse=True))
    return found


def find_python(spec: str | None) -> Interpreter:
    """Resolve ``--python``: None (this interpreter), a path or command, or ``3.12``/``3.13t``."""
    if not spec:
        return probe(sys.executable)
    match = _VERSION_SPEC.match(spec)
    if match and not os.path.exists(spec):
        major, minor, thread = match.groups()
        for candidate in candidates_for_version(major, minor, thread):
            try:
                found = probe(candidate)
            except InterpreterError:
                continue  # e.g. a pyenv shim for a version that is not selected
            if found.facts.version_tag == f"{major}.{minor}{thread}":
                return found
        raise InterpreterError(f"no Python {spec} found on PATH or in pyenv's versions")
    path = spec if os.sep in spec or os.path.exists(spec) else shutil.which(spec)
    if not path or not os.path.exists(path):
        raise InterpreterError(f"no interpreter at {spec!r} (give a path, a command or 3.X)")
    return probe(path)


_ENVIRONMENT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from packaging.markers import default_environment
from packaging.tags import sys_tags
print(json.dumps({"environment": default_environment(), "tags": [str(t) for t in sys_tags()]}))
"""


def target_environment(interpreter: Interpreter) -> tuple[dict[str, str], list[str]]:
    """``interpreter``'s marker environment and wheel tags (most preferred first).

    Computed inside that interpreter by the ``packaging`` this toolkit runs with, so
    the answer is exact for interpreters that do not have packaging themselves.
    """
    import packaging

    library = os.path.dirname(os.path.dirname(packaging.__file__))
    data = _ask_with(interpreter.executable, ["-I", "-c", _ENVIRONMENT, library])
    return dict(data["environment"]), list(data["tags"])
