"""The filters in force, as removable chips at the top of the main area.

On a phone the sidebar is hidden, so without them nothing on screen says that a
view is filtered. A chip's click changes the filter widget's state in a callback;
``ui.filter_url`` then writes the URL as a new history entry, so Back brings it back.
"""

from __future__ import annotations

import streamlit as st

from lib.filters import Filters
from lib.safe_text import clip, escape_markdown
from ui import bad_params

CHIP_CHARS = 30  # a long search or topic would push the other chips off a phone's screen


def reset_page() -> None:
    """Page 2 of one list is not page 2 of another: any change of the list starts at 1."""
    if "page" in st.session_state:
        st.session_state["page"] = "1"  # the page box holds text


def _remove(key: str, value: object) -> None:
    state = st.session_state
    if key in ("category", "topic"):
        state[key] = [v for v in state.get(key) or [] if v != value]
    elif key == "q":
        state[key] = ""
    else:
        state[key] = None
    reset_page()


def chips(filters: Filters) -> list[tuple[str, str, object]]:
    """``(label, key, value)`` of each filter in force, in the panel's order."""
    found: list[tuple[str, str, object]] = [(c, "category", c) for c in filters.categories]
    if filters.q:
        found.append((f"q: {filters.q}", "q", filters.q))
    found.extend((f"topic: {t}", "topic", t) for t in filters.topics)
    if filters.start:
        found.append((f"from {filters.start}", "from", filters.start))
    if filters.end:
        found.append((f"to {filters.end}", "to", filters.end))
    return found


def active_filters(filters: Filters) -> None:
    """The chips (each one removes its filter) and the notes on ignored URL parameters."""
    bad_params.show(bad_params.filter_notes())
    found = chips(filters)
    if not found:
        return
    row = st.container(horizontal=True, gap="small", vertical_alignment="center")
    row.caption("Filtered by", width="content")
    for index, (text, key, value) in enumerate(found):
        row.button(
            f"{escape_markdown(clip(text, CHIP_CHARS))} ✕",
            key=f"_chip_{index}",
            help=f"Remove this filter ({escape_markdown(clip(text, 200))})",
            on_click=_remove,
            args=(key, value),
        )
