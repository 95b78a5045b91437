"""The posts a filter set selects, resolved once into one object every query reads.

``resolve(con, filters)`` returns a :class:`ResolvedSearch`; ``lib.queries``,
``lib.topics`` and ``lib.topic_queries`` ask it for their ``WHERE`` clauses, day
counts and counts, and never rebuild the search themselves.

**How a search changes the Overview's count.** The Overview's "Posts" is
``queries.figures``: the sum of ``posts`` in :attr:`ResolvedSearch.day_counts_table`
under the category and date filters (:meth:`ResolvedSearch.columns_where`). That table
counts, per category and day, the posts whose bit is set in the search's bitmap; without
words or topics, every post. The bitmap (``lib.search_bitmaps``) keeps, by the one rule
``lib.search.soft_and``, a post with *any* word of the query (what a word matches:
``lib.search.word_terms``; the words, their alternatives and checks:
``lib.search_plan.plan``) that passes every phrase, field and topic and no exclusion.
Posts with *every* word are counted apart (:attr:`ResolvedSearch.every_word_count`):
when fewer than all (:attr:`ResolvedSearch.any_word_fallback`), the page says how many,
and the ranking (``lib.search.scores_sql``) lists them first. Browse's total is
:attr:`ResolvedSearch.count`: the same sum, or, for words alone, the bitmap's own count.

**Why resolved once.** At a million posts a broad word matches most of them, and
``doc IN (postings…)`` over that many docs is slow, while one page asks the same
selection several questions and a reader mostly changes the category or the dates
while the words stay. So the search becomes a bitmap over the dense doc numbers
(a bit per post) and small tables the queries slice, kept in ``lib.scratch_tables``
(shared by every session, the newest few kept, dropped ones made again on use):

- ``mask``: ``b``, bit ``doc - 1`` set for each post the search keeps; ``every``, those
  with every word; their counts; the phrases matched as their words (too common to read);
- ``days``: posts per category and day under the search (also for all posts);
- for the whole store, ``with_keywords``: the posts that have keywords (the denominator
  of topic shares); ``slots``, each post's (``doc``, ``slot``), where a slot is a row of
  the day counts of every post, numbered by category, then day: a search's day counts
  group the posts it keeps by that one small number, and a category and date filter is
  a run of slots per category.

A bitmap goes to DuckDB as a bound constant, so the bit test runs inside the scan; read
from its table in a join, DuckDB would test it row by row in a nested loop.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal

import duckdb

from lib import scratch_tables
from lib.filters import Filters, where
from lib.search import PHRASE_TEXT_LIMIT
from lib.search_bitmaps import MaskQuery, Search, doc_bound, no_posts
from lib.segment import default_segmenter

Part = Literal["mask", "days", "with_keywords", "slots"]


def resolve(con: duckdb.DuckDBPyConnection, filters: Filters) -> ResolvedSearch:
    """The posts ``filters`` select, read through ``con``: nothing is computed until asked."""
    return ResolvedSearch(filters, _SearchTables(con, Search.of(filters)))


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Make what a first search needs before a reader asks: the segmenter, whose
    dictionary takes about 0.2 s to load, and the store-wide slots (50 ms at a million
    posts). A first search after the app started took 0.36 s where others take 0.1 s."""
    default_segmenter()
    _SearchTables(con, Search.of(Filters())).table("slots")


def forget(con: duckdb.DuckDBPyConnection, store_wide: bool = True) -> None:
    """Drop every resolved search, so that a benchmark times resolutions, not the cache;
    without ``store_wide``, keep the tables about every post, made once per store."""
    scratch_tables.drop_all(con, store_wide)


_MASK_COUNTS = ("matched", "with_every", "unchecked")  # the mask's columns but its bitmaps
# Posts lacking a word past which a ranking keeps only those with every word: below it,
# scoring them costs less than reading the bitmap and testing it (about 3 ms at a million
# posts; bench/README.md, session 10).
RANK_EVERY_WORD_PAST = 50_000


def _bit_test(alias: str) -> str:
    col = f"{alias}." if alias else ""
    return f"get_bit(?::BIT, {col}doc - 1) = 1"


