"""The project's lock, recovery after a kill, and the whole-tree publish.

A run holds the project's lock from planning to publishing (the lock file is never
followed through a link). At the start of every run, what a killed run left is put
right: a whole-tree stage is deleted, an old tree moved aside is put back, an
incremental transaction is finished from its journal (:mod:`pep582.plan.journal`).

The whole-tree publish (migrations, ``--replace``, a first install) builds the new tree
in a directory beside the target and moves it into place with one rename, or an atomic
exchange with the old tree on Linux, so an interruption at any moment leaves either the
old state or the new one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pep582 import fs
from pep582.errors import DestinationError
from pep582.fs import Tree, walk
from pep582.plan.executor import Builder, Progress, build_all, site_dirs_in, umask
from pep582.plan.model import Existing, Plan, Report
from pep582.scheme import HYGIENE
from pep582.step import startup
from pep582.step.startup import DIRNAME

STAGE_PREFIX = f".{DIRNAME}.stage-"
OLD_PREFIX = f".{DIRNAME}.old-"


def check_destination(project: Path, existing: Existing) -> None:
    """Refuse early what a run could not finish: a missing, read-only, untrusted or taken
    target. The project directory and everything above it must pass the trust rule for
    the effective user (root, or whoever runs this): another user who could write there
    could swap the stage for a link while we fill it, or replace what we publish."""
    if not project.is_dir():
        raise DestinationError(f"project directory {project} does not exist")
    if not os.access(project, os.W_OK) or not project.stat().st_mode & 0o222:
        raise DestinationError(f"{project} is not writable")
    target = project / DIRNAME
    if target.is_symlink():
        raise DestinationError(f"{target} is a symlink; point --project at its real place")
    if target.exists() and not target.is_dir():
        raise DestinationError(
            f"{target} is a file, not a directory; move it away (nothing else is touched)"
        )
    if target.exists() and existing == "refuse":
        raise DestinationError(
            f"{target} already exists; pass --merge to add to it or --replace to replace it"
        )
    _, refused = startup.judge(str(target), [])
    if refused:
        raise DestinationError(
            f"{project} cannot hold a trusted {DIRNAME}: {refused} (run this as the project "
            "directory's owner)"
        )


def _open_lock(lock_path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(lock_path, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DestinationError(f"{lock_path} is a symlink; refusing to follow it") from exc
        raise DestinationError(f"cannot create {lock_path}: {exc.strerror}") from exc
    info = os.fstat(fd)
    owner_ok = os.name != "posix" or info.st_uid == os.geteuid()
    if not stat.S_ISREG(info.st_mode) or not owner_ok:
        os.close(fd)
        raise DestinationError(
            f"{lock_path} is not a regular file owned by you; remove it and run again"
        )
    return fd


@contextlib.contextmanager
def locked(project: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``project``'s ``__pypackages__`` for one run."""
    lock_path = project / f".{DIRNAME}.lock"
    fd = _open_lock(lock_path)
    try:
        if os.name == "posix":
            import fcntl

            busy = f"{project / DIRNAME} is being changed by another run (lock {lock_path})"
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                raise DestinationError(busy) from exc
            # The holder unlinks the file when done: a lock on an unlinked file guards
            # nothing, since the next run creates a new one.
            try:
                current = os.lstat(lock_path)
            except FileNotFoundError:
                raise DestinationError(busy) from None
            if not os.path.samestat(current, os.fstat(fd)):
                raise DestinationError(busy)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock_path.unlink()
    finally:
        os.close(fd)


def recover(project: Path) -> list[str]:
    """Undo or finish what a killed run left behind (we hold the lock); say what was done.

    Whole-tree stages are deleted. An old tree moved aside by a publish without
    ``renameat2`` is put back when the target is missing (the kill came between the two
    renames), and deleted only when the target is in place. An incremental transaction
    whose journal was written is finished; one without is deleted (nothing was moved yet).
    """
    from pep582.plan import journal

    done = []
    target = project / DIRNAME
    for old in sorted(project.glob(f"{OLD_PREFIX}*")):
        kept = old / DIRNAME
        if not target.exists() and kept.is_dir():
            os.rename(kept, target)
            done.append(f"recovered {target} from an interrupted run ({old.name})")
        fs.remove_quietly(old)
    for stage in project.glob(f"{STAGE_PREFIX}*"):
        fs.remove_quietly(stage)
    for txn in journal.transactions(project):
        finished = journal.recover(project, txn)
        if finished:
            done.append(f"finished the change an interrupted run began ({txn.name})")
    return done


def clone_tree(source: Path, stage: Path) -> None:
    """Fill ``stage`` with hard links of ``source`` (copies where links are impossible),
    walking both through directory descriptors. Files in the stage are never written in
    place afterwards (they would write into the live tree): whatever changes is unlinked
    and created anew."""
    with Tree.open(source) as old, Tree.open(stage) as new:
        for here, relative, items in walk(old.root):
            target = new.dir(relative)
            for name, info in items:
                if stat.S_ISDIR(info.st_mode):
                    target.mkdir(name, stat.S_IMODE(info.st_mode))
                    continue
                try:
                    target.link_from(here, name, name)
                except OSError:
                    if stat.S_ISLNK(info.st_mode):
                        target.symlink(here.readlink(name), name)
                    else:
                        shutil.copyfileobj(
                            os.fdopen(here.open_file(name), "rb"),
                            os.fdopen(target.create_fd(name, stat.S_IMODE(info.st_mode)), "wb"),
                        )


