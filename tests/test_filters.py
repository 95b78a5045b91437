"""The sidebar's category box over a store with more categories than a page can offer.

A hostile export can give every post a category of its own: 100,000 categories were all
sent to every page as options of the box and listed, with their counts, under it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import build_store, card_meta, open_app
from ui.filters import CATEGORIES_LISTED, CATEGORY_OPTIONS

CATEGORIES = CATEGORY_OPTIONS + 200


@pytest.fixture(scope="module")
def many_categories(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder: Path = tmp_path_factory.mktemp("categories")
    rows = [
        # One large category, then one post in each of the others.
        {"title": f"Post {i}", "excerpt": f"text {i}", "category": "big" if i < 3 else f"c{i:05d}"}
        for i in range(CATEGORIES + 2)
    ]
    return build_store(folder / "posts.duckdb", rows)


def test_the_category_box_offers_the_largest_and_lists_few(
    monkeypatch: pytest.MonkeyPatch, many_categories: str
) -> None:
    at = open_app(monkeypatch, many_categories, page="pages/posts.py")
    box = at.multiselect(key="category")
    assert len(box.options) == CATEGORY_OPTIONS
    assert box.options[0] == "big"  # the largest first
    (listed,) = [c.value for c in at.caption if c.value.startswith("Posts per category")]
    assert listed.count("**") == 2 * CATEGORIES_LISTED
    assert listed.endswith(f"and {CATEGORIES - CATEGORIES_LISTED:,} more")


def test_a_chosen_category_beyond_the_largest_is_still_offered(
    monkeypatch: pytest.MonkeyPatch, many_categories: str
) -> None:
    last = f"c{CATEGORIES + 1:05d}"
    at = open_app(monkeypatch, many_categories, page="pages/posts.py", params={"category": last})
    box = at.multiselect(key="category")
    assert last in box.options and box.value == [last]
    assert len(box.options) == CATEGORY_OPTIONS + 1


def test_a_megabyte_category_is_not_an_option_unless_chosen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    huge = "类别" * 500_000
    rows = [{"title": "a", "excerpt": "x", "category": huge}, {"title": "b", "excerpt": "y"}]
    db = build_store(tmp_path / "posts.duckdb", rows)
    at = open_app(monkeypatch, db, page="pages/posts.py")
    assert at.multiselect(key="category").options == ["Uncategorized"]
    (listed,) = [c.value for c in at.caption if c.value.startswith("Posts per category")]
    assert len(listed) < 200
    (card,) = [line for line in card_meta(at) if line.startswith("类别")]
    assert len(card) < 100  # the card's "category · date" line
