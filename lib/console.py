"""The SQL console: one read-only query at a time over the store, for anyone on the internet.

The console is the one place where strangers write code that the server runs, so three
independent layers stand between a query and anything it should not touch; a mistake in
one is caught by the next.

1. **The statement is checked before it runs.** It must be exactly one statement of
   DuckDB's ``SELECT`` type (which covers ``WITH``, ``FROM``-first queries, ``VALUES``,
   ``DESCRIBE``, ``SUMMARIZE`` and ``SHOW TABLES``). Its parse tree (DuckDB's own
   ``json_serialize_sql``) is walked, and every table it names must be one of the store's
   tables, a ``WITH`` name in scope, or a catalog view that describes the schema; every
   table function must be on a short list (``range``, ``unnest`` …); functions that read
   files or URLs, show settings or run other SQL are refused by name. Refusals say what
   was refused and why (:class:`ConsoleRefused`).
2. **It runs in a DuckDB instance of its own**: an in-memory database with the store
   attached ``READ_ONLY``, then no file or network access, no extension install or load,
   no Python replacement scans, no persistent secrets, no spilling to disk, one thread, a
   memory limit, and the configuration locked so the query cannot undo any of it. The
   instance is thrown away after the query, so nothing a query does outlives it. A local
   Parquet dataset is attached as views over its files, which are the only files the
   instance may open (``allowed_paths``); MotherDuck and datasets behind URLs are not
   served (:func:`unavailable`), since the sandbox has no network.
3. **It runs on a worker thread under a time limit**: past it the query is interrupted
   (:class:`ConsoleTimeout`). At most ``max_rows`` rows and ``max_bytes`` bytes of result
   are kept. A few queries run at once at most (the others wait briefly for a slot), so a
   crowd of heavy queries cannot take the server's memory from the rest of the app.

``lib`` never imports Streamlit: ``pages/sql.py`` renders what this module returns.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.compute as pc

from lib import dataset
from lib.charts import plain
from lib.locator import Locator, StoreError, locate

DEFAULT_TIMEOUT_S = 5.0
MAX_ROWS = 10_000
MAX_RESULT_BYTES = 16 * 1024 * 1024
MAX_SQL_CHARS = 20_000
MEMORY_LIMIT = "256MB"
MAX_CONCURRENT = 4  # queries running at once, each with its own memory limit
MAX_EXPRESSION_DEPTH = 200  # keeps the parse tree shallow enough to walk in Python
MAX_MESSAGE_CHARS = 2_000
CANCEL_GRACE_S = 5.0  # how long a cancelled query may take to stop before we stop waiting
ALIAS = "posts_db"  # the store, as the console's instance knows it

# Set when the instance is created: these cannot be changed at run time once locked.
_CONFIG: dict[str, Any] = {
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

# Table functions a query may call: they generate or reshape values and read nothing.
ALLOWED_TABLE_FUNCTIONS = frozenset(
    {
        "range",
        "generate_series",
        "unnest",
        "json_each",
        "json_tree",
        "duckdb_tables",
        "duckdb_columns",
        "duckdb_views",
        "duckdb_types",
        "duckdb_functions",
        "duckdb_keywords",
        "duckdb_constraints",
        "duckdb_indexes",
        "duckdb_schemas",
        "pragma_table_info",
        "pragma_show",
    }
)
# Catalog views that describe the schema (and nothing about the server).
ALLOWED_SYSTEM_VIEWS = frozenset(
    {
        "duckdb_tables",
        "duckdb_columns",
        "duckdb_views",
        "duckdb_types",
        "duckdb_constraints",
        "duckdb_indexes",
        "duckdb_schemas",
    }
)
SHOW_SPECIALS = frozenset({"tables", "__show_tables_expanded"})  # SHOW [ALL] TABLES
# Functions that read files or URLs, by name or prefix: refused wherever they appear.
FILE_FUNCTIONS = frozenset(
    {
        "glob",
        "sniff_csv",
        "query",
        "query_table",
        "arrow_scan",
        "arrow_scan_dumb",
        "python_arrow_scan",
        "pandas_scan",
        "python_map_function",
        "seq_scan",
    }
)
FILE_PREFIXES = ("read_", "parquet_", "iceberg_", "delta_", "sqlite_", "postgres_", "mysql_")
# Scalar functions that show the server's settings, run other SQL, touch files or block.
DENIED_FUNCTIONS = {
    "current_setting": "it shows the server's settings",
    "getenv": "it shows the server's environment",
    "json_execute_serialized_sql": "it runs other SQL",
    "copy_database": "it writes",
    "import_database": "it reads files",
    "database_list": "it shows where the store lives",
    "database_size": "it shows the server's storage",
    "show_databases": "it shows where the store lives",
    "write_log": "it writes to the server's log",
    "enable_profile": "it changes settings",
    "disable_profile": "it changes settings",
    "extension_versions": "it shows the server's extensions",
    "sleep_ms": "it only holds the server",
    "pg_sleep": "it only holds the server",
}
_FORMS = "SELECT, WITH … SELECT, FROM …, VALUES, DESCRIBE, SUMMARIZE or SHOW TABLES"

_slots = threading.BoundedSemaphore(MAX_CONCURRENT)
_parser_lock = threading.Lock()
_parser: duckdb.DuckDBPyConnection | None = None


# --- Outcomes ---------------------------------------------------------------------------------


class ConsoleError(Exception):
    """A query that gave no result; ``message`` is fit to show the person who wrote it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConsoleRefused(ConsoleError):
    """The query was not run: it is not a read-only query over the store's tables."""


