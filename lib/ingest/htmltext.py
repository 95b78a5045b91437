"""HTML fragments (feed content, ``content_html`` columns) turned into plain text.

Bodies are stored as text the app can show and search without a sanitiser, so
markup never reaches the store: tags go, paragraph breaks and code lines stay,
entities are unescaped. The standard library's tolerant ``html.parser`` is
enough for post fragments and adds no dependency.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements that end a paragraph: text on either side must not run together.
_BLOCK = frozenset(
    (
        *("address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt"),
        *("fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "main", "nav"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "ol", "p", "pre", "section", "summary", "table"),
        *("tbody", "thead", "tfoot", "tr", "ul"),
    )
)
# Elements whose text is not part of the post (code, styling, embedded documents).
_SKIP = frozenset(
    ("script", "style", "template", "noscript", "iframe", "object", "svg", "math", "head", "title")
)
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
_SPACE_BEFORE_NEWLINE = re.compile(r"[ \t]+\n")
_SPACE_AFTER_NEWLINE = re.compile(r"\n[ \t]+")


def looks_like_html(text: str) -> bool:
    """True when a value carries real HTML markup, not just a ``<`` in prose or code.

    Only known HTML element names count, and only with a closing tag or a void
    element beside them, so ``List<String>``, ``a < b`` or a ``<path>`` placeholder
    in a Markdown or plain-text column is left exactly as written.
    """
    return bool(_HTML_TAG.search(text)) and bool(_CLOSING_OR_VOID.search(text))


def strip_tags(text: str) -> str:
    """Known HTML tags removed from otherwise plain text (inline HTML in Markdown)."""
    return _HTML_TAG.sub("", text)


def html_to_text(fragment: str | None) -> str | None:
    """The readable text of an HTML fragment, paragraphs separated by blank lines."""
    if fragment is None:
        return None
    parser = _TextExtractor()
    parser.feed(fragment)
    parser.close()
    return parser.text() or None


class _TextExtractor(HTMLParser):
    """Collects text; whitespace is collapsed except inside ``<pre>``, as a browser does."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip_depth += 1
        elif tag == "br":
            self._parts.append("\n")
        elif tag in _CELL:
            self._parts.append(" ")
        elif tag == "li":
            self._parts.append("\n- ")
        elif tag in _BLOCK:
            self._parts.append("\n\n")
            if tag == "pre":
                self._pre_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # ``<br/>`` and ``<hr/>`` must not open a skipped or <pre> region.
        if tag in ("br", "hr"):
            self._parts.append("\n" if tag == "br" else "\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK:
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)
            self._parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        data = data.replace("\x00", "")
        if self._skip_depth:
            return
        if self._pre_depth:
            # Protect code line breaks from the whitespace folding in text().
            self._parts.append(data.replace("\r\n", "\n").replace("\n", "\x00"))
        else:
            self._parts.append(_SPACES.sub(" ", data))

    def text(self) -> str:
        joined = "".join(self._parts)
        joined = _SPACE_BEFORE_NEWLINE.sub("\n", joined)
        joined = _SPACE_AFTER_NEWLINE.sub("\n", joined)
        joined = joined.replace("\x00", "\n")
        return _BLANK_LINES.sub("\n\n", joined).strip()
