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

The checks are deliberately conservative: the text must consist of characters
whose Unicode normalisation (NFKC) and lower-casing DuckDB and Python agree on,
so that the identity stem computed here in SQL equals ``identity.text_stem``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from lib.dates import published_years
from lib.ingest.assemble import MAX_TAGS_PER_POST
from lib.ingest.identity import LEAD_CHARS, STEM_CHARS
from lib.ingest.merge import SIGHTING_COLUMNS, Sighting
from lib.ingest.records import MAX_SOURCE_CHARS, PostRecord
from lib.text import EXCERPT_CHARS

TEXT_TYPES = (pa.string(), pa.large_string(), pa.string_view())

# Characters on which Python's NFKC + lower() and DuckDB's lower() (after mapping the
# fullwidth forms) agree, and which Python's \w and RE2's [\p{L}\p{N}] classify alike:
# printable ASCII, Latin-1 letters, general punctuation, CJK punctuation, CJK ideographs
# and the fullwidth ASCII forms Chinese text uses (，：（）). None of them is a format
# character or a combining mark, which ``fields.without_deceptive_characters`` removes or
# caps: text holding one takes the per-record path (the CJK tone marks U+302A–U+302D
# are left out for this; the tests check every character of the set).
SAFE_RANGES = (
    (0x20, 0x7E), (0xB7, 0xB7), (0xC0, 0xFF), (0x2010, 0x2027), (0x2030, 0x205E),
    (0x3001, 0x3029), (0x302E, 0x3037), (0x303B, 0x303F), (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF), (0xFF01, 0xFF5E),
)  # fmt: skip
_SAFE = "".join(
    rf"\x{{{first:X}}}" + (rf"-\x{{{last:X}}}" if last > first else "")
    for first, last in SAFE_RANGES
)
_ASCII_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_FULLWIDTH_ALNUM = "".join(chr(ord(c) + 0xFEE0) for c in _ASCII_ALNUM)  # ０…９Ａ…Ｚａ…ｚ
# A line field clean_line leaves alone: safe characters, no '<' where HTML is looked for,
# single inner spaces, none at the ends.
_LINE = rf"^[{_SAFE}]+$"
_SPACING = r"^ | $|  "
_TEXT = rf"^[{_SAFE}\t\n]+$"
_TAG_SEPARATORS = "[,;|，；、]"
# urlunsplit(urlsplit(url)) == url: lower-case scheme and host, a path, no fragment,
# no empty query, and only printable ASCII (no '<', which the HTML check would look at).
# No port either, so that link_key_sql has none to drop.
_URL = r"^https?://[a-z0-9.-]+/[!-\"$-;=-~]*$"
_PLACEHOLDER = r"\[(?:代码|公式|Math|图片|Image)\]"
_ISO_DATETIME = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?)?$"
)
_ELLIPSIS = r"(?:\.\.\.|…)\s*$"
# Text in which markdown-it might find markup (emphasis, code, math, links, footnotes,
# tables, headings, lists, quotes, indented code): such a value takes the per-record path,
# where lib.ingest.sourcetext decides. Stricter than the parser, never looser: a value
# passing this reads as plain text there too.
_MAYBE_MARKDOWN = r"[`*_$|]|~~|\]\(|\]:|\[\^|(?m:^(?: {0,3}(?:[#>+=-]|[0-9]{1,9}[.)])| {4}|\t))"


