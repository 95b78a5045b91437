"""Opening any kind of store read-only, and telling when it has changed.

The app, the tests and the benchmarks call :func:`open_read_only` with whatever
``POSTS_DB`` says (see ``lib.locator`` for the kinds) and get a DuckDB connection on
which the store's tables answer by their usual names:

- a DuckDB file: the file, opened read-only (as before);
- a Parquet dataset: an in-memory DuckDB with one view per table (``lib.dataset``);
- MotherDuck: ``duckdb.connect("md:NAME")`` with a token, through DuckDB's
  ``motherduck`` extension, which DuckDB downloads on first use.

``lib`` never imports Streamlit, so the UI passes the ``motherduck_token`` secret in.
"""

from __future__ import annotations

import os
import time

import duckdb

from lib import dataset
from lib.locator import Locator, StoreMissing, StoreUnavailable, locate
from lib.store import READ_LIMITS, connect_read_only, file_signature

Signature = tuple[int, ...] | None
# A remote store has no file to watch: the app re-reads it this often at most.
REMOTE_REFRESH_S = 300
TOKEN_VARS = ("motherduck_token", "MOTHERDUCK_TOKEN")


def signature(target: Locator | str) -> Signature:
    """Identity of the store now: changes when it is replaced; None when it does not exist.

    A DuckDB file: its inode and modification time (an import swaps in a new file). A local
    dataset: its folder's inode and its files' newest time, count and size. A remote store:
    the current :data:`REMOTE_REFRESH_S` period, so that cached results expire.
    """
    locator = locate(target) if isinstance(target, str) else target
    if locator.remote:
        return (int(time.time() // REMOTE_REFRESH_S),)
    if locator.kind == "parquet":
        return dataset.local_signature(locator.location)
    return file_signature(locator.location)


def motherduck_token(secret: str | None = None) -> str | None:
    """The token from the environment (``motherduck_token`` or ``MOTHERDUCK_TOKEN``), else
    the Streamlit secret ``motherduck_token`` that the app passes in."""
    for name in TOKEN_VARS:
        if os.environ.get(name):
            return os.environ[name]
    return secret or None


def open_read_only(
    target: Locator | str, *, motherduck_token_secret: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection on which the store's tables can be read, whatever kind of store it is.

    Raises :class:`lib.locator.StoreError` (missing, or cannot be opened here) with a
    message fit to show; never creates a store that is not there.
    """
    locator = locate(target) if isinstance(target, str) else target
    if locator.kind == "motherduck":
        return _open_motherduck(locator, motherduck_token(motherduck_token_secret))
    if locator.kind == "parquet":
        return _open_dataset(locator)
    if not os.path.isfile(locator.location):
        raise StoreMissing(
            f"The store {locator.location} does not exist. Import posts into it, or unset"
            " POSTS_DB (and the posts_db secret) to use the bundled data.",
            command=f"python -m lib.ingest --db {locator.location} SOURCE...",
        )
    return connect_read_only(locator.location)


def _open_dataset(locator: Locator) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config=READ_LIMITS)
    try:
        dataset.create_views(con, locator, dataset.tables(con, locator))
    except BaseException:
        con.close()
        raise
    return con


def _open_motherduck(locator: Locator, token: str | None) -> duckdb.DuckDBPyConnection:
    if not token:
        # Without a token MotherDuck starts an interactive browser login, which a server
        # cannot finish: refuse rather than hang.
        raise StoreUnavailable(
            f"{locator.describe()} needs a MotherDuck token: set motherduck_token in"
            " .streamlit/secrets.toml, or the environment variable motherduck_token."
        )
    try:
        return duckdb.connect(locator.location, config={"motherduck_token": token})
    except duckdb.Error as exc:
        text = str(exc).replace(token, "<token>")
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        if "extension" in text.lower():
            raise StoreUnavailable(
                f"Cannot open {locator.describe()}: DuckDB's motherduck extension could not"
                " be loaded. DuckDB downloads it on first use, which needs network access"
                " (extensions.duckdb.org), and MotherDuck itself needs the network too."
                f" DuckDB said: {first}"
            ) from None
        raise StoreUnavailable(f"Cannot open {locator.describe()}: {first}") from None
