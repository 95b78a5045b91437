"""Markdown as a reader reads it: the prose, with code and math as placeholders.

Every derived field (excerpt, search index, keywords, topics) and the text a page shows come
from here, so markup never leaks into any of them. The post is parsed by markdown-it-py (a
CommonMark parser, linear in practice) with footnotes, tables and ``$``/``$$`` math, not by
regular expressions over markup. What the parser does not know is handled first, each in one
linear pass: the template tags of Jekyll (Liquid), Hexo and Hugo before parsing, and LaTeX
environments written outside ``$$`` after it. Code blocks become ``[代码]`` and formulas
``[Math]``, the markers the blog's own listing uses (``[Code]`` in a post not in Chinese:
``lib.text.code_mark_in_language``), so a card says that code or a formula was there without
showing it; inline code stays, since a sentence reads it (``batch_size`` in a
sentence is searchable).
Raw HTML inside the Markdown is read by :func:`lib.ingest.htmltext.html_to_text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from lib.ingest.htmltext import (
    SIMPLE_FORMULA,
    html_to_text,
    is_cjk_boundary,
    tidy_paragraphs,
)
from lib.text import CODE_MARK, MATH_MARK

# Template tags of Jekyll (Liquid), Hexo and Hugo, each kind by name. Bounded and on one line,
# so a file of unclosed "{%" is still read in one linear pass.
_TEMPLATE = re.compile(
    r"\{%-?\s*(?P<liquid>[A-Za-z_]\w*)(?P<tag_args>[^\n]{0,300}?)-?%\}"  # {% highlight python %}
    r"|\{\{[<%]\s*(?P<closing>/?)\s*(?P<shortcode>[A-Za-z_][\w-]*)(?P<args>[^\n]{0,300}?)[>%]\}\}"
    r"|\{\{[^\n{}]{0,300}?\}\}"  # Liquid output: {{ site.baseurl }}
    r"|\{:[^\n{}]{0,200}\}"  # kramdown attribute lists: {:toc}, {: .note}
    r"|\{#[A-Za-z][\w:.-]{0,100}(?:\s[^\n{}]{0,200})?\}"  # pandoc's ids: $$ … $$ {#eq-loss}
)
# Paired tags whose content is code: the whole region becomes one code marker. Liquid's raw
# region is kept as written (it is how a post shows template syntax). Other tags and outputs
# are dropped; the text between any other pair ({% note %}…{% endnote %}) stays.
_LIQUID_CODE = {
    "highlight": "endhighlight",
    "codeblock": "endcodeblock",
    "mermaid": "endmermaid",  # a diagram's source, as a fenced mermaid block
}
# Hexo theme tags (Butterfly, NexT, Fluid) that show text of their own: which argument it is.
# "{% label 经验 blue %}", "{% btn url,查看结果,icon %}", "{% hideToggle 标题,bg %}",
# "{% span center, 文字 %}", "{% folding cyan, 标题 %}", Fluid's "{% fold info @标题 %}".
_TAG_TEXT = {
    "label": lambda a: a.split()[0] if a.split() else "",
    "btn": lambda a: a.split(",")[1] if "," in a else "",
    "hidetoggle": lambda a: a.split(",")[0],
    "span": lambda a: a.split(",", 1)[-1] if "," in a else "",
    "p": lambda a: a.split(",", 1)[-1] if "," in a else "",
    "folding": lambda a: a.split(",", 1)[-1] if "," in a else "",
    "fold": lambda a: a.split("@", 1)[-1] if "@" in a else "",
    # Hexo's links to another post: "{% post_link slug '读这篇' %}" reads its text.
    "post_link": lambda a: a.split(None, 1)[1] if len(a.split(None, 1)) > 1 else "",
    # Jekyll themes' figures: "{% include figure.html image=… caption="图 1" %}".
    "include": lambda a: found.group(1) if (found := _CAPTION.search(a)) else "",
}
_TAG_TITLES = frozenset({"hidetoggle", "folding", "fold"})
_SHORTCODE_CODE = frozenset({"highlight", "code"})
# Paired shortcodes whose content is a formula (Hugo themes' KaTeX and MathJax shortcodes).
_SHORTCODE_MATH = frozenset({"katex", "math", "latex", "mathjax"})
_CAPTION = re.compile(r'\b(?:caption|title|description)="([^"]{1,300})"')
# kramdown's table of contents: a one-item list ("* TOC", "* content") that {:toc} replaces
# with the headings, so the item's own text is never shown.
_KRAMDOWN_TOC = re.compile(r"(?m)^[ \t]*(?:[*+-]|1\.)[ \t]+[^\n]{0,100}\n[ \t]*\{:\s*toc\s*\}")
_SOFT_BREAK = "\x00"  # resolved once the text is joined: a space, or nothing between CJK


def _commonmark() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": True})
        .enable(["table", "strikethrough"])
        # No digit right after an opening dollar, as pandoc reads it: "$5 and $10" are prices.
        .use(dollarmath_plugin, allow_space=True, allow_digits=False, double_inline=True)
        .use(footnote_plugin)
        .use(tasklists_plugin)  # "- [x] done" reads "done"
    )


_parser = _commonmark()
# Pandoc's (Quarto's, R Markdown's) fenced divs and bracketed spans: "::: {.callout-note}"
# and "[words]{.mark}" read as their content. Each plugin costs a quarter of the parse,
# so only a post that has their markers is read with them.
_pandoc_parser = (
    _commonmark()
    .use(container_plugin, name="div", validate=lambda *_: True)
    .use(attrs_plugin, spans=True)
)
_PANDOC_MARKERS = (":::", "]{")


def _parsed(markdown: str) -> list[Token]:
    pandoc = any(marker in markdown for marker in _PANDOC_MARKERS)
    return (_pandoc_parser if pandoc else _parser).parse(markdown)


# Pandoc citations and cross-references, which its output replaces: "[@vaswani2017; @x]" is a
# reference the reader sees as "(Vaswani 2017)", "@fig-loss" as "Figure 1".
_CITATION = re.compile(
    r"\[[^\[\]\n]{0,200}?(?<![\w.])-?@[A-Za-z_][\w:.#$%&+?<>~/-]*[^\[\]\n]{0,200}?\]"
)
_CROSS_REFERENCE = re.compile(r"(?<![\w@.])@(fig|tbl|eq|sec|lst|thm|lem|cor|def|exm|exr)-[\w-]+")
_REFERENCE_NAMES = {
    "fig": "Figure",
    "tbl": "Table",
    "eq": "Equation",
    "sec": "Section",
    "lst": "Listing",
}


# What a paragraph of plain text parses to; any other token is markup the parser found.
_PLAIN_TOKENS = frozenset({"paragraph_open", "paragraph_close", "inline"})
_PLAIN_INLINE = frozenset({"text", "softbreak", "hardbreak"})


def markup_found(text: str) -> frozenset[str]:
    """The kinds of markup markdown-it finds in ``text`` (``strong_open``, ``html_inline`` …);
    empty for plain paragraphs of text, which read as written."""
    found: set[str] = set()
    for token in _parser.parse(text):
        if token.type not in _PLAIN_TOKENS:
            found.add(token.type)
        found.update(c.type for c in token.children or () if c.type not in _PLAIN_INLINE)
    return frozenset(found)


_MATH_FENCES = frozenset({"math", "latex", "katex", "tex"})


def markdown_code(markdown: str) -> list[str]:
    """The code blocks of a Markdown post (fenced or indented; not formulas), as written."""
    return [
        token.content
        for token in _parsed(markdown)
        if token.type in ("fence", "code_block")
        and (token.info or "").strip().lower() not in _MATH_FENCES
    ]


def markdown_text(markdown: str) -> str:
    """The readable text of a Markdown post: paragraphs separated by blank lines."""
    markdown = _KRAMDOWN_TOC.sub("", markdown)
    paragraphs = list(_blocks(_parsed(_template_tags(markdown))))
    text = "\n\n".join(p for p in paragraphs if p.strip())
    return tidy_paragraphs(text)


def _template_tags(markdown: str) -> str:
    """Template tags removed; a code region between paired code tags becomes one marker."""
    out: list[str] = []
    last = 0
    closing: str | None = None  # inside a code or raw region: the tag that ends it
    region_mark = f"\n\n{CODE_MARK}\n\n"  # what the region reads as
    for found in _TEMPLATE.finditer(markdown):
        liquid = (found.group("liquid") or "").lower()
        shortcode = (found.group("shortcode") or "").lower()
        ends_region = liquid or (found.group("closing") and f"/{shortcode}")
        if closing is not None:
            if ends_region == closing:
                if closing == "endraw":
                    out.append(markdown[last : found.start()])
                else:
                    out.append(region_mark)
                closing = None
                last = found.end()
            continue
        out.append(markdown[last : found.start()])
        last = found.end()
        if liquid in _LIQUID_CODE or liquid == "raw":
            closing = _LIQUID_CODE.get(liquid, "endraw")
        elif shortcode in _SHORTCODE_CODE | _SHORTCODE_MATH and not found.group("closing"):
            closing = f"/{shortcode}"
            is_math = shortcode in _SHORTCODE_MATH  # a formula reads inline, code as a block
            region_mark = f" {MATH_MARK} " if is_math else f"\n\n{CODE_MARK}\n\n"
        elif liquid in _TAG_TEXT:
            shown = _TAG_TEXT[liquid](found.group("tag_args").strip()).strip(" '\"")
            gap = "\n\n" if liquid in _TAG_TITLES else ""  # a toggle's title is a heading
            out.append(f"{gap}{shown}{gap}" if shown else "")
        elif shortcode == "figure":  # a reader sees the figure's caption
            caption = _CAPTION.search(found.group("args") or "")
            out.append(f"\n\n{caption.group(1)}\n\n" if caption else "")
    if closing == "endraw":
        out.append(markdown[last:])
    elif closing is not None:  # never closed: the rest is code (or a formula)
        out.append(region_mark)
    else:
        out.append(markdown[last:])
    return "".join(out)


def _blocks(tokens: list[Token]) -> Iterator[str]:
    """One string per paragraph, heading, list item, table row, code or formula; an ordered
    list's items numbered as the page shows them (and as ``htmltext`` reads a feed's)."""
    row: list[str] | None = None  # the cells of the table row being read
    lists: list[int | None] = []  # per open list, an ordered one's next number
    number: str = ""  # the number of a list item whose text comes next
    for token in tokens:
        kind = token.type
        if kind in ("ordered_list_open", "bullet_list_open"):
            start = str(token.attrGet("start") or 1) if kind == "ordered_list_open" else ""
            lists.append(int(start) if start.isdigit() else None)
        elif kind in ("ordered_list_close", "bullet_list_close") and lists:
            lists.pop()
        elif kind == "list_item_open" and lists and lists[-1] is not None:
            number = f"{lists[-1]}. "
            lists[-1] += 1
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            yield " ".join(cell for cell in row if cell)
            row = None
        elif kind == "inline":
            text = _inline(token.children or [])
            if row is not None:
                row.append(text)
            else:  # pandoc's table caption and definition (": text") show no colon
                yield number + (text[2:] if text.startswith(": ") else text)
                number = ""
        elif kind in ("fence", "code_block"):
            info = (token.info or "").strip().lower()
            yield MATH_MARK if info in _MATH_FENCES else CODE_MARK
        elif kind in ("math_block", "math_block_label"):
            yield MATH_MARK
        elif kind == "html_block":
            yield html_to_text(token.content) or ""


def _inline(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        kind = child.type
        if kind == "text":
            parts.append(_references(child.content))
        elif kind == "code_inline":
            parts.append(child.content)
        elif kind == "softbreak":
            parts.append(_SOFT_BREAK)
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind in ("math_inline", "math_inline_double"):
            # kramdown writes inline math as $$B$$ too: a name in a sentence reads as itself.
            simple = SIMPLE_FORMULA.fullmatch(child.content.strip())
            parts.append(child.content.strip() if simple else MATH_MARK)
        elif kind == "html_inline" and child.content.lower().startswith("<br"):
            parts.append("\n")
        # images, footnote markers, link and emphasis marks and inline tags say nothing
    return _join_soft_breaks("".join(parts))


def _references(text: str) -> str:
    """Pandoc citations dropped and cross-references named as its output names them."""
    if "@" not in text:
        return text
    text = _CITATION.sub("", text)
    return _CROSS_REFERENCE.sub(lambda m: _REFERENCE_NAMES.get(m.group(1), ""), text)


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
