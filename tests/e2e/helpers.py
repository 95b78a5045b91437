"""What the browser tests share besides fixtures: app servers, and reading pages.

An app server is the real app (``streamlit run app.py`` with ``POSTS_DB`` pointing at a
store); the page helpers wait for Streamlit's script runs the way a reader would, then read
what the page shows. The fixtures that start servers and Chromium are in ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from lib.config import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # Chromium runs as root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
DOCS = REPO_ROOT / "docs"
STARTUP_SECONDS = 60
IDLE_MS = 30_000  # a cold first script run imports pandas, pyarrow and plotly
EXPECT_MS = 5_000  # a rerun on a warm app takes well under a second
SETTLE_MS = 250
MAX_SCREENSHOT_HEIGHT = 12_000

# Streamlit 1.67 sets this on the app root when a script run has finished.
IDLE = "[data-test-script-state='notRunning']"
SPINNER = "[data-testid='stSpinner']"
EXCEPTION = "[data-testid='stException']"
MAIN = "[data-testid='stMain']"
WORDS_BOX = "Words in the post"  # the sidebar's search box (a textbox: its help is a button)
# The sidebar's page links: the app's own, which keep the filters (Streamlit's would not).
SIDEBAR_LINK = "[data-testid='stSidebar'] [data-testid='stPageLink']"


# --- App servers ------------------------------------------------------------------------


@dataclass
class App:
    url: str
    db: str
    process: subprocess.Popen[bytes]
    log: Path

    def __call__(self, path: str = "/") -> str:
        return self.url + path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_app(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server and whatever it started: it leads its own process group."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start_app(db: str, log: Path, env: Mapping[str, str] | None = None) -> App:
    """``streamlit run app.py`` on ``db``, on a free localhost port, once it answers.

    ``env`` adds to (or overrides) the server's environment, e.g. the console's limits.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, "POSTS_DB": db, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(f"the app exited with status {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return App(url=url, db=db, process=process, log=log)
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_app(process)
            pytest.fail(f"the app did not answer within {STARTUP_SECONDS} s:\n{_tail(log)}")
        time.sleep(0.25)


# --- Page helpers -------------------------------------------------------------------------


# Resolves once the number of elements on the page has not changed for ``quiet`` ms.
_SETTLE_JS = """async ([quiet, limit]) => {
  const size = () => document.body.getElementsByTagName('*').length;
  let last = size(), still = 0;
  const start = performance.now();
  while (performance.now() - start < limit) {
    await new Promise(resolve => setTimeout(resolve, 50));
    const now = size();
    if (now !== last) { last = now; still = 0; } else if ((still += 50) >= quiet) return true;
  }
  return false;
}"""


def wait_idle(page: Page, timeout: int = IDLE_MS) -> None:
    """Wait until the script run has finished, no spinner is left and the page is still.

    The script state turns ``notRunning`` a few hundred milliseconds before the
    last elements of the run are mounted, so the DOM must also settle.
    """
    page.wait_for_selector(IDLE, state="attached", timeout=timeout)
    page.wait_for_selector(SPINNER, state="detached", timeout=timeout)
    page.evaluate(_SETTLE_JS, [SETTLE_MS, timeout])


def open_page(page: Page, url: str) -> None:
    """Load ``url`` (a new Streamlit session) and wait for its first run to be shown."""
    page.goto(url)
    wait_idle(page)
    heading = page.locator(MAIN).locator("h1").first
    if heading.count() == 0:  # every page has a title; wait for it if the main area lags
        heading.wait_for(timeout=IDLE_MS)
        wait_idle(page)


def assert_no_exception(page: Page) -> None:
    errors = page.locator(EXCEPTION)
    assert errors.count() == 0, "the page shows an exception:\n" + "\n---\n".join(
        errors.all_inner_texts()
    )
    assert "Traceback" not in page.locator("body").inner_text(), "the page shows a traceback"


def main_text(page: Page) -> str:
    return page.locator(MAIN).inner_text()


MATCH_RE = re.compile(r"\b([\d,]+) posts? match(?:es)?\b")


def match_text(n: int) -> str:
    """What the Browse page says for ``n`` matching posts."""
    return "1 post matches" if n == 1 else f"{n:,} posts match"


def match_count(page: Page) -> int | None:
    found = MATCH_RE.search(main_text(page))
    return int(found.group(1).replace(",", "")) if found else None


def expect_match_count(page: Page, expected: int, timeout: int = EXPECT_MS) -> None:
    """Wait for the Browse page to report ``expected`` matches, then for the run to end."""
    deadline = time.monotonic() + timeout / 1000
    while match_count(page) != expected and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    wait_idle(page)
    shown = match_count(page)
    assert shown == expected, (
        f"the page says {shown} posts match, the store has {expected} (URL {page.url})"
    )


def url_params(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query, keep_blank_values=True)


def expect_url_param(
    page: Page, key: str, expected: list[str], timeout: int = EXPECT_MS
) -> dict[str, list[str]]:
    """Wait for the URL's ``key`` parameter to hold exactly ``expected``; the params on success."""
    deadline = time.monotonic() + timeout / 1000
    while url_params(page).get(key) != expected and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    params = url_params(page)
    assert params.get(key) == expected, (
        f"URL parameter {key!r} is {params.get(key)!r}, expected {expected!r} (URL {page.url})"
    )
    return params


def metric_value(page: Page, label: str) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=re.compile(f"^{label}$"))
    )
    return metric.locator("[data-testid='stMetricValue']").inner_text().strip()


