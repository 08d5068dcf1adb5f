"""Input nested deeper than a parser or a walk can follow is bad input, not a crash.

The class: whatever recurses once per level of something a source or a project holds
(TOML and JSON parsers, directory walks, removal of a tree) meets input deeper than
Python's recursion limit. Every reader of such input ends in one line naming the file and
exit 5 (audit: a finding), never ``internal error`` (exit 1), and nothing is changed. The
toolkit's own walks and removals are loops, and directories are refused below
``fs.MAX_DEPTH`` levels, the one bound in one place.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pep582 import fs

from helpers import bare_venv, fake_dist, make_dirs, migrate_cli, pep582, tiny_wheel, tree_snapshot

pytestmark = pytest.mark.slow  # each attack built for real: the full tier

DEEP = 5000  # brackets: far past any parser's recursion
TOO_DEEP = fs.MAX_DEPTH + 20  # directories


@pytest.fixture(autouse=True)
def remove_deep_trees(tmp_path: Path) -> Iterator[None]:
    """Remove what a test made with a loop: pytest later removes old temporary
    directories with shutil.rmtree, which recurses once per level."""
    yield
    for made in list(tmp_path.iterdir()):
        fs.remove_quietly(made)


def nested(depth: int = DEEP) -> str:
    return "[" * depth + "]" * depth


def deep_path(levels: int) -> str:
    return "deeppkg/" + "d/" * levels + "leaf.txt"


def assert_bad_input(result: object, *needles: str) -> None:
    code, err = result.returncode, result.stderr  # type: ignore[attr-defined]
    assert code == 5, err
    assert "internal error" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def test_pylock_nested_too_deeply(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(f'lock-version = "1.0"\ncreated-by = "x"\nx = {nested()}\n')
    assert_bad_input(migrate_cli("pylock.toml", "--dry-run", cwd=tmp_path), "pylock.toml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pylock.toml"]


def test_pyproject_nested_too_deeply(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\nversion = "1"\ndependencies = {nested()}\n'
    )
    assert_bad_input(pep582("install", "--dry-run", cwd=tmp_path), "pyproject.toml")


def test_direct_url_json_nested_too_deeply(tmp_path: Path) -> None:
    site = bare_venv(tmp_path / "venv")
    info = fake_dist(site, "deeppkg", "1.0", {"deeppkg/__init__.py": b""})
    (info / "direct_url.json").write_text('{"url": "file:///x", "x": ' + nested() + "}")
    assert_bad_input(migrate_cli("venv", cwd=tmp_path), "direct_url.json")
    assert not (tmp_path / "__pypackages__").exists()


@pytest.mark.parametrize("levels", [TOO_DEEP, 1100])
def test_venv_directory_too_deep(tmp_path: Path, levels: int) -> None:
    site = bare_venv(tmp_path / "venv")
    fake_dist(site, "deeppkg", "1.0", {"deeppkg/__init__.py": b"", deep_path(levels): b"x"})
    shallow = levels < 500  # (the snapshot itself recurses per level)
    before = tree_snapshot(tmp_path / "venv") if shallow else None
    assert_bad_input(migrate_cli("venv", cwd=tmp_path), "directories deep")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["venv"]  # no stage left behind
    if shallow:
        assert tree_snapshot(tmp_path / "venv") == before


def test_a_tree_just_inside_the_bound_is_carried(tmp_path: Path) -> None:
    site = bare_venv(tmp_path / "venv")
    levels = fs.MAX_DEPTH - 12  # the dist's own directory and site-packages' parents
    fake_dist(site, "deeppkg", "1.0", {"deeppkg/__init__.py": b"", deep_path(levels): b"x"})
    result = migrate_cli("venv", "--copy", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (carried,) = (tmp_path / "__pypackages__").glob("lib/*/site-packages")
    assert (carried / deep_path(levels)).read_bytes() == b"x"


def test_wheel_with_a_path_too_deep(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    tiny_wheel(wheels, "deeppkg", "1.0", {deep_path(TOO_DEEP): b"x"})
    project = tmp_path / "proj"
    project.mkdir()
    result = pep582("install", "--no-index", "--find-links", wheels, "deeppkg", cwd=project)
    assert_bad_input(result, "deeppkg-1.0-py3-none-any.whl", "directories deep")
    assert not (project / "__pypackages__").exists()


def test_editor_settings_nested_too_deeply(tmp_path: Path) -> None:
    site = (
        tmp_path / "__pypackages__" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    )
    fake_dist(site / "site-packages", "small", "1.0", {"small/__init__.py": b""})
    settings = tmp_path / ".vscode" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"a": ' + nested() + "}")
    before = settings.read_bytes()
    assert_bad_input(pep582("ide", cwd=tmp_path), "settings.json", "levels deep")
    assert settings.read_bytes() == before


def test_audit_reports_a_directory_too_deep(tmp_path: Path) -> None:
    site = (
        tmp_path / "__pypackages__" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    )
    fake_dist(site / "site-packages", "deeppkg", "1.0", {deep_path(TOO_DEEP): b"x"})
    result = pep582("audit", "--json", cwd=tmp_path)
    assert "internal error" not in result.stderr, result.stderr
    findings = json.loads(result.stdout)["findings"]
    deep = [f for f in findings if f["check"] == "unreadable-directory"]
    assert deep and "directories deep" in deep[0]["message"]
    assert f"rm -rf {tmp_path / '__pypackages__'}" in deep[0]["fix"]


def test_removal_and_opening_are_loops(tmp_path: Path) -> None:
    """The toolkit's own removal (stages, leftovers) and reaching a deep directory by
    name do not recurse per level: a tree deeper than the recursion limit goes."""
    levels = 1500
    make_dirs(tmp_path / "top" / os.path.join(*["d"] * levels))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        with fs.Tree.open(tmp_path) as tree:
            assert tree.dir("top/" + "/".join(["d"] * levels)).names() == []
        fs.remove_quietly(tmp_path / "top")
    finally:
        sys.setrecursionlimit(limit)
    assert not (tmp_path / "top").exists()
