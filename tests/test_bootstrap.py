"""A fresh clone has data at first start, a user's own imports survive a re-seed, and a store
the user names is never seeded with the sample posts."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb

from lib.bootstrap import ensure_seeded, needs_seeding, schema_version
from lib.config import DEFAULT_DB, SEED_DIR
from lib.ingest import run_ingest
from lib.store import SCHEMA_VERSION, write_transaction
from tests.helpers import query, table_state


def test_missing_default_store_is_built_from_the_bundled_seed(db_path: str) -> None:
    assert needs_seeding(db_path)
    assert ensure_seeded(db_path, default_db=db_path) is True
    assert query(db_path, "SELECT count(*) FROM posts") == [(33,)]
    assert ensure_seeded(db_path, default_db=db_path) is False


def test_the_default_is_data_posts_duckdb_however_it_is_spelled(tmp_path: Path) -> None:
    assert DEFAULT_DB.name == "posts.duckdb" and DEFAULT_DB.parent.name == "data"
    spelled = tmp_path / "x" / ".." / "posts.duckdb"
    assert ensure_seeded(str(spelled), default_db=tmp_path / "posts.duckdb") is True
    assert query(str(tmp_path / "posts.duckdb"), "SELECT count(*) FROM posts") == [(33,)]


def test_a_missing_user_named_store_is_not_created(tmp_path: Path) -> None:
    named = tmp_path / "mine.duckdb"
    assert ensure_seeded(str(named)) is False
    assert not named.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_user_named_store_never_gets_the_sample_posts(tmp_path: Path) -> None:
    named = str(tmp_path / "mine.duckdb")
    own = tmp_path / "own.jsonl"
    own.write_text('{"title": "我的笔记: MoE 路由", "url": "https://me.example/moe"}\n', "utf-8")
    run_ingest(named, [str(own)])
    old = os.path.getmtime(SEED_DIR / "000_6ad687d02a77859e.txt") - 100
    os.utime(named, (old, old))  # older than the seed: the default store would be re-seeded
    assert needs_seeding(named)
    before = table_state(named)
    assert ensure_seeded(named) is False
    assert table_state(named) == before
    assert query(named, "SELECT title FROM posts") == [("我的笔记: MoE 路由",)]


def test_a_user_named_store_from_an_older_schema_is_migrated_not_seeded(tmp_path: Path) -> None:
    named = str(tmp_path / "mine.duckdb")
    own = tmp_path / "own.jsonl"
    own.write_text('{"title": "LoRA 的秩怎么选", "url": "https://me.example/lora"}\n', "utf-8")
    run_ingest(named, [str(own)])
    con = duckdb.connect(named)
    try:
        con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        con.execute("DELETE FROM postings")
    finally:
        con.close()
    assert ensure_seeded(named) is True
    assert schema_version(named) == SCHEMA_VERSION
    assert query(named, "SELECT title FROM posts") == [("LoRA 的秩怎么选",)]
    # The index was rebuilt, so the post can be found again.
    assert query(named, "SELECT count(*) > 0 FROM postings") == [(True,)]


def test_store_older_than_the_seed_is_brought_up_to_date_without_losing_data(
    db_path: str, tmp_path: Path
) -> None:
    seed = tmp_path / "seed"
    shutil.copytree(SEED_DIR, seed)
    _first, *rest = sorted(seed.glob("*.txt"))
    for path in rest:
        path.unlink()
    run_ingest(db_path, [str(seed)])
    own = tmp_path / "own.jsonl"
    own.write_text('{"title": "我的笔记: MoE 路由", "url": "https://me.example/moe"}\n', "utf-8")
    run_ingest(db_path, [str(own)])
    assert not needs_seeding(db_path, seed)
    for path in rest:
        shutil.copy(SEED_DIR / path.name, path)
    old = os.path.getmtime(db_path) - 100
    os.utime(db_path, (old, old))
    assert needs_seeding(db_path, seed)
    assert ensure_seeded(db_path, seed, default_db=db_path)
    assert query(db_path, "SELECT count(*) FROM posts WHERE url IS NOT NULL") == [(1,)]
    assert query(db_path, "SELECT count(*) FROM posts") == [(34,)]


def test_an_old_but_complete_store_is_not_rewritten(seeded_db: str, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(seeded_db, db)
    os.utime(db, (0, 0))
    assert not needs_seeding(str(db))


def test_app_start_leaves_a_running_imports_copy_alone(db_path: str) -> None:
    """A copy whose writer still holds the store's lock is work in progress, not litter."""
    run_ingest(db_path, [str(SEED_DIR)])
    with write_transaction(db_path) as con:
        con.execute("DELETE FROM posts WHERE category IS NULL")
        copy = Path(f"{db_path}.tmp{os.getpid()}")
        assert copy.exists()
        ensure_seeded(db_path)  # what the app runs at its start
        assert copy.exists()
    # The import went on to replace the store, and cleaned up after itself.
    assert query(db_path, "SELECT count(*) FROM posts") == [(22,)]
    assert list(Path(db_path).parent.glob("posts.duckdb.tmp*")) == []


