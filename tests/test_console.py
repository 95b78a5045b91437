"""``lib.console``: the SQL console reads the store's tables and nothing more, within limits.

Every test runs against a store built by the real ingest, in a folder of its own, and
checks afterwards that the file, the folder and the data are exactly as they were.
Expected values come from plain DuckDB over the same store.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit import dataframe_util

from lib import console, queries
from lib.console import (
    CANCEL_GRACE_S,
    EXAMPLES,
    MAX_ROWS,
    ConsoleBusy,
    ConsoleError,
    ConsoleRefused,
    ConsoleResult,
    ConsoleTimeout,
    check_statement,
    result_chart,
    run_console,
    sandbox,
)
from lib.filters import NO_CATEGORY, Filters
from lib.store import connect_read_only
from tests.conftest import query, seeded_store, table_state

# A query that would run for minutes: 10^10 hashes on the console's one thread.
RUNAWAY = "SELECT sum(hash(a.range + b.range)) FROM range(100000) a, range(100000) b"
SECRET = "TOP-SECRET-CONTENT"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundled data in a folder of its own, so that any file a query created would show."""
    return seeded_store(tmp_path_factory.mktemp("console-store"))


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where escape attempts try to write, with a file they try to read."""
    folder = tmp_path_factory.mktemp("console-target")
    (folder / "secret.txt").write_text(f"{SECRET}\n", encoding="utf-8")
    (folder / "secret.csv").write_text(f"a,b\n{SECRET},1\n", encoding="utf-8")
    return folder


def snapshot(db: str) -> tuple[str, list[str], list[tuple]]:
    """The store's bytes, the files beside it, and its data: what no query may change."""
    folder = Path(db).parent
    digest = hashlib.sha256(Path(db).read_bytes()).hexdigest()
    return digest, sorted(p.name for p in folder.iterdir()), table_state(db)


def folder_listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def unchanged(store: str, target: Path) -> Iterator[None]:
    """Fails the test if the store, its folder or the target folder changed."""
    before = snapshot(store), folder_listing(target)
    yield
    assert (snapshot(store), folder_listing(target)) == before


def console_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sql-console" and t.is_alive()]


def wait_for_console_threads(seconds: float = 30) -> None:
    """Cancelled queries stop on their own shortly after; wait (bounded) until they have."""
    deadline = time.monotonic() + seconds
    while console_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert console_threads() == [], "a console query kept running after it was cancelled"


# --- What the console answers ---------------------------------------------------------------


def test_a_query_returns_the_rows_the_store_holds(store: str) -> None:
    result = run_console(store, "SELECT id, title FROM posts ORDER BY id")
    assert isinstance(result, ConsoleResult)
    expected = query(store, "SELECT id, title FROM posts ORDER BY id")
    assert list(result.frame.itertuples(index=False, name=None)) == expected
    assert not result.truncated
    assert result.describe().startswith(f"{len(expected)} rows in ")


@pytest.mark.parametrize(
    "sql",
    [
        "FROM posts SELECT count(*)",
        "WITH c AS (SELECT category FROM posts) SELECT count(*) FROM c",
        "SELECT count(*) FROM posts_db.main.posts",
        "SELECT count(*) FROM main.posts",
        'SELECT count(*) FROM "Posts"',
        "SELECT count(*) FROM (SELECT * FROM posts) AS p",
        "SELECT count(*) FROM posts, unnest(range(1)) AS r(x)",
        "SELECT count(*) FROM posts WHERE id IN (SELECT post_id FROM sightings)",
        "SELECT count(*) FROM posts  -- a trailing comment;",
        "/* a leading comment */ SELECT count(*) FROM posts;",
    ],
)
def test_read_only_forms_run(store: str, sql: str) -> None:
    (total,) = query(store, "SELECT count(*) FROM posts")[0]
    assert run_console(store, sql).frame.iloc[0, 0] == total


@pytest.mark.parametrize("sql", ["DESCRIBE posts", "SHOW TABLES", "SHOW ALL TABLES"])
def test_schema_statements_run(store: str, sql: str) -> None:
    assert run_console(store, sql).rows > 0


def test_summarize_and_information_schema_run(store: str) -> None:
    summary = run_console(store, "SUMMARIZE posts").frame
    assert "id" in set(summary["column_name"])
    columns = run_console(
        store,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'posts'"
        " ORDER BY ordinal_position",
    ).frame
    assert list(columns["column_name"])[:2] == ["id", "title"]


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_example_runs_and_finds_rows(store: str, name: str) -> None:
    result = run_console(store, EXAMPLES[name])
    assert result.rows > 0, name
    assert result_chart(result.frame) is not None


