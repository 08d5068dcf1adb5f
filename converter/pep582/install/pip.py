"""pip as a child process, acting for the target interpreter (``pip --python TARGET``).

Three uses, each one run of the pip installed beside this toolkit, through
``pep582.proc.run`` (``-I``, a cleaned environment; pip's own configuration files and
``PIP_*`` variables apply): resolving (``install --dry-run --report``), fetching or
building wheels (``wheel --no-deps`` of exact pins), and building editables
(``install --no-deps --prefix``, see :mod:`pep582.install.editable`). pip's version is
read from its distribution metadata, never by starting it.

pip re-runs itself under TARGET, so its *site* configuration file is TARGET's
``sys.prefix/pip.conf``, not this environment's:
:func:`pep582.install.locations.pip_config_files` lists every file pip reads, and each
(and every place it names) is judged before pip starts.
"""

from __future__ import annotations

import json
import os
import site
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pep582 import proc
from pep582.errors import InterpreterError, ResolutionError, SourceError
from pep582.install.artifacts import Artifact, pin
from pep582.install.localfiles import check_directory, check_file, path_of_url
from pep582.interpreter import Interpreter

MIN_PIP = (22, 3)  # --python and a stable --report
PIP_ENV = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}


def pip_version() -> Version | None:
    """The version of the pip ``python -I -m pip`` runs here, from its metadata: the
    site directories an isolated interpreter sees (no user site, no ``PYTHONPATH``)."""
    from importlib import metadata

    places = [*site.getsitepackages(), sysconfig.get_paths()["purelib"]]
    for found in metadata.distributions(name="pip", path=list(dict.fromkeys(places))):
        try:
            return Version(found.version)
        except InvalidVersion:
            return None
    return None


def pip_command(interpreter: Interpreter, cwd: Path | None = None) -> list[str]:
    """This environment's pip, told to act for ``interpreter`` (run in ``cwd``, None for
    ``/``), once every configuration file it will read and every place and file they
    name passed the trust rule: every run of pip, whichever command asked for it."""
    from pep582.install import inputs, locations

    inputs.judge_configuration(cwd or Path("/"), False, interpreter.prefix, cwd, locations.PIP)
    version = pip_version()
    if version is None:
        raise ResolutionError(f"pip is not installed beside this toolkit ({sys.executable})")
    if version.release[:2] < MIN_PIP:
        raise ResolutionError(
            f"pip >= {'.'.join(map(str, MIN_PIP))} is needed (found {version} for "
            f"{sys.executable})"
        )
    return [sys.executable, "-m", "pip", "--python", str(interpreter.executable)]


def run_pip(
    command: Sequence[str], what: str, show_progress: bool = False, cwd: Path | None = None
) -> str:
    """Run pip; on failure raise one line plus pip's own explanation. ``cwd``: only where
    relative paths the user wrote (in a requirements file) must resolve from their
    directory. With ``show_progress`` pip's own lines go to our stderr (a terminal)."""
    try:
        result = proc.run(
            command,
            python=True,
            what="pip",
            cwd=str(cwd) if cwd is not None else None,
            env=PIP_ENV,
            stderr_to_terminal=show_progress,
            stdout_to_stderr=show_progress,
        )
    except InterpreterError as exc:
        raise ResolutionError(f"pip could not {what}: {exc}") from exc
    if result.returncode != 0:
        errors = result.stderr
        if any(f"ERROR: {words}" in errors for words in _BAD_INPUT):
            # the input itself is wrong (pip names the file and line): not a resolution
            raise SourceError(f"pip could not {what}: the input is not valid:\n{explain(errors)}")
        unreachable = any(word in errors for word in _NETWORK)
        cause = " (an index or find-links location could not be reached)" if unreachable else ""
        raise ResolutionError(f"pip could not {what}{cause}:\n{explain(errors)}")
    return result.stdout


# pip's words for input it cannot parse (a requirement, a line of a requirements file).
_BAD_INPUT = (
    "Invalid requirement",
    "Invalid URL",
    "Invalid wheel filename",
    "is not a valid editable requirement",
)

_NETWORK = (
    "Retrying",
    "Could not fetch URL",
    "ConnectionError",
    "NewConnectionError",
    "Max retries",
    "Connection refused",
    "Name or service not known",
    "timed out",
)


def explain(stderr: str) -> str:
    """pip's errors, minus noise: the ERROR lines and what follows them, indented.

    Warnings that say an index could not be reached are kept (once each): they are the
    reason behind "could not find a version".
    """
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith("ERROR")), 0)
    network = [line for line in lines[:start] if any(word in line for word in _NETWORK)]
    kept = [line for line in lines[start:] if not line.startswith(("WARNING", "[notice]"))]
    shown = [*network[-1:], *kept]
    return "\n".join(f"  {line}" for line in shown[:40]) or "  (pip printed no explanation)"


