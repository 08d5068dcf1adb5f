"""Killed at any moment, a run leaves the old tree or the new one, never half of either.

36 runs (a venv migration, a --replace of an existing tree, a requirements install) are
killed with SIGKILL after a random delay. After each: the target is absent or complete
(every RECORD row resolves to its bytes), the source is byte-identical, and the next run
succeeds without any cleanup. The kill delays are spread over the time an unkilled run
takes; the counts are printed (pytest -s shows them).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_migrate_venv import record_problems

from pep582.step.startup import DIRNAME

from helpers import bare_venv, fake_dist, migrate_cli, tree_snapshot

pytestmark = pytest.mark.slow  # builds many environments: the full tier

RUNS_PER_KIND = 12


def _many_files(count: int) -> dict[str, bytes]:
    return {f"bulk/m{i:04d}.py": f"X = {i}\n".encode() for i in range(count)}


def _complete(project: Path) -> bool:
    root = project / DIRNAME
    sites = list(root.glob("lib/python*/site-packages"))
    return (
        bool(sites)
        and all(record_problems(s) == [] for s in sites)
        and bool(list(root.rglob("bulk-*.dist-info")))
    )


def _start(args: list[str], tmp: Path) -> subprocess.Popen[bytes]:
    """A run in the background; a killed one cannot clean up its temporary files, so they
    go to a directory of the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["TMPDIR"] = str(tmp)
    return subprocess.Popen(
        [sys.executable, "-m", "pep582.commands.migrate", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )


@pytest.mark.parametrize("kind", ["venv", "replace", "requirements"])
def test_sigkill_at_random_moments(kind: str, tmp_path: Path, wheelhouse: Path) -> None:
    rng = random.Random(582)
    venv = tmp_path / "venv"
    site = bare_venv(venv)
    fake_dist(site, "bulk", "1.0", _many_files(800))
    older = tmp_path / "older"  # what --replace replaces: another venv's tree
    fake_dist(bare_venv(older), "older", "1.0", {"older.py": b"X = 0\n"})
    source_before = tree_snapshot(venv)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("hello\nwithdata\n")
    counts = {"absent": 0, "old": 0, "new": 0}
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    calibration = tmp_path / "calibration"
    calibration.mkdir()
    if kind == "requirements":
        first = [str(requirements), "--no-index", "--find-links", str(wheelhouse)]
    else:
        first = [str(venv)]
    if kind == "replace":
        assert migrate_cli(older, "--project", calibration).returncode == 0
        first.append("--replace")
    started = time.perf_counter()
    assert migrate_cli(*first, "--project", calibration).returncode == 0
    duration = time.perf_counter() - started
    # spread evenly over an unkilled run's life (and a little past it), in random order
    moments = [(i + 0.5) * 1.2 / RUNS_PER_KIND for i in range(RUNS_PER_KIND)]
    rng.shuffle(moments)
    for attempt in range(RUNS_PER_KIND):
        project = tmp_path / f"p{attempt}"
        project.mkdir()
        if kind == "requirements":
            args = [str(requirements), "--project", str(project), "--no-index",
                    "--find-links", str(wheelhouse)]  # fmt: skip
        else:
            args = [str(venv), "--project", str(project)]
        if kind == "replace":
            assert migrate_cli(older, "--project", project).returncode == 0
            old = tree_snapshot(project / DIRNAME)
            args.append("--replace")
        proc = _start(args, scratch)
        time.sleep(moments[attempt] * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        target = project / DIRNAME
        if not target.exists():
            counts["absent"] += 1
            assert kind != "replace", "the old tree was lost"
        elif kind == "replace" and tree_snapshot(target) == old:
            counts["old"] += 1
        else:
            counts["new"] += 1
            if kind == "requirements":
                assert all(record_problems(s) == [] for s in target.glob("lib/*/site-packages"))
            else:
                assert _complete(project), f"attempt {attempt}: a partial tree"
        assert tree_snapshot(venv) == source_before
        rerun = migrate_cli(
            *args, *([] if kind == "replace" or not target.exists() else ["--merge"])
        )
        assert rerun.returncode == 0, rerun.stderr
        assert not list(project.glob(f".{DIRNAME}.*")), "leftovers after the next run"
    print(f"\n{kind}: {RUNS_PER_KIND} kills: {counts}")


def _relative_snapshot(root: Path) -> dict[str, str]:
    """What a tree holds, by path relative to it (byte code aside: Python may write it)."""
    return {
        os.path.relpath(path, root): digest
        for path, digest in tree_snapshot(root).items()
        if "__pycache__" not in path
    }


def _pep582(*args: str, tmp: Path | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    return subprocess.Popen(
        [sys.executable, "-m", "pep582.commands.main", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )


@pytest.mark.parametrize("kind", ["install", "uninstall"])
def test_sigkill_during_a_daily_change(kind: str, tmp_path: Path, wheelhouse: Path) -> None:
    """Daily changes move only what changes into the live tree, under a journal: killed at
    any moment, the tree is the old one or the new one once the next command has run
    (it finishes a journaled change first), and a repeat of the command succeeds."""
    rng = random.Random(2026)
    venv = tmp_path / "venv"
    fake_dist(bare_venv(venv), "bulk", "1.0", _many_files(800))
    offline = ["--no-index", "--find-links", str(wheelhouse)]

    def prepared(project: Path) -> Path:
        project.mkdir()
        assert migrate_cli(venv, "--project", project).returncode == 0
        python = str(sorted((project / DIRNAME / "lib").glob("python*"))[0].name)
        return Path(python)

    def change(project: Path) -> list[str]:
        if kind == "install":
            return ["install", *offline, "withdata", "--project", str(project)]
        return ["uninstall", "bulk", "--project", str(project)]

    calibration = tmp_path / "calibration"
    prepared(calibration)
    old = _relative_snapshot(calibration / DIRNAME)
    started = time.perf_counter()
    done = _pep582(*change(calibration))
    assert done.wait() == 0
    duration = time.perf_counter() - started
    new = _relative_snapshot(calibration / DIRNAME)
    assert new != old
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    moments = [(i + 0.5) * 1.2 / RUNS_PER_KIND for i in range(RUNS_PER_KIND)]
    rng.shuffle(moments)
    counts = {"old": 0, "new": 0}
    for attempt in range(RUNS_PER_KIND):
        project = tmp_path / f"p{attempt}"
        prepared(project)
        proc = _pep582(*change(project), tmp=scratch)
        time.sleep(moments[attempt] * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # the next command that reads the tree finishes (or drops) what the kill left
        assert _pep582("list", "--project", str(project)).wait() == 0
        state = _relative_snapshot(project / DIRNAME)
        assert state in (old, new), f"attempt {attempt}: neither the old tree nor the new"
        counts["old" if state == old else "new"] += 1
        assert not [p for p in (project / DIRNAME).iterdir() if p.name.startswith(".txn-")]
        assert _pep582(*change(project)).wait() == 0 or state == new
        assert _relative_snapshot(project / DIRNAME) == new
    print(f"\n{kind}: {RUNS_PER_KIND} kills: {counts}")
