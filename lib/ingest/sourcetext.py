"""A post's source text: which format a value is written in, and the text a reader reads.

Parsers store the source as they were given it (``PostRecord.body_source``) with its format,
and derive the body from it here; ``python -m lib.ingest --rederive`` derives again from the
stored source with the rules of the day, so both go through :func:`readable_text`.
"""

from __future__ import annotations

import re

from lib.ingest.fields import clean_text
from lib.ingest.htmltext import html_code, html_to_text, looks_like_html
from lib.ingest.readable import markdown_code, markdown_text, markup_found

# A name in code: ``d_model``, ``__init__``, ``input_ids``, ``torch.nn.LayerNorm``.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
# Enough for any post's code; bounds what one post adds to the index.
MAX_CODE_NAMES = 2_000
HTML_TOKENS = frozenset({"html_block", "html_inline"})
# What an export's format column may say, as one of ``records.SOURCE_FORMATS``.
DECLARED_FORMATS = {
    "markdown": "markdown",
    "md": "markdown",
    "gfm": "markdown",
    "commonmark": "markdown",
    "html": "html",
    "text/html": "html",
    "text/markdown": "markdown",
    "text": "text",
    "plain": "text",
    "text/plain": "text",
}


def detect_format(text: str, declared: object = None) -> str:
    """``markdown``, ``html`` or ``text`` for one value of an export.

    A format the export declares wins. Otherwise the parsers decide: a value that opens with
    an HTML element is HTML; one in which markdown-it finds markup other than raw HTML
    (headings, emphasis, links, code, lists, math …) is Markdown, whose raw HTML the
    Markdown reading handles too; one with known HTML elements and nothing else is HTML
    (``List<String>`` is not); the rest is text.
    """
    named = DECLARED_FORMATS.get(str(declared).strip().lower()) if declared else None
    if named is not None:
        return named
    if text.lstrip().startswith("<") and looks_like_html(text):
        return "html"
    found = markup_found(text)
    if found - HTML_TOKENS:
        return "markdown"
    if looks_like_html(text):
        return "html"
    return "text"


def readable_text(source: str | None, fmt: str | None) -> str | None:
    """The text a reader reads of a source in ``fmt``, cleaned as every parser cleans it."""
    if source is None:
        return None
    if fmt == "markdown":
        return clean_text(markdown_text(source))
    if fmt == "html":
        return clean_text(html_to_text(source))
    return clean_text(source)


def code_names(source: str | None, fmt: str | None) -> list[str]:
    """The distinct names in a source's code blocks, in order of first use, for search.

    A post's text holds ``[代码]`` where its code was, so neither its excerpt nor its topics
    read code; the index adds these names as search terms of the post, never as its
    keywords (:mod:`lib.ingest.index`), so a search for ``d_model`` still finds it.
    """
    if not source or fmt not in ("markdown", "html"):
        return []
    blocks = markdown_code(source) if fmt == "markdown" else html_code(source)
    names: dict[str, None] = {}
    for block in blocks:
        for found in _IDENTIFIER.finditer(block):
            # A dotted name, and each of its parts: ``LayerNorm`` finds ``nn.LayerNorm``.
            for name in dict.fromkeys((found.group(), *found.group().split("."))):
                if len(name) > 1:
                    names.setdefault(name, None)
            if len(names) >= MAX_CODE_NAMES:
                return list(names)
    return list(names)
