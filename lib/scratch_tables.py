"""Where resolved searches keep their tables (``lib.selection``), and how old ones go.

The tables live in an in-memory database attached to the store's connection, so every
session and cursor of the process shares them, they count against DuckDB's memory limit
and spill like any other data, and a new store file (a new connection) starts afresh.
Past :data:`KEEP` searches the oldest are dropped. Where nothing can be attached, each
cursor keeps its own temporary tables, which is correct but recomputed per query.

A table is named ``<key>_<part>``: ``key`` names a search (``all`` for every post, never
dropped) and ``part`` what the table holds.

Each connection (a cursor: one per thread) reads them through its :class:`ScratchTables`
(:func:`of`), which attaches the database once and remembers the tables it has seen, so
that a search asks the catalogue little: a few small statements cost as much as a
search's bitmap at a million posts.
"""

from __future__ import annotations

import contextlib
import threading
import weakref

import duckdb

from lib.store import table_exists

SCHEMA = "selections"
KEEP = 16  # searches kept: a bitmap and day counts each (up to about 1 MB at a million
# posts), all within DuckDB's memory limit
REGISTRY = "kept_searches"  # a row per search noted: its key, and when
STORE_WIDE = "all"  # the key of tables about every post: kept as long as the store


class ScratchTables:
    """The kept tables as one connection sees them; take it from :func:`of`.

    It remembers what it has done through its connection (the database attached, the
    registry made, the tables seen), never across connections: another store's
    connection attaches its own. A table another session dropped since it was seen is
    found missing on reading; :meth:`lost` then makes it look again.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        # Weakly: :func:`of` keeps it as long as its connection, which it must not keep.
        self.con = weakref.proxy(con)
        self._schema: str | None = None
        self._seen: set[str] = set()  # qualified names of tables seen to exist
        self._registered: set[str] = set()  # keys of the searches it noted in the registry
        self._registry_made = False

    @property
    def schema(self) -> str:
        """The schema the tables go to: the shared in-memory database, attached through
        this connection once, or this cursor's temp."""
        if self._schema is None:
            try:
                self.con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCHEMA} (READ_WRITE)")
                self._schema = SCHEMA
            except duckdb.Error:  # a remote engine that attaches nothing local
                self._schema = "temp"
        return self._schema

    def existing(self, key: str, part: str) -> str | None:
        """The qualified name of the table ``<key>_<part>`` if it has been made, else ``None``."""
        table = f"{self.schema}.{key}_{part}"
        if table in self._seen:
            return table
        if table_exists(self.con, table):
            self._seen.add(table)
            return table
        return None

    def materialise(self, key: str, part: str, sql: str, params: list[object]) -> str:
        """The qualified name of the table ``<key>_<part>``, made from ``sql`` unless it
        exists; making a search's table may drop the tables of the oldest searches."""
        return self.existing(key, part) or self.make(key, part, sql, params)

    def make(self, key: str, part: str, sql: str, params: list[object]) -> str:
        """Like :meth:`materialise`, when :meth:`existing` has just found no table."""
        schema, name = self.schema, f"{key}_{part}"
        try:
            table = self._create(schema, name, sql, params)
        except duckdb.TransactionException:
            # Another session is making the same table and has not finished: rather than
            # wait for it, this cursor makes its own.
            if table_exists(self.con, f"{schema}.{name}"):
                return f"{schema}.{name}"
            return self._create("temp", name, sql, params)
        if schema == SCHEMA and key != STORE_WIDE:
            self._register(key)
        return table

    def lost(self, store_wide: bool = True) -> None:
        """Forget the tables seen (without ``store_wide``, those of searches only): a read
        found one gone (another session dropped it), or they were all dropped."""
        self._seen = {t for t in self._seen if not store_wide and _is_store_wide(t)}
        self._registered.clear()
        if store_wide:  # the registry too (``drop_all`` without it only empties it)
            self._registry_made = False

    def _create(self, schema: str, name: str, sql: str, params: list[object]) -> str:
        if schema == "temp":
            self.con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} AS {sql}", params)
        else:
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {schema}.{name} AS {sql}", params)
        self._seen.add(f"{schema}.{name}")
        return f"{schema}.{name}"

    def _register(self, key: str) -> None:
        """Note a new search in the registry, in one statement that also counts the
        searches kept; past :data:`KEEP`, drop the oldest. Its other tables need no note:
        a search's tables go together."""
        if key in self._registered:
            return
        try:
            if not self._registry_made:
                self._make_registry()
            try:
                searches = self._insert(key)
            except duckdb.CatalogException:  # dropped since (``drop_all``)
                self._make_registry()
                searches = self._insert(key)
        except duckdb.TransactionException:  # bookkeeping raced another session: next time
            return
        self._registered.add(key)
        if searches > KEEP:
            self._drop_oldest()

    def _make_registry(self) -> None:
        with contextlib.suppress(duckdb.TransactionException):  # another session made it
            self.con.execute(
                f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.{REGISTRY}
                    (key VARCHAR, made_at TIMESTAMP DEFAULT now(), searches INTEGER)"""
            )
        self._registry_made = True

    def _insert(self, key: str) -> int:
        """Add the search to the registry; the number of searches kept with it."""
        ((searches,),) = self.con.execute(
            f"""INSERT INTO {SCHEMA}.{REGISTRY} (key, searches)
                SELECT ?, count(DISTINCT key) FILTER (WHERE key <> ?) + 1
                FROM {SCHEMA}.{REGISTRY} RETURNING searches""",
            [key, key],
        ).fetchall()
        return int(searches)

    def _drop_oldest(self) -> None:
        """Drop every table but the newest :data:`KEEP` searches' and the store-wide ones:
        those of older searches, and any a race left out of the registry."""
        newest = f"""SELECT key FROM {SCHEMA}.{REGISTRY} GROUP BY key
                     ORDER BY max(made_at) DESC LIMIT ?"""
        try:
            old = self.con.execute(
                f"""SELECT table_name FROM duckdb_tables()
                    WHERE database_name = ? AND table_name <> ?
                      AND NOT starts_with(table_name, ?)
                      AND split_part(table_name, '_', 1) NOT IN ({newest})""",
                [SCHEMA, REGISTRY, f"{STORE_WIDE}_", KEEP],
            ).fetchall()
            for (name,) in old:
                self.con.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{name}")
                self._seen.discard(f"{SCHEMA}.{name}")
            self.con.execute(f"DELETE FROM {SCHEMA}.{REGISTRY} WHERE key NOT IN ({newest})", [KEEP])
        except duckdb.TransactionException:  # another session is dropping them too
            pass

    def drop_all(self, store_wide: bool = True) -> None:
        """Drop every table kept (without ``store_wide``, those of searches only, and the
        registry is emptied rather than dropped, as it stays in a running app)."""
        schema = self.schema
        tables = self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [schema]
        ).fetchall()
        for (name,) in tables:
            if store_wide or not (_is_store_wide(name) or name == REGISTRY):
                self.con.execute(f"DROP TABLE IF EXISTS {schema}.{name}")
            elif name == REGISTRY:
                self.con.execute(f"DELETE FROM {schema}.{name}")


def _is_store_wide(table: str) -> bool:
    """Whether ``table`` (maybe qualified) is about every post, not a search."""
    return table.rsplit(".", 1)[-1].startswith(f"{STORE_WIDE}_")


# Each connection's (cursor's) own ScratchTables, gone with the connection. Only the map is
# shared between threads; what each holds is about its connection alone.
_OF_CONNECTION: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, ScratchTables] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def of(con: duckdb.DuckDBPyConnection) -> ScratchTables:
    """The :class:`ScratchTables` of ``con``, made on first use."""
    with _LOCK:
        found = _OF_CONNECTION.get(con)
        if found is None:
            found = _OF_CONNECTION[con] = ScratchTables(con)
        return found


def existing(con: duckdb.DuckDBPyConnection, key: str, part: str) -> str | None:
    """The qualified name of the table ``<key>_<part>`` if it has been made, else ``None``."""
    return of(con).existing(key, part)


def materialise(
    con: duckdb.DuckDBPyConnection, key: str, part: str, sql: str, params: list[object]
) -> str:
    """:meth:`ScratchTables.materialise` through ``con``."""
    return of(con).materialise(key, part, sql, params)


def drop_all(con: duckdb.DuckDBPyConnection, store_wide: bool = True) -> None:
    """Drop every table kept (without ``store_wide``, those of searches only), so that a
    benchmark times resolutions, not the cache. Every connection forgets what it saw,
    since they share the tables."""
    of(con).drop_all(store_wide)
    with _LOCK:
        handles = list(_OF_CONNECTION.values())
    for handle in handles:
        handle.lost(store_wide)
