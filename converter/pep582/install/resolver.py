"""Resolving a request for the target interpreter, with uv or pip.

Which resolver runs (``--resolver``, else ``$PEP582_RESOLVER``, else automatic):

- **uv** when it is installed (the ``uv`` package beside this toolkit, or ``uv`` on
  PATH) and nothing in the request needs pip: ``uv pip compile --python TARGET --format
  pylock.toml``, the lock then installed like any ``pylock.toml``. uv's configuration
  applies (``uv.toml``, ``UV_*`` variables).
- **pip** otherwise (``pip --python TARGET install --dry-run --report``); pip's
  configuration applies (``pip.conf``, ``PIP_*`` variables). pip is chosen automatically
  when uv is absent, when pip has index settings of its own (``PIP_INDEX_URL``,
  ``PIP_EXTRA_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX`` or ``index-url``,
  ``extra-index-url``, ``find-links``, ``no-index`` in a pip configuration file — the
  target interpreter's ``sys.prefix/pip.conf`` included, which pip reads when it acts
  for the target): uv does
  not read them and would ask another index; when a requirements file uses what only pip
  honours (``--hash``, ``--require-hashes``, build options, a remote ``-r URL``); and for
  VCS editables (``-e git+…``), which uv cannot install.

Index options given on the command line go to either. Both resolve the same inputs to
the same plan. Wheels are always fetched (and sdists built) through pip.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from packaging.utils import canonicalize_name

from pep582.errors import ResolutionError, SourceError
from pep582.install import inputs, locations, pip, uv
from pep582.install.artifacts import Artifact
from pep582.install.indexes import IndexOptions
from pep582.interpreter import Interpreter
from pep582.parse import toml_text

Resolver = Literal["pip", "uv"]
RESOLVERS: tuple[Resolver, ...] = ("pip", "uv")
RESOLVER_ENV = "PEP582_RESOLVER"
_PIP_INDEX_KEYS = frozenset({"index-url", "extra-index-url", "find-links", "no-index"})


@dataclass
class Request:
    """What to resolve: requirements as the user wrote them (paths made absolute),
    editables, requirements and constraints files, and pins of our own (what stays)."""

    requirements: list[str] = field(default_factory=list)
    editables: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    constraints: list[Path] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)
    cwd: Path = field(default_factory=Path.cwd)  # where relative paths in files resolve
    what: str = "the requirements"


@dataclass
class Resolution:
    artifacts: list[Artifact]
    resolver: Resolver
    notes: list[str] = field(default_factory=list)


def resolve(
    request: Request,
    interpreter: Interpreter,
    index: IndexOptions,
    workdir: Path,
    *,
    resolver: Resolver | None = None,
    src: Callable[[], Path] | None = None,
    show_progress: bool = False,
) -> Resolution:
    """Resolve ``request`` for ``interpreter``: every local file it names judged first
    (:mod:`pep582.install.inputs`), then one resolver run. ``src``: where pip clones VCS
    editables (private to this run; asked only when there are some)."""
    cwd = request.cwd if request.files or request.constraints else None
    found = inputs.scan(
        request.requirements,
        request.editables,
        [*request.files, *request.constraints],
        list(index.find_links),
        request.cwd,
        index_urls=[*([index.index_url] if index.index_url else []), *index.extra_index_url],
        uv_config=uv.config_refusal(cwd) is None,
        prefix=interpreter.prefix,
        run_in=cwd,
    )
    chosen, note = choose(resolver or _from_environment(), found, request.what, interpreter.prefix)
    pins = workdir / "installed.txt"
    pins.write_text("".join(f"{line}\n" for line in request.pins), encoding="utf-8")
    notes = [note] if note else []
    if chosen == "pip":
        arguments = [*request.requirements]
        for editable in request.editables:
            arguments += ["-e", editable]
        for name in request.files:
            arguments += ["-r", str(name)]
        for name in [*request.constraints, pins]:
            arguments += ["-c", str(name)]
        artifacts = pip.resolve(
            arguments,
            interpreter,
            index.for_pip(),
            workdir,
            request.what,
            src=src() if src is not None and found.vcs_editables else workdir / "src",
            cwd=cwd,
            show_progress=show_progress,
        )
        return Resolution(artifacts, "pip", notes)
    return Resolution(_with_uv(request, interpreter, index, workdir, pins, cwd, show_progress),
                      "uv", notes)  # fmt: skip


def _from_environment() -> Resolver | None:
    value = os.environ.get(RESOLVER_ENV, "").strip().lower()
    if not value:
        return None
    if value not in RESOLVERS:
        raise SourceError(f"{RESOLVER_ENV}={value!r}: expected pip or uv")
    return "uv" if value == "uv" else "pip"


def choose(
    asked: Resolver | None, found: inputs.Scan, what: str, prefix: Path | None = None
) -> tuple[Resolver, str]:
    """The resolver for a request, and why when it is not the one asked for (or not uv
    though uv is there); ``prefix``: the target's ``sys.prefix``."""
    needs_pip = found.pip_only[:1] or [f"-e {e}" for e in found.vcs_editables[:1]]
    if asked == "uv":
        uv.executable_or_error("--resolver uv")
        if needs_pip:
            raise SourceError(
                f"{needs_pip[0]}: uv cannot honour this (only pip resolves it); use --resolver pip"
            )
        return "uv", ""
    if asked == "pip":
        return "pip", ""
    if uv.find_uv() is None:
        return "pip", ""
    if needs_pip:
        return "pip", f"resolved with pip: {needs_pip[0]} is understood by pip only"
    configured = pip_index_configuration(prefix)
    if configured:
        return "pip", f"resolved with pip, whose configuration sets an index ({configured})"
    return "uv", ""