class ConsoleTimeout(ConsoleError):
    """The query ran past the time limit and was cancelled."""


class ConsoleUnavailable(ConsoleError):
    """The console cannot serve this kind of store (see :func:`unavailable`)."""


class ConsoleBusy(ConsoleError):
    """Every slot was taken for as long as the query was willing to wait; worth retrying."""


@dataclass(frozen=True)
class ConsoleResult:
    """The rows a query gave, at most ``MAX_ROWS`` of them, as a DataFrame for display."""

    sql: str
    frame: pd.DataFrame
    truncated: bool  # rows were left out (see ``limit_reason``)
    limit_reason: str | None  # "rows" or "bytes" when truncated
    seconds: float
    max_rows: int = MAX_ROWS
    max_bytes: int = MAX_RESULT_BYTES

    @property
    def rows(self) -> int:
        return len(self.frame)

    def describe(self) -> str:
        """One line for the reader: how many rows, and whether some were left out."""
        n = f"{self.rows:,} row{'s' if self.rows != 1 else ''}"
        if not self.truncated:
            return f"{n} in {self.seconds:.2f} s"
        why = (
            f"the first {self.max_rows:,} rows"
            if self.limit_reason == "rows"
            else f"the first {self.max_bytes / (1024 * 1024):.3g} MB"
        )
        return f"{n} in {self.seconds:.2f} s: the result was cut to {why}; add a LIMIT or filter"

    def csv(self) -> bytes:
        """The rows as CSV, with a BOM so that spreadsheet programs read Chinese right."""
        return b"\xef\xbb\xbf" + self.frame.to_csv(index=False).encode("utf-8")


# --- Checking a statement ---------------------------------------------------------------------


@dataclass
class Checked:
    """A statement that passed the checks that need no store: its text and what it names."""

    sql: str
    tables: list[tuple[str, str, str]] = field(default_factory=list)  # (catalog, schema, name)