def test_example_posts_per_category_matches_the_store(store: str) -> None:
    frame = run_console(store, EXAMPLES["Posts per category"]).frame
    expected = query(store, "SELECT category, count(*) FROM posts GROUP BY 1")
    assert dict(zip(frame["category"], frame["posts"], strict=True)) == {
        (c if c is not None else NO_CATEGORY): n for c, n in expected
    }


def test_the_schema_lists_every_table_and_column(store: str) -> None:
    frame = console.schema(store)
    expected = query(
        store,
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main'"
        " AND NOT internal",
    )
    assert set(zip(frame["table"], frame["column"], strict=True)) == set(expected)
    assert frame["table"].iloc[0] == "posts"  # the table people ask about comes first
    posts_rows = frame.loc[frame["table"] == "posts", "rows"].iloc[0]
    assert posts_rows == query(store, "SELECT count(*) FROM posts")[0][0]


def test_tables_added_to_the_store_appear_in_the_schema_and_can_be_read(tmp_path: Path) -> None:
    db = seeded_store(tmp_path)
    con = duckdb.connect(db)
    try:
        con.execute("CREATE TABLE new_index AS SELECT 'lora' AS term, 3 AS df")
    finally:
        con.close()
    assert {"term", "df"} <= set(console.schema(db).query("table == 'new_index'")["column"])
    assert run_console(db, "SELECT term, df FROM new_index").frame.to_dict("records") == [
        {"term": "lora", "df": 3}
    ]


def test_awkward_types_reach_a_displayable_frame(store: str) -> None:
    """Types pandas or Streamlit cannot hold become text; duplicate names get a suffix."""
    result = run_console(
        store,
        "SELECT union_value(k := 1) AS u, 'infinity'::DATE AS d, MAP {'a': 1} AS m,"
        " INTERVAL 1 DAY AS i, 1::BIGNUM AS b, [1, 2] AS l, {'x': 1} AS s,"
        " 'x'::ENUM('x', 'y') AS e, 1.5::DECIMAL(38, 2) AS dec, NULL AS n, 1 AS v, 2 AS v",
    )
    frame = result.frame
    assert list(frame.columns)[-2:] == ["v", "v (2)"]
    assert all(isinstance(frame.loc[0, name], str) for name in ("u", "d", "m", "i", "b"))
    dataframe_util.convert_anything_to_arrow_bytes(frame)  # what st.dataframe does
    assert result.csv().startswith(b"\xef\xbb\xbf")
    assert len(result.csv().decode("utf-8-sig").splitlines()) == 2


def test_post_text_comes_back_as_data(tmp_path: Path) -> None:
    """Hostile text in a post is a value in a cell: nothing in the console interprets it."""
    from tests.test_queries import build_store

    payload = "<script>alert(1)</script> [x](javascript:alert(1)) :red[x] $x$ '; DROP TABLE posts"
    db = build_store(tmp_path / "posts.duckdb", [{"title": payload, "excerpt": payload}])
    frame = run_console(db, "SELECT title FROM posts").frame
    assert list(frame["title"]) == [payload]
    assert query(db, "SELECT count(*) FROM posts") == [(1,)]


# --- Escape attempts: each refused with a message that says what and why ---------------------

FILE_REFUSAL = "reads files, URLs or other SQL"
STATEMENT_REFUSAL = "Only read-only queries can run here"
UNKNOWN_TABLE = "Unknown table"
NOT_AVAILABLE = "is not available here"

# (SQL, what the message must say). ``{target}`` is a folder outside the store,
# ``{store}`` the store file itself.
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


@pytest.mark.parametrize(("sql", "says"), ESCAPES, ids=[sql[:50] for sql, _ in ESCAPES])
@pytest.mark.usefixtures("unchanged")
def test_escape_attempt_is_refused(store: str, target: Path, sql: str, says: str) -> None:
    text = sql.format(target=target, store=store)
    with pytest.raises(ConsoleRefused) as refused:
        run_console(store, text)
    message = refused.value.message
    assert says in message
    assert SECRET not in message
    if store not in text:
        assert store not in message  # the message never tells where the store lives


