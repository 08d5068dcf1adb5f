"""Issue 21 class 3: every child process goes through pep582.proc, and proc's rules hold.

No other module of the package may start a program (a test reads every module's syntax
tree); a Python child runs with ``-I`` in ``/`` with no ``PYTHON*`` variable, so a module
planted in the caller's directory or named by ``PYTHONPATH`` is never imported; a program
another user could change (its directory, a link on the way, a ``pyvenv.cfg`` beside it)
is never started.
"""

from __future__ import annotations

import ast
import os
import pwd
import shutil
import sys
from pathlib import Path

import pytest

from pep582 import proc
from pep582.errors import InterpreterError

from helpers import ROOT

PACKAGE = ROOT / "converter" / "pep582"
SPAWNING = {
    "subprocess",
    "pty",
    "multiprocessing",
    "concurrent.futures.process",
}
OS_SPAWNERS = ("system", "popen", "exec", "spawn", "posix_spawn", "fork")


def spawning_calls(path: Path) -> list[str]:
    """Where a module imports a process-starting module or calls os' own spawners, in
    source order."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names if a.name in SPAWNING]
        elif isinstance(node, ast.ImportFrom) and node.module in SPAWNING:
            found.append((node.lineno, f"from {node.module} import ..."))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr.startswith(OS_SPAWNERS)
        ):
            found.append((node.lineno, f"os.{node.attr}"))
    return [f"{path.name}:{line}:{what}" for line, what in sorted(found)]


def test_no_module_but_proc_starts_a_process() -> None:
    offenders = [
        call
        for module in sorted(PACKAGE.rglob("*.py"))
        if module.name != "proc.py"
        for call in spawning_calls(module)
    ]
    assert offenders == []


def test_the_scan_sees_each_way_of_starting_a_process(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os, subprocess\nfrom multiprocessing import Pool\n"
        "os.system('x'); os.execv('a', []); os.posix_spawn('a', [], {})\n"
    )
    found = [call.split(":", 2)[2] for call in spawning_calls(module)]
    assert found == [
        "import subprocess",
        "from multiprocessing import ...",
        "os.execv",
        "os.posix_spawn",
        "os.system",
    ]


def test_a_python_child_imports_nothing_from_the_callers_directory_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = tmp_path / "planted"
    planted.mkdir()
    canary = tmp_path / "canary"
    for name in ("json", "sitecustomize", "usercustomize"):
        (planted / f"{name}.py").write_text(f"open({str(canary)!r}, 'a').write('{name}')\n")
    monkeypatch.chdir(planted)
    monkeypatch.setenv("PYTHONPATH", str(planted))
    monkeypatch.setenv("PYTHONSTARTUP", str(planted / "json.py"))
    result = proc.run(
        [sys.executable, "-c", "import json, os, sys; print(os.getcwd(), sys.flags.isolated)"],
        python=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["/", "1"]
    assert not canary.exists()


def test_the_environment_is_cleaned() -> None:
    os.environ["PYTHONPYPACKAGES"] = "/somewhere/__pypackages__"
    os.environ["VIRTUAL_ENV"] = "/some/venv"
    try:
        env = proc.clean_environment()
    finally:
        del os.environ["PYTHONPYPACKAGES"], os.environ["VIRTUAL_ENV"]
    assert not [key for key in env if key.startswith("PYTHON")]
    assert "VIRTUAL_ENV" not in env and "PATH" in env


@pytest.mark.usefixtures("root_only")
@pytest.mark.parametrize("how", ["owner", "directory", "link", "pyvenv.cfg"])
def test_a_program_another_user_could_change_is_never_started(tmp_path: Path, how: str) -> None:
    nobody = pwd.getpwnam("nobody").pw_uid
    canary = tmp_path / "ran"
    place = tmp_path / "place"
    place.mkdir()
    program = place / "tool"
    program.write_text(f"#!/bin/sh\ntouch {canary}\n")
    program.chmod(0o755)
    named = program
    if how == "owner":
        os.chown(program, nobody, -1)
    elif how == "directory":
        os.chown(place, nobody, -1)
    elif how == "link":
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        (theirs / "tool").symlink_to(program)
        os.chown(theirs, nobody, -1)
        named = theirs / "tool"
    else:
        (place / "pyvenv.cfg").write_text("home = /somewhere/else\n")
        os.chown(place / "pyvenv.cfg", nobody, -1)
    proc._trusted.clear()
    with pytest.raises(InterpreterError, match="another user could change what it runs"):
        proc.run([named], python=False)
    assert not canary.exists()


def test_your_own_program_runs(tmp_path: Path) -> None:
    program = tmp_path / "tool"
    program.write_text('#!/bin/sh\necho ran in "$PWD"\n')
    program.chmod(0o755)
    result = proc.run([program], python=False)
    assert result.returncode == 0 and result.stdout.strip() == "ran in /"


def test_a_relative_program_is_refused() -> None:
    with pytest.raises(InterpreterError, match="not an absolute path"):
        proc.run(["python3"], python=True)
    assert shutil.which("python3")  # it is not absence that refuses it
