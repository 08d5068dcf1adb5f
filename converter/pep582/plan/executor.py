"""Carrying out a plan: build what it adds (linked or copied, verified), then publish.

Everything written goes through directory descriptors (:mod:`pep582.fs`): a source file
is opened relative to its directory's descriptor without following a link, checked
through that descriptor (its inode is the one planned; its owner and mode decide whether
it may be hard-linked) and linked from the same directory descriptor, so what was linked
is what was checked; a file another user owns or may write is copied instead, and
nothing we create may be written by others. Files are never written in place: whatever
changes is created anew with ``O_EXCL | O_NOFOLLOW``. The built files are then published
by :mod:`pep582.plan.staging` (a whole tree, swapped in) or :mod:`pep582.plan.journal`
(only what changes, moved into the live tree under a journal).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from pep582.errors import (
    CacheEntryModified,
    DestinationError,
    InterruptedAfterPublishing,
    SourceError,
    VerificationError,
)
from pep582.fs import READ_FLAGS, Dir, NotPlain, Tree, walk
from pep582.plan.model import FileAction, Plan, Report
from pep582.sources.records import (
    NO_VERIFY_ADVICE,
    RecordEntry,
    check,
    hash_stream,
)

# Failures that are the destination's fault: one line, exit 4.
DESTINATION_ERRNOS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
NOT_OTHERS = ~0o022 & 0o7777  # nothing we publish may be written by group or others
Progress = Callable[[int, int], None]  # (files done, files in all)


def umask() -> int:
    """The process umask (read without changing it for longer than one call)."""
    current = os.umask(0o022)
    os.umask(current)
    return current


def destination_error(exc: OSError, published: bool = False) -> DestinationError:
    """One line for a failure to write: which path, what the system said, and whether
    the change was already in place."""
    what = DESTINATION_ERRNOS.get(exc.errno or 0, exc.strerror or str(exc))
    where = exc.filename or "the new tree"
    if published:
        return DestinationError(f"{where}: {what}; the change itself was published")
    return DestinationError(f"{where}: {what}; nothing was changed")


def execute(
    plan: Plan,
    txn: object,
    progress: Progress | None = None,
    cache_root: str | None = None,
) -> Report:
    """Carry out ``plan`` under the project's transaction ``txn`` and publish it."""
    from pep582.plan import journal, staging

    started = time.perf_counter()
    report = Report(plan)
    try:
        if plan.publish == "incremental":
            assert isinstance(txn, staging.Transaction)
            journal.execute(plan, txn, report, progress, cache_root)
        else:
            assert isinstance(txn, staging.Transaction)
            staging.execute(plan, txn, report, progress, cache_root)
    except KeyboardInterrupt:
        if report.published:
            raise InterruptedAfterPublishing(
                f"interrupted after {plan.target} was changed: the change is complete"
                + ("; its byte code may not be (run the command again)" if plan.compile else "")
            ) from None
        raise
    except OSError as exc:
        raise destination_error(exc, report.published) from exc
    report.seconds = time.perf_counter() - started
    return report


