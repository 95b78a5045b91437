"""Cleaning of individual field values shared by every parser.

Every source spells dates, tags and links differently; normalising them in one
place is what lets the merge step compare sightings from different sources.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime
from urllib.parse import urlsplit, urlunsplit

from dateutil import parser as date_parser

_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # C0 controls but tab and newlines
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EPOCH = re.compile(r"^\d{9,13}$")
_NOT_WORD = re.compile(r"[\W_]+")
_URL_BREAKER = re.compile(r"[\s\x00-\x1f\x7f]")  # whitespace or a control character


def clean_text(value: object) -> str | None:
    """Strip, drop control characters, and turn empty into ``None``.

    Placeholders such as "N/A" are left alone on purpose: only the UI decides how a
    missing value looks, and a literal "N/A" in a source is its author's text.
    """
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from pandas/pyarrow
        return None
    text = _CONTROL.sub("", str(value)).replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def clean_line(value: object) -> str | None:
    """Like :func:`clean_text` but folded onto one line (titles, categories, tags)."""
    text = clean_text(value)
    if text is None:
        return None
    return _WS.sub(" ", text) or None


def parse_date(value: object) -> date | None:
    """Read a publication date from any of the usual spellings.

    Raises ``ValueError`` for text that is not a date, so that the parser can name
    the row; silently dropping a bad date would hide a broken export.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value:
            return None
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=UTC).date()
    text = clean_line(value)
    if text is None:
        return None
    if _ISO_DATE.match(text):
        return date.fromisoformat(text)
    if _EPOCH.match(text):
        return parse_date(int(text))
    try:
        parsed = date_parser.parse(text)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a date: {text[:40]!r}") from exc
    return parsed.date()


def clean_url(value: object, base: str | None = None) -> str | None:
    """Keep only absolute http(s) links; anything else becomes ``None``.

    Post text is untrusted: a ``javascript:`` or ``data:`` link must never reach a
    page, so it is dropped here, at the door, and not only when rendering.
    """
    text = clean_line(value)
    if text is None:
        return None
    try:
        if base and text.startswith("/") and not text.startswith("//"):
            base_parts = urlsplit(base)
            if base_parts.scheme in ("http", "https") and base_parts.netloc:
                text = f"{base_parts.scheme}://{base_parts.netloc}{text}"
        parts = urlsplit(text)
    except ValueError:  # "https://[oops": not a link anyone can follow
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if _URL_BREAKER.search(text):
        return None
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def split_tags(value: object) -> tuple[str, ...]:
    """Tags from a list, or from a comma/semicolon/pipe separated string, deduplicated."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[object] = re.split(r"[,;|，；、]", value)
    elif isinstance(value, Iterable):
        items = value
    else:
        items = [value]
    seen: dict[str, None] = {}
    for item in items:
        if isinstance(item, (list, tuple)):
            for tag in split_tags(item):
                seen.setdefault(tag, None)
            continue
        tag = clean_line(item)
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)


def match_text(value: str | None) -> str:
    """Text reduced to letters and digits, for deciding whether two sightings are one post.

    The listing scraper drops hyphens and spacing (``Kimi-VL`` becomes ``KimiVL``) and
    replaces code and formulas by markers, so identity has to ignore all of that.
    """
    if not value:
        return ""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", value).lower())