def pip_index_configuration(prefix: Path | None = None) -> str | None:
    """Where pip's own configuration chooses an index or find-links location (the first
    place found), or None; ``prefix``: the target's ``sys.prefix``, whose ``pip.conf``
    pip reads when it acts for the target. pip's files (the list the trust judgement and
    the scan use, :func:`pep582.install.locations.sources`) are read, pip is not started."""
    for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        if os.environ.get(key, "").strip():
            return key
    for source in locations.sources(None, prefix):
        if source.resolver != locations.PIP or not os.path.isfile(source.path):
            continue
        for key, _ in locations.pip_entries(source.path):
            if key.replace("_", "-") in _PIP_INDEX_KEYS:
                return f"{key} in {source.path}"
    return None


def _with_uv(
    request: Request,
    interpreter: Interpreter,
    index: IndexOptions,
    workdir: Path,
    pins: Path,
    cwd: Path | None,
    show_progress: bool,
) -> list[Artifact]:
    from pep582.install.pylock import parse_lock, select_lock

    executable = uv.executable_or_error("resolving with uv")
    requested = workdir / "requested.in"
    lines = [*request.requirements, *(f"-e {e}" for e in request.editables)]
    requested.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    inputs_ = [str(requested), *(str(f) for f in request.files)]
    constraints = [str(c) for c in request.constraints] + [str(pins)]
    base = cwd or Path("/")

    def lock(no_deps: bool) -> list[Artifact]:
        text = uv.compile_lock(
            executable,
            inputs_,
            constraints,
            interpreter,
            index.for_uv(),
            request.what,
            cwd=cwd,
            no_deps=no_deps,
            show_progress=show_progress and not no_deps,
        )
        try:
            data = toml_text(text, "the lock uv wrote")
        except SourceError as exc:
            raise ResolutionError(str(exc)) from exc
        parsed = parse_lock(data, f"the lock uv resolved for {request.what}")
        return select_lock(parsed, base, f"uv's lock for {request.what}", interpreter)

    artifacts = lock(no_deps=False)
    direct = _named(request)
    if direct is None:  # files, editables or paths: ask uv which are the direct ones
        direct = {a.key for a in lock(no_deps=True)}
    for artifact in artifacts:
        artifact.requested = artifact.key in direct
    return sorted(artifacts, key=lambda a: a.key)


def _named(request: Request) -> set[str] | None:
    """The names the request asks for when every one is a plain requirement (the daily
    ``pep582 install NAME``), else None."""
    from packaging.requirements import InvalidRequirement, Requirement

    if request.files or request.editables:
        return None
    names: set[str] = set()
    for line in request.requirements:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            return None
        names.add(canonicalize_name(requirement.name))
    return names
