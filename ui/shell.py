"""The app's frame: its pages, and the guarantee that every page runs inside ``app.py``.

Streamlit treats a ``pages/`` folder beside the entry point as a legacy
multipage app until ``st.navigation`` has been called once in the process. On a
freshly started server, the first visit to ``/posts`` would therefore run
``pages/posts.py`` on its own, without the filter panel. Each page calls
:func:`require_shell`; run on its own, it registers the real navigation (which
switches Streamlit to ``st.navigation`` mode for good) and reruns through
``app.py``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lib.filters import Filters
from ui.filter_url import filter_params

_state = threading.local()  # one script run at a time per thread

# The app's own layout rules, for what Streamlit offers no setting for. Page links (similar
# posts, previous and next) wrap their titles: on a phone one line cut them off mid-title.
# Tables and code scroll inside their own box, never the page sideways.
LAYOUT_CSS = """<style>
[data-testid="stPageLink-NavLink"] :not([data-testid="stIconMaterial"]) {
  white-space: normal;
  text-overflow: clip;
  overflow-wrap: anywhere;
}
[data-testid="stMain"] [data-testid="stDataFrame"],
[data-testid="stMain"] [data-testid="stTable"] {
  max-width: 100%;
  overflow-x: auto;
}
</style>"""


def pages() -> list[st.Page]:
    return [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/posts.py", title="Browse", icon=":material/list:", url_path="posts"),
        st.Page("pages/topics.py", title="Topics", icon=":material/insights:", url_path="topics"),
        st.Page("pages/sql.py", title="SQL", icon=":material/terminal:", url_path="sql"),
        st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
        st.Page("pages/post.py", title="Post", url_path="post", visibility="hidden"),
    ]


def nav_links(where: DeltaGenerator, filters: Filters) -> None:
    """The pages, as links that keep the filters.

    Streamlit's own navigation carries only parameters bound to widgets to the next
    page, and the filters are not bound (see ``ui.filter_url``), so it would drop them.
    """
    for page in pages():
        if page.visibility != "hidden":
            where.page_link(page, query_params=filter_params(filters), width="stretch")


@contextlib.contextmanager
def running_in_shell() -> Iterator[None]:
    st.html(LAYOUT_CSS)  # style only: Streamlit applies it without a block on the page
    _state.active = True
    try:
        yield
    finally:
        _state.active = False


def require_shell() -> None:
    if getattr(_state, "active", False):
        return
    st.navigation(pages(), position="hidden")
    st.rerun()
