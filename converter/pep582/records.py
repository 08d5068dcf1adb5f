"""RECORD files of installed distributions: reading, hashing files, writing new ones."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from installer.records import Hash, InvalidRecordEntry, RecordEntry, parse_record_file
from installer.utils import Scheme, construct_record_file

from pep582.errors import SourceError, VerificationError

CHUNK = 1 << 20


def read_record(path: Path) -> list[RecordEntry]:
    """The entries of a RECORD file; a malformed row is a SourceError naming path and line."""
    entries = []
    text = path.read_text(encoding="utf-8")
    for number, row in enumerate(parse_record_file(text.splitlines()), start=1):
        try:
            entries.append(RecordEntry.from_elements(*row))
        except (InvalidRecordEntry, TypeError) as exc:
            raise SourceError(f"{path}:{number}: invalid RECORD row {row!r}: {exc}") from exc
    return entries


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


def check(path: str | Path, expected: RecordEntry, digest: str, size: int) -> None:
    """Raise VerificationError unless ``digest``/``size`` match what RECORD promises."""
    if expected.hash_ is not None and expected.hash_.value != digest:
        raise VerificationError(
            f"{path}: content does not match its RECORD hash "
            f"({expected.hash_.name}={expected.hash_.value}); the environment was modified"
        )
    if expected.size is not None and expected.size != size:
        raise VerificationError(
            f"{path}: size {size} does not match its RECORD size {expected.size}"
        )


def render_record(entries: Iterable[RecordEntry]) -> bytes:
    """RECORD bytes for ``entries`` (sorted by path, as installer writes them)."""
    stream = construct_record_file((Scheme("purelib"), entry) for entry in entries)
    try:
        return stream.read()
    finally:
        stream.close()
