"""Every way a resolver is told where packages come from is read as the resolver reads it
(hostile review 3, findings 302-304).

- A requirements file is read as pip reads it (``shlex`` and ``optparse``: several
  options on one line, a unique prefix of a long option) and as uv reads it (an option's
  value is the rest of the line; a backslash joins lines with a space; an empty variable
  is expanded); a relative place is judged relative to the file and to the current
  directory; a line neither rule accounts for is refused (file:line, exit 5).
- pip acting for a target (``pip --python TARGET``) re-runs under TARGET and reads its
  ``sys.prefix/pip.conf``: that file, the one ``PIP_CONFIG_FILE`` names and every other
  pip file pass the trust rule, and so do the places they name.
- ``UV_CONFIG_FILE`` names a file uv reads even with ``--no-config``: it passes the trust
  rule and the places it names are judged.

Built for real as root with ``nobody`` as the other user; the canary sdist's build
backend never runs. Refusals happen before any resolver starts, so they are fast.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_find_links import canary_sdist

from pep582.install import locations, resolver
from pep582.install.uv import find_uv
from pep582.interpreter import Interpreter

from helpers import NO_PIP_CONFIG, make_venv, run, tiny_wheel

# each attack built for real (a second or more): the full tier
pytestmark = [pytest.mark.usefixtures("root_only"), pytest.mark.slow]


@pytest.fixture
def nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


def install(
    cwd: Path, *args: str | os.PathLike[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "pep582.commands.main", "install", "--dry-run", *args],
               cwd=cwd, env={**NO_PIP_CONFIG, **(env or {})})  # fmt: skip


def refused(done: subprocess.CompletedProcess[str], *words: str) -> str:
    """The one error line (exit 5), which holds ``words``."""
    assert done.returncode == 5, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def evil(tmp_path: Path, nobody: int) -> Path:
    """Another user's find-links directory (also a PEP 503 index: ``hello/``) holding an
    sdist whose build backend writes ``tmp_path/canary``."""
    place = tmp_path / "evil"
    canary_sdist(place / "hello", tmp_path / "canary")
    shutil.copy(place / "hello" / "hello-9.0.tar.gz", place)
    for path in (place, *place.rglob("*")):
        os.lchown(path, nobody, -1)
    return place


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "proj"
    project.mkdir()
    return project


# -- requirements files ----------------------------------------------------------------------

LINES = {
    # several options on one line: pip reads them all
    "two options": "--no-index --find-links={evil}\nhello\n",
    "three options": "--pre --no-index -f {evil}\nhello\n",
    # optparse: a unique prefix of a long option is that option
    "--find": "--find {evil}\nhello\n",
    "--find-l=": "--find-l={evil}\nhello\n",
    "--extra": "--extra file://{evil}\nhello\n",
    "--ind": "--ind file://{evil}\nhello\n",
    "--pypi-url": "--pypi-url file://{evil}\nhello\n",
    "-f glued": "-f{evil}\nhello\n",
    # quoting, tabs, a requirement line carrying an option
    "quoted": '--find-links "{evil}"\nhello\n',
    "tab": "--find-links\t{evil}\nhello\n",
    "after a requirement": "hello --find-links {evil}\n",
    # uv: the value is the rest of the line, cut at a '#'
    "fragment": "--find-links {evil}#x\nhello\n",
    # uv joins a continued line with a space; pip without
    "continued": "--no-index \\\n--find-links={evil}\nhello\n",
    "continued in a word": "--find-li\\\nnks={evil}\nhello\n",
    # uv expands an empty variable, pip keeps the text
    "empty variable": "--find-links ${{PEP582_TEST_EMPTY}}{evil}\nhello\n",
}


@pytest.mark.parametrize("line", list(LINES))
def test_another_users_place_in_a_requirements_file_is_refused_however_written(
    tmp_path: Path, project: Path, evil: Path, line: str
) -> None:
    (project / "req.txt").write_text(LINES[line].format(evil=evil))
    done = install(project, "-r", "req.txt", env={"PEP582_TEST_EMPTY": ""})
    refused(done, "req.txt:1", str(evil), "could be changed by another user")
    assert not (tmp_path / "canary").exists()


RESOLVERS = [
    "pip",
    pytest.param("uv", marks=pytest.mark.skipif(find_uv() is None, reason="no uv")),
]


@pytest.mark.parametrize("resolver_name", RESOLVERS)
def test_a_relative_place_is_judged_relative_to_the_requirements_file(
    tmp_path: Path,
    project: Path,
    nobody: int,
    resolver_name: str,
) -> None:
    """The reproducer: your requirements file in a shared sticky directory, ``-f wheels``
    in it; another user created ``wheels`` beside it (pip and uv read it from there)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    canary_sdist(shared / "wheels", tmp_path / "canary")
    for path in (shared / "wheels", *(shared / "wheels").iterdir()):
        os.lchown(path, nobody, -1)
    (shared / "req.txt").write_text("-f wheels\nhello\n")
    done = install(project, "--resolver", resolver_name, "--python", sys.executable, "-r",
                   shared / "req.txt")  # fmt: skip
    refused(done, f"{shared / 'req.txt'}:1", str(shared / "wheels"))
    assert not (tmp_path / "canary").exists()


