"""Quickstart, end to end and offline: venv → ``pep582-migrate`` → ``__pypackages__``.

    python examples/quickstart/demo.py [WORKDIR]

Copies this folder to WORKDIR (default: a new temporary directory), builds a tiny wheel
of ``src/greet`` with the standard library, installs it into a fresh ``.venv`` (pip comes
from ``ensurepip``, no index is used), migrates the venv, deletes it, and shows that
``app.py`` and the ``greet`` console script still work.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def sh(*args: str | Path, cwd: Path) -> str:
    """Run a command, echo it like a shell session, return its stdout."""
    shown = " ".join(str(a) for a in args).replace(sys.executable, "python")
    for module, command in (
        ("python -m pep582.migrate_cli", "pep582-migrate"),
        ("python -m pep582.cli", "pep582"),
    ):
        shown = shown.replace(module, command)
    print(f"$ {shown}")
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {proc.stderr.strip()}")
    print(proc.stdout, end="")
    return proc.stdout


def build_wheel(project: Path) -> Path:
    """A valid ``greet-1.0-py3-none-any.whl`` written with zipfile (no build backend)."""
    files = {
        f"greet/{p.name}": p.read_bytes() for p in sorted((project / "src" / "greet").glob("*.py"))
    }
    info = "greet-1.0.dist-info"
    files[f"{info}/METADATA"] = b"Metadata-Version: 2.1\nName: greet\nVersion: 1.0\n"
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: quickstart\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\ngreet = greet:main\n"
    rows = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        rows.append(f"{name},sha256={digest.decode()},{len(data)}")
    rows.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(rows) + "\n").encode()
    wheel = project / "greet-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


def main(workdir: Path | None = None) -> Path:
    project = Path(workdir or tempfile.mkdtemp(prefix="pep582-quickstart-")) / "quickstart"
    shutil.copytree(HERE, project, ignore=shutil.ignore_patterns("__pycache__", "*.rst"))
    wheel = build_wheel(project)
    sh(sys.executable, "-m", "venv", ".venv", cwd=project)
    sh(".venv/bin/python", "-m", "pip", "install", "-q", "--no-index", wheel.name, cwd=project)
    sh(sys.executable, "-m", "pep582.migrate_cli", ".venv", cwd=project)
    print("$ rm -rf .venv")
    shutil.rmtree(project / ".venv")
    sh(sys.executable, "-m", "pep582.cli", "run", "app.py", cwd=project)
    sh("__pypackages__/bin/greet", cwd=project)
    return project


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
