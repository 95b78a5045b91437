"""Latency of the dashboard's queries on a synthetic store: median and p95 per query.

    python -m bench.pages --posts 1000000

Queries run through ``lib.queries`` exactly as the pages call them, on a
read-only connection with a cursor per query, outside Streamlit's cache. Each is
timed twice: "new" with no search resolved (``lib.selection.forget`` before every
run: the first query of a page after the words or topics change), and "resolved"
once its search has been resolved (any other change of the filters).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from bench.corpus import generate
from lib import queries, selection, topics
from lib.filters import Filters
from lib.ingest import run_ingest
from lib.store import connect_read_only

VIEWS = {
    "all posts": Filters(),
    "one category": Filters(categories=("NLP",)),
    "two categories + year": Filters(
        categories=("NLP", "Python"), start=date(2023, 1, 1), end=date(2023, 12, 31)
    ),
    "words": Filters(q="FlashAttention"),
    "common word + category": Filters(q="训练", categories=("NLP",)),
}
CALLS = {
    "figures": lambda cur, f: queries.figures(cur, f),
    "category_counts": lambda cur, f: queries.category_counts(cur, f),
    "volume": lambda cur, f: queries.volume(cur, f),
    "cards page 1": lambda cur, f: queries.cards(cur, f, "newest", 20, 0),
    "count": lambda cur, f: queries.count(cur, f),
    "cards relevance": lambda cur, f: queries.cards(cur, f, queries.RELEVANCE, 20, 0),
    "leading topics": lambda cur, f: topics.leading(cur, f, 20),
    "topic volume": lambda cur, f: topics.volume(cur, f, ("lora", "显存", "训练"), "quarter"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None, help="an existing store to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(args.db) if args.db else str(Path(tmp) / "posts.duckdb")
        if not args.db:
            source = Path(tmp) / "corpus.parquet"
            pq.write_table(generate(args.posts), source)
            run_ingest(db, [str(source)])
        con = connect_read_only(db)
        (args.posts,) = con.execute("SELECT count(*) FROM posts").fetchall()[0]
        print(f"{args.posts:,} posts; ms per query over {args.repeat} runs")
        print(
            f"  {'view':24} {'query':16} {'new: median':>12} {'p95':>7} {'resolved':>9} {'p95':>7}"
        )
        for view, filters in VIEWS.items():
            for name, call in CALLS.items():
                new = _times(con, call, filters, args.repeat, forget=True)
                resolved = _times(con, call, filters, args.repeat, forget=False)
                print(
                    f"  {view:24} {name:16} {statistics.median(new):12.1f} {_p95(new):7.1f}"
                    f" {statistics.median(resolved):9.1f} {_p95(resolved):7.1f}"
                )


def _times(
    con: duckdb.DuckDBPyConnection,
    call: Callable[[duckdb.DuckDBPyConnection, Filters], object],
    filters: Filters,
    repeat: int,
    forget: bool,
) -> list[float]:
    times = []
    for _ in range(repeat):
        cur = con.cursor()
        if forget:
            selection.forget(cur)
        started = time.perf_counter()
        call(cur, filters)
        times.append((time.perf_counter() - started) * 1000)
        cur.close()
    return sorted(times)


def _p95(times: list[float]) -> float:
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


if __name__ == "__main__":
    main()
