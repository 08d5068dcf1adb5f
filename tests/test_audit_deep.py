"""`pep582 audit` judges every entry of a tree, however deep (issue 21, class 4).

Built for real, as root, deep inside a distribution where the startup step (which judges
one level) does not look: a file chowned to ``nobody``, a data file ``chmod o+w``, a
package directory group-writable by ``nogroup`` (whose member is ``nobody``), an ACL
grant to ``nobody``, a world-writable ``__pycache__``, a link to a file outside the tree,
a link to another distribution's file. Each finding names owner, mode and who may write,
and its fix is a command that, run as printed, makes the finding go away.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import pytest
from test_audit import EXIT_FINDINGS, audit, found, install, one, site_of

import pep582
from pep582 import fs
from pep582.audit.walk import walk_tree
from pep582.scheme import InterpreterFacts, scheme_for
from pep582.step.startup import foreign_writers

pytestmark = pytest.mark.usefixtures("root_only")
PYC = f"mod.cpython-{sys.version_info[0]}{sys.version_info[1]}.pyc"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    site_of(proj).mkdir(parents=True)
    (proj / "__pypackages__" / ".gitignore").write_text("*\n")
    return proj


def test_every_entry_is_judged_however_deep(project: Path, tmp_path: Path) -> None:
    if shutil.which("setfacl") is None:
        pytest.skip("setfacl is not installed (Debian package acl)")
    site = site_of(project)
    install(project, "other", {"other/__init__.py": b"", "other/x.py": b"Y = 2\n"})
    files = {
        "deep/__init__.py": b"",
        "deep/sub/__init__.py": b"",
        "deep/sub/data.txt": b"data\n",
        "deep/sub/inner/__init__.py": b"",
        "deep/sub/inner/mod.py": b"X = 1\n",
        "deep/sub/acl/__init__.py": b"",
    }
    install(project, "deep", files, rows=("deep/alias.py,,", "deep/same.py,,"))
    deep = site / "deep"
    nobody = pwd.getpwnam("nobody").pw_uid
    nogroup = grp.getgrnam("nogroup").gr_gid
    os.chown(deep / "sub" / "inner" / "mod.py", nobody, -1)
    (deep / "sub" / "data.txt").chmod(0o646)
    inner = deep / "sub" / "inner"
    os.chown(inner, 0, nogroup)
    inner.chmod(0o775)
    subprocess.run(["setfacl", "-m", "u:nobody:rwx", deep / "sub" / "acl"], check=True)
    pycache = inner / "__pycache__"
    pycache.mkdir()
    (pycache / PYC).write_bytes(b"not really byte code")
    pycache.chmod(0o777)
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text("print('from elsewhere')\n")
    (deep / "extra.py").symlink_to(elsewhere)  # planted: no RECORD lists it
    (deep / "alias.py").symlink_to("../other/x.py")  # listed by deep: another's file
    (deep / "same.py").symlink_to("sub/inner/mod.py")  # listed by deep: its own file

    code, data = audit(project)
    assert code == EXIT_FINDINGS
    # the step judges one level inside the site directory: none of this is its business
    assert not found(data, "trust-refused")

    owned = one(data, "foreign-owner", inner / "mod.py")
    assert owned["severity"] == "high"
    assert owned["details"] == {
        "kind": "file", "owner": f"nobody (uid {nobody})", "mode": "0o644",
        "distribution": "deep 1.0", "tree_owner": "root (uid 0)",
    }  # fmt: skip
    assert owned["fix"].startswith(f"chown -h root {inner / 'mod.py'}")

    data_file = one(data, "writable-by-others", deep / "sub" / "data.txt")
    assert data_file["severity"] == "medium"  # data, not code
    assert data_file["details"]["writers"] == "others (mode 0o646)"
    assert (data_file["details"]["owner"], data_file["details"]["mode"]) == (
        "root (uid 0)",
        "0o646",
    )

    group = one(data, "writable-by-others", inner)
    assert group["severity"] == "high"
    assert group["details"]["writers"] == "group nogroup (mode 0o775)"
    assert group["details"]["bytecode"] is True  # it holds __pycache__

    acl = one(data, "writable-by-others", deep / "sub" / "acl")
    assert acl["severity"] == "high"
    assert acl["details"]["writers"] == f"nobody (uid {nobody}) (ACL)"
    assert acl["details"]["acl"] is True
    assert "setfacl -b" in acl["fix"]

    cache = one(data, "writable-by-others", pycache)
    assert cache["severity"] == "high"
    assert cache["details"]["bytecode"] is True
    assert "a replaced .pyc" in cache["message"]

    out = one(data, "link-leaves", deep / "extra.py")
    assert out["severity"] == "high"
    assert out["details"]["leaves"] == "tree"
    assert out["details"]["resolved"] == str(elsewhere)
    assert out["details"]["target"] == str(elsewhere)
    assert out["details"]["distribution"] is None

    alias = one(data, "link-leaves", deep / "alias.py")
    assert alias["severity"] == "medium"
    assert alias["details"]["leaves"] == "distribution"
    assert alias["details"]["distribution"] == "deep 1.0"
    assert not [f for f in found(data, "link-leaves") if f["path"].endswith("same.py")]

    # each fix, run as printed, removes its finding
    deep_checks = ("foreign-owner", "writable-by-others", "link-leaves")
    for finding in data["findings"]:
        if finding["check"] in deep_checks:
            subprocess.run(["sh", "-c", finding["fix"]], check=True)
    code, data = audit(project)
    assert not [f for f in data["findings"] if f["check"] in deep_checks], data["findings"]
    assert (deep / "extra.py").read_text() == "print('from elsewhere')\n"  # a copy now
    assert not (deep / "extra.py").is_symlink()


def test_a_tree_others_may_write_is_reported_entry_by_entry(project: Path) -> None:
    """A umask-000 install: every directory and file is world-writable. Each is reported,
    directories and code high; a private-group umask-002 tree is not (the owner's group)."""
    install(project, "loose", {"loose/__init__.py": b"", "loose/README.txt": b"hi\n"})
    site = site_of(project)
    for item in [site / "loose", *(site / "loose").rglob("*")]:
        item.chmod(0o777 if item.is_dir() else 0o666)
    code, data = audit(project)
    assert code == EXIT_FINDINGS
    severities = {f["path"]: f["severity"] for f in found(data, "writable-by-others")}
    assert severities == {
        str(site / "loose"): "high",
        str(site / "loose" / "__init__.py"): "high",
        str(site / "loose" / "README.txt"): "medium",
    }


def test_the_walk_resolves_links_as_the_kernel_does(tmp_path: Path) -> None:
    """Links are never followed by the walk; where each leads is worked out from what the
    walk saw, and agrees with realpath for chains, '..' after a link, absolute targets,
    a way out and back in, and a tree reached through a link."""
    real = tmp_path / "real-tree"
    (real / "lib" / "sub").mkdir(parents=True)
    (real / "lib" / "sub" / "f.py").write_text("")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "__pypackages__").symlink_to(real)  # the one resolution the walk makes
    lib = project / "__pypackages__" / "lib"
    links = {
        "a.py": "sub/f.py",
        "dirlink": "sub",
        "chain.py": "dirlink/../sub/f.py",  # '..' after a link: the parent of its target
        "hop": "dirlink",
        "twice.py": "hop/f.py",
        "abs.py": "/etc/hostname",
        "out": "../../..",
        "back.py": f"../../{real.name}/lib/sub/f.py",
        "via-abs.py": f"{lib}/sub/f.py",
        "dangling.py": "nowhere/x.py",
    }
    for name, target in links.items():
        (real / "lib" / name).symlink_to(target)
    (real / "lib" / "loop1").symlink_to("loop2")
    (real / "lib" / "loop2").symlink_to("loop1")
    with fs.Dir.open(project / "__pypackages__", follow=True) as top:
        index = walk_tree(top, set())
    assert index.real_root == str(real)
    for name in links:
        path = str(lib / name)
        assert index.resolve(path) == os.path.realpath(path), name
    index.resolve(str(lib / "loop1"))  # ends


