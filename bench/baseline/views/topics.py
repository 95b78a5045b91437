"""Topics: the leading keywords of the filtered posts, and the top ones over time."""

from __future__ import annotations

import plotly.express as px
import streamlit as st
from frames import db_path, filtered_posts, load_keywords

LEADING = 30
OVER_TIME = 5

st.title("Topics")
posts = filtered_posts()
keywords = load_keywords(db_path())
here = keywords[keywords["doc"].isin(posts["doc"])]
if here.empty:
    st.info("No topics under these filters.")
    st.stop()

leading = here["term"].value_counts().head(LEADING).reset_index()
leading.columns = ["topic", "posts"]
left, right = st.columns(2)
left.plotly_chart(
    px.bar(leading[::-1], x="posts", y="topic", orientation="h", title="Leading topics")
)
right.dataframe(leading, hide_index=True)

top = here[here["term"].isin(leading["topic"].head(OVER_TIME))].dropna(subset=["published"])
volume = (
    top.groupby([top["published"].dt.to_period("M").dt.to_timestamp(), "term"])
    .size()
    .reset_index(name="posts")
)
st.plotly_chart(
    px.line(volume, x="published", y="posts", color="term", title="Top topics per month")
)
