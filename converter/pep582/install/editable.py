"""Editable installs (PEP 660), built by pip and carried into ``__pypackages__``.

pip builds each project's editable wheel with the project's own build backend and
installs it, without dependencies or byte code, into a private prefix of this run
(``pip install --no-deps --prefix``). That prefix is then read like any other source and
carried by the planner: the ``.pth`` or finder that points at the project, its metadata
(``INSTALLER`` and ``direct_url.json`` written by us), and console scripts written anew as
self-locating wrappers, so ``__pypackages__/bin/TOOL`` imports the project.

A VCS editable (``-e git+URL#egg=NAME``) is cloned by pip into this run's prefix
(``--src``), never into the user's directory; the planner copies the checkout to
``__pypackages__/src/NAME`` and points the ``.pth`` there. Its ``direct_url.json`` is
what PEP 610 prescribes for an editable: the checkout's new place with ``dir_info
{"editable": true}``; the checkout's own git metadata says which repository and commit
(:func:`vcs_requirement` turns both into pip's ``-e git+URL@COMMIT#egg=NAME``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pep582 import proc
from pep582.errors import InterpreterError, SourceError
from pep582.fs import Tree
from pep582.install import pip
from pep582.install.artifacts import Artifact
from pep582.interpreter import Interpreter
from pep582.scheme import Scheme
from pep582.sources import Source
from pep582.sources.distribution import inventory
from pep582.sources.records import read_record, read_text, render_record

# The files pip writes about the installation itself; ours replace them when carried.
_PIP_METADATA = ("INSTALLER", "REQUESTED", "direct_url.json")

# pip's choice of scheme for ``--prefix`` in the target (its ``_infer_prefix``), and the
# paths of that scheme: where pip will put each kind of file, so the checkout of a VCS
# editable can be placed inside the prefix's data directory from the start.
_PREFIX_PATHS = r"""
import json, sys, sysconfig
prefix = sys.argv[1]
preferred = getattr(sysconfig, "get_preferred_scheme", None)
if preferred is not None:
    scheme = preferred("prefix")
elif sys.implementation.name == "pypy":
    scheme = "pypy"
else:
    scheme = "posix_prefix"
