"""Browse: how many posts match, and twenty of them per page, newest first."""

from __future__ import annotations

import math

import streamlit as st
from frames import cards, filtered_posts

PAGE_SIZE = 20

st.title("Browse posts")
posts = filtered_posts()
pages = max(1, math.ceil(len(posts) / PAGE_SIZE))

top = st.columns([2, 1, 1])
top[0].markdown(f"**{len(posts):,}** posts match")
sort = top[1].selectbox("Sort", ["newest", "oldest"], key="sort", bind="query-params")
page = top[2].number_input(
    f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key="page", bind="query-params"
)
page = min(int(page), pages)

ordered = posts.sort_values("published", ascending=sort == "oldest")
cards(ordered.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