@pytest.mark.parametrize(
    "line, words",
    [
        ("--in file:///x\nhello\n", "ambiguous option: --in"),
        ("--bogus x\nhello\n", "no such option: --bogus"),
        ("--no-index stray\nhello\n", "'stray' after the options"),
        ("--find-links\nhello\n", "--find-links option requires 1 argument"),
        ("--find-links 'x\nhello\n", "cannot split the options"),
    ],
)
def test_a_line_the_scanner_cannot_account_for_is_refused(
    project: Path, line: str, words: str
) -> None:
    (project / "req.txt").write_text(line)
    refused(install(project, "--resolver", "pip", "-r", "req.txt"), "req.txt:1", words)


@pytest.mark.parametrize("resolver_name", RESOLVERS)
def test_your_own_find_links_relative_to_the_requirements_file_still_works(
    tmp_path: Path, project: Path, resolver_name: str
) -> None:
    here = tmp_path / "reqs"
    (here / "wheels").mkdir(parents=True)
    tiny_wheel(here / "wheels", "hello", "1.0", {"hello/__init__.py": b""})
    (here / "req.txt").write_text("--no-index --find-links=wheels  # mine\nhello\n")
    done = install(project, "--resolver", resolver_name, "--python", sys.executable, "-r",
                   here / "req.txt")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "hello 1.0" in done.stdout


# -- pip's configuration files ---------------------------------------------------------------


def test_the_target_interpreters_pip_conf_is_judged(
    tmp_path: Path, project: Path, evil: Path, base: Interpreter
) -> None:
    """pip --python TARGET reads TARGET's sys.prefix/pip.conf (reproducer 303)."""
    python = make_venv(base, tmp_path / "venv")
    (tmp_path / "venv" / "pip.conf").write_text(f"[global]\nfind-links = {evil}\n")
    done = install(project, "--resolver", "pip", "--python", python, "hello",
                   env={"PIP_CONFIG_FILE": ""})  # fmt: skip
    refused(done, f"find-links in {tmp_path / 'venv' / 'pip.conf'}", str(evil))
    assert not (tmp_path / "canary").exists()


@pytest.mark.parametrize("how", ["target's file", "PIP_CONFIG_FILE", "creatable", "relative"])
def test_a_pip_configuration_file_another_user_could_change_is_refused(
    tmp_path: Path,
    project: Path,
    nobody: int,
    base: Interpreter,
    how: str,
) -> None:
    """pip cannot be told to skip one file: such a file refuses the run."""
    python = make_venv(base, tmp_path / "venv")
    conf = tmp_path / "venv" / "pip.conf"
    env = {"PIP_CONFIG_FILE": ""}
    if how == "PIP_CONFIG_FILE":
        conf = tmp_path / "pip.conf"
        env["PIP_CONFIG_FILE"] = str(conf)
    elif how == "creatable":
        (tmp_path / "theirs").mkdir()
        os.chown(tmp_path / "theirs", nobody, -1)
        conf = tmp_path / "theirs" / "pip.conf"  # absent: they may create it
        env["PIP_CONFIG_FILE"] = str(conf)
    elif how == "relative":
        env["PIP_CONFIG_FILE"] = "pip.conf"
    if how != "creatable":
        (project / "pip.conf" if how == "relative" else conf).write_text("[global]\n")
        if how != "relative":
            os.chown(conf, nobody, -1)
    done = install(project, "--resolver", "pip", "--python", python, "hello", env=env)
    words = ("relative to its working directory",) if how == "relative" else (str(conf),)
    refused(done, "pip would read", *words)


