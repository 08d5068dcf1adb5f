"""Real runs for doctests: a throwaway venv with the PEP 582 hook, commands, normalised output.

The first use builds, once per process, a virtual environment of the running Python
and applies ``pep582 enable`` to it, so its interpreter performs the PEP's step at every
start, as an interpreter with the hook installed does. Every directory made here lives
in one private temporary directory (mode 0700), removed when the process exits; the
commands run here keep their temporary files, pip's cache and the toolkit's wheel cache
(``PEP582_CACHE_DIR``) in it too.

>>> import transcript
>>> project = transcript.project()
>>> transcript.run("python", "-c", "import sys; print(sys.version_info[:2])", cwd=project)
(X, Y)

The whole API:

``project(name="project", source=None)``
    a new directory, shown in output as ``$PROJECT`` (``$`` and the name in
    capitals); with ``source``, a copy of that directory's files (``README.rst``
    and ``__pycache__`` left out);
``run(*command, cwd=None, input=None, env=None)``
    run a command and print its output, normalised: stdout, then stderr, then
    ``[exit N]`` when the exit status is not 0. A first word ``python`` is the hooked
    venv's interpreter; ``pep582``, ``pep582-migrate`` and ``pip`` are this toolkit's
    commands and its pip; anything else runs as given. The command sees this process's
    environment without any ``PYTHON*`` variable, with the hooked venv's ``bin`` first
    on ``PATH`` (and, for ``-i``, a ``HOME`` of its own), plus ``env``;
``interpreter(base=False)``
    the path of the hooked venv's interpreter, or with ``base=True`` of the
    interpreter that venv was made from (nothing is installed into that one);
``other_python()``
    a second hooked venv's interpreter, of another CPython 3.9-3.13 found on this
    machine (``None`` when there is none); its version is shown as ``V.W``;
``lacks(*needs)``
    why this machine cannot run a part that needs ``"root"``, ``"-P"`` (3.11+),
    ``"another python"`` or ``"a C compiler"`` (``cc`` and the interpreters'
    ``Python.h``): the first reason, or ``""``. README files skip such parts with
    ``.. doctest::`` and ``:skipif:``, as Sphinx and ``tests/test_examples.py`` do;
``normalise(text)``
    what ``run`` applies: known directories become placeholders (``$PROJECT`` and
    the like, ``$VENV`` for the hooked venv, ``$BASE`` for the base interpreter's
    prefix, ``$TMP`` for the temporary root), this Python's version becomes ``X.Y``
    (``XY`` without the dot), durations such as ``in 0.012s`` become ``in N.NNs``, and
    interactive prompts are dropped;
``wheel(directory, name, modules, console_scripts=None)``
    a minimal valid wheel, ``name-1.0-py3-none-any.whl``, written with ``zipfile``;
``build(source, directory, python=None)``
    the wheel of the project in ``source``, built from its ``pyproject.toml``
    (``[project]``: name, version, dependencies, scripts; ``[tool.setuptools]``:
    ``data-files`` and ``ext-modules``, the latter compiled with ``cc`` for ``python``);
``tree(directory)``
    the paths below ``directory``, sorted, directories with a trailing ``/``
    (``__pycache__`` and the files inside ``.dist-info`` left out);
``EXAMPLES``
    the folder holding this module and the example projects;
``SHOW_PATH``
    Python code printing ``sys.path``, one entry a line (``''`` for the empty one).
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = [
    "EXAMPLES",
    "SHOW_PATH",
    "build",
    "interpreter",
    "lacks",
    "normalise",
    "other_python",
    "project",
    "run",
    "tree",
    "wheel",
]

EXAMPLES = Path(__file__).resolve().parent
SHOW_PATH = "import sys; print(*(p or repr(p) for p in sys.path), sep='\\n')"

_TOOLS = {
    "pep582": "pep582.commands.main",
    "pep582-migrate": "pep582.commands.migrate",
    "pip": "pip",
}
_PROMPT = re.compile(r"^(?:(?:>>>|\.\.\.) ?)+", re.MULTILINE)
_DURATION = re.compile(r"(?<=\bin )\d+(?:\.\d+)?m?s\b")
_ASK = "import sys; print(sys.base_prefix); print('%d.%d' % sys.version_info[:2])"
_made: dict[str, Path] = {}
_places: list[tuple[str, str]] = []  # (path, placeholder), longest path first
_versions: list[tuple[str, str]] = []  # ("3.12", "V.W") for other interpreters


def _running() -> str:
    return "{}.{}".format(*sys.version_info[:2])


def _root() -> Path:
    if "root" not in _made:
        root = Path(tempfile.mkdtemp(prefix="pep582-transcript-"))
        _made["root"] = root
        atexit.register(_remove, root)
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # a kill still cleans up
            signal.signal(signal.SIGTERM, _exit_on_term)
        _remember(root, "$TMP")
        (root / "tmp").mkdir(mode=0o700)
    return _made["root"]


def _exit_on_term(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # runs the atexit removal, as a normal exit does


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
    root = _root()
    clean.update(
        TMPDIR=str(root / "tmp"),
        PEP582_CACHE_DIR=str(root / "cache"),
        PIP_CACHE_DIR=str(root / "pip-cache"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        # the machine's pip index settings reach neither resolver (as PIP_CONFIG_FILE)
        PIP_FIND_LINKS="",
        PIP_INDEX_URL="",
        PIP_EXTRA_INDEX_URL="",
    )
    if "python" in _made:  # the hooked interpreter comes first on PATH, as python3 too
        clean["PATH"] = os.pathsep.join([str(_made["python"].parent), clean.get("PATH", "")])
    clean.update(env or {})
    return clean


def _output(args: list[str]) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, env=_environment(None))
    if proc.returncode:
        raise RuntimeError(f"{args[:4]} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def _hooked_venv(base: str, name: str) -> tuple[Path, str, str]:
    """A venv of ``base`` with the hook enabled: (its python, base prefix, X.Y)."""
    venv = _root() / name
    _output([base, "-m", "venv", "--without-pip", os.fspath(venv)])
    python = venv / "bin" / "python"
    _output([sys.executable, "-m", _TOOLS["pep582"], "enable", "--python", str(python)])
    prefix, version = _output([os.fspath(python), "-I", "-S", "-c", _ASK]).splitlines()
    return python, prefix, version


def interpreter(base: bool = False) -> Path:
    """The hooked venv's interpreter, or (``base``) the interpreter it was made from."""
    if "python" not in _made:
        python, prefix, version = _hooked_venv(sys.executable, "venv")
        _remember(python.parent.parent, "$VENV")
        _remember(prefix, "$BASE")
        _made["python"] = python
        _made["base"] = Path(prefix) / "bin" / f"python{version}"
    return _made["base" if base else "python"]


