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

_state = threading.local()  # one script run at a time per thread


def pages() -> list[st.Page]:
    return [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/posts.py", title="Browse", icon=":material/list:", url_path="posts"),
        st.Page("pages/topics.py", title="Topics", icon=":material/insights:", url_path="topics"),
        st.Page("pages/sql.py", title="SQL", icon=":material/terminal:", url_path="sql"),
        st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
        st.Page("pages/post.py", title="Post", url_path="post", visibility="hidden"),
    ]


@contextlib.contextmanager
def running_in_shell() -> Iterator[None]:
    _state.active = True
    try:
        yield
    finally:
        _state.active = False


def require_shell() -> None:
    if getattr(_state, "active", False):
        return
    st.navigation(pages())
    st.rerun()
