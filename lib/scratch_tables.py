"""Where resolved searches keep their tables (``lib.selection``), and how old ones go.

The tables live in an in-memory database attached to the store's connection, so every
session and cursor of the process shares them, they count against DuckDB's memory limit
and spill like any other data, and a new store file (a new connection) starts afresh.
Past :data:`KEEP` searches the oldest are dropped. Where nothing can be attached, each
cursor keeps its own temporary tables, which is correct but recomputed per query.

A table is named ``<key>_<part>``: ``key`` names a search (``all`` for every post, never
dropped) and ``part`` what the table holds.
"""

from __future__ import annotations

import contextlib

import duckdb

from lib.store import table_exists

SCHEMA = "selections"
KEEP = 16  # searches kept: a bitmap and day counts each (up to about 1 MB at a million
# posts), all within DuckDB's memory limit
REGISTRY = "kept_searches"  # a row per table made for a search: its key, and when
STORE_WIDE = "all"  # the key of tables about every post: kept as long as the store


def _schema(con: duckdb.DuckDBPyConnection) -> str:
    """The schema the tables go to: the shared in-memory database, or this cursor's temp."""
    try:
        con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCHEMA} (READ_WRITE)")
    except duckdb.Error:  # a remote engine that attaches nothing local
        return "temp"
    return SCHEMA


def existing(con: duckdb.DuckDBPyConnection, key: str, part: str) -> str | None:
    """The qualified name of the table ``<key>_<part>`` if it has been made, else ``None``."""
    table = f"{_schema(con)}.{key}_{part}"
    return table if table_exists(con, table) else None


def _create_table(
    con: duckdb.DuckDBPyConnection, schema: str, name: str, sql: str, params: list[object]
) -> str:
    if schema == "temp":
        con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} AS {sql}", params)
    else:
        con.execute(f"CREATE TABLE IF NOT EXISTS {schema}.{name} AS {sql}", params)
    return f"{schema}.{name}"


def materialise(
    con: duckdb.DuckDBPyConnection, key: str, part: str, sql: str, params: list[object]
) -> str:
    """The qualified name of the table ``<key>_<part>``, made from ``sql`` unless it exists;
    making a search's table may drop the tables of the oldest searches."""
    schema = _schema(con)
    name = f"{key}_{part}"
    if table_exists(con, f"{schema}.{name}"):
        return f"{schema}.{name}"
    try:
        table = _create_table(con, schema, name, sql, params)
    except duckdb.TransactionException:
        # Another session is making the same table and has not finished: rather than
        # wait for it, this cursor makes its own.
        if table_exists(con, f"{schema}.{name}"):
            return f"{schema}.{name}"
        return _create_table(con, "temp", name, sql, params)
    if schema == SCHEMA and key != STORE_WIDE:
        _register(con, key)
    return table


def _register(con: duckdb.DuckDBPyConnection, key: str) -> None:
    with contextlib.suppress(duckdb.TransactionException):  # another session made it
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{REGISTRY}"
            " (key VARCHAR, made_at TIMESTAMP DEFAULT now())"
        )
    try:
        con.execute(f"INSERT INTO {SCHEMA}.{REGISTRY} (key) VALUES (?)", [key])
        _drop_oldest(con)
    except duckdb.TransactionException:  # bookkeeping raced another session: next time
        pass


def _drop_oldest(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every table of the searches made before the newest ``KEEP``."""
    old = con.execute(
        f"""SELECT key FROM {SCHEMA}.{REGISTRY} GROUP BY key
            ORDER BY max(made_at) DESC OFFSET ?""",
        [KEEP],
    ).fetchall()
    for (key,) in old:
        tables = con.execute(
            """SELECT table_name FROM duckdb_tables()
               WHERE database_name = ? AND starts_with(table_name, ?)""",
            [SCHEMA, f"{key}_"],
        ).fetchall()
        try:
            for (name,) in tables:
                con.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{name}")
            con.execute(f"DELETE FROM {SCHEMA}.{REGISTRY} WHERE key = ?", [key])
        except duckdb.TransactionException:  # another session is dropping it too
            pass


def drop_all(con: duckdb.DuckDBPyConnection, store_wide: bool = True) -> None:
    """Drop every table kept (without ``store_wide``, those of searches only), so that a
    benchmark times resolutions, not the cache."""
    schema = _schema(con)
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [schema]
    ).fetchall()
    for (name,) in tables:
        if not store_wide and name.startswith(f"{STORE_WIDE}_"):
            continue
        con.execute(f"DROP TABLE IF EXISTS {schema}.{name}")
