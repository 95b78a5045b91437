"""The DuckDB store: schema, read-only connections, and all-or-nothing writes.

A running app holds the file open read-only, and DuckDB then refuses any writer
in another process. Writes therefore go to a copy that replaces the file in one
``os.replace`` when the import has committed: readers keep the old file until
they reconnect, and a writer killed at any point leaves the old file untouched.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from lib.dates import published_years
from lib.locator import locate, refuse_writes

SCHEMA_VERSION = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (
    id            VARCHAR PRIMARY KEY,
    title         VARCHAR,
    title_derived BOOLEAN NOT NULL DEFAULT FALSE,
    excerpt       VARCHAR,
    body          VARCHAR,
    category      VARCHAR,
    tags          VARCHAR[],
    published     DATE,
    url           VARCHAR CHECK (url IS NULL OR regexp_matches(url, '^https?://')),
    source        VARCHAR NOT NULL,
    first_seen    TIMESTAMP NOT NULL,
    last_seen     TIMESTAMP NOT NULL,
    sightings     INTEGER NOT NULL DEFAULT 1,
    doc           INTEGER,
    doc_len       INTEGER,
    body_source   VARCHAR,  -- the text as the source gave it (lib.ingest.records)
    source_format VARCHAR   -- 'markdown' | 'html' | 'text'
);
-- Stores from schema 1 get the search index columns; ingest fills them.
ALTER TABLE posts ADD COLUMN IF NOT EXISTS doc INTEGER;
ALTER TABLE posts ADD COLUMN IF NOT EXISTS doc_len INTEGER;
-- Stores from before schema 8 get the source columns, empty: the next import of a post,
-- or nothing, fills them (``--rederive`` leaves such posts as they are).
ALTER TABLE posts ADD COLUMN IF NOT EXISTS body_source VARCHAR;
ALTER TABLE posts ADD COLUMN IF NOT EXISTS source_format VARCHAR;
-- The search index (see lib/ingest/index.py). Postings are kept sorted by term_id, so
-- DuckDB's zone maps skip every row group but a term's own.
CREATE TABLE IF NOT EXISTS terms (
    term_id INTEGER NOT NULL,
    term    VARCHAR NOT NULL,
    df      INTEGER NOT NULL,
    topical BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS postings (
    term_id INTEGER NOT NULL,
    doc     INTEGER NOT NULL,
    tf      INTEGER NOT NULL,
    impact  REAL NOT NULL     -- BM25's tf part, length-normalised when indexed
);
DROP TABLE IF EXISTS term_postings;
CREATE TABLE IF NOT EXISTS post_keywords (
    doc       INTEGER NOT NULL,
    term      VARCHAR NOT NULL,
    weight    DOUBLE NOT NULL,
    category  VARCHAR,
    published DATE
);
-- Keyword counts per term, category and month, rebuilt by every import: topic lists over
-- whole months read these instead of every post's keywords (see lib/topics.py).
CREATE TABLE IF NOT EXISTS topic_months (
    term     VARCHAR NOT NULL,
    category VARCHAR,
    month    DATE,
    posts    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS keyed_months (
    category VARCHAR,
    month    DATE,
    posts    INTEGER NOT NULL  -- posts with at least one keyword
);
CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id      INTEGER PRIMARY KEY,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    sources     VARCHAR[] NOT NULL,
    formats     VARCHAR[] NOT NULL,
    files       INTEGER NOT NULL,
    records     INTEGER NOT NULL,
    added       INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    rejected    INTEGER NOT NULL,
    conflicts   INTEGER NOT NULL,
    dates_out_of_range INTEGER DEFAULT 0  -- stored as no date (lib/dates.py)
);
-- Stores from before schema 6 get the count; their runs counted none.
ALTER TABLE ingest_runs ADD COLUMN IF NOT EXISTS dates_out_of_range INTEGER DEFAULT 0;
CREATE TABLE IF NOT EXISTS sightings (
    post_id       VARCHAR NOT NULL,
    run_id        INTEGER NOT NULL,
    source        VARCHAR NOT NULL,
    locator       VARCHAR NOT NULL,
    source_digest VARCHAR NOT NULL,
    fingerprint   VARCHAR NOT NULL,
    guid          VARCHAR,
    lead          VARCHAR NOT NULL,
    stem          VARCHAR NOT NULL,
    truncated     BOOLEAN NOT NULL,
    seen_at       TIMESTAMP NOT NULL,
    link          VARCHAR  -- the link as identity compares it (lib/ingest/identity.py)
);
-- Stores from before schema 7 get the link; ensure_schema fills it from the posts' links.
ALTER TABLE sightings ADD COLUMN IF NOT EXISTS link VARCHAR;
CREATE TABLE IF NOT EXISTS conflicts (
    run_id   INTEGER NOT NULL,
    post_id  VARCHAR NOT NULL,
    field    VARCHAR NOT NULL,
    kept     VARCHAR,
    offered  VARCHAR,
    locator  VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
    run_id  INTEGER NOT NULL,
    locator VARCHAR NOT NULL,
    reason  VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    # Earlier layouts of the index are rebuilt (see lib.bootstrap.upgrade), not converted.
    columns = {
        row[0]
        for row in con.execute(
            """SELECT column_name FROM duckdb_columns()
               WHERE table_name = 'postings' AND NOT internal"""
        ).fetchall()
    }
    if columns and "impact" not in columns:
        con.execute("DROP TABLE postings")
    previous = _stored_version(con)
    con.execute(SCHEMA)
    if 0 < previous < 6:
        _forget_dates_out_of_range(con)
    if 0 < previous < 7:
        _fill_sighting_links(con)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def _stored_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version the store was written with; 0 for a new store."""
    try:
        return int(scalar(con, "SELECT value FROM meta WHERE key = 'schema_version'") or 0)
    except duckdb.CatalogException:
        return 0


