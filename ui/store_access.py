"""The app's read-only connection and cached query results.

One read-only connection per store lives in ``st.cache_resource``; every query
takes its own cursor, since DuckDB connections must not be shared across the
threads that serve sessions. When an import swaps in a new file (or an export a new
dataset), the store's signature changes, so both the connection and the cached
results move on to it; a remote store's signature changes every few minutes
(``lib.store_kinds.REMOTE_REFRESH_S``). The imports of a running app (the seed folder, the
``sources`` secret) are ``lib.refresh``'s, started by the first run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import duckdb
import streamlit as st

from lib import refresh, selection, store_kinds
from lib.config import resolve_db
from lib.locator import StoreError
from lib.safe_text import escape_markdown
from lib.sources import Source, SourceList, resolve_sources

Store = tuple[str, store_kinds.Signature]
T = TypeVar("T")


def _secret_value(name: str) -> object:
    try:
        return st.secrets.get(name)
    except Exception:  # no secrets file: the usual case on a laptop
        return None


def _secret(name: str) -> str | None:
    value = _secret_value(name)
    return str(value) if value else None


def db_path() -> str:
    return resolve_db(secret=_secret("posts_db"))


def sources() -> SourceList:
    """The ``sources`` to keep importing (``POSTS_SOURCES``, else the secret)."""
    return resolve_sources(secret=_secret_value("sources"))


@st.cache_resource(show_spinner="Preparing the data…")
def _refresher(path: str, configured: tuple[Source, ...]) -> refresh.Refresher:
    # Keyed by the sources too, so that a change to the secrets reaches the refresher.
    return refresh.start(path, configured)


def refresh_statuses() -> list[refresh.Status]:
    """The last check of the seed folder and of each source, for ``/data``."""
    return _refresher(db_path(), sources().sources).statuses()


_LATEST: dict[str, duckdb.DuckDBPyConnection] = {}  # per store, the connection last opened


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(path: str, signature: store_kinds.Signature) -> duckdb.DuckDBPyConnection:
    # DuckDB keeps one database instance per file while any connection to it is open, so
    # a connection opened after an import swapped the file in would still read the old
    # file (and its resolved searches): close the old one first. Cursors already taken
    # from it finish their queries.
    previous = _LATEST.pop(path, None)
    if previous is not None:
        previous.close()
    # A StoreError propagates, and Streamlit does not cache it: the next run tries again.
    token = _secret("motherduck_token")
    connection = store_kinds.open_read_only(path, motherduck_token_secret=token)
    _LATEST[path] = connection
    threading.Thread(target=_prepare_search, args=(connection,), daemon=True).start()
    return connection


def _prepare_search(connection: duckdb.DuckDBPyConnection) -> None:
    """``lib.selection.prepare`` in the background, while the reader reads the first page,
    so that a first search does not wait for what every search needs."""
    try:
        cur = connection.cursor()
        try:
            selection.prepare(cur)
        finally:
            cur.close()
    except (duckdb.Error, ReferenceError):  # closed since (a new import), or no such tables
        pass


_THIS_RUN = threading.local()  # a run's code runs in its session's script thread


def signature() -> Store:
    """The store this run reads: its path and identity, with its refresher started.

    Resolved once a run, by ``require_store`` (``app.py`` calls it first): a page asks for
    a dozen results, and each lookup read two secrets, keyed the refresher and stat'ed the
    file again.
    """
    resolved = getattr(_THIS_RUN, "store", None)
    return resolved if resolved is not None else _resolve_store()


def _resolve_store() -> Store:
    path = db_path()
    _refresher(path, sources().sources)
    return path, store_kinds.signature(path)


def require_store() -> None:
    """Stop the run with a message when the store cannot be read (missing, or unreachable).

    Called by ``app.py`` before anything reads the store, so that the message is the page's
    content rather than a traceback from whichever widget asked first.
    """
    _THIS_RUN.store = None  # a thread may serve another run later: resolve anew
    try:
        store = _resolve_store()
        _connection(*store)
        _THIS_RUN.store = store
    except StoreError as exc:
        for status in refresh_statuses():  # the import that should have made the store
            if status.error:
                st.error(escape_markdown(f"{status.name}: {status.error}"), icon=":material/error:")
        st.error(escape_markdown(exc.message), icon=":material/error:")
        if exc.command:
            st.code(exc.command, language="bash")
        st.stop()


def cursor() -> duckdb.DuckDBPyConnection:
    path, sig = signature()
    return _connection(path, sig).cursor()


@st.cache_data(max_entries=512, show_spinner=False)
def _cached(
    name: str, store: Store, asked: str, _question: Callable[..., T], _args: tuple[Any, ...]
) -> T:
    # Keyed by strings: ``asked`` is the arguments' repr, since Streamlit hashes a
    # dataclass by pickling it, 1 ms a lookup and a dozen lookups a run; ``_question`` and
    # ``_args`` are not hashed.
    cur = _connection(*store).cursor()
    try:
        return _question(cur, *_args)
    finally:
        cur.close()


def run(question: Callable[..., T], *args: Any) -> T:
    """``question(cursor, *args)``, a question of ``lib.queries`` or ``lib.topics``, cached
    per store file and arguments (plain values and ``Filters``, whose repr says them all)."""
    name = f"{question.__module__}.{question.__qualname__}"
    return _cached(name, signature(), repr(args), question, args)
