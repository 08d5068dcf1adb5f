"""What the checks of one audit share: the report, the walk's index, who owns what.

Every check family module is a function of a :class:`Context`; it reports through
:meth:`Context.add`, which holds each finding to its declaration in the registry.
"""

from __future__ import annotations

import os
import shlex
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

from pep582.audit.model import Finding, Report, Severity, Stdlib
from pep582.audit.registry import Check
from pep582.audit.walk import Index
from pep582.interpreter import Interpreter


class Context:
    """One audit in progress."""

    def __init__(self, report: Report, pool: Executor, project: Path) -> None:
        self.report = report
        self.pool = pool
        self.project = project
        self.root = report.pypackages
        self.prefix = self.root.rstrip(os.sep) + os.sep
        self.target = Stdlib({}, "")  # the target's, once stdlib_of answers
        self.owners: dict[str, str] = {}  # a RECORD-listed file -> "name version"
        self.shared: list[tuple[str, str, str]] = []  # (file, first owner, second owner)
        self.checkouts: dict[str, str] = {}  # editable checkout in the tree -> its owner
        self.others: dict[str, Future[tuple[Interpreter | None, Stdlib | None]]] = {}
        self._index: Index | None = None
        self._seen: set[tuple[str, str, str]] = set()

    @property
    def index(self) -> Index:
        assert self._index is not None, "the tree has not been walked"
        return self._index

    @index.setter
    def index(self, value: Index) -> None:
        self._index = value

    def add(
        self, check: Check, severity: Severity, path: str, message: str, fix: str, **details: Any
    ) -> None:
        """Report a finding of ``check`` (once per check, path and message)."""
        if severity not in check.severities or not check.keys.issuperset(details):
            raise AssertionError(
                f"{check.name}: {severity} or {sorted(details)} is not what it declares"
            )
        key = (check.name, path, message)
        if key not in self._seen:
            self._seen.add(key)
            self.report.findings.append(Finding(check.name, severity, path, message, fix, details))

    def skip(self, note: str) -> None:
        """Say what was not checked, and why."""
        self.report.skipped.append(note)

    # who owns what ------------------------------------------------------------------------

    def checkout_of(self, path: str) -> str | None:
        """The editable checkout in the tree that holds ``path``, if any."""
        for checkout in self.checkouts:
            if path == checkout or path.startswith(checkout + os.sep):
                return checkout
        return None

    def owning_dist(self, path: str) -> str | None:
        """The distribution whose RECORD lists ``path``, or whose editable checkout
        holds it."""
        norm = os.path.normpath(path)
        owner = self.owners.get(norm)
        if owner is None and self.checkouts:
            checkout = self.checkout_of(norm)
            owner = self.checkouts[checkout] if checkout else None
        return owner

    def owner_of(self, path: str) -> str | None:
        """The distribution owning ``path``, a file or any file under a directory."""
        owner = self.owning_dist(path)
        if owner is not None:
            return owner
        under = os.path.normpath(path) + os.sep
        return next((o for p, o in self.owners.items() if p.startswith(under)), None)


def user_name(uid: int) -> str:
    """The account name of ``uid`` (its number when it has none)."""
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def user(uid: int) -> str:
    """``name (uid N)``, as findings name people."""
    return f"{user_name(uid)} (uid {uid})"


def lies_inside(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or below it, both by their real paths."""
    real, top = os.path.realpath(path), os.path.realpath(directory)
    return real == top or real.startswith(top + os.sep)


def quoted(path: str) -> str:
    """``path`` as a shell word (fixes are meant to be pasted)."""
    return shlex.quote(path)
