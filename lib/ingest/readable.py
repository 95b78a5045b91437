"""Markdown as a reader reads it: the prose, with code and math as placeholders.

Every derived field (excerpt, search index, keywords, topics) and the text a page shows come
from here, so markup never leaks into any of them. The post is parsed by markdown-it-py (a
CommonMark parser, linear in practice) with footnotes, tables and ``$``/``$$`` math, not by
regular expressions over markup. What the parser does not know is handled first, each in one
linear pass: the template tags of Jekyll (Liquid), Hexo and Hugo, and LaTeX environments
written outside ``$$``. Code blocks become ``[代码]`` and formulas ``[Math]``, the markers the
blog's own listing uses, so a card says that code or a formula was there without showing it;
inline code stays, since a sentence reads it (``batch_size`` in a sentence is searchable).
Raw HTML inside the Markdown is read by :func:`lib.ingest.htmltext.html_to_text`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from lib.ingest.htmltext import html_to_text, is_cjk_boundary, tidy_paragraphs
from lib.text import CODE_MARK, MATH_MARK

# Paired template tags whose content is code (Liquid's highlight, Hexo's codeblock): the
# whole region is one code block. Other tags and outputs are dropped; the text between a
# pair (Hexo's {% note %}…{% endnote %}, Hugo's {{% note %}}…{{% /note %}}) stays.
_CODE_TAGS = {"highlight": "endhighlight", "codeblock": "endcodeblock", "code": "endcode"}
# Bounded and on one line, so a file of unclosed "{%" is still read in one linear pass.
_TEMPLATE = re.compile(
    r"\{%-?\s*(?P<tag>[A-Za-z_]\w*)[^\n]{0,300}?-?%\}"  # Liquid / Hexo tags
    r"|\{\{[<%][^\n]{0,300}?[>%]\}\}"  # Hugo shortcodes
    r"|\{\{[^\n{}]{0,300}?\}\}"  # Liquid output: {{ site.baseurl }}
)
_BEGIN = re.compile(r"\\begin\{([A-Za-z]+\*?)\}")
_SIMPLE_MATH = re.compile(r"[A-Za-z0-9_]{1,12}")  # $d_k$ reads as d_k; $\mathbf{x}$ does not
_SOFT_BREAK = "\x00"  # resolved once the text is joined: a space, or nothing between CJK

_parser = (
    MarkdownIt("commonmark", {"html": True})
    .enable(["table", "strikethrough"])
    .use(dollarmath_plugin, allow_space=True, allow_digits=True, double_inline=True)
    .use(footnote_plugin)
)


def markdown_text(markdown: str) -> str:
    """The readable text of a Markdown post: paragraphs separated by blank lines."""
    source = _latex_environments(_template_tags(markdown))
    paragraphs = list(_blocks(_parser.parse(source)))
    return tidy_paragraphs("\n\n".join(p for p in paragraphs if p.strip()))


def _template_tags(markdown: str) -> str:
    """Template tags removed; a code region between paired code tags becomes one placeholder."""
    out: list[str] = []
    last = 0
    closing: str | None = None  # inside a code region: the tag that ends it
    for found in _TEMPLATE.finditer(markdown):
        tag = (found.group("tag") or "").lower()
        if closing is not None:
            if tag == closing:
                out.append(f"\n\n{CODE_MARK}\n\n")
                closing = None
                last = found.end()
            continue
        out.append(markdown[last : found.start()])
        last = found.end()
        if tag in _CODE_TAGS:
            closing = _CODE_TAGS[tag]
    if closing is not None:  # never closed: the rest is code
        out.append(f"\n\n{CODE_MARK}\n\n")
    else:
        out.append(markdown[last:])
    return "".join(out)


def _latex_environments(text: str) -> str:
    """``\\begin{align}…\\end{align}`` outside ``$$`` as a display formula.

    Each ``\\begin`` is paired with the first matching ``\\end`` after it, found by bisecting
    the sorted positions of every ``\\end``, so unclosed environments cost no rescans.
    """
    if "\\begin{" not in text:
        return text
    ends: dict[str, list[int]] = {}
    out: list[str] = []
    last = 0
    for found in _BEGIN.finditer(text):
        if found.start() < last:
            continue  # inside an environment already replaced
        name = found.group(1)
        closing = f"\\end{{{name}}}"
        if name not in ends:
            ends[name] = [m.start() for m in re.finditer(re.escape(closing), text)]
        positions = ends[name]
        i = bisect.bisect_left(positions, found.end())
        if i == len(positions):
            continue
        out.append(text[last : found.start()])
        out.append(f"\n\n$${MATH_MARK}$$\n\n")
        last = positions[i] + len(closing)
    out.append(text[last:])
    return "".join(out)


def _blocks(tokens: list[Token]) -> Iterator[str]:
    """One string per paragraph, heading, list item, table row, code or formula."""
    row: list[str] | None = None  # the cells of the table row being read
    for token in tokens:
        kind = token.type
        if kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            yield " ".join(cell for cell in row if cell)
            row = None
        elif kind == "inline":
            text = _inline(token.children or [])
            if row is not None:
                row.append(text)
            else:
                yield text
        elif kind in ("fence", "code_block"):
            info = (token.info or "").strip().lower()
            yield MATH_MARK if info in ("math", "latex", "katex", "tex") else CODE_MARK
        elif kind in ("math_block", "math_block_label"):
            yield MATH_MARK
        elif kind == "html_block":
            yield html_to_text(token.content) or ""


def _inline(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind == "softbreak":
            parts.append(_SOFT_BREAK)
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "math_inline":
            simple = _SIMPLE_MATH.fullmatch(child.content.strip())
            parts.append(child.content.strip() if simple else MATH_MARK)
        elif kind == "math_inline_double":
            parts.append(MATH_MARK)
        elif kind == "html_inline" and child.content.lower().startswith("<br"):
            parts.append("\n")
        # images, footnote markers, link and emphasis marks and inline tags say nothing
    return _join_soft_breaks("".join(parts))


def _join_soft_breaks(text: str) -> str:
    """A line break inside a paragraph: nothing between two CJK characters, else a space."""
    if _SOFT_BREAK not in text:
        return text
    pieces = text.split(_SOFT_BREAK)
    out = [pieces[0]]
    for piece in pieces[1:]:
        out.append("" if is_cjk_boundary(out[-1][-1:], piece[:1]) else " ")
        out.append(piece)
    return "".join(out)
