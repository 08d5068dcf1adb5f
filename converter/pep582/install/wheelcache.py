"""A content-addressed cache of unpacked wheels: unzip once, hard-link every time after.

A wheel is unpacked by ``installer`` (its RECORD checked as it is read: every file
listed with a hash and size, every file's bytes matching them) into a neutral scheme
(``purelib``, ``platlib``, ``scripts``, ``headers``, ``data``) under a directory named by
the wheel's sha256, in the user's cache directory. That directory is then read like any
installed environment and carried into ``__pypackages__`` by the same planner as a venv,
every file checked against RECORD while it is linked ("verified on use"). Entries appear
atomically (unpacked beside, renamed into place), so concurrent runs are safe. Console
scripts are not written into the cache: the planner writes them for the target.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pep582 import fs, usercache
from pep582.errors import CacheEntryModified, DestinationError, SourceError, VerificationError
from pep582.fs import Tree
from pep582.names import check_component, resolve_inside
from pep582.scheme import InterpreterFacts
from pep582.sources import Source
from pep582.sources.distribution import inventory
from pep582.sources.records import MAX_FILE, raw_digest
from pep582.step.startup import untrusted_path

LAYOUT_VERSION = "unpacked-v1"
SCHEME_KEYS = ("purelib", "platlib", "scripts", "headers", "data")
COMPLETE = ".complete"


def cache_root() -> Path:
    """The wheel cache: :func:`pep582.usercache.directory` ``unpacked-v1`` (its files are
    hard-linked into trees that run at startup)."""
    return usercache.directory(LAYOUT_VERSION)


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return raw_digest(handle, "sha256")[0].hex()


def entry_path(digest: str) -> Path:
    check_component(digest, "wheel hash")
    return cache_root() / digest[:2] / digest


def _only_ours(directory: Path) -> None:
    """Refuse a directory inside the cache that another user owns or may write (the
    owner/write rule of :func:`untrusted_path`, this directory strictly): the root being
    safe says nothing about what was planted below it earlier."""
    plain = stat.S_ISDIR(os.lstat(directory).st_mode)  # a link is never followed here
    refused = untrusted_path(str(directory)) if plain else "not a plain directory"
    if refused:
        raise DestinationError(
            f"the wheel cache holds {directory}, which another user could change ({refused}); "
            "remove it (the cache can always be deleted)"
        )


ABANDONED_AFTER = 3600  # seconds: an unpacking directory this old was left by a killed run


def _drop_abandoned(prefix: Path) -> None:
    """Remove what killed runs left in a prefix directory (``.unpacking-*`` and
    ``.evicted-*`` not touched for an hour); a run in progress is far younger."""
    now = time.time()
    for leftover in prefix.iterdir():
        if not leftover.name.startswith((".unpacking-", ".evicted-")):
            continue
        try:
            if now - os.lstat(leftover).st_mtime > ABANDONED_AFTER:
                fs.remove_quietly(leftover)
        except OSError:
            continue


def cached(digest: str) -> Path | None:
    """The unpacked wheel with this sha256, if the cache holds it (and only we and root
    can change its directories)."""
    entry = entry_path(digest)
    if not (entry / COMPLETE).is_file():
        return None
    _only_ours(entry.parent)
    _only_ours(entry)
    return entry


def evict(digest: str) -> None:
    """Forget an entry (a file in it was changed: it no longer matches its RECORD)."""
    entry = entry_path(digest)
    if entry.exists():
        parked = Path(tempfile.mkdtemp(prefix=".evicted-", dir=entry.parent))
        os.rename(entry, parked / "entry")
        fs.remove_quietly(parked)


def unpack(wheel: Path, digest: str | None = None) -> tuple[Path, str]:
    """The cache entry for ``wheel`` (unpacked now if needed) and the wheel's sha256."""
    digest = digest or sha256_of(wheel)
    found = cached(digest)
    if found is not None:
        return found, digest
    entry = entry_path(digest)
    entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _only_ours(entry.parent)
    _drop_abandoned(entry.parent)
    work = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=entry.parent))
    try:
        try:
            _install_into(wheel, work)
        except OSError as exc:
            from pep582.plan.executor import destination_error

            raise destination_error(exc) from exc
        record = _record_of(work)
        (work / COMPLETE).write_text(
            json.dumps({"wheel": wheel.name, "record": sha256_of(record)}) + "\n"
        )
        try:
            os.rename(work, entry)
        except OSError:
            if cached(digest) is None:  # not a concurrent run that finished first
                raise
            fs.remove_quietly(work)
    except BaseException:
        fs.remove_quietly(work)
        raise
    return entry, digest


