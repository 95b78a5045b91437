"""The app in a real browser, on the bundled data: pages, filters, the URL, screenshots.

Expected numbers come from the store the app serves, queried with DuckDB, so a
test checks that the page shows what the data says rather than a copied number.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from lib.text import CJK
from tests.e2e.helpers import (
    MAIN,
    SIDEBAR_LINK,
    WORDS_BOX,
    App,
    assert_no_exception,
    expect_match_count,
    expect_metric,
    expect_url_param,
    main_text,
    match_text,
    metric_value,
    open_page,
    publish_screenshot,
    screenshot,
    wait_idle,
)
from tests.helpers import query

pytestmark = pytest.mark.e2e

# What the search box matches: the words anywhere in the post (NULL-safe: bodies are NULL).
HAYSTACK = "lower(concat_ws(' ', title, excerpt, body, array_to_string(tags, ' ')))"
CATEGORY_BOX = "[data-testid='stSidebar'] [data-testid='stMultiSelect']"
CHART = "[data-testid='stPlotlyChart']"
COUNT_SUFFIX = re.compile(r" \(\d[\d,]*\)$")
META = re.compile(r"^(.+?) · (\d{4}-\d{2}-\d{2}|no date)")


# --- Store and page helpers --------------------------------------------------------------


def store_count(db: str, category: str | None = None, word: str | None = None) -> int:
    clauses, params = ["TRUE"], []
    if category is not None:
        clauses.append("category = ?")
        params.append(category)
    if word is not None:
        clauses.append(f"contains({HAYSTACK}, ?)")
        params.append(word.lower())
    return int(query(db, f"SELECT count(*) FROM posts WHERE {' AND '.join(clauses)}", params)[0][0])


def choose_category(page: Page, name: str) -> None:
    """Open the sidebar's Category multiselect and pick the option labelled ``name (n)``."""
    page.locator(CATEGORY_BOX).filter(has_text="Category").get_by_role("combobox").click()
    page.get_by_role("option", name=re.compile(rf"^{re.escape(name)}\b")).click()
    page.keyboard.press("Escape")


def selected_categories(page: Page) -> list[str]:
    """The chips in the Category multiselect, without their ``(count)`` suffix."""
    chips = page.locator(CATEGORY_BOX).locator("[aria-label='Selected values'] > span")
    return [COUNT_SUFFIX.sub("", text.strip()) for text in chips.all_inner_texts()]


def search(page: Page, words: str) -> None:
    box = page.get_by_role("textbox", name=WORDS_BOX)
    box.fill(words)
    box.press("Enter")


def card_categories(page: Page) -> list[str]:
    """The category shown in each card's line under its title (``NLP · 2026-01-11 · …``)."""
    lines = page.locator(MAIN).inner_text().splitlines()
    return [m.group(1) for m in (META.match(line.strip()) for line in lines) if m]


def read_links(page: Page) -> int:
    return (
        page.locator(MAIN).locator("[data-testid='stPageLink']", has_text="Read the post").count()
    )


