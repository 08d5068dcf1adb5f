"""`pep582-migrate requirements.txt` and `pylock.toml`, offline, for real interpreters."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import virtualenv  # type: ignore[import-untyped]
from test_migrate_venv import record_problems

from pep582.interpreter import Interpreter, find_python
from pep582.scheme import scheme_for

from helpers import build_wheels, copy_packages, interpreter, run

pytestmark = pytest.mark.slow  # resolves and installs with pip/uv: the full tier

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """A find-links directory: wheels, hello 2.0, an sdist-only project, setuptools."""
    links = tmp_path_factory.mktemp("links")
    for wheel in wheelhouse.glob("*.whl"):
        if not wheel.name.startswith("sdistonly-"):
            shutil.copy(wheel, links)
    sources = {p.name: p for p in copy_packages(tmp_path_factory.mktemp("pkgs"))}
    run(
        [
            sys.executable,
            "-m",
            "build",
            "--sdist",
            "--no-isolation",
            "--outdir",
            links,
            sources["sdistonly"],
        ],
        check=True,
    )
    pyproject = sources["hello"] / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "1.0"', 'version = "2.0"'))
    build_wheels(links, sources["hello"])
    embedded = Path(virtualenv.__file__).parent / "seed" / "wheels" / "embed"
    for wheel in embedded.glob("setuptools-*.whl"):  # so pip can build the sdist offline
        shutil.copy(wheel, links)
    return links


def migrate(*args: str | os.PathLike[str], cwd: Path | None = None) -> Any:
    return run([sys.executable, "-m", "pep582.commands.migrate", *args], cwd=cwd)


def offline(index: Path) -> list[str]:
    return ["--no-index", "--find-links", str(index)]


def pip_list(python: Path, path: Path) -> dict[str, str]:
    proc = run([python, "-m", "pip", "list", "--format", "json", "--path", path], check=True)
    return {d["name"].lower(): d["version"] for d in json.loads(proc.stdout)}


def site_of(project: Path, python: Interpreter) -> Path:
    return Path(scheme_for(project, python.facts, "pep582").purelib)


def test_requirements_install_everything(tmp_path: Path, index: Path) -> None:
    target = find_python(PY)
    (tmp_path / "requirements.txt").write_text(
        "# the project's needs\nhello<2  # console script\nextrapkg[fancy]\nsdistonly\n"
    )
    proc = migrate(tmp_path / "requirements.txt", *offline(index), "--python", PY)
    assert proc.returncode == 0, proc.stderr
    site = site_of(tmp_path, target)
    marker_dep = "nsa" if target.facts.version < (3, 12) else "nsb"
    assert pip_list(target.executable, site) == {
        "hello": "1.0", "extrapkg": "0.7", "withdata": "2.0", "sdistonly": "3.1",
        marker_dep: "1.0" if marker_dep == "nsa" else "1.1",
    }  # fmt: skip
    assert record_problems(site) == []
    requested = {p.parent.name.split("-")[0] for p in site.glob("*.dist-info/REQUESTED")}
    assert requested == {"hello", "extrapkg", "sdistonly"}
    assert {p.read_text() for p in site.glob("*.dist-info/INSTALLER")} == {"pep582-toolkit\n"}
    scheme = scheme_for(tmp_path, target.facts, "pep582")
    assert (Path(scheme.data) / "share" / "withdata" / "data.txt").read_text() == "payload\n"
    proc = run([Path(scheme.scripts) / "hello-cli"], cwd="/", check=True)
    assert str(site) in proc.stdout
    assert not (Path(scheme.scripts) / "hello.py").exists()
    (tmp_path / "app.py").write_text("import sdistonly, withdata; print(sdistonly.WHERE)")
    proc = run(
        [sys.executable, "-m", "pep582.commands.main", "run", "--python", PY, "app.py"],
        cwd=tmp_path,
        check=True,
    )
    assert proc.stdout.strip() == "sdist"
    assert (tmp_path / "__pypackages__" / ".gitignore").read_text() == "*\n"


def test_markers_follow_the_target_interpreter(tmp_path: Path, index: Path) -> None:
    older, newer = interpreter("3.11"), interpreter("3.12")
    if older is None or newer is None:
        pytest.skip("needs Python 3.11 and 3.12")
    for python, expected in ((older, "nsa"), (newer, "nsb")):
        project = tmp_path / python.facts.version_tag
        project.mkdir()
        (project / "requirements.txt").write_text("extrapkg\n")
        proc = migrate(
            project / "requirements.txt", *offline(index), "--python", python.executable
        )
        assert proc.returncode == 0, proc.stderr
        names = set(pip_list(python.executable, site_of(project, python)))
        assert names == {"extrapkg", expected}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_require_hashes_good_and_bad(tmp_path: Path, index: Path) -> None:
    wheel = next(index.glob("hello-1.0-*.whl"))
    good = tmp_path / "good.txt"
    good.write_text(f"--require-hashes\nhello==1.0 \\\n    --hash=sha256:{sha256(wheel)}\n")
    assert migrate(good, *offline(index)).returncode == 0
    bad = tmp_path / "bad" / "requirements.txt"
    bad.parent.mkdir()
    bad.write_text(f"hello==1.0 --hash=sha256:{'0' * 64}\n")
    proc = migrate(bad, *offline(index))
    assert proc.returncode == 8
    assert proc.stderr.startswith(f"pep582-migrate: error: pip could not resolve {bad}")
    assert "hello" in proc.stderr and "0" * 64 in proc.stderr
    assert not (bad.parent / "__pypackages__").exists()


def test_constraints_and_nested_files(tmp_path: Path, index: Path) -> None:
    (tmp_path / "constraints.txt").write_text("hello<2\n")
    (tmp_path / "base.txt").write_text("hello\n")
    (tmp_path / "requirements.txt").write_text("-r base.txt\n-c constraints.txt\nwithdata\n")
    proc = migrate(tmp_path / "requirements.txt", *offline(index), "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert {(i["name"], i["version"]) for i in plan["distributions"]} == {
        ("hello", "1.0"),
        ("withdata", "2.0"),
    }
    assert not (tmp_path / "__pypackages__").exists()
    (tmp_path / "constraints.txt").write_text("")
    plan = json.loads(
        migrate(tmp_path / "requirements.txt", *offline(index), "--dry-run", "--json").stdout
    )
    assert ("hello", "2.0") in {(i["name"], i["version"]) for i in plan["distributions"]}


@pytest.mark.parametrize(
    "line", ["this is (not valid", "this is ::: not a requirement", "hello @ not a url"]
)
def test_broken_line_names_file_and_line(tmp_path: Path, index: Path, line: str) -> None:
    """Input pip cannot parse is bad input (exit 5), not a failed resolution (exit 8)."""
    req = tmp_path / "requirements.txt"
    req.write_text(f"hello\n{line}\n")
    proc = migrate(req, *offline(index))
    assert proc.returncode == 5, proc.stderr
    assert "line 2" in proc.stderr and str(req) in proc.stderr
    assert not (tmp_path / "__pypackages__").exists()


def test_unsatisfiable_pair_names_the_conflict(tmp_path: Path, index: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("hello==1.0\nhello==2.0\n")
    proc = migrate(req, *offline(index))
    assert proc.returncode == 8
    assert "hello==1.0" in proc.stderr and "hello==2.0" in proc.stderr


def test_editable_lines_are_installed_editable(tmp_path: Path, index: Path) -> None:
    """An ``-e`` line of a requirements file is built editable by pip (PEP 660) and its
    console script imports the project where it is."""
    source = copy_packages(tmp_path / "src")
    editme = next(p for p in source if p.name == "editme")
    req = tmp_path / "requirements.txt"
    req.write_text(f"-e {editme}\n")
    proc = migrate(req, *offline(index), "--python", PY)
    assert proc.returncode == 0, proc.stderr
    script = tmp_path / "__pypackages__" / "bin" / "editme-cli"
    proc = run([script], cwd="/")
    assert proc.stdout.strip() == f"editme from {editme / 'src' / 'editme' / '__init__.py'}"


def test_merge_adds_upgrades_and_keeps(tmp_path: Path, index: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("hello==1.0\n")
    assert migrate(req, *offline(index), "--python", PY).returncode == 0
    req.write_text("hello==1.0\nwithdata\n")
    proc = migrate(req, *offline(index), "--python", PY, "--merge")
    assert proc.returncode == 0, proc.stderr
    assert "already present: hello 1.0" in proc.stdout
    req.write_text("hello==2.0\n")
    proc = migrate(req, *offline(index), "--python", PY, "--merge")
    assert proc.returncode == 0, proc.stderr
    assert "upgraded: hello 1.0 → 2.0" in proc.stdout
    site = site_of(tmp_path, find_python(PY))
    assert not (site / "hello-1.0.dist-info").exists()
    assert (site / "hello-2.0.dist-info").is_dir()
    assert record_problems(site) == []
    assert migrate(req, *offline(index), "--python", PY, "--replace").returncode == 0


def write_lock(
    path: Path, index: Path, *, wheel_hash: str | None = None, environments: str = ""
) -> None:
    """A PEP 751 lock of hello 1.0 (always) and nsa (only on Python < 3.12)."""
    hello = next(index.glob("hello-1.0-*.whl"))
    nsa = next(index.glob("nsa-*.whl"))
    rel = os.path.relpath(index, path.parent)
    path.write_text(f"""\
