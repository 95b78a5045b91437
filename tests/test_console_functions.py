"""DuckDB's function catalogue against the console's classification (lib.console.functions).

The checks see only the names a query calls, so every function that takes SQL text, a path,
a setting, a sequence or a catalog name must be denied, a file function, or reviewed as safe;
these tests enumerate the catalogue, so a new DuckDB cannot add such a function unnoticed.
"""

from __future__ import annotations

import functools
import re

import duckdb
import pytest

from lib.console.checks import check_statement, check_tables
from lib.console.errors import ConsoleError, ConsoleRefused
from lib.console.functions import (
    ALLOWED_TABLE_FUNCTIONS,
    DENIED_FUNCTIONS,
    SAFE_DESPITE_NAME,
    is_file_function,
)

# The heuristic: words in a function's name, or in a parameter's name, that suggest it takes
# SQL, a path, a setting, a sequence, a catalog name or a function name, or shows the server.
NAME_WORDS = frozenset(
    "sql query plan execute exec eval setting settings variable getvariable env getenv"
    " secret secrets sequence nextval currval setval database databases catalog schema"
    " schemas path file filename dir dirname dirpath url uri glob log profile profiling"
    " memory extension extensions storage block checkpoint sleep search config index".split()
)
PARAM_WORDS = frozenset(
    "sql query statement plan path file filename files dir directory url uri glob location"
    " setting variable secret env environment config sequence database db catalog schema"
    " table tablespace function".split()
)


def _words(text: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", text.lower()))


def suspicious(name: str, parameters: list[str]) -> list[str]:
    """Why a function looks like it reaches past the query's values ([] when it does not)."""
    why = ["its name"] if NAME_WORDS & _words(name) else []
    for parameter in parameters:
        lowered = parameter.lower()
        if PARAM_WORDS & _words(lowered) or lowered == "name" or lowered.endswith("_name"):
            why.append(f"parameter {parameter}")
    return why


@functools.cache
def catalogue() -> list[tuple[str, str, tuple[str, ...], str | None]]:
    """Every function DuckDB offers: name, type, parameters and (for a macro) its body."""
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT function_name, function_type, parameters, macro_definition"
            " FROM duckdb_functions()"
        ).fetchall()
    finally:
        con.close()
    return [(name, kind, tuple(params or ()), body) for name, kind, params, body in rows]


def refused(name: str) -> bool:
    return name.lower() in DENIED_FUNCTIONS or is_file_function(name.lower())


def _of_type(*kinds: str) -> dict[str, set[str]]:
    """The functions of these types, by name, with their parameters' names."""
    found: dict[str, set[str]] = {}
    for name, kind, parameters, _ in catalogue():
        if kind in kinds:
            found.setdefault(name, set()).update(parameters)
    return found


def _bodies(kind: str) -> list[tuple[str, str]]:
    return [(name, body) for name, k, _, body in catalogue() if k == kind and body is not None]


def test_every_suspicious_function_is_classified() -> None:
    """Scalars, aggregates, windows, macros and the allowed table functions alike."""
    callable_here = _of_type("scalar", "aggregate", "window", "macro")
    for name, parameters in _of_type("table", "table_macro").items():
        if name in ALLOWED_TABLE_FUNCTIONS:
            callable_here.setdefault(name, set()).update(parameters)
    unclassified = [
        f"{name} ({', '.join(why)})"
        for name, parameters in sorted(callable_here.items())
        if (why := suspicious(name, sorted(parameters)))
        and not refused(name)
        and name not in SAFE_DESPITE_NAME
    ]
    assert not unclassified, (
        "These functions look like they take SQL, a path, a setting or a catalog name; deny"
        " them in DENIED_FUNCTIONS or review them into SAFE_DESPITE_NAME:\n"
        + "\n".join(unclassified)
    )


