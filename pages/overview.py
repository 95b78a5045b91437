"""``/``: key figures, topic volume over time, volume by category, the latest posts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import queries
from lib.charts import category_chart, category_colours, tag_chart
from lib.dates import date_label
from lib.periods import INTERVALS, compact_span
from ui import bad_params
from ui.active_filters import active_filters
from ui.cards import card_list
from ui.charts import show_chart
from ui.filters import current, search_note
from ui.post_nav import LIST_PAGE_KEY
from ui.shell import require_shell
from ui.store_access import run
from ui.timechart import SPLITS, time_chart

require_shell()

filters = current()
st.session_state[LIST_PAGE_KEY] = "pages/overview.py"  # where the post page's Back leads
st.title("Overview")
active_filters(filters)
# Checked here, not by the chart: a bad value is named even when no chart is drawn.
bad_params.check_choice("interval", ["auto", *INTERVALS])
bad_params.check_choice("split", list(SPLITS))
figures = run(queries.figures, filters)
said_nothing = search_note(filters, figures.posts)

if figures.posts == 0:
    if not said_nothing:
        st.info("No posts match these filters.")
    st.stop()

cols = st.columns([1, 1, 1.6, 1.4])
cols[0].metric("Posts", f"{figures.posts:,}")
cols[1].metric("Categories", figures.categories)
cols[2].metric(
    "Date span",
    compact_span(figures.first, figures.last),
    help=(
        f"{date_label(figures.first)} to {date_label(figures.last)}"
        if figures.first
        else "No post has a date."
    ),
)
cols[3].metric(
    "Without category / date",
    f"{figures.without_category / figures.posts:.0%} / {figures.without_date / figures.posts:.0%}",
)

frame, interval = run(queries.volume, filters, None)
by_category = run(queries.category_counts, filters)
# Every category of the store, whatever the filters: a category keeps its colour in every view.
colours = category_colours(c for c, _ in by_category)
category_frame = pd.DataFrame(
    [(c, n) for c, n in by_category if n > 0], columns=["category", "posts"]
)
# A blog that gives no post a category (whatever the filters): its tags and topics sort it.
no_categories = all(c is None for c, _ in by_category)


def by_category_chart() -> None:
    tags = run(queries.tag_counts, filters) if no_categories else []
    if tags:  # one "Uncategorized" bar says nothing: the blog sorts its posts by tags
        show_chart(tag_chart(tags), key="by_tag")
        st.caption(
            "These posts have no categories: their most used tags instead. "
            "Search `tag:name` to filter by one."
        )
        return
    figure = category_chart(category_frame, colours, filters.categories)
    show_chart(figure, key="by_category")
    if filters.categories:
        st.caption("Bars in full colour are the categories the filter selects.")


if frame.empty or frame["period"].nunique() < 2:
    st.caption(
        "Every dated post shares one date, so volume is shown by category rather than over time."
        if not frame.empty
        else "No post has a date, so volume is shown by category."
    )
    by_category_chart()
else:
    left, right = st.columns([2, 1])
    with left:
        split = "topic" if no_categories else "category"
        time_chart(filters, interval_choices=INTERVALS, colours=colours, split_default=split)
    with right:
        by_category_chart()

st.subheader("Latest posts")
card_list(run(queries.cards, filters, "newest", 6, 0), filters)
