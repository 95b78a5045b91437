"""The fitted topics under the filters: how many posts each has, which posts show it best,
how it moves over time, which category it sets apart, and where its posts lie on the map.

Every count is of posts in ``post_topics`` (one main topic per post, outliers included)
under the same ``WHERE`` clause as every other page (``ResolvedSearch.where``), so a
topic's count here is what Browse lists under ``topic=<its name>`` with the same filters,
and the topics' counts add up to the Overview's total. Undated posts count in totals;
charts over time leave them out and the page says how many.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from lib import queries, scratch_tables, selection
from lib.filters import Filters
from lib.selection import ResolvedSearch
from lib.store import table_exists

if TYPE_CHECKING:  # lib.topics re-exports this module
    from lib.topics import Periods

MAP_POINTS = 4_000  # posts drawn on the map: a sample of the filtered ones, quick at 1M
OTHER = "other"


def _has_topics(con: duckdb.DuckDBPyConnection) -> bool:
    # Tables in a store, views over Parquet files in a dataset: probed, which is quicker
    # than asking the catalogue.
    return table_exists(con, "topics") and table_exists(con, "post_topics")


def _post_topics_of(found: ResolvedSearch) -> tuple[str, list[object]]:
    """The rows of ``post_topics`` (as ``pt``) of the posts ``found`` keeps, as a subquery."""
    clause, params = found.where("pt")
    return f"(SELECT * FROM post_topics pt WHERE {clause})", params


# Each topic over every post: its share of all posts, and the category where it is most
# over-represented with that lift. The same for every filter, so it is worked out once per
# store (a scratch table kept as long as the store's connection) rather than from a million
# rows on every change of the filters.
_SPREAD_PART = "topic_spread"
_SPREAD_SQL = """
    WITH everywhere AS (SELECT topic_id, count(*) AS n, sum(count(*)) OVER () AS all_n
                        FROM post_topics GROUP BY topic_id),
         per_class AS (SELECT topic_id, category,
                              count(*) / sum(count(*)) OVER (PARTITION BY category) AS share
                       FROM post_topics GROUP BY topic_id, category),
         -- arg_max_null: the posts without a category are a class too (arg_max skips a
         -- NULL category, and named another beside the lift of the uncategorised posts).
         peak AS (SELECT p.topic_id,
                         arg_max_null(p.category, p.share / (e.n / e.all_n)) AS category,
                         max(p.share / (e.n / e.all_n)) AS lift
                  FROM per_class p JOIN everywhere e USING (topic_id) GROUP BY p.topic_id)
    SELECT e.topic_id, e.n / e.all_n AS store_share, k.category AS most_in, k.lift AS peak_lift
    FROM everywhere e LEFT JOIN peak k USING (topic_id)"""


def _with_spread(
    con: duckdb.DuckDBPyConnection, sql_of: Callable[[str], str], params: list[object]
) -> duckdb.DuckDBPyConnection:
    """The query ``sql_of(spread)`` run, ``spread`` the table of each topic over every post."""

    def spread() -> str:
        return scratch_tables.materialise(
            con, scratch_tables.STORE_WIDE, _SPREAD_PART, _SPREAD_SQL, []
        )

    try:
        return con.execute(sql_of(spread()), params)
    except duckdb.CatalogException:
        # Dropped by another session meanwhile (a benchmark forgetting every table): made
        # again under the same name, the query holds.
        return con.execute(sql_of(spread()), params)


def topic_table(
    con: duckdb.DuckDBPyConnection, filters: Filters, limit: int = 30, examples: int = 0
) -> pd.DataFrame:
    """Topics under the filters, most posts first: ``topic`` (its name, what ``topic=``
    takes), ``terms``, ``posts``, ``share`` of the filtered posts, ``lift`` and ``most_in``;
    with ``examples``, also ``examples``: the docs of that many filtered posts closest to
    the topic's centre, closest first (their titles: :func:`example_posts`).

    ``lift`` is how much more often the topic is among the filtered posts than among all
    posts; without filters that is 1 everywhere, so then it is the lift in the category
    where the topic is most over-represented (``most_in``), which says what a topic is
    distinctive of.
    """
    columns = ["topic_id", "topic", "terms", "posts", "share", "lift", "most_in", "outlier"]
    columns += ["examples"] if examples else []
    if not _has_topics(con):
        return pd.DataFrame(columns=columns)
    rows, params = _post_topics_of(selection.resolve(con, filters))
    # The examples come from the same scan as the counts: the filtered rows are read once.
    # max_by with a count keeps each topic's best posts in one hash aggregate, where a
    # window over a million rows sorted them all.
    best = ", max_by(doc, weight, ?) AS examples" if examples else ""

    def sql(spread: str) -> str:
        return f"""
            WITH here AS (SELECT topic_id, count(*) AS n{best} FROM {rows} GROUP BY topic_id),
                 total AS (SELECT sum(n) AS n FROM here)
            SELECT h.*, t.label AS topic, t.terms, h.n AS posts, h.n / s.n AS share,
                   (h.n / s.n) / e.store_share AS lift, e.most_in, e.peak_lift,
                   t.topic_id < 0 AS outlier
            FROM here h JOIN topics t USING (topic_id) JOIN {spread} e USING (topic_id),
                 total s
            ORDER BY outlier, posts DESC, topic LIMIT ?"""

    values = [*([int(examples)] if examples else []), *params, int(limit)]
    frame = _with_spread(con, sql, values).df()
    if not filters_narrow(filters):
        frame["lift"] = frame["peak_lift"]
    return frame[columns]


def filters_narrow(filters: Filters) -> bool:
    """Whether the filters keep fewer than all posts (else a lift against all is 1)."""
    return bool(filters.categories or filters.start or filters.end or filters.q or filters.topics)


def example_posts(con: duckdb.DuckDBPyConnection, docs: tuple[int, ...]) -> pd.DataFrame:
    """The posts ``docs`` (a topic table's ``examples``) as a page links them: ``doc, id``
    and ``title`` (the id where a post has none)."""
    return con.execute(
        """SELECT p.doc, p.id, coalesce(p.title, p.id) AS title
           FROM (SELECT unnest(?::INTEGER[]) AS doc) d JOIN posts p USING (doc)""",
        [[int(doc) for doc in docs]],
    ).df()


def volume_by_topic(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    interval: str | None = None,
    top: int = 8,
) -> tuple[pd.DataFrame, str]:
    """Posts per period and topic, the ``top`` topics under the filters and the rest as
    ``other``: the shape of :func:`lib.queries.volume` with ``topic`` for ``category``
    (columns ``period, topic, posts, partial, why``; periods and partial flags are the
    same as that volume's, so the two splits of one chart agree)."""
    by_category, interval = queries.volume(con, filters, interval)
    empty = pd.DataFrame(columns=["period", "topic", "posts", "partial", "why"])
    if by_category.empty or not _has_topics(con):
        return empty, interval
    leading = topic_table(con, filters, top)
    named = [t for t, o in zip(leading["topic"], leading["outlier"], strict=True) if not o]
    rows, params = _post_topics_of(selection.resolve(con, filters))
    frame = con.execute(
        f"""SELECT date_trunc(?, pt.published)::DATE AS period,
                   CASE WHEN t.label IN (SELECT unnest(?::VARCHAR[])) THEN t.label
                        ELSE ? END AS topic,
                   count(*)::BIGINT AS posts
            FROM {rows} pt JOIN topics t USING (topic_id)
            WHERE pt.published IS NOT NULL GROUP BY ALL ORDER BY period, topic""",
        [interval, named, OTHER, *params],
    ).df()
    frame["period"] = pd.to_datetime(frame["period"]).dt.date
    flags = by_category.drop_duplicates("period").set_index("period")
    frame["partial"] = frame["period"].map(flags["partial"]).fillna(False).astype(bool)
    frame["why"] = frame["period"].map(flags["why"]).fillna("")
    rank = {name: i for i, name in enumerate([*named, OTHER])}
    frame = frame.assign(rank=frame["topic"].map(rank)).sort_values(["period", "rank"])
    return frame.drop(columns="rank").reset_index(drop=True), interval


def topic_movers(
    con: duckdb.DuckDBPyConnection, filters: Filters, periods: Periods, limit: int = 8
) -> pd.DataFrame:
    """Topics whose share of the filtered posts changed most from ``before`` to ``after``
    (shares, so a blog writing more does not make every topic rise)."""
    (b0, b1), (a0, a1) = periods.before, periods.after
    found = selection.resolve(con, filters)
    before, before_params = _post_topics_of(found.sliced(replace(filters, start=b0, end=b1)))
    after, after_params = _post_topics_of(found.sliced(replace(filters, start=a0, end=a1)))
    return con.execute(
        f"""WITH b AS (SELECT topic_id, count(*) AS n FROM {before} GROUP BY topic_id),
                 a AS (SELECT topic_id, count(*) AS n FROM {after} GROUP BY topic_id),
                 sizes AS (SELECT (SELECT sum(n) FROM b) AS nb, (SELECT sum(n) FROM a) AS na),
                 counts AS (SELECT topic_id, coalesce(b.n, 0) AS before,
                                   coalesce(a.n, 0) AS after
                            FROM b FULL JOIN a USING (topic_id)),
                 result AS (
                     SELECT t.label AS topic, c.before, c.after,
                            c.before / s.nb AS share_before, c.after / s.na AS share_after,
                            c.after / s.na - c.before / s.nb AS change
                     FROM counts c JOIN topics t USING (topic_id), sizes s
                     WHERE t.topic_id >= 0 AND greatest(c.before, c.after) >= 2)
            (SELECT * FROM result WHERE change > 0 ORDER BY change DESC, topic LIMIT ?)
            UNION ALL
            (SELECT * FROM result WHERE change < 0 ORDER BY change, topic LIMIT ?)""",
        [*before_params, *after_params, int(limit), int(limit)],
    ).df()


def distinct_by_category(
    con: duckdb.DuckDBPyConnection, filters: Filters, per: int = 3
) -> pd.DataFrame:
    """For each category, the topics most over-represented in it (lift: share of the
    category's posts ÷ share of all filtered posts); a topic every category has alike
    has a lift near 1 everywhere and sets none apart. ``class, topic, posts, lift``."""
    rows, params = _post_topics_of(selection.resolve(con, replace(filters, categories=())))
    return con.execute(
        f"""WITH counts AS (SELECT category, topic_id, count(*) AS n FROM {rows}
                            WHERE topic_id >= 0 GROUP BY category, topic_id),
                 lifted AS (
                     SELECT category, topic_id, n,
                            (n / sum(n) OVER (PARTITION BY category))
                            / (sum(n) OVER (PARTITION BY topic_id) / sum(n) OVER ()) AS lift
                     FROM counts),
                 ranked AS (SELECT *, row_number() OVER (PARTITION BY category
                                                         ORDER BY lift DESC, n DESC) AS place
                            FROM lifted WHERE n >= 2 AND lift > 1)
            SELECT r.category AS class, t.label AS topic, r.n AS posts, r.lift
            FROM ranked r JOIN topics t USING (topic_id)
            WHERE r.place <= ? AND (r.category IN (SELECT unnest(?::VARCHAR[]))
                                    OR len(?::VARCHAR[]) = 0)
            ORDER BY class NULLS LAST, r.place""",
        [*params, int(per), list(filters.categories), list(filters.categories)],
    ).df()


def map_points(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Up to ``MAP_POINTS`` filtered posts with their 2-D places (fixed at the fit) and
    topic: a sample spread by a hash of the post, the same posts on every rerun."""
    if not _has_topics(con):
        return pd.DataFrame(columns=["x", "y", "topic", "id", "title"])
    rows, params = _post_topics_of(selection.resolve(con, filters))
    return con.execute(
        f"""WITH drawn AS (SELECT doc, x, y, topic_id FROM {rows}
                           ORDER BY hash(doc) LIMIT ?)
            SELECT d.x, d.y, t.label AS topic, p.id, coalesce(p.title, p.id) AS title
            FROM drawn d JOIN topics t USING (topic_id) JOIN posts p USING (doc)""",
        [*params, MAP_POINTS],
    ).df()


def post_topic(con: duckdb.DuckDBPyConnection, post_id: str) -> str | None:
    """The name of a post's main topic (``(outliers)`` when it has none), if fitted."""
    if not _has_topics(con):
        return None
    rows = con.execute(
        """SELECT t.label FROM posts p JOIN post_topics pt USING (doc)
           JOIN topics t USING (topic_id) WHERE p.id = ?""",
        [post_id],
    ).fetchall()
    return rows[0][0] if rows else None