def test_one_list_chooses_the_resolver_and_is_judged(
    tmp_path: Path, base: Interpreter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The target's pip.conf is in the list the trust judgement, the scan and the
    resolver choice share; the toolkit's own prefix stands in when no target is known."""
    make_venv(base, tmp_path / "venv")
    prefix = tmp_path / "venv"
    monkeypatch.delenv("PIP_CONFIG_FILE", raising=False)
    for variable in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("UV_CONFIG_FILE", str(tmp_path / "uv.toml"))
    found = locations.sources(None, prefix)
    assert locations.Source("pip", str(prefix / "pip.conf")) in found
    assert locations.Source("uv", str(tmp_path / "uv.toml")) in found
    assert locations.Source("uv", "/uv.toml", discovered=True) in found
    assert locations.Source("pip", os.path.join(sys.prefix, "pip.conf")) in locations.sources(
        None, None
    )
    # the choice reads the same list (this machine's own pip files left out)
    own = locations.pip_config_files
    monkeypatch.setattr(locations, "pip_config_files", lambda p=None: own(p)[-1:])
    assert resolver.pip_index_configuration(prefix) is None
    (prefix / "pip.conf").write_text("[install]\nno-index = true\n")
    assert resolver.pip_index_configuration(prefix) == f"no-index in {prefix / 'pip.conf'}"


# -- UV_CONFIG_FILE --------------------------------------------------------------------------


@pytest.mark.parametrize("resolver_name", RESOLVERS)
def test_the_places_uv_config_file_names_are_judged(
    tmp_path: Path, project: Path, evil: Path, resolver_name: str
) -> None:
    """Your own file, naming another user's find-links (reproducer 304)."""
    conf = tmp_path / "settings.toml"
    conf.write_text(f'find-links = ["{evil}"]\n')
    done = install(project, "--resolver", resolver_name, "--python", sys.executable, "hello",
                   env={"UV_CONFIG_FILE": str(conf)})  # fmt: skip
    refused(done, str(conf), str(evil), "could be changed by another user")
    assert not (tmp_path / "canary").exists()


@pytest.mark.parametrize("how", ["owner", "directory", "relative"])
def test_a_uv_config_file_another_user_could_change_is_refused(
    tmp_path: Path,
    project: Path,
    nobody: int,
    how: str,
) -> None:
    """--no-config does not switch UV_CONFIG_FILE off (the project lies under /tmp, so
    uv runs with --no-config here): such a file refuses the run."""
    conf = tmp_path / "conf" / "uv.toml"
    conf.parent.mkdir()
    conf.write_text("")
    value = str(conf)
    if how == "owner":
        os.chown(conf, nobody, -1)
    elif how == "directory":
        conf.unlink()
        os.chown(conf.parent, nobody, -1)
    else:
        value = "uv.toml"
    done = install(project, "--python", sys.executable, "hello", env={"UV_CONFIG_FILE": value})
    words = ("relative to its working directory",) if how == "relative" else (str(conf),)
    refused(done, "uv would read", *words)


@pytest.mark.skipif(find_uv() is None, reason="no uv")
def test_your_own_uv_config_file_still_works(tmp_path: Path, project: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    tiny_wheel(wheels, "hello", "1.0", {"hello/__init__.py": b""})
    conf = tmp_path / "uv.toml"
    conf.write_text(f'no-index = true\nfind-links = ["{wheels}"]\n')
    done = install(project, "--resolver", "uv", "--python", sys.executable, "--no-index",
                   "--find-links", wheels, "hello", env={"UV_CONFIG_FILE": str(conf)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "hello 1.0" in done.stdout


# -- requirements files a variable or a configuration file names ------------------------------


@pytest.mark.parametrize("way", ["PIP_CONSTRAINT", "PIP_REQUIREMENT", "UV_CONSTRAINT",
                                 "UV_OVERRIDE", "pip.conf constraint"])  # fmt: skip
def test_a_constraints_file_named_by_configuration_is_scanned(
    tmp_path: Path, project: Path, evil: Path, way: str
) -> None:
    """pip and uv read the lines of such a file (``-f DIR`` included) as they read a
    requirements file: its places are judged like any other."""
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(f"--find-links {evil}\n")
    env = {way: str(constraints)}
    if way == "pip.conf constraint":
        conf = tmp_path / "pip.conf"
        conf.write_text(f"[global]\nconstraint = {constraints}\n")
        env = {"PIP_CONFIG_FILE": str(conf)}
    done = install(project, "--resolver", "pip", "--python", sys.executable, "hello", env=env)
    refused(done, f"{constraints}:1", str(evil), "could be changed by another user")
    assert not (tmp_path / "canary").exists()


def test_a_constraints_file_of_another_user_named_by_configuration_is_refused(
    tmp_path: Path, project: Path, nobody: int
) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("hello<10\n")
    os.chown(constraints, nobody, -1)
    done = install(project, "--resolver", "pip", "--python", sys.executable, "hello",
                   env={"PIP_CONSTRAINT": str(constraints)})  # fmt: skip
    refused(done, f"PIP_CONSTRAINT {constraints}", "could be changed by another user")


def test_every_run_of_pip_judges_what_pip_will_read(
    tmp_path: Path, evil: Path, base: Interpreter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only the resolution: fetching pinned wheels (a lock's install) and building
    editables start pip too, and pip reads the same files; the command is refused before
    it exists."""
    from pep582.errors import SourceError
    from pep582.install import pip as pip_module

    python = make_venv(base, tmp_path / "venv")
    (tmp_path / "venv" / "pip.conf").write_text(f"[wheel]\nfind-links = {evil}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    from pep582.interpreter import probe

    with pytest.raises(SourceError, match="could be changed by another user"):
        pip_module.pip_command(probe(python))


def test_uv_find_links_is_also_read_comma_separated(
    tmp_path: Path, project: Path, evil: Path
) -> None:
    """uv splits ``UV_FIND_LINKS`` at commas: ``mine,theirs`` names their directory."""
    mine = tmp_path / "mine"
    mine.mkdir()
    done = install(project, "--resolver", "pip", "--python", sys.executable, "hello",
                   env={"UV_FIND_LINKS": f"{mine},{evil}"})  # fmt: skip
    refused(done, "UV_FIND_LINKS", str(evil), "could be changed by another user")
    assert not (tmp_path / "canary").exists()
