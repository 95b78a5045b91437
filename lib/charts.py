"""Plotly figures for the Overview and the SQL page, in the look of ``lib.chart_look``.

Figures are built from the small aggregated frames that ``lib.queries`` returns, or from a
console result; the Topics page's figures are ``lib.topic_charts``.
Partial periods are drawn hatched and faded, with a legend entry saying so,
because a half-covered month would otherwise read as a drop. A category keeps one
colour in every chart (``category_colours``); legends sit below the plot, where a
phone's width does not squeeze the bars.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from lib.chart_look import CHART_TEMPLATE
from lib.filters import NO_CATEGORY  # the label is the URL's value
from lib.safe_text import clip

UNCATEGORIZED_COLOUR = "#a3a8b3"  # a neutral grey, kept out of the palette
# Okabe-Ito style colour-blind-safe colours; Safe's last colour is its grey.
CATEGORY_PALETTE = tuple(qualitative.Safe[:-1])
MUTED_OPACITY = 0.3  # bars of categories the filter leaves out
PARTIAL_KEY = "partial period"
# For st.plotly_chart: Plotly's toolbar covers a chart's title on a phone, and zooming
# and selecting need no toolbar (drag to select, double-click to reset).
CHART_CONFIG = {"displayModeBar": False}
# How a period reads in a hover: "Jan 2017" for a whole year would mislead.
PERIOD_FORMATS = {
    "day": "%Y-%m-%d",
    "week": "week of %Y-%m-%d",
    "month": "%b %Y",
    "quarter": "Q%q %Y",
    "year": "%Y",
}
CHART_LABEL_CHARS = 80  # a category, topic or value as a chart draws it
# Below the plot: on a phone a legend at the side takes 40 % of the width.
LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0, "title": {"text": ""}}


def label(category: object) -> str:
    """How a category is shown; a missing one (None, or pandas' NA) reads "Uncategorized"."""
    if category is None or pd.isna(category) or not str(category).strip():
        return NO_CATEGORY
    return str(category)


def plain(text: object) -> str:
    """Text from posts as Plotly should draw it: as written, never as markup.

    Plotly reads a subset of HTML in every label (``<b>``, ``<br>``, ``<a href>``), so a
    category named ``<a href="https://…">`` would be a link on the chart; entities are
    drawn as the characters they stand for. A label is cut at :data:`CHART_LABEL_CHARS`:
    a 1 MB category drew a legend and an axis no browser lays out.
    """
    return (
        clip(str(text), CHART_LABEL_CHARS)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure in the app's look, from plain trace and layout dicts, not validated property
    by property.

    Plotly's validation of every property was most of a page rerun; these specs are fixed by
    the chart modules (and checked by their tests), and Streamlit serialises without it.
    """
    return go.Figure(
        {"data": data, "layout": {"template": CHART_TEMPLATE, **layout}}, _validate=False
    )


def category_colours(categories: Iterable[object]) -> dict[str, str]:
    """Each category's colour (keyed by ``label``), from the store's whole category list.

    The names are sorted and coloured in turn, so a category's colour depends on the
    store, never on the filtered view; Uncategorized is always the neutral grey.
    """
    names = sorted({label(c) for c in categories} - {NO_CATEGORY})
    colours = {n: CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)] for i, n in enumerate(names)}
    colours[NO_CATEGORY] = UNCATEGORIZED_COLOUR
    return colours


def _colour(colours: dict[str, str] | None, category: str) -> dict[str, Any]:
    return {"color": colours[category]} if colours and category in colours else {}


def title_spec(text: str | None) -> dict[str, Any]:
    return {"title": {"text": text}} if text else {}


def volume_chart(
    frame: pd.DataFrame, interval: str, colours: dict[str, str] | None = None
) -> go.Figure:
    """Stacked bars of posts per period and category, partial periods as separate traces.

    A category's partial bars are a trace of their own, out of the legend: Plotly draws a
    legend swatch from a trace's first bar, so a hatched first period would make the
    category's swatch look like the partial-period key.
    """
    partial = [bool(p) for p in frame["partial"]]
    whys = list(frame["why"]) if "why" in frame else ["partial" if p else "" for p in partial]
    rows = zip(
        [label(c) for c in frame["category"]],
        frame["period"].tolist(),
        frame["posts"].tolist(),
        partial,
        whys,
        strict=True,
    )
    traces = _category_traces(list(rows), colours)
    if frame["partial"].any():
        key = {"pattern": {"shape": "/"}, "color": "rgba(128,128,128,0.45)"}
        traces.append(_legend_only(PARTIAL_KEY, key))
    return figure(
        traces,
        {
            "barmode": "stack",
            **title_spec(f"Posts per {interval}"),
            "yaxis": title_spec("posts"),
            "xaxis": {"type": "date", "hoverformat": PERIOD_FORMATS[interval]},
            "legend": LEGEND_BELOW,
            "dragmode": "select",
            "margin": {"t": 40, "b": 10, "l": 10, "r": 20},
            "bargap": 0.15,
        },
    )


# A volume row: (category label, period, posts, partial, why it is partial).
VolumeRow = tuple[str, object, int, bool, str]


def _category_traces(rows: list[VolumeRow], colours: dict[str, str] | None) -> list[dict[str, Any]]:
    """A category's whole periods as one trace, its partial periods hatched in another.

    Plain lists, not pandas: a groupby and masks per category were a tenth of a cached
    Overview rerun.
    """
    traces: list[dict[str, Any]] = []
    groups: dict[str, list[VolumeRow]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    # The legend in the colours' order, the same in every view: by name, Uncategorized last.
    for category in sorted(groups, key=lambda c: (c == NO_CATEGORY, c)):
        rows_of, name = groups[category], plain(category)
        if all(row[3] for row in rows_of):  # its swatch still belongs in the legend, in full colour
            traces.append(_legend_only(name, _colour(colours, category)))
        for partial in (False, True):
            part = [row for row in rows_of if row[3] is partial]
            if not part:
                continue
            trace: dict[str, Any] = {
                "type": "bar",
                "x": [row[1] for row in part],
                "y": [row[2] for row in part],
                "name": name,
                "legendgroup": name,
                "marker": _colour(colours, category),
                "hovertemplate": "%{x}: %{y} posts<extra>%{fullData.name}</extra>",
            }
            if partial:
                trace["showlegend"] = False
                trace["marker"] = {**trace["marker"], "pattern": {"shape": "/"}, "opacity": 0.5}
                trace["customdata"] = [f"partial period: {row[4]}" for row in part]
                trace["hovertemplate"] = (
                    "%{x}: %{y} posts<br>%{customdata}<extra>%{fullData.name}</extra>"
                )
            traces.append(trace)
    return traces


def _legend_only(name: str, marker: dict[str, Any]) -> dict[str, Any]:
    """A trace with no bar, only a legend entry: the partial-period key, or a category whose
    every period is partial."""
    return {
        "type": "bar",
        "x": [None],
        "y": [None],
        "name": name,
        "legendgroup": name,
        "marker": marker,
        "hoverinfo": "skip",
    }


def count_bars(
    labels: list[str],
    counts: list[int],
    title: str,
    count_title: str,
    horizontal: bool = True,
    hover: str = "%{label}: %{value} posts",
    customdata: list[str] | None = None,
    sizing: tuple[int, int, int] = (240, 30, 90),
    marker: dict[str, Any] | None = None,
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
    if marker:
        trace["marker"] = marker
    layout: dict[str, Any] = {
        **title_spec(title),
        f"{axis}axis": title_spec(count_title),
        "margin": {"t": 40, "b": 10},
    }
    if horizontal:
        least, per_bar, margins = sizing
        layout["height"] = max(least, per_bar * len(labels) + margins)
    return figure([trace], layout)


def category_chart(
    frame: pd.DataFrame,
    colours: dict[str, str] | None = None,
    selected: Sequence[object] = (),
) -> go.Figure:
    """Posts by category, each bar in its category's colour.

    With categories ``selected`` by the filter, theirs are drawn full and the others muted,
    so the chart shows what the filter picks instead of looking unfiltered.
    """
    data = frame.assign(category=[label(c) for c in frame["category"]]).sort_values("posts")
    names = list(data["category"])
    picked = {label(c) for c in selected}
    marker: dict[str, Any] = {}
    if colours:
        marker["color"] = [colours.get(c, UNCATEGORIZED_COLOUR) for c in names]
    if picked:
        marker["opacity"] = [1.0 if c in picked else MUTED_OPACITY for c in names]
    return count_bars(
        [plain(c) for c in names],
        [int(n) for n in data["posts"]],
        "Posts by category",
        "posts",
        sizing=(220, 48, 80),  # few categories: thick bars
        marker=marker,
    )


def tag_chart(counts: list[tuple[str, int]]) -> go.Figure:
    """Posts by tag, most used first: the Overview's second chart for a blog that gives its
    posts no categories, where a chart by category would be one bar."""
    ordered = sorted(counts, key=lambda pair: (pair[1], pair[0]))
    return count_bars(
        [plain(tag) for tag, _ in ordered],
        [n for _, n in ordered],
        "Posts by tag",
        "posts",
        sizing=(220, 30, 80),
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
    # The template at construction: update_layout would merge it into Plotly's default one.
    fig = go.Figure(trace, layout={"template": CHART_TEMPLATE})
    fig.update_layout(
        title=f"{y_title} by {plain(x_name)}",
        xaxis_title=plain(x_name),
        yaxis_title=y_title,
        margin={"t": 40, "b": 10},
    )
    if pd.api.types.is_datetime64_any_dtype(x):
        fig.update_xaxes(**date_ticks(x))
    return fig


DATE_TICKS = 12  # up to this many distinct dates each get a tick of their own


def date_ticks(column: pd.Series) -> dict[str, Any]:
    """Ticks for a date column: dates, never times of day.

    Plotly zooms a lone date (or two close ones) down to milliseconds and labels ticks
    "23:59:59.9995"; a few dates are labelled one by one, more in a format for their grain.
    """
    stamps = pd.Series(column.dropna().unique()).sort_values()
    if stamps.empty or (stamps != stamps.dt.normalize()).any():
        return {}  # times of day: Plotly's own ticks read them
    # The grain shows only in several dates: a lone 1 January may be a day, month or year.
    if len(stamps) > 1 and (stamps.dt.day_of_year == 1).all():
        fmt = "%Y"
    elif len(stamps) > 1 and (stamps.dt.day == 1).all():
        fmt = "%b %Y"
    else:
        fmt = "%Y-%m-%d"
    if len(stamps) <= DATE_TICKS:
        return {
            "tickmode": "array",
            "tickvals": [s.isoformat() for s in stamps],
            "ticktext": [s.strftime(fmt) for s in stamps],
        }
    return {"tickformat": fmt}


def _plottable(column: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(column)
        or pd.api.types.is_datetime64_any_dtype(column)
        or pd.api.types.is_string_dtype(column)
    )
