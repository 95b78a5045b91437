"""The one shape every source parser produces, and the one error every parser raises.

Parsers know formats; the merge step knows identity and the store. Keeping the
hand-over to a single plain record lets each side be tested without the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lib.ingest.sites import PostPlace


# How a stored source is read: Markdown, HTML, or text that is its own reading.
SOURCE_FORMATS = ("markdown", "html", "text")
# A source longer than the largest Markdown post a file may hold is not kept (its derived
# text still is): cut, it would re-derive a different post.
MAX_SOURCE_CHARS = 10_000_000
# Text that is its own reading keeps no copy: ``source_format = 'text'`` with no
# ``body_source`` says the body is the source (a million posts' copy cost 27 % of a store).
# A store written before keeps the copy, which reads the same.
BODY_IS_SOURCE = "text"


def kept_source(body_source: str | None, source_format: str | None, body: str | None) -> str | None:
    """A post's source as the store keeps it: ``body_source``, or the body that is its own."""
    if body_source is None and source_format == BODY_IS_SOURCE:
        return body
    return body_source


def kept_source_sql(table: str = "") -> str:
    """:func:`kept_source` in SQL, of the ``posts`` columns (of ``table``, an alias, if given)."""
    at = f"{table}." if table else ""
    return (
        f"coalesce({at}body_source,"
        f" CASE WHEN {at}source_format = '{BODY_IS_SOURCE}' THEN {at}body END)"
    )


@dataclass(frozen=True)
class PostRecord:
    """One sighting of a post in one source, already cleaned.

    ``url`` is http(s) or ``None``; text fields are stripped and ``None`` when empty,
    never a placeholder string. ``locator`` says where the sighting was (``file:line``
    or ``file row N``) so conflicts and rejections can point at it.
    ``date_out_of_range`` is the date ``lib.dates`` dropped (``published`` is then
    ``None``), as read, or as written if Python has no such day, for the import to count
    and name.
    ``body_source`` is the text the body (or, for a post without one, the excerpt) was
    derived from, exactly as the source gave it, and ``source_format`` how it is read
    (one of :data:`SOURCE_FORMATS`): kept for export and for re-deriving the text when a
    rule changes (``python -m lib.ingest --rederive``).
    """

    source: str
    locator: str
    title: str | None = None
    title_derived: bool = False
    excerpt: str | None = None
    body: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    published: date | None = None
    url: str | None = None
    guid: str | None = None
    date_out_of_range: str | None = None
    body_source: str | None = None
    source_format: str | None = None


class IngestError(Exception):
    """Bad input: names the file and, where known, the line or row.

    Raising it aborts the whole run, so the store stays exactly as it was.
    """

    def __init__(self, source: str, message: str, line: int | None = None, row: int | None = None):
        self.source = source
        self.line = line
        self.row = row
        self.detail = message
        where = source
        if line is not None:
            where = f"{source}:{line}"
        elif row is not None:
            where = f"{source}: row {row}"
        super().__init__(f"{where}: {message}")


class NotPublished(Exception):
    """A post its site never builds (``published: false``, ``draft: true``): not a post a
    reader can see, so the run leaves it out and names it in its summary."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


@dataclass(frozen=True)
class ParseOptions:
    """What the user may force on a parser from the command line.

    ``columns`` maps a posts field (``title``, ``published``, …) to the name the
    export uses for it, for CSV/JSON/Parquet files whose headers differ.
    ``generator`` (``jekyll``, ``hexo``, ``hugo``) and ``permalink`` say how to read a
    folder of Markdown posts without a site config; ``place`` is set per post by
    :mod:`lib.ingest.detect`, never by the user.
    """

    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    base_url: str | None = None
    generator: str | None = None
    permalink: str | None = None
    place: PostPlace | None = None
