"""The SQL of a search's bitmaps over the dense doc numbers, which ``lib.selection``
keeps as the search's ``mask``: one bitmap per query token (its postings), combined into
words by the plan (``lib.search_plan``) and into the search by ``lib.search.soft_and``;
each check (a phrase, a field, an exclusion) a bitmap of the posts whose stored text
passes, among those its tokens narrow to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from lib import scratch_tables
from lib.filters import Filters
from lib.search import (
    Algebra,
    Check,
    Plan,
    check_condition,
    plan,
    query_terms,
    soft_and,
    topic_docs_sql,
    topic_term,
    word_sets,
    word_terms,
)
from lib.topic_names import is_topic_name

# The tables about every post, kept as long as the store (``lib.selection``).
STORE_WIDE_PARTS = ("with_keywords", "slots")


@dataclass(frozen=True)
class Search:
    """The part of the filters that selects posts through the index, normalised, so
    that ``LoRA`` and ``lora`` or topics in another order share one resolution."""

    query: Plan  # the query read: tokens, words, checks (``lib.search.plan``)
    topics: tuple[str, ...]
    q: str  # as typed: what the SQL is built from

    @classmethod
    def of(cls, filters: Filters) -> Search:
        q = filters.q.strip()
        topics = tuple(sorted({topic_term(t) for t in filters.topics}))
        return cls(plan(q) if q else Plan(), topics, q)

    @property
    def active(self) -> bool:
        return bool(self.q or self.topics)

    def word_lists(self) -> list[tuple[str, list[object]]]:
        """SQL listing ``term_id`` per query token (what a word matches: ``lib.search``)."""
        found = query_terms(self.q) if self.q else []
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

    def key(self, part: str) -> str:
        """The name its table of ``part`` is kept under (``lib.scratch_tables``)."""
        if not self.active or part in STORE_WIDE_PARTS:  # about every post, not the search
            return scratch_tables.STORE_WIDE
        return "s" + hashlib.sha1(repr((self.query, self.topics)).encode()).hexdigest()[:16]


def no_posts(size: str) -> str:
    """SQL of the bitmap of no post, ``size`` (SQL: ``?`` or a number) bits long: one bit
    set, then cleared. ``bitstring('0', size)`` is the same bitmap, but DuckDB spends a few
    milliseconds on it at a million posts, in every query that holds it."""
    return f"(SELECT set_bit(bitstring_agg(1, 1, {size}), 0, 0))"


def doc_bound(con: duckdb.DuckDBPyConnection) -> int:
    """The highest doc number: the length of every bitmap over the posts."""
    return int(con.execute("SELECT coalesce(max(doc), 1) FROM posts").fetchall()[0][0])


class MaskQuery:
    """The query of a search's ``mask`` row: one bitmap per token over the dense doc
    numbers, combined into words by the plan and into the search by :func:`soft_and`;
    the checks (phrases, fields, exclusions) as bitmaps of the posts whose stored text
    passes, among those their tokens narrow to."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, search: Search, phrase_text_limit: int, size: int
    ) -> None:
        self.con, self.search = con, search
        self.phrase_text_limit = phrase_text_limit  # past it, a phrase is matched as its words
        self.size = size  # the highest doc number (:func:`doc_bound`), read once per search
        self.params: list[object] = []
        self.ctes: list[str] = []
        self.tables = ["bits"]
        self.unchecked: list[str] = []
        self.algebra = Algebra("&", "|", "~nothing")

    def bitmap(self, source: str, source_params: list[object]) -> str:
        """The bitmap of the docs of ``source`` (a ``FROM`` clause with a ``doc`` column),
        NULL when it has none: made of ``nothing`` where used, since each bitmap of zeros
        costs time at a million posts. The bound keeps ``bitstring_agg`` from failing on a
        doc past the posts' (none should be)."""
        self.params.extend([self.size, *source_params, self.size])
        return f"(SELECT bitstring_agg(doc, 1, ?) FROM {source} AND doc BETWEEN 1 AND ?)"

    def term_bitmap(self, terms: str, terms_params: list[object]) -> str:
        """The bitmap of the posts with any of ``terms`` (a query of ``term_id``)."""
        return self.bitmap(f"postings WHERE term_id IN ({terms})", terms_params)

    def columns(self) -> tuple[list[str], list[str]]:
        """The ``bits`` columns (a bitmap per token and per kind of topic), and the topics'."""
        columns = [
            f"{self.term_bitmap(*terms)} AS w{i}"
            for i, terms in enumerate(self.search.word_lists())
        ]
        topic_bits = []
        if (topics := self.search.topic_list()) is not None:
            columns.append(f"{self.term_bitmap(*topics)} AS t")
            topic_bits.append("coalesce(t, nothing)")
        if named := tuple(t for t in self.search.topics if is_topic_name(t)):  # fitted topics
            docs, docs_params = topic_docs_sql(named)
            columns.append(f"{self.bitmap(f'({docs}) WHERE TRUE', docs_params)} AS n")
            topic_bits.append("coalesce(n, nothing)")
        columns.append(f"{no_posts(str(int(self.size)))} AS nothing")
        return columns, topic_bits

    def check_bits(self, index: int, check: Check, token: list[str], required: bool) -> str:
        narrow = self.algebra.all_of([token[i] for i in check.tokens]) if check.tokens else ""
        if check.kind == "words":
            return narrow or "nothing"
        # Resolved here, with the narrowing bitmap bound as a constant: the bit test then
        # runs inside the scan, and the text is read only for the posts it keeps.
        bits, read = _checked(self.con, self.search, check, self.size, self.phrase_text_limit)
        if required and not read:
            self.unchecked.append(check.text)
        self.ctes.append(f"c{index} AS (SELECT ?::BIT AS c{index})")
        self.params.append(bits)
        self.tables.append(f"c{index}")
        return f"c{index}"

    def sql(self) -> tuple[str, list[object]]:
        p = self.search.query
        columns, topic_bits = self.columns()
        self.ctes.append(f"bits AS (SELECT {', '.join(columns)})")
        token = [f"coalesce(w{i}, nothing)" for i in range(len(p.tokens))]
        restrict = [self.check_bits(i, c, token, True) for i, c in enumerate(p.required)]
        restrict += [
            f"~{self.check_bits(len(p.required) + i, c, token, False)}"
            for i, c in enumerate(p.excluded)
        ]
        if topic_bits:
            restrict.append(self.algebra.any_of(topic_bits))
        some, every = soft_and(word_sets(p, token, self.algebra), self.algebra)
        if restrict:
            some = self.algebra.all_of([some, *restrict])
            every = self.algebra.all_of([every, *restrict])
        if p.error:
            some = every = "nothing"
        self.params.append(self.unchecked)
        sql = f"""WITH {", ".join(self.ctes)}
                  SELECT b, every, bit_count(b) AS matched, bit_count(every) AS with_every,
                         unchecked
                  FROM (SELECT {some} AS b, {every} AS every, ?::VARCHAR[] AS unchecked
                        FROM {", ".join(self.tables)})"""
        return sql, self.params


