"""The fast lane for large exports: rows that cleaning would leave unchanged skip Python.

A million-row export spends most of its import in per-row Python: cleaning each
field, building a record, hashing its identity. Most rows of a real export are
already clean, though: one-line titles, plain text bodies, ISO dates, absolute
links. For such a row every cleaning rule is the identity, so DuckDB can check
that in bulk and take the row as it is. Any row the checks are not sure about
(HTML, control characters, unusual whitespace or letters, a relative link, a
date in another spelling, a missing title) goes down the ordinary path
(``lib.ingest.tabular``), so both lanes give the same record; the tests compare
them row by row.

The checks are each rule's SQL twin, defined beside the rule (``fields``, ``text``,
``identity``) and tested against it. They are deliberately conservative: the text must
consist of characters whose Unicode normalisation (NFKC) and lower-casing DuckDB and
Python agree on (``fields.SAFE_RANGES``), so that the identity stem computed in SQL
equals ``identity.text_stem``. The rows taken are written by ``lib.ingest.fast_insert``.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from lib.dates import published_years
from lib.ingest.assemble import MAX_TAGS_PER_POST
from lib.ingest.fields import (
    SAFE_CHARACTERS,
    SAFE_LINE,
    TAG_SEPARATORS,
    clean_line_keeps_sql,
    clean_url_keeps_sql,
    may_repeat_title_sql,
    split_tags_sql,
)
from lib.ingest.records import BODY_IS_SOURCE, MAX_SOURCE_CHARS, kept_source_sql
from lib.text import plain_excerpt_sql

TEXT_TYPES = (pa.string(), pa.large_string(), pa.string_view())
TEXT_FIELDS = ("title", "excerpt", "body", "category", "url", "guid")
FIELDS = (*TEXT_FIELDS, "tags", "published")

_TEXT = rf"^[{SAFE_CHARACTERS}\t\n]+$"
_ISO_DATETIME = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?)?$"
)
# Text in which markdown-it might find markup (emphasis, code, math, links, footnotes,
# tables, headings, lists, quotes, indented code): such a value takes the per-record path,
# where lib.ingest.sourcetext decides. Stricter than the parser, never looser: a value
# passing this reads as plain text there too.
_MAYBE_MARKDOWN = r"[`*_$|]|~~|\]\(|\]:|\[\^|(?m:^(?: {0,3}(?:[#>+=-]|[0-9]{1,9}[.)])| {4}|\t))"


def _no_markup(col: str) -> str:
    """A further condition on a line: no HTML or Markdown that a reading would remove."""
    return f" AND strpos({col}, '<') = 0 AND NOT regexp_matches({col}, '{_MAYBE_MARKDOWN}')"


def _body_ok(col: str) -> str:
    """Text that is its own reading: every text rule leaves it as it is."""
    return (
        f"(regexp_matches({col}, '{_TEXT}') AND strpos({col}, '<') = 0"
        f" AND NOT regexp_matches({col}, '^\\s|\\s$')"
        f" AND NOT regexp_matches({col}, '{_MAYBE_MARKDOWN}'))"
    )


def derives_itself_sql() -> str:
    """A stored post (``posts`` columns) whose title and body are their source as the fast
    lane takes it: re-deriving it changes nothing, so ``--rederive`` leaves it to SQL.

    The checks are the fast lane's, which the tests keep in step with the text rules: a
    rule that changed what such text reads as would have to change them too.
    """
    return (
        f"(source_format = '{BODY_IS_SOURCE}' AND NOT title_derived AND title IS NOT NULL"
        f" AND body = {kept_source_sql()} AND {clean_line_keeps_sql('title')}"
        f" AND {_body_ok('body')})"
    )


def _published(kind: pa.DataType) -> tuple[str, str, dict[str, object]]:
    """The SQL for the date, the check that the per-record path would store it as is,
    and the check's parameters.

    A date outside the years the store keeps fails the check: the per-record path
    stores it as no date and counts it. Both apply ``lib.dates.published_years``.
    """
    years = published_years()
    if pa.types.is_date(kind) or (pa.types.is_timestamp(kind) and kind.tz is None):
        check = f"(published IS NULL OR {years.sql('published::DATE')})"
        return "published::DATE", check, years.sql_params()
    if pa.types.is_null(kind):
        return "NULL::DATE", "TRUE", {}
    if kind in TEXT_TYPES:
        # An ISO date, or an ISO date and time (with seconds, fractions, an offset): the
        # date as written is what dateutil gives too. Anything else is left to it.
        iso = f"regexp_matches(published, '{_ISO_DATETIME}')"
        day = "try_cast(left(published, 10) AS DATE)"
        check = f"(published IS NULL OR ({iso} AND {day} IS NOT NULL AND {years.sql(day)}))"
        return day, check, years.sql_params()
    return "NULL::DATE", "FALSE", {}


def _tags(kind: pa.DataType) -> tuple[str, str]:
    """The SQL for the tags and the check that the per-record path would store them so."""
    if pa.types.is_null(kind):
        return "NULL::VARCHAR[]", "TRUE"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        if kind.value_type not in TEXT_TYPES:
            return "NULL::VARCHAR[]", "FALSE"
        check = (
            "(tags IS NULL OR (list_bool_and(list_transform(tags, lambda x: x IS NOT NULL AND "
            f"x <> '' AND {clean_line_keeps_sql('x')})) IS NOT FALSE"
            " AND len(list_distinct(tags)) = len(tags)"
            f" AND len(tags) <= {MAX_TAGS_PER_POST}))"
        )
        return "CASE WHEN len(tags) > 0 THEN tags::VARCHAR[] END", check
    if kind in TEXT_TYPES:
        pieces, tags = split_tags_sql("tags")
        check = (
            f"(tags IS NULL OR (regexp_matches(tags, '{SAFE_LINE}')"
            f" AND len({pieces}) <= {MAX_TAGS_PER_POST}))"
        )
        return f"CASE WHEN len({tags}) > 0 THEN {tags} END", check
    return "NULL::VARCHAR[]", "FALSE"


def _checks() -> str:
    """Whether a row (typed fields already checked, as ``typed_ok``) is one that every
    cleaning rule leaves as it is."""
    return " AND ".join(
        [
            "typed_ok",
            "title IS NOT NULL",
            "(url IS NOT NULL OR guid IS NOT NULL)",
            clean_line_keeps_sql("title"),
            clean_line_keeps_sql("excerpt", also=_no_markup("excerpt")),
            clean_line_keeps_sql("category"),
            clean_line_keeps_sql("guid"),
            f"(category IS NULL OR NOT regexp_matches(category, '{TAG_SEPARATORS.pattern}'))",
            clean_url_keeps_sql("url"),
            f"(body IS NULL OR {_body_ok('body')})",
            # A body that may open with its title gets an excerpt after it (body_excerpt):
            # such rows take the ordinary path.
            f"(excerpt IS NOT NULL OR body IS NULL OR NOT {may_repeat_title_sql('body', 'title')})",
            "format IS NULL",
        ]
    )


def _as_rows(
    table: pa.Table, mapping: dict[str, str], locators: Sequence[str]
) -> tuple[pa.Table, dict[str, pa.DataType]] | None:
    """The mapped columns of ``table`` with ``row`` (1-based) and ``locator``, and each
    field's type as the file has it; None when a text field is of a type the checks
    cannot read (every row takes the ordinary path)."""
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    # A declared format is read on the per-record path.
    for name in (*FIELDS, "format"):
        column = mapping.get(name)
        columns[name] = (
            table.column(column) if column is not None else pa.nulls(table.num_rows, pa.string())
        )
    kinds = {name: col.type for name, col in columns.items()}
    if any(kinds[n] not in TEXT_TYPES and not pa.types.is_null(kinds[n]) for n in TEXT_FIELDS):
        return None
    schema = pa.schema(
        [
            ("row", pa.int64()),
            ("locator", pa.string()),
            *((n, pa.string() if pa.types.is_null(k) else k) for n, k in kinds.items()),
        ]
    )
    rows = {
        "row": pa.array(range(1, table.num_rows + 1), pa.int64()),
        "locator": pa.array(locators, pa.string()),
        **columns,
    }
    return pa.table(rows).cast(schema), kinds


def fast_rows(
    table: pa.Table, mapping: dict[str, str], locators: Sequence[str]
) -> tuple[pa.Table, list[int]]:
    """The rows that need no Python cleaning, as cleaned columns, and the 0-based indexes
    of the others (for the ordinary path).

    The fast rows carry ``row`` (1-based, for file order), their ``locator`` (as the
    ordinary path would name the row: ``file row N``, ``file:line``) and the fields.
    """
    typed = _as_rows(table, mapping, locators)
    if typed is None:
        return no_rows(), list(range(table.num_rows))
    rows, kinds = typed
    published_sql, published_ok, published_params = _published(kinds["published"])
    tags_sql, tags_ok = _tags(kinds["tags"])
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")  # not under -q, not over the import's
        con.register("_rows", rows)
        text_cols = ", ".join(
            f"nullif({name}::VARCHAR, '') AS {name}" for name in (*TEXT_FIELDS, "format")
        )
        # The checks run once, into ``ok``: they read every text in full, and both the
        # fast rows and the others are picked by them.
        con.execute(
            f"""CREATE TEMP TABLE _clean AS
                SELECT *, coalesce({_checks()}, FALSE) AS ok FROM (
                    SELECT row, locator, {text_cols}, {tags_sql} AS tags,
                           {published_sql} AS published, {published_ok} AND {tags_ok} AS typed_ok
                    FROM _rows)""",
            published_params,
        )
        fast = con.sql(
            f"""SELECT row, locator, title, coalesce(excerpt, {plain_excerpt_sql("body")})
                       AS excerpt, body, category, tags, published, url, guid,
                       NULL::VARCHAR AS body_source,
                       CASE WHEN length(body) <= {MAX_SOURCE_CHARS} THEN '{BODY_IS_SOURCE}' END
                       AS source_format
                FROM _clean WHERE ok ORDER BY row"""
        ).to_arrow_table()
        slow = [
            r[0] - 1
            for r in con.execute("SELECT row FROM _clean WHERE NOT ok ORDER BY row").fetchall()
        ]
    finally:
        con.close()
    return fast, slow


def no_rows() -> pa.Table:
    """A fast-lane table with no rows: every row takes the ordinary path."""
    return pa.table({"row": pa.array([], pa.int64()), "locator": pa.array([], pa.string())})
