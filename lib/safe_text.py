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
from urllib.parse import urlsplit, urlunsplit

from lib.search import compact
from lib.text import CJK

_ESCAPE = {ord(ch): "\\" + ch for ch in string.punctuation}
_WS = re.compile(r"\s+")
# GFM turns bare "https://…", "www.…" and e-mail addresses into links even when their
# punctuation is escaped; a zero-width space inside each pattern keeps them plain text.
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=@)(?=\w)")
_ZWSP = "\u200b"
MAX_RENDER_CHARS = 2000
# What a page shows of one value before "show more": enough to read, little enough that a
# hostile 1 MB title or a post with a million tags cannot stall the browser.
TITLE_CHARS = 300
TAG_CHARS = 60
CATEGORY_CHARS = 60
TAGS_SHOWN = 20
BODY_CHUNK_CHARS = 20_000


def escape_markdown(text: str) -> str:
    return _AUTOLINK.sub(_ZWSP, _WS.sub(" ", text)).translate(_ESCAPE)


def clip(text: str, limit: int = MAX_RENDER_CHARS) -> str:
    """A very long text cut at ``limit`` characters, saying so, so a card stays a card."""
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def shown(text: str, limit: int) -> str:
    """``text`` clipped to ``limit`` and made inert: the one way a page shows a stored value."""
    return escape_markdown(clip(text, limit))


def tag_list(tags: Iterable[str], shown_tags: int = TAGS_SHOWN) -> str:
    """At most ``shown_tags`` tags, each clipped, and how many more there are."""
    tags = list(tags)
    text = ", ".join(shown(tag, TAG_CHARS) for tag in tags[:shown_tags])
    hidden = len(tags) - shown_tags
    return text + (f" and {hidden:,} more" if hidden > 0 else "")


def _spelling(term: str) -> str:
    """A pattern for ``term`` as a post may write it. Search takes a Latin word with or
    without separators as the same word (``lib.search.compact``), so ``flash attention``
    marks ``FlashAttention`` and the other way round; Chinese is matched as it is."""
    squeezed = compact(term)
    if CJK.search(term) or not squeezed:
        return re.escape(term)
    return r"[-._\s]?".join(re.escape(ch) for ch in squeezed)


def highlighted(
    text: str | None,
    words: Iterable[str],
    limit: int = MAX_RENDER_CHARS,
    paragraphs: bool = False,
) -> str:
    """Escaped Markdown of ``text`` with each occurrence of ``words`` marked, case-insensitively.

    With ``paragraphs``, the blank lines between a post's paragraphs (its headings and
    blocks, as ingest stores them) stay paragraph breaks, and the line breaks inside one (a
    list's items, a table's rows) stay line breaks, instead of spaces.
    """
    if not text:
        return ""
    text = clip(text, limit)
    if paragraphs and "\n" in text:
        return "\n\n".join(
            "  \n".join(highlighted(line, words, len(line)) for line in p.split("\n"))
            for p in text.split("\n\n")
        )
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
    """The URL if it is an absolute http(s) link, else ``None``: the last guard before a page.

    A ``user:pass@`` part is dropped: in ``https://google.com@evil.example/`` it only
    dresses the real host up as another, and a browser would send the reader to evil.example.
    """
    if not url or any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        return None
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # a port that is not a number raises here
    except ValueError:  # e.g. "https://[oops": an unbalanced IPv6 bracket
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if "@" in parts.netloc:
        url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return url


def link_host(url: str) -> str:
    """The host a link leads to, as a reader should see it: an international name in its
    ASCII (punycode) form, so ``аpple.com`` with a Cyrillic ``а`` cannot pass for apple.com."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:  # not a valid international name: show its code points instead
        ascii_host = host.encode("ascii", "backslashreplace").decode("ascii")
    return ascii_host + (f":{parts.port}" if parts.port else "")
