"""``lib.charts`` as the Overview draws it: one colour per category, honest partial periods,
readable ticks and bar counts, and the category filter shown on "Posts by category".

Figures are read the way the browser gets them (``json.loads(el.proto.spec)``) from the
app run by ``AppTest`` over a decade of weekly posts, or built from frames directly (by hand,
or from ``lib.queries`` over a store), with expected values from plain DuckDB.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib import queries
from lib.charts import (
    MUTED_OPACITY,
    PARTIAL_KEY,
    UNCATEGORIZED_COLOUR,
    category_chart,
    category_colours,
    label,
    volume_chart,
)
from lib.filters import NO_CATEGORY, Filters
from lib.periods import INTERVALS, MAX_PERIODS
from tests.helpers import (
    DECADE_CATEGORIES,
    build_store,
    charts,
    decade_posts,
    open_app,
    plotly_values,
    query,
    store_category_counts,
    time_chart,
)


@pytest.fixture(scope="module")
def decade_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(tmp_path_factory.mktemp("decade") / "posts.duckdb", decade_posts())


def figure_json(fig: Any) -> dict[str, Any]:
    """A figure as the browser gets it."""
    return json.loads(fig.to_json())


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
    (trace,) = charts(at)["Posts by category"]["data"]
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
    assert expected[NO_CATEGORY] == UNCATEGORIZED_COLOUR
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
    assert set(stacked_colours(time_chart(at))) == {"Large Model", NO_CATEGORY}


def test_the_colour_rule_depends_on_the_store_not_the_order_given() -> None:
    shuffled = category_colours(["Python", None, "NLP", "Large Model", "", "Generative Model"])
    assert shuffled == category_colours(DECADE_CATEGORIES)
    assert shuffled[NO_CATEGORY] == UNCATEGORIZED_COLOUR


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


# --- Figures from frames and from lib.queries ----------------------------------------------


def test_label_names_missing_categories() -> None:
    assert label(None) == label("") == NO_CATEGORY == "Uncategorized"
    assert label("NLP") == "NLP"


def test_volume_chart_stacks_one_trace_per_category_and_hatches_partial_periods(
    multi_con: duckdb.DuckDBPyConnection,
) -> None:
    frame, interval = queries.volume(
        multi_con, Filters(start=date(2024, 2, 10), end=date(2025, 5, 20)), "month"
    )
    fig = figure_json(volume_chart(frame, interval))
    assert fig["layout"]["title"]["text"] == "Posts per month"
    assert fig["layout"]["barmode"] == "stack"
    bars = [t for t in fig["data"] if t["name"] != "partial period"]
    for trace in bars:
        hatched = "pattern" in trace["marker"]
        assert hatched is (trace.get("showlegend") is False), trace["name"]
        for period in plotly_values(trace["x"]):
            assert hatched is (period in ("2024-02-01", "2025-05-01")), (trace["name"], period)
    legend = [t for t in fig["data"] if t["name"] == "partial period"]
    assert len(legend) == 1 and legend[0]["marker"]["pattern"]["shape"] == "/"


def test_a_category_with_only_partial_periods_keeps_its_legend_swatch() -> None:
    # The bundled snapshots date all their posts in one week: every bar is partial, and
    # the legend must still name each category, in its full colour.
    frame = pd.DataFrame(
        {
            "period": [date(2026, 1, 5), date(2026, 1, 5), date(2026, 11, 16)],
            "category": ["Large Model", "Python", "NLP"],
            "posts": [14, 3, 1],
            "partial": [True, True, False],
        }
    )
    fig = figure_json(volume_chart(frame, "week"))
    in_legend = [t for t in fig["data"] if t.get("showlegend", True)]
    assert [t["name"] for t in in_legend] == ["Large Model", "NLP", "Python", PARTIAL_KEY]
    assert all("pattern" not in t["marker"] for t in in_legend[:-1])


def test_volume_chart_has_no_partial_legend_when_nothing_is_partial() -> None:
    frame = pd.DataFrame(
        {
            "period": [date(2024, 3, 1), date(2024, 4, 1), date(2024, 4, 1)],
            "category": ["NLP", "NLP", "Python"],
            "posts": [2, 1, 5],
            "partial": [False, False, False],
        }
    )
    fig = figure_json(volume_chart(frame, "month"))
    assert [t["name"] for t in fig["data"]] == ["NLP", "Python"]
    for trace in fig["data"]:
        assert "pattern" not in trace["marker"]
    assert sum(sum(plotly_values(t["y"])) for t in fig["data"]) == 8


def test_volume_chart_draws_posts_without_category_as_uncategorized(
    multi_con: duckdb.DuckDBPyConnection, multi_db: str
) -> None:
    frame, interval = queries.volume(multi_con, Filters())
    fig = figure_json(volume_chart(frame, interval))
    totals: dict[str, int] = {}
    for t in fig["data"]:
        if t["name"] != "partial period":
            totals[t["name"]] = totals.get(t["name"], 0) + sum(plotly_values(t["y"]))
    expected = {
        label(c): n
        for c, n in query(
            multi_db,
            "SELECT category, count(*) FROM posts WHERE published IS NOT NULL GROUP BY 1",
        )
    }
    assert totals == expected


def test_charts_draw_categories_as_written_not_as_markup() -> None:
    link = '<a href="https://example.invalid">NLP</a>'
    drawn = '&lt;a href="https://example.invalid"&gt;NLP&lt;/a&gt;'
    frame = pd.DataFrame(
        [(date(2025, 1, 1), link, 2, False), (date(2025, 2, 1), link, 3, False)],
        columns=["period", "category", "posts", "partial"],
    )
    assert [t["name"] for t in figure_json(volume_chart(frame, "month"))["data"]] == [drawn]
    bars = figure_json(category_chart(frame[["category", "posts"]]))["data"][0]
    assert plotly_values(bars["y"]) == [drawn, drawn]


def test_category_chart_is_a_sorted_horizontal_bar_chart() -> None:
    frame = pd.DataFrame(
        [("NLP", 4), ("Large Model", 13), ("Python", 3)], columns=["category", "posts"]
    )
    fig = figure_json(category_chart(frame))
    assert fig["layout"]["title"]["text"] == "Posts by category"
    (trace,) = fig["data"]
    assert trace["orientation"] == "h"
    assert plotly_values(trace["y"]) == ["Python", "NLP", "Large Model"]
    assert plotly_values(trace["x"]) == [3, 4, 13]
    assert fig["layout"]["height"] == max(220, 48 * 3 + 80)


def test_category_chart_labels_posts_without_category(
    seeded_con: duckdb.DuckDBPyConnection, seeded_db: str
) -> None:
    # Built the way pages/overview.py builds it.
    counts = queries.category_counts(seeded_con, Filters())
    frame = pd.DataFrame([(c, n) for c, n in counts if n > 0], columns=["category", "posts"])
    (trace,) = figure_json(category_chart(frame))["data"]
    bars = dict(zip(plotly_values(trace["y"]), plotly_values(trace["x"]), strict=True))
    assert bars == {label(c): n for c, n in store_category_counts(seeded_db).items()}


def test_category_bars_label_large_counts_with_thousands_separators() -> None:
    figure = category_chart(pd.DataFrame({"category": ["NLP", None], "posts": [200_000, 1_234]}))
    assert list(figure.data[0].text) == ["1,234", "200,000"]
    assert list(figure.data[0].y) == ["Uncategorized", "NLP"]


# --- The filter on "Posts by category" -----------------------------------------------------------


def test_posts_by_category_shows_which_categories_the_filter_selects(
    monkeypatch: pytest.MonkeyPatch, decade_db: str
) -> None:
    at = open_app(monkeypatch, decade_db, params={"category": ["NLP", "Uncategorized"]})
    bars = category_bars(at)
    assert set(bars) == {label for label in category_colours(DECADE_CATEGORIES)}
    full = {n for n, b in bars.items() if b["opacity"] == 1.0}
    muted = {n for n, b in bars.items() if b["opacity"] == MUTED_OPACITY}
    assert full == {"NLP", NO_CATEGORY}
    assert muted == set(bars) - full
    assert any("categories the filter selects" in c.value for c in at.caption)
    unfiltered = category_bars(open_app(monkeypatch, decade_db))
    assert {b["opacity"] for b in unfiltered.values()} == {1.0}
