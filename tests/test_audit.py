"""`pep582 audit`: every finding built for real, its severity, the JSON shape, the exit code.

Trees are made the way people get them: wheels installed by pip (``--prefix``, and into a
venv that ``pep582-migrate`` then carries), or distributions written file by file with a
true RECORD, then damaged on purpose. Where a finding claims something happens (a module
shadows the stdlib, a ``.pth`` line runs, a script imports itself), the test makes it
happen with a real interpreter. The audit runs as ``pep582 audit`` in a subprocess.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pep582.audit import CHECKS, EXIT_FINDINGS, checks_help, details_help
from pep582.audit.stdlib import REMOVED_IN_310, STDLIB_39, stdlib_of
from pep582.errors import EXIT_CODES
from pep582.scheme import InterpreterFacts, scheme_for

from helpers import interpreter, make_venv, pep582, run

# The target: the tree below is laid out for this interpreter (the one behind this venv:
# a virtual environment that does not opt in would use no __pypackages__).
PY = os.path.join(sys.base_prefix, "bin", f"python{sys.version_info[0]}.{sys.version_info[1]}")
FACTS = InterpreterFacts.running()
TOP_KEYS = {
    "schema", "project", "pypackages", "exists", "interpreter", "trees", "findings",
    "counts", "fail_on", "failed", "skipped", "stats",
}  # fmt: skip
FINDING_KEYS = {"check", "severity", "path", "message", "fix", "details"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def site_of(project: Path, layout: str = "pep582") -> Path:
    return Path(scheme_for(project, FACTS, layout).purelib)  # type: ignore[arg-type]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project with a __pypackages__ (site directory and .gitignore) for PY."""
    proj = tmp_path / "proj"
    site_of(proj).mkdir(parents=True)
    (proj / "__pypackages__" / "bin").mkdir()
    (proj / "__pypackages__" / ".gitignore").write_text("*\n")
    return proj