class _SearchTables:
    """One search's tables and the values read from them, for one cursor: made when first
    asked for, and made again when another session dropped them meanwhile."""

    def __init__(self, con: duckdb.DuckDBPyConnection, search: Search) -> None:
        self.con = con
        self.search = search
        self.scratch = scratch_tables.of(con)
        self._asked: set[Part] = set()  # the parts the queries read: remade if dropped
        self._values: dict[str, Any] = {}  # columns read from the mask

    @cached_property
    def size(self) -> int:
        """The highest doc number, the length of every bitmap: read once per search."""
        return doc_bound(self.con)

    def table(self, part: Part) -> str:
        self._asked.add(part)
        key = self.search.key(part)
        if found := self.scratch.existing(key, part):
            return found
        sql, params = self.sql(part)
        return self.scratch.make(key, part, sql, params)

    def sql(self, part: Part) -> tuple[str, list[object]]:
        """The query of a table (see the module's docstring)."""
        if part == "mask":
            return MaskQuery(self.con, self.search, PHRASE_TEXT_LIMIT, self.size).sql()
        if part == "days":
            if not self.search.active:  # numbered: each row is a slot (see ``slots``)
                return (
                    """SELECT (row_number() OVER (ORDER BY category, published))::INTEGER AS slot,
                              category, published, count(*)::BIGINT AS posts
                       FROM posts GROUP BY category, published ORDER BY published, category""",
                    [],
                )
            # Grouped by slot, one small number, rather than by category and day.
            return (
                f"""SELECT k.category, k.published, s.posts
                    FROM (SELECT slot, count(*)::BIGINT AS posts FROM {self.table("slots")}
                          WHERE {_bit_test("")} GROUP BY slot) s
                    JOIN {self.store_days()} k USING (slot)
                    ORDER BY k.published, k.category""",
                [self.mask_value("b")],
            )
        if part == "slots":
            # In slot order: a category and date filter's runs of slots are then runs of
            # rows, and its bitmap reads only their row groups.
            return (
                f"""SELECT p.doc, k.slot FROM posts p JOIN {self.store_days()} k
                      ON p.category IS NOT DISTINCT FROM k.category
                     AND p.published IS NOT DISTINCT FROM k.published
                    WHERE p.doc IS NOT NULL ORDER BY k.slot, p.doc""",
                [],
            )
        size = self.size
        # A doc repeated (once per keyword) just sets its bit again: no DISTINCT needed.
        return (
            "SELECT bitstring_agg(doc, 1, ?) AS b FROM post_keywords WHERE doc BETWEEN 1 AND ?",
            [size, size],
        )

    def store_days(self) -> str:
        """The day counts of every post, whose rows are numbered: the slots."""
        if not self.search.active:
            return self.table("days")
        return _SearchTables(self.con, Search.of(Filters())).table("days")

    def mask_value(self, column: str) -> Any:
        """A column of the search's mask (a bitmap read as text, to bind as a constant);
        its counts are read together, in one statement."""
        if column not in self._values:
            if column in ("b", "every"):
                sql = f"SELECT {column}::VARCHAR FROM {self.table('mask')}"
                self._values[column] = self.execute(sql, []).fetchall()[0][0]
            else:
                sql = f"SELECT {', '.join(_MASK_COUNTS)} FROM {self.table('mask')}"
                row = self.execute(sql, []).fetchall()[0]
                self._values.update(zip(_MASK_COUNTS, row, strict=True))
        return self._values[column]

    def columns_bitmap(self, clause: str, params: list[object]) -> tuple[str, list[object]]:
        """A scalar subquery of the bitmap of the posts whose category and date pass
        ``clause`` (``lib.filters.where``): the slots that pass, then their posts.

        Slots are numbered by category, then day: the slots a category and date filter
        keeps are one run per category, and a test of a few runs is quicker than DuckDB's
        semi-join of a million posts with the slots. Made inside the query that tests it,
        it costs no trip of the bitmap through Python."""
        runs = self.execute(
            f"""SELECT min(slot), max(slot) FROM {self.store_days()} WHERE {clause}
                GROUP BY category ORDER BY 1""",
            params,
        ).fetchall()
        size = self.size
        kept = " OR ".join("s.slot BETWEEN ? AND ?" for _ in runs) or "FALSE"
        sql = f"""(SELECT coalesce(bitstring_agg(s.doc, 1, ?), {no_posts("?")})
                   FROM {self.table("slots")} s WHERE ({kept}) AND s.doc BETWEEN 1 AND ?)"""
        return sql, [size, size, *(int(v) for run in runs for v in run), size]

    def bits_with_keywords(self) -> str:
        """The bitmap of the posts the search keeps that have keywords."""
        keyed = self.table("with_keywords")
        if not self.search.active:
            return str(self.execute(f"SELECT b::VARCHAR FROM {keyed}", []).fetchall()[0][0])
        sql = f"SELECT (m.b & k.b)::VARCHAR FROM {self.table('mask')} m, {keyed} k"
        return str(self.execute(sql, []).fetchall()[0][0])

    def execute(self, sql: str, params: list[object]) -> duckdb.DuckDBPyConnection:
        try:
            return self.con.execute(sql, params)
        except duckdb.CatalogException:
            # Another session dropped a table between finding it and reading it (the
            # newest few are kept): made again, under the same name, the query holds.
            if not self._asked:
                raise
            self.scratch.lost()
            for part in sorted(self._asked):
                self.table(part)
            return self.con.execute(sql, params)