def resolve(
    arguments: list[str],
    interpreter: Interpreter,
    options: list[str],
    workdir: Path,
    what: str,
    *,
    src: Path,
    cwd: Path | None = None,
    show_progress: bool = False,
) -> list[Artifact]:
    """What pip resolves ``arguments`` (``-r FILE``, specifiers, ``-e``, ``-c FILE``) to
    for ``interpreter``; nothing is installed. VCS editables are cloned into ``src``
    (private to this run, never the user's directory), where the editable install finds
    them."""
    report_path = workdir / "report.json"
    run_pip(
        [
            *pip_command(interpreter, cwd),
            "install",
            "--dry-run",
            "--ignore-installed",
            *([] if show_progress else ["--quiet"]),
            "--report",
            str(report_path),
            "--src",
            str(src),
            *options,
            *arguments,
        ],
        f"resolve {what}",
        show_progress,
        cwd,
    )
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResolutionError(f"pip wrote no readable report for {what}: {exc}") from exc
    items: list[dict[str, Any]] = report.get("install", [])
    return sorted((_artifact(item, what) for item in items), key=lambda a: a.key)


def _artifact(item: dict[str, Any], what: str) -> Artifact:
    info = item.get("download_info", {})
    meta = item.get("metadata", {})
    archive = info.get("archive_info") or {}
    hashes = dict(archive.get("hashes") or {})
    if not hashes and archive.get("hash"):
        algorithm, _, value = archive["hash"].partition("=")
        hashes[algorithm] = value
    artifact = Artifact(
        name=meta.get("name", ""),
        version=meta.get("version", ""),
        url=info.get("url", ""),
        hashes=hashes,
        requested=bool(item.get("requested")),
        direct_url=info if item.get("is_direct") else None,
    )
    artifact.pin = pin(artifact.name, info)
    local = path_of_url(artifact.url)
    if "dir_info" in info and local is not None:
        local = check_directory(local, f"{what}: {artifact.name}")  # it will be built
    if info.get("dir_info", {}).get("editable"):
        if local is None:
            raise SourceError(f"{what}: pip reports an editable at {artifact.url}, not local")
        artifact.editable = local
    elif local is not None and "archive_info" in info:
        check_file(local, f"{what}: {artifact.name}")  # a FIFO, a device, a huge file…
        if local.name.endswith(".whl"):
            artifact.wheel = local
    return artifact


def fetch(
    artifacts: list[Artifact],
    interpreter: Interpreter,
    options: list[str],
    workdir: Path,
    what: str,
    show_progress: bool = False,
) -> None:
    """Give every artifact that needs one a local wheel: one ``pip wheel --no-deps`` of
    the exact pins (downloads go through pip; sdists, directories and VCS are built)."""
    needed = [a for a in artifacts if a.wheel is None and a.editable is None]
    if not needed:
        return
    pins_file = workdir / "pins.txt"
    pins_file.write_text("\n".join(a.pin for a in needed) + "\n", encoding="utf-8")
    wheel_dir = workdir / "wheels"
    run_pip(
        [
            *pip_command(interpreter),
            "wheel",
            "--no-deps",
            *([] if show_progress else ["--quiet"]),
            "-w",
            str(wheel_dir),
            *options,
            "-r",
            str(pins_file),
        ],
        f"fetch or build the wheels for {what}",
        show_progress,
    )
    built: dict[str, Path] = {}
    for wheel in wheel_dir.glob("*.whl"):
        built[canonicalize_name(wheel.name.split("-")[0])] = wheel
    for artifact in needed:
        found = built.get(artifact.key)
        if found is None:
            raise ResolutionError(f"pip produced no wheel for {artifact.name} ({artifact.url})")
        artifact.wheel = found


def install_editables(
    projects: list[Path],
    interpreter: Interpreter,
    options: list[str],
    prefix: Path,
    what: str,
    show_progress: bool = False,
) -> None:
    """Build and install ``projects`` editable (PEP 660, through pip and the projects'
    own build backends) into the private prefix ``prefix``, without dependencies and
    without byte code; the caller carries the result into ``__pypackages__``."""
    editables: list[str] = []
    for project in projects:
        editables += ["-e", os.fspath(project)]
    run_pip(
        [
            *pip_command(interpreter),
            "install",
            "--no-deps",
            "--no-compile",
            "--ignore-installed",
            "--no-warn-script-location",
            *([] if show_progress else ["--quiet"]),
            "--prefix",
            str(prefix),
            *options,
            *editables,
        ],
        f"build the editable install of {what}",
        show_progress,
    )
