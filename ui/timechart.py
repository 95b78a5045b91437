"""The topic-volume chart: interval picker, split by category or topic, partial periods,
and select-to-filter.

Selecting bars (box or click) sets the ``from``/``to`` filter to the periods
selected. That happens in the chart's ``on_select`` callback, which runs before
the next script run, the only moment bound filter widgets may be changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import streamlit as st

from lib import queries, topics
from lib.charts import UNCATEGORIZED_COLOUR, category_colours, volume_chart
from lib.filters import Filters
from lib.periods import MAX_PERIODS, period_end, period_start
from lib.topic_charts import OUTLIER_COLOUR
from lib.topic_queries import OTHER
from ui.active_filters import reset_page
from ui.charts import show_chart
from ui.store_access import run

CHART_KEY = "volume_chart"
# Shown as written: a bound widget puts its label, not its option, in the URL (split=topic).
SPLITS = ("category", "topic")
TOP_TOPICS = 8  # the chart's topics: the largest under the filters, the rest as "other"


def _apply_selection() -> None:
    event = st.session_state.get(CHART_KEY) or {}
    points = (event.get("selection") or {}).get("points") or []
    days = sorted(date.fromisoformat(str(p["x"])[:10]) for p in points if p.get("x"))
    if not days:
        return
    interval = st.session_state.get("_shown_interval", "day")
    st.session_state["from"] = period_start(days[0], interval)
    st.session_state["to"] = period_end(period_start(days[-1], interval), interval)
    reset_page()


def time_chart(
    filters: Filters,
    interval_choices: Sequence[str],
    colours: dict[str, str] | None = None,
    split_default: str = "category",
) -> None:
    """The volume chart; ``split_default`` is "topic" for posts without categories, where a
    split by category is one grey series."""
    choice = st.segmented_control(
        "Interval",
        options=["auto", *interval_choices],
        default="auto",
        key="interval",
        bind="query-params",
        label_visibility="collapsed",
        wrap=True,  # on a phone the six buttons take two rows rather than run off the edge
    )
    asked = None if choice in (None, "auto") else choice
    split = st.segmented_control(
        "Split by",
        options=SPLITS,
        default=split_default,
        key="split",
        bind="query-params",
        help="Posts per period split by category, or by topic (the largest, the rest as other)",
    )
    if split == "topic":
        frame, interval = run(topics.volume_by_topic, filters, asked, TOP_TOPICS)
        frame = frame.rename(columns={"topic": "category"})
        colours = category_colours(frame["category"].unique())
        colours[OTHER] = UNCATEGORIZED_COLOUR
    else:
        frame, interval = run(queries.volume, filters, asked)
        colours = {**(colours or {}), queries.OTHER_CATEGORIES: OUTLIER_COLOUR}
    st.session_state["_shown_interval"] = interval
    if frame.empty:
        st.info("No dated posts under these filters.")
        return
    if split == "topic":
        st.caption(
            f"The {TOP_TOPICS} largest topics under these filters; the rest, and posts in no"
            f" topic, as “{OTHER}”. The Topics page names and lists them."
        )
    elif queries.OTHER_CATEGORIES in set(frame["category"]):
        st.caption(
            f"The {queries.TOP_CATEGORIES} largest categories under these filters; the rest"
            f" as “{queries.OTHER_CATEGORIES}”. Pick categories in the sidebar to see them."
        )
    if asked and interval != asked:
        st.caption(
            f":material/info: Shown by {interval}: by {asked} this span needs more than"
            f" {MAX_PERIODS:,} bars, too many to read. Narrow the dates to see {asked}s."
        )
    show_chart(
        volume_chart(frame, interval, colours),
        key=CHART_KEY,
        on_select=_apply_selection,
        selection_mode=("box", "points"),
    )
    if frame["partial"].any():
        st.caption(
            "Hatched bars are periods only partly covered by the data or the date filter,"
            " not drops in volume. Select bars to filter to their dates."
        )
    else:
        st.caption("Select bars to filter to their dates.")
