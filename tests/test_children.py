"""Issue 25, child processes: one story, whichever way the project is started.

A console script run directly, ``pep582 run`` and an interpreter with the hook all give
the programs they start the same tree: a Python child (by ``sys.executable`` or by name)
imports the tree's packages from any directory, what a program records by
``sys.executable`` keeps working later in a clean environment (a git hook ``pre-commit
install`` writes), the tree's console scripts are found by name, and a virtual
environment a child creates below the project sees only its own packages.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from pep582.interpreter import find_python
from pep582.step.startup import DIRNAME

from helpers import bare_venv, fake_dist, make_venv, migrate_cli, pep582, run

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
BASE = str(find_python(os.path.join(sys.base_prefix, "bin", f"python{PY}")).executable)
RECORDER = b"""\
import os, shutil, subprocess, sys

WHERE = __file__


def main():
    action = sys.argv[1]
    if action == "child":  # a kernel: sys.executable -m MODULE, from another directory
        code = "import recorder_mod; print(recorder_mod.WHERE)"
        out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True,
                             text=True)
        print(out.stdout.strip() or out.stderr.strip().splitlines()[-1])
    elif action == "record":  # pre-commit install: a git hook naming sys.executable
        with open(sys.argv[2], "w") as hook:
            hook.write('#!/bin/sh\\nexec "%s" -c "import recorder_mod; '
                       'print(recorder_mod.WHERE)"\\n' % sys.executable)
        os.chmod(sys.argv[2], 0o755)
    elif action == "venv":  # nox: a session venv below the project, its own recorder_mod
        target = sys.argv[2]
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", target], check=True)
        site = subprocess.run([os.path.join(target, "bin", "python"), "-c",
                               "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
        with open(os.path.join(site, "recorder_mod.py"), "w") as own:
            own.write("WHERE = 'the venv its own'\\n")
        out = subprocess.run([os.path.join(target, "bin", "python"), "-c",
                              "import recorder_mod; print(recorder_mod.WHERE)"],
                             cwd=os.path.dirname(target), capture_output=True, text=True)
        print(out.stdout.strip() or out.stderr.strip())
    elif action == "which":  # pre-commit's `entry: recorder`, a nox session's external tool
        print(shutil.which("recorder"))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    fake_dist(
        bare_venv(venv, BASE),
        "recorder",
        "1.0",
        {"recorder_mod.py": RECORDER},
        "[console_scripts]\nrecorder = recorder_mod:main\n",
    )
    project = tmp_path / "proj"
    project.mkdir()
    proc = migrate_cli(venv, "--project", project, "--python", BASE)
    assert proc.returncode == 0, proc.stderr
    shutil.rmtree(venv)
    return project


def site_of(project: Path) -> Path:
    return project / DIRNAME / "lib" / f"python{PY}" / "site-packages"


def ways(project: Path, tmp_path: Path) -> dict[str, list[str]]:
    """The three ways of starting the project's console script."""
    tool = str(project / DIRNAME / "bin" / "recorder")
    hooked = make_venv(find_python(BASE), tmp_path / "hooked")
    config = hooked.parent.parent / "pyvenv.cfg"
    assert pep582("enable", "--python", hooked).returncode == 0
    assert "include-local-packages" not in config.read_text()  # the hook is the opt-in
    return {
        "direct": [tool],
        "pep582 run": [
            sys.executable,
            "-m",
            "pep582.commands.main",
            "run",
            "--python",
            BASE,
            tool,
        ],
        "hook": [str(hooked), tool],
    }


def test_a_child_started_by_sys_executable_uses_the_tree(project: Path, tmp_path: Path) -> None:
    for how, command in ways(project, tmp_path).items():
        proc = run([*command, "child"], cwd=tmp_path)
        assert proc.returncode == 0, (how, proc.stderr)
        assert proc.stdout.strip() == str(site_of(project) / "recorder_mod.py"), how


def test_what_a_program_records_by_sys_executable_keeps_the_tree(
    project: Path, tmp_path: Path
) -> None:
    """pre-commit install writes sys.executable into .git/hooks; git runs it later, from
    the repository, in an environment with nothing of ours in it."""
    hook = tmp_path / "pre-commit"
    assert run([project / DIRNAME / "bin" / "recorder", "record", hook]).returncode == 0
    assert f"{project / DIRNAME}/bin/python{PY}" in hook.read_text()
    clean = {"PATH": "/usr/bin:/bin"}
    proc = run([hook], cwd="/", env=clean)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(site_of(project) / "recorder_mod.py")


def test_a_venv_a_child_creates_sees_only_its_own_packages(project: Path, tmp_path: Path) -> None:
    for how, command in ways(project, tmp_path).items():
        session = project / f".nox-{how.replace(' ', '-')}"
        proc = run([*command, "venv", session], cwd=project)
        assert proc.returncode == 0, (how, proc.stderr)
        assert proc.stdout.strip() == "the venv its own", how


def test_the_trees_console_scripts_are_found_by_name(project: Path, tmp_path: Path) -> None:
    """The scripts directory comes first on PATH, also when PATH already names it later
    behind a program of the same name."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "recorder").write_text("#!/bin/sh\necho shadow\n")
    (shadow / "recorder").chmod(0o755)
    scripts = project / DIRNAME / "bin"
    starts = ways(project, tmp_path)
    for path in ("/usr/bin:/bin", f"{shadow}:/usr/bin:/bin:{scripts}"):
        for how, command in starts.items():
            proc = run([*command, "which"], cwd=tmp_path, env={"PATH": path})
            assert proc.returncode == 0, (how, proc.stderr)
            assert proc.stdout.strip() == str(scripts / "recorder"), (how, path)


def test_the_launcher_and_bootstrap_are_the_trees_own(project: Path) -> None:
    """Written with the tree, listed by no RECORD, and not what audit calls unowned."""
    launcher = project / DIRNAME / "bin" / f"python{PY}"
    assert launcher.read_text().startswith("#!/bin/sh\n# Written by pep582-toolkit")
    assert (project / DIRNAME / ".pep582" / "sitecustomize.py").is_file()
    proc = pep582("audit", "--json", "--python", BASE, cwd=project)
    assert '"unowned-files"' not in proc.stdout, proc.stdout
