"""Reading the blog's listing snapshots exactly, on the bundled data."""

from __future__ import annotations

from datetime import date

from lib.config import SEED_DIR
from lib.ingest.snapshot import looks_like_snapshot, parse_snapshot
from tests.helpers import query

BUNDLED_POSTS = 33
BUNDLED_WITH_CATEGORY = 22


def _read(name: str):
    path = next(SEED_DIR.glob(f"{name}_*.txt"))
    return parse_snapshot(path.read_text(encoding="utf-8"), path.name)


def test_bundled_snapshots_hold_33_posts_22_with_category(seeded_db: str) -> None:
    total, with_category, with_date = query(
        seeded_db, "SELECT count(*), count(category), count(published) FROM posts"
    )[0]
    assert (total, with_category, with_date) == (BUNDLED_POSTS, BUNDLED_WITH_CATEGORY, 22)


def test_no_post_gets_conflicting_metadata_across_snapshots(seeded_db: str) -> None:
    assert query(seeded_db, "SELECT count(*) FROM conflicts")[0][0] == 0
    # Independently of the merge step: every sighting of an excerpt carries the same category.
    seen: dict[str, set[str | None]] = {}
    for path in sorted(SEED_DIR.glob("*.txt")):
        for record in parse_snapshot(path.read_text(encoding="utf-8"), path.name):
            seen.setdefault(record.excerpt, set()).add(record.category)
    disagreeing = {e[:20]: cats - {None} for e, cats in seen.items() if len(cats - {None}) > 1}
    assert disagreeing == {}


def test_metadata_lines_label_the_excerpt_that_follows_them() -> None:
    records = _read("004")

    def card(opening: str):
        return next(r for r in records if r.excerpt.startswith(opening))

    # Line 1 is a card cut at the top edge: its category and date were above the snapshot.
    assert records[0].excerpt.startswith("Pycharm") and records[0].category is None
    assert card("通过继承创建的新类").category == "Python"
    assert card("Python程序中存储").category == "Python"
    assert card("梯度检查点").category == "Large Model"
    assert card("梯度检查点").published == date(2026, 1, 11)


def test_page_chrome_is_not_a_post_and_cards_without_metadata_are_kept() -> None:
    records = _read("001")
    assert len(records) == 12
    assert all(r.category is None and r.published is None for r in records)
    assert not any("LATEST UPDATES" in (r.excerpt or "") for r in records)
    assert records[0].locator.endswith(":4")


def test_two_posts_sharing_a_long_opening_stay_two_posts(seeded_db: str) -> None:
    rows = query(
        seeded_db,
        "SELECT excerpt FROM posts WHERE excerpt LIKE '背景 随着预训练语言模型进入LLM时代%'",
    )
    assert len(rows) == 2
    assert {"Adapter tuning" in r[0] for r in rows} == {True, False}


def test_every_snapshot_post_has_a_derived_title_flagged_as_such(seeded_db: str) -> None:
    rows = query(seeded_db, "SELECT title, title_derived FROM posts")
    assert all(title and derived for title, derived in rows)
    titles = {title for title, _ in rows}
    assert "Chameleon:生成理解统一模型的开山之作" in titles
    assert "Structured Generation with LLM" in titles


def test_missing_values_are_null_not_placeholders(seeded_db: str) -> None:
    rows = query(seeded_db, "SELECT DISTINCT category FROM posts ORDER BY category NULLS FIRST")
    assert rows[0] == (None,)
    assert {r[0] for r in rows[1:]} == {
        "Large Model",
        "Generative Model",
        "NLP",
        "Python",
        "杂七杂八",
    }
    assert query(seeded_db, "SELECT count(*) FROM posts WHERE url IS NOT NULL")[0][0] == 0


def test_a_post_seen_in_several_snapshots_is_one_row_with_its_sightings(seeded_db: str) -> None:
    rows = query(
        seeded_db,
        "SELECT sightings, category FROM posts WHERE excerpt LIKE '引言与背景 FlashAttention%'",
    )
    assert rows == [(5, "Large Model")]


def test_recognises_snapshot_text() -> None:
    sample = next(SEED_DIR.glob("*.txt")).read_text(encoding="utf-8")
    assert looks_like_snapshot(sample)
    assert not looks_like_snapshot("title,date\nhello,2024-01-01\n")


def test_a_card_dated_year_zero_has_no_date_and_its_text_no_override() -> None:
    """The snapshot parser builds its records itself: the rules reach it too."""
    text = (
        "LATEST UPDATES\nNLP\n0000-01-01\n"
        "这是一段很长的摘要\u202e，讲显存优化与分布式训练的经验，还有更多更多的内容在后面...\n"
    )
    (record,) = parse_snapshot(text, "listing.txt")
    assert (record.category, record.published, record.date_out_of_range) == (
        "NLP",
        None,
        "0000-01-01",
    )
    assert "\u202e" not in record.excerpt and "\u202e" not in (record.title or "")
