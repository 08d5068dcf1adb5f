"""uv and pip as resolvers: the same inputs give the same plan; which one runs and why;
what only pip honours never goes to uv; pip's version is read without starting it."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from pep582.install import pip as pip_module
from pep582.install.indexes import IndexOptions

from helpers import NO_PIP_CONFIG, links_with_hello_2, run

pytestmark = pytest.mark.slow  # resolves and installs with pip/uv: the full tier

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
CLEAN = NO_PIP_CONFIG


@pytest.fixture(scope="module")
def links(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """The test wheels plus hello 2.0."""
    out = tmp_path_factory.mktemp("resolver-links")
    return links_with_hello_2(out, wheelhouse, tmp_path_factory.mktemp("src"))


def pep582(*args: str | os.PathLike[str], cwd: Path, env: dict[str, str] | None = None) -> Any:
    command = [sys.executable, "-m", "pep582.commands.main", *args]
    return run(command, cwd=cwd, env={**CLEAN, **(env or {})})


def plan(project: Path, links: Path, resolver: str, *args: str) -> list[tuple[Any, ...]]:
    proc = pep582(
        "install", "--dry-run", "--json", "--resolver", resolver, "--python", PY,
        "--no-index", "--find-links", links, *args, cwd=project,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    return sorted(
        (d["name"], d["version"], d["action"], d["requested"], d["origin"])
        for d in data["distributions"]
    )


def test_pip_and_uv_give_the_same_plan(tmp_path: Path, links: Path) -> None:
    """Extras, markers for the target, constraints, nested files, a local wheel by path,
    and what the tree already holds (pinned): one plan, whichever resolver."""
    project = tmp_path / "app"
    project.mkdir()
    (project / "constraints.txt").write_text("hello<2\n")
    (project / "base.txt").write_text("-c constraints.txt\nhello\n")
    wheel = next(links.glob("withdata-*.whl"))
    shutil.copy(wheel, project)
    (project / "requirements.txt").write_text(f"-r base.txt\nextrapkg[fancy]\n./{wheel.name}\n")
    for args in (["extrapkg[fancy]", "hello<2"], ["-r", "requirements.txt"], ["hello"]):
        with_pip = plan(project, links, "pip", *args)
        assert with_pip == plan(project, links, "uv", *args), args
        assert with_pip
    # with something installed: it stays pinned for both
    proc = pep582("install", "--resolver", "uv", "--python", PY, "--no-index", "--find-links",
                  links, "hello==1.0", cwd=project)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with_pip = plan(project, links, "pip", "withdata")
    assert with_pip == plan(project, links, "uv", "withdata")
    assert ("hello", "1.0", "keep", False, "") in with_pip  # it stays as it is
    upgraded = plan(project, links, "uv", "--upgrade", "hello")
    assert upgraded == plan(project, links, "pip", "--upgrade", "hello")
    assert [d[:3] for d in upgraded] == [("hello", "2.0", "upgrade")]


def test_which_resolver_runs_and_why(tmp_path: Path, links: Path) -> None:
    args = ["install", "--dry-run", "--json", "--python", PY, "--no-index", "--find-links",
            links, "hello"]  # fmt: skip
    proc = pep582(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not [n for n in json.loads(proc.stdout)["notes"] if "resolved with pip" in n]
    proc = pep582(*args, cwd=tmp_path, env={"PIP_FIND_LINKS": str(links)})
    notes = json.loads(proc.stdout)["notes"]
    assert "resolved with pip, whose configuration sets an index (PIP_FIND_LINKS)" in notes
    config = tmp_path / "pip.conf"
    config.write_text(f"[install]\nfind-links = {links}\n")
    home = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}  # no user files
    proc = pep582(*args, cwd=tmp_path, env={"PIP_CONFIG_FILE": str(config), **home})
    assert any(f"find-links in {config}" in n for n in json.loads(proc.stdout)["notes"])
    proc = pep582(*args, cwd=tmp_path, env={"PEP582_RESOLVER": "pip"})
    assert proc.returncode == 0 and "resolved with" not in proc.stdout


def test_hashes_in_a_requirements_file_are_never_given_to_uv(tmp_path: Path, links: Path) -> None:
    """uv's compile ignores --hash: a file with hashes is resolved by pip (automatically)
    or refused for --resolver uv, never installed with its hashes unchecked."""
    (tmp_path / "requirements.txt").write_text(f"hello==1.0 --hash=sha256:{'0' * 64}\n")
    base = ["install", "--python", PY, "--no-index", "--find-links", links, "-r",
            "requirements.txt"]  # fmt: skip
    proc = pep582(*base, cwd=tmp_path)
    assert proc.returncode == 8, proc.stderr  # pip checked it: the hash does not match
    assert "0" * 64 in proc.stderr
    proc = pep582(*base, "--resolver", "uv", cwd=tmp_path)
    assert proc.returncode == 5
    assert proc.stderr.strip() == (
        f"pep582: error: {tmp_path / 'requirements.txt'}:1: --hash: uv cannot honour this "
        "(only pip resolves it); use --resolver pip"
    )
    assert not (tmp_path / "__pypackages__").exists()


def test_uv_errors_are_one_clear_line_and_an_explanation(tmp_path: Path, links: Path) -> None:
    (tmp_path / "requirements.txt").write_text("hello\nthis is (not valid\n")
    proc = pep582("install", "--resolver", "uv", "--python", PY, "--no-index", "--find-links",
                  links, "-r", "requirements.txt", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 5, proc.stderr
    assert "uv could not resolve -r requirements.txt: the input is not valid" in proc.stderr
    proc = pep582("install", "--resolver", "uv", "--python", PY, "--no-index", "--find-links",
                  links, "hello==1.0", "hello==2.0", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 8
    assert "uv could not resolve" in proc.stderr and "hello" in proc.stderr


def test_pip_version_comes_from_its_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asking which pip will run starts no process (it was a 0.4 s ``pip --version``)."""
    from importlib.metadata import version

    from pep582 import proc
    from pep582.interpreter import find_python

    target = find_python(PY)

    def no_child(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a child process was started: {args}")

    monkeypatch.setattr(proc, "run", no_child)
    monkeypatch.setattr(proc, "start", no_child)
    assert str(pip_module.pip_version()) == version("pip")
    command = pip_module.pip_command(target)
    assert command == [sys.executable, "-m", "pip", "--python", str(target.executable)]


def test_index_options_map_to_both() -> None:
    extra = ("https://x/simple",)
    index = IndexOptions("https://i/simple", extra, ("/w",), True, True, (":all:",))
    assert index.for_pip() == [
        "--index-url", "https://i/simple", "--extra-index-url", "https://x/simple",
        "--find-links", "/w", "--no-index", "--pre", "--only-binary", ":all:",
    ]  # fmt: skip
    uv = index.for_uv()
    assert uv[:4] == ["--index-url", "https://i/simple", "--extra-index-url", "https://x/simple"]
    assert "--prerelease" in uv and "--no-index" in uv and ":all:" in uv
    assert IndexOptions(find_links=("w",)).absolute(Path("/p")).find_links == ("/p/w",)
