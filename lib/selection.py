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
from lib.search import (
    PHRASE_TEXT_LIMIT,
    Algebra,
    Check,
    Plan,
    check_condition,
    groups,
    plan,
    topic_docs_sql,
    topic_term,
    word_sets,
    word_terms,
)
from lib.topic_names import is_topic_name

SCRATCH = "selections"
KEEP = 16  # searches kept: a bitmap and day counts each (up to about 1 MB at a million
# posts), all within DuckDB's memory limit
Part = Literal["mask", "days", "keyed"]


@dataclass(frozen=True)
class Search:
    """The part of the filters that selects posts through the index, normalised, so
    that ``LoRA`` and ``lora`` or topics in another order share one resolution."""

    words: Plan  # the query read: tokens, words, checks (``lib.search.plan``)
    topics: tuple[str, ...]
    q: str  # as typed: what the SQL is built from

    @classmethod
    def of(cls, filters: Filters) -> Search:
        q = filters.q.strip()
        words = plan(q) if q else Plan()
        topics = tuple(sorted({topic_term(t) for t in filters.topics}))
        return cls(words, topics, q)

    @property
    def active(self) -> bool:
        return bool(self.q or self.topics)

    def word_lists(self) -> list[tuple[str, list[object]]]:
        """SQL listing ``term_id`` per query token (what a word matches: ``lib.search``)."""
        found = groups(self.q) if self.q else []
        return [(f"SELECT term_id FROM ({g.sql})", list(g.params)) for g in found]

    def topic_list(self) -> tuple[str, list[object]] | None:
        """SQL listing the topics' ``term_id`` (each topic a word, by the same rule as the
        words, without compounds: a topic names one term): a post must have one."""
        words = [t for t in self.topics if not is_topic_name(t)]  # names: fitted topics
        if not words:
            return None
        exact = [word_terms(t, compounds=False) for t in words]
        sql = " UNION ".join(f"SELECT term_id FROM ({g.sql})" for g in exact)
        return sql, [p for g in exact for p in g.params]

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
    """The table holding the search's bitmaps: ``b``, the posts it matches (any word, see
    ``lib.search``), and ``every``, those with every word; and their counts."""
    if table := _found(con, search, "mask"):
        return table
    return _make(con, search, "mask", *_mask_sql(con, search))


def matched(con: duckdb.DuckDBPyConnection, filters: Filters) -> int:
    """How many posts the filters' search matches (all posts when there is none): read from
    its bitmap when resolved, else counted by the same SQL without keeping a table (a
    search alone is often counted once and never sliced)."""
    search = Search.of(filters)
    if table := _found(con, search, "mask"):
        return int(con.execute(f"SELECT matched FROM {table}").fetchall()[0][0])
    sql, params = _mask_sql(con, search)
    return int(con.execute(f"SELECT matched FROM ({sql})", params).fetchall()[0][0])


def _mask_sql(con: duckdb.DuckDBPyConnection, search: Search) -> tuple[str, list[object]]:
    """The query of the search's bitmaps (see :func:`_mask`)."""
    # One bitmap per token over the dense doc numbers (all zeros when it matches nothing),
    # combined into words by the plan; the checks (phrases, fields, exclusions) as bitmaps
    # of the posts whose stored text passes, among those their tokens narrow to. The union
    # of a broad word's postings (a million rows) costs a sixth of a hash DISTINCT.
    size = _doc_bound(con)
    p = search.words
    params: list[object] = []

    def bitmap(terms: str, terms_params: list[object]) -> str:
        # The bound keeps bitstring_agg from failing on a doc past the posts' (none should be).
        # NULL when nothing matches: made of ``nothing`` where used, since each bitmap of
        # zeros costs 2 ms at a million posts.
        params.extend([size, *terms_params, size])
        return f"""(SELECT bitstring_agg(doc, 1, ?) FROM postings
                    WHERE term_id IN ({terms}) AND doc BETWEEN 1 AND ?)"""

    columns = [f"{bitmap(*token)} AS w{i}" for i, token in enumerate(search.word_lists())]
    topics = search.topic_list()
    topic_bits = []
    if topics is not None:
        columns.append(f"{bitmap(*topics)} AS t")
        topic_bits.append("t")
    if named := tuple(t for t in search.topics if is_topic_name(t)):  # fitted topics
        docs, docs_params = topic_docs_sql(named)
        params.extend([size, *docs_params, size])
        columns.append(
            f"""(SELECT bitstring_agg(doc, 1, ?) FROM ({docs}) WHERE doc BETWEEN 1 AND ?) AS n"""
        )
        topic_bits.append("n")
    nothing = "nothing"
    columns.append(f"bitstring('0', {int(size)}) AS nothing")
    topic_bits = [f"coalesce({t}, nothing)" for t in topic_bits]
    algebra = Algebra("&", "|")
    token = [f"coalesce(w{i}, nothing)" for i in range(len(p.tokens))]
    words = word_sets(p, token, algebra)
    ctes = [f"bits AS (SELECT {', '.join(columns)})"]
    tables = ["bits"]

    def check_bits(index: int, check: Check) -> str:
        narrow = algebra.all_of([token[i] for i in check.tokens]) if check.tokens else ""
        if check.kind == "words":
            return narrow or nothing
        # Resolved here, with the narrowing bitmap bound as a constant: the bit test then
        # runs inside the scan, and the text is read only for the posts it keeps.
        ctes.append(f"c{index} AS (SELECT ?::BIT AS c{index})")
        params.append(_checked(con, search, check, size))
        tables.append(f"c{index}")
        return f"c{index}"

    restrict = [check_bits(i, c) for i, c in enumerate(p.required)]
    restrict += [f"~{check_bits(len(p.required) + i, c)}" for i, c in enumerate(p.excluded)]
    if topic_bits:
        restrict.append(algebra.any_of(topic_bits))
    some = algebra.any_of(words) if words else "~nothing"
    every = algebra.all_of(words) if words else some
    if restrict:
        some, every = algebra.all_of([some, *restrict]), algebra.all_of([every, *restrict])
    if p.error:
        some = every = nothing
    sql = f"""WITH {", ".join(ctes)}
              SELECT b, every, bit_count(b) AS matched, bit_count(every) AS with_every
              FROM (SELECT {some} AS b, {every} AS every FROM {", ".join(tables)})"""
    return sql, params


