"""Page reruns after a filter change, this app against the pandas baseline, through AppTest.

    cp bench/out/posts-1m.duckdb /tmp/bench1m.duckdb
    python -m bench.rerun --db /tmp/bench1m.duckdb [--runs 15]

Both apps run in this process on the same store (``app.py`` first, then
``bench/baseline/app.py``). For each page (Overview, Browse, Topics) the caches
are cleared and one AppTest session is started on that page: its first run is
the cold one (the app's connection and first queries; the baseline's loading of
the whole table). Then the session's filter widgets are changed, as a reader
would, and the page rerun, ``--runs`` times. Every change is a combination not
seen before in the session (categories, date ranges, search words, topics), so
the app's ``st.cache_data`` results, keyed by the filters, do not simply hit.
The same combinations, in the same order, are given to both apps.

Prints, per page and app, the first run and the median and p95 rerun times, and
the ratio pandas/app. Any exception shown by a page stops the benchmark.

With ``--profile``, every ``lib.queries``/``lib.topics`` function the app calls is
timed (only cache misses reach them), and the share of each rerun they take is
printed per page: where the app's time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import inspect
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import streamlit as st
from streamlit import logger
from streamlit.testing.v1 import AppTest

from bench.apps import APPS, App, Page, check_store, machine, post_count
from lib import queries, topics

CATEGORIES = (
    ("NLP",),
    ("Python",),
    ("Large Model",),
    ("Generative Model",),
    ("杂七杂八",),
    ("Uncategorized",),
    ("NLP", "Python"),
    ("Large Model", "Generative Model"),
    ("NLP", "杂七杂八"),
)
WORDS = ("FlashAttention", "显存", "训练", "LoRA", "量化", "注意力", "MoE", "分布式训练")
TOPICS = ("量化", "fsdp", "注意力", "微调", "向量", "lora", "rlhf")


@dataclass(frozen=True)
class Combo:
    """One state of the filter panel."""

    categories: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    q: str = ""
    topics: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = []
        if self.categories:
            parts.append("category=" + "+".join(self.categories))
        if self.start or self.end:
            parts.append(f"{self.start or '…'}..{self.end or '…'}")
        if self.q:
            parts.append(f"q={self.q}")
        if self.topics:
            parts.append("topic=" + "+".join(self.topics))
        return " ".join(parts)


def _dates(rng: random.Random) -> tuple[date | None, date | None]:
    year = rng.randrange(2016, 2026)
    kind = rng.randrange(4)
    if kind == 0:  # one year
        return date(year, 1, 1), date(year, 12, 31)
    if kind == 1:  # half a year
        month = rng.choice((1, 7))
        return date(year, month, 1), date(year, month + 5, 30)
    if kind == 2:  # since
        return date(year, rng.randrange(1, 13), 1), None
    return None, date(year, rng.randrange(1, 13), 28)  # until


def combos(count: int, seed: int = 6) -> list[Combo]:
    """``count`` distinct filter states, each setting one to three of the filters.

    Never the empty state, which is what each page's first run shows.
    """
    rng = random.Random(seed)
    seen: set[Combo] = {Combo()}
    result: list[Combo] = []
    while len(result) < count:
        kinds = rng.sample(("category", "dates", "q", "topic"), k=rng.choice((1, 1, 2, 2, 3)))
        start, end = _dates(rng) if "dates" in kinds else (None, None)
        combo = Combo(
            categories=rng.choice(CATEGORIES) if "category" in kinds else (),
            start=start,
            end=end,
            q=rng.choice(WORDS) if "q" in kinds else "",
            topics=(rng.choice(TOPICS),) if "topic" in kinds else (),
        )
        if combo not in seen:
            seen.add(combo)
            result.append(combo)
    return result


def apply(at: AppTest, combo: Combo) -> None:
    """Set the sidebar's filter widgets, which both apps key by their URL parameter."""
    at.multiselect(key="category").set_value(list(combo.categories))
    at.date_input(key="from").set_value(combo.start)
    at.date_input(key="to").set_value(combo.end)
    at.text_input(key="q").set_value(combo.q)
    at.multiselect(key="topic").set_value(list(combo.topics))


def timed_run(at: AppTest, page: Page, timeout: float) -> float:
    """One script run in ms; fails loudly on an exception or on the wrong page."""
    started = time.perf_counter()
    at.run(timeout=timeout)
    elapsed = (time.perf_counter() - started) * 1000
    if at.exception:
        messages = "\n---\n".join(f"{e.message}\n{''.join(e.stack_trace)}" for e in at.exception)
        raise SystemExit(f"{page.name} raised an exception:\n{messages}")
    titles = [t.value for t in at.title]
    if page.title not in titles:
        raise SystemExit(f"expected the {page.name} page ({page.title!r}), got titles {titles}")
    return elapsed


def shown(at: AppTest) -> str:
    """What the run says about the matches (post count), to see both apps filter alike."""
    for metric in at.metric:
        if metric.label == "Posts":
            return f"{metric.value} posts"
    for block in at.markdown:
        if "match" in block.value:
            return block.value.replace("*", "")
    if any("No posts match" in info.value for info in at.info):
        return "0 posts"
    return ""


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()
    gc.collect()


@dataclass
class Result:
    first: float
    reruns: list[float]
    shown: list[str]
    calls: list[list[tuple[str, float]]] = field(default_factory=list)  # per rerun, ms


