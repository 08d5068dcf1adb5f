"""Console-script wrappers that find their own ``__pypackages__``, and shebang rewriting.

A wrapper carries the startup step's own code (``startup.py``, docstrings removed) as a
string: when the running interpreter has the hook loaded at the same version, the wrapper
uses it and compiles nothing; otherwise it compiles the embedded copy. Either way the
rules are the ones in ``startup.py``: the mode switches (``-I``, ``-S``, ``-P``), the trust
rule, and the placement before site-packages.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shlex
import tokenize
import zlib
from pathlib import Path

from pep582.step import startup
from pep582.step.slicer import cut


@functools.cache
def embedded_step() -> str:
    """What a wrapper carries of startup.py: the closure of the functions the wrapper's
    code calls on the step module (cut by the one slicer, docstrings and comments out)."""
    source = Path(startup.__file__).read_text(encoding="utf-8")
    called = set(re.findall(r"\bstep\.([A-Za-z_]\w*)", _PREPARE))
    return cut(source, tuple(sorted(name for name in called if not name.startswith("__"))))


_PREPARE = """\
def _pep582_prepare(code):  # written by pep582-toolkit: use this __pypackages__, no hook needed
    import os
    import sys
    import types
    import zlib

    step = sys.modules.get("_pep582_step")
    try:  # the hook's step, when this interpreter loaded the very same startup.py
        with open(step.__file__, "rb") as handle:
            same = zlib.crc32(handle.read()) == {checksum}
    except Exception:
        same = False
    if not same:
        step = types.ModuleType("_pep582_step")
        exec(compile(code, "<pep582 step>", "exec"), step.__dict__)
    script = os.path.realpath(__file__)
    root = os.path.normpath(os.path.join(os.path.dirname(script), {root!r}))
    reason = step.disabled_by()
    if reason:
        step.warn("%s: not using %s: %s" % (script, root, reason))
        return
    if os.path.basename(root) != "__pypackages__":
        step.warn("%s is not inside a __pypackages__ (copied or linked out of one?)" % script)
        return
    {sites}
    present = [d for d in dict.fromkeys(sites) if os.path.isdir(d)]
    if not present:
        step.warn("%s holds nothing for Python %d.%d" % ((root,) + sys.version_info[:2]))
        return
    also = (os.path.dirname(script), script)
    real, resolved, refused = step.judged(root, present, None, also)
    exportable = refused is None
    if refused:  # the script's owner may own the tree (not for the children, though)
        real, resolved, refused = step.judged(root, present, script, also)
    if refused:
        step.warn("ignoring %s: %s" % (root, refused))
        step.purge(root)
        return
    step.add_site_dirs(resolved)
    if exportable:
        step.export(real, True)


_pep582_prepare({code!r})
del _pep582_prepare
"""
# pep582 layout: the running interpreter's site directories (one wrapper serves every
# Python version that shares the tree); pdm layout: the version directory's lib.
_RUNNING_SITES = (
    'scheme = step.running_scheme(root)\n    sites = [scheme["purelib"], scheme["platlib"]]'
)
_FIXED_SITES = "sites = [os.path.normpath(os.path.join(root, rel)) for rel in {relative!r}]"

_ENTRY = """\
import sys
from {module} import {import_name}

if __name__ == "__main__":
    if sys.argv[0].endswith(".exe"):
        sys.argv[0] = sys.argv[0][:-4]
    sys.exit({func_path}())
"""
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")


def locator(root: str, scripts_dir: str, site_dirs: list[str] | None) -> str:
    """Code that puts the tree at ``root`` on ``sys.path`` for a script in ``scripts_dir``.

    ``site_dirs`` None (the pep582 layout): the running interpreter's site directories of
    the tree; otherwise these fixed directories (the pdm layout).
    """
    if site_dirs is None:
        sites = _RUNNING_SITES
    else:
        sites = _FIXED_SITES.format(relative=[os.path.relpath(d, root) for d in site_dirs])
    return _PREPARE.format(
        checksum=zlib.crc32(Path(startup.__file__).read_bytes()),
        root=os.path.relpath(root, scripts_dir),
        sites=sites,
        code=embedded_step(),
    )


_POLYGLOT_HEAD = b"#!/bin/sh\n'''exec' "
_POLYGLOT_TAIL = b' "$0" "$@"\n' + b"' '''"


def shebang(executable: str) -> bytes:
    """The first line(s) pointing at ``executable``, by installer's rules (its
    ``Script.generate`` for POSIX; a test keeps the two identical): a path with a space,
    or a ``#!`` line longer than 127 bytes, gets the ``/bin/sh`` polyglot form."""
    raw = executable.encode("utf-8")
    if b" " not in raw and len(raw) + 3 <= 127:
        return b"#!" + raw
    return _POLYGLOT_HEAD + shlex.quote(executable).encode("utf-8") + _POLYGLOT_TAIL


def wrapper(module: str, attr: str, executable: str, prepare: str) -> bytes:
    """A POSIX console-script wrapper for ``module:attr`` with the ``prepare`` locator."""
    body = (
        prepare
        + "\n"
        + _ENTRY.format(module=module, import_name=attr.split(".")[0], func_path=attr)
    )
    return shebang(executable) + b"\n" + body.encode("utf-8")


_POLYGLOT = re.compile(
    rb"\A#!/bin/sh\n'''exec' (?P<q>['\"]?)(?P<exe>.+?)(?P=q) \"\$0\" \"\$@\"\n' '''\n"
)
# uv venv --relocatable: the interpreter found beside the script's real path.
_RELOCATABLE = re.compile(
    rb"\A#!/bin/sh\n'''exec' \"\$\(dirname -- \"\$\(realpath -- \"\$0\"\)\"\)\"/'(?P<exe>[^']+)'"
    rb" \"\$0\" \"\$@\"\n' '''\n"
)
# A wheel's .data/scripts: "#!python" means "the interpreter installing me".
_WHEEL = re.compile(rb"\A#!python(?P<w>w?)(?P<args>[ \t][^\n]*)?\n")