def _line_ok(col: str, html: bool) -> str:
    no_tag = (
        f" AND strpos({col}, '<') = 0 AND NOT regexp_matches({col}, '{_MAYBE_MARKDOWN}')"
        if html
        else ""
    )
    return (
        f"({col} IS NULL OR (regexp_matches({col}, '{_LINE}')"
        f" AND NOT regexp_matches({col}, '{_SPACING}'){no_tag}))"
    )


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
        "(source_format = 'text' AND NOT title_derived AND title IS NOT NULL"
        f" AND body = body_source AND {_line_ok('title', html=False)} AND {_body_ok('body')})"
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
    if pa.types.is_null(kind):
        return "NULL::VARCHAR[]", "TRUE"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        if kind.value_type not in TEXT_TYPES:
            return "NULL::VARCHAR[]", "FALSE"
        item_ok = _line_ok("x", html=False)
        check = (
            "(tags IS NULL OR (list_bool_and(list_transform(tags, lambda x: x IS NOT NULL AND "
            f"x <> '' AND {item_ok})) IS NOT FALSE"
            " AND len(list_distinct(tags)) = len(tags)"
            f" AND len(tags) <= {MAX_TAGS_PER_POST}))"
        )
        return "CASE WHEN len(tags) > 0 THEN tags::VARCHAR[] END", check
    if kind in TEXT_TYPES:
        # split_tags on a string: cut at the separators, fold spaces, drop empty and
        # repeated pieces (the first of each kept); only for one-line safe text.
        pieces = (
            f"list_filter(list_transform(string_split_regex(tags, '{_TAG_SEPARATORS}'),"
            " lambda x: trim(regexp_replace(x, ' +', ' ', 'g'))), lambda x: x <> '')"
        )
        unique = f"list_filter({pieces}, lambda x, i: list_position({pieces}, x) = i)"
        check = (
            f"(tags IS NULL OR (regexp_matches(tags, '{_LINE}')"
            f" AND len({pieces}) <= {MAX_TAGS_PER_POST}))"
        )
        return f"CASE WHEN len({unique}) > 0 THEN {unique} END", check
    return "NULL::VARCHAR[]", "FALSE"


