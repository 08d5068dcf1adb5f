"""The PEP's sys.path step, exercised through real interpreters that perform it at
startup: each CPython/PyPy here with the hook installed (``pep582 enable``), and each
CPython here as a copy whose ``site.py`` carries the patch (``pep/reference``): the same
cases, run unchanged against both."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pep582.interpreter import Interpreter

from helpers import across, add_module, interpreter, make_venv, pep582, run

PROBE = """\
import json, sys
try:
    import localmod
    where = localmod.WHERE
except ImportError:
    where = None
print(json.dumps({"where": where, "path": sys.path}))
"""
KINDS = ("hook", "site.py")


@dataclass
class Stepping:
    """An interpreter that performs the step at startup, and how to start it."""

    kind: str  # "hook" (the .pth hook in a venv) or "site.py" (a patched copy)
    base: Interpreter
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    module: str = "_pep582_step"  # where activate() lives in the running interpreter

    def run(
        self,
        args: list[str],
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        input: str | None = None,
        check: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        return run([*self.argv, *args], cwd=cwd, env={**self.env, **(env or {})},
                   input=input, check=check)  # fmt: skip


@pytest.fixture(
    scope="session",
    params=across(*KINDS),
)
def hooked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Stepping:
    """Each Python here, with the hook enabled in a fresh venv or its site.py patched."""
    kind, version = request.param
    base = interpreter(version)
    if base is None:
        pytest.skip(f"Python {version} is not installed here")
    if kind == "site.py":
        from test_site_patch import build

        copy = build(version, tmp_path_factory, patched=True)
        return Stepping(kind, base, copy.command(), copy.environ(), "site")
    venv_python = make_venv(base, tmp_path_factory.mktemp(f"venv{version}") / "v")
    result = pep582("enable", "--python", venv_python)
    assert result.returncode == 0, result.stderr
    return Stepping(kind, base, [str(venv_python)])


def probe(
    python: Stepping,
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> dict[str, Any]:
    proc = python.run(list(args), cwd=cwd, env=env, input=input)
    assert proc.returncode == 0, proc.stderr
    assert "pep582:" not in proc.stderr, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture
def project(tmp_path: Path, hooked: Stepping) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "app.py").write_text(PROBE)
    add_module(proj, hooked.base)
    other = tmp_path / "elsewhere"
    other.mkdir()
    add_module(other, hooked.base)  # a decoy: must never be used when a script runs
    return proj


def local(project: Path) -> str:
    return str(project / "__pypackages__")


def test_script_uses_its_own_directory(project: Path, hooked: Stepping) -> None:
    py = hooked
    assert probe(py, "app.py", cwd=project)["where"].startswith(str(project / "__pypackages__"))


def test_script_run_from_elsewhere_ignores_cwd(project: Path, hooked: Stepping) -> None:
    py = hooked
    other = project.parent / "elsewhere"
    found = probe(py, str(project / "app.py"), cwd=other)["where"]
    assert found.startswith(str(project / "__pypackages__"))


def test_cwd_pypackages_ignored_for_script_without_own(tmp_path: Path, hooked: Stepping) -> None:
    base, py = hooked.base, hooked
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "tool.py").write_text(PROBE)
    add_module(tmp_path, base)
    assert probe(py, str(scripts / "tool.py"), cwd=tmp_path)["where"] is None


@pytest.mark.parametrize("mode", ["-c", "-m", "stdin", "dash"])
def test_cwd_modes_use_current_directory(project: Path, hooked: Stepping, mode: str) -> None:
    py = hooked
    other = project.parent / "elsewhere"
    (other / "probe_mod.py").write_text(PROBE)
    args = {"-c": ["-c", PROBE], "-m": ["-m", "probe_mod"], "stdin": [], "dash": ["-"]}[mode]
    found = probe(py, *args, cwd=other, input=PROBE if mode in ("stdin", "dash") else None)
    assert found["where"].startswith(str(other / "__pypackages__"))


def test_interactive_prompt_uses_current_directory(project: Path, hooked: Stepping) -> None:
    py = hooked
    proc = py.run(["-i", "-q"], cwd=project, input="import localmod; print(localmod.WHERE)\n")
    assert str(project / "__pypackages__") in proc.stdout


@pytest.mark.parametrize(
    ("flags", "env"),
    [(["-I"], {}), (["-S"], {}), (["-P"], {}), ([], {"PYTHONSAFEPATH": "1"})],
    ids=["isolated", "no-site", "safe-path", "PYTHONSAFEPATH"],
)
def test_modes_that_activate_nothing(
    project: Path, hooked: Stepping, flags: list[str], env: dict[str, str]
) -> None:
    base, py = hooked.base, hooked
    if flags == ["-P"] and base.facts.version < (3, 11):
        pytest.skip("-P exists from Python 3.11")
    assert probe(py, *flags, "app.py", cwd=project, env=env)["where"] is None
    assert probe(py, *flags, "-c", PROBE, cwd=project, env=env)["where"] is None


def test_symlinked_script_uses_real_directory(project: Path, hooked: Stepping) -> None:
    py = hooked
    bindir = project.parent / "bin"
    bindir.mkdir()
    (bindir / "app").symlink_to(project / "app.py")
    found = probe(py, str(bindir / "app"), cwd=project.parent)["where"]
    assert found.startswith(str(project / "__pypackages__"))


def test_sys_path_order(project: Path, hooked: Stepping) -> None:
    base, py = hooked.base, hooked
    path = probe(py, "app.py", cwd=project)["path"]
    local = [i for i, p in enumerate(path) if "__pypackages__" in p]
    stdlib = [i for i, p in enumerate(path) if p.endswith(f"python{base.facts.version_tag}")]
    site = [
        i for i, p in enumerate(path) if p.endswith("site-packages") and "__pypackages__" not in p
    ]
    assert path[0] == str(project)
    assert len(local) == 1
    assert stdlib and max(stdlib) < local[0] < min(site)
    assert local[0] == min(site) - 1  # immediately before the first site-packages


def test_pth_processed_exactly_once_and_step_idempotent(project: Path, hooked: Stepping) -> None:
    base, py = hooked.base, hooked
    purelib = Path(add_module(project, base)).parent
    extra = project / "extra"
    extra.mkdir()
    (extra / "extramod.py").write_text("X = 1\n")
    counter = project / "count.txt"
    (purelib / "zz_local.pth").write_text(
        f"{extra}\nimport os; open({str(counter)!r}, 'a').write('x')\n"
    )
    code = (
        f"import sys, json, extramod, {py.module}\n"
        f"again = {py.module}.activate('')\n"
        "print(json.dumps({'path': sys.path, 'again': again}))\n"
    )
    proc = py.run(["-c", code], cwd=project, check=True)
    data = json.loads(proc.stdout)
    assert counter.read_text() == "x"
    assert data["again"] == []
    assert data["path"].count(str(purelib)) == 1
    assert data["path"].count(str(extra)) == 1
    assert data["path"].index(str(extra)) < min(
        i for i, p in enumerate(data["path"]) if p.endswith("site-packages") and "__pyp" not in p
    )


def test_pip_install_prefix_tree_is_picked_up(
    tmp_path: Path, hooked: Stepping, wheelhouse: Path
) -> None:
    base, py = hooked.base, hooked
    if run([base.executable, "-m", "pip", "--version"]).returncode != 0:
        pytest.skip("this interpreter has no pip")
    project = tmp_path / "proj"
    project.mkdir()
    run(
        [
            base.executable,
            "-m",
            "pip",
            "install",
            "--no-index",
            "--ignore-installed",
            "--no-deps",
            "--prefix",
            "__pypackages__",
            *wheelhouse.glob("hello-*.whl"),
        ],
        cwd=project,
        check=True,
    )
    proc = py.run(["-c", "import hello; print(hello.__file__)"], cwd=project, check=True)
    assert str(project / "__pypackages__") in proc.stdout


def test_pep582_run_without_hook(project: Path, hooked: Stepping) -> None:
    if hooked.kind != "hook":
        pytest.skip("pep582 run uses the installed interpreter, not a patched copy")
    base = hooked.base
    other = project.parent / "elsewhere"
    proc = pep582(
        "run", "--python", os.fspath(base.executable), str(project / "app.py"), cwd=other
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["where"].startswith(str(project / "__pypackages__"))
    assert data["path"][0] == str(project)
    code = "import sys, localmod; print(localmod.WHERE); sys.exit(int(sys.argv[1]))"
    proc = pep582("run", "--python", os.fspath(base.executable), "-c", code, "7", cwd=other)
    assert proc.returncode == 7
    assert proc.stdout.startswith(str(other / "__pypackages__"))


def test_sitecustomize_in_pypackages_is_imported_like_any_site_dir(
    project: Path, hooked: Stepping
) -> None:
    """The PEP's interplay table: sitecustomize is imported after the step runs."""
    base, py = hooked.base, hooked
    purelib = Path(add_module(project, base)).parent
    (purelib / "sitecustomize.py").write_text("import sys; sys.pep582_sitecustomize = __file__\n")
    proc = py.run(
        ["-c", "import sys; print(getattr(sys, 'pep582_sitecustomize', None))"],
        cwd=project,
        check=True,
    )
    assert proc.stdout.strip() == str(purelib / "sitecustomize.py")


