"""Carrying out a plan inside a stage: remove, link or copy (verified), write, publish.

Nothing in the stage is written in place: a file that changes is unlinked and created
anew with ``O_EXCL | O_NOFOLLOW`` (the stage may be a hard-linked copy of the live tree),
no directory is entered through a link, and sources are opened without following links.
A file is hard-linked only when its owner is the effective user or root and nobody else
may write it; otherwise it is copied, so another user cannot edit what we publish.
Before the swap the stage must pass the trust rule, exactly as the startup step will
judge it.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from pep582.errors import (
    CacheEntryModified,
    DestinationError,
    InterpreterError,
    SourceError,
    VerificationError,
)
from pep582.plan.model import FileAction, Plan, Report
from pep582.plan.staging import Transaction, umask
from pep582.sources.records import (
    NO_VERIFY_ADVICE,
    RecordEntry,
    check,
    entry_for,
    hash_stream,
    open_inside,
    read_record,
    render_record,
)
from pep582.step import startup

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
NONBLOCK = getattr(os, "O_NONBLOCK", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# Failures that are the destination's fault: one line, exit 4.
DESTINATION_ERRNOS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
Progress = Callable[[int, int], None]  # (files done, files in all)


def execute(
    plan: Plan,
    txn: Transaction,
    progress: Progress | None = None,
    cache_root: str | None = None,
) -> Report:
    """Carry out ``plan`` in a new stage of ``txn`` and publish it."""
    started = time.perf_counter()
    report = Report(plan)
    try:
        stage = txn.new_stage(clone=plan.clone)
        runner = _Executor(plan, str(stage), report, progress, cache_root)
        runner.run()
        if plan.compile:
            report.compiled = compile_tree(plan, stage)
        site_dirs = [
            str(stage / Path(d).relative_to(plan.target))
            for scheme in plan.schemes
            for d in scheme.site_dirs
        ]
        _, refused = startup.judge(str(stage), site_dirs)
        if refused:
            raise DestinationError(
                f"the new {plan.target} would be refused at startup: {refused}; "
                "nothing was changed"
            )
        txn.publish()
    except OSError as exc:
        raise destination_error(exc) from exc
    report.seconds = time.perf_counter() - started
    return report


def digest_fd(fd: int, algorithm: str) -> tuple[str, int]:
    """RECORD-format digest and size of what ``fd`` holds, read from the start."""
    os.lseek(fd, 0, os.SEEK_SET)
    with os.fdopen(os.dup(fd), "rb") as stream:
        return hash_stream(stream, algorithm)


def copy_checkout(source: str, destination: str) -> None:
    """Copy a directory tree: directories, regular files (times kept: version control
    tools look at them) and links as links; anything else is refused."""
    os.mkdir(destination, 0o777)
    for here, dirs, files in os.walk(source, followlinks=False):
        target_dir = os.path.join(destination, os.path.relpath(here, source))
        for name in [*dirs, *files]:
            path = os.path.join(here, name)
            target = os.path.join(target_dir, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(path), target)
            elif stat.S_ISDIR(info.st_mode):
                os.mkdir(target, 0o777)
            elif stat.S_ISREG(info.st_mode):
                shutil.copy2(path, target, follow_symlinks=False)
            else:
                raise SourceError(f"{path} is not a regular file, directory or link")
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(here, d))]


def destination_error(exc: OSError) -> DestinationError:
    """One line for a failure to write: which path, and what the system said."""
    what = DESTINATION_ERRNOS.get(exc.errno or 0, exc.strerror or str(exc))
    where = exc.filename or "the new tree"
    return DestinationError(f"{where}: {what}; nothing was changed")


class _Executor:
    def __init__(
        self,
        plan: Plan,
        stage: str,
        report: Report,
        progress: Progress | None,
        cache_root: str | None,
    ) -> None:
        self.plan, self.stage, self.report = plan, stage, report
        self.progress = progress
        self.link = plan.link
        self.cache_root = cache_root
        self.made: set[str] = {stage}
        self.mask = umask()
        self.euid = os.geteuid() if hasattr(os, "geteuid") else -1
        self.pruned: set[str] = set()

    # directories ------------------------------------------------------------------------

    def ensure_dir(self, directory: str, create: bool = True) -> None:
        """Create ``directory`` inside the stage, never entering a link on the way."""
        if directory in self.made:
            return
        if not directory.startswith(self.stage + os.sep):
            raise DestinationError(f"refusing to write outside the stage: {directory}")
        parent = os.path.dirname(directory)
        if parent != directory:
            self.ensure_dir(parent, create)
        try:
            info = os.lstat(directory)
        except FileNotFoundError:
            if not create:
                raise
            os.mkdir(directory, 0o777)
        else:
            if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
                raise DestinationError(
                    f"{directory} is not a plain directory in the tree (a link?); "
                    "refusing to write through it"
                )
        self.made.add(directory)

    def place(self, action_target: str) -> str:
        """The stage path of a plan target: a normalised relative path, never leaving it."""
        parts = action_target.split("/")
        if action_target.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise DestinationError(f"refusing to write {action_target!r}: not a plain path")
        destination = os.path.join(self.stage, *parts)
        self.ensure_dir(os.path.dirname(destination))
        return destination

    # the run ----------------------------------------------------------------------------

    def run(self) -> None:
        if self.plan.clone:
            for removal in self.plan.removals:
                self.remove(removal.target)
        # by place: a directory's entries are created together (what cp -a does too)
        actions = sorted(self.plan.actions, key=lambda a: a.target)
        for number, action in enumerate(actions, start=1):
            destination = self.place(action.target)
            if action.kind == "symlink":
                assert action.link_target is not None
                self.clear(destination)
                os.symlink(action.link_target, destination)
                self.report.symlinks += 1
            elif action.kind == "write":
                assert action.data is not None
                self.clear(destination)
                self.create(destination, action.data, action.mode)
                self.report.written += 1
                self.report.bytes += len(action.data)
            elif action.kind == "tree":
                assert action.source is not None
                self.clear(destination)
                copy_checkout(action.source, destination)
                self.report.trees += 1
            else:
                self.clear(destination)
                self.carry(action, destination)
            if self.progress is not None and number % 256 == 0:
                self.progress(number, len(self.plan.actions))
        if self.progress is not None:
            self.progress(len(self.plan.actions), len(self.plan.actions))
        self.prune()

    def remove(self, target: str) -> None:
        """Remove a planned path from the stage: never through a link on the way (the
        stage is ours; a link in it came from the old tree)."""
        parts = target.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise DestinationError(f"refusing to remove {target!r}: not a plain path")
        path = os.path.join(self.stage, *parts)
        try:
            self.ensure_dir(os.path.dirname(path), create=False)
        except (DestinationError, FileNotFoundError):
            return  # a link on the way, or gone: nothing of the tree to remove there
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            self.report.removed += sum(len(files) for _, _, files in os.walk(path))
            shutil.rmtree(path)  # unlinks hard links: the live tree keeps its files
        else:
            os.unlink(path)
            self.report.removed += 1
        self.pruned.add(os.path.dirname(path))

    def clear(self, destination: str) -> None:
        """Unlink what a clone left at ``destination`` (the plan decided to replace it)."""
        if self.plan.clone and os.path.lexists(destination):
            if os.path.isdir(destination) and not os.path.islink(destination):
                shutil.rmtree(destination)
            else:
                os.unlink(destination)

    def prune(self) -> None:
        """Remove directories that removals left empty (never the tree's own skeleton)."""
        keep = {self.stage}
        for scheme in self.plan.schemes:
            for place in (*scheme.site_dirs, scheme.scripts, scheme.include, scheme.data):
                keep.add(os.path.join(self.stage, os.path.relpath(place, self.plan.target)))
        for directory in sorted(self.pruned, key=len, reverse=True):
            while directory not in keep and directory.startswith(self.stage + os.sep):
                try:
                    os.rmdir(directory)
                except OSError:
                    break
                directory = os.path.dirname(directory)

    def create(self, destination: str, data: bytes, mode: int) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC
        fd = os.open(destination, flags, mode & 0o777)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(destination, mode & 0o777 & ~self.mask)

    # carrying files ---------------------------------------------------------------------

    def carry(self, action: FileAction, destination: str) -> None:
        """Link (or copy) one source file, checked through the descriptor we opened: the
        same inode the plan saw, not another user's unless copied, and what was linked
        is what was checked."""
        source = action.source
        assert source is not None
        expected = action.expected
        algorithm = None
        if self.plan.verify and expected is not None and expected.hash_ is not None:
            algorithm = expected.hash_.name
        fd = open_inside(source, action.source_root)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise SourceError(f"{source} is not a regular file")
            if action.inode is not None and info.st_ino != action.inode:
                raise SourceError(f"{source} was replaced after planning; nothing was changed")
            foreign = (info.st_uid not in (self.euid, 0) and self.euid != -1) or bool(
                startup.foreign_writers(source, info)
            )
            if self.link and not foreign and self.link_checked(source, destination, info):
                if algorithm is not None:  # what was linked is what is checked
                    assert expected is not None
                    digest, size = digest_fd(fd, algorithm)
                    self.check(source, expected, digest, size)
                else:
                    self.report.unverified += 1
                self.report.linked += 1
                known = expected.size if expected is not None else None
                self.report.bytes += known if known is not None else info.st_size
                return
            os.lseek(fd, 0, os.SEEK_SET)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC
            mode = info.st_mode & 0o777 & ~self.mask
            with (
                os.fdopen(os.dup(fd), "rb") as src,
                os.fdopen(os.open(destination, flags, mode), "wb") as dst,
            ):
                digest, size = hash_stream(src, algorithm or "sha256", sink=dst)
        finally:
            os.close(fd)
        os.chmod(destination, mode)
        os.utime(destination, ns=(info.st_atime_ns, info.st_mtime_ns))
        if algorithm is not None:
            assert expected is not None
            self.check(source, expected, digest, size)
        elif expected is None or expected.hash_ is None:
            self.report.unverified += 1
        self.report.copied += 1
        self.report.copied_foreign += foreign
        self.report.bytes += size

    def link_checked(self, source: str, destination: str, opened: os.stat_result) -> bool:
        """Hard-link ``source``; True if the link is the inode we opened and checked (the
        name may have been swapped in between: then undo it, and copy instead)."""
        try:
            os.link(source, destination, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            self.link = False  # another filesystem: copy from now on
            self.plan.warnings.append(
                f"cannot hard-link from {os.path.dirname(source)} ({exc.strerror}); "
                "copying instead"
            )
            return False
        if os.path.samestat(os.lstat(destination), opened):
            return True
        os.unlink(destination)
        return False

    def check(self, source: str, expected: RecordEntry, digest: str, size: int) -> None:
        try:
            check(source, expected, digest, size)
        except VerificationError as exc:
            real = os.path.realpath(source)  # the error names the real file
            exc.args = (str(exc).replace(source, real, 1),)
            if self.cache_root and real.startswith(self.cache_root + os.sep):
                entry = os.sep.join(real[len(self.cache_root) + 1 :].split(os.sep)[:2])
                message = str(exc).replace(NO_VERIFY_ADVICE, "")  # a cache has no such choice
                raise CacheEntryModified(message, entry) from exc
            raise


_COMPILE = r"""
import compileall, json, sys
stage, final, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
ok = all(compileall.compile_dir(d, quiet=1, stripdir=stage, prependdir=final, workers=0)
         for d in dirs)
print(json.dumps({"ok": bool(ok), "tag": sys.implementation.cache_tag}))
"""


def compile_tree(plan: Plan, stage: Path) -> int:
    """``--compile``: byte-compile the stage's site directories with the plan's
    interpreter (paths inside the .pyc files name the final place) and list the .pyc
    files in the RECORD of the distribution that owns each source file."""
    if not plan.interpreter or not os.path.isfile(plan.interpreter.split()[-1]):
        plan.warnings.append("--compile: no interpreter to compile with; nothing compiled")
        return 0
    site_dirs = sorted(
        {str(stage / Path(d).relative_to(plan.target)) for s in plan.schemes for d in s.site_dirs}
    )
    site_dirs = [d for d in site_dirs if os.path.isdir(d)]
    import json

    command = [plan.interpreter, "-c", _COMPILE, str(stage), str(plan.target), *site_dirs]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise InterpreterError(f"--compile failed: {(proc.stderr.strip() or 'no output')[-300:]}")
    tag = json.loads(proc.stdout.strip().splitlines()[-1])["tag"]
    count = 0
    for site_dir in site_dirs:
        for record_path in Path(site_dir).glob("*.dist-info/RECORD"):
            count += _add_bytecode_rows(record_path, Path(site_dir), tag)
    return count


def _add_bytecode_rows(record_path: Path, site_dir: Path, tag: str) -> int:
    entries = read_record(record_path)
    known = {e.path for e in entries}
    added = []
    for entry in entries:
        if not entry.path.endswith(".py"):
            continue
        folder, _, name = entry.path.rpartition("/")
        compiled = f"{folder + '/' if folder else ''}__pycache__/{name[:-3]}.{tag}.pyc"
        path = site_dir / compiled
        if compiled not in known and path.is_file():
            added.append(entry_for(compiled, path.read_bytes()))
    if added:
        data = render_record([*entries, *added])
        os.unlink(record_path)  # the stage may share this inode with the live tree
        fd = os.open(record_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    return len(added)
