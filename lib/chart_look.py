"""The look every chart shares, as a Plotly template built once from the app's theme.

Charts are sent to the browser with ``theme=None``: Streamlit's own chart theme is applied
in the browser each time a chart mounts (a JSON round trip of the figure and extra
``Plotly.react`` calls, most of a filter change's time on the Overview, bench/README.md).
This template draws the same look from the figure itself: what Streamlit 1.67's theme
(``streamlit/elements/lib/streamlit_plotly_theme.py`` and the frontend's ``CustomTheme``)
resolves to under the light theme of ``.streamlit/config.toml``, whose background, text
colour and font stack are read from that file, so they are defined once.
"""

from __future__ import annotations

import tomllib
from typing import Any

from lib.config import REPO_ROOT

THEME_FILE = REPO_ROOT / ".streamlit" / "config.toml"
_THEME = tomllib.loads(THEME_FILE.read_text(encoding="utf-8"))["theme"]
BACKGROUND = _THEME["backgroundColor"]
TEXT = _THEME["textColor"]  # titles
FONT = _THEME["font"]  # Latin in Source Sans, Chinese in a Simplified Chinese face
# Streamlit's greys for a light background: gray70 for axis text and hovers, gray30 for
# grid, zero and tick lines, gray90 for legend entries.
AXIS_TEXT = "#808495"
GRID = "#e6eaf1"
LEGEND_TEXT = "#262730"
# Streamlit's categorical colours for a light background, for charts that name none
# (categories and topics have colours of their own).
COLORWAY = (
    "#0068c9", "#83c9ff", "#ff2b2b", "#ffabab", "#29b09d",
    "#7defa1", "#ff8700", "#ffd16a", "#6d3fc0", "#d5dae5",
)  # fmt: skip
# Its sizes in px (0.75, 0.875 and 1 rem at Streamlit's 16 px root) and spacings.
SMALL, MEDIUM, LARGE = 12, 14, 16
CLEAR = "rgba(0,0,0,0)"


def _hover_border(text: str, alpha: float = 0.2) -> str:
    """Streamlit's border colour: the text colour at a fifth of its strength."""
    red, green, blue = (int(text.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _axis(standoff: int) -> dict[str, Any]:
    return {
        "gridcolor": GRID,
        "minor": {"gridcolor": GRID},
        "zerolinecolor": GRID,
        "tickcolor": GRID,
        "tickfont": {"color": AXIS_TEXT, "size": SMALL},
        "title": {"font": {"color": AXIS_TEXT, "size": MEDIUM}, "standoff": standoff},
        "automargin": True,
    }


CHART_TEMPLATE: dict[str, Any] = {
    # Streamlit's template draws scatter markers without an outline.
    "data": {"scatter": [{"marker": {"line": {"width": 0}}}]},
    "layout": {
        "colorway": list(COLORWAY),
        "font": {"family": FONT, "size": SMALL, "color": AXIS_TEXT, "weight": 400},
        # Bold as Streamlit draws a title (it wraps the text in <b>).
        "title": {
            "font": {"family": FONT, "size": LARGE, "color": TEXT, "weight": 700},
            "pad": {"l": 4},
            "xanchor": "left",
            "x": 0,
        },
        "legend": {
            "title": {"font": {"size": SMALL, "color": AXIS_TEXT}, "side": "top"},
            "valign": "top",
            "bordercolor": CLEAR,
            "borderwidth": 0,
            "font": {"size": SMALL, "color": LEGEND_TEXT},
        },
        "paper_bgcolor": BACKGROUND,
        "plot_bgcolor": BACKGROUND,
        "xaxis": {**_axis(standoff=20), "showgrid": False, "zeroline": False},
        "yaxis": {**_axis(standoff=24), "ticklabelposition": "outside"},
        "margin": {"pad": 8, "r": 0, "l": 0},
        "hoverlabel": {
            "bgcolor": BACKGROUND,
            "bordercolor": _hover_border(TEXT),
            "font": {"color": AXIS_TEXT, "family": FONT, "size": SMALL},
        },
    },
}