def install(
    project: Path,
    name: str,
    files: dict[str, bytes],
    scripts: dict[str, bytes] | None = None,
    rows: tuple[str, ...] = (),
    layout: str = "pep582",
) -> Path:
    """Write distribution ``name`` 1.0 into the project's site directory, as an installer
    would: its files, its scripts, a dist-info and a true RECORD (plus ``rows``)."""
    site = site_of(project, layout)
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    written = {site / rel: data for rel, data in files.items()}
    scheme = scheme_for(project, FACTS, layout)  # type: ignore[arg-type]
    for script, data in (scripts or {}).items():
        written[Path(scheme.scripts) / script] = data
    points = "".join(f"{s} = {name}:main\n" for s in scripts or {})
    written[info / "METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode()
    written[info / "INSTALLER"] = b"test\n"
    if points:
        written[info / "entry_points.txt"] = f"[console_scripts]\n{points}".encode()
    lines = []
    for path, data in written.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        lines.append(f"{os.path.relpath(path, site)},sha256={b64(data)},{len(data)}")
    lines += [*rows, f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    return info


def audit(project: Path, *args: str) -> tuple[int, dict[str, Any]]:
    proc = pep582("audit", project, "--python", PY, "--json", *args)
    assert proc.returncode in (0, EXIT_FINDINGS), proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    assert set(data) == TOP_KEYS
    for finding in data["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["message"] and finding["fix"]
        # every finding is what the registry (and so --help) declares for its check
        declared = CHECKS[finding["check"]]
        assert finding["severity"] in declared.severities, finding
        assert set(finding["details"]) <= declared.keys, finding
    return proc.returncode, data


def found(data: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [f for f in data["findings"] if f["check"] == check]


def one(data: dict[str, Any], check: str, path: Path | str) -> dict[str, Any]:
    matches = [f for f in found(data, check) if f["path"] == str(path)]
    assert len(matches) == 1, (check, path, data["findings"])
    return matches[0]


# -- a clean project ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_migrated_project_audits_clean(tmp_path: Path, wheelhouse: Path) -> None:
    base = interpreter(f"{sys.version_info[0]}.{sys.version_info[1]}")
    assert base is not None
    venv_python = make_venv(base, tmp_path / "venv")
    # nsa and nsb share the namespace package nsdemo; cext is compiled; withdata has data
    # files and a plain script; hello declares the console script "hello.py"
    wheels = ["hello", "withdata", "cext", "nsa", "nsb"]
    run([sys.executable, "-m", "pip", "--python", venv_python, "install", "-q", "--no-index",
         "--find-links", wheelhouse, *wheels], check=True)  # fmt: skip
    assert (venv_python.parent / "hello.py").exists()  # pip wrote it; the migration will not
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "app.py").write_text("import hello\n")
    migrated = run([sys.executable, "-m", "pep582.commands.migrate", tmp_path / "venv",
                    "--project", proj])  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    code, data = audit(proj)
    assert code == 0
    assert data["findings"] == [], data["findings"]
    assert data["counts"] == {"high": 0, "medium": 0, "low": 0}
    assert data["failed"] is False and data["fail_on"] == "high"
    assert data["schema"] == 1 and data["exists"] is True
    assert data["project"] == str(proj)
    assert data["interpreter"]["command"] == FACTS.command
    assert "sys.stdlib_module_names" in data["interpreter"]["stdlib"]
    [tree] = data["trees"]
    assert tree["layout"] == "pep582" and tree["command"] == FACTS.command
    assert tree["distributions"] == len(wheels) and tree["interpreter"]
    assert data["stats"]["files_hashed"] > 10
    # human output: no findings, one summary line at the end; --fail-on low passes too
    proc = pep582("audit", proj, "--python", PY, "--fail-on", "low")
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("no findings: 5 distributions") and "passes --fail-on low" in last


# -- shadowing ------------------------------------------------------------------------------


def test_stdlib_shadowing_beside_scripts_and_in_the_tree(project: Path) -> None:
    (project / "json.py").write_text("SHADOW = True\n")
    (project / "email").mkdir()
    (project / "email" / "__init__.py").write_text("")
    (project / "msvcrt.py").write_text("")  # a stdlib name this (POSIX) build lacks
    (project / "html").mkdir()  # a plain directory: a namespace portion shadows nothing
    install(project, "backport", {"typing.py": b"# old backport\n"})
    code, data = audit(project)
    assert code == EXIT_FINDINGS and data["failed"] is True
    shadow = one(data, "stdlib-shadow", project / "json.py")
    assert shadow["severity"] == "high"
    assert shadow["details"] == {"module": "json", "where": "project", "stdlib_kind": "path"}
    assert one(data, "stdlib-shadow", project / "email")["severity"] == "high"
    assert one(data, "stdlib-shadow", project / "msvcrt.py")["severity"] == "medium"
    assert not [f for f in found(data, "stdlib-shadow") if f["path"].endswith("html")]
    in_tree = one(data, "stdlib-shadow", site_of(project) / "typing.py")
    assert in_tree["severity"] == "low"  # the stdlib's typing comes first on sys.path
    assert in_tree["details"]["distribution"] == "backport 1.0"
    # what the finding says happens, happens: a script here imports the project's json
    (project / "app.py").write_text("import json; print(json.__file__)\n")
    proc = run([PY, "app.py"], cwd=project, check=True)
    assert proc.stdout.strip() == str(project / "json.py")


def test_two_distributions_providing_one_module(project: Path) -> None:
    install(project, "first", {"same.py": b"A = 1\n"})
    install(project, "second", {"same/__init__.py": b"B = 2\n"})
    install(project, "nsone", {"nsdemo/one/__init__.py": b""})  # namespace portions
    install(project, "nstwo", {"nsdemo/two/__init__.py": b""})
    code, data = audit(project)
    assert code == 0  # medium does not reach the default --fail-on high
    duplicate = one(data, "duplicate-module", site_of(project) / "same")
    assert duplicate["severity"] == "medium"
    assert duplicate["details"]["distributions"] == ["first 1.0", "second 1.0"]
    assert not found(data, "duplicate-module")[1:]  # nsdemo is shared by design
    assert pep582("audit", project, "--python", PY, "--fail-on", "medium").returncode == 11


# -- scripts ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_py_console_script_installed_by_pip(tmp_path: Path, wheelhouse: Path) -> None:
    """``pip install --prefix __pypackages__`` fills the tree, including bin/hello.py."""
    proj = tmp_path / "proj"
    run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-compile",
         "--find-links", wheelhouse, "--prefix", proj / "__pypackages__", "hello"],
        check=True)  # fmt: skip
    script = proj / "__pypackages__" / "bin" / "hello.py"
    assert script.is_file()
    code, data = audit(proj)
    assert code == EXIT_FINDINGS
    finding = one(data, "script-py", script)
    assert finding["severity"] == "high"
    assert finding["details"] == {"module": "hello", "shadows": True, "distribution": "hello 1.0"}
    assert one(data, "gitignore-missing", proj / "__pypackages__" / ".gitignore")["severity"] == (
        "low"
    )
    # for real: pip's own hello-cli wrapper now imports bin/hello.py instead of the package
    proc = run([script.parent / "hello-cli"], cwd=tmp_path)
    assert proc.returncode != 0
    assert "partially initialized module 'hello'" in proc.stderr
    assert str(script) in proc.stderr


def test_scripts_directory_holding_a_pypackages(project: Path) -> None:
    nested = project / "__pypackages__" / "bin" / "__pypackages__"
    nested.mkdir()
    code, data = audit(project)
    assert code == EXIT_FINDINGS
    finding = one(data, "scripts-dir-pypackages", nested)
    assert finding["severity"] == "high"
    assert finding["details"] == {"scripts_dir": str(nested.parent)}


# -- code run at startup ----------------------------------------------------------------------


def test_pth_import_lines_and_sitecustomize(project: Path, tmp_path: Path) -> None:
    site = site_of(project)
    canary = tmp_path / "canary"
    line = f"import pathlib; pathlib.Path({str(canary)!r}).write_text('ran')"
    (site / "evil.pth").write_text(f"# comment\n{line}\n")
    install(project, "paths", {"paths.pth": b"extra\n", "extra/mod.py": b""})  # owned, no code
    install(project, "hooks", {"hooks.pth": b"import hooks_impl\n", "hooks_impl.py": b""})
    (site / "sitecustomize.py").write_text("print('customized')\n")
    code, data = audit(project)
    assert code == EXIT_FINDINGS
    evil = one(data, "pth", site / "evil.pth")
    assert evil["severity"] == "high"  # runs code, and no RECORD owns it
    assert evil["details"]["import_lines"] == [line]
    assert evil["details"]["distribution"] is None
    assert one(data, "pth", site / "hooks.pth")["severity"] == "medium"  # owned, runs code
    assert not [f for f in found(data, "pth") if f["path"].endswith("paths.pth")]
    customize = one(data, "customize", site / "sitecustomize.py")
    assert customize["severity"] == "high"
    assert not found(data, "unowned-files")  # each startup file is reported once, above
    # for real: the line runs, and sitecustomize is imported, whenever the tree is active
    proc = pep582("run", "--python", PY, "-c", "pass", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert canary.read_text() == "ran"
    assert "customized" in proc.stdout


# -- RECORD -----------------------------------------------------------------------------------


def test_tampered_and_missing_files(project: Path) -> None:
    install(project, "victim", {"victim/__init__.py": b"SAFE = True\n", "victim/gone.py": b""})
    site = site_of(project)
    (site / "victim" / "__init__.py").write_text("import os; SAFE = False\n")
    (site / "victim" / "gone.py").unlink()
    code, data = audit(project)
    assert code == EXIT_FINDINGS
    tampered = one(data, "hash-mismatch", site / "victim" / "__init__.py")
    assert tampered["severity"] == "high"
    details = tampered["details"]
    assert details["distribution"] == "victim 1.0"
    assert details["record_hash"] == f"sha256={b64(b'SAFE = True' + bytes([10]))}"
    assert details["actual_hash"] == f"sha256={b64(b'import os; SAFE = False' + bytes([10]))}"
    assert (details["record_size"], details["size"]) == (12, 24)
    assert one(data, "missing-file", site / "victim" / "gone.py")["severity"] == "low"
    human = pep582("audit", project, "--python", PY)
    assert human.returncode == EXIT_FINDINGS
    lines = human.stdout.strip().splitlines()
    assert lines.index("HIGH (1)") < lines.index("LOW (1)")
    assert lines[-1].startswith("1 high, 0 medium, 1 low") and "fails --fail-on high" in lines[-1]


def test_a_planted_record_vouching_for_a_tampered_file_does_not_hide_it(project: Path) -> None:
    """Only a shared script another Python's install replaced is excused; a RECORD planted
    in the same tree that lists a tampered file with its new hash excuses nothing."""
    install(project, "victim", {"victim/__init__.py": b"SAFE = True\n"})
    evil = b"import os; SAFE = False\n"
    (site_of(project) / "victim" / "__init__.py").write_bytes(evil)
    install(project, "voucher", {}, rows=(f"victim/__init__.py,sha256={b64(evil)},{len(evil)}",))
    code, data = audit(project)
    assert code == EXIT_FINDINGS
    assert one(data, "hash-mismatch", site_of(project) / "victim" / "__init__.py")


def test_unowned_files_and_record_rows_outside_the_tree(project: Path) -> None:
    site = site_of(project)
    info = install(
        project,
        "greedy",
        {"greedy.py": b""},
        rows=(
            # from lib/pythonX.Y/site-packages, ../../../ is __pypackages__ itself: the data
            # directory of the scheme, inside the tree (a missing data file, nothing worse)
            "../../../etc/passwd,sha256=AAAA,1",
            "../../../../etc/passwd,sha256=AAAA,1",  # the project's etc/: outside
            "/etc/passwd,sha256=AAAA,1",
            "../../../../../../../../../../../../etc/shadow,,",
        ),
    )
    (site / "planted.py").write_text("print('who put me here?')\n")
    (site / "greedy-data").mkdir()
    (site / "greedy-data" / "notes.txt").write_text("not code\n")
    code, data = audit(project)
    assert code == EXIT_FINDINGS
    outside = one(data, "record-outside", info / "RECORD")
    assert outside["severity"] == "high"
    assert outside["details"]["rows"] == [
        "../../../../etc/passwd",
        "/etc/passwd",
        "../../../../../../../../../../../../etc/shadow",
    ]
    # greedy.py, METADATA, INSTALLER: nothing outside the tree is opened
    assert data["stats"]["files_hashed"] == 3
    inside = project / "__pypackages__" / "etc" / "passwd"
    assert one(data, "missing-file", inside)["severity"] == "low"
    planted = one(data, "unowned-files", site / "planted.py")
    assert planted["severity"] == "medium"
    assert planted["details"]["files"] == [str(site / "planted.py")]
    notes = one(data, "unowned-files", site / "greedy-data")
    assert notes["severity"] == "low"


def test_a_fifo_in_the_tree_does_not_hang_the_audit(project: Path) -> None:
    site = site_of(project)
    install(project, "piped", {"piped.py": b"X = 1\n"})
    (site / "piped.py").unlink()
    os.mkfifo(site / "piped.py")
    os.mkfifo(site / "stuck.pth")
    code, data = audit(project)
    assert code == EXIT_FINDINGS
    assert "not a regular file" in one(data, "hash-mismatch", site / "piped.py")["message"]
    assert "not a regular file" in one(data, "pth", site / "stuck.pth")["message"]
    # the trust rule refuses a FIFO in a site directory before it reads any .pth file
    refused = one(data, "trust-refused", project / "__pypackages__")["details"]["reason"]
    assert f"{site / 'piped.py'} is not a regular file or directory" in refused or (
        f"{site / 'stuck.pth'} is not a regular file or directory" in refused
    )


def test_pdm_draft_layout_is_audited_too(tmp_path: Path) -> None:
    """PDM's X.Y/lib: the runtime does not read it, but its wrappers and PDM do."""
    proj = tmp_path / "proj"
    rows = ("../../../etc/passwd,sha256=AAAA,1",)  # from X.Y/lib: outside the project
    info = install(
        proj, "drafted", {"drafted.py": b"X = 1\n"}, {"drafted.py": b"#!x\n"}, rows, "pdm"
    )
    (site_of(proj, "pdm") / "drafted.py").write_text("X = 2\n")
    code, data = audit(proj)
    assert code == EXIT_FINDINGS
    assert [(t["layout"], t["command"]) for t in data["trees"]] == [("pdm", FACTS.command)]
    assert one(data, "hash-mismatch", site_of(proj, "pdm") / "drafted.py")["severity"] == "high"
    script = Path(scheme_for(proj, FACTS, "pdm").scripts) / "drafted.py"
    assert one(data, "script-py", script)["details"]["shadows"] is True
    outside = one(data, "record-outside", info / "RECORD")
    assert outside["details"]["rows"] == ["../../../etc/passwd"]


# -- git ------------------------------------------------------------------------------------


def git(project: Path, *args: str) -> None:
    run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c",
         "init.defaultBranch=main", *args], cwd=project, check=True)  # fmt: skip


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_tree_committed_to_git(project: Path) -> None:
    install(project, "committed", {"committed.py": b"X = 1\n"})
    (project / "__pypackages__" / ".gitignore").unlink()
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "day one")
    code, data = audit(project)
    assert code == EXIT_FINDINGS
    tracked = one(data, "git-tracked", project / "__pypackages__")
    assert tracked["severity"] == "high"
    assert tracked["details"] == {"repository": str(project), "files": 4}
    missing = one(data, "gitignore-missing", project / "__pypackages__" / ".gitignore")
    assert missing["severity"] == "medium"  # in a repository: one `git add .` away
    # the fix the finding gives works, and the audit agrees; the project's own ignore
    # rules count as well as the tree's .gitignore
    (project / ".gitignore").write_text("/__pypackages__/\n")
    git(project, "rm", "-r", "-q", "--cached", "__pypackages__")
    git(project, "commit", "-q", "-m", "untrack")
    code, data = audit(project)
    assert (code, data["findings"]) == (0, [])


