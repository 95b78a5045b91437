"""What the posts are about: topics under the filters, per class, over time, rising and falling.

A topic is an index term. Lists of *leading* topics come from the keywords stored
per post at ingest (``post_keywords``: a post is about its top terms, not about
every word it uses), and are ranked with class-based TF-IDF as in BERTopic: a
term scores by how often it leads posts in the class, damped by how often it
leads posts anywhere. Volumes of *chosen* topics count every post that mentions
the term, which is what the ``topic`` filter keeps, so a chart and the posts it
links to agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import duckdb
import pandas as pd

from lib.filters import Filters, where
from lib.periods import INTERVALS

MAX_COMPARED = 5
CLASS_COLUMNS = {"category": "k.category", "year": "year(k.published)::VARCHAR"}


def leading(con: duckdb.DuckDBPyConnection, filters: Filters, limit: int = 20) -> pd.DataFrame:
    """The topics that lead the filtered posts, most distinctive of them first.

    ``posts`` is how many filtered posts have the topic among their keywords,
    ``share`` the fraction of filtered posts, and ``lift`` how much more often it
    leads here than in all posts (1 = as often as anywhere).
    """
    clause, params = where(filters, "k")
    return con.execute(
        f"""WITH here AS (SELECT term, count(*) AS n FROM post_keywords k WHERE {clause}
                          GROUP BY term),
                 size AS (SELECT count(DISTINCT doc) AS docs FROM post_keywords k
                          WHERE {clause}),
                 everywhere AS (SELECT term, count(*) AS n FROM post_keywords
                                WHERE term IN (SELECT term FROM here) GROUP BY term),
                 total AS (SELECT count(DISTINCT doc) AS docs FROM post_keywords)
            SELECT h.term AS topic, h.n AS posts, h.n / s.docs AS share,
                   (h.n / s.docs) / (e.n / t.docs) AS lift,
                   h.n / s.docs * ln(1 + t.docs / e.n) AS score
            FROM here h JOIN everywhere e USING (term), size s, total t
            ORDER BY score DESC, posts DESC, topic LIMIT ?""",
        [*params, *params, int(limit)],
    ).df()


def by_class(
    con: duckdb.DuckDBPyConnection, filters: Filters, by: str = "category", limit: int = 8
) -> pd.DataFrame:
    """The terms that set each category (or year) apart from the others: c-TF-IDF.

    ``W = tf(t, c) / |c| · log(1 + A / f(t))``, where ``A`` is the average class size
    and ``f(t)`` the term's count over all classes.
    """
    if by not in CLASS_COLUMNS:
        raise ValueError(f"by must be one of {', '.join(CLASS_COLUMNS)}")
    clause, params = where(filters, "k")
    return con.execute(
        f"""WITH counts AS (SELECT {CLASS_COLUMNS[by]} AS class, term, count(*) AS n
                            FROM post_keywords k WHERE {clause} GROUP BY ALL),
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
    base = replace(filters, topics=())
    clause, params = where(base, "p")
    marks = ", ".join("?" for _ in topics)
    frame = con.execute(
        f"""WITH totals AS (SELECT date_trunc(?, p.published)::DATE AS period, count(*) AS total
                            FROM posts p WHERE {clause} AND p.published IS NOT NULL
                            GROUP BY ALL),
                 mentions AS (SELECT t.term AS topic, s.doc FROM postings s
                              JOIN terms t USING (term_id) WHERE t.term IN ({marks})),
                 counts AS (SELECT date_trunc(?, p.published)::DATE AS period, m.topic,
                                   count(*) AS posts
                            FROM mentions m JOIN posts p USING (doc)
                            WHERE {clause} AND p.published IS NOT NULL GROUP BY ALL),
                 grid AS (SELECT period, total, topic FROM totals,
                          (SELECT unnest(?::VARCHAR[]) AS topic))
            SELECT g.period, g.topic, coalesce(c.posts, 0) AS posts, g.total,
                   coalesce(c.posts, 0) / g.total AS share
            FROM grid g LEFT JOIN counts c USING (period, topic)
            ORDER BY g.period, g.topic""",
        [interval, *params, *topics, interval, *params, list(topics)],
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
    clause, params = where(filters)
    first, last = con.execute(
        f"SELECT min(published), max(published) FROM posts WHERE {clause}", params
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
    base = replace(filters, start=None, end=None)
    clause, params = where(base, "k")
    (b0, b1), (a0, a1) = periods.before, periods.after
    return con.execute(
        f"""WITH kw AS (SELECT k.doc, k.term,
                               CASE WHEN k.published BETWEEN ? AND ? THEN 'before'
                                    WHEN k.published BETWEEN ? AND ? THEN 'after' END AS side
                        FROM post_keywords k WHERE {clause}),
                 sizes AS (SELECT count(DISTINCT doc) FILTER (WHERE side = 'before') AS nb,
                                  count(DISTINCT doc) FILTER (WHERE side = 'after') AS na
                           FROM kw),
                 counts AS (SELECT term, count(*) FILTER (WHERE side = 'before') AS before,
                                   count(*) FILTER (WHERE side = 'after') AS after
                            FROM kw WHERE side IS NOT NULL GROUP BY term),
                 result AS (
                     SELECT c.term AS topic, c.before, c.after,
                            c.before / s.nb AS share_before, c.after / s.na AS share_after,
                            c.after / s.na - c.before / s.nb AS change
                     FROM counts c, sizes s
                     WHERE greatest(c.before, c.after) >= 2 AND s.nb > 0 AND s.na > 0)
            (SELECT * FROM result WHERE change > 0 ORDER BY change DESC, topic LIMIT ?)
            UNION ALL
            (SELECT * FROM result WHERE change < 0 ORDER BY change, topic LIMIT ?)""",
        [b0, b1, a0, a1, *params, int(limit), int(limit)],
    ).df()