def _parser_cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on a locked-down instance that holds no data and is only used to parse."""
    global _parser
    with _parser_lock:
        if _parser is None:
            con = duckdb.connect(":memory:", config=dict(_CONFIG))
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            _parser = con
        return _parser.cursor()


def _clean(sql: object) -> str:
    if not isinstance(sql, str):
        raise ConsoleRefused("The query must be text.")
    text = sql.strip()
    if not text:
        raise ConsoleRefused("Write a query first.")
    if len(text) > MAX_SQL_CHARS:
        raise ConsoleRefused(
            f"The query is {len(text):,} characters long; the limit is {MAX_SQL_CHARS:,}."
        )
    if "\x00" in text:
        raise ConsoleRefused("The query contains a NUL character.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ConsoleRefused("The query is not valid Unicode text.") from None
    return text


_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_KEYWORD = re.compile(r"[A-Za-z_]+")


def _keyword(statement_sql: str, kind: str) -> str:
    """What to call a refused statement: its first keyword (``RESET``), else its type."""
    rest = statement_sql[_LEADING_NOISE.match(statement_sql).end() :]
    found = _KEYWORD.match(rest)
    word = found.group().upper() if found else ""
    if not word or word in ("WITH", "SELECT", "FROM"):
        return kind.replace("_", " ")
    return word


def check_statement(sql: str) -> Checked:
    """Refuse anything but one read-only query; list the tables it names for :func:`run_console`.

    Needs no store, so a refusal costs no connection to it.
    """
    text = _clean(sql)
    cur = _parser_cursor()
    try:
        try:
            statements = cur.extract_statements(text)
        except duckdb.Error as exc:
            raise ConsoleError(_message(exc)) from None
        if not statements:
            raise ConsoleRefused("There is no statement to run: the text holds only comments.")
        for statement in statements:
            try:
                kind = statement.type.name
            except ValueError:  # a type the Python client has no name for (UPDATE EXTENSIONS)
                kind = "UNKNOWN"
            if kind != "SELECT":
                refused = _keyword(statement.query, kind)
                raise ConsoleRefused(
                    f"Only read-only queries can run here: {refused} is refused."
                    f" Write one {_FORMS}."
                )
        if len(statements) > 1:
            raise ConsoleRefused(
                f"Run one statement at a time: the text holds {len(statements)} statements."
            )
        query = statements[0].query
        try:
            rows = cur.execute("SELECT json_serialize_sql(?)", [query]).fetchall()
        except duckdb.Error as exc:
            raise ConsoleError(_message(exc)) from None
    finally:
        cur.close()
    try:
        tree = json.loads(rows[0][0])
    except RecursionError:
        raise ConsoleRefused("The query is nested too deeply to check.") from None
    if tree.get("error"):
        why = str(tree.get("error_message") or "no reason given")
        raise ConsoleRefused(_message_text(f"The query could not be checked: {why}"))
    return Checked(sql=query, tables=list(_walk(tree)))


def _walk(tree: Any) -> Iterator[tuple[str, str, str]]:
    """Every table the parse tree reads, checking functions on the way.

    Yields ``(catalog, schema, name)`` of tables that are not ``WITH`` names in scope.
    A ``WITH`` name is in scope inside the query that defines it and in the definitions
    after (and of) it, so a name cannot hide a system view outside its own query.
    """
    stack: list[tuple[Any, frozenset[str]]] = [(tree, frozenset())]
    while stack:
        node, scope = stack.pop()
        if isinstance(node, list):
            stack.extend((item, scope) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        ctes = node.get("cte_map")
        if isinstance(ctes, dict) and ctes.get("map"):
            entries = ctes["map"]
            names = [str(entry.get("key", "")).lower() for entry in entries]
            for i, entry in enumerate(entries):
                stack.append((entry.get("value"), scope | frozenset(names[: i + 1])))
            scope = scope | frozenset(names)
            node = {key: value for key, value in node.items() if key != "cte_map"}
        kind = node.get("type")
        if kind == "BASE_TABLE":
            ref = _ref(node)
            if not (ref[0] == ref[1] == "" and ref[2] in scope):
                yield ref
        elif kind == "SHOW_REF":
            yield from _show_ref(node, scope)
        elif kind == "TABLE_FUNCTION":
            _check_table_function(node.get("function") or {})
        if "function_name" in node:
            _check_function(str(node["function_name"]))
        stack.extend((value, scope) for value in node.values())


def _ref(node: dict[str, Any]) -> tuple[str, str, str]:
    return (
        str(node.get("catalog_name") or "").lower(),
        str(node.get("schema_name") or "").lower(),
        str(node.get("table_name") or "").lower(),
    )


def _show_ref(node: dict[str, Any], scope: frozenset[str]) -> Iterator[tuple[str, str, str]]:
    show = node.get("show_type")
    name = str(node.get("table_name") or "").strip('"').lower()
    if show == "SHOW_SPECIAL":
        if name not in SHOW_SPECIALS:
            raise ConsoleRefused(f"SHOW {name.upper()} is not available here; SHOW TABLES is.")
    elif name and not (node.get("catalog_name") or node.get("schema_name")) and name in scope:
        return
    elif name:
        yield _ref(node)


def _is_file_function(name: str) -> bool:
    return name in FILE_FUNCTIONS or name.startswith(FILE_PREFIXES)


def _check_function(raw: str) -> None:
    name = raw.lower()
    if _is_file_function(name):
        raise ConsoleRefused(
            f"{raw}() reads files, URLs or other SQL; the console reads only the store's tables."
        )
    if name in DENIED_FUNCTIONS:
        raise ConsoleRefused(f"{raw}() is not available here: {DENIED_FUNCTIONS[name]}.")


def _check_table_function(function: dict[str, Any]) -> None:
    raw = str(function.get("function_name") or "")
    _check_function(raw)
    if raw.lower() not in ALLOWED_TABLE_FUNCTIONS:
        allowed = ", ".join(sorted(ALLOWED_TABLE_FUNCTIONS))
        raise ConsoleRefused(
            f"The table function {raw}() is not available here; these are: {allowed}."
        )


def check_tables(refs: list[tuple[str, str, str]], tables: set[str]) -> None:
    """Refuse a table that is not the store's own or a schema-describing catalog view."""
    for catalog, schema, name in refs:
        store = catalog in ("", ALIAS) and (
            schema in ("", "main") or (catalog == "" and schema == ALIAS)
        )
        if store and name in tables:
            continue
        if schema == "information_schema" and catalog in ("", ALIAS, "system"):
            continue
        if name in ALLOWED_SYSTEM_VIEWS and catalog in ("", "system") and schema in ("", "main"):
            continue
        shown = ".".join(part for part in (catalog, schema, name) if part)
        raise ConsoleRefused(
            f"Unknown table {shown!r}: the console reads only the store's tables"
            f" ({', '.join(sorted(tables))}) and information_schema."
        )


