"""Entry point: navigation, page set-up, and the filter panel every page shares."""

from __future__ import annotations

import streamlit as st

from ui.filters import filter_panel

st.set_page_config(page_title="Blog topic explorer", page_icon=":material/insights:", layout="wide")

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/posts.py", title="Browse", icon=":material/list:", url_path="posts"),
    st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
    st.Page("pages/post.py", title="Post", url_path="post", visibility="hidden"),
]
page = st.navigation(pages)
filter_panel()
page.run()
