"""Installing a set of wheels into a ``__pypackages__`` scheme with ``installer``, atomically.

Shared by requirements files and lock files: both end in a list of :class:`Artifact` (a
wheel on disk plus what to record about it), which is installed into a staging directory
through installer's scheme destination (our console-script wrappers replace installer's),
then published with the same lock, stage and swap as a venv migration.
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import os
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import RecordEntry
from installer.sources import WheelFile
from installer.utils import Scheme as SchemeName
from packaging.utils import canonicalize_name

from pep582.errors import ConflictError, SourceError
from pep582.interpreter import Interpreter
from pep582.scheme import Layout, Scheme, scheme_for
from pep582.scripts import locator, wrapper
from pep582.staging import Existing, check_destination, staged
from pep582.startup import DIRNAME

INSTALLER_NAME = b"pep582-toolkit\n"
WORKERS = min(4, os.cpu_count() or 1)


@dataclass
class Artifact:
    """One wheel to install, and the metadata that says where it came from."""

    name: str
    version: str
    wheel: Path
    requested: bool = False
    direct_url: dict[str, Any] | None = None
    origin: str = ""  # where the wheel was found, for the report


@dataclass
class InstallPlan:
    """A resolved set of wheels for one interpreter and one target layout."""

    source: str
    project: Path
    layout: Layout
    scheme: Scheme
    interpreter: Interpreter
    existing: Existing
    artifacts: list[Artifact] = field(default_factory=list)
    present: list[str] = field(default_factory=list)  # --merge: already installed
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def target(self) -> Path:
        return self.project / DIRNAME

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": str(self.target),
            "layout": self.layout,
            "scheme": self.scheme.as_dict(),
            "interpreter": str(self.interpreter.executable),
            "python": self.interpreter.facts.describe(),
            "existing": self.existing,
            "install": [
                {
                    "name": a.name,
                    "version": a.version,
                    "requested": a.requested,
                    "direct": a.direct_url is not None,
                    "from": a.origin,
                }
                for a in self.artifacts
            ],
            "already_present": self.present,
            "skipped": [{"what": w, "reason": r} for w, r in self.skipped],
            "warnings": self.warnings,
        }


class _LocalPackagesDestination(SchemeDictionaryDestination):
    """installer's scheme destination, writing our self-locating console scripts."""

    def __init__(
        self,
        scheme: dict[str, str],
        root: str,
        layout: Layout,
        interpreter: str,
        skipped: list[str],
    ) -> None:
        super().__init__(
            scheme,
            interpreter=interpreter,
            script_kind="posix",
            bytecode_optimization_levels=(),
        )
        site_dirs = list(dict.fromkeys([scheme["purelib"], scheme["platlib"]]))
        fixed = None if layout == "pep582" else site_dirs
        self.prepare = locator(root, scheme["scripts"], fixed)
        self.skipped_scripts = skipped

    def write_script(self, name: str, module: str, attr: str, section: str) -> RecordEntry:
        data = wrapper(module, attr, self.interpreter, self.prepare)
        return self.write_to_fs(SchemeName("scripts"), name, io.BytesIO(data), is_executable=True)


class _Wheel(WheelFile):
    """A wheel whose ``.py``-named console scripts are not generated (see the PEP)."""

    skipped: list[str]

    def read_dist_info(self, filename: str) -> str:
        text = str(super().read_dist_info(filename))
        if filename != "entry_points.txt":
            return text
        kept = []
        section = ""
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("["):
                section = stripped
            name = stripped.split("=", 1)[0].strip()
            if section in ("[console_scripts]", "[gui_scripts]") and name.endswith(".py"):
                self.skipped.append(name)
                continue
            kept.append(line)
        return "\n".join(kept) + "\n"


def _installed_versions(site_dirs: list[Path]) -> dict[str, str]:
    """Canonical name → version of the dist-infos already in ``site_dirs``."""
    found: dict[str, str] = {}
    for site_dir in site_dirs:
        if not site_dir.is_dir():
            continue
        for info in site_dir.glob("*.dist-info"):
            name, _, version = info.name[: -len(".dist-info")].partition("-")
            found[canonicalize_name(name)] = version
    return found


def new_plan(
    source: str,
    project: Path,
    layout: Layout,
    interpreter: Interpreter,
    artifacts: list[Artifact],
    existing: Existing,
) -> InstallPlan:
    """Decide what to install; with --merge, what is already there is kept or conflicts."""
    project = project.absolute()
    check_destination(project, existing)
    scheme = scheme_for(project, interpreter.facts, layout)
    plan = InstallPlan(source, project, layout, scheme, interpreter, existing)
    present: dict[str, str] = {}
    if existing == "merge":
        present = _installed_versions([Path(d) for d in scheme.site_dirs])
    for artifact in artifacts:
        version = present.get(canonicalize_name(artifact.name))
        if version is None:
            plan.artifacts.append(artifact)
        elif version == artifact.version:
            plan.present.append(f"{artifact.name} {version}")
        else:
            raise ConflictError(
                f"{artifact.name} {version} is already in {plan.target}; the new set wants "
                f"{artifact.version} (use --replace to start afresh)"
            )
    return plan


