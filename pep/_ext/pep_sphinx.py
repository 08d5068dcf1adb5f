"""Sphinx support for PEP sources: RFC 2822 preamble, its validation, the page title.

A ``.rst`` file whose first line starts with ``PEP:`` is parsed with docutils' RFC 2822
support, so its preamble becomes a header table. Two transforms then run, one concern
each: ``CheckPreamble`` reports every broken PEP 1 rule as a warning (which ``-W`` turns
into a failed build) and ``PEPTitle`` gives the page its title, "PEP N, en dash, Title".
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from docutils.transforms import Transform
from pep_preamble import check
from sphinx.application import Sphinx
from sphinx.parsers import RSTParser
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _preamble(document: nodes.document) -> nodes.field_list | None:
    for field_list in document.findall(nodes.field_list):
        if "rfc2822" in field_list["classes"]:
            return field_list
    return None


def _headers(preamble: nodes.field_list) -> list[tuple[str, str]]:
    headers = []
    for field in preamble.children:
        if not isinstance(field, nodes.field):
            continue
        name = field[0].astext()
        body = field[1]
        raw = body.rawsource if isinstance(body, nodes.Element) and body.rawsource else ""
        headers.append((name, raw.strip() if raw else body.astext().strip()))
    return headers


class CheckPreamble(Transform):
    """Report each PEP 1 preamble rule the document breaks."""

    default_priority = 330

    def apply(self, **kwargs: Any) -> None:
        preamble = _preamble(self.document)
        if preamble is None:
            return
        source = self.document["source"]
        for problem in check(_headers(preamble)):
            logger.warning("PEP preamble: %s", problem, location=(source, preamble.line))


class PEPTitle(Transform):
    """Make "PEP N, en dash, Title" the page title and the preamble a header table under it."""

    default_priority = 335

    def apply(self, **kwargs: Any) -> None:
        preamble = _preamble(self.document)
        if preamble is None:
            return
        headers = dict(_headers(preamble))
        text = f"PEP {headers.get('PEP', '?')} \N{EN DASH} {headers.get('Title', '')}"
        section = nodes.section(ids=["pep-page"], names=["pep-page"])
        section += nodes.title(text, text)
        section.extend(self.document.children)
        self.document.children = [section]
        section.parent = self.document
        for child in section.children:
            child.parent = section
        preamble["classes"].append("pep-headers")


class PEPParser(RSTParser):
    """reST parser that reads a leading RFC 2822 preamble in PEP sources."""

    def parse(self, inputstring: str | StringList, document: nodes.document) -> None:
        first = inputstring if isinstance(inputstring, str) else "\n".join(inputstring)
        is_pep = first.lstrip("\ufeff").startswith("PEP:")
        self.initial_state = "RFC2822Body" if is_pep else "Body"
        super().parse(inputstring, document)

    def get_transforms(self) -> list[type[Transform]]:
        return [*super().get_transforms(), CheckPreamble, PEPTitle]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_source_parser(PEPParser, override=True)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
