"""Plotly figures for the Topics page.

The fitted topics: their posts over time and the map of posts. Topics a reader types
(words a post mentions): compared over time, and rising or falling between two periods.
The look they share with the Overview's charts (``figure``, ``count_bars``) is ``lib.charts``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from lib.charts import LEGEND_BELOW, count_bars, figure, plain, title_spec
from lib.topic_names import OUTLIER_LABEL

PALETTE = tuple(qualitative.Dark24)
OUTLIER_COLOUR = "#b8bcc6"  # outliers and "other": grey, behind the topics


def topic_colours(topics: list[str]) -> dict[str, str]:
    """One colour per topic, in the order given; outliers and the rest grey."""
    named = [t for t in topics if t not in (OUTLIER_LABEL, "other")]
    colours = {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(named)}
    return {**colours, OUTLIER_LABEL: OUTLIER_COLOUR, "other": OUTLIER_COLOUR}


def topics_over_time(frame: pd.DataFrame, interval: str, measure: str = "count") -> go.Figure:
    """Each topic's posts per period, stacked (as counts or as shares of the period)."""
    share = measure == "share"
    totals = frame.groupby("period")["posts"].transform("sum")
    values = frame.assign(value=frame["posts"] / totals if share else frame["posts"])
    order = list(dict.fromkeys(values["topic"]))
    colours = topic_colours(order)
    traces = [
        {
            "type": "bar",
            "x": [str(p) for p in rows["period"]],
            "y": rows["value"].tolist(),
            "name": plain(topic),
            "marker": {"color": colours[topic]},
            "customdata": rows["posts"].tolist(),
            "hovertemplate": "%{x}: %{customdata} posts<extra>%{fullData.name}</extra>",
        }
        for topic, rows in values.groupby("topic", sort=False)
    ]
    layout = {
        "title": {"text": f"Posts per {interval}, by topic"},
        "barmode": "stack",
        "yaxis": {"title": {"text": "share of posts" if share else "posts"},
                  "tickformat": ".0%" if share else ","},
        "legend": LEGEND_BELOW,
        "margin": {"t": 40, "b": 10},
    }  # fmt: skip
    return figure(traces, layout)


def topic_map(points: pd.DataFrame, order: list[str]) -> go.Figure:
    """Posts on the 2-D layout fixed at the fit, coloured by topic (``order`` first)."""
    colours = topic_colours([*order, *points["topic"]])
    traces = []
    for topic, rows in points.groupby("topic", sort=False):
        traces.append(
            {
                "type": "scattergl",
                "mode": "markers",
                "x": rows["x"].round(4).tolist(),
                "y": rows["y"].round(4).tolist(),
                "name": plain(topic),
                "text": [plain(t) for t in rows["title"]],
                "marker": {"color": colours.get(topic, OUTLIER_COLOUR), "size": 5,
                           "opacity": 0.35 if topic == OUTLIER_LABEL else 0.75},
                "hovertemplate": "%{text}<extra>%{fullData.name}</extra>",
            }
        )  # fmt: skip
    traces.sort(key=lambda t: t["name"] != plain(OUTLIER_LABEL))  # outliers drawn first
    layout = {
        "title": {"text": "Map of posts (nearby posts share words)"},
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "legend": LEGEND_BELOW,
        "height": 560,
        "margin": {"t": 40, "b": 10, "l": 10, "r": 10},
    }
    return figure(traces, layout)


# --- Topics a reader types ---------------------------------------------------------------


def compare_chart(frame: pd.DataFrame, measure: str, interval: str) -> go.Figure:
    """Topics over time on one chart, as post counts or as a share of each period's posts."""
    share = measure == "share"
    traces = [
        {
            "type": "scatter",
            "x": rows["period"].tolist(),
            "y": (rows["share"] if share else rows["posts"]).tolist(),
            "name": plain(topic),
            "mode": "lines+markers",
            "customdata": rows[["posts", "total"]].values.tolist(),
            "hovertemplate": "%{x}: %{customdata[0]} of %{customdata[1]} posts"
            "<extra>%{fullData.name}</extra>",
        }
        for topic, rows in frame.groupby("topic", sort=False)
    ]
    return figure(
        traces,
        {
            **title_spec(f"Posts mentioning each topic, per {interval}"),
            "yaxis": {
                **title_spec("share of posts" if share else "posts"),
                "tickformat": ".0%" if share else ",",
            },
            "legend": title_spec("topic"),
            "margin": {"t": 40, "b": 10},
        },
    )


def topic_totals_chart(frame: pd.DataFrame) -> go.Figure:
    """Compared topics as bars, for when every post shares one date and a line says nothing."""
    totals = frame.groupby("topic", sort=False)["posts"].sum()
    return count_bars(
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
        "x": data["change"].tolist(),
        "y": [plain(t) for t in data["topic"]],
        "orientation": "h",
        "marker": {"color": ["#2e9e6a" if c > 0 else "#d0543c" for c in data["change"]]},
        "customdata": data[["share_before", "share_after"]].values.tolist(),
        "hovertemplate": "%{y}: %{customdata[0]:.1%} → %{customdata[1]:.1%}<extra></extra>",
    }
    return figure(
        [trace],
        {
            **title_spec("Rising and falling topics (change in share of posts)"),
            "xaxis": {**title_spec("change in share of posts"), **percent_ticks(data["change"])},
            "margin": {"t": 40, "b": 10},
            "height": max(260, 26 * len(data) + 90),
        },
    )


def percent_ticks(values: Iterable[float], ticks: int = 5) -> dict[str, Any]:
    """A step of 1, 2 or 5 × 10ⁿ for about ``ticks`` ticks, and as many decimals as it needs.

    With a fixed ``+.0%`` a range of 2 % put ticks every 0.5 % and printed −1 %, −1 %, +0 %.
    """
    numbers = [float(v) for v in values] or [0.0]
    span = max(max(numbers), 0.0) - min(min(numbers), 0.0) or 0.01
    rough = span / ticks
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    decimals = max(0, -math.floor(math.log10(step * 100) + 1e-9))
    return {"tickformat": f"+.{decimals}%", "dtick": step, "tick0": 0, "tickmode": "linear"}
