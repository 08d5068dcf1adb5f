"""The trust rule (v2): no directory or startup file another user can change is activated.

Every attack is built for real (another owner via chown, group and ACL grants, links,
hard links, a foreign ancestor), run through a real interpreter with the hook installed
at startup and through ``pep582 run``, with a ``.pth`` canary that must never run and a
module whose import says where it came from. The refusal is one line naming the path.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pep582.interpreter import Interpreter
from pep582.step.scripts import locator, wrapper

from helpers import add_module, hooked_venv, make_venv, pep582, run

pytestmark = pytest.mark.usefixtures("root_only")

APP = (
    "try:\n    import localmod; print('LOCAL', localmod.WHERE)\n"
    "except ImportError:\n    print('NONE')\n"
)
STAFF = 50  # Debian's "staff" group: no members, not anyone's private group
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture(scope="module")
def hooked_python(base: Interpreter, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hooked_venv(base, tmp_path_factory.mktemp("trust") / "v")


@pytest.fixture
def nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


def fill_tree(proj: Path, base: Interpreter, canary: Path) -> Path:
    """app.py, a __pypackages__ with localmod and a .pth canary; returns the site dir."""
    proj.mkdir(parents=True, exist_ok=True)
    (proj / "app.py").write_text(APP)
    purelib = add_module(proj, base).parent
    (purelib / "evil.pth").write_text(
        f"import pathlib; pathlib.Path({str(canary)!r}).write_text('ran')\n"
    )
    return purelib


@pytest.fixture
def project(tmp_path: Path, base: Interpreter) -> Iterator[Path]:
    """proj/ with app.py and a __pypackages__ whose .pth writes a canary if it ever runs."""
    proj = tmp_path / "proj"
    fill_tree(proj, base, tmp_path / "canary")
    yield proj
    restore(tmp_path)


def restore(top: Path) -> None:
    """Give the tree back to root with sane modes, so pytest can remove it."""
    for path in [top, *top.rglob("*")]:
        if not path.is_symlink():
            os.chown(path, 0, 0)
            os.chmod(path, 0o755)


def chown_tree(path: Path, uid: int, gid: int = -1) -> None:
    for item in [path, *path.rglob("*")]:
        os.lchown(item, uid, gid)


def site_of(project: Path) -> Path:
    return next((project / "__pypackages__").rglob("site-packages"))


def outcome(how: str, python: Path, project: Path) -> tuple[str, list[str]]:
    """Run app.py (hook, run) or -c in the project (cwd, run-c); stdout and stderr lines."""
    if how == "hook":
        proc = run([python, "app.py"], cwd=project)
    elif how == "run":
        proc = pep582("run", "--python", python, str(project / "app.py"), cwd=project.parent)
    elif how == "cwd":
        proc = run([python, "-c", APP], cwd=project)
    else:
        proc = pep582("run", "--python", python, "-c", APP, cwd=project)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip(), proc.stderr.strip().splitlines()


def canary_of(project: Path) -> Path:
    return project.parent / "canary"


def assert_refused(
    how: str, python: Path, project: Path, path: Path, reason: str, shown: Path | None = None
) -> None:
    stdout, warnings = outcome(how, python, project)
    assert stdout == "NONE"
    assert not canary_of(project).exists(), "the .pth ran"
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"pep582: ignoring {shown or project / '__pypackages__'}: ")
    assert f"{path} " in warnings[0]
    assert reason in warnings[0]


def assert_activated(how: str, python: Path, project: Path, where: Path | None = None) -> None:
    stdout, warnings = outcome(how, python, project)
    real = os.path.realpath(where or project / "__pypackages__")
    assert stdout.startswith(f"LOCAL {real}"), stdout
    assert warnings == []
    assert canary_of(project).read_text() == "ran"


HOW = pytest.mark.parametrize("how", ["hook", "run"])
CWD = pytest.mark.parametrize("how", ["cwd", "run-c"])


# -- directories: owner ---------------------------------------------------------------


@HOW
def test_foreign_owner_refused(how: str, hooked_python: Path, project: Path, nobody: int) -> None:
    chown_tree(project / "__pypackages__", nobody)
    assert_refused(how, hooked_python, project, project / "__pypackages__", "owned by nobody")


@HOW
def test_foreign_owned_inner_directory_refused(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    lib = project / "__pypackages__" / "lib"
    os.chown(lib, nobody, -1)
    assert_refused(how, hooked_python, project, lib, "owned by nobody")


@HOW
def test_holder_owned_by_another_user_refused_even_when_its_link_points_at_a_trusted_tree(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    """Attack 1: an attacker's directory holding a link to a root-owned tree, and a
    root-owned script in it."""
    trusted = project.parent / "trusted"
    (project / "__pypackages__").rename(trusted)
    (project / "__pypackages__").symlink_to(trusted)
    os.chown(project, nobody, -1)
    assert_refused(how, hooked_python, project, project, "owned by nobody")


@CWD
def test_the_current_directorys_owner_may_own_its_tree(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    """-c/-m/the prompt already put the current directory first on sys.path, so its
    owner's tree adds nothing they could not already run: a project another user owns
    (a bind mount in a container run as root) works for -m as it does for a script."""
    chown_tree(project, nobody)
    assert_activated(how, hooked_python, project)


def test_a_tree_accepted_for_its_owner_is_not_given_to_children(
    hooked_python: Path, project: Path, nobody: int
) -> None:
    """The owner's allowance covers this process, not the ones it starts elsewhere."""
    chown_tree(project, nobody)
    code = "import os; print(os.environ.get('PYTHONPYPACKAGES'))"
    proc = run([hooked_python, "-c", code], cwd=project)
    assert proc.stdout.strip() == "None", proc.stderr


