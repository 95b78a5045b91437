"""The blog's "latest updates" listing, scraped as plain text.

A snapshot is a run of cards. Each card is an excerpt line, optionally preceded
by its category line and its date line; page chrome ("LATEST UPDATES") and blank
lines sit in between. Which way the metadata belongs was settled on the data:
attached to the *following* excerpt, every post that appears in several
snapshots gets the same category in all of them; attached to the preceding one,
four posts contradict themselves. A category is told from an excerpt by length:
a listing excerpt is hundreds of characters cut with "...". A card cut at the
top edge of a snapshot has lost its metadata; metadata after the last excerpt
belongs to a card cut at the bottom and is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lib.dates import kept_date
from lib.ingest.fields import parse_date, without_deceptive_characters
from lib.ingest.records import IngestError, PostRecord
from lib.text import ELLIPSES, derive_title

_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_CHROME = {"INCOMING TRANSMISSION", "LATEST UPDATES"}
_SHOUTED = re.compile(r"^[A-Z][A-Z ]{10,}[A-Z]$")  # "LATEST UPDATES"-style headings
_SENTENCE_END = ("。", "！", "？", ".", "!", "?")
MAX_CATEGORY_CHARS = 40


@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    kind: str
    raw: str  # the line as the snapshot has it  # "excerpt" | "category" | "date" | "chrome"


def looks_like_snapshot(text: str) -> bool:
    """True when the text reads as listing cards: excerpt lines ending in an ellipsis."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return False
    cut = sum(1 for line in lines if line.endswith(ELLIPSES) and len(line) > 40)
    return cut >= max(1, len(lines) // 10)


def _classify(lines: list[str]) -> list[_Line]:
    out: list[_Line] = []
    for number, raw in enumerate(lines, start=1):
        text = without_deceptive_characters(raw).strip()  # the rule every parser applies
        if not text or text in _CHROME or _SHOUTED.match(text):
            kind = "chrome"
        elif _DATE.match(text):
            kind = "date"
        elif _is_category(text):
            kind = "category"
        else:
            kind = "excerpt"
        out.append(_Line(number, text, kind, raw))
    return out


def _is_category(text: str) -> bool:
    """A short label: listing excerpts run to hundreds of characters and end in "...".

    A category line whose date line was lost still reads as a category this way,
    which a rule keyed on "followed by a date" would miss.
    """
    return len(text) <= MAX_CATEGORY_CHARS and not text.endswith((*ELLIPSES, *_SENTENCE_END))


def parse_snapshot(text: str, source: str) -> list[PostRecord]:
    """Every card in one snapshot, in order, with the metadata that labels it."""
    classified = _classify(text.splitlines())
    records: list[PostRecord] = []
    pending: list[_Line] = []
    for line in classified:
        if line.kind == "chrome":
            continue
        if line.kind != "excerpt":
            pending.append(line)
            continue
        category, written = _card_metadata(pending, source)
        published, out_of_range = kept_date(written)
        pending = []
        records.append(
            PostRecord(
                source=source,
                locator=f"{source}:{line.number}",
                title=derive_title(line.text),
                title_derived=True,
                excerpt=line.text,
                category=category,
                published=published,
                date_out_of_range=out_of_range,
                body_source=line.raw or None,
                source_format="text",
            )
        )
    if not records:
        raise IngestError(source, "no post excerpts found in this snapshot")
    return records


def _card_metadata(block: list[_Line], source: str) -> tuple[str | None, object]:
    """The category and date directly before an excerpt; earlier lines belong to a lost card."""
    category: str | None = None
    published = None
    for line in reversed(block[-2:]):
        if line.kind == "date" and published is None and category is None:
            published = _read_date(line, source)
        elif line.kind == "category" and category is None:
            category = line.text
        else:
            break
    return category, published


def _read_date(line: _Line, source: str):
    match = _DATE.match(line.text)
    assert match is not None
    year, month, day = (int(part) for part in match.groups())
    try:
        return parse_date(f"{year:04d}-{month:02d}-{day:02d}")
    except ValueError as exc:
        raise IngestError(source, f"impossible date {line.text!r}", line=line.number) from exc
