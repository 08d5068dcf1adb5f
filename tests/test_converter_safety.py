"""`pep582-migrate` under hostile and unlucky input: nothing written outside the target,
no tree lost, one line per failure. Every hostile source is built for real in the test;
the surroundings are snapshotted before and compared after."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pep582.plan.staging import OLD_PREFIX, recover
from pep582.step.startup import DIRNAME

from helpers import bare_venv, fake_dist, migrate_cli, pep582, record_row, tree_snapshot

HELLO = {"hello_mod.py": b"def main():\n    print('hi')\n"}


@pytest.fixture
def area(tmp_path: Path) -> Path:
    """tmp/ with src/ (the venv) and proj/ (the target), plus an outside/ to watch."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "outside").mkdir()
    return tmp_path


def venv_with(area: Path, **dists: dict[str, object]) -> Path:
    venv = area / "src"
    site = bare_venv(venv)
    for name, spec in dists.items():
        fake_dist(site, name, "1.0", dict(spec.get("files", HELLO)), spec.get("entry_points"))  # type: ignore[arg-type]
    return venv


# -- 1. names that become paths -----------------------------------------------------------


@pytest.mark.parametrize(
    "script", ["../../../../outside/some.conf", "/tmp/absolute-tool", "a/b", "..", "bad\\name"]
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_console_script_name_that_is_not_a_plain_file_name(
    area: Path, script: str, dry_run: bool
) -> None:
    venv = venv_with(
        area, evil={"entry_points": f"[console_scripts]\n{script} = hello_mod:main\n"}
    )
    before = tree_snapshot(area)
    proc = migrate_cli(venv, "--project", area / "proj", *(["--dry-run"] if dry_run else []))
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "console script of evil 1.0" in proc.stderr and repr(script) in proc.stderr
    assert tree_snapshot(area) == before
    assert not Path("/tmp/absolute-tool").exists()


# -- 2. writes never follow links ---------------------------------------------------------


def test_symlinked_dist_info_is_refused(area: Path) -> None:
    venv = venv_with(area, hello={})
    site = next(venv.glob("lib/python*/site-packages"))
    info = site / "hello-1.0.dist-info"
    info.rename(area / "outside" / "hello-1.0.dist-info")
    info.symlink_to(area / "outside" / "hello-1.0.dist-info")
    before = tree_snapshot(area)
    proc = migrate_cli(venv, "--project", area / "proj")
    assert proc.returncode == 5
    assert f"{info} is a symbolic link" in proc.stderr
    assert tree_snapshot(area) == before


def test_lock_file_that_is_a_link_is_not_followed(area: Path) -> None:
    venv = venv_with(area, hello={})
    planted = area / "outside" / "created-by-root"
    (area / "proj" / f".{DIRNAME}.lock").symlink_to(planted)
    proc = migrate_cli(venv, "--project", area / "proj")
    assert proc.returncode == 4
    assert "is a symlink; refusing to follow it" in proc.stderr
    assert not planted.exists()
    assert not (area / "proj" / DIRNAME).exists()


def test_lock_file_owned_by_another_user_is_refused(area: Path, root_only: None) -> None:
    venv = venv_with(area, hello={})
    lock = area / "proj" / f".{DIRNAME}.lock"
    lock.write_text("")
    os.chown(lock, pwd.getpwnam("nobody").pw_uid, -1)
    proc = migrate_cli(venv, "--project", area / "proj")
    assert proc.returncode == 4 and "not a regular file owned by you" in proc.stderr


def test_directory_link_in_source_cannot_carry_files_below_it(area: Path) -> None:
    """A RECORD row below a directory the source has as a link would be written through
    the link the plan recreates: refused."""
    elsewhere = area / "outside" / "pkgdir"
    elsewhere.mkdir()
    (elsewhere / "mod.py").write_text("X = 1\n")
    venv = venv_with(area, hello={})
    site = next(venv.glob("lib/python*/site-packages"))
    info = fake_dist(site, "linky", "1.0", {})
    (site / "linky").symlink_to(elsewhere)
    record = info / "RECORD"
    record.write_text(record_row("linky/mod.py", b"X = 1\n") + record.read_text())
    before = tree_snapshot(area / "outside")
    proc = migrate_cli(venv, "--project", area / "proj")
    assert proc.returncode in (0, 5), proc.stderr
    assert tree_snapshot(area / "outside") == before
    if proc.returncode == 0:  # the link is kept as a link: nothing was read through it
        target = next((area / "proj" / DIRNAME).rglob("linky"))
        assert target.is_symlink()


# -- 3. reads never follow links out of the source --------------------------------------


@pytest.mark.parametrize("mode", ["link", "copy"])
def test_a_link_out_of_the_distribution_is_never_published_as_a_link(
    area: Path, mode: str
) -> None:
    """A link listed in RECORD that leads out of what is carried: the file it leads to is
    copied (the way there and the file are all yours), never more readable than it is,
    and no link out of the tree is published."""
    secret = area / "outside" / "secret"
    secret.write_text("yours\n")
    secret.chmod(0o600)
    venv = venv_with(area, hello={})
    site = next(venv.glob("lib/python*/site-packages"))
    (venv / "bin" / "leak").symlink_to(secret)
    record = site / "hello-1.0.dist-info" / "RECORD"
    record.write_text("../../../bin/leak,,\n" + record.read_text())
    args = ["--copy"] if mode == "copy" else []
    proc = migrate_cli(venv, "--project", area / "proj", *args)
    assert proc.returncode == 0, proc.stderr
    published = area / "proj" / DIRNAME / "bin" / "leak"
    assert not published.is_symlink() and published.read_text() == "yours\n"
    assert published.stat().st_mode & 0o777 == 0o600
    assert not [p for p in (area / "proj" / DIRNAME).rglob("*") if p.is_symlink()]


@pytest.mark.parametrize("where", ["record-row", "unowned", "deep-in-a-package"])
def test_a_link_another_user_controls_is_refused_and_nothing_read(
    area: Path, root_only: None, where: str
) -> None:
    """Issue 21 class 4: in a venv another user owns, a link leading out of what is
    carried (to root's own file) is refused in one line: reading through it as root
    would publish what its owner chose, and they could re-point it."""
    secret = area / "outside" / "secret"
    secret.write_text("TOP SECRET\n")
    venv = venv_with(area, hello={})
    site = next(venv.glob("lib/python*/site-packages"))
    if where == "record-row":
        (venv / "bin" / "leak").symlink_to(secret)
        record = site / "hello-1.0.dist-info" / "RECORD"
        record.write_text("../../../bin/leak,,\n" + record.read_text())
    elif where == "unowned":
        (site / "leak.py").symlink_to(secret)
    else:
        (site / "hello_pkg").mkdir()
        (site / "hello_pkg" / "extra.py").symlink_to(secret)
    nobody = pwd.getpwnam("nobody").pw_uid
    for path in [venv, *venv.rglob("*")]:
        os.lchown(path, nobody, -1)
    before = sorted(p.name for p in (area / "proj").iterdir())
    proc = migrate_cli(venv, "--project", area / "proj")
    assert proc.returncode == 5, proc.stderr
    assert "outside what is carried" in proc.stderr
    assert "another user could change where it leads" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in (area / "proj").iterdir()) == before