class CallTimer:
    """Times the public functions of ``lib.queries`` and ``lib.topics`` while active.

    The pages look them up on the module at each call (``run(queries.count, …)``), so
    replacing the module attributes is enough; only cache misses
    arrive here. (A public function calling another would be counted twice; none of
    those the three pages use does.)
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def _timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)  # ui.store_access.run caches by the function's name
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.calls.append((name, (time.perf_counter() - started) * 1000))

        return timed

    @contextlib.contextmanager
    def active(self, modules: tuple[ModuleType, ...] = (queries, topics)) -> Iterator[None]:
        saved: list[tuple[ModuleType, str, Any]] = []
        for module in modules:
            short = module.__name__.rpartition(".")[2]
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if function.__module__ == module.__name__ and not name.startswith("_"):
                    saved.append((module, name, function))
                    setattr(module, name, self._timed(f"{short}.{name}", function))
        try:
            yield
        finally:
            for module, name, function in saved:
                setattr(module, name, function)

    def take(self) -> list[tuple[str, float]]:
        taken, self.calls = self.calls, []
        return taken


def measure(
    app: App, page: Page, changes: list[Combo], timeout: float, timer: CallTimer | None = None
) -> Result:
    clear_caches()
    at = AppTest.from_file(str(app.entry), default_timeout=timeout)
    at.switch_page(page.script)
    result = Result(timed_run(at, page, timeout), [], [])
    if timer:
        timer.take()
    for combo in changes:
        apply(at, combo)
        result.reruns.append(timed_run(at, page, timeout))
        result.shown.append(shown(at))
        if timer:
            result.calls.append(timer.take())
    clear_caches()
    return result


def print_profile(page: str, result: Result) -> None:
    """Per function: calls over all reruns, median and max ms per call, share of rerun time."""
    total = sum(result.reruns)
    by_name: dict[str, list[float]] = {}
    for calls in result.calls:
        for name, ms in calls:
            by_name.setdefault(name, []).append(ms)
    in_calls = [sum(ms for _, ms in calls) for calls in result.calls]
    outside = [r - c for r, c in zip(result.reruns, in_calls, strict=True)]
    print(
        f"\n{page}: {len(result.reruns)} reruns, median {statistics.median(result.reruns):,.0f} ms;"
        f" in queries {statistics.median(in_calls):,.0f} ms,"
        f" outside (Streamlit, charts, cards) {statistics.median(outside):,.0f} ms (medians)"
    )
    print(f"  {'function':26}{'calls':>6}{'median':>9}{'max':>9}{'share':>8}")
    for name, times in sorted(by_name.items(), key=lambda item: -sum(item[1])):
        print(
            f"  {name:26}{len(times):6}{statistics.median(times):9,.0f}{max(times):9,.0f}"
            f"{sum(times) / total:8.0%}"
        )


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="the store (a copy: see above)")
    parser.add_argument("--runs", type=int, default=15, help="reruns per page and app")
    parser.add_argument("--apps", default="app,pandas", help="which apps, comma-separated")
    parser.add_argument("--pages", default="Overview,Browse,Topics")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per run")
    parser.add_argument("--seed", type=int, default=6, help="of the filter combinations")
    parser.add_argument("--verbose", action="store_true", help="print every rerun")
    parser.add_argument(
        "--profile", action="store_true", help="time the app's lib.queries/lib.topics calls"
    )
    args = parser.parse_args()
    logger.set_log_level("error")  # not the warnings of running scripts outside a server
    db = str(args.db.resolve())
    check_store(db)
    os.environ["POSTS_DB"] = db  # both apps read it at run time
    apps = [APPS[name] for name in args.apps.split(",")]
    wanted = args.pages.split(",")
    changes = combos(args.runs, args.seed)
    print(f"store: {db}, {post_count(db):,} posts")
    print(f"machine: {machine()}")
    print(
        f"AppTest, one session per page and app: a first run on cleared caches, then"
        f" {args.runs} reruns, each after a new filter change. Times in ms."
    )
    if args.verbose:
        for i, combo in enumerate(changes, 1):
            print(f"  change {i:2}: {combo}")

    results: dict[tuple[str, str], Result] = {}
    for app in apps:
        for page in app.pages:
            if page.name in wanted:
                timer = CallTimer() if args.profile and app.name == "app" else None
                with timer.active() if timer else contextlib.nullcontext():
                    result = measure(app, page, changes, args.timeout, timer)
                results[app.name, page.name] = result
                print(
                    f"  done: {app.name:6} {page.name:8} first {result.first:9,.0f}"
                    f"  median {statistics.median(result.reruns):9,.0f}",
                    flush=True,
                )
                if args.verbose:
                    for combo, ms, said in zip(changes, result.reruns, result.shown, strict=True):
                        print(f"      {ms:9,.0f}  {combo}  -> {said}")

    print(f"\n{'page':9}{'app':11}{'first run':>11}{'rerun median':>14}{'rerun p95':>11}")
    for page_name in wanted:
        rows = {a.name: results[a.name, page_name] for a in apps}
        for name, r in rows.items():
            print(
                f"{page_name:9}{name:11}{r.first:11,.0f}"
                f"{statistics.median(r.reruns):14,.0f}{p95(r.reruns):11,.0f}"
            )
        if {"app", "pandas"} <= rows.keys():
            ours, theirs = rows["app"], rows["pandas"]
            ratios = (
                theirs.first / ours.first,
                statistics.median(theirs.reruns) / statistics.median(ours.reruns),
                p95(theirs.reruns) / p95(ours.reruns),
            )
            print(f"{'':9}{'pandas/app':11}{ratios[0]:10.1f}x{ratios[1]:13.1f}x{ratios[2]:10.1f}x")
    if args.profile:
        print("\nWhere the app's reruns spend their time (lib calls that missed the cache):")
        for page_name in wanted:
            if ("app", page_name) in results:
                print_profile(page_name, results["app", page_name])


if __name__ == "__main__":
    main()