def wait_for_path(page: Page, path: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while urlsplit(page.url).path != path and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert urlsplit(page.url).path == path, f"expected to be on {path}, the URL is {page.url}"


def wait_for_chart(page: Page) -> None:
    page.wait_for_selector(f"{CHART} .main-svg", timeout=20_000)
    page.wait_for_function(
        "sel => document.querySelectorAll(sel).length > 0", arg=f"{CHART} g.point path"
    )


def chart_bars(page: Page) -> list[str]:
    """The ``d`` of every bar Plotly drew; ``M0,0Z`` is a bar with nothing to draw."""
    return page.locator(f"{CHART} g.point path").evaluate_all(
        "paths => paths.map(p => p.getAttribute('d') || '')"
    )


def is_drawn(d: str) -> bool:
    return "H" in d or "V" in d  # a drawn bar is a rectangle: M…V…H…V…Z


# --- Each page opens and shows its content ------------------------------------------------


def test_overview_opens_with_figures_and_chart(page: Page, app: App) -> None:
    total = store_count(app.db)
    assert total == 33, "the bundled data should hold 33 posts"
    categories = {
        category or "Uncategorized"
        for (category,) in query(app.db, "SELECT DISTINCT category FROM posts")
    }
    open_page(page, app("/"))
    assert_no_exception(page)
    assert page.locator(MAIN).locator("h1").first.inner_text().strip() == "Overview"
    assert metric_value(page, "Posts") == str(total)
    wait_for_chart(page)
    bars = chart_bars(page)
    assert any(is_drawn(d) for d in bars), f"the chart draws no bars: {bars}"
    assert "Latest posts" in main_text(page)
    assert read_links(page) == min(6, total)
    shot = screenshot(page, "overview.png")
    publish_screenshot(shot, "screenshot-overview.png")
    assert_no_exception(page)
    # Every post dates from one day, so the chart is posts by category: one drawn bar
    # for each category, Uncategorized included.
    labels = page.locator(f"{CHART} .ytick text").evaluate_all(
        "texts => texts.map(t => t.textContent)"  # SVG text has no innerText
    )
    assert sorted(labels) == sorted(categories), "the chart's categories differ from the store"
    assert all(is_drawn(d) for d in bars), f"some bars are empty: {bars}"
    assert len(bars) == len(categories)


def test_browse_opens_with_cards(page: Page, app: App) -> None:
    total = store_count(app.db)
    open_page(page, app("/posts"))
    assert_no_exception(page)
    assert match_text(total) in main_text(page)
    assert read_links(page) == min(20, total)  # one page of cards
    assert len(card_categories(page)) == min(20, total)
    screenshot(page, "posts.png")
    assert_no_exception(page)


def test_browse_downloads_open_from_one_button(page: Page, app: App) -> None:
    open_page(page, app("/posts"))
    downloads = page.locator("[data-testid='stDownloadButton']")  # the popover is not in MAIN
    assert downloads.count() == 0  # out of sight until asked for
    page.locator(MAIN).get_by_role("button", name="Download").click()
    downloads.first.wait_for()
    assert downloads.count() == 2
    assert downloads.get_by_role("button", name="Download Parquet").is_visible()
    with page.expect_download() as download:
        downloads.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename == "posts.csv"


def test_data_page_opens_with_metrics_and_ingest_runs(page: Page, app: App) -> None:
    total = store_count(app.db)
    runs = query(
        app.db,
        "SELECT run_id::VARCHAR, array_to_string(sources, ', '), records::VARCHAR,"
        " added::VARCHAR FROM ingest_runs ORDER BY run_id DESC",
    )
    open_page(page, app("/data"))
    assert_no_exception(page)
    assert metric_value(page, "Posts") == f"{total:,}"
    assert page.locator("[data-testid='stMetric']").count() >= 8
    assert "Ingest runs" in main_text(page)
    grid = page.locator("[data-testid='stDataFrame']").first
    # The grid draws on a canvas; its cells are an accessible table that stays hidden.
    grid.locator("[role='gridcell']").first.wait_for(state="attached")
    headers = grid.locator("[role='columnheader']").evaluate_all(
        "cells => cells.map(c => c.textContent)"
    )
    columns = ("run_id", "sources", "records", "added")
    for column in columns:
        assert column in headers, f"ingest runs table lacks {column!r}: {headers}"
    cells = grid.locator("[role='gridcell']").evaluate_all("cells => cells.map(c => c.textContent)")
    shown = [
        tuple(cells[i + headers.index(c)] for c in columns)
        for i in range(0, len(cells), len(headers))
    ]
    assert shown == runs, f"ingest runs table shows {shown}, the store has {runs}"
    screenshot(page, "data.png")
    assert_no_exception(page)


def test_post_page_shows_the_post(page: Page, app: App) -> None:
    rows = query(
        app.db, "SELECT id, title, category FROM posts WHERE category IS NOT NULL ORDER BY id"
    )
    post_id, title, category = next(r for r in rows if CJK.search(r[1]))  # Chinese on screen
    open_page(page, app(f"/post?id={post_id}"))
    assert_no_exception(page)
    assert page.locator(MAIN).locator("h1").first.inner_text().strip() == title
    assert f"{category} · " in main_text(page)
    assert page.locator(MAIN).get_by_role("link", name=re.compile("Back")).count() == 1
    screenshot(page, "post.png")
    assert_no_exception(page)


# --- Filters and the URL ------------------------------------------------------------------


def test_category_filter_updates_cards_and_url(page: Page, app: App) -> None:
    expected = store_count(app.db, category="NLP")
    assert expected == 4
    open_page(page, app("/posts"))
    choose_category(page, "NLP")
    expect_match_count(page, expected)
    assert card_categories(page) == ["NLP"] * expected
    assert selected_categories(page) == ["NLP"]
    # The README: `category` in the URL is the category itself.
    expect_url_param(page, "category", ["NLP"])
    assert_no_exception(page)


def test_words_filter_narrows_cards_and_url(page: Page, app: App) -> None:
    in_category = store_count(app.db, category="NLP")
    expected = store_count(app.db, category="NLP", word="FlashAttention")
    assert expected < in_category
    open_page(page, app("/posts"))
    choose_category(page, "NLP")
    expect_match_count(page, in_category)
    search(page, "FlashAttention")
    expect_url_param(page, "q", ["FlashAttention"])
    expect_match_count(page, expected)
    assert selected_categories(page) == ["NLP"], "the category filter was dropped"
    assert card_categories(page) == ["NLP"] * expected
    expect_url_param(page, "category", ["NLP"])
    assert_no_exception(page)


def test_shared_url_reopens_the_same_view(page: Page, app: App) -> None:
    expected = store_count(app.db, category="NLP", word="Attention")
    open_page(page, app("/posts?category=NLP&q=Attention"))
    assert_no_exception(page)
    assert page.get_by_role("textbox", name=WORDS_BOX).input_value() == "Attention"
    assert selected_categories(page) == ["NLP"], f"category not taken from the URL ({page.url})"
    expect_match_count(page, expected)
    assert card_categories(page) == ["NLP"] * expected


def test_url_the_app_wrote_reopens_the_same_view(
    page: Page, page_factory: Callable[[], Page], app: App
) -> None:
    """Filter in the UI, then open the resulting URL in a new session: same view."""
    expected = store_count(app.db, category="NLP", word="Attention")
    open_page(page, app("/posts"))
    choose_category(page, "NLP")
    expect_match_count(page, store_count(app.db, category="NLP"))
    search(page, "Attention")
    expect_url_param(page, "q", ["Attention"])
    expect_match_count(page, expected)
    shared = page.url
    other = page_factory()
    open_page(other, shared)
    assert_no_exception(other)
    assert other.get_by_role("textbox", name=WORDS_BOX).input_value() == "Attention"
    assert selected_categories(other) == ["NLP"], f"category lost when reopening {shared}"
    expect_match_count(other, expected)


def test_switching_page_keeps_the_filters(page: Page, app: App) -> None:
    expected = store_count(app.db, category="NLP")
    open_page(page, app("/posts"))
    choose_category(page, "NLP")
    expect_match_count(page, expected)
    page.locator(SIDEBAR_LINK, has_text="Overview").click()
    wait_for_path(page, "/")
    page.locator(MAIN).locator("h1", has_text="Overview").wait_for()
    expect_metric(page, "Posts", str(expected))
    assert selected_categories(page) == ["NLP"]
    expect_url_param(page, "category", ["NLP"])
    wait_idle(page)
    assert_no_exception(page)
