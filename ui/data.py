"""The app's read-only connection and cached query results.

One read-only connection per store file lives in ``st.cache_resource``; every
query takes its own cursor, since DuckDB connections must not be shared across
the threads that serve sessions. When an import swaps in a new file, its
signature changes, so both the connection and the cached results move on to it.
"""

from __future__ import annotations

from typing import Any

import duckdb
import streamlit as st

from lib import queries, topics
from lib.bootstrap import ensure_seeded
from lib.config import resolve_db
from lib.store import connect_read_only, file_signature


def db_path() -> str:
    secret = None
    try:
        secret = st.secrets.get("posts_db")
    except Exception:  # no secrets file: the usual case on a laptop
        secret = None
    return resolve_db(secret=secret)


@st.cache_resource(show_spinner="Preparing the bundled data…")
def _seeded(path: str) -> bool:
    return ensure_seeded(path)


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(path: str, signature: tuple[int, int] | None) -> duckdb.DuckDBPyConnection:
    return connect_read_only(path)


def signature() -> tuple[str, tuple[int, int] | None]:
    path = db_path()
    _seeded(path)
    return path, file_signature(path)


def cursor() -> duckdb.DuckDBPyConnection:
    path, sig = signature()
    return _connection(path, sig).cursor()


_MODULES = {"queries": queries, "topics": topics}


@st.cache_data(max_entries=512, show_spinner=False)
def _cached(name: str, store: tuple[str, tuple[int, int] | None], args: tuple[Any, ...]) -> Any:
    module, _, function = name.rpartition(".")
    cur = _connection(*store).cursor()
    try:
        return getattr(_MODULES[module or "queries"], function)(cur, *args)
    finally:
        cur.close()


def run(name: str, *args: Any) -> Any:
    """``lib.queries.<name>(cursor, *args)`` (or ``lib.topics`` for ``"topics.<name>"``),
    cached per store file and arguments."""
    return _cached(name, signature(), args)
