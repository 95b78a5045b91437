"""A worker process: runs console queries one at a time, inside limits the OS enforces.

Started by :mod:`lib.console.pool` as ``python -m lib.console.worker MEMORY_BYTES``. Before
it reads any query it caps its own heap (``RLIMIT_DATA``: a scalar function that builds one
huge value fails to allocate instead of growing the machine's memory, which DuckDB's
``memory_limit`` does not prevent) and points its stdout and stderr at ``/dev/null``
(keeping a private copy of stdout for replies), so nothing DuckDB prints reaches the
server's log; it may write no file and dump no core (``RLIMIT_FSIZE``, ``RLIMIT_CORE``).
The pool lowers its priority as it starts it. Before each query it caps its CPU time
(``RLIMIT_CPU``) at what it has used plus the query's allowance, so the kernel ends a
runaway query even if the server never gets to. A watchdog thread exits when the server
is gone, whatever the query is doing.

Each query is checked (:mod:`lib.console.checks`) and run in a fresh sandbox
(:mod:`lib.console.sandbox`) here, not in the server: the server only ever holds text and
at most ``max_bytes`` of rows.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import resource
import signal
import sys
from typing import Any, BinaryIO

import duckdb
import pyarrow as pa

from lib.console import limits, wire
from lib.console.checks import check_statement, check_tables
from lib.console.errors import (
    MEMORY_MESSAGE,
    ConsoleError,
    clipped,
    hide_store,
    message_for,
)
from lib.console.sandbox import open_sandbox, store_tables
from lib.console.sizes import held_bytes, rows_within
from lib.locator import StoreError
from lib.parent_watch import exit_with_parent

OUT_OF_MEMORY = "Out of Memory Error"  # DuckDB's prefix, whatever class carries it


def execute(request: dict[str, Any]) -> bytes:
    """One query's reply: its rows, or what went wrong, as :mod:`lib.console.wire` frames it."""
    db_path = str(request["db"])
    try:
        checked = check_statement(request["sql"])
        con = open_sandbox(db_path)
        try:
            check_tables(checked.tables, store_tables(con))
            table, reason = read_capped(
                con, checked.sql, int(request["max_rows"]), int(request["max_bytes"])
            )
        finally:
            con.close()
    except ConsoleError as exc:
        return _failure(type(exc).__name__, exc.message)
    except StoreError as exc:  # a dataset that is missing, or whose manifest is unusable
        return _failure("ConsoleError", clipped(hide_store(exc.message, db_path)))
    except (duckdb.OutOfMemoryException, MemoryError):
        return _failure("ConsoleMemory", MEMORY_MESSAGE, recycle=True)
    except (duckdb.Error, pa.ArrowException, OSError) as exc:
        if str(exc).startswith(OUT_OF_MEMORY):  # an Arrow buffer DuckDB could not allocate
            return _failure("ConsoleMemory", MEMORY_MESSAGE, recycle=True)
        # An error while streaming arrives from Arrow's reader as an OSError with DuckDB's message.
        return _failure("ConsoleError", message_for(exc, db_path))
    except Exception as exc:  # the reader must get a message, whatever broke
        return _failure("ConsoleError", f"The query failed ({type(exc).__name__}).")
    header = {"ok": True, "sql": checked.sql, "limit_reason": reason, "rss": _rss_bytes()}
    try:
        return wire.reply(header, table)
    except (MemoryError, pa.ArrowMemoryError):
        return _failure("ConsoleMemory", MEMORY_MESSAGE, recycle=True)


def _failure(kind: str, message: str, *, recycle: bool = False) -> bytes:
    return wire.reply({"ok": False, "kind": kind, "message": message, "recycle": recycle})


def read_capped(
    con: duckdb.DuckDBPyConnection, sql: str, max_rows: int, max_bytes: int
) -> tuple[pa.Table, str | None]:
    """At most ``max_rows`` rows and about ``max_bytes`` bytes, streamed: the rest is never made.

    Bytes are what the rows will weigh in the server (:func:`held_bytes`), not Arrow's buffers:
    a list of a million NULLs has almost none.
    """
    reader = con.sql(sql).to_arrow_reader(2048)
    if len(reader.schema) > limits.MAX_COLUMNS:
        raise ConsoleError(
            f"The result has {len(reader.schema):,} columns; the console shows at most"
            f" {limits.MAX_COLUMNS:,}. Select fewer columns."
        )
    batches: list[pa.RecordBatch] = []
    rows = size = 0
    reason: str | None = None
    for batch in reader:
        weight = held_bytes(batch)
        if size + weight > max_bytes:
            # Keep the leading rows of this batch that still fit in the budget.
            keep = rows_within(batch, max_bytes - size)
            batches.append(batch.slice(0, keep))
            rows += keep
            reason = "rows" if rows > max_rows else "bytes"
            break
        batches.append(batch)
        rows += batch.num_rows
        size += weight
        if rows > max_rows:
            reason = "rows"
            break
    table = pa.Table.from_batches(batches, schema=reader.schema)
    return table.slice(0, max_rows), reason


def _rss_bytes() -> int:
    """This process's resident memory, so the pool can replace a worker that kept too much."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit_cpu(allowance_s: float) -> None:
    """The kernel's SIGXCPU once this query has used ``allowance_s`` seconds of CPU."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + allowance_s)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _private_stdout() -> BinaryIO:
    """A copy of stdout for replies; fds 1 and 2 then go to /dev/null."""
    replies = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    return replies


def _limit_memory(memory_bytes: int) -> None:
    """The kernel's cap on this process's heap; where a platform refuses it (macOS may),
    DuckDB's own limit and the server's deadline still hold."""
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))


def _forbid_files() -> None:
    """No file written and no core dumped, whatever DuckDB is led to do.

    The console writes no file (nothing spills to disk), so a write could only be a way
    around the sandbox or to fill the disk; it now fails (``EFBIG``) rather than ending the
    worker. A crashed worker's core, up to its heap cap each time, would land in its working
    directory, the repository, wherever the host enables core dumps.
    """
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    for limit in (resource.RLIMIT_FSIZE, resource.RLIMIT_CORE):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(limit, (0, 0))


def serve(memory_bytes: int, parent: int) -> None:
    replies = _private_stdout()
    _limit_memory(memory_bytes)
    _forbid_files()
    exit_with_parent(parent)  # once the server is gone, no one will read a reply
    replies.write(wire.READY)
    for line in sys.stdin.buffer:
        request = json.loads(line)
        _limit_cpu(float(request["cpu_s"]))
        replies.write(execute(request))


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
