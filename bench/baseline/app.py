"""The pandas baseline: the explorer as most people would write it, for ``bench.rerun``.

    POSTS_DB=/tmp/posts.duckdb streamlit run bench/baseline/app.py

The whole ``posts`` table (and ``post_keywords`` for topics) is loaded into pandas
once with ``st.cache_data``; every run filters it with boolean masks and groups
it with pandas. Same store, same URL parameters and same widgets as the app, so
the two can be driven with identical filter changes and their times compared.
"""

from __future__ import annotations

import streamlit as st
from frames import sidebar_filters  # this folder is on sys.path when Streamlit runs the app

st.set_page_config(page_title="Blog topic explorer (pandas baseline)", layout="wide")

page = st.navigation(
    [
        st.Page("views/overview.py", title="Overview", default=True),
        st.Page("views/posts.py", title="Browse", url_path="posts"),
        st.Page("views/topics.py", title="Topics", url_path="topics"),
    ]
)
sidebar_filters()
page.run()