def expect_metric(page: Page, label: str, expected: str, timeout: int = EXPECT_MS) -> None:
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        with contextlib.suppress(PlaywrightError):
            if metric_value(page, label) == expected:
                break
        page.wait_for_timeout(100)
    wait_idle(page)
    shown = metric_value(page, label)
    assert shown == expected, f"metric {label!r} shows {shown!r}, expected {expected!r}"


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG in ``tests/artifacts``.

    Streamlit scrolls inside its main area, not the document, so a plain
    full-page screenshot stops at the viewport: the viewport is made as tall as
    the content for the shot, then restored.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    height = page.evaluate(
        """() => Math.max(document.documentElement.scrollHeight,
                ...[...document.querySelectorAll(
                    "[data-testid='stMain'], [data-testid='stSidebarContent']")]
                  .map(e => e.scrollHeight))"""
    )
    size = page.viewport_size or VIEWPORT
    page.set_viewport_size(
        {"width": size["width"], "height": min(int(height) + 40, MAX_SCREENSHOT_HEIGHT)}
    )
    try:
        page.wait_for_timeout(500)  # let Plotly re-lay out for the new size
        wait_idle(page)
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)
    return path


def publish_screenshot(source: Path, name: str) -> Path:
    """Copy an artifact into ``docs/`` (committed, shown in the README)."""
    DOCS.mkdir(exist_ok=True)
    target = DOCS / name
    shutil.copyfile(source, target)
    return target


# --- The SQL page -----------------------------------------------------------------------

# The result is the one dataframe in the first column; the schema panel is the second.
RESULT = "[data-testid='stColumn'] >> nth=0 >> [data-testid='stDataFrame']"


def sql_url(app: App, sql: str) -> str:
    """The SQL page with ``sql`` in its URL, as a shared link opens it."""
    return app(f"/sql?sql={quote(sql)}")


def grid_rows(grid: Locator) -> tuple[list[str], list[tuple[str, ...]]]:
    """A dataframe's headers and rows, from the accessible table behind its canvas."""
    grid.locator("[role='gridcell']").first.wait_for(state="attached")
    headers = grid.locator("[role='columnheader']").evaluate_all(
        "cells => cells.map(c => c.textContent)"
    )
    cells = grid.locator("[role='gridcell']").evaluate_all("cells => cells.map(c => c.textContent)")
    width = len(headers)
    return headers, [tuple(cells[i : i + width]) for i in range(0, len(cells), width)]
