"""The harness for the browser tests: stores, app servers and Chromium, as fixtures.

Each store is built by the real ingest and served by the real app
(``streamlit run app.py`` with ``POSTS_DB`` pointing at it), one server per store
for the whole session. Pages are driven in Debian's Chromium through Playwright;
its own browser downloads are never used. A missing Chromium fails the tests with
a message rather than skipping them, so CI cannot pass without running them.
The helpers these fixtures and the tests use are in ``tests/e2e/helpers.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    EXPECT_MS,
    VIEWPORT,
    App,
    start_app,
    stop_app,
)
from tests.helpers import build_store, decade_posts, seeded_store


@pytest.fixture(scope="session")
def launch_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., App]]:
    """Starts app servers on demand; all of them are stopped at the end of the session."""
    apps: list[App] = []

    def launch(db: str, env: Mapping[str, str] | None = None) -> App:
        log = tmp_path_factory.mktemp("app-log") / "streamlit.log"
        app = start_app(db, log, env)
        apps.append(app)
        return app

    yield launch
    for app in apps:
        stop_app(app.process)


@pytest.fixture(scope="session")
def e2e_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundled data, imported by the real ingest into a store of its own."""
    return seeded_store(tmp_path_factory.mktemp("e2e-store"))


@pytest.fixture(scope="module")
def decade_app(launch_app: Callable[[str], App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """A post a week over ten years, five categories (every fifth post has none)."""
    folder: Path = tmp_path_factory.mktemp("decade")
    return launch_app(build_store(folder / "posts.duckdb", decade_posts()))


@pytest.fixture(scope="session")
def app(launch_app: Callable[[str], App], e2e_store: str) -> App:
    return launch_app(e2e_store)


# --- Browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium and "
            "fonts-noto-cjk (`bash scripts/test.sh` installs them); they are never skipped"
        )
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            pytest.fail(f"could not start {CHROMIUM}: {exc}")
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def browser_context(browser: Browser) -> Iterator[BrowserContext]:
    """One context for the session, so Streamlit's scripts load from the HTTP cache.

    Every tab is a Streamlit session of its own, so tests still start from a
    fresh session: only the browser's cache is shared.
    """
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(EXPECT_MS)
    yield context
    context.close()


@pytest.fixture
def page_factory(browser_context: BrowserContext) -> Iterator[Callable[[], Page]]:
    """New tabs (new Streamlit sessions), closed when the test ends."""
    pages: list[Page] = []

    def new_page() -> Page:
        pages.append(browser_context.new_page())
        return pages[-1]

    yield new_page
    for page in pages:
        page.close()


@pytest.fixture
def page(page_factory: Callable[[], Page]) -> Page:
    return page_factory()