@pytest.mark.parametrize(
    "name",
    [
        "json_serialize_plan",
        "json_serialize_sql",
        "json_deserialize_sql",
        "current_setting",
        "getvariable",
        "nextval",
        "setval",
        "currval",
        "in_search_path",
        "list_aggregate",
        "parse_path",
        "json_extract",
    ],
)
def test_the_heuristic_flags_functions_that_take_sql_paths_settings_or_names(name: str) -> None:
    functions = _of_type("scalar", "aggregate", "window", "macro")
    assert name in functions, f"{name} is no longer in DuckDB's catalogue"
    assert suspicious(name, sorted(functions[name]))


@pytest.mark.parametrize("name", ["upper", "sum", "regexp_replace", "row_number"])
def test_the_heuristic_leaves_plain_functions_alone(name: str) -> None:
    assert not suspicious(name, sorted(_of_type("scalar", "aggregate", "window")[name]))


def test_no_function_is_both_denied_and_reviewed_safe() -> None:
    assert not set(DENIED_FUNCTIONS) & set(SAFE_DESPITE_NAME)
    assert not [name for name in SAFE_DESPITE_NAME if is_file_function(name)]
    assert all(
        reason.strip() for reason in (*DENIED_FUNCTIONS.values(), *SAFE_DESPITE_NAME.values())
    )


def test_no_aggregate_is_refused_since_list_aggregate_calls_them_by_name() -> None:
    """list_aggregate(l, 'name') calls an aggregate the checks never see by name."""
    assert not [name for name in _of_type("aggregate") if refused(name)]
    con = duckdb.connect()
    try:  # and it calls nothing but aggregates, so a denied scalar or macro stays out
        for name in ("current_setting", "pg_sleep", "get_block_size"):
            with pytest.raises(duckdb.Error, match=r"(?i)aggregate"):
                con.execute(f"SELECT list_aggregate([1], '{name}')")
    finally:
        con.close()


def _body_refused(sql: str) -> str | None:
    """Why the checks refuse this text (tables included, with no store tables), else None."""
    try:
        checked = check_statement(sql)
        check_tables(checked.tables, set())
    except ConsoleRefused as exc:
        return exc.message
    return None


def test_a_macro_whose_body_would_be_refused_is_denied() -> None:
    """A macro's body is expanded at bind time; the checks see only the macro's name."""
    open_doors = []
    for name, body in _bodies("macro"):
        try:
            why = _body_refused(f"SELECT {body}")
        except ConsoleError as exc:  # a body the checks cannot read is not vouched for
            why = f"unreadable: {exc.message}"
        if why and not refused(name):
            open_doors.append(f"{name}: {why}")
    assert not open_doors, "Deny these macros in DENIED_FUNCTIONS:\n" + "\n".join(open_doors)


def test_a_table_macro_whose_body_would_be_refused_is_not_allowed() -> None:
    open_doors = [
        name
        for name, body in _bodies("table_macro")
        if name in ALLOWED_TABLE_FUNCTIONS and _body_refused(body)
    ]
    assert not open_doors


def test_every_table_function_outside_the_list_is_refused() -> None:
    open_doors = []
    for name in _of_type("table", "table_macro"):
        if name in ALLOWED_TABLE_FUNCTIONS:
            continue
        why = _body_refused(f"SELECT * FROM {name}()")
        if not why or f"{name}()" not in why:
            open_doors.append(name)
    assert not open_doors


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
        ("SELECT * FROM duckdb_secrets()", "duckdb_secrets"),
        ("SELECT * FROM duckdb_databases()", "duckdb_databases"),
        ("SELECT * FROM duckdb_memory()", "duckdb_memory"),
        ("SELECT * FROM duckdb_extensions()", "duckdb_extensions"),
        ("SELECT * FROM duckdb_profiling_settings()", "duckdb_profiling_settings"),
        ("SELECT * FROM pragma_database_size()", "pragma_database_size"),
        ("SELECT * FROM which_secret('s3://b/k', 's3')", "which_secret"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        ("SELECT * FROM json_execute_serialized_sql('{}')", "json_execute_serialized_sql"),
        ("SELECT * FROM histogram_values('posts', id)", "histogram_values"),
    ],
)
def test_table_functions_outside_the_list_are_refused_by_name(sql: str, name: str) -> None:
    with pytest.raises(ConsoleRefused) as refusal:
        check_statement(sql)
    assert f"{name}()" in refusal.value.message