def test_there_are_at_least_thirty_escape_attempts() -> None:
    assert len(ESCAPES) >= 30
    assert len({sql for sql, _ in ESCAPES}) == len(ESCAPES)


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("", "Write a query first"),
        ("   \n\t ", "Write a query first"),
        ("SELECT 1 " + "-" * console.MAX_SQL_CHARS, "the limit is"),
        ("SELECT '\x00'", "NUL"),
        ("SELECT '\ud800'", "not valid Unicode"),
    ],
    ids=["empty", "blank", "too-long", "nul", "surrogate"],
)
def test_unusable_text_is_refused(store: str, sql: str, says: str) -> None:
    with pytest.raises(ConsoleRefused, match=says):
        run_console(store, sql)


def test_errors_are_messages_without_the_store_path(store: str) -> None:
    with pytest.raises(ConsoleError) as failed:
        run_console(store, "SELECT * FROM posts WHERE nonexistent = 1")
    assert type(failed.value) is ConsoleError
    assert "nonexistent" in failed.value.message
    assert store not in failed.value.message
    with pytest.raises(ConsoleError, match="syntax error"):
        run_console(store, "SELEC 1")
    with pytest.raises(ConsoleError, match="boom"):  # raised while the rows stream
        run_console(store, "SELECT CASE WHEN range = 5000 THEN error('boom') END FROM range(9000)")


# --- The sandbox on its own: a second wall behind the checks ---------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "COPY posts TO '{target}/out.csv'",
        "ATTACH '{target}/other.db' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "SET threads = 8",
        "SET memory_limit = '100GB'",
        "SET allowed_directories = ['/']",
        "SET temp_directory = '{target}'",
        "RESET enable_external_access",
        "SELECT * FROM read_text('{target}/secret.txt')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM '{target}/secret.csv'",
        "SELECT * FROM glob('{target}/*')",
        "INSERT INTO posts (id) VALUES ('x')",
        "UPDATE posts SET title = 'pwned'",
        "DELETE FROM posts",
        "DROP TABLE posts",
        "CREATE TABLE posts_db.main.evil (x INTEGER)",
        "SELECT * FROM leak",  # a pandas DataFrame in this frame: no replacement scan
    ],
)
@pytest.mark.usefixtures("unchanged")
def test_the_sandbox_alone_refuses(store: str, target: Path, sql: str) -> None:
    leak = pd.DataFrame({"secret": [SECRET]})  # noqa: F841  (bait for a replacement scan)
    con = sandbox(store)
    try:
        with pytest.raises(duckdb.Error) as failed:
            con.execute(sql.format(target=target)).fetchall()
        assert SECRET not in str(failed.value)
        settings_now = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ('threads',"
                " 'enable_external_access', 'lock_configuration', 'memory_limit',"
                " 'autoload_known_extensions', 'autoinstall_known_extensions',"
                " 'python_enable_replacements', 'temp_directory')"
            ).fetchall()
        )
    finally:
        con.close()
    assert settings_now == {
        "threads": "1",
        "enable_external_access": "false",
        "lock_configuration": "true",
        "memory_limit": settings_now["memory_limit"],
        "autoload_known_extensions": "false",
        "autoinstall_known_extensions": "false",
        "python_enable_replacements": "false",
        "temp_directory": "",
    }
    assert settings_now["memory_limit"].startswith("244")  # 256 MB, shown in MiB


def test_the_sandbox_holds_no_secrets_and_no_other_data(store: str) -> None:
    con = sandbox(store)
    try:
        assert con.execute("SELECT count(*) FROM duckdb_secrets()").fetchall() == [(0,)]
        databases = con.execute(
            "SELECT database_name FROM duckdb_databases() WHERE NOT internal ORDER BY 1"
        ).fetchall()
        assert databases == [("memory",), ("posts_db",)]
        assert con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name <> 'posts_db'"
        ).fetchall() == [(0,)]
    finally:
        con.close()


def test_the_console_and_the_app_read_the_store_at_once(store: str) -> None:
    """The app keeps its read-only connection open; the console attaches the same file."""
    app = connect_read_only(store)
    try:
        assert (
            run_console(store, "SELECT count(*) FROM posts").frame.iloc[0, 0]
            == (app.execute("SELECT count(*) FROM posts").fetchall()[0][0])
        )
        assert app.execute("SELECT count(*) FROM posts").fetchall()[0][0] > 0
    finally:
        app.close()


