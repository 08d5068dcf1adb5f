"""Sphinx configuration for the rendered site: the PEP and the example projects."""

from __future__ import annotations

import doctest
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT / "pep" / "_ext"), str(ROOT / "converter")]

project = "pep582-toolkit"
author = "pep582-toolkit contributors"
copyright = "placed in the public domain or under CC0-1.0-Universal, whichever is more permissive"
# autosectionlabel: the example pages link the PEP's sections (checked under -W).
extensions = ["pep_sphinx", "sphinx.ext.doctest", "sphinx.ext.autosectionlabel"]
autosectionlabel_prefix_document = True
root_doc = "index"
include_patterns = [
    "index.rst",
    "pep/pep-0582.rst",
    "pep/reference-implementation.rst",
    "examples/*/README.rst",
]
exclude_patterns = ["build", ".venv*", "**/__pypackages__"]
nitpicky = True
html_theme = "alabaster"
html_title = "PEP 582 \N{EN DASH} Python local packages directory"
html_show_sourcelink = True
# Wide enough for 79-column code lines beside the sidebar; the PEP page gets a contents
# sidebar (it is long).
html_theme_options = {"page_width": "1140px", "sidebar_width": "250px"}
html_sidebars = {
    "pep/pep-0582": ["localtoc.html", "relations.html", "searchbox.html"],
    "pep/reference-implementation": ["localtoc.html", "relations.html", "searchbox.html"],
}
pep_url = "https://peps.python.org/pep-{:0>4}/"
rst_epilog = ""
# Doctests (the reference implementation's page and the examples) import
# examples/transcript.py (real runs, normalised output) and each example its own demo.py;
# the PEP itself shows plain console sessions, which tests/test_pep.py runs. Long output
# lines are wrapped in the sources, hence NORMALIZE_WHITESPACE.
DOCTEST_PATHS = [ROOT / "examples", *sorted(p for p in ROOT.glob("examples/*") if p.is_dir())]
doctest_global_setup = (
    f"import sys\nsys.path[:0] = [{', '.join(repr(str(p)) for p in DOCTEST_PATHS)}]\n"
)
doctest_default_flags = (
    doctest.ELLIPSIS
    | doctest.IGNORE_EXCEPTION_DETAIL
    | doctest.DONT_ACCEPT_TRUE_FOR_1
    | doctest.NORMALIZE_WHITESPACE
)
