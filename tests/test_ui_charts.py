"""``ui.charts``: every chart of the Overview, Topics and SQL pages is sent without
Streamlit's theme, carrying the app's look itself, and without Plotly's toolbar.

Streamlit's theme is applied in the browser on every mount of a chart (bench/README.md,
session 10); a page calling ``st.plotly_chart`` itself would bring it back.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from bench.topic_corpus import blog_posts
from lib.config import REPO_ROOT
from tests.helpers import build_store, decade_posts, open_app

BACKGROUND = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())["theme"][
    "backgroundColor"
]
TOPIC_SECTIONS = ("Over time", "Rising and falling", "Map", "Compare words")


@pytest.fixture(scope="module")
def decade_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(tmp_path_factory.mktemp("decade") / "posts.duckdb", decade_posts())


@pytest.fixture(scope="module")
def blog_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """240 posts over three years in three categories: every Topics section has a chart."""
    rows = [{k: v for k, v in r.items() if k != "subject"} for r in blog_posts("zh-llm-notes", 240)]
    for i, row in enumerate(rows):
        row["category"] = ("Large Model", "Infra", "笔记")[i % 3]
    return build_store(tmp_path_factory.mktemp("blog") / "posts.duckdb", rows)


def sent_charts(at: AppTest) -> dict[str, Any]:
    """Each chart as sent to the browser, by its title: its theme, config and figure."""
    sent = {}
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        sent[spec["layout"]["title"]["text"]] = {
            "theme": element.proto.theme,
            "config": json.loads(element.proto.config),
            "background": spec["layout"]["template"]["layout"].get("paper_bgcolor"),
        }
    return sent


def assert_sent_in_the_apps_look(sent: dict[str, Any]) -> None:
    for title, chart in sent.items():
        assert chart["theme"] == "", f"{title!r} is sent with Streamlit's theme"
        assert chart["config"].get("displayModeBar") is False, title
        assert chart["background"] == BACKGROUND, title


def test_the_overview_charts_are_sent_without_streamlits_theme(
    monkeypatch: pytest.MonkeyPatch, decade_db: str
) -> None:
    for params in ({}, {"category": "NLP"}, {"split": "topic"}):
        sent = sent_charts(open_app(monkeypatch, decade_db, params=params))
        assert "Posts by category" in sent and any(t.startswith("Posts per") for t in sent)
        assert_sent_in_the_apps_look(sent)


def test_the_topics_charts_are_sent_without_streamlits_theme(
    monkeypatch: pytest.MonkeyPatch, blog_db: str, seeded_db: str
) -> None:
    titles = set()
    for section in TOPIC_SECTIONS:
        sent = sent_charts(open_app(monkeypatch, blog_db, "pages/topics.py", {"section": section}))
        assert sent, section
        assert_sent_in_the_apps_look(sent)
        titles |= set(sent)
    # One shared date: compared topics are totals, a chart of its own.
    sent = sent_charts(
        open_app(monkeypatch, seeded_db, "pages/topics.py", {"section": "Compare words"})
    )
    assert_sent_in_the_apps_look(sent)
    titles |= set(sent)
    assert {
        "Map of posts (nearby posts share words)",
        "Rising and falling topics (change in share of posts)",
        "Posts mentioning each topic",
    } <= titles
    assert any(t.startswith("Posts per") and t.endswith("by topic") for t in titles)
    assert any(t.startswith("Posts mentioning each topic, per") for t in titles)


def test_the_sql_result_chart_is_sent_without_streamlits_theme(
    monkeypatch: pytest.MonkeyPatch, seeded_db: str
) -> None:
    sql = "SELECT category, count(*) AS posts FROM posts GROUP BY 1"
    at = open_app(monkeypatch, seeded_db, "pages/sql.py", {"sql": sql})
    at.toggle(key="_sql_chart").set_value(True).run()
    sent = sent_charts(at)
    assert list(sent) == ["posts by category"]
    assert_sent_in_the_apps_look(sent)