# --- Time, rows, bytes, memory ---------------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
def test_a_runaway_query_is_cancelled_after_the_time_limit(store: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConsoleTimeout, match=r"Query cancelled after 1 s"):
        run_console(store, RUNAWAY, timeout_s=1)
    # A generous bound: the limit, the grace given to stop, and slack for a slow machine.
    assert time.monotonic() - started < 1 + CANCEL_GRACE_S + 10
    wait_for_console_threads()


def test_a_runaway_query_does_not_stall_other_queries(store: str) -> None:
    outcome: dict[str, BaseException] = {}

    def slow() -> None:
        try:
            run_console(store, RUNAWAY, timeout_s=8)
        except ConsoleError as exc:
            outcome["slow"] = exc

    runner = threading.Thread(target=slow)
    runner.start()
    try:
        while not console_threads():
            time.sleep(0.01)
        expected = query(store, "SELECT id FROM posts ORDER BY id")
        for n in range(1, 11):
            result = run_console(store, f"SELECT id FROM posts ORDER BY id LIMIT {n}")
            assert list(result.frame["id"]) == [r[0] for r in expected[:n]]
        assert runner.is_alive(), "the quick queries waited for the slow one"
    finally:
        runner.join()
    assert isinstance(outcome.get("slow"), ConsoleTimeout)
    wait_for_console_threads()


def test_a_full_console_says_busy(store: str) -> None:
    taken = 0
    try:
        while console._slots.acquire(blocking=False):
            taken += 1
        assert taken == console.MAX_CONCURRENT
        with pytest.raises(ConsoleBusy, match="busy"):
            run_console(store, "SELECT 1", timeout_s=0.2)
    finally:
        for _ in range(taken):
            console._slots.release()
    assert run_console(store, "SELECT 1").rows == 1


def test_rows_are_capped(store: str) -> None:
    result = run_console(store, "SELECT * FROM range(1000000)")
    assert result.rows == MAX_ROWS
    assert result.truncated and result.limit_reason == "rows"
    assert list(result.frame["range"][:3]) == [0, 1, 2]
    assert "cut to the first 10,000 rows" in result.describe()
    small = run_console(store, "SELECT * FROM posts", max_rows=5)
    assert small.rows == 5 and small.truncated


def test_a_result_of_exactly_the_cap_is_not_truncated(store: str) -> None:
    result = run_console(store, "SELECT * FROM range(100)", max_rows=100)
    assert result.rows == 100 and not result.truncated


def test_result_bytes_are_capped(store: str) -> None:
    result = run_console(
        store, "SELECT repeat('x', 100000) AS s FROM range(1000)", max_bytes=1_000_000
    )
    assert result.truncated and result.limit_reason == "bytes"
    assert 0 < result.rows <= 10
    assert "cut to the first" in result.describe()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT list(range) FROM range(100000000)",
        "SELECT string_agg(repeat('x', 1000), ',') FROM range(1000000)",
    ],
)
def test_memory_is_capped(store: str, sql: str) -> None:
    with pytest.raises(ConsoleError, match="more memory than the console allows"):
        run_console(store, sql, timeout_s=30)


# --- Charts -----------------------------------------------------------------------------------


def test_chart_of_counts_per_category(store: str) -> None:
    frame = run_console(store, EXAMPLES["Posts per category"]).frame
    figure = result_chart(frame)
    assert figure is not None
    (trace,) = figure.data
    assert trace.type == "bar"
    assert list(trace.x) == list(frame["category"])
    assert list(trace.y) == list(frame["posts"])


def test_chart_over_time_is_a_line() -> None:
    frame = pd.DataFrame({"month": pd.to_datetime(["2025-01-01", "2025-02-01"]), "posts": [3, 4]})
    (trace,) = result_chart(frame).data
    assert trace.type == "scatter" and list(trace.y) == [3, 4]


def test_chart_without_numbers_counts_rows() -> None:
    frame = pd.DataFrame({"category": ["a", "b", "a"], "title": ["x", "y", "z"]})
    (trace,) = result_chart(frame).data
    assert dict(zip(trace.x, trace.y, strict=True)) == {"a": 2, "b": 1}


def test_no_chart_for_no_rows() -> None:
    assert result_chart(pd.DataFrame({"a": []})) is None


