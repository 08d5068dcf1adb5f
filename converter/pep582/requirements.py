"""Requirements files, resolved and fetched by pip for the target interpreter.

We never parse a requirements file: it goes to pip as ``-r``, so nested files,
constraints, hashes, markers, extras, URLs, local paths and index options all mean what
pip says. pip runs once with ``--dry-run --report`` for the target interpreter
(``pip --python``); wheels it reports as local files are used as they are (their hashes
checked), and everything else (remote files, sdists, directories, VCS) is fetched or
built by one ``pip wheel --no-deps`` of the exact resolved artifacts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name, parse_wheel_filename

from pep582.errors import ResolutionError, SourceError, VerificationError
from pep582.install import Artifact
from pep582.interpreter import Interpreter
from pep582.records import raw_digest

MIN_PIP = (22, 3)  # --python and a stable --report
_PIP_VERSION = re.compile(r"^pip (\d+)\.(\d+)")


def pip_command(interpreter: Interpreter) -> list[str]:
    """This environment's pip, told to act for ``interpreter``."""
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ResolutionError(f"pip is not available to {sys.executable}") from exc
    match = _PIP_VERSION.match(out)
    if not match or (int(match[1]), int(match[2])) < MIN_PIP:
        raise ResolutionError(
            f"pip >= {'.'.join(map(str, MIN_PIP))} is needed (found: {out.strip()})"
        )
    return [sys.executable, "-m", "pip", "--python", str(interpreter.executable)]


def run_pip(command: list[str], what: str) -> str:
    """Run pip; on failure raise one line plus pip's own explanation."""
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        unreachable = any(word in proc.stderr for word in _NETWORK)
        cause = " (an index or find-links location could not be reached)" if unreachable else ""
        raise ResolutionError(f"pip could not {what}{cause}:\n{explain(proc.stderr)}")
    return proc.stdout


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


def index_options(
    index_url: str | None,
    extra_index_urls: Sequence[str],
    find_links: Sequence[str],
    no_index: bool,
    pre: bool,
    only_binary: Sequence[str],
) -> list[str]:
    """pip options for the command-line flags that the requirements file may also set."""
    options = []
    if index_url:
        options += ["--index-url", index_url]
    for url in extra_index_urls:
        options += ["--extra-index-url", url]
    for link in find_links:
        options += ["--find-links", link]
    if no_index:
        options.append("--no-index")
    if pre:
        options.append("--pre")
    for value in only_binary:
        options += ["--only-binary", value]
    return options


def resolve(
    requirements: Path, interpreter: Interpreter, options: list[str], workdir: Path
) -> list[Artifact]:
    """The wheels to install for ``requirements`` on ``interpreter``, resolved by pip.

    Wheels pip has to fetch or build are written to ``workdir``, which must outlive the
    installation.
    """
    pip = pip_command(interpreter)
    report_path = workdir / "report.json"
    run_pip(
        [
            *pip,
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report_path),
            *options,
            "-r",
            str(requirements),
        ],
        f"resolve {requirements}",
    )
    report = json.loads(report_path.read_text(encoding="utf-8"))
    items: list[dict[str, Any]] = report.get("install", [])
    artifacts, to_build = [], []
    for item in items:
        artifact = _from_report(item, requirements)
        if artifact is None:
            to_build.append(item)
        else:
            artifacts.append(artifact)
    if to_build:
        artifacts.extend(_build(to_build, pip, options, workdir, requirements))
    return sorted(artifacts, key=lambda a: canonicalize_name(a.name))


def _from_report(item: dict[str, Any], requirements: Path) -> Artifact | None:
    """An artifact for a local wheel pip chose, or None when pip must fetch or build it."""
    info = item.get("download_info", {})
    if info.get("dir_info", {}).get("editable"):
        raise SourceError(
            f"{requirements} asks for an editable install of {info.get('url')}; "
            "pep582-migrate installs wheels only: drop -e to install a copy, or run "
            "`python -m pip install --prefix __pypackages__ -e PATH` afterwards"
        )
    parts = urlsplit(info.get("url", ""))
    if parts.scheme != "file" or not parts.path.endswith(".whl") or "archive_info" not in info:
        return None
    wheel = Path(unquote(parts.path))
    _check_hashes(wheel, info["archive_info"])
    return _artifact(item, wheel, str(wheel))


def _artifact(item: dict[str, Any], wheel: Path, origin: str) -> Artifact:
    """The artifact pip's report ``item`` describes, with its wheel at ``wheel``."""
    info = item.get("download_info", {})
    meta = item.get("metadata", {})
    return Artifact(
        name=meta.get("name", ""),
        version=meta.get("version", ""),
        wheel=wheel,
        requested=bool(item.get("requested")),
        direct_url=info if item.get("is_direct") else None,
        origin=origin,
    )


def _check_hashes(path: Path, archive_info: dict[str, Any]) -> None:
    hashes = dict(archive_info.get("hashes") or {})
    if not hashes and archive_info.get("hash"):
        name, _, value = archive_info["hash"].partition("=")
        hashes[name] = value
    check_hashes(path, hashes, "what pip resolved")


def check_hashes(path: Path, hashes: dict[str, str], promised_by: str) -> None:
    """Raise VerificationError unless ``path`` matches every known hash in ``hashes``."""
    for name, value in hashes.items():
        if name not in hashlib.algorithms_guaranteed:
            continue
        with open(path, "rb") as handle:
            actual = raw_digest(handle, name)[0].hex()
        if actual != value:
            raise VerificationError(
                f"{path}: {name} {actual} does not match {promised_by} ({value})"
            )


def _pin(item: dict[str, Any]) -> str:
    """A requirement line that names exactly the artifact pip resolved."""
    info = item["download_info"]
    name = item["metadata"]["name"]
    url = info["url"]
    if "vcs_info" in info:
        vcs = info["vcs_info"]
        return f"{name} @ {vcs['vcs']}+{url}@{vcs['commit_id']}"
    line = f"{name} @ {url}"
    hashes = (info.get("archive_info") or {}).get("hashes") or {}
    return line + "".join(f" --hash={algo}:{value}" for algo, value in hashes.items())


def _build(
    items: list[dict[str, Any]],
    pip: list[str],
    options: list[str],
    workdir: Path,
    requirements: Path,
) -> list[Artifact]:
    """Let pip fetch or build wheels for exactly these resolved artifacts."""
    pinned = [_artifact(item, Path(), item["download_info"]["url"]) for item in items]
    return build_wheels(
        pinned,
        [_pin(item) for item in items],
        pip,
        options,
        workdir,
        f"build wheels for {requirements}",
    )


def build_wheels(
    artifacts: list[Artifact],
    pins: list[str],
    pip: list[str],
    options: list[str],
    workdir: Path,
    what: str,
) -> list[Artifact]:
    """One ``pip wheel --no-deps`` of ``pins``; fills in each artifact's wheel path."""
    pins_file = workdir / "pins.txt"
    pins_file.write_text("\n".join(pins) + "\n", encoding="utf-8")
    wheel_dir = workdir / "wheels"
    run_pip(
        [
            *pip,
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(wheel_dir),
            *options,
            "-r",
            str(pins_file),
        ],
        what,
    )
    built = {}
    for wheel in wheel_dir.glob("*.whl"):
        name, _, _, _ = parse_wheel_filename(wheel.name)
        built[canonicalize_name(name)] = wheel
    for artifact in artifacts:
        found = built.get(canonicalize_name(artifact.name))
        if found is None:
            raise ResolutionError(f"pip built no wheel for {artifact.name} ({artifact.origin})")
        artifact.wheel = found
    return artifacts
