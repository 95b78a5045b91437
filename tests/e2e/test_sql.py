"""The SQL page in a real browser: a shared ``/sql?sql=…`` link, and hostile queries.

The expected rows come from the store the app serves, read with plain DuckDB.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.helpers import (
    RESULT,
    App,
    assert_no_exception,
    grid_rows,
    main_text,
    open_page,
    screenshot,
    sql_url,
)
from tests.helpers import query

pytestmark = pytest.mark.e2e

BY_CATEGORY = (
    "SELECT coalesce(category, 'Uncategorized') AS category, count(*) AS posts\n"
    "FROM posts GROUP BY ALL ORDER BY posts DESC, category"
)


def test_a_shared_sql_link_shows_the_result_table(page: Page, app: App) -> None:
    expected = [(c, str(n)) for c, n in query(app.db, BY_CATEGORY)]
    open_page(page, sql_url(app, BY_CATEGORY))
    assert_no_exception(page)
    assert page.get_by_role("textbox", name="Query").input_value() == BY_CATEGORY
    headers, rows = grid_rows(page.locator(RESULT))
    assert [h for h in headers if h in ("category", "posts")] == ["category", "posts"]
    columns = [headers.index("category"), headers.index("posts")]
    assert [tuple(row[i] for i in columns) for row in rows] == expected
    assert f"{len(expected)} rows in " in main_text(page)
    screenshot(page, "sql.png")
    assert_no_exception(page)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("COPY posts TO '/tmp/e2e-sql-escape.csv'", "COPY is refused"),
        ("SELECT * FROM read_text('/etc/passwd')", "read_text() reads files"),
        ("SELECT 1; DROP TABLE posts", "DROP is refused"),
    ],
)
def test_a_hostile_query_shows_a_message_not_a_traceback(
    page: Page, app: App, sql: str, message: str
) -> None:
    before = query(app.db, "SELECT count(*), max(id) FROM posts")
    open_page(page, sql_url(app, sql))
    assert_no_exception(page)
    alert = page.locator("[data-testid='stAlert']").filter(has_text=message)
    alert.first.wait_for()
    assert "root:" not in main_text(page)
    assert query(app.db, "SELECT count(*), max(id) FROM posts") == before
    assert not Path("/tmp/e2e-sql-escape.csv").exists()


def test_markup_in_a_result_stays_text(page: Page, app: App) -> None:
    payload = '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=1</script>'
    open_page(page, sql_url(app, f"SELECT '{payload}' AS payload"))
    assert_no_exception(page)
    _, rows = grid_rows(page.locator(RESULT))
    assert rows == [(payload,)] or [r[-1] for r in rows] == [payload]
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("img[src='x']").count() == 0