# -- trust, stale trees -----------------------------------------------------------------------


@pytest.mark.usefixtures("root_only")
def test_foreign_owned_directory_is_refused_as_the_startup_step_refuses_it(
    project: Path,
) -> None:
    install(project, "localmod", {"localmod.py": b"WHERE = __file__\n"})
    lib = project / "__pypackages__" / "lib"
    nobody = pwd.getpwnam("nobody").pw_uid
    os.chown(lib, nobody, -1)
    try:
        code, data = audit(project)
        assert code == EXIT_FINDINGS
        refused = one(data, "trust-refused", project / "__pypackages__")
        assert refused["severity"] == "high"
        reason = refused["details"]["reason"]
        assert reason.startswith(f"{lib} is owned by nobody (uid {nobody})")
        # the same words the startup step prints when it refuses the tree
        proc = pep582("run", "--python", PY, "-c", "import localmod", cwd=project)
        assert proc.returncode != 0
        assert f"pep582: ignoring {project / '__pypackages__'}: {reason}" in proc.stderr
    finally:
        os.chown(lib, 0, -1)


def test_stale_tree_for_a_python_not_on_this_machine(project: Path) -> None:
    stale = project / "__pypackages__" / "lib" / "python3.99" / "site-packages"
    stale.mkdir(parents=True)
    code, data = audit(project)
    assert code == 0  # low
    finding = one(data, "stale-tree", stale.parent)
    assert finding["severity"] == "low"
    assert finding["details"] == {"command": "python3.99", "layout": "pep582"}
    by_command = {t["command"]: t for t in data["trees"]}
    assert by_command["python3.99"]["interpreter"] is None
    assert by_command[FACTS.command]["interpreter"]
    assert pep582("audit", project, "--python", PY, "--fail-on", "low").returncode == 11
    assert pep582("audit", project, "--python", PY, "--fail-on", "never").returncode == 0


