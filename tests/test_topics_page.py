"""The Topics page, search ranking on Browse, and similar posts on the post page, in AppTest."""

from __future__ import annotations

import pytest

from lib import queries, topics
from lib.filters import Filters
from lib.store import connect_read_only
from tests.conftest import query
from tests.test_app_pages import (
    card_titles,
    charts,
    open_app,
)
from tests.test_queries import build_store, multi_month_posts, plotly_values


def leading_topics(db: str) -> list[str]:
    con = connect_read_only(db)
    try:
        return list(topics.leading(con, Filters(), 20)["topic"])
    finally:
        con.close()


def test_topics_page_lists_the_leading_topics(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_app(monkeypatch, seeded_db, "pages/topics.py")
    assert at.title[0].value == "Topics"
    figure = charts(at)["Leading topics"]
    (trace,) = figure["data"]
    assert list(reversed(trace["y"])) == leading_topics(seeded_db)
    assert at.get("pills")[0].proto.options  # the same topics, clickable
    assert [t.label for t in at.tabs] == ["Leading", "Compare", "Rising and falling", "By category"]
    # Only the open tab runs: the comparison is not drawn until it is opened.
    assert "Posts mentioning each topic" not in charts(at)
    at.session_state["section"] = "Compare"
    at.run()
    # All bundled posts share one date: topics are compared as totals, not as a line.
    assert "Posts mentioning each topic" in charts(at)
    assert "Leading topics" not in charts(at)
    at.session_state["section"] = "Rising and falling"
    at.run()
    assert any("nothing to compare over time" in i.value for i in at.info)
    at.session_state["section"] = "By category"
    at.run()
    table = at.dataframe[-1].value
    assert {"Large Model", "NLP", "Python"} <= set(table["category"])


def test_clicking_a_topic_filters_every_page(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_app(monkeypatch, seeded_db, "pages/topics.py")
    topic = leading_topics(seeded_db)[0]
    at.get("pills")[0].set_value(topic).run()
    assert at.multiselect(key="topic").value == [topic]
    assert at.query_params["topic"] in (topic, [topic])
    at.switch_page("pages/posts.py").run()
    expected = query(
        seeded_db,
        "SELECT count(*) FROM posts WHERE doc IN"
        " (SELECT doc FROM postings JOIN terms USING (term_id) WHERE term = ?)",
        [topic],
    )[0][0]
    assert at.markdown[0].value == f"**{expected:,}** posts match"


def test_a_shared_topics_url_reopens_the_comparison(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    rows = multi_month_posts()
    for i, row in enumerate(rows[:40]):
        row["excerpt"] += " LoRA" if i % 2 else " 显存"
    db = build_store(tmp_path_factory.mktemp("topics") / "posts.duckdb", rows)
    at = open_app(
        monkeypatch,
        db,
        "pages/topics.py",
        {"section": "Compare", "compare": ["LoRA", "显存"], "measure": "share"},
    )
    figure = charts(at)["Posts mentioning each topic, per month"]
    assert {t["name"] for t in figure["data"]} == {"lora", "显存"}
    assert figure["layout"]["yaxis"]["title"]["text"] == "share of posts"
    con = connect_read_only(db)
    try:
        expected = topics.volume(con, Filters(), ("lora", "显存"), "month")
    finally:
        con.close()
    lora = next(t for t in figure["data"] if t["name"] == "lora")
    shares = expected[expected["topic"] == "lora"]["share"]
    assert plotly_values(lora["y"]) == pytest.approx(list(shares))
    assert expected[expected["topic"] == "lora"]["posts"].sum() == 20
    at.query_params["section"] = "Rising and falling"  # the URL names the open tab
    at.run()
    assert "Rising and falling topics (change in share of posts)" in charts(at)


def test_browse_ranks_search_results_by_relevance(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_app(monkeypatch, seeded_db, "pages/posts.py", {"q": "FlashAttention"})
    assert at.selectbox(key="sort").value == queries.RELEVANCE
    # The post about it comes first, with the search word highlighted in its title.
    first = card_titles(at)[0]
    assert first.startswith(":orange-background[**FlashAttention**]的关键创新"), first


def test_post_page_shows_keywords_and_similar_posts(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    pair = query(seeded_db, "SELECT id FROM posts WHERE contains(excerpt, '进入LLM时代')")
    at = open_app(monkeypatch, seeded_db, "pages/post.py", {"id": pair[0][0]})
    keywords = [el.proto.label for el in at.get("page_link") if "topic=" in el.proto.query_string]
    assert "微调" in keywords  # each keyword a link to Browse filtered by it
    assert at.subheader[0].value == "Similar posts"
    links = [el for el in at.get("page_link") if el.proto.query_string]
    assert any(f"id={pair[1][0]}" in el.proto.query_string for el in links)


def test_a_typed_topic_from_the_url_stays_inert(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    hostile = "[x](javascript:alert(1)) `code`"
    at = open_app(
        monkeypatch, seeded_db, "pages/topics.py", {"section": "Compare", "compare": [hostile]}
    )
    (caption,) = [c.value for c in at.caption if c.value.startswith("Not mentioned")]
    assert "](javascript" not in caption and "`" not in caption.replace("\\`", "")
