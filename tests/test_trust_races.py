"""Resolving once (issue 21, class 5): a link flipped while interpreters start never puts
an unjudged tree on ``sys.path``.

The attacker (``nobody``) owns two links in a shared sticky directory (like ``/tmp``) and
swaps them atomically with ``renameat2(RENAME_EXCHANGE)`` in a loop, one pointing at the
victim's root-owned tree, the other at their own tree whose ``.pth`` is a canary. The
victim's interpreter (the hook installed) is pointed at the link the way a parent process
would (``PYTHONPYPACKAGES``) or runs a script through it. ``fs.protected_symlinks`` is 0
for the run, as on many build machines, so the kernel follows the attacker's links. The
step walks each path once, judging every link it meets (an attacker's link is refused),
and puts only what it judged on ``sys.path``: the canary never runs. The control: the
same race with the victim's own links, which is always accepted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pep582.interpreter import Interpreter

from helpers import add_module, exchange, hooked_venv

pytestmark = [pytest.mark.usefixtures("root_only"), pytest.mark.slow]

APP = (
    "import os, sys\n"
    "try:\n    import localmod; print('LOCAL', localmod.WHERE)\n"
    "except ImportError:\n    print('NONE')\n"
    "if any(os.path.realpath(p).startswith(sys.argv[-1]) for p in sys.path if p):\n"
    "    print('EVIL')\n"
)
STARTS = int(os.environ.get("PEP582_RACE_STARTS", "500"))  # per attacker case
PROTECTED = Path("/proc/sys/fs/protected_symlinks")


@pytest.fixture(scope="module")
def hooked(base: Interpreter, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hooked_venv(base, tmp_path_factory.mktemp("race") / "v")


@pytest.fixture
def unprotected_symlinks() -> Iterator[None]:
    """fs.protected_symlinks = 0 for the test (restored after), where it can be set."""
    try:
        before = PROTECTED.read_text().strip()
        PROTECTED.write_text("0\n")
    except OSError:
        pytest.skip("fs.protected_symlinks cannot be read or set here")
    yield
    PROTECTED.write_text(before + "\n")


def tree(where: Path, base: Interpreter, canary: Path | None, uid: int) -> Path:
    """A project with app.py and a __pypackages__ whose .pth writes ``canary``; without
    one, an empty site directory (nothing in it to judge: only its own owner refuses it)."""
    where.mkdir(parents=True)
    (where / "app.py").write_text(APP)
    purelib = add_module(where, base).parent
    if canary is None:
        for item in purelib.iterdir():
            item.unlink()
    else:
        (purelib / "zz.pth").write_text(
            f"import pathlib; pathlib.Path({str(canary)!r}).write_text('ran')\n"
        )
    for path in [where, *where.rglob("*")]:
        os.lchown(path, uid, -1)
    (where / "app.py").chmod(0o644)
    os.lchown(where / "app.py", 0, 0)  # the script the victim runs is always root's
    return where


def race(
    command: list[str], env: dict[str, str], first: Path, second: Path, starts: int
) -> set[str]:
    """Start ``command`` ``starts`` times while ``first`` and ``second`` are exchanged."""
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            exchange(first, second)

    swapper = threading.Thread(target=flip)
    swapper.start()
    seen = set()
    try:
        for _ in range(starts):
            proc = subprocess.run(command, env=env, cwd="/", capture_output=True, text=True)
            seen.update(line.split(" ")[0] for line in proc.stdout.splitlines())
    finally:
        stop.set()
        swapper.join()
    return seen


@pytest.mark.parametrize("via", ["PYTHONPYPACKAGES", "script"])
@pytest.mark.parametrize("links_owner", ["attacker", "attacker-empty", "victim"])
@pytest.mark.usefixtures("unprotected_symlinks")
def test_exchanging_links_never_activates_an_unjudged_tree(
    via: str, links_owner: str, hooked: Path, base: Interpreter, tmp_path: Path
) -> None:
    import pwd

    nobody = pwd.getpwnam("nobody").pw_uid
    shared = tmp_path / "shared"  # like /tmp: root's, sticky, writable by everyone
    shared.mkdir()
    shared.chmod(0o1777)
    good = tree(tmp_path / "good", base, tmp_path / "good-ran", 0)
    canary = None if links_owner == "attacker-empty" else tmp_path / "canary"
    evil = tree(tmp_path / "evil", base, canary, nobody)
    owner = 0 if links_owner == "victim" else nobody
    if links_owner == "victim":  # the control: both trees are the victim's own
        shutil.rmtree(evil)
        evil = tree(tmp_path / "evil", base, tmp_path / "good-ran", 0)
    first, second = shared / "a", shared / "b"
    first.symlink_to(good)
    second.symlink_to(evil)
    os.lchown(first, owner, -1)
    os.lchown(second, owner, -1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    if via == "PYTHONPYPACKAGES":
        env["PYTHONPYPACKAGES"] = str(first / "__pypackages__")
        command = [str(hooked), "-c", APP, str(evil / "__pypackages__")]
    else:
        command = [str(hooked), str(first / "app.py"), str(evil / "__pypackages__")]
    try:
        seen = race(command, env, first, second, STARTS if owner else STARTS // 5)
    finally:
        for path in [tmp_path, *tmp_path.rglob("*")]:
            if not path.is_symlink():
                os.chown(path, 0, 0)
    assert not (tmp_path / "canary").exists(), "the attacker's .pth ran"
    if links_owner == "victim":  # both trees are the victim's: "EVIL" is one of them
        assert seen - {"EVIL"} == {"LOCAL"}
        return
    assert "EVIL" not in seen, "a directory of the attacker's tree was on sys.path"
    if via == "PYTHONPYPACKAGES":
        assert seen == {"NONE"}  # a link the attacker owns is never followed into a tree
    else:
        assert seen <= {"LOCAL", "NONE"}  # the script's real path decides: good or refused
