"""The post page's ways on: back to its list, the list's previous and next post, its keywords.

Every link carries the filters (``ui.filter_url``): Streamlit carries only bound
parameters to the page a link opens, and the filter widgets are not bound.
"""

from __future__ import annotations

import duckdb
import streamlit as st

from lib import neighbours
from lib.filters import Filters
from lib.queries import RELEVANCE
from lib.safe_text import clip, escape_markdown, shown
from ui.filter_url import filter_params
from ui.store_access import Store, cursor, signature

POST_PAGE = "pages/post.py"
LIST_PAGE_KEY = "_last_list_page"  # set by each list page: where Back leads
LIST_SORT_KEY = "_list_sort"  # set by Browse: the order its cards were in
TITLE_CHARS = 60


def list_page() -> str:
    return st.session_state.get(LIST_PAGE_KEY, "pages/posts.py")


def list_sort(filters: Filters) -> str:
    """The order of the list the reader came from (Overview and Topics list newest first)."""
    if list_page() != "pages/posts.py":
        return "newest"
    sort = st.session_state.get(LIST_SORT_KEY)
    return sort or (RELEVANCE if filters.q else "newest")


@st.cache_data(max_entries=256, show_spinner=False)
def _around(store: Store, filters: Filters, sort: str, post_id: str) -> neighbours.Neighbours:
    del store  # part of the cache key only: another store file has other neighbours
    cur: duckdb.DuckDBPyConnection = cursor()
    try:
        return neighbours.around(cur, filters, sort, post_id)
    finally:
        cur.close()


def post_params(filters: Filters, post_id: str) -> dict[str, object]:
    """The URL parameters of a link from one post to another."""
    return {"id": post_id, **filter_params(filters)}


def back_link(filters: Filters) -> None:
    st.page_link(
        list_page(), label="Back", icon=":material/arrow_back:", query_params=filter_params(filters)
    )


def previous_next(filters: Filters, post_id: str) -> None:
    """Links to the posts before and after this one in the list the reader came from."""
    found = _around(signature(), filters, list_sort(filters), post_id)
    if found.position is None:
        st.caption("This post is not in the current list, so it has no previous or next.")
        return
    left, middle, right = st.columns([2, 1, 2], vertical_alignment="center")
    for column, other, icon, word in (
        (left, found.previous, ":material/chevron_left:", "Previous"),
        (right, found.next, ":material/chevron_right:", "Next"),
    ):
        if other:
            title = escape_markdown(clip(other["title"] or "Untitled post", TITLE_CHARS))
            column.page_link(
                POST_PAGE,
                label=f"{word}: {title}",
                icon=icon,
                query_params=post_params(filters, other["id"]),
            )
    middle.caption(f"Post {found.position:,} of {found.total:,} in the list")


def keyword_links(keywords: list[str], filters: Filters, written: dict[str, str]) -> None:
    """Each keyword a link to Browse filtered by it as a topic (the other filters kept),
    named as the post writes it (``written``: ``GRPO``, not the index's ``grpo``)."""
    kept = filter_params(filters)
    kept.pop("topic", None)
    row = st.container(horizontal=True, gap="small", vertical_alignment="center")
    row.caption("Keywords (each opens Browse filtered by it):", width="content")
    for keyword in keywords:
        row.page_link(
            "pages/posts.py",
            label=shown(written.get(keyword, keyword), 40),
            query_params={**kept, "topic": keyword},
        )
