"""The record rules every parser shares, applied in one place.

Feeds, Markdown posts and tabular exports name their fields differently, but a
missing title, a list of categories or a relative link must come out the same
way from all of them, or the merge step would see disagreements that are only
differences between parsers.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin, urlsplit

from lib.dates import OutOfRange, kept_date
from lib.ingest.fields import after_title, clean_line, clean_text, clean_url, split_tags
from lib.ingest.records import BODY_IS_SOURCE, MAX_SOURCE_CHARS, IngestError, PostRecord
from lib.text import CODE_MARK, code_mark_in_language, derive_title, plain_excerpt

# More tags than anyone writes by hand: a post with a million would be one caption of them.
MAX_TAGS_PER_POST = 200


_LOCATOR_PLACE = re.compile(r"(?::(?P<line>\d+)| row (?P<row>\d+)| entry (?P<entry>\d+))$")


def _error_at(source: str, locator: str, message: str) -> IngestError:
    """An error naming the line or row a record's locator points at (``file:3``, ``file row 3``)."""
    found = _LOCATOR_PLACE.search(locator)
    if found is None:
        return IngestError(source, message)
    if found.group("entry"):
        return IngestError(source, f"entry {found.group('entry')}: {message}")
    line, row = found.group("line"), found.group("row")
    return IngestError(
        source, message, line=int(line) if line else None, row=int(row) if row else None
    )


def resolve_url(value: object, base: str | None) -> str | None:
    """An absolute http(s) link, resolving a relative one against ``base``.

    ``clean_url`` alone only resolves root-relative paths (``/2024/…``); feeds and
    front matter also use ``posts/x/``. ``urljoin`` leaves ``javascript:`` links
    untouched, so ``clean_url`` still drops them afterwards.
    """
    text = clean_line(value)
    if text is None:
        return None
    if base and not urlsplit(text).scheme and not text.startswith("//"):
        text = urljoin(base, text)
    return clean_url(text, base=base)


def split_categories(value: object) -> tuple[str | None, tuple[str, ...]]:
    """The first category, and the others, which become tags.

    A post has one category in the store; the rest of a multi-category source
    is kept as tags rather than dropped. Nested lists (Hexo) are flattened.
    """
    names = split_tags(value)
    if not names:
        return None, ()
    return names[0], names[1:]


def body_excerpt(body: str | None, title: object) -> str | None:
    """The excerpt a post without one is given: the opening of its body, after a first
    line that only repeats the title."""
    return plain_excerpt(after_title(body, title)) if body else None


def build_record(
    *,
    source: str,
    locator: str,
    title: object = None,
    excerpt: object = None,
    body: object = None,
    categories: object = None,
    tags: object = None,
    published: date | OutOfRange | None = None,
    url: str | None = None,
    guid: object = None,
    body_source: str | None = None,
    source_format: str | None = None,
) -> PostRecord:
    """A cleaned record; ``body`` is already what a reader reads (no markup).

    Missing titles and excerpts are derived from it, so a derived title never starts
    with ``##`` or a code fence. A date outside the years the store keeps becomes
    no date, and is noted in ``date_out_of_range``. ``body_source`` is kept as given,
    unless it is empty or longer than ``MAX_SOURCE_CHARS``, or text that is the body itself.
    """
    if not body_source or len(body_source) > MAX_SOURCE_CHARS:
        body_source = source_format = None
    day, dropped = kept_date(published)
    clean_body = clean_text(body)
    if source_format == BODY_IS_SOURCE and body_source == clean_body:
        body_source = None  # the body is its own source (records.BODY_IS_SOURCE)
    clean_excerpt = clean_line(excerpt) or body_excerpt(clean_body, title)
    if any(text and CODE_MARK in text for text in (clean_body, clean_excerpt)):
        written = " ".join(t for t in (clean_line(title), clean_excerpt, clean_body) if t)
        clean_body = code_mark_in_language(clean_body, written)
        clean_excerpt = code_mark_in_language(clean_excerpt, written)
    category, other_categories = split_categories(categories)
    clean_title = clean_line(title)
    derived = False
    if clean_title is None:
        clean_title = derive_title(clean_excerpt or clean_body)
        derived = clean_title is not None
    all_tags = split_tags([*split_tags(tags), *other_categories])
    if len(all_tags) > MAX_TAGS_PER_POST:
        raise _error_at(
            source, locator, f"{len(all_tags):,} tags; a post may have at most {MAX_TAGS_PER_POST}"
        )
    return PostRecord(
        source=source,
        locator=locator,
        title=clean_title,
        title_derived=derived,
        excerpt=clean_excerpt,
        body=clean_body,
        category=category,
        tags=all_tags,
        published=day,
        url=url,
        guid=clean_line(guid),
        date_out_of_range=dropped,
        body_source=body_source,
        source_format=source_format,
    )