UNPACK_THREADS = 4  # at most; inflating and writing release the GIL for most of the work


def unpack_all(work: list[tuple[str, Path, str | None]]) -> dict[str, Path]:
    """Unpack ``(key, wheel, sha256 or None)`` side by side: each into its own directory,
    renamed into place when whole, so a failure leaves no entry (the first error is
    raised after the others have finished). Returns each key's entry."""
    from concurrent.futures import ThreadPoolExecutor

    def one(item: tuple[str, Path, str | None]) -> tuple[str, Path]:
        key, wheel, digest = item
        return key, unpack(wheel, digest)[0]

    if len(work) < 2:
        return dict(map(one, work))
    threads = min(UNPACK_THREADS, os.cpu_count() or 1, len(work))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="unpack") as pool:
        return dict(pool.map(one, work))


def _install_into(wheel: Path, work: Path) -> None:
    """Unpack ``wheel`` with installer into the neutral scheme under ``work``."""
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.records import RecordEntry
    from installer.sources import WheelFile
    from installer.utils import Scheme as SchemeName

    class CacheDestination(SchemeDictionaryDestination):
        """installer's destination, minus console scripts and shebang rewriting (both
        depend on the target; the planner does them) and with its own path check."""

        def write_script(self, name: str, module: str, attr: str, section: str) -> RecordEntry:
            check_component(name, f"{wheel.name}: script")
            return RecordEntry(name, None, None)

        def write_file(
            self,
            scheme: SchemeName,
            path: str | os.PathLike[str],
            stream: BinaryIO,
            is_executable: bool,
        ) -> RecordEntry:
            where = self.scheme_dict[scheme]
            if resolve_inside(where, os.fspath(path), where) is None:
                raise SourceError(f"{wheel.name}: {os.fspath(path)!r} leaves its scheme directory")
            if os.fspath(path).count("/") >= fs.MAX_DEPTH:
                raise SourceError(f"{wheel.name}: {fs.too_deep(os.fspath(path)).strerror}")
            return self.write_to_fs(scheme, os.fspath(path), stream, is_executable)

    class CheckedWheel(WheelFile):
        """installer's wheel, each file's bytes checked against its RECORD row while
        installer copies them: one pass over the archive instead of two."""

        def get_contents(self) -> Iterator[tuple[tuple[str, str, str], BinaryIO, bool]]:
            own_record = f"{self.dist_info_dir}/RECORD"
            for row, stream, is_executable in super().get_contents():
                if row[0] == own_record:
                    yield row, stream, is_executable
                    continue
                unchecked.add(row[0])
                checked = _CheckedStream(stream, row, wheel.name, unchecked)
                yield row, checked, is_executable  # type: ignore[misc]

    unchecked: set[str] = set()  # files handed to installer whose end was not reached yet
    scheme = {key: str(work / key) for key in SCHEME_KEYS}
    destination = CacheDestination(scheme, interpreter="python", script_kind="posix")
    try:
        with CheckedWheel.open(wheel) as source:
            try:
                source.validate_record(validate_contents=False)  # names, hashes, sizes
            except ValueError as exc:
                issues = getattr(exc, "issues", None) or [str(exc)]
                raise VerificationError(
                    f"{wheel.name}: files disagree with the wheel's RECORD: {issues[0]}"
                    + (f" (and {len(issues) - 1} more)" if len(issues) > 1 else "")
                ) from exc
            install(source, destination, additional_metadata={})
            if unchecked:
                raise VerificationError(
                    f"{wheel.name}: {sorted(unchecked)[0]} was not read to its end "
                    "while unpacking, so its RECORD hash could not be checked"
                )
    except (VerificationError, SourceError):
        raise
    except Exception as exc:  # installer reports bad wheels with several exception types
        reason = exc.args[-1] if len(exc.args) > 1 else exc  # installer: (source, message)
        raise SourceError(f"{wheel.name}: cannot be unpacked: {reason}") from exc


