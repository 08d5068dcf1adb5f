"""A PEP 517 and PEP 660 build backend for the notes project, standard library only."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

NAME, VERSION, REQUIRES = "notes", "1.0", ["tally"]
SOURCE = Path(__file__).resolve().parent / "src"


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _wheel(directory: str, files: dict[str, bytes]) -> str:
    info = f"{NAME}-{VERSION}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n"
    files[f"{info}/METADATA"] = (
        metadata + "".join(f"Requires-Dist: {r}\n" for r in REQUIRES)
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: notes\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    rows = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files.items()]
    files[f"{info}/RECORD"] = "\n".join([*rows, f"{info}/RECORD,,", ""]).encode()
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(Path(directory) / name, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return name


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, str] | None = None,
    metadata_directory: str | None = None,
) -> str:
    """A regular wheel: the package's files."""
    files = {p.relative_to(SOURCE).as_posix(): p.read_bytes() for p in SOURCE.rglob("*.py")}
    return _wheel(wheel_directory, files)


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, str] | None = None,
    metadata_directory: str | None = None,
) -> str:
    """An editable wheel: a .pth file naming the source directory (PEP 660)."""
    return _wheel(wheel_directory, {f"__editable__.{NAME}-{VERSION}.pth": f"{SOURCE}\n".encode()})
