"""The floor tour with Overview charts that follow the filters (``bench.browser``).

``floor_tour``'s charts are constants, never sent again after a first visit, so its filter
steps cost no chart at all; the app's charts show the filtered posts and are mounted anew
on every filter change (Streamlit 1.67 names a Plotly chart by its figure). Here the two
tiny charts change with the search and the categories: what a filter step costs Streamlit,
Plotly and Chromium when two charts must be drawn again.
"""

from __future__ import annotations

from floor import overview  # this folder is on sys.path when Streamlit runs the app
from floor_tour import tour


def overview_following_filters() -> None:
    overview(follow_filters=True)


tour(overview_following_filters)
