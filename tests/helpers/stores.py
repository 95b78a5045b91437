"""Stores built by the real ingest code, and plain SQL to read them back."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from lib.config import SEED_DIR
from lib.ingest import run_ingest
from lib.store import connect_read_only

FIXTURES = Path(__file__).parent.parent / "fixtures"


def seeded_store(folder: Path) -> str:
    """A store in ``folder`` holding the bundled data, imported by the real ingest."""
    path = str(folder / "posts.duckdb")
    run_ingest(path, [str(SEED_DIR)])
    return path


def build_store(db: str | Path, rows: list[dict[str, Any]]) -> str:
    """A store holding ``rows`` (JSON Lines records), imported by the real ingest code."""
    db = Path(db)
    source = db.with_suffix(".jsonl")
    source.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )
    summary = run_ingest(str(db), [str(source)])
    assert summary.added == len(rows), summary.describe()
    return str(db)


def query(db: str, sql: str, params: list[object] | None = None) -> list[tuple]:
    con = connect_read_only(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def store_category_counts(db: str) -> dict[str | None, int]:
    """Posts per category (None for none), read with plain SQL."""
    return dict(query(db, "SELECT category, count(*) FROM posts GROUP BY category"))


def table_state(db: str) -> list[tuple]:
    """Everything a user could see in the store, for before/after comparisons."""
    return query(db, "SELECT * FROM posts ORDER BY id") + query(
        db, "SELECT * FROM sightings ORDER BY post_id, source_digest, fingerprint"
    )


# --- Twenty months of posts ------------------------------------------------------------------

MULTI_MONTH_CATEGORIES = ("Large Model", "NLP", None)
MULTI_MONTH_FIRST_DAY = date(2024, 1, 1)


def multi_month_posts() -> list[dict[str, Any]]:
    """45 posts: 40 dated every 16 days from 2024-01-01 to 2025-09-16 (categories cycling
    Large Model / NLP / none), two more NLP posts on the day of post 10, and three undated."""
    rows: list[dict[str, Any]] = [
        {
            "title": f"Post {i:02d}",
            "excerpt": f"Excerpt number {i} about topic",
            "category": MULTI_MONTH_CATEGORIES[i % 3],
            "tags": ["t"],
            "date": (MULTI_MONTH_FIRST_DAY + timedelta(days=16 * i)).isoformat(),
            "url": f"https://example.com/p/{i}",
        }
        for i in range(40)
    ]
    same_day = rows[10]["date"]
    rows += [
        {"title": f"Twin {x}", "excerpt": f"twin {x}", "category": "NLP", "date": same_day}
        for x in ("A", "B")
    ]
    rows += [
        {"title": f"Undated {i}", "excerpt": f"undated {i}", "category": "NLP"} for i in range(3)
    ]
    return rows


# --- A decade of weekly posts ---------------------------------------------------------------

DECADE_CATEGORIES = ("Large Model", "NLP", "Python", "Generative Model", None)
DECADE_FIRST = date(2016, 1, 3)
DECADE_LAST = date(2025, 12, 28)  # a Sunday: the last week is whole, December nearly so


def decade_posts() -> list[dict[str, Any]]:
    """A post a week from 3 Jan 2016 to 28 Dec 2025, categories cycling (every fifth none).

    Large Model and uncategorized posts mention FlashAttention; the others do not, so a
    search for it leaves out three categories.
    """
    rows = []
    for i in range((DECADE_LAST - DECADE_FIRST).days // 7 + 1):
        category = DECADE_CATEGORIES[i % len(DECADE_CATEGORIES)]
        topic = "FlashAttention 显存优化" if category in ("Large Model", None) else "分词与数据清洗"
        rows.append(
            {
                # Long enough that one line of it does not fit a phone's width.
                "title": f"第{i}周笔记:{topic},以及长上下文推理里的显存占用与吞吐量对比",
                "excerpt": f"本周记录 {topic} 的实验,第 {i} 次。",
                "category": category,
                "date": (DECADE_FIRST + timedelta(weeks=i)).isoformat(),
                "url": f"https://notes.example.com/w/{i}",
            }
        )
    return rows