lock-version = "1.0"
created-by = "pep582-toolkit tests"
requires-python = ">=3.9"
{environments}

[[packages]]
name = "hello"
version = "1.0"
wheels = [{{ name = "{hello.name}", path = "{rel}/{hello.name}", \
hashes = {{ sha256 = "{wheel_hash or sha256(hello)}" }} }}]

[[packages]]
name = "nsa"
version = "1.0"
marker = "python_version < '3.12'"
wheels = [{{ name = "{nsa.name}", path = "{rel}/{nsa.name}", \
hashes = {{ sha256 = "{sha256(nsa)}" }} }}]
""")


def test_pylock_installs_exactly_what_is_locked(tmp_path: Path, index: Path) -> None:
    lock = tmp_path / "pylock.toml"
    write_lock(lock, index)
    target = find_python(PY)
    proc = migrate(lock, "--python", PY)
    assert proc.returncode == 0, proc.stderr
    expected = {"hello": "1.0"} | ({"nsa": "1.0"} if target.facts.version < (3, 12) else {})
    assert pip_list(target.executable, site_of(tmp_path, target)) == expected
    assert record_problems(site_of(tmp_path, target)) == []


def test_pylock_bad_hash_and_uncovered_environment(tmp_path: Path, index: Path) -> None:
    lock = tmp_path / "pylock.toml"
    write_lock(lock, index, wheel_hash="0" * 64)
    proc = migrate(lock)
    assert proc.returncode == 6
    assert "hello-1.0" in proc.stderr and "the hash locked in pylock.toml" in proc.stderr
    assert not (tmp_path / "__pypackages__").exists()
    write_lock(lock, index, environments="environments = [\"sys_platform == 'win32'\"]")
    proc = migrate(lock)
    assert proc.returncode == 5 and "does not cover" in proc.stderr
    lock.write_text("lock-version = [\n")
    proc = migrate(lock)
    assert proc.returncode == 5 and "not valid TOML" in proc.stderr


def test_pylock_written_by_pip_lock(tmp_path: Path, index: Path) -> None:
    if run([sys.executable, "-m", "pip", "lock", "--help"]).returncode != 0:
        pytest.skip("this pip has no `pip lock` (pip >= 25.1)")
    (tmp_path / "requirements.txt").write_text("hello<2\nwithdata\n")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "lock",
            "-q",
            *offline(index),
            "-r",
            tmp_path / "requirements.txt",
            "-o",
            tmp_path / "pylock.toml",
        ],
        check=True,
    )
    proc = migrate(tmp_path / "pylock.toml", "--python", PY)
    assert proc.returncode == 0, proc.stderr
    target = find_python(PY)
    assert pip_list(target.executable, site_of(tmp_path, target)) == {
        "hello": "1.0",
        "withdata": "2.0",
    }


def test_venv_only_flags_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("hello\n")
    proc = migrate(tmp_path / "requirements.txt", "--copy")
    assert proc.returncode == 2 and "--copy apply to venv sources only" in proc.stderr


def test_missing_project_fails_before_resolving(tmp_path: Path, index: Path) -> None:
    (tmp_path / "requirements.txt").write_text("hello\n")
    proc = migrate(
        tmp_path / "requirements.txt", *offline(index), "--project", tmp_path / "nowhere"
    )
    assert proc.returncode == 2  # a command-line value naming nothing, for every command
    assert f"'{tmp_path / 'nowhere'}' does not exist" in proc.stderr


def test_two_wheels_writing_one_file_conflict(tmp_path: Path, index: Path) -> None:
    links = tmp_path / "links"
    shutil.copytree(index, links)
    fork = next(p for p in copy_packages(tmp_path / "src") if p.name == "hello")
    pyproject = fork / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('name = "hello"', 'name = "hello-fork"'))
    build_wheels(links, fork)
    (tmp_path / "requirements.txt").write_text("hello==1.0\nhello-fork\n")
    proc = migrate(tmp_path / "requirements.txt", *offline(links))
    assert proc.returncode == 7
    assert "hello-fork 1.0 and hello 1.0 would both write" in proc.stderr
    assert "site-packages/hello/__init__.py" in proc.stderr
    assert not (tmp_path / "__pypackages__").exists()


@pytest.mark.parametrize("resolver", ["pip", "uv"])
def test_unreachable_index_says_so(tmp_path: Path, resolver: str) -> None:
    (tmp_path / "requirements.txt").write_text("hello\n")
    proc = run(
        [
            sys.executable,
            "-m",
            "pep582.commands.migrate",
            tmp_path / "requirements.txt",
            "--index-url",
            "http://127.0.0.1:9/simple",
        ],  # the discard port: refused at once
        env={
            "PIP_RETRIES": "1",
            "UV_HTTP_RETRIES": "0",
            "PIP_FIND_LINKS": "",
            "PIP_EXTRA_INDEX_URL": "",
            "PIP_CONFIG_FILE": os.devnull,
            "PEP582_RESOLVER": resolver,
        },
    )
    assert proc.returncode == 8, proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first == (
        f"pep582-migrate: error: {resolver} could not resolve "
        f"{tmp_path / 'requirements.txt'} "
        "(an index or find-links location could not be reached):"
    )
    assert "Connection refused" in proc.stderr or "onnection refused" in proc.stderr


@pytest.mark.parametrize("hashes", ['{ blake3 = "00" }', '{ sha265 = "00" }', "{}"])
def test_lock_entry_without_a_checkable_hash_is_refused(
    tmp_path: Path, index: Path, hashes: str
) -> None:
    """A hash algorithm we cannot compute is not a free pass (issue 9, item 7)."""
    hello = next(index.glob("hello-1.0-*.whl"))
    rel = os.path.relpath(hello, tmp_path)
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "tests"\n\n[[packages]]\nname = "hello"\n'
        f'version = "1.0"\nwheels = [{{ name = "{hello.name}", path = "{rel}", '
        f"hashes = {hashes} }}]\n"
    )
    proc = migrate(tmp_path / "pylock.toml")
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "hello 1.0" in proc.stderr or "hashes" in proc.stderr
    assert not (tmp_path / "__pypackages__").exists()


@pytest.mark.parametrize(
    "forgery, said",
    [
        ("edited", "hello/__init__.py does not match the wheel's RECORD"),
        ("unlisted", "disagree with the wheel's RECORD"),
        ("inflated", "hello/__init__.py does not match the wheel's RECORD"),
        ("weak-hash", "hello/__init__.py has no usable hash in RECORD"),
    ],
)
def test_wheel_whose_files_disagree_with_its_record_is_refused(
    tmp_path: Path, index: Path, forgery: str, said: str
) -> None:
    """The wheel's own RECORD is checked as it is unpacked (a file edited after the build,
    a file RECORD does not list, a file far larger than RECORD says, which is never
    inflated whole, a row with a hash too weak to check): exit 6, no tree, no cache entry."""
    import zipfile

    links = tmp_path / "links"
    links.mkdir()
    original = next(index.glob("hello-1.0-*.whl"))
    forged = links / original.name
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(forged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "hello/__init__.py" and forgery == "edited":
                data += b"\nimport os  # slipped in after the wheel was built\n"
            if item.filename == "hello/__init__.py" and forgery == "inflated":
                data += b"#" * (64 << 20)  # stopped one chunk past RECORD's size
            if item.filename.endswith("RECORD") and forgery == "weak-hash":
                data = b"\n".join(
                    b"hello/__init__.py,md5="
                    + line.split(b",")[1][7:]
                    + b","
                    + line.split(b",")[2]
                    if line.startswith(b"hello/__init__.py,")
                    else line
                    for line in data.split(b"\n")
                )
            target.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
        if forgery == "unlisted":
            target.writestr("hello/extra.py", b"import os\n")
    (tmp_path / "requirements.txt").write_text("hello==1.0\n")
    proc = migrate(tmp_path / "requirements.txt", *offline(links))
    assert proc.returncode == 6, proc.stderr
    assert said in proc.stderr
    cache = Path(os.environ["PEP582_CACHE_DIR"])
    assert not list(cache.rglob(".unpacking-*"))
    assert not (tmp_path / "__pypackages__").exists()
