"""uv as a resolver: ``uv pip compile --python TARGET --format pylock.toml``.

uv resolves for the target interpreter (its markers and tags) and writes a PEP 751 lock
on stdout; that lock is then installed exactly like a ``pylock.toml`` the user gave
(:mod:`pep582.install.pylock`): hashes checked, files fetched through pip. uv runs
through ``pep582.proc.run`` with uv's own configuration (``uv.toml``, ``[tool.uv]``,
``UV_*`` variables) only when no configuration file another user could change or create
can be read; otherwise with ``--no-config`` (see :func:`config_guard`).

How that is decided (judge every candidate, not the nearest one): uv looks for a
``uv.toml`` or a ``pyproject.toml`` with a ``[tool.uv]`` table in its working directory
and then in every directory above it, skipping a ``pyproject.toml`` without that table or
that it cannot parse, and it also reads the user's (``$XDG_CONFIG_HOME/uv/uv.toml``,
``~/.config/uv/uv.toml``) and the system's (``$XDG_CONFIG_DIRS/uv/uv.toml``,
``/etc/xdg/uv/uv.toml``, ``/etc/uv/uv.toml``) files. Which of them uv would use depends on
their content, which another user may change between our look and uv's; so every
directory from the working directory up to ``/`` must pass the trust rule (nobody else
may create a file in it: a project under ``/tmp`` therefore always runs uv with
``--no-config``), and so must every ``uv.toml`` and ``pyproject.toml`` in them and every
user or system file (or, when absent, the nearest directory that would hold it).

A file ``UV_CONFIG_FILE`` names is read whatever the toolkit passes (``--no-config`` does
not switch it off): it must pass the trust rule or nothing runs, and the places it names
are judged like any other (:mod:`pep582.install.locations`, whose ``sources`` is the one
list of the files each resolver reads).
"""

from __future__ import annotations

import os
from pathlib import Path

from pep582 import proc
from pep582.errors import InterpreterError, ResolutionError, SourceError
from pep582.interpreter import Interpreter
from pep582.step.startup import untrusted_path

_CONFIG_FILES = ("uv.toml", "pyproject.toml")


