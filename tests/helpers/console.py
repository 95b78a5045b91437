"""The SQL console under attack: escape attempts, a runaway query, its workers in /proc."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from tests.helpers.stores import table_state

RUNAWAY = "SELECT sum(hash(a.range + b.range)) FROM range(100000) a, range(100000) b"


SECRET = "TOP-SECRET-CONTENT"


def snapshot(db: str) -> tuple[str, list[str], list[tuple]]:
    """The store's bytes, the files beside it, and its data: what no query may change."""
    folder = Path(db).parent
    digest = hashlib.sha256(Path(db).read_bytes()).hexdigest()
    return digest, sorted(p.name for p in folder.iterdir()), table_state(db)


def folder_listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


FILE_REFUSAL = "reads files, URLs or other SQL"


STATEMENT_REFUSAL = "Only read-only queries can run here"


UNKNOWN_TABLE = "Unknown table"


NOT_AVAILABLE = "is not available here"


ESCAPES: list[tuple[str, str]] = [
    # Writing, creating, changing the store
    ("COPY posts TO '{target}/out.csv'", "COPY is refused"),
    ("COPY (SELECT * FROM posts) TO '{target}/out.parquet' (FORMAT parquet)", "COPY is refused"),
    ("COPY posts FROM '{target}/secret.csv'", "COPY is refused"),
    ("INSERT INTO posts (id) VALUES ('x')", "INSERT is refused"),
    ("WITH x AS (SELECT 'y') INSERT INTO posts (id) SELECT * FROM x", "INSERT is refused"),
    ("UPDATE posts SET title = 'pwned'", "UPDATE is refused"),
    ("DELETE FROM posts", "DELETE is refused"),
    ("TRUNCATE posts", "TRUNCATE is refused"),
    ("DROP TABLE posts", "DROP is refused"),
    ("ALTER TABLE posts ADD COLUMN evil INTEGER", "ALTER is refused"),
    ("CREATE TABLE evil AS SELECT * FROM posts", "CREATE is refused"),
    ("CREATE TEMP TABLE evil (x INTEGER)", "CREATE is refused"),
    ("CREATE MACRO evil(x) AS x", "CREATE is refused"),
    ("CREATE SECRET (TYPE s3, KEY_ID 'k', SECRET 's')", "CREATE is refused"),
    ("EXPORT DATABASE '{target}/export'", "EXPORT is refused"),
    ("IMPORT DATABASE '{target}'", "IMPORT is refused"),
    ("CHECKPOINT", "CHECKPOINT is refused"),
    ("VACUUM", "VACUUM is refused"),
    ("ANALYZE", "ANALYZE is refused"),
    ("BEGIN TRANSACTION", "BEGIN is refused"),
    ("PREPARE p AS SELECT 1", "PREPARE is refused"),
    # Other databases, extensions, settings
    ("ATTACH '{target}/other.db' AS other", "ATTACH is refused"),
    ("ATTACH ':memory:' AS scratch", "ATTACH is refused"),
    ("DETACH posts_db", "DETACH is refused"),
    ("USE memory", "USE is refused"),
    ("INSTALL httpfs", "INSTALL is refused"),
    ("FORCE INSTALL httpfs", "FORCE is refused"),
    ("LOAD httpfs", "LOAD is refused"),
    ("LOAD '{target}/evil.duckdb_extension'", "LOAD is refused"),
    ("UPDATE EXTENSIONS", "UPDATE is refused"),
    ("SET enable_external_access = true", "SET is refused"),
    ("SET lock_configuration = false", "SET is refused"),
    ("SET memory_limit = '100GB'", "SET is refused"),
    ("RESET threads", "RESET is refused"),
    ("SET VARIABLE x = 1", "SET is refused"),
    ("PRAGMA enable_profiling", "PRAGMA is refused"),
    ("PRAGMA database_list", "PRAGMA is refused"),
    ("CALL pragma_version()", "CALL is refused"),
    ("EXPLAIN ANALYZE SELECT * FROM posts", "EXPLAIN is refused"),
    ("PIVOT posts ON category", "PIVOT is refused"),
    # More than one statement, or a statement hidden behind a comment
    ("SELECT 1; DROP TABLE posts", "DROP is refused"),
    ("SELECT * FROM posts; COPY posts TO '{target}/out.csv'", "COPY is refused"),
    ("SELECT 1 -- a comment\n; DELETE FROM posts", "DELETE is refused"),
    ("/* SELECT 1; */ DROP TABLE posts -- SELECT", "DROP is refused"),
    ("SELECT 1; SELECT 2", "Run one statement at a time"),
    ("-- SELECT * FROM posts", "only comments"),
    # Files and URLs through table functions
    ("SELECT * FROM read_csv('/etc/passwd')", f"read_csv() {FILE_REFUSAL}"),
    ("SELECT * FROM read_csv_auto('{target}/secret.csv')", f"read_csv_auto() {FILE_REFUSAL}"),
    ("SELECT * FROM read_text('{target}/secret.txt')", f"read_text() {FILE_REFUSAL}"),
    ("SELECT * FROM read_blob('{store}')", f"read_blob() {FILE_REFUSAL}"),
    ("SELECT * FROM read_parquet('{target}/x.parquet')", f"read_parquet() {FILE_REFUSAL}"),
    ("SELECT * FROM read_json('/etc/hosts')", f"read_json() {FILE_REFUSAL}"),
    ("SELECT * FROM read_ndjson_objects('/etc/hosts')", FILE_REFUSAL),
    ("SELECT * FROM parquet_metadata('{target}/x.parquet')", FILE_REFUSAL),
    ("SELECT * FROM sniff_csv('/etc/passwd')", f"sniff_csv() {FILE_REFUSAL}"),
    ("SELECT * FROM glob('/*')", f"glob() {FILE_REFUSAL}"),
    ("SELECT * FROM sqlite_scan('{target}/x.db', 't')", FILE_REFUSAL),
    ("SELECT * FROM query_table('posts')", f"query_table() {FILE_REFUSAL}"),
    ("SELECT * FROM query('SELECT 1')", f"query() {FILE_REFUSAL}"),
    ("sElEcT * FrOm ReAd_CsV('/etc/passwd')", FILE_REFUSAL),
    ("SELECT (SELECT count(*) FROM read_text('/etc/passwd'))", FILE_REFUSAL),
    ("SELECT list_transform([1], x -> (SELECT 1 FROM read_text('/etc/passwd')))", FILE_REFUSAL),
    ("SELECT * FROM posts, read_text('{target}/secret.txt')", FILE_REFUSAL),
    ("WITH f AS (SELECT * FROM read_csv('/etc/passwd')) SELECT * FROM f", FILE_REFUSAL),
    ("SUMMARIZE SELECT * FROM read_csv('/etc/passwd')", FILE_REFUSAL),
    # Files and URLs as table names (DuckDB's replacement scans)
    ("SELECT * FROM '/etc/passwd'", f"{UNKNOWN_TABLE} '/etc/passwd'"),
    ("SELECT * FROM '{target}/secret.csv'", UNKNOWN_TABLE),
    ('SELECT * FROM "/etc/passwd"', UNKNOWN_TABLE),
    ("SELECT * FROM 'https://example.com/data.csv'", UNKNOWN_TABLE),
    ("SELECT * FROM 's3://bucket/data.parquet'", UNKNOWN_TABLE),
    ("FROM '{target}/*.csv'", UNKNOWN_TABLE),
    # The server's settings, environment, secrets and other databases
    ("SELECT getenv('HOME')", f"getenv() {NOT_AVAILABLE}"),
    ("SELECT current_setting('home_directory')", f"current_setting() {NOT_AVAILABLE}"),
    ("SELECT current_setting('secret_directory') OVER ()", f"current_setting() {NOT_AVAILABLE}"),
    ("SELECT * FROM duckdb_secrets()", f"duckdb_secrets() {NOT_AVAILABLE}"),
    ("SELECT * FROM which_secret('s3://bucket/x', 's3')", f"which_secret() {NOT_AVAILABLE}"),
    ("SELECT * FROM duckdb_settings()", f"duckdb_settings() {NOT_AVAILABLE}"),
    ("SELECT * FROM duckdb_extensions()", f"duckdb_extensions() {NOT_AVAILABLE}"),
    ("SELECT * FROM pragma_database_size()", NOT_AVAILABLE),
    ("SELECT * FROM duckdb_databases", f"{UNKNOWN_TABLE} 'duckdb_databases'"),
    ("SELECT * FROM pg_catalog.pg_settings", UNKNOWN_TABLE),
    ("SELECT * FROM system.main.duckdb_settings", UNKNOWN_TABLE),
    ("SELECT * FROM memory.main.anything", UNKNOWN_TABLE),
    ("DESCRIBE duckdb_settings", UNKNOWN_TABLE),
    ("SHOW DATABASES", "SHOW DATABASES is not available"),
    ("SELECT * FROM (WITH x AS (SELECT 1) SELECT 1), duckdb_settings", UNKNOWN_TABLE),
    ("SELECT json_execute_serialized_sql(json_serialize_sql('SELECT 1'))", "runs other SQL"),
    ("SELECT database_size()", NOT_AVAILABLE),
    ("SELECT sleep_ms(1000000)", f"sleep_ms() {NOT_AVAILABLE}"),
    ("SELECT * FROM test_all_types()", NOT_AVAILABLE),
]


