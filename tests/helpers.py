"""Builders shared by several test modules (test modules never import one another)."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import threading
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lib.config import REPO_ROOT, SEED_DIR
from lib.ingest import run_ingest
from lib.store import connect_read_only


def seeded_store(folder: Path) -> str:
    """A store in ``folder`` holding the bundled data, imported by the real ingest."""
    path = str(folder / "posts.duckdb")
    run_ingest(path, [str(SEED_DIR)])
    return path


def query(db: str, sql: str, params: list[object] | None = None) -> list[tuple]:
    con = connect_read_only(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def table_state(db: str) -> list[tuple]:
    """Everything a user could see in the store, for before/after comparisons."""
    return query(db, "SELECT * FROM posts ORDER BY id") + query(
        db, "SELECT * FROM sightings ORDER BY post_id, source_digest, fingerprint"
    )


# --- Stores and the app ----------------------------------------------------------------

APP = str(REPO_ROOT / "app.py")


def plotly_values(value: Any) -> list[Any]:
    """A trace's array as a list, whether Plotly wrote it plainly or as typed base64."""
    if value is None:
        return []
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def build_store(db: str | Path, rows: list[dict[str, Any]]) -> str:
    """A store holding ``rows`` (JSON Lines records), imported by the real ingest code."""
    db = Path(db)
    source = db.with_suffix(".jsonl")
    source.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )
    summary = run_ingest(str(db), [str(source)])
    assert summary.added == len(rows), summary.describe()
    return str(db)


def open_app(
    monkeypatch: pytest.MonkeyPatch,
    db: str,
    page: str | None = None,
    params: dict[str, str | list[str]] | None = None,
) -> AppTest:
    """Open the app at ``/`` with ``params`` in the URL, then go to ``page`` if given."""
    monkeypatch.setenv("POSTS_DB", db)
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        for key, value in (params or {}).items():
            at.query_params[key] = value
        at.switch_page(page).run()
    assert_no_exception(at)
    return at


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


# --- The SQL console ----------------------------------------------------------------------

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


# --- A blog's feed, served on 127.0.0.1 ------------------------------------------------------


def rss(items: list[tuple[str, str, str]], title: str = "团队博客") -> bytes:
    """An RSS 2.0 feed of ``items``: (title, link, ``YYYY-MM-DD``), newest first, as blogs
    write them; each item's link is its guid."""
    entries = "".join(
        f"<item><title>{escape(name)}</title><link>{escape(link)}</link>"
        f"<guid>{escape(link)}</guid>"
        f"<pubDate>{format_datetime(datetime.fromisoformat(day).replace(tzinfo=UTC))}</pubDate>"
        f"<description>{escape(name)}：正文摘要，讲清楚这篇笔记的要点。</description></item>"
        for name, link, day in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://team.example.com/</link>"
        f"{entries}</channel></rss>"
    ).encode()


class FeedServer:
    """An HTTP server on 127.0.0.1 whose answers a test sets, path by path.

    ``serve(path, body)`` answers 200 with ``body``; ``serve(path, b"", status=500)`` fails;
    a path never served is a 404; ``delay_s`` holds every answer back, as a slow blog does.
    """

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes]] = {}
        self.delay_s = 0.0
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                time.sleep(owner.delay_s)
                status, body = owner.routes.get(self.path, (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:  # the test's output, not the server's
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def serve(self, path: str, body: bytes, status: int = 200) -> str:
        self.routes[path] = (status, body)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- A decade of weekly posts ---------------------------------------------------------------

DECADE_CATEGORIES = ("Large Model", "NLP", "Python", "Generative Model", None)
DECADE_FIRST = date(2016, 1, 3)
DECADE_LAST = date(2025, 12, 28)  # a Sunday: the last week is whole, December nearly so


def decade_posts() -> list[dict[str, Any]]:
    """A post a week from 3 Jan 2016 to 28 Dec 2025, categories cycling (every fifth none).

    Large Model and uncategorized posts mention FlashAttention; the others do not, so a
    search for it leaves out three categories.
    """
    rows = []
    for i in range((DECADE_LAST - DECADE_FIRST).days // 7 + 1):
        category = DECADE_CATEGORIES[i % len(DECADE_CATEGORIES)]
        topic = "FlashAttention 显存优化" if category in ("Large Model", None) else "分词与数据清洗"
        rows.append(
            {
                # Long enough that one line of it does not fit a phone's width.
                "title": f"第{i}周笔记:{topic},以及长上下文推理里的显存占用与吞吐量对比",
                "excerpt": f"本周记录 {topic} 的实验,第 {i} 次。",
                "category": category,
                "date": (DECADE_FIRST + timedelta(weeks=i)).isoformat(),
                "url": f"https://notes.example.com/w/{i}",
            }
        )
    return rows
