"""What the posts are about: topics under the filters, per class, over time, rising and falling.

A topic is an index term. Lists of *leading* topics come from the keywords stored
per post at ingest (``post_keywords``: a post is about its top terms, not about
every word it uses), and are ranked with class-based TF-IDF as in BERTopic: a
term scores by how often it leads posts in the class, damped by how often it
leads posts anywhere. Volumes of *chosen* topics count every post that mentions
the term, which is what the ``topic`` filter keeps, so a chart and the posts it
links to agree.

At a million posts the keywords are eight million rows, so lists over whole months
read ``topic_months`` (the keywords counted per term, category and month at ingest)
and only the cut-off months at the ends of a date range read the keywords; under
words or topics, one scan of the keywords tests each in the search's bitmap.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import duckdb
import pandas as pd

from lib import selection
from lib.filters import Filters, where
from lib.periods import INTERVALS
from lib.selection import ResolvedSearch

MAX_COMPARED = 5


def _month_end(day: date) -> date:
    return _next_month(day) - timedelta(days=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class _CountedRows:
    """What a count counts: per month, from the store's monthly table; exactly, the rows
    of ``source`` (as ``k``) under the filters."""

    monthly_table: str  # the store's counts per category and month
    keys: str  # its columns besides category and month, as in the exact count
    source: str  # keywords, or posts
    only_with_keywords: bool  # posts without keywords are left out (they lead no topic)


_KEYWORDS = _CountedRows("topic_months", "term", "post_keywords", False)
_POSTS_WITH_KEYWORDS = _CountedRows("keyed_months", "", "posts", True)
# What a count can be broken down by, in the monthly table (m) and in the keywords (k).
_DIMENSIONS = {
    "category": ("m.category", "k.category"),
    "year": ("year(m.month)::VARCHAR", "year(k.published)::VARCHAR"),
}


def _counts_sql(
    found: ResolvedSearch, what: _CountedRows, dims: tuple[str, ...] = ()
) -> tuple[str, list[object]]:
    """SQL for rows ``(keys…, dims…, n)``: the filtered posts' keywords (or the filtered
    posts that have keywords) counted.

    Without words or topics, whole months come from the store's monthly table and the
    cut-off months at either end of a date range from the posts' own keywords; summing
    ``n`` gives exactly what the keywords give. Under a search, one scan of the keywords
    (tested in the search's bitmap, the date range reading only its own row groups) is
    quicker than counting the search's keywords per term, category and month once, to
    slice later.
    """
    keys_k = [f"k.{what.keys}"] if what.keys else []
    dims_k = [f"{_DIMENSIONS[d][1]} AS {d}" for d in dims]

    def exact(part: Filters) -> tuple[str, list[object]]:
        sliced = found.sliced(part)
        if what.only_with_keywords:
            clause, params = sliced.where_with_keywords("k")
        else:
            clause, params = sliced.where("k")
        columns = ", ".join([*keys_k, *dims_k, "count(*) AS n"])
        return f"SELECT {columns} FROM {what.source} k WHERE {clause} GROUP BY ALL", params

    filters = found.filters
    if found.searches:
        return exact(filters)
    categories = Filters(categories=filters.categories)
    start, end = filters.start, filters.end
    if start and end and start > end:
        return exact(filters)
    parts: list[tuple[str, list[object]]] = []
    first_full = start if start is None or start.day == 1 else _next_month(start)
    last_full = None if end is None else end.replace(day=1)
    if end is not None and end != _month_end(end):
        last_full = _previous_month(end)
    if start is not None and first_full != start:  # the cut-off first month
        cut = _month_end(start) if end is None else min(_month_end(start), end)
        parts.append(exact(replace(categories, start=start, end=cut)))
    if end is not None and last_full is not None and last_full < end.replace(day=1):
        cut = end.replace(day=1) if start is None else max(end.replace(day=1), start)
        if not parts or cut > _month_end(start):  # not the month already cut above
            parts.append(exact(replace(categories, start=cut, end=end)))
    if first_full is None or last_full is None or first_full <= last_full:
        parts.append(_monthly_sql(what, dims, categories, first_full, last_full))
    sql = " UNION ALL ".join(f"({part})" for part, _ in parts)
    return sql, [p for _, part_params in parts for p in part_params]


def _monthly_sql(
    what: _CountedRows,
    dims: tuple[str, ...],
    categories: Filters,
    first: date | None,
    last: date | None,
) -> tuple[str, list[object]]:
    """:func:`_counts_sql`'s rows for the whole months from ``first`` to ``last`` (either
    open), read from the store's monthly table."""
    clause, params = where(categories, "m")
    bounds = []
    if first is not None:
        bounds.append("m.month >= ?")
        params.append(first)
    if last is not None:
        bounds.append("m.month <= ?")
        params.append(last)
    keys = [f"m.{what.keys}"] if what.keys else []
    columns = ", ".join([*keys, *(f"{_DIMENSIONS[d][0]} AS {d}" for d in dims), "m.posts AS n"])
    monthly = " AND ".join([clause, *bounds])
    return f"SELECT {columns} FROM {what.monthly_table} m WHERE {monthly}", params


