"""Deciding when two sightings are the same post.

Links identify a post when a source has them. The listing snapshots have none,
so their excerpt text does: two sightings are one post when their normalised
texts are equal, or when one is a cut-off of the other (a listing excerpt ends
with "..." where the full post goes on). Two posts that merely share a long
opening but then differ are two posts, because neither text is a prefix of the
other.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from lib.ingest.fields import match_text
from lib.ingest.records import PostRecord
from lib.text import PLACEHOLDER

LEAD_CHARS = 24
MIN_PREFIX_CHARS = 40
STEM_CHARS = 600
_ELLIPSIS = re.compile(r"(?:\.\.\.|…)\s*$")


@dataclass(frozen=True)
class Identity:
    """What a sighting offers for matching: its link, its guid and its text stem."""

    url: str | None
    guid: str | None
    stem: str
    truncated: bool

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
    return Identity(url=record.url, guid=record.guid, stem=stem, truncated=truncated)


def text_stem(text: str) -> tuple[str, bool]:
    """The normalised opening that identifies a text, and whether the text was cut short."""
    cut = PLACEHOLDER.search(text)
    truncated = bool(_ELLIPSIS.search(text)) or cut is not None
    if cut is not None:
        text = text[: cut.start()]
    if len(text) > STEM_CHARS * 3:  # normalising a whole long body would be wasted work
        text, truncated = text[: STEM_CHARS * 3], True
    text = _ELLIPSIS.sub("", text)
    stem = match_text(text)
    if len(stem) > STEM_CHARS:
        stem, truncated = stem[:STEM_CHARS], True
    return stem, truncated


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
