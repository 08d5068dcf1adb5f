"""The localpackages and draft (pdm) layouts, for interpreters we can and cannot run."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from pep582.interpreter import Interpreter
from pep582.scheme import InterpreterFacts, Layout, scheme_for, trees_in

from helpers import run

POSIX = [
    ((3, 9), False, "lib", "lib/python3.9/site-packages", "lib/python3.9/site-packages"),
    ((3, 10), False, "lib", "lib/python3.10/site-packages", "lib/python3.10/site-packages"),
    ((3, 11), False, "lib", "lib/python3.11/site-packages", "lib/python3.11/site-packages"),
    ((3, 12), False, "lib", "lib/python3.12/site-packages", "lib/python3.12/site-packages"),
    ((3, 13), False, "lib", "lib/python3.13/site-packages", "lib/python3.13/site-packages"),
    ((3, 13), True, "lib", "lib/python3.13t/site-packages", "lib/python3.13t/site-packages"),
    ((3, 12), False, "lib64", "lib/python3.12/site-packages", "lib64/python3.12/site-packages"),
]


@pytest.mark.parametrize(("version", "ft", "platlibdir", "purelib", "platlib"), POSIX)
def test_posix_cpython(
    version: tuple[int, int], ft: bool, platlibdir: str, purelib: str, platlib: str
) -> None:
    facts = InterpreterFacts(version=version, freethreaded=ft, platlibdir=platlibdir)
    scheme = scheme_for("/proj", facts, "pep582")
    root = PurePosixPath("/proj/__pypackages__")
    assert scheme.root == root
    assert scheme.purelib == root / purelib
    assert scheme.platlib == root / platlib
    assert scheme.scripts == root / "bin"
    assert scheme.data == root
    assert scheme.include == root / "include" / purelib.split("/")[1]
    assert len(scheme.site_dirs) == (1 if purelib == platlib else 2)


def test_pypy() -> None:
    scheme = scheme_for("/p", InterpreterFacts("pypy", (3, 10)), "pep582")
    assert str(scheme.purelib) == "/p/__pypackages__/lib/pypy3.10/site-packages"
    assert str(scheme.include) == "/p/__pypackages__/include/pypy3.10"


def test_other_implementations_use_python_as_their_sysconfig_does() -> None:
    """sysconfig's {implementation_lower} is "pypy" for PyPy and "python" for every other
    implementation (GraalPy's own sysconfig gives python3.11 / Python311 too)."""
    scheme = scheme_for("/p", InterpreterFacts("graalpy", (3, 11)), "pep582")
    assert str(scheme.purelib) == "/p/__pypackages__/lib/python3.11/site-packages"
    windows = InterpreterFacts("graalpy", (3, 11), os_name="nt")
    assert str(scheme_for("C:\\p", windows, "pep582").purelib).endswith(
        "\\Python311\\site-packages"
    )


ROUND_TRIP = [
    (InterpreterFacts("cpython", (3, 12)), "pep582"),
    (InterpreterFacts("cpython", (3, 13), freethreaded=True, abiflags="t"), "pep582"),
    (InterpreterFacts("cpython", (3, 11), platlibdir="lib64"), "pep582"),
    (InterpreterFacts("pypy", (3, 10)), "pep582"),
    (InterpreterFacts("cpython", (4, 0)), "pep582"),  # no major version is assumed
    (InterpreterFacts(version=(3, 11)), "pdm"),
    (InterpreterFacts(version=(3, 13), freethreaded=True), "pdm"),
    (InterpreterFacts(version=(3, 12), platform_suffix="-32"), "pdm"),
]


@pytest.mark.parametrize(("facts", "layout"), ROUND_TRIP)
def test_the_layout_reader_is_the_inverse_of_scheme_for(
    tmp_path: Path, facts: InterpreterFacts, layout: Layout
) -> None:
    """scheme_for → directories on disk → trees_in gives back the same facts and scheme."""
    scheme = scheme_for(tmp_path, facts, layout)
    for directory in scheme.site_dirs:
        Path(directory).mkdir(parents=True, exist_ok=True)
    (found,) = trees_in(tmp_path / "__pypackages__")
    assert found.layout == layout
    assert found.scheme == scheme
    assert found.facts.version_tag == facts.version_tag
    assert found.facts.platlibdir == facts.platlibdir
    if layout == "pep582":
        assert found.facts.implementation == facts.implementation


def test_the_layout_reader_ignores_links_and_strange_names(tmp_path: Path) -> None:
    root = tmp_path / "__pypackages__"
    (root / "lib" / "python3.x" / "site-packages").mkdir(parents=True)
    (root / "lib" / "jython2.7" / "site-packages").mkdir(parents=True)
    (tmp_path / "elsewhere" / "lib").mkdir(parents=True)
    (root / "3.12").symlink_to(tmp_path / "elsewhere")
    assert trees_in(root) == []


def test_include_carries_abiflags() -> None:
    """posix_prefix's include is include/python{X.Y}{abiflags}: a debug build adds d."""
    facts = InterpreterFacts(version=(3, 13), freethreaded=True, abiflags="td")
    scheme = scheme_for("/p", facts, "pep582")
    assert str(scheme.purelib) == "/p/__pypackages__/lib/python3.13t/site-packages"
    assert str(scheme.include) == "/p/__pypackages__/include/python3.13td"


@pytest.mark.parametrize(
    ("facts", "folder"),
    [
        (InterpreterFacts(version=(3, 12), os_name="nt"), "Python312"),
        (InterpreterFacts(version=(3, 12), os_name="nt", platform_suffix="-32"), "Python312-32"),
        (
            InterpreterFacts(version=(3, 13), os_name="nt", platform_suffix="-arm64"),
            "Python313-arm64",
        ),
        (InterpreterFacts("graalpy", (3, 11), os_name="nt"), "Python311"),
        (InterpreterFacts(version=(3, 13), os_name="nt", freethreaded=True), "Python313t"),
        (InterpreterFacts("pypy", (3, 10), os_name="nt"), "PyPy310"),
    ],
)
def test_windows(facts: InterpreterFacts, folder: str) -> None:
    scheme = scheme_for(r"C:\proj", facts, "pep582")
    root = PureWindowsPath(r"C:\proj\__pypackages__")
    assert scheme.root == root
    assert scheme.purelib == scheme.platlib == root / folder / "site-packages"
    assert scheme.scripts == root / folder / "Scripts"
    assert scheme.include == root / folder / "Include"
    assert scheme.data == root


@pytest.mark.parametrize(
    ("facts", "base", "scripts"),
    [
        (InterpreterFacts(version=(3, 11)), "/p/__pypackages__/3.11", "bin"),
        (InterpreterFacts(version=(3, 13), freethreaded=True), "/p/__pypackages__/3.13t", "bin"),
    ],
)
def test_pdm_layout_posix(facts: InterpreterFacts, base: str, scripts: str) -> None:
    scheme = scheme_for("/p", facts, "pdm")
    assert str(scheme.purelib) == str(scheme.platlib) == f"{base}/lib"
    assert str(scheme.scripts) == f"{base}/{scripts}"
    assert str(scheme.include) == f"{base}/include"
    assert str(scheme.data) == base


def test_pdm_layout_windows() -> None:
    scheme = scheme_for(
        r"C:\p", InterpreterFacts(version=(3, 11), os_name="nt", platform_suffix="-32"), "pdm"
    )
    assert str(scheme.purelib) == r"C:\p\__pypackages__\3.11-32\lib"
    assert str(scheme.scripts) == r"C:\p\__pypackages__\3.11-32\Scripts"


def test_unknown_layout() -> None:
    with pytest.raises(ValueError, match="unknown layout"):
        scheme_for("/p", InterpreterFacts(), "flat")  # type: ignore[arg-type]


def test_scheme_is_posix_prefix_of_every_interpreter(any_interpreter: Interpreter) -> None:
    """Computed without running Python == that Python's own posix_prefix with every base
    variable set to the ``__pypackages__`` path: all five paths, include too."""
    code = (
        "import json, sys, sysconfig\n"
        "b = sys.argv[1]\n"
        "keys = ('base', 'platbase', 'installed_base', 'installed_platbase')\n"
        "print(json.dumps(sysconfig.get_paths('posix_prefix', vars=dict.fromkeys(keys, b))))"
    )
    out = run([any_interpreter.executable, "-c", code, "/p/__pypackages__"], check=True).stdout
    theirs = json.loads(out)
    ours = scheme_for("/p", any_interpreter.facts, "pep582").as_dict()
    for key in ("purelib", "platlib", "scripts", "include", "data"):
        assert ours[key] == theirs[key], key
