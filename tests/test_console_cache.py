"""``lib.console.cache``: results kept within a byte budget, per process and per session."""

from __future__ import annotations

import pandas as pd
import pytest

from lib.console import (
    ConsoleBusy,
    ConsoleError,
    ConsoleResult,
    ResultCache,
    answer,
    limits,
    run_console,
)
from lib.console import cache as cache_module
from lib.console.cache import outcome_size
from tests.helpers import rss_bytes

MB = 1024 * 1024


def result_of(nbytes: int) -> ConsoleResult:
    frame = pd.DataFrame({"s": ["x" * 1000] * (nbytes // 1000)})
    return ConsoleResult(sql="q", frame=frame, truncated=False, limit_reason=None, seconds=0.0)


def test_entries_are_evicted_by_size_oldest_first() -> None:
    cache = ResultCache(budget_bytes=4 * MB, session_bytes=4 * MB)
    for n in range(10):
        outcome = result_of(MB)
        cache.put(n, outcome, outcome_size(outcome, "q"), session=f"s{n}")
    assert cache.size <= 4 * MB
    kept = [n for n in range(10) if cache.get(n) is not None]
    assert kept == [7, 8, 9]  # three of about 1.1 MB fit in 4 MB; the newest stay


def test_reading_an_entry_keeps_it() -> None:
    cache = ResultCache(budget_bytes=3 * MB, session_bytes=3 * MB)
    for n in range(2):
        cache.put(n, result_of(MB), MB, session="a")
    assert cache.get(0) is not None  # now the most recently used
    cache.put(2, result_of(MB), MB, session="b")
    cache.put(3, result_of(MB), MB, session="b")
    assert cache.get(0) is not None and cache.get(1) is None


def test_one_session_cannot_evict_anothers_results() -> None:
    cache = ResultCache(budget_bytes=10 * MB, session_bytes=3 * MB)
    cache.put("theirs", result_of(MB), MB, session="quiet")
    for n in range(20):
        cache.put(n, result_of(MB), MB, session="flood")
    assert cache.get("theirs") is not None
    assert sum(cache.get(n) is not None for n in range(20)) == 3


def test_an_entry_larger_than_a_budget_is_not_kept() -> None:
    cache = ResultCache(budget_bytes=2 * MB, session_bytes=1 * MB)
    cache.put("big", result_of(2 * MB), 2 * MB, session="a")
    assert cache.get("big") is None and cache.size == 0


def test_entries_expire() -> None:
    cache = ResultCache(ttl_s=0.0)
    cache.put("q", result_of(1000), 1000, session="a")
    assert cache.get("q") is None


def test_a_list_column_counts_the_values_in_its_cells(console_store: str) -> None:
    """pandas counts an array in a cell as a hundred bytes, whatever it holds."""
    sql = "SELECT list_resize([NULL], 100000) AS x"
    result = run_console(console_store, sql)
    assert result.rows == 1 and len(result.frame["x"][0]) == 100_000
    assert outcome_size(result, sql) >= 100_000 * 8  # a pointer for each NULL the frame holds


def test_a_flood_of_large_results_stays_within_the_budget(console_store: str) -> None:
    """64 distinct results of about 1.6 MB each: the cache and the server hold a budget's worth."""
    cache = ResultCache(budget_bytes=16 * MB, session_bytes=8 * MB)
    before = rss_bytes()
    for n in range(64):
        sql = f"SELECT repeat('x', 8000) || '<i>' AS s, {n} AS n FROM range(200)"
        outcome = answer(console_store, sql, store_key="s", session=f"visitor-{n % 4}", cache=cache)
        assert isinstance(outcome, ConsoleResult) and outcome.rows == 200
    assert cache.size <= 16 * MB
    assert rss_bytes() - before < 16 * MB + 100 * MB  # the budget, and the allocator's slack
    assert limits.CACHE_BYTES <= 64 * MB  # the default a server runs with


def test_a_repeated_query_is_answered_from_the_cache(console_store: str) -> None:
    cache = ResultCache()
    first = answer(console_store, "SELECT 1 AS n", store_key="s", session="a", cache=cache)
    again = answer(console_store, "SELECT 1 AS n", store_key="s", session="b", cache=cache)
    assert again is first
    moved = answer(console_store, "SELECT 1 AS n", store_key="new", session="a", cache=cache)
    assert moved is not first  # another store (a new import) is asked again


def test_failures_are_kept_but_busy_is_not(
    console_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ResultCache()
    refused = answer(console_store, "DROP TABLE posts", store_key="s", session="a", cache=cache)
    assert isinstance(refused, ConsoleError)
    assert answer(console_store, "DROP TABLE posts", store_key="s", session="a", cache=cache) is (
        refused
    )

    def busy(*args: object, **kwargs: object) -> None:
        raise ConsoleBusy("The console is busy.")

    monkeypatch.setattr(cache_module, "run_console", busy)
    with pytest.raises(ConsoleBusy):
        answer(console_store, "SELECT 2", store_key="s", session="a", cache=cache)
    assert cache.get(("s", "SELECT 2", limits.DEFAULT_TIMEOUT_S)) is None
