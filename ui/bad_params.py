"""URL parameters the app cannot use, each named in one visible line rather than dropped.

A widget cannot take some values (``from=garbage``, ``category=Nope``), and left
out without a word they showed the reader of a shared link another view than the
one meant. The filter parameters are checked before the filter panel reads them;
a page checks its own (``page``, ``sort``, ``interval``) where it knows what is valid.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import date

import streamlit as st
from streamlit.errors import StreamlitAPIException

from lib.safe_text import clip, escape_markdown

NOTES_KEY = "_ignored_params"  # this run's notes on the filter parameters
SHOWN_CHARS = 40  # of a bad value: enough to recognise it, never a wall of text


def parsed_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def note(key: str, value: str, why: str) -> str:
    """The line naming an ignored parameter (values come from the URL: escaped)."""
    shown = escape_markdown(clip(value, SHOWN_CHARS))
    return f":material/warning: Ignored `{key}` = {shown or '(empty)'}: {why}."


def show(notes: Iterable[str]) -> None:
    for line in notes:
        st.caption(line)


def check_filter_params(
    categories: Iterable[str], earliest: date, latest: date, renamed: dict[str, str | None]
) -> None:
    """Note the filter parameters of this URL that the filter panel will not apply, or
    applies as another value (``renamed``: topics a refit named anew, ``lib.topic_links``)."""
    params = st.query_params
    notes: list[str] = []
    dates: dict[str, date] = {}
    for key in ("from", "to"):
        for value in params.get_all(key):
            day = parsed_date(value)
            if day is None:
                notes.append(note(key, value, "not a date of the form YYYY-MM-DD"))
            elif not earliest <= day <= latest:
                notes.append(note(key, value, f"outside {earliest.year}–{latest.year}"))
            else:
                dates[key] = day
    if "from" in dates and "to" in dates and dates["from"] > dates["to"]:
        notes.append(
            f":material/warning: `from` ({dates['from']}) is after `to` ({dates['to']}),"
            " so no post can match: swap them."
        )
    known = set(categories)
    for value in params.get_all("category"):
        if value not in known:
            notes.append(note("category", value, "no such category, so every category is shown"))
    for value, now in renamed.items():
        if now is None:
            notes.append(note("topic", value, "no topic has that name or its terms since a refit"))
        else:
            notes.append(
                f":material/info: The topic {escape_markdown(clip(value, SHOWN_CHARS))} is now"
                f" named {escape_markdown(clip(now, SHOWN_CHARS))}: the topics were fitted"
                " again since the link was made."
            )
    st.session_state[NOTES_KEY] = notes


def filter_notes() -> list[str]:
    return list(st.session_state.get(NOTES_KEY) or ())


def check_choice(key: str, choices: Iterable[str]) -> None:
    """Note a page's own parameter whose value is not one of ``choices``, and drop it from
    the URL: a widget that cannot take it leaves it there, where it misleads on."""
    value = st.query_params.get(key)
    options = list(choices)
    if value is None or value in options:
        return
    st.caption(note(key, value, "not one of " + ", ".join(options)))
    # Once its widget has bound the parameter, Streamlit refuses to drop it (and the
    # widget's own value has replaced it by then).
    with contextlib.suppress(StreamlitAPIException):
        del st.query_params[key]
