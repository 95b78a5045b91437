"""Hostile queries through the live ``/sql?sql=…`` link, against a server with tight limits.

One app server is started for this module with a 2 s time limit, a 768 MB worker heap cap
and a 192 MB DuckDB memory limit, on the seeded store. Each attack is opened in Chromium as
a shared link would be, in one "attacker" browser context, while a second context (another
visitor, another Streamlit session) asks an ordinary question. For every attack the test
checks what people would notice:

* the attacker gets a clear message (an error alert, never an exception block or a
  result), and the other visitor a correct answer, each within a bound that a query queued
  behind the attack or left running would miss; over all the attacks, the median message
  comes within the time limit plus 1 s of the page's script run starting, and the median
  answer within 2 s (on a slower machine: the controls' figures, measured while the
  attacker's tab loads a harmless page, plus 0.5 s or times two; the browsers share the
  2 CPUs with the server here);
* the server is still alive, answers ``/_stcore/health``, and its own memory (the
  streamlit process's RSS, not its workers') stays near its warmed-up baseline;
* once the deadline (plus a grace second) has passed, no worker process of the server is
  still burning CPU: the attack's worker was killed or is idle;
* the server's log shows neither a DuckDB progress bar nor the attack's query text.

Another test checks that the memory message states the caps the server was started with,
and a last one floods the result cache with 64 distinct large results through the app and
checks that the server's RSS grows by no more than the cache budget plus some slack.

Timing is measured in the page: an init script notes (``performance.now()``, from
navigation) when the app root first reports ``data-test-script-state='running'`` and when
the first error alert appears. The script run includes the page's own work (the schema
panel, a worker that may still be starting: about 0.3 s), which the 1 s of slack covers.
"""

from __future__ import annotations

import os
import re
import statistics
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e.helpers import (
    EXCEPTION,
    MAIN,
    RESULT,
    VIEWPORT,
    App,
    assert_no_exception,
    grid_rows,
    open_page,
    sql_url,
    wait_idle,
)
from tests.helpers import console_workers, query

pytestmark = pytest.mark.e2e

TIMEOUT_S = 2.0
WORKER_MB = 768
DUCKDB_MB = 192
WORKERS = 3
CACHE_MB = 64
ENV = {
    "CONSOLE_TIMEOUT_S": f"{TIMEOUT_S:g}",
    "CONSOLE_WORKER_MEMORY_MB": str(WORKER_MB),
    "CONSOLE_DUCKDB_MEMORY_MB": str(DUCKDB_MB),
    "CONSOLE_WORKERS": str(WORKERS),
    "CONSOLE_CACHE_MB": str(CACHE_MB),
}
MESSAGE_SLACK_S = 1.0  # the script's own work and a worker's start, on top of the time limit
OTHER_VISITOR_S = 2.0  # an ordinary query in another session, while an attack runs
# An instant error's message on a slower machine: no more than this over the control's.
CONTROL_SLACK_S = 0.5
# The visitor's answer during an attack: at most twice its answer during a harmless page
# load, on a machine where 2 s is not reached even then (the attack's worker shares the CPU).
CONTROL_FACTOR = 2.0
CONTROL_ASKS = 3
GRACE_S = 1.0  # after the deadline, before the workers are looked at
BUSY_WINDOW_S = 0.5
BUSY_CPU_S = 0.1  # CPU a worker may use in the window and still count as idle
RSS_SLACK_MB = 300  # the server's own growth allowed over the whole module
FLOOD_QUERIES = 64
FLOOD_TABS = WORKERS  # one tab per worker: the flood never waits in the queue
# Results in flight (reply, frame, message: ~3 x 16 MB each) and what Streamlit and the
# allocator keep after a flood (measured figures: bench/README.md, "Tests and modules").
FLOOD_SLACK_MB = 320
ALERT_WAIT_MS = 20_000  # long enough to see how late a message is, not the bound itself

ERROR_ALERT = "[data-testid='stAlertContentError']"
RESULT_CAPTION = re.compile(r"[\d,]+ rows? in \d+\.\d\d s[^\n]*")  # "2,096 rows in 0.61 s: …"

