"""Searches resolved once per store into a bitmap of posts, then sliced by category and date.

The words (``q``) and topics filters select posts through the postings. At a million
posts a broad word matches most of them, and ``doc IN (postings…)`` over that many
docs costs 100 to 300 ms, while one page asks the same selection several questions
(figures, volume, category counts, cards, topics) and a reader mostly changes the
category or the dates while the words stay. So a search is resolved once, as search
engines keep filters, into a bitmap over the dense doc numbers (125 KB for a million
posts), and into small tables the pages slice:

- ``mask(b BIT)``: bit ``doc - 1`` is set for each post the search keeps; queries test
  it inside the scan of ``posts`` or ``post_keywords`` (:func:`clause`);
- ``days(category, published, posts)``: posts per category and day, which answers
  counts, spans and volumes for any category and date filter (also for all posts);
- for the whole store, ``keyed``: the bitmap of the posts that have keywords (the
  denominator of topic shares).

The tables live in an in-memory database attached to the store's connection, so every
session and cursor of the process shares them, they count against DuckDB's memory
limit and spill like any other data, and a new store file (a new connection) starts
afresh. Past :data:`KEEP` searches the oldest are dropped. Where nothing can be
attached, each cursor keeps its own temporary tables, which is correct but recomputed
per query.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import Literal

import duckdb

from lib.filters import Filters, where
from lib.search import Query, groups, parse_query, topic_term

SCRATCH = "selections"
KEEP = 16  # searches kept: a bitmap and day counts each (up to about 1 MB at a million
# posts), all within DuckDB's memory limit
Part = Literal["mask", "days", "keyed"]


@dataclass(frozen=True)
class Search:
    """The part of the filters that selects posts through the index, normalised, so
    that ``LoRA`` and ``lora`` or topics in another order share one resolution."""

    words: Query  # the tokens, and how they group into the words a reader wrote
    topics: tuple[str, ...]
    q: str  # as typed: what the SQL is built from

    @classmethod
    def of(cls, filters: Filters) -> Search:
        q = filters.q.strip()
        words = parse_query(q) if q else Query((), ())
        topics = tuple(sorted({topic_term(t) for t in filters.topics}))
        return cls(words, topics, q)

    @property
    def active(self) -> bool:
        return bool(self.q or self.topics)

    def word_lists(self) -> list[tuple[str, list[object]]]:
        """SQL listing ``term_id`` per query token (how the tokens make words and what a
        post must have: ``lib.search.Query``)."""
        return [(f"SELECT term_id FROM ({g.sql})", list(g.params)) for g in groups(self.q)]

    def topic_list(self) -> tuple[str, list[object]] | None:
        """SQL listing the topics' ``term_id``: a post must have one of them."""
        if not self.topics:
            return None
        marks = ", ".join("?" for _ in self.topics)
        return f"SELECT term_id FROM terms WHERE term IN ({marks})", list(self.topics)

    def name(self, part: Part) -> str:
        if not self.active:
            return f"all_{part}"
        digest = hashlib.sha1(repr((self.words, self.topics)).encode()).hexdigest()[:16]
        return f"s{digest}_{part}"


def _scratch(con: duckdb.DuckDBPyConnection) -> str:
    """The schema the tables go to: the shared in-memory database, or this cursor's temp."""
    try:
        con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCRATCH} (READ_WRITE)")
    except duckdb.Error:  # a remote engine that attaches nothing local
        return "temp"
    return SCRATCH


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    try:
        con.execute(f"SELECT 1 FROM {table} LIMIT 0")
    except duckdb.CatalogException:
        return False
    return True


def _create(
    con: duckdb.DuckDBPyConnection, schema: str, name: str, sql: str, params: list[object]
) -> str:
    if schema == "temp":
        con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} AS {sql}", params)
    else:
        con.execute(f"CREATE TABLE IF NOT EXISTS {schema}.{name} AS {sql}", params)
    return f"{schema}.{name}"


