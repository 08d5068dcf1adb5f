"""Git hygiene: a tree committed to the project's repository, or one ``git add .`` away.

git runs only through :func:`pep582.proc.run` (its absolute path from :func:`pep582.proc.which`,
a cleaned environment, ``/`` as working directory, ``core.fsmonitor`` off), and only when
the project directory and the repository git would open pass the trust rule for the
effective user: git reads a repository's config, and a config can name programs to run.
"""

from __future__ import annotations

import os

from pep582 import proc
from pep582.audit.context import Context
from pep582.audit.registry import declare
from pep582.errors import InterpreterError, SourceError
from pep582.sources.records import read_head
from pep582.step.startup import DIRNAME, untrusted_path

FAMILY = "git hygiene"
TRACKED = declare(
    "git-tracked",
    FAMILY,
    "high",
    "git tracks files of __pypackages__",
    {"repository": "", "files": "a count"},
)
IGNORE = declare(
    "gitignore-missing",
    FAMILY,
    "medium in a git repository; else low",
    "__pypackages__ has no .gitignore ignoring everything, and no ignore rule keeps it out",
    {"repository": "null outside one"},
)
GIT_TIMEOUT = 60


def _repository_marker(project: str) -> str | None:
    """The ``.git`` git would find from ``project`` (upwards), if any."""
    here = project
    while True:
        marker = os.path.join(here, ".git")
        if os.path.lexists(marker):
            return marker
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def refusal(project: str) -> str | None:
    """Why git must not run for ``project``, or None: the project directory, the ``.git``
    git would open (a directory, or a file naming one) and what that file names must
    pass the trust rule for the effective user."""
    places = [project]
    marker = _repository_marker(project)
    if marker is not None:
        places.append(marker)
        if os.path.isfile(marker):  # a worktree's or submodule's "gitdir: PATH"
            try:  # never through a link, never a FIFO's wait
                head = read_head(marker, 4096)
            except SourceError as exc:
                return str(exc)
            first = head.decode("utf-8", "replace").partition("\n")[0]
            if first.startswith("gitdir:"):
                places.append(os.path.join(os.path.dirname(marker), first[7:].strip()))
    for place in places:
        reason = untrusted_path(place)
        if reason:
            return reason
    return None


def _git(git: str, project: str, *args: str) -> str | None:
    """stdout of ``git -C project args``, or None when git fails."""
    command = [git, "-c", "core.fsmonitor=false", "-C", project, *args]
    try:
        result = proc.run(command, python=False, what="git", timeout=GIT_TIMEOUT)
    except InterpreterError:
        return None
    return result.stdout if result.returncode == 0 else None


def run(ctx: Context) -> None:
    project = str(ctx.project)
    text = ctx.index.texts.get(os.path.join(ctx.root, ".gitignore"))
    ignores_all = isinstance(text, str) and "*" in {line.strip() for line in text.splitlines()}
    repository, ignored = _tracked(ctx, project)
    if ignores_all or ignored:
        return
    gitignore = os.path.join(ctx.root, ".gitignore")
    in_repo = repository is not None
    ctx.add(
        IGNORE,
        "medium" if in_repo else "low",
        gitignore,
        f"{DIRNAME} has no .gitignore ignoring everything (a line `*`)"
        + (
            f", and {repository} is a git repository: one `git add .` commits it"
            if in_repo
            else "; the first `git init; git add .` would commit it"
        ),
        f"printf '*\\n' > {gitignore}",
        repository=repository,
    )


def _tracked(ctx: Context, project: str) -> tuple[str | None, bool]:
    """Report a tracked tree; return the repository's top directory (if any) and whether
    its ignore rules already keep new files of the tree out."""
    git = proc.which("git")
    if git is None:
        ctx.skip("git: not installed; tracked files not checked")
        return None, False
    refused = refusal(project)
    if refused:
        ctx.skip(f"git: not run for {project}, another user could make it run code: {refused}")
        return None, False
    try:
        git = proc.trusted_program(os.path.abspath(git), "git")
    except InterpreterError as exc:
        ctx.skip(f"git: {exc}; tracked files not checked")
        return None, False
    top = _git(git, project, "rev-parse", "--show-toplevel")
    if top is None:
        ctx.skip(
            f"git: {project} is not in a repository git will open (none, or owned by "
            "another user); tracked files not checked"
        )
        return None, False
    repository = top.strip()
    probe = f"{DIRNAME}/pep582-audit-probe.py"
    ignored = _git(git, project, "check-ignore", "-q", "--no-index", "--", probe) is not None
    listed = _git(git, project, "ls-files", "-z", "--", DIRNAME)
    tracked = [p for p in (listed or "").split("\0") if p]
    if tracked:
        ctx.add(
            TRACKED,
            "high",
            ctx.root,
            f"git tracks {len(tracked)} file(s) of {DIRNAME} in {repository}: installed "
            "code (often compiled, for one platform) travels with every clone and push, "
            "and runs on the machines that check it out",
            f"git rm -r --cached {DIRNAME} && git commit (the .gitignore then keeps it out)",
            repository=repository,
            files=len(tracked),
        )
    return repository, ignored
