"""``/topics``: the topics inside the categories, how they move, and the posts behind them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import queries, topics
from lib.charts import label
from lib.periods import auto_interval
from lib.safe_text import CATEGORY_CHARS, clip, escape_markdown
from lib.safe_text import shown as shown_text
from lib.search import topic_term
from lib.topic_charts import (
    compare_chart,
    movers_chart,
    topic_map,
    topic_totals_chart,
    topics_over_time,
)
from lib.topics import MAX_COMPARED, Periods
from ui.active_filters import active_filters
from ui.charts import show_chart
from ui.filter_url import filter_params
from ui.filters import EARLIEST, current
from ui.post_nav import LIST_PAGE_KEY
from ui.shell import require_shell
from ui.store_access import run

require_shell()

LEADING = 20
LISTED = 30  # topics in the table
REPRESENTED = 8  # topics shown with their most typical posts
EXAMPLES = 3  # posts shown of each
PICK_KEY = "_topic_pick"

filters = current()
st.session_state[LIST_PAGE_KEY] = "pages/topics.py"  # where the post page's Back leads
st.title("Topics")
active_filters(filters)
st.caption(
    "A topic is a group of posts about one subject, found at import from the words they"
    " use, and named by its most distinctive terms. Pick one to filter every page by it."
)

table = run(topics.topic_table, filters, LISTED, EXAMPLES)
if table.empty:
    st.info(
        "No topics under these filters: no post matches, or the store has no topics yet"
        " (they are fitted at import, or by `python -m lib.topic_model refit`)."
    )


def _add_topic() -> None:
    """Add the clicked topic to the shared ``topic`` filter (the sidebar widget's key)."""
    picked = st.session_state.get(PICK_KEY)
    if picked:
        chosen = list(st.session_state.get("topic") or [])
        if picked not in chosen:
            st.session_state["topic"] = [*chosen, picked]
        st.session_state[PICK_KEY] = None


SECTIONS = ("Topics", "Over time", "Rising and falling", "By category", "Map", "Compare words")
# Only the open tab runs (its state is tracked, and bound to the URL so a view can be
# shared): each section asks its own questions of the store, and under a search a
# reader should not wait for the sections out of sight.
topics_tab, time_tab, movers_tab, class_tab, map_tab, compare_tab = st.tabs(
    SECTIONS, key="section", bind="query-params"
)


TABLE_HEADER = (
    "| topic | posts | share % | lift | most typical of |\n| :-- | --: | --: | --: | :-- |"
)


def _table_markdown(frame: pd.DataFrame) -> str:
    """The topics as a Markdown table: names and categories escaped (a category clipped, as
    everywhere), numbers formatted."""
    rows = [
        f"| {escape_markdown(topic)} | {posts:,} | {share * 100:.1f} | {lift:.2f}"
        f" | {shown_text(label(category), CATEGORY_CHARS)} |"
        for topic, posts, share, lift, category in frame[
            ["topic", "posts", "share", "lift", "most_in"]
        ].itertuples(index=False)
    ]
    return "\n".join([TABLE_HEADER, *rows])


def _topic_list() -> None:
    if table.empty:  # said above
        return
    st.pills(
        "Filter the posts by a topic",
        options=list(table["topic"]),
        key=PICK_KEY,
        on_change=_add_topic,
        format_func=escape_markdown,  # option labels are Markdown; topic names come from posts
        wrap=True,
    )
    narrowed = topics.filters_narrow(filters)
    lift_help = (
        "how much more often the topic is among these posts than among all posts"
        if narrowed
        else "how much more often the topic is in its most typical category than overall"
    )
    # A Markdown table: the element Streamlit draws every page with. st.table's code and
    # the Arrow reader under it load on a first visit, and the page waited for them
    # (bench/README.md, session 10). Text from posts is escaped, "|" too.
    st.markdown(_table_markdown(table))
    st.caption(f"Lift: {lift_help}. A topic's name is its most distinctive terms.")
    named = table[~table["outlier"]].head(REPRESENTED)
    docs = tuple(int(doc) for examples in named["examples"] for doc in examples)
    posts = run(topics.example_posts, docs).set_index("doc")
    kept = filter_params(filters)
    kept.pop("topic", None)
    for row in named.itertuples():
        with st.container(border=True):
            st.page_link(
                "pages/posts.py",
                label=f"{clip(row.topic, 120)} — {row.posts:,} posts",
                query_params={**kept, "topic": row.topic},
            )
            for doc in row.examples:
                if doc in posts.index:  # a doc without its post (none should be) has no link
                    post = posts.loc[doc]
                    st.page_link("pages/post.py", label=shown_text(post["title"], 90),
                                 query_params={"id": post["id"]})  # fmt: skip


def _over_time() -> None:
    measure = st.segmented_control(
        "Measure", options=["count", "share"], default="count", key="topic_measure",
        label_visibility="collapsed",
    )  # fmt: skip
    frame, interval = run(topics.volume_by_topic, filters)
    if frame.empty:
        st.info("No dated posts under these filters.")
        return
    show_chart(topics_over_time(frame, interval, measure or "count"), key="topic_time")
    undated = int(table["posts"].sum()) - int(frame["posts"].sum())
    if undated > 0:
        st.caption(f"{undated:,} undated posts are counted in the topics' sizes, not here.")


def _topic_movers() -> None:
    periods = run(topics.default_periods, filters)
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
    movers = run(topics.topic_movers, filters, Periods(tuple(before), tuple(after)))
    if movers.empty:
        st.info("No topic has at least two posts in either period.")
    else:
        show_chart(movers_chart(movers), key="movers")


def _by_category() -> None:
    st.caption(
        "The topics each category has most, compared with all posts (lift: a topic every"
        " category has alike sets none apart)."
    )
    by_class = run(topics.distinct_by_category, filters)
    if by_class.empty:
        st.info("No topic is more typical of one category than of the others.")
        return
    table_shown = (
        by_class.assign(
            category=[label(c) for c in by_class["class"]],
            topic=[
                f"{t} (×{lift:.1f})"
                for t, lift in zip(by_class["topic"], by_class["lift"], strict=True)
            ],
        )
        .groupby("category", sort=False)["topic"]
        .agg(lambda s: " | ".join(s))
        .reset_index()
    )
    st.dataframe(table_shown, hide_index=True, column_config={"topic": "distinctive topics"})


def _map() -> None:
    points = run(topics.map_points, filters)
    if points.empty:
        st.info("No fitted topics yet: they are fitted at the next import.")
        return
    show_chart(topic_map(points, list(table["topic"])), key="topic_map")
    st.caption(f"{len(points):,} posts drawn (a fixed sample of the filtered posts).")


def _compare() -> None:
    leading = run(topics.leading, filters, LEADING)  # keywords: what a reader may type
    typed = st.multiselect(
        f"Topics to compare (up to {MAX_COMPARED}; type any word)",
        options=list(dict.fromkeys([*(st.session_state.get("compare") or []), *leading["topic"]])),
        key="compare",
        bind="query-params",
        max_selections=MAX_COMPARED,
        accept_new_options=True,
        placeholder="The three leading topics",
    )
    # Each word as the reader typed it (the first way, if typed twice), in their order.
    as_typed = {topic_term(t): t for t in reversed(typed) if t.strip()}
    compared = tuple(topic_term(t) for t in typed if t.strip() and as_typed[topic_term(t)] == t)
    compared = compared or tuple(leading["topic"].head(3))
    measure = st.segmented_control(
        "Measure",
        options=["count", "share"],
        default="count",
        key="measure",
        bind="query-params",
        label_visibility="collapsed",
    )
    figures = run(queries.figures, filters)
    interval = (
        auto_interval(filters.start or figures.first, filters.end or figures.last)
        if figures.first
        else "month"
    )
    frame = run(topics.volume, filters, compared, interval)
    if not frame.empty:
        place = {term: i for i, term in enumerate(compared)}
        frame = frame.assign(place=frame["topic"].map(place)).sort_values(["period", "place"])
        frame = frame.assign(topic=[as_typed.get(t, t) for t in frame["topic"]])
    if frame.empty:
        st.info("No dated posts under these filters.")
    elif frame["period"].nunique() < 2:
        st.caption("Every dated post shares one date, so topics are compared as totals.")
        show_chart(topic_totals_chart(frame), key="compare_totals")
    else:
        show_chart(compare_chart(frame, measure or "count", interval), key="compare_chart")
    if not frame.empty:
        st.caption("Counted over dated posts only: undated posts have no place on a timeline.")
    shown = [as_typed.get(t, t) for t in compared]
    missing = [
        t for t in shown if frame.empty or frame.loc[frame["topic"] == t, "posts"].sum() == 0
    ]
    if missing:
        # Typed topics come from the URL: escaped like any other untrusted text.
        st.caption(
            "Not mentioned by any filtered post: " + ", ".join(escape_markdown(t) for t in missing)
        )


for tab, section in (
    (topics_tab, _topic_list),
    (time_tab, _over_time),
    (movers_tab, _topic_movers),
    (class_tab, _by_category),
    (map_tab, _map),
    (compare_tab, _compare),
):
    if tab.open:
        with tab:
            section()
