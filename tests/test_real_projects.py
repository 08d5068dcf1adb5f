"""After a migration, what real projects relied on still works, or the report says why.

Each case is built for real and offline: child interpreters started with
``sys.executable`` (as Jupyter starts kernels), data found the way jupyter_core finds it,
a VCS editable whose checkout lives inside the venv, files no RECORD lists, pip as a
seed and as a requirement, uv's relocatable scripts, scripts with ``from __future__``,
``setup.py develop`` scripts. The venv is deleted before anything runs.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest
import virtualenv as virtualenv_package

from pep582.interpreter import find_python
from pep582.step.startup import DIRNAME

from helpers import bare_venv, fake_dist, make_venv, migrate_cli, pep582, run

pytestmark = pytest.mark.slow  # builds many environments: the full tier

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
# The interpreter behind this one: `pep582 run` with a virtual environment that does not
# opt in (this toolkit's own) would, by the rule, use no __pypackages__.
BASE = str(find_python(os.path.join(sys.base_prefix, "bin", f"python{PY}")).executable)


def pip_install(venv: Path, wheelhouse: Path, *names: str) -> None:
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-index",
         "--find-links", wheelhouse, *names], check=True)  # fmt: skip


def virtualenv(path: Path) -> Path:
    run([sys.executable, "-m", "virtualenv", "-q", "--no-periodic-update", "--no-download",
         "--setuptools", "bundle", "-p", sys.executable, path], check=True)  # fmt: skip
    return path


@pytest.fixture
def kernel_project(tmp_path: Path, wheelhouse: Path) -> Path:
    venv = virtualenv(tmp_path / "proj" / ".venv")
    pip_install(venv, wheelhouse, "kernelish")
    proc = migrate_cli(venv)
    assert proc.returncode == 0, proc.stderr
    shutil.rmtree(venv)
    return tmp_path / "proj"


def test_children_and_data_under_pep582_run(kernel_project: Path) -> None:
    """A child started with sys.executable from / gets the project's packages; Jupyter's
    data path includes __pypackages__/share/jupyter."""
    proc = pep582("run", "--python", BASE, "-m", "kernelish", cwd=kernel_project)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "kernels: demo"
    assert lines[1].startswith(f"child sees {kernel_project / DIRNAME}")


def test_children_and_data_under_a_console_script(kernel_project: Path, tmp_path: Path) -> None:
    """A console script run directly, with no hook anywhere: Jupyter's data path includes
    the tree's share/jupyter, and a child it starts with sys.executable from another
    directory (a kernel) imports the tree's packages: sys.executable is the tree's
    launcher, and the tree's bootstrap is on PYTHONPATH."""
    tool = kernel_project / DIRNAME / "bin" / "kernelish"
    site = kernel_project / DIRNAME / "lib" / f"python{PY}" / "site-packages"
    proc = run([tool], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "kernels: demo",
        f"child sees {site / 'kernelish' / '__init__.py'}",
    ]
    hooked = make_venv(find_python(sys.executable), tmp_path / "hooked")
    assert pep582("enable", "--python", hooked).returncode == 0
    proc = run([hooked, tool], cwd=tmp_path)  # the same with a hooked interpreter
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1] == f"child sees {site / 'kernelish' / '__init__.py'}"


def test_the_variable_stays_in_the_process_tree(kernel_project: Path) -> None:
    """Nothing leaks: the caller's environment never gets PYTHONPYPACKAGES."""
    assert "PYTHONPYPACKAGES" not in os.environ
    proc = pep582(
        "run", "--python", BASE, "-c",
        "import os; print(os.environ['PYTHONPYPACKAGES'])", cwd=kernel_project,
    )  # fmt: skip
    assert proc.stdout.strip() == str(kernel_project / DIRNAME)


def git(*args: str | os.PathLike[str], cwd: Path) -> None:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}  # fmt: skip
    run(["git", *args], cwd=cwd, env=env, check=True)