def test_chart_labels_from_results_are_drawn_as_written_not_as_markup() -> None:
    link = '<a href="https://example.invalid">x</a> & <b>y</b>'
    drawn = '&lt;a href="https://example.invalid"&gt;x&lt;/a&gt; &amp; &lt;b&gt;y&lt;/b&gt;'
    figure = result_chart(pd.DataFrame({link: [link, "plain"], "posts": [1, 2]}))
    (trace,) = figure.data
    assert list(trace.x) == [drawn, "plain"]
    assert figure.layout.xaxis.title.text == drawn
    (counted,) = result_chart(pd.DataFrame({"category": [link, link]})).data
    assert list(counted.x) == [drawn]


# --- Fuzzing ----------------------------------------------------------------------------------

FRAGMENTS = [
    ";",
    "'",
    '"',
    "(",
    ")",
    "--",
    "/*",
    "*/",
    ",",
    "*",
    "?",
    "$1",
    "\\",
    "\x00",
    "\n",
    "🙂",
    "中文",
    "\u202e",
    "\ufeff",
    " DROP TABLE posts",
    "; DELETE FROM posts",
    " read_csv('/etc/passwd')",
    " FROM '/etc/passwd'",
    " UNION ALL SELECT * FROM duckdb_settings()",
    "'; COPY posts TO '/tmp/fuzz.csv'; --",
    " ATTACH ':memory:'",
    " LIMIT 0",
    " WHERE 1=1",
    " JOIN sightings ON TRUE",
    " ORDER BY 1 DESC",
    " GROUP BY ALL",
    " current_setting('threads')",
    " getenv('HOME')",
    "WITH x AS (SELECT 1) ",
    " SET threads=8",
]
COLUMNS = {
    "posts": ["id", "title", "category", "published", "tags", "sightings", "excerpt"],
    "sightings": ["post_id", "source", "seen_at", "truncated"],
    "ingest_runs": ["run_id", "added", "sources"],
    "post_keywords": ["term", "weight", "category"],
    "meta": ["key", "value"],
}
FUNCTIONS = [
    "count",
    "min",
    "max",
    "length",
    "lower",
    "upper",
    "len",
    "any_value",
    "approx_count_distinct",
]


def _random_text(rng: random.Random) -> str:
    kind = rng.randrange(3)
    n = rng.randrange(1, 80)
    if kind == 0:  # random bytes read as Latin-1
        return bytes(rng.randrange(256) for _ in range(n)).decode("latin-1")
    if kind == 1:  # random code points, surrogates included
        return "".join(chr(rng.randrange(0x110000)) for _ in range(n))
    return "".join(rng.choice("SELECT FROM WHERE posts ()*,;'\"-/ 0123456789abc") for _ in range(n))


def _random_query(rng: random.Random) -> str:
    table = rng.choice(list(COLUMNS))
    cols = rng.sample(COLUMNS[table], rng.randrange(1, 3))
    select = ", ".join(f"{rng.choice(FUNCTIONS)}({c})" if rng.random() < 0.3 else c for c in cols)
    sql = f"SELECT {select} FROM {table}"
    if rng.random() < 0.5:
        sql += f" WHERE {rng.choice(COLUMNS[table])} IS {rng.choice(['', 'NOT '])}NULL"
    if "(" in select and rng.random() < 0.7:
        plain = [c for c in cols if f"({c})" not in select]
        sql += " GROUP BY ALL" if plain else ""
    sql += f" LIMIT {rng.randrange(0, 50)}"
    return sql


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(7)
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randrange(1, 12))
        if op == 0:
            text = text[:i] + text[j:]
        elif op == 1:
            text = text[:i] + rng.choice(FRAGMENTS) + text[i:]
        elif op == 2:
            text = text[:i] + chr(rng.randrange(0x20, 0x3000)) + text[j:]
        elif op == 3:
            text = text[:i] + text[i:j] * rng.randrange(2, 5) + text[j:]
        elif op == 4:
            text = text[:i]
        elif op == 5:
            words = text.split(" ")
            rng.shuffle(words)
            text = " ".join(words)
        else:
            text = text.swapcase() if rng.random() < 0.5 else text + rng.choice(FRAGMENTS)
    return text


def fuzz_inputs(n: int, seed: int) -> list[str]:
    """Seeded: random text, mutations of valid and hostile SQL, and generated queries."""
    rng = random.Random(seed)
    seeds = [*EXAMPLES.values(), *(sql for sql, _ in ESCAPES)]
    inputs: list[str] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.3:
            inputs.append(_random_text(rng))
        elif roll < 0.85:
            inputs.append(_mutate(rng, rng.choice(seeds)))
        else:
            inputs.append(_random_query(rng))
    return inputs