def leading(con: duckdb.DuckDBPyConnection, filters: Filters, limit: int = 20) -> pd.DataFrame:
    """The topics that lead the filtered posts, most distinctive of them first.

    ``posts`` is how many filtered posts have the topic among their keywords,
    ``share`` the fraction of filtered posts, and ``lift`` how much more often it
    leads here than in all posts (1 = as often as anywhere). Topics of one score (on a
    small blog, most lead two or three posts) come in order of use (:func:`_by_use`).
    """
    found = selection.resolve(con, filters)
    counts, params = _counts_sql(found, _KEYWORDS)
    sizes, size_params = _counts_sql(found, _POSTS_WITH_KEYWORDS)
    ranked = con.execute(
        f"""WITH here AS (SELECT term, sum(n)::BIGINT AS n FROM ({counts}) GROUP BY term),
                 size AS (SELECT sum(n)::BIGINT AS docs FROM ({sizes})),
                 everywhere AS (SELECT term, sum(posts)::BIGINT AS n FROM topic_months
                                WHERE term IN (SELECT term FROM here) GROUP BY term),
                 total AS (SELECT sum(posts)::BIGINT AS docs FROM keyed_months)
            SELECT h.term AS topic, h.n AS posts, h.n / s.docs AS share,
                   (h.n / s.docs) / (e.n / t.docs) AS lift,
                   h.n / s.docs * ln(1 + t.docs / e.n) AS score
            FROM here h JOIN everywhere e USING (term), size s, total t
            QUALIFY rank() OVER (ORDER BY score DESC, posts DESC) <= ?
            ORDER BY score DESC, posts DESC, topic""",
        [*params, *size_params, int(limit)],
    ).df()
    return _by_use(con, ranked).head(int(limit)).reset_index(drop=True)


def _by_use(con: duckdb.DuckDBPyConnection, ranked: pd.DataFrame) -> pd.DataFrame:
    """``ranked`` with its ties of score and posts in order of use: first the topic its
    posts use more (its summed keyword weight, tf·idf: a post's subject, named all
    through it, before a word it uses twice), then the one more posts use at all; the
    alphabet only last. Looked up for the tied topics only, few on a large store."""
    tied = ranked[ranked.duplicated(["score", "posts"], keep=False)]
    if tied.empty:
        return ranked
    use = con.execute(
        """SELECT t.term AS topic, t.df AS used_in, coalesce(k.weight, 0) AS weight
           FROM terms t LEFT JOIN (SELECT term, sum(weight) AS weight FROM post_keywords
                                   WHERE term IN (SELECT unnest(?)) GROUP BY term) k
                ON k.term = t.term
           WHERE t.term IN (SELECT unnest(?))""",
        [list(tied["topic"]), list(tied["topic"])],
    ).df()
    merged = ranked.merge(use, on="topic", how="left").fillna({"used_in": 0, "weight": 0})
    merged = merged.sort_values(
        ["score", "posts", "weight", "used_in", "topic"],
        ascending=[False, False, False, False, True],
        kind="stable",
    )
    return merged[list(ranked.columns)]


def by_class(
    con: duckdb.DuckDBPyConnection, filters: Filters, by: str = "category", limit: int = 8
) -> pd.DataFrame:
    """The terms that set each category (or year) apart from the others: c-TF-IDF.

    ``W = tf(t, c) / |c| · log(1 + A / f(t))``, where ``A`` is the average class size
    and ``f(t)`` the term's count over all classes.
    """
    if by not in _DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(_DIMENSIONS)}")
    rows, params = _counts_sql(selection.resolve(con, filters), _KEYWORDS, (by,))
    return con.execute(
        f"""WITH counts AS (SELECT {by} AS class, term, sum(n)::BIGINT AS n
                            FROM ({rows}) GROUP BY ALL),
                 classes AS (SELECT class, sum(n) AS size FROM counts GROUP BY class),
                 terms AS (SELECT term, sum(n) AS f FROM counts GROUP BY term),
                 average AS (SELECT avg(size) AS a FROM classes),
                 scored AS (
                     SELECT c.class, c.term, c.n,
                            c.n / cl.size * ln(1 + av.a / t.f) AS score,
                            row_number() OVER (PARTITION BY c.class
                                               ORDER BY c.n / cl.size * ln(1 + av.a / t.f) DESC,
                                                        c.term) AS rank
                     FROM counts c JOIN classes cl USING (class) JOIN terms t USING (term),
                          average av)
            SELECT class, term AS topic, n AS posts, score FROM scored
            WHERE rank <= ? ORDER BY class NULLS LAST, rank""",
        [*params, int(limit)],
    ).df()


