"""The floor for ``bench.coldstart``: a page with no data work at all.

A title, three metrics and two tiny Plotly charts, the elements the Overview's
cold start waits for. Its cold start is what Streamlit, Plotly and Chromium
take on this machine before any app code or query runs.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st


def overview(follow_filters: bool = False) -> None:
    """The Overview's elements, made of constants (``floor_tour`` shows it too).

    With ``follow_filters`` the charts' first bar is the length of the sidebar's search and
    categories, so each filter change sends new figures, which Streamlit 1.67 mounts anew,
    as the app's charts must be (``floor_live``).
    """
    state = st.session_state
    filters = len(state.get("q") or "") + len(state.get("category") or [])
    first = 1 + filters if follow_filters else 1
    st.title("Overview")
    cols = st.columns(3)
    cols[0].metric("Posts", str(first + 5))
    cols[1].metric("Categories", "2")
    cols[2].metric("Date span", "2024-01 → 03")
    left, right = st.columns([2, 1])
    left.plotly_chart(go.Figure(go.Bar(x=["2024-01", "2024-02", "2024-03"], y=[first, 2, 3])))
    right.plotly_chart(go.Figure(go.Bar(x=[first + 1, 1], y=["NLP", "Python"], orientation="h")))


if __name__ == "__main__":  # as Streamlit runs it; floor_tour imports overview
    st.set_page_config(page_title="Floor", layout="wide")
    overview()