def _make(
    con: duckdb.DuckDBPyConnection, search: Search, part: Part, sql: str, params: list[object]
) -> str:
    schema = _scratch(con)
    name = search.name(part)
    if _exists(con, f"{schema}.{name}"):
        return f"{schema}.{name}"
    try:
        table = _create(con, schema, name, sql, params)
    except duckdb.TransactionException:
        # Another session is making the same table and has not finished: rather than
        # wait for it, this cursor makes its own.
        if _exists(con, f"{schema}.{name}"):
            return f"{schema}.{name}"
        return _create(con, "temp", name, sql, params)
    if schema == SCRATCH and search.active and part == "mask":
        with contextlib.suppress(duckdb.TransactionException):  # another session made it
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {SCRATCH}.made"
                " (name VARCHAR, made_at TIMESTAMP DEFAULT now())"
            )
        try:
            con.execute(f"INSERT INTO {SCRATCH}.made (name) VALUES (?)", [name])
            _forget_oldest(con)
        except duckdb.TransactionException:  # bookkeeping raced another session: next time
            pass
    return table


def _forget_oldest(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every table of the searches made before the newest ``KEEP``."""
    old = con.execute(
        f"SELECT name FROM {SCRATCH}.made ORDER BY made_at DESC OFFSET ?", [KEEP]
    ).fetchall()
    for (mask_name,) in old:
        stem = mask_name.removesuffix("_mask")
        try:
            for part in ("mask", "days"):
                con.execute(f"DROP TABLE IF EXISTS {SCRATCH}.{stem}_{part}")
            con.execute(f"DELETE FROM {SCRATCH}.made WHERE name = ?", [mask_name])
        except duckdb.TransactionException:  # another session is dropping it too
            pass


def _found(con: duckdb.DuckDBPyConnection, search: Search, part: Part) -> str | None:
    """The table of ``part`` if this search has been resolved already, else ``None``."""
    table = f"{_scratch(con)}.{search.name(part)}"
    return table if _exists(con, table) else None


def made(con: duckdb.DuckDBPyConnection, filters: Filters, part: Part) -> str | None:
    """The filters' search's table of ``part`` if it has been resolved already."""
    return _found(con, Search.of(filters), part)


def _doc_bound(con: duckdb.DuckDBPyConnection) -> int:
    """The highest doc number: the length of every bitmap over the posts."""
    return int(con.execute("SELECT coalesce(max(doc), 1) FROM posts").fetchall()[0][0])


def forget(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every resolved search, so that a benchmark times resolutions, not the cache."""
    schema = _scratch(con)
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [schema]
    ).fetchall()
    for (name,) in tables:
        con.execute(f"DROP TABLE IF EXISTS {schema}.{name}")


def _mask(con: duckdb.DuckDBPyConnection, search: Search) -> str:
    """The table holding the search's bitmap ``b``, and ``relaxed``: whether no post had
    every word, so that ``b`` keeps the posts with any (see ``lib.search``)."""
    if table := _found(con, search, "mask"):
        return table
    # One bitmap per word over the dense doc numbers (all zeros when it matches nothing),
    # ANDed, or ORed when the AND is empty; then ANDed with the topics' bitmap. The union
    # of a broad word's postings (a million rows) costs a sixth of a hash DISTINCT.
    size = _doc_bound(con)
    params: list[object] = []

    def bitmap(terms: str, terms_params: list[object]) -> str:
        # The bound keeps bitstring_agg from failing on a doc past the posts' (none should be).
        params.extend([size, *terms_params, size, size])
        return f"""coalesce((SELECT bitstring_agg(doc, 1, ?) FROM postings
                             WHERE term_id IN ({terms}) AND doc BETWEEN 1 AND ?),
                            bitstring('0', ?))"""

    tokens = [bitmap(*token) for token in search.word_lists()]
    columns = [f"{bitmap_sql} AS w{i}" for i, bitmap_sql in enumerate(tokens)]
    words = ["(" + " & ".join(f"w{i}" for i in word) + ")" for word in search.words.word_tokens()]
    every = " & ".join(words)
    b, widened = every, "FALSE"
    if len(words) > 1:
        b = f"CASE WHEN bit_count({every}) > 0 THEN {every} ELSE {' | '.join(words)} END"
        widened = f"bit_count({every}) = 0"
    if (topics := search.topic_list()) is not None:
        columns.append(f"{bitmap(*topics)} AS t")
        b = f"({b}) & t" if words else "t"
    sql = f"SELECT {b} AS b, {widened} AS relaxed FROM (SELECT {', '.join(columns)})"
    return _make(con, search, "mask", sql, params)


