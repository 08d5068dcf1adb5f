"""``pep582 audit``: what a project's ``__pypackages__`` makes possible, found as data.

:func:`audit` reads the trees (:mod:`.tree`), walks the whole ``__pypackages__`` once
through directory descriptors while a thread pool hashes what RECORD files list
(:mod:`.walk`), then runs each family of checks over what was seen: :mod:`.trust`,
:mod:`.shadowing`, :mod:`.scripts`, :mod:`.startup_code`, :mod:`.integrity`,
:mod:`.permissions`, :mod:`.git` and :mod:`.drift`. Each family declares its checks in
:mod:`.registry` (name, severity rule, description, JSON ``details`` keys), from which
``pep582 audit --help`` is generated. Nothing here prints: the result is a
:class:`~.model.Report` that ``pep582.commands.audit`` renders.

May import: ``pep582.fs``, ``proc``, ``scheme``, ``interpreter``, ``sources``,
``step.startup`` (the trust rule), ``errors``; nothing from planning, installing or
commands.
"""

from __future__ import annotations

from pep582.audit.model import EXIT_FINDINGS, SCHEMA_VERSION, SEVERITIES, Finding, Report, Tree
from pep582.audit.registry import CHECKS, checks_help, details_help
from pep582.audit.runner import audit

__all__ = [
    "CHECKS",
    "EXIT_FINDINGS",
    "SCHEMA_VERSION",
    "SEVERITIES",
    "Finding",
    "Report",
    "Tree",
    "audit",
    "checks_help",
    "details_help",
]
