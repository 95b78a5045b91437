"""Ingest time for a synthetic corpus: prints posts, seconds and posts per second.

python -m bench.ingest --posts 1000000

Then the time to re-derive every stored post from its kept source
(``python -m lib.ingest --rederive``), where the store keeps sources.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from bench.corpus import generate
from lib.ingest import run_ingest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "corpus.parquet"
        started = time.perf_counter()
        pq.write_table(generate(args.posts), source)
        generated = time.perf_counter() - started
        db = str(Path(tmp) / "posts.duckdb")
        started = time.perf_counter()
        summary = run_ingest(db, [str(source)])
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = run_ingest(db, [str(source)])
        second = time.perf_counter() - started
        rederived = _rederive(db)
    print(f"corpus: {args.posts:,} posts generated in {generated:.1f} s")
    print(f"ingest: {summary.added:,} added in {first:.1f} s ({args.posts / first:,.0f} posts/s)")
    print(f"re-ingest (all unchanged: {again.unchanged:,}): {second:.1f} s")
    if rederived is not None:
        print(rederived)


def _rederive(db: str) -> str | None:
    """The re-derive's summary and time, or None before sources were kept."""
    try:
        from lib.ingest.rederive import rederive
    except ImportError:
        return None
    started = time.perf_counter()
    summary = rederive(db)
    return f"rederive: {summary.describe()} in {time.perf_counter() - started:.1f} s"


if __name__ == "__main__":
    main()
