"""The filter panel shared by every page, kept in the URL so a view can be shared.

Widgets live in the sidebar of ``app.py`` and are rendered on every page, which
is what keeps the filters when the reader switches page. Their keys are the URL
parameters: ``category`` (repeated), ``from``, ``to``, ``q``, ``topic`` (repeated);
``ui.filter_url`` reads and writes them.
"""

from __future__ import annotations

import streamlit as st

from lib.charts import label
from lib.dates import published_years
from lib.filters import MAX_QUERY_CHARS, Filters
from lib.safe_text import escape_markdown
from ui.active_filters import reset_page
from ui.bad_params import check_filter_params
from ui.data import run
from ui.filter_url import current, read_url, write_url

__all__ = ["EARLIEST", "LATEST", "current", "filter_panel", "relaxed_note"]

EARLIEST = published_years().earliest  # no post is dated outside the years the store keeps
LATEST = published_years().latest


def _clear() -> None:
    st.session_state["category"] = []
    st.session_state["from"] = None
    st.session_state["to"] = None
    st.session_state["q"] = ""
    st.session_state["topic"] = []
    reset_page()


def filter_panel() -> Filters:
    # Before the widgets: a value they cannot take is named, then left out.
    categories = [label(cat) for cat, _ in run("category_counts", Filters())]
    check_filter_params(categories, EARLIEST, LATEST)
    read_url(categories, EARLIEST, LATEST)
    with st.sidebar:
        st.subheader("Filters")
        category_box = st.container()
        st.text_input(
            "Words in the post",
            key="q",
            placeholder="e.g. LoRA, 显存, FlashAttention",
            max_chars=MAX_QUERY_CHARS,
        )
        chosen = list(dict.fromkeys([*st.query_params.get_all("topic"), *current().topics]))
        st.multiselect(
            "Topics",
            options=chosen,
            key="topic",
            accept_new_options=True,
            placeholder="Any topic: type one, or pick on Topics",
            help="Posts that mention any of these topics. The Topics page lists the leading ones.",
        )
        for title, key in (("From", "from"), ("To", "to")):
            st.date_input(
                title,
                value=None,
                key=key,
                min_value=EARLIEST,
                max_value=LATEST,
                format="YYYY-MM-DD",
            )
        counts = [(label(cat), n) for cat, n in run("category_counts", current())]
        # No format_func: the options are the names the URL holds (counts go below).
        category_box.multiselect(
            "Category",
            options=[name for name, _ in counts],
            key="category",
            placeholder="All categories",
        )
        category_box.caption(
            "Posts per category under the other filters: "
            + " · ".join(f"{escape_markdown(name)} **{n:,}**" for name, n in counts)
        )
        st.button("Clear filters", on_click=_clear, width="stretch")
    write_url(current())
    return current()


def relaxed_note(filters: Filters) -> None:
    """Say so when no post has every word of the search and it shows posts with some."""
    if filters.q.strip() and run("relaxed", filters):
        st.caption(
            ":material/info: No post has every word of the search: showing the posts with any"
            " of them (by relevance, those with most come first)."
        )
