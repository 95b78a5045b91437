"""The topic-volume chart in a real browser: drawn over time, and selecting bars filters dates."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page

from lib.ingest import run_ingest
from tests.e2e.conftest import (
    App,
    assert_no_exception,
    expect_metric,
    open_page,
    store_rows,
    url_params,
    wait_idle,
)

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
    expected = store_rows(
        year_app.db, "SELECT count(*) FROM posts WHERE published BETWEEN ? AND ?", [start, end]
    )[0][0]
    expect_metric(page, "Posts", f"{expected:,}")
    assert 0 < expected < 120
    assert_no_exception(page)
