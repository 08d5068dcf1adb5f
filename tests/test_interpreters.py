"""The right interpreter everywhere: never the toolkit's own environment unless named,
versions checked, and several Python versions sharing one ``__pypackages__``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pep582.interpreter import Interpreter
from pep582.step.startup import DIRNAME

from helpers import (
    PACKAGES,
    copy_packages,
    interpreter,
    make_venv,
    migrate_cli,
    pep582,
    run,
)

pytestmark = pytest.mark.slow  # builds many environments: the full tier

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_pep582_run_does_not_leak_the_toolkit_environment(tmp_path: Path) -> None:
    """`pep582 run app.py` defaults to a python3 outside the toolkit's venv, even with the
    toolkit's bin first on PATH: nothing of the toolkit's site-packages reaches the app."""
    toolkit_site = str(next(Path(sys.prefix).glob("lib/python*/site-packages")))
    (tmp_path / "app.py").write_text("import sys\nprint(sys.prefix)\nprint(sys.path)\n")
    env_path = os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])
    proc = run(
        [sys.executable, "-m", "pep582.commands.main", "run", "app.py"],
        cwd=tmp_path,
        env={"PATH": env_path},
    )
    assert proc.returncode == 0, proc.stderr
    prefix, path = proc.stdout.splitlines()
    assert prefix != sys.prefix
    assert toolkit_site not in path


def test_enable_without_python_leaves_the_toolkit_venv_alone(tmp_path: Path) -> None:
    base = interpreter(PY)
    assert base is not None
    target = make_venv(base, tmp_path / "user-venv")
    env_path = os.pathsep.join(
        [os.path.dirname(sys.executable), str(target.parent), os.environ["PATH"]]
    )
    proc = run([sys.executable, "-m", "pep582.commands.main", "enable"], env={"PATH": env_path})
    assert proc.returncode == 0, proc.stderr
    assert f"for {target.parent / 'python3'} (the first python3 on PATH)" in proc.stdout
    user_site = next((tmp_path / "user-venv").glob("lib/python*/site-packages"))
    assert (user_site / "_pep582_hook.pth").exists()
    toolkit_site = next(Path(sys.prefix).glob("lib/python*/site-packages"))
    assert not (toolkit_site / "_pep582_hook.pth").exists()


def test_python_that_does_not_match_the_venv_is_an_error(tmp_path: Path) -> None:
    other = next((v for v in ("3.12", "3.13", "3.10") if v != PY and interpreter(v)), None)
    if other is None:
        pytest.skip("a second Python version is needed")
    base = interpreter(PY)
    assert base is not None
    venv = tmp_path / "proj" / ".venv"
    make_venv(base, venv)
    proc = migrate_cli(venv, "--python", other)
    assert proc.returncode == 3
    assert f"--python {other} is CPython {other}" in proc.stderr
    assert f"is for CPython {PY}" in proc.stderr


def test_pdm_tree_conversion_keeps_the_base_interpreter(tmp_path: Path, wheelhouse: Path) -> None:
    base = interpreter(PY)
    assert base is not None
    venv = tmp_path / "proj" / ".venv"
    run([base.executable, "-m", "venv", venv], check=True)
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-index",
         "--find-links", wheelhouse, "hello"], check=True)  # fmt: skip
    assert migrate_cli(venv, "--layout", "pdm").returncode == 0
    shutil.rmtree(venv)
    proc = migrate_cli(tmp_path / "proj" / DIRNAME, "--layout", "pep582", "--replace")
    assert proc.returncode == 0, proc.stderr
    first = (tmp_path / "proj" / DIRNAME / "bin" / "hello-cli").read_text().splitlines()[0]
    assert first == f"#!{base.executable}"
    assert not first.startswith(f"#!{sys.prefix}")


def _venv_with(python: Interpreter, path: Path, wheels: Path) -> Path:
    run([sys.executable, "-m", "virtualenv", "-q", "--no-periodic-update", "--no-download",
         "--setuptools", "bundle", "-p", python.executable, path], check=True)  # fmt: skip
    venv_python = path / "bin" / "python"
    sources = copy_packages(path.parent / f"src-{python.facts.version_tag}")
    wanted = [p for p in sources if p.name in ("hello", "cext")]
    run([venv_python, "-m", "pip", "wheel", "-q", "--no-index", "--no-deps",
         "--no-build-isolation", "-w", wheels, *wanted], check=True)  # fmt: skip
    run([venv_python, "-m", "pip", "install", "-q", "--no-index", "--find-links", wheels,
         "hello", "cext"], check=True)  # fmt: skip
    return path


def test_two_pythons_share_one_pypackages(tmp_path: Path) -> None:
    """A 3.11-style and a 3.12-style venv (any two versions here) merged into one tree:
    each interpreter runs the shared console script with its own packages and imports its
    own compiled extension; the report says which script was replaced."""
    found = [v for v in ("3.11", "3.12", "3.13", "3.10") if interpreter(v)]
    if len(found) < 2 or not (PACKAGES / "cext").is_dir():
        pytest.skip("two Python versions are needed")
    first, second = (interpreter(v) for v in found[:2])
    assert first is not None and second is not None
    project = tmp_path / "proj"
    project.mkdir()
    one = _venv_with(first, tmp_path / "one", tmp_path / "wheels-one")
    two = _venv_with(second, tmp_path / "two", tmp_path / "wheels-two")
    assert migrate_cli(one, "--project", project).returncode == 0
    proc = migrate_cli(two, "--project", project, "--merge")
    assert proc.returncode == 0, proc.stderr
    assert f"bin/hello-cli of hello 1.0 (Python {found[0]}) is replaced" in proc.stdout
    shutil.rmtree(one)
    shutil.rmtree(two)
    tool = project / DIRNAME / "bin" / "hello-cli"
    for python in (first, second):
        out = run([python.executable, tool], cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert f"python{python.facts.version_tag}/site-packages" in out.stdout
        code = "import cext._speed; print(cext._speed.__file__, cext._speed.twice(21))"
        out = pep582("run", "--python", python.executable, "-c", code, cwd=project)
        assert out.returncode == 0, out.stderr
        assert f"python{python.facts.version_tag}/site-packages" in out.stdout
        assert out.stdout.strip().endswith(" 42")
    listing = pep582("list", "--project", project).stdout
    assert f"Python {found[0]}" in listing and f"Python {found[1]}" in listing
    # The audit knows the shared script belongs to the second install: no false alarm,
    # and an edit to it is still caught.
    audited = pep582("audit", "--json", project)
    findings = json.loads(audited.stdout)["findings"]
    assert not [f for f in findings if f["check"] == "hash-mismatch"], findings
    tool.write_bytes(tool.read_bytes() + b"# edited\n")
    findings = json.loads(pep582("audit", "--json", project).stdout)["findings"]
    mismatched = {f["path"] for f in findings if f["check"] == "hash-mismatch"}
    assert mismatched == {str(tool)}, findings


def test_a_launcher_script_is_replaced_by_the_interpreter_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pyenv-style shim (a script that starts Python under its bare name, so Python
    finds the shim on PATH and calls itself that) never becomes a script's #! line."""
    from pep582.interpreter import find_python, probe

    real = Path(sys.base_prefix) / "bin" / f"python{PY}"
    if not real.is_file():
        pytest.skip(f"no {real}")
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / f"python{PY}"
    shim.write_text(f'#!/bin/bash\nexec -a python{PY} "{real}" "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    asked = [shim, "-c", "import sys; print(sys.executable)"]
    told = subprocess.run(asked, capture_output=True, text=True).stdout.strip()
    if told != str(shim):
        pytest.skip(f"this interpreter calls itself {told}, not the shim")
    assert probe(shim).executable == real
    assert find_python(PY).executable == real


def test_a_launcher_chooses_by_the_users_directory_not_the_probes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probes run in a temporary directory; a pyenv-style launcher must still decide from
    where the user is (PYENV_DIR), never from a ``.python-version`` above the probe's
    directory (in ``/tmp``, anyone can write one)."""
    from pep582.interpreter import probe

    chooser = tmp_path / "launcher"
    chooser.write_text(
        "#!/bin/bash\n"
        'here="${PYENV_DIR:-$PWD}"; v=.python-version\n'
        'while [ "$here" != / ] && [ ! -e "$here/$v" ]; do here=$(dirname "$here"); done\n'
        'if [ -e "$here/$v" ] && [ "$(cat "$here/$v")" = hostile ]; then\n'
        "  echo 'hostile choice' >&2; exit 3\n"
        "fi\n"
        f'exec "{sys.executable}" "$@"\n'
    )
    chooser.chmod(0o755)
    probes = tmp_path / "probes"
    probes.mkdir()
    (tmp_path / ".python-version").write_text("hostile")  # above every probe directory
    monkeypatch.setattr(tempfile, "tempdir", str(probes))
    user = Path("/")  # the user's own directory holds no .python-version
    monkeypatch.chdir(user)
    monkeypatch.delenv("PYENV_DIR", raising=False)
    assert probe(chooser).facts.version_tag == PY
