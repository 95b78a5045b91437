"""Every view a link, in Chromium: the address bar follows the post shown, round trips keep
the URL short, bad parameters are named, and Back undoes a filter removed by its chip."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from lib import queries
from lib.store import connect_read_only
from tests.e2e.helpers import (
    MAIN,
    WORDS_BOX,
    App,
    assert_no_exception,
    main_text,
    open_page,
    url_params,
    wait_idle,
)
from tests.helpers import query

pytestmark = pytest.mark.e2e


def wait_until(page: Page, done: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert done(), f"{what} (URL {page.url})"
    wait_idle(page)


def heading(page: Page) -> str:
    return page.locator(MAIN).locator("h1").first.inner_text().strip()


def a_post_with_a_similar_one(db: str) -> tuple[str, str, str]:
    """``(id, similar id, similar title)`` of a post whose first similar post has a short title."""
    con = connect_read_only(db)
    try:
        for (post_id,) in con.execute("SELECT id FROM posts ORDER BY id").fetchall():
            similar = queries.similar(con.cursor(), post_id)
            if similar and similar[0]["title"] and len(similar[0]["title"]) < 80:
                return post_id, similar[0]["id"], similar[0]["title"]
    finally:
        con.close()
    raise AssertionError("no post of the bundled data has a similar post")


def test_reload_after_clicking_a_similar_post_shows_that_post(page: Page, app: App) -> None:
    post_id, other_id, other_title = a_post_with_a_similar_one(app.db)
    open_page(page, app(f"/post?id={post_id}&category=Large+Model"))
    page.locator(MAIN).get_by_role("link", name=other_title, exact=True).first.click()
    wait_until(page, lambda: heading(page) == other_title, "the similar post did not open")
    wait_until(
        page, lambda: url_params(page).get("id") == [other_id], "the address bar kept the old id"
    )
    assert url_params(page).get("category") == ["Large Model"], "the filters left the URL"
    page.reload()
    wait_idle(page)
    page.locator(MAIN).locator("h1").first.wait_for()
    assert heading(page) == other_title
    page.go_back()
    wait_until(
        page, lambda: url_params(page).get("id") == [post_id], "Back did not lead to the post"
    )
    assert_no_exception(page)


def test_the_url_stays_short_after_card_post_back_round_trips(page: Page, app: App) -> None:
    open_page(page, app("/?category=Large+Model&q=模型"))
    for _ in range(4):
        page.locator(MAIN).get_by_role("link", name="Read the post").first.click()
        wait_until(page, lambda: urlsplit(page.url).path == "/post", "the post did not open")
        page.locator(MAIN).get_by_role("link", name="Back").click()
        wait_until(page, lambda: urlsplit(page.url).path == "/", "Back did not lead to /")
    params = url_params(page)
    assert params.get("category") == ["Large Model"] and params.get("q") == ["模型"], page.url
    assert all(len(values) == 1 for values in params.values()), page.url
    assert len(page.url) < 150, page.url
    assert_no_exception(page)


@pytest.mark.parametrize(
    ("path", "named"),
    [
        (
            "/posts?from=garbage&page=-5&sort=bogus&category=Nope",
            [
                "Ignored from = garbage: not a date",
                "Ignored page = -5: pages are numbered from 1",
                "Ignored sort = bogus: not one of newest, oldest",
                "Ignored category = Nope: no such category",
            ],
        ),
        ("/?interval=bogus", ["Ignored interval = bogus: not one of auto, day"]),
        ("/posts?from=2026-02-01&to=2026-01-01", ["from (2026-02-01) is after to (2026-01-01)"]),
    ],
)
def test_a_bad_parameter_is_named_on_the_page(
    page: Page, app: App, path: str, named: list[str]
) -> None:
    open_page(page, app(path))
    shown = main_text(page)
    for line in named:
        assert line in shown, f"{line!r} is not on the page:\n{shown[:1500]}"
    assert "interval" not in url_params(page), "a bad interval stayed in the URL"
    assert_no_exception(page)


def test_back_undoes_removing_a_filter_by_its_chip(page: Page, app: App) -> None:
    (matching,) = query(app.db, "SELECT count(*) FROM posts WHERE category = 'NLP'")[0]
    open_page(page, app("/posts?category=NLP&q=Attention"))
    page.locator(MAIN).get_by_role("button", name="q: Attention ✕").click()
    wait_until(page, lambda: "q" not in url_params(page), "the chip did not remove q")
    assert f"{matching:,} posts match" in main_text(page)
    page.go_back()
    wait_until(
        page, lambda: url_params(page).get("q") == ["Attention"], "Back did not bring q back"
    )
    wait_until(
        page,
        lambda: page.get_by_role("textbox", name=WORDS_BOX).input_value() == "Attention",
        "the search box did not follow the URL",
    )
    assert page.locator(MAIN).get_by_role("button", name="q: Attention ✕").count() == 1
    assert url_params(page).get("category") == ["NLP"]
    assert_no_exception(page)


def test_back_undoes_each_filter_change_in_the_sidebar(page: Page, app: App) -> None:
    open_page(page, app("/"))
    page.get_by_role("link", name="Browse").first.click()
    wait_until(page, lambda: urlsplit(page.url).path == "/posts", "Browse did not open")
    category_box = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']")
    category_box.filter(has_text="Category").get_by_role("combobox").click()
    page.get_by_role("option", name="NLP").click()
    page.keyboard.press("Escape")
    wait_until(page, lambda: url_params(page).get("category") == ["NLP"], "NLP not in the URL")
    box = page.get_by_role("textbox", name=WORDS_BOX)
    box.fill("Attention")
    box.press("Enter")
    wait_until(page, lambda: url_params(page).get("q") == ["Attention"], "q not in the URL")
    page.go_back()
    wait_until(page, lambda: "q" not in url_params(page), "Back did not undo the search")
    wait_until(page, lambda: box.input_value() == "", "the search box kept the undone search")
    assert url_params(page).get("category") == ["NLP"]
    page.go_back()
    wait_until(page, lambda: not url_params(page), "Back did not undo the category")
    assert urlsplit(page.url).path == "/posts"
    page.go_forward()
    wait_until(page, lambda: url_params(page).get("category") == ["NLP"], "Forward did not redo")
    assert_no_exception(page)


def page_box(page: Page):
    return page.locator(MAIN).get_by_role("textbox", name="Page (of")


def test_back_returns_to_the_previous_page_of_posts(page: Page, app: App) -> None:
    open_page(page, app("/posts"))
    first_title = page.locator(MAIN).locator("h4").first.inner_text()
    page.locator(MAIN).get_by_role("button", name="Next page →").click()
    wait_until(page, lambda: url_params(page).get("page") == ["2"], "page 2 not in the URL")
    assert page.locator(MAIN).locator("h4").first.inner_text() != first_title
    assert page_box(page).input_value() == "2"
    page.go_back()
    wait_until(page, lambda: "page" not in url_params(page), "Back did not leave page 2")
    wait_until(page, lambda: page_box(page).input_value() == "1", "the box kept page 2")
    assert page.locator(MAIN).locator("h4").first.inner_text() == first_title
    assert_no_exception(page)


def test_a_page_typed_in_the_box_is_shown_and_linked(page: Page, app: App) -> None:
    open_page(page, app("/posts"))
    box = page_box(page)
    box.fill("2")
    box.press("Enter")
    wait_until(page, lambda: url_params(page).get("page") == ["2"], "page 2 not in the URL")
    assert "Page 2 of" in main_text(page)
    box.fill("two")
    box.press("Enter")
    page.wait_for_timeout(500)
    assert url_params(page).get("page") == ["2"], "a word was taken as a page"
    assert "A page number, such as 2." in main_text(page)


def test_a_page_past_the_end_shows_the_last_in_the_box_and_the_url(page: Page, app: App) -> None:
    (posts,) = query(app.db, "SELECT count(*) FROM posts")[0]
    last = str(-(-posts // 20))
    open_page(page, app("/posts?page=999"))
    assert f"There are {last} pages, not 999: the last shown." in main_text(page)
    assert page_box(page).input_value() == last
    wait_until(page, lambda: url_params(page).get("page") == [last], "the URL kept page 999")
    assert_no_exception(page)
