"""``lib.charts.result_chart``: one obvious chart of a console result.

Queries run against a store built by the real ingest (the ``console_store`` fixture), and
expected values come from plain DuckDB over the same store.
"""

from __future__ import annotations

import pandas as pd

from lib.charts import result_chart
from lib.console import (
    EXAMPLES,
    run_console,
)


def test_chart_of_counts_per_category(console_store: str) -> None:
    frame = run_console(console_store, EXAMPLES["Posts per category"]).frame
    figure = result_chart(frame)
    assert figure is not None
    (trace,) = figure.data
    assert trace.type == "bar"
    assert list(trace.x) == list(frame["category"])
    assert list(trace.y) == list(frame["posts"])


def test_chart_over_time_is_a_line() -> None:
    frame = pd.DataFrame({"month": pd.to_datetime(["2025-01-01", "2025-02-01"]), "posts": [3, 4]})
    (trace,) = result_chart(frame).data
    assert trace.type == "scatter" and list(trace.y) == [3, 4]


def test_chart_without_numbers_counts_rows() -> None:
    frame = pd.DataFrame({"category": ["a", "b", "a"], "title": ["x", "y", "z"]})
    (trace,) = result_chart(frame).data
    assert dict(zip(trace.x, trace.y, strict=True)) == {"a": 2, "b": 1}


def test_no_chart_for_no_rows() -> None:
    assert result_chart(pd.DataFrame({"a": []})) is None


def test_chart_labels_from_results_are_drawn_as_written_not_as_markup() -> None:
    link = '<a href="https://example.invalid">x</a> & <b>y</b>'
    drawn = '&lt;a href="https://example.invalid"&gt;x&lt;/a&gt; &amp; &lt;b&gt;y&lt;/b&gt;'
    figure = result_chart(pd.DataFrame({link: [link, "plain"], "posts": [1, 2]}))
    (trace,) = figure.data
    assert list(trace.x) == [drawn, "plain"]
    assert figure.layout.xaxis.title.text == drawn
    (counted,) = result_chart(pd.DataFrame({"category": [link, link]})).data
    assert list(counted.x) == [drawn]


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
