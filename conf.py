"""Sphinx configuration for the rendered site: the PEP and the example projects."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT / "pep" / "_ext"), str(ROOT / "converter")]

project = "pep582-toolkit"
author = "pep582-toolkit contributors"
copyright = "placed in the public domain or under CC0-1.0-Universal, whichever is more permissive"
extensions = ["pep_sphinx", "sphinx.ext.doctest"]
root_doc = "index"
include_patterns = ["index.rst", "pep/pep-0582.rst", "examples/*/README.rst"]
exclude_patterns = ["build", ".venv*", "**/__pypackages__"]
nitpicky = True
html_theme = "alabaster"
html_title = "PEP 582 \N{EN DASH} Python local packages directory"
html_show_sourcelink = True
pep_url = "https://peps.python.org/pep-{:0>4}/"
rst_epilog = ""
# The examples' walk-throughs import their own demo.py.
doctest_global_setup = (
    "import sys\n"
    f"sys.path[:0] = [{', '.join(repr(str(p)) for p in sorted(ROOT.glob('examples/*')))}]\n"
)
