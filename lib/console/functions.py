"""Which DuckDB functions a console query may call: the catalogue, classified.

Table functions are allowed by name (a short list that generates or reshapes values and
reads nothing); scalar functions, aggregates and macros are allowed unless named here,
because a query needs hundreds of them. ``tests/test_console_functions.py`` enumerates
DuckDB's whole catalogue and fails when a function that takes a query, a path or a setting
name is not classified here, so an upgrade of DuckDB cannot open a door unnoticed.
"""

from __future__ import annotations

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
# Scalar functions and macros refused by name, wherever they appear, with the reason shown.
DENIED_FUNCTIONS = {
    # SQL inside a string is parsed, bound or run out of the checks' sight
    "json_serialize_plan": "it binds and runs the SQL in its text, which the checks cannot see",
    "json_serialize_sql": "it reads the SQL in its text, which the checks cannot see",
    "json_deserialize_sql": "it builds SQL the checks cannot see",
    "json_execute_serialized_sql": "it runs other SQL",
    # the server's settings, environment, variables, databases and storage
    "current_setting": "it shows the server's settings",
    "getenv": "it shows the server's environment",
    "getvariable": "it shows the server's variables",
    "in_search_path": "it probes the server's databases",
    "index_key": "it reads a table named inside a value, which the checks cannot see",
    "get_block_size": "it shows the server's storage",  # a macro over pragma_database_size()
    "database_list": "it shows where the store lives",
    "database_size": "it shows the server's storage",
    "show_databases": "it shows where the store lives",
    "extension_versions": "it shows the server's extensions",
    # sequences: reading one is server state, moving one is a write
    "nextval": "it changes a sequence",
    "setval": "it changes a sequence",
    "currval": "it shows a sequence",
    # writes and settings (pragma functions, refused here too in case a SELECT reaches them)
    "copy_database": "it writes",
    "import_database": "it reads files",
    "write_log": "it writes to the server's log",
    "enable_profile": "it changes settings",
    "disable_profile": "it changes settings",
    # holding the server
    "sleep_ms": "it only holds the server",
    "pg_sleep": "it only holds the server",  # a macro over sleep_ms()
}
# Reviewed: functions whose name or parameters look like a query, a path, a setting or a
# catalog name (the heuristic in tests/test_console_functions.py), and why each is safe.
_JSON_PATH = "its path is a JSON path inside a value, not a file"
_VARIANT_PATH = "its path is a path inside a VARIANT value, not a file"
_PATH_TEXT = "it only splits or joins text; it opens no file"
_BY_AGGREGATE = "it calls an aggregate by name, and no aggregate is denied (a test checks)"
_PG_CONSTANT = "it answers a constant, for Postgres clients, and reads nothing"
_STORE_NAMES = "it names the store's catalog and schemas, which the console lists anyway"
SAFE_DESPITE_NAME: dict[str, str] = {
    **dict.fromkeys(
        (
            "->>",
            "json_array_length",
            "json_exists",
            "json_extract",
            "json_extract_path",
            "json_extract_path_text",
            "json_extract_string",
            "json_insert",
            "json_keys",
            "json_remove",
            "json_replace",
            "json_set",
            "json_type",
            "json_value",
            "json_each",
            "json_tree",
        ),
        _JSON_PATH,
    ),
    **dict.fromkeys(
        (
            "variant_array_length",
            "variant_exists",
            "variant_extract_string",
            "variant_keys",
            "variant_type",
        ),
        _VARIANT_PATH,
    ),
    **dict.fromkeys(
        ("parse_dirname", "parse_dirpath", "parse_filename", "parse_path", "path_join"),
        _PATH_TEXT,
    ),
    **dict.fromkeys(
        (
            "aggregate",
            "array_aggr",
            "array_aggregate",
            "list_aggr",
            "list_aggregate",
            "to_aggregate_state",
        ),
        _BY_AGGREGATE,
    ),
    **dict.fromkeys(
        (
            *(
                f"has_{kind}_privilege"
                for kind in (
                    "any_column",
                    "column",
                    "database",
                    "function",
                    "schema",
                    "sequence",
                    "table",
                    "tablespace",
                )
            ),
            "pg_function_is_visible",
            "pg_table_is_visible",
            "pg_ts_config_is_visible",
            "pg_is_other_temp_schema",
            "pg_my_temp_schema",
            "col_description",
            "obj_description",
            "shobj_description",
        ),
        _PG_CONSTANT,
    ),
    **dict.fromkeys(
        ("current_catalog", "current_database", "current_schema", "current_schemas"),
        _STORE_NAMES,
    ),
    "duckdb_schemas": _STORE_NAMES,
    "current_query": "it returns the query's own text",
    "current_query_id": "it counts the queries of a sandbox, which is fresh for each query",
    "format_pg_type": "its name is a type's name, mapped to a Postgres name in its body",
    "map_to_pg_oid": "its name is a type's name, mapped to a number in its body",
    "make_type": "its name is a type's name",
    "hive_partition_component": "it only formats name=value text",
    "parse_duckdb_log_message": "it parses the text it is given; it reads no log",
    "url_encode": "it only escapes text",
    "url_decode": "it only unescapes text",
    "log": "it is the logarithm",
    # Allowed table functions that name a table in a string: the sandbox attaches the store
    # alone, and they show only columns (what DESCRIBE shows).
    "pragma_table_info": "it shows the columns of a table the sandbox holds",
    "pragma_show": "it shows the columns of a table the sandbox holds",
}


def is_file_function(name: str) -> bool:
    return name in FILE_FUNCTIONS or name.startswith(FILE_PREFIXES)