def test_vcs_editable_checkout_inside_the_venv_is_carried(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    (repo / "src" / "vcsproj").mkdir(parents=True)
    (repo / "src" / "vcsproj" / "__init__.py").write_text("STATE = 'committed'\n")
    (repo / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "vcsproj"\nversion = "0.1"\n'
    )
    git("init", "-q", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "first", cwd=repo)
    project = tmp_path / "proj"
    venv = virtualenv(project / ".venv")
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-index",
         "--no-build-isolation", "-e", f"git+{repo.as_uri()}#egg=vcsproj"],
        check=True)  # fmt: skip
    checkout = venv / "src" / "vcsproj"
    assert checkout.is_dir()
    (checkout / "src" / "vcsproj" / "__init__.py").write_text("STATE = 'uncommitted work'\n")
    dry = migrate_cli(venv, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"editable checkout {checkout} is copied" in dry.stdout
    proc = migrate_cli(venv)
    assert proc.returncode == 0, proc.stderr
    shutil.rmtree(venv)
    carried = project / DIRNAME / "src" / "vcsproj"
    assert (carried / ".git").is_dir()
    code = "import vcsproj; print(vcsproj.STATE, vcsproj.__file__)"
    out = pep582("run", "--python", BASE, "-c", code, cwd=project)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"uncommitted work {carried}")


def test_files_no_record_lists_are_listed_and_carried_on_request(tmp_path: Path) -> None:
    venv = tmp_path / "proj" / ".venv"
    site = bare_venv(venv)
    fake_dist(site, "owned", "1.0", {"owned.py": b"X = 1\n"})
    (venv / "share" / "nltk_data").mkdir(parents=True)
    (venv / "share" / "nltk_data" / "corpus.txt").write_text("words\n")
    (venv / "etc" / "jupyter").mkdir(parents=True)
    (venv / "etc" / "jupyter" / "jupyter_server_config.json").write_text("{}\n")
    (site / "stray.py").write_text("STRAY = 1\n")
    dry = migrate_cli(venv, "--dry-run", "--json")
    import json

    plan = json.loads(dry.stdout)
    assert plan["unowned"]["count"] == 3
    assert {Path(p).name for p in plan["unowned"]["paths"]} == {
        "corpus.txt", "jupyter_server_config.json", "stray.py"
    }  # fmt: skip
    proc = migrate_cli(venv)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert "2 files outside site-packages were not carried: deleting the source loses them" in last
    target = tmp_path / "proj" / DIRNAME
    assert next(target.rglob("stray.py")).is_file()  # importable: carried, and listed
    assert not (target / "share").exists()
    proc = migrate_cli(venv, "--replace", "--include-unowned")
    assert proc.returncode == 0, proc.stderr
    assert (target / "share" / "nltk_data" / "corpus.txt").read_text() == "words\n"
    assert (target / "etc" / "jupyter" / "jupyter_server_config.json").is_file()


def test_pip_is_left_only_as_the_venvs_seed(tmp_path: Path) -> None:
    venv = tmp_path / "proj" / ".venv"
    run([sys.executable, "-m", "venv", venv], check=True)  # ensurepip: pip marked REQUESTED
    site = next(venv.glob("lib/python*/site-packages"))
    proc = migrate_cli(venv, "--dry-run")
    assert "skipped: pip" in proc.stdout
    pip_info = next(site.glob("pip-*.dist-info"))
    later = time.time() + 3600  # as if upgraded an hour later
    os.utime(pip_info, (later, later))
    assert "skipped: pip" not in migrate_cli(venv, "--dry-run").stdout
    os.utime(pip_info, (pip_info.stat().st_atime, (venv / "pyvenv.cfg").stat().st_mtime))
    info = fake_dist(site, "needs-pip", "1.0", {"needs_pip.py": b""})
    metadata = info / "METADATA"
    metadata.write_text(metadata.read_text() + "Requires-Dist: pip>=20\n")
    proc = migrate_cli(venv, "--dry-run")
    assert "skipped: pip" not in proc.stdout and " pip " in proc.stdout


