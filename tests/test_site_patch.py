"""The site.py patch: generated from startup.py, and the PEP's rules in a patched CPython.

The patch (pep/reference/site-pep582.patch) is regenerated and compared with the committed
file. Then each CPython here is copied (benchmarks/site_patch.py's runner; the installed
one is never changed) and its copy of site.py patched: test_startup_rules.py runs all its
rule cases against these copies as well as against the hook; here, the copies are shown
to run the patched file, and the trust rule's refusals are run against them with no hook
installed, with a .pth canary that must never run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from test_startup_rules import PROBE

from helpers import ROOT, across, add_module, interpreter, run

STAFF = 50  # Debian's "staff" group: no members, not anyone's private group
APP = (
    "try:\n    import localmod; print('LOCAL', localmod.WHERE)\n"
    "except ImportError:\n    print('NONE')\n"
)


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


generator = load(ROOT / "pep" / "reference" / "make_site_patch.py", "pep582_make_site_patch")
runner = load(ROOT / "benchmarks" / "site_patch.py", "pep582_site_patch_runner")


# -- the patch is startup.py's code ---------------------------------------------------------


def test_committed_patch_is_what_startup_py_generates() -> None:
    committed = generator.PATCH.read_text("utf-8")
    version, sha = generator.recorded_base(committed)
    python = interpreter(".".join(version.split(".")[:2]))
    if python is None:
        pytest.skip(f"CPython {version} (the patch's base) is not installed here")
    full_version, site_source = generator.base_site(os.fspath(python.executable))
    if generator.sha256(site_source) != sha:
        pytest.skip(f"this machine's CPython {full_version} site.py is not the patch's base")
    startup_source = generator.STARTUP.read_text("utf-8")
    assert generator.make_patch(site_source, startup_source, full_version) == committed, (
        "startup.py changed: run python pep/reference/make_site_patch.py"
    )


def test_patch_carries_startup_py_code_even_without_the_base_interpreter() -> None:
    """Runs anywhere: the lines the patch adds before main() are what startup.py gives."""
    committed = generator.PATCH.read_text("utf-8")
    hunk = committed.split("\n@@ ")[1].splitlines(keepends=True)[1:]
    added = "".join(line[1:] for line in hunk if line.startswith("+"))
    running_site = Path(sysconfig.get_path("stdlib")) / "site.py"
    expected = generator.step_block(
        generator.STARTUP.read_text("utf-8"), running_site.read_text("utf-8")
    )
    assert added == expected, "startup.py changed: run python pep/reference/make_site_patch.py"
    assert f"+{generator.CALL}" in committed


def test_generator_refuses_a_name_site_py_already_has() -> None:
    startup = "import os\n\ndef main():\n    pass\n\ndef activate():\n    main()\n"
    with pytest.raises(generator.GenerationError, match="already defines main"):
        generator.step_block(startup, "import os\n\ndef main():\n    pass\n")


def test_generator_drops_import_site_and_qualifiers() -> None:
    startup = (
        "import os\n\n\ndef helper():\n    import site\n\n    return site.PREFIXES\n\n\n"
        "def activate():\n    return helper()\n\n\ndef unused():\n    pass\n"
    )
    block = generator.step_block(startup, "import os\nPREFIXES = []\n")
    assert "import site" not in block and "site." not in block
    assert "return PREFIXES" in block and "unused" not in block


@pytest.mark.parametrize("version", across())
def test_patch_applies_without_fuzz_to_each_cpython(version: str, tmp_path: Path) -> None:
    """The same result from patch(1) and from the runner's Python fallback."""
    python = interpreter(version)
    if python is None:
        pytest.skip(f"Python {version} is not installed here")
    _, source = generator.base_site(os.fspath(python.executable))
    patch_text = generator.PATCH.read_text("utf-8")
    in_python = runner.apply_unified(source, patch_text)
    compile(in_python, "site.py", "exec")
    assert in_python.count(generator.CALL) == 1
    if shutil.which("patch"):
        target = tmp_path / "site.py"
        target.write_text(source, "utf-8")
        runner.apply_patch(target, patch_text)
        assert target.read_text("utf-8") == in_python


