"""``lib.charts`` as the Overview draws it: one colour per category, honest partial periods,
readable ticks and bar counts, and the category filter shown on "Posts by category".

Figures are read the way the browser gets them (``json.loads(el.proto.spec)``) from the
app run by ``AppTest`` over a decade of weekly posts.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib.charts import (
    MUTED_OPACITY,
    PARTIAL_KEY,
    UNCATEGORIZED,
    UNCATEGORIZED_COLOUR,
    category_colours,
    movers_chart,
    percent_ticks,
    result_chart,
)
from lib.periods import INTERVALS, MAX_PERIODS
from tests.helpers import DECADE_CATEGORIES, build_store, decade_posts, open_app, plotly_values


@pytest.fixture(scope="module")
def decade_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(tmp_path_factory.mktemp("decade") / "posts.duckdb", decade_posts())


def figures(at: AppTest) -> dict[str, dict[str, Any]]:
    specs = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    return {f["layout"]["title"]["text"]: f for f in specs}


def time_chart(at: AppTest) -> dict[str, Any]:
    (figure,) = [f for t, f in figures(at).items() if t.startswith("Posts per")]
    return figure


def bar_traces(figure: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in figure["data"] if t["name"] != PARTIAL_KEY]


def stacked_colours(figure: dict[str, Any]) -> dict[str, str]:
    colours: dict[str, str] = {}
    for trace in bar_traces(figure):
        assert (
            colours.setdefault(trace["name"], trace["marker"]["color"])
            == (trace["marker"]["color"])
        ), f"{trace['name']} has two colours in one chart"
    return colours


def category_bars(at: AppTest) -> dict[str, dict[str, Any]]:
    (trace,) = figures(at)["Posts by category"]["data"]
    names = plotly_values(trace["y"])
    colours = trace["marker"]["color"]
    opacity = trace["marker"].get("opacity", [1.0] * len(names))
    return {n: {"colour": c, "opacity": o} for n, c, o in zip(names, colours, opacity, strict=True)}


def hatched(figure: dict[str, Any]) -> dict[str, list[str]]:
    """Each hatched period with the reasons its hover gives."""
    found: dict[str, list[str]] = {}
    for trace in bar_traces(figure):
        if "pattern" in trace["marker"]:
            for x, why in zip(plotly_values(trace["x"]), trace["customdata"], strict=True):
                found.setdefault(x, []).append(why)
    return found


# --- One colour per category ---------------------------------------------------------------


def test_a_category_keeps_its_colour_at_every_interval_under_a_search_and_a_filter(
    monkeypatch: pytest.MonkeyPatch, decade_db: str
) -> None:
    expected = category_colours(DECADE_CATEGORIES)
    assert expected[UNCATEGORIZED] == UNCATEGORIZED_COLOUR
    assert len(set(expected.values())) == len(expected), "two categories share a colour"
    views: list[dict[str, str | list[str]]] = [{"interval": i} for i in INTERVALS]
    views += [{"q": "FlashAttention"}, {"category": ["NLP", "Python"], "interval": "year"}]
    for params in views:
        at = open_app(monkeypatch, decade_db, params=params)
        drawn = stacked_colours(time_chart(at))
        assert drawn == {n: expected[n] for n in drawn}, params
        bars = category_bars(at)
        assert {n: b["colour"] for n, b in bars.items()} == {n: expected[n] for n in bars}, params
    # The search leaves two categories, one of them Uncategorized: still grey, not red.
    at = open_app(monkeypatch, decade_db, params={"q": "FlashAttention"})
    assert set(stacked_colours(time_chart(at))) == {"Large Model", UNCATEGORIZED}


def test_the_colour_rule_depends_on_the_store_not_the_order_given() -> None:
    shuffled = category_colours(["Python", None, "NLP", "Large Model", "", "Generative Model"])
    assert shuffled == category_colours(DECADE_CATEGORIES)
    assert shuffled[UNCATEGORIZED] == UNCATEGORIZED_COLOUR


# --- Partial periods ---------------------------------------------------------------------------


def test_the_last_year_is_whole_when_the_data_end_on_28_december(
    monkeypatch: pytest.MonkeyPatch, decade_db: str
) -> None:
    at = open_app(monkeypatch, decade_db, params={"interval": "year"})
    figure = time_chart(at)
    assert hatched(figure) == {}
    assert figure["layout"]["xaxis"]["hoverformat"] == "%Y"  # a year reads "2025", not "Jan 2025"
    assert PARTIAL_KEY not in [t["name"] for t in figure["data"]]
    assert not any(c.value.startswith("Hatched bars") for c in at.caption)


def test_periods_cut_by_the_filter_or_the_data_say_why(
    monkeypatch: pytest.MonkeyPatch, decade_db: str
) -> None:
    params = {"from": "2016-03-03", "to": "2025-12-31", "interval": "year"}
    figure = time_chart(open_app(monkeypatch, decade_db, params=params))
    cut = hatched(figure)
    assert set(cut) == {"2016-01-01"}
    assert set(cut["2016-01-01"]) == {"partial period: filter starts 3 Mar 2016"}
    # Months: both ends of the filter fall inside one.
    params = {"from": "2025-10-15", "to": "2025-12-24", "interval": "month"}
    cut = hatched(time_chart(open_app(monkeypatch, decade_db, params=params)))
    assert cut == {
        "2025-10-01": ["partial period: filter starts 15 Oct 2025"] * len(cut["2025-10-01"]),
        "2025-12-01": ["partial period: filter ends 24 Dec 2025"] * len(cut["2025-12-01"]),
    }


def test_legend_swatches_of_categories_are_never_hatched(
    monkeypatch: pytest.MonkeyPatch, decade_db: str
) -> None:
    params = {"from": "2016-03-03", "interval": "year"}
    figure = time_chart(open_app(monkeypatch, decade_db, params=params))
    in_legend = [t for t in figure["data"] if t.get("showlegend", True)]
    assert [t["name"] for t in in_legend if "pattern" in t["marker"]] == [PARTIAL_KEY]
    assert len(in_legend) == len(DECADE_CATEGORIES) + 1


# --- Bars and ticks ------------------------------------------------------------------------------


def test_a_decade_by_day_is_drawn_by_month_and_says_so(
    monkeypatch: pytest.MonkeyPatch, decade_db: str
) -> None:
    at = open_app(monkeypatch, decade_db, params={"interval": "day"})
    figure = time_chart(at)
    assert figure["layout"]["title"]["text"] == "Posts per month"
    periods = {x for t in figure["data"] for x in plotly_values(t["x"]) if x is not None}
    assert 100 < len(periods) <= MAX_PERIODS
    notices = [c.value for c in at.caption if "Shown by month" in c.value]
    assert len(notices) == 1 and "by day" in notices[0], [c.value for c in at.caption]
    # A year by day fits, and is drawn as asked with no notice.
    at = open_app(
        monkeypatch, decade_db, params={"interval": "day", "from": "2025-01-01", "to": "2025-12-31"}
    )
    assert time_chart(at)["layout"]["title"]["text"] == "Posts per day"
    assert not any("Shown by" in c.value for c in at.caption)


def drawn_ticks(axis: dict[str, Any], low: float, high: float) -> list[str]:
    """The tick labels Plotly draws for a linear axis spanning ``low`` to ``high``."""
    step, decimals = axis["dtick"], int(axis["tickformat"][2:-1])
    first = np.ceil((low - axis["tick0"]) / step)
    values = [axis["tick0"] + (first + k) * step for k in range(int((high - low) / step) + 1)]
    return [f"{v * 100:+.{decimals}f}%" for v in values if v <= high + 1e-12]


@pytest.mark.parametrize(
    "changes",
    [
        [-0.012, -0.004, 0.0, 0.003],  # a span of 1.5 %: the old "+.0%" printed −1 %, −1 %, +0 %
        [-0.0004, 0.0002],
        [0.05, 0.21, -0.08],
        [0.0],
    ],
)
def test_rising_and_falling_tick_labels_are_distinct(changes: list[float]) -> None:
    frame = pd.DataFrame(
        {
            "topic": [f"t{i}" for i in range(len(changes))],
            "change": changes,
            "share_before": [0.1] * len(changes),
            "share_after": [0.1] * len(changes),
        }
    )
    axis = movers_chart(frame).to_dict()["layout"]["xaxis"]
    assert axis == {**axis, **percent_ticks(changes)}
    labels = drawn_ticks(axis, min(*changes, 0.0), max(*changes, 0.0))
    assert len(labels) >= 2 or changes == [0.0]
    assert len(labels) == len(set(labels)), labels


def test_an_sql_month_column_gets_date_ticks_not_times_of_day() -> None:
    months = pd.DataFrame(
        {"month": pd.to_datetime([None, "2026-01-01"]), "posts": [11, 22]}
    )  # the bundled store: one month, and the undated posts
    axis = result_chart(months).to_dict()["layout"]["xaxis"]
    assert list(axis["ticktext"]) == ["2026-01-01"]
    assert len(axis["tickvals"]) == 1
    months = pd.DataFrame({"month": pd.date_range("2025-01-01", periods=5, freq="MS"), "n": 1})
    ticks = result_chart(months).to_dict()["layout"]["xaxis"]["ticktext"]
    assert list(ticks) == ["Jan 2025", "Feb 2025", "Mar 2025", "Apr 2025", "May 2025"]
    days = pd.DataFrame({"day": pd.date_range("2025-01-01", periods=40), "n": range(40)})
    assert result_chart(days).to_dict()["layout"]["xaxis"]["tickformat"] == "%Y-%m-%d"
    years = pd.DataFrame({"year": pd.to_datetime(["2024-01-01", "2025-01-01"]), "n": [1, 2]})
    assert list(result_chart(years).to_dict()["layout"]["xaxis"]["ticktext"]) == ["2024", "2025"]
    stamps = pd.DataFrame(
        {"at": pd.to_datetime(["2025-01-01 10:30", "2025-01-01 11:00"]), "n": [1, 2]}
    )
    assert "tickformat" not in result_chart(stamps).to_dict()["layout"]["xaxis"]


# --- The filter on "Posts by category" -----------------------------------------------------------


def test_posts_by_category_shows_which_categories_the_filter_selects(
    monkeypatch: pytest.MonkeyPatch, decade_db: str
) -> None:
    at = open_app(monkeypatch, decade_db, params={"category": ["NLP", "Uncategorized"]})
    bars = category_bars(at)
    assert set(bars) == {label for label in category_colours(DECADE_CATEGORIES)}
    full = {n for n, b in bars.items() if b["opacity"] == 1.0}
    muted = {n for n, b in bars.items() if b["opacity"] == MUTED_OPACITY}
    assert full == {"NLP", UNCATEGORIZED}
    assert muted == set(bars) - full
    assert any("categories the filter selects" in c.value for c in at.caption)
    unfiltered = category_bars(open_app(monkeypatch, decade_db))
    assert {b["opacity"] for b in unfiltered.values()} == {1.0}