# -- 4. another user's files are copied, never hard-linked -------------------------------


def test_foreign_owned_source_files_are_copied(area: Path, root_only: None) -> None:
    venv = venv_with(area, hello={})
    nobody = pwd.getpwnam("nobody").pw_uid
    for path in venv.rglob("*"):
        os.lchown(path, nobody, -1)
    source = next(venv.glob("lib/python*/site-packages")) / "hello_mod.py"
    proc = migrate_cli(venv, "--project", area / "proj")
    assert proc.returncode == 0, proc.stderr
    assert "because another user owns the source file" in proc.stdout
    published = next((area / "proj" / DIRNAME).rglob("hello_mod.py"))
    assert not os.path.samefile(source, published)
    assert published.stat().st_uid == 0
    source.write_text("print('edited by nobody')\n")  # their later edit ...
    assert b"edited" not in published.read_bytes()  # ... is not ours


def test_group_writable_source_files_are_copied(area: Path) -> None:
    venv = venv_with(area, hello={})
    source = next(venv.glob("lib/python*/site-packages")) / "hello_mod.py"
    os.chmod(source, 0o666)
    proc = migrate_cli(venv, "--project", area / "proj")
    assert proc.returncode == 0, proc.stderr
    published = next((area / "proj" / DIRNAME).rglob("hello_mod.py"))
    assert not os.path.samefile(source, published)
    assert not published.stat().st_mode & 0o022


