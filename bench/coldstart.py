"""Cold start to the first complete Overview in Chromium, and the server's peak memory.

    cp bench/out/posts-1m.duckdb /tmp/bench1m.duckdb
    python -m bench.coldstart --db /tmp/bench1m.duckdb [--repeat 3] [--apps app,pandas,floor]

For each app (this one, the pandas baseline of ``bench/baseline``, and the
``floor``: a page with the same title, metrics and two charts but no data) and each
repeat: ``streamlit run`` is spawned headless on a free port with ``POSTS_DB``
set; a fresh Chromium context (empty cache, as a first visitor) opens ``/`` as
soon as the server answers its health check; the cold start is the time from
the spawn to an Overview whose script run has finished, with its title, its two
charts drawn and no exception. Then the same tab visits Browse, Topics and the
Overview under a few filters given in the URL (each visit a new session, as a
shared link is), timing each visit.

All along, a thread samples the server's memory every 20 ms: ``VmHWM`` (the
kernel's own peak RSS of the server process) and the summed RSS of its process
tree. Both peaks are printed after the Overview and after the tour. Chromium is
launched once, outside the timings, and is not part of the server's memory.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Browser, Page, sync_playwright

from bench.apps import APPS, App, check_store, machine, post_count
from lib.config import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
# Streamlit 1.67 marks the app root so when a script run has finished (as tests/e2e does).
IDLE = "[data-test-script-state='notRunning']"
SPINNER = "[data-testid='stSpinner']"
EXCEPTION = "[data-testid='stException']"
MAIN = "[data-testid='stMain']"
CHARTS_DRAWN = """n => document.querySelectorAll(
    "[data-testid='stMain'] [data-testid='stPlotlyChart'] .main-svg").length >= n"""
MATCHES = """() => /\\bposts? match/.test(
    document.querySelector("[data-testid='stMain']")?.innerText ?? "")"""
SAMPLE_SECONDS = 0.02

# (label, page url path, URL parameters); each visit opens a new session.
TOUR: tuple[tuple[str, str, dict[str, str | list[str]]], ...] = (
    ("Browse", "posts", {}),
    ("Browse NLP", "posts", {"category": "NLP"}),
    ("Browse 2 cat + 2023", "posts", {"category": ["NLP", "Python"], "from": "2023-01-01",
                                       "to": "2023-12-31"}),
    ("Browse q=显存 page 3", "posts", {"q": "显存", "page": "3"}),
    ("Topics", "topics", {}),
    ("Topics Large Model", "topics", {"category": "Large Model"}),
    ("Topics q=训练 2022", "topics", {"q": "训练", "from": "2022-01-01", "to": "2022-12-31"}),
    ("Topics topic=量化", "topics", {"topic": "量化"}),
    ("Overview q=FlashAttention", "", {"q": "FlashAttention"}),
)  # fmt: skip


# --- Server and memory ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(
    app: App, db: str, port: int, log: Path, tree: Path = REPO_ROOT
) -> subprocess.Popen[bytes]:
    """``streamlit run`` as a user would start it, leading its own process group; ``tree``:
    the checkout it runs from (its own modules and config), this one unless told."""
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app.entry.relative_to(REPO_ROOT)),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",  # an edit elsewhere in the tree must not rerun a page
        "none",
    ]
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=tree,
            env={**os.environ, "POSTS_DB": db},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from the kernel's per-thread ``children`` lists."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo.extend(int(c) for c in children.read().split())
    return found


@dataclass
class Memory:
    """Peaks of the server's memory, sampled by a thread while the server runs."""

    pid: int
    hwm_kb: int = 0  # the server process's VmHWM: its own peak RSS, kept by the kernel
    tree_kb: int = 0  # the largest summed VmRSS of the process tree seen by sampling
    processes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        self.hwm_kb = max(self.hwm_kb, _status_kb(self.pid, "VmHWM"))
        tree = _tree(self.pid)
        self.processes = max(self.processes, len(tree))
        self.tree_kb = max(self.tree_kb, sum(_status_kb(p, "VmRSS") for p in tree))

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.sample()

    def __enter__(self) -> Memory:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peaks(self) -> str:
        self.sample()
        return f"VmHWM {self.hwm_kb / 1024:,.0f} MB, tree RSS {self.tree_kb / 1024:,.0f} MB"


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, limit: float) -> None:
    deadline = time.monotonic() + limit
    while True:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}):\n{log.read_text()}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response,
        ):
            if response.read().strip() == b"ok":
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"the server did not answer within {limit:.0f} s")
        time.sleep(0.02)


