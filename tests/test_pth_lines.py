"""The trust rule reads a ``.pth`` file as every ``site.py`` reads it (review finding 2).

``site.py`` of 3.9-3.12 reads a ``.pth`` file line by line (universal newlines: ``\\n``,
``\\r``, ``\\r\\n``) in the locale's encoding; 3.13+ decodes it as UTF-8 (dropping a
byte-order mark, falling back to the locale) and splits it with ``str.splitlines()``,
which also breaks at ``\\x0b \\x0c \\x1c-\\x1e \\x85 \\u2028 \\u2029``. A path line hidden
behind such a break (``A<FF>#/../../../tmp/x``) is one path to one version and a path
plus a comment to another. So the rule (``startup.pth_lines``) refuses every ``.pth`` that
versions would read differently, and judges every line any version reads as a path, as
that version joins it (comments only at column 0, trailing space dropped). Proved against
the real ``site.addpackage`` of each Python 3.9-3.13 on this machine, and end to end:
startup, ``pep582 run``, ``pep582 audit`` and the installer.
"""

from __future__ import annotations

import json
import os
import pwd
from pathlib import Path

import pytest

from pep582.interpreter import Interpreter
from pep582.step import startup

from helpers import VERSIONS, add_module, hooked_venv, interpreter, pep582, run, tiny_wheel

pytestmark = pytest.mark.slow  # each attack built for real: the full tier

ODD = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
# Files every version reads alike; the rule must judge at least what each one adds.
SAME = {
    "plain": b"one\ntwo\n",
    "crlf": b"one\r\ntwo\r\n",
    "cr": b"one\rtwo",
    "bom-path": b"\xef\xbb\xbfone\n",
    "bom-comment": b"\xef\xbb\xbf#/../../../escaped\n",
    "indented-comment": b"  #/../../../escaped\n",
    "indented-path": b"  spaced\n\t/abs/olute \n",
    "import-and-path": b"import os\nthree\n",
    "unicode": "caf\u00e9/\u00c5\n".encode(),
}
# Files versions read differently: each is refused.
DIFFERENT = {
    **{f"break-{ord(c):x}": f"inside{c}#/../../../escaped\n".encode() for c in ODD},
    "nul": b"inside\x00/../../../escaped\n",
    "latin-1": b"caf\xe9\n",
}

SITE_READS = r"""
import json, os, site, sys

os.path.exists = lambda path: True  # every line that names a path counts
site_dir, names = sys.argv[1], sys.argv[2:]
added = {}
keep = list(sys.path)
for name in names:
    sys.path[:] = keep
    try:
        site.addpackage(site_dir, name, set())
    except Exception as exc:  # 3.9-3.12 stop at text their locale cannot decode
        added[name] = "error: %r" % exc
        continue
    added[name] = sys.path[len(keep):]
print(json.dumps(added))
"""


def judged_paths(site_dir: Path, data: bytes) -> set[str]:
    """The paths the rule judges for one ``.pth`` file's content."""
    return {
        os.path.abspath(os.path.join(site_dir, line.rstrip()))
        for _, line in startup.pth_lines(data)
        if startup.pth_kind(line) == "path"
    }


def test_the_rule_judges_every_path_each_site_py_adds(tmp_path: Path) -> None:
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    for name, data in {**SAME, **DIFFERENT}.items():
        (site_dir / f"{name}.pth").write_bytes(data)
    names = [f"{name}.pth" for name in {**SAME, **DIFFERENT}]
    readers = [v for v in VERSIONS if interpreter(v) is not None]
    assert "3.13" in readers and len(readers) >= 2, readers
    reads: dict[str, dict[str, object]] = {}
    for version in readers:
        python = interpreter(version)
        assert python is not None
        done = run([python.executable, "-I", "-S", "-c", SITE_READS, site_dir, *names],
                   env={"LC_ALL": "C.UTF-8"}, check=True)  # fmt: skip
        reads[version] = json.loads(done.stdout)
    for name, data in SAME.items():
        judged = judged_paths(site_dir, data)
        for version in readers:
            added = reads[version][f"{name}.pth"]
            assert isinstance(added, list), (name, version, added)
            assert set(added) <= judged, (name, version, added, judged)
    for name, data in DIFFERENT.items():
        with pytest.raises(ValueError):
            startup.pth_lines(data)
        if name.startswith("break-"):  # the proof that versions disagree about it
            assert len({json.dumps(reads[v][f"{name}.pth"]) for v in readers}) > 1, name


