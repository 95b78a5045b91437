"""Plotly figures for the fitted topics: their posts over time and the map of posts."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from lib.charts import LEGEND_BELOW, plain
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
    return go.Figure({"data": traces, "layout": layout}, _validate=False)


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
    return go.Figure({"data": traces, "layout": layout}, _validate=False)
