"""Every page of the app, run headless with ``streamlit.testing.v1.AppTest``.

Each test starts from ``app.py`` (the entry point with ``st.navigation``), points
``POSTS_DB`` at a store built by the real ingest code, sets URL parameters the way a
shared link would, and checks what a reader would see. Expected numbers come from
plain DuckDB SQL over the same store.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from lib.charts import label
from lib.safe_text import escape_markdown
from lib.store import write_transaction
from tests.helpers import (
    HOSTILE_RAW,
    HOSTILE_TITLE,
    SEEDED_FIGURES,
    assert_no_exception,
    build_store,
    card_meta,
    card_titles,
    charts,
    metrics,
    open_app,
    plotly_values,
    query,
    time_chart,
)

NEWEST = "ORDER BY published DESC NULLS LAST, id"
OLDEST = "ORDER BY published ASC NULLS LAST, id"
NO_MATCH = "No posts match these filters."
META = re.compile(r"^(?P<category>.*) · (?:\d{4}-\d{2}-\d{2}|no date)(?: · .*)?$")


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("pages_empty") / "posts.duckdb")
    with write_transaction(db):
        pass  # the schema, and no posts
    assert query(db, "SELECT count(*) FROM posts") == [(0,)]
    return db


# --- Driving the app -----------------------------------------------------------------------


def card_categories(at: AppTest) -> list[str]:
    return [m["category"] for line in card_meta(at) if (m := META.match(line))]


def flagged_periods(figure: dict[str, Any]) -> set[str]:
    """The periods drawn hatched: each category's partial bars are a trace of their own."""
    flagged: set[str] = set()
    for trace in figure["data"]:
        if trace["name"] != "partial period" and "pattern" in trace["marker"]:
            flagged |= set(plotly_values(trace["x"]))
    return flagged


