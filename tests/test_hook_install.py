"""`pep582 enable/disable/status/where`: files written, idempotence, refusals, reports."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from pep582.interpreter import find_python
from pep582.step import startup
from pep582.step.hook import (
    MODULE_NAME,
    PTH_LINE,
    PTH_NAME,
    START_LINE,
    START_NAME,
    STEP_NAME,
    hook_source,
)

from helpers import add_module, interpreter, make_venv, pep582, run

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture
def venv_python(tmp_path: Path) -> Path:
    base = interpreter(f"{sys.version_info[0]}.{sys.version_info[1]}")
    assert base is not None
    return make_venv(base, tmp_path / "v")


def site_dir(venv_python: Path) -> Path:
    return next(venv_python.parent.parent.glob("lib/python*/site-packages"))


def test_enable_writes_module_pth_and_pyc_then_disable_removes_exactly_them(
    venv_python: Path,
) -> None:
    site = site_dir(venv_python)
    before = sorted(p.relative_to(site) for p in site.rglob("*"))
    proc = pep582("enable", "--python", venv_python)
    assert proc.returncode == 0, proc.stderr
    assert f"enabled (version {startup.HOOK_VERSION})" in proc.stdout
    assert (site / PTH_NAME).read_text() == PTH_LINE
    assert (site / START_NAME).read_text() == START_LINE == f"{MODULE_NAME}:activate\n"
    assert (site / f"{STEP_NAME}.py").read_bytes() == Path(startup.__file__).read_bytes()
    assert (site / f"{MODULE_NAME}.py").read_bytes() == hook_source()
    assert list((site / "__pycache__").glob(f"{MODULE_NAME}.*.pyc"))
    assert list((site / "__pycache__").glob(f"{STEP_NAME}.*.pyc"))
    proc = pep582("enable", "--python", venv_python)
    assert "already enabled" in proc.stdout
    proc = pep582("disable", "--python", venv_python)
    assert proc.returncode == 0
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before
    assert "was not installed" in pep582("disable", "--python", venv_python).stdout


def test_enable_upgrades_an_older_copy(venv_python: Path) -> None:
    site = site_dir(venv_python)
    pep582("enable", "--python", venv_python)
    step = site / f"{STEP_NAME}.py"
    step.write_text('HOOK_VERSION = "0"\ndef activate(argv0=None): pass\n')
    status = pep582("status", "--python", venv_python).stdout
    assert "version 0" in status and "differs" in status
    proc = pep582("enable", "--python", venv_python)
    assert f"pep582 hook enabled (version {startup.HOOK_VERSION})" in proc.stdout
    assert step.read_bytes() == Path(startup.__file__).read_bytes()


def test_the_front_door_is_written_from_startup_py() -> None:
    """The .pth line and the 3.15+ entry point both call the hook module's activate,
    which is startup.FRONT_DOOR unchanged."""
    assert PTH_LINE == "import _pep582_hook; _pep582_hook.activate()\n"
    assert f"    return {startup.FRONT_DOOR}\n" in hook_source().decode()
    assert "def judge(" not in hook_source().decode()  # the rule loads only when it may apply


def test_a_start_without_pypackages_imports_only_the_front_door(venv_python: Path) -> None:
    """Without a candidate directory only the small front door is loaded, never the
    step (the trust rule, the layout)."""
    assert pep582("enable", "--python", venv_python).returncode == 0
    code = "import sys; print(sorted(m for m in sys.modules if m.startswith('_pep582')))"
    with tempfile.TemporaryDirectory() as empty:
        out = run([venv_python, "-c", code], cwd=empty)
    assert out.stdout.strip() == "['_pep582_hook']", out.stderr


def test_enable_user_site(tmp_path: Path) -> None:
    # The user site is off inside venvs: use the interpreter behind this one.
    base = find_python(os.path.join(sys.base_prefix, "bin", f"python{PY}"))
    assert base.user_site_enabled
    env = {"PYTHONUSERBASE": str(tmp_path / "userbase")}
    proc = run(
        [
            sys.executable,
            "-m",
            "pep582.commands.main",
            "enable",
            "--user",
            "--python",
            base.executable,
        ],
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    installed = list((tmp_path / "userbase").rglob(PTH_NAME))
    assert len(installed) == 1
    proj = tmp_path / "proj"
    proj.mkdir()
    add_module(proj, base)
    proc = run(
        [base.executable, "-c", "import localmod; print(localmod.WHERE)"],
        cwd=proj,
        env=env,
        check=True,
    )
    assert str(proj / "__pypackages__") in proc.stdout
    proc = run(
        [
            sys.executable,
            "-m",
            "pep582.commands.main",
            "disable",
            "--user",
            "--python",
            base.executable,
        ],
        env=env,
        check=True,
    )
    assert not installed[0].exists()


@pytest.mark.usefixtures("root_only")
def test_enable_refuses_read_only_site_packages(venv_python: Path) -> None:
    site = site_dir(venv_python)
    os.chmod(site, 0o555)
    try:
        proc = pep582("enable", "--python", venv_python)
    finally:
        os.chmod(site, 0o755)
    assert proc.returncode == 4
    assert proc.stderr.strip() == f"pep582: error: {site} is read-only; cannot install the hook"
    assert not (site / PTH_NAME).exists()


@pytest.mark.usefixtures("root_only")
def test_enable_refuses_foreign_owned_site_packages(venv_python: Path) -> None:
    site = site_dir(venv_python)
    os.chown(site, pwd.getpwnam("nobody").pw_uid, -1)
    proc = pep582("enable", "--python", venv_python)
    assert proc.returncode == 4
    assert "owned by uid" in proc.stderr and str(site) in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (site / f"{MODULE_NAME}.py").exists()


def test_unknown_interpreter_is_one_line_exit_3(tmp_path: Path) -> None:
    proc = pep582("status", "--python", str(tmp_path / "nope"))
    assert proc.returncode == 3
    assert proc.stderr.strip().startswith("pep582: error: no interpreter at")
    proc = pep582("status", "--python", "3.99")
    assert proc.returncode == 3
    assert "no Python 3.99 found" in proc.stderr


def test_status_and_where_report_decisions(venv_python: Path, tmp_path: Path) -> None:
    base = interpreter(f"{sys.version_info[0]}.{sys.version_info[1]}")
    assert base is not None
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "app.py").write_text("")
    assert "hook: not installed" in pep582("status", "--python", venv_python, cwd=proj).stdout
    proc = pep582("where", "app.py", "--python", venv_python, cwd=proj)
    assert proc.returncode == 9  # a venv that does not opt in: nothing applies
    assert "does not opt in (include-local-packages = true" in proc.stdout
    config = venv_python.parent.parent / "pyvenv.cfg"
    config.write_text(config.read_text() + "include-local-packages = true\n")
    proc = pep582("where", "app.py", "--python", venv_python, cwd=proj)
    assert proc.returncode == 9  # nothing would be activated: documented, not an error
    assert "result   not present" in proc.stdout
    add_module(proj, base)
    proc = pep582("where", "app.py", "--python", venv_python, cwd=proj)
    assert proc.returncode == 0
    assert "would activate:" in proc.stdout and "[present]" in proc.stdout
    data = json.loads(pep582("where", "--json", "--python", venv_python, cwd=proj).stdout)
    assert data["script"] is None
    assert data["pypackages"] == str(proj / "__pypackages__")
    assert data["activate"] == [data["scheme"]["purelib"]]
    (proj / "__pypackages__").chmod(0o777)
    proc = pep582("where", "app.py", "--python", venv_python, cwd=proj)
    assert proc.returncode == 9
    assert "refused:" in proc.stdout and "writable by others" in proc.stdout
    (proj / "__pypackages__").chmod(0o755)


def test_where_and_run_say_what_is_wrong_with_the_tree(tmp_path: Path) -> None:
    """A misspelt script, a tree for another Python, a tree in PDM's draft layout: each
    gets a line saying so, instead of a silent "nothing" or an ImportError later."""
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    base = interpreter(here)  # not this toolkit's venv: a venv that does not opt in says so
    assert base is not None
    python = str(base.executable)
    proj = tmp_path / "proj"
    other = proj / "__pypackages__" / "lib" / "python3.99" / "site-packages"
    other.mkdir(parents=True)
    proc = pep582("where", "nosuch.py", "--python", python, cwd=proj)
    assert proc.returncode == 9
    assert "nosuch.py does not exist: the step locates nothing" in proc.stderr
    assert "nothing applies: the program named does not exist" in proc.stdout
    proc = pep582("where", "--python", python, cwd=proj)
    assert "(it holds python3.99: name one with --python)" in proc.stdout
    proc = pep582("run", "--python", python, "-c", "print('ran')", cwd=proj)
    assert proc.returncode == 0 and proc.stdout == "ran\n"
    assert f"holds nothing for CPython {here}" in proc.stderr and "python3.99" in proc.stderr
    shutil.rmtree(proj / "__pypackages__" / "lib")
    (proj / "__pypackages__" / here / "lib").mkdir(parents=True)
    proc = pep582("where", "--python", python, cwd=proj)
    assert "--layout pep582 --replace" in proc.stdout


def test_run_rejects_unknown_option_and_passes_module_args(tmp_path: Path) -> None:
    proc = pep582("run", "--bogus")
    assert proc.returncode == 2
    (tmp_path / "echoargs.py").write_text("import sys; print(sys.argv)")
    proc = pep582("run", "-m", "echoargs", "a", "--flag", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"[{str(tmp_path / 'echoargs.py')!r}, 'a', '--flag']"


def test_help_has_examples_and_exit_codes() -> None:
    top = pep582("--help").stdout
    assert "Exit codes" in top and "pep582 run app.py" in top
    for command in ("enable", "disable", "status", "where", "run"):
        assert "Example" in pep582(command, "--help").stdout
    assert pep582("--version").stdout.startswith("pep582, version")


def test_enable_user_refused_where_user_site_is_off(venv_python: Path, tmp_path: Path) -> None:
    env = {"PYTHONUSERBASE": str(tmp_path / "userbase")}  # never the real one, even on failure
    proc = run(
        [
            sys.executable,
            "-m",
            "pep582.commands.main",
            "enable",
            "--user",
            "--python",
            venv_python,
        ],
        env=env,
    )
    assert proc.returncode == 4
    assert "does not read its user site directory" in proc.stderr