# -- 5. --replace never empties a tree it cannot rebuild ---------------------------------


def test_replace_of_a_tree_already_in_the_layout_is_a_noop(area: Path) -> None:
    venv = venv_with(area, hello={"entry_points": "[console_scripts]\nhi = hello_mod:main\n"})
    assert migrate_cli(venv, "--project", area / "proj").returncode == 0
    before = tree_snapshot(area / "proj")
    proc = migrate_cli(area / "proj" / DIRNAME, "--replace")
    assert proc.returncode == 0, proc.stderr
    assert "nothing to do" in proc.stdout and "already in the pep582 layout" in proc.stdout
    assert tree_snapshot(area / "proj") == before


def test_replace_lists_what_it_removes(area: Path) -> None:
    venv = venv_with(area, hello={}, gone={"files": {"gone_mod.py": b"X = 1\n"}})
    assert migrate_cli(venv, "--project", area / "proj").returncode == 0
    site = next(venv.glob("lib/python*/site-packages"))
    shutil.rmtree(site / "gone-1.0.dist-info")
    (site / "gone_mod.py").unlink()
    proc = migrate_cli(venv, "--project", area / "proj", "--replace", "--dry-run")
    assert proc.returncode == 0
    assert "remove  gone 1.0" in proc.stdout
    proc = migrate_cli(venv, "--project", area / "proj", "--replace")
    assert proc.returncode == 0
    assert "removed: gone 1.0" in proc.stdout
    assert not list((area / "proj" / DIRNAME).rglob("gone_mod.py"))


# -- 6. modes follow the umask, and nothing published is writable by others ---------------


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o000, 0o077])
def test_published_tree_modes_follow_the_umask(area: Path, mask: int) -> None:
    """As strict as the umask asks, and never writable by group or others (issue 21
    class 4: a group-writable tree would be refused at startup unless the group is
    private; no published directory or file needs it)."""
    venv = venv_with(area, hello={"entry_points": "[console_scripts]\nhi = hello_mod:main\n"})
    command = [
        sys.executable,
        "-m",
        "pep582.commands.migrate",
        str(venv),
        "--project",
        str(area / "proj"),
        "--copy",
    ]
    proc = subprocess.run(
        command, capture_output=True, text=True, preexec_fn=lambda: os.umask(mask)
    )
    assert proc.returncode == 0, proc.stderr
    root = area / "proj" / DIRNAME
    strict = ~mask & ~0o022
    assert stat.S_IMODE(root.stat().st_mode) == 0o777 & strict
    assert stat.S_IMODE((root / "bin" / "hi").stat().st_mode) == 0o755 & strict
    record = next(root.rglob("RECORD"))
    assert stat.S_IMODE(record.stat().st_mode) == 0o644 & strict
    for path in root.rglob("*"):
        assert not stat.S_IMODE(path.lstat().st_mode) & 0o022 or path.is_symlink(), path


# -- 8. byte code is never carried ---------------------------------------------------------


