"""The Topics page, search ranking on Browse, and similar posts on the post page, in AppTest."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from bench.topic_corpus import blog_posts
from lib import queries, topics
from lib.filters import Filters
from lib.safe_text import CATEGORY_CHARS, clip, escape_markdown
from lib.store import connect_read_only
from tests.helpers import (
    HOSTILE_TITLE,
    build_store,
    card_titles,
    charts,
    markdown_tables,
    multi_month_posts,
    open_app,
    plotly_values,
    query,
)


def leading_topics(db: str) -> list[str]:
    con = connect_read_only(db)
    try:
        return list(topics.leading(con, Filters(), 20)["topic"])
    finally:
        con.close()


def fitted(db: str, filters: Filters) -> pd.DataFrame:
    con = connect_read_only(db)
    try:
        return topics.topic_table(con, filters, 30)
    finally:
        con.close()


@pytest.fixture(scope="module")
def blog_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A blog of 240 posts in three categories, about seven subjects, over three years."""
    rows = [{k: v for k, v in r.items() if k != "subject"} for r in blog_posts("zh-llm-notes", 240)]
    for i, row in enumerate(rows):
        row["category"] = ("Large Model", "Infra", "笔记")[i % 3]
    for row in rows[:6]:
        del row["published"]  # undated posts: in the topics' sizes, not on time charts
    return build_store(tmp_path_factory.mktemp("blog") / "posts.duckdb", rows)


def test_topics_page_lists_topics_with_their_posts(
    monkeypatch: pytest.MonkeyPatch, blog_db: str
) -> None:
    at = open_app(monkeypatch, blog_db, "pages/topics.py")
    assert at.title[0].value == "Topics"
    assert [t.label for t in at.tabs] == [
        "Topics", "Over time", "Rising and falling", "By category", "Map", "Compare words"
    ]  # fmt: skip
    expected = fitted(blog_db, Filters())
    (shown,) = markdown_tables(at)  # a Markdown table: names read as they are written
    assert list(shown["topic"]) == list(expected["topic"])
    assert [int(n.replace(",", "")) for n in shown["posts"]] == list(expected["posts"])
    # Without filters the lift is the topic's lift in its most typical category, not 1.
    assert all(float(lift) > 1 for lift in shown["lift"])
    options = [o.content for o in at.get("pills")[0].proto.options]
    assert options == [escape_markdown(t) for t in expected["topic"]]
    links = [(el.proto.label, el.proto.query_string) for el in at.get("page_link")]
    first = expected["topic"].iloc[0]
    assert any(label.startswith(first) and "topic=" in query for label, query in links)
    assert sum("id=" in query for _, query in links) >= 3 * 5  # representative posts
    # Only the open tab runs: no chart until another is opened.
    assert not charts(at)
    at.session_state["section"] = "Over time"
    at.run()
    (title,) = charts(at)
    figure = charts(at)[title]
    assert title.startswith("Posts per")
    drawn = sum(sum(plotly_values(t["y"])) for t in figure["data"])
    assert drawn == expected["posts"].sum() - 6
    assert any("6 undated posts" in c.value for c in at.caption)
    at.query_params["section"] = "Rising and falling"  # the URL names the open tab
    at.run()
    movers = charts(at)["Rising and falling topics (change in share of posts)"]
    assert set(movers["data"][0]["y"]) <= set(expected["topic"])
    at.query_params["section"] = "Map"
    at.run()
    points = charts(at)["Map of posts (nearby posts share words)"]
    assert sum(len(t["x"]) for t in points["data"]) == 240
    assert {t["name"] for t in points["data"]} <= set(expected["topic"])
    at.query_params["section"] = "By category"
    at.run()
    table = at.dataframe[-1].value
    assert set(table["category"]) <= {"Large Model", "Infra", "笔记"}
    assert all("×" in cell for cell in table["topic"])


def test_topic_counts_agree_on_overview_topics_and_browse(
    monkeypatch: pytest.MonkeyPatch, blog_db: str
) -> None:
    params = {"category": "Infra"}
    at = open_app(monkeypatch, blog_db, None, params)
    overview_posts = int(at.metric[0].value.replace(",", ""))
    at.switch_page("pages/topics.py").run()
    (table,) = markdown_tables(at)
    posts_shown = [int(n.replace(",", "")) for n in table["posts"]]
    assert sum(posts_shown) == overview_posts  # every post in one topic or outliers
    topic = fitted(blog_db, Filters(categories=("Infra",)))["topic"].iloc[0]
    assert table["topic"].iloc[0] == topic
    posts = posts_shown[0]
    at.get("pills")[0].set_value(topic).run()
    assert at.multiselect(key="topic").value == [topic]
    at.switch_page("pages/posts.py").run()
    assert at.markdown[0].value == f"**{posts:,}** posts match"
    at.switch_page("pages/overview.py").run()
    assert int(at.metric[0].value.replace(",", "")) == posts


