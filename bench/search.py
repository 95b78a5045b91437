"""Search latency and ingest time (segmentation and keywords included) on a synthetic corpus.

    python -m bench.search --posts 1000000 --db bench/out/posts-1m.duckdb

Builds the store from the seeded corpus unless ``--db`` already holds one, then
runs varied queries (English and Chinese terms, one-character words, two-word
queries, unknown words, with and without other filters) the way the Browse
page does: the match count, then the first page ranked by relevance. Prints
median and p95 per kind and overall.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from bench.corpus import TERMS, ZH_TERMS, generate
from lib import queries, selection
from lib.filters import Filters
from lib.ingest import run_ingest
from lib.store import connect_read_only


def build(db: Path, posts: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "corpus.parquet"
        started = time.perf_counter()
        pq.write_table(generate(posts), source)
        print(f"corpus: {posts:,} posts generated in {time.perf_counter() - started:.1f} s")
        phases: list[tuple[str, float]] = []

        def progress(name: str, files: int, records: int) -> None:
            phases.append((name, time.perf_counter()))

        started = time.perf_counter()
        summary = run_ingest(str(db), [str(source)], progress=progress)
        total = time.perf_counter() - started
    print(f"ingest: {summary.added:,} posts in {total:.1f} s ({posts / total:,.0f} posts/s)")
    marks = [("reading and parsing", started), *phases[1:], ("end", started + total)]
    for (name, t0), (_, t1) in itertools.pairwise(marks):
        print(f"  {name[:60]:<60} {t1 - t0:6.1f} s")


def query_set(rng: random.Random) -> dict[str, list[Filters]]:
    english = [t for t in TERMS if len(t) > 2]
    one_char = sorted({ch for t in ZH_TERMS for ch in t})
    return {
        "english term": [Filters(q=rng.choice(english)) for _ in range(40)],
        "chinese term": [Filters(q=rng.choice(ZH_TERMS)) for _ in range(40)],
        "one character": [Filters(q=rng.choice(one_char)) for _ in range(20)],
        "two words": [
            Filters(q=f"{rng.choice(english)} {rng.choice(ZH_TERMS)}") for _ in range(30)
        ],
        "unknown word": [Filters(q=f"zq{rng.randrange(10**6)}") for _ in range(10)],
        "with filters": [
            Filters(
                q=rng.choice(ZH_TERMS + english),
                categories=(rng.choice(["Large Model", "NLP", "Python"]),),
                start=date(2020 + rng.randrange(5), 1, 1),
            )
            for _ in range(30)
        ],
    }


def timed(con: duckdb.DuckDBPyConnection, filters: Filters) -> float:
    # Every search is timed as a new one: nothing resolved by an earlier query is reused.
    selection.forget(con)
    started = time.perf_counter()
    queries.count(con, filters)
    queries.cards(con, filters, queries.RELEVANCE, 20)
    return (time.perf_counter() - started) * 1000


def report(name: str, ms: list[float]) -> None:
    p95 = statistics.quantiles(ms, n=20)[-1]
    print(f"  {name:<14} n={len(ms):3}  median {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None, help="reuse (or create) this store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "posts.duckdb"
        if not db.exists():
            db.parent.mkdir(parents=True, exist_ok=True)
            build(db, args.posts)
        con = connect_read_only(str(db))
        (posts, terms, postings) = con.execute(
            "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM terms),"
            " (SELECT count(*) FROM postings)"
        ).fetchall()[0]
        print(f"store: {posts:,} posts, {terms:,} terms, {postings:,} postings, {db}")
        rng = random.Random(7)
        sets = query_set(rng)
        timed(con, Filters(q="warm up"))
        every: list[float] = []
        print("search (count + first page by relevance), per query:")
        for name, filters in sets.items():
            ms = [timed(con, f) for f in filters]
            every += ms
            report(name, ms)
        report("all", every)
        con.close()


if __name__ == "__main__":
    main()
