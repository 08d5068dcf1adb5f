"""Ownership, permissions and links of every entry of the tree, however deep (issue 21,
class 4): what another user may change, and what leads out of a distribution's files.

The walk (:mod:`pep582.audit.walk`) saw each entry once; this module judges what it
noted. Who may write an entry is :func:`pep582.step.startup.foreign_writers`' answer, the
trust rule's own words; a link is resolved from what the walk saw, never followed.
"""

from __future__ import annotations

import errno
import os
import stat

from pep582.audit.context import Context, quoted, user, user_name
from pep582.audit.integrity import CODE_SUFFIXES
from pep582.audit.model import Severity
from pep582.audit.registry import declare
from pep582.step.startup import DIRNAME, untrusted_path

FAMILY = "ownership and permissions"
COMMON = {
    "kind": '"directory"|"file"|"link"',
    "owner": "name (uid N)",
    "mode": '"0o775"',
    "distribution": "",
}
FOREIGN_OWNER = declare(
    "foreign-owner",
    FAMILY,
    "high; medium for a data file",
    "an entry owned by someone other than the tree's owner or root",
    {**COMMON, "tree_owner": ""},
)
WRITABLE = declare(
    "writable-by-others",
    FAMILY,
    "high; medium for a data file",
    "an entry another user may write: other-write, a shared group's write, an ACL grant "
    "(byte code in such a directory is high)",
    {
        **COMMON,
        "writers": "who, and the group or ACL that grants it",
        "acl": "bool",
        "bytecode": "bool",
    },
)
LINK = declare(
    "link-leaves",
    FAMILY,
    "high when it leaves the tree; medium when it leaves its distribution's files",
    "a symbolic link that leads out of its distribution's own files, or out of the tree",
    {
        "target": "the link's text",
        "resolved": "",
        "leaves": '"tree"|"distribution"',
        "distribution": "",
        "target_trust": "why another user could change the target, or null",
    },
)
UNREADABLE = declare(
    "unreadable-directory",
    FAMILY,
    "medium",
    "a directory of the tree the audit could not enter (nothing below it was checked)",
    {"error": ""},
)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    return "link" if stat.S_ISLNK(mode) else "file"


def _is_code(ctx: Context, path: str, mode: int) -> bool:
    """Directories (anything may be put in them), importable or runnable files, byte code,
    scripts: what someone else changing runs as whoever uses the tree."""
    if stat.S_ISDIR(mode) or mode & 0o111 or path.endswith(CODE_SUFFIXES):
        return True
    parent = os.path.dirname(path)
    return parent.endswith(os.sep + "__pycache__") or any(
        parent == t.scripts for t in ctx.report.trees
    )


def _holds_bytecode(ctx: Context, path: str, mode: int) -> bool:
    if not stat.S_ISDIR(mode):
        return path.endswith((".pyc", ".pyo"))
    names = ctx.index.entries(path)
    return path.endswith(os.sep + "__pycache__") or any(
        n.endswith((".pyc", ".pyo")) or n == "__pycache__" for n in names
    )


def run(ctx: Context) -> None:
    index = ctx.index
    tree_owner = user(index.uid)
    trusted = (
        "root, the tree's owner" if index.uid == 0 else f"the tree's owner {tree_owner} or root"
    )
    for path, info in index.foreign:
        kind = _kind(info.st_mode)
        severity: Severity = "high" if _is_code(ctx, path, info.st_mode) else "medium"
        owner = user(info.st_uid)
        ctx.add(
            FOREIGN_OWNER,
            severity,
            path,
            f"this {kind} is owned by {owner}, not by {trusted}: "
            f"its owner can change it{' and what it holds' if kind == 'directory' else ''} "
            "whenever they like, and code in the tree runs as whoever uses it",
            f"chown -h {user_name(index.uid)} {quoted(path)}  # inspect it first if you did "
            "not expect it",
            kind=kind,
            owner=owner,
            mode=oct(stat.S_IMODE(info.st_mode)),
            distribution=ctx.owner_of(path),
            tree_owner=tree_owner,
        )
    for path, info, writers in index.writable:
        _writable(ctx, path, info, writers)
    for link in sorted(index.links):
        _link(ctx, link)
    for path, exc in sorted(index.unreadable.items()):
        too_deep = exc.errno == errno.ENAMETOOLONG
        ctx.add(
            UNREADABLE,
            "medium",
            path,
            f"the audit could not enter this directory ({exc.strerror}); nothing below it "
            "was checked",
            "no package nests this deep and the toolkit will not carry such a tree: "
            f"rm -rf {quoted(_tree_of(path))} and install again from sources you trust"
            if too_deep
            else "audit as root, or as the tree's owner",
            error=str(exc.strerror or exc),
        )


