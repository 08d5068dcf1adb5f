"""Other tools' locks (issue 25): uv's pylock export with the project as an editable
directory; ``uv.lock``, ``poetry.lock`` beside a ``pyproject.toml``."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import virtualenv  # type: ignore[import-untyped]
from uv import find_uv_bin

from pep582.interpreter import find_python
from pep582.scheme import scheme_for

from helpers import NO_PIP_CONFIG, links_with_hello_2, run

pytestmark = pytest.mark.slow  # resolves and installs with pip/uv: the full tier

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
CLEAN = {**NO_PIP_CONFIG, "UV_CONFIG_FILE": os.devnull}
PYPROJECT = """\
[project]
name = "app"
version = "0.3"
requires-python = ">=3.9"
dependencies = ["hello"]

[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
"""


@pytest.fixture(scope="module")
def links(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """The test wheels, hello 2.0 and setuptools (offline builds)."""
    out = links_with_hello_2(
        tmp_path_factory.mktemp("lock-links"), wheelhouse, tmp_path_factory.mktemp("src")
    )
    embedded = Path(virtualenv.__file__).parent / "seed" / "wheels" / "embed"
    for wheel in embedded.glob("setuptools-*.whl"):
        shutil.copy(wheel, out)
    return out


def project(tmp_path: Path, links: Path) -> Path:
    """A project locked by uv at hello 1.0 (2.0 is offered too)."""
    root = tmp_path / "app"
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("WHERE = __file__\n")
    (root / "pyproject.toml").write_text(PYPROJECT.replace('["hello"]', '["hello<2"]'))
    uv = find_uv_bin()
    env = {**CLEAN, "UV_NO_INDEX": "1", "UV_FIND_LINKS": str(links)}
    run([uv, "lock", "-q", "--python", sys.executable], cwd=root, env=env, check=True)
    (root / "pyproject.toml").write_text(PYPROJECT)  # the lock, not this, says what goes in
    return root


def migrate(*args: str | os.PathLike[str], cwd: Path) -> Any:
    return run([sys.executable, "-m", "pep582.commands.migrate", *args], cwd=cwd, env=CLEAN)


def installed(root: Path) -> dict[str, str]:
    site = Path(scheme_for(root, find_python(PY).facts, "pep582").purelib)
    return {p.name.split("-")[0]: p.name.split("-")[1][: -len(".dist")]
            for p in site.glob("*.dist-info")}  # fmt: skip


def test_uv_pylock_export_with_the_project_editable(tmp_path: Path, links: Path) -> None:
    root = project(tmp_path, links)
    uv = find_uv_bin()
    run([uv, "export", "-q", "--frozen", "--format", "pylock.toml", "-o", "pylock.toml"],
        cwd=root, env=CLEAN, check=True)  # fmt: skip
    assert "editable = true" in (root / "pylock.toml").read_text()
    offline = ["--no-index", "--find-links", links]
    proc = migrate(root / "pylock.toml", "--python", PY, *offline, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert installed(root) == {"hello": "1.0", "app": "0.3"}
    proc = run([sys.executable, "-m", "pep582.commands.main", "run", "--python", PY, "-c",
                "import app; print(app.WHERE)"], cwd=root)  # fmt: skip
    assert proc.stdout.strip() == str(root / "src" / "app" / "__init__.py"), proc.stderr


def test_uv_lock_beside_pyproject_is_what_is_installed(tmp_path: Path, links: Path) -> None:
    root = project(tmp_path, links)
    proc = migrate(root / "pyproject.toml", "--python", PY, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert installed(root) == {"hello": "1.0"}  # the lock's version, the project left out
    assert "uv.lock" in proc.stdout
    site = Path(scheme_for(root, find_python(PY).facts, "pep582").purelib)
    assert (site / "hello-1.0.dist-info" / "REQUESTED").exists()  # the project names it
    proc = run([sys.executable, "-m", "pep582.commands.main", "install", "--python", PY,
                "--dry-run", "--json"], cwd=root, env=CLEAN)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert '"noop": "every distribution is already present"' in proc.stdout


@pytest.mark.parametrize(
    "lock, export",
    [
        ("poetry.lock", "poetry export --format pylock.toml -o pylock.toml"),
        ("pdm.lock", "pdm export --format pylock -o pylock.toml"),
    ],
)
def test_a_lock_that_cannot_be_read_is_said_so(
    tmp_path: Path, links: Path, lock: str, export: str
) -> None:
    tool = lock.split(".")[0]
    if shutil.which(tool):
        pytest.skip(f"{tool} is installed here")
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / lock).write_text(f"# a {tool} lock\n")
    proc = migrate(root / "pyproject.toml", "--python", PY, "--no-index", "--find-links", links,
                   cwd=root)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert installed(root) == {"hello": "2.0"}  # resolved from [project].dependencies
    (line,) = [line for line in proc.stdout.splitlines() if lock in line]
    assert f"{root / lock} was not used: {tool} is not installed (run `{export}`" in line


def test_a_workspace_planted_above_the_project_does_not_choose_the_lock(
    tmp_path: Path, links: Path
) -> None:
    """uv looks for a workspace in every directory above a project that declares none,
    and exports the lock of one that claims the project as a member. Another user who may
    create files above it (a sticky shared directory, as /tmp) plants a workspace locked
    at hello 2.0: the project's own uv.lock (hello 1.0) is still what is installed."""
    import pwd

    if os.geteuid() != 0:
        pytest.skip("acting as another user needs root")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    root = project(shared, links)
    own_lock = (root / "uv.lock").read_bytes()
    (shared / "pyproject.toml").write_text(
        '[project]\nname = "ws"\nversion = "1"\nrequires-python = ">=3.9"\n'
        'dependencies = ["hello>=2"]\n[tool.uv.workspace]\nmembers = ["app"]\n'
    )
    env = {**CLEAN, "UV_NO_INDEX": "1", "UV_FIND_LINKS": str(links)}
    run([find_uv_bin(), "lock", "-q", "--python", sys.executable], cwd=shared, env=env,
        check=True)  # fmt: skip
    assert 'version = "2.0"' in (shared / "uv.lock").read_text()
    (root / "uv.lock").write_bytes(own_lock)
    nobody = pwd.getpwnam("nobody").pw_uid
    for planted in ("pyproject.toml", "uv.lock"):
        os.chown(shared / planted, nobody, -1)
    proc = migrate(root / "pyproject.toml", "--python", PY, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert installed(root) == {"hello": "1.0"} and "uv.lock locks it" in proc.stdout
