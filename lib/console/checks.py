"""Checking a statement before it runs: one read-only query over the store's tables.

Pure: it needs no store, only DuckDB's parser (a locked-down instance that holds no data),
so a refusal costs no connection and the checks can be tested on their own. The query must
be exactly one statement of DuckDB's ``SELECT`` type (which covers ``WITH``, ``FROM``-first
queries, ``VALUES``, ``DESCRIBE``, ``SUMMARIZE`` and ``SHOW TABLES``); its parse tree
(DuckDB's own ``json_serialize_sql``) is walked, and every table it names must be one of the
store's tables, a ``WITH`` name in scope, or a catalog view that describes the schema; every
table function must be on a short list; functions that read files, show settings or run
other SQL are refused by name (:mod:`lib.console.functions` classifies the catalogue).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb

from lib.console.errors import ConsoleError, ConsoleRefused, clipped, message_for
from lib.console.functions import (
    ALLOWED_SYSTEM_VIEWS,
    ALLOWED_TABLE_FUNCTIONS,
    DENIED_FUNCTIONS,
    SHOW_SPECIALS,
    is_file_function,
)
from lib.console.limits import MAX_SQL_CHARS
from lib.console.sandbox import ALIAS, CONFIG

_FORMS = "SELECT, WITH … SELECT, FROM …, VALUES, DESCRIBE, SUMMARIZE or SHOW TABLES"

_parser_lock = threading.Lock()
_parser: duckdb.DuckDBPyConnection | None = None


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
            con = duckdb.connect(":memory:", config=dict(CONFIG))
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            _parser = con
        return _parser.cursor()


def clean(sql: object) -> str:
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
    """Refuse anything but one read-only query; list the tables it names for :func:`check_tables`.

    Needs no store, so a refusal costs no connection to it.
    """
    text = clean(sql)
    cur = _parser_cursor()
    try:
        try:
            statements = cur.extract_statements(text)
        except duckdb.Error as exc:
            raise ConsoleError(message_for(exc)) from None
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
            raise ConsoleError(message_for(exc)) from None
    finally:
        cur.close()
    try:
        tree = json.loads(rows[0][0])
    except RecursionError:
        raise ConsoleRefused("The query is nested too deeply to check.") from None
    if tree.get("error"):
        why = str(tree.get("error_message") or "no reason given")
        raise ConsoleRefused(clipped(f"The query could not be checked: {why}"))
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


def _check_function(raw: str) -> None:
    name = raw.lower()
    if is_file_function(name):
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
