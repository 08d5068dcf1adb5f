"""The decisions of ``operations.install``: what ``--upgrade`` moves (markers evaluated for
the target interpreter), what the tree already holds."""

from __future__ import annotations

import sys
from pathlib import Path

from pep582.install.pylock import environment_of
from pep582.interpreter import find_python
from pep582.operations.install import upgrade_closure
from pep582.operations.uninstall import installed
from pep582.scheme import scheme_for

from helpers import fake_dist

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_upgrade_closure_follows_requirements_that_hold_for_the_target(tmp_path: Path) -> None:
    """``Requires-Dist: winonly; sys_platform == "win32"`` is not required on Linux, an
    extra's requirement is not required without the extra, a folded header line is read
    whole; what is required is followed transitively."""
    python = find_python(PY)
    site = Path(scheme_for(tmp_path, python.facts, "pep582").purelib)
    fake_dist(site, "app", "1.0", {"app.py": b""}, requires=(
        'winonly; sys_platform == "win32"',
        "hello>=1",
        'fancy; extra == "x"',
        'winfold;\n sys_platform == "win32"',  # a folded header line
        f'newer; python_version < "{python.facts.version[0]}.{python.facts.version[1]}"',
    ))  # fmt: skip
    fake_dist(site, "hello", "1.0", {"hello.py": b""}, requires=("dep",))
    for name in ("winonly", "fancy", "winfold", "newer", "dep", "other"):
        fake_dist(site, name, "1.0", {f"{name}.py": b""})
    present = {d.key: d for source in installed(tmp_path) for d in source.distributions}
    assert upgrade_closure({"app"}, present, python) == {"hello", "dep"}
    assert upgrade_closure({"hello"}, present, python) == {"dep"}
    (app,) = [d for d in present.values() if d.key == "app"]
    assert app.requires(environment_of(python)[0]) == ["hello"]