TIMEOUT_MSG = f"Query cancelled after {TIMEOUT_S:g} s"
MEMORY_MSG = "The query needs more memory than the console allows"
CPU_MSG = "used more CPU time than the console allows"
GONE_MSG = "The query stopped its worker"
REFUSED_MSG = re.compile(r"is not available here: |reads files, URLs or other SQL")
LIMIT_MSG = re.compile(
    "|".join(re.escape(m) for m in (TIMEOUT_MSG, MEMORY_MSG, CPU_MSG, GONE_MSG))
    + r"|nested too deeply"
)

# Notes, from navigation, when the script first runs, and then when an error alert or an
# exception first shows and when the run has ended.
TIMES_JS = """(() => {
  const t = (window.__times = {});
  const first = (key, selector) => {
    if (!(key in t) && document.querySelector(selector)) t[key] = performance.now();
  };
  const look = () => {
    first('running', "[data-test-script-state='running']");
    if ('running' in t) {
      first('alert', "[data-testid='stAlertContentError']");
      first('exception', "[data-testid='stException']");
      first('idle', "[data-test-script-state='notRunning']");
    }
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true, attributes: true});
})();"""


def _nested_type(depth: int) -> str:
    nested = '"VARCHAR"'
    for _ in range(depth):
        nested = '{"a": ' + nested + "}"
    return nested


# ~15 KB of SQL: DuckDB spends seconds building the 2100-level struct type.
JSON_TRANSFORM = f"SELECT json_transform('{{}}', '{_nested_type(2100)}')"
PLAN_LEAK = (
    "SELECT json_serialize_plan('SELECT current_setting(''allowed_paths'')', optimize := true)"
)


@dataclass(frozen=True)
class Attack:
    id: str
    sql: str
    message: re.Pattern[str] = LIMIT_MSG


ATTACKS = [
    Attack("generate_series", "SELECT generate_series(2147483648)"),
    Attack("range_list", "SELECT range(100000000)"),
    Attack("repeat_list", "SELECT repeat([1], 1000000000)"),
    Attack("list_resize", "SELECT list_resize([1], 2000000000)"),
    Attack("array_resize", "SELECT array_resize([1], 2000000000)"),
    Attack("bitstring", "SELECT bitstring('1', 2147483647)"),
    Attack("printf_width", "SELECT printf('%2147483647d', 1)"),
    Attack("format_width", "SELECT format('{:>2147483647}', 'x')"),
    Attack("repeat_text", "SELECT repeat('x', 1000000000)"),
    Attack(
        "damerau_levenshtein",
        "SELECT damerau_levenshtein(repeat('a', 30000), repeat('b', 30000))",
    ),
    Attack("wide_rows", "SELECT repeat('x', 1000000) FROM range(3000)"),
    Attack(
        "levenshtein_rows",
        "SELECT levenshtein(repeat('a', 100000) || range, repeat('b', 100000)) FROM range(2048)",
    ),
    Attack("json_transform_nested", JSON_TRANSFORM),
    Attack("plan_shows_settings", PLAN_LEAK, REFUSED_MSG),
]


# --- The server's processes -----------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


@dataclass(frozen=True)
class Proc:
    pid: int
    cpu_s: float
    born: float  # on the CLOCK_BOOTTIME clock, which /proc counts a process's start on
    state: str


_TICK = os.sysconf("SC_CLK_TCK")


