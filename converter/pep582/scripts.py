"""Console-script wrappers that find their own ``__pypackages__``, and shebang rewriting."""

from __future__ import annotations

import inspect
import os
import re
import textwrap

from installer.scripts import Script

from pep582 import startup

# Scripts carry the step's own code for placing site directories (from startup.py), so
# they behave exactly like the startup hook without needing it installed.
_PLACEMENT = "\n\n".join(
    inspect.getsource(function)
    for function in (startup._site_key, startup._first_site_index, startup.add_site_dirs)
)

_LOCATOR = """\
def _pep582_locate():  # added by pep582-migrate: use this __pypackages__ without the hook
    import os
    import site
    import sys

{placement}

    here = os.path.dirname(os.path.realpath(__file__))
    add_site_dirs([os.path.normpath(os.path.join(here, rel)) for rel in {relative_dirs!r}])


_pep582_locate()
del _pep582_locate
"""

_ENTRY = """\
import sys
from {module} import {import_name}

if __name__ == "__main__":
    if sys.argv[0].endswith(".exe"):
        sys.argv[0] = sys.argv[0][:-4]
    sys.exit({func_path}())
"""
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")


def locator(scripts_dir: str, site_dirs: list[str]) -> str:
    """Code that adds ``site_dirs`` (found relative to the script's real path) as site
    directories just before site-packages, as the startup hook would."""
    relative = [os.path.relpath(d, scripts_dir) for d in site_dirs]
    return _LOCATOR.format(placement=textwrap.indent(_PLACEMENT, "    "), relative_dirs=relative)


def shebang(executable: str) -> bytes:
    """The first line(s) pointing at ``executable``, by installer's rules.

    Long paths and paths with spaces get the ``/bin/sh`` polyglot form.
    """
    # installer keeps this rule in a private helper; reusing it keeps us in step with it.
    return Script("_", "_", "_", "console")._build_shebang(executable, forlauncher=False)


def wrapper(
    module: str, attr: str, executable: str, scripts_dir: str, site_dirs: list[str]
) -> bytes:
    """A POSIX console-script wrapper for ``module:attr``, placed in ``scripts_dir``."""
    body = (
        locator(scripts_dir, site_dirs)
        + "\n"
        + _ENTRY.format(module=module, import_name=attr.split(".")[0], func_path=attr)
    )
    return shebang(executable) + b"\n" + body.encode("utf-8")


_POLYGLOT = re.compile(
    rb"\A#!/bin/sh\n'''exec' (?P<q>['\"]?)(?P<exe>.+?)(?P=q) \"\$0\" \"\$@\"\n' '''\n"
)


def _names_python(executable: bytes) -> bool:
    name = os.path.basename(executable).lower()
    return b"python" in name or b"pypy" in name


def retarget_shebang(
    data: bytes, old_prefix: str, executable: str, preamble: str | None = None
) -> bytes | None:
    """Point a script's shebang at ``executable`` if it names a Python inside ``old_prefix``.

    Handles ``#!/path/python [args]`` (even when the old path holds a space, as pip writes
    it for some scripts) and the ``/bin/sh`` polyglot. Returns the new bytes, or None when
    the script does not point into ``old_prefix`` (copy it unchanged). ``preamble`` (the
    :func:`locator` code) goes after the shebang and any coding line, unless the script
    has ``from __future__`` imports, which must come first.
    """
    prefix = os.path.join(old_prefix, "").encode()
    polyglot = _POLYGLOT.match(data)
    if polyglot:
        exe, args, end = polyglot.group("exe"), b"", polyglot.end()
    elif data.startswith(b"#!" + prefix):
        first_line = data.split(b"\n", 1)[0]
        rest = first_line[len(prefix) + 2 :]
        tail, _, args = rest.partition(b" ")
        exe, args, end = prefix + tail, (b" " + args if args else b""), len(first_line) + 1
    else:
        return None
    if not exe.startswith(prefix) or not _names_python(exe):
        return None
    first = shebang(executable)
    if args and b"\n" not in first:
        first += args
    body = data[end:]
    if preamble and b"from __future__" not in body:
        coding, newline, rest = body.partition(b"\n")
        if newline and _CODING.match(coding):
            body = coding + newline + preamble.encode("utf-8") + rest
        else:
            body = preamble.encode("utf-8") + body
    return first + b"\n" + body
