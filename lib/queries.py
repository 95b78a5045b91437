"""Every question the pages ask of the store, answered in DuckDB.

Functions take a cursor and :class:`~lib.filters.Filters` and return small,
already-aggregated results: nothing here loads the table to filter it in Python,
and card queries fetch only the rows shown. What the filters select, and every clause
over it, is the resolved search's (``lib.selection.resolve``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from lib import selection
from lib.dates import as_date
from lib.filters import Filters
from lib.ingest.records import kept_source_sql
from lib.periods import INTERVALS, auto_interval, partial_reason, readable_interval
from lib.search import Alternative, TokenTerms, Word, plan, query_terms, scores_sql
from lib.selection import ResolvedSearch

CARD_COLUMNS = "id, title, title_derived, category, published, excerpt, tags, url"
# Ties on the date are broken by ``doc``, so that pages never overlap or skip a post.
SORTS = {
    "newest": "published DESC NULLS LAST, doc",
    "oldest": "published ASC NULLS LAST, doc",
}
RELEVANCE = "relevance"  # only with a search; the order is the BM25 score
SIMILAR_BY = 10  # keywords of a post that find its neighbours
TOP_CATEGORIES = 12  # categories the volume chart draws apart; the rest are one stack
OTHER_CATEGORIES = "Other categories"
EXPORT_COLUMNS = (
    "id, title, title_derived, excerpt, body, category, tags, published, url, source,"
    " first_seen, last_seen, sightings"
)


@dataclass(frozen=True)
class Figures:
    posts: int
    categories: int
    first: date | None
    last: date | None
    without_category: int
    without_date: int


def figures(con: duckdb.DuckDBPyConnection, filters: Filters) -> Figures:
    found = selection.resolve(con, filters)
    clause, params = found.columns_where()
    row = found.execute(
        f"""SELECT coalesce(sum(posts), 0), count(DISTINCT category), min(published),
                   max(published), coalesce(sum(posts) FILTER (WHERE category IS NULL), 0),
                   coalesce(sum(posts) FILTER (WHERE published IS NULL), 0)
            FROM {found.day_counts_table} WHERE {clause}""",
        params,
    ).fetchall()[0]
    first, last = as_date(row[2]), as_date(row[3])
    return Figures(*(int(v) for v in row[:2]), first, last, *(int(v) for v in row[4:]))


def count(con: duckdb.DuckDBPyConnection, filters: Filters) -> int:
    return selection.resolve(con, filters).count


@dataclass(frozen=True)
class SearchNote:
    """What a search did that a reader should be told: the stop words it left out, why
    it could not be read, and how many of its posts have every word (``None`` for a
    one-word search, where that is all of them), and whether fewer than all do."""

    ignored: tuple[str, ...]
    error: str | None
    every: int | None
    unchecked: tuple[str, ...] = ()  # phrases too common to check: matched as their words
    any_word_fallback: bool = False  # some posts shown lack a word
    only_words: bool = True  # no phrase, field or exclusion: "no post has this word" is true


def search_note(con: duckdb.DuckDBPyConnection, filters: Filters) -> SearchNote:
    """The :class:`SearchNote` of the filters' search."""
    p = plan(filters.q.strip())
    if p.error:
        return SearchNote(p.ignored, p.error, None)
    found = selection.resolve(con, filters)
    every = found.every_word_count if len(p.words) > 1 else None
    return SearchNote(
        p.ignored, None, every, found.unchecked_phrases, found.any_word_fallback, p.plain
    )


def category_counts(
    con: duckdb.DuckDBPyConnection, filters: Filters
) -> list[tuple[str | None, int]]:
    """Every category with its count under the *other* filters, largest first.

    Categories with no match are kept (count 0) so that a selected category never
    vanishes from the panel when another filter excludes all of its posts.
    """
    every = selection.resolve(con, Filters()).day_counts_table
    found = selection.resolve(con, filters.without_categories())
    clause, params = found.columns_where()
    return [
        (cat, int(n))
        for cat, n in found.execute(
            f"""SELECT a.category, coalesce(c.n, 0) AS n
                FROM (SELECT DISTINCT category FROM {every}) a
                LEFT JOIN (SELECT category, sum(posts) AS n FROM {found.day_counts_table}
                           WHERE {clause} GROUP BY category) c
                  ON a.category IS NOT DISTINCT FROM c.category
                ORDER BY n DESC, a.category NULLS LAST""",
            params,
        ).fetchall()
    ]


def tag_counts(
    con: duckdb.DuckDBPyConnection, filters: Filters, limit: int = 15
) -> list[tuple[str, int]]:
    """The ``limit`` tags most used by the filtered posts, with their counts: what a blog
    without categories is sorted by (Lil'Log, the Hugging Face blog)."""
    found = selection.resolve(con, filters)
    clause, params = found.where()
    rows = found.execute(
        f"""SELECT tag, count(*) AS n FROM (SELECT unnest(tags) AS tag FROM posts WHERE {clause})
            GROUP BY tag ORDER BY n DESC, tag LIMIT ?""",
        [*params, int(limit)],
    ).fetchall()
    return [(str(tag), int(n)) for tag, n in rows]