# --- The sandbox ------------------------------------------------------------------------------


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


def sandbox(db_path: str) -> duckdb.DuckDBPyConnection:
    """A fresh DuckDB instance that can read the store and nothing else, and cannot change that.

    The store is attached before external access is turned off (attaching is external
    access), then the configuration is locked: ``SET``, ``RESET`` and ``PRAGMA`` can no
    longer undo any of it, even if a statement got past the checks. A Parquet dataset is
    attached as views (:func:`_attach_dataset`).
    """
    return _open_sandbox(db_path)[0]


def _open_sandbox(db_path: str) -> tuple[duckdb.DuckDBPyConnection, dict[str, int | None]]:
    """:func:`sandbox`, and the row counts a Parquet dataset's manifest gives (else none)."""
    why = unavailable(db_path)
    if why:
        raise ConsoleUnavailable(why)
    locator = locate(db_path)
    con = duckdb.connect(":memory:", config=dict(_CONFIG))
    rows: dict[str, int | None] = {}
    try:
        if locator.kind == "parquet":
            rows = _attach_dataset(con, locator)
        else:
            con.execute(f"ATTACH ? AS {ALIAS} (READ_ONLY)", [str(db_path)])
        con.execute(f"USE {ALIAS}")
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


# --- Running a query --------------------------------------------------------------------------


