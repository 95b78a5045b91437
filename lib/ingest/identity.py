"""Deciding when two sightings are the same post.

A post is recognised by its link, by its guid, or by what it says:

- **Link**: links are compared as :func:`link_key` spells them (no scheme, host in lower
  case, no default port, percent-escapes decoded, no trailing slash, no fragment), so a
  feed's ``https://x.org/2024/02/%E6%B3%A8/`` and a Markdown permalink's
  ``http://X.org/2024/02/注`` are one link. One link is one post unless the two
  sightings differ in title, date *and* text (:func:`distinct`): a site where three
  posts set ``permalink: /skill`` has three posts.
- **Title, date and text** (:func:`twins`), where links do not tell (a Markdown post
  with no site address, a link the site's rules derived differently): an equal title,
  dates at most a day apart or unknown (a feed writes UTC, the site its own time zone), and
  openings of the readable text that share most of their three-character runs, which
  markup differences, a table of contents or a cut-off summary barely change.
- **Text alone**, for the listing snapshots (no links, no titles): two sightings are one
  post when their normalised texts are equal, or when one is a cut-off of the other (a
  listing excerpt ends with "..." where the full post goes on). Two posts that merely
  share a long opening but then differ are two posts, because neither text is a prefix
  of the other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from urllib.parse import unquote, urlsplit

from lib.ingest.fields import match_text
from lib.ingest.records import PostRecord
from lib.text import ENDS_IN_ELLIPSIS, PLACEHOLDER

LEAD_CHARS = 24
MIN_PREFIX_CHARS = 40
STEM_CHARS = 600
# Texts are compared on the first OPENING_CHARS letters and digits: enough to tell two
# posts apart, little enough to stay within what a feed's summary gives.
OPENING_CHARS = 300
SHINGLE = 3  # Chinese bigrams and English letter pairs are shared by unrelated texts
SIMILAR_SHARE = 0.5  # twins share over 0.95 of their runs in the fixtures, others under 0.25
MIN_SHINGLES = 8  # below this, a text is too short to be told by shared runs
DAY_SLACK = 1  # days between two dates of one moment written in two time zones
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ASCII_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_FULLWIDTH_ALNUM = "".join(chr(ord(c) + 0xFEE0) for c in _ASCII_ALNUM)  # ０…９Ａ…Ｚａ…ｚ


def link_key(url: str | None) -> str | None:
    """A link as identity compares it: ``x.org/a/注`` for ``HTTPS://X.org:443/a/%E6%B3%A8/#top``.

    The scheme is dropped (a blog served over both is one blog); the fast lane's twin
    is :func:`link_key_sql`.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL urlsplit can read (the store keeps none such): as written
        return url
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: keep it as written
        host = parts.netloc.rpartition("@")[2].lower()
        port = None
    if port is not None and _DEFAULT_PORTS.get(parts.scheme.lower()) != port:
        host = f"{host}:{port}"
    path = unquote(parts.path).rstrip("/")
    query = unquote(parts.query)
    return f"{host}{path}?{query}" if query else f"{host}{path}"


def link_key_sql(url: str) -> str:
    """:func:`link_key` in SQL, for links ``fields.clean_url_keeps_sql`` passes (host in
    lower case, no port, no fragment). NULL where a percent-escape does not decode to
    UTF-8 (Python decodes it to U+FFFD): such a row takes the per-record path."""
    parts = "'^https?://([^/]*)(/[^?]*)(\\?(.*))?$'"
    host, path, query = (f"regexp_extract({url}, {parts}, {n})" for n in (1, 2, 4))
    return (
        f"{host} || rtrim(try(url_decode({path})), '/')"
        f" || CASE WHEN {query} = '' THEN '' ELSE '?' || try(url_decode({query})) END"
    )


@dataclass(frozen=True)
class Particulars:
    """What tells a post from another beyond its link: its title, date and opening text.

    ``title`` is None when it was derived from the text (a snapshot's), since it then
    says nothing the text does not.
    """

    title: str | None
    published: date | None
    text: str | None

    @cached_property
    def opening(self) -> frozenset[str]:
        """The three-character runs of the text's first letters and digits."""
        letters = match_text(PLACEHOLDER.sub(" ", (self.text or "")[: OPENING_CHARS * 3]))
        letters = letters[:OPENING_CHARS]
        return frozenset(letters[i : i + SHINGLE] for i in range(len(letters) - SHINGLE + 1))


def same_title(a: Particulars, b: Particulars) -> bool | None:
    """Whether the titles are equal; None when either is unknown, as for each verdict."""
    return None if a.title is None or b.title is None else a.title == b.title


def close_dates(a: Particulars, b: Particulars) -> bool | None:
    if a.published is None or b.published is None:
        return None
    return abs((a.published - b.published).days) <= DAY_SLACK


def similar_text(a: Particulars, b: Particulars) -> bool | None:
    """Whether the openings share most runs of the shorter one (a summary against the
    full text is similar)."""
    small, large = sorted((a.opening, b.opening), key=len)
    if not small:
        return None
    if len(small) < MIN_SHINGLES:
        return small <= large
    return len(small & large) >= SIMILAR_SHARE * len(small)