# -- patched interpreters -------------------------------------------------------------------


def build(version: str, factory: pytest.TempPathFactory, patched: bool) -> Any:
    python = interpreter(version)
    if python is None:
        pytest.skip(f"Python {version} is not installed here")
    try:
        return runner.build(
            python.executable, factory.mktemp(f"py{version}") / "prefix", patched=patched,
            link=True,
        )  # fmt: skip
    except runner.CopyError as exc:
        pytest.skip(f"cannot build a patched copy of Python {version}: {exc}")


@pytest.fixture(scope="session", params=across())
def patched(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A copy of each CPython here whose site.py carries the patch."""
    return build(request.param, tmp_path_factory, patched=True)


def start(
    copy: Any,
    *args: str | os.PathLike[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return run(copy.command(*args), cwd=cwd, env={**copy.environ(), **(env or {})}, input=input)


def probe(copy: Any, *args: str, cwd: Path, **kwargs: Any) -> dict[str, Any]:
    proc = start(copy, *args, cwd=cwd, **kwargs)
    assert proc.returncode == 0, proc.stderr
    assert "pep582:" not in proc.stderr, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture
def project(tmp_path: Path, patched: Any) -> Path:
    base = interpreter(f"{patched.version[0]}.{patched.version[1]}")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "app.py").write_text(PROBE)
    add_module(proj, base)
    other = tmp_path / "elsewhere"
    other.mkdir()
    add_module(other, base)  # a decoy: must never be used when a script runs
    return proj


def local(project: Path) -> str:
    return str(project / "__pypackages__")


def test_copy_runs_the_patched_site_py(patched: Any, tmp_path: Path) -> None:
    code = "import site, sys; print(site.__file__); print(site.activate.__module__)"
    proc = start(patched, "-c", code, cwd=tmp_path)
    assert proc.stdout.split() == [str(patched.site_py), "site"], proc.stderr
    python = interpreter(f"{patched.version[0]}.{patched.version[1]}")
    _, installed = generator.base_site(os.fspath(python.executable))
    assert generator.CALL not in installed  # the installed interpreter is untouched


def test_unpatched_copy_ignores_pypackages(
    project: Path, patched: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The control: the same copy without the patch does nothing (no hook is installed)."""
    version = f"{patched.version[0]}.{patched.version[1]}"
    plain = build(version, tmp_path_factory, patched=False)
    assert probe(plain, "app.py", cwd=project)["where"] is None
    assert probe(patched, "app.py", cwd=project)["where"].startswith(local(project))


@pytest.fixture
def nobody(root_only: None) -> int:
    return pwd.getpwnam("nobody").pw_uid


@pytest.fixture
def tree(tmp_path: Path, patched: Any, nobody: int) -> Any:
    """proj/ with app.py and a __pypackages__ whose .pth writes a canary if it ever runs."""
    proj = tmp_path / "proj"
    fill_tree(proj, patched, tmp_path / "canary")
    yield proj
    for path in [tmp_path, *tmp_path.rglob("*")]:  # give it back, so pytest can remove it
        if not path.is_symlink():
            os.chown(path, 0, 0)
            os.chmod(path, 0o755)


def fill_tree(proj: Path, copy: Any, canary: Path) -> Path:
    proj.mkdir(parents=True, exist_ok=True)
    (proj / "app.py").write_text(APP)
    purelib = add_module(proj, interpreter(f"{copy.version[0]}.{copy.version[1]}")).parent
    (purelib / "evil.pth").write_text(
        f"import pathlib; pathlib.Path({str(canary)!r}).write_text('ran')\n"
    )
    return purelib


def site_of(project: Path) -> Path:
    return next((project / "__pypackages__").rglob("site-packages"))


def outcome(how: str, copy: Any, project: Path) -> tuple[str, list[str]]:
    args = ["app.py"] if how == "script" else ["-c", APP]
    proc = start(copy, *args, cwd=project)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip(), proc.stderr.strip().splitlines()


def assert_refused(how: str, copy: Any, project: Path, path: Path, reason: str) -> None:
    stdout, warnings = outcome(how, copy, project)
    assert stdout == "NONE"
    assert not (project.parent / "canary").exists(), "the .pth ran"
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"pep582: ignoring {project / '__pypackages__'}: ")
    assert f"{path} " in warnings[0]
    assert reason in warnings[0]


