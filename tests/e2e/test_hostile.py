"""Malicious posts in a real browser: their text must show up inert, never run or link.

A store is built by the real ingest from a JSON Lines file of hostile posts and
served by a second app. Ingest turns HTML in excerpts and bodies into text, but
titles, categories and tags keep their markup, so those reach the pages raw and
test the rendering itself; the Markdown payloads survive in every field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, Page

from lib.ingest import run_ingest
from tests.e2e.helpers import EXCEPTION, MAIN, App, main_text, open_page
from tests.helpers import query

pytestmark = pytest.mark.e2e

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
MD_LINK = "[click](javascript:window.__pwned=1)"
A_LINK = '<a href="javascript:alert(1)">x</a>'
CHART_A = '<a href="https://example.invalid/chart">Long</a>'  # Plotly would draw it a link
MD_IMAGE = "![x](https://example.invalid/x.png)"
DIRECTIVE = ":red[styled]"
LATEX = "$\\LaTeX$"
LONG_START, LONG_END = "LONGSTART", "LONGEND"
_WORDS = " ".join(f"w{i:04d}" for i in range(1000))
LONG = f"{LONG_START} {_WORDS[: 5000 - len(LONG_START) - len(LONG_END) - 3]}x {LONG_END}"
assert len(LONG) == 5000
VALID_URL = "https://example.com/hostile-but-valid"

# Posts without a usable link are recognised by their text, so every text is distinct.
HOSTILE = {
    "script": {
        "title": f"{SCRIPT} script in the title",
        "excerpt": f"The script post: {SCRIPT} in its excerpt",
        "body": f"The script post: {SCRIPT} in its body",
        "category": SCRIPT,
        "tags": [SCRIPT, "plain"],
        "published": "2026-02-01",
        "url": "javascript:alert(1)",
    },
    "img": {
        "title": f"{IMG} image in the title",
        "excerpt": f"The image post: {IMG} in its excerpt",
        "body": f"The image post: {IMG} in its body",
        "category": IMG,
        "tags": [IMG],
        "published": "2026-02-02",
        "url": "data:text/html,<script>alert(1)</script>",
    },
    "links": {
        "title": f"{MD_LINK} and {A_LINK}",
        "excerpt": f"{MD_LINK} {A_LINK} {MD_IMAGE}",
        "body": f"{MD_LINK} {A_LINK} {MD_IMAGE}",
        "category": MD_LINK,
        "tags": [A_LINK, MD_IMAGE],
        "published": "2026-02-03",
        "url": VALID_URL,
    },
    "markup": {
        "title": f"{DIRECTIVE} {LATEX} {MD_IMAGE}",
        "excerpt": f"{DIRECTIVE} and {LATEX}",
        "body": f"{DIRECTIVE} and {LATEX} and {MD_IMAGE}",
        "category": DIRECTIVE,
        "tags": [LATEX, DIRECTIVE],
        "published": "2026-02-04",
    },
    "long": {
        "title": "A post with a very long excerpt",
        "excerpt": LONG,
        "category": CHART_A,
        "published": "2026-02-05",
    },
}
PAYLOADS = [SCRIPT, IMG, MD_LINK, A_LINK, MD_IMAGE, DIRECTIVE, LATEX]
# Where each page is, and the raw text it must show as written (inert, not dropped).
SHOWN = {
    "/posts": [*PAYLOADS, LONG_START],
    "/": [*PAYLOADS, LONG_START],
    "post:script": [SCRIPT],
    "post:img": [IMG],
    "post:links": [MD_LINK, A_LINK, MD_IMAGE],
    "post:markup": [DIRECTIVE, LATEX, MD_IMAGE],
    "post:long": [LONG_START, LONG_END],  # the post page shows the whole text
}


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("hostile")
    source = folder / "hostile.jsonl"
    source.write_text(
        "".join(json.dumps(post, ensure_ascii=False) + "\n" for post in HOSTILE.values()),
        encoding="utf-8",
    )
    db = str(folder / "posts.duckdb")
    summary = run_ingest(db, [str(source)])
    assert summary.added == len(HOSTILE), summary.describe()
    # The payloads must reach the store, or the page checks below prove nothing.
    stored = query(db, "SELECT title, category, excerpt FROM posts")
    assert {row[0] for row in stored} == {post["title"] for post in HOSTILE.values()}
    assert {row[1] for row in stored} == {post["category"] for post in HOSTILE.values()}
    assert [len(row[2]) for row in stored if row[1] == CHART_A] == [5000]
    return db


@pytest.fixture(scope="module")
def hostile_app(launch_app: Callable[[str], App], hostile_store: str) -> App:
    return launch_app(hostile_store)


@dataclass(frozen=True)
class View:
    """What a browser shows on one page of the hostile store, read once."""

    url: str
    text: str  # the main area, as the reader sees it
    heading: str
    exceptions: list[str]
    pwned: str  # typeof window.__pwned
    hrefs: list[str]  # every link in the document
    link_buttons: list[str]  # "Original ↗" / "Read the original ↗" targets
    scripts: list[str]
    counts: dict[str, int]  # selector -> matches


CHART_LINK = "[data-testid='stPlotlyChart'] a"  # Plotly draws <a href> in labels as links
SELECTORS = (
    CHART_LINK,
    "a[href^='javascript:' i]",
    "a[href^='data:' i]",
    "img[src='x']",
    "img[src*='example.invalid']",
    "[onerror]",
)


@pytest.fixture(scope="module")
def hostile_view(
    browser_context: BrowserContext, hostile_app: App
) -> Iterator[Callable[[str], View]]:
    """Each hostile page loaded once (a page load is a Streamlit session: ~3 s)."""
    views: dict[str, View] = {}

    def view(where: str) -> View:
        if where not in views:
            path = where
            if where.startswith("post:"):
                title = HOSTILE[where.removeprefix("post:")]["title"]
                (post_id,) = query(hostile_app.db, "SELECT id FROM posts WHERE title = ?", [title])[
                    0
                ]
                path = f"/post?id={post_id}"
            page = browser_context.new_page()
            open_page(page, hostile_app(path))
            views[where] = View(
                url=page.url,
                # Zero-width spaces are inserted to stop autolinks; a reader does not see them.
                text=main_text(page).replace("\u200b", ""),
                heading=page.locator(MAIN)
                .locator("h1")
                .first.inner_text()
                .replace("\u200b", "")
                .strip(),
                exceptions=page.locator(EXCEPTION).all_inner_texts(),
                pwned=page.evaluate("typeof window.__pwned"),
                hrefs=_attributes(page, "a[href]", "href"),
                link_buttons=_attributes(page, f"{MAIN} [data-testid='stLinkButton'] a", "href"),
                scripts=page.locator("script").evaluate_all("els => els.map(e => e.textContent)"),
                counts={selector: page.locator(selector).count() for selector in SELECTORS},
            )
            page.close()
        return views[where]

    yield view


def _attributes(page: Page, selector: str, name: str) -> list[str]:
    return page.locator(selector).evaluate_all(
        "(els, name) => els.map(e => e.getAttribute(name))", name
    )


@pytest.mark.parametrize("where", list(SHOWN))
def test_hostile_text_is_inert(hostile_view: Callable[[str], View], where: str) -> None:
    view = hostile_view(where)
    assert view.exceptions == [], f"the page shows an exception: {view.exceptions}"
    assert "Traceback" not in view.text
    assert view.pwned == "undefined", "a payload ran"
    assert view.counts["a[href^='javascript:' i]"] == 0, view.hrefs
    assert view.counts[CHART_LINK] == 0, "a category or topic formed a link on a chart"
    assert view.counts["a[href^='data:' i]"] == 0, view.hrefs
    assert not [s for s in view.scripts if "__pwned" in s], "a post's <script> reached the DOM"
    assert view.counts["img[src='x']"] == 0
    assert view.counts["img[src*='example.invalid']"] == 0, "a Markdown image formed"
    assert view.counts["[onerror]"] == 0
    for raw in SHOWN[where]:
        assert raw in view.text, f"{raw!r} is not shown as text"
    if where.startswith("post:"):
        post = HOSTILE[where.removeprefix("post:")]
        assert view.heading == post["title"], "the title is not shown as written"
        assert f"{post['category']} · " in view.text, "the category is not shown as written"
    else:
        assert "<script>" in view.text, "the <script> text was dropped instead of shown"
        for post in HOSTILE.values():
            assert post["title"] in view.text, f"title not shown as written: {post['title']!r}"
        assert LONG_END not in view.text, "the 5,000-character excerpt is not clipped in its card"
        assert LONG[:500] in view.text, "the long excerpt's card does not start with its text"


@pytest.mark.parametrize("where", list(SHOWN))
def test_post_text_forms_no_links(hostile_view: Callable[[str], View], where: str) -> None:
    """README, Safety: no link can form from post text; only the checked ``url`` links out."""
    view = hostile_view(where)
    origin = view.url.split("/", 3)[:3]
    outside = [
        href
        for href in view.hrefs
        if re.match(r"(?i)^[a-z][a-z0-9+.-]*:", href)
        and href.split("/", 3)[:3] != origin
        and href != VALID_URL
    ]
    assert outside == [], f"links formed from post text: {outside}"


def test_only_the_valid_url_links_to_the_original(hostile_view: Callable[[str], View]) -> None:
    assert hostile_view("/posts").link_buttons == [VALID_URL]
    assert hostile_view("post:links").link_buttons == [VALID_URL]
    for key in ("script", "img", "markup", "long"):
        view = hostile_view(f"post:{key}")
        assert view.link_buttons == []
        assert "The source gives no link to the original post." in view.text