_PLAN = "json_serialize_plan('SELECT current_setting(''allowed_paths'')', optimize := true)"
ESCAPES = [
    (f"SELECT {_PLAN}", "json_serialize_plan"),
    ("select JSON_SERIALIZE_PLAN('select 1')", "json_serialize_plan"),
    ("SELECT \"json_serialize_plan\"('SELECT 1')", "json_serialize_plan"),
    ("SELECT main.json_serialize_plan('SELECT 1')", "json_serialize_plan"),
    ("SELECT system.main.json_serialize_plan('SELECT 1')", "json_serialize_plan"),
    ("SELECT 'SELECT 1'.json_serialize_plan()", "json_serialize_plan"),
    (f"SELECT (SELECT {_PLAN}) AS p", "json_serialize_plan"),
    ("SELECT list_transform(['SELECT 1'], q -> json_serialize_plan(q))", "json_serialize_plan"),
    ("SELECT apply(['SELECT 1'], lambda q: json_serialize_plan(q))", "json_serialize_plan"),
    (f"WITH p AS (SELECT {_PLAN} AS j) SELECT j FROM p", "json_serialize_plan"),
    (f"SELECT first({_PLAN}) OVER ()", "json_serialize_plan"),
    (f"FROM range(1) WHERE {_PLAN} IS NOT NULL", "json_serialize_plan"),
    ("SELECT json_serialize_sql('SELECT current_setting(''threads'')')", "json_serialize_sql"),
    ("SELECT Json_Serialize_Sql('SELECT getenv(''HOME'')')", "json_serialize_sql"),
    ("SELECT json_deserialize_sql(j) FROM (SELECT '{}' AS j)", "json_deserialize_sql"),
    ("SELECT setval('s', 1)", "setval"),
    ("SELECT nextval('s')", "nextval"),
    ("SELECT main.currval('s')", "currval"),
    ("SELECT getvariable('x')", "getvariable"),
    ("SELECT in_search_path('memory', 'main')", "in_search_path"),
    ("SELECT index_key({'table': 'posts'}, 'i', 1)", "index_key"),
    ("SELECT get_block_size('posts_db')", "get_block_size"),
    ("SELECT pg_sleep(1)", "pg_sleep"),
    ("SELECT current_setting('allowed_paths')", "current_setting"),
]


@pytest.mark.parametrize(("sql", "name"), ESCAPES)
def test_functions_that_run_sql_or_show_the_server_are_refused(sql: str, name: str) -> None:
    with pytest.raises(ConsoleRefused) as refusal:
        check_statement(sql)
    assert f"{name}() is not available here: " in refusal.value.message


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("""SELECT json_extract('{"a": 1}', '$.a')::INT""", 1),
        ("""SELECT '{"a": "x"}' ->> '$.a'""", "x"),
        ("SELECT regexp_extract('abc', 'b(c)', 1)", "c"),
        ("SELECT parse_path('/etc/passwd')", ["/", "etc", "passwd"]),  # text only, no file
        ("SELECT list_aggregate([1, 2], 'sum')", 3),
        ("SELECT list_sum([1, 2])", 3),  # a macro over list_aggr
        (
            "SELECT concat_ws('-', upper('a'), lower('B'), strftime(DATE '2024-01-02', '%d'))",
            "A-b-02",
        ),
        ("SELECT list_transform([1, 2], lambda x: x + 1)", [2, 3]),
        ("SELECT sum(x) OVER (ORDER BY x DESC) FROM range(3) t(x) ORDER BY x LIMIT 1", 3),
        ("SELECT url_encode('a b')", "a%20b"),
        ("""SELECT count(*) FROM json_each('{"a": 1, "b": 2}')""", 2),
    ],
)
def test_ordinary_functions_still_pass(sql: str, expected: object) -> None:
    checked = check_statement(sql)
    check_tables(checked.tables, set())
    con = duckdb.connect()
    try:
        assert con.execute(checked.sql).fetchone()[0] == expected
    finally:
        con.close()
