"""Where a carried script gets its locator: after the coding line, the module docstring
and the ``from __future__`` imports, found by tokenizing only that prologue.

The script comes from a source (a venv's ``bin/``), so it is never parsed as Python: a
body nested deeply enough made ``ast.parse`` raise RecursionError (an internal error) or
crash Python 3.9 (the class of hostile review finding 306). Every Python the toolkit
supports places the locator the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from pep582.interpreter import Interpreter
from pep582.step.scripts import insertion_point
from pep582.step.startup import DIRNAME

from helpers import bare_venv, fake_dist, migrate_cli

CONVERTER = Path(__file__).resolve().parent.parent / "converter"
DEEP = b"x = " + b"1+" * 200_000 + b"1\n"

# (body, what comes before the insertion point)
CASES = [
    (b"", b""),
    (b"import os\n", b""),
    (b'"""doc"""\nimport os\n', b'"""doc"""\n'),
    (b"# -*- coding: utf-8 -*-\nimport os\n", b"# -*- coding: utf-8 -*-\n"),
    (
        b'# -*- coding: utf-8 -*-\n"""doc\nmore"""\nfrom __future__ import annotations\nx = 1\n',
        b'# -*- coding: utf-8 -*-\n"""doc\nmore"""\nfrom __future__ import annotations\n',
    ),
    (
        b'"a" "b"\n# c\nfrom __future__ import (annotations,\n  division)\n\nx = 1\n',
        b'"a" "b"\n# c\nfrom __future__ import (annotations,\n  division)\n',
    ),
    (
        b'r"doc"\nfrom __future__ import annotations\n',
        b'r"doc"\nfrom __future__ import annotations\n',
    ),
    (b'"doc"; import os\n', b'"doc"; import os\n'),  # the line holds the docstring
    (b'"doc".strip()\nimport os\n', b""),
    (b'f"doc"\nimport os\n', b""),
    (b'"doc"\n"two"\nfrom __future__ import annotations\n', b'"doc"\n'),
    (b"import sys\nfrom __future__ import annotations\n", b""),
    (b'"""unterminated\n', b""),
    (b'"""doc"""\n' + DEEP, b'"""doc"""\n'),
    (b"from __future__ import annotations\n" + DEEP, b"from __future__ import annotations\n"),
    (b"x = " + b"(" * 5000 + b")" * 5000 + b"\n", b""),
    (b"x = " + b"-" * 1_000_000 + b"1\n", b""),
]


def test_the_prologue_is_found_without_parsing() -> None:
    for body, head in CASES:
        assert body[: insertion_point(body)] == head, body[:60]


def test_every_supported_python_finds_the_same_prologue(any_python: Interpreter) -> None:
    """The module is stdlib-only: run it on each Python (3.9's parser crashed on DEEP)."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1])\n"
        "from pep582.step.scripts import insertion_point\n"
        "bodies = [bytes.fromhex(h) for h in json.load(sys.stdin)]\n"
        "print(json.dumps([insertion_point(b) for b in bodies]))\n"
    )
    done = subprocess.run(
        [any_python.executable, "-I", "-c", code, str(CONVERTER)],
        input=json.dumps([body.hex() for body, _ in CASES]),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [len(head) for _, head in CASES]


@pytest.mark.parametrize("prologue", [b"", b'"""A tool."""\nfrom __future__ import annotations\n'])
def test_a_script_nested_past_the_parser_is_carried(tmp_path: Path, prologue: bytes) -> None:
    """A venv's script whose body no parser follows migrates (exit 0, one step), its
    locator placed after the prologue."""
    venv = tmp_path / "proj" / ".venv"
    site = bare_venv(venv)
    script = f"#!{venv / 'bin' / 'python'}\n".encode() + prologue + DEEP
    fake_dist(site, "deeptool", "1.0", {"deeptool.py": b"", "../../../bin/deeptool": script})
    os.chmod(venv / "bin" / "deeptool", 0o755)
    proc = migrate_cli(venv)
    assert proc.returncode == 0, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    carried = (tmp_path / "proj" / DIRNAME / "bin" / "deeptool").read_bytes()
    first, _, rest = carried.partition(b"\n")
    assert first.startswith(b"#!") and first != f"#!{venv / 'bin' / 'python'}".encode()
    assert rest.startswith(prologue) and rest.endswith(DEEP)
    assert DIRNAME.encode() in rest[len(prologue) : -len(DEEP)]  # the locator, in between
