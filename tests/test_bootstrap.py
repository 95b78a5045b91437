"""A fresh clone has data at first start, and a user's own imports survive a re-seed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lib.bootstrap import ensure_seeded, needs_seeding
from lib.config import SEED_DIR
from lib.ingest import run_ingest
from tests.conftest import query


def test_missing_store_is_built_from_the_bundled_seed(db_path: str) -> None:
    assert needs_seeding(db_path)
    assert ensure_seeded(db_path) is True
    assert query(db_path, "SELECT count(*) FROM posts") == [(33,)]
    assert ensure_seeded(db_path) is False


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
    assert ensure_seeded(db_path, seed)
    assert query(db_path, "SELECT count(*) FROM posts WHERE url IS NOT NULL") == [(1,)]
    assert query(db_path, "SELECT count(*) FROM posts") == [(34,)]


def test_an_old_but_complete_store_is_not_rewritten(seeded_db: str, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(seeded_db, db)
    os.utime(db, (0, 0))
    assert not needs_seeding(str(db))