def _names_python(executable: bytes) -> bool:
    name = os.path.basename(executable).lower()
    return b"python" in name or b"pypy" in name


def insertion_point(body: bytes) -> int:
    """Where code may go in a script ``body`` (after its shebang): after any coding line,
    module docstring and ``from __future__`` imports, which must come first."""
    last = _prologue_end(body)
    lines = body.split(b"\n")
    if last == 0 and lines and _CODING.match(lines[0]):
        last = 1
    return len(b"\n".join(lines[:last])) + (1 if last else 0)


def _prologue_end(body: bytes) -> int:
    """The last line of the module docstring and ``from __future__`` imports that open
    ``body`` (0 when none, or when they cannot be read). The script comes from a source,
    so it is tokenized, never parsed (nesting deep enough makes the parser raise or, on
    3.9, crash), and only until the first other statement: the work is bounded by the
    prologue, not by the rest of the file."""
    last = 0
    statement: list[tokenize.TokenInfo] = []
    count = 0  # statements read: only the first may be the docstring
    try:
        for token in tokenize.tokenize(io.BytesIO(body).readline):
            if token.type in (tokenize.ENCODING, tokenize.COMMENT, tokenize.NL):
                continue
            ends = token.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or (
                token.type == tokenize.OP and token.string == ";"
            )
            if not ends:
                if token.type in (tokenize.INDENT, tokenize.DEDENT):
                    return last
                statement.append(token)
                if not _may_open(statement, count == 0):
                    return last  # the first statement that is neither
                continue
            if statement:
                last = statement[-1].end[0]
                count += 1
                statement = []
            if token.type == tokenize.ENDMARKER:
                return last
    except (tokenize.TokenError, SyntaxError, ValueError):
        return 0
    return last


def _may_open(statement: list[tokenize.TokenInfo], first: bool) -> bool:
    """Whether the tokens so far of a statement may still be the docstring (``first``:
    string literals only, no f-string) or a ``from __future__ import``."""
    head = statement[0]
    if head.type == tokenize.STRING:
        token = statement[-1]
        prefix = token.string[: len(token.string) - len(token.string.lstrip("rRbBuU"))]
        return first and token.type == tokenize.STRING and token.string[len(prefix)] in "'\""
    words = ["from", "__future__", "import"]
    return all(
        token.type == tokenize.NAME and token.string == word
        for token, word in zip(statement[:3], words)
    )


def _launcher(data: bytes, prefix: bytes) -> tuple[bytes, bytes, int] | None:
    """``(interpreter, args, end of the launcher)`` when ``data`` starts a Python inside
    ``prefix``, or a relative one (uv's relocatable form, a wheel's ``#!python``)."""
    relocatable = _RELOCATABLE.match(data)
    if relocatable:
        return prefix + b"bin/" + relocatable.group("exe"), b"", relocatable.end()
    wheel = _WHEEL.match(data)
    if wheel:
        return prefix + b"bin/python", wheel.group("args") or b"", wheel.end()
    polyglot = _POLYGLOT.match(data)
    if polyglot:
        return polyglot.group("exe"), b"", polyglot.end()
    if data.startswith(b"#!" + prefix):
        first_line = data.split(b"\n", 1)[0]
        rest = first_line[len(prefix) + 2 :]
        tail, _, args = rest.partition(b" ")
        return prefix + tail, (b" " + args if args else b""), len(first_line) + 1
    return None


def classify_script(data: bytes, old_prefix: str) -> str:
    """``venv`` (its launcher starts a Python inside ``old_prefix``), ``relocatable``
    (uv's form), ``wheel`` (``#!python``), ``foreign-launcher`` (names ``old_prefix`` in a
    way we cannot rewrite) or ``other`` (carried as it is)."""
    prefix = os.path.join(old_prefix, "").encode()
    if _RELOCATABLE.match(data):
        return "relocatable"
    if _WHEEL.match(data):
        return "wheel"
    found = _launcher(data, prefix)
    if found is not None and found[0].startswith(prefix) and _names_python(found[0]):
        return "venv"
    head = data[:4096]
    if head.startswith(b"#!") and prefix in head:
        return "foreign-launcher"
    return "other"


def retarget_shebang(
    data: bytes, old_prefix: str, executable: str, preamble: str | None = None
) -> bytes | None:
    """Point a script's launcher at ``executable`` if it starts a Python of the old
    environment: ``#!/venv/bin/python [args]`` (even with a space in the path, as pip
    writes it for some scripts), the ``/bin/sh`` polyglot, uv's relocatable form, or a
    wheel's ``#!python``. Returns the new bytes, or None when it does not (carry it
    unchanged). ``preamble`` (the :func:`locator` code) goes after any coding line,
    docstring and ``from __future__`` imports.
    """
    prefix = os.path.join(old_prefix, "").encode()
    found = _launcher(data, prefix)
    if found is None:
        return None
    exe, args, end = found
    if not exe.startswith(prefix) or not _names_python(exe):
        return None
    first = shebang(executable)
    if args and b"\n" not in first:
        first += args
    body = data[end:]
    if preamble:
        at = insertion_point(body)
        separator = b"" if at == 0 or body[:at].endswith(b"\n") else b"\n"
        body = body[:at] + separator + preamble.encode("utf-8") + body[at:]
    return first + b"\n" + body
