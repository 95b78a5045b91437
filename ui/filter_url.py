"""The filters' URL parameters, written by the app so that each change is a history entry.

Streamlit 1.67 writes a widget bound with ``bind="query-params"`` to the URL with
``history.replaceState`` when the reader changes it, so Back never undid a filter change;
a URL written from Python (``st.query_params``) is applied with ``history.pushState``.
The filter widgets are therefore not bound: the URL is read into them when it changed
from outside (a first visit, a link, Back or Forward), and written after them when the
reader changed them. Links carry the filters themselves (``filter_params``), since
Streamlit carries only bound parameters to another page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import streamlit as st

from lib.filters import MAX_QUERY_CHARS, Filters
from ui.bad_params import parsed_date

KEYS = ("category", "from", "to", "q", "topic")
SEEN_KEY = "_filter_url_seen"  # the filter parameters the URL held when last read or written
MEANT_KEY = "_filter_url_meant"  # what they stood for: the filters as then applied

Params = dict[str, list[str]]


def current() -> Filters:
    """The filters as the widgets hold them now (also usable before they render)."""
    state = st.session_state
    return Filters(
        categories=tuple(state.get("category") or ()),
        start=state.get("from"),
        end=state.get("to"),
        q=(state.get("q") or "").strip(),
        topics=tuple(state.get("topic") or ()),
    )


def filter_params(filters: Filters) -> Params:
    """The filters as URL parameters, for the URL and for links that keep the view."""
    params: Params = {}
    if filters.categories:
        params["category"] = list(filters.categories)
    if filters.start:
        params["from"] = [filters.start.isoformat()]
    if filters.end:
        params["to"] = [filters.end.isoformat()]
    if filters.q:
        params["q"] = [filters.q]
    if filters.topics:
        params["topic"] = list(filters.topics)
    return params


def _in_url() -> Params:
    return {key: values for key in KEYS if (values := st.query_params.get_all(key))}


def _kept_day(values: list[str], earliest: date, latest: date) -> date | None:
    day = parsed_date(values[-1]) if values else None
    return day if day is not None and earliest <= day <= latest else None


def read_url(
    categories: Iterable[str], earliest: date, latest: date, renamed: dict[str, str | None]
) -> None:
    """Put the URL's filters into the filter widgets when the URL changed from outside.

    Only values the widgets can take: ``lib.bad_params`` names the others. A topic a refit
    named anew is read as its new name (``renamed``), one left with no topic is dropped.
    """
    state = st.session_state
    found = _in_url()
    if found == state.get(SEEN_KEY):
        return  # the URL is the one last read or written: the widgets hold the truth
    known = set(categories)
    state["category"] = [c for c in dict.fromkeys(found.get("category", [])) if c in known]
    state["from"] = _kept_day(found.get("from", []), earliest, latest)
    state["to"] = _kept_day(found.get("to", []), earliest, latest)
    state["q"] = (found.get("q") or [""])[-1][:MAX_QUERY_CHARS]
    topics = (renamed.get(t, t) for t in found.get("topic", []))
    state["topic"] = list(dict.fromkeys(t for t in topics if t and t.strip()))
    state[SEEN_KEY] = found
    state[MEANT_KEY] = filter_params(current())  # left as it is: bad values stay, named


def write_url(filters: Filters) -> None:
    """Write the filters to the URL (a new history entry) when the reader changed them."""
    state = st.session_state
    wanted = filter_params(filters)
    if wanted == state.get(MEANT_KEY):
        return
    # One update, so one history entry; an empty list leaves the parameter out of the URL.
    # Page 2 of one list is not page 2 of another: the page goes in the same entry.
    st.query_params.update({**{key: wanted.get(key, []) for key in KEYS}, "page": []})
    state[SEEN_KEY] = wanted
    state[MEANT_KEY] = wanted
