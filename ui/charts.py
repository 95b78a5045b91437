"""How every page shows a Plotly figure: the look in the figure, and the app's chart config.

Figures carry the app's look themselves (``lib.chart_look``), so they are sent with
``theme=None``: Streamlit's theme would be applied again in the browser on every mount of a
chart, which was most of a filter change's time on the Overview (bench/README.md).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from lib.charts import CHART_CONFIG


def show_chart(figure: go.Figure, key: str, **selection: Any) -> Any:
    """``st.plotly_chart`` for the app's figures; ``selection`` is its ``on_select`` and
    ``selection_mode``, for charts a reader selects on."""
    return st.plotly_chart(figure, key=key, theme=None, config=CHART_CONFIG, **selection)