# What a wheel's RECORD may use (PEP 376/627: sha256 or stronger; fixed-length digests).
USABLE_HASHES = frozenset({"sha224", "sha256", "sha384", "sha512", "sha3_256", "sha3_384",
                           "sha3_512", "blake2b", "blake2s"})  # fmt: skip


class _CheckedStream:
    """A file of a wheel being read: at its end, its sha256 (or RECORD's algorithm) and
    size must be the RECORD row's, else :class:`VerificationError`."""

    def __init__(
        self, stream: BinaryIO, row: tuple[str, str, str], wheel: str, unchecked: set[str]
    ) -> None:
        algorithm, _, value = row[1].partition("=")
        if algorithm not in USABLE_HASHES:
            raise VerificationError(f"{wheel}: {row[0]} has no usable hash in RECORD ({row[1]})")
        self._stream, self._row, self._wheel, self._unchecked = stream, row, wheel, unchecked
        self._hash = hashlib.new(algorithm)
        self._expected = value
        self._size = 0
        self._limit = int(row[2]) if row[2].isdigit() else 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self._hash.update(data)
            self._size += len(data)
            if self._size > self._limit:  # never inflate more than RECORD promises
                self._finish()
        elif size != 0:
            self._finish()
        return data

    def _finish(self) -> None:
        path = self._row[0]
        if path not in self._unchecked:
            return
        digest = base64.urlsafe_b64encode(self._hash.digest()).rstrip(b"=").decode()
        if digest != self._expected or str(self._size) != self._row[2]:
            raise VerificationError(
                f"{self._wheel}: {path} does not match the wheel's RECORD "
                f"({self._row[1]}, {self._row[2]} bytes); the wheel was altered"
            )
        self._unchecked.discard(path)


def _record_of(entry: Path) -> Path:
    found = [*entry.glob("purelib/*.dist-info/RECORD"), *entry.glob("platlib/*.dist-info/RECORD")]
    if len(found) != 1:
        raise SourceError(f"{entry}: expected one distribution in an unpacked wheel")
    return found[0]


def _intact(entry: Path) -> bool:
    """Whether the entry's RECORD is the one installer wrote: ``.complete`` and RECORD
    are read through the entry's directory descriptor (``pep582.fs``), no link followed
    below the entry, neither read past a metadata file's size."""
    try:
        record = _record_of(entry).relative_to(entry).as_posix()
        folder, _, name = record.rpartition("/")
        with fs.Dir.open(entry) as top:
            expected = json.loads(top.read(COMPLETE, 1 << 16))["record"]
            with top.descend(folder) as meta:
                data = meta.read(name, MAX_FILE)
    except (OSError, ValueError, KeyError, TypeError, SourceError):
        return False
    return bool(hashlib.sha256(data).hexdigest() == expected)


def as_source(entry: Path, facts: InterpreterFacts) -> Source:
    """An unpacked wheel, read like an installed environment for ``facts``; its RECORD
    must be the one installer wrote (every file is then checked against it on use)."""
    entry = Path(os.path.realpath(entry))
    if not _intact(entry):
        raise CacheEntryModified(f"{entry}: its RECORD changed since it was unpacked", entry.name)
    sites = [entry / "purelib", entry / "platlib"]
    tree = Tree.open(entry)
    source = Source(
        kind="wheel",
        path=entry,
        facts=facts,
        site_dirs=[d for d in sites if d.is_dir()],
        scripts=entry / "scripts",
        include=entry / "headers",
        data=entry / "data",
        tree=tree,
    )
    for site_dir in source.site_dirs:
        source.distributions.extend(inventory(site_dir, tree))
    if len(source.distributions) != 1:
        raise SourceError(f"{entry}: expected one distribution in an unpacked wheel")
    return source
