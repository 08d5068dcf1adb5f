"""uv as a resolver: ``uv pip compile --python TARGET --format pylock.toml``.

uv resolves for the target interpreter (its markers and tags) and writes a PEP 751 lock
on stdout; that lock is then installed exactly like a ``pylock.toml`` the user gave
(:mod:`pep582.install.pylock`): hashes checked, files fetched through pip. uv runs
through ``pep582.proc.run`` with uv's own configuration (``uv.toml``, ``UV_*``
variables); a ``uv.toml`` or ``pyproject.toml`` uv would discover above the working
directory that another user could change is not read (``--no-config``).
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


def config_guard(cwd: Path | None) -> list[str]:
    """``--no-config`` when the configuration file uv would discover from ``cwd`` (the
    nearest ``uv.toml``/``pyproject.toml`` at or above it) is one another user could
    change; nothing otherwise."""
    here = Path(os.path.realpath(cwd or proc.TRUSTED_CWD))
    for directory in (here, *here.parents):
        for name in _CONFIG_FILES:
            candidate = directory / name
            if os.path.lexists(candidate):
                return ["--no-config"] if untrusted_path(str(candidate)) else []
    return []


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


__all__ = ["compile_lock", "config_guard", "executable_or_error", "export_lock", "find_uv"]