def _stage_scheme(plan: InstallPlan, stage: Path) -> dict[str, str]:
    """The plan's scheme with the staging directory in place of ``__pypackages__``."""
    root = str(plan.target)
    return {
        key: str(stage) + value[len(root) :] if value.startswith(root) else value
        for key, value in plan.scheme.as_dict().items()
    }


def execute(plan: InstallPlan) -> float:
    """Install every artifact into a stage and publish it; return the seconds taken."""
    started = time.perf_counter()
    with staged(plan.project, plan.existing) as stage:
        scheme = _stage_scheme(plan, stage)
        for key in ("purelib", "platlib", "scripts"):
            os.makedirs(scheme[key], exist_ok=True)
        skipped: list[str] = []
        destination = _LocalPackagesDestination(
            scheme, str(stage), plan.layout, str(plan.interpreter.executable), skipped
        )
        _check_overlaps(plan.artifacts)
        # File creation is syscall-bound and releases the GIL: wheels install side by side.
        # They cannot race on a file: overlaps between wheels were refused just above.
        with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = [pool.submit(_install_one, a, destination, skipped) for a in plan.artifacts]
            for future in futures:
                future.result()
        plan.skipped.extend(
            (f"console script {name}", "names ending in .py can shadow modules; not written")
            for name in skipped
        )
    return time.perf_counter() - started


def _check_overlaps(artifacts: list[Artifact]) -> None:
    """Refuse two wheels that would write the same file, naming both and the file."""
    owners: dict[str, str] = {}
    for artifact in artifacts:
        with zipfile.ZipFile(artifact.wheel) as archive:
            names = archive.namelist()
        for name in names:
            if name.endswith("/") or ".dist-info/" in name:
                continue
            head, _, rest = name.partition("/")
            place = rest if head.endswith(".data") else name  # .data/<scheme>/<path>
            other = owners.setdefault(place, artifact.name)
            if other != artifact.name:
                raise ConflictError(
                    f"{artifact.name} and {other} both install {place}; refusing to install "
                    "one over the other"
                )


def _install_one(
    artifact: Artifact, destination: _LocalPackagesDestination, skipped: list[str]
) -> None:
    metadata = {"INSTALLER": INSTALLER_NAME}
    if artifact.requested:
        metadata["REQUESTED"] = b""
    if artifact.direct_url is not None:
        metadata["direct_url.json"] = json.dumps(artifact.direct_url, sort_keys=True).encode()
    try:
        with _Wheel.open(artifact.wheel) as source:
            assert isinstance(source, _Wheel)
            source.skipped = skipped
            install(source, destination, additional_metadata=metadata)
    except FileExistsError as exc:
        raise ConflictError(f"{artifact.name}: {exc}") from exc
    except Exception as exc:  # installer reports bad wheels with several exception types
        if isinstance(exc, (ConflictError, KeyboardInterrupt)):
            raise
        raise SourceError(f"{artifact.wheel.name}: cannot be installed: {exc}") from exc


def summary(plan: InstallPlan, seconds: float) -> list[str]:
    """Closing lines for the report."""
    lines = [
        f"installed {len(plan.artifacts)} distributions into {plan.target} "
        f"({plan.layout} layout, for {plan.interpreter.facts.describe()}) in {seconds:.3f}s"
    ]
    if plan.present:
        lines.append(f"  already present: {', '.join(plan.present)}")
    lines.extend(f"  skipped {what}: {why}" for what, why in plan.skipped)
    lines.extend(f"  warning: {w}" for w in plan.warnings)
    lines.append("next:")
    lines.append(f"  pep582 run --python {plan.interpreter.executable} SCRIPT")
    lines.append(f"  console scripts: {plan.scheme.scripts}/")
    return lines


def describe_plan(plan: InstallPlan) -> list[str]:
    """The plan as text for --dry-run."""
    lines = [
        f"source:  {plan.source}",
        f"target:  {plan.target} ({plan.layout} layout, {plan.existing})",
        f"python:  {plan.interpreter.executable} ({plan.interpreter.facts.describe()})",
    ]
    lines.extend(f"  {key:<8} {value}" for key, value in plan.scheme.as_dict().items())
    lines.append(f"install ({len(plan.artifacts)}):")
    for artifact in plan.artifacts:
        flags = ", ".join(
            f
            for f, on in (
                ("requested", artifact.requested),
                ("direct", artifact.direct_url is not None),
            )
            if on
        )
        lines.append(
            f"  {artifact.name} {artifact.version}"
            + (f" [{flags}]" if flags else "")
            + (f" from {artifact.origin}" if artifact.origin else "")
        )
    if plan.present:
        lines.append(f"already present: {', '.join(plan.present)}")
    lines.extend(f"warning: {w}" for w in plan.warnings)
    return lines
