"""The audit's report as data: findings, the trees they were found in, and the JSON form.

Nothing here reads the disk or prints; :func:`pep582.audit.audit` fills a :class:`Report`
and ``pep582.commands.audit`` renders it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pep582.interpreter import Interpreter
from pep582.scheme import InterpreterFacts, Layout
from pep582.sources.distribution import Distribution

Severity = Literal["high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low")
SCHEMA_VERSION = 1
EXIT_FINDINGS = 11  # a finding reached --fail-on (errors.EXIT_CODES lists it)


@dataclass
class Finding:
    """One thing worth knowing about the project, with what to do about it."""

    check: str  # a registered check's name: "hash-mismatch", "trust-refused", ...
    severity: Severity
    path: str
    message: str  # what it means
    fix: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
            "fix": self.fix,
            "details": self.details,
        }


@dataclass
class Stdlib:
    """An interpreter's standard library names and how each resolves there."""

    kinds: dict[str, str]  # name -> builtin | frozen | startup | path | absent
    source: str  # where the names came from, said in the report
    scripts_dirs: list[str] = field(default_factory=list)


@dataclass
class Tree:
    """The part of ``__pypackages__`` one interpreter version uses."""

    layout: Layout
    facts: InterpreterFacts
    site_dirs: list[str]  # the scheme's purelib and platlib that exist
    scripts: str
    version_dirs: list[str]  # what removing this tree removes (lib/python3.12, 3.11, ...)
    interpreter: str | None = None  # an executable for it on this machine; None: stale
    distributions: list[Distribution] = field(default_factory=list)
    unreadable: bool = False  # its distributions could not be read; checks skipped
    stdlib: Stdlib | None = None

    @property
    def command(self) -> str:
        return self.facts.command

    def as_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "command": self.command,
            "site_dirs": self.site_dirs,
            "scripts": self.scripts,
            "interpreter": self.interpreter,
            "distributions": len(self.distributions),
        }


@dataclass
class Report:
    """Everything the audit found, as data; ``as_dict`` is the ``--json`` object."""

    project: str
    pypackages: str
    exists: bool
    interpreter: Interpreter
    why: str
    stdlib_source: str = ""
    trees: list[Tree] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    files_hashed: int = 0
    bytes_hashed: int = 0
    entries_walked: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def reaches(self, fail_on: str) -> bool:
        """Whether a finding is at or above ``fail_on`` (``never``: never)."""
        if fail_on not in SEVERITIES:
            return False
        worst = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        return any(f.severity in worst for f in self.findings)

    @property
    def distributions(self) -> int:
        return sum(len(t.distributions) for t in self.trees)

    def sort(self) -> None:
        """Most severe first, then by check and path (the order both outputs use)."""
        rank = {severity: index for index, severity in enumerate(SEVERITIES)}
        self.findings.sort(key=lambda f: (rank[f.severity], f.check, f.path))

    def as_dict(self, fail_on: str = "high") -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "project": self.project,
            "pypackages": self.pypackages,
            "exists": self.exists,
            "interpreter": {
                "executable": str(self.interpreter.executable),
                "command": self.interpreter.facts.command,
                "why": self.why,
                "stdlib": self.stdlib_source,
            },
            "trees": [t.as_dict() for t in self.trees],
            "findings": [f.as_dict() for f in self.findings],
            "counts": self.counts(),
            "fail_on": fail_on,
            "failed": self.reaches(fail_on),
            "skipped": self.skipped,
            "stats": {
                "distributions": self.distributions,
                "files_hashed": self.files_hashed,
                "bytes_hashed": self.bytes_hashed,
                "entries_walked": self.entries_walked,
                "seconds": round(self.seconds, 3),
            },
        }