@dataclass
class _Run:
    """What the worker thread and the waiting caller share.

    The worker hands back a result or an error's class and message, never an exception
    object: a traceback would keep the worker's frames (and its DuckDB objects) alive.
    """

    con: duckdb.DuckDBPyConnection | None = None
    result: ConsoleResult | None = None
    error: tuple[type[ConsoleError], str] | None = None
    cancelled: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_console(
    db_path: str,
    sql: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_RESULT_BYTES,
) -> ConsoleResult:
    """Run one read-only query over the store, or raise a :class:`ConsoleError` that says why not.

    Never raises anything else for any ``sql``: errors from DuckDB become messages.
    """
    checked = check_statement(sql)
    if not _slots.acquire(timeout=timeout_s):
        raise ConsoleBusy("The console is busy with other queries; try again in a moment.")
    run = _Run()
    # Not a daemon: a daemon thread still inside DuckDB when the interpreter exits aborts it.
    worker = threading.Thread(
        target=_work,
        args=(run, str(db_path), checked, max_rows, max_bytes),
        name="sql-console",
    )
    try:
        worker.start()
    except BaseException:
        _slots.release()
        raise
    if not run.done.wait(timeout_s):
        _cancel(run)
        raise ConsoleTimeout(
            f"Query cancelled after {timeout_s:g} s, the time limit. Add a LIMIT or a filter,"
            " or aggregate before joining."
        )
    worker.join()  # it has finished its work; let it finish exiting too
    if run.result is not None:
        return run.result
    kind, message = run.error or (ConsoleError, "The query failed.")
    raise kind(message)


def _cancel(run: _Run) -> None:
    """Interrupt until the worker stops (or the grace period ends: it then stops on its own)."""
    with run.lock:
        run.cancelled = True
    deadline = time.monotonic() + CANCEL_GRACE_S
    while not run.done.is_set() and time.monotonic() < deadline:
        with run.lock:
            if run.con is not None:
                run.con.interrupt()
        run.done.wait(0.05)


def _work(run: _Run, db_path: str, checked: Checked, max_rows: int, max_bytes: int) -> None:
    try:
        _attempt(run, db_path, checked, max_rows, max_bytes)
    except ConsoleError as exc:
        run.error = (type(exc), exc.message)
    except StoreError as exc:  # a dataset that is missing, or whose manifest is unusable
        run.error = (ConsoleError, _message_text(_hide_store(exc.message, db_path)))
    except (duckdb.Error, pa.ArrowException, OSError) as exc:
        # An error while streaming arrives from Arrow's reader as an OSError with DuckDB's message.
        run.error = (ConsoleError, _message(exc, db_path))
    except MemoryError:
        run.error = (ConsoleError, "The query needs more memory than the console allows.")
    except Exception as exc:  # the reader must get a message, whatever broke
        run.error = (ConsoleError, f"The query failed ({type(exc).__name__}).")
    finally:
        _slots.release()
        run.done.set()


def _attempt(run: _Run, db_path: str, checked: Checked, max_rows: int, max_bytes: int) -> None:
    """Open a sandbox, run the query in it, and close it (before the caller hears of it)."""
    started = time.perf_counter()
    con = sandbox(db_path)
    try:
        with run.lock:
            if run.cancelled:
                return
            run.con = con
        check_tables(checked.tables, store_tables(con))
        table, reason = _read(con, checked.sql, max_rows, max_bytes)
    finally:
        with run.lock:
            run.con = None
        con.close()
    run.result = ConsoleResult(
        sql=checked.sql,
        frame=to_frame(table),
        truncated=reason is not None,
        limit_reason=reason,
        seconds=time.perf_counter() - started,
        max_rows=max_rows,
        max_bytes=max_bytes,
    )