def other_python() -> Path | None:
    """A hooked venv of another CPython 3.9-3.13 found here (newest first), or None."""
    if "other" not in _made:
        from pep582.errors import InterpreterError
        from pep582.interpreter import find_python

        versions = ("3.13", "3.12", "3.11", "3.10", "3.9")
        for version in versions if sys.implementation.name == "cpython" else ():
            if version == _running():
                continue
            try:
                found = find_python(version)
                python, prefix, _ = _hooked_venv(os.fspath(found.executable), "other-venv")
            except (InterpreterError, RuntimeError):  # absent, or cannot make a venv
                shutil.rmtree(_root() / "other-venv", ignore_errors=True)
                continue
            _remember(python.parent.parent, "$OTHER_VENV")
            _remember(prefix, "$OTHER_BASE")
            _versions.append((version, "V.W"))
            _made["other"] = python
            break
        else:
            return None
    return _made["other"]


def lacks(*needs: str) -> str:
    """The first reason this machine cannot run a part that needs ``needs``, or ``""``."""
    for need in needs:
        if need == "root" and os.geteuid() != 0:
            return "not run as root: giving files to another user (chown) needs root"
        if need == "-P" and sys.version_info < (3, 11):
            return "Python 3.9 and 3.10 have no -P option"
        if need == "another python" and other_python() is None:
            return "only one of Python 3.9-3.13 is installed here"
        if need == "a C compiler" and shutil.which("cc") is None:
            return "no C compiler (cc) here"
        if need == "a C compiler":
            for python in filter(None, (interpreter(), _made.get("other"))):
                ask = "import os, sysconfig; p = sysconfig.get_paths()['include']"
                ask += "; print(os.path.isfile(os.path.join(p, 'Python.h')))"
                if _output([os.fspath(python), "-I", "-c", ask]) != "True":
                    return f"no Python.h for {normalise(os.fspath(python))}"
    return ""


def project(name: str = "project", source: str | os.PathLike[str] | None = None) -> Path:
    """A new directory, shown as ``$`` and ``name`` in capitals; a copy of ``source``."""
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_root()))
    _remember(path, "$" + name.upper().replace("-", "_"))
    if source is not None:
        skip = shutil.ignore_patterns("README.rst", "__pycache__", "*.pyc")
        shutil.copytree(source, path, ignore=skip, dirs_exist_ok=True)
    return path


def normalise(text: str) -> str:
    """``text`` with known directories, versions, durations and prompts replaced."""
    for path, placeholder in _places:
        text = text.replace(path, placeholder)
    for version, shown in [(_running(), "X.Y"), *_versions]:
        major, minor = version.split(".")
        text = re.sub(rf"(?<![\d.]){major}\.{minor}(?!\d)", shown, text)
        text = re.sub(rf"(?<=python)(-?){major}{minor}(?!\d)", r"\g<1>" + shown[::2], text)
        text = text.replace(f"({major}, {minor})", f"({shown[0]}, {shown[2]})")
    text = _DURATION.sub("N.NNs", text)
    return _PROMPT.sub("", text)


