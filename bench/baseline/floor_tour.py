"""The floor for ``bench.browser``: the app's widgets and pages with no data work at all.

The same sidebar (a search box, a category picker, links to three pages) and on each page
the elements the real one waits for (a title, metrics and two tiny charts; 20 cards; one
chart), all made of constants. What a step takes here is what Streamlit, Plotly, the
websocket and Chromium alone take for it on the machine.
"""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st
from floor import overview  # this folder is on sys.path when Streamlit runs the app

CATEGORIES = ["Large Model", "NLP", "Python", "Generative Model", "杂七杂八"]


def browse() -> None:
    st.title("Browse posts")
    st.caption("20 posts match")
    for n in range(20):
        with st.container(border=True):
            st.markdown(f"**Post {n}** · NLP · 2024-01-{n + 1:02d}")
            st.caption("An excerpt of about two lines of text, as a card shows it. " * 2)


def topics() -> None:
    st.title("Topics")
    st.plotly_chart(go.Figure(go.Bar(x=[5, 3, 2], y=["LoRA", "RAG", "显存"], orientation="h")))


def tour(overview_page: Callable[[], None]) -> None:
    """The sidebar and the three pages, ``overview_page`` as the Overview."""
    st.set_page_config(page_title="Floor", layout="wide")
    pages = [
        st.Page(overview_page, title="Overview", default=True),
        st.Page(browse, title="Browse", url_path="posts"),
        st.Page(topics, title="Topics", url_path="topics"),
    ]
    page = st.navigation(pages, position="hidden")
    with st.sidebar:
        st.subheader("Filters")
        st.multiselect("Category", CATEGORIES, key="category", placeholder="All categories")
        st.text_input("Words in the post", key="q")
        for link in pages:
            st.page_link(link, width="stretch")
    page.run()


if __name__ == "__main__":  # as Streamlit runs it; floor_live imports ``tour``
    tour(overview)
