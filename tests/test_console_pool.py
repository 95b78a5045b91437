"""``lib.console.pool``: queries run in worker processes, within limits, many at once.

Queries run against a store built by the real ingest (the ``console_store`` fixture), and
expected values come from plain DuckDB over the same store.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lib import queries
from lib.console import (
    MAX_ROWS,
    ConsoleBusy,
    ConsoleError,
    ConsoleMemory,
    ConsoleResult,
    ConsoleTimeout,
    limits,
    pool,
    run_console,
)
from lib.console.pool import Pool
from lib.console.worker_handle import Worker, gone_error
from lib.filters import NO_CATEGORY, Filters
from lib.store import connect_read_only
from tests.helpers import RUNAWAY, build_store, busy_workers, cpu_ticks, query, rss_bytes


def test_a_query_returns_the_rows_the_store_holds(console_store: str) -> None:
    result = run_console(console_store, "SELECT id, title FROM posts ORDER BY id")
    assert isinstance(result, ConsoleResult)
    expected = query(console_store, "SELECT id, title FROM posts ORDER BY id")
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
def test_read_only_forms_run(console_store: str, sql: str) -> None:
    (total,) = query(console_store, "SELECT count(*) FROM posts")[0]
    assert run_console(console_store, sql).frame.iloc[0, 0] == total


@pytest.mark.parametrize("sql", ["DESCRIBE posts", "SHOW TABLES", "SHOW ALL TABLES"])
def test_schema_statements_run(console_store: str, sql: str) -> None:
    assert run_console(console_store, sql).rows > 0


def test_summarize_and_information_schema_run(console_store: str) -> None:
    summary = run_console(console_store, "SUMMARIZE posts").frame
    assert "id" in set(summary["column_name"])
    columns = run_console(
        console_store,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'posts'"
        " ORDER BY ordinal_position",
    ).frame
    assert list(columns["column_name"])[:2] == ["id", "title"]


def test_post_text_comes_back_as_data(tmp_path: Path) -> None:
    """Hostile text in a post is a value in a cell: nothing in the console interprets it."""
    payload = "<script>alert(1)</script> [x](javascript:alert(1)) :red[x] $x$ '; DROP TABLE posts"
    db = build_store(tmp_path / "posts.duckdb", [{"title": payload, "excerpt": payload}])
    frame = run_console(db, "SELECT title FROM posts").frame
    assert list(frame["title"]) == [payload]
    assert query(db, "SELECT count(*) FROM posts") == [(1,)]


def test_the_console_and_the_app_read_the_store_at_once(console_store: str) -> None:
    """The app keeps its read-only connection open; the console attaches the same file."""
    app = connect_read_only(console_store)
    try:
        assert (
            run_console(console_store, "SELECT count(*) FROM posts").frame.iloc[0, 0]
            == (app.execute("SELECT count(*) FROM posts").fetchall()[0][0])
        )
        assert app.execute("SELECT count(*) FROM posts").fetchall()[0][0] > 0
    finally:
        app.close()


@pytest.mark.usefixtures("unchanged")
def test_a_runaway_query_is_stopped_at_the_time_limit(console_store: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConsoleTimeout, match=r"Query cancelled after 1 s"):
        run_console(console_store, RUNAWAY, timeout_s=1)
    assert time.monotonic() - started < 1 + 1  # the limit, plus a worker's start at most
    assert busy_workers() == []  # killed, not asked: no worker goes on computing


def wait_until_running(n: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while pool().running < n:
        assert time.monotonic() < deadline, f"{n} queries never started"
        time.sleep(0.01)


def test_a_runaway_query_does_not_stall_other_queries(console_store: str) -> None:
    outcome: dict[str, BaseException] = {}

    def slow() -> None:
        try:
            run_console(console_store, RUNAWAY, timeout_s=8)
        except ConsoleError as exc:
            outcome["slow"] = exc

    runner = threading.Thread(target=slow)
    runner.start()
    try:
        wait_until_running(1)
        expected = query(console_store, "SELECT id FROM posts ORDER BY id")
        # Each answer must come while the runaway still runs: a query queued behind it would
        # come only after its deadline. No clock is asserted, so a loaded machine cannot fail it.
        for n in range(1, 4):
            result = run_console(console_store, f"SELECT id FROM posts ORDER BY id LIMIT {n}")
            assert list(result.frame["id"]) == [r[0] for r in expected[:n]]
            assert runner.is_alive(), f"quick query {n} waited for the slow one"
    finally:
        runner.join()
    assert isinstance(outcome.get("slow"), ConsoleTimeout)
    assert busy_workers() == []


def _occupy(console_store: str, sessions: list[str], timeout_s: float) -> list[threading.Thread]:
    """One runaway query per session, each on a thread of its own, all running."""

    def runaway(session: str) -> None:
        with pytest.raises(ConsoleTimeout):
            run_console(console_store, RUNAWAY, timeout_s=timeout_s, session=session)

    threads = [threading.Thread(target=runaway, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    wait_until_running(len(sessions))
    return threads


def test_a_full_console_says_where_a_query_stands_then_busy(
    console_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "QUEUE_WAIT_S", 0.6)
    monkeypatch.setattr(limits, "PREEMPT_AFTER_S", 60.0)  # the wait ends before any is stopped
    heard: list[str] = []
    threads = _occupy(console_store, [f"heavy-{i}" for i in range(pool().size)], timeout_s=4)
    try:
        with pytest.raises(ConsoleBusy, match="busy") as busy:
            run_console(console_store, "SELECT 1", session="late", on_wait=heard.append)
        assert f"all {pool().size} are running" in busy.value.message
        assert heard and all("Waiting for a free worker" in where for where in heard)
    finally:
        for thread in threads:
            thread.join()
    assert run_console(console_store, "SELECT 1", session="late").rows == 1


def test_one_session_runs_one_query_at_a_time(console_store: str) -> None:
    """A session's second query waits for its first, while another session's runs at once."""
    heard: list[str] = []
    (thread,) = _occupy(console_store, ["mine"], timeout_s=2)
    try:
        started = time.monotonic()
        assert run_console(console_store, "SELECT 1", session="theirs").rows == 1
        assert thread.is_alive(), "the other session's query waited for the runaway"
        assert run_console(console_store, "SELECT 2", session="mine", on_wait=heard.append).rows
        assert time.monotonic() - started > 1.5  # it waited for the runaway's deadline
        assert heard[0] == "Waiting for your previous query to finish."
    finally:
        thread.join()


def test_the_queue_is_first_come_first_served(
    console_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued queries start in the order they came, and each hears how many are ahead.

    A pool of one worker runs them one after another, so the order they finish in is the
    order they started in.
    """
    monkeypatch.setattr(limits, "PREEMPT_AFTER_S", 60.0)  # the runaway ends at its deadline
    single = Pool(size=1)
    heard: dict[str, list[str]] = {"first": [], "second": []}
    order: list[str] = []

    def request(sql: str, timeout_s: float) -> dict[str, object]:
        return {
            "db": console_store,
            "sql": sql,
            "max_rows": MAX_ROWS,
            "max_bytes": limits.MAX_RESULT_BYTES,
            "cpu_s": timeout_s + 1,
        }

    def runaway() -> None:
        with pytest.raises(ConsoleTimeout):
            single.run(request(RUNAWAY, 1.5), session="heavy", timeout_s=1.5)

    def queued(name: str) -> None:
        single.run(request("SELECT 1", 5), session=name, timeout_s=5, on_wait=heard[name].append)
        order.append(name)

    try:
        heavy = threading.Thread(target=runaway)
        heavy.start()
        while single.running < 1:
            time.sleep(0.01)
        first = threading.Thread(target=queued, args=("first",))
        first.start()
        while not heard["first"]:
            time.sleep(0.01)
        second = threading.Thread(target=queued, args=("second",))
        second.start()
        for thread in (heavy, first, second):
            thread.join()
    finally:
        single.shutdown()
    assert order == ["first", "second"]
    assert heard["first"][0] == "Waiting for a free worker: all 1 are running queries."
    assert "1 query ahead of yours" in heard["second"][0]