def _narrowed(
    con: duckdb.DuckDBPyConnection, search: Search, check: Check, size: int
) -> tuple[str, int]:
    """The bitmap (as text) and count of the posts with every token of ``check``."""
    lists = search.word_lists()
    parts = [
        f"""coalesce((SELECT bitstring_agg(doc, 1, ?) FROM postings
                      WHERE term_id IN ({lists[i][0]}) AND doc BETWEEN 1 AND ?),
                     {no_posts("?")})"""
        for i in check.tokens
    ]
    bits_params = [v for i in check.tokens for v in (size, *lists[i][1], size, size)]
    bits, count = con.execute(
        f"SELECT narrow::VARCHAR, bit_count(narrow) FROM (SELECT {' & '.join(parts)} AS narrow)",
        bits_params,
    ).fetchall()[0]
    return str(bits), int(count)


def _checked(
    con: duckdb.DuckDBPyConnection, search: Search, check: Check, size: int, limit: int
) -> tuple[str, bool]:
    """The bitmap (as text) of the posts that pass ``check``: among those with all its
    tokens, those whose stored text or category says it; and whether the text was read
    (a phrase whose words are together in over ``limit`` posts is not)."""
    cond, cond_params = check_condition(check)
    near, near_params = "", []
    if check.tokens:
        bits, count = _narrowed(con, search, check, size)
        if check.kind == "phrase" and count > limit:
            return bits, False
        near, near_params = "AND get_bit(?::BIT, doc - 1) = 1", [bits]
    (found,) = con.execute(
        f"""SELECT coalesce(bitstring_agg(doc, 1, ?), {no_posts("?")})::VARCHAR
            FROM posts WHERE doc BETWEEN 1 AND ? {near} AND {cond}""",
        [size, size, size, *near_params, *cond_params],
    ).fetchall()[0]
    return str(found), True
