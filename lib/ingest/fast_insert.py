"""Writing the fast lane's rows: new posts in bulk, everything else back to the merge.

``lib.ingest.fast_lane`` picks the rows of an export that cleaning would leave as they
are; this module writes those that are new posts beyond doubt straight into ``posts``
and ``sightings`` with a few SQL statements, and hands every other one back as a
record for ``lib.ingest.merge``. Each step builds one temporary table, named after it:

``_fast`` (every fast row of the run) → ``_fast_keyed`` (their identity keys, computed
as ``lib.ingest.identity`` does) → ``_fast_alone`` (rows nothing else in the run could
merge with) → ``_fast_new`` (of those, rows nothing stored shares a key with) and
``_fast_same`` (rows already stored exactly so, from the same file).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from lib.ingest.identity import LEAD_CHARS, link_key_sql, text_stem_sql
from lib.ingest.merge import SIGHTING_COLUMNS, Sighting
from lib.ingest.records import PostRecord, kept_source_sql

# A record the merge still has to place: with its file's digest and its (file, row).
Leftover = tuple[PostRecord, str, tuple[int, int]]
_TABLES = ("_fast", "_fast_keyed", "_fast_alone", "_fast_new", "_fast_same")


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
) -> tuple[list[str], int, list[Leftover]]:
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
    segmenting them while DuckDB writes (``lib.ingest.postings.EarlySegmentation``).
    """
    if not batches:
        return [], 0, []
    _fill_fast(con, batches)
    _key_fast(con)
    _keep_fast_alone(con, others)
    _pick_fast_new(con)
    if on_new is not None:
        on_new(
            con,
            """SELECT n.post_id AS id, f.title, f.tags, f.excerpt, f.body
               FROM _fast_new n JOIN _fast f USING (file_number, row)""",
        )
    _pick_fast_same(con)
    _insert_posts_and_sightings(con, run_id, seen_at)
    added = [
        r[0]
        for r in con.execute("SELECT post_id FROM _fast_new ORDER BY file_number, row").fetchall()
    ]
    (same,) = con.execute("SELECT count(*) FROM _fast_same").fetchall()[0]
    rest = _leftovers(con)
    for table in _TABLES:
        con.execute(f"DROP TABLE {table}")
    return added, int(same), rest


def _fill_fast(con: duckdb.DuckDBPyConnection, batches: list[FastBatch]) -> None:
    """``_fast``: every batch's rows, with the file they came from."""
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


def _key_fast(con: duckdb.DuckDBPyConnection) -> None:
    """``_fast_keyed``: each fast row's identity keys (link, stem, lead, fingerprint, id)."""
    # One SELECT per step: DuckDB would otherwise evaluate a reused expression again. The
    # keys are kept apart from the text columns, which are copied once, into the posts.
    query = f"""SELECT file_number, row, url, {link_key_sql("url")} AS link, guid, body,
                       excerpt, title,
                       CASE WHEN url IS NOT NULL THEN 'url:' || url ELSE 'guid:' || guid END
                       AS basis
                FROM _fast"""
    for name, expression in text_stem_sql("coalesce(body, excerpt, title)"):
        query = f"SELECT *, {expression} AS {name} FROM ({query})"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fast_keyed AS
            SELECT file_number, row, url, link, guid, title, stem, truncated,
                   sha1(basis) AS fingerprint, left(sha1(basis), 16) AS post_id,
                   left(stem, {LEAD_CHARS}) AS lead
            FROM ({query})"""
    )


def _keep_fast_alone(con: duckdb.DuckDBPyConnection, others: Sequence[Sighting]) -> None:
    """``_fast_alone``: the keyed rows that nothing else in the run could merge with,
    neither another fast row nor one of ``others`` (the run's per-record sightings)."""
    keys = pa.table(
        {
            "link": pa.array([s.identity.link for s in others], pa.string()),
            "guid": pa.array([s.identity.guid for s in others], pa.string()),
            "title": pa.array([s.identity.particulars.title for s in others], pa.string()),
            "lead": pa.array([s.identity.lead for s in others], pa.string()),
        }
    )
    con.register("_other_keys", keys)
    try:
        # Hash anti-joins against the repeated keys: a window per key sorted every row.
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


def _pick_fast_new(con: duckdb.DuckDBPyConnection) -> None:
    """``_fast_new``: the rows alone in the run that share no key with anything stored."""
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


def _pick_fast_same(con: duckdb.DuckDBPyConnection) -> None:
    """``_fast_same``: rows seen before, word for word, in this very file (a re-import),
    which leave nothing to write."""
    # The kept sources compared, not the columns: a store from before keeps a copy of a
    # text's body that the row, being the same, no longer brings.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fast_same AS
           SELECT a.file_number, a.row FROM _fast_alone a
           JOIN _fast f USING (file_number, row)
           JOIN posts p ON p.url = a.url
           WHERE NOT p.title_derived
             AND (p.title, p.excerpt, p.body, p.category, p.tags, p.published,
                  {kept_source_sql("p")}, p.source_format)
                 IS NOT DISTINCT FROM (f.title, f.excerpt, f.body, f.category, f.tags, f.published,
                                       {kept_source_sql("f")}, f.source_format)
             AND EXISTS (SELECT 1 FROM sightings s
                         WHERE s.post_id = p.id AND s.source_digest = f.digest
                           AND s.fingerprint = a.fingerprint)
           QUALIFY count(*) OVER (PARTITION BY a.file_number, a.row) = 1"""
    )


def _insert_posts_and_sightings(
    con: duckdb.DuckDBPyConnection, run_id: int, seen_at: datetime
) -> None:
    """The rows of ``_fast_new`` into ``posts`` and ``sightings``."""
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


def _leftovers(con: duckdb.DuckDBPyConnection) -> list[Leftover]:
    """The fast rows neither new nor the same, as records for the merge, in file order."""
    rest = con.execute(
        """SELECT f.source, f.locator, f.title, f.excerpt, f.body, f.category,
                  f.tags, f.published, f.url, f.guid, f.body_source, f.source_format,
                  f.digest, f.file_number, f.row
           FROM _fast f
           ANTI JOIN _fast_new n ON n.file_number = f.file_number AND n.row = f.row
           ANTI JOIN _fast_same m ON m.file_number = f.file_number AND m.row = f.row
           ORDER BY f.file_number, f.row"""
    ).fetchall()
    return [
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
