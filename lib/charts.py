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


def category_chart(frame: pd.DataFrame) -> go.Figure:
    """Posts by category, for when time says nothing (all posts share one date)."""
    data = frame.assign(category=_labels(frame["category"])).sort_values("posts")
    fig = go.Figure(
        go.Bar(
            x=data["posts"],
            y=data["category"],
            orientation="h",
            text=[f"{n:,}" for n in data["posts"]],
            textposition="auto",
            hovertemplate="%{y}: %{x} posts<extra></extra>",
        )
    )
    fig.update_layout(
        title="Posts by category",
        xaxis_title="posts",
        yaxis_title=None,
        margin={"t": 40, "b": 10},
        height=max(220, 48 * len(data) + 80),
    )
    return fig
