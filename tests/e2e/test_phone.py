"""The app on a phone (390 px wide) in Chromium: nothing runs off the edge or hides a title.

A decade of weekly posts (``tests.helpers.decade_posts``) gives the Overview a time chart
with six interval buttons and six legend entries, and Browse 27 pages of cards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.helpers import (
    EXPECT_MS,
    MAIN,
    App,
    assert_no_exception,
    open_page,
    screenshot,
    url_params,
    wait_idle,
)
from tests.helpers import query

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
CHART = ".js-plotly-plot"

# What a reader sees and touches: elements, buttons, links, charts. Not the insides of a
# canvas grid or an SVG, which their own boxes clip.
VISIBLE = ", ".join(
    f"{MAIN} {selector}"
    for selector in (
        "[data-testid='stElementContainer']",
        "[data-testid='stHorizontalBlock']",
        "button",
        "a",
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        ".main-svg",
    )
)
# An element past the edge inside a box that scrolls sideways (a tab bar, a grid) and itself
# fits the screen is reached by scrolling that box; one clipped by a box that does not
# scroll is cut off, and counts.
OVERFLOWING_JS = """(selector) => {
  const onScreen = r => r.left >= -1 && r.right <= innerWidth + 1;
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const clipped = el => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      if (scrolls(up) && onScreen(up.getBoundingClientRect())) {
        return true;
      }
    }
    return false;
  };
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && !onScreen(r) && !clipped(el)) {
      out.push(`${el.tagName}[${el.getAttribute('data-testid') || el.className.baseVal ||
        el.className}] ${Math.round(r.left)}–${Math.round(r.right)}: ` +
        (el.textContent || '').trim().slice(0, 40));
    }
  }
  return out;
}"""


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    context.set_default_timeout(EXPECT_MS)
    yield context.new_page()
    context.close()


def overflowing(page: Page) -> list[str]:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("innerWidth")
    return page.evaluate(OVERFLOWING_JS, VISIBLE)


def box(page: Page, selector: str) -> dict[str, Any]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not drawn"
    return found


def a_post_id(app: App) -> str:
    return query(app.db, "SELECT id FROM posts ORDER BY published DESC LIMIT 1")[0][0]


@pytest.mark.parametrize("path", ["/", "/posts", "/post", "/topics", "/topics?section=By+category"])
def test_nothing_runs_off_a_phone_screen(phone: Page, decade_app: App, path: str) -> None:
    url = decade_app(f"/post?id={a_post_id(decade_app)}" if path == "/post" else path)
    open_page(phone, url)
    assert_no_exception(phone)
    assert overflowing(phone) == []


def test_every_interval_button_is_on_screen(phone: Page, decade_app: App) -> None:
    """The interval buttons and the split's (its help icon is a button without text)."""
    open_page(phone, decade_app("/"))
    buttons = phone.locator(f"{MAIN} [data-testid='stButtonGroup'] button")
    buttons.last.wait_for()
    labels = [text for text in buttons.all_inner_texts() if text]
    assert labels == ["auto", "day", "week", "month", "quarter", "year", "category", "topic"]
    for button in buttons.all():
        edge = button.bounding_box()
        assert edge is not None and edge["x"] >= 0 and edge["x"] + edge["width"] <= PHONE["width"]
    screenshot(phone, "phone-overview.png")


def test_the_legend_sits_below_the_chart_not_beside_it(phone: Page, decade_app: App) -> None:
    open_page(phone, decade_app("/"))
    phone.wait_for_selector(f"{CHART} g.legend")
    plot = box(phone, f"{CHART} .nsewdrag")
    legend = box(phone, f"{CHART} g.legend")
    assert legend["y"] >= plot["y"] + plot["height"], "the legend overlaps the plot area"
    # The bars get the chart's width, not 60 % of it.
    chart = box(phone, f"{CHART} .main-svg")
    assert plot["width"] >= 0.75 * chart["width"]


def test_no_toolbar_covers_a_chart_title(phone: Page, decade_app: App) -> None:
    open_page(phone, decade_app("/"))
    phone.wait_for_selector(f"{CHART} .gtitle")
    # On a phone a tap is the hover that shows Plotly's toolbar.
    phone.locator(f"{CHART} .nsewdrag").first.tap(force=True)
    phone.locator(f"{CHART} .gtitle").first.hover(force=True)
    phone.wait_for_timeout(300)
    assert phone.locator(f"{CHART} .modebar").filter(visible=True).count() == 0


def test_similar_post_links_wrap_instead_of_being_cut(phone: Page, decade_app: App) -> None:
    open_page(phone, decade_app(f"/post?id={a_post_id(decade_app)}"))
    labels = phone.locator(
        f"{MAIN} [data-testid='stPageLink-NavLink'] [data-testid='stMarkdownContainer']"
    )
    assert labels.count() >= 3
    cut = labels.evaluate_all(
        "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"
    )
    assert cut == []


def test_browse_pages_below_the_cards_too(phone: Page, decade_app: App) -> None:
    open_page(phone, decade_app("/posts"))
    reads = phone.locator(f"{MAIN} [data-testid='stPageLink-NavLink']", has_text="Read the post")
    assert reads.count() == 20
    onward = phone.get_by_role("button", name="Next page →")
    assert onward.count() == 1
    last_card = reads.last.bounding_box()
    pager = onward.bounding_box()
    assert last_card is not None and pager is not None
    assert pager["y"] > last_card["y"] + last_card["height"], "the pager is not below the cards"
    first_title = phone.locator(f"{MAIN} h4").first.inner_text()
    onward.click()
    wait_idle(phone)
    assert url_params(phone).get("page") == ["2"]
    assert phone.locator(f"{MAIN} h4").first.inner_text() != first_title
    assert phone.get_by_role("button", name="← Previous page").is_enabled()
