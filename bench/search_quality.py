"""Search quality: does the post a reader means come first? Before and after, in one run.

    python -m bench.search_quality [--before REV] [--show]

Imports the judged corpus (``bench.search_corpus``) into a temporary store with the real
``lib.ingest``, then ranks every judged query twice: with the ranking of ``lib/search.py``
as of ``REV`` (read with ``git show``, loaded as a module of its own) and with the
current one (``lib.queries.cards`` by relevance, as the Browse page does). Prints top-1,
top-3 and mean reciprocal rank side by side, and the queries either gets wrong.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb

from bench.search_corpus import JUDGED, rows
from lib import queries
from lib.config import REPO_ROOT
from lib.filters import Filters
from lib.ingest import run_ingest
from lib.store import connect_read_only

BEFORE = "6748b7a"  # the commit before issue 18's ranking
DEPTH = 10

Ranker = Callable[[duckdb.DuckDBPyConnection, str], list[str]]


def build(folder: Path) -> str:
    source = folder / "judged.jsonl"
    source.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows()), encoding="utf-8"
    )
    db = str(folder / "judged.duckdb")
    run_ingest(db, [str(source)])
    return db


def _key(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def old_ranker(rev: str) -> Ranker:
    """The ranking of ``lib/search.py`` at ``rev``: its BM25 over its own term groups."""
    source = subprocess.run(
        ["git", "show", f"{rev}:lib/search.py"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spec = importlib.util.spec_from_loader("search_before", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["search_before"] = module  # dataclasses look their module up by name
    exec(compile(source, f"{rev}:lib/search.py", "exec"), module.__dict__)

    def rank(con: duckdb.DuckDBPyConnection, q: str) -> list[str]:
        parsed = module.parse_query(q)
        scored, params = module.scores_sql(module.groups(q), "TRUE", parsed.words, None)
        found = con.execute(
            f"""SELECT p.url FROM ({scored}) s JOIN posts p USING (doc)
                ORDER BY s.score DESC, doc LIMIT {DEPTH}""",
            params,
        ).fetchall()
        return [_key(url) for (url,) in found]

    return rank


def new_ranker(con: duckdb.DuckDBPyConnection, q: str) -> list[str]:
    cards = queries.cards(con, Filters(q=q), queries.RELEVANCE, DEPTH)
    return [_key(card["url"]) for card in cards]


def judge(con: duckdb.DuckDBPyConnection, rank: Ranker) -> list[int | None]:
    """The rank (1-based) of the meant post for each judged query, ``None`` if not shown."""
    places: list[int | None] = []
    for q, meant in JUDGED:
        found = rank(con, q)
        places.append(found.index(meant) + 1 if meant in found else None)
    return places


def summary(places: list[int | None]) -> tuple[float, float, float]:
    n = len(places)
    top1 = sum(p == 1 for p in places) / n
    top3 = sum(p is not None and p <= 3 for p in places) / n
    mrr = sum(1 / p for p in places if p) / n
    return top1, top3, mrr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="the commit to compare with")
    parser.add_argument("--show", action="store_true", help="list every query's ranks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = build(Path(tmp))
        con = connect_read_only(db)
        before = judge(con, old_ranker(args.before))
        after = judge(con, new_ranker)
        con.close()
    print(f"search quality: {len(rows())} posts, {len(JUDGED)} judged queries")
    print(f"  {'':<17} {'top-1':>7} {'top-3':>7} {'MRR':>6}")
    for name, places in ((f"before ({args.before})", before), ("after", after)):
        top1, top3, mrr = summary(places)
        print(f"  {name:<17} {top1:7.0%} {top3:7.0%} {mrr:6.3f}")
    for (q, meant), b, a in zip(JUDGED, before, after, strict=True):
        if args.show or b != 1 or a != 1:
            print(f"    {q!r:<34} → {meant:<13} before {b or '-'!s:>2}  after {a or '-'!s:>2}")


if __name__ == "__main__":
    main()
