"""Search latency and ingest time (segmentation and keywords included) on a synthetic corpus.

    python -m bench.search --posts 1000000 --db bench/out/posts-1m.duckdb
    python -m bench.search --db posts-1m.duckdb --before 6748b7a

With ``--before REV``, the code of that commit (``git archive``) and the current tree each
answer every query in a process of its own (``bench/search_worker.py``), alternately,
query by query, so that both meet the same load on a shared machine; medians and p95
are printed side by side.

Builds the store from the seeded corpus unless ``--db`` already holds one, then
runs varied queries (English and Chinese terms, one-character words, two-word
queries, unknown words, with and without other filters) the way the Browse
page does: the match count, then the first page ranked by relevance. Prints
median and p95 per kind and overall.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
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


# The first search of a process, which also makes the tables about every post.
WARM_UP = Filters(q="warm up", categories=("NLP",), start=date(2021, 1, 1))


def timed(con: duckdb.DuckDBPyConnection, filters: Filters) -> float:
    # Every search is timed as a new one: nothing resolved by an earlier query is reused
    # but the tables about every post, made once per store (the warm-up's).
    selection.forget(con, store_wide=False)
    started = time.perf_counter()
    queries.count(con, filters)
    queries.cards(con, filters, queries.RELEVANCE, 20)
    return (time.perf_counter() - started) * 1000


def report(name: str, ms: list[float]) -> None:
    p95 = statistics.quantiles(ms, n=20)[-1]
    print(f"  {name:<14} n={len(ms):3}  median {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms")


class Worker:
    """``bench/search_worker.py`` running over the code of the tree at ``root``."""

    def __init__(self, root: Path, db: Path) -> None:
        script = Path(__file__).with_name("search_worker.py")
        env = {**os.environ, "PYTHONPATH": str(root)}
        self.process = subprocess.Popen(
            [sys.executable, str(script), str(db)],
            cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def time(self, filters: Filters) -> float:
        assert self.process.stdin and self.process.stdout
        asked = {"q": filters.q, "categories": list(filters.categories)}
        if filters.start:
            asked["start"] = filters.start.isoformat()
        self.process.stdin.write(json.dumps(asked) + "\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait()


def _tree(rev: str, folder: Path) -> Path:
    """The files of commit ``rev``, unpacked into ``folder``; ``rev`` may also name a
    folder that already holds them (an export of a commit)."""
    if Path(rev).is_dir():
        return Path(rev)
    root = Path(__file__).resolve().parent.parent
    archive = folder / "tree.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", rev], cwd=root, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "tree", filter="data")
    return folder / "tree"


def compare(db: Path, rev: str, sets: dict[str, list[Filters]]) -> None:
    """Each query asked of ``rev``'s code and of the current code in turn."""
    with tempfile.TemporaryDirectory() as tmp:
        before = Worker(_tree(rev, Path(tmp)), db)
        after = Worker(Path(__file__).resolve().parent.parent, db)
        first = [worker.time(WARM_UP) for worker in (before, after)]
        print(f"first search of a process (with filters): {first[0]:.1f} | {first[1]:.1f} ms")
        print(f"search (count + first page by relevance), {rev} | now, per query:")
        every: dict[str, list[float]] = {rev: [], "now": []}
        for name, filters in sets.items():
            times: dict[str, list[float]] = {rev: [], "now": []}
            for index, f in enumerate(filters):
                pair = [(rev, before), ("now", after)]
                for label, worker in pair if index % 2 else pair[::-1]:
                    times[label].append(worker.time(f))
            for label, ms in times.items():
                every[label] += ms
            _side_by_side(name, times[rev], times["now"])
        _side_by_side("all", every[rev], every["now"])
        before.close()
        after.close()


def _side_by_side(name: str, old: list[float], new: list[float]) -> None:
    def figures(ms: list[float]) -> str:
        p95 = statistics.quantiles(ms, n=20)[-1]
        return f"median {statistics.median(ms):7.1f} p95 {p95:7.1f}"

    print(f"  {name:<14} n={len(new):3}  {figures(old)}  |  {figures(new)} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None, help="reuse (or create) this store")
    parser.add_argument(
        "--before", help="also time the code of this commit (or folder), alternately"
    )
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
        if args.before:
            con.close()
            compare(db, args.before, sets)
            return
        print(f"first search of a process (with filters): {timed(con, WARM_UP):.1f} ms")
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
