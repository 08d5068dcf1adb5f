"""The PEP 582 step for one process: which ``__pypackages__`` applies (``pep582 where``
and ``status``), and what ``pep582 run`` starts.

The decision itself is the target interpreter's (``step/launch.py`` runs ``startup.py``
there); this module picks the interpreter, asks it, and adds what a person needs to act:
a tree that holds nothing for that Python, a ``__pypackages__`` one directory up that does
not apply here. It never walks to a parent to *use* one: the rule is one directory.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pep582.errors import Pep582Error
from pep582.interpreter import Interpreter, choose_python, describe_step
from pep582.scheme import scheme_for, trees_in
from pep582.step import startup

STEP_DIR = Path(startup.__file__).resolve().parent
BOOTSTRAP = STEP_DIR / "_bootstrap"
# pip commands that change the environment pip runs in, and the options that send them
# elsewhere instead (an explicit destination).
PIP_CHANGES = ("install", "uninstall")
PIP_DESTINATIONS = ("--prefix", "--target", "-t", "--root", "--user", "--python")
PIP_NAMES = ("pip", "pip3")
# pip's general options that take a value (the word after them is not the subcommand)
PIP_VALUED = frozenset(
    [
        "--log",
        "--log-file",
        "--proxy",
        "--retries",
        "--timeout",
        "--exists-action",
        "--trusted-host",
        "--cert",
        "--client-cert",
        "--cache-dir",
        "--python",
        "--use-feature",
        "--use-deprecated",
        "--keyring-provider",
        "--resume-retries",
    ]
)


class RunRefused(Pep582Error):
    """``pep582 run`` would do something other than what its user expects (exit 2)."""

    exit_code = 2


def pypackages_for(argv0: str) -> Path:
    """The ``__pypackages__`` an invocation would look at (for choosing an interpreter)."""
    where, _, _ = startup.applying(argv0)
    return Path(where) if where else Path.cwd() / startup.DIRNAME


def in_parent(pypackages: Path) -> Path | None:
    """The nearest ``__pypackages__`` above the directory ``pypackages`` would be in, when
    ``pypackages`` itself is absent: the one a person expected, which does not apply.
    Only a tree nobody else could have put there is named (the trust rule's owner and
    write test): a hint must never lure anyone into someone else's ``/tmp/__pypackages__``."""
    if os.path.isdir(pypackages):
        return None
    for parent in pypackages.parent.absolute().parents:
        candidate = parent / startup.DIRNAME
        if os.path.isdir(candidate) and startup.untrusted_path(str(candidate)) is None:
            return candidate
    return None


def parent_note(pypackages: Path) -> str | None:
    """One line for a ``__pypackages__`` in a parent directory that does not apply."""
    found = in_parent(pypackages)
    if found is None:
        return None
    return (
        f"no {startup.DIRNAME} in {pypackages.parent}; {found} is in a parent directory and "
        f"does not apply here (one directory, never a parent): run from {found.parent}, or "
        f"set {startup.ENV_VAR}={found}"
    )


def describe(python: Interpreter, argv0: str) -> dict[str, Any]:
    """What the step decides in ``python`` for ``argv0`` here (``launch.py describe``)."""
    return describe_step(python.executable, argv0)


def what_it_holds(pypackages: Path) -> str:
    """What a ``__pypackages__`` holds instead, and what to do about it."""
    trees = trees_in(pypackages)
    versions = [t.facts.command for t in trees if t.layout == "pep582"]
    if versions:
        return f" (it holds {', '.join(versions)}: name one with --python)"
    if any(t.layout == "pdm" for t in trees):
        return (
            " (it is in the draft X.Y/lib layout PDM uses: convert it with "
            "`pep582-migrate __pypackages__ --layout pep582 --replace`)"
        )
    return ""


def serves(pypackages: Path, python: Interpreter) -> bool:
    """Whether ``pypackages`` has a site directory for ``python`` (the step's layout)."""
    scheme = scheme_for(pypackages.parent, python.facts, "pep582")
    return os.path.isdir(scheme.purelib) or os.path.isdir(scheme.platlib)


def verdict(decision: dict[str, Any]) -> str:
    """The decision in a few words."""
    if decision["disabled"]:
        return f"nothing applies: {decision['disabled']}"
    if decision["pypackages"] is None:
        return (
            "nothing applies: the program named does not exist, is not a regular file, "
            "or is a zip archive (no __pypackages__ is beside it)"
        )
    if not decision["exists"]:
        return "not present"
    if decision["refused"]:
        return f"refused: {decision['refused']}"
    if not decision["present"]:
        return "present, but holds no site directory for this interpreter" + what_it_holds(
            Path(decision["pypackages"])
        )
    return "would activate: " + os.pathsep.join(decision["activate"])


@dataclass
class Where:
    """``pep582 where``: the interpreter asked, why, and its decision."""

    python: Interpreter
    why: str
    decision: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.decision)
        data["interpreter"] = {"executable": str(self.python.executable), "why": self.why}
        return data


