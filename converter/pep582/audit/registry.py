"""The checks the audit knows: each declared once, with its name, severity rule, one-line
description and the keys of its JSON ``details``.

A check family module declares its checks with :func:`declare` and reports through
``Context.add``, which refuses a severity or a details key the declaration does not name.
``pep582 audit --help`` prints :func:`checks_help` and :func:`details_help`, so the help
and the findings cannot drift apart.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from pep582.audit.model import SEVERITIES, Severity

WIDTH = 96
# The families, in the order the help lists them (and the audit runs them).
FAMILIES = (
    "trust",
    "shadowing",
    "scripts",
    "startup code",
    "integrity",
    "ownership and permissions",
    "git hygiene",
    "stale and drift",
)


@dataclass(frozen=True)
class Check:
    """One kind of finding."""

    name: str
    family: str  # the module that reports it: trust, shadowing, scripts, ...
    rule: str  # its severities and when each applies, as the help says it
    description: str  # one line: what it finds
    details: tuple[tuple[str, str], ...]  # (key, what it holds) of its JSON details

    @property
    def severities(self) -> frozenset[Severity]:
        """The severities its rule names (the only ones it may report)."""
        words = set(re.findall(r"[a-z]+", self.rule))
        return frozenset(s for s in SEVERITIES if s in words)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(key for key, _ in self.details)


CHECKS: dict[str, Check] = {}


def declare(name: str, family: str, rule: str, description: str, details: dict[str, str]) -> Check:
    """Register a check (once per name) and return it."""
    if name in CHECKS:
        raise ValueError(f"audit check {name!r} is declared twice")
    if family not in FAMILIES:
        raise ValueError(f"audit check {name!r}: unknown family {family!r}")
    check = Check(name, family, rule, description, tuple(details.items()))
    if not check.severities:
        raise ValueError(f"audit check {name!r}: its rule names no severity")
    CHECKS[name] = check
    return check


def _wrapped(head: str, text: str, indent: int) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=head,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def ordered() -> list[Check]:
    """Every check, by family (in :data:`FAMILIES` order), then as declared."""
    return sorted(CHECKS.values(), key=lambda check: FAMILIES.index(check.family))


def checks_help() -> str:
    """``name (severity rule): description`` for every check, grouped by family."""
    lines: list[str] = []
    family = ""
    for check in ordered():
        if check.family != family:
            family = check.family
            lines.append(f"  {family}:")
        lines += _wrapped("    ", f"{check.name} ({check.rule}): {check.description}", 6)
    return "\n".join(lines)


def details_help(indent: int = 17) -> str:
    """The table of ``details`` keys by check, as the ``--json`` description lists it."""
    width = max(len(name) for name in CHECKS) + 2
    lines: list[str] = []
    for check in ordered():
        keys = ", ".join(f"{key} ({doc})" if doc else key for key, doc in check.details)
        head = " " * indent + check.name.ljust(width)
        lines += _wrapped(head, keys or "(none)", indent + width)
    return "\n".join(lines)
