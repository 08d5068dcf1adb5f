"""The one way the toolkit starts another program.

Every child process goes through :func:`run`, :func:`start` or :func:`exec_user_program`
(a test fails if any other module spawns one). The rules, applied in one place:

- the program is named by an absolute path that passes the trust rule for the effective
  user: the file and every directory above it owned by root or us and writable by nobody
  else, and so is any ``pyvenv.cfg`` CPython would read beside it (its ``home`` chooses the
  standard library that runs); a program found inside a source someone else controls is
  therefore never started;
- a Python child runs with ``-I`` (no current directory or script directory on
  ``sys.path``, no ``PYTHON*`` variables, no user site), so nothing it imports comes from
  the caller's directory;
- every child gets a cleaned environment (no ``PYTHON*`` variables, no venv activation)
  and, unless a caller needs another, a working directory nobody else can write (``/``).

Only ``pep582 run`` starts the user's own program as the user asked
(:func:`exec_user_program`): the interpreter is still checked, the program is theirs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

from pep582.errors import InterpreterError
from pep582.step.startup import untrusted_path

PROBE_TIMEOUT = 60  # seconds an interpreter may take to describe itself
TRUSTED_CWD = "/"
# Variables a child must not inherit: they change what an interpreter imports or which
# environment a tool acts on, and we name everything explicitly instead.
_DROPPED_PREFIXES = ("PYTHON",)
_DROPPED = frozenset({"VIRTUAL_ENV", "CONDA_PREFIX", "__PYVENV_LAUNCHER__", "PIP_PYTHON"})


@dataclass(frozen=True)
class Result:
    """What a finished child left: its exit code and captured output (text)."""

    returncode: int
    stdout: str
    stderr: str


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Our environment minus what steers an interpreter or a tool elsewhere, plus
    ``extra``. A pyenv launcher keeps choosing the version for where the user is
    (``PYENV_DIR``), never for the child's working directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_DROPPED_PREFIXES) and key not in _DROPPED
    }
    if "PYENV_DIR" not in env:
        with contextlib.suppress(OSError):
            env["PYENV_DIR"] = os.getcwd()
    env.update(extra or {})
    return env


_trusted: dict[str, str] = {}


def trusted_program(path: str | os.PathLike[str], what: str = "program") -> str:
    """``path`` (absolute) when nobody but root or we can change what it runs; otherwise
    :class:`InterpreterError` naming the reason.

    The file's real path and every directory above it, the directory the name lives in
    (a link there could be re-pointed) and the ``pyvenv.cfg`` beside it and one level up
    (or, where absent, the directory that would hold it) pass the owner/write rule of the
    startup step. Only the exact path this toolkit's
    interpreter was started by (``sys.executable``) is exempt: it is already running this
    code. Another path to the same binary is not: CPython reads the ``pyvenv.cfg`` beside
    the path it is started by, so a link elsewhere may choose another standard library.
    """
    text = os.fspath(path)
    if not os.path.isabs(text):
        raise InterpreterError(f"{what} {text!r} is not an absolute path")
    if text in _trusted:
        return _trusted[text]
    if text != sys.executable and os.name == "posix":
        places = [text, os.path.dirname(text)]
        for config in (
            os.path.join(os.path.dirname(text), "pyvenv.cfg"),
            os.path.join(os.path.dirname(os.path.dirname(text)), "pyvenv.cfg"),
        ):
            # the file, or where it is absent the directory that would hold it (whoever
            # may create it there chooses the standard library this program runs)
            places.append(config if os.path.lexists(config) else os.path.dirname(config))
        for place in places:
            refused = untrusted_path(place)
            if refused:
                raise InterpreterError(
                    f"not running {what} {text}: another user could change what it runs "
                    f"({refused})"
                )
    if not (os.path.isfile(text) and os.access(text, os.X_OK)):
        raise InterpreterError(f"{what} {text} is not an executable file")
    _trusted[text] = text
    return text


def which(name: str, path: str | None = None) -> str | None:
    """The absolute path of command ``name`` on ``path`` (default ``PATH``), or None.
    Unlike :func:`shutil.which`, only absolute ``PATH`` entries are searched and ``name``
    must be a bare name: an empty, ``.`` or other relative entry would find a file in the
    current directory, which is no place to take a program from."""
    if not name or os.sep in name or (os.altsep and os.altsep in name):
        return None
    entries = (os.environ.get("PATH", os.defpath) if path is None else path).split(os.pathsep)
    absolute = os.pathsep.join(e for e in entries if os.path.isabs(e))
    found = shutil.which(name, path=absolute) if absolute else None
    return os.path.abspath(found) if found else None


ISOLATED = ("-I",)
# For a probe that must see the interpreter's normal site settings (is the user site on,
# where is it): no isolation flag, so the working directory (sys.path[0] for -c) must be
# TRUSTED_CWD and the environment is the cleaned one plus what the caller names.
SITE_PROBE: tuple[str, ...] = ()


def _command(
    argv: Sequence[str | os.PathLike[str]], python: bool, what: str, flags: tuple[str, ...]
) -> list[str]:
    program = trusted_program(argv[0], what)
    rest = [os.fspath(a) for a in argv[1:]]
    return [program, *flags, *rest] if python else [program, *rest]


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    python: bool,
    what: str = "program",
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    stdin: str | None = None,
    stderr_to_terminal: bool = False,
    stdout_to_stderr: bool = False,
    python_flags: tuple[str, ...] = ISOLATED,
) -> Result:
    """Run ``argv`` to completion (see the module docstring for the rules) and capture its
    output. ``python``: argv[0] is a Python interpreter; ``-I`` is inserted. ``cwd``: only
    where the child must resolve relative paths the user wrote (pip reading a
    requirements file); with ``-I`` that directory is never on ``sys.path``.
    ``stderr_to_terminal``/``stdout_to_stderr``: let a tool's own progress reach the user.
    ``python_flags``: :data:`ISOLATED`, or :data:`SITE_PROBE` for a probe of the
    interpreter's normal site settings (then ``cwd`` must stay the trusted default).
    Failing to start, or a timeout, is an :class:`InterpreterError`."""
    if python_flags != ISOLATED and cwd is not None:
        raise ValueError("only an isolated (-I) child may run in another directory")
    command = _command(argv, python, what, python_flags)
    try:
        proc = subprocess.run(
            command,
            input=stdin,
            stdout=sys.stderr if stdout_to_stderr else subprocess.PIPE,
            stderr=None if stderr_to_terminal else subprocess.PIPE,
            text=True,
            cwd=cwd or TRUSTED_CWD,
            env=clean_environment(env),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InterpreterError(f"{command[0]} did not finish in {timeout} s") from None
    except OSError as exc:
        raise InterpreterError(f"cannot run {command[0]}: {exc.strerror}") from exc
    return Result(proc.returncode, proc.stdout or "", proc.stderr or "")


class Started:
    """A child started in the background; :meth:`wait` collects it like :func:`run`."""

    def __init__(self, proc: subprocess.Popen[str], program: str, timeout: float | None) -> None:
        self._proc, self._program, self._timeout = proc, program, timeout

    def wait(self) -> Result:
        try:
            out, err = self._proc.communicate(timeout=self._timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
            raise InterpreterError(
                f"{self._program} did not finish in {self._timeout} s"
            ) from None
        return Result(self._proc.returncode, out or "", err or "")


def start(
    argv: Sequence[str | os.PathLike[str]],
    *,
    python: bool,
    what: str = "program",
    timeout: float | None = PROBE_TIMEOUT,
) -> Started:
    """Start ``argv`` in the background by the same rules as :func:`run`."""
    command = _command(argv, python, what, ISOLATED)
    try:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=TRUSTED_CWD,
            env=clean_environment(),
        )
    except OSError as exc:
        raise InterpreterError(f"cannot run {command[0]}: {exc.strerror}") from exc
    return Started(proc, command[0], timeout)


def exec_user_program(argv: Sequence[str], env: Mapping[str, str]) -> NoReturn:
    """Replace this process with the user's own program (``pep582 run``): the interpreter
    named by ``argv[0]`` passes :func:`trusted_program`; the rest is what the user asked
    for, in their directory, with ``env`` as given."""
    command = [trusted_program(argv[0], "interpreter"), *argv[1:]]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(command[0], command, dict(env))
    sys.exit(subprocess.call(command, env=dict(env)))  # pragma: no cover - Windows
