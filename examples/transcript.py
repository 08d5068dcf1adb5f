"""Real runs for doctests: a throwaway venv with the PEP 582 hook, commands, normalised output.

The first use builds, once per process, a virtual environment of the running Python
and applies ``pep582 enable`` to it, so its interpreter performs the PEP's step at every
start, as an interpreter with the hook installed does. Every directory made here lives
in one temporary directory, removed when the process exits.

>>> import transcript
>>> project = transcript.project()
>>> transcript.run("python", "-c", "import sys; print(sys.version_info[:2])", cwd=project)
(X, Y)

The whole API:

``project(name="project")``
    a new empty directory, shown in output as ``$PROJECT`` (``$`` and the name in
    capitals);
``run(*command, cwd=None, input=None, env=None)``
    run a command and print its output, normalised: stdout, then stderr, then
    ``[exit N]`` when the exit status is not 0. A first word ``python`` is the hooked
    venv's interpreter; ``pep582`` and ``pep582-migrate`` are this toolkit's commands;
    anything else runs as given. The command sees this process's environment without
    any ``PYTHON*`` variable, plus ``env``;
``interpreter(base=False)``
    the path of the hooked venv's interpreter, or with ``base=True`` of the
    interpreter that venv was made from (nothing is installed into that one);
``normalise(text)``
    what ``run`` applies: known directories become placeholders (``$PROJECT`` and
    the like, ``$VENV`` for the hooked venv, ``$BASE`` for the base interpreter's
    prefix, ``$TMP`` for the temporary root), this Python's version becomes ``X.Y``
    (``XY`` without the dot), and interactive prompts are dropped;
``wheel(directory, name, modules, console_scripts=None)``
    a minimal valid wheel, ``name-1.0-py3-none-any.whl``, written with ``zipfile``;
``SHOW_PATH``
    Python code printing ``sys.path``, one entry a line (``''`` for the empty one).
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["SHOW_PATH", "interpreter", "normalise", "project", "run", "wheel"]

SHOW_PATH = "import sys; print(*(p or repr(p) for p in sys.path), sep='\\n')"

_TOOLS = {"pep582": "pep582.cli", "pep582-migrate": "pep582.migrate_cli"}
_PROMPT = re.compile(r"^(?:(?:>>>|\.\.\.) ?)+", re.MULTILINE)
_made: dict[str, Path] = {}
_places: list[tuple[str, str]] = []  # (path, placeholder), longest path first


def _root() -> Path:
    if "root" not in _made:
        root = Path(tempfile.mkdtemp(prefix="pep582-transcript-"))
        _made["root"] = root
        atexit.register(_remove, root)
        _remember(root, "$TMP")
    return _made["root"]


def _remove(path: Path) -> None:
    """Remove ``path`` even where a walk-through took permissions away."""

    def unlock(function: Callable[..., Any], name: str, error: object) -> None:
        os.chmod(os.path.dirname(name), stat.S_IRWXU)
        if os.path.isdir(name) and not os.path.islink(name):
            os.chmod(name, stat.S_IRWXU)
            shutil.rmtree(name, onerror=unlock)
        else:
            os.unlink(name)

    shutil.rmtree(path, onerror=unlock)


def _remember(path: str | os.PathLike[str], placeholder: str) -> None:
    for form in dict.fromkeys([os.fspath(path), os.path.realpath(path)]):
        _places.append((form, placeholder))
    _places.sort(key=lambda item: len(item[0]), reverse=True)


def _environment(env: Mapping[str, str] | None) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    clean.update(env or {})
    return clean


def _output(args: list[str]) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, env=_environment(None))
    if proc.returncode:
        raise RuntimeError(f"{args[:4]} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def interpreter(base: bool = False) -> Path:
    """The hooked venv's interpreter, or (``base``) the interpreter it was made from."""
    if "python" not in _made:
        venv = _root() / "venv"
        _output([sys.executable, "-m", "venv", "--without-pip", os.fspath(venv)])
        python = venv / "bin" / "python"
        _output([sys.executable, "-m", _TOOLS["pep582"], "enable", "--python", str(python)])
        ask = "import sys; print(sys.base_prefix); print('%d.%d' % sys.version_info[:2])"
        prefix, version = _output([os.fspath(python), "-I", "-S", "-c", ask]).splitlines()
        _remember(venv, "$VENV")
        _remember(prefix, "$BASE")
        _made["python"] = python
        _made["base"] = Path(prefix) / "bin" / f"python{version}"
    return _made["base" if base else "python"]


def project(name: str = "project") -> Path:
    """A new empty directory, shown in output as ``$`` and ``name`` in capitals."""
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_root()))
    _remember(path, "$" + name.upper().replace("-", "_"))
    return path


def normalise(text: str) -> str:
    """``text`` with known directories, this Python's version and prompts replaced."""
    for path, placeholder in _places:
        text = text.replace(path, placeholder)
    major, minor = sys.version_info[:2]
    text = re.sub(rf"(?<![\d.]){major}\.{minor}(?!\d)", "X.Y", text)
    text = re.sub(rf"(?<=python)(-?){major}{minor}(?!\d)", r"\1XY", text)
    text = text.replace(f"({major}, {minor})", "(X, Y)")
    return _PROMPT.sub("", text)


def run(
    *command: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run ``command`` and print its normalised output (stdout, stderr, exit status)."""
    argv = [os.fspath(part) for part in command]
    if argv[0] == "python":
        argv[0] = os.fspath(interpreter())
    elif argv[0] in _TOOLS:
        argv[:1] = [sys.executable, "-m", _TOOLS[argv[0]]]
    proc = subprocess.run(
        argv, cwd=cwd, input=input, capture_output=True, text=True, env=_environment(env)
    )
    output = normalise(proc.stdout + proc.stderr).strip("\n")
    if proc.returncode:
        output += f"\n[exit {proc.returncode}]"
    if output.strip():
        print(output.strip("\n"))


def wheel(
    directory: str | os.PathLike[str],
    name: str,
    modules: Mapping[str, str],
    console_scripts: Mapping[str, str] | None = None,
) -> Path:
    """A minimal valid wheel of ``modules`` (file name: source), version 1.0, pure Python.

    ``console_scripts`` maps script names to entry points (``"tool = tool:main"`` style,
    given as ``{"tool": "tool:main"}``).
    """
    info = f"{name}-1.0.dist-info"
    files = {path: source.encode() for path, source in modules.items()}
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: transcript\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    if console_scripts:
        lines = [f"{script} = {target}" for script, target in console_scripts.items()]
        files[f"{info}/entry_points.txt"] = (
            "[console_scripts]\n" + "\n".join(lines) + "\n"
        ).encode()
    rows = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{path},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join([*rows, f"{info}/RECORD,,"]) + "\n").encode()
    target = Path(directory) / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return target
