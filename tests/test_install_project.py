"""The project itself (issue 25): ``pep582 install -e .``, ``.``, ``./dist/x.whl``,
``path[extra]`` and ``-e git+…``, built by pip for real, offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import virtualenv  # type: ignore[import-untyped]

from pep582.install.editable import vcs_requirement
from pep582.interpreter import find_python
from pep582.scheme import scheme_for
from pep582.step.startup import DIRNAME

from helpers import NO_PIP_CONFIG, copy_packages, run

pytestmark = pytest.mark.slow  # builds many environments: the full tier

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
CLEAN = NO_PIP_CONFIG


@pytest.fixture(scope="module")
def links(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """The test wheels and setuptools (so pip's isolated builds work offline)."""
    out = tmp_path_factory.mktemp("project-links")
    for wheel in wheelhouse.glob("*.whl"):
        shutil.copy(wheel, out)
    embedded = Path(virtualenv.__file__).parent / "seed" / "wheels" / "embed"
    for wheel in embedded.glob("setuptools-*.whl"):
        shutil.copy(wheel, out)
    return out


def pep582(*args: str | os.PathLike[str], cwd: Path) -> Any:
    return run([sys.executable, "-m", "pep582.commands.main", *args], cwd=cwd, env=CLEAN)


def install(cwd: Path, links: Path, *args: str | os.PathLike[str]) -> Any:
    return pep582("install", "--python", PY, "--no-index", "--find-links", links, *args, cwd=cwd)


def site_of(project: Path) -> Path:
    return Path(scheme_for(project, find_python(PY).facts, "pep582").purelib)


def direct_url(project: Path, name: str) -> dict[str, Any]:
    (info,) = site_of(project).glob(f"{name}-*.dist-info")
    data: dict[str, Any] = json.loads((info / "direct_url.json").read_text())
    return data


@pytest.mark.parametrize("resolver", ["pip", "uv"])
def test_editable_project_runs_its_console_script(
    tmp_path: Path, links: Path, resolver: str
) -> None:
    project = next(p for p in copy_packages(tmp_path) if p.name == "editme")
    proc = install(project, links, "--resolver", resolver, "-e", ".")
    assert proc.returncode == 0, proc.stderr
    assert "added: editme 0.1" in proc.stdout
    source = project / "src" / "editme" / "__init__.py"
    # the console script imports the project's own package, from anywhere
    proc = run([project / DIRNAME / "bin" / "editme-cli"], cwd="/")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"editme from {source}"
    # the site directory makes the project importable, and edits show at once
    source.write_text(source.read_text() + "EDITED = True\n")
    code = "import editme; print(editme.EDITED, editme.__file__)"
    proc = pep582("run", "--python", PY, "-c", code, cwd=project)
    assert proc.stdout.split() == ["True", str(source)], proc.stderr
    assert direct_url(project, "editme") == {
        "url": project.as_uri(),
        "dir_info": {"editable": True},
    }
    assert pep582("freeze", cwd=project).stdout.splitlines() == [f"-e {project}"]
    listed = json.loads(pep582("list", "--json", cwd=project).stdout)
    (dist,) = listed["trees"][0]["distributions"]
    assert dist["editable"] and dist["requested"] and dist["installer"] == "pep582-toolkit"
    proc = install(project, links, "--resolver", resolver, "-e", ".")
    assert proc.returncode == 0 and "nothing to do" in proc.stdout, proc.stderr
    # from editable to a built copy: replaced, not kept
    proc = install(project, links, "--resolver", resolver, ".")
    assert proc.returncode == 0, proc.stderr
    assert "editme 0.1" in proc.stdout
    assert direct_url(project, "editme") == {"url": project.as_uri(), "dir_info": {}}
    assert (site_of(project) / "editme" / "__init__.py").is_file()


def test_local_directory_with_extra_and_a_wheel_by_path(tmp_path: Path, links: Path) -> None:
    sources = {p.name: p for p in copy_packages(tmp_path / "src")}
    project = tmp_path / "app"
    (project / "dist").mkdir(parents=True)
    wheel = next(links.glob("hello-1.0-*.whl"))
    shutil.copy(wheel, project / "dist")
    extrapkg = os.path.relpath(sources["extrapkg"], project)
    proc = install(project, links, f"{extrapkg}[fancy]", f"./dist/{wheel.name}")
    assert proc.returncode == 0, proc.stderr
    site = site_of(project)
    names = {p.name.split("-")[0] for p in site.glob("*.dist-info")}
    assert {"extrapkg", "withdata", "hello"} <= names
    assert direct_url(project, "hello")["url"] == (project / "dist" / wheel.name).as_uri()
    assert "archive_info" in direct_url(project, "hello")
    assert direct_url(project, "extrapkg")["url"] == sources["extrapkg"].as_uri()


def git(*args: str | os.PathLike[str], cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}  # fmt: skip
    done = subprocess.run(
        ["git", *map(os.fspath, args)], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_vcs_editable_checkout_goes_to_pypackages_src(tmp_path: Path, links: Path) -> None:
    repository = next(p for p in copy_packages(tmp_path / "repos") if p.name == "editme")
    git("init", "-q", cwd=repository)
    git("add", ".", cwd=repository)
    git("commit", "-q", "-m", "one", cwd=repository)
    commit = git("rev-parse", "HEAD", cwd=repository)
    project = tmp_path / "app"
    project.mkdir()
    url = f"git+{repository.as_uri()}#egg=editme"
    proc = install(project, links, "-e", url)
    assert proc.returncode == 0, proc.stderr
    checkout = project / DIRNAME / "src" / "editme"
    assert (checkout / ".git").is_dir() and (checkout / "src" / "editme").is_dir()
    assert not (project / "src").exists()  # pip's clone never lands in the project
    proc = run([project / DIRNAME / "bin" / "editme-cli"], cwd="/")
    assert proc.stdout.strip() == f"editme from {checkout / 'src' / 'editme' / '__init__.py'}"
    recorded = direct_url(project, "editme")
    assert recorded == {"url": checkout.as_uri(), "dir_info": {"editable": True}}
    assert vcs_requirement("editme", recorded) == (
        f"-e git+{repository.as_uri()}@{commit}#egg=editme"
    )
    freeze = pep582("freeze", "--python", PY, cwd=project)
    assert freeze.stdout.splitlines() == [f"-e git+{repository.as_uri()}@{commit}#egg=editme"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_failed_vcs_editable_leaves_no_clone_and_names_the_url(
    tmp_path: Path, links: Path
) -> None:
    project = tmp_path / "app"
    project.mkdir()
    url = f"git+{(tmp_path / 'no-such-repository').as_uri()}#egg=vlib"
    proc = install(project, links, "-e", url)
    assert proc.returncode == 8, proc.stderr
    assert proc.stderr.startswith(f"pep582: error: pip could not resolve -e {url}")
    assert sorted(os.listdir(project)) == []
    proc = install(project, links, "--resolver", "uv", "-e", url)  # refused: only pip can
    assert proc.returncode == 5
    assert proc.stderr == (
        f"pep582: error: -e {url}: uv cannot honour this (only pip resolves it); use "
        "--resolver pip\n"
    )
    assert sorted(os.listdir(project)) == []


@pytest.mark.parametrize("where", ["project", "parent"])
def test_with_project_installs_this_project_however_the_path_is_written(
    tmp_path: Path, links: Path, where: str
) -> None:
    """``pep582-migrate pyproject.toml --with-project`` from the project (the file named
    bare) or from its parent (a relative path): the project itself is built, never a
    registry package named like its directory."""
    project = next(p for p in copy_packages(tmp_path) if p.name == "editme")
    cwd, named = (
        (project, "pyproject.toml") if where == "project" else (tmp_path, "editme/pyproject.toml")
    )
    proc = run(
        [sys.executable, "-m", "pep582.commands.migrate", named, "--with-project",
         "--python", PY, "--no-index", "--find-links", links, "--project", project],
        cwd=cwd, env=CLEAN,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "editme 0.1" in proc.stdout
    assert list(site_of(project).glob("editme-0.1.dist-info"))
