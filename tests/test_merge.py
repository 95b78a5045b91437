"""One post is one row however many sources show it; nothing is silently overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.config import SEED_DIR
from lib.ingest import IngestError, run_ingest
from tests.helpers import query, table_state

EXCERPT = (
    "引言与背景 FlashAttention的关键创新在于使用类似于在线Softmax的思想来对自注意力计算进行分块"
    "(tiling),从而能够融合整个多头注意力层的计算,而无需访问GPU全局内存来存储中间的logits和注意力分数..."
)


def _snapshot(path: Path, *cards: tuple[str | None, str | None, str]) -> str:
    lines = ["LATEST UPDATES", ""]
    for category, day, excerpt in cards:
        lines += [x for x in (category, day) if x] + [excerpt]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_reimporting_the_same_sources_changes_nothing(db_path: str) -> None:
    first = run_ingest(db_path, [str(SEED_DIR)])
    before = table_state(db_path)
    again = run_ingest(db_path, [str(SEED_DIR)])
    assert (first.added, again.added, again.updated, again.unchanged) == (33, 0, 0, 33)
    assert table_state(db_path) == before
    runs = query(db_path, "SELECT run_id, added, unchanged FROM ingest_runs ORDER BY run_id")
    assert runs == [(1, 33, 0), (2, 0, 33)]


def test_a_later_sighting_fills_what_an_earlier_one_lacked(db_path: str, tmp_path: Path) -> None:
    run_ingest(db_path, [_snapshot(tmp_path / "a.txt", (None, None, EXCERPT))])
    assert query(db_path, "SELECT category, published FROM posts") == [(None, None)]
    summary = run_ingest(db_path, [_snapshot(tmp_path / "b.txt", ("NLP", "2025-03-02", EXCERPT))])
    assert (summary.added, summary.updated) == (0, 1)
    rows = query(db_path, "SELECT category, CAST(published AS VARCHAR), sightings FROM posts")
    assert rows == [("NLP", "2025-03-02", 2)]


def test_a_real_conflict_is_reported_and_the_stored_value_kept(
    db_path: str, tmp_path: Path
) -> None:
    run_ingest(db_path, [_snapshot(tmp_path / "a.txt", ("NLP", "2025-03-02", EXCERPT))])
    summary = run_ingest(
        db_path, [_snapshot(tmp_path / "b.txt", ("Python", "2025-03-02", EXCERPT))]
    )
    assert [(c.field, c.kept, c.offered) for c in summary.conflicts] == [
        ("category", "NLP", "Python")
    ]
    assert "conflict in category" in summary.describe()
    assert query(db_path, "SELECT category FROM posts") == [("NLP",)]
    assert query(db_path, "SELECT field, kept, offered FROM conflicts") == [
        ("category", "NLP", "Python")
    ]


def test_conflicts_within_one_run_are_reported_too(db_path: str, tmp_path: Path) -> None:
    a = _snapshot(tmp_path / "a.txt", ("NLP", None, EXCERPT))
    b = _snapshot(tmp_path / "b.txt", ("Python", None, EXCERPT))
    summary = run_ingest(db_path, [a, b])
    assert summary.added == 1
    assert [(c.field, c.kept, c.offered) for c in summary.conflicts] == [
        ("category", "NLP", "Python")
    ]
    post_id = query(db_path, "SELECT id FROM posts")[0][0]
    assert query(db_path, "SELECT post_id FROM conflicts") == [(post_id,)]


def test_listing_excerpt_and_full_post_from_an_export_are_one_post(
    db_path: str, tmp_path: Path
) -> None:
    run_ingest(db_path, [_snapshot(tmp_path / "a.txt", ("Large Model", "2026-01-11", EXCERPT))])
    body = EXCERPT.removesuffix("...").replace("FlashAttention", "Flash-Attention", 1) + (
        "。本文从 tiling 和 recomputation 两个角度解释 FlashAttention 为什么更快。"
    )
    export = tmp_path / "posts.jsonl"
    export.write_text(
        json.dumps(
            {
                "title": "FlashAttention 原理",
                "url": "https://blog.example.com/posts/flash-attention/",
                "content": body,
                "tags": ["Attention", "CUDA"],
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    summary = run_ingest(db_path, [str(export)])
    assert (summary.added, summary.updated) == (0, 1)
    rows = query(db_path, "SELECT title, title_derived, url, category, tags, sightings FROM posts")
    assert rows == [
        (
            "FlashAttention 原理",
            False,
            "https://blog.example.com/posts/flash-attention/",
            "Large Model",
            ["Attention", "CUDA"],
            2,
        )
    ]


def test_a_bad_file_in_a_run_writes_nothing_at_all(seeded_db: str, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(Path(seeded_db).read_bytes())
    before = table_state(str(db))
    good = _snapshot(tmp_path / "good.txt", ("NLP", "2025-01-01", EXCERPT.replace("引言", "导读")))
    bad = tmp_path / "bad.csv"
    bad.write_bytes("title,date\n好文章,2024-01-01\n".encode().replace(b",2024", b"\xff,2024"))
    with pytest.raises(IngestError, match=r"bad\.csv:2: not valid UTF-8"):
        run_ingest(str(db), [good, str(bad)])
    assert table_state(str(db)) == before
    assert list(tmp_path.glob("copy.duckdb.tmp*")) == []


def test_records_without_any_text_are_rejected_and_counted(db_path: str, tmp_path: Path) -> None:
    export = tmp_path / "posts.jsonl"
    export.write_text(
        '{"title": "LoRA 微调实践", "date": "2024-05-01"}\n{"category": "NLP"}\n', encoding="utf-8"
    )
    summary = run_ingest(db_path, [str(export)])
    assert summary.added == 1
    assert len(summary.rejected) == 1 and "no title, excerpt or body" in summary.rejected[0][1]
    assert query(db_path, "SELECT rejected FROM ingest_runs") == [(1,)]


# --- The source travels with the text it derived --------------------------------------------

LINK = "https://notes.example.net/ln/"


def _export(path: Path, body: str) -> str:
    path.write_text(f'title,body,url\nLayerNorm 放在哪里,"{body}",{LINK}\n', encoding="utf-8")
    return str(path)


def test_a_newer_source_reading_the_same_replaces_the_stored_one(
    db_path: str, tmp_path: Path
) -> None:
    run_ingest(db_path, [_export(tmp_path / "a.csv", "**Pre-LN** 训练更稳定。")])
    summary = run_ingest(db_path, [_export(tmp_path / "b.csv", "__Pre-LN__ 训练更稳定。")])
    assert (summary.updated, summary.conflicts) == (1, [])
    assert query(db_path, "SELECT body, body_source, source_format FROM posts") == [
        ("Pre-LN 训练更稳定。", "__Pre-LN__ 训练更稳定。", "markdown")
    ]


def test_a_source_whose_text_is_not_kept_is_not_kept_either(db_path: str, tmp_path: Path) -> None:
    run_ingest(db_path, [_export(tmp_path / "a.csv", "**Pre-LN** 训练更稳定。")])
    summary = run_ingest(db_path, [_export(tmp_path / "b.csv", "*Post-LN* 效果略好。")])
    # One disagreement, in the text: an excerpt derived from it is not a second one.
    assert [c.field for c in summary.conflicts] == ["body"]
    assert query(db_path, "SELECT body, body_source FROM posts") == [
        ("Pre-LN 训练更稳定。", "**Pre-LN** 训练更稳定。")
    ]


def test_a_post_and_its_feed_entry_keep_the_markdown_source(db_path: str) -> None:
    """The feed's HTML reads the same as the post's Markdown; the author's Markdown stays."""
    run_ingest(db_path, [str(Path(__file__).parent / "fixtures" / "blogs" / "hugo")])
    kept = query(
        db_path,
        """SELECT p.source_format, count(*) FROM posts p
           WHERE EXISTS (SELECT 1 FROM sightings s WHERE s.post_id = p.id AND s.source LIKE '%.md')
           GROUP BY ALL""",
    )
    assert kept == [("markdown", 5)]