def test_a_visitor_with_every_worker_taken_stops_the_longest_query(console_store: str) -> None:
    """An attacker with as many tabs as workers (each a session) would keep everyone else
    waiting a deadline at a time: the query that has run longest makes room instead, and
    its sender hears why. It is stopped long before its 30 s deadline."""
    single = Pool(size=1)
    heavy: dict[str, BaseException] = {}
    heard: list[str] = []
    request = {"db": console_store, "max_rows": 10, "max_bytes": 10_000, "cpu_s": 31}

    def runaway() -> None:
        try:
            single.run({**request, "sql": RUNAWAY}, session="tab-1", timeout_s=30)
        except ConsoleError as exc:
            heavy["error"] = exc

    try:
        thread = threading.Thread(target=runaway)
        thread.start()
        while not single._running:
            time.sleep(0.01)
        (runaway_pid,) = [r.worker.process.pid for r in single._running]
        header, _, _ = single.run(
            {**request, "sql": "SELECT 1"}, session="visitor", timeout_s=5, on_wait=heard.append
        )
        assert header["ok"]
        assert heard and heard[0].startswith("Waiting for a free worker")
        thread.join()
        assert isinstance(heavy.get("error"), ConsoleBusy)
        assert "to make room" in heavy["error"].message
        assert cpu_ticks(runaway_pid) is None  # the stopped query's worker is gone
    finally:
        single.shutdown()