def volume(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    topics: tuple[str, ...],
    interval: str = "month",
) -> pd.DataFrame:
    """Posts mentioning each topic per period, with the period's total under the filters.

    ``share`` divides by all filtered posts of the period, so a topic's rise is not
    confused with the blog simply writing more.
    """
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    topics = tuple(dict.fromkeys(t.lower() for t in topics))[:MAX_COMPARED]
    empty = pd.DataFrame(columns=["period", "topic", "posts", "total", "share"])
    if not topics:
        return empty
    found = selection.resolve(con, replace(filters, topics=()))
    days = found.day_counts_table
    clause, params = found.columns_where("p")
    searched, searched_params = found.where("p")
    marks = ", ".join("?" for _ in topics)
    frame = found.execute(
        f"""WITH totals AS (SELECT date_trunc(?, p.published)::DATE AS period,
                                   sum(p.posts)::BIGINT AS total
                            FROM {days} p WHERE {clause} AND p.published IS NOT NULL
                            GROUP BY ALL),
                 mentions AS (SELECT t.term AS topic, s.doc FROM postings s
                              JOIN terms t USING (term_id) WHERE t.term IN ({marks})),
                 counts AS (SELECT date_trunc(?, p.published)::DATE AS period, m.topic,
                                   count(*) AS posts
                            FROM mentions m JOIN posts p USING (doc)
                            WHERE {searched} AND p.published IS NOT NULL GROUP BY ALL),
                 grid AS (SELECT period, total, topic FROM totals,
                          (SELECT unnest(?::VARCHAR[]) AS topic))
            SELECT g.period, g.topic, coalesce(c.posts, 0) AS posts, g.total,
                   coalesce(c.posts, 0) / g.total AS share
            FROM grid g LEFT JOIN counts c USING (period, topic)
            ORDER BY g.period, g.topic""",
        [interval, *params, *topics, interval, *searched_params, list(topics)],
    ).df()
    if frame.empty:
        return empty
    frame["period"] = pd.to_datetime(frame["period"]).dt.date
    return frame


@dataclass(frozen=True)
class Periods:
    before: tuple[date, date]
    after: tuple[date, date]


def default_periods(con: duckdb.DuckDBPyConnection, filters: Filters) -> Periods | None:
    """The filtered span cut in two halves; ``None`` when it covers a single day."""
    found = selection.resolve(con, filters)
    clause, params = found.columns_where()
    first, last = found.execute(
        f"SELECT min(published), max(published) FROM {found.day_counts_table} WHERE {clause}",
        params,
    ).fetchall()[0]
    if first is None or first == last:
        return None
    middle = first + (last - first) // 2
    return Periods((first, middle), (middle + timedelta(days=1), last))


def movers(
    con: duckdb.DuckDBPyConnection, filters: Filters, periods: Periods, limit: int = 10
) -> pd.DataFrame:
    """Topics whose share of posts changed most from ``before`` to ``after``.

    Shares, not counts, so that a blog writing twice as much does not make every
    topic "rise"; a term needs at least two posts in one of the periods to count.
    """
    (b0, b1), (a0, a1) = periods.before, periods.after
    found = selection.resolve(con, filters)
    before = found.sliced(replace(filters, start=b0, end=b1))
    after = found.sliced(replace(filters, start=a0, end=a1))
    parts = [
        _counts_sql(before, _KEYWORDS),
        _counts_sql(after, _KEYWORDS),
        _counts_sql(before, _POSTS_WITH_KEYWORDS),
        _counts_sql(after, _POSTS_WITH_KEYWORDS),
    ]
    (kb, _), (ka, _), (sb, _), (sa, _) = parts
    return con.execute(
        f"""WITH b AS (SELECT term, sum(n)::BIGINT AS n FROM ({kb}) GROUP BY term),
                 a AS (SELECT term, sum(n)::BIGINT AS n FROM ({ka}) GROUP BY term),
                 sizes AS (SELECT coalesce((SELECT sum(n) FROM ({sb})), 0)::BIGINT AS nb,
                                  coalesce((SELECT sum(n) FROM ({sa})), 0)::BIGINT AS na),
                 counts AS (SELECT term, coalesce(b.n, 0) AS before, coalesce(a.n, 0) AS after
                            FROM b FULL JOIN a USING (term)),
                 result AS (
                     SELECT c.term AS topic, c.before, c.after,
                            c.before / s.nb AS share_before, c.after / s.na AS share_after,
                            c.after / s.na - c.before / s.nb AS change
                     FROM counts c, sizes s
                     WHERE greatest(c.before, c.after) >= 2 AND s.nb > 0 AND s.na > 0)
            (SELECT * FROM result WHERE change > 0 ORDER BY change DESC, topic LIMIT ?)
            UNION ALL
            (SELECT * FROM result WHERE change < 0 ORDER BY change, topic LIMIT ?)""",
        [*(p for _, ps in parts for p in ps), int(limit), int(limit)],
    ).df()


# The fitted topics (lib.topic_model), which the pages ask for as ``topics.…``.
from lib.topic_queries import (  # noqa: E402 - they use Periods, defined above
    distinct_by_category,
    example_posts,
    filters_narrow,
    map_points,
    post_topic,
    topic_movers,
    topic_table,
    volume_by_topic,
)

__all__ = [
    "distinct_by_category",
    "example_posts",
    "filters_narrow",
    "map_points",
    "post_topic",
    "topic_movers",
    "topic_table",
    "volume_by_topic",
]
