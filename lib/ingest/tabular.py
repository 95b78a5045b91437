"""Exports as tables: CSV/TSV, JSON Lines, JSON and Parquet.

Every export names its columns its own way (``lib.ingest.columns`` finds them), and its
cells are read into records by ``lib.ingest.cells``. Positions in messages are what the
user can find in the file: the physical line a CSV or JSON Lines row starts on, the
1-based row of a JSON array or Parquet table.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import MAXYEAR, MINYEAR
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lib.ingest.cells import RowPlace, json_kind, record_of_row, records_from_objects
from lib.ingest.columns import mapped_columns, require_text_column, resolve_columns, with_aliases
from lib.ingest.fast_lane import fast_rows
from lib.ingest.fast_lane import no_rows as _no_rows
from lib.ingest.ghost import ghost_posts
from lib.ingest.reading import decode_text
from lib.ingest.records import IngestError, ParseOptions, PostRecord

# Keys under which JSON exports wrap their list of posts.
LIST_KEYS = ("posts", "items", "data", "entries", "records", "articles", "results")
CSV_DELIMITERS = ",;\t"
# csv.Sniffer's regexes are quadratic in the sample: it is shown only the start.
SNIFF_CHARS = 4096
# Long post bodies exceed the csv module's default 128 KiB field limit.
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))


# --- Formats --------------------------------------------------------------------------


def parse_csv(data: bytes, source: str, options: ParseOptions) -> list[PostRecord]:
    """Rows of a CSV/TSV export with a header line; ``,``, ``;`` or tab separated."""
    names, mapping, rows = _csv_table(data, source, options)
    return [_csv_record(names, mapping, row, source, options) for row in rows]


def parse_csv_bulk(
    data: bytes, source: str, options: ParseOptions
) -> tuple[pa.Table, list[PostRecord], list[int]]:
    """:func:`parse_csv`, with the clean rows as one table for the fast lane."""
    names, mapping, rows = _csv_table(data, source, options)
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        first.setdefault(name, index)  # of repeated names the first wins, as in lookups
    table = pa.table(
        {name: pa.array([row[2][i] for row in rows], pa.string()) for name, i in first.items()}
    )
    fast, slow = fast_rows(table, mapping, [f"{source}:{line}" for line, _, _ in rows])
    records = [_csv_record(names, mapping, rows[i], source, options) for i in slow]
    return fast, records, [i + 1 for i in slow]


def _csv_table(
    data: bytes, source: str, options: ParseOptions
) -> tuple[list[str], dict[str, str], list[tuple[int, int, list[str]]]]:
    """The header's names, the column mapping, and the rows (checked for width)."""
    text = decode_text(data, source, options.encoding)
    rows = list(_csv_rows(text, source))
    if not rows:
        # decode_text lets a file holding only a BOM and line breaks through.
        raise IngestError(source, "the file is empty")
    names = [name.strip() for name in rows[0][2]]
    mapping = resolve_columns(names, options, source)
    if len(rows) > 1:
        require_text_column(mapping, names, source)
    for line, end, fields in rows[1:]:
        if len(fields) != len(names):
            raise IngestError(source, _width_message(len(fields), len(names), line, end), line=line)
    return names, mapping, rows[1:]


def _csv_record(
    names: list[str],
    mapping: dict[str, str],
    row: tuple[int, int, list[str]],
    source: str,
    options: ParseOptions,
) -> PostRecord:
    line, _, fields = row
    where = RowPlace(f"{source}:{line}", line=line)
    return record_of_row(_row_dict(names, fields), mapping, where, source, options)


def _row_dict(names: list[str], fields: list[str]) -> dict[str, str]:
    """Cells by column name; of repeated names the first wins, as in column lookup."""
    row: dict[str, str] = {}
    for name, value in zip(names, fields, strict=True):
        row.setdefault(name, value)
    return row


TOO_DEEP = "JSON nested too deeply to be a post export"
# Python refuses to convert an integer of more than 4,300 digits (a denial-of-service guard).
TOO_LONG_NUMBER = "JSON holds a number too long to read (more than 4,300 digits)"


def parse_jsonl(data: bytes, source: str, options: ParseOptions) -> list[PostRecord]:
    """One JSON object per line; blank lines are allowed."""
    return records_from_objects(_jsonl_objects(data, source, options), source, options)


def parse_jsonl_bulk(
    data: bytes, source: str, options: ParseOptions
) -> tuple[pa.Table, list[PostRecord], list[int]]:
    """:func:`parse_jsonl`, with the clean rows as one table for the fast lane."""
    return _objects_bulk(_jsonl_objects(data, source, options), source, options)


