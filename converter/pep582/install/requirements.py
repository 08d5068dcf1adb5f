"""Requirements, resolved and fetched by pip for the target interpreter.

We never parse a requirements file: it goes to pip as ``-r``, so nested files,
constraints, hashes, markers, extras, URLs, local paths and index options all mean what
pip says. pip runs once with ``--dry-run --report`` for the target interpreter
(``pip --python``); that resolves only. Fetching is separate: wheels already unpacked in
our cache (same sha256) need nothing, local wheels are used as they are, and everything
else is fetched or built by one ``pip wheel --no-deps`` of the exact resolved artifacts,
through pip, so its configuration (index auth, certificates, proxies) applies.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pep582.errors import ResolutionError, SourceError, VerificationError
from pep582.interpreter import Interpreter
from pep582.sources.distribution import canonical
from pep582.sources.records import raw_digest

MIN_PIP = (22, 3)  # --python and a stable --report
_PIP_VERSION = re.compile(r"^pip (\d+)\.(\d+)")


@dataclass
class Artifact:
    """One distribution to install, where it comes from, and what to record about it."""

    name: str
    version: str
    url: str = ""  # where pip or the lock found it
    hashes: dict[str, str] = field(default_factory=dict)  # algorithm → hex digest
    requested: bool = False
    direct_url: dict[str, Any] | None = None  # PEP 610, when requested by URL or path
    wheel: Path | None = None  # a local wheel file, once known
    pin: str = ""  # a requirement line naming exactly this artifact (for pip wheel)

    @property
    def key(self) -> str:
        return canonical(self.name)

    @property
    def is_wheel(self) -> bool:
        """Whether the resolved file is itself a wheel (else pip builds one from it)."""
        return urlsplit(self.url).path.endswith(".whl")

    @property
    def sha256(self) -> str | None:
        """The wheel's sha256, when the resolved file is a wheel and its hash is known."""
        return self.hashes.get("sha256") if self.is_wheel else None


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


def run_pip(command: list[str], what: str, show_progress: bool = False) -> str:
    """Run pip; on failure raise one line plus pip's own explanation.

    With ``show_progress`` pip's own progress goes to our stderr (a terminal only).
    """
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    # on a terminal, pip's own lines ("Collecting …", download bars) go to our stderr
    stdout = sys.stderr if show_progress else subprocess.PIPE
    stderr = None if show_progress else subprocess.PIPE
    proc = subprocess.run(command, stdout=stdout, stderr=stderr, text=True, env=env, check=False)
    if proc.returncode != 0:
        errors = proc.stderr or ""
        if any(f"ERROR: {words}" in errors for words in _BAD_INPUT):
            # the input itself is wrong (pip names the file and line): not a resolution
            raise SourceError(f"pip could not {what}: the input is not valid:\n{explain(errors)}")
        unreachable = any(word in errors for word in _NETWORK)
        cause = " (an index or find-links location could not be reached)" if unreachable else ""
        raise ResolutionError(f"pip could not {what}{cause}:\n{explain(errors)}")
    return str(proc.stdout)


# pip's words for input it cannot parse (a requirement, a line of a requirements file).
_BAD_INPUT = ("Invalid requirement", "Invalid URL", "Invalid wheel filename")

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
    requirements: list[str],
    interpreter: Interpreter,
    options: list[str],
    workdir: Path,
    what: str,
    show_progress: bool = False,
) -> list[Artifact]:
    """What pip resolves ``requirements`` (pip arguments: ``-r FILE``, specifiers,
    ``-c FILE``) to for ``interpreter``; nothing is downloaded or built."""
    pip = pip_command(interpreter)
    report_path = workdir / "report.json"
    run_pip(
        [
            *pip,
            "install",
            "--dry-run",
            "--ignore-installed",
            *([] if show_progress else ["--quiet"]),
            "--report",
            str(report_path),
            *options,
            *requirements,
        ],
        f"resolve {what}",
        show_progress,
    )
    report = json.loads(report_path.read_text(encoding="utf-8"))
    items: list[dict[str, Any]] = report.get("install", [])
    return sorted((_artifact(item, what) for item in items), key=lambda a: a.key)


def _artifact(item: dict[str, Any], what: str) -> Artifact:
    info = item.get("download_info", {})
    meta = item.get("metadata", {})
    if info.get("dir_info", {}).get("editable"):
        raise SourceError(
            f"{what} asks for an editable install of {info.get('url')}; "
            "pep582 installs wheels only: drop -e to install a copy, or run "
            "`python -m pip install --prefix __pypackages__ -e PATH` afterwards"
        )
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
    parts = urlsplit(artifact.url)
    if parts.scheme == "file" and parts.path.endswith(".whl") and "archive_info" in info:
        artifact.wheel = Path(unquote(parts.path))
    return artifact