def volume(
    con: duckdb.DuckDBPyConnection, filters: Filters, interval: str | None = None
) -> tuple[pd.DataFrame, str]:
    """Posts per period and category; ``why`` says how a partial period was cut, else ``""``.

    A period is partial where the date filter starts or ends inside it, or where the first
    or last post leaves a good part of it uncovered (``lib.periods.partial_reason``). An
    interval that would draw more than ``MAX_PERIODS`` bars is coarsened; the interval
    returned is the one drawn.
    """
    found = selection.resolve(con, filters)
    days = found.day_counts_table
    # The data's own span comes from the other filters: a date filter narrows what is
    # covered, it does not move where the data begins or ends.
    undated_clause, undated_params = found.sliced(
        Filters(categories=filters.categories)
    ).columns_where()
    data_first, data_last = map(
        as_date,
        found.execute(
            f"SELECT min(published), max(published) FROM {days} WHERE {undated_clause}",
            undated_params,
        ).fetchall()[0],
    )
    first = max(filters.start, data_first) if filters.start and data_first else data_first
    last = min(filters.end, data_last) if filters.end and data_last else data_last
    if first is not None and last is not None and first > last:
        first = None
    empty = pd.DataFrame(columns=["period", "category", "posts", "partial", "why"])
    if first is None:
        return empty, interval or "month"
    interval = interval or auto_interval(filters.start or first, filters.end or last)
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    interval = readable_interval(first, last, interval)
    clause, params = found.columns_where()
    # Past TOP_CATEGORIES, the smallest categories are one stack: a store of 20,000
    # categories drew 20,000 traces, and the Overview took 50 s to build.
    frame = found.execute(
        f"""WITH counts AS (
                SELECT date_trunc(?, published)::DATE AS period, category, sum(posts) AS posts
                FROM {days} WHERE {clause} AND published IS NOT NULL GROUP BY ALL),
            ranked AS (
                SELECT category, row_number() OVER (ORDER BY sum(posts) DESC, category) AS r
                FROM counts GROUP BY category)
            SELECT period, CASE WHEN r <= ? THEN c.category ELSE ? END AS category,
                   sum(posts)::BIGINT AS posts
            FROM counts c JOIN ranked k ON c.category IS NOT DISTINCT FROM k.category
            GROUP BY ALL ORDER BY period, category NULLS LAST""",
        [interval, *params, TOP_CATEGORIES, OTHER_CATEGORIES],
    ).df()
    frame["period"] = pd.to_datetime(frame["period"]).dt.date
    span, window = (data_first, data_last), (filters.start, filters.end)
    reasons = {p: partial_reason(p, interval, span, window) for p in set(frame["period"])}
    frame["why"] = [reasons[p] for p in frame["period"]]
    frame["partial"] = frame["why"] != ""
    return frame[["period", "category", "posts", "partial", "why"]], interval


def cards(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    sort: str = "newest",
    limit: int = 20,
    offset: int = 0,
) -> list[dict[str, Any]]:
    if sort == RELEVANCE and filters.q.strip():
        scored, params = ranked(con, filters, int(limit) + int(offset))
        return _ranked_cards(con, scored, params, limit, offset)
    found = selection.resolve(con, filters)
    clause, params = found.where()
    order = SORTS.get(sort, SORTS["newest"])
    # Choose the page among the posts from the page's last date on (found in the day
    # counts), so that the sort keeps only about a page's worth of rows, then fetch the
    # page's text by row id: sorting the text columns of every match would read them all.
    newest = order.startswith("published DESC")
    bound = _page_bound(found, int(limit) + int(offset), newest)
    if bound is not None:
        clause, params = f"{clause} AND published {'>=' if newest else '<='} ?", [*params, bound]
    row_id = "rowid" if has_columns(con, "posts", "rowid") else "NULL::BIGINT"
    page = con.execute(
        f"SELECT {row_id}, doc FROM posts WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, int(limit), int(offset)],
    ).fetchall()
    if not page:
        return []
    rows = [row for row, _ in page]
    if None in rows:  # a store without row ids (a Parquet dataset): found by doc, a scan
        return _records(
            con,
            f"SELECT {CARD_COLUMNS} FROM posts WHERE doc = ANY(?) ORDER BY {order}",
            [[doc for _, doc in page]],
        )
    return _records(
        con, f"SELECT {CARD_COLUMNS} FROM posts WHERE rowid = ANY(?) ORDER BY {order}", [rows]
    )


def ranked(
    con: duckdb.DuckDBPyConnection, filters: Filters, top: int | None = None
) -> tuple[str, list[Any]]:
    """A ``(doc, score)`` query of the posts a search ranks under all the filters: those
    with every word first, then those with most (``lib.search.scores_sql``); with ``top``,
    only the best ``top`` need be listed (a page of cards)."""
    p = plan(filters.q.strip())
    found = selection.resolve(con, filters)
    if not p.words:  # only fields or exclusions: every post they keep, newest first
        clause, params = found.ranking_where()
        return f"SELECT doc, 0.0 AS score FROM posts WHERE {clause}", params
    kept, params = found.ranking_doc_filter("h", top)
    scored, scored_params = scores_sql(
        query_terms(filters.q.strip()), p.words, top=top, doc_filter=kept
    )
    return scored, [*scored_params, *params]