def write_hygiene(tree: Tree) -> None:
    """The files every new tree gets (:data:`HYGIENE`), where it has none yet."""
    for name, data in HYGIENE.items():
        if not tree.root.exists(name):
            tree.root.create(name, data, 0o644 & ~umask())


class Transaction:
    """One run's hold on a project: the lock, at most one stage, and the publish."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.target = project / DIRNAME
        self.stage: Path | None = None
        self.recovered: list[str] = []

    def new_stage(self, clone: bool) -> Path:
        """A fresh stage beside the target (a hard-linked copy of it with ``clone``).

        Its mode follows the umask, as a directory pip or cp creates would.
        """
        stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=self.project))
        self.stage = stage
        os.chmod(stage, 0o777 & ~umask() & ~0o022)
        if clone and self.target.is_dir():
            clone_tree(self.target, stage)
        return stage

    def publish(self) -> None:
        """Move the stage into place as ``__pypackages__``, replacing any old tree."""
        stage = self.stage
        assert stage is not None
        if not self.target.exists():
            os.rename(stage, self.target)
        elif self.target.is_symlink() or not self.target.is_dir():
            raise DestinationError(f"{self.target} is no longer a directory; nothing was changed")
        elif fs.exchange(fs.AT_FDCWD, str(stage), fs.AT_FDCWD, str(self.target), str(stage)):
            fs.remove_quietly(stage)  # now holds the old tree
        else:
            old = Path(tempfile.mkdtemp(prefix=OLD_PREFIX, dir=self.project))
            os.rename(self.target, old / DIRNAME)
            os.rename(stage, self.target)  # a kill before this line: recover() puts it back
            fs.remove_quietly(old)
        self.stage = None

    def discard(self) -> None:
        if self.stage is not None:
            fs.remove_quietly(self.stage)
            self.stage = None


@contextlib.contextmanager
def transaction(project: Path) -> Iterator[Transaction]:
    """Hold ``project``'s lock for a whole run (plan, stage, publish); on any exception,
    Ctrl-C included, discard the stage and leave the old tree as it was."""
    with locked(project):
        txn = Transaction(project)
        txn.recovered = recover(project)
        try:
            yield txn
        finally:
            txn.discard()


def execute(
    plan: Plan,
    txn: Transaction,
    report: Report,
    progress: Progress | None,
    cache_root: str | None,
) -> None:
    """The whole-tree publish: build the new tree in a stage (a hard-linked copy of the
    old one when ``plan.clone``), judge it as the startup step will, swap it in."""
    from pep582.plan.compile import compile_tree

    stage = txn.new_stage(clone=plan.clone)
    with Tree.open(stage) as destination:
        builder = Builder(plan, destination, report, cache_root, replace=plan.clone)
        if plan.clone:
            for removal in plan.removals:
                report.removed += remove_below(destination, removal.target)
            prune(destination, {r.target for r in plan.removals}, plan)
        build_all(builder, plan.actions, progress)
        write_hygiene(destination)
    if plan.compile:
        report.compiled = compile_tree(plan, stage, report)
    _, refused = startup.judge(str(stage), site_dirs_in(plan, stage))
    if refused:
        raise DestinationError(
            f"the new {plan.target} would be refused at startup: {refused}; nothing was changed"
        )
    txn.publish()
    report.published = True


def remove_below(tree: Tree, target: str) -> int:
    """Remove ``target`` (relative) from ``tree``, never through a link on the way (a link
    in the tree came from the old tree); how many files went (0 when it is not there)."""
    parts = target.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise DestinationError(f"refusing to remove {target!r}: not a plain path")
    try:
        parent = tree.dir("/".join(parts[:-1]))
        removed = parent.remove_tree(parts[-1])
    except (FileNotFoundError, NotADirectoryError):
        return 0
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return 0  # a link on the way: nothing of the tree to remove there
        raise
    tree.forget(target)
    return removed


def prune(tree: Tree, removed: set[str], plan: Plan) -> None:
    """Remove directories that removals left empty (never the tree's own skeleton)."""
    keep = {""}
    for scheme in plan.schemes:
        for place in (*scheme.site_dirs, scheme.scripts, scheme.include, scheme.data):
            keep.add(Path(place).relative_to(plan.target).as_posix().strip("."))
    emptied = {target.rsplit("/", 1)[0] if "/" in target else "" for target in removed}
    for directory in sorted(emptied, key=len, reverse=True):
        while directory not in keep:
            head, _, name = directory.rpartition("/")
            try:
                tree.dir(head).rmdir(name)
            except OSError:
                break
            tree.forget(directory)
            directory = head