def _forget_dates_out_of_range(con: duckdb.DuckDBPyConnection) -> None:
    """Give no date to posts whose date lies outside the years the store keeps.

    Imports before schema 6 stored them (``0000-01-01``, which DuckDB hands back as the
    text ``0001-01-01 (BC)``, or ``9999-12-31``) and each broke every page that showed
    it; re-importing cannot clear them, as a merge keeps a stored date.
    """
    years = published_years()
    outside = f"published IS NOT NULL AND NOT {years.sql('published')}"
    found = con.execute(f"SELECT count(*) FROM posts WHERE {outside}", years.sql_params())
    if not found.fetchall()[0][0]:
        return
    for table in ("posts", "post_keywords"):
        con.execute(f"UPDATE {table} SET published = NULL WHERE {outside}", years.sql_params())
    from lib.ingest.keywords import refresh_topic_months  # the index builds on the store

    refresh_topic_months(con)


def _fill_sighting_links(con: duckdb.DuckDBPyConnection) -> None:
    """Give the sightings of a store from before schema 7 their post's link, as identity
    compares it: those stores matched posts by the stored link alone."""
    from lib.ingest.identity import link_key  # lib.ingest imports this module

    rows = con.execute("SELECT id, url FROM posts WHERE url IS NOT NULL").fetchall()
    if not rows:
        return
    links = pa.table({"id": [pid for pid, _ in rows], "link": [link_key(url) for _, url in rows]})
    con.register("_links", links)
    try:
        con.execute(
            "UPDATE sightings SET link = l.link FROM _links l WHERE sightings.post_id = l.id"
        )
    finally:
        con.unregister("_links")


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    """The single value of a query, with its result fully consumed.

    DuckDB 2.0 refuses further work on a connection whose last result was only
    partly fetched, so ``execute(...).fetchone()`` alone is a trap.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


# DuckDB's default memory limit is 80% of the machine's RAM, and it keeps what it has
# taken (the Topics page's hash tables, at a million posts): capped, with spilling to a
# temporary folder, the server stays within the smallest cloud container. One process
# must open a file with one configuration, so every read-only connection uses this one.
READ_LIMITS = {
    "memory_limit": "256MB",
    "temp_directory": os.path.join(tempfile.gettempdir(), "posts-explorer-spill"),
}


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether ``name`` (an internal table name, maybe qualified) can be read through ``con``:
    probed, since a temporary, attached or scratch table is in no one catalogue."""
    try:
        con.execute(f"SELECT 1 FROM {name} LIMIT 0")
    except duckdb.CatalogException:
        return False
    return True