def has_columns(con: duckdb.DuckDBPyConnection, table: str, columns: str) -> bool:
    """Whether ``table`` has ``columns``: a Parquet dataset or MotherDuck store, which the
    app never migrates, may lack the newer ones (and a Parquet view has no row ids)."""
    try:
        con.execute(f"SELECT {columns} FROM {table} LIMIT 0")
    except duckdb.BinderException:
        return False
    return True


def _page_bound(found: ResolvedSearch, needed: int, newest: bool) -> date | None:
    """The date on or after which (before which, oldest first) the first ``needed`` filtered
    posts lie; ``None`` when the dated posts are fewer, and undated ones may be needed."""
    clause, params = found.columns_where()
    direction = "DESC" if newest else "ASC"
    bound = found.execute(
        f"""SELECT published FROM (
                SELECT published, sum(n) OVER (ORDER BY published {direction}) AS running
                FROM (SELECT published, sum(posts) AS n FROM {found.day_counts_table}
                      WHERE {clause} AND published IS NOT NULL GROUP BY published))
            WHERE running >= ? ORDER BY published {direction} LIMIT 1""",
        [*params, needed],
    ).fetchall()
    return bound[0][0] if bound else None


def _ranked_cards(
    con: duckdb.DuckDBPyConnection, scored: str, params: list[Any], limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """The cards of one page of a ``(doc, score)`` query, best first, each with its score.

    Rank first, then fetch the text of the shown page only: joining every match to
    the posts' text columns would read the whole table.
    """
    return _records(
        con,
        f"""WITH top AS (SELECT doc, score FROM ({scored})
                         ORDER BY score DESC, doc LIMIT ? OFFSET ?)
            SELECT {CARD_COLUMNS}, top.score FROM posts JOIN top USING (doc)
            ORDER BY top.score DESC, doc""",
        [*params, int(limit), int(offset)],
    )


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def keywords(con: duckdb.DuckDBPyConnection, post_id: str) -> list[str]:
    """A post's stored keywords, most distinctive first."""
    return [
        term
        for (term,) in con.execute(
            """SELECT k.term FROM post_keywords k JOIN posts p ON p.doc = k.doc
               WHERE p.id = ? ORDER BY k.weight DESC, k.term""",
            [post_id],
        ).fetchall()
    ]


def similar(con: duckdb.DuckDBPyConnection, post_id: str, limit: int = 5) -> list[dict[str, Any]]:
    """Posts sharing the most distinctive words of this one, ranked by BM25 over them.

    The post's keywords act as a query, so this costs one search, not a comparison
    with every post: fast enough at request time on a million posts.
    """
    terms = keywords(con, post_id)[:SIMILAR_BY]
    if not terms:
        return []
    exact = [
        TokenTerms(t, "SELECT term_id, df, 1.0 AS w FROM terms WHERE term = ?", (t,)) for t in terms
    ]
    each = tuple(Word((Alternative((i,)),)) for i in range(len(terms)))
    scored, params = scores_sql(exact, each, "id <> ?", soft=False)
    return _ranked_cards(con, scored, [*params, post_id], limit)


def post(con: duckdb.DuckDBPyConnection, post_id: str) -> dict[str, Any] | None:
    rows = _records(con, f"SELECT {EXPORT_COLUMNS} FROM posts WHERE id = ?", [post_id])
    return rows[0] if rows else None


def sightings_of(con: duckdb.DuckDBPyConnection, post_id: str) -> pd.DataFrame:
    return con.execute(
        """SELECT s.locator AS "where", s.seen_at AS "seen", r.run_id AS "run"
           FROM sightings s LEFT JOIN ingest_runs r USING (run_id)
           WHERE s.post_id = ? ORDER BY s.seen_at, s.locator""",
        [post_id],
    ).df()


# A download is built in the server's memory: a million posts' text would not fit the
# smallest cloud container (690 MB). Larger extracts go through `python -m lib.export`.
EXPORT_LIMIT = 50_000


def export(con: duckdb.DuckDBPyConnection, filters: Filters, limit: int = EXPORT_LIMIT) -> pa.Table:
    """The newest ``limit`` filtered posts for download, as Arrow (never via pandas masks),
    with each post's kept source where the store keeps sources."""
    clause, params = selection.resolve(con, filters).where()
    # The posts' kept sources (lib.ingest.records), in stores since schema 8.
    sources = has_columns(con, "posts", "body_source, source_format")
    columns = EXPORT_COLUMNS + (
        f", {kept_source_sql()} AS body_source, source_format" if sources else ""
    )
    return con.sql(
        f"SELECT {columns} FROM posts WHERE {clause} ORDER BY {SORTS['newest']} LIMIT ?",
        params=[*params, int(limit)],
    ).to_arrow_table()
