"""Which column of an export holds which field.

Every export names its columns its own way, so a column is found by the user's
``--column field=name`` mapping first and by common aliases second. A mapping
that names a missing column is an error, never a silent fallback: the user
asked for that column, and guessing another would store the wrong field.
"""

from __future__ import annotations

from collections.abc import Mapping

from lib.ingest.records import IngestError, ParseOptions

FIELDS = ("title", "excerpt", "body", "category", "tags", "published", "url", "guid", "format")
ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "name", "headline"),
    "excerpt": ("excerpt", "summary", "description", "abstract"),
    "body": ("body", "content", "text", "content_html"),
    "category": ("category", "categories", "section"),
    "tags": ("tags", "keywords", "labels"),
    "published": (
        "published",
        "date",
        "pubdate",
        "pub_date",
        "created",
        "created_at",
        "publish_date",
        "datetime",
        "time",
    ),
    "url": ("url", "link", "permalink", "href"),
    "guid": ("guid", "id", "uuid"),
    # How the body is written (markdown, html, text), where an export says so.
    "format": ("body_format", "format", "content_format", "markup"),
}


def resolve_columns(names: list[str], options: ParseOptions, source: str) -> dict[str, str]:
    """Which column holds each field: the user's mapping, else the first matching alias."""
    return with_aliases(names, mapped_columns(names, options, source))


def mapped_columns(names: list[str], options: ParseOptions, source: str) -> dict[str, str]:
    """The user's ``--column`` mapping, checked against the columns the file has."""
    by_lower = _by_lower(names)
    found = ", ".join(repr(name) for name in names) or "none"
    mapping: dict[str, str] = {}
    for field, column in options.columns.items():
        if field not in FIELDS:
            raise IngestError(
                source,
                f"unknown field {field!r} in the column mapping; fields are {', '.join(FIELDS)}",
            )
        actual = column if column in names else by_lower.get(column.strip().lower())
        if actual is None:
            raise IngestError(
                source,
                f"mapped column {column!r} (for {field}) is not in the file; columns: {found}",
            )
        mapping[field] = actual
    return mapping


def with_aliases(names: list[str], mapped: Mapping[str, str]) -> dict[str, str]:
    """Fill unmapped fields from aliases, never reusing a column another field holds."""
    by_lower = _by_lower(names)
    mapping = dict(mapped)
    claimed = set(mapping.values())
    for field in FIELDS:
        if field in mapping:
            continue
        for alias in ALIASES[field]:
            actual = by_lower.get(alias)
            if actual is not None and actual not in claimed:
                mapping[field] = actual
                claimed.add(actual)
                break
    return mapping


def _by_lower(names: list[str]) -> dict[str, str]:
    """Column names by their case-folded spelling; of two spellings the first wins."""
    by_lower: dict[str, str] = {}
    for name in names:
        by_lower.setdefault(name.strip().lower(), name)
    return by_lower


def require_text_column(mapping: Mapping[str, str], names: list[str], source: str) -> None:
    """Refuse a table none of whose columns can be a title, excerpt or body.

    Each of its rows would be rejected on its own; one message with the columns
    found and the fix is what the user needs instead.
    """
    if any(field in mapping for field in ("title", "excerpt", "body")):
        return
    found = ", ".join(repr(name) for name in names) or "none"
    raise IngestError(
        source,
        f"no column for the title, excerpt or body (columns: {found}); "
        "map one with --column title=NAME",
    )
