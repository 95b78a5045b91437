"""What a person feels in Chromium: each step from the action to the page drawn, app vs floor.

    python -m bench.browser --db /tmp/bench1m.duckdb [--rounds 5] [--q LoRA --category NLP]
        [--before /tmp/before]   # a tree of the app at an earlier commit (git archive)

Each round opens a fresh browser context (a new Streamlit session) on the app and, the same
way, on ``bench/baseline/floor_tour.py`` (the same sidebar widgets and page links, pages made
of constants), and takes one session through: a first visit to the Overview, a search typed
in the sidebar, a category picked, then Browse, Topics and Overview through the sidebar's
links. Each round searches other words in another category (``SEARCHES``), so its queries
are not answered from the cache of an earlier round. A step ends when the page has finished
its run, shows no skeleton of an element still loading, has drawn every chart, and nothing
in it has changed for ``QUIET_MS``: the time is from the person's last input (the key
pressed, the option or link clicked) to the last change of the page (the last chart drawn,
the last card shown), on the page's own clock.
The floor's figure for a step is what Streamlit, the websocket, React and Plotly cost for it
on this machine before any app code. Its charts are constants, drawn once; the live floor
(``floor_live.py``) is the same page with two tiny charts that follow the filters, so its
filter steps also pay for mounting two new charts, as the app's must.

Every server is started first and the rounds alternate between them (app, both floors, and with
``--before`` the app of another tree), so a swing in the machine's load falls on each alike:
on a shared machine, before and after compared in separate runs differ by the load.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from bench.apps import APPS, READER_SEARCHES, App, check_store, machine, post_count
from bench.coldstart import (
    CHROMIUM,
    CHROMIUM_ARGS,
    EXCEPTION,
    VIEWPORT,
    free_port,
    spawn,
    stop,
    wait_healthy,
)
from lib.config import REPO_ROOT

FLOOR = App("floor", REPO_ROOT / "bench" / "baseline" / "floor_tour.py", APPS["app"].pages)
# The same floor with charts that follow the filters: what redrawing two charts costs a step.
LIVE_FLOOR = App("live floor", REPO_ROOT / "bench" / "baseline" / "floor_live.py", FLOOR.pages)
QUIET_MS = 400  # no change in the page for this long: it is drawn
POLL_S = 0.02
STEP_TIMEOUT_S = 60.0
SEARCHES = READER_SEARCHES  # one pair a round (bench.apps)
LINK_STEPS = (("Browse", "Browse posts"), ("Topics", "Topics"), ("Overview", "Overview"))

# Counts the server's messages, notes the time of the person's last input (a key or a
# pointer pressed) and of the page's last change (a message or a change of the page). A step
# has been answered once a message came after the action: the page's running state is no
# sign, since a quick run starts and ends within one batch of React's updates and the
# attribute never changes. Streamlit's running indicator in the toolbar is no change of the
# page: it fades out after the run, whatever the page shows.
WATCH_JS = """(() => {
  const s = (window.__bench = {messages: 0, last: performance.now(), acted: 0});
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", () => { s.messages += 1; s.last = performance.now(); });
    }
  };
  for (const kind of ["pointerdown", "keydown"]) {
    window.addEventListener(kind, () => { s.acted = performance.now(); }, true);
  }
  const indicator = (node) => {
    const el = node.nodeType === 1 ? node : node.parentElement;
    return !!(el && el.closest("[data-testid='stToolbar']"));
  };
  new MutationObserver((list) => {
    if (list.some((m) => !indicator(m.target))) s.last = performance.now();
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();"""
STATE_JS = """() => ({
  messages: window.__bench.messages,
  last: window.__bench.last,
  now: performance.now(),
  idle: !!document.querySelector("[data-test-script-state='notRunning']"),
  // A lazily loaded element shows a skeleton until its code has come; a chart is drawn
  // once Plotly has made its SVG. Either can come after a quiet spell of QUIET_MS.
  pending: document.querySelectorAll("[data-testid^='stSkeleton']").length
    + [...document.querySelectorAll("[data-testid='stPlotlyChart']")]
        .filter((c) => !c.querySelector(".main-svg")).length,
  title: [...document.querySelectorAll("[data-testid='stMain'] h1")].map(h => h.innerText),
})"""


def _drawn(page: Page, started_ms: float, messages_before: int, title: str) -> float:
    """Milliseconds from ``started_ms`` to the page's last change, once the server has
    answered and the run has ended."""
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while True:
        state = page.evaluate(STATE_JS)
        settled = state["idle"] and state["messages"] > messages_before and not state["pending"]
        shown = any(title in t for t in state["title"])
        if settled and shown and state["now"] - state["last"] >= QUIET_MS:
            if page.locator(EXCEPTION).count():
                shown = "\n".join(page.locator(EXCEPTION).all_inner_texts())
                raise SystemExit(f"{page.url} shows an exception:\n{shown[:2000]}")
            return state["last"] - started_ms
        if time.monotonic() > deadline:
            page.screenshot(path="/tmp/bench-browser-timeout.png")
            raise SystemExit(
                f"{page.url}: not drawn within {STEP_TIMEOUT_S:.0f} s ({state});"
                " screenshot: /tmp/bench-browser-timeout.png"
            )
        time.sleep(POLL_S)


def _act(page: Page, action: Callable[[], None], title: str) -> float:
    """From the person's last input of ``action`` (the option clicked, not the list
    opened; the key pressed) to the page drawn."""
    messages = page.evaluate("() => window.__bench.messages")
    action()
    return _drawn(page, page.evaluate("() => window.__bench.acted"), messages, title)


def _pick_category(page: Page, name: str) -> Callable[[], None]:
    def pick() -> None:
        page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").filter(
            has_text="Category"
        ).first.click()
        page.get_by_role("option", name=name, exact=True).first.click()

    return pick


def _search(page: Page, words: str) -> Callable[[], None]:
    box = page.locator("[data-testid='stSidebar']").get_by_role("textbox", name="Words in the post")
    box.fill(words)
    return lambda: box.press("Enter")


def _link(page: Page, name: str) -> Callable[[], None]:
    link = page.locator("[data-testid='stSidebar']").get_by_role("link", name=name).first
    return link.click


@dataclass
class Round:
    steps: dict[str, float]  # step -> milliseconds


def one_round(browser: Browser, url: str, q: str, category: str) -> Round:
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.add_init_script(WATCH_JS)
    try:
        page = context.new_page()
        page.goto(url + "/")
        steps = {"first visit": _drawn(page, 0.0, 0, "Overview")}
        steps["search typed"] = _act(page, _search(page, q), "Overview")
        steps["category picked"] = _act(page, _pick_category(page, category), "Overview")
        # The open list hides the rest of the page from the accessibility tree (the links
        # below would not be found); a person closes it before going on.
        page.keyboard.press("Escape")
        for name, title in LINK_STEPS:
            steps[name] = _act(page, _link(page, name), title)
        return Round(steps)
    finally:
        context.close()


@contextlib.contextmanager
def served(app: App, db: str, tree: Path | None = None) -> Iterator[str]:
    """The app's server, healthy, as its URL; ``tree``: the app of another checkout."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "streamlit.log"
        process = spawn(app, db, port, log, tree or REPO_ROOT)
        try:
            wait_healthy(url, process, log, 600)
            yield url
        finally:
            stop(process)


def tour(
    browser: Browser, urls: dict[str, str], args: argparse.Namespace
) -> dict[str, list[Round]]:
    """One warm-up round on each server (Chromium's code cache, the first visit), then the
    rounds, each server in turn."""
    searches = _searches(args)
    for url in urls.values():
        one_round(browser, url, *searches[0])
    results: dict[str, list[Round]] = {name: [] for name in urls}
    for n in range(args.rounds):
        for name, url in urls.items():
            results[name].append(one_round(browser, url, *searches[n + 1]))
    return results


def _searches(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The words and category of the warm-up round and of each round after it."""
    if args.q or args.category:
        return [(args.q or "LoRA", args.category or "NLP")] * (args.rounds + 1)
    return [SEARCHES[n % len(SEARCHES)] for n in range(args.rounds + 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="the store (a copy)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--q", help="the words typed in every round (then cached after one)")
    parser.add_argument("--category", help="the category picked in every round")
    parser.add_argument("--before", type=Path, help="a tree of the app to compare, same rounds")
    args = parser.parse_args()
    db = str(args.db.resolve())
    check_store(db)
    print(f"store: {db}, {post_count(db):,} posts; {args.rounds} rounds after one warm-up")
    print(f"machine: {machine()}")
    with contextlib.ExitStack() as servers, sync_playwright() as playwright:
        urls = {"app": servers.enter_context(served(APPS["app"], db))}
        if args.before:
            urls["before"] = servers.enter_context(served(APPS["app"], db, args.before.resolve()))
        urls["floor"] = servers.enter_context(served(FLOOR, db))
        urls["live floor"] = servers.enter_context(served(LIVE_FLOOR, db))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            results = tour(browser, urls, args)
        finally:
            browser.close()
    _print(results)


def _print(results: dict[str, list[Round]]) -> None:
    others = [name for name in results if name != "app"]
    heads = "".join(f" {name + ' median':>18}" for name in others)
    print(f"\n{'step':18} {'app median':>11}{heads} {'ratio':>6} {'live':>5}   app rounds (ms)")
    for step in results["app"][0].steps:
        medians = {
            name: statistics.median(r.steps[step] for r in rs) for name, rs in results.items()
        }
        ratio = medians["app"] / max(medians["floor"], 1.0)
        live_ratio = medians["app"] / max(medians["live floor"], 1.0)
        cells = "".join(f" {medians[name]:15,.0f} ms" for name in others)
        rounds = ", ".join(f"{r.steps[step]:,.0f}" for r in results["app"])
        ratios = f"{ratio:5.1f}x {live_ratio:4.1f}x"
        print(f"{step:18} {medians['app']:8,.0f} ms{cells} {ratios}   {rounds}")
    if "before" in results:
        print("before rounds (ms):")
        for step in results["before"][0].steps:
            print(f"  {step:18} " + ", ".join(f"{r.steps[step]:,.0f}" for r in results["before"]))


if __name__ == "__main__":
    main()
