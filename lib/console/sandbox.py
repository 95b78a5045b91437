"""The sandbox: a fresh DuckDB instance that can read the store and nothing else.

An in-memory database with the store attached ``READ_ONLY``, then no file or network
access, no extension install or load, no Python replacement scans, no persistent secrets,
no spilling to disk, one thread, a memory limit, no progress bar, and the configuration
locked so the query cannot undo any of it. A local Parquet dataset is attached as views over
its files, which are the only files the instance may open (``allowed_paths``); MotherDuck
and datasets behind URLs are not served (:func:`unavailable`), since the sandbox has no
network. It runs inside a worker process (:mod:`lib.console.worker`), and the page's schema
panel reads the store's columns through one too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from lib import dataset
from lib.console.errors import ConsoleUnavailable
from lib.console.limits import MAX_EXPRESSION_DEPTH, MEMORY_LIMIT
from lib.locator import Locator, locate

if TYPE_CHECKING:  # pandas is imported by DuckDB when a frame is asked for, not by workers
    import pandas as pd

ALIAS = "posts_db"  # the store, as the console's instance knows it

# Set when the instance is created: these cannot be changed at run time once locked.
CONFIG: dict[str, Any] = {
    "threads": 1,
    "memory_limit": MEMORY_LIMIT,
    "temp_directory": "",  # nothing spills to disk: a query that needs more fails
    "max_temp_directory_size": "0B",
    "max_expression_depth": MAX_EXPRESSION_DEPTH,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "allow_persistent_secrets": False,
    "python_enable_replacements": False,  # else a table name could scan a Python variable
}


def unavailable(db_path: str) -> str | None:
    """Why the console cannot serve this store, or None when it can.

    The sandbox turns off network access and extension loading before any query runs;
    MotherDuck and remote Parquet datasets need both for every read, so they are not
    offered rather than offered with a wall taken down.
    """
    locator = locate(db_path)
    if locator.kind == "motherduck":
        return (
            f"The SQL console is not available for {locator.describe()}: each query runs in a"
            " sandbox without network access or extensions, and MotherDuck needs both. The"
            " other pages read it as usual."
        )
    if locator.remote:
        return (
            f"The SQL console is not available for {locator.describe()}: each query runs in a"
            " sandbox without network access or extensions, and reading object storage or web"
            " URLs needs both (DuckDB's httpfs). The other pages read it as usual; a local copy"
            " of the dataset (python -m lib.export) works here."
        )
    return None


def open_sandbox(db_path: str) -> duckdb.DuckDBPyConnection:
    """A fresh DuckDB instance that can read the store and nothing else, and cannot change that.

    The store is attached before external access is turned off (attaching is external
    access), then the configuration is locked: ``SET``, ``RESET`` and ``PRAGMA`` can no
    longer undo any of it, even if a statement got past the checks. A Parquet dataset is
    attached as views (:func:`_attach_dataset`).
    """
    return _open_sandbox(db_path)[0]


def _open_sandbox(db_path: str) -> tuple[duckdb.DuckDBPyConnection, dict[str, int | None]]:
    """:func:`open_sandbox`, and the row counts a Parquet dataset's manifest gives (else none)."""
    why = unavailable(db_path)
    if why:
        raise ConsoleUnavailable(why)
    locator = locate(db_path)
    con = duckdb.connect(":memory:", config=dict(CONFIG))
    rows: dict[str, int | None] = {}
    try:
        if locator.kind == "parquet":
            rows = _attach_dataset(con, locator)
        else:
            con.execute(f"ATTACH ? AS {ALIAS} (READ_ONLY)", [str(db_path)])
        con.execute(f"USE {ALIAS}")
        con.execute("SET enable_progress_bar = false")  # it would print to the server's log
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con, rows


def _attach_dataset(con: duckdb.DuckDBPyConnection, locator: Locator) -> dict[str, int | None]:
    """A local Parquet dataset as the catalog ``posts_db``: one view per table.

    With external access off, DuckDB still reads the files listed in ``allowed_paths``
    and nothing else (checked: any other file, a glob, or ``..`` around the list is
    refused). A view is bound again at every query, so its files must be on that list;
    they are named relative to the dataset (resolved through ``file_search_path``, and
    listed both ways, as DuckDB checks both) so that ``duckdb_views()`` does not show
    where the dataset lives on the server.
    """
    found = dataset.tables(con, locator)
    relative = [file for table in found for file in table.files]
    absolute = [dataset.join(locator.location, file) for file in relative]
    con.execute("SET allowed_paths = ?", [absolute + relative])
    con.execute("SET file_search_path = ?", [str(Path(locator.location).resolve())])
    con.execute(f"ATTACH ':memory:' AS {ALIAS}")
    for table in found:
        con.execute(dataset.view_sql(table, None, catalog=ALIAS))
    return {table.name: table.rows for table in found}


def store_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ?"
        " UNION SELECT view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal",
        [ALIAS, ALIAS],
    ).fetchall()
    return {str(r[0]).lower() for r in rows}


def schema(db_path: str) -> pd.DataFrame:
    """Every table and column of the store (read live, so new tables appear), for the page."""
    con, rows = _open_sandbox(db_path)
    try:
        frame = con.execute(
            """
            SELECT c.table_name AS "table", c.column_name AS "column", c.data_type AS "type",
                   t.estimated_size AS "rows"
            FROM duckdb_columns() c
            LEFT JOIN duckdb_tables() t
              ON t.database_name = c.database_name AND t.schema_name = c.schema_name
             AND t.table_name = c.table_name
            WHERE c.database_name = ? AND c.schema_name = 'main'
            ORDER BY c.table_name = 'posts' DESC, c.table_name, c.column_index
            """,
            [ALIAS],
        ).df()
    finally:
        con.close()
    if rows:  # a dataset's tables are views: DuckDB estimates no size, the manifest counts
        frame["rows"] = frame["rows"].fillna(frame["table"].map(rows))
    return frame
