"""What the ``/data`` page reports of a store: its imports, its quality, its conflicts.

Questions about the store itself rather than about posts under the filters, so they take
no ``Filters`` and are asked of the whole store.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from lib.queries import has_columns


def _dates_out_of_range(con: duckdb.DuckDBPyConnection) -> str:
    """The runs' count of dates out of range (0 in stores from before schema 6)."""
    if has_columns(con, "ingest_runs", "dates_out_of_range"):
        return "coalesce(dates_out_of_range, 0)"
    return "0"


def ingest_runs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        f"""SELECT run_id, started_at, finished_at, array_to_string(sources, ', ') AS sources,
                   array_to_string(formats, ', ') AS formats, files, records,
                   added, updated, unchanged, rejected, conflicts,
                   {_dates_out_of_range(con)} AS dates_out_of_range
            FROM ingest_runs ORDER BY run_id DESC"""
    ).df()


@dataclass(frozen=True)
class Quality:
    posts: int
    without_category: int
    without_date: int
    derived_title: int
    without_title: int
    without_link: int
    merged_posts: int
    sightings: int
    conflicts: int
    rejected: int
    dates_out_of_range: int = 0  # in all runs, each stored as no date


def quality(con: duckdb.DuckDBPyConnection) -> Quality:
    row = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE category IS NULL),
                  count(*) FILTER (WHERE published IS NULL),
                  count(*) FILTER (WHERE title_derived),
                  count(*) FILTER (WHERE title IS NULL),
                  count(*) FILTER (WHERE url IS NULL),
                  count(*) FILTER (WHERE sightings > 1),
                  coalesce(sum(sightings), 0),
                  (SELECT count(*) FROM conflicts), (SELECT count(*) FROM rejections),
                  (SELECT coalesce(sum({_dates_out_of_range(con)}), 0) FROM ingest_runs)
           FROM posts"""
    ).fetchall()[0]
    return Quality(*(int(v) for v in row))


def conflicts(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pd.DataFrame:
    return con.execute(
        """SELECT run_id, post_id, field, kept, offered, locator
           FROM conflicts ORDER BY run_id DESC LIMIT ?""",
        [limit],
    ).df()


def shared_links(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pd.DataFrame:
    """Posts that share a link and were kept apart, since they differ in title, date and
    text (``lib/ingest/identity.py``): a user who finds one link on several rows sees why.
    A store exported before schema 7 has no link keys: its posts are compared by link."""
    links = "SELECT url AS link, id AS post_id FROM posts WHERE url IS NOT NULL"
    if has_columns(con, "sightings", "link"):
        links = "SELECT DISTINCT link, post_id FROM sightings WHERE link IS NOT NULL"
    return con.execute(
        f"""WITH links AS ({links}),
                shared AS (SELECT link FROM links GROUP BY link HAVING count(*) > 1)
            SELECT p.url AS link, p.title, p.published, p.id AS post_id
            FROM shared JOIN links l USING (link) JOIN posts p ON p.id = l.post_id
            ORDER BY l.link, p.published, p.id LIMIT ?""",
        [limit],
    ).df()
