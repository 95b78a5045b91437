"""The topic-volume chart in a real browser: drawn over time, and selecting bars filters dates."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page

from lib.ingest import run_ingest
from lib.periods import MAX_PERIODS
from tests.e2e.helpers import (
    MAIN,
    App,
    assert_no_exception,
    expect_metric,
    main_text,
    open_page,
    url_params,
    wait_idle,
)
from tests.helpers import query

pytestmark = pytest.mark.e2e
CATEGORIES = ("Large Model", "NLP", "Python")


@pytest.fixture(scope="module")
def year_app(launch_app: Callable[[str], App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """120 posts spread over 2024, so the Overview draws volume over time."""
    folder: Path = tmp_path_factory.mktemp("year")
    source = folder / "posts.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for i in range(120):
            post = {
                "title": f"第{i}篇 LoRA 笔记",
                "excerpt": f"关于 LoRA 和显存的第 {i} 篇笔记,内容各不相同。",
                "category": CATEGORIES[i % 3],
                "date": f"2024-{1 + i % 12:02d}-{1 + i % 27:02d}",
                "url": f"https://blog.example.com/{i}",
            }
            out.write(json.dumps(post, ensure_ascii=False) + "\n")
    db = str(folder / "posts.duckdb")
    run_ingest(db, [str(source)])
    return launch_app(db)


def test_selecting_bars_on_the_time_chart_sets_the_date_filter(year_app: App, page: Page) -> None:
    open_page(page, year_app("/"))
    page.wait_for_selector(".js-plotly-plot .nsewdrag")
    bars = page.locator(".js-plotly-plot .point path")
    assert bars.count() > 3, "the time chart draws no bars"
    area = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first.bounding_box()
    assert area is not None
    x0, x1 = area["x"] + area["width"] * 0.30, area["x"] + area["width"] * 0.55
    y0, y1 = area["y"] + 5, area["y"] + area["height"] - 5
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    deadline = 15_000
    while "from" not in url_params(page) and deadline > 0:
        page.wait_for_timeout(100)
        deadline -= 100
    wait_idle(page)
    params = url_params(page)
    assert "from" in params and "to" in params, f"no date filter in the URL: {page.url}"
    start, end = date.fromisoformat(params["from"][0]), date.fromisoformat(params["to"][0])
    assert date(2024, 1, 1) < start < end < date(2024, 12, 31)
    expected = query(
        year_app.db, "SELECT count(*) FROM posts WHERE published BETWEEN ? AND ?", [start, end]
    )[0][0]
    expect_metric(page, "Posts", f"{expected:,}")
    assert 0 < expected < 120
    assert_no_exception(page)


# --- Colours, partial periods, bar counts and ticks as the browser draws them -------------------

VOLUME_CHART = "[data-testid='stPlotlyChart'] .js-plotly-plot"


def drawn_traces(page: Page) -> list[dict[str, Any]]:
    """The volume chart's traces as Plotly holds them in the page: name, colour, pattern."""
    page.wait_for_selector(f"{VOLUME_CHART} g.point path")
    return page.locator(VOLUME_CHART).first.evaluate(
        """gd => gd._fullData.map(t => ({
             name: t.name, colour: t.marker.color, legend: t.showlegend,
             hatched: !!(t.marker.pattern && t.marker.pattern.shape),
             x: Array.from(t.x || []), why: Array.from(t.customdata || [])}))"""
    )


def colour_of(page: Page) -> dict[str, str]:
    return {t["name"]: t["colour"] for t in drawn_traces(page) if t["name"] != "partial period"}


def test_a_category_keeps_its_colour_across_intervals_and_a_search(
    decade_app: App, page: Page
) -> None:
    open_page(page, decade_app("/"))
    first = colour_of(page)
    assert len(first) == 5 and len(set(first.values())) == 5
    for interval in ("day", "week", "year"):
        page.locator(f"{MAIN} [data-testid='stButtonGroup'] button", has_text=interval).click()
        wait_idle(page)
        assert colour_of(page) == first, interval
    open_page(page, decade_app("/?q=FlashAttention"))
    searched = colour_of(page)
    assert set(searched) == {"Large Model", "Uncategorized"}
    assert searched == {name: first[name] for name in searched}
    bars = page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").nth(1)
    by_category = bars.evaluate(
        "gd => [Array.from(gd._fullData[0].y), gd._fullData[0].marker.color]"
    )
    assert dict(zip(*by_category, strict=True)) == {name: first[name] for name in by_category[0]}


def test_only_periods_cut_by_the_filter_are_hatched_and_say_why(
    decade_app: App, page: Page
) -> None:
    open_page(page, decade_app("/?interval=year"))
    assert not any(t["hatched"] for t in drawn_traces(page)), "data ending 28 Dec hatch a year"
    open_page(page, decade_app("/?interval=year&from=2016-03-03"))
    traces = drawn_traces(page)
    in_legend = [t["name"] for t in traces if t["legend"] and t["hatched"]]
    assert in_legend == ["partial period"], "a category's legend swatch is hatched"
    hatched = [t for t in traces if t["hatched"] and t["name"] != "partial period"]
    assert {x[:10] for t in hatched for x in t["x"]} == {"2016-01-01"}
    assert {w for t in hatched for w in t["why"]} == {"partial period: filter starts 3 Mar 2016"}


def test_a_decade_by_day_draws_months_and_says_why(decade_app: App, page: Page) -> None:
    open_page(page, decade_app("/?interval=day"))
    bars = page.locator(f"{VOLUME_CHART} g.point path").count()
    assert 0 < bars <= 5 * MAX_PERIODS
    assert "Shown by month: by day this span needs more than 400 bars" in main_text(page)


def test_an_sql_month_column_has_date_ticks(decade_app: App, page: Page) -> None:
    sql = (
        "SELECT date_trunc('month', published) AS month, count(*) AS posts FROM posts"
        " WHERE published >= DATE '2025-12-01' GROUP BY 1"
    )
    open_page(page, decade_app("/sql?" + urlencode({"sql": sql})))
    page.locator(f"{MAIN} label", has_text="Chart").first.click()
    wait_idle(page)
    page.wait_for_selector(f"{MAIN} .js-plotly-plot .xtick text")
    ticks = page.locator(f"{MAIN} .js-plotly-plot .xtick text").all_text_contents()
    assert ticks and all(
        re.fullmatch(r"\d{4}-\d{2}-\d{2}|[A-Z][a-z]{2} \d{4}", t) for t in ticks
    ), ticks
