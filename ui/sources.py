"""The ``/data`` section on what a running app imports: the seed folder and the sources."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from lib.refresh import Status
from lib.safe_text import escape_markdown
from ui.store_access import refresh_statuses, sources


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


def _every(status: Status) -> str:
    if status.every_s is None:
        return "on change"
    minutes = status.every_s / 60
    return f"{minutes:g} min"


def refresh_section() -> None:
    """Each check's time and result; a failure, and a setting that was wrong, stand out."""
    statuses = refresh_statuses()
    problems = sources().problems
    if not statuses and not problems:
        return
    st.subheader("Sources")
    st.caption(
        "What the app imports while it runs: `data/seed/` when it changes, and each of the"
        " `sources` in the secrets on its schedule. A failure keeps the posts already imported."
    )
    for problem in problems:
        st.warning(escape_markdown(f"sources setting: {problem}"), icon=":material/warning:")
    for status in statuses:
        if status.error:
            error = status.error.removeprefix(f"{status.name}: ")  # said once is enough
            text = f"{status.name} failed at {_when(status.checked_at)}: {error}"
            st.error(escape_markdown(text), icon=":material/sync_problem:")
    rows = [
        {
            "source": status.name,
            "checked": _every(status),
            "last check": _when(status.checked_at),
            "result": status.outcome,
            "last success": _when(status.ok_at),
        }
        for status in statuses
    ]
    st.dataframe(rows, hide_index=True)