def known_relaxed(con: duckdb.DuckDBPyConnection, filters: Filters) -> bool | None:
    """:func:`relaxed` if the search has been resolved already, else ``None``."""
    search = Search.of(filters)
    if len(search.words.words) < 2:
        return False
    mask = _found(con, search, "mask")
    return None if mask is None else _relaxed_in(con, mask)


def relaxed(con: duckdb.DuckDBPyConnection, filters: Filters) -> bool:
    """Whether no post has every word of the filters' search, so that it keeps the posts
    with any of them."""
    search = Search.of(filters)
    return len(search.words.words) > 1 and _relaxed_in(con, _mask(con, search))


def _relaxed_in(con: duckdb.DuckDBPyConnection, mask: str) -> bool:
    (found,) = con.execute(f"SELECT relaxed FROM {mask}").fetchall()[0]
    return bool(found)


def clause(
    con: duckdb.DuckDBPyConnection, filters: Filters, alias: str = ""
) -> tuple[str, list[object]]:
    """A ``WHERE`` clause like :func:`lib.filters.where`, the search tested in its bitmap.

    The bitmap goes to DuckDB as a constant, so the bit test runs inside the scan; read
    from its table in a join, DuckDB would test it row by row in a nested loop.
    """
    search = Search.of(filters)
    if not search.active:
        return where(filters.columns_only(), alias)
    return _bit_clause(con, filters, alias, f"SELECT b::VARCHAR FROM {_mask(con, search)}")


def _bit_clause(
    con: duckdb.DuckDBPyConnection, filters: Filters, alias: str, bits_sql: str
) -> tuple[str, list[object]]:
    """The columns' clause and a test of each post's bit in the bitmap ``bits_sql`` reads."""
    columns, params = where(filters.columns_only(), alias)
    (bits,) = con.execute(bits_sql).fetchall()[0]
    col = f"{alias}." if alias else ""
    return f"{columns} AND get_bit(?::BIT, {col}doc - 1) = 1", [*params, bits]


def days(con: duckdb.DuckDBPyConnection, filters: Filters) -> str:
    """The table of posts per category and day under the filters' search (or for all posts).

    Category and date filters are not part of it: queries apply them to this table.
    """
    search = Search.of(filters)
    if table := _found(con, search, "days"):
        return table
    searched, params = clause(con, filters.search_only())
    return _make(
        con,
        search,
        "days",
        f"""SELECT category, published, count(*)::BIGINT AS posts FROM posts
            WHERE {searched} GROUP BY ALL ORDER BY published, category""",
        params,
    )


def _keyed_bits(con: duckdb.DuckDBPyConnection) -> str:
    """The table holding the bitmap of the posts that have keywords (made once per store)."""
    everything = Search(Query((), ()), (), "")
    if table := _found(con, everything, "keyed"):
        return table
    size = _doc_bound(con)
    return _make(
        con,
        everything,
        "keyed",
        # A doc repeated (once per keyword) sets its bit again: no DISTINCT, five times faster.
        "SELECT bitstring_agg(doc, 1, ?) AS b FROM post_keywords WHERE doc BETWEEN 1 AND ?",
        [size, size],
    )


def keyed_clause(
    con: duckdb.DuckDBPyConnection, filters: Filters, alias: str = ""
) -> tuple[str, list[object]]:
    """Like :func:`clause`, for the posts that also have keywords: the denominator of a
    topic's share (a post with none can lead no topic)."""
    search = Search.of(filters)
    keyed = _keyed_bits(con)
    if search.active:
        sql = f"SELECT (m.b & k.b)::VARCHAR FROM {_mask(con, search)} m, {keyed} k"
    else:
        sql = f"SELECT b::VARCHAR FROM {keyed}"
    return _bit_clause(con, filters, alias, sql)