def test_forged_bytecode_is_left_behind_and_compile_makes_new(area: Path) -> None:
    venv = venv_with(area, hello={})
    site = next(venv.glob("lib/python*/site-packages"))
    cache = site / "__pycache__"
    cache.mkdir()
    forged = cache / f"hello_mod.{sys.implementation.cache_tag}.pyc"
    forged.write_bytes(b"forged bytecode")
    record = site / "hello-1.0.dist-info" / "RECORD"
    record.write_text(f"__pycache__/{forged.name},,\n" + record.read_text())
    proc = migrate_cli(venv, "--project", area / "proj", "--python", sys.executable)
    assert proc.returncode == 0, proc.stderr
    target = area / "proj" / DIRNAME
    assert not list(target.rglob("*.pyc"))
    assert "__pycache__" not in next(target.rglob("RECORD")).read_text()
    proc = migrate_cli(
        venv, "--project", area / "proj", "--replace", "--compile", "--python", sys.executable
    )
    assert proc.returncode == 0, proc.stderr
    compiled = next(target.rglob("*.pyc"))
    assert compiled.read_bytes() != b"forged bytecode"
    assert f"__pycache__/{compiled.name},sha256=" in next(target.rglob("RECORD")).read_text()


# -- 9. one line per failure -----------------------------------------------------------------


def test_record_that_is_not_utf8_names_file_and_line(area: Path) -> None:
    venv = venv_with(area, hello={})
    record = next(venv.glob("lib/python*/site-packages/hello-1.0.dist-info/RECORD"))
    record.write_bytes(record.read_bytes() + b"caf\xe9.py,,\n")
    proc = migrate_cli(venv, "--project", area / "proj")
    assert proc.returncode == 5
    assert proc.stderr.count("\n") == 1
    assert f"{record}:" in proc.stderr and "not UTF-8" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_huge_record_line_is_one_line(area: Path) -> None:
    venv = venv_with(area, hello={})
    record = next(venv.glob("lib/python*/site-packages/hello-1.0.dist-info/RECORD"))
    record.write_bytes(b"a" * (20 << 20) + b",,\n" + record.read_bytes())
    proc = migrate_cli(venv, "--project", area / "proj")
    assert proc.returncode == 5
    assert proc.stderr.count("\n") == 1 and f"{record}:1:" in proc.stderr


def test_metadata_that_is_not_utf8(area: Path) -> None:
    venv = venv_with(area, hello={})
    metadata = next(venv.glob("lib/python*/site-packages/hello-1.0.dist-info/METADATA"))
    metadata.write_bytes(b"Metadata-Version: 2.1\nName: h\xffllo\nVersion: 1.0\n")
    proc = migrate_cli(venv, "--project", area / "proj")
    assert proc.returncode == 5 and f"{metadata}:2: not UTF-8" in proc.stderr


def test_unexpected_errors_are_one_line_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    """A bug (any exception that is not one of ours) is one line and says how to see the
    traceback; with -v the traceback comes too."""
    from pep582.commands.output import errors_reported

    with pytest.raises(SystemExit) as exit_info, errors_reported("pep582-migrate"):
        raise RuntimeError("boom")
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rerun with -v for the traceback" in err
    with pytest.raises(SystemExit), errors_reported("pep582-migrate", verbose=True):
        raise RuntimeError("boom")
    assert "Traceback" in capsys.readouterr().err


# -- 10. the old tree is recovered, never deleted ----------------------------------------


def test_a_tree_moved_aside_by_a_killed_publish_is_put_back(area: Path) -> None:
    venv = venv_with(area, hello={})
    assert migrate_cli(venv, "--project", area / "proj").returncode == 0
    project = area / "proj"
    aside = project / f"{OLD_PREFIX}kill"
    aside.mkdir()
    os.rename(project / DIRNAME, aside / DIRNAME)  # the kill came between the two renames
    before = tree_snapshot(aside / DIRNAME)
    proc = migrate_cli(venv, "--project", project, "--merge")
    assert proc.returncode == 0, proc.stderr
    assert "recovered" in proc.stderr
    assert {k.replace(str(aside / DIRNAME), "X") for k in before} <= {
        k.replace(str(project / DIRNAME), "X") for k in tree_snapshot(project / DIRNAME)
    }
    assert not aside.exists()
    assert recover(project) == []


