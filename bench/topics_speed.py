"""Topic fit time and the Topics page's queries on a large store.

    flock /tmp/bench/1m.lock python -m bench.topics_speed --db /tmp/bench/<copy>.duckdb

Refits the topics of ``--db`` (a copy: it is written) as ``python -m lib.topic_model
refit`` does, timing the fit, then times each query the Topics page, the post page and
the Overview's split by topic make (median of ``--runs``), with no filters, a category,
a date range and a topic.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date

from lib import topics
from lib.filters import Filters
from lib.store import connect_read_only, write_transaction
from lib.topic_model import fit


def _median_ms(call: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-fit", action="store_true", help="time the queries only")
    args = parser.parse_args()
    if not args.no_fit:
        started = time.perf_counter()
        with write_transaction(args.db) as con:
            posts = con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
            found = fit(
                con, lambda stage: print(f"  {time.perf_counter() - started:6.1f} s {stage}")
            )
        print(f"fit: {posts:,} posts, {found} topics in {time.perf_counter() - started:.1f} s")
    con = connect_read_only(args.db)
    table = topics.topic_table(con, Filters())
    first = table["topic"].iloc[0]
    some = tuple(int(t) for t in table["topic_id"].head(12))
    category = con.execute(
        "SELECT category FROM posts WHERE category IS NOT NULL LIMIT 1"
    ).fetchall()[0][0]
    cases = {
        "no filters": Filters(),
        "a category": Filters(categories=(category,)),
        "a year": Filters(start=date(2024, 1, 1), end=date(2024, 12, 31)),
        "a topic": Filters(topics=(first,)),
    }
    post_id = con.execute("SELECT id FROM posts LIMIT 1").fetchall()[0][0]
    print(f"{'query (median ms)':24}" + "".join(f"{name:>12}" for name in cases))
    calls = {
        "topic_table": lambda f: topics.topic_table(con, f),
        "representatives": lambda f: topics.representatives(con, f, some),
        "volume_by_topic": lambda f: topics.volume_by_topic(con, f),
        "distinct_by_category": lambda f: topics.distinct_by_category(con, f),
        "map_points": lambda f: topics.map_points(con, f),
    }
    for name, call in calls.items():
        row = [_median_ms(lambda f=f, c=call: c(f), args.runs) for f in cases.values()]
        print(f"{name:24}" + "".join(f"{ms:12.0f}" for ms in row))
    print(
        f"{'post_topic':24}{_median_ms(lambda: topics.post_topic(con, post_id), args.runs):12.0f}"
    )


if __name__ == "__main__":
    main()
