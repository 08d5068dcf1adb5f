"""Metadata files of installed distributions: reading them safely, hashing, new RECORDs."""

from __future__ import annotations

import base64
import csv
import errno
import hashlib
import io
import os
import re
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from pep582 import SLOTS, fs
from pep582.errors import SourceError, VerificationError

CHUNK = 1 << 20
MAX_LINE = 1 << 16  # a RECORD or metadata line longer than this is not a real one
MAX_FILE = 64 << 20  # nor is a metadata file larger than this


@dataclass(frozen=True, **SLOTS)
class Hash:
    """A RECORD hash: algorithm name and urlsafe-base64 value without padding."""

    name: str
    value: str

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


@dataclass(frozen=True, **SLOTS)
class RecordEntry:
    """One row of a RECORD file (PEP 376/627): path, optional hash, optional size.

    A plain triple of our own: reading and writing RECORD is a CSV file, and the venv
    path must not import the wheel installer just to name it.
    """

    path: str
    hash_: Hash | None
    size: int | None

    @classmethod
    def from_row(cls, row: list[str]) -> RecordEntry:
        if len(row) != 3:
            raise ValueError(f"expected 3 fields, found {len(row)}")
        path, digest, size = row
        if not path or "\x00" in path:
            raise ValueError("empty path or a NUL in it")
        hash_ = None
        if digest:
            name, sep, value = digest.partition("=")
            if not sep or not value or name not in hashlib.algorithms_guaranteed:
                raise ValueError(f"bad hash {digest!r}")
            hash_ = Hash(sys.intern(name), value)  # one "sha256" for 100,000 rows
        if size and not size.isdigit():
            raise ValueError(f"bad size {size!r}")
        return cls(path, hash_, int(size) if size else None)

    def row(self) -> list[str]:
        return [self.path, str(self.hash_ or ""), "" if self.size is None else str(self.size)]


def read_regular(path: str | os.PathLike[str], limit: int = MAX_FILE) -> bytes:
    """The bytes of a file the user named (a requirements, TOML or config file): opened
    once, never through a link at its last component, never a FIFO or device (they would
    block or never end), at most ``limit`` bytes; failures name the file."""
    return _read(path, limit, whole=True)


def read_head(path: str | os.PathLike[str], size: int) -> bytes:
    """The first ``size`` bytes (at most) of a file the user named, opened and refused
    exactly as :func:`read_regular` does (a link, a FIFO, a device: one line)."""
    return _read(path, size, whole=False)


def _read(path: str | os.PathLike[str], limit: int, whole: bool) -> bytes:
    try:
        fd = os.open(path, fs.READ_FLAGS)
    except OSError as exc:
        reason = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        raise SourceError(f"{path}: cannot read: {reason}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(f"{path}: not a regular file")
        if not whole:
            return os.read(fd, limit)
        if info.st_size > limit:
            raise SourceError(f"{path}: larger than {limit >> 20} MiB; refusing to read it")
        return fs.read_fd(fd, limit, str(path))
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from exc
    finally:
        os.close(fd)


def decode_text(data: bytes, where: str) -> str:
    """A UTF-8 metadata file's text; bad bytes or absurd lines are a SourceError naming
    file and line, never a traceback."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(f"{where}:{line}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    if len(text) > MAX_LINE:  # only then can a line be too long
        for number, line_text in enumerate(text.split("\n"), start=1):
            if len(line_text) > MAX_LINE:
                raise SourceError(
                    f"{where}:{number}: a line of {len(line_text)} characters "
                    f"(more than {MAX_LINE}); not a metadata file"
                )
    return text


def read_text(path: str | os.PathLike[str]) -> str:
    """A UTF-8 file the user named (a requirements, TOML or config file): see
    :func:`decode_text`."""
    return decode_text(read_regular(path), str(path))


def parse_record(text: str, where: str) -> list[RecordEntry]:
    """The entries of a RECORD file; a malformed row is a SourceError naming file and line."""
    entries = []
    reader = csv.reader(text.splitlines(), strict=True)
    try:
        for number, row in enumerate(reader, start=1):
            if not row:
                continue
            try:
                entries.append(RecordEntry.from_row(row))
            except ValueError as exc:
                raise SourceError(f"{where}:{number}: invalid RECORD row {row!r}: {exc}") from exc
    except csv.Error as exc:
        raise SourceError(f"{where}:{reader.line_num}: not a CSV row: {exc}") from exc
    return entries


_ROW = re.compile(r"^([^,\n]*),[^,\n]*,[^,\n]*$", re.MULTILINE)


def record_paths(text: str, where: str) -> list[str]:
    """Only the path column of a RECORD (for knowing who owns what): a RECORD without
    quotes is read by one regular expression, any other parsed as CSV; a malformed file
    is a SourceError."""
    if '"' in text:
        return [entry.path for entry in parse_record(text, where)]
    paths = _ROW.findall(text)
    if len(paths) != text.count("\n") + (not text.endswith("\n")) - text.count("\n\n") or (
        "" in paths
    ):
        return [entry.path for entry in parse_record(text, where)]  # names the bad line
    return paths


def read_record(path: str | os.PathLike[str]) -> list[RecordEntry]:
    """The entries of the RECORD file at ``path`` (see :func:`parse_record`)."""
    return parse_record(read_text(path), str(path))


def _encoded(raw: bytes) -> str:
    """RECORD's hash format: urlsafe base64 without padding."""
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def digest_bytes(data: bytes, algorithm: str = "sha256") -> str:
    """The RECORD-format digest of ``data``."""
    return _encoded(hashlib.new(algorithm, data).digest())


def entry_for(path: str, data: bytes) -> RecordEntry:
    """A RECORD entry (sha256 and size) for a file we write with ``data``."""
    return RecordEntry(path, Hash("sha256", digest_bytes(data)), len(data))


def raw_digest(
    stream: BinaryIO, algorithm: str, sink: BinaryIO | None = None
) -> tuple[bytes, int]:
    """Hash ``stream`` in chunks (copying into ``sink`` when given); return digest, size."""
    hasher = hashlib.new(algorithm)
    size = 0
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
        if sink is not None:
            sink.write(chunk)
        size += len(chunk)
    return hasher.digest(), size


def hash_stream(stream: BinaryIO, algorithm: str, sink: BinaryIO | None = None) -> tuple[str, int]:
    """Like :func:`raw_digest`, the digest in RECORD's format."""
    raw, size = raw_digest(stream, algorithm, sink)
    return _encoded(raw), size


NO_VERIFY_ADVICE = " (pass --no-verify to carry it as it is)"


def check(path: str | os.PathLike[str], expected: RecordEntry, digest: str, size: int) -> None:
    """Raise VerificationError unless ``digest``/``size`` match what RECORD promises."""
    if expected.hash_ is not None and expected.hash_.value != digest:
        raise VerificationError(
            f"{path}: content does not match its RECORD hash "
            f"({expected.hash_.name}={expected.hash_.value}); the file was changed after "
            f"installation{NO_VERIFY_ADVICE}"
        )
    if expected.size is not None and expected.size != size:
        raise VerificationError(
            f"{path}: size {size} does not match its RECORD size {expected.size}{NO_VERIFY_ADVICE}"
        )


def render_record(entries: Iterable[RecordEntry]) -> bytes:
    """RECORD bytes for ``entries``: one row each, sorted by path, ``\n`` line ends."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", quotechar='"', lineterminator="\n")
    writer.writerows(entry.row() for entry in sorted(entries, key=lambda e: e.path))
    return out.getvalue().encode("utf-8")