@pytest.mark.parametrize("how", ["hook", "run", "cwd", "run-c"])
def test_ancestor_owned_by_another_user_refused(
    how: str, hooked_python: Path, tmp_path: Path, base: Interpreter, nobody: int
) -> None:
    """Attack 2: a root-owned project inside a directory the attacker owns (and could
    rename away and replace after the check)."""
    anc = tmp_path / "anc"
    proj = anc / "proj"
    fill_tree(proj, base, tmp_path / "anc" / "canary")
    os.chown(anc, nobody, -1)
    try:
        assert_refused(how, hooked_python, proj, anc, "owned by nobody")
    finally:
        restore(tmp_path)


@HOW
def test_script_owner_may_own_pypackages(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    chown_tree(project / "__pypackages__", nobody)
    os.chown(project / "app.py", nobody, -1)
    assert_activated(how, hooked_python, project)


def test_script_owner_does_not_extend_to_cwd_modes(
    hooked_python: Path, project: Path, nobody: int
) -> None:
    chown_tree(project / "__pypackages__", nobody)
    os.chown(project / "app.py", nobody, -1)
    proc = run([hooked_python, "-c", "import localmod"], cwd=project)
    assert proc.returncode != 0
    assert "owned by nobody" in proc.stderr
    assert not canary_of(project).exists()


# -- directories: who may write ------------------------------------------------------


@HOW
def test_world_writable_refused(how: str, hooked_python: Path, project: Path) -> None:
    site = site_of(project)
    os.chmod(site, 0o777)
    assert_refused(how, hooked_python, project, site, "writable by others")


@HOW
def test_sticky_bit_does_not_excuse_a_directory_inside_pypackages(
    how: str, hooked_python: Path, project: Path
) -> None:
    site = site_of(project)
    os.chmod(site, 0o1777)
    assert_refused(how, hooked_python, project, site, "writable by others")


@HOW
def test_parent_world_writable_without_sticky_refused(
    how: str, hooked_python: Path, project: Path
) -> None:
    os.chmod(project, 0o777)
    assert_refused(how, hooked_python, project, project, "no sticky bit")


@HOW
def test_ancestor_world_writable_without_sticky_refused(
    how: str, hooked_python: Path, project: Path
) -> None:
    os.chmod(project.parent, 0o777)
    assert_refused(how, hooked_python, project, project.parent, "no sticky bit")


@HOW
def test_group_writable_by_a_shared_group_refused(
    how: str, hooked_python: Path, project: Path
) -> None:
    """Attack 4: group write for a group that is not the owner's private group."""
    site = site_of(project)
    os.chown(site, 0, STAFF)
    os.chmod(site, 0o775)
    assert_refused(how, hooked_python, project, site, "writable by group staff")


@HOW
def test_group_writable_by_the_owners_private_group_accepted(
    how: str, hooked_python: Path, project: Path
) -> None:
    """umask 002 trees: group root has one member, root (as Debian's StrictModes accepts)."""
    for item in [project, *(project / "__pypackages__").rglob("*")]:
        if item.is_dir():
            os.chmod(item, 0o775)
    assert_activated(how, hooked_python, project)


def setfacl(*args: str | os.PathLike[str]) -> None:
    if shutil.which("setfacl") is None:
        pytest.skip("setfacl is not installed (Debian package acl)")
    proc = subprocess.run(["setfacl", *map(str, args)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"this filesystem takes no ACLs: {proc.stderr.strip()}")


@HOW
def test_acl_granting_write_to_another_user_refused(
    how: str, hooked_python: Path, project: Path
) -> None:
    site = site_of(project)
    setfacl("-m", "u:nobody:rwx", site)
    assert_refused(how, hooked_python, project, site, "writable by nobody (uid 65534) (ACL)")


@HOW
def test_acl_granting_write_to_a_group_refused(
    how: str, hooked_python: Path, project: Path
) -> None:
    lib = project / "__pypackages__" / "lib"
    setfacl("-m", "g:staff:rwx", lib)
    assert_refused(how, hooked_python, project, lib, "writable by group staff (ACL)")


def test_acl_whose_mask_removes_write_accepted(hooked_python: Path, project: Path) -> None:
    site = site_of(project)
    setfacl("-m", "u:nobody:rwx,m::rx", site)
    assert_activated("hook", hooked_python, project)


# -- links ---------------------------------------------------------------------------


@HOW
def test_symlink_to_foreign_directory_refused(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    foreign = project.parent / "foreign"
    (project / "__pypackages__").rename(foreign)
    chown_tree(foreign, nobody)
    (project / "__pypackages__").symlink_to(foreign)
    assert_refused(how, hooked_python, project, foreign, "owned by nobody")


@HOW
def test_symlink_into_open_directory_refused(how: str, hooked_python: Path, project: Path) -> None:
    open_dir = project.parent / "open"
    open_dir.mkdir()
    (project / "__pypackages__").rename(open_dir / "pp")
    os.chmod(open_dir, 0o777)
    (project / "__pypackages__").symlink_to(open_dir / "pp")
    assert_refused(how, hooked_python, project, open_dir, "no sticky bit")


@HOW
def test_site_directory_that_is_a_shared_sticky_directory_refused(
    how: str, hooked_python: Path, project: Path
) -> None:
    """Sticky world-writable directories are fine above the tree, never as part of it,
    wherever a link inside the tree leads: here site-packages *is* such a directory."""
    sticky = project.parent / "sticky"
    site = site_of(project)
    site.rename(sticky)
    os.chmod(sticky, 0o1777)
    site.symlink_to(sticky)
    assert_refused(how, hooked_python, project, sticky, "writable by others")


@HOW
def test_own_site_directory_linked_into_a_sticky_directory_accepted(
    how: str, hooked_python: Path, project: Path
) -> None:
    """The site directory itself is yours and closed; the sticky bit above keeps others
    from replacing it."""
    sticky = project.parent / "sticky"
    sticky.mkdir()
    site = site_of(project)
    site.rename(sticky / "site-packages")
    os.chmod(sticky, 0o1777)
    site.symlink_to(sticky / "site-packages")
    assert_activated(how, hooked_python, project, sticky / "site-packages")


@CWD
def test_another_users_pypackages_in_a_sticky_directory_refused(
    how: str, hooked_python: Path, tmp_path: Path, nobody: int
) -> None:
    """The review's attack: in /tmp, another user's __pypackages__ whose site-packages
    links back to the sticky directory, where their _distutils_hack.py waits."""
    sticky = tmp_path / "stk"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    site = sticky / "__pypackages__" / "lib" / f"python{PY}" / "site-packages"
    site.parent.mkdir(parents=True)
    site.symlink_to(sticky)
    (sticky / "evil.pth").write_text(
        f"import pathlib; pathlib.Path({str(tmp_path / 'canary')!r}).write_text('ran')\n"
    )
    chown_tree(sticky / "__pypackages__", nobody)
    os.chown(sticky / "evil.pth", nobody, -1)
    try:
        stdout, warnings = outcome(how, hooked_python, sticky)
        assert stdout == "NONE"
        assert not (tmp_path / "canary").exists()
        assert len(warnings) == 1 and "pep582: ignoring" in warnings[0], warnings
    finally:
        restore(tmp_path)


@HOW
def test_module_writable_by_others_in_a_site_directory_refused(
    how: str, hooked_python: Path, project: Path
) -> None:
    """Review finding 2: a module a .pth imports at startup, writable by everybody."""
    hook = site_of(project) / "foo_hook.py"
    hook.write_text("X = 1\n")
    (site_of(project) / "foo.pth").write_text("import foo_hook\n")
    os.chmod(hook, 0o666)
    assert_refused(how, hooked_python, project, hook, "writable by others")


@HOW
def test_bytecode_directory_writable_by_others_refused(
    how: str, hooked_python: Path, project: Path
) -> None:
    cache = site_of(project) / "__pycache__"
    cache.mkdir()
    os.chmod(cache, 0o777)
    assert_refused(how, hooked_python, project, cache, "writable by others")


@HOW
def test_pth_line_naming_a_directory_others_could_create_refused(
    how: str, hooked_python: Path, project: Path
) -> None:
    """Review finding 3: an editable's .pth names a path in a shared sticky directory
    that does not exist (yet): another user could create it, with a sitecustomize."""
    sticky = project.parent / "shared"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    (site_of(project) / "__editable__.mylib-0.1.pth").write_text(f"{sticky}/old/src\n")
    assert_refused(how, hooked_python, project, sticky, "writable by others")


@HOW
def test_pth_line_naming_another_users_directory_refused(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    theirs = project.parent / "theirs"
    theirs.mkdir()
    os.chown(theirs, nobody, -1)
    (site_of(project) / "theirs.pth").write_text(f"{theirs}\n")
    assert_refused(how, hooked_python, project, theirs, "owned by nobody")


def test_control_characters_in_names_are_escaped(hooked_python: Path, project: Path) -> None:
    """Review finding 6: a file name cannot rewrite the terminal line or add lines."""
    name = "a\r\x1b[2Kpep582: nothing to see\n.pth"
    bad = site_of(project) / name
    bad.write_text("\n")
    os.chmod(bad, 0o666)
    stdout, warnings = outcome("hook", hooked_python, project)
    assert stdout == "NONE"
    assert len(warnings) == 1
    assert "\\r\\x1b[2K" in warnings[0] and "\\n.pth" in warnings[0]


def test_resolved_paths_go_on_sys_path_so_a_later_swap_changes_nothing(
    hooked_python: Path, project: Path, tmp_path: Path, base: Interpreter
) -> None:
    """Attack 3: the link is swapped after the check; imports still use what was checked."""
    real = tmp_path / "real"
    (project / "__pypackages__").rename(real)
    (project / "__pypackages__").symlink_to(real)
    evil = tmp_path / "evil"
    fill_tree(evil, base, tmp_path / "evil-canary")
    code = (
        "import os, sys\n"
        "os.remove('__pypackages__')\n"
        f"os.symlink({str(evil / '__pypackages__')!r}, '__pypackages__')\n"
        "import localmod\n"
        "print(localmod.WHERE)\n"
        "print([p for p in sys.path if 'site-packages' in p and 'real' in p])\n"
    )
    proc = run([hooked_python, "-c", code], cwd=project)
    assert proc.returncode == 0, proc.stderr
    where, entries = proc.stdout.splitlines()
    assert where.startswith(str(real))
    assert "__pypackages__" not in entries  # the resolved path, not the link
    assert not (tmp_path / "evil-canary").exists()


# -- files that run at startup ---------------------------------------------------------


@HOW
def test_pth_owned_by_another_user_refused(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    pth = site_of(project) / "evil.pth"
    os.chown(pth, nobody, -1)
    assert_refused(how, hooked_python, project, pth, "owned by nobody")


@HOW
def test_world_writable_pth_refused(how: str, hooked_python: Path, project: Path) -> None:
    pth = site_of(project) / "evil.pth"
    os.chmod(pth, 0o666)
    assert_refused(how, hooked_python, project, pth, "writable by others")


@HOW
def test_hard_link_to_another_users_file_refused(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    """A hard link has its inode's owner: the other user can still edit it."""
    theirs = project.parent / "theirs.pth"
    pth = site_of(project) / "evil.pth"
    pth.rename(theirs)
    os.chown(theirs, nobody, -1)
    os.link(theirs, pth)
    assert_refused(how, hooked_python, project, pth, "owned by nobody")


@HOW
def test_sitecustomize_owned_by_another_user_refused(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    custom = site_of(project) / "sitecustomize.py"
    custom.write_text("print('CUSTOM')\n")
    os.chown(custom, nobody, -1)
    assert_refused(how, hooked_python, project, custom, "owned by nobody")


@HOW
def test_symlinked_pth_to_another_users_file_refused(
    how: str, hooked_python: Path, project: Path, nobody: int
) -> None:
    """A link is judged by where it leads."""
    pth = site_of(project) / "evil.pth"
    pth.rename(project.parent / "elsewhere.pth")
    os.chown(project.parent / "elsewhere.pth", nobody, -1)
    pth.symlink_to(project.parent / "elsewhere.pth")
    assert_refused(
        how, hooked_python, project, project.parent / "elsewhere.pth", "owned by nobody"
    )


# -- controls: ordinary setups are never refused ---------------------------------------


@HOW
def test_own_directory_in_sticky_world_writable_dir_activated(
    how: str, hooked_python: Path, project: Path
) -> None:
    os.chmod(project.parent, 0o777 | stat.S_ISVTX)  # like /tmp
    assert_activated(how, hooked_python, project)


@HOW
def test_own_symlink_to_own_tree_activated(
    how: str, hooked_python: Path, project: Path, tmp_path: Path
) -> None:
    real = tmp_path / "shared-pp"
    (project / "__pypackages__").rename(real)
    (project / "__pypackages__").symlink_to(real)
    assert_activated(how, hooked_python, project)


# -- console-script wrappers -----------------------------------------------------------


def add_wrapper(project: Path, python: Interpreter, executable: Path) -> Path:
    """A console script ``tool`` for localmod:main, as pep582-migrate writes it."""
    root = project / "__pypackages__"
    site = site_of(project)
    (site / "localmod.py").write_text("WHERE = __file__\ndef main():\n    print('TOOL', WHERE)\n")
    scripts = root / "bin"
    scripts.mkdir(exist_ok=True)
    tool = scripts / "tool"
    tool.write_bytes(
        wrapper("localmod", "main", str(executable), locator(str(root), str(scripts), None))
    )
    tool.chmod(0o755)
    return tool


def test_wrapper_runs_its_own_tree_without_the_hook(
    project: Path, base: Interpreter, tmp_path: Path
) -> None:
    tool = add_wrapper(project, base, base.executable)
    proc = run([tool], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"TOOL {site_of(project)}")
    assert canary_of(project).read_text() == "ran"


def test_wrapper_applies_the_trust_rule(
    project: Path, base: Interpreter, tmp_path: Path, nobody: int
) -> None:
    tool = add_wrapper(project, base, base.executable)
    os.chown(site_of(project), nobody, -1)
    proc = run([tool], cwd=tmp_path)
    assert proc.returncode != 0
    assert f"pep582: ignoring {project / '__pypackages__'}: {site_of(project)} is owned by" in (
        proc.stderr
    )
    assert not canary_of(project).exists()


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("-I", "isolated mode (-I)"),
        ("-S", "site is disabled (-S)"),
        ("-P", "safe-path mode"),
    ],
)
def test_wrapper_honours_the_mode_switches(
    project: Path, base: Interpreter, tmp_path: Path, flag: str, reason: str
) -> None:
    if flag == "-P" and sys.version_info < (3, 11):
        pytest.skip("-P exists from Python 3.11")
    tool = add_wrapper(project, base, base.executable)
    proc = run([base.executable, flag, tool], cwd=tmp_path)
    assert proc.returncode != 0
    assert f"not using {project / '__pypackages__'}: {reason}" in proc.stderr
    assert not canary_of(project).exists()


def test_wrapper_in_a_scripts_directory_others_can_write_refused(
    project: Path, base: Interpreter, tmp_path: Path
) -> None:
    """Review finding 8: whoever can write bin/ can replace the tool; say so."""
    tool = add_wrapper(project, base, base.executable)
    os.chmod(tool.parent, 0o777)
    proc = run([tool], cwd=tmp_path)
    assert proc.returncode != 0
    assert f"{tool.parent} is writable by others" in proc.stderr
    assert not canary_of(project).exists()


def test_a_second_writer_that_is_you_is_no_stranger(
    hooked_python: Path, project: Path, tmp_path: Path
) -> None:
    """Review F2: an ACL entry granting write to yourself (or root) refuses nothing."""
    setfacl("-m", "u:root:rwx", site_of(project))
    assert_activated("hook", hooked_python, project)


def test_an_older_hook_that_ran_first_is_undone_by_pep582_run(
    base: Interpreter, project: Path, tmp_path: Path, nobody: int
) -> None:
    """Review finding 5: a hook without the trust rule put a hostile tree on sys.path;
    `pep582 run` warns about the old hook, refuses the tree and takes it off again."""
    venv = make_venv(base, tmp_path / "old")
    site = next((tmp_path / "old").glob("lib/python*/site-packages"))
    (site / "_pep582_hook.py").write_text(
        "import os, sys\n"
        "def activate():\n"
        "    tree = os.path.join(os.getcwd(), '__pypackages__')\n"
        "    for d in __import__('glob').glob(tree + '/lib/*/site-packages'):\n"
        "        sys.path.insert(0, d)\n"
    )
    (site / "_pep582_hook.pth").write_text("import _pep582_hook; _pep582_hook.activate()\n")
    chown_tree(project / "__pypackages__", nobody)
    proc = pep582("run", "--python", venv, "-c", APP, cwd=project)
    assert proc.stdout.strip() == "NONE", proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert any("another version of the startup hook" in line for line in lines), lines
    assert any("ignoring" in line and "owned by nobody" in line for line in lines), lines


def test_a_refused_tree_does_not_choose_the_interpreter(
    project: Path, tmp_path: Path, nobody: int
) -> None:
    """Review finding 7: a tree the step refuses says nothing about which Python runs."""
    odd = project / "__pypackages__" / "lib" / "python3.6" / "site-packages"
    odd.mkdir(parents=True)
    chown_tree(project / "__pypackages__", nobody)
    proc = pep582("where", "--json", cwd=project)
    assert "python3.6 matches" not in proc.stdout


# -- races ---------------------------------------------------------------------------


def flip_link(stop: threading.Event, link: Path, targets: list[Path]) -> None:
    spare = link.with_name(link.name + ".new")
    while not stop.is_set():
        for target in targets:
            spare.unlink(missing_ok=True)
            spare.symlink_to(target)
            os.replace(spare, link)


def flip_directories(stop: threading.Event, first: Path, second: Path) -> None:
    parked = first.with_name("parked")
    while not stop.is_set():
        os.rename(first, parked)
        os.rename(second, first)
        os.rename(parked, second)


def test_swapping_an_ancestor_while_interpreters_start_never_runs_the_canary(
    hooked_python: Path, tmp_path: Path, base: Interpreter, nobody: int
) -> None:
    """150 starts while the attacker renames, in a directory they own, a root-owned
    project for a copy (the victim runs a root-owned script in it): the ancestor is the
    attacker's, so nothing from either tree is ever used."""
    attacker = tmp_path / "attacker"
    attacker.mkdir()
    os.chown(attacker, nobody, -1)
    proj, spare = attacker / "proj", attacker / "spare"
    fill_tree(proj, base, tmp_path / "canary")
    fill_tree(spare, base, tmp_path / "canary")  # root-owned files, like a copy of proj
    command = [hooked_python, str(proj / "app.py")]
    stop = threading.Event()
    swap = threading.Thread(target=flip_directories, args=(stop, proj, spare))
    swap.start()
    outputs = set()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    try:
        for _ in range(150):
            proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env)
            outputs.add(proc.stdout.strip())
    finally:
        stop.set()
        swap.join()
        restore(tmp_path)
    assert not (tmp_path / "canary").exists()
    assert outputs <= {"NONE", ""}  # "": the script was away at that instant
    assert "NONE" in outputs


@pytest.mark.parametrize(
    ("group", "users", "private_to"),
    [
        (("alice", 1000, []), {"alice": (1000, 1000)}, 1000),  # user-private group
        (("alice", 1000, ["alice"]), {"alice": (1000, 1000)}, 1000),
        (("alice", 1000, ["alice", "bob"]), {"alice": (1000, 1000)}, None),  # a member
        (("alice", 1000, []), {"alice": (1000, 100)}, None),  # not alice's primary group
        (("staff", 50, []), {"alice": (1000, 50)}, None),  # no user of that name
    ],
)
def test_a_private_group_is_decided_from_its_own_entries(
    monkeypatch: pytest.MonkeyPatch,
    group: tuple[str, int, list[str]],
    users: dict[str, tuple[int, int]],
    private_to: int | None,
) -> None:
    """Named as a user, that user's primary group, no other member listed; no user
    listing is asked for (getpwall may be incomplete under a directory service)."""
    import grp
    import pwd
    import types

    from pep582.step import startup

    name, gid, members = group

    def getgrgid(asked: int) -> Any:
        if asked != gid:
            raise KeyError(asked)
        return types.SimpleNamespace(gr_name=name, gr_gid=gid, gr_mem=members)

    def getpwnam(asked: str) -> Any:
        if asked not in users:
            raise KeyError(asked)
        uid, primary = users[asked]
        return types.SimpleNamespace(pw_name=asked, pw_uid=uid, pw_gid=primary)

    def getpwall() -> Any:
        raise AssertionError("the rule must not list every user")

    monkeypatch.setattr(grp, "getgrgid", getgrgid)
    monkeypatch.setattr(pwd, "getpwnam", getpwnam)
    monkeypatch.setattr(pwd, "getpwall", getpwall)
    monkeypatch.setattr(startup, "_private", {})
    assert startup._private_to(gid) == private_to