def run(
    *command: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run ``command`` and print its normalised output (stdout, stderr, exit status)."""
    argv = [os.fspath(part) for part in command]
    python = interpreter()  # made first: every command sees it on PATH
    if "-i" in argv[1:]:  # the prompt writes ~/.python_history at exit: keep it here
        home = _root() / "home"
        home.mkdir(mode=0o700, exist_ok=True)
        env = {"HOME": str(home), **(env or {})}
    if argv[0] == "python":
        argv[0] = os.fspath(python)
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


def tree(directory: str | os.PathLike[str]) -> None:
    """Print the paths below ``directory``: normalised, sorted, directories with a ``/``;
    ``__pycache__`` left out, and the files inside ``.dist-info`` directories."""
    top = Path(directory)
    shown = []
    for path in top.rglob("*"):
        inside = path.relative_to(top).parts[:-1]
        if "__pycache__" in path.parts or any(p.endswith(".dist-info") for p in inside):
            continue
        slash = "/" if path.is_dir() and not path.is_symlink() else ""
        shown.append(normalise(path.relative_to(top).as_posix()) + slash)
    print("\n".join(sorted(shown)))


def _record(files: Mapping[str, bytes], info: str) -> bytes:
    rows = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{path},sha256={digest},{len(data)}")
    return ("\n".join([*rows, f"{info}/RECORD,,"]) + "\n").encode()


def _write_wheel(
    directory: str | os.PathLike[str],
    meta: Mapping[str, Any],
    files: dict[str, bytes],
    tag: str = "py3-none-any",
) -> Path:
    name, version = meta["name"].replace("-", "_"), meta["version"]
    info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in meta.get("dependencies", []))
    files[f"{info}/METADATA"] = metadata.encode()
    purelib = str(tag == "py3-none-any").lower()
    wheel_file = f"Wheel-Version: 1.0\nGenerator: transcript\nRoot-Is-Purelib: {purelib}\n"
    files[f"{info}/WHEEL"] = f"{wheel_file}Tag: {tag}\n".encode()
    if meta.get("scripts"):
        lines = [f"{script} = {target}" for script, target in meta["scripts"].items()]
        files[f"{info}/entry_points.txt"] = "[console_scripts]\n{}\n".format(
            "\n".join(lines)
        ).encode()
    files[f"{info}/RECORD"] = _record(files, info)
    target = Path(directory) / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(target, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return target


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
    meta = {"name": name, "version": "1.0", "scripts": console_scripts or {}}
    return _write_wheel(directory, meta, {p: s.encode() for p, s in modules.items()})


def _sources(root: Path, skip: Iterable[str]) -> dict[str, bytes]:
    """The project's importable files: packages (with ``__init__.py``) and modules."""
    files = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        top = root / relative.parts[0]
        if relative.parts[0] in skip or "__pycache__" in relative.parts:
            continue
        if len(relative.parts) == 1 or (top / "__init__.py").is_file():
            files[relative.as_posix()] = path.read_bytes()
    return files


def _compile(root: Path, module: str, sources: list[str], python: str) -> tuple[str, bytes]:
    """An extension module built with ``cc`` for ``python``: (its wheel path, its bytes)."""
    ask = "import json, sysconfig as s; print(json.dumps([s.get_paths()['include'],"
    ask += " s.get_config_var('EXT_SUFFIX')]))"
    include, suffix = json.loads(_output([python, "-I", "-c", ask]))
    target = Path(tempfile.mkdtemp(dir=_root() / "tmp")) / "extension"
    compiler = [shutil.which("cc") or "cc", "-shared", "-fPIC", "-O1", f"-I{include}"]
    _output([*compiler, *(os.fspath(root / s) for s in sources), "-o", os.fspath(target)])
    data = target.read_bytes()
    shutil.rmtree(target.parent)
    return module.replace(".", "/") + suffix, data


def build(
    source: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    python: str | os.PathLike[str] | None = None,
) -> Path:
    """The wheel of the project in ``source``, written into ``directory``.

    What a build backend would read: ``[project]`` (name, version, dependencies,
    scripts) and ``[tool.setuptools]`` ``data-files`` (wheel data files) and
    ``ext-modules`` (compiled with ``cc`` for ``python``, default: the hooked venv's).
    """
    root = Path(source)
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    meta, setup = config["project"], config.get("tool", {}).get("setuptools", {})
    files = _sources(root, skip=("build", "dist"))
    data = f"{meta['name'].replace('-', '_')}-{meta['version']}.data/data"
    for where, names in setup.get("data-files", {}).items():
        for name in names:
            files[f"{data}/{where}/{Path(name).name}"] = (root / name).read_bytes()
    tag = "py3-none-any"
    if setup.get("ext-modules"):
        target = os.fspath(python or interpreter())
        ask = "import sys, sysconfig; v = sys.version_info; print('cp%d%d' % v[:2],"
        ask += " sysconfig.get_platform().replace('-', '_').replace('.', '_'))"
        abi, platform = _output([target, "-I", "-c", ask]).split()
        tag = f"{abi}-{abi}-{platform}"
        for ext in setup["ext-modules"]:
            path, binary = _compile(root, ext["name"], ext["sources"], target)
            files[path] = binary
    return _write_wheel(directory, meta, files, tag)