def fast_rows(
    table: pa.Table, mapping: dict[str, str], locators: Sequence[str]
) -> tuple[pa.Table, list[int]]:
    """The rows that need no Python cleaning, as cleaned columns, and the 0-based indexes
    of the others (for the ordinary path).

    The fast rows carry ``row`` (1-based, for file order), their ``locator`` (as the
    ordinary path would name the row: ``file row N``, ``file:line``) and the fields.
    """
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name in ("title", "excerpt", "body", "category", "url", "guid", "tags", "published"):
        column = mapping.get(name)
        columns[name] = (
            table.column(column) if column is not None else pa.nulls(table.num_rows, pa.string())
        )
    declared = mapping.get("format")  # a declared format is read on the per-record path
    columns["format"] = (
        table.column(declared) if declared is not None else pa.nulls(table.num_rows, pa.string())
    )
    kinds = {name: col.type for name, col in columns.items()}
    if any(
        kinds[name] not in TEXT_TYPES and not pa.types.is_null(kinds[name])
        for name in ("title", "excerpt", "body", "category", "url", "guid")
    ):
        return no_rows(), list(range(table.num_rows))
    published_sql, published_ok, published_params = _published(kinds["published"])
    tags_sql, tags_ok = _tags(kinds["tags"])
    rows = pa.table(
        {
            "row": pa.array(range(1, table.num_rows + 1), pa.int64()),
            "locator": pa.array(locators, pa.string()),
            **columns,
        }
    ).cast(
        pa.schema(
            [
                ("row", pa.int64()),
                ("locator", pa.string()),
                *(
                    (name, pa.string() if pa.types.is_null(kinds[name]) else kinds[name])
                    for name in columns
                ),
            ]
        )
    )
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")  # not under -q, not over the import's
        con.register("_rows", rows)
        text_cols = ", ".join(
            f"nullif({name}::VARCHAR, '') AS {name}"
            for name in ("title", "excerpt", "body", "category", "url", "guid", "format")
        )
        checks = " AND ".join(
            [
                "typed_ok",
                "title IS NOT NULL",
                "(url IS NOT NULL OR guid IS NOT NULL)",
                _line_ok("title", html=False),
                _line_ok("excerpt", html=True),
                _line_ok("category", html=False),
                _line_ok("guid", html=False),
                f"(category IS NULL OR NOT regexp_matches(category, '{_TAG_SEPARATORS}'))",
                f"(url IS NULL OR regexp_matches(url, '{_URL}'))",
                "(url IS NULL OR NOT ends_with(url, '?'))",
                f"(body IS NULL OR {_body_ok('body')})",
                "format IS NULL",
            ]
        )
        # The checks run once, into ``ok``: they read every text in full, and both the
        # fast rows and the others are picked by them.
        con.execute(
            f"""CREATE TEMP TABLE _clean AS
                SELECT *, coalesce({checks}, FALSE) AS ok FROM (
                    SELECT row, locator, {text_cols}, {tags_sql} AS tags,
                           {published_sql} AS published, {published_ok} AND {tags_ok} AS typed_ok
                    FROM _rows)""",
            published_params,
        )
        fast = con.sql(
            f"""SELECT row, locator, title, coalesce(excerpt, {_plain_excerpt("body")}) AS excerpt,
                       body, category, tags, published, url, guid,
                       CASE WHEN length(body) <= {MAX_SOURCE_CHARS} THEN body END AS body_source,
                       CASE WHEN length(body) <= {MAX_SOURCE_CHARS} THEN 'text' END
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


def _plain_excerpt(col: str) -> str:
    """``lib.text.plain_excerpt`` in SQL, for bodies the checks have passed."""
    flat = f"regexp_replace({col}, '\\s+', ' ', 'g')"
    return (
        f"CASE WHEN {col} IS NULL THEN NULL WHEN length({flat}) <= {EXCERPT_CHARS} THEN {flat}"
        f" ELSE rtrim(left({flat}, {EXCERPT_CHARS})) || '...' END"
    )


def no_rows() -> pa.Table:
    """A fast-lane table with no rows: every row takes the ordinary path."""
    return pa.table({"row": pa.array([], pa.int64()), "locator": pa.array([], pa.string())})


def stem_columns(text: str) -> list[tuple[str, str]]:
    """``identity.text_stem`` in SQL for texts that passed the checks, as named steps
    (each step may use the ones before), ending in ``stem`` and ``truncated``.

    Steps, not one expression, so that each regular expression runs once per row.
    """
    return [
        ("_text", text),
        ("_cut", f"regexp_matches(_text, '{_PLACEHOLDER}')"),
        ("_dots", f"regexp_matches(_text, '{_ELLIPSIS}')"),
        (
            "_before",
            f"CASE WHEN _cut THEN regexp_extract(_text, '(?s)^(.*?){_PLACEHOLDER}', 1)"
            " ELSE _text END",
        ),
        ("_long", f"length(_before) > {STEM_CHARS * 3}"),
        ("_bare", f"regexp_replace(left(_before, {STEM_CHARS * 3}), '{_ELLIPSIS}', '')"),
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


def link_key_sql(url: str) -> str:
    """``identity.link_key`` in SQL, for links that passed the checks (``_URL``: host in
    lower case, no port, no fragment). NULL where a percent-escape does not decode to
    UTF-8 (Python decodes it to U+FFFD): such a row takes the per-record path."""
    parts = "'^https?://([^/]*)(/[^?]*)(\\?(.*))?$'"
    host, path, query = (f"regexp_extract({url}, {parts}, {n})" for n in (1, 2, 4))
    return (
        f"{host} || rtrim(try(url_decode({path})), '/')"
        f" || CASE WHEN {query} = '' THEN '' ELSE '?' || try(url_decode({query})) END"
    )


@dataclass(frozen=True)
class FastBatch:
    """The fast rows of one file, with what a sighting records about the file."""

    source: str
    digest: str
    table: pa.Table
    file_number: int  # the file's place in the run, to put leftovers back in order


def insert_fast(
    con: duckdb.DuckDBPyConnection,
    batches: list[FastBatch],
    others: Sequence[Sighting],
    run_id: int,
    seen_at: datetime,
    on_new: Callable[[duckdb.DuckDBPyConnection, str], None] | None = None,
) -> tuple[list[str], int, list[tuple[PostRecord, str, tuple[int, int]]]]:
    """Insert the fast rows that are new posts beyond doubt, pass over those already stored
    exactly so, and hand back the rest as records.

    A row is inserted here only when nothing could merge with it: its link (as
    ``identity.link_key`` spells it), guid and title occur once in the run and nowhere in
    the store, and no other record of the run and
    no stored sighting shares its opening text (``lead``), unless all those sharing it
    are fast rows with links of their own, which never merge by text. Everything else
    goes through ``merge_run`` like any record, in file order. A row meeting its stored
    post with every field equal, from the same file, would change nothing there, so it
    is counted as unchanged and left. Returns the new post ids, the unchanged count and
    the rest, each with its digest and its (file number, row).

    ``on_new`` is called before the new posts are written, with a query for their
    (id, title, tags, excerpt, body) as they will be stored: the index starts
    segmenting them while DuckDB writes (``lib.ingest.index.Presegmented``).
    """
    if not batches:
        return [], 0, []
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fast (
               row BIGINT, locator VARCHAR, title VARCHAR, excerpt VARCHAR, body VARCHAR,
               category VARCHAR, tags VARCHAR[], published DATE, url VARCHAR, guid VARCHAR,
               body_source VARCHAR, source_format VARCHAR,
               source VARCHAR, digest VARCHAR, file_number INTEGER)"""
    )
    for batch in batches:
        con.register("_batch", batch.table)
        try:
            con.execute(
                """INSERT INTO _fast SELECT row, locator, title, excerpt, body, category, tags,
                                            published, url, guid, body_source, source_format,
                                            ?, ?, ? FROM _batch""",
                [batch.source, batch.digest, batch.file_number],
            )
        finally:
            con.unregister("_batch")
    keys = pa.table(
        {
            "link": pa.array([s.identity.link for s in others], pa.string()),
            "guid": pa.array([s.identity.guid for s in others], pa.string()),
            "title": pa.array([s.identity.particulars.title for s in others], pa.string()),
            "lead": pa.array([s.identity.lead for s in others], pa.string()),
        }
    )
    steps = stem_columns("coalesce(body, excerpt, title)")
    # One SELECT per step: DuckDB would otherwise evaluate a reused expression again. The
    # keys are kept apart from the text columns, which are copied once, into the posts.
    query = f"""SELECT file_number, row, url, {link_key_sql("url")} AS link, guid, body,
                       excerpt, title,
                       CASE WHEN url IS NOT NULL THEN 'url:' || url ELSE 'guid:' || guid END
                       AS basis
                FROM _fast"""
    for name, expression in steps:
        query = f"SELECT *, {expression} AS {name} FROM ({query})"
    con.register("_other_keys", keys)
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _fast_keyed AS
                SELECT file_number, row, url, link, guid, title, stem, truncated,
                       sha1(basis) AS fingerprint, left(sha1(basis), 16) AS post_id,
                       left(stem, {LEAD_CHARS}) AS lead
                FROM ({query})"""
        )
        # Rows nothing else in the run could merge with. Hash anti-joins against the
        # repeated keys: a window per key sorted every row.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _fast_alone AS
               SELECT * FROM _fast_keyed f
               WHERE (f.url IS NULL OR f.link NOT IN (
                         SELECT link FROM _fast_keyed WHERE link IS NOT NULL
                         GROUP BY link HAVING count(*) > 1
                         UNION ALL SELECT link FROM _other_keys WHERE link IS NOT NULL))
                 AND f.title NOT IN (
                         SELECT title FROM _fast_keyed GROUP BY title HAVING count(*) > 1
                         UNION ALL SELECT title FROM _other_keys WHERE title IS NOT NULL)
                 AND (f.guid IS NULL OR f.guid NOT IN (
                         SELECT guid FROM _fast_keyed WHERE guid IS NOT NULL
                         GROUP BY guid HAVING count(*) > 1
                         UNION ALL SELECT guid FROM _other_keys WHERE guid IS NOT NULL))
                 AND f.post_id NOT IN (
                         SELECT post_id FROM _fast_keyed GROUP BY post_id HAVING count(*) > 1)
                 AND f.lead NOT IN (
                         SELECT lead FROM _fast_keyed
                         GROUP BY lead HAVING count(*) > 1 AND NOT bool_and(url IS NOT NULL)
                         UNION ALL SELECT lead FROM _other_keys WHERE lead IS NOT NULL)"""
        )
    finally:
        con.unregister("_other_keys")
    # New posts: nothing stored shares a key either.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fast_new AS
           SELECT * FROM _fast_alone f
           WHERE (f.url IS NULL
                  OR f.link NOT IN (SELECT link FROM sightings WHERE link IS NOT NULL))
             AND f.title NOT IN (SELECT title FROM posts WHERE title IS NOT NULL
                                 AND NOT title_derived)
             AND (f.guid IS NULL
                  OR f.guid NOT IN (SELECT guid FROM sightings WHERE guid IS NOT NULL))
             AND f.post_id NOT IN (SELECT id FROM posts)
             AND f.lead NOT IN (SELECT lead FROM sightings)"""
    )
    if on_new is not None:
        on_new(
            con,
            """SELECT n.post_id AS id, f.title, f.tags, f.excerpt, f.body
               FROM _fast_new n JOIN _fast f USING (file_number, row)""",
        )
    # Seen before, word for word, in this very file (a re-import): nothing to write.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fast_same AS
           SELECT a.file_number, a.row FROM _fast_alone a
           JOIN _fast f USING (file_number, row)
           JOIN posts p ON p.url = a.url
           WHERE NOT p.title_derived
             AND (p.title, p.excerpt, p.body, p.category, p.tags, p.published,
                  p.body_source, p.source_format)
                 IS NOT DISTINCT FROM (f.title, f.excerpt, f.body, f.category, f.tags, f.published,
                                       f.body_source, f.source_format)
             AND EXISTS (SELECT 1 FROM sightings s
                         WHERE s.post_id = p.id AND s.source_digest = f.digest
                           AND s.fingerprint = a.fingerprint)
           QUALIFY count(*) OVER (PARTITION BY a.file_number, a.row) = 1"""
    )
    con.execute(
        """INSERT INTO posts (id, title, title_derived, excerpt, body, category, tags, published,
                              url, source, first_seen, last_seen, sightings, body_source,
                              source_format)
           SELECT n.post_id, f.title, FALSE, f.excerpt, f.body, f.category, f.tags, f.published,
                  f.url, f.source, ?, ?, 1, f.body_source, f.source_format
           FROM _fast f JOIN _fast_new n USING (file_number, row)""",
        [seen_at, seen_at],
    )
    con.execute(
        f"""INSERT INTO sightings ({SIGHTING_COLUMNS})
           SELECT n.post_id, ?, f.source, f.locator, f.digest, n.fingerprint,
                  n.guid, n.lead, n.stem, n.truncated, ?, n.link
           FROM _fast_new n JOIN _fast f USING (file_number, row)""",
        [run_id, seen_at],
    )
    added = [
        r[0]
        for r in con.execute("SELECT post_id FROM _fast_new ORDER BY file_number, row").fetchall()
    ]
    rest = con.execute(
        """SELECT f.source, f.locator, f.title, f.excerpt, f.body, f.category,
                  f.tags, f.published, f.url, f.guid, f.body_source, f.source_format,
                  f.digest, f.file_number, f.row
           FROM _fast f
           ANTI JOIN _fast_new n ON n.file_number = f.file_number AND n.row = f.row
           ANTI JOIN _fast_same m ON m.file_number = f.file_number AND m.row = f.row
           ORDER BY f.file_number, f.row"""
    ).fetchall()
    (same,) = con.execute("SELECT count(*) FROM _fast_same").fetchall()[0]
    for table in ("_fast", "_fast_keyed", "_fast_alone", "_fast_new", "_fast_same"):
        con.execute(f"DROP TABLE {table}")
    records = [
        (
            PostRecord(
                source=source,
                locator=locator,
                title=title,
                excerpt=excerpt,
                body=body,
                category=category,
                tags=tuple(tags or ()),
                published=published,
                url=url,
                guid=guid,
                body_source=body_source,
                source_format=source_format,
            ),
            digest,
            (file_number, row),
        )
        for (
            source, locator, title, excerpt, body, category, tags, published, url, guid,
            body_source, source_format, digest, file_number, row,
        ) in rest
    ]  # fmt: skip
    return added, int(same), records