def _team_seed(seed: Path) -> dict[str, str]:
    """A seed folder as a team keeps it: the bundled snapshots, a Markdown folder, a saved
    feed, and exports in every tabular format, nested; returns each new post's title by file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.helpers import rss

    shutil.copytree(SEED_DIR, seed / "snapshots")
    (seed / "README.md").write_text("# Our posts\nExports and feeds for the app.\n", "utf-8")
    notes = seed / "notes" / "2026"
    notes.mkdir(parents=True)
    (notes / "moe.md").write_text(
        "---\ntitle: MoE 路由的负载均衡\ndate: 2026-03-02\ncategories: Large Model\n---\n"
        "专家路由不均衡时，辅助损失把 token 分散到各个专家。\n",
        "utf-8",
    )
    feed = seed / "feeds" / "team.example.com" / "feed"
    feed.mkdir(parents=True)
    (feed / "2026-11-01.xml").write_bytes(
        rss([("推理服务的批处理", "https://team.example.com/batching", "2026-10-30")])
    )
    exports = seed / "exports" / "nested" / "deeper"
    exports.mkdir(parents=True)
    (seed / "exports" / "posts.csv").write_text(
        "title,url,date,category\n量化感知训练入门,https://team.example.com/qat,2026-02-01,NLP\n",
        "utf-8",
    )
    (seed / "exports" / "nested" / "more.json").write_text(
        json.dumps([{"title": "长上下文的位置编码", "url": "https://team.example.com/rope"}]),
        "utf-8",
    )
    (exports / "rows.jsonl").write_text(
        json.dumps({"title": "数据去重与质量过滤", "url": "https://team.example.com/dedup"}) + "\n",
        "utf-8",
    )
    pq.write_table(
        pa.table({"title": ["蒸馏小模型的经验"], "url": ["https://team.example.com/distill"]}),
        exports / "old.parquet",
    )
    return {
        "notes/2026/moe.md": "MoE 路由的负载均衡",
        "feeds/…/2026-11-01.xml": "推理服务的批处理",
        "exports/posts.csv": "量化感知训练入门",
        "exports/nested/more.json": "长上下文的位置编码",
        "exports/nested/deeper/rows.jsonl": "数据去重与质量过滤",
        "exports/nested/deeper/old.parquet": "蒸馏小模型的经验",
    }


def test_a_nested_seed_of_mixed_formats_is_imported_whole(db_path: str, tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    titles = _team_seed(seed)
    assert ensure_seeded(db_path, seed, default_db=db_path) is True
    stored = {title for (title,) in query(db_path, "SELECT title FROM posts")}
    assert set(titles.values()) <= stored, set(titles.values()) - stored
    # The bundled 33 (as imported from the bundled folder alone) plus one post per new file.
    assert query(db_path, "SELECT count(*) FROM posts") == [(33 + len(titles),)]
    assert ensure_seeded(db_path, seed, default_db=db_path) is False  # nothing new: no rewrite