def assert_activated(how: str, copy: Any, project: Path) -> None:
    stdout, warnings = outcome(how, copy, project)
    assert stdout.startswith(f"LOCAL {os.path.realpath(project / '__pypackages__')}"), stdout
    assert warnings == []
    assert (project.parent / "canary").read_text() == "ran"


HOW = pytest.mark.parametrize("how", ["script", "cwd"])


def chown_tree(path: Path, uid: int, gid: int = -1) -> None:
    for item in [path, *path.rglob("*")]:
        os.lchown(item, uid, gid)


@HOW
def test_foreign_owner_refused(how: str, patched: Any, tree: Path, nobody: int) -> None:
    chown_tree(tree / "__pypackages__", nobody)
    assert_refused(how, patched, tree, tree / "__pypackages__", "owned by nobody")


def test_foreign_owned_inner_directory_refused(patched: Any, tree: Path, nobody: int) -> None:
    lib = tree / "__pypackages__" / "lib"
    os.chown(lib, nobody, -1)
    assert_refused("script", patched, tree, lib, "owned by nobody")


def test_ancestor_owned_by_another_user_refused(patched: Any, tree: Path, nobody: int) -> None:
    os.chown(tree, nobody, -1)
    assert_refused("script", patched, tree, tree, "owned by nobody")


def test_the_current_directorys_owner_may_own_its_tree(
    patched: Any, tree: Path, nobody: int
) -> None:
    chown_tree(tree, nobody)
    assert_activated("cwd", patched, tree)


def test_script_owner_may_own_pypackages(patched: Any, tree: Path, nobody: int) -> None:
    chown_tree(tree / "__pypackages__", nobody)
    os.chown(tree / "app.py", nobody, -1)
    assert_activated("script", patched, tree)


def test_script_owner_does_not_extend_to_cwd_mode(patched: Any, tree: Path, nobody: int) -> None:
    chown_tree(tree / "__pypackages__", nobody)
    os.chown(tree / "app.py", nobody, -1)
    assert_refused("cwd", patched, tree, tree / "__pypackages__", "owned by nobody")


@HOW
def test_world_writable_refused(how: str, patched: Any, tree: Path) -> None:
    os.chmod(site_of(tree), 0o777)
    assert_refused(how, patched, tree, site_of(tree), "writable by others")


def test_sticky_bit_does_not_excuse_a_directory_inside(patched: Any, tree: Path) -> None:
    os.chmod(site_of(tree), 0o1777)
    assert_refused("script", patched, tree, site_of(tree), "writable by others")


def test_parent_world_writable_without_sticky_refused(patched: Any, tree: Path) -> None:
    os.chmod(tree, 0o777)
    assert_refused("cwd", patched, tree, tree, "no sticky bit")


def test_group_writable_by_a_shared_group_refused(patched: Any, tree: Path) -> None:
    os.chown(site_of(tree), 0, STAFF)
    os.chmod(site_of(tree), 0o775)
    assert_refused("script", patched, tree, site_of(tree), "writable by group staff")


def test_group_writable_by_the_owners_private_group_accepted(patched: Any, tree: Path) -> None:
    for item in [tree, *(tree / "__pypackages__").rglob("*")]:
        if item.is_dir():
            os.chmod(item, 0o775)
    assert_activated("script", patched, tree)


def test_acl_granting_write_to_another_user_refused(patched: Any, tree: Path) -> None:
    if shutil.which("setfacl") is None:
        pytest.skip("setfacl is not installed (Debian package acl)")
    acl = subprocess.run(["setfacl", "-m", "u:nobody:rwx", site_of(tree)], capture_output=True)
    if acl.returncode != 0:
        pytest.skip("this filesystem takes no ACLs")
    assert_refused("script", patched, tree, site_of(tree), "writable by nobody (uid 65534) (ACL)")


