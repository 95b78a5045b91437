"""Ingest time for a synthetic corpus: prints posts, seconds and posts per second.

python -m bench.ingest --posts 1000000

Then the time of each stage of the import (parsing, the fast lane and merge, segmentation
with postings and keywords, the topic model's fit), of re-ingesting the same file, and of
re-deriving every stored post from its kept source (``python -m lib.ingest --rederive``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

import lib.ingest.index
from bench.corpus import generate
from lib.ingest import run_ingest


class Stages:
    """The moments an import reaches each stage, from its progress messages and the fit."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []

    def progress(self, message: str, *_: object) -> None:
        if message.startswith("merging"):
            self.marks.append(("parse", time.perf_counter()))
        elif message.startswith("indexing"):
            self.marks.append(("fast lane and merge", time.perf_counter()))

    def timed_fit(self, fit: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.marks.append(("segmentation, postings, keywords", time.perf_counter()))
            try:
                return fit(*args, **kwargs)
            finally:
                self.marks.append(("topic model fit", time.perf_counter()))

        return timed

    def describe(self, started: float) -> str:
        parts, last = [], started
        for name, moment in self.marks:
            parts.append(f"{name} {moment - last:.1f} s")
            last = moment
        return "; ".join(parts)


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
        stages = Stages()
        fit = lib.ingest.index.update_topics
        lib.ingest.index.update_topics = stages.timed_fit(fit)  # to time the fit alone
        started = time.perf_counter()
        try:
            summary = run_ingest(db, [str(source)], progress=stages.progress)
        finally:
            lib.ingest.index.update_topics = fit
        first = time.perf_counter() - started
        size = Path(db).stat().st_size
        started_again = time.perf_counter()
        again = run_ingest(db, [str(source)])
        second = time.perf_counter() - started_again
        rederived = _rederive(db)
    print(f"corpus: {args.posts:,} posts generated in {generated:.1f} s")
    print(f"ingest: {summary.added:,} added in {first:.1f} s ({args.posts / first:,.0f} posts/s)")
    print(f"  stages: {stages.describe(started)}")
    print(f"  store: {size / 1e6:,.0f} MB")
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
