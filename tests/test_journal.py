"""Daily changes under a journal: interrupted after any number of moves, the next command
finishes the change; an interpreter starting in between sees each package whole.

The interruption is made exact here (the moves stop after the N-th, for every N), where
``test_crash.py`` kills real runs at random moments.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pep582.operations.uninstall import uninstall
from pep582.plan import journal
from pep582.scheme import InterpreterFacts
from pep582.step.startup import DIRNAME

from helpers import bare_venv, fake_dist, migrate_cli, tree_snapshot


class Stop(Exception):
    """Stands for a kill between two moves."""


def snapshot(root: Path) -> dict[str, str]:
    return {
        os.path.relpath(path, root): digest
        for path, digest in tree_snapshot(root).items()
        if "__pycache__" not in path
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    site = bare_venv(venv)
    fake_dist(site, "alpha", "1.0", {"alpha/__init__.py": b"A = 1\n", "alpha/x.py": b"X = 1\n"})
    fake_dist(site, "beta", "1.0", {"beta.py": b"B = 1\n"})
    fake_dist(site, "nsa", "1.0", {"shared/a.py": b"A = 1\n"})
    fake_dist(site, "nsb", "1.0", {"shared/b.py": b"B = 1\n"})
    project = tmp_path / "proj"
    project.mkdir()
    assert migrate_cli(venv, "--project", project).returncode == 0
    return project


def test_every_interruption_point_is_finished_by_the_next_command(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = InterpreterFacts(version=(sys.version_info[0], sys.version_info[1]))
    pristine = tmp_path / "pristine"
    os.rename(project, pristine)
    subprocess.run(["cp", "-a", str(pristine), str(project)], check=True)
    old = snapshot(project / DIRNAME)
    uninstall(["alpha", "beta", "nsa"], project, "pep582", [facts])
    new = snapshot(project / DIRNAME)
    assert new != old
    real_apply = journal.apply
    moves: list[int] = []

    def counting(live: Any, transaction: Any, ops: list[dict[str, Any]]) -> int:
        moves.append(len(ops))
        return real_apply(live, transaction, ops)

    monkeypatch.setattr(journal, "apply", counting)
    subprocess.run(["rm", "-rf", str(project)], check=True)
    subprocess.run(["cp", "-a", str(pristine), str(project)], check=True)
    uninstall(["alpha", "beta", "nsa"], project, "pep582", [facts])
    total = moves[0]
    assert total >= 4  # metadata out, packages out, shared files out
    for stop_after in range(total):
        subprocess.run(["rm", "-rf", str(project)], check=True)
        subprocess.run(["cp", "-a", str(pristine), str(project)], check=True)

        def partial(
            live: Any, transaction: Any, ops: list[dict[str, Any]], stop_after: int = stop_after
        ) -> int:
            real_apply(live, transaction, ops[:stop_after])
            raise Stop

        monkeypatch.setattr(journal, "apply", partial)
        with pytest.raises(Stop):
            uninstall(["alpha", "beta", "nsa"], project, "pep582", [facts])
        monkeypatch.setattr(journal, "apply", real_apply)
        leftovers = [p for p in (project / DIRNAME).iterdir() if p.name.startswith(".txn-")]
        assert leftovers, "the journal stays for the next run"
        proc = subprocess.run(
            [sys.executable, "-m", "pep582.commands.main", "list", "--project", str(project)],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        assert snapshot(project / DIRNAME) == new, f"stopped after {stop_after} moves"
        assert not [p for p in (project / DIRNAME).iterdir() if p.name.startswith(".txn-")]


def test_a_package_is_never_half_there(project: Path) -> None:
    """Removing a package moves its directory out whole, metadata first: at every
    moment, importing it gives the whole package or nothing."""
    site = next((project / DIRNAME).glob("lib/python*/site-packages"))
    facts = InterpreterFacts(version=(sys.version_info[0], sys.version_info[1]))
    outcome = uninstall(["alpha"], project, "pep582", [facts])
    assert outcome.report is not None and outcome.report.removed >= 2
    assert not (site / "alpha").exists() and not list(site.glob("alpha-*.dist-info"))
    assert (site / "shared" / "b.py").exists()  # another distribution's file stays


@pytest.mark.parametrize("when", ["before the moves", "after the moves"])
def test_ctrl_c_says_whether_the_change_was_published(
    project: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """Ctrl-C before publishing leaves the tree as it was (KeyboardInterrupt: "nothing was
    changed"); after, the change is complete and the error says so."""
    from pep582.errors import InterruptedAfterPublishing

    facts = InterpreterFacts(version=(sys.version_info[0], sys.version_info[1]))
    before = snapshot(project / DIRNAME)

    def interrupt(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    if when == "before the moves":
        monkeypatch.setattr(journal, "_write_journal", interrupt)
        with pytest.raises(KeyboardInterrupt):
            uninstall(["beta"], project, "pep582", [facts])
        assert snapshot(project / DIRNAME) == before
    else:
        monkeypatch.setattr(journal, "prune_after", interrupt)
        with pytest.raises(InterruptedAfterPublishing, match="the change is complete"):
            uninstall(["beta"], project, "pep582", [facts])
        assert not any(path.endswith("beta.py") for path in snapshot(project / DIRNAME))
    assert not [p for p in (project / DIRNAME).iterdir() if p.name.startswith(".txn-")]