def test_deleted_current_directory_is_silent(tmp_path: Path, hooked: Stepping) -> None:
    py = hooked
    gone = tmp_path / "gone"
    gone.mkdir()
    code = (
        "import json, os, subprocess, sys\n"
        f"os.chdir({str(gone)!r}); os.rmdir({str(gone)!r})\n"
        "p = subprocess.run([*json.loads(sys.argv[1]), '-c', 'print(1)'],"
        " capture_output=True, text=True)\n"
        "print(p.returncode, p.stdout.strip(), repr(p.stderr))\n"
    )
    proc = py.run(["-c", code, json.dumps(py.argv)], check=True)
    assert proc.stdout.split() == ["0", "1", "''"]


def test_directory_argument_uses_the_directory(project: Path, hooked: Stepping) -> None:
    (project / "__main__.py").write_text(PROBE)
    found = probe(hooked, str(project), cwd=project.parent / "elsewhere")["where"]
    assert found.startswith(local(project))


def test_pythonpypackages_fills_in_where_the_invocation_has_none(
    project: Path, hooked: Stepping, tmp_path: Path
) -> None:
    """A parent's tree (PYTHONPYPACKAGES) applies to a child located by the current
    directory, ahead of that directory's own (a multiprocessing worker started where the
    parent stood); a script keeps its own directory's tree, and takes the parent's only
    when it lies in that tree's project, outside the tree; -E ignores the variable."""
    other = project.parent / "elsewhere"  # holds a __pypackages__ of its own
    bare = tmp_path / "bare"
    bare.mkdir()
    env = {"PYTHONPYPACKAGES": local(project)}
    assert probe(hooked, "-c", PROBE, cwd=bare, env=env)["where"].startswith(local(project))
    assert probe(hooked, "-c", PROBE, cwd=other, env=env)["where"].startswith(local(project))
    (other / "own.py").write_text(PROBE)
    assert probe(hooked, "own.py", cwd=other, env=env)["where"].startswith(local(other))
    (project / "tools").mkdir()
    (project / "tools" / "helper.py").write_text(PROBE)
    helper = probe(hooked, str(project / "tools" / "helper.py"), cwd=bare, env=env)
    assert helper["where"].startswith(local(project))
    (bare / "tool.py").write_text(PROBE)  # another program (a /usr/bin tool): not the tree's
    assert probe(hooked, "tool.py", cwd=bare, env=env)["where"] is None
    inside = Path(local(project)) / "share" / "runme.py"  # a script inside the tree itself
    inside.parent.mkdir()
    inside.write_text(PROBE)
    assert probe(hooked, str(inside), cwd=bare, env=env)["where"] is None
    assert probe(hooked, "-E", "-c", PROBE, cwd=bare, env=env)["where"] is None