def _read(
    con: duckdb.DuckDBPyConnection, sql: str, max_rows: int, max_bytes: int
) -> tuple[pa.Table, str | None]:
    """At most ``max_rows`` rows and about ``max_bytes`` bytes, streamed: the rest is never made."""
    reader = con.sql(sql).to_arrow_reader(2048)
    batches: list[pa.RecordBatch] = []
    rows = size = 0
    reason: str | None = None
    for batch in reader:
        batches.append(batch)
        rows += batch.num_rows
        size += batch.nbytes
        if rows > max_rows:
            reason = "rows"
            break
        if size > max_bytes:
            reason = "bytes"
            break
    table = pa.Table.from_batches(batches, schema=reader.schema)
    if reason == "bytes":
        # Keep the share of the last batch that still fits in the budget.
        last = batches[-1]
        room = max_bytes - (size - last.nbytes)
        keep = rows - last.num_rows + int(last.num_rows * room / max(last.nbytes, 1))
        table = table.slice(0, max(keep, 0))
    return table.slice(0, max_rows), reason


_SIMPLE = (
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_boolean,
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_date,
    pa.types.is_timestamp,
    pa.types.is_decimal,
    pa.types.is_null,
    pa.types.is_dictionary,
    pa.types.is_time,
)


def _is_simple(kind: pa.DataType) -> bool:
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _is_simple(kind.value_type)
    return any(test(kind) for test in _SIMPLE)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """A DataFrame that Streamlit, Plotly and CSV can all take, whatever the column types.

    Types pandas or Streamlit cannot hold (unions, maps, intervals, dates beyond pandas'
    range, DuckDB's extension types) become their text; duplicate column names get a suffix.
    """
    columns: dict[str, Any] = {}
    for name, column in zip(_unique(table.column_names), table.columns, strict=True):
        converted = None
        if _is_simple(column.type):
            try:
                converted = column.to_pandas()
            except Exception:
                converted = None
        columns[name] = converted if converted is not None else _as_text(column)
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out: list[str] = []
    for name in names:
        base = name or "column"
        n = seen.get(base, 0)
        seen[base] = n + 1
        candidate = base if n == 0 else f"{base} ({n + 1})"
        while candidate in out:
            n += 1
            candidate = f"{base} ({n + 1})"
        out.append(candidate)
    return out


def _as_text(column: pa.ChunkedArray) -> pd.Series:
    try:
        return pc.cast(column, pa.string()).to_pandas()
    except Exception:
        pass
    try:
        return pd.Series([None if v is None else str(v) for v in column.to_pylist()], dtype=object)
    except Exception:
        return pd.Series([f"<{column.type}>"] * len(column), dtype=object)


def _message(exc: BaseException, db_path: str | None = None) -> str:
    if isinstance(exc, duckdb.InterruptException):
        return "The query was cancelled."
    if isinstance(exc, duckdb.OutOfMemoryException):
        return f"The query needs more memory than the console allows ({MEMORY_LIMIT})."
    text = str(exc)
    if db_path:
        text = _hide_store(text, db_path)
    return _message_text(text)


def _hide_store(text: str, db_path: str) -> str:
    """``text`` without where the store lives on the server (as given, and resolved)."""
    location = locate(db_path).location
    names = {db_path, location}
    if not locate(db_path).remote:
        names.add(str(Path(location).resolve()))
    for name in sorted(names, key=len, reverse=True):
        if name:
            text = text.replace(name, "<the store>")
    return text


def _message_text(text: str) -> str:
    text = text.strip() or "The query failed."
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + " …"


# --- Charting a result ------------------------------------------------------------------------


def chart_columns(frame: pd.DataFrame) -> tuple[str, str | None] | None:
    """The column to chart along x (the first), and the first numeric column after it.

    ``None`` for y means "count the rows per x value". ``None`` overall: nothing to chart.
    """
    if frame.empty or len(frame.columns) == 0:
        return None
    x = frame.columns[0]
    for name in frame.columns[1:]:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            return x, name
    return x, None


