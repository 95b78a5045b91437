"""Plotly figures for topic volume; the app draws them with Streamlit's theme.

Figures are built from the small aggregated frames that ``lib.queries`` returns.
Partial periods are drawn hatched and faded, with a legend entry saying so,
because a half-covered month would otherwise read as a drop.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

UNCATEGORIZED = "Uncategorized"


def label(category: object) -> str:
    """How a category is shown; a missing one (None, or pandas' NA) reads "Uncategorized"."""
    if category is None or pd.isna(category) or not str(category).strip():
        return UNCATEGORIZED
    return str(category)


def _labels(column: pd.Series) -> list[str]:
    # Not ``Series.map``: with pandas' string dtype it skips missing values.
    return [label(c) for c in column]


def volume_chart(frame: pd.DataFrame, interval: str) -> go.Figure:
    """Stacked bars of posts per period and category."""
    fig = go.Figure()
    data = frame.assign(category=_labels(frame["category"]))
    for category, rows in data.groupby("category", sort=False):
        fig.add_bar(
            x=rows["period"],
            y=rows["posts"],
            name=str(category),
            legendgroup=str(category),
            marker_pattern_shape=["/" if p else "" for p in rows["partial"]],
            marker_opacity=[0.45 if p else 1.0 for p in rows["partial"]],
            customdata=rows["partial"].map({True: " (partial period)", False: ""}),
            hovertemplate="%{x}: %{y} posts%{customdata}<extra>%{fullData.name}</extra>",
        )
    if frame["partial"].any():
        fig.add_bar(
            x=[None],
            y=[None],
            name="partial period",
            marker_pattern_shape="/",
            marker_color="rgba(128,128,128,0.45)",
            hoverinfo="skip",
        )
    fig.update_layout(
        barmode="stack",
        title=f"Posts per {interval}",
        xaxis_title=None,
        yaxis_title="posts",
        legend_title_text="category",
        dragmode="select",
        margin={"t": 40, "b": 10},
        bargap=0.15,
    )
    return fig


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
    fig = go.Figure(
        go.Bar(
            **{axis: counts, other: labels},
            orientation="h" if horizontal else "v",
            text=[f"{n:,}" for n in counts],
            textposition="auto",
            customdata=customdata,
            hovertemplate=hover.replace("%{label}", f"%{{{other}}}").replace(
                "%{value}", f"%{{{axis}}}"
            )
            + "<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        **{f"{axis}axis_title": count_title, f"{other}axis_title": None},
        margin={"t": 40, "b": 10},
    )
    if horizontal:
        least, per_bar, margins = sizing
        fig.update_layout(height=max(least, per_bar * len(labels) + margins))
    return fig


def category_chart(frame: pd.DataFrame) -> go.Figure:
    """Posts by category, for when time says nothing (all posts share one date)."""
    data = frame.assign(category=_labels(frame["category"])).sort_values("posts")
    return _count_bars(
        list(data["category"]),
        list(data["posts"]),
        "Posts by category",
        "posts",
        sizing=(220, 48, 80),  # few categories: thick bars
    )


def topics_chart(frame: pd.DataFrame) -> go.Figure:
    """Leading topics as horizontal bars of posts, the most distinctive on top."""
    data = frame.iloc[::-1]
    return _count_bars(
        list(data["topic"]),
        list(data["posts"]),
        "Leading topics",
        "posts led by the topic",
        hover="%{label}: %{value} posts (%{customdata})",
        customdata=[f"{s:.1%}" for s in data["share"]],
    )


def compare_chart(frame: pd.DataFrame, measure: str, interval: str) -> go.Figure:
    """Topics over time on one chart, as post counts or as a share of each period's posts."""
    share = measure == "share"
    fig = go.Figure()
    for topic, rows in frame.groupby("topic", sort=False):
        fig.add_scatter(
            x=rows["period"],
            y=rows["share"] if share else rows["posts"],
            name=str(topic),
            mode="lines+markers",
            customdata=rows[["posts", "total"]],
            hovertemplate="%{x}: %{customdata[0]} of %{customdata[1]} posts"
            "<extra>%{fullData.name}</extra>",
        )
    fig.update_layout(
        title=f"Posts mentioning each topic, per {interval}",
        xaxis_title=None,
        yaxis_title="share of posts" if share else "posts",
        yaxis_tickformat=".0%" if share else ",",
        legend_title_text="topic",
        margin={"t": 40, "b": 10},
    )
    return fig


def topic_totals_chart(frame: pd.DataFrame) -> go.Figure:
    """Compared topics as bars, for when every post shares one date and a line says nothing."""
    totals = frame.groupby("topic", sort=False)["posts"].sum()
    return _count_bars(
        [str(t) for t in totals.index],
        [int(n) for n in totals.values],
        "Posts mentioning each topic",
        "posts",
        horizontal=False,
    )


def movers_chart(frame: pd.DataFrame) -> go.Figure:
    """Change in each topic's share of posts between two periods: rising right, falling left."""
    data = frame.sort_values("change")
    fig = go.Figure(
        go.Bar(
            x=data["change"],
            y=data["topic"],
            orientation="h",
            marker_color=["#2e9e6a" if c > 0 else "#d0543c" for c in data["change"]],
            customdata=data[["share_before", "share_after"]],
            hovertemplate="%{y}: %{customdata[0]:.1%} → %{customdata[1]:.1%}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Rising and falling topics (change in share of posts)",
        xaxis_title="change in share of posts",
        xaxis_tickformat="+.0%",
        yaxis_title=None,
        margin={"t": 40, "b": 10},
        height=max(260, 26 * len(data) + 90),
    )
    return fig