def test_a_result_with_thousands_of_columns_gets_a_message(console_store: str) -> None:
    """10,000 columns (``SELECT 1,1,…``) took the server 3 s of CPU to show, at every visit."""
    with pytest.raises(ConsoleError, match="has 5,000 columns; the console shows at most 1,000"):
        run_console(console_store, "SELECT " + ",".join(["1"] * 5000))
    widest = run_console(console_store, "SELECT " + ",".join(["1"] * limits.MAX_COLUMNS))
    assert widest.frame.shape == (1, limits.MAX_COLUMNS)


def test_rows_are_capped(console_store: str) -> None:
    result = run_console(console_store, "SELECT * FROM range(1000000)")
    assert result.rows == MAX_ROWS
    assert result.truncated and result.limit_reason == "rows"
    assert list(result.frame["range"][:3]) == [0, 1, 2]
    assert "cut to the first 10,000 rows" in result.describe()
    small = run_console(console_store, "SELECT * FROM posts", max_rows=5)
    assert small.rows == 5 and small.truncated


def test_a_result_of_exactly_the_cap_is_not_truncated(console_store: str) -> None:
    result = run_console(console_store, "SELECT * FROM range(100)", max_rows=100)
    assert result.rows == 100 and not result.truncated


def test_result_bytes_are_capped(console_store: str) -> None:
    result = run_console(
        console_store, "SELECT repeat('x', 100000) AS s FROM range(1000)", max_bytes=1_000_000
    )
    assert result.truncated and result.limit_reason == "bytes"
    assert 0 < result.rows <= 10
    assert "cut to the first" in result.describe()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT list_resize([NULL], 10000000) AS x FROM range(6)",  # no Arrow buffer at all
        "SELECT list_resize([true], 20000000) AS x FROM range(2)",  # a bit a value in Arrow
    ],
)
def test_values_light_in_arrow_are_capped_by_what_they_weigh_in_the_server(
    console_store: str, sql: str
) -> None:
    """Six lists of ten million NULLs once came back whole: 500 MB of the server's memory."""
    before = rss_bytes()
    result = run_console(console_store, sql, timeout_s=30)
    assert result.truncated and result.limit_reason == "bytes"
    assert "cut to the first 16 MB" in result.describe()
    assert rss_bytes() - before < 100 * 1024 * 1024


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT list(range) FROM range(100000000)",
        "SELECT string_agg(repeat('x', 1000), ',') FROM range(1000000)",
    ],
)
def test_memory_is_capped(console_store: str, sql: str) -> None:
    with pytest.raises(ConsoleError, match="more memory than the console allows"):
        run_console(console_store, sql, timeout_s=30)


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