def console_workers(parent: int | None = None) -> list[int]:
    """Process ids of the live console workers of ``parent`` (this process by default), read
    from /proc as the OS sees them."""
    me = str(parent or os.getpid())
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = stat.rsplit(")", 1)[-1].split()[1]
        state = stat.rsplit(")", 1)[-1].split()[0]
        if parent == me and state != "Z" and b"lib.console.worker" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def cpu_ticks(pid: int) -> int | None:
    """A process's user plus system CPU time in clock ticks, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[11]) + int(fields[12])


def busy_workers(within_s: float = 3.0, window_s: float = 0.3) -> list[int]:
    """Console workers still using CPU after ``within_s``: a killed or idle worker uses none.

    A worker that is starting (importing DuckDB) uses CPU for a moment, so this waits for
    one quiet window rather than judging the first.
    """
    deadline = time.monotonic() + within_s
    while True:
        before = {pid: cpu_ticks(pid) for pid in console_workers()}
        time.sleep(window_s)
        busy = [
            pid
            for pid, ticks in before.items()
            if ticks is not None and (cpu_ticks(pid) or 0) > ticks
        ]
        if not busy or time.monotonic() > deadline:
            return busy


def rss_bytes(pid: int | None = None) -> int:
    """Resident memory of a process (this one by default), as the kernel counts it."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmRSS:")]
    return int(line.split()[1]) * 1024
