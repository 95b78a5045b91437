"""Overview: key figures, posts per month by category, posts by category, latest posts."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st
from frames import UNCATEGORIZED, cards, filtered_posts

st.title("Overview")
posts = filtered_posts()
if posts.empty:
    st.info("No posts match these filters.")
    st.stop()

cols = st.columns(3)
cols[0].metric("Posts", f"{len(posts):,}")
cols[1].metric("Categories", posts["category"].nunique())
first, last = posts["published"].min(), posts["published"].max()
cols[2].metric("Date span", f"{first:%Y-%m} → {last:%Y-%m}" if pd.notna(first) else "—")

dated = posts.dropna(subset=["published"])
month = dated["published"].dt.to_period("M").dt.to_timestamp()
per_month = dated.groupby([month, "category"], dropna=False).size().reset_index(name="posts")
per_month["category"] = per_month["category"].fillna(UNCATEGORIZED)
by_category = posts["category"].fillna(UNCATEGORIZED).value_counts().reset_index()
by_category.columns = ["category", "posts"]

left, right = st.columns([2, 1])
left.plotly_chart(
    px.bar(per_month, x="published", y="posts", color="category", title="Posts per month")
)
right.plotly_chart(
    px.bar(by_category, x="posts", y="category", orientation="h", title="Posts by category")
)

st.subheader("Latest posts")
cards(posts.sort_values("published", ascending=False).head(10))