print(json.dumps(sysconfig.get_paths(scheme, vars={"base": prefix, "platbase": prefix})))
"""


class PrivatePrefix:
    """The prefix editables are built into during one run, and where pip puts what."""

    def __init__(self, interpreter: Interpreter, workdir: Path) -> None:
        self.root = workdir / "editables"
        self.root.mkdir(mode=0o700, exist_ok=True)
        try:
            result = proc.run(
                [interpreter.executable, "-S", "-c", _PREFIX_PATHS, str(self.root)],
                python=True,
                what="interpreter",
                timeout=proc.PROBE_TIMEOUT,
            )
            paths = json.loads(result.stdout.strip().splitlines()[-1])
        except (InterpreterError, ValueError, IndexError) as exc:
            raise InterpreterError(
                f"{interpreter.executable} did not say where an editable install goes: {exc}"
            ) from exc
        self.paths = {key: Path(value) for key, value in paths.items()}
        self.data = self.paths["data"]
        if not str(self.data).startswith(str(self.root)):
            raise InterpreterError(
                f"{interpreter.executable} installs prefix data to {self.data}, outside "
                f"{self.root}"
            )

    @property
    def src(self) -> Path:
        """Where pip clones VCS editables (``--src``): inside the data directory, so the
        planner carries the checkout to ``__pypackages__/src``."""
        return self.data / "src"


def install(
    artifacts: list[Artifact],
    interpreter: Interpreter,
    options: list[str],
    prefix: PrivatePrefix,
    scheme: Scheme,
    what: str,
    show_progress: bool = False,
) -> Source:
    """Build the editable ``artifacts`` into ``prefix`` and describe the result as one
    source for the planner, each distribution carrying what we record about it."""
    projects = [a.editable for a in artifacts if a.editable is not None]
    pip.install_editables(projects, interpreter, options, prefix.root, what, show_progress)
    sites = [d for d in dict.fromkeys([prefix.paths["purelib"], prefix.paths["platlib"]])]
    for site_dir in sites:
        for entry in site_dir.iterdir() if site_dir.is_dir() else []:
            if entry.name.endswith(".dist-info"):
                _forget_pip_metadata(entry)
    source = Source(
        kind="wheel",
        path=prefix.data,
        facts=interpreter.facts,
        site_dirs=[d for d in sites if d.is_dir()],
        scripts=prefix.paths["scripts"],
        include=prefix.paths["include"],
        data=prefix.data,
        tree=Tree.open(prefix.data),
    )
    for site_dir in source.site_dirs:
        source.distributions.extend(inventory(site_dir, source.tree))
    by_key = {a.key: a for a in artifacts}
    for dist in source.distributions:
        artifact = by_key.get(dist.key)
        if artifact is None or artifact.editable is None:
            raise SourceError(f"pip installed {dist.label}, which {what} did not ask for")
        where = artifact.editable
        if _under(where, prefix.data):  # a VCS checkout: it moves into __pypackages__
            where = Path(scheme.data) / where.relative_to(prefix.data)
        dist.requested = artifact.requested
        dist.direct_url = {"url": where.as_uri(), "dir_info": {"editable": True}}
        dist.editable = True
        dist.origin = artifact.url or where.as_uri()
    missing = set(by_key) - {d.key for d in source.distributions}
    if missing:
        raise SourceError(f"pip did not install {', '.join(sorted(missing))} editable")
    return source


def _under(path: Path, directory: Path) -> bool:
    return path == directory or str(path).startswith(str(directory) + os.sep)


def _forget_pip_metadata(meta_dir: Path) -> None:
    """Drop what pip recorded about its own installation (``INSTALLER``, ``REQUESTED``,
    ``direct_url.json`` naming the private prefix) and their RECORD rows: the planner
    writes ours for the place the distribution really goes."""
    record = meta_dir / "RECORD"
    names = {f"{meta_dir.name}/{name}" for name in _PIP_METADATA}
    entries = [e for e in read_record(record) if e.path not in names]
    for name in _PIP_METADATA:
        (meta_dir / name).unlink(missing_ok=True)
    record.write_bytes(render_record(entries))


def vcs_requirement(name: str, direct_url: dict[str, object]) -> str | None:
    """pip's freeze line for an editable whose directory is a git checkout
    (``-e git+URL@COMMIT#egg=NAME``), read from the checkout's own metadata without
    running git; None when the editable is not a git checkout with a remote."""
    from pep582.install.localfiles import path_of_url

    info = direct_url.get("dir_info")
    url = direct_url.get("url")
    if not isinstance(info, dict) or not info.get("editable") or not isinstance(url, str):
        return None
    checkout = path_of_url(url)
    if checkout is None:
        return None
    git = checkout / ".git"
    try:
        remote = _origin_url(read_text(git / "config"))
        commit = _head_commit(git)
    except (SourceError, OSError):
        return None
    if remote is None or commit is None:
        return None
    return f"-e git+{remote}@{commit}#egg={name}"


def freeze_line(name: str, url: str) -> str:
    """pip's freeze line for an editable installed from ``url`` (its ``direct_url``):
    ``-e git+URL@COMMIT#egg=NAME`` for a git checkout, else ``-e PATH``."""
    from pep582.install.localfiles import path_of_url

    found = vcs_requirement(name, {"url": url, "dir_info": {"editable": True}})
    if found is not None:
        return found
    local = path_of_url(url)
    return f"-e {local}" if local is not None else f"-e {url}"


def _origin_url(config: str) -> str | None:
    section = ""
    for line in config.splitlines():
        text = line.strip()
        if text.startswith("["):
            section = text.strip("[]").replace('"', "").strip()
        elif section == "remote origin" and text.partition("=")[0].strip() == "url":
            return text.partition("=")[2].strip()
    return None


def _head_commit(git: Path) -> str | None:
    head = read_text(git / "HEAD").strip()
    if not head.startswith("ref:"):
        return head if _is_sha(head) else None
    ref = head[4:].strip()
    loose = git / ref
    if loose.is_file():
        value = read_text(loose).strip()
        return value if _is_sha(value) else None
    packed = git / "packed-refs"
    if packed.is_file():
        for line in read_text(packed).splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref and _is_sha(sha):
                return sha
    return None


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)