def boot_clock() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def _proc(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is field 3
    cpu = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    return Proc(pid, cpu, int(fields[19]) / _TICK, fields[0])  # starttime


def workers(server: int) -> dict[int, Proc]:
    """The server's live children that run ``lib.console.worker``."""
    found: dict[int, Proc] = {}
    for pid in console_workers(server):
        proc = _proc(pid)
        if proc is not None and proc.state != "Z":
            found[proc.pid] = proc
    return found


def busy_workers(server: int, born_before: float) -> list[str]:
    """Workers started before ``born_before`` that use CPU over a short window: still running.

    A worker started later is a replacement (it imports DuckDB for a moment), not the one
    that ran the query.
    """
    before = workers(server)
    time.sleep(BUSY_WINDOW_S)
    after = workers(server)
    busy = []
    for pid, then in before.items():
        now = after.get(pid)
        if now is None or now.born > born_before:
            continue
        used = now.cpu_s - then.cpu_s
        if used > BUSY_CPU_S:
            busy.append(
                f"pid {pid}: {used:.2f} s CPU in {BUSY_WINDOW_S} s,"
                f" started {boot_clock() - now.born:.1f} s ago"
            )
    return busy


def healthy(app: App) -> bool:
    if app.process.poll() is not None:
        return False
    try:
        with urllib.request.urlopen(app("/_stcore/health"), timeout=5) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


def alert_text(page: Page) -> str:
    """The first error alert's message, without its icon's name."""
    return (
        page.locator(ERROR_ALERT).first.locator("[data-testid='stMarkdownContainer']").inner_text()
    )


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def attack_app(launch_app: Callable[..., App], e2e_store: str) -> App:
    return launch_app(e2e_store, env=ENV)


def _context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(10_000)
    context.add_init_script(TIMES_JS)
    return context


@pytest.fixture(scope="module")
def attacker(browser: Browser) -> Iterator[BrowserContext]:
    context = _context(browser)
    yield context
    context.close()


class Visitor:
    """Another Streamlit session, in a browser context of its own, asking ordinary questions."""

    def __init__(self, page: Page, app: App) -> None:
        self.page = page
        self.posts = query(app.db, "SELECT count(*) FROM posts")[0][0]
        self.asked = 0

    def ask(self) -> tuple[float, str]:
        """Run a new (uncached) count of the posts; the seconds to its answer, and the answer."""
        self.asked += 1
        name = f"probe_{self.asked}"
        box = self.page.get_by_role("textbox", name="Query")
        box.fill(f"SELECT count(*) AS {name} FROM posts -- visitor {self.asked}")
        started = time.monotonic()
        box.press("Control+Enter")
        self.page.wait_for_function(
            """name => [...document.querySelectorAll("[role='columnheader']")]
                 .some(c => c.textContent === name)""",
            arg=name,
            timeout=15_000,
            polling=20,
        )
        seconds = time.monotonic() - started
        headers, rows = grid_rows(self.page.locator(RESULT))
        return seconds, rows[0][headers.index(name)] if rows else "(no rows)"


@pytest.fixture(scope="module")
def visitor(browser: Browser, attack_app: App) -> Iterator[Visitor]:
    context = _context(browser)
    page = context.new_page()
    open_page(page, sql_url(attack_app, "SELECT count(*) AS probe_0 FROM posts"))
    yield Visitor(page, attack_app)
    context.close()


@dataclass
class Warm:
    """The server once warm, and what this machine costs when nothing hostile runs.

    The browser runs on the same CPU as the server here, so a page loading in one tab slows
    the other tab's answer; the controls measure that with a harmless query, and the limits
    below allow for it on a machine slower than this one.
    """

    rss_mb: float
    visitor_s: float  # the visitor's slowest answer while the attacker's tab loads a page
    message_s: float  # the slowest instant error message, from script run to alert


@pytest.fixture(scope="module")
def warm(attack_app: App, attacker: BrowserContext, visitor: Visitor) -> Warm:
    """Pages, pandas, a result and a message have all been shown; then the controls run."""
    page = attacker.new_page()
    visitor_s = message_s = 0.0
    try:
        open_page(page, sql_url(attack_app, "SELECT 42 AS warm, repeat('w', 100) AS text"))
        for n in range(CONTROL_ASKS):
            page.goto(sql_url(attack_app, f"SELECT no_such_column_{n}"), wait_until="commit")
            page.wait_for_function("() => window.__times && 'running' in window.__times")
            seconds, answer = visitor.ask()
            assert answer == str(visitor.posts)
            page.wait_for_function("() => 'alert' in window.__times")
            times = page.evaluate("() => window.__times")
            visitor_s = max(visitor_s, seconds)
            message_s = max(message_s, (times["alert"] - times["running"]) / 1000)
            wait_idle(page)
    finally:
        page.close()
    REPORT.append(
        f"controls: the visitor's slowest answer while a harmless page loads {visitor_s:.2f} s;"
        f" slowest instant error message {message_s:.2f} s"
    )
    time.sleep(1)
    return Warm(rss_mb(attack_app.process.pid), visitor_s, message_s)


def message_slack_s(warm: Warm) -> float:
    """Over the time limit: 1 s, or on a slower machine what an instant error costs plus 0.5 s."""
    return max(MESSAGE_SLACK_S, warm.message_s + CONTROL_SLACK_S)


# --- The attacks ----------------------------------------------------------------------------


@dataclass
class Seen:
    message: str
    to_message_s: float  # from the script run's start to the alert
    from_navigation_s: float
    visitor_s: float
    visitor_answer: str
    attack_done_before_visitor: bool
    run_started: float  # on the boot clock
    message_at: float


def _open_attack(page: Page, visitor: Visitor, url: str) -> Seen:
    """Open ``url`` without waiting, let the other visitor ask meanwhile, then read the page."""
    navigated = boot_clock()
    page.goto(url, wait_until="commit")
    page.wait_for_function("() => window.__times && 'running' in window.__times", polling=10)
    visitor_s, visitor_answer = visitor.ask()
    done_before = bool(page.evaluate("() => 'alert' in window.__times"))
    page.wait_for_function(
        "() => ['alert', 'exception', 'idle'].some(key => key in window.__times)",
        timeout=ALERT_WAIT_MS,
        polling=10,
    )
    times = page.evaluate("() => window.__times")
    if "alert" not in times:  # the run ended: its last elements may still be mounting
        wait_idle(page)
        times = page.evaluate("() => window.__times")
    assert_no_exception(page)
    assert "alert" in times, (
        f"no error message for {url[-80:]!r}; the page shows:\n{page.inner_text(MAIN)[:800]}"
    )
    message = alert_text(page)
    seen = Seen(
        message=message,
        to_message_s=(times["alert"] - times["running"]) / 1000,
        from_navigation_s=times["alert"] / 1000,
        visitor_s=visitor_s,
        visitor_answer=visitor_answer,
        attack_done_before_visitor=done_before,
        run_started=navigated + times["running"] / 1000,
        message_at=navigated + times["alert"] / 1000,
    )
    return seen


REPORT: list[str] = []
SEEN: list[Seen] = []  # every attack's timings, for the medians of the last test


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_an_attack_gets_a_message_and_harms_no_one_else(
    attack: Attack,
    attack_app: App,
    attacker: BrowserContext,
    visitor: Visitor,
    warm: Warm,
) -> None:
    pid = attack_app.process.pid
    page = attacker.new_page()
    try:
        seen = _open_attack(page, visitor, sql_url(attack_app, attack.sql))
        wait_idle(page)
        text = page.locator(MAIN).text_content() or ""  # with the cells behind a grid's canvas
        result_shown = page.locator(RESULT).count()
        # The query started after the run did, and (as asserted) in time for its message.
        deadline = seen.run_started + TIMEOUT_S + message_slack_s(warm)
        time.sleep(max(0.0, deadline + GRACE_S - boot_clock()))
        busy = busy_workers(pid, born_before=seen.message_at)
    finally:
        page.close()
    alive = healthy(attack_app)
    grown = rss_mb(pid) - warm.rss_mb if alive else float("nan")
    log = attack_app.log.read_text(errors="replace")
    overlap = "" if seen.attack_done_before_visitor else " (overlapping)"
    REPORT.append(
        f"{attack.id}: {seen.to_message_s:.2f} s to message ({seen.from_navigation_s:.2f} s"
        f" from navigation), visitor {seen.visitor_s:.2f} s{overlap}, server RSS"
        f" {grown:+.0f} MB, message {seen.message.splitlines()[0][:90]!r}"
    )

    assert attack.message.search(seen.message), (
        f"{attack.sql[:100]!r} showed {seen.message[:300]!r}, not the expected kind of message"
    )
    assert result_shown == 0, f"{attack.sql[:100]!r} showed a result table"
    # Each attack within a bound no queued or unbounded query meets; the issue's own figures
    # (limit + 1 s, 2 s for the visitor) hold for the median over the attacks (see the
    # last test): one run's noise on 2 CPUs shared with two browsers is not the server's.
    SEEN.append(seen)
    assert seen.to_message_s <= TIMEOUT_S + 2 * message_slack_s(warm), (
        f"the message came {seen.to_message_s:.2f} s after the script run started"
        f" (limit {TIMEOUT_S:g} s + 2 x {message_slack_s(warm):.2f} s; an instant error took"
        f" {warm.message_s:.2f} s)"
    )
    assert seen.visitor_answer == str(visitor.posts), (
        f"the other visitor was told {seen.visitor_answer!r}, the store has {visitor.posts}"
    )
    # Queued behind the attack, the visitor would wait for its deadline and then its own
    # answer: more than this.
    allowed_s = max(OTHER_VISITOR_S, warm.visitor_s * CONTROL_FACTOR, TIMEOUT_S + warm.visitor_s)
    assert seen.visitor_s <= allowed_s, (
        f"the other visitor waited {seen.visitor_s:.2f} s for an ordinary query during the attack"
        f" (allowed {allowed_s:.2f} s; {warm.visitor_s:.2f} s during a harmless page load)"
    )
    assert alive, "the server is down or does not answer /_stcore/health after the attack"
    assert grown <= RSS_SLACK_MB, (
        f"the server's own RSS grew by {grown:.0f} MB over its warm baseline of"
        f" {warm.rss_mb:.0f} MB (bound {RSS_SLACK_MB} MB)"
    )
    assert not busy, (
        f"workers still busy {GRACE_S:g} s past the deadline of {attack.sql[:60]!r}: {busy}"
    )
    assert "▕" not in log and "█" not in log, "the server's log holds a DuckDB progress bar"
    fragment = attack.sql[:60]
    assert fragment not in log and quote(fragment) not in log, (
        f"the server's log holds the attack's query text {fragment!r}"
    )
    secrets = {
        attack_app.db,
        str(Path(attack_app.db).resolve()),
        str(Path(attack_app.db).parent),
        os.path.expanduser("~"),
    }
    shown = [secret for secret in secrets if secret in text]
    assert not shown, f"the page shows the server's paths {shown}: {text[:500]!r}"


def test_over_the_attacks_messages_and_the_visitor_keep_the_issues_figures(warm: Warm) -> None:
    """Medians over every attack run above: the message within the time limit plus 1 s (or
    the control's slack on a slower machine), the other visitor within 2 s (or twice its
    control)."""
    assert len(SEEN) >= len(ATTACKS) // 2, "the attacks above did not run"
    message_s = statistics.median(s.to_message_s for s in SEEN)
    visitor_s = statistics.median(s.visitor_s for s in SEEN)
    REPORT.append(
        f"medians over {len(SEEN)} attacks: message {message_s:.2f} s, visitor {visitor_s:.2f} s"
    )
    assert message_s <= TIMEOUT_S + message_slack_s(warm)
    assert visitor_s <= max(OTHER_VISITOR_S, warm.visitor_s * CONTROL_FACTOR)


def test_the_memory_message_states_the_configured_caps(
    attack_app: App, attacker: BrowserContext, warm: Warm
) -> None:
    """The message names the caps this server was started with, not the defaults."""
    page = attacker.new_page()
    try:
        open_page(page, sql_url(attack_app, "SELECT repeat('x', 1000000000) AS caps"))
        assert_no_exception(page)
        message = alert_text(page)
    finally:
        page.close()
    assert MEMORY_MSG in message, message
    caps = f"({DUCKDB_MB} MB for DuckDB, {WORKER_MB:,} MB for its worker)"
    assert caps in message, f"the server was started with {caps}; the message says: {message!r}"


def test_a_result_cache_flood_stays_within_its_budget(
    attack_app: App, attacker: BrowserContext, visitor: Visitor, warm: Warm
) -> None:
    """64 distinct ~16 MB results opened through the app: the server keeps only its budget.

    Each result is opened as a link of its own (a new session), in a few tabs at a time, each
    tab going on to the next link once the run has ended, as a script flooding shared links
    would do.
    """
    pid = attack_app.process.pid
    before = rss_mb(pid)
    started = time.monotonic()
    results: list[float] = []  # the seconds each result took, from its caption
    timeouts: list[int] = []

    def finish(i: int, page: Page) -> None:
        # The run must end while the tab is still on it, or Streamlit stops it half-way.
        page.wait_for_function("() => 'idle' in window.__times", timeout=ALERT_WAIT_MS)
        assert page.locator(EXCEPTION).count() == 0, f"flood query {i} showed an exception"
        if page.locator(ERROR_ALERT).count():
            message = alert_text(page)
            assert TIMEOUT_MSG in message, f"flood query {i}: {message!r}"
            timeouts.append(i)
            return
        page.get_by_text(RESULT_CAPTION).first.wait_for()
        caption = RESULT_CAPTION.search(page.inner_text(MAIN))
        assert caption, f"flood query {i} shows no result"
        results.append(float(re.search(r" in (\d+\.\d\d) s", caption.group()).group(1)))

    tabs = [attacker.new_page() for _ in range(FLOOD_TABS)]
    showing: list[int | None] = [None] * FLOOD_TABS
    try:
        for i in range(FLOOD_QUERIES + FLOOD_TABS):
            lane = i % FLOOD_TABS
            if showing[lane] is not None:
                finish(showing[lane], tabs[lane])
                showing[lane] = None
            if i < FLOOD_QUERIES:
                sql = f"SELECT repeat('x', 8000) || '<i>' AS s, {i} AS n FROM range(2100)"
                tabs[lane].goto(sql_url(attack_app, sql), wait_until="commit")
                showing[lane] = i
    finally:
        for tab in tabs:
            tab.close()
    flood_s = time.monotonic() - started
    after, seconds, answer = _settled(pid, visitor)
    REPORT.append(
        f"cache flood: {len(results)} results ({min(results, default=0):.2f}-"
        f"{max(results, default=0):.2f} s each) and {len(timeouts)} timeouts in {flood_s:.1f} s;"
        f" server RSS {before:.0f} -> {after:.0f} MB ({after - before:+.0f} MB);"
        f" visitor {seconds:.2f} s"
    )
    assert len(results) >= FLOOD_QUERIES * 3 // 4, (
        f"only {len(results)} of {FLOOD_QUERIES} flood queries gave a result"
        f" ({len(timeouts)} timed out): the flood did not fill the cache"
    )
    assert healthy(attack_app), "the server is down after the cache flood"
    assert answer == str(visitor.posts)
    assert seconds <= OTHER_VISITOR_S, f"the other visitor waited {seconds:.2f} s after the flood"
    _assert_within_cache_budget(before, after, FLOOD_QUERIES)


