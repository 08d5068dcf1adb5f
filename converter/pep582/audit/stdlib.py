"""What a target interpreter's standard library holds, asked once through ``pep582.proc``,
and which top-level import name a directory entry provides."""

from __future__ import annotations

import json
import os

from pep582 import proc
from pep582.audit.model import Stdlib
from pep582.errors import InterpreterError

# Python 3.9 has no sys.stdlib_module_names. This list was generated once with CPython
# 3.10.13: sorted(set(sys.stdlib_module_names) | REMOVED_IN_310). Python 3.10 added no
# top-level module (every name 3.10 can import here, 3.9.18 can too), and REMOVED_IN_310
# are the modules 3.9 ships that 3.10 dropped (test-only modules stay out, as in 3.10).
REMOVED_IN_310 = frozenset({"_bootlocale", "_peg_parser", "formatter", "parser", "symbol"})
STDLIB_39 = frozenset(
    """
    __future__ _abc _aix_support _ast _asyncio _bisect _blake2 _bootlocale _bootsubprocess _bz2
    _codecs _codecs_cn _codecs_hk _codecs_iso2022 _codecs_jp _codecs_kr _codecs_tw _collections
    _collections_abc _compat_pickle _compression _contextvars _crypt _csv _ctypes _curses
    _curses_panel _datetime _dbm _decimal _elementtree _frozen_importlib _frozen_importlib_external
    _functools _gdbm _hashlib _heapq _imp _io _json _locale _lsprof _lzma _markupbase _md5 _msi
    _multibytecodec _multiprocessing _opcode _operator _osx_support _overlapped _peg_parser _pickle
    _posixshmem _posixsubprocess _py_abc _pydecimal _pyio _queue _random _scproxy _sha1 _sha256
    _sha3 _sha512 _signal _sitebuiltins _socket _sqlite3 _sre _ssl _stat _statistics _string
    _strptime _struct _symtable _thread _threading_local _tkinter _tracemalloc _uuid _warnings
    _weakref _weakrefset _winapi _zoneinfo abc aifc antigravity argparse array ast asynchat asyncio
    asyncore atexit audioop base64 bdb binascii binhex bisect builtins bz2 cProfile calendar cgi
    cgitb chunk cmath cmd code codecs codeop collections colorsys compileall concurrent
    configparser contextlib contextvars copy copyreg crypt csv ctypes curses dataclasses datetime
    dbm decimal difflib dis distutils doctest email encodings ensurepip enum errno faulthandler
    fcntl filecmp fileinput fnmatch formatter fractions ftplib functools gc genericpath getopt
    getpass gettext glob graphlib grp gzip hashlib heapq hmac html http idlelib imaplib imghdr imp
    importlib inspect io ipaddress itertools json keyword lib2to3 linecache locale logging lzma
    mailbox mailcap marshal math mimetypes mmap modulefinder msilib msvcrt multiprocessing netrc
    nis nntplib nt ntpath nturl2path numbers opcode operator optparse os ossaudiodev parser pathlib
    pdb pickle pickletools pipes pkgutil platform plistlib poplib posix posixpath pprint profile
    pstats pty pwd py_compile pyclbr pydoc pydoc_data pyexpat queue quopri random re readline
    reprlib resource rlcompleter runpy sched secrets select selectors shelve shlex shutil signal
    site smtpd smtplib sndhdr socket socketserver spwd sqlite3 sre_compile sre_constants sre_parse
    ssl stat statistics string stringprep struct subprocess sunau symbol symtable sys sysconfig
    syslog tabnanny tarfile telnetlib tempfile termios textwrap this threading time timeit tkinter
    token tokenize trace traceback tracemalloc tty turtle turtledemo types typing unicodedata
    unittest urllib uu uuid venv warnings wave weakref webbrowser winreg winsound wsgiref xdrlib
    xml xmlrpc zipapp zipfile zipimport zlib zoneinfo
    """.split()  # noqa: SIM905 (a word list reads better than 308 quoted strings)
)

# Runs inside the target interpreter under -I (site on, user site and cwd off). Records
# which modules startup already imported before anything else, then how each standard
# library name resolves there: a file on sys.path[0] cannot shadow a built-in, frozen or
# already-imported module, only one the stdlib directories would provide ("path"), or one
# this build lacks ("absent"). Also names the directories pip writes scripts into.
_PROBE = r"""
import sys
startup = set(sys.modules)
import importlib.machinery as machinery, json, os, site, sysconfig
names = getattr(sys, "stdlib_module_names", None)
own = names is not None
if names is None:
    names = json.loads(sys.argv[1])
skip = set()
try:
    skip.update(site.getsitepackages())
    skip.add(site.getusersitepackages())
except AttributeError:
    pass
paths = [p for p in sys.path if p and p not in skip]
def kind(name):
    if name in sys.builtin_module_names:
        return "builtin"
    try:
        if machinery.FrozenImporter.find_spec(name) is not None:
            return "frozen"
    except Exception:
        pass
    if name in startup:
        return "startup"
    try:
        if machinery.PathFinder.find_spec(name, paths) is not None:
            return "path"
    except Exception:
        pass
    return "absent"
scripts = [sysconfig.get_path("scripts")]
try:
    user = sysconfig.get_preferred_scheme("user")
except AttributeError:
    user = os.name + "_user"
try:
    scripts.append(sysconfig.get_path("scripts", user))
except KeyError:
    pass
print(json.dumps({"own": own, "kinds": {n: kind(n) for n in sorted(names)}, "scripts": scripts}))
"""

KIND_WORDS = {
    "builtin": "built into the interpreter",
    "frozen": "frozen into the interpreter",
    "startup": "imported during startup, before the script's directory is searched",
}


def stdlib_of(executable: str | os.PathLike[str]) -> Stdlib:
    """Ask ``executable`` (isolated, through :func:`pep582.proc.run`) for its standard
    library names and how each resolves there.

    Python 3.9 lacks ``sys.stdlib_module_names``; :data:`STDLIB_39` stands in.
    """
    result = proc.run(
        [executable, "-c", _PROBE, json.dumps(sorted(STDLIB_39))],
        python=True,
        what="interpreter",
        timeout=proc.PROBE_TIMEOUT,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise InterpreterError(f"{executable} failed (exit {result.returncode}): {last}")
    try:
        data = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise InterpreterError(
            f"{executable} did not list its stdlib: {result.stdout[:200]!r}"
        ) from exc
    source = (
        f"sys.stdlib_module_names of {executable}"
        if data["own"]
        else f"{executable} has no sys.stdlib_module_names: the toolkit's list for 3.9 "
        "(CPython 3.10's names plus the five modules 3.10 removed)"
    )
    return Stdlib(dict(data["kinds"]), source, [str(p) for p in data["scripts"]])


def module_name(name: str, is_dir: bool = False, has_init: bool = False) -> str | None:
    """The top-level import name a directory entry provides, or None.

    Modules (``x.py``, ``x.pyc``, extension modules) and regular packages (a directory
    with ``has_init``) count; a plain directory is at most a namespace portion, which never
    shadows a regular module.

    >>> module_name("json.py"), module_name("a-b.py"), module_name("email", True, True)
    ('json', None, 'email')
    >>> module_name("html", is_dir=True), module_name("_x.cpython-312-x86_64-linux-gnu.so")
    (None, '_x')
    """
    stem, _, rest = name.partition(".")
    if not stem.isidentifier():
        return None
    if is_dir:
        return stem if not rest and has_init else None
    if rest in ("py", "pyc") or name.endswith((".so", ".pyd")):
        return stem
    return None