class Builder:
    """Creates a plan's entries in a destination tree (a stage, or a transaction's
    ``new`` directory), one action at a time."""

    def __init__(
        self,
        plan: Plan,
        destination: Tree,
        report: Report,
        cache_root: str | None,
        replace: bool = False,
    ) -> None:
        self.plan, self.destination, self.report = plan, destination, report
        self.cache_root = cache_root
        self.replace = replace  # the destination may hold an old entry to clear first
        self.link = plan.link
        self.mask = umask()
        self.dir_mode = 0o777 & NOT_OTHERS
        self.euid = os.geteuid() if hasattr(os, "geteuid") else -1

    def parent(self, target: str) -> tuple[Dir, str]:
        """The open directory that will hold ``target`` (made as needed, never through a
        link) and the entry's name."""
        parts = target.split("/")
        if target.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise DestinationError(f"refusing to write {target!r}: not a plain path")
        try:
            directory = self.destination.dir("/".join(parts[:-1]), create=True, mode=self.dir_mode)
        except NotPlain as exc:
            raise DestinationError(
                f"{exc.filename} is not a plain directory in the tree (a link?); refusing "
                "to write through it"
            ) from None
        return directory, parts[-1]

    def build(self, action: FileAction, at: str | None = None) -> None:
        """Create ``action``'s entry at ``at`` (default: its own target)."""
        target = at or action.target
        directory, name = self.parent(target)
        if self.replace:
            self.clear(directory, name, target)
        if action.kind == "symlink":
            assert action.link_target is not None
            directory.symlink(action.link_target, name)
            self.report.symlinks += 1
        elif action.kind == "write":
            assert action.data is not None
            directory.create(name, action.data, action.mode & ~self.mask & NOT_OTHERS)
            self.report.written += 1
            self.report.bytes += len(action.data)
        elif action.kind == "tree":
            assert action.source is not None and action.tree is not None
            self.copy_checkout(action.tree, action.source, directory, name)
            self.report.trees += 1
        else:
            self.carry(action, directory, name)

    def clear(self, directory: Dir, name: str, target: str) -> None:
        """Remove what a cloned stage holds at ``target`` (the plan replaces it)."""
        with contextlib.suppress(FileNotFoundError):
            directory.remove_tree(name)
        self.destination.forget(target)

    # carrying files ---------------------------------------------------------------------

    def _open_source(self, action: FileAction) -> tuple[int, Dir | None, str]:
        """A descriptor of the source file, its directory (None for a file a link led to,
        opened by its judged real path) and its name there."""
        assert action.source is not None
        try:
            if action.tree is None:
                fd = os.open(action.source, READ_FLAGS)
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    os.close(fd)
                    raise NotPlain(errno.EINVAL, "not a regular file", action.source)
                return fd, None, ""
            tree = action.tree
            directory, name = tree.split(tree.relative(action.source))
            return directory.open_file(name), directory, name
        except NotPlain as exc:
            raise SourceError(f"{action.source}: cannot read: {exc.strerror}") from None
        except OSError as exc:
            raise SourceError(f"{action.source}: cannot read: {exc.strerror}") from exc

    def carry(self, action: FileAction, directory: Dir, name: str) -> None:
        """Link (or copy) one source file, checked through the descriptor we opened: the
        same inode the plan saw, not another user's unless copied, and what was linked is
        what was checked."""
        expected = action.expected
        algorithm = None
        if self.plan.verify and expected is not None and expected.hash_ is not None:
            algorithm = expected.hash_.name
        fd, source_dir, source_name = self._open_source(action)
        try:
            info = os.fstat(fd)
            if action.inode is not None and info.st_ino != action.inode:
                raise SourceError(
                    f"{action.source} was replaced after planning; nothing was changed"
                )
            # Another user's file, or one others may write (an ACL grant shows as the
            # group-write bit), is copied: a hard link would let them edit what we publish.
            foreign = (info.st_uid not in (self.euid, 0) and self.euid != -1) or bool(
                info.st_mode & 0o022
            )
            if (
                self.link
                and not foreign
                and source_dir is not None
                and self.link_checked(source_dir, source_name, directory, name, info)
            ):
                if algorithm is not None:  # what was linked is what is checked
                    assert expected is not None
                    digest, size = _digest_fd(fd, algorithm)
                    self.check(action, expected, digest, size)
                else:
                    self.report.unverified += 1
                self.report.linked += 1
                known = expected.size if expected is not None else None
                self.report.bytes += known if known is not None else info.st_size
                return
            mode = info.st_mode & 0o777 & ~self.mask & NOT_OTHERS
            os.lseek(fd, 0, os.SEEK_SET)
            out = directory.create_fd(name, mode)
            try:
                with (
                    os.fdopen(os.dup(fd), "rb") as src,
                    os.fdopen(out, "wb", closefd=False) as dst,
                ):
                    digest, size = hash_stream(src, algorithm or "sha256", sink=dst)
                os.fchmod(out, mode)
                os.utime(out, ns=(info.st_atime_ns, info.st_mtime_ns))
            finally:
                os.close(out)
        finally:
            os.close(fd)
        if algorithm is not None:
            assert expected is not None
            self.check(action, expected, digest, size)
        elif expected is None or expected.hash_ is None:
            self.report.unverified += 1
        self.report.copied += 1
        self.report.copied_foreign += foreign
        self.report.bytes += size

    def link_checked(
        self, source: Dir, source_name: str, directory: Dir, name: str, opened: os.stat_result
    ) -> bool:
        """Hard-link ``source/source_name`` as ``name``; True if the link is the inode we
        opened and checked (the name may have been swapped in between: then undo it)."""
        try:
            directory.link_from(source, source_name, name)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            self.link = False  # another filesystem: copy from now on
            self.report.warnings.append(
                f"cannot hard-link from {source.path} ({exc.strerror}); copying instead"
            )
            return False
        if os.path.samestat(directory.lstat(name), opened):
            return True
        directory.unlink(name)
        return False

    def check(self, action: FileAction, expected: RecordEntry, digest: str, size: int) -> None:
        assert action.source is not None
        try:
            check(action.source, expected, digest, size)
        except VerificationError as exc:
            real = action.source
            if self.cache_root and real.startswith(self.cache_root + os.sep):
                entry = os.sep.join(real[len(self.cache_root) + 1 :].split(os.sep)[:2])
                message = str(exc).replace(NO_VERIFY_ADVICE, "")  # a cache has no such choice
                raise CacheEntryModified(message, entry) from exc
            raise

    # editable checkouts --------------------------------------------------------------------

    def copy_checkout(self, tree: Tree, source: str, directory: Dir, name: str) -> None:
        """Copy a directory tree whole through descriptors: directories, regular files
        (times kept: version control tools look at them) and links that stay inside it;
        a link leaving it, or anything else, is refused in one line."""
        top = tree.relative(source)
        directory.mkdir(name, self.dir_mode)
        copy = Tree(directory.sub(name), os.path.join(directory.path, name))
        try:
            for here, relative, items in walk(tree.dir(top)):
                target = copy.dir(relative, create=True, mode=self.dir_mode)
                for entry, info in items:
                    path = os.path.join(source, *relative.split("/"), entry)
                    if stat.S_ISDIR(info.st_mode):
                        target.mkdir(entry, self.dir_mode)
                    elif stat.S_ISLNK(info.st_mode):
                        link = here.readlink(entry)
                        resolved = os.path.normpath(os.path.join(os.path.dirname(path), link))
                        if not (resolved == source or resolved.startswith(source + os.sep)):
                            raise SourceError(
                                f"{path} (in the editable checkout {source}) is a link to "
                                f"{link}, outside the checkout; refusing to copy it"
                            )
                        target.symlink(link, entry)
                    elif stat.S_ISREG(info.st_mode):
                        self._copy_file(here, entry, target, info)
                    else:
                        raise SourceError(f"{path} is not a regular file, directory or link")
        finally:
            copy.close()

    def _copy_file(self, source: Dir, name: str, target: Dir, info: os.stat_result) -> None:
        fd = source.open_file(name)
        try:
            mode = info.st_mode & 0o777 & ~self.mask & NOT_OTHERS
            out = target.create_fd(name, mode)
            try:
                while chunk := os.read(fd, 1 << 20):
                    os.write(out, chunk)
                os.fchmod(out, mode)
                os.utime(out, ns=(info.st_atime_ns, info.st_mtime_ns))
            finally:
                os.close(out)
        finally:
            os.close(fd)


def _digest_fd(fd: int, algorithm: str) -> tuple[str, int]:
    """RECORD-format digest and size of what ``fd`` holds, read from the start."""
    os.lseek(fd, 0, os.SEEK_SET)
    with os.fdopen(os.dup(fd), "rb") as stream:
        return hash_stream(stream, algorithm)


def build_all(
    builder: Builder,
    actions: list[FileAction],
    progress: Progress | None,
    place: Callable[[FileAction], str] | None = None,
) -> None:
    """Build every action, by target (a directory's entries together, as ``cp -a`` does),
    reporting progress every 256 files."""
    ordered = sorted(actions, key=lambda a: a.target)
    for number, action in enumerate(ordered, start=1):
        builder.build(action, place(action) if place else None)
        if progress is not None and number % 256 == 0:
            progress(number, len(ordered))
    if progress is not None:
        progress(len(ordered), len(ordered))


def site_dirs_in(plan: Plan, root: Path) -> list[str]:
    """The plan's site directories, as they are below ``root`` (a stage or the tree)."""
    return sorted(
        {str(root / Path(d).relative_to(plan.target)) for s in plan.schemes for d in s.site_dirs}
    )