def where(script: str | None, python_spec: str | None) -> Where:
    """Which ``__pypackages__`` applies to ``script`` (or to ``-c``/``-m``/the prompt here)."""
    argv0 = script or ""
    notes = []
    if script and not os.path.exists(script):
        notes.append(f"{script} does not exist: the step locates nothing for it")
    pypackages = pypackages_for(argv0)
    python, why = choose_python(python_spec, pypackages)
    decision = describe(python, argv0)
    parent = None
    if not decision["disabled"] and decision["pypackages"] and not decision["exists"]:
        found = in_parent(Path(decision["pypackages"]))
        parent = str(found) if found else None
        note = parent_note(Path(decision["pypackages"]))
        if note:
            notes.append(note)
    decision["parent_pypackages"] = parent
    return Where(python, why, decision, notes)


# -- pep582 run -----------------------------------------------------------------------------


@dataclass
class Launch:
    """What ``pep582 run`` starts: ``argv`` (a trusted interpreter, or a console script of
    the tree, first) in ``env``, and the lines to say on stderr first."""

    argv: list[str]
    env: dict[str, str]
    notes: list[str] = field(default_factory=list)


def run_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a ``pep582 run``: the bootstrap first on ``PYTHONPATH``."""
    env = dict(os.environ if environ is None else environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([os.fspath(BOOTSTRAP), *paths])
    return env


def console_script(name: str, pypackages: Path, python: Interpreter) -> Path | None:
    """``__pypackages__``'s console script ``name`` for ``python``, when ``name`` is a bare
    name (no path separator) that is not a file here, and the script exists."""
    if not name or os.sep in name or (os.altsep and os.altsep in name) or os.path.exists(name):
        return None
    if name in (os.curdir, os.pardir):
        return None
    scripts = Path(scheme_for(pypackages.parent, python.facts, "pep582").scripts)
    candidate = scripts / name
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return None


def pip_change(program: Sequence[str]) -> tuple[str, list[str]] | None:
    """``(subcommand, its arguments)`` when ``program`` runs ``pip install``/``uninstall``
    to change the environment pip runs in (no explicit destination); None otherwise."""
    if program[:2] in (["-m", "pip"], ["-m", "pip.__main__"]):
        args = list(program[2:])
    elif program and os.path.basename(program[0]).rstrip("0123456789.") in PIP_NAMES:
        args = list(program[1:])
    else:
        return None
    index = 0
    while index < len(args) and args[index].startswith("-"):
        index += 2 if args[index] in PIP_VALUED else 1
    if index >= len(args) or args[index] not in PIP_CHANGES:
        return None
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in PIP_DESTINATIONS or (arg.startswith("-t") and not arg.startswith("--")):
            return None
    rest = args[index + 1 :]
    if args[index] == "uninstall":
        rest = [a for a in rest if a not in ("-y", "--yes")]
    return args[index], rest


def prepare_run(program: Sequence[str], python_spec: str | None) -> Launch:
    """What ``pep582 run PROGRAM`` starts: ``python SCRIPT|-m MOD|-c CODE [ARGS]``, or a
    console script of the applicable ``__pypackages__`` by name (its ``bin`` first on
    ``PATH``, as ``uv run`` and ``pdm run`` do); a file of that name here wins."""
    program = list(program)
    first = program[0]
    by_cwd = first in ("-c", "-m")
    pypackages = pypackages_for("" if by_cwd else first)
    python, _ = choose_python(python_spec, pypackages)
    notes: list[str] = []
    env = run_environment()
    script = None if by_cwd else console_script(first, pypackages, python)
    change = pip_change(program)
    if change is not None:
        verb, rest = change
        instead = shlex.join(["pep582", verb, *rest]) if rest else f"pep582 {verb} NAME"
        raise RunRefused(
            f"`pip {verb}` here would change {python.executable}'s own environment "
            f"({python.purelib}), not {startup.DIRNAME}: run `{instead}` instead (or give "
            "pip --prefix, --target, --root or --user)"
        )
    bare_name = os.sep not in first and not first.startswith("-") and "." not in first
    if script is None and bare_name and not os.path.exists(first):
        raise RunRefused(
            f"{first}: no such file here, and {pypackages / 'bin'} has no console script "
            f"{first} (pep582 list shows what is installed)"
        )
    if script is not None:
        scripts = os.fspath(script.parent)
        paths = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != scripts]
        env["PATH"] = os.pathsep.join([scripts, *paths])
        argv = [os.fspath(script), *program[1:]]
    else:
        argv = [os.fspath(python.executable), *program]
    if pypackages.is_dir() and not serves(pypackages, python):
        notes.append(
            f"warning: {pypackages} holds nothing for {python.facts.describe()}"
            + what_it_holds(pypackages)
        )
    elif startup.inherited() is None:
        note = parent_note(pypackages)
        if note:
            notes.append(f"note: {note}")
    return Launch(argv, env, notes)
