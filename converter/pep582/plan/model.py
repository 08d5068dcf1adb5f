"""The plan: every change to a ``__pypackages__``, decided before anything is written.

One plan type serves every operation (migrating a venv or a ``__pypackages__``,
installing wheels from requirements, a lock or a pyproject, uninstalling): changes to
distributions (add, upgrade, keep, remove) and the file actions that carry them out.
``--dry-run`` prints it, ``--json`` serialises it (schema below), and the executor
carries it out without deciding anything again.

JSON schema (``"schema": 1``; keys are stable, new keys may be added)::

    {
      "schema": 1,
      "operation": "migrate" | "install" | "uninstall",
      "sources": [str],              # what was read
      "target": str,                 # the __pypackages__ directory
      "layout": "pep582" | "pdm",
      "existing": "refuse" | "merge" | "replace",
      "interpreter": str,            # what console scripts name
      "schemes": [{"purelib", "platlib", "scripts", "include", "data": str}],
      "mode": "link" | "copy", "verify": bool, "compile": bool,
      "distributions": [{"name", "version", "action", "previous", "python", "kind",
                         "editable", "requested", "scripts", "origin"}],
      "files": {"carry", "write", "symlink", "tree", "remove": int, "already_present": int},
      "skipped": [{"what", "reason"}], "warnings": [str], "notes": [str],
      "unowned": {"count": int, "carried": bool, "paths": [str]},
      "noop": str | null,            # why there is nothing to do, if so
      "actions": [{"kind", "target", "source"}],   # with --verbose only
      "result": {"linked", "copied", "copied_foreign", "unverified", "written", "symlinks",
                 "trees", "removed", "bytes", "seconds", "compiled"}   # after execution
    }

``action`` is ``add``, ``upgrade`` (``previous`` holds the old version), ``keep`` (already
present at that version), or ``remove``. Errors with ``--json`` are one object on
stderr: ``{"error": {"kind", "message", "exit_code"}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pep582 import SLOTS
from pep582.fs import Tree
from pep582.scheme import Layout, Scheme
from pep582.sources.records import RecordEntry
from pep582.step.startup import DIRNAME

Existing = Literal["refuse", "merge", "replace"]
SCHEMA = 1
Operation = Literal["migrate", "install", "uninstall"]
ChangeKind = Literal["add", "upgrade", "keep", "remove"]
ActionKind = Literal["carry", "write", "symlink", "tree"]


@dataclass(**SLOTS)
class FileAction:
    """One entry of the new tree, relative to ``__pypackages__`` (POSIX separators).

    ``carry``: hard-link (or copy) ``source`` (read through ``tree``, the source opened at
    its root, or, for a file a link led to, by its judged real path), checked against
    ``expected``; ``write``: create it with ``data``; ``symlink``: a link to
    ``link_target``; ``tree``: copy the directory ``source`` whole (an editable checkout
    that lived inside a venv).
    """

    kind: ActionKind
    target: str
    source: str | None = None  # absolute, for messages and, below ``tree``, for reading
    data: bytes | None = None
    mode: int = 0o644
    expected: RecordEntry | None = None
    link_target: str | None = None
    owner: str = ""  # "name version" of the distribution it belongs to
    python: str = ""  # version tag of the source it comes from
    tree: Tree | None = field(default=None, repr=False, compare=False)
    inode: int | None = None  # carry: the source file's inode when planned


@dataclass
class Removal:
    """Something of the existing tree that the new one no longer has."""

    target: str  # relative to __pypackages__; a directory is removed whole
    owner: str
    reason: str


@dataclass
class Change:
    """What happens to one distribution."""

    name: str
    version: str
    action: ChangeKind
    python: str  # the version tag of the site directory: "3.12", "3.13t"
    previous: str | None = None
    kind: str = "dist-info"
    editable: bool = False
    requested: bool = False
    scripts: list[str] = field(default_factory=list)
    origin: str = ""


@dataclass
class Skipped:
    what: str
    reason: str


Publish = Literal["tree", "incremental"]


@dataclass
class Plan:
    """Everything one run will do to one ``__pypackages__``.

    ``publish``: ``tree`` builds a whole new tree beside the old one and swaps it in (a
    migration, ``--replace``, a first install; ``clone`` starts the stage as a hard-linked
    copy of the old tree); ``incremental`` stages only what changes and moves it into the
    live tree, one top-level entry at a time, under a journal (daily installs and
    uninstalls: the cost follows the change).
    """

    operation: Operation
    project: Path
    layout: Layout
    existing: Existing
    interpreter: str = ""  # what console scripts name (a resolved path, or /usr/bin/env X)
    python: str = ""  # the interpreter that runs for the plan (--compile), if any
    link: bool = True
    verify: bool = True
    compile: bool = False
    sources: list[str] = field(default_factory=list)
    schemes: list[Scheme] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    actions: list[FileAction] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unowned: list[str] = field(default_factory=list)
    unowned_carried: bool = False
    already_present: int = 0
    noop: str | None = None
    publish: Publish = "tree"
    clone: bool = False  # "tree" publish: the stage starts as a copy of the existing tree

    @property
    def target(self) -> Path:
        return self.project / DIRNAME

    def counts(self) -> dict[str, int]:
        counts = {"carry": 0, "write": 0, "symlink": 0, "tree": 0}
        for action in self.actions:
            counts[action.kind] += 1
        counts["remove"] = len(self.removals)
        counts["already_present"] = self.already_present
        return counts

    def changed(self, *kinds: ChangeKind) -> list[Change]:
        return [c for c in self.changes if c.action in kinds]

    def as_dict(self, with_actions: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema": SCHEMA,
            "operation": self.operation,
            "sources": self.sources,
            "target": str(self.target),
            "layout": self.layout,
            "existing": self.existing,
            "interpreter": self.interpreter,
            "schemes": [s.as_dict() for s in self.schemes],
            "mode": "link" if self.link else "copy",
            "verify": self.verify,
            "compile": self.compile,
            "distributions": [vars(c) for c in self.changes],
            "files": self.counts(),
            "skipped": [vars(s) for s in self.skipped],
            "warnings": self.warnings,
            "notes": self.notes,
            "unowned": {
                "count": len(self.unowned),
                "carried": self.unowned_carried,
                "paths": self.unowned,
            },
            "noop": self.noop,
        }
        if with_actions:
            data["actions"] = [
                {"kind": a.kind, "target": a.target, "source": a.source} for a in self.actions
            ] + [{"kind": "remove", "target": r.target, "source": None} for r in self.removals]
        return data


@dataclass
class Report:
    """What execution did."""

    plan: Plan
    linked: int = 0
    copied: int = 0
    copied_foreign: int = 0  # copied because another user owns the source file
    unverified: int = 0  # carried without a hash to check (RECORD has none, or --no-verify)
    written: int = 0
    symlinks: int = 0
    trees: int = 0
    removed: int = 0
    compiled: int = 0
    bytes: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # found while executing
    published: bool = False  # the change is in place (what follows is byte code, pruning)

    def as_dict(self) -> dict[str, Any]:
        data = self.plan.as_dict()
        data["warnings"] = [*data["warnings"], *self.warnings]
        data["result"] = {
            "linked": self.linked,
            "copied": self.copied,
            "copied_foreign": self.copied_foreign,
            "unverified": self.unverified,
            "written": self.written,
            "symlinks": self.symlinks,
            "trees": self.trees,
            "removed": self.removed,
            "compiled": self.compiled,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 4),
        }
        return data
