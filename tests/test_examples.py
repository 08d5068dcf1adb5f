"""Every examples/*/README.rst is a doctest that runs against this checkout."""

from __future__ import annotations

import doctest
import sys
from pathlib import Path

import pytest

from helpers import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*/README.rst"))


@pytest.mark.parametrize("readme", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_readme(readme: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(readme.parent))
    for name in [m for m in sys.modules if m == "demo"]:
        monkeypatch.delitem(sys.modules, name)
    result = doctest.testfile(
        str(readme), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert result.attempted > 0
    assert result.failed == 0
