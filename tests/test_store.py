"""``lib.store``: older stores are brought to the current schema when next written."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lib import queries
from lib.bootstrap import ensure_seeded, schema_version
from lib.export import export_parquet
from lib.filters import Filters
from lib.ingest import run_ingest
from lib.ingest.rederive import rederive
from lib.locator import locate
from lib.store import SCHEMA_VERSION, connect_read_only, write_transaction
from lib.store_kinds import open_read_only
from tests.helpers import query

POSTS = """title,body,url,published
远古,这篇文章讨论显存优化与分布式训练。,https://a.example/old,2026-01-01
未来,这篇文章讨论显存优化与推理加速。,https://a.example/future,2026-01-02
今天,这篇文章讨论显存优化与量化。,https://a.example/today,2026-01-03
"""

OTHER = "https://a.example/other"


def _schema_5_store(folder: Path) -> str:
    """A store as an import before the rule left it: a BC date and 9999-12-31 stored."""
    source = folder / "posts.csv"
    source.write_text(POSTS, encoding="utf-8")
    db = str(folder / "posts.duckdb")
    run_ingest(db, [str(source)])
    with write_transaction(db) as con:
        for title, day in (("远古", "0000-01-01"), ("未来", "9999-12-31")):
            con.execute("UPDATE posts SET published = ? WHERE title = ?", [day, title])
            con.execute(
                """UPDATE post_keywords SET published = ?
                   WHERE doc = (SELECT doc FROM posts WHERE title = ?)""",
                [day, title],
            )
        con.execute("UPDATE topic_months SET month = '0000-01-01' WHERE month = '2026-01-01'")
        con.execute("ALTER TABLE ingest_runs DROP COLUMN IF EXISTS dates_out_of_range")
        con.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    return db


@pytest.mark.parametrize("write", ["app start", "import"])
def test_dates_out_of_range_in_an_older_store_become_no_date(tmp_path: Path, write: str) -> None:
    db = _schema_5_store(tmp_path)
    assert query(db, "SELECT published::VARCHAR FROM posts ORDER BY title") == [
        ("2026-01-03",),
        ("9999-12-31",),
        ("0001-01-01 (BC)",),
    ]
    if write == "app start":
        ensure_seeded(db, default_db=tmp_path / "not-this-one.duckdb")
    else:  # any import writes the store, whichever posts it brings
        other = tmp_path / "other.csv"
        other.write_text(f"title,url\n另一篇,{OTHER}\n", encoding="utf-8")
        run_ingest(db, [str(other)])
    assert schema_version(db) == SCHEMA_VERSION
    assert query(
        db, "SELECT title, published::VARCHAR FROM posts WHERE url <> ? ORDER BY title", [OTHER]
    ) == [
        ("今天", "2026-01-03"),
        ("未来", None),
        ("远古", None),
    ]
    assert query(db, "SELECT DISTINCT published::VARCHAR FROM post_keywords ORDER BY 1") == [
        ("2026-01-03",),
        (None,),
    ]
    months = query(db, "SELECT DISTINCT month::VARCHAR FROM topic_months ORDER BY 1")
    assert months == [("2026-01-01",), (None,)]
    # The runs before the rule counted no dates out of range; the column is there for /data.
    assert query(db, "SELECT dates_out_of_range FROM ingest_runs ORDER BY run_id")[0] == (0,)


# --- Schema 8: each post keeps the source its text was derived from -------------------------

LISTING = (
    "LATEST UPDATES\n深度学习\n2025-03-04\n"
    "这篇笔记讲 LoRA 的秩怎么选，以及 QLoRA 在单卡 24G 上微调 7B 模型的显存账，"
    "顺带记录几个容易踩的坑...  \n"
)


def _schema_7_store(folder: Path) -> str:
    """A store as schema 7 left it: no source columns, version 7."""
    source = folder / "posts.csv"
    source.write_text(POSTS, encoding="utf-8")
    db = str(folder / "posts.duckdb")
    run_ingest(db, [str(source)])
    with write_transaction(db) as con:
        for column in ("body_source", "source_format"):
            con.execute(f"ALTER TABLE posts DROP COLUMN {column}")
        con.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    return db


def test_a_schema_7_store_is_read_by_the_app_and_upgraded_keeping_every_post(
    tmp_path: Path,
) -> None:
    db = _schema_7_store(tmp_path)
    before = query(db, "SELECT id, title, excerpt, body, doc FROM posts ORDER BY id")
    index = query(db, "SELECT term, doc, tf FROM postings JOIN terms USING (term_id) ORDER BY ALL")
    with connect_read_only(db) as con:  # the app, before anything writes the store
        download = queries.export(con, Filters())
        assert download.num_rows == 3 and "body_source" not in download.column_names
    ensure_seeded(db, default_db=tmp_path / "not-this-one.duckdb")
    assert schema_version(db) == SCHEMA_VERSION
    assert query(db, "SELECT id, title, excerpt, body, doc FROM posts ORDER BY id") == before
    assert (
        query(db, "SELECT term, doc, tf FROM postings JOIN terms USING (term_id) ORDER BY ALL")
        == index
    )
    assert query(db, "SELECT DISTINCT body_source, source_format FROM posts") == [(None, None)]


def test_a_listing_card_keeps_its_line_as_written(tmp_path: Path) -> None:
    listing = tmp_path / "listing.txt"
    listing.write_text(LISTING, encoding="utf-8")
    db = str(tmp_path / "posts.duckdb")
    run_ingest(db, [str(listing)])
    line = LISTING.splitlines()[-1]
    assert query(db, "SELECT excerpt, body_source, source_format FROM posts") == [
        (line.strip(), line, "text")
    ]


def test_the_parquet_export_holds_each_post_s_source(tmp_path: Path) -> None:
    source = tmp_path / "posts.csv"
    source.write_text(
        'title,body,url\n加粗,"**Pre-LN** 更稳定，见 `ln_attn`。",https://a.example/md\n',
        encoding="utf-8",
    )
    db = str(tmp_path / "posts.duckdb")
    run_ingest(db, [str(source)])
    export_parquet(db, str(tmp_path / "dataset"))
    posts = pq.read_table(tmp_path / "dataset" / "posts" / "part-0.parquet").to_pylist()
    assert [(p["body"], p["body_source"], p["source_format"]) for p in posts] == [
        ("Pre-LN 更稳定，见 ln_attn。", "**Pre-LN** 更稳定，见 `ln_attn`。", "markdown")
    ]


def test_plain_text_keeps_no_copy_and_a_store_with_copies_reads_the_same(tmp_path: Path) -> None:
    """Text that reads as itself is its own source (``body_source`` empty, format text);
    stores written before keep a copy, and every reader takes both for the same source."""
    source = tmp_path / "posts.csv"
    source.write_text(POSTS, encoding="utf-8")
    bodies = {url: body for _, body, url, _ in (line.split(",") for line in POSTS.split()[1:])}
    now, before = str(tmp_path / "now.duckdb"), str(tmp_path / "before.duckdb")
    for db in (now, before):
        run_ingest(db, [str(source)])
    assert query(now, "SELECT DISTINCT body_source, source_format FROM posts") == [(None, "text")]
    with write_transaction(before) as con:
        con.execute("UPDATE posts SET body_source = body WHERE source_format = 'text'")
    for db in (now, before):
        with connect_read_only(db) as con:
            download = queries.export(con, Filters()).to_pylist()
        assert {p["url"]: (p["body_source"], p["source_format"]) for p in download} == {
            url: (body, "text") for url, body in bodies.items()
        }
        for fast_lane in (True, False):  # the same file again: nothing to write
            again = run_ingest(db, [str(source)], fast_lane=fast_lane)
            assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
        summary = rederive(db)
        assert (summary.posts, summary.changed, summary.without_source) == (3, 0, 0)
    # A published dataset is the store as it is; the app's download from it reads the same.
    export_parquet(now, str(tmp_path / "dataset"))
    con = open_read_only(locate(str(tmp_path / "dataset")))
    try:
        download = queries.export(con, Filters()).to_pylist()
    finally:
        con.close()
    assert {p["url"]: p["body_source"] for p in download} == bodies
