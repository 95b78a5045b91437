"""A post as large as a hostile source can make it, in a real browser.

A 1 MB one-line title sent whole to ``/post`` would keep the tab from ever finishing
drawing; a post with hundreds of long tags joined them into one caption; a link with a
``user:pass@`` part showed a button whose real host was never named; a 1 MB category was
shown whole in every card's caption, on the post page and among the sidebar's options.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from lib.ingest import run_ingest
from lib.safe_text import TITLE_CHARS
from tests.e2e.helpers import MAIN, App, assert_no_exception, open_page
from tests.helpers import query

pytestmark = pytest.mark.e2e

TITLE = "长标题" * 350_000  # about 1 million characters on one line
TAGS = [f"tag{i}-" + "x" * 500 for i in range(200)]
CATEGORY = "类别" * 500_000
BODY = "".join(f"第{i}段的内容。\n\n" for i in range(40_000))
DRAW_SECONDS = 15  # a page of this size is drawn in a few seconds on a busy machine


@pytest.fixture(scope="module")
def huge_app(launch_app: Callable[[str], App], tmp_path_factory: pytest.TempPathFactory) -> App:
    folder = tmp_path_factory.mktemp("huge")
    post = {
        "title": TITLE,
        "body": BODY,
        "tags": TAGS,
        "category": CATEGORY,
        "url": "https://google.com@evil.example/login",
        "published": "2026-01-05",
    }
    source = folder / "posts.jsonl"
    source.write_text(json.dumps(post, ensure_ascii=False) + "\n", encoding="utf-8")
    db = str(folder / "posts.duckdb")
    run_ingest(db, [str(source)])
    return launch_app(db)


def test_the_post_page_of_a_huge_post_is_drawn_clipped(page: Page, huge_app: App) -> None:
    ((post_id,),) = query(huge_app.db, "SELECT id FROM posts")
    started = time.monotonic()
    open_page(page, huge_app(f"/post?id={post_id}"))
    assert time.monotonic() - started < DRAW_SECONDS
    assert_no_exception(page)
    heading = page.locator(MAIN).locator("h1").first.inner_text()
    assert len(heading) < TITLE_CHARS + 5
    main = page.locator(MAIN).inner_text()
    assert len(main) < 60_000  # the first 20,000 characters of the body, not 400,000
    assert "and 150 more" in main and "x" * 61 not in main
    button = page.get_by_role("link", name="Read the original on evil.example ↗")
    assert "@" not in (button.get_attribute("href") or "")
    page.get_by_role("button", name="Show more").click()
    page.wait_for_function(
        "n => document.querySelector(\"[data-testid='stMain']\").innerText.length > n",
        arg=len(main) + 10_000,
    )


def test_the_overview_lists_the_huge_post_as_a_card(page: Page, huge_app: App) -> None:
    open_page(page, huge_app("/"))
    assert_no_exception(page)
    text = page.locator(MAIN).inner_text()
    assert "长标题长标题" in text and "类别类别" in text and len(text) < 40_000
    assert len(page.locator("[data-testid='stSidebar']").inner_text()) < 5_000
