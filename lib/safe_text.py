"""Post text made inert for Streamlit's Markdown, with search words highlighted.

Post text comes from feeds and files that others wrote. Rather than rendering it
as HTML and sanitising, it is passed to ``st.markdown`` with *every* ASCII
punctuation character backslash-escaped (CommonMark allows that for all of
them), so no tag, link, image, emphasis, LaTeX (``$``) or Streamlit directive
(``:red[…]``, ``:material/…:``) can form. The only markup in the result is the
highlighting this module adds itself.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from urllib.parse import urlsplit

from lib.search import compact

_ESCAPE = {ord(ch): "\\" + ch for ch in string.punctuation}
_WS = re.compile(r"\s+")
# GFM turns bare "https://…", "www.…" and e-mail addresses into links even when their
# punctuation is escaped; a zero-width space inside each pattern keeps them plain text.
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=@)(?=\w)")
_ZWSP = "\u200b"
MAX_RENDER_CHARS = 2000


def escape_markdown(text: str) -> str:
    return _AUTOLINK.sub(_ZWSP, _WS.sub(" ", text)).translate(_ESCAPE)


def clip(text: str, limit: int = MAX_RENDER_CHARS) -> str:
    """A very long text cut at ``limit`` characters, saying so, so a card stays a card."""
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _spelling(term: str) -> str:
    """A pattern for ``term`` as a post may write it. Search takes a Latin word with or
    without separators as the same word (``lib.search.compact``), so ``flash attention``
    marks ``FlashAttention`` and the other way round; Chinese is matched as it is."""
    squeezed = compact(term)
    if _CJK.search(term) or not squeezed:
        return re.escape(term)
    return r"[-._\s]?".join(re.escape(ch) for ch in squeezed)


def highlighted(text: str | None, words: Iterable[str], limit: int = MAX_RENDER_CHARS) -> str:
    """Escaped Markdown of ``text`` with each occurrence of ``words`` marked, case-insensitively."""
    if not text:
        return ""
    text = clip(text, limit)
    terms = sorted({w for w in words if w.strip()}, key=len, reverse=True)
    if not terms:
        return escape_markdown(text)
    pattern = re.compile("|".join(_spelling(t) for t in terms), re.IGNORECASE)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(escape_markdown(text[last : match.start()]))
        out.append(f":orange-background[**{escape_markdown(match.group())}**]")
        last = match.end()
    out.append(escape_markdown(text[last:]))
    return "".join(out)


def safe_link(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link, else ``None``: the last guard before a page."""
    if not url or any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "https://[oops": an unbalanced IPv6 bracket
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url
