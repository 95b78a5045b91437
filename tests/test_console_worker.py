"""``lib.console.worker``: the process a query runs in, and the limits the OS holds it to.

Each attack that once took the server down runs here for real, and the test reads the
kernel's view of the processes (``/proc``): the server's memory, the workers' limits, their
environment, and whether any outlives its deadline or its server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lib.config import REPO_ROOT
from lib.console import ConsoleError, ConsoleMemory, ConsoleTimeout, limits, pool, run_console
from tests.helpers import busy_workers, console_workers, rss_bytes

# Each builds one huge value in a scalar function, which DuckDB's memory_limit does not bound.
HUGE_VALUES = [
    "SELECT generate_series(2147483648)",
    "SELECT range(100000000)",
    "SELECT repeat([1], 1000000000)",
    "SELECT list_resize([1], 2000000000)",
    "SELECT bitstring('1', 2147483647)",
    "SELECT printf('%2147483647d', 1)",
    "SELECT format('{:>2147483647}', 'x')",
    "SELECT repeat('x', 1000000000)",
    "SELECT repeat('x', 1000000) FROM range(3000)",  # wide rows
]
# Each keeps a core busy far past any deadline unless its process is killed (the second may
# instead fail to allocate its 30,000² matrix first: either way it stops in time).
CPU_BOUND = [
    "SELECT levenshtein(repeat('a', 100000) || range, repeat('b', 100000)) FROM range(2048)",
    "SELECT damerau_levenshtein(repeat('a', 30000), repeat('b', 30000))",
]
SERVER_GROWTH_BYTES = 150 * 1024 * 1024  # a result at the byte cap, as a frame, and slack


@pytest.mark.parametrize("sql", HUGE_VALUES)
def test_a_huge_value_fails_in_its_worker_not_in_the_server(console_store: str, sql: str) -> None:
    run_console(console_store, "SELECT 1")  # the server's baseline includes a warm pool
    baseline = rss_bytes()
    started = time.monotonic()
    try:
        result = run_console(console_store, sql, timeout_s=3)
    except ConsoleError as exc:
        assert isinstance(exc, ConsoleMemory | ConsoleTimeout) or "memory" in exc.message, (
            exc.message
        )
    else:  # wide rows may come back cut to the byte cap instead
        assert result.truncated and result.limit_reason in ("bytes", "rows")
    assert time.monotonic() - started < 3 + 1
    assert rss_bytes() - baseline < SERVER_GROWTH_BYTES
    assert busy_workers() == []


@pytest.mark.parametrize("sql", CPU_BOUND)
def test_a_cpu_bound_query_is_killed_at_its_deadline(console_store: str, sql: str) -> None:
    started = time.monotonic()
    with pytest.raises((ConsoleTimeout, ConsoleMemory)) as stopped:
        run_console(console_store, sql, timeout_s=1)
    if isinstance(stopped.value, ConsoleTimeout):
        assert stopped.value.message.startswith("Query cancelled after 1 s")
    assert time.monotonic() - started < 1 + 1
    assert busy_workers() == []


def _worker_pid(console_store: str) -> int:
    """A worker that has served a query: the spare the pool starts beside it may still be
    importing, before it caps its own heap."""
    run_console(console_store, "SELECT 1")
    served = [w.process.pid for w in pool()._idle if w.served]
    assert served, "no idle worker has served a query"
    return served[0]


def test_the_os_caps_each_workers_heap_and_lowers_its_priority(console_store: str) -> None:
    pid = _worker_pid(console_store)
    caps = Path(f"/proc/{pid}/limits").read_text()
    (data,) = [line for line in caps.splitlines() if line.startswith("Max data size")]
    assert data.split()[3:5] == [str(limits.WORKER_MEMORY_BYTES)] * 2
    nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[16])
    assert nice > os.nice(0)


def test_a_worker_may_write_no_file_and_dump_no_core(console_store: str) -> None:
    """Nothing spills to disk, so the kernel refuses any file a worker writes: a query can
    fill neither /tmp nor, through a crash's core dump, the repository it runs in."""
    pid = _worker_pid(console_store)
    caps = Path(f"/proc/{pid}/limits").read_text().splitlines()
    for name in ("Max file size", "Max core file size"):
        (line,) = [line for line in caps if line.startswith(name)]
        assert line[len(name) :].split()[:2] == ["0", "0"], line
    ordinary = run_console(console_store, "SELECT count(*) AS n FROM posts ORDER BY 1")
    assert ordinary.rows == 1  # and queries still run


def test_a_worker_holds_no_secret_of_the_server(
    console_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTHERDUCK_TOKEN", "TOKEN-THAT-MUST-NOT-LEAK")
    monkeypatch.setenv("POSTS_DB", console_store)
    pool().shutdown()  # the next query starts a worker with today's environment
    pid = _worker_pid(console_store)
    environment = Path(f"/proc/{pid}/environ").read_bytes()
    assert b"TOKEN-THAT-MUST-NOT-LEAK" not in environment
    assert console_store.encode() not in environment
    assert b"HOME=" + os.environ["HOME"].encode() + b"\x00" not in environment


def _server_script(console_store: str, sql: str) -> str:
    return textwrap.dedent(
        f"""
        import sys
        from lib.console import ConsoleError, pool, run_console
        run_console({console_store!r}, "SELECT 1")
        print(pool().workers()[0], flush=True)
        try:
            run_console({console_store!r}, {sql!r}, timeout_s=3)
        except ConsoleError as exc:
            print(type(exc).__name__, flush=True)
        """
    )


def test_workers_end_with_their_server(console_store: str) -> None:
    """A server killed mid-query (SIGKILL: no cleanup runs) leaves no worker behind."""
    script = _server_script(console_store, CPU_BOUND[0])
    server = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    worker = int(server.stdout.readline())
    time.sleep(0.5)  # the worker is now computing the runaway query
    server.send_signal(signal.SIGKILL)
    server.wait()
    deadline = time.monotonic() + 2
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    gone = not Path(f"/proc/{worker}").exists() or "Z" in Path(f"/proc/{worker}/stat").read_text()
    assert gone, "a worker outlived its server"


def test_nothing_a_query_prints_reaches_the_servers_log(console_store: str) -> None:
    """No progress bar, no query text: a slow query's server prints nothing."""
    slow = "SELECT count(*) FROM range(3000000000) WHERE hash(range) % 7 = 0 -- MARKER"
    done = subprocess.run(
        [sys.executable, "-c", _server_script(console_store, slow)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = done.stdout.splitlines()
    assert lines[1:] == ["ConsoleTimeout"]  # the worker's pid, then the outcome: nothing else
    assert done.stderr == ""


def test_the_console_keeps_answering_after_its_workers_are_killed(console_store: str) -> None:
    for pid in console_workers():
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert run_console(console_store, "SELECT 42 AS n").frame["n"].tolist() == [42]


def test_the_console_settings_reach_the_workers(
    console_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CONSOLE_DUCKDB_MEMORY_MB was read by the server but not by its workers."""
    monkeypatch.setenv("CONSOLE_DUCKDB_MEMORY_MB", "32")
    pool().shutdown()  # the next query starts a worker with this environment
    try:
        with pytest.raises(ConsoleMemory, match="32 MB for DuckDB"):
            run_console(
                console_store, "SELECT count(*) FROM (SELECT DISTINCT range FROM range(3000000))"
            )
    finally:
        monkeypatch.undo()
        pool().shutdown()
    assert (
        run_console(
            console_store, "SELECT count(*) FROM (SELECT DISTINCT range FROM range(3000000))"
        ).rows
        == 1
    )
