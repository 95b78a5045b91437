"""Where a browser step's time goes: the tour of ``bench.browser``, one session, traced.

    python -m bench.browser_probe --db X.duckdb [--app app|floor] [--rounds 2]

For each step it prints the server's messages (count, bytes, first and last after the
action), the last DOM changes (which element, what changed, when) and the JavaScript
time by bundle (CDP's sampling profiler), so a step's figure splits into the script run
(action to last message), drawing (last message to last change) and what the last change was.
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench import browser as b
from bench.apps import APPS

FRAMES: list[tuple[float, bytes]] = []  # (time.monotonic(), payload) of each server message


def _describe(payload: bytes) -> str:
    msg = ForwardMsg()
    msg.ParseFromString(payload)
    kind = msg.WhichOneof("type")
    if kind == "delta":
        delta = msg.delta.WhichOneof("type")
        inner = ""
        if delta == "new_element":
            inner = msg.delta.new_element.WhichOneof("type")
        elif delta == "add_block":
            inner = msg.delta.add_block.WhichOneof("type") or ""
        return f"{delta}:{inner} {list(msg.metadata.delta_path)}"
    if kind == "ref_hash":
        return "ref_hash (cached element)"
    if kind == "script_finished":
        return f"script_finished:{msg.script_finished}"
    return kind or "?"


PROBE_JS = """(() => {
  const s = (window.__probe = {ws: [], mut: []});
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const n = e.data.byteLength ?? e.data.size ?? e.data.length;
        s.ws.push([performance.now(), n]);
      });
    }
  };
  const where = (node) => {
    let el = node.nodeType === 1 ? node : node.parentElement;
    const own = el ? (el.getAttribute("data-testid") || el.tagName.toLowerCase()) : "?";
    while (el && !el.getAttribute("data-testid")) el = el.parentElement;
    return (el ? el.getAttribute("data-testid") : "?") + "/" + own;
  };
  new MutationObserver((list) => {
    const t = performance.now();
    for (const m of list) {
      let what = m.type;
      if (m.type === "attributes") what += ":" + m.attributeName;
      if (m.type === "childList") {
        const n = m.addedNodes[0] || m.removedNodes[0];
        const name = !n ? "" : n.nodeType === 1
          ? n.tagName.toLowerCase()
            + (n.getAttribute("data-testid") ? `[${n.getAttribute("data-testid")}]` : "")
            + (typeof n.className === "string" && n.className
              ? "." + n.className.split(" ")[0] : "")
          : "#text";
        what += `:+${m.addedNodes.length}-${m.removedNodes.length} ${name}`;
      }
      s.mut.push([t, where(m.target), what]);
    }
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();"""
RESET_JS = "() => { window.__probe.ws = []; window.__probe.mut = []; }"
TAKE_JS = "() => window.__probe"


def _report(name: str, ms: float, started: float, probe: dict) -> None:
    ws = [(t - started, n) for t, n in probe["ws"] if t >= started]
    mut = [(t - started, w, what) for t, w, what in probe["mut"] if t >= started]
    last_ws = ws[-1][0] if ws else 0.0
    print(f"\n== {name}: {ms:,.0f} ms")
    if ws:
        print(
            f"  messages {len(ws)}, {sum(n for _, n in ws) / 1024:,.1f} KiB;"
            f" first {ws[0][0]:,.0f} ms, last {last_ws:,.0f} ms"
        )
        big = sorted(ws, key=lambda x: -x[1])[:4]
        print("  largest: " + ", ".join(f"{n / 1024:.1f} KiB @{t:,.0f}" for t, n in big))
    # Plotly's newPlot makes a plot-container; Plotly.react keeps it: charts drawn anew.
    made = sum("+1-0 div.plot-container" in what for _, _, what in mut)
    purged = sum("+0-1 div.plot-container" in what for _, _, what in mut)
    print(f"  charts drawn anew {made}, removed {purged}")
    after = [m for m in mut if m[0] > last_ws]
    print(f"  mutations {len(mut)}, after the last message {len(after)}")
    counts = collections.Counter((w, what) for _, w, what in after)
    for (w, what), n in counts.most_common(8):
        print(f"    {n:4} x {w} {what}")
    buckets: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    for t, w, what in mut:
        buckets[int(t // 250)][f"{w} {what}"] += 1
    print("  changes by 250 ms:")
    for k in sorted(buckets):
        top = ", ".join(f"{n}x {k2}" for k2, n in buckets[k].most_common(3))
        print(f"    {k * 250:6,}: {sum(buckets[k].values()):4} {top}")
    print("  last changes:")
    for t, w, what in mut[-6:]:
        print(f"    {t:8,.0f} ms {w} {what}")


def _js_by_bundle(profile: dict) -> list[tuple[str, float]]:
    nodes = {n["id"]: n for n in profile["nodes"]}
    self_us: collections.Counter[str] = collections.Counter()
    deltas = profile.get("timeDeltas", [])
    for sample, dt in zip(profile.get("samples", []), deltas, strict=False):
        frame = nodes[sample]["callFrame"]
        url = frame.get("url", "").rsplit("/", 1)[-1] or frame.get("functionName") or "(native)"
        self_us[url] += dt
    return [(u, us / 1000) for u, us in self_us.most_common(8)]


def _messages(t0_mono: float, started: float, show: int) -> None:
    """The server's messages since the action, on the page's clock (``t0_mono`` is
    ``time.monotonic()`` when the page's clock read ``started``)."""
    rows = [((t - t0_mono) * 1000, p) for t, p in FRAMES if t >= t0_mono - 0.001]
    print(f"  messages (python side) {len(rows)}:")
    gaps = [(rows[i][0] - rows[i - 1][0], i) for i in range(1, len(rows))]
    slow = {i for _, i in sorted(gaps, reverse=True)[:show]}
    for i, (t, payload) in enumerate(rows):
        if i in slow or i < 2 or i >= len(rows) - 3:
            gap = t - rows[i - 1][0] if i else t
            print(f"    {t:8,.0f} ms (+{gap:5,.0f}) {len(payload):7,} B {_describe(payload)}")


CDP_METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
SERVER_PID: list[int] = []


def _server_cpu_s() -> float:
    """User and system CPU seconds of the Streamlit server so far."""
    fields = Path(f"/proc/{SERVER_PID[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _browser_s(cdp) -> dict[str, float]:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {name: metrics[name] for name in CDP_METRICS}


def tour(page, cdp, args) -> None:
    def step(name: str, action, title: str) -> None:
        page.evaluate(RESET_JS)
        FRAMES.clear()
        cpu0, browser0 = _server_cpu_s(), _browser_s(cdp)
        cdp.send("Profiler.start")
        if action is None:
            started = 0.0
            t0_mono = time.monotonic()
            ms = b._drawn(page, 0.0, 0, title)
        else:
            before = page.evaluate("() => [window.__bench.messages, performance.now()]")
            t0_mono = time.monotonic()
            action()
            started = before[1]
            ms = b._drawn(page, started, before[0], title)
        profile = cdp.send("Profiler.stop")["profile"]
        cpu, browser = _server_cpu_s() - cpu0, _browser_s(cdp)
        CPU.append((name, cpu * 1000, *((browser[k] - browser0[k]) * 1000 for k in CDP_METRICS)))
        _report(name, ms, started, page.evaluate(TAKE_JS))
        _messages(t0_mono, started, 6)
        print(
            "  JS self time by file: "
            + ", ".join(f"{u} {t:,.0f}" for u, t in _js_by_bundle(profile))
        )

    step("first visit", None, "Overview")
    step("search typed", b._search(page, args.q), "Overview")
    step("category picked", b._pick_category(page, args.category), "Overview")
    page.keyboard.press("Escape")
    for name, title in b.LINK_STEPS:
        step(name, b._link(page, name), title)


CPU: list[tuple[str, float, float, float, float, float]] = []


def _cpu_table(rounds: int) -> None:
    """Median CPU per step over the rounds after the first: the server's (Python), the
    page's main thread (tasks; of which JavaScript, layout, style)."""
    print(f"\nCPU ms, median of rounds 2..{rounds}: server, page tasks, JS, layout, style")
    names = list(dict.fromkeys(row[0] for row in CPU))
    for name in names:
        rows = [row[1:] for row in CPU if row[0] == name][1:] or [
            row[1:] for row in CPU if row[0] == name
        ]
        cols = [statistics.median(col) for col in zip(*rows, strict=True)]
        print(f"  {name:16}" + "".join(f"{c:8,.0f}" for c in cols))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--app", default="app", choices=["app", "floor"])
    parser.add_argument("--rounds", type=int, default=2, help="the first is a warm-up")
    parser.add_argument("--q", default="LoRA")
    parser.add_argument("--category", default="NLP")
    parser.add_argument("--pyspy", help="record the server with py-spy (raw) into this file")
    args = parser.parse_args()
    app = APPS["app"] if args.app == "app" else b.FLOOR
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=b.CHROMIUM, args=b.CHROMIUM_ARGS)
        port = b.free_port()
        url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "streamlit.log"
            process = b.spawn(app, str(Path(args.db).resolve()), port, log)
            try:
                b.wait_healthy(url, process, log, 600)
                SERVER_PID[:] = [process.pid]
                spy = None
                if args.pyspy:
                    spy = subprocess.Popen(
                        [
                            "py-spy",
                            "record",
                            "-r",
                            "200",
                            "-f",
                            "raw",
                            "-o",
                            args.pyspy,
                            "--pid",
                            str(process.pid),
                            "--subprocesses",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    time.sleep(1)
                for n in range(args.rounds):
                    print(f"\n######## round {n}")
                    context = browser.new_context(viewport=b.VIEWPORT, locale="en-US")
                    context.add_init_script(b.WATCH_JS)
                    context.add_init_script(PROBE_JS)
                    page = context.new_page()
                    page.on(
                        "websocket",
                        lambda ws: ws.on(
                            "framereceived",
                            lambda f: (
                                FRAMES.append((time.monotonic(), f))
                                if isinstance(f, bytes)
                                else None
                            ),
                        ),
                    )
                    cdp = context.new_cdp_session(page)
                    cdp.send("Profiler.enable")
                    cdp.send("Performance.enable")
                    cdp.send("Profiler.setSamplingInterval", {"interval": 500})
                    page.goto(url + "/")
                    tour(page, cdp, args)
                    context.close()
                _cpu_table(args.rounds)
            finally:
                if spy:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(30)
                b.stop(process)
        browser.close()


if __name__ == "__main__":
    main()
