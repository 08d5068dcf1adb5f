"""`pep582 audit` on day two (issue 25): what a migration carried, and PDM writing beside it.

- Editable installs whose checkout lived in the venv (pip's ``src/NAME`` for ``-e git+``)
  are carried into ``__pypackages__/src`` with their uncommitted work. The checkout is the
  editable distribution's, found through what points into it: a ``.pth`` path line
  (setuptools' src-layout editable), a PEP 660 finder (flat layout), an ``.egg-link``
  (``setup.py develop``). The audit must never call it unowned, nor tell the user to
  delete it.
- PDM in ``__pypackages__`` mode keeps installing into its draft ``X.Y/lib`` tree beside
  the converted one, which the step never reads: the two drifting apart is reported with
  the fix, and the fix works.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from test_audit import FACTS, PY, audit, found, one

from pep582.scheme import scheme_for
from pep582.step.startup import DIRNAME

from helpers import fake_dist, migrate_cli, pep582, run

pytestmark = pytest.mark.slow  # resolves and installs with pip/uv: the full tier

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}  # fmt: skip
BUILD = (
    '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    '[project]\nname = "{name}"\nversion = "0.1"\n'
)


def git_repo(repo: Path, name: str, package_dir: Path) -> None:
    """A one-commit git repository holding project ``name`` (package in ``package_dir``)."""
    (repo / package_dir / name).mkdir(parents=True)
    (repo / package_dir / name / "__init__.py").write_text("STATE = 'committed'\n")
    (repo / "pyproject.toml").write_text(BUILD.format(name=name))
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "first"]):
        run(["git", *args], cwd=repo, env=GIT_ENV, check=True)


def test_carried_editable_checkouts_are_their_distributions(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git_repo(tmp_path / "srcproj", "srcproj", Path("src"))  # src layout: a .pth line
    git_repo(tmp_path / "flatproj", "flatproj", Path())  # flat layout: a PEP 660 finder
    project = tmp_path / "proj"
    venv = project / ".venv"
    run([sys.executable, "-m", "virtualenv", "-q", "--no-periodic-update", "--no-download",
         "--setuptools", "bundle", "-p", sys.executable, venv], check=True)  # fmt: skip
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-index",
         "--no-build-isolation",
         "-e", f"git+{(tmp_path / 'srcproj').as_uri()}#egg=srcproj",
         "-e", f"git+{(tmp_path / 'flatproj').as_uri()}#egg=flatproj"],
        check=True)  # fmt: skip
    proc = migrate_cli(venv)
    assert proc.returncode == 0, proc.stderr
    shutil.rmtree(venv)
    src = project / DIRNAME / "src"
    assert {p.name for p in src.iterdir()} == {"srcproj", "flatproj"}
    site = Path(scheme_for(project, FACTS, "pep582").purelib)
    pointers = {p.name for p in site.iterdir() if p.name.startswith("__editable__")}
    assert any(n.endswith(".pth") for n in pointers)  # both kinds of pointer are covered
    assert any(n.endswith("_finder.py") for n in pointers)
    # a legacy `setup.py develop` checkout: an .egg-link and easy-install.pth lead to it
    legacy = src / "legacy"
    (legacy / "legacy.egg-info").mkdir(parents=True)
    (legacy / "legacy.egg-info" / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: legacy\nVersion: 0.1\n"
    )
    (legacy / "legacy").mkdir()
    (legacy / "legacy" / "__init__.py").write_text("STATE = 'committed'\n")
    run(["git", "init", "-q"], cwd=legacy, check=True)
    (site / "legacy.egg-link").write_text(f"{legacy}\n.")
    (site / "easy-install.pth").write_text(f"{legacy}\n")
    # uncommitted work in every checkout
    for package in (src / "srcproj" / "src" / "srcproj", src / "flatproj" / "flatproj",
                    legacy / "legacy"):  # fmt: skip
        (package / "__init__.py").write_text("STATE = 'uncommitted work'\n")
        (package / "scratch.py").write_text("NOTES = 1\n")
    code = "import srcproj, flatproj, legacy; print(srcproj.STATE, flatproj.STATE, legacy.STATE)"
    used = pep582("run", "--python", PY, "-c", code, cwd=project)
    assert used.stdout.split() == ["uncommitted", "work"] * 3, used.stderr

    status, data = audit(project)
    assert status == 0
    # the only finding: the setuptools virtualenv seeded (and the migration carried) runs
    # its distutils hook at startup, as it does in every venv
    [(check, where)] = [(f["check"], Path(f["path"]).name) for f in data["findings"]]
    assert (check, where) == ("pth", "distutils-precedence.pth")
    assert not [f for f in data["findings"] if str(src) in f["path"] or str(src) in f["fix"]]
    names = {t["command"]: t["distributions"] for t in data["trees"]}
    assert names[FACTS.command] == 4  # srcproj, flatproj, legacy, setuptools
    # a file planted beside the checkouts is still unowned: only what an editable points
    # into is excused
    (src / "stray.py").write_text("")
    _, data = audit(project)
    assert [f["path"] for f in found(data, "unowned-files")] == [str(src)]
    assert one(data, "unowned-files", src)["details"]["files"] == [str(src / "stray.py")]


def trees(project: Path) -> tuple[Path, Path]:
    pdm = Path(scheme_for(project, FACTS, "pdm").purelib)
    ours = Path(scheme_for(project, FACTS, "pep582").purelib)
    return pdm, ours


def test_pdm_writing_its_draft_tree_beside_the_converted_one(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    pdm, ours = trees(project)
    for site in (pdm, ours):
        fake_dist(site, "alpha", "1.0", {"alpha.py": b"A = 1\n"})
    (project / DIRNAME / ".gitignore").write_text("*\n")
    status, data = audit(project)  # a finished conversion: the same distributions
    assert (status, data["findings"]) == (0, []), data["findings"]
    # then `pdm add` keeps writing into the draft tree
    fake_dist(pdm, "beta", "2.0", {"beta.py": b"B = 2\n"})
    fake_dist(ours, "beta", "1.0", {"beta.py": b"B = 1\n"})
    fake_dist(pdm, "gamma", "1.0", {"gamma.py": b""})
    fake_dist(ours, "delta", "1.0", {"delta.py": b""})
    status, data = audit(project)
    assert status == 0  # medium
    drift = one(data, "pdm-drift", project / DIRNAME / FACTS.version_tag)
    assert drift["severity"] == "medium"
    assert drift["details"] == {
        "command": FACTS.command,
        "pdm_site_dir": str(pdm),
        "site_dir": str(ours),
        "only_pdm": ["gamma 1.0"],
        "only_converted": ["delta 1.0"],
        "versions": [{"name": "beta", "pdm": "2.0", "converted": "1.0"}],
    }
    assert "beta 2.0 there, 1.0 here" in drift["message"]
    fix = drift["fix"]
    assert fix.startswith(f"pep582-migrate {project / DIRNAME} --layout pep582 --replace")
    # the fix, as printed, works
    command = fix.partition("  #")[0].split()
    proc = migrate_cli(*command[1:])
    assert proc.returncode == 0, proc.stderr
    status, data = audit(project)
    assert not found(data, "pdm-drift")
    versions = sorted(p.name for p in ours.glob("*.dist-info"))
    assert versions == ["alpha-1.0.dist-info", "beta-2.0.dist-info", "gamma-1.0.dist-info"]


def test_a_changed_file_is_put_back_by_the_fix_as_printed(tmp_path: Path) -> None:
    """hash-mismatch and missing-file name ``pep582 install --reinstall NAME`` for the
    tree's Python; pasted into a shell (packages found where pip and uv are told to look),
    it writes the files afresh and the audit is clean of both."""
    from helpers import tiny_wheel

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    tiny_wheel(wheels, "small", "1.0", {"small/__init__.py": b"X = 1\n", "small/b.py": b"Y = 2\n"})
    proj = tmp_path / "proj"
    proj.mkdir()
    result = pep582("install", "--no-index", "--find-links", wheels, "small", cwd=proj)
    assert result.returncode == 0, result.stderr
    (site,) = (proj / DIRNAME).glob("lib/python*/site-packages")
    (site / "small" / "__init__.py").write_text("X = 'changed'\n")
    (site / "small" / "b.py").unlink()
    _, data = audit(proj)
    fixes = {f["fix"].split("then: ")[-1] for f in found(data, "hash-mismatch")}
    fixes |= {f["fix"] for f in found(data, "missing-file")}
    assert len(fixes) == 1, data["findings"]
    (fix,) = fixes
    assert "pep582 install --reinstall" in fix and fix.endswith(" small")
    bin_dir = str(Path(sys.executable).parent)  # where the pep582 command is installed
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "PIP_NO_INDEX": "1", "UV_NO_INDEX": "1",
           "PIP_FIND_LINKS": str(wheels), "UV_FIND_LINKS": str(wheels)}  # fmt: skip
    done = run(["bash", "-c", fix], env=env)
    assert done.returncode == 0, done.stderr
    assert (site / "small" / "__init__.py").read_text() == "X = 1\n"
    _, data = audit(proj)
    assert not found(data, "hash-mismatch") and not found(data, "missing-file")
