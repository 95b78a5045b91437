"""Every view a link: paging and sorting, bad URL parameters named, filters shown as chips,
and the post page's ways on (keywords, previous and next), run headless with AppTest."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import build_store, card_titles, open_app, query, seeded_store

POSTS = "pages/posts.py"
POST = "pages/post.py"
FIRST_DAY = date(2024, 1, 1)


@pytest.fixture(scope="module")
def forty_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """45 posts, one a day, alternately NLP and Large Model: three pages of 20."""
    rows = [
        {
            "title": f"Post {i:02d}",
            "excerpt": f"Excerpt {i}",
            "category": ("NLP", "Large Model")[i % 2],
            "date": (FIRST_DAY + timedelta(days=i)).isoformat(),
        }
        for i in range(45)
    ]
    return build_store(tmp_path_factory.mktemp("links") / "posts.duckdb", rows)


@pytest.fixture(scope="module")
def seed_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_store(tmp_path_factory.mktemp("links_seed"))


def links(at: AppTest) -> list[tuple[str, str, dict[str, list[str]]]]:
    """``(label, page, URL parameters)`` of each page link."""
    return [
        (link.proto.label, link.proto.page, parse_qs(link.proto.query_string.lstrip("?")))
        for link in at.get("page_link")
    ]


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def chip(at: AppTest, start: str):
    (found,) = [b for b in at.button if b.label.startswith(start) and b.label.endswith("✕")]
    return found


# --- Paging and sorting ---------------------------------------------------------------------


def test_changing_the_sort_goes_back_to_the_first_page(
    monkeypatch: pytest.MonkeyPatch, forty_db: str
) -> None:
    at = open_app(monkeypatch, forty_db, POSTS, {"page": "2"})
    assert at.text_input(key="page").value == "2"
    at.segmented_control(key="sort").set_value("oldest").run()
    assert at.text_input(key="page").value == "1"
    assert card_titles(at)[0] == "Post 00"


def test_a_page_past_the_end_shows_the_last_page(
    monkeypatch: pytest.MonkeyPatch, forty_db: str
) -> None:
    at = open_app(monkeypatch, forty_db, POSTS, {"page": "999"})
    assert at.text_input(key="page").value == "3"
    assert card_titles(at) == ["Post 04", "Post 03", "Post 02", "Post 01", "Post 00"]
    assert "There are 3 pages, not 999" in captions(at)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"from": "garbage"}, "Ignored `from` = garbage: not a date"),
        ({"to": "1850-01-01"}, "Ignored `to` = 1850\\-01\\-01: outside"),
        ({"page": "-5"}, "Ignored `page` = \\-5: pages are numbered from 1"),
        ({"page": "two"}, "Ignored `page` = two: not a page number"),
        ({"sort": "bogus"}, "Ignored `sort` = bogus: not one of newest, oldest"),
        ({"category": "Nope"}, "Ignored `category` = Nope: no such category"),
        ({"from": "2024-02-01", "to": "2024-01-01"}, "is after `to` (2024-01-01)"),
    ],
)
def test_a_bad_parameter_is_named_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, forty_db: str, params: dict[str, str], named: str
) -> None:
    at = open_app(monkeypatch, forty_db, POSTS, params)
    assert named in captions(at)


def test_a_bad_interval_is_named_and_leaves_the_url(
    monkeypatch: pytest.MonkeyPatch, forty_db: str
) -> None:
    at = open_app(monkeypatch, forty_db, params={"interval": "bogus"})
    assert "Ignored `interval` = bogus: not one of auto, day" in captions(at)
    assert "interval" not in at.query_params


# --- Chips ------------------------------------------------------------------------------------


def test_each_filter_shows_as_a_chip_that_removes_it(
    monkeypatch: pytest.MonkeyPatch, forty_db: str
) -> None:
    at = open_app(
        monkeypatch, forty_db, POSTS, {"category": ["NLP", "Large Model"], "from": "2024-01-11"}
    )
    assert any("**35** posts match" in m.value for m in at.markdown)
    chip(at, "NLP").click().run()
    assert at.multiselect(key="category").value == ["Large Model"]
    assert any("**17** posts match" in m.value for m in at.markdown)
    chip(at, "from 2024").click().run()
    assert at.date_input(key="from").value is None
    assert any("**22** posts match" in m.value for m in at.markdown)
    assert [b.label for b in at.button if b.label.endswith("✕")] == ["Large Model ✕"]
    chip(at, "Large Model").click().run()
    assert not [b for b in at.button if b.label.endswith("✕")]
    assert "Filtered by" not in captions(at)
    assert any("**45** posts match" in m.value for m in at.markdown)


# --- The post page ----------------------------------------------------------------------------


def open_post(monkeypatch: pytest.MonkeyPatch, db: str, post_id: str) -> AppTest:
    at = open_app(monkeypatch, db, POSTS)
    at.query_params["id"] = post_id
    return at.switch_page(POST).run()


def test_previous_and_next_follow_the_list_order(
    monkeypatch: pytest.MonkeyPatch, forty_db: str
) -> None:
    (post_id,) = query(forty_db, "SELECT id FROM posts WHERE title = 'Post 10'")[0]
    at = open_post(monkeypatch, forty_db, post_id)
    ids = {label: params.get("id") for label, _, params in links(at)}
    (before,) = query(forty_db, "SELECT id FROM posts WHERE title = 'Post 11'")[0]
    (after,) = query(forty_db, "SELECT id FROM posts WHERE title = 'Post 09'")[0]
    assert ids["Previous: Post 11"] == [before]  # newest first, as Browse lists them
    assert ids["Next: Post 09"] == [after]
    assert "Post 35 of 45 in the list" in captions(at)


def test_keywords_link_to_browse_filtered_by_them(
    monkeypatch: pytest.MonkeyPatch, seed_db: str
) -> None:
    (post_id, keyword) = query(
        seed_db,
        """SELECT p.id, k.term FROM posts p JOIN post_keywords k ON k.doc = p.doc
           ORDER BY k.weight DESC LIMIT 1""",
    )[0]
    at = open_post(monkeypatch, seed_db, post_id)
    topic_links = [(page, params["topic"]) for _, page, params in links(at) if "topic" in params]
    assert [keyword] in [topics for _, topics in topic_links]
    assert all(page.endswith("posts") for page, _ in topic_links), topic_links


def test_import_times_are_labelled_as_such(monkeypatch: pytest.MonkeyPatch, forty_db: str) -> None:
    (post_id,) = query(forty_db, "SELECT id FROM posts LIMIT 1")[0]
    at = open_post(monkeypatch, forty_db, post_id)
    (where,) = [e for e in at.expander if e.label == "Where this post was seen"]
    text = where.markdown[0].value
    assert "First imported " in text and "last imported " in text


def test_the_data_page_says_it_ignores_the_filters(
    monkeypatch: pytest.MonkeyPatch, forty_db: str, tmp_path: Path
) -> None:
    at = open_app(monkeypatch, forty_db, "pages/data.py", {"category": "NLP"})
    assert "covers the whole store" in captions(at)
