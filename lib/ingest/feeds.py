"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds, read with feedparser.

feedparser is tolerant on purpose: it recovers entries from broken XML. That
is right for a stray ``&`` in a title, which every feed reader accepts, but a
feed cut off mid-download would silently lose its last posts and invent an
empty one, so a truncated document is refused here. Dates are read from the
feed's own text rather than feedparser's UTC tuples, so a post published at
00:30 +08:00 keeps the day its author gave it.
"""

from __future__ import annotations

import re
import time
import xml.sax
from datetime import date
from typing import Any

import feedparser

from lib.ingest.assemble import build_record, resolve_url
from lib.ingest.fields import parse_date
from lib.ingest.furniture import without_tracking
from lib.ingest.htmltext import html_to_text
from lib.ingest.reading import decode_text
from lib.ingest.records import IngestError, ParseOptions, PostRecord

_PROLOG = re.compile(r"\A(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.DOTALL | re.IGNORECASE)
_ROOT = re.compile(r"<(rss|feed|rdf:RDF)[\s>/]")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TAGS_ONLY = frozenset({"medium"})  # feed generators whose <category> elements are tags
# WordPress's "more" marker, in an export's raw content (``<!--more Read on-->`` too).
_HTML_MORE = re.compile(r"<!--\s*more\b[^>]{0,200}-->", re.IGNORECASE)


def looks_like_feed(text: str) -> bool:
    """True when the first element, after the XML prolog and comments, is a feed root."""
    head = _PROLOG.sub("", text.removeprefix("\ufeff")[:8192], count=1)
    return bool(_ROOT.match(head))


def parse_feed(data: bytes, source: str, options: ParseOptions) -> list[PostRecord]:
    """Every entry of one feed, in document order."""
    text = decode_text(data, source, options.encoding)
    # The text is already decoded (or refused) by our rules; tell feedparser it is
    # UTF-8 so an ``encoding="gbk"`` declaration cannot make it decode a second time.
    # Unsanitised and unresolved: the entries' HTML is kept as the feed has it (the post's
    # source), and only ever read as text (lib.ingest.htmltext), never shown as HTML.
    parsed = feedparser.parse(
        text.encode("utf-8"),
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    _check_parsed(parsed, text, source)
    base = parsed.feed.get("link") or options.base_url
    # Medium's <category> elements are a story's tags (slugs such as machine-learning):
    # Medium has no categories, and the first tag is no more the post's subject than the rest.
    only_tags = str(parsed.feed.get("generator") or "").strip().lower() in _TAGS_ONLY
    return [
        _record(entry, number, source, base, only_tags)
        for number, entry in enumerate(parsed.entries, 1)
        if _is_published_post(entry)
    ]


def _is_published_post(entry: Any) -> bool:
    """False for what a WordPress export (WXR) holds beside its published posts: pages,
    attachments, menu items, drafts, private and trashed posts. A plain feed's entries
    have no ``wp:post_type`` and are all posts."""
    kind = entry.get("wp_post_type")
    return kind is None or (kind == "post" and entry.get("wp_status", "publish") == "publish")


def _check_parsed(parsed: Any, text: str, source: str) -> None:
    """Refuse documents that are not feeds, or that are broken beyond a stray character."""
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    line = problem.getLineNumber() if isinstance(problem, xml.sax.SAXParseException) else None
    if not parsed.get("version") and not parsed.entries and not looks_like_feed(text):
        start = _PROLOG.sub("", text, count=1)[:40]
        raise IngestError(source, f"not an RSS or Atom feed: it starts with {start!r}")
    if line is None:
        return
    root = _ROOT.search(text)
    if root and not re.search(rf"</{root.group(1)}\s*>", text):
        raise IngestError(
            source,
            f"the feed is cut off (no closing </{root.group(1)}>): {_reason(problem)}",
            line=line,
        )
    if not parsed.entries:
        raise IngestError(source, f"malformed feed XML: {_reason(problem)}", line=line)


def _reason(problem: object) -> str:
    if isinstance(problem, xml.sax.SAXParseException):
        return str(problem.getMessage())
    return str(problem)


def _record(
    entry: Any, number: int, source: str, base: str | None, only_tags: bool = False
) -> PostRecord:
    locator = f"{source} entry {number}"
    body_html = _content(entry)
    summary = _summary(entry, body_html)
    if body_html is None and _is_whole_post(summary):
        body_html, summary = summary, None
    if summary is None and body_html and (more := _HTML_MORE.search(body_html)) is not None:
        summary = body_html[: more.start()]  # WordPress's teaser, as its listing shows it
    body = html_to_text(body_html)
    terms = [tag.get("term") or tag.get("label") for tag in entry.get("tags", [])]
    return build_record(
        source=source,
        locator=locator,
        title=_title(entry),
        excerpt=html_to_text(summary),
        body=body,
        categories=None if only_tags else terms,
        tags=terms if only_tags else None,
        published=_published(entry, source, number),
        url=resolve_url(without_tracking(entry.get("link")), base),
        guid=entry.get("id"),
        body_source=body_html or summary,
        source_format="html",
    )


def _title(entry: Any) -> str | None:
    title = entry.get("title")
    detail = entry.get("title_detail") or {}
    if title and detail.get("type") in _HTML_TYPES:
        title = html_to_text(title)
    return _without_byline(title, entry.get("author"))


def _without_byline(title: str | None, author: object) -> str | None:
    """The title without the author's name that some platforms append to it in their feeds
    (cnblogs: "标题 - 作者"), which the post's own page does not show as its title."""
    name = str(author).strip() if author else ""
    if title and name:
        for dash in (" - ", " – ", " — "):
            if title.endswith(dash + name) and len(title) > len(dash + name):
                return title[: -len(dash + name)].rstrip()
    return title


def _content(entry: Any) -> str | None:
    """The full post (``content:encoded`` or Atom ``content``), HTML or plain text."""
    for item in entry.get("content", []):
        value = item.get("value")
        if value:
            return value
    return None


def _summary(entry: Any, body_html: str | None) -> str | None:
    """The entry's own summary; feedparser copies the content there when there is none."""
    summary = entry.get("summary")
    if not summary or summary == body_html:
        return None
    return summary


# Block elements a summary does not hold: a description with headings, code or several
# paragraphs is the whole post (Quarto's and many blogs' RSS put the post there).
_WHOLE_POST = re.compile(r"<(?:h[1-6]|pre|table|ul|ol|blockquote)\b|(?:<p\b[\s\S]*?){3}", re.I)


def _is_whole_post(summary: str | None) -> bool:
    return summary is not None and _WHOLE_POST.search(summary[:100_000]) is not None


def _published(entry: Any, source: str, number: int) -> date | None:
    # A WordPress export's wp:post_date is the day the blog shows (its own time zone);
    # the pubDate beside it is UTC, a day off for posts written after midnight east of it.
    raw = _wordpress_date(entry) or entry.get("published") or entry.get("updated")
    if not raw:
        return None
    try:
        return parse_date(raw)
    except ValueError as exc:
        # feedparser knows a few more spellings (e.g. W3C-DTF variants) than dateutil.
        # Plain dict access: FeedParserDict's own fallback between the two keys is deprecated.
        parsed: time.struct_time | None = dict.get(entry, "published_parsed") or dict.get(
            entry, "updated_parsed"
        )
        if parsed is not None:
            return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)
        raise IngestError(source, f"entry {number}: bad date {raw!r}: {exc}") from exc


def _wordpress_date(entry: Any) -> str | None:
    raw = entry.get("wp_post_date")
    return raw if raw and not raw.startswith("0000") else None
