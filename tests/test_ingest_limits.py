"""Limits on what one post or file may hold, the same on the fast lane and the per-record path.

A hostile export must fail fast naming the file and row, and leave the store as it was.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.ingest import run_ingest
from lib.ingest.assemble import MAX_TAGS_PER_POST, build_record
from lib.ingest.fast_lane import fast_rows
from lib.ingest.records import MAX_SOURCE_CHARS, IngestError
from tests.helpers import build_store, query, table_state


def _rows(tags: list[str]) -> list[dict[str, object]]:
    return [
        {"title": "fine", "excerpt": "x", "url": "https://e.com/a", "tags": ["a"]},
        {"title": "many", "excerpt": "y", "url": "https://e.com/b", "tags": tags},
    ]


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif path.suffix == ".csv":
        lines = ["title,excerpt,url,tags"]
        lines += [f'{r["title"]},{r["excerpt"]},{r["url"]},"{";".join(r["tags"])}"' for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


# Where each format's second post is: its line (JSON Lines; CSV after its header), or its row.
PLACE = {".jsonl": r":2: ", ".csv": r":3: ", ".parquet": r": row 2: "}


@pytest.mark.parametrize("suffix", list(PLACE))
@pytest.mark.parametrize("fast_lane", [True, False], ids=["fast-lane", "per-record"])
def test_a_post_with_too_many_tags_stops_the_run_naming_its_row(
    tmp_path: Path, suffix: str, fast_lane: bool
) -> None:
    db = build_store(tmp_path / "posts.duckdb", [{"title": "kept", "excerpt": "z"}])
    before = table_state(db)
    source = _write(tmp_path / f"export{suffix}", _rows([f"t{i}" for i in range(300)]))
    with pytest.raises(IngestError, match=PLACE[suffix] + "300 tags; a post may have at most 200"):
        run_ingest(db, [str(source)], fast_lane=fast_lane)
    assert table_state(db) == before


def test_exactly_the_limit_is_imported_on_both_lanes(tmp_path: Path) -> None:
    tags = [f"t{i}" for i in range(MAX_TAGS_PER_POST)]
    for fast_lane in (True, False):
        db = str(tmp_path / f"{fast_lane}.duckdb")
        run_ingest(db, [str(_write(tmp_path / "ok.parquet", _rows(tags)))], fast_lane=fast_lane)
        (stored,) = [r[0] for r in query(db, "SELECT tags FROM posts WHERE title = 'many'")]
        assert len(stored) == MAX_TAGS_PER_POST


def test_a_million_tags_are_refused_within_seconds(tmp_path: Path) -> None:
    source = _write(tmp_path / "huge.jsonl", _rows([f"t{i}" for i in range(1_000_000)]))
    started = time.process_time()
    with pytest.raises(IngestError, match="1,000,000 tags"):
        run_ingest(str(tmp_path / "posts.duckdb"), [str(source)])
    assert time.process_time() - started < 30


def test_a_source_beyond_the_limit_is_not_kept_but_its_text_is() -> None:
    """Cut, a source would re-derive another post; whole, it would double a huge row. The
    fast lane's rows and the record path's rule, each applied alone (parsing and indexing
    10 MB of text takes minutes)."""
    sentence = "显存优化的基本原理与一个能运行的例子。"
    long = sentence * (MAX_SOURCE_CHARS // len(sentence) + 1)
    within = sentence * 10
    table = pa.table(
        {
            "title": ["很长的一篇", "短的一篇"],
            "body": [long, within],
            "url": ["https://a.example/long/", "https://a.example/short/"],
        }
    )
    mapping = {"title": "title", "body": "body", "url": "url"}
    fast, slow = fast_rows(table, mapping, ["x row 1", "x row 2"])
    # Too long, no source is kept; within the bound, plain text is its own source (no copy).
    assert slow == [] and fast.column("body_source").to_pylist() == [None, None]
    assert fast.column("source_format").to_pylist() == [None, "text"]
    kept = [
        build_record(source="x", locator="x row 1", title="t", body=within, body_source=text,
                     source_format="markdown")
        for text in (long, within)
    ]  # fmt: skip
    assert [(r.body, r.body_source, r.source_format) for r in kept] == [
        (within, None, None),
        (within, within, "markdown"),
    ]
