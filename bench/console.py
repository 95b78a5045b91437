"""What a worker process costs a console query: the examples in-process and through the pool.

    python -m bench.console [--db PATH] [--runs 30]

Runs every example query of the SQL page the way the page did before queries moved to worker
processes (checked, a fresh sandbox, rows read and turned into a frame, all in the calling
process) and through ``lib.console.run_console`` (the same work in a worker, rows sent back as
Arrow), and prints the median and p95 of each side by side with the difference: the price of a
process round trip. Also prints how long a new worker takes to answer its first query. Without
``--db`` it imports the bundled snapshots into a temporary store.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from lib.config import SEED_DIR
from lib.console import EXAMPLES, check_statement, check_tables, open_sandbox, pool, run_console
from lib.console.limits import MAX_RESULT_BYTES, MAX_ROWS
from lib.console.results import to_frame
from lib.console.sandbox import store_tables
from lib.console.worker import read_capped
from lib.ingest import run_ingest


def in_process(db: str, sql: str) -> None:
    """The console's work without a worker: what every query cost before the pool."""
    checked = check_statement(sql)
    con = open_sandbox(db)
    try:
        check_tables(checked.tables, store_tables(con))
        table, _ = read_capped(con, checked.sql, MAX_ROWS, MAX_RESULT_BYTES)
    finally:
        con.close()
    to_frame(table)


def through_pool(db: str, sql: str) -> None:
    run_console(db, sql)


def paired_timings(db: str, sql: str, runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds in-process and through the pool, alternated so that noise hits both."""
    in_process(db, sql)  # warm: the first call of a kind pays for imports and caches
    through_pool(db, sql)
    spent: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for side, run in zip(spent, (in_process, through_pool), strict=True):
            started = time.perf_counter()
            run(db, sql)
            side.append((time.perf_counter() - started) * 1000)
    return spent


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def cold_start_ms(db: str) -> float:
    pool().shutdown()
    started = time.perf_counter()
    run_console(db, "SELECT 1")
    return (time.perf_counter() - started) * 1000


def report(db: str, runs: int) -> None:
    print(f"{'example':32} {'in-process ms':>18} {'worker ms':>18} {'overhead ms':>14}")
    print(f"{'':32} {'median':>8} {'p95':>9} {'median':>8} {'p95':>9} {'median':>14}")
    overheads = []
    for name, sql in EXAMPLES.items():
        base, pooled = paired_timings(db, sql, runs)
        overhead = statistics.median(pooled) - statistics.median(base)
        overheads.append(overhead)
        print(
            f"{name:32} {statistics.median(base):8.1f} {p95(base):9.1f}"
            f" {statistics.median(pooled):8.1f} {p95(pooled):9.1f} {overhead:14.1f}"
        )
    print(f"overhead of a process round trip: median {statistics.median(overheads):.1f} ms,")
    print(f"  largest {max(overheads):.1f} ms over the examples (target: under 50 ms)")
    print(f"a new worker's first query: {cold_start_ms(db):.0f} ms (the page starts one early)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a store to query; default: the bundled data, imported")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if args.db:
        report(args.db, args.runs)
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "posts.duckdb")
        run_ingest(db, [str(SEED_DIR)])
        report(db, args.runs)


if __name__ == "__main__":
    main()