def connect_read_only(path: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    """A connection that cannot change the file, for the app and the SQL page."""
    return duckdb.connect(str(path), read_only=True, config=READ_LIMITS)


def file_signature(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """Identity of the file now on disk; changes whenever a write swaps it in."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)


@contextlib.contextmanager
def writer_lock(path: str | os.PathLike[str], wait: bool = True) -> Iterator[bool]:
    """One writer at a time per database file, across processes; yields whether it is held.

    The kernel releases the lock when its holder dies, however it died. With
    ``wait=False`` a lock held elsewhere yields False at once instead of waiting.
    """
    lock_path = f"{path}.lock"
    Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _copies(target: Path) -> list[Path]:
    """The writers' copies of ``target`` (``<name>.tmp<pid>`` and its WAL) on disk now."""
    pattern = re.compile(rf"{re.escape(target.name)}\.tmp\d+(\.wal)?")
    return [p for p in target.parent.glob(f"{target.name}.tmp*") if pattern.fullmatch(p.name)]


def remove_stale_copies(path: str | os.PathLike[str]) -> list[Path]:
    """Delete the copies of the store that killed imports left behind; returns them.

    A copy is stale when no writer holds the store's lock: a live writer holds it from
    before its copy exists until after the copy is gone, so its copy is never touched.
    When a writer holds it, nothing is removed (that writer removes the leftovers itself).
    """
    target = Path(path)
    if not _copies(target):
        return []  # the usual case: no lock file is created beside a store that has none
    with writer_lock(target, wait=False) as held:
        return _remove_copies(target) if held else []


def _remove_copies(target: Path) -> list[Path]:
    """Delete every copy of ``target``; only for the holder of its writer lock."""
    copies = _copies(target)
    for copy in copies:
        copy.unlink(missing_ok=True)
    return copies


@contextlib.contextmanager
def write_transaction(path: str | os.PathLike[str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a private copy of the store that replaces it only on success.

    The body runs inside one DuckDB transaction on the copy; an exception (or a
    kill) before the final ``os.replace`` leaves the original file as it was. A Parquet
    dataset or a MotherDuck database is refused (``lib.locator.StoreReadOnly``) before
    anything is touched: neither can be replaced this way.
    """
    refuse_writes(locate(path))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(target):
        _remove_copies(target)  # holding the lock, any copy is a killed writer's
        tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
        if target.exists():
            shutil.copyfile(target, tmp)
            wal = Path(f"{target}.wal")
            if wal.exists():
                shutil.copyfile(wal, f"{tmp}.wal")
        try:
            con = duckdb.connect(str(tmp))
            try:
                # DuckDB's own progress bar would print over the import's, and under -q.
                con.execute("SET enable_progress_bar = false")
                ensure_schema(con)
                con.execute("BEGIN TRANSACTION")
                yield con
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
            finally:
                con.close()
            _sync_file(tmp)
            os.replace(tmp, target)
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{target}.wal")
        finally:
            _remove_db_files(tmp)


def _sync_file(path: Path) -> None:
    """Flush a file to the disk before it replaces the store; a failure stops the swap."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_db_files(path: Path) -> None:
    for candidate in (path, Path(f"{path}.wal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