def test_foreign_writers_is_the_rule_used(project: Path) -> None:
    """The audit's verdict on each entry is the trust rule's own (no second rule)."""
    install(project, "g", {"g/__init__.py": b""})
    package = site_of(project) / "g"
    os.chown(package, 0, grp.getgrnam("nogroup").gr_gid)
    package.chmod(0o775)
    _, data = audit(project)
    writers = one(data, "writable-by-others", package)["details"]["writers"]
    assert writers == foreign_writers(str(package), os.lstat(package), {0})


def test_a_directory_the_auditor_cannot_enter_is_reported_and_the_walk_goes_on() -> None:
    """Audited as an ordinary user (``daemon``, with Debian's python3): a directory
    another user locked deep in the tree is reported, and everything after it in the walk
    is still judged."""
    if shutil.which("setpriv") is None or not Path("/usr/bin/python3").exists():
        pytest.skip("needs setpriv and Debian's python3")
    daemon = pwd.getpwnam("daemon")
    top = Path(tempfile.mkdtemp(prefix="pep582-audit-", dir="/tmp"))
    try:
        top.chmod(0o755)
        proj = top / "proj"
        site = Path(scheme_for(proj, InterpreterFacts(version=(3, 11)), "pep582").purelib)
        (site / "aaa" / "locked").mkdir(parents=True)
        (site / "zzz").mkdir()
        (site / "zzz" / "late.py").write_text("")
        (proj / "__pypackages__" / ".gitignore").write_text("*\n")
        for item in [proj, *proj.rglob("*")]:
            os.lchown(item, daemon.pw_uid, daemon.pw_gid)
        locked = site / "aaa" / "locked"
        os.chown(locked, pwd.getpwnam("nobody").pw_uid, -1)
        locked.chmod(0o700)
        (site / "zzz" / "late.py").chmod(0o666)  # after the locked one, by name
        converter = Path(pep582.__file__).parent.parent
        packages = Path(click.__file__).parent.parent  # click and packaging, pure Python
        home = proj.parent / "daemon-home"  # its user cache: nothing left in /tmp
        home.mkdir()
        os.chown(home, daemon.pw_uid, daemon.pw_gid)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
               "PYTHONPATH": f"{converter}{os.pathsep}{packages}"}  # fmt: skip
        command = ["setpriv", f"--reuid={daemon.pw_uid}", f"--regid={daemon.pw_gid}",
                   "--clear-groups", "--", "/usr/bin/python3", "-m", "pep582.commands.main",
                   "audit", str(proj), "--python", "/usr/bin/python3", "--json"]  # fmt: skip
        proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd="/")
        assert proc.returncode == EXIT_FINDINGS, proc.stderr
        data = json.loads(proc.stdout)
        [unreadable] = found(data, "unreadable-directory")
        assert unreadable["path"] == str(locked)
        assert unreadable["details"] == {"error": "Permission denied"}
        assert one(data, "foreign-owner", locked)["details"]["owner"].startswith("nobody")
        assert one(data, "writable-by-others", site / "zzz" / "late.py")  # the walk went on
    finally:
        shutil.rmtree(top)
