"""An interpreter is asked about itself once: its description is kept in the user's cache,
keyed by the file it is and its venv's configuration, and read back only from a private
file of ours (pep582.interpreter._described, pep582.usercache)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from pep582 import interpreter, usercache

from helpers import make_venv


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The executables really started to describe themselves, with a private cache."""
    monkeypatch.setenv(usercache.CACHE_ENV, str(tmp_path / "cache"))
    started: list[str] = []
    real_ask = interpreter._ask_with

    def counting(executable: Any, args: list[str], *flags: Any) -> dict[str, Any]:
        started.append(str(executable))
        return real_ask(executable, args, *flags)

    monkeypatch.setattr(interpreter, "_ask_with", counting)
    return started


def records(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / interpreter.PROBE_RECORDS).glob("*.json"))


def fresh_venv(tmp_path: Path, asked: list[str]) -> Path:
    """A venv of the running Python, with nothing asked or remembered yet."""
    venv = make_venv(interpreter.find_python(sys.executable), tmp_path / "venv")
    for record in records(tmp_path):
        record.unlink()
    asked.clear()
    return venv


def test_asked_once_then_remembered_until_the_venv_changes(
    asked: list[str], tmp_path: Path
) -> None:
    venv = fresh_venv(tmp_path, asked)
    first = interpreter.probe(venv)
    assert interpreter.probe(venv) == first and len(asked) == 1
    (record,) = records(tmp_path)
    assert record.stat().st_mode & 0o077 == 0
    config = tmp_path / "venv" / "pyvenv.cfg"
    config.write_text(config.read_text() + "include-system-site-packages = true\n")
    changed = interpreter.probe(venv)
    assert len(asked) == 2
    assert len(changed.site_packages) > len(first.site_packages)


def test_user_site_settings_are_part_of_the_key(
    asked: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = fresh_venv(tmp_path, asked)
    interpreter.probe(venv)
    monkeypatch.setenv("PYTHONUSERBASE", str(tmp_path / "userbase"))
    assert str(tmp_path / "userbase") in str(interpreter.probe(venv).user_site)
    assert len(asked) == 2


def test_a_launcher_script_is_asked_every_time(asked: list[str], tmp_path: Path) -> None:
    """A pyenv shim chooses its interpreter by directory: never remembered."""
    shim = tmp_path / "python3"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    shim.chmod(0o755)
    interpreter.probe(shim)
    interpreter.probe(shim)
    assert len(asked) == 2 and not records(tmp_path)


@pytest.mark.parametrize("planted", ["foreign owner", "writable by others", "link", "garbage"])
def test_a_record_we_would_not_have_written_is_ignored(
    asked: list[str], tmp_path: Path, planted: str
) -> None:
    """What another user could plant or change in the cache is asked again, not believed
    (a description names the directories a tree is written for)."""
    if planted == "foreign owner" and os.geteuid() != 0:
        pytest.skip("needs root (chown to nobody), as in CI")
    venv = fresh_venv(tmp_path, asked)
    interpreter.probe(venv)
    (record,) = records(tmp_path)
    lie = record.read_text().replace(str(tmp_path / "venv"), "/elsewhere")
    if planted == "foreign owner":
        record.write_text(lie)
        os.chown(record, 65534, -1)
    elif planted == "writable by others":
        record.write_text(lie)
        record.chmod(0o666)
    elif planted == "link":
        decoy = tmp_path / "decoy.json"
        decoy.write_text(lie)
        record.unlink()
        record.symlink_to(decoy)
    else:
        record.write_text("{not json")
    again = interpreter.probe(venv)
    assert len(asked) == 2
    assert "/elsewhere" not in str(again.prefix)


def test_a_cache_another_user_can_change_is_not_used(asked: list[str], tmp_path: Path) -> None:
    venv = fresh_venv(tmp_path, asked)
    (tmp_path / "cache").mkdir(exist_ok=True)
    (tmp_path / "cache").chmod(0o777)
    interpreter.probe(venv)
    interpreter.probe(venv)
    assert len(asked) == 2 and not records(tmp_path)


def test_a_slice_of_startup_py_is_cut_once_and_read_back_only_from_our_own_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code wrappers and a tree's bootstrap embed is cut once per toolkit version; a
    record another user could have written is not believed (it would run at startup)."""
    from pep582.step import slicer, startup

    monkeypatch.setenv(usercache.CACHE_ENV, str(tmp_path / "cache"))
    source = Path(startup.__file__).read_text()
    entries = ("activate",)
    fresh = slicer._cut(source, entries)
    slicer.cut.cache_clear()
    assert slicer.cut(source, entries) == fresh
    (record,) = (tmp_path / "cache" / slicer.SLICES).glob("*.json")
    record.write_text('"import os; os.system(\\"echo planted\\")"')
    record.chmod(0o666)
    slicer.cut.cache_clear()
    assert slicer.cut(source, entries) == fresh