def _jsonl_objects(
    data: bytes, source: str, options: ParseOptions
) -> list[tuple[RowPlace, Mapping[str, Any]]]:
    text = decode_text(data, source, options.encoding)
    objects: list[tuple[RowPlace, Mapping[str, Any]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IngestError(
                source, f"not valid JSON: {exc.msg} (column {exc.colno})", line=number
            ) from exc
        except RecursionError as exc:
            raise IngestError(source, TOO_DEEP, line=number) from exc
        except ValueError as exc:  # JSONDecodeError is one, and is caught above
            raise IngestError(source, TOO_LONG_NUMBER, line=number) from exc
        where = RowPlace(f"{source}:{number}", line=number)
        if not isinstance(value, dict):
            raise where.error(source, f"expected a JSON object, got {json_kind(value)}")
        objects.append((where, value))
    if not objects:
        raise IngestError(source, "the file is empty")
    return objects


def _objects_bulk(
    objects: list[tuple[RowPlace, Mapping[str, Any]]], source: str, options: ParseOptions
) -> tuple[pa.Table, list[PostRecord], list[int]]:
    """JSON objects for the fast lane when they all have the same keys and the mapped
    values are text (or lists of text); otherwise every one takes the ordinary path."""
    everything = list(range(len(objects)))
    shapes = {tuple(str(key) for key in value) for _, value in objects}
    table = None
    if len(shapes) == 1:
        names = list(next(iter(shapes)))
        mapped = mapped_columns(names, options, source)
        if objects:
            require_text_column(with_aliases(names, mapped), names, source)
        mapping = with_aliases(names, mapped)
        try:
            table = pa.table(
                {
                    column: pa.array([value.get(column) for _, value in objects])
                    for column in dict.fromkeys(mapping.values())
                }
            )
        except pa.ArrowException:  # mixed kinds in a column: the ordinary path says which
            table = None
    if table is None:
        return (
            _no_rows(),
            records_from_objects(objects, source, options),
            [i + 1 for i in everything],
        )
    fast, slow = fast_rows(table, mapping, [where.locator for where, _ in objects])
    records = [record_of_row(objects[i][1], mapping, objects[i][0], source, options) for i in slow]
    return fast, records, [i + 1 for i in slow]


def parse_json(data: bytes, source: str, options: ParseOptions) -> list[PostRecord]:
    """A JSON array of post objects, or an object holding one under ``posts``/``items``/…"""
    return records_from_objects(_json_objects(data, source, options), source, options)


def parse_json_bulk(
    data: bytes, source: str, options: ParseOptions
) -> tuple[pa.Table, list[PostRecord], list[int]]:
    """:func:`parse_json`, with the clean rows as one table for the fast lane."""
    return _objects_bulk(_json_objects(data, source, options), source, options)


def _json_objects(
    data: bytes, source: str, options: ParseOptions
) -> list[tuple[RowPlace, Mapping[str, Any]]]:
    text = decode_text(data, source, options.encoding)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(
            source, f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from exc
    except RecursionError as exc:
        raise IngestError(source, TOO_DEEP, line=1) from exc
    except ValueError as exc:
        raise IngestError(source, TOO_LONG_NUMBER) from exc
    items = ghost_posts(document, options.base_url)
    items = _json_items(document, source) if items is None else items
    objects = []
    for number, value in enumerate(items, start=1):
        where = RowPlace(f"{source} row {number}", row=number)
        if not isinstance(value, dict):
            raise where.error(source, f"expected a JSON object, got {json_kind(value)}")
        objects.append((where, value))
    return objects


def parse_parquet(data: bytes, source: str, options: ParseOptions) -> list[PostRecord]:
    """Rows of a Parquet table; list columns (tags) arrive as Python lists."""
    table, mapping = _parquet_table(data, source, options)
    return _table_records(table, mapping, range(table.num_rows), source, options)


def parse_parquet_bulk(
    data: bytes, source: str, options: ParseOptions
) -> tuple[pa.Table, list[PostRecord], list[int]]:
    """Rows of a Parquet table: the clean ones as one table for the fast lane
    (``lib.ingest.fast_lane``), the others as records (as :func:`parse_parquet` makes them)
    with their 1-based row numbers."""
    table, mapping = _parquet_table(data, source, options)
    locators = [f"{source} row {number}" for number in range(1, table.num_rows + 1)]
    fast, slow = fast_rows(table, mapping, locators)
    records = _table_records(table, mapping, slow, source, options)
    return fast, records, [index + 1 for index in slow]


def _parquet_table(data: bytes, source: str, options: ParseOptions) -> tuple[pa.Table, dict]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        reason = str(exc).replace("Could not open Parquet input source '<Buffer>': ", "")
        raise IngestError(source, f"not a readable Parquet file: {reason}") from exc
    names = [str(name) for name in table.column_names]
    mapping = resolve_columns(names, options, source)
    if table.num_rows:
        require_text_column(mapping, names, source)
    return table, mapping


def _table_records(
    table: pa.Table, mapping: dict, rows: Sequence[int], source: str, options: ParseOptions
) -> list[PostRecord]:
    """Records of the 0-based ``rows`` of an Arrow table, located by their 1-based number."""
    taken = table.take(pa.array(rows, pa.int64())) if rows else table.slice(0, 0)
    values = _with_readable_dates(taken, mapping.get("published")).to_pylist()
    return [
        record_of_row(
            row, mapping, RowPlace(f"{source} row {index + 1}", row=index + 1), source, options
        )
        for index, row in zip(rows, values, strict=True)
    ]


def _with_readable_dates(table: pa.Table, column: str | None) -> pa.Table:
    """The table, with its date or time column as text if it holds a year Python cannot.

    Arrow dates reach far beyond Python's years 1 to 9999 (a BC date in a Parquet
    export), and ``to_pylist`` raises on them; as text, ``parse_date`` reads them as
    dates out of range, which the store keeps as no date.
    """
    if column is None or table.num_rows == 0:
        return table
    values = table.column(column)
    if not (pa.types.is_date(values.type) or pa.types.is_timestamp(values.type)):
        return table
    years = pc.year(values)
    beyond = pc.or_(pc.less(years, MINYEAR), pc.greater(years, MAXYEAR))
    if not pc.any(beyond).as_py():
        return table
    # Arrow writes a day past its own range as "<value out of range: …>", which is no date;
    # such a day is written from its year, month and day instead, as ``parse_date`` reads it.
    days = zip(
        beyond.to_pylist(),
        years.to_pylist(),
        pc.month(values).to_pylist(),
        pc.day(values).to_pylist(),
        values.cast(pa.string()).to_pylist(),
        strict=True,
    )
    text = [_iso_day(y, m, d) if out else written for out, y, m, d, written in days]
    return table.set_column(table.column_names.index(column), column, pa.array(text, pa.string()))


def _iso_day(year: int, month: int, day: int) -> str:
    return f"{'-' if year < 0 else ''}{abs(year):04d}-{month:02d}-{day:02d}"


# --- CSV reading ----------------------------------------------------------------------


def _csv_rows(text: str, source: str) -> Iterator[tuple[int, int, list[str]]]:
    """Non-empty rows with the physical lines they start and end on.

    ``newline=""`` keeps CRLF and line breaks inside quoted fields intact for the
    csv module; ``strict`` turns quoting mistakes into errors instead of guesses.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    end = 0
    while True:
        start = end + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                message = "a quoted field in the row starting here is never closed"
                raise IngestError(source, message, line=start) from exc
            raise IngestError(source, f"bad CSV quoting: {exc}", line=reader.line_num) from exc
        end = reader.line_num
        if any(field.strip() for field in fields):
            yield start, end, fields


def _delimiter(text: str) -> str:
    """``,``, ``;`` or tab, as sniffed; the header line overrules an implausible guess.

    The sniffer can be swayed by a column full of ``LoRA;PEFT`` tag strings; a
    header line almost never contains any separator but the real one.
    """
    header = next((line for line in text.splitlines() if line.strip()), "")
    try:
        sniffed = csv.Sniffer().sniff(text[:SNIFF_CHARS], delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed and sniffed in header:
        return sniffed
    counts = {candidate: header.count(candidate) for candidate in CSV_DELIMITERS}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _width_message(got: int, expected: int, line: int, end: int) -> str:
    message = f"this row has {got} field{'s' * (got != 1)} but the header has {expected}"
    if end > line:
        message += f" (the row runs on to line {end}: is a quote left open?)"
    return message


def _json_items(document: Any, source: str) -> Iterable[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in LIST_KEYS:
            if isinstance(document.get(key), list):
                return document[key]
        raise IngestError(
            source,
            "expected a list of posts, or an object with one under "
            f"{', '.join(repr(key) for key in LIST_KEYS)}; found keys: "
            f"{', '.join(repr(str(key)) for key in list(document)[:10]) or 'none'}",
        )
    raise IngestError(source, f"expected a list of posts, got {json_kind(document)}")