def test_symlink_to_foreign_directory_refused(patched: Any, tree: Path, nobody: int) -> None:
    foreign = tree.parent / "foreign"
    (tree / "__pypackages__").rename(foreign)
    chown_tree(foreign, nobody)
    (tree / "__pypackages__").symlink_to(foreign)
    assert_refused("cwd", patched, tree, foreign, "owned by nobody")


@HOW
def test_pth_owned_by_another_user_refused(
    how: str, patched: Any, tree: Path, nobody: int
) -> None:
    pth = site_of(tree) / "evil.pth"
    os.chown(pth, nobody, -1)
    assert_refused(how, patched, tree, pth, "owned by nobody")


def test_world_writable_pth_refused(patched: Any, tree: Path) -> None:
    pth = site_of(tree) / "evil.pth"
    os.chmod(pth, 0o666)
    assert_refused("script", patched, tree, pth, "writable by others")


def test_hard_link_to_another_users_file_refused(patched: Any, tree: Path, nobody: int) -> None:
    theirs, pth = tree.parent / "theirs.pth", site_of(tree) / "evil.pth"
    pth.rename(theirs)
    os.chown(theirs, nobody, -1)
    os.link(theirs, pth)
    assert_refused("script", patched, tree, pth, "owned by nobody")


def test_symlinked_pth_to_another_users_file_refused(
    patched: Any, tree: Path, nobody: int
) -> None:
    pth = site_of(tree) / "evil.pth"
    pth.rename(tree.parent / "elsewhere.pth")
    os.chown(tree.parent / "elsewhere.pth", nobody, -1)
    pth.symlink_to(tree.parent / "elsewhere.pth")
    assert_refused("cwd", patched, tree, pth, "")


def test_module_a_pth_imports_writable_by_others_refused(patched: Any, tree: Path) -> None:
    module = site_of(tree) / "foo_hook.py"
    module.write_text("X = 1\n")
    (site_of(tree) / "foo.pth").write_text("import foo_hook\n")
    os.chmod(module, 0o666)
    assert_refused("script", patched, tree, module, "writable by others")


def test_pth_line_naming_another_users_directory_refused(
    patched: Any, tree: Path, nobody: int
) -> None:
    theirs = tree.parent / "theirs"
    theirs.mkdir()
    os.chown(theirs, nobody, -1)
    (site_of(tree) / "theirs.pth").write_text(f"{theirs}\n")
    assert_refused("cwd", patched, tree, theirs, "owned by nobody")


def test_sitecustomize_owned_by_another_user_refused(
    patched: Any, tree: Path, nobody: int
) -> None:
    custom = site_of(tree) / "sitecustomize.py"
    custom.write_text("print('CUSTOM')\n")
    os.chown(custom, nobody, -1)
    assert_refused("script", patched, tree, custom, "owned by nobody")


@HOW
def test_own_tree_in_a_sticky_world_writable_directory_activated(
    how: str, patched: Any, tree: Path
) -> None:
    os.chmod(tree.parent, 0o1777)  # like /tmp
    assert_activated(how, patched, tree)


def test_own_symlink_to_own_tree_activated(patched: Any, tree: Path) -> None:
    real = tree.parent / "shared-pp"
    (tree / "__pypackages__").rename(real)
    (tree / "__pypackages__").symlink_to(real)
    assert_activated("cwd", patched, tree)


def test_resolved_paths_go_on_sys_path_so_a_later_swap_changes_nothing(
    patched: Any, tree: Path
) -> None:
    real = tree.parent / "real"
    (tree / "__pypackages__").rename(real)
    (tree / "__pypackages__").symlink_to(real)
    evil = tree.parent / "evil"
    fill_tree(evil, patched, tree.parent / "evil-canary")
    code = (
        "import os, sys\n"
        "os.remove('__pypackages__')\n"
        f"os.symlink({str(evil / '__pypackages__')!r}, '__pypackages__')\n"
        "import localmod\n"
        "print(localmod.WHERE)\n"
    )
    proc = start(patched, "-c", code, cwd=tree)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(str(real))
    assert not (tree.parent / "evil-canary").exists()