def find_uv() -> str | None:
    """uv installed with this toolkit (the ``uv`` package's public ``find_uv_bin``),
    else ``uv`` on PATH; None when there is neither."""
    try:
        from uv import find_uv_bin

        return os.path.abspath(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    return proc.which("uv")


def config_refusal(cwd: Path | None) -> str | None:
    """Why uv, run in ``cwd``, could read a configuration file another user could change
    or create (the module docstring says which files); None when it could not."""
    given = os.fspath(cwd or proc.TRUSTED_CWD)
    refused = untrusted_path(given)  # a link on the way could be re-pointed before uv starts
    if refused:
        return f"another user could change where uv runs, {given}: {refused}"
    for directory in _directories(given):
        refused = untrusted_path(directory)
        if refused:
            return f"another user could create a configuration file in {directory}: {refused}"
    for candidate in candidate_files(cwd):
        refused = _place_refusal(candidate)
        if refused:
            return refused
    return None


def _directories(cwd: str) -> list[str]:
    """uv's working directory (resolved) and every directory above it."""
    here = os.path.realpath(cwd)
    found = [here]
    while os.path.dirname(found[-1]) != found[-1]:
        found.append(os.path.dirname(found[-1]))
    return found


def candidate_files(cwd: Path | None) -> list[str]:
    """Every configuration file uv could read when run in ``cwd``: ``uv.toml`` and
    ``pyproject.toml`` in each directory from ``cwd`` up to ``/``, then the user's and
    the system's ``uv.toml`` (relative entries included: they are refused, as uv would
    read them from its working directory)."""
    found = [
        os.path.join(directory, name)
        for directory in _directories(os.fspath(cwd or proc.TRUSTED_CWD))
        for name in _CONFIG_FILES
    ]
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    return [
        *found,
        os.path.join(home, "uv", "uv.toml"),
        *(os.path.join(d, "uv", "uv.toml") for d in dirs.split(os.pathsep) if d),
        "/etc/uv/uv.toml",
    ]


def named_config_file() -> str | None:
    """The file ``UV_CONFIG_FILE`` names, which uv reads even with ``--no-config``
    (``--no-config`` only stops its looking); None when unset or the null device. The
    toolkit never passes ``--config-file`` itself."""
    named = os.environ.get("UV_CONFIG_FILE", "")
    return named if named and named != os.devnull else None


def _place_refusal(path: str) -> str | None:
    from pep582.install.locations import place_refusal

    return place_refusal(path, "uv")


def config_guard(cwd: Path | None) -> list[str]:
    """``--no-config`` when uv, run in ``cwd``, could read a configuration file another
    user could change or create (:func:`config_refusal`); nothing otherwise."""
    return ["--no-config"] if config_refusal(cwd) else []


def run_uv(
    uv: str, arguments: list[str], what: str, cwd: Path | None, show_progress: bool = False
) -> str:
    """Run ``uv ARGUMENTS``; its stdout, or one line plus uv's own explanation."""
    try:
        result = proc.run(
            [uv, *config_guard(cwd), *arguments],
            python=False,
            what="uv",
            cwd=str(cwd) if cwd is not None else None,
            env={"UV_NO_PROGRESS": "1"},
            stderr_to_terminal=show_progress,
        )
    except InterpreterError as exc:
        raise ResolutionError(f"uv could not {what}: {exc}") from exc
    if result.returncode != 0:
        errors = result.stderr
        explanation = explain(errors)
        if any(words in errors for words in _BAD_INPUT):
            raise SourceError(f"uv could not {what}: the input is not valid:\n{explanation}")
        unreachable = any(words in errors for words in _NETWORK)
        cause = " (an index or find-links location could not be reached)" if unreachable else ""
        raise ResolutionError(f"uv could not {what}{cause}:\n{explanation}")
    return result.stdout


# uv's words for input it cannot parse
_BAD_INPUT = ("Couldn't parse", "Failed to parse", "is not a valid", "Unsupported requirement")
_NETWORK = ("Failed to fetch", "Connection refused", "dns error", "timed out", "Could not connect")


def explain(stderr: str) -> str:
    """uv's error lines, indented (its hints included)."""
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith("error")), 0)
    shown = lines[start:]
    return "\n".join(f"  {line}" for line in shown[:40]) or "  (uv printed no explanation)"


def compile_lock(
    uv: str,
    inputs: list[str],
    constraints: list[str],
    interpreter: Interpreter,
    options: list[str],
    what: str,
    *,
    cwd: Path | None,
    no_deps: bool = False,
    show_progress: bool = False,
) -> str:
    """The PEP 751 lock uv resolves ``inputs`` (requirements files) to for
    ``interpreter``, as text (relative paths in it are relative to ``cwd``)."""
    return run_uv(
        uv,
        [
            "pip",
            "compile",
            "--quiet",
            "--no-header",
            "--format",
            "pylock.toml",
            "--python",
            str(interpreter.executable),
            *(["--no-deps"] if no_deps else []),
            *options,
            *(arg for c in constraints for arg in ("--constraints", c)),
            *inputs,
        ],
        f"resolve {what}",
        cwd,
        show_progress,
    )


def export_lock(uv: str, project: Path, options: list[str], what: str) -> str:
    """``uv export --format pylock.toml`` of the project whose ``uv.lock`` is in
    ``project``: offline, frozen (the lock is read as it is, never updated); relative
    paths in the result are relative to ``project``."""
    return run_uv(
        uv,
        ["export", "--quiet", "--frozen", "--offline", "--no-header", "--format",
         "pylock.toml", *options],
        f"export {what}",
        project,
    )  # fmt: skip


def executable_or_error(what: str) -> str:
    uv = find_uv()
    if uv is None:
        raise ResolutionError(f"{what} needs uv, which is not installed (pip install uv)")
    return uv


__all__ = [
    "compile_lock",
    "config_guard",
    "config_refusal",
    "executable_or_error",
    "export_lock",
    "find_uv",
    "named_config_file",
]