def test_merge_never_writes_into_the_live_tree_through_a_hard_link(area: Path) -> None:
    """The stage of a merge is a hard-linked copy of the live tree; what changes is created
    anew, so a reference to an old file keeps its old bytes."""
    venv = venv_with(area, hello={"files": {"hello_mod.py": b"VERSION = 1\n"}})
    project = area / "proj"
    assert migrate_cli(venv, "--project", project).returncode == 0
    live = next((project / DIRNAME).rglob("hello-1.0.dist-info")) / "RECORD"
    kept = area / "outside" / "old-record"
    os.link(live, kept)
    old = kept.read_bytes()
    site = next(venv.glob("lib/python*/site-packages"))
    shutil.rmtree(site / "hello-1.0.dist-info")
    fake_dist(site, "hello", "2.0", {"hello_mod.py": b"VERSION = 2\n"})
    proc = migrate_cli(venv, "--project", project, "--merge")
    assert proc.returncode == 0, proc.stderr
    assert "upgraded: hello 1.0 → 2.0" in proc.stdout
    assert kept.read_bytes() == old


def test_summaries_say_downgraded_and_reinstalled(area: Path) -> None:
    """A lower version replacing a higher one is a downgrade; ``--replace`` of the same
    versions reinstalls them (neither added nor removed); the headline counts what moved."""
    venv = venv_with(area, hello={"files": {"hello_mod.py": b"VERSION = 1\n"}})
    project = area / "proj"
    site = next(venv.glob("lib/python*/site-packages"))
    shutil.rmtree(site / "hello-1.0.dist-info")
    fake_dist(site, "hello", "2.0", {"hello_mod.py": b"VERSION = 2\n"})
    assert migrate_cli(venv, "--project", project).returncode == 0
    shutil.rmtree(site / "hello-2.0.dist-info")
    fake_dist(site, "hello", "1.0", {"hello_mod.py": b"VERSION = 1\n"})
    proc = migrate_cli(venv, "--project", project, "--merge")
    assert proc.returncode == 0, proc.stderr
    assert "downgraded: hello 2.0 → 1.0" in proc.stdout and "upgraded" not in proc.stdout
    proc = migrate_cli(venv, "--project", project, "--replace", "--json")
    assert proc.returncode == 0, proc.stderr
    (change,) = [c for c in json.loads(proc.stdout)["distributions"] if c["name"] == "hello"]
    assert (change["action"], change["previous"]) == ("add", "1.0")
    proc = migrate_cli(venv, "--project", project, "--replace")
    assert proc.stdout.startswith("migrated 1 distribution in"), proc.stdout
    assert "reinstalled: hello 1.0\n" in proc.stdout
    assert "added:" not in proc.stdout and "removed:" not in proc.stdout


# -- disk full ---------------------------------------------------------------------------------


def test_disk_full_is_one_line_and_leaves_nothing(area: Path, root_only: None) -> None:
    small = area / "small"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(small)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        big = {f"pkg/m{i}.py": os.urandom(40_000) for i in range(12)}
        venv = venv_with(area, big={"files": big})
        proc = migrate_cli(venv, "--project", small)
        assert proc.returncode == 4, proc.stderr
        assert proc.stderr.count("\n") == 1 and "no space left on the device" in proc.stderr
        assert sorted(os.listdir(small)) == []
    finally:
        subprocess.run(["umount", str(small)], check=False)


@pytest.mark.parametrize("how", ["refuse", "--merge", "--replace", "install"])
def test_a_file_named_pypackages_is_refused_and_left_alone(area: Path, how: str) -> None:
    """Never moved aside, hidden or replaced: one line, exit 4, the file as it was."""
    site = bare_venv(area / "venv")
    fake_dist(site, "alpha", "1.0", {"alpha.py": b"A = 1\n"})
    project = area / "proj"
    (project / DIRNAME).write_text("my notes\n")
    if how == "install":
        proc = pep582("install", "--python", sys.executable, "--no-index", "alpha", cwd=project)
    else:
        flags = [] if how == "refuse" else [how]
        proc = migrate_cli(area / "venv", "--project", project, *flags)
    assert proc.returncode == 4, proc.stderr
    assert "is a file, not a directory" in proc.stderr or "already exists" in proc.stderr
    assert (project / DIRNAME).read_text() == "my notes\n"
    assert sorted(p.name for p in project.iterdir()) == [DIRNAME]