@pytest.mark.usefixtures("unchanged")
def test_fuzzed_input_gives_a_result_or_a_message(store: str, target: Path) -> None:
    inputs = fuzz_inputs(1200, seed=20260101)
    assert len(inputs) >= 1000
    outcomes = {"result": 0, "refused": 0, "error": 0, "timeout": 0}
    for text in inputs:
        text = text.replace("{target}", str(target)).replace("{store}", store)
        try:
            result = run_console(store, text, timeout_s=3)
        except ConsoleTimeout:
            outcomes["timeout"] += 1
        except ConsoleRefused as exc:
            assert exc.message.strip(), text
            outcomes["refused"] += 1
        except ConsoleError as exc:
            assert exc.message.strip(), text
            outcomes["error"] += 1
        except Exception as exc:  # anything else is a crash of the console
            pytest.fail(f"{type(exc).__name__}: {exc} for input {text!r}")
        else:
            assert isinstance(result, ConsoleResult)
            dataframe_util.convert_anything_to_arrow_bytes(result.frame)
            outcomes["result"] += 1
    # The run exercised every path, not just the parser.
    assert outcomes["result"] >= 100, outcomes
    assert outcomes["refused"] >= 100, outcomes
    assert outcomes["error"] >= 100, outcomes
    wait_for_console_threads()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_checking_any_text_gives_a_statement_or_a_message(text: str) -> None:
    try:
        checked = check_statement(text)
    except ConsoleError as exc:
        assert exc.message.strip()
    else:
        assert checked.sql.strip()


# --- Many sessions at once -------------------------------------------------------------------


def _expected_answers(db: str) -> dict[str, Any]:
    categories = [r[0] for r in query(db, "SELECT DISTINCT category FROM posts ORDER BY 1")]
    return {
        "categories": categories,
        "counts": {
            c: query(
                db,
                "SELECT count(*) FROM posts WHERE category IS NOT DISTINCT FROM ?",
                [c],
            )[0][0]
            for c in categories
        },
        "ids": [r[0] for r in query(db, "SELECT id FROM posts ORDER BY id")],
    }


def test_twenty_concurrent_sessions_each_get_their_own_answers(store: str) -> None:
    """20 threads: 10 console queries, 10 filtered ``lib.queries`` calls on the app's cursor.

    Each thread asks a different question several times while the others run, and every
    answer is checked against one computed beforehand on a plain connection.
    """
    expected = _expected_answers(store)
    categories = expected["categories"]
    app = connect_read_only(store)  # the app's one shared connection; a cursor per thread
    barrier = threading.Barrier(20)
    failures: list[str] = []
    answered: list[int] = []
    lock = threading.Lock()

    def console_session(i: int) -> Callable[[], tuple[Any, Any]]:
        if i % 2:
            n = i + 1
            sql = f"SELECT id FROM posts ORDER BY id LIMIT {n}"
            return lambda: (list(run_console(store, sql).frame["id"]), expected["ids"][:n])
        category = categories[i // 2 % len(categories)]
        where = "category IS NULL" if category is None else f"category = '{category}'"
        sql = f"SELECT count(*) AS n FROM posts WHERE {where}"
        return lambda: (int(run_console(store, sql).frame["n"][0]), expected["counts"][category])

    def filter_session(i: int) -> Callable[[], tuple[Any, Any]]:
        category = categories[i % len(categories)]
        filters = Filters(categories=(NO_CATEGORY if category is None else category,))

        def ask() -> tuple[Any, Any]:
            cur = app.cursor()
            try:
                return queries.count(cur, filters), expected["counts"][category]
            finally:
                cur.close()

        return ask

    def session(i: int) -> None:
        ask = console_session(i) if i < 10 else filter_session(i)
        try:
            barrier.wait(timeout=60)
            for _ in range(5):
                got, want = ask()
                if got != want:
                    with lock:
                        failures.append(f"session {i}: got {got!r}, expected {want!r}")
                with lock:
                    answered.append(i)
        except Exception as exc:
            with lock:
                failures.append(f"session {i}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=session, args=(i,)) for i in range(20)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        app.close()
    assert failures == []
    assert sorted(set(answered)) == list(range(20))
    assert len(answered) == 100
