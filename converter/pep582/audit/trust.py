"""The startup step's own verdict on the tree (``startup.judge``), as the auditing user:
the audit and the interpreter cannot disagree. (The rule refuses a FIFO or device in a
site directory before it reads a ``.pth`` file, so a planted FIFO cannot hang it.)"""

from __future__ import annotations

import os

from pep582.audit.context import Context, user
from pep582.audit.registry import declare
from pep582.step.startup import judge

TRUST = declare(
    "trust-refused",
    "trust",
    "high",
    "the startup step's trust rule refuses the tree for the auditing user",
    {"reason": "the startup step's words", "command": ""},
)
FIX = (
    "make every directory from / down to the site directory, and the .pth and "
    "sitecustomize files in it, owned by you or root and writable by nobody else "
    "(chown, chmod go-w, setfacl -b); if you did not put them there, inspect the tree first"
)


def run(ctx: Context) -> None:
    for tree in ctx.report.trees:
        _, reason = judge(ctx.root, tree.site_dirs)
        auditor = user(os.geteuid()) if hasattr(os, "geteuid") else "you"
        if reason:
            ctx.add(
                TRUST,
                "high",
                ctx.root,
                f"the startup step refuses this __pypackages__ for {auditor} "
                f"({tree.command}): {reason}; nothing in it would be imported",
                FIX,
                reason=reason,
                command=tree.command,
            )