def distinct(a: Particulars, b: Particulars) -> bool:
    """Whether two sightings under one link are two posts: title, date and text all
    known, and all different. Cheapest verdict first; the text is compared last."""
    return same_title(a, b) is False and close_dates(a, b) is False and similar_text(a, b) is False


def agreement(a: Particulars, b: Particulars) -> int:
    """How many of title, date and text agree: which of several posts under one link a
    sighting belongs to."""
    verdicts = (same_title(a, b), close_dates(a, b), similar_text(a, b))
    return sum(verdict is True for verdict in verdicts)


def needs_text(a: Particulars, b: Particulars) -> bool:
    """Whether only the text can still decide :func:`distinct`: title and date differ."""
    return same_title(a, b) is False and close_dates(a, b) is False


def twins(a: Particulars, b: Particulars) -> bool:
    """One post seen where links do not tell: equal titles, dates at most a day apart (or
    unknown), similar openings."""
    return same_title(a, b) is True and close_dates(a, b) is not False and bool(similar_text(a, b))


def particulars_of(record: PostRecord) -> Particulars:
    return Particulars(
        title=None if record.title_derived else record.title,
        published=record.published,
        text=record.body or record.excerpt,
    )


@dataclass(frozen=True)
class Identity:
    """What a sighting offers for matching: its link, guid, text stem and particulars."""

    url: str | None
    guid: str | None
    stem: str
    truncated: bool
    particulars: Particulars
    link: str | None  # link_key(url)

    @property
    def lead(self) -> str:
        return self.stem[:LEAD_CHARS]

    @property
    def _basis(self) -> str:
        return f"url:{self.url}" if self.url else f"guid:{self.guid}" if self.guid else self.stem

    @property
    def fingerprint(self) -> str:
        """Names the sighting's content, so re-importing the same file is recognised."""
        return _digest(self._basis)

    def new_post_id(self) -> str:
        return _digest(self._basis)[:16]


def identity_of(record: PostRecord) -> Identity:
    stem, truncated = text_stem(record.body or record.excerpt or record.title or "")
    return Identity(
        url=record.url,
        guid=record.guid,
        stem=stem,
        truncated=truncated,
        particulars=particulars_of(record),
        link=link_key(record.url),
    )


def text_stem(text: str) -> tuple[str, bool]:
    """The normalised opening that identifies a text, and whether the text was cut short."""
    cut = PLACEHOLDER.search(text)
    truncated = bool(ENDS_IN_ELLIPSIS.search(text)) or cut is not None
    if cut is not None:
        text = text[: cut.start()]
    if len(text) > STEM_CHARS * 3:  # normalising a whole long body would be wasted work
        text, truncated = text[: STEM_CHARS * 3], True
    text = ENDS_IN_ELLIPSIS.sub("", text)
    stem = match_text(text)
    if len(stem) > STEM_CHARS:
        stem, truncated = stem[:STEM_CHARS], True
    return stem, truncated


def text_stem_sql(text: str) -> list[tuple[str, str]]:
    """:func:`text_stem` in SQL, for texts the fast lane's checks passed (its safe
    characters), as named steps (each step may use the ones before), ending in ``stem``
    and ``truncated``.

    Steps, not one expression, so that each regular expression runs once per row.
    """
    placeholder, ellipsis = PLACEHOLDER.pattern, ENDS_IN_ELLIPSIS.pattern
    return [
        ("_text", text),
        ("_cut", f"regexp_matches(_text, '{placeholder}')"),
        ("_dots", f"regexp_matches(_text, '{ellipsis}')"),
        (
            "_before",
            f"CASE WHEN _cut THEN regexp_extract(_text, '(?s)^(.*?){placeholder}', 1)"
            " ELSE _text END",
        ),
        ("_long", f"length(_before) > {STEM_CHARS * 3}"),
        ("_bare", f"regexp_replace(left(_before, {STEM_CHARS * 3}), '{ellipsis}', '')"),
        # Letters and digits only, then the fullwidth ones mapped (their punctuation is
        # gone by then, and translate() is slow on long text), then lower case.
        ("_alnum", "regexp_replace(_bare, '[^\\p{L}\\p{N}]+', '', 'g')"),
        (
            "_full",
            f"lower(CASE WHEN regexp_matches(_alnum, '[{_FULLWIDTH_ALNUM}]')"
            f" THEN translate(_alnum, '{_FULLWIDTH_ALNUM}', '{_ASCII_ALNUM}') ELSE _alnum END)",
        ),
        ("stem", f"left(_full, {STEM_CHARS})"),
        ("truncated", f"_dots OR _cut OR _long OR length(_full) > {STEM_CHARS}"),
    ]


def same_text(a: str, a_truncated: bool, b: str, b_truncated: bool) -> bool:
    """Equal stems, or the shorter one is a cut-off prefix of the longer one."""
    if not a or not b:
        return False
    if a == b:
        return True
    short, short_cut, long = (a, a_truncated, b) if len(a) < len(b) else (b, b_truncated, a)
    return short_cut and len(short) >= MIN_PREFIX_CHARS and long.startswith(short)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