def stacked_totals(figure: dict[str, Any]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for trace in figure["data"]:
        if trace["name"] != "partial period":
            totals[trace["name"]] = totals.get(trace["name"], 0) + sum(plotly_values(trace["y"]))
    return totals


def infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


def newest_titles(db: str, limit: int, offset: int = 0) -> list[str]:
    rows = query(db, f"SELECT title FROM posts {NEWEST} LIMIT ? OFFSET ?", [limit, offset])
    return [escape_markdown(r[0]) for r in rows]


# --- Overview ------------------------------------------------------------------------------


def test_overview_key_figures(monkeypatch: pytest.MonkeyPatch, seeded_db: str) -> None:
    at = open_app(monkeypatch, seeded_db)
    assert at.title[0].value == "Overview"
    assert metrics(at) == SEEDED_FIGURES


def test_overview_one_shared_date_gives_the_category_chart(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_app(monkeypatch, seeded_db)
    assert list(charts(at)) == ["Posts by category"]
    (trace,) = charts(at)["Posts by category"]["data"]
    bars = dict(zip(plotly_values(trace["y"]), plotly_values(trace["x"]), strict=True))
    store = {
        label(c): n for c, n in query(seeded_db, "SELECT category, count(*) FROM posts GROUP BY 1")
    }
    assert bars == store
    assert any("shares one date" in c.value for c in at.caption)


def test_overview_of_a_blog_without_categories_charts_its_tags(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Lil'Log and the Hugging Face blog tag their posts and give them no category: the
    # chart by category was one "Uncategorized" bar.
    rows = [
        {
            "title": f"Post {i}",
            "body": f"Notes number {i} on {' and '.join(tags) or 'nothing'}.",
            "url": f"https://notes.example.org/{i}/",
            "tags": tags,
            "published": f"2024-0{m}-01",
        }
        for i, (tags, m) in enumerate(
            [(["nlp", "rl"], 1), (["nlp"], 2), (["nlp", "cv"], 3), (["rl"], 4), ([], 5)]
        )
    ]
    db = build_store(tmp_path / "posts.duckdb", rows)
    at = open_app(monkeypatch, db)
    assert "Posts by category" not in charts(at)
    (trace,) = charts(at)["Posts by tag"]["data"]
    bars = dict(zip(plotly_values(trace["y"]), plotly_values(trace["x"]), strict=True))
    assert bars == {"nlp": 3, "rl": 2, "cv": 1}
    assert any("no categories" in c.value for c in at.caption)
    # Over time, split by topic: by category would be one grey "Uncategorized" series.
    names = {t.get("name") for t in time_chart(at)["data"] if t.get("type") == "bar"}
    assert label(None) not in names
    at.text_input(key="q").input("tag:rl").run()  # the caption's way to filter by a tag
    (trace,) = charts(at)["Posts by tag"]["data"]
    assert dict(zip(plotly_values(trace["y"]), plotly_values(trace["x"]), strict=True)) == {
        "rl": 2,
        "nlp": 1,
    }


def test_overview_lists_the_six_latest_posts(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_app(monkeypatch, seeded_db)
    assert card_titles(at) == newest_titles(seeded_db, limit=6)
    ids = [r[0] for r in query(seeded_db, f"SELECT id FROM posts {NEWEST} LIMIT 6")]
    links = [p.proto for p in at.get("page_link") if p.proto.label == "Read the post"]
    assert [(p.page, p.query_string) for p in links] == [("post", f"id={i}") for i in ids]


# --- Filters from the URL -------------------------------------------------------------------


def test_category_from_the_url(monkeypatch: pytest.MonkeyPatch, seeded_db: str) -> None:
    at = open_app(monkeypatch, seeded_db, params={"category": "NLP"})
    assert metrics(at)["Posts"] == "4"
    assert card_categories(at) == ["NLP"] * 4
    assert at.query_params.get("category") == "NLP"  # the shared link still says so


def test_two_categories_from_the_url(monkeypatch: pytest.MonkeyPatch, seeded_db: str) -> None:
    at = open_app(monkeypatch, seeded_db, params={"category": ["NLP", "Python"]})
    expected = query(seeded_db, "SELECT count(*) FROM posts WHERE category IN ('NLP', 'Python')")
    assert metrics(at)["Posts"] == str(expected[0][0]) == "7"
    assert set(card_categories(at)) == {"NLP", "Python"}


def test_posts_without_category_from_the_url(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_app(monkeypatch, seeded_db, params={"category": "Uncategorized"})
    assert metrics(at)["Posts"] == "11"
    assert set(card_categories(at)) == {"Uncategorized"}


@pytest.mark.parametrize(
    "params",
    [{"from": "2026-01-12"}, {"to": "2026-01-10"}, {"from": "2025-01-01", "to": "2025-12-31"}],
    ids=["after", "before", "other-year"],
)
def test_dates_outside_the_data_match_nothing(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str, params: dict[str, str]
) -> None:
    at = open_app(monkeypatch, seeded_db, params=params)
    assert infos(at) == [NO_MATCH]
    assert metrics(at) == {}
    assert card_titles(at) == []
    assert not at.get("plotly_chart")


def test_dates_around_the_data_keep_the_dated_posts(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_app(monkeypatch, seeded_db, params={"from": "2026-01-11", "to": "2026-01-11"})
    dated = query(seeded_db, "SELECT count(*) FROM posts WHERE published = DATE '2026-01-11'")
    assert metrics(at)["Posts"] == str(dated[0][0]) == "22"
    assert metrics(at)["Without category / date"] == "0% / 0%"


def test_words_from_the_url(monkeypatch: pytest.MonkeyPatch, seeded_db: str) -> None:
    at = open_app(monkeypatch, seeded_db, params={"q": "FlashAttention"})
    matching = query(
        seeded_db,
        """SELECT title FROM posts WHERE title ILIKE '%flashattention%'
              OR excerpt ILIKE '%flashattention%' OR body ILIKE '%flashattention%'
              OR array_to_string(tags, ' ') ILIKE '%flashattention%'""",
    )
    assert metrics(at)["Posts"] == str(len(matching))
    assert len(card_titles(at)) == len(matching) >= 1
    for title in card_titles(at):
        assert ":orange-background[**FlashAttention**]" in title
    assert at.query_params.get("q") == "FlashAttention"


RELAXED = "No post has every word"


def test_a_search_no_post_fully_matches_shows_the_closest_and_says_so(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_app(monkeypatch, seeded_db, "pages/posts.py", {"q": "Flash Attention 原理 zzyzx"})
    assert_no_exception(at)
    assert any(RELAXED in c.value for c in at.caption)
    assert ":orange-background[**FlashAttention**]" in card_titles(at)[0]
    # Every word found together: no note.
    at = open_app(monkeypatch, seeded_db, "pages/posts.py", {"q": "FlashAttention"})
    assert not any(RELAXED in c.value for c in at.caption)


def test_the_filter_panel_filters_and_stays(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_app(monkeypatch, seeded_db)
    at.sidebar.multiselect(key="category").select("NLP").run()
    assert_no_exception(at)
    assert metrics(at)["Posts"] == "4"
    # After the rerun the reader still sees the panel, with NLP selected.
    assert [m.value for m in at.sidebar.multiselect] == [["NLP"], []]  # category, topic


@pytest.mark.parametrize(
    "page", [None, "pages/posts.py", "pages/data.py", "pages/post.py"], ids=lambda p: str(p)
)
def test_every_page_shows_the_filter_panel(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str, page: str | None
) -> None:
    at = open_app(monkeypatch, seeded_db, page=page)
    assert [w.key for w in at.sidebar.text_input] == ["q"]
    assert [w.key for w in at.sidebar.multiselect] == ["category", "topic"]
    assert [w.key for w in at.sidebar.date_input] == ["from", "to"]


# --- The time chart -------------------------------------------------------------------------


def test_time_chart_stacks_every_dated_post_by_category(
    monkeypatch: pytest.MonkeyPatch, multi_db: str
) -> None:
    at = open_app(monkeypatch, multi_db)
    assert metrics(at)["Posts"] == "45"
    assert metrics(at)["Date span"] == "2024-01 → 2025-09"
    figure = time_chart(at)
    assert figure["layout"]["title"]["text"] == "Posts per month"
    assert figure["layout"]["barmode"] == "stack"
    totals = stacked_totals(figure)
    dated = query(
        multi_db, "SELECT category, count(*) FROM posts WHERE published IS NOT NULL GROUP BY 1"
    )
    assert totals == {label(c): n for c, n in dated}
    # The data end on 2025-09-16: only that month is partly covered.
    assert flagged_periods(figure) == {"2025-09-01"}
    assert "Posts by category" in charts(at)


def test_months_cut_by_the_date_filter_are_flagged_partial(
    monkeypatch: pytest.MonkeyPatch, multi_db: str
) -> None:
    params = {"from": "2024-02-10", "to": "2025-05-20", "interval": "month"}
    at = open_app(monkeypatch, multi_db, params=params)
    figure = time_chart(at)
    assert figure["layout"]["title"]["text"] == "Posts per month"
    periods = {p for t in figure["data"] for p in plotly_values(t["x"]) if p is not None}
    assert min(periods) == "2024-02-01" and max(periods) == "2025-05-01"
    assert flagged_periods(figure) == {"2024-02-01", "2025-05-01"}
    assert "partial period" in [t["name"] for t in figure["data"]]
    assert any(c.value.startswith("Hatched bars") for c in at.caption)


def test_whole_months_under_a_date_filter_are_not_flagged(
    monkeypatch: pytest.MonkeyPatch, multi_db: str
) -> None:
    params = {"from": "2024-03-01", "to": "2025-04-30", "interval": "month"}
    at = open_app(monkeypatch, multi_db, params=params)
    assert flagged_periods(time_chart(at)) == set()


def test_interval_from_the_url(monkeypatch: pytest.MonkeyPatch, multi_db: str) -> None:
    at = open_app(monkeypatch, multi_db, params={"interval": "week"})
    figure = time_chart(at)
    assert figure["layout"]["title"]["text"] == "Posts per week"
    weeks = {p for t in figure["data"] for p in plotly_values(t["x"]) if p is not None}
    assert {date.fromisoformat(p).weekday() for p in weeks} == {0}


# --- Browse ---------------------------------------------------------------------------------


def test_browse_first_page(monkeypatch: pytest.MonkeyPatch, multi_db: str) -> None:
    at = open_app(monkeypatch, multi_db, page="pages/posts.py")
    assert at.title[0].value == "Browse posts"
    assert at.markdown[0].value == "**45** posts match"
    assert card_titles(at) == newest_titles(multi_db, limit=20)
    assert "Page 1 of 3 · 20 posts per page" in [c.value for c in at.caption]
    assert [b.label for b in at.get("download_button")] == ["Download CSV", "Download Parquet"]
    for button in at.get("link_button"):
        assert button.proto.url.startswith("https://example.com/p/")


@pytest.mark.parametrize(("page", "offset", "count"), [("2", 20, 20), ("3", 40, 5)])
def test_browse_pages_from_the_url(
    monkeypatch: pytest.MonkeyPatch, multi_db: str, page: str, offset: int, count: int
) -> None:
    at = open_app(monkeypatch, multi_db, page="pages/posts.py", params={"page": page})
    titles = card_titles(at)
    assert len(titles) == count
    assert titles == newest_titles(multi_db, limit=20, offset=offset)
    assert f"Page {page} of 3 · 20 posts per page" in [c.value for c in at.caption]


def test_browse_oldest_first_from_the_url(monkeypatch: pytest.MonkeyPatch, multi_db: str) -> None:
    at = open_app(monkeypatch, multi_db, page="pages/posts.py", params={"sort": "oldest"})
    oldest = query(multi_db, f"SELECT title FROM posts {OLDEST} LIMIT 20")
    assert card_titles(at) == [escape_markdown(r[0]) for r in oldest]


def test_browse_sort_box_reverses_the_order(monkeypatch: pytest.MonkeyPatch, multi_db: str) -> None:
    at = open_app(monkeypatch, multi_db, page="pages/posts.py")
    at.segmented_control(key="sort").set_value("oldest").run()
    assert_no_exception(at)
    oldest = query(multi_db, f"SELECT title FROM posts {OLDEST} LIMIT 20")
    assert card_titles(at) == [escape_markdown(r[0]) for r in oldest]
    assert card_titles(at)[:2] == ["Post 00", "Post 01"]


def test_browse_downloads_hold_every_matching_post(
    monkeypatch: pytest.MonkeyPatch, multi_db: str, downloads: dict[str, Callable[[], Any]]
) -> None:
    open_app(monkeypatch, multi_db, page="pages/posts.py")
    assert set(downloads) == {"posts.csv", "posts.parquet"}
    ids = [r[0] for r in query(multi_db, f"SELECT id FROM posts {NEWEST}")]

    data = downloads["posts.csv"]()  # what clicking "Download CSV" produces
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))
    assert [r["id"] for r in rows] == ids
    assert {r["tags"] for r in rows if r["title"].startswith("Post ")} == {"t"}

    table = pq.read_table(io.BytesIO(downloads["posts.parquet"]()))
    assert table.column("id").to_pylist() == ids


# --- One post -------------------------------------------------------------------------------


def test_post_page_shows_the_stored_post(monkeypatch: pytest.MonkeyPatch, seeded_db: str) -> None:
    post_id, title, excerpt, category = query(
        seeded_db,
        "SELECT id, title, excerpt, category FROM posts WHERE title ILIKE '%FlashAttention%'",
    )[0]
    at = open_app(monkeypatch, seeded_db, page="pages/post.py", params={"id": post_id})
    assert [t.value for t in at.title] == [escape_markdown(title)]
    assert at.caption[0].value.startswith(f"{escape_markdown(category)} · 2026-01-11")
    assert "The source gives no link to the original post." in [c.value for c in at.caption]
    assert at.markdown[0].value.startswith(escape_markdown(excerpt)[:200])
    # Back, then the similar posts (each a link to another post).
    links = at.get("page_link")
    assert links[0].proto.label == "Back"
    assert len(links) > 1 and all(f"id={post_id}" not in p.proto.query_string for p in links[1:])
    assert not at.get("link_button")


def test_post_page_links_to_the_original(monkeypatch: pytest.MonkeyPatch, multi_db: str) -> None:
    post_id, url = query(multi_db, "SELECT id, url FROM posts WHERE title = 'Post 07'")[0]
    at = open_app(monkeypatch, multi_db, page="pages/post.py", params={"id": post_id})
    assert [t.value for t in at.title] == ["Post 07"]
    assert [(b.label, b.proto.url) for b in at.get("link_button")] == [
        ("Read the original on example.com ↗", url)
    ]


@pytest.mark.parametrize("params", [{"id": "no-such-post"}, {}], ids=["unknown", "missing"])
def test_unknown_post(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str, params: dict[str, str]
) -> None:
    at = open_app(monkeypatch, seeded_db, page="pages/post.py", params=params)
    assert [t.value for t in at.title] == ["Post not found"]
    assert len(infos(at)) == 1
    assert [p.proto.label for p in at.main.get("page_link")] == ["Back"]


# --- Data -----------------------------------------------------------------------------------


def test_data_page_quality_and_ingest_runs(monkeypatch: pytest.MonkeyPatch, seeded_db: str) -> None:
    at = open_app(monkeypatch, seeded_db, page="pages/data.py")
    derived, untitled, merged, sightings = query(
        seeded_db,
        """SELECT count(*) FILTER (WHERE title_derived), count(*) - count(title),
                  count(*) FILTER (WHERE sightings > 1), sum(sightings) FROM posts""",
    )[0]
    assert metrics(at) == {
        "Posts": "33",
        "Without category": "11 (33%)",
        "Without date": "11 (33%)",
        "Title derived / missing": f"{derived} / {untitled}",
        "Without link": "33 (100%)",
        "Posts seen more than once": str(merged),
        "Sightings merged": str(sightings),
        "Conflicts / rejected records": "0 / 0",
        "Dates out of range": "0",
    }
    (runs,) = at.dataframe
    frame = runs.value
    assert len(frame) == 1
    assert (frame.iloc[0]["run_id"], frame.iloc[0]["added"], frame.iloc[0]["records"]) == (
        1,
        33,
        query(seeded_db, "SELECT records FROM ingest_runs")[0][0],
    )


# --- Untrusted text -------------------------------------------------------------------------


def rendered_text(at: AppTest) -> list[str]:
    """Every string the page hands to Streamlit's Markdown renderer."""
    texts = [
        el.value
        for kind in ("markdown", "caption", "title", "header", "subheader")
        for el in getattr(at, kind)
    ]
    texts += [el.value for el in at.info]
    texts += [m.label for m in at.metric] + [m.value for m in at.metric]
    return texts


@pytest.mark.parametrize(
    ("page", "params"),
    [(None, {}), (None, {"q": "alert"}), ("pages/posts.py", {}), ("pages/post.py", None)],
    ids=["overview", "overview-highlighted", "browse", "post"],
)
def test_hostile_text_stays_inert(
    monkeypatch: pytest.MonkeyPatch,
    hostile_db: str,
    page: str | None,
    params: dict[str, str] | None,
) -> None:
    if params is None:
        params = {"id": query(hostile_db, "SELECT id FROM posts")[0][0]}
    at = open_app(monkeypatch, hostile_db, page=page, params=params)
    texts = rendered_text(at)
    for text in texts:
        for raw in HOSTILE_RAW:
            assert raw not in text, (raw, text)
    joined = "\n".join(texts)
    assert r"\:red\[x\]" in joined  # the category
    assert r"\<b\>t\<\/b\>" in joined  # a tag
    if "q" in params:
        assert r"\<script\>:orange-background[**alert**]\(1\)\<\/script\>" in joined
        assert r"\[x\]\(javascript\::orange-background[**alert**]\(1\)\)" in joined
    else:
        assert escape_markdown(HOSTILE_TITLE) in joined
        assert r"\<script\>" in joined
        assert r"\[x\]\(javascript\:alert\(1\)\)" in joined
        assert r"\$x\$" in joined
    for button in at.get("link_button"):
        assert not button.proto.url.lower().startswith("javascript:")
    assert not at.get("link_button")  # the javascript: link was dropped at import


# --- An empty store -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "message"),
    [
        (None, NO_MATCH),
        ("pages/posts.py", NO_MATCH),
        ("pages/data.py", "The store is empty."),
        ("pages/post.py", "No post has this id."),
    ],
    ids=["overview", "browse", "data", "post"],
)
def test_every_page_on_an_empty_store(
    monkeypatch: pytest.MonkeyPatch, empty_db: str, page: str | None, message: str
) -> None:
    at = open_app(monkeypatch, empty_db, page=page)
    assert len(infos(at)) == 1 and infos(at)[0].startswith(message)
    assert card_titles(at) == []
    assert not at.get("plotly_chart")
    if page == "pages/posts.py":
        assert at.markdown[0].value == "**0** posts match"
        assert not at.get("download_button")
