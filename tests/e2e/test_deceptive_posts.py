"""Posts that lie about their date or their text, in a real browser.

A CSV export with the dates of the bug report (``0000-01-01`` broke the Overview for every
visitor; ``9999-12-31`` broke the charts) and titles hiding a right-to-left override or a
pile of combining marks is imported by the real ingest and served by its own app.
"""

from __future__ import annotations

import csv
from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from lib.ingest import run_ingest
from tests.e2e.helpers import MAIN, App, assert_no_exception, main_text, open_page
from tests.helpers import query

pytestmark = pytest.mark.e2e

RLO = "\u202e"
SPOOFED = f"holiday{RLO}gnp.exe"  # shows as "holidayexe.png" where the override is kept
ZALGO = "Zalgo" + "\u0301\u0336\u0334\u0337" * 8
ROWS = [
    ("Y0", "x", "https://e.com/d", "0000-01-01"),
    ("Y9999", "a post dated the end of time", "https://e.com/end", "9999-12-31"),
    ("Yminus", "a post dated before year one", "https://e.com/minus", "-0001-01-01"),
    (SPOOFED, "an attachment that is not what it says", "https://e.com/rlo", "2026-01-02"),
    (ZALGO, "marks piled on marks", "https://e.com/zalgo", "2026-01-03"),
    ("A plain post", "nothing to hide", "https://e.com/plain", "2026-02-04"),
]


@pytest.fixture(scope="module")
def deceptive_app(
    launch_app: Callable[[str], App], tmp_path_factory: pytest.TempPathFactory
) -> App:
    folder = tmp_path_factory.mktemp("deceptive")
    source = folder / "export.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "excerpt", "url", "published"])
        writer.writerows(ROWS)
    db = str(folder / "posts.duckdb")
    summary = run_ingest(db, [str(source)])
    assert summary.added == len(ROWS), summary.describe()
    return launch_app(db)


def _shown(page: Page, path: str, app: App) -> str:
    open_page(page, app(path))
    assert_no_exception(page)
    return main_text(page).replace("\u200b", "")  # zero-width spaces stop autolinks


def test_the_overview_opens_and_shows_titles_as_they_are(page: Page, deceptive_app: App) -> None:
    text = _shown(page, "/", deceptive_app)
    assert "holidaygnp.exe" in text  # in reading order, the override gone
    assert RLO not in page.locator(MAIN).inner_text()
    assert "Zalgo\u0301\u0336\u0334" in text and "Zalgo\u0301\u0336\u0334\u0337" not in text
    assert text.count("no date") == 3


def test_the_oldest_first_listing_and_a_post_page_open(page: Page, deceptive_app: App) -> None:
    text = _shown(page, "/posts?sort=oldest", deceptive_app)
    assert text.index("holidaygnp.exe") < text.index("A plain post") < text.index("Y0")
    (post_id,) = query(deceptive_app.db, "SELECT id FROM posts WHERE title = 'Y0'")[0]
    text = _shown(page, f"/post?id={post_id}", deceptive_app)
    assert "no date" in text
