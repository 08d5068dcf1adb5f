"""The command layer: errors are reported by each command's own parsed options, help is
fast and says what every option does, and ``pep582 run``/``where`` on day two (console
scripts by name, pip that would change the interpreter, a tree one directory up)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pytest

from pep582.step.startup import DIRNAME

from helpers import interpreter, migrate_cli, pep582, run

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
SITE = f"{DIRNAME}/lib/python{PY}/site-packages"


def python() -> str:
    """This Python's interpreter outside any venv (the step is the venv's choice)."""
    found = interpreter(PY)
    assert found is not None
    return str(found.executable)


# -- errors come from the parsed parameters -----------------------------------------------------


def test_json_after_the_program_belongs_to_the_program(tmp_path: Path) -> None:
    """`pep582 run --python /nope app.py --json`: --json is app.py's, so the error is a
    line of text; with a real interpreter app.py receives it."""
    (tmp_path / "app.py").write_text("import sys; print(sys.argv[1:])\n")
    proc = pep582("run", "--python", "/nope", "app.py", "--json", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.startswith("pep582: error: no interpreter at '/nope'")
    with pytest.raises(ValueError):
        json.loads(proc.stderr)
    proc = pep582("run", "--python", sys.executable, "app.py", "--json", "-v", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == "['--json', '-v']\n", proc.stderr


def test_json_that_is_an_options_value_is_not_json(tmp_path: Path) -> None:
    """`--python --json`: the parser gives --json to --python; nothing asked for JSON."""
    proc = pep582("where", "--python", "--json", cwd=tmp_path)
    assert proc.returncode == 3 and proc.stderr.startswith("pep582: error:"), proc.stderr
    proc = pep582("list", "--python", "--json", "--json", cwd=tmp_path)
    assert proc.returncode == 3
    assert json.loads(proc.stderr)["error"]["kind"] == "InterpreterError"


@pytest.mark.parametrize(
    "args, as_json",
    [
        (["where", "--json", "--bogus"], True),
        (["where", "--bogus"], False),
        (["list", "--json", "--python"], True),  # the option's value is missing
        (["freeze", "--project"], False),
        (["run", "--bogus", "--json"], False),  # run has no --json of its own
        (["ide", "--json"], False),  # neither has ide
        (["audit", "--json", "/nonexistent/project"], True),
    ],
)
def test_usage_errors_are_json_only_with_the_commands_own_json(
    tmp_path: Path, args: list[str], as_json: bool
) -> None:
    proc = pep582(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    if as_json:
        error = json.loads(proc.stderr)["error"]
        assert error["kind"] == "UsageError" and error["exit_code"] == 2 and error["message"]
    else:
        assert "error:" in proc.stderr.lower()
        with pytest.raises(ValueError):
            json.loads(proc.stderr)
    assert proc.stdout == ""


def test_migrate_usage_errors_and_source_errors_under_json(tmp_path: Path) -> None:
    proc = migrate_cli("--json", cwd=tmp_path)  # SOURCE missing
    assert proc.returncode == 2 and json.loads(proc.stderr)["error"]["kind"] == "UsageError"
    proc = migrate_cli(tmp_path / "missing", "--json", "--copy")
    assert proc.returncode == 5 and json.loads(proc.stderr)["error"]["exit_code"] == 5
    (tmp_path / "requirements.txt").write_text("x\n")
    proc = migrate_cli(tmp_path / "requirements.txt", "--copy")
    assert proc.returncode == 2 and "--copy apply to venv sources only" in proc.stderr


# -- help --------------------------------------------------------------------------------------


def _commands() -> list[tuple[str, click.Command]]:
    from pep582.commands.main import main
    from pep582.commands.migrate import main as migrate

    ctx = click.Context(main)
    found = [(name, main.get_command(ctx, name)) for name in main.list_commands(ctx)]
    return [(n, c) for n, c in found if c is not None] + [("pep582-migrate", migrate)]


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_command_has_an_example_and_every_option_says_what_it_does(name: str) -> None:
    command = dict(_commands())[name]
    assert command.epilog and "Example" in command.epilog, name
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "version":
            assert param.help and len(param.help) > 10, (name, param.name)
    proc = migrate_cli("--help") if name == "pep582-migrate" else pep582(name, "--help")
    assert proc.returncode == 0 and "Example" in proc.stdout, proc.stderr


HEAVY = (
    "pep582.plan.planner", "pep582.plan.executor", "pep582.interpreter", "pep582.jsonc",
    "pep582.operations.ide", "pep582.audit.core", "installer", "packaging.requirements",
)  # fmt: skip


@pytest.mark.parametrize(
    "module, args",
    [
        ("pep582.commands.main", ["--help"]),
        ("pep582.commands.main", ["ide", "--help"]),
        ("pep582.commands.main", ["run", "--help"]),
        ("pep582.commands.main", ["install", "--help"]),
        ("pep582.commands.migrate", ["--help"]),
    ],
)
def test_help_loads_nothing_heavy(module: str, args: list[str]) -> None:
    """--help imports the command modules only, never what a command runs."""
    code = (
        "import sys, importlib\n"
        f"main = importlib.import_module({module!r}).main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)\n"
    )
    proc = run([sys.executable, "-c", code])
    assert proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr


# -- pep582 run and where on day two ----------------------------------------------------------


def _tree(project: Path) -> Path:
    """A tree with a module and a console script ``tool`` (a shell script that says where
    it is and what PATH starts with)."""
    site = project / SITE
    site.mkdir(parents=True)
    (site / "localmod.py").write_text("WHERE = __file__\n")
    scripts = project / DIRNAME / "bin"
    scripts.mkdir()
    tool = scripts / "tool"
    tool.write_text('#!/bin/sh\necho "tool $*"\necho "PATH=${PATH%%:*}"\n')
    tool.chmod(0o755)
    return scripts


def test_run_a_console_script_by_name_with_its_bin_first_on_path(tmp_path: Path) -> None:
    scripts = _tree(tmp_path)
    proc = pep582("run", "--python", python(), "tool", "--flag", "x", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["tool --flag x", f"PATH={scripts}"]
    (tmp_path / "tool").write_text("print('the file here wins')\n")
    proc = pep582("run", "--python", python(), "tool", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == "the file here wins\n", proc.stderr
    proc = pep582("run", "--python", python(), "nosuchtool", cwd=tmp_path)
    assert proc.returncode == 2 and "has no console script nosuchtool" in proc.stderr


@pytest.mark.parametrize(
    "program, refused",
    [
        (["-m", "pip", "install", "requests"], "pep582 install requests"),
        (["-m", "pip", "-q", "uninstall", "-y", "requests"], "pep582 uninstall requests"),
        (["pip", "install", "rich"], "pep582 install rich"),  # the tree's own pip, by name
        (["-m", "pip", "--log", "x.log", "install", "-r", "req.txt"], "pep582 install -r req.txt"),
        (["-m", "pip", "install", "--target", "out", "--no-index", "nothing-here"], None),
        (["-m", "pip", "install", "--prefix=out", "--no-index", "nothing-here"], None),
        (["-m", "pip", "--version"], None),
    ],
)
def test_pip_that_would_change_the_interpreter_is_refused(
    tmp_path: Path, program: list[str], refused: str | None
) -> None:
    scripts = _tree(tmp_path)
    (scripts / "pip").write_text("#!/bin/sh\necho pip ran\n")
    (scripts / "pip").chmod(0o755)
    proc = pep582("run", "--python", python(), *program, cwd=tmp_path)
    if refused:
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert refused in proc.stderr and "own environment" in proc.stderr
        assert proc.stdout == ""
    else:
        assert "own environment" not in proc.stderr and proc.returncode != 2, proc.stderr


def test_a_tree_in_a_parent_directory_is_named_not_used(tmp_path: Path) -> None:
    """`cd tests && pep582 run -m pytest`, a script in tools/: the rule (one directory)
    stays, and run and where say where the tree is."""
    _tree(tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tools").mkdir()
    probe = "try:\n    import localmod; print('LOCAL')\nexcept ImportError:\n    print('NONE')\n"
    (tmp_path / "tools" / "report.py").write_text(probe)
    proc = pep582("run", "--python", python(), "-c", probe, cwd=tmp_path / "tests")
    assert proc.stdout == "NONE\n"
    assert proc.stderr.count("\n") == 1 and f"{tmp_path / DIRNAME} is in a parent" in proc.stderr
    proc = pep582("run", "--python", python(), "tools/report.py", cwd=tmp_path)
    assert proc.stdout == "NONE\n" and f"no {DIRNAME} in {tmp_path / 'tools'}" in proc.stderr
    proc = pep582("where", "--json", "--python", python(), cwd=tmp_path / "tests")
    assert proc.returncode == 9
    assert json.loads(proc.stdout)["parent_pypackages"] == str(tmp_path / DIRNAME)
    assert "is in a parent directory" in proc.stderr
    proc = pep582("where", "--python", python(), cwd=tmp_path / "tests")
    assert proc.returncode == 9 and "is in a parent directory" in proc.stderr
    # where the tree applies: no note, and the key is null
    proc = pep582("run", "--python", python(), "-c", probe, cwd=tmp_path)
    assert proc.stdout == "LOCAL\n" and proc.stderr == ""
    proc = pep582("where", "--json", "--python", python(), cwd=tmp_path)
    assert proc.returncode == 0 and json.loads(proc.stdout)["parent_pypackages"] is None
    proc = run(
        [sys.executable, "-m", "pep582.commands.main", "run", "--python", python(), "-c", probe],
        cwd=tmp_path / "tests",
        env={"PYTHONPYPACKAGES": str(tmp_path / DIRNAME)},
    )
    assert "parent" not in proc.stderr and proc.stdout == "LOCAL\n", proc.stderr
    (tmp_path / DIRNAME).chmod(0o777)  # anyone could have made it: never suggested
    proc = pep582("run", "--python", python(), "-c", probe, cwd=tmp_path / "tests")
    assert proc.stdout == "NONE\n" and proc.stderr == "", proc.stderr
    (tmp_path / DIRNAME).chmod(0o755)


def test_run_of_a_name_that_is_neither_a_file_nor_a_console_script(tmp_path: Path) -> None:
    """One line naming both places looked in, not Python's "can't open file"."""
    proc = pep582("run", "jupyter", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"pep582: error: jupyter: no such file here, and {tmp_path / '__pypackages__' / 'bin'} "
        "has no console script jupyter (pep582 list shows what is installed)"
    )


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["./gone-1.0-py3-none-any.whl"], "requirement"),
        (["./gone-dir"], "requirement"),
        (["-e", "./gone-dir"], "editable"),
        (["gone @ file:///nonexistent/gone-1.0-py3-none-any.whl"], "requirement"),
        (["-r", "reqs.txt"], "reqs.txt:2"),
    ],
)
def test_install_of_a_local_path_that_does_not_exist(
    tmp_path: Path, args: list[str], where: str
) -> None:
    """A path the request names that is not there: one line naming it, exit 5, before
    any resolver runs (pip's own message for each differs and exits 8)."""
    (tmp_path / "reqs.txt").write_text("click\n./gone-1.0-py3-none-any.whl\n")
    result = pep582("install", *args, cwd=tmp_path)
    assert result.returncode == 5, result.stderr
    assert result.stderr.count("\n") == 1 and "does not exist" in result.stderr
    assert where in result.stderr and "gone" in result.stderr
    assert not (tmp_path / DIRNAME).exists()


@pytest.mark.parametrize(
    "args",
    [
        ["file://[x/a-1.0-py3-none-any.whl"],
        ["a @ file://[x/a-1.0-py3-none-any.whl"],
        ["-r", "reqs.txt"],
        ["--find-links", "file://[x/", "a"],
    ],
)
def test_install_of_a_url_urllib_refuses(tmp_path: Path, args: list[str]) -> None:
    """A URL ``urllib`` cannot split (an unclosed ``[`` in the host) is one line, exit 5,
    wherever it is named: every URL goes through ``pep582.parse.url_parts``."""
    (tmp_path / "reqs.txt").write_text("-f file://[x/\na\n")
    result = pep582("install", "--dry-run", *args, cwd=tmp_path)
    assert result.returncode == 5, result.stderr
    assert "not a valid URL" in result.stderr and result.stderr.count("\n") == 1