def test_twenty_concurrent_sessions_each_get_their_own_answers(console_store: str) -> None:
    """20 threads: 10 console queries, 10 filtered ``lib.queries`` calls on the app's cursor.

    Each thread asks a different question several times while the others run, and every
    answer is checked against one computed beforehand on a plain connection.
    """
    expected = _expected_answers(console_store)
    categories = expected["categories"]
    app = connect_read_only(console_store)  # the app's one shared connection; a cursor per thread
    barrier = threading.Barrier(20)
    failures: list[str] = []
    answered: list[int] = []
    lock = threading.Lock()

    def console_session(i: int) -> Callable[[], tuple[Any, Any]]:
        if i % 2:
            n = i + 1
            sql = f"SELECT id FROM posts ORDER BY id LIMIT {n}"
            return lambda: (list(run_console(console_store, sql).frame["id"]), expected["ids"][:n])
        category = categories[i // 2 % len(categories)]
        where = "category IS NULL" if category is None else f"category = '{category}'"
        sql = f"SELECT count(*) AS n FROM posts WHERE {where}"
        return lambda: (
            int(run_console(console_store, sql).frame["n"][0]),
            expected["counts"][category],
        )

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


def test_an_idle_worker_is_stopped_without_a_query_to_find_it(
    console_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "WORKER_IDLE_S", 0.5)
    single = Pool(size=1)
    try:
        single.prestart()
        (pid,) = single.workers()
        deadline = time.monotonic() + 5
        while single.workers() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert single.workers() == []
        # The janitor forgets the worker, then kills it: allow it the rest of the deadline.
        while cpu_ticks(pid) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cpu_ticks(pid) is None  # the process is gone, not only forgotten
    finally:
        single.shutdown()


def test_a_query_takes_a_started_worker_over_a_replacement_still_starting() -> None:
    """After a recycled worker, its replacement is the newest idle one but may still be
    importing DuckDB: another session's query must not wait for it (seen as a 2 s stall)."""
    two = Pool(size=2)
    up = None
    try:
        two.prestart()
        up = two._ready_worker()
        replacement = two._spawn()
        two._idle = [up, replacement]  # newest last, as ``_release`` leaves them
        assert two._take_worker() is up
        assert not replacement.ready
    finally:
        if up is not None:
            up.kill()
        two.shutdown()


def test_a_query_leaves_a_spare_worker_starting_for_the_next_session(console_store: str) -> None:
    """Another visitor's query must not wait for DuckDB's import when there is room to have
    started a worker while the first one ran."""
    two = Pool(size=2)
    try:
        two.prestart()
        (first,) = two.workers()
        request = {"db": console_store, "sql": "SELECT 1", "max_rows": 10, "max_bytes": 10_000}
        two.run({**request, "cpu_s": 5}, session="a", timeout_s=5)
        assert first in two.workers() and len(two.workers()) == 2
        one = Pool(size=1)
        try:
            one.run({**request, "cpu_s": 5}, session="a", timeout_s=5)
            assert len(one.workers()) == 1  # never more workers than the pool's size
        finally:
            one.shutdown()
    finally:
        two.shutdown()


def test_a_query_with_no_worker_to_take_starts_one_worker_not_two(console_store: str) -> None:
    """With none idle, the query's own worker is the one starting: a spare beside it would
    be two imports of DuckDB at once on a busy machine."""
    two = Pool(size=2)
    try:
        request = {"db": console_store, "sql": "SELECT 1", "max_rows": 10, "max_bytes": 10_000}
        two.run({**request, "cpu_s": 5}, session="a", timeout_s=5)
        assert len(two.workers()) == 1
    finally:
        two.shutdown()


def test_a_pool_leaves_no_folder_behind(console_store: str) -> None:
    """Each pool gives its workers a HOME of its own in /tmp: once shut down, it is gone
    (338 empty ones had piled up from servers and tests), and a query after brings it back."""
    single = Pool(size=1)
    request = {"db": console_store, "sql": "SELECT 1", "max_rows": 10, "max_bytes": 10_000}
    try:
        single.run({**request, "cpu_s": 5}, session="a", timeout_s=5)
        home = Path(single._home)
        assert home.is_dir()
        single.shutdown()
        assert not home.exists()
        header, _, _ = single.run({**request, "cpu_s": 5}, session="a", timeout_s=5)
        assert header["ok"] and home.is_dir()
    finally:
        single.shutdown()
    assert not home.exists()


@pytest.mark.parametrize(
    ("signal_name", "kind"), [("SIGABRT", ConsoleMemory), ("SIGTERM", ConsoleError)]
)
def test_a_worker_that_aborted_is_a_memory_error(signal_name: str, kind: type) -> None:
    # A worker at its heap cap aborts: the query's error says memory, whichever of the
    # worker's own report and its death the server sees first.
    process = subprocess.Popen(
        [sys.executable, "-c", f"import os, signal; os.kill(os.getpid(), signal.{signal_name})"]
    )
    process.wait()
    error = gone_error(Worker(process))
    assert type(error) is kind
    assert ("memory" in error.message) is (kind is ConsoleMemory)
