"""A row of an export as a record: each cell read as the field its column holds.

A cell may be text, a WordPress ``{"rendered": …}`` object, a list of tags or of
``{"name": …}`` objects, or a date in any spelling; one of the wrong kind stops the run
with a message naming its row (:class:`RowPlace`) and its column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from lib.dates import OutOfRange
from lib.ingest.assemble import build_record, resolve_url
from lib.ingest.columns import mapped_columns, require_text_column, with_aliases
from lib.ingest.fields import clean_text, parse_date
from lib.ingest.htmltext import html_to_text
from lib.ingest.records import IngestError, ParseOptions, PostRecord
from lib.ingest.sourcetext import detect_format, readable_text

# Keys that name a tag or category given as an object (Ghost, WordPress, Notion exports).
NAME_KEYS = ("name", "term", "label", "title")


@dataclass(frozen=True)
class RowPlace:
    """A row's position, given to ``IngestError`` as ``line=`` or ``row=``."""

    locator: str
    line: int | None = None
    row: int | None = None

    def error(self, source: str, message: str) -> IngestError:
        return IngestError(source, message, line=self.line, row=self.row)


def records_from_objects(
    objects: list[tuple[RowPlace, Mapping[str, Any]]], source: str, options: ParseOptions
) -> list[PostRecord]:
    """Records from JSON objects, whose keys may differ from one object to the next.

    The user's mapping is checked against the keys of all objects; aliases are
    resolved per object, so one export mixing ``content`` and ``content_html``
    (or ``pub_date`` and ``created_at``) still finds each object's own field.
    """
    names = list(dict.fromkeys(str(key) for _, value in objects for key in value))
    mapped = mapped_columns(names, options, source)
    if objects:
        require_text_column(with_aliases(names, mapped), names, source)
    by_keys: dict[tuple[str, ...], dict[str, str]] = {}
    records = []
    for where, value in objects:
        keys = tuple(str(key) for key in value)
        if keys not in by_keys:
            by_keys[keys] = with_aliases(list(keys), mapped)
        records.append(record_of_row(value, by_keys[keys], where, source, options))
    return records


def record_of_row(
    row: Mapping[str, Any],
    mapping: Mapping[str, str],
    where: RowPlace,
    source: str,
    options: ParseOptions,
) -> PostRecord:
    def cell(field: str) -> Any:
        column = mapping.get(field)
        return None if column is None else row.get(column)

    declared = _text(cell("format"), mapping.get("format"), where, source)
    body_source, body_format = _source(cell("body"), mapping.get("body"), where, source, declared)
    excerpt_source, excerpt_format = _source(
        cell("excerpt"), mapping.get("excerpt"), where, source, declared
    )
    return build_record(
        source=source,
        locator=where.locator,
        title=_text(cell("title"), mapping.get("title"), where, source),
        excerpt=readable_text(excerpt_source, excerpt_format),
        body=readable_text(body_source, body_format),
        categories=_names(cell("category"), mapping.get("category"), where, source),
        tags=_names(cell("tags"), mapping.get("tags"), where, source),
        published=_date(cell("published"), mapping.get("published"), where, source),
        url=resolve_url(_text(cell("url"), mapping.get("url"), where, source), options.base_url),
        guid=_text(cell("guid"), mapping.get("guid"), where, source),
        body_source=body_source,
        source_format=body_format,
    )


def _text(value: Any, column: str | None, where: RowPlace, source: str) -> str | None:
    """A cell as one text (a title, a link); WordPress's ``{"rendered": …}`` is read as HTML."""
    if isinstance(value, Mapping) and isinstance(value.get("rendered"), str):
        return html_to_text(value["rendered"])
    if isinstance(value, (Mapping, list, tuple)):
        raise where.error(source, f"column {column!r} should hold text, not {json_kind(value)}")
    return clean_text(value)


def _source(
    value: Any, column: str | None, where: RowPlace, source: str, declared: str | None
) -> tuple[str | None, str | None]:
    """A prose cell as the export holds it, and its format: Markdown, HTML or text, as the
    export's format column says, else as :func:`~lib.ingest.sourcetext.detect_format` finds
    (a ``…_html`` column or WordPress's ``{"rendered": …}`` is HTML)."""
    if isinstance(value, Mapping) and isinstance(value.get("rendered"), str):
        return value["rendered"], "html"
    if isinstance(value, (Mapping, list, tuple)):
        raise where.error(source, f"column {column!r} should hold text, not {json_kind(value)}")
    if value is None or (isinstance(value, float) and value != value):  # NaN from pyarrow
        return None, None
    raw = str(value)
    if clean_text(raw) is None:
        return None, None
    if (column or "").lower().endswith("_html"):
        return raw, "html"
    return raw, detect_format(raw, declared)


def _names(value: Any, column: str | None, where: RowPlace, source: str) -> Any:
    """Tags or categories: a delimited string, a list, or a list of ``{"name": …}`` objects."""
    if not isinstance(value, (list, tuple)):
        if isinstance(value, Mapping):
            return _name_of(value, column, where, source)
        return value
    return [
        _name_of(item, column, where, source) if isinstance(item, Mapping) else item
        for item in value
    ]


def _name_of(item: Mapping[str, Any], column: str | None, where: RowPlace, source: str) -> Any:
    for key in NAME_KEYS:
        if item.get(key) not in (None, ""):
            return item[key]
    raise where.error(source, f"column {column!r} holds an object without a name: {item!r:.60}")


def _date(value: Any, column: str | None, where: RowPlace, source: str) -> date | OutOfRange | None:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise where.error(source, f"column {column!r}: {exc}") from exc


def json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    return kinds.get(type(value), "a number" if isinstance(value, (int, float)) else "a value")