def test_an_escaping_line_behind_a_comment_at_column_one_is_judged() -> None:
    """site reads ``  #x`` and a BOM-prefixed ``#x`` as paths (3.9-3.12 for the BOM):
    the rule judges them as paths, not comments."""
    for data in (SAME["indented-comment"], SAME["bom-comment"]):
        assert "/escaped" in {p[-8:] for p in judged_paths(Path("/a/b/c"), data)}


# -- end to end ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hooked_python(base: Interpreter, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hooked_venv(base, tmp_path_factory.mktemp("pth") / "v")


def hostile_tree(tmp_path: Path, base: Interpreter, data: bytes) -> tuple[Path, Path, Path]:
    """A project whose tree holds ``hidden.pth`` (``data``, where ``DIR`` stands for
    another user's directory with a sitecustomize and a module); returns the project,
    the canary and the site directory."""
    theirs = tmp_path / "evil"
    theirs.mkdir()
    canary = tmp_path / "canary"
    (theirs / "sitecustomize.py").write_text(f"open({str(canary)!r}, 'w').write('ran')\n")
    (theirs / "nobodymod.py").write_text("X = 1\n")
    nobody = pwd.getpwnam("nobody").pw_uid
    for path in (theirs, *theirs.iterdir()):
        os.chown(path, nobody, -1)
    os.chmod(theirs, 0o777)
    project = tmp_path / "proj"
    site = add_module(project, base).parent
    climb = "/".join([".."] * len(site.relative_to("/").parts))
    (site / "hidden.pth").write_bytes(data.replace(b"DIR", f"{climb}{theirs}".encode()))
    return project, canary, site


@pytest.mark.usefixtures("root_only")
@pytest.mark.parametrize("char", [*ODD, "\0"], ids=lambda c: f"{ord(c):x}")
def test_a_line_break_only_some_versions_honour_refuses_the_tree(
    tmp_path: Path, base: Interpreter, hooked_python: Path, char: str
) -> None:
    data = f"/usr/share/goodpkg{char}#/DIR\n".encode()
    project, canary, site = hostile_tree(tmp_path, base, data)
    code = "import sys; print([p for p in sys.path if 'evil' in p])"
    for how in ("hook", "run"):
        if how == "hook":
            done = run([hooked_python, "-c", code], cwd=project)
        else:
            done = pep582("run", "--python", hooked_python, "-c", code, cwd=project)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"
        warnings = done.stderr.strip().splitlines()
        assert len(warnings) == 1, warnings
        assert warnings[0].startswith(f"pep582: ignoring {project / '__pypackages__'}: ")
        assert f"{site / 'hidden.pth'} line 1 holds " in warnings[0]
    assert not canary.exists()


@pytest.mark.usefixtures("root_only")
def test_the_audit_reports_it_high(tmp_path: Path, base: Interpreter) -> None:
    project, canary, site = hostile_tree(tmp_path, base, "inside\u2028#/DIR\n".encode())
    done = pep582("audit", project, "--python", base.executable, "--json", "--fail-on", "high")
    assert done.returncode == 11, done.stderr
    findings = json.loads(done.stdout)["findings"]
    pth = [f for f in findings if f["check"] == "pth"]
    assert len(pth) == 1 and pth[0]["severity"] == "high", findings
    assert pth[0]["path"] == str(site / "hidden.pth")
    assert "line 1 holds '\\u2028'" in pth[0]["message"]
    assert any(f["check"] == "trust-refused" for f in findings)
    assert not canary.exists()


def test_the_installer_never_publishes_it(tmp_path: Path, base: Interpreter) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    pth = b"/usr/share/goodpkg\x0c#/../../../tmp/evil\n"
    tiny_wheel(wheels, "goodpkg", "1.0", {"goodpkg/__init__.py": b"X = 1\n", "goodpkg.pth": pth})
    project = tmp_path / "proj"
    project.mkdir()
    done = pep582("install", "--python", base.executable, "--no-index", "--find-links", wheels,
                  "goodpkg", cwd=project)  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert "goodpkg.pth line 1 holds '\\x0c'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert sorted(os.listdir(project)) == []