def result_chart(frame: pd.DataFrame) -> go.Figure | None:
    """One obvious chart of a result: bars per x value, or a line when x is a date or number."""
    picked = chart_columns(frame)
    if picked is None:
        return None
    x_name, y_name = picked
    x = frame[x_name]
    # Values and names come from the store or from a shared URL: drawn as written, since
    # Plotly reads HTML in labels (an ``<a href>`` would be a link).
    if y_name is None:
        counts = x.astype(str).value_counts().head(50)
        xs, ys, y_title = [plain(v) for v in counts.index], list(counts.values), "rows"
        line = False
    else:
        xs = x if _plottable(x) else x.astype(str)
        if pd.api.types.is_string_dtype(xs):
            xs = [None if pd.isna(v) else plain(v) for v in xs]
        ys, y_title = frame[y_name], plain(y_name)
        line = pd.api.types.is_datetime64_any_dtype(x) or (
            pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x)
        )
    trace = go.Scatter(x=xs, y=ys, mode="lines+markers") if line else go.Bar(x=xs, y=ys)
    fig = go.Figure(trace)
    fig.update_layout(
        title=f"{y_title} by {plain(x_name)}",
        xaxis_title=plain(x_name),
        yaxis_title=y_title,
        margin={"t": 40, "b": 10},
    )
    return fig


def _plottable(column: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(column)
        or pd.api.types.is_datetime64_any_dtype(column)
        or pd.api.types.is_string_dtype(column)
    )


# --- Examples ---------------------------------------------------------------------------------

EXAMPLES: dict[str, str] = {
    "Posts per category": (
        "SELECT coalesce(category, 'Uncategorized') AS category, count(*) AS posts\n"
        "FROM posts\nGROUP BY ALL\nORDER BY posts DESC, category"
    ),
    "Posts per month": (
        "SELECT date_trunc('month', published) AS month, count(*) AS posts\n"
        "FROM posts\nWHERE published IS NOT NULL\nGROUP BY ALL\nORDER BY month"
    ),
    "Most common keywords": (
        "SELECT term, count(*) AS posts, round(avg(weight), 3) AS avg_weight\n"
        "FROM post_keywords\nGROUP BY term\n"
        "ORDER BY posts DESC, term\nLIMIT 20"
    ),
    "Top keywords per category": (
        "SELECT coalesce(category, 'Uncategorized') AS category, term,\n"
        "       round(sum(weight), 3) AS weight, count(*) AS posts\n"
        "FROM post_keywords\nGROUP BY category, term\n"
        "QUALIFY row_number() OVER (PARTITION BY category ORDER BY sum(weight) DESC) <= 5\n"
        "ORDER BY category, weight DESC"
    ),
    "Posts that use a word most": (
        "SELECT p.title, s.tf AS times, t.df AS posts_with_word\n"
        "FROM postings s JOIN terms t USING (term_id) JOIN posts p USING (doc)\n"
        "WHERE t.term = '显存'\nORDER BY s.tf DESC, p.title\nLIMIT 20"
    ),
    "Posts seen most often": (
        "SELECT p.title, count(*) AS sightings, count(DISTINCT s.source) AS sources\n"
        "FROM posts p JOIN sightings s ON s.post_id = p.id\n"
        "GROUP BY ALL\nORDER BY sightings DESC, p.title\nLIMIT 20"
    ),
    "Missing data": (
        "SELECT count(*) AS posts,\n"
        "       count(*) FILTER (WHERE category IS NULL) AS without_category,\n"
        "       count(*) FILTER (WHERE published IS NULL) AS without_date,\n"
        "       count(*) FILTER (WHERE url IS NULL) AS without_link,\n"
        "       count(*) FILTER (WHERE title_derived) AS derived_title\n"
        "FROM posts"
    ),
    "Ingest runs": (
        "SELECT run_id, started_at, files, records, added, updated, unchanged, rejected\n"
        "FROM ingest_runs\nORDER BY run_id"
    ),
}