def test_a_topic_name_reads_as_written_in_the_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The table is Markdown: a name with markup or a "|" (names come from posts) is one
    cell of plain text, and the pills say the same."""
    rows = [{k: v for k, v in r.items() if k != "subject"} for r in blog_posts("zh-llm-notes", 120)]
    db = build_store(tmp_path / "posts.duckdb", rows)
    name = f"a | b {HOSTILE_TITLE}"
    with duckdb.connect(db) as con:
        con.execute(
            """UPDATE topics SET label = ? WHERE topic_id =
               (SELECT topic_id FROM topics WHERE topic_id >= 0 ORDER BY size DESC LIMIT 1)""",
            [name],
        )
    at = open_app(monkeypatch, db, "pages/topics.py")
    (shown,) = markdown_tables(at)
    assert list(shown.columns) == ["topic", "posts", "share %", "lift", "most typical of"]
    assert shown["topic"].iloc[0] == name
    assert at.get("pills")[0].proto.options[0].content == escape_markdown(name)


def test_a_huge_category_is_clipped_in_the_topic_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A category is clipped wherever a page shows it: a 5,000-character one (an export
    can hold anything) must not widen the topic table past the screen."""
    huge = "类" * 5_000
    rows = [{k: v for k, v in r.items() if k != "subject"} for r in blog_posts("zh-llm-notes", 120)]
    for row in rows:
        row["category"] = huge
    at = open_app(monkeypatch, build_store(tmp_path / "posts.duckdb", rows), "pages/topics.py")
    (shown,) = markdown_tables(at)
    assert set(shown["most typical of"]) == {clip(huge, CATEGORY_CHARS)}


def test_an_old_keyword_link_still_filters_by_the_word(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    topic = leading_topics(seeded_db)[0]
    at = open_app(monkeypatch, seeded_db, "pages/posts.py", {"topic": topic})
    expected = query(
        seeded_db,
        "SELECT count(*) FROM posts WHERE doc IN"
        " (SELECT doc FROM postings JOIN terms USING (term_id) WHERE term = ?)",
        [topic],
    )[0][0]
    assert at.markdown[0].value == f"**{expected:,}** posts match"


def test_post_page_links_its_topic(monkeypatch: pytest.MonkeyPatch, blog_db: str) -> None:
    post_id, label = query(
        blog_db,
        """SELECT p.id, t.label FROM posts p JOIN post_topics USING (doc)
           JOIN topics t USING (topic_id) WHERE t.topic_id >= 0 LIMIT 1""",
    )[0]
    at = open_app(monkeypatch, blog_db, "pages/post.py", {"id": post_id})
    (link,) = [el for el in at.get("page_link") if el.proto.label.startswith("Topic: ")]
    assert link.proto.label == f"Topic: {label}"
    assert "topic=" in link.proto.query_string


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
        {"section": "Compare words", "compare": ["显存", "LoRA"], "measure": "share"},
    )
    figure = charts(at)["Posts mentioning each topic, per month"]
    # As typed, in the order typed: not lower-cased, not re-sorted.
    assert [t["name"] for t in figure["data"]] == ["显存", "LoRA"]
    assert figure["layout"]["yaxis"]["title"]["text"] == "share of posts"
    con = connect_read_only(db)
    try:
        expected = topics.volume(con, Filters(), ("lora", "显存"), "month")
    finally:
        con.close()
    lora = next(t for t in figure["data"] if t["name"] == "LoRA")
    shares = expected[expected["topic"] == "lora"]["share"]
    assert plotly_values(lora["y"]) == pytest.approx(list(shares))
    assert expected[expected["topic"] == "lora"]["posts"].sum() == 20


def test_browse_ranks_search_results_by_relevance(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    at = open_app(monkeypatch, seeded_db, "pages/posts.py", {"q": "FlashAttention"})
    assert at.segmented_control(key="sort").value == queries.RELEVANCE
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
        monkeypatch,
        seeded_db,
        "pages/topics.py",
        {"section": "Compare words", "compare": [hostile]},
    )
    (caption,) = [c.value for c in at.caption if c.value.startswith("Not mentioned")]
    assert "](javascript" not in caption and "`" not in caption.replace("\\`", "")


def test_overview_splits_the_volume_by_topic(monkeypatch: pytest.MonkeyPatch, blog_db: str) -> None:
    """The largest topics by name, the rest as other, and the same posts as by category."""
    import json

    def volume(at: object) -> dict[str, int]:
        (figure,) = [
            f
            for f in (json.loads(el.proto.spec) for el in at.get("plotly_chart"))
            if f["layout"]["title"]["text"].startswith("Posts per")
        ]
        totals: dict[str, int] = {}
        for trace in figure["data"]:
            if trace.get("name") and trace.get("type") == "bar":
                totals[trace["name"]] = totals.get(trace["name"], 0) + sum(
                    plotly_values(trace["y"])
                )
        return totals

    by_category = volume(open_app(monkeypatch, blog_db, None, {"interval": "year"}))
    by_topic = volume(open_app(monkeypatch, blog_db, None, {"interval": "year", "split": "topic"}))
    named = [t for t in fitted(blog_db, Filters())["topic"] if t != "(outliers)"]
    assert set(by_topic) - {"other"} <= set(named) and len(set(by_topic) - {"other"}) >= 3
    assert sum(by_topic.values()) == sum(by_category.values())  # dated posts, split two ways