# -- the command ------------------------------------------------------------------------------


def test_exit_codes_and_errors(project: Path, tmp_path: Path) -> None:
    assert EXIT_FINDINGS == 11 and "audit" in EXIT_CODES[11]
    proc = pep582("audit", project, "--fail-on", "urgent")
    assert proc.returncode == 2  # usage
    proc = pep582("audit", project, "--python", str(tmp_path / "nope"), "--json")
    assert proc.returncode == 3
    assert json.loads(proc.stderr)["error"]["kind"] == "InterpreterError"
    help_text = pep582("audit", "--help").stdout
    for key in ("schema", "findings", "counts", "fail_on", "stats", "Exit codes"):
        assert key in help_text
    # a directory without __pypackages__: only the project directory is checked
    empty = tmp_path / "empty"
    empty.mkdir()
    code, data = audit(empty)
    assert (code, data["exists"], data["trees"], data["findings"]) == (0, False, [], [])


def test_help_lists_every_check_and_details_key_from_the_registry() -> None:
    """The check list and the JSON details table of ``--help`` are the registry's."""
    help_text = pep582("audit", "--help").stdout
    lines = help_text.splitlines()
    blocks = []
    for generated in (checks_help(), details_help()):
        block = ["  " + line for line in generated.splitlines()]  # click indents the epilog
        start = lines.index(block[0])
        assert lines[start : start + len(block)] == block
        blocks.append(" ".join(" ".join(block).split()))  # words, however wrapped
    checks, details = blocks
    for name, check in CHECKS.items():
        assert f"{name} ({' '.join(check.rule.split())}): {check.description}" in checks
        assert f"{name} " in details and all(key in details for key in check.keys)
    # each family module of the package declares at least one check
    assert {c.family for c in CHECKS.values()} == {
        "trust", "shadowing", "scripts", "startup code", "integrity",
        "ownership and permissions", "git hygiene", "stale and drift",
    }  # fmt: skip