def _tree_of(path: str) -> str:
    """The ``__pypackages__`` directory ``path`` is in (``path`` itself when in none)."""
    head, found, _ = path.partition(os.sep + DIRNAME + os.sep)
    return head + os.sep + DIRNAME if found else path


def _writable(ctx: Context, path: str, info: os.stat_result, writers: str) -> None:
    mode = info.st_mode
    kind = _kind(mode)
    bytecode = _holds_bytecode(ctx, path, mode)
    severity: Severity = "high" if bytecode or _is_code(ctx, path, mode) else "medium"
    acl = writers.endswith("(ACL)")
    if stat.S_ISDIR(mode):
        means = "they can add, replace or remove what it holds"
        if bytecode:
            means += ", and Python runs a replaced .pyc instead of its source"
    else:
        means = "they can change what it holds"
    fix = f"chmod go-w {quoted(path)}"  # with an ACL, this clears write from its mask too
    if acl:
        fix += f" && setfacl -b {quoted(path)}"
    ctx.add(
        WRITABLE,
        severity,
        path,
        f"this {kind} (owner {user_name(info.st_uid)}) is writable by {writers}: {means}",
        fix,
        kind=kind,
        owner=user(info.st_uid),
        mode=oct(stat.S_IMODE(mode)),
        distribution=ctx.owner_of(path),
        writers=writers,
        acl=acl,
        bytecode=bytecode,
    )


def _link(ctx: Context, link: str) -> None:
    """A link that leads out of the tree, or (when a distribution owns it) out of that
    distribution's files."""
    index = ctx.index
    owner = ctx.owning_dist(link)
    resolved = index.resolve(link)
    leaves = "tree"
    if resolved == index.real_root or resolved.startswith(index.real_root + os.sep):
        if owner is None:
            return  # a link no distribution owns, inside the tree: unowned-files says so
        target = index.root + resolved[len(index.real_root) :]
        if _owns(ctx, owner, target):
            return
        leaves = "distribution"
    trust = untrusted_path(resolved) if leaves == "tree" else None
    what = owner or "no distribution"
    if leaves == "tree":
        means = (
            f"it leads out of {index.root} to {resolved}: whoever controls that place "
            "decides what runs, and no RECORD hash covers it"
        )
        if trust:
            means += f" ({trust})"
    else:
        means = (
            f"it leads to {resolved}, which is not one of {owner}'s files: removing or "
            "upgrading that other distribution changes what this one imports"
        )
    if os.path.isdir(resolved):
        fix = f"rm -- {quoted(link)} && cp -R -- {quoted(resolved)} {quoted(link)}"
    elif os.path.isfile(resolved):
        fix = f"cp --remove-destination -- {quoted(resolved)} {quoted(link)}"
    else:
        fix = f"rm -- {quoted(link)}"
    ctx.add(
        LINK,
        "high" if leaves == "tree" else "medium",
        link,
        f"a symbolic link ({what} owns it): {means}",
        f"{fix}  # copy only what you trust; otherwise remove the link and reinstall "
        f"{owner or 'what needs it'}",
        target=index.links[link],
        resolved=resolved,
        leaves=leaves,
        distribution=owner,
        target_trust=trust,
    )


def _owns(ctx: Context, owner: str, target: str) -> bool:
    """Whether ``target`` (in the tree) is one of ``owner``'s files, or a directory below
    a site directory that holds its files (a package of its own)."""
    if ctx.owning_dist(target) == owner:
        return True
    if not ctx.index.is_dir(target):
        return False
    site_dirs = [d for t in ctx.report.trees for d in t.site_dirs]
    below_site = any(target.startswith(d + os.sep) for d in site_dirs)
    return below_site and ctx.owner_of(target) == owner
