"""The front door (the hook's one-line ``.pth``) never says no where the step would act.

``startup.FRONT_DOOR`` is a cheap prefilter: when it finds no candidate directory the
step is not even imported. It may say yes too often (the step then decides), never too
rarely. Every invocation form, switch and variable the step reads is run through both.
"""

from __future__ import annotations

import itertools
import os
import sys
import types
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pep582.step import startup

FLAGS = {
    "plain": {},
    "isolated": {"isolated": 1},
    "no_site": {"no_site": 1},
    "safe_path": {"safe_path": True},
    "ignore_environment": {"ignore_environment": 1},
}


def flags(name: str) -> types.SimpleNamespace:
    values = {"no_site": 0, "isolated": 0, "ignore_environment": 0, "safe_path": False}
    values.update(FLAGS[name])
    return types.SimpleNamespace(**values)


def front_door_imports(argv0: str, flag: types.SimpleNamespace, environ: dict[str, str]) -> bool:
    """Evaluate FRONT_DOOR as site would, with these argv, flags and environment."""
    imported: list[str] = []

    class Step:
        @staticmethod
        def activate(argv: str) -> list[str]:
            imported.append(argv)
            return []

    def importer(name: str, *args: Any) -> type[Step]:
        assert name == "_pep582_step"
        return Step

    fake_sys = types.SimpleNamespace(flags=flag, argv=[argv0])
    fake_os = types.SimpleNamespace(environ=environ, path=os.path)
    builtins = {"__import__": importer, "getattr": getattr}
    eval(startup.FRONT_DOOR, {"__builtins__": builtins, "sys": fake_sys, "os": fake_os})
    return bool(imported)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Projects with and without a tree, a symlinked script, a directory and a zip."""
    monkeypatch.setattr(startup, "venv_opts_in", lambda prefix=None: True)
    with_tree = tmp_path / "with"
    scheme = startup.running_scheme(str(with_tree / "__pypackages__"))
    Path(scheme["purelib"]).mkdir(parents=True)
    (with_tree / "app.py").write_text("")
    (with_tree / "__main__.py").write_text("")
    without = tmp_path / "without"
    without.mkdir()
    (without / "app.py").write_text("")
    (without / "link.py").symlink_to(with_tree / "app.py")
    archive = with_tree / "app.pyz"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("__main__.py", "")
    return {
        "with": str(with_tree),
        "without": str(without),
        "tree": str(with_tree / "__pypackages__"),
        "archive": str(archive),
    }


ARGV = ["", "-", "-c", "-m", "with/app.py", "without/app.py", "without/link.py", "with",
        "zip", "relative"]  # fmt: skip


@pytest.mark.parametrize("cwd", ["with", "without"])
def test_the_front_door_never_says_no_where_the_step_acts(
    world: dict[str, str], monkeypatch: pytest.MonkeyPatch, cwd: str
) -> None:
    monkeypatch.chdir(world[cwd])
    environments: list[dict[str, str]] = [
        {},
        {"PYTHONPYPACKAGES": world["tree"]},
        {"PYTHONSAFEPATH": "1"},
        {"PYTHONNOPYPACKAGES": "1"},
    ]
    checked = 0
    for argv0, flag_name, environ in itertools.product(ARGV, FLAGS, environments):
        if argv0.startswith(("with/", "without/")) or argv0 == "with":
            argv0 = os.path.join(os.path.dirname(world["with"]), argv0)
        elif argv0 == "zip":
            argv0 = world["archive"]
        elif argv0 == "relative":
            argv0 = "app.py"
        flag = flags(flag_name)
        if flag_name == "safe_path" and sys.version_info < (3, 11):
            continue
        decision = startup.describe(argv0, os.getcwd(), flag, environ)
        acts = bool(decision.present) and not decision.disabled
        says = front_door_imports(argv0, flag, environ)
        assert says or not acts, (argv0, flag_name, environ, decision.as_dict())
        checked += acts
    assert checked > 5  # the matrix does reach cases where the step acts
