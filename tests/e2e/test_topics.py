"""The Topics page and search in the real browser: charts draw, a topic click filters by URL."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.helpers import (
    MAIN,
    SIDEBAR_LINK,
    App,
    assert_no_exception,
    expect_match_count,
    expect_url_param,
    open_page,
    screenshot,
    wait_idle,
)
from tests.helpers import query

pytestmark = pytest.mark.e2e

CHART = "[data-testid='stPlotlyChart']"
PILLS = "[data-testid='stButtonGroup']"


def mentioning(db: str, term: str) -> int:
    sql = (
        "SELECT count(*) FROM posts WHERE doc IN"
        " (SELECT doc FROM postings JOIN terms USING (term_id) WHERE term = ?)"
    )
    return int(query(db, sql, [term])[0][0])


def topic_size(db: str, label: str) -> int:
    return int(query(db, "SELECT size FROM topics WHERE label = ?", [label])[0][0])


def test_topics_page_draws_and_a_topic_click_filters_the_posts(page: Page, app: App) -> None:
    open_page(page, app("/topics"))
    assert_no_exception(page)
    assert page.locator(MAIN).locator("h1").first.inner_text().strip() == "Topics"
    assert page.locator(CHART).count() == 0  # the list of topics; other tabs run when opened
    screenshot(page, "topics.png")
    page.get_by_role("tab", name="Map").click()
    wait_idle(page)
    expect_url_param(page, "section", ["Map"])  # the open tab can be shared by URL
    page.wait_for_selector(f"{CHART} .main-svg", timeout=20_000)
    screenshot(page, "topics-map.png")
    assert_no_exception(page)
    page.get_by_role("tab", name="Topics").click()
    wait_idle(page)
    pill = page.locator(PILLS).locator("button").first
    topic = pill.inner_text().strip()
    pill.click()
    wait_idle(page)
    expect_url_param(page, "topic", [topic])  # the topic's name, as it reads
    assert_no_exception(page)
    page.locator(SIDEBAR_LINK, has_text="Browse").click()
    wait_idle(page)
    expect_url_param(page, "topic", [topic])  # the filter travels with the reader
    expect_match_count(page, topic_size(app.db, topic))
    assert_no_exception(page)


def test_an_old_keyword_link_filters_by_the_word(page: Page, app: App) -> None:
    open_page(page, app("/posts?topic=微调"))
    assert_no_exception(page)
    expect_match_count(page, mentioning(app.db, "微调"))


def test_search_ranks_and_highlights_in_the_browser(page: Page, app: App) -> None:
    open_page(page, app("/posts?q=梯度检查点"))
    assert_no_exception(page)
    expect_match_count(page, mentioning(app.db, "梯度检查点"))
    first_title = page.locator(MAIN).locator("h4").first
    assert first_title.inner_text().startswith("梯度检查点")
    # The highlighted word is a styled span, not raw Markdown.
    assert first_title.locator("strong").first.inner_text() == "梯度检查点"
    assert ":orange-background" not in page.locator(MAIN).inner_text()
