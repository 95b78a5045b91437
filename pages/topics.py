"""``/topics``: the topics inside the categories, how they move, and the posts behind them."""

from __future__ import annotations

import streamlit as st

from lib.charts import compare_chart, label, movers_chart, topic_totals_chart, topics_chart
from lib.periods import auto_interval
from lib.safe_text import escape_markdown
from lib.search import topic_term
from lib.topics import MAX_COMPARED, Periods
from ui.active_filters import active_filters
from ui.data import run
from ui.filters import EARLIEST, current
from ui.post_nav import LIST_PAGE_KEY
from ui.shell import require_shell

require_shell()

LEADING = 20
PICK_KEY = "_topic_pick"

filters = current()
st.session_state[LIST_PAGE_KEY] = "pages/topics.py"  # where the post page's Back leads
st.title("Topics")
active_filters(filters)
st.caption(
    "Topics are the words that lead posts (each post's top keywords by TF-IDF, found at import)."
    " Click one to filter every page by it."
)

leading = run("topics.leading", filters, LEADING)
if leading.empty:
    st.info("No topics under these filters: no post matches, or the store has no index yet.")
    st.stop()


def _add_topic() -> None:
    """Add the clicked topic to the shared ``topic`` filter (the sidebar widget's key)."""
    picked = st.session_state.get(PICK_KEY)
    if picked:
        chosen = list(st.session_state.get("topic") or [])
        if picked not in chosen:
            st.session_state["topic"] = [*chosen, picked]
        st.session_state[PICK_KEY] = None


SECTIONS = ("Leading", "Compare", "Rising and falling", "By category")
# Only the open tab runs (its state is tracked, and bound to the URL so a view can be
# shared): each section asks its own questions of the store, and under a search a
# reader should not wait for the three sections out of sight.
leading_tab, compare_tab, movers_tab, class_tab = st.tabs(
    SECTIONS, key="section", bind="query-params"
)

if leading_tab.open:
    with leading_tab:
        left, right = st.columns([1, 1])
        with left:
            st.plotly_chart(topics_chart(leading), key="leading_topics")
        with right:
            st.pills(
                "Filter the posts by a topic",
                options=list(leading["topic"]),
                key=PICK_KEY,
                on_change=_add_topic,
                format_func=escape_markdown,  # option labels are Markdown; topics come from posts
                wrap=True,  # several lines inside the column rather than one row cut off
            )
            shown = leading.assign(
                share=(leading["share"] * 100).round(1), lift=leading["lift"].round(2)
            )
            st.dataframe(
                shown[["topic", "posts", "share", "lift"]],
                hide_index=True,
                column_config={
                    "share": st.column_config.NumberColumn("share %", format="%.1f"),
                    "lift": st.column_config.NumberColumn(
                        "lift", help="How much more often it leads these posts than all posts"
                    ),
                },
            )


def _compare() -> None:
    typed = st.multiselect(
        f"Topics to compare (up to {MAX_COMPARED}; type any word)",
        options=list(dict.fromkeys([*(st.session_state.get("compare") or []), *leading["topic"]])),
        key="compare",
        bind="query-params",
        max_selections=MAX_COMPARED,
        accept_new_options=True,
        placeholder="The three leading topics",
    )
    compared = tuple(dict.fromkeys(topic_term(t) for t in typed if t.strip())) or tuple(
        leading["topic"].head(3)
    )
    measure = st.segmented_control(
        "Measure",
        options=["count", "share"],
        default="count",
        key="measure",
        bind="query-params",
        label_visibility="collapsed",
    )
    figures = run("figures", filters)
    interval = (
        auto_interval(filters.start or figures.first, filters.end or figures.last)
        if figures.first
        else "month"
    )
    frame = run("topics.volume", filters, compared, interval)
    if frame.empty:
        st.info("No dated posts under these filters.")
    elif frame["period"].nunique() < 2:
        st.caption("Every dated post shares one date, so topics are compared as totals.")
        st.plotly_chart(topic_totals_chart(frame), key="compare_totals")
    else:
        st.plotly_chart(compare_chart(frame, measure or "count", interval), key="compare_chart")
    missing = [
        t for t in compared if frame.empty or frame.loc[frame["topic"] == t, "posts"].sum() == 0
    ]
    if missing:
        # Typed topics come from the URL: escaped like any other untrusted text.
        st.caption(
            "Not mentioned by any filtered post: " + ", ".join(escape_markdown(t) for t in missing)
        )


def _movers() -> None:
    periods = run("topics.default_periods", filters)
    if periods is None:
        st.info(
            "All filtered posts share one date, so there is nothing to compare over time."
            " Import more snapshots or feeds with dates to see topics rise and fall."
        )
        return
    cols = st.columns(2)
    before = cols[0].date_input(
        "Earlier period", value=periods.before, min_value=EARLIEST, format="YYYY-MM-DD"
    )
    after = cols[1].date_input(
        "Later period", value=periods.after, min_value=EARLIEST, format="YYYY-MM-DD"
    )
    if len(before) != 2 or len(after) != 2:
        st.caption("Pick a start and an end for both periods.")
        return
    movers = run("topics.movers", filters, Periods(tuple(before), tuple(after)))
    if movers.empty:
        st.info("No topic leads at least two posts in either period.")
    else:
        st.plotly_chart(movers_chart(movers), key="movers")


def _by_category() -> None:
    st.caption("The topics that set each category apart from the others (class-based TF-IDF).")
    by_class = run("topics.by_class", filters, "category")
    if by_class.empty:
        return
    table = (
        by_class.assign(category=[label(c) for c in by_class["class"]])
        .groupby("category", sort=False)["topic"]
        .agg(lambda s: " · ".join(s))
        .reset_index()
    )
    st.dataframe(table, hide_index=True, column_config={"topic": "distinctive topics"})


for tab, section in ((compare_tab, _compare), (movers_tab, _movers), (class_tab, _by_category)):
    if tab.open:
        with tab:
            section()