@dataclass(frozen=True)
class ResolvedSearch:
    """The posts ``filters`` select: their ``WHERE`` clauses, day counts and counts.

    Queries take it from :func:`resolve`; :meth:`sliced` gives the same search under
    other category and date filters without resolving it again. Its counts are read once.
    """

    filters: Filters
    tables: _SearchTables

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.tables.con

    @property
    def searches(self) -> bool:
        """Whether words or topics narrow the posts (else only categories and dates)."""
        return self.tables.search.active

    @property
    def search_box_only(self) -> bool:
        """Whether the search box is the only filter (no category, date or topic): then
        the search's own bitmap answers counts and rankings without the posts' columns."""
        return self.filters == Filters(q=self.filters.q)

    def sliced(self, columns: Filters) -> ResolvedSearch:
        """The same search under the category and date filters of ``columns``."""
        return replace(self, filters=replace(columns, q=self.filters.q, topics=self.filters.topics))

    def execute(self, sql: str, params: list[object]) -> duckdb.DuckDBPyConnection:
        """``con.execute`` for SQL that reads this search's tables: a table another session
        dropped meanwhile is made again."""
        return self.tables.execute(sql, params)

    @property
    def day_counts_table(self) -> str:
        """The table ``(category, published, posts)``: posts per category and day under the
        search, which :meth:`columns_where` slices (read it with :meth:`execute`)."""
        return self.tables.table("days")

    def columns_where(self, alias: str = "") -> tuple[str, list[object]]:
        """The category and date filters alone (``lib.filters.where``)."""
        return where(self.filters, alias)

    def where(self, alias: str = "") -> tuple[str, list[object]]:
        """Every filter: the category and dates, and the search tested in its bitmap."""
        if not self.searches:
            return self.columns_where(alias)
        return self._with_bits(alias, self.tables.mask_value("b"))

    def where_with_keywords(self, alias: str = "") -> tuple[str, list[object]]:
        """Like :meth:`where`, for the posts that also have keywords: the denominator of a
        topic's share (a post with none can lead no topic)."""
        return self._with_bits(alias, self.tables.bits_with_keywords())

    def _with_bits(self, alias: str, bits: str) -> tuple[str, list[object]]:
        columns, params = self.columns_where(alias)
        return f"{columns} AND {_bit_test(alias)}", [*params, bits]

    @cached_property
    def count(self) -> int:
        """How many posts every filter keeps."""
        if self.filters.q.strip() and self.search_box_only:
            # Words alone: the bitmap's own count; a search of one word counted once and
            # never sliced keeps no table (of several, its page asks how many have every
            # word, and its ranking may keep only those: see ``ranking_doc_filter``).
            several = len(self.tables.search.query.words) > 1
            if several or self.tables.scratch.existing(self.tables.search.key("mask"), "mask"):
                return int(self.tables.mask_value("matched"))
            sql, params = self.tables.sql("mask")
            return int(self.con.execute(f"SELECT matched FROM ({sql})", params).fetchall()[0][0])
        clause, params = self.columns_where()
        sql = f"SELECT coalesce(sum(posts), 0) FROM {self.day_counts_table} WHERE {clause}"
        return int(self.execute(sql, params).fetchall()[0][0])

    @cached_property
    def every_word_count(self) -> int:
        """How many of the posts every filter keeps have every word of the search."""
        if self.filters.columns_only() == Filters():
            return int(self.tables.mask_value("with_every"))
        clause, params = self._with_bits("", self.tables.mask_value("every"))
        return int(
            self.con.execute(f"SELECT count(*) FROM posts WHERE {clause}", params).fetchall()[0][0]
        )

    @cached_property
    def any_word_fallback(self) -> bool:
        """Whether some posts kept lack a word: a search of several words, where not every
        post has them all (the page says so, and lists those with every word first)."""
        if len(self.tables.search.query.words) < 2:
            return False
        return self.every_word_count < self.count

    @cached_property
    def unchecked_phrases(self) -> tuple[str, ...]:
        """The search's phrases whose words are together in too many posts for their text
        to be read (``PHRASE_TEXT_LIMIT``): matched as their words, as the page says."""
        if not any(c.kind == "phrase" for c in self.tables.search.query.required):
            return ()
        return tuple(self.tables.mask_value("unchecked"))

    def ranking_doc_filter(self, alias: str, top: int | None = None) -> tuple[str, list[object]]:
        """Like :meth:`ranking_where`, as a test of ``<alias>.doc`` alone, in bitmaps (the
        search's, and the category and date filters') rather than a join with the posts:
        DuckDB's semi-join of the postings with a million posts' filter took most of a
        filtered search.

        With ``top`` (the ranking need only list its best ``top``): when many posts lack a
        word but at least ``top`` have every word (:meth:`_every_word_posts_fill`), only
        those are ranked, since they rank before every post that lacks one
        (``lib.search.scores_sql``); a search of several broad words otherwise scores most
        of the posts."""
        p = self.tables.search.query
        # Plain words: the ranking keeps the posts with any word itself, as the mask does.
        words_alone = p.plain and not self.filters.topics
        clause, params = self.columns_where()
        tests, values = [], []
        if top is not None and self._every_word_posts_fill(top):
            tests.append(_bit_test(alias))
            values.append(self.tables.mask_value("every"))
        elif not words_alone:
            tests.append(_bit_test(alias))
            values.append(self.tables.mask_value("b"))
        if clause != "TRUE":
            bitmap, bitmap_params = self.tables.columns_bitmap(clause, params)
            tests.append(f"get_bit({bitmap}, {alias}.doc - 1) = 1")
            values += bitmap_params
        if not tests:
            return "TRUE", []
        # A doc past the bitmap (none should be) fails the test rather than the query.
        size = self.tables.size
        both = " AND ".join(tests)
        return f"CASE WHEN {alias}.doc BETWEEN 1 AND {size} THEN {both} END", values

    def _every_word_posts_fill(self, top: int) -> bool:
        """Whether many posts lack a word (:data:`RANK_EVERY_WORD_PAST`) but ``top`` or
        more have every word, when the search's bitmap alone says so (words without other
        filters: with them, counting would cost a scan of the posts or the day counts)."""
        if not self.search_box_only or len(self.tables.search.query.words) < 2:
            return False
        every = self.every_word_count
        return every >= top and self.count - every > RANK_EVERY_WORD_PAST

    def ranking_where(self) -> tuple[str, list[object]]:
        """The clause a ranking of the search (``lib.search.scores_sql``) filters by: none
        for plain words alone, since the ranking keeps the posts with any word itself, by
        ``lib.search.soft_and``; else :meth:`where`."""
        p = self.tables.search.query
        if self.search_box_only and p.plain and not p.error:
            return "TRUE", []
        return self.where()