# --- Browser ----------------------------------------------------------------------------


def wait_title(page: Page, title: str, timeout_ms: float) -> None:
    page.locator(MAIN).locator("h1", has_text=title).first.wait_for(timeout=timeout_ms)


def wait_complete(page: Page, path: str, title: str, timeout_ms: float) -> None:
    """Until the page's run has finished and shown what proves it complete."""
    wait_title(page, title, timeout_ms)
    if path == "":
        page.wait_for_function(CHARTS_DRAWN, arg=2, timeout=timeout_ms)
    elif path == "posts":
        page.wait_for_function(MATCHES, timeout=timeout_ms)
    else:
        page.wait_for_function(CHARTS_DRAWN, arg=1, timeout=timeout_ms)
    page.wait_for_selector(IDLE, state="attached", timeout=timeout_ms)
    page.wait_for_selector(SPINNER, state="detached", timeout=timeout_ms)
    errors = page.locator(EXCEPTION)
    if errors.count():
        raise SystemExit(f"{page.url} shows an exception:\n" + "\n".join(errors.all_inner_texts()))


@dataclass
class Start:
    healthy: float
    titled: float  # the page's title is shown: Chromium has loaded Streamlit, the run began
    overview: float
    after_overview: str
    tour: list[tuple[str, float]]
    after_tour: str
    hwm_kb: int
    tree_kb: int


def cold_start(browser: Browser, app: App, db: str, timeout: float, tour: bool) -> Start:
    titles = {p.url_path: p.title for p in app.pages}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "streamlit.log"
        context = browser.new_context(viewport=VIEWPORT, locale="en-US")
        started = time.perf_counter()
        process = spawn(app, db, port, log)
        try:
            with Memory(process.pid) as memory:
                wait_healthy(url, process, log, timeout)
                healthy = time.perf_counter() - started
                page = context.new_page()
                page.goto(url + "/")
                wait_title(page, titles[""], timeout * 1000)
                titled = time.perf_counter() - started
                wait_complete(page, "", titles[""], timeout * 1000)
                overview = time.perf_counter() - started
                after_overview = memory.peaks()
                visits = []
                for label, path, params in TOUR if tour else ():
                    began = time.perf_counter()
                    page.goto(f"{url}/{path}?{urlencode(params, doseq=True)}")
                    wait_complete(page, path, titles[path], timeout * 1000)
                    visits.append((label, time.perf_counter() - began))
                after_tour = memory.peaks()
        finally:
            context.close()
            stop(process)
    return Start(
        healthy, titled, overview, after_overview, visits, after_tour, memory.hwm_kb, memory.tree_kb
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="the store (a copy: see above)")
    parser.add_argument("--repeat", type=int, default=3, help="cold starts per app")
    parser.add_argument("--apps", default="app,pandas,floor", help="comma-separated")
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed per step")
    parser.add_argument("--tour", choices=("all", "first", "none"), default="all",
                        help="after which cold starts to visit the other pages")  # fmt: skip
    args = parser.parse_args()
    db = str(args.db.resolve())
    check_store(db)
    print(f"store: {db}, {post_count(db):,} posts")
    print(f"machine: {machine()}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name in args.apps.split(","):
                app = APPS[name]
                print(f"\n{name} ({app.entry.relative_to(REPO_ROOT)}):")
                starts = []
                for i in range(args.repeat):
                    tour = app.tour and (args.tour == "all" or (args.tour == "first" and i == 0))
                    start = cold_start(browser, app, db, args.timeout, tour)
                    starts.append(start)
                    print(
                        f"  cold start {i + 1}: server answers {start.healthy:5.2f} s, title"
                        f" {start.titled:6.2f} s, Overview complete {start.overview:6.2f} s;"
                        f" peak {start.after_overview}"
                    )
                    for label, seconds in start.tour:
                        print(f"      visit {label:28} {seconds * 1000:9,.0f} ms")
                    if start.tour:
                        print(f"      peak after the visits: {start.after_tour}")
                print(
                    f"  {name}: cold start median"
                    f" {statistics.median(s.overview for s in starts):.2f} s"
                    f" ({', '.join(f'{s.overview:.2f}' for s in starts)});"
                    f" peak VmHWM {max(s.hwm_kb for s in starts) / 1024:,.0f} MB,"
                    f" peak tree RSS {max(s.tree_kb for s in starts) / 1024:,.0f} MB"
                )
        finally:
            browser.close()


if __name__ == "__main__":
    main()
