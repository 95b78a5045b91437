"""Topic fit time, and the Topics page's queries on a large store, this tree beside another.

    flock /tmp/bench/1m.lock python -m bench.topics_speed --db /tmp/bench/<copy>.duckdb \
        [--no-fit] [--before /tmp/before] [--runs 7]

Unless ``--no-fit``, first refits the topics of ``--db`` (a copy: it is written) as
``python -m lib.topic_model refit`` does, timing the fit. Then times each query the Topics
page, the post page and the Overview's split by topic make (median of ``--runs``), with no
filters, a category, a year, a topic, and words searched in a category, as the browser
tour (``bench.browser``) has them at its Topics step: the search already resolved by the
steps before, and another search in each run, so that no run reads what one before made.

Each tree's queries run in a worker process of their own (``--before``: the app of another
checkout, ``git archive <commit> | tar -x -C DIR``), asked in turn, so that a swing in the
machine's load falls on both alike. ``topics tab`` is what the Topics tab asks under those
filters: the table, then the example posts of its first eight named topics.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

CALLS = (
    "topic_table",
    "representatives",
    "topics tab",
    "volume_by_topic",
    "distinct_by_category",
    "map_points",
)
CATEGORY = "NLP"
CASES = ("no filters", "a category", "a year", "a topic", "words in a category")
REPRESENTED = 8  # topics the Topics tab shows with example posts (``pages/topics.py``)


class Worker:
    """One tree's queries, in a process whose ``lib`` is that tree's."""

    def __init__(self, tree: Path, db: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", "--db", db],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, request: dict[str, Any]) -> dict[str, float]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise SystemExit(f"a worker stopped (exit {self.process.wait()})")
        return json.loads(answer)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def _serve(db: str) -> None:
    """The worker: answers each request (a case and a run) with each call's milliseconds."""
    from lib import selection, topics
    from lib.filters import Filters
    from lib.store import connect_read_only

    con = connect_read_only(db)
    first = topics.topic_table(con, Filters())["topic"].iloc[0]

    def filters_of(case: str, search: list[str]) -> Any:
        if case == "words in a category":
            q, category = search
            found = Filters(categories=(category,), q=q)
            selection.resolve(con, found).where()  # the steps before the Topics step
            return found
        return {
            "no filters": Filters(),
            "a category": Filters(categories=(CATEGORY,)),
            "a year": Filters(start=date(2024, 1, 1), end=date(2024, 12, 31)),
            "a topic": Filters(topics=(first,)),
        }[case]

    # The Topics tab's two questions, as the tree asks them: since session 10 the table
    # reads each topic's example posts in its own scan, and a second query their titles;
    # before, a second query read them under the filters again.
    def table_of(filters: Any) -> Any:
        if hasattr(topics, "example_posts"):
            return topics.topic_table(con, filters, 30, examples=3)
        return topics.topic_table(con, filters, 30)

    def examples_of(filters: Any, named: Any) -> Any:
        if hasattr(topics, "example_posts"):
            docs = tuple(int(d) for examples in named["examples"] for d in examples)
            return topics.example_posts(con, docs)
        return topics.representatives(con, filters, tuple(int(t) for t in named["topic_id"]))

    def timed(call: Callable[[], Any]) -> tuple[Any, float]:
        started = time.perf_counter()
        result = call()
        return result, (time.perf_counter() - started) * 1000

    table_of(Filters())  # what a process makes once
    for line in sys.stdin:
        request = json.loads(line)
        filters = filters_of(request["case"], request["search"])
        table, table_ms = timed(lambda f=filters: table_of(f))
        named = table[~table["outlier"]].head(REPRESENTED)
        _, examples_ms = timed(lambda f=filters, n=named: examples_of(f, n))
        answer = {
            "topic_table": table_ms,
            "representatives": examples_ms,
            "topics tab": table_ms + examples_ms,
        }
        for name in ("volume_by_topic", "distinct_by_category", "map_points"):
            _, answer[name] = timed(lambda f=filters, n=name: getattr(topics, n)(con, f))
        print(json.dumps(answer), flush=True)


def _fit(db: str) -> None:
    from lib.store import write_transaction
    from lib.topic_model import fit

    started = time.perf_counter()
    with write_transaction(db) as con:
        posts = con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
        found = fit(con, lambda stage: print(f"  {time.perf_counter() - started:6.1f} s {stage}"))
    print(f"fit: {posts:,} posts, {found} topics in {time.perf_counter() - started:.1f} s")


def _compare(db: str, trees: dict[str, Path], runs: int) -> None:
    # Imported here: a worker runs this file with another tree's ``bench`` on its path.
    from bench.apps import READER_SEARCHES

    workers = {name: Worker(tree, db) for name, tree in trees.items()}
    times: dict[tuple[str, str, str], list[float]] = {}
    try:
        for case in CASES:
            for run in range(runs):
                for name, worker in workers.items():  # in turn: the same load on each
                    search = READER_SEARCHES[run % len(READER_SEARCHES)]  # the searched case's
                    for call, ms in worker.ask({"case": case, "search": search}).items():
                        times.setdefault((name, case, call), []).append(ms)
    finally:
        for worker in workers.values():
            worker.close()
    print(f"{'query (median ms)':30}" + "".join(f"{case:>21}" for case in CASES))
    for call in CALLS:
        for name in trees:
            row = [statistics.median(times[name, case, call]) for case in CASES]
            print(f"{call:21}{name:>9}" + "".join(f"{ms:21.1f}" for ms in row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-fit", action="store_true", help="time the queries only")
    parser.add_argument("--before", type=Path, help="a tree of the app to compare, same runs")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _serve(args.db)
        return
    from bench.apps import machine

    print(f"machine: {machine()}")
    if not args.no_fit:
        _fit(args.db)
    trees = {"this": Path(__file__).resolve().parents[1]}
    if args.before:
        trees["before"] = args.before.resolve()
    _compare(args.db, trees, args.runs)


if __name__ == "__main__":
    main()