LIGHT_LINKS = 16
CUT_CAPTION = "the result was cut to the first"


def test_results_light_in_arrow_do_not_fill_the_server(
    attack_app: App, attacker: BrowserContext, visitor: Visitor, warm: Warm
) -> None:
    """Links whose rows are lists of millions of NULLs: a few bytes of Arrow each (a NULL has no
    buffer), 64 MB each as the server's DataFrame, and counted as nothing by the result cache;
    sixteen once added up to a gigabyte. Each is now cut by what it weighs in the server."""
    pid = attack_app.process.pid
    before = rss_mb(pid)
    page = attacker.new_page()
    cut = whole = 0  # on a busy machine some links meet the time limit instead: a message
    try:
        for i in range(LIGHT_LINKS):
            sql = f"SELECT list_resize([NULL], 2000000) AS x, {i} AS n FROM range(4)"
            open_page(page, sql_url(attack_app, sql))
            assert_no_exception(page)
            shown = page.inner_text(MAIN)
            cut += CUT_CAPTION in shown
            whole += CUT_CAPTION not in shown and RESULT_CAPTION.search(shown) is not None
    finally:
        page.close()
    after, seconds, answer = _settled(pid, visitor)
    REPORT.append(
        f"light-in-Arrow links: {cut} of {LIGHT_LINKS} cut, {whole} whole; server RSS"
        f" {before:.0f} -> {after:.0f} MB ({after - before:+.0f} MB); visitor {seconds:.2f} s"
    )
    assert healthy(attack_app), "the server is down after the links"
    assert answer == str(visitor.posts)
    assert whole == 0, f"{whole} of {LIGHT_LINKS} links showed their millions of NULLs whole"
    assert cut >= 1, f"none of {LIGHT_LINKS} links gave a result (each met a limit)"
    _assert_within_cache_budget(before, after, LIGHT_LINKS)


def _settled(pid: int, visitor: Visitor) -> tuple[float, float, str]:
    """The server's RSS (MB) once the attacker's pages have settled, read before the visitor
    asks, then the visitor's seconds and answer."""
    time.sleep(2)
    after = rss_mb(pid)
    seconds, answer = visitor.ask()
    return after, seconds, answer


def _assert_within_cache_budget(before: float, after: float, results: int) -> None:
    assert after - before <= CACHE_MB + FLOOD_SLACK_MB, (
        f"the server's RSS grew by {after - before:.0f} MB over {results} results"
        f" (cache budget {CACHE_MB} MB + {FLOOD_SLACK_MB} MB slack)"
    )


@pytest.fixture(scope="module", autouse=True)
def _print_report() -> Iterator[None]:
    yield
    if REPORT:
        print("\n" + "\n".join(REPORT))
