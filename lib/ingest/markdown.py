"""One Markdown post with front matter, as written for Hexo, Jekyll or Hugo.

The front matter is split off here rather than by python-frontmatter: that
library's TOML handler needs the third-party ``toml`` package, and neither of
its handlers reports where in the file a broken block is. Splitting by hand
lets YAML and TOML errors both point at a line of the post, which is what the
author has to fix. The body is stored as a reader reads it (:mod:`lib.ingest.readable`),
so excerpts, the index and topics never see markup, code or LaTeX.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from dateutil import parser as date_parser

from lib.ingest.assemble import build_record, resolve_url
from lib.ingest.fields import clean_line, parse_date, split_tags
from lib.ingest.generators import (
    listed_meta,
    not_built_yet,
    read_terms,
    site_time,
    unlisted,
    unpublished,
)
from lib.ingest.permalinks import FILE_NAME_DATE, PostFacts, jekyll_id, post_url
from lib.ingest.readable import markdown_text
from lib.ingest.reading import decode_text
from lib.ingest.records import IngestError, NotPublished, ParseOptions, PostRecord
from lib.ingest.yaml_toml import load_toml, load_yaml

if TYPE_CHECKING:
    from lib.dates import OutOfRange
    from lib.ingest.sites import PostPlace

_FENCES = {"---": "YAML", "+++": "TOML"}
_MORE = re.compile(r"^[ \t]*<!--\s*more\s*-->[ \t]*\n?", re.IGNORECASE | re.MULTILINE)
_HAS_TIME = re.compile(r"\d:\d\d")

# Far beyond any post a person writes (a long one with a diagram embedded is under 1 MB);
# parsing stays linear, so this bounds the time one file can take.
MAX_POST_MB = 10
MAX_POST_BYTES = MAX_POST_MB * 1_000_000

DATE_KEYS = ("date", "published", "pubdate", "publishdate")
URL_KEYS = ("permalink", "url", "link")
EXCERPT_KEYS = ("summary", "description", "excerpt")
# The front matter key a generator's listings show in place of the post's opening.
SHOWN_SUMMARY = {"quarto": ("description",), "hugo": ("summary",)}


@dataclass(frozen=True)
class _FrontMatter:
    """The parsed block, its raw lines and the file line its first line is on."""

    meta: dict[str, Any]
    lines: list[str]
    first_line: int
    body: str

    def line_of(self, key: str) -> int | None:
        """The file line where ``key`` is set, so a bad value can be pointed at."""
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*[:=]", re.IGNORECASE)
        for offset, line in enumerate(self.lines):
            if pattern.match(line):
                return self.first_line + offset
        return None


def looks_like_markdown_post(text: str) -> bool:
    """True when the first non-blank line opens a ``---`` or ``+++`` front matter block."""
    for line in text.removeprefix("\ufeff").splitlines():
        if line.strip():
            return line.rstrip() in _FENCES
    return False


def parse_markdown(data: bytes, source: str, options: ParseOptions) -> list[PostRecord]:
    """The one post in a Markdown file, as a one-element list like every parser returns.

    A post of a known site (``options.place``) is read as its generator means it
    (:func:`_site_post`); a post its generator never builds raises :class:`NotPublished`.
    """
    if len(data) > MAX_POST_BYTES:
        raise IngestError(
            source, f"{len(data) / 1e6:.1f} MB; a Markdown post may hold at most {MAX_POST_MB} MB"
        )
    # One newline convention, so the <!-- more --> split and line counts agree on CRLF files.
    text = decode_text(data, source, options.encoding).replace("\r\n", "\n").replace("\r", "\n")
    front = _split_front_matter(text, source)
    place = options.place
    if place is not None and place.site.generator is not None:
        return [_site_post(front, source, place)]
    meta = front.meta
    body, more_excerpt = _split_more(front.body)
    summary = _first_text(meta, EXCERPT_KEYS, front, source)
    published = _published(meta, front, source)
    if place is None:
        url = _url(meta, options.base_url)
    else:  # --permalink without a generator: today's front matter, the pattern's URL
        categories = split_tags(_first(meta, ("categories", "category")))
        facts = PostFacts(
            title=_text_value(meta, "title", front, source),
            slug=clean_line(meta.get("slug")),
            moment=published if isinstance(published, date) else None,
            category_paths=tuple((name,) for name in categories),
        )
        url = resolve_url(post_url(place, facts, clean_line(_first(meta, URL_KEYS))), None)
    return [
        build_record(
            source=source,
            locator=f"{source}:{front.first_line - 1}",
            title=_text_value(meta, "title", front, source),
            excerpt=(markdown_text(summary) if summary else None) or more_excerpt,
            body=markdown_text(body),
            categories=_first(meta, ("categories", "category")),
            tags=_first(meta, ("tags", "keywords")),
            published=published,
            url=url,
            guid=_first(meta, ("guid", "id", "uuid")),
            body_source=front.body,
            source_format="markdown",
        )
    ]


def _site_post(front: _FrontMatter, source: str, place: PostPlace) -> PostRecord:
    """A post as Jekyll, Hexo or Hugo reads it: their categories, tags, dates and URLs.

    The excerpt is the opening of what a reader reads (the text before ``<!-- more -->``,
    else the body's start), as the feeds' full text and the listing snapshots give it, so
    that sightings of one post agree; a front matter summary stands in only for an empty
    body.
    """
    meta = listed_meta(front.meta, place)
    generator = place.site.generator
    reason = "a page of the site, not a post" if place.page else None
    reason = reason or unpublished(meta, generator, place.path) or unlisted(place)
    if reason is not None:
        raise NotPublished(source, reason)
    body, more_excerpt = _split_more(front.body)
    body_text = markdown_text(body)
    terms = read_terms(meta, place)
    moment = _moment(meta, front, source)
    scheduled = not_built_yet(moment, place.site, date.today())
    if scheduled is not None:
        raise NotPublished(source, scheduled)
    local = site_time(moment, place.site) if isinstance(moment, date) else None
    title = _text_value(meta, "title", front, source)
    facts = PostFacts(
        title=title,
        slug=clean_line(meta.get("slug")),
        moment=local,
        category_paths=terms.category_paths,
        meta=meta,
    )
    # Quarto's listings show a post's ``description``, Hugo's (and its RSS) ``summary``: the
    # excerpt a reader sees. Other summaries stand in only for an empty body.
    summary = _first_text(meta, SHOWN_SUMMARY.get(generator or "", EXCERPT_KEYS), front, source)
    if body_text and generator not in SHOWN_SUMMARY:
        summary = None
    written = clean_line(_first(meta, URL_KEYS))
    return build_record(
        source=source,
        locator=f"{source}:{front.first_line - 1}",
        title=title,
        excerpt=(markdown_text(summary) if summary else None) or more_excerpt,
        body=body_text,
        categories=[terms.category] if terms.category else None,
        tags=terms.stored_tags(),
        published=local.date() if isinstance(local, datetime) else (local or moment),
        url=resolve_url(post_url(place, facts, written), None),
        guid=_first(meta, ("guid", "id", "uuid")) or jekyll_id(place, facts, written),
        body_source=front.body,
        source_format="markdown",
    )


def _split_front_matter(text: str, source: str) -> _FrontMatter:
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip()), 0)
    fence = lines[start].strip() if lines else ""
    if fence not in _FENCES:
        raise IngestError(
            source,
            "no front matter: a post must start with a '---' (YAML) or '+++' (TOML) block",
            line=start + 1,
        )
    end = next((i for i in range(start + 1, len(lines)) if lines[i].rstrip() == fence), None)
    if end is None:
        raise IngestError(
            source, f"front matter opened with '{fence}' is never closed", line=start + 1
        )
    block = lines[start + 1 : end]
    first_line = start + 2
    meta = _load_block("".join(block), _FENCES[fence], first_line, source)
    return _FrontMatter(
        meta={str(key).lower(): value for key, value in meta.items()},
        lines=block,
        first_line=first_line,
        body="".join(lines[end + 1 :]),
    )


def _load_block(block: str, kind: str, first_line: int, source: str) -> Mapping[Any, Any]:
    if kind == "YAML":
        meta = load_yaml(block, first_line, source)
    else:
        meta = load_toml(block, first_line, source)
    if meta is None:
        return {}
    if not isinstance(meta, Mapping):
        raise IngestError(
            source,
            f"front matter must be {kind} 'key: value' pairs, not a {type(meta).__name__}",
            line=first_line,
        )
    return meta


def more_excerpt(body: str) -> str | None:
    """The text before Hexo/Hugo's ``<!-- more -->`` marker, as the post's excerpt."""
    return _split_more(body)[1]


def _split_more(body: str) -> tuple[str, str | None]:
    """The body without Hexo/Hugo's ``<!-- more -->`` marker, and the text before it."""
    found = _MORE.search(body)
    if found is None:
        return body, None
    before, after = body[: found.start()].rstrip(), body[found.end() :].lstrip("\n")
    return f"{before}\n\n{after}", clean_line(markdown_text(before))


def _first(meta: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = meta.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def _first_text(
    meta: Mapping[str, Any], keys: tuple[str, ...], front: _FrontMatter, source: str
) -> str | None:
    for key in keys:
        value = _text_value(meta, key, front, source)
        if value:
            return value
    return None


def _text_value(meta: Mapping[str, Any], key: str, front: _FrontMatter, source: str) -> str | None:
    """A scalar front matter value as text; a list or table where text belongs is an error."""
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, (list, dict)):
        raise IngestError(
            source,
            f"front matter '{key}' should be text, not a {type(value).__name__}",
            line=front.line_of(key),
        )
    return clean_line(value)


def _published(
    meta: Mapping[str, Any], front: _FrontMatter, source: str
) -> date | OutOfRange | None:
    for key in DATE_KEYS:
        value = meta.get(key)
        if not _is_date_value(value):
            continue
        try:
            return parse_date(value)
        except ValueError as exc:
            raise IngestError(
                source, f"front matter '{key}': {exc}", line=front.line_of(key) or front.first_line
            ) from exc
    return _date_from_file_name(source)


def _moment(meta: Mapping[str, Any], front: _FrontMatter, source: str) -> date | OutOfRange | None:
    """The post's date with its time and offset when written (a ``datetime``), for the
    site's time zone and permalink to use; :func:`_published` decides what is a date."""
    day = _published(meta, front, source)
    written = next((meta[key] for key in DATE_KEYS if _is_date_value(meta.get(key))), None)
    if isinstance(written, datetime):
        return written
    if not isinstance(day, date) or not isinstance(written, str):
        return day
    try:  # "2023-06-12 21:40:00 +0800" is text to PyYAML: dateutil keeps its time and offset
        moment = date_parser.parse(written)
    except (ValueError, OverflowError):
        return day
    return moment if moment.date() == day and _HAS_TIME.search(written) else day


def _is_date_value(value: object) -> bool:
    # Hexo and Jekyll use ``published: false`` to mean "draft", not a date.
    return value not in (None, "") and not isinstance(value, bool)


def _date_from_file_name(source: str) -> date | None:
    """Jekyll puts the date in the file name (``2024-03-05-my-post.md``) instead."""
    name = PurePosixPath(urlsplit(source).path if "://" in source else source.replace("\\", "/"))
    found = FILE_NAME_DATE.match(name.name)
    if found is None:
        return None
    year, month, day = (int(part) for part in found.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise IngestError(source, f"the file name starts with an impossible date: {exc}") from exc


def _url(meta: Mapping[str, Any], base_url: str | None) -> str | None:
    """An absolute permalink, or a relative one or a slug placed under ``--base-url``."""
    link = clean_line(_first(meta, URL_KEYS))
    if link is not None:
        return resolve_url(link, base_url)
    slug = clean_line(meta.get("slug"))
    if slug is None or not base_url:
        return None
    return resolve_url(urljoin(base_url.rstrip("/") + "/", slug.lstrip("/")), None)
