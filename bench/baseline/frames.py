"""Loading, filtering and cards for the pandas baseline (see ``app.py`` beside it).

Written the plain way on purpose: ``@st.cache_data`` around ``SELECT *``, boolean
masks, ``groupby``/``value_counts``. Nothing is slowed down and nothing clever is
added; the point is to measure the approach, not a strawman of it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from lib.store import connect_read_only

DEFAULT_DB = Path(__file__).resolve().parents[2] / "data" / "posts.duckdb"
UNCATEGORIZED = "Uncategorized"  # the app's URL value and label for posts without a category


def db_path() -> str:
    return os.environ.get("POSTS_DB") or str(DEFAULT_DB)


@st.cache_data
def load_posts(path: str) -> pd.DataFrame:
    """The whole ``posts`` table; ``st.cache_data`` hands every caller its own copy."""
    con = connect_read_only(path)
    try:
        return con.execute("SELECT * FROM posts").df()
    finally:
        con.close()


@st.cache_data
def load_keywords(path: str) -> pd.DataFrame:
    """Every post's stored keywords (``doc, term, weight, category, published``)."""
    con = connect_read_only(path)
    try:
        return con.execute("SELECT * FROM post_keywords").df()
    finally:
        con.close()


@st.cache_data
def category_options(path: str) -> list[str]:
    """The sidebar's choices, cached on their own so the sidebar does not copy the table."""
    categories = load_posts(path)["category"].fillna(UNCATEGORIZED)
    return sorted(categories.unique())


@dataclass(frozen=True)
class Filters:
    categories: tuple[str, ...]
    start: date | None
    end: date | None
    q: str
    topics: tuple[str, ...]


def current() -> Filters:
    state = st.session_state
    return Filters(
        categories=tuple(state.get("category") or ()),
        start=state.get("from"),
        end=state.get("to"),
        q=(state.get("q") or "").strip(),
        topics=tuple(t.strip().lower() for t in state.get("topic") or () if t.strip()),
    )


def sidebar_filters() -> None:
    """The same widgets and URL parameters as the app's filter panel."""
    with st.sidebar:
        st.subheader("Filters")
        st.multiselect(
            "Category",
            options=category_options(db_path()),
            key="category",
            bind="query-params",
            placeholder="All categories",
        )
        st.text_input("Words in the post", key="q", bind="query-params")
        st.multiselect(
            "Topics",
            options=list(st.session_state.get("topic") or st.query_params.get_all("topic")),
            key="topic",
            bind="query-params",
            accept_new_options=True,
        )
        for title, key in (("From", "from"), ("To", "to")):
            st.date_input(
                title,
                value=None,
                key=key,
                bind="query-params",
                min_value=date(1970, 1, 1),
                max_value=date(2100, 12, 31),
                format="YYYY-MM-DD",
            )


def apply_filters(posts: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The posts under the filters, by boolean masks over the whole frame."""
    mask = pd.Series(True, index=posts.index)
    if filters.categories:
        mask &= posts["category"].fillna(UNCATEGORIZED).isin(filters.categories)
    if filters.start:
        mask &= posts["published"] >= pd.Timestamp(filters.start)
    if filters.end:
        mask &= posts["published"] <= pd.Timestamp(filters.end)
    if filters.q:
        found = pd.Series(False, index=posts.index)
        for column in ("title", "excerpt", "body"):
            found |= posts[column].str.contains(filters.q, case=False, regex=False, na=False)
        mask &= found
    if filters.topics:
        keywords = load_keywords(db_path())
        docs = keywords.loc[keywords["term"].isin(filters.topics), "doc"].unique()
        mask &= posts["doc"].isin(docs)
    return posts[mask]


def filtered_posts() -> pd.DataFrame:
    return apply_filters(load_posts(db_path()), current())


def cards(posts: pd.DataFrame) -> None:
    for row in posts.itertuples():
        with st.container(border=True):
            st.markdown(f"#### {row.title or 'Untitled post'}")
            when = row.published.date().isoformat() if pd.notna(row.published) else "no date"
            category = row.category if isinstance(row.category, str) else UNCATEGORIZED
            st.caption(f"{category} · {when}")
            if isinstance(row.excerpt, str):
                st.markdown(row.excerpt[:600])
            if isinstance(row.url, str):
                st.link_button("Original ↗", row.url)