def test_setuptools_seeded_by_venv_stays_behind_unless_upgraded_or_required(
    tmp_path: Path,
) -> None:
    """``python -m venv`` (up to 3.11) seeds ensurepip's setuptools; like pip it is the
    venv's build tool and stays behind, but not once upgraded, not when something in the
    venv requires it, and not from a venv whose seeds are unknown (virtualenv)."""
    venv = tmp_path / "proj" / ".venv"
    run([sys.executable, "-m", "venv", venv], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    if not list(site.glob("setuptools-*.dist-info")):
        pytest.skip("this Python's venv seeds no setuptools (3.12+)")
    assert "skipped: setuptools" in migrate_cli(venv, "--dry-run").stdout
    embedded = Path(virtualenv_package.__file__).parent / "seed" / "wheels" / "embed"
    newer = [w for w in embedded.glob("setuptools-*.whl") if "65.5.0" not in w.name]
    if newer:  # upgraded by the user: carried
        install = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-index"]
        run([*install, newer[-1]], check=True)
        proc = migrate_cli(venv, "--dry-run")
        assert "skipped: setuptools" not in proc.stdout and "skipped: pip" in proc.stdout
    other = virtualenv(tmp_path / "other" / ".venv")
    proc = migrate_cli(other, "--dry-run")
    assert "skipped: setuptools" not in proc.stdout and "skipped: pip" in proc.stdout


def test_seed_setuptools_required_by_a_distribution_is_carried(tmp_path: Path) -> None:
    venv = tmp_path / "proj" / ".venv"
    run([sys.executable, "-m", "venv", venv], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    if not list(site.glob("setuptools-*.dist-info")):
        pytest.skip("this Python's venv seeds no setuptools (3.12+)")
    info = fake_dist(site, "uses-pkg-resources", "1.0", {"uses_pkg_resources.py": b""})
    metadata = info / "METADATA"
    metadata.write_text(metadata.read_text() + "Requires-Dist: setuptools\n")
    proc = migrate_cli(venv, "--no-verify")  # METADATA was edited above, after RECORD
    assert proc.returncode == 0, proc.stderr
    assert "skipped setuptools" not in proc.stdout and "skipped pip" in proc.stdout
    assert list((tmp_path / "proj" / DIRNAME).glob("lib/*/site-packages/setuptools-*.dist-info"))


def test_uv_relocatable_scripts_are_retargeted(tmp_path: Path, wheelhouse: Path) -> None:
    uv = shutil.which("uv", path=os.path.dirname(sys.executable)) or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    venv = tmp_path / "proj" / ".venv"
    run([uv, "venv", "-q", "--relocatable", "--python", sys.executable, venv], check=True)
    run([uv, "pip", "install", "-q", "--offline", "--no-index", "--find-links", wheelhouse,
         "--python", venv / "bin" / "python", "hello", "withdata"], check=True)  # fmt: skip
    assert b"realpath" in (venv / "bin" / "withdata-tool").read_bytes()
    proc = migrate_cli(venv)
    assert proc.returncode == 0, proc.stderr
    shutil.rmtree(venv)
    for tool in ("hello-cli", "withdata-tool"):
        out = run([tmp_path / "proj" / DIRNAME / "bin" / tool], cwd=tmp_path)
        assert out.returncode == 0, (tool, out.stderr)


def test_script_with_future_imports_gets_its_locator_after_them(tmp_path: Path) -> None:
    venv = tmp_path / "proj" / ".venv"
    site = bare_venv(venv)
    python = venv / "bin" / "python"
    script = (
        f"#!{python}\n"
        '"""A tool with a docstring and a __future__ import, like ansible-test."""\n'
        "from __future__ import annotations\n"
        "import futurist\n"
        "print('ok from', futurist.__file__)\n"
    ).encode()
    fake_dist(site, "futurist", "1.0", {"futurist.py": b"", "../../../bin/futurist": script})
    os.chmod(venv / "bin" / "futurist", 0o755)
    proc = migrate_cli(venv)
    assert proc.returncode == 0, proc.stderr
    shutil.rmtree(venv)
    out = run([tmp_path / "proj" / DIRNAME / "bin" / "futurist"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"ok from {tmp_path / 'proj' / DIRNAME}")


def test_setup_py_develop_scripts_are_carried(tmp_path: Path) -> None:
    venv = tmp_path / "proj" / ".venv"
    bare_venv(venv)
    source = tmp_path / "devsrc" / "devtool.py"
    source.parent.mkdir()
    source.write_text("print('develop script ran')\n")
    script = venv / "bin" / "devtool"
    script.write_text(
        f"#!{venv / 'bin' / 'python'}\n"
        "# EASY-INSTALL-DEV-SCRIPT: 'devproj==0.1','devtool'\n"
        f"__file__ = {str(source)!r}\n"
        "with open(__file__) as f:\n    exec(compile(f.read(), __file__, 'exec'))\n"
    )
    script.chmod(0o755)
    proc = migrate_cli(venv)
    assert proc.returncode == 0, proc.stderr
    assert "script devtool, which no RECORD lists, now runs from" in proc.stdout
    shutil.rmtree(venv)
    out = run([tmp_path / "proj" / DIRNAME / "bin" / "devtool"], cwd=tmp_path)
    assert out.stdout.strip() == "develop script ran", out.stderr
