"""The console's examples (``lib/console/examples/*.sql``): each runs and answers right.

Queries run against a store built by the real ingest (the ``console_store`` fixture), and
expected values come from plain DuckDB over the same store.
"""

from __future__ import annotations

import pytest

from lib.charts import result_chart
from lib.console import (
    EXAMPLES,
    run_console,
)
from lib.filters import NO_CATEGORY
from tests.helpers import query


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_example_runs_and_finds_rows(console_store: str, name: str) -> None:
    result = run_console(console_store, EXAMPLES[name])
    assert result.rows > 0, name
    assert result_chart(result.frame) is not None


def test_example_posts_per_category_matches_the_store(console_store: str) -> None:
    frame = run_console(console_store, EXAMPLES["Posts per category"]).frame
    expected = query(console_store, "SELECT category, count(*) FROM posts GROUP BY 1")
    assert dict(zip(frame["category"], frame["posts"], strict=True)) == {
        (c if c is not None else NO_CATEGORY): n for c, n in expected
    }
