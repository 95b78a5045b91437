"""``lib.console.sandbox``: a DuckDB instance that reads the store and nothing else.

Queries run against a store built by the real ingest (the ``console_store`` fixture), and
expected values come from plain DuckDB over the same store.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from lib import console
from lib.console import (
    open_sandbox,
    run_console,
)
from tests.helpers import (
    SECRET,
    query,
    seeded_store,
)


def test_the_schema_lists_every_table_and_column(console_store: str) -> None:
    frame = console.schema(console_store)
    expected = query(
        console_store,
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main'"
        " AND NOT internal",
    )
    assert set(zip(frame["table"], frame["column"], strict=True)) == set(expected)
    assert frame["table"].iloc[0] == "posts"  # the table people ask about comes first
    posts_rows = frame.loc[frame["table"] == "posts", "rows"].iloc[0]
    assert posts_rows == query(console_store, "SELECT count(*) FROM posts")[0][0]


def test_tables_added_to_the_store_appear_in_the_schema_and_can_be_read(tmp_path: Path) -> None:
    db = seeded_store(tmp_path)
    con = duckdb.connect(db)
    try:
        con.execute("CREATE TABLE new_index AS SELECT 'lora' AS term, 3 AS df")
    finally:
        con.close()
    assert {"term", "df"} <= set(console.schema(db).query("table == 'new_index'")["column"])
    assert run_console(db, "SELECT term, df FROM new_index").frame.to_dict("records") == [
        {"term": "lora", "df": 3}
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "COPY posts TO '{target}/out.csv'",
        "ATTACH '{target}/other.db' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "SET threads = 8",
        "SET memory_limit = '100GB'",
        "SET allowed_directories = ['/']",
        "SET temp_directory = '{target}'",
        "RESET enable_external_access",
        "SELECT * FROM read_text('{target}/secret.txt')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM '{target}/secret.csv'",
        "SELECT * FROM glob('{target}/*')",
        "INSERT INTO posts (id) VALUES ('x')",
        "UPDATE posts SET title = 'pwned'",
        "DELETE FROM posts",
        "DROP TABLE posts",
        "CREATE TABLE posts_db.main.evil (x INTEGER)",
        "SELECT * FROM leak",  # a pandas DataFrame in this frame: no replacement scan
    ],
)
@pytest.mark.usefixtures("unchanged")
def test_the_sandbox_alone_refuses(console_store: str, target: Path, sql: str) -> None:
    leak = pd.DataFrame({"secret": [SECRET]})  # noqa: F841  (bait for a replacement scan)
    con = open_sandbox(console_store)
    try:
        with pytest.raises(duckdb.Error) as failed:
            con.execute(sql.format(target=target)).fetchall()
        assert SECRET not in str(failed.value)
        settings_now = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ('threads',"
                " 'enable_external_access', 'lock_configuration', 'memory_limit',"
                " 'autoload_known_extensions', 'autoinstall_known_extensions',"
                " 'python_enable_replacements', 'temp_directory')"
            ).fetchall()
        )
    finally:
        con.close()
    assert settings_now == {
        "threads": "1",
        "enable_external_access": "false",
        "lock_configuration": "true",
        "memory_limit": settings_now["memory_limit"],
        "autoload_known_extensions": "false",
        "autoinstall_known_extensions": "false",
        "python_enable_replacements": "false",
        "temp_directory": "",
    }
    assert settings_now["memory_limit"].startswith("244")  # 256 MB, shown in MiB


def test_the_sandbox_holds_no_secrets_and_no_other_data(console_store: str) -> None:
    con = open_sandbox(console_store)
    try:
        assert con.execute("SELECT count(*) FROM duckdb_secrets()").fetchall() == [(0,)]
        databases = con.execute(
            "SELECT database_name FROM duckdb_databases() WHERE NOT internal ORDER BY 1"
        ).fetchall()
        assert databases == [("memory",), ("posts_db",)]
        assert con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name <> 'posts_db'"
        ).fetchall() == [(0,)]
    finally:
        con.close()
