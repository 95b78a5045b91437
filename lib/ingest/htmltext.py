"""HTML fragments (feed content, ``content_html`` columns, HTML inside Markdown) as text.

Bodies are stored as text the app can show and search without a sanitiser, so markup never
reaches the store: tags and attributes go, paragraph breaks stay, entities are unescaped, and
code blocks and formulas (MathML, KaTeX, MathJax) become the ``[代码]`` and ``[Math]`` markers
that :mod:`lib.ingest.readable` writes for Markdown. The standard library's tolerant
``html.parser`` reads post fragments in linear time and adds no dependency.
"""

from __future__ import annotations

import bisect
import json
import re
from html.parser import HTMLParser

from lib.ingest.furniture import is_furniture, without_footer_lines
from lib.text import CJK, CODE_MARK, MATH_MARK

# Elements that end a paragraph: text on either side must not run together.
_BLOCK = frozenset(
    (
        *("address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt"),
        *("fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "main", "nav"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "ol", "p", "pre", "section", "summary", "table"),
        *("tbody", "thead", "tfoot", "tr", "ul"),
    )
)
# Elements whose text is not part of the post (scripts, styling, embedded documents).
_SKIP = frozenset(
    ("script", "style", "template", "noscript", "iframe", "object", "svg", "head", "title")
)
# Elements (or classes) that hold a formula or a code block: read as one marker each.
_MATH_CLASSES = re.compile(
    r"\b(?:katex|katex-display|MathJax\w*|math(?:-display|-inline)?|latex-rendered)\b"
)
# MathJax delimiters left in text: bounded and on a few lines, so unclosed ones cost no rescans.
_TEX_IN_TEXT = re.compile(r"\$\$[^$]{1,2000}?\$\$|\\\[[\s\S]{1,2000}?\\\]|\\\([^\n]{1,500}?\\\)")
_BEGIN = re.compile(r"\\begin\{([A-Za-z]+\*?)\}")
_CELL = frozenset(("td", "th"))
_HTML_TAG = re.compile(
    r"</?(?:p|br|div|span|a|img|h[1-6]|ul|ol|li|pre|code|em|strong|b|i|u|blockquote|table"
    r"|tr|td|th|figure|figcaption|section|article|hr|sup|sub|script|style|iframe|details|summary"
    r"|kbd|mark|del|ins)\b[^<>]*>",
    re.IGNORECASE,
)
_CLOSING_OR_VOID = re.compile(r"</[a-z][a-z0-9]*\s*>|<(?:br|img|hr)\b[^<>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\f\v\r\n\xa0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Inline $…$ that MathJax renders in a feed's HTML: bounded, on one line, no digit after.
_INLINE_TEX = re.compile(r"\$(?![\s$\d])([^$\n]{1,300}?)(?<!\s)\$(?!\d)")
# A formula a sentence reads as it is ($d_k$), in Markdown and in HTML alike.
SIMPLE_FORMULA = re.compile(r"[A-Za-z0-9_]{1,12}")
_TEX_SIGNS = re.compile(r"[\\^_{}]")
# A formula with no TeX in it ($q(z)$, $p(z|x)$, $x + f(x)$): symbols and one- or two-letter
# names, an operator or bracket among them; never a word of three letters ("$HOME/$USER").
_PLAIN_FORMULA = re.compile(
    r"(?=[^()|=+<>]*[()|=+<>])(?![\s\S]*[A-Za-z]{3})[A-Za-z0-9 ()|=+\-*/<>,.']+"
)
_RUN_OF_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_NEWLINE = re.compile(r"[ \t]+\n")
_SPACE_AFTER_NEWLINE = re.compile(r"\n[ \t]+")


def looks_like_html(text: str) -> bool:
    """True when a value carries real HTML markup, not just a ``<`` in prose or code.

    Only known HTML element names count, and only with a closing tag or a void
    element beside them, so ``List<String>``, ``a < b`` or a ``<path>`` placeholder
    in a Markdown or plain-text column is left exactly as written.
    """
    return bool(_HTML_TAG.search(text)) and bool(_CLOSING_OR_VOID.search(text))


# WordPress shortcodes, left unrendered in its export (WXR) and in some feeds: a formula, code,
# a caption around an image, an embedded player. Paired ones need their closing tag, lone
# ones an attribute, so "[code]" or "[1]" in prose stays as written.
_WP_PAIRED = re.compile(
    r"\[(?P<name>latex|code|sourcecode|caption|embed|audio|video)\b[^\]\n]{0,300}\]"
    r"(?P<inner>[\s\S]{0,100000}?)\[/(?P=name)\]",
    re.IGNORECASE,
)
_WP_LONE = re.compile(r"\[(?:gallery|playlist|audio|video|embed)\s+\w+=[^\]\n]{0,300}\]", re.I)
_WP_AS_HTML = {"latex": '<span class="math">', "code": "<pre>", "sourcecode": "<pre>"}


def _wordpress_shortcode(found: re.Match[str]) -> str:
    name = found.group("name").lower()
    if name in ("embed", "audio", "video"):
        return ""
    opening = _WP_AS_HTML.get(name)
    if opening is None:  # a caption: its text is the figure's
        return f"<p>{found.group('inner')}</p>"
    return f"{opening}{found.group('inner')}</{opening[1:].split()[0].rstrip('>')}>"


def wordpress_shortcodes(fragment: str) -> str:
    """WordPress shortcodes as the HTML the blog shows for them (formula, code, caption)."""
    if "[" not in fragment:
        return fragment
    return _WP_LONE.sub("", _WP_PAIRED.sub(_wordpress_shortcode, fragment))


def html_to_text(fragment: str | None) -> str | None:
    """The readable text of an HTML fragment, paragraphs separated by blank lines."""
    if fragment is None:
        return None
    parser = _TextExtractor()
    parser.feed(_unfinished_tag_removed(wordpress_shortcodes(fragment)))
    parser.close()
    return _INLINE_TEX.sub(_inline_formula, parser.text()) or None


def _inline_formula(found: re.Match[str]) -> str:
    """``$d_k$`` as ``d_k`` (a sentence reads it), ``$\\mathbf{s}$`` as the math marker;
    dollars around anything without TeX in it (two prices) are left as written."""
    inner = found.group(1)
    if SIMPLE_FORMULA.fullmatch(inner):
        return inner
    if _TEX_SIGNS.search(inner) or _PLAIN_FORMULA.fullmatch(inner):
        return MATH_MARK
    return found.group(0)


def _unfinished_tag_removed(fragment: str) -> str:
    """A fragment cut mid-tag (a feed's summary: ``<script src="/a.js" cla``) without the stub,
    which the parser would otherwise hand back as text."""
    opening = fragment.rfind("<")
    if opening != -1 and fragment.find(">", opening) == -1:
        return fragment[:opening]
    return fragment


def is_cjk_boundary(before: str, after: str) -> bool:
    """True when a line break falls between two CJK characters, where no space belongs."""
    return bool(before and after and CJK.match(before) and CJK.match(after))


def tidy_paragraphs(text: str) -> str:
    """Spaces folded, lines trimmed, at most one blank line between paragraphs."""
    text = _TEX_IN_TEXT.sub(MATH_MARK, _latex_environments(text))
    text = _RUN_OF_SPACES.sub(" ", text.replace("\xa0", " "))
    text = _SPACE_BEFORE_NEWLINE.sub("\n", text)
    text = _SPACE_AFTER_NEWLINE.sub("\n", text)
    return without_footer_lines(_BLANK_LINES.sub("\n\n", text).strip())


def _mention_name(attrs: list[tuple[str, str | None]]) -> str | None:
    """The name a Substack mention shows: the element is empty, the name in its data."""
    values = dict(attrs)
    if "mention-wrap" not in (values.get("class") or "").split():
        return None
    try:
        name = json.loads(values.get("data-attrs") or "{}").get("name")
    except (ValueError, AttributeError):
        return None
    return name.strip() if isinstance(name, str) else None


def _list_start(attrs: list[tuple[str, str | None]]) -> int:
    """An ``<ol>``'s first number (its ``start``), 1 when it has none or a bad one."""
    start = (dict(attrs).get("start") or "").strip()
    return int(start) if start.isdigit() and len(start) < 7 else 1


def _latex_environments(text: str) -> str:
    """``\\begin{align}…\\end{align}`` left in the text as a formula: written outside ``$$``
    in Markdown, or in a feed's HTML for MathJax to typeset.

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
        out.append(MATH_MARK)
        last = positions[i] + len(closing)
    out.append(text[last:])
    return "".join(out)


class _TextExtractor(HTMLParser):
    """Collects text with whitespace collapsed, as a browser does; code and math as markers,
    a platform's furniture (``lib.ingest.furniture``) as nothing."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skip_depth = 0
        self._marked: list[str] = []  # open elements read as one marker (or as nothing)
        self._lists: list[int | None] = []  # per open list, an ordered one's next number
        self._item_empty = False  # a list item opened, and nothing of it read yet

    def _marker(self, tag: str, attrs: list[tuple[str, str | None]]) -> str | None:
        if is_furniture(attrs):
            return ""
        if tag == "math" or (tag == "script" and "math/tex" in (dict(attrs).get("type") or "")):
            return MATH_MARK
        if tag in ("span", "div") and _MATH_CLASSES.search(dict(attrs).get("class") or ""):
            return MATH_MARK
        if tag == "pre":
            return CODE_MARK
        return None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._marked:
            if tag == self._marked[-1]:
                self._marked.append(tag)  # the same element nested: count it to find the end
            return
        if self._skip_depth:
            self._skip_depth += tag in _SKIP
            return
        marker = self._marker(tag, attrs)
        if marker is not None:
            block = tag in ("pre", "div") or "display" in (dict(attrs).get("class") or "")
            if marker:
                self._parts.append(f"\n\n{marker}\n\n" if block else f" {marker} ")
                self._item_empty = False
            self._marked.append(tag)
        elif tag in _SKIP:
            self._skip_depth += 1
        elif tag == "br":
            self._parts.append("\n")
        elif tag in _CELL:
            self._parts.append(" ")
        elif tag == "span" and (name := _mention_name(attrs)):
            self._parts.append(name)
            self._item_empty = False
        elif tag == "li":
            self._parts.append(self._item_mark())
            self._item_empty = True
        elif tag in _BLOCK:
            # A paragraph that starts a list item (Substack's ``<li><p>``): the item's number
            # or bullet stays on its text's line.
            if not self._item_empty:
                self._parts.append("\n\n")
            if tag in ("ol", "ul"):
                self._lists.append(_list_start(attrs) if tag == "ol" else None)

    def _item_mark(self) -> str:
        """An ordered list's items numbered as the page shows them, others bulleted."""
        number = self._lists[-1] if self._lists else None
        if number is None:
            return "\n- "
        self._lists[-1] = number + 1
        return f"\n{number}. "

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # ``<br/>`` and ``<hr/>`` must not open a skipped or <pre> region.
        if tag in ("br", "hr") and not self._marked:
            self._parts.append("\n" if tag == "br" else "\n\n")

    def handle_endtag(self, tag: str) -> None:
        if self._marked:
            if tag == self._marked[-1]:
                self._marked.pop()
            return
        if tag in ("li", "ol", "ul"):
            self._item_empty = False  # an empty item ended: what follows is no item's text
        if tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK and not self._skip_depth:
            self._parts.append("\n\n")
            if tag in ("ol", "ul") and self._lists:
                self._lists.pop()

    def handle_data(self, data: str) -> None:
        data = data.replace("\x00", "")
        if not (self._skip_depth or self._marked):
            self._parts.append(_SPACES.sub(" ", data))
            self._item_empty = self._item_empty and not data.strip()

    def text(self) -> str:
        return tidy_paragraphs("".join(self._parts))


def html_code(fragment: str | None) -> list[str]:
    """The text of each ``<pre>`` block of an HTML fragment: its code, as written."""
    if not fragment or "<pre" not in fragment.lower():
        return []
    reader = _CodeReader()
    reader.feed(fragment)
    reader.close()
    return reader.blocks


class _CodeReader(HTMLParser):
    """Collects the text inside ``<pre>`` elements, one string per outermost block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            if not self._depth:
                self.blocks.append("")
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.blocks[-1] += data