def _narrowed(
    con: duckdb.DuckDBPyConnection, search: Search, check: Check, size: int
) -> tuple[str, int]:
    """The bitmap (as text) and count of the posts with every token of ``check``."""
    lists = search.word_lists()
    parts = [
        f"""coalesce((SELECT bitstring_agg(doc, 1, ?) FROM postings
                      WHERE term_id IN ({lists[i][0]}) AND doc BETWEEN 1 AND ?),
                     bitstring('0', ?))"""
        for i in check.tokens
    ]
    bits_params = [v for i in check.tokens for v in (size, *lists[i][1], size, size)]
    bits, count = con.execute(
        f"SELECT narrow::VARCHAR, bit_count(narrow) FROM (SELECT {' & '.join(parts)} AS narrow)",
        bits_params,
    ).fetchall()[0]
    return str(bits), int(count)


def _checked(con: duckdb.DuckDBPyConnection, search: Search, check: Check, size: int) -> str:
    """The bitmap (as text) of the posts that pass ``check``: among those with all its
    tokens, those whose stored text or category says it."""
    cond, cond_params = check_condition(check)
    near, near_params = "", []
    if check.tokens:
        bits, count = _narrowed(con, search, check, size)
        if check.kind == "phrase" and count > PHRASE_TEXT_LIMIT:
            return bits  # matched as its words, which the page says (unchecked_phrases)
        near, near_params = "AND get_bit(?::BIT, doc - 1) = 1", [bits]
    (found,) = con.execute(
        f"""SELECT coalesce(bitstring_agg(doc, 1, ?), bitstring('0', ?))::VARCHAR
            FROM posts WHERE doc BETWEEN 1 AND ? {near} AND {cond}""",
        [size, size, size, *near_params, *cond_params],
    ).fetchall()[0]
    return str(found)


def unchecked_phrases(con: duckdb.DuckDBPyConnection, filters: Filters) -> tuple[str, ...]:
    """The search's phrases whose words are together in too many posts for their text to
    be read (see ``PHRASE_TEXT_LIMIT``): matched as their words."""
    search = Search.of(filters)
    size = _doc_bound(con)
    return tuple(
        check.text
        for check in search.words.required
        if check.kind == "phrase"
        and check.tokens
        and _narrowed(con, search, check, size)[1] > PHRASE_TEXT_LIMIT
    )


def mask(con: duckdb.DuckDBPyConnection, filters: Filters) -> str:
    """The table of the filters' search bitmaps (``b``, ``every``, ``matched``,
    ``with_every``), resolved now if need be."""
    return _mask(con, Search.of(filters))


def every_count(con: duckdb.DuckDBPyConnection, filters: Filters) -> int:
    """How many of the posts the filters keep have every word of the search."""
    search = Search.of(filters)
    mask = _mask(con, search)
    if filters.columns_only() == Filters():
        return int(con.execute(f"SELECT with_every FROM {mask}").fetchall()[0][0])
    clause, params = _bit_clause(con, filters, "", f"SELECT every::VARCHAR FROM {mask}")
    return int(con.execute(f"SELECT count(*) FROM posts WHERE {clause}", params).fetchall()[0][0])


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
    everything = Search(Plan(), (), "")
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