def pin(name: str, direct_url: dict[str, Any]) -> str:
    """A requirement line naming exactly the artifact a PEP 610 ``direct_url`` (or pip's
    ``download_info``, the same shape) describes: VCS commit, subdirectory, hashes."""
    url = direct_url["url"]
    fragment = ""
    if direct_url.get("subdirectory"):
        fragment = f"#subdirectory={direct_url['subdirectory']}"
    if "vcs_info" in direct_url:
        vcs = direct_url["vcs_info"]
        return f"{name} @ {vcs['vcs']}+{url}@{vcs['commit_id']}{fragment}"
    hashes = (direct_url.get("archive_info") or {}).get("hashes") or {}
    line = f"{name} @ {url}{fragment}"
    return line + "".join(f" --hash={algo}:{value}" for algo, value in sorted(hashes.items()))


def check_hashes(path: Path, hashes: dict[str, str], promised_by: str) -> str:
    """Raise VerificationError unless ``path`` matches every hash in ``hashes`` that
    hashlib can compute; at least one must be computable. Returns the file's sha256."""
    usable = {n: v for n, v in hashes.items() if n in hashlib.algorithms_guaranteed}
    if hashes and not usable:
        raise SourceError(
            f"{promised_by} gives {path.name} only hashes this toolkit cannot check "
            f"({', '.join(sorted(hashes))}); add a sha256"
        )
    digests: dict[str, str] = {}
    for name in {"sha256", *usable}:
        with open(path, "rb") as handle:
            digests[name] = raw_digest(handle, name)[0].hex()
    for name, value in usable.items():
        if digests[name] != value.lower():
            raise VerificationError(
                f"{path}: {name} {digests[name]} does not match {promised_by} ({value})"
            )
    return digests["sha256"]


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
    needed = [a for a in artifacts if a.wheel is None]
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
    built = {}
    for wheel in wheel_dir.glob("*.whl"):
        built[canonical(wheel.name.split("-")[0])] = wheel
    for artifact in needed:
        found = built.get(artifact.key)
        if found is None:
            raise ResolutionError(f"pip produced no wheel for {artifact.name} ({artifact.url})")
        artifact.wheel = found


# -- pyproject.toml -----------------------------------------------------------------------


def _requirements(path: Path, where: str, values: object) -> list[str]:
    """PEP 508 requirement strings from a TOML list, each checked by packaging: anything
    else (an option for pip, a stray table) names the file and the entry."""
    from packaging.requirements import InvalidRequirement, Requirement

    if values is None:
        return []
    if not isinstance(values, list):
        raise SourceError(f"{path}: {where} is not a list of requirements")
    checked = []
    for value in values:
        try:
            checked.append(str(Requirement(str(value))))
        except InvalidRequirement as exc:
            raise SourceError(f"{path}: {where}: {value!r} is not a requirement ({exc})") from exc
    return checked


def pyproject_requirements(
    path: Path, extras: Sequence[str], groups: Sequence[str], with_project: bool
) -> list[str]:
    """pip arguments for a project's ``[project].dependencies``, the chosen optional
    extras and PEP 735 dependency groups, without the project itself unless
    ``with_project``. Groups are resolved by ``packaging.dependency_groups`` (includes
    too) rather than pip's ``--group``, so that every entry is checked as a PEP 508
    requirement before pip sees it, whatever pip's version."""
    from pep582.install.tomlfiles import load_toml

    data = load_toml(path)
    project = data.get("project")
    if not isinstance(project, dict):
        raise SourceError(f"{path}: no [project] table; nothing to install")
    name = project.get("name", path.parent.name)
    optional = project.get("optional-dependencies") or {}
    for extra in extras:
        if canonical(extra) not in {canonical(k) for k in optional}:
            raise SourceError(f"{path}: [project.optional-dependencies] has no extra {extra!r}")
    if with_project:
        spec = f"{path.parent}" + (f"[{','.join(extras)}]" if extras else "")
        arguments = [spec]
    else:
        arguments = _requirements(path, "[project].dependencies", project.get("dependencies"))
        for extra in extras:
            key = next(k for k in optional if canonical(k) == canonical(extra))
            arguments += _requirements(path, f"extra {key}", optional[key])
    if groups:
        declared = data.get("dependency-groups") or {}
        names = {canonical(g): g for g in declared}
        chosen = []
        for group in groups:
            if canonical(group) not in names:
                raise SourceError(f"{path}: [dependency-groups] has no group {group!r}")
            chosen.append(names[canonical(group)])
        from packaging.dependency_groups import resolve_dependency_groups

        try:
            resolved = list(resolve_dependency_groups(declared, *chosen))
        except (ValueError, LookupError, TypeError) as exc:
            raise SourceError(f"{path}: [dependency-groups]: {exc}") from exc
        arguments += _requirements(path, "[dependency-groups]", resolved)
    for argument in arguments:
        if argument.startswith("-"):  # never an option for pip, whatever the file says
            raise SourceError(f"{path}: {argument!r} is not a requirement")
    if not arguments:
        raise SourceError(f"{path}: {name} declares no dependencies to install")
    return arguments
