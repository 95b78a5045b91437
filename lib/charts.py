"""Plotly figures for topic volume; the app draws them with Streamlit's theme.

Figures are built from the small aggregated frames that ``lib.queries`` returns.
Partial periods are drawn hatched and faded, with a legend entry saying so,
because a half-covered month would otherwise read as a drop.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

UNCATEGORIZED = "Uncategorized"


def label(category: object) -> str:
    """How a category is shown; a missing one (None, or pandas' NA) reads "Uncategorized"."""
    if category is None or pd.isna(category) or not str(category).strip():
        return UNCATEGORIZED
    return str(category)


def plain(text: object) -> str:
    """Text from posts as Plotly should draw it: as written, never as markup.

    Plotly reads a subset of HTML in every label (``<b>``, ``<br>``, ``<a href>``), so a
    category named ``<a href="https://…">`` would be a link on the chart; entities are
    drawn as the characters they stand for.
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _labels(column: pd.Series) -> list[str]:
    # Not ``Series.map``: with pandas' string dtype it skips missing values.
    return [plain(label(c)) for c in column]


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure from plain trace and layout dicts, not validated property by property.

    Plotly validates every property it is given, which took 60 to 80 ms for a ten-year
    volume chart, most of a page rerun; these specs are fixed by this module (and
    checked by its tests), and Streamlit serialises the figure without validating it.
    """
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _title(text: str | None) -> dict[str, Any]:
    return {"title": {"text": text}} if text else {}


def _values(column: pd.Series) -> list[Any]:
    return column.tolist()


def volume_chart(frame: pd.DataFrame, interval: str) -> go.Figure:
    """Stacked bars of posts per period and category."""
    data = frame.assign(category=_labels(frame["category"]))
    traces: list[dict[str, Any]] = []
    for category, rows in data.groupby("category", sort=False):
        partial = [bool(p) for p in rows["partial"]]
        traces.append(
            {
                "type": "bar",
                "x": _values(rows["period"]),
                "y": _values(rows["posts"]),
                "name": str(category),
                "legendgroup": str(category),
                "marker": {
                    "pattern": {"shape": ["/" if p else "" for p in partial]},
                    "opacity": [0.45 if p else 1.0 for p in partial],
                },
                "customdata": [" (partial period)" if p else "" for p in partial],
                "hovertemplate": "%{x}: %{y} posts%{customdata}<extra>%{fullData.name}</extra>",
            }
        )
    if frame["partial"].any():
        traces.append(
            {
                "type": "bar",
                "x": [None],
                "y": [None],
                "name": "partial period",
                "marker": {"pattern": {"shape": "/"}, "color": "rgba(128,128,128,0.45)"},
                "hoverinfo": "skip",
            }
        )
    return _figure(
        traces,
        {
            "barmode": "stack",
            **_title(f"Posts per {interval}"),
            "yaxis": _title("posts"),
            "legend": _title("category"),
            "dragmode": "select",
            "margin": {"t": 40, "b": 10},
            "bargap": 0.15,
        },
    )


def _count_bars(
    labels: list[str],
    counts: list[int],
    title: str,
    count_title: str,
    horizontal: bool = True,
    hover: str = "%{label}: %{value} posts",
    customdata: list[str] | None = None,
    sizing: tuple[int, int, int] = (240, 30, 90),
) -> go.Figure:
    """Bars of post counts with their numbers written on them; one look for every count chart.

    Horizontal charts grow with their bars: ``sizing`` is (least height, per bar, margins).
    """
    axis, other = ("x", "y") if horizontal else ("y", "x")
    trace: dict[str, Any] = {
        "type": "bar",
        axis: counts,
        other: labels,
        "orientation": "h" if horizontal else "v",
        "text": [f"{n:,}" for n in counts],
        "textposition": "auto",
        "hovertemplate": hover.replace("%{label}", f"%{{{other}}}").replace(
            "%{value}", f"%{{{axis}}}"
        )
        + "<extra></extra>",
    }
    if customdata is not None:
        trace["customdata"] = customdata
    layout: dict[str, Any] = {
        **_title(title),
        f"{axis}axis": _title(count_title),
        "margin": {"t": 40, "b": 10},
    }
    if horizontal:
        least, per_bar, margins = sizing
        layout["height"] = max(least, per_bar * len(labels) + margins)
    return _figure([trace], layout)


def category_chart(frame: pd.DataFrame) -> go.Figure:
    """Posts by category, for when time says nothing (all posts share one date)."""
    data = frame.assign(category=_labels(frame["category"])).sort_values("posts")
    return _count_bars(
        list(data["category"]),
        [int(n) for n in data["posts"]],
        "Posts by category",
        "posts",
        sizing=(220, 48, 80),  # few categories: thick bars
    )


def topics_chart(frame: pd.DataFrame) -> go.Figure:
    """Leading topics as horizontal bars of posts, the most distinctive on top."""
    data = frame.iloc[::-1]
    return _count_bars(
        [plain(t) for t in data["topic"]],
        [int(n) for n in data["posts"]],
        "Leading topics",
        "posts led by the topic",
        hover="%{label}: %{value} posts (%{customdata})",
        customdata=[f"{s:.1%}" for s in data["share"]],
    )


def compare_chart(frame: pd.DataFrame, measure: str, interval: str) -> go.Figure:
    """Topics over time on one chart, as post counts or as a share of each period's posts."""
    share = measure == "share"
    traces = [
        {
            "type": "scatter",
            "x": _values(rows["period"]),
            "y": _values(rows["share"] if share else rows["posts"]),
            "name": plain(topic),
            "mode": "lines+markers",
            "customdata": rows[["posts", "total"]].values.tolist(),
            "hovertemplate": "%{x}: %{customdata[0]} of %{customdata[1]} posts"
            "<extra>%{fullData.name}</extra>",
        }
        for topic, rows in frame.groupby("topic", sort=False)
    ]
    return _figure(
        traces,
        {
            **_title(f"Posts mentioning each topic, per {interval}"),
            "yaxis": {
                **_title("share of posts" if share else "posts"),
                "tickformat": ".0%" if share else ",",
            },
            "legend": _title("topic"),
            "margin": {"t": 40, "b": 10},
        },
    )


def topic_totals_chart(frame: pd.DataFrame) -> go.Figure:
    """Compared topics as bars, for when every post shares one date and a line says nothing."""
    totals = frame.groupby("topic", sort=False)["posts"].sum()
    return _count_bars(
        [plain(t) for t in totals.index],
        [int(n) for n in totals.values],
        "Posts mentioning each topic",
        "posts",
        horizontal=False,
    )


def movers_chart(frame: pd.DataFrame) -> go.Figure:
    """Change in each topic's share of posts between two periods: rising right, falling left."""
    data = frame.sort_values("change")
    trace = {
        "type": "bar",
        "x": _values(data["change"]),
        "y": [plain(t) for t in data["topic"]],
        "orientation": "h",
        "marker": {"color": ["#2e9e6a" if c > 0 else "#d0543c" for c in data["change"]]},
        "customdata": data[["share_before", "share_after"]].values.tolist(),
        "hovertemplate": "%{y}: %{customdata[0]:.1%} → %{customdata[1]:.1%}<extra></extra>",
    }
    return _figure(
        [trace],
        {
            **_title("Rising and falling topics (change in share of posts)"),
            "xaxis": {**_title("change in share of posts"), "tickformat": "+.0%"},
            "margin": {"t": 40, "b": 10},
            "height": max(260, 26 * len(data) + 90),
        },
    )


# --- A console result -------------------------------------------------------------------


def chart_columns(frame: pd.DataFrame) -> tuple[str, str | None] | None:
    """The column to chart along x (the first), and the first numeric column after it.

    ``None`` for y means "count the rows per x value". ``None`` overall: nothing to chart.
    """
    if frame.empty or len(frame.columns) == 0:
        return None
    x = frame.columns[0]
    for name in frame.columns[1:]:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            return x, name
    return x, None


def result_chart(frame: pd.DataFrame) -> go.Figure | None:
    """One obvious chart of a result: bars per x value, or a line when x is a date or number."""
    picked = chart_columns(frame)
    if picked is None:
        return None
    x_name, y_name = picked
    x = frame[x_name]
    # Values and names come from the store or from a shared URL: drawn as written, since
    # Plotly reads HTML in labels (an ``<a href>`` would be a link).
    if y_name is None:
        counts = x.astype(str).value_counts().head(50)
        xs, ys, y_title = [plain(v) for v in counts.index], list(counts.values), "rows"
        line = False
    else:
        xs = x if _plottable(x) else x.astype(str)
        if pd.api.types.is_string_dtype(xs):
            xs = [None if pd.isna(v) else plain(v) for v in xs]
        ys, y_title = frame[y_name], plain(y_name)
        line = pd.api.types.is_datetime64_any_dtype(x) or (
            pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x)
        )
    trace = go.Scatter(x=xs, y=ys, mode="lines+markers") if line else go.Bar(x=xs, y=ys)
    fig = go.Figure(trace)
    fig.update_layout(
        title=f"{y_title} by {plain(x_name)}",
        xaxis_title=plain(x_name),
        yaxis_title=y_title,
        margin={"t": 40, "b": 10},
    )
    return fig


def _plottable(column: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(column)
        or pd.api.types.is_datetime64_any_dtype(column)
        or pd.api.types.is_string_dtype(column)
    )