def test_the_list_standing_in_for_stdlib_module_names_on_3_9() -> None:
    """STDLIB_39 is CPython 3.10's list plus what 3.10 removed; 3.9 has every such module."""
    py310, py39 = interpreter("3.10"), interpreter("3.9")
    if py310 is None or py39 is None:
        pytest.skip("needs Python 3.9 and 3.10")
    names = subprocess.run(
        [py310.executable, "-I", "-c", "import sys; print(*sorted(sys.stdlib_module_names))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert frozenset(names) | REMOVED_IN_310 == STDLIB_39
    asked = stdlib_of(py39.executable)
    assert "toolkit's list for 3.9" in asked.source
    assert set(asked.kinds) == STDLIB_39
    assert all(asked.kinds[name] != "absent" for name in REMOVED_IN_310)
    assert asked.kinds["json"] == "path" and asked.kinds["sys"] == "builtin"


def test_fix_commands_are_never_split_inside_a_word(tmp_path: Path) -> None:
    """A suggested fix stays pasteable, even with long hyphenated paths."""
    project = tmp_path / ("my-project-with-a-rather-long-hyphenated-name-" * 2).rstrip("-")
    tag = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    (project / "__pypackages__" / "lib" / tag / "site-packages").mkdir(parents=True)
    proc = pep582("audit", str(project), "--python", sys.executable, "--fail-on", "never")
    fix = next(line for line in proc.stdout.splitlines() if "fix:" in line)
    assert str(project / "__pypackages__" / ".gitignore") in fix
