"""The tables resolved searches keep (lib.scratch_tables): a search asks the catalogue
little, and however many searches and threads, the tables kept stay bounded while every
answer stays right.

What a connection runs is read from DuckDB's own query log (``enable_logging``).
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from datetime import date

import duckdb
import pytest

from lib import queries, scratch_tables, selection
from lib.filters import Filters
from lib.store import connect_read_only
from tests.helpers import build_store, multi_month_posts
from tests.search_oracle import where_with_search

SEARCHES = (
    "topic",
    "excerpt",
    "number",
    "post",
    "twin",
    "undated",
    "topic twin",
    "number post",
    "twin undated",
    "post topic",
    "excerpt twin",
    "number undated",
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(tmp_path_factory.mktemp("scratch") / "posts.duckdb", multi_month_posts())


@pytest.fixture
def connection(store: str) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect_read_only(store)
    selection.forget(con)
    try:
        yield con
    finally:
        con.close()


def logged(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The statements run on the database since the log was last emptied; emptied."""
    rows = con.execute(
        "SELECT message FROM duckdb_logs WHERE type = 'QueryLog' ORDER BY timestamp"
    ).fetchall()
    con.execute("CALL truncate_duckdb_logs()")
    return [" ".join(m.split()) for (m,) in rows if "duckdb_logs" not in m]


def expected_count(con: duckdb.DuckDBPyConnection, filters: Filters) -> int:
    clause, params = where_with_search(filters)
    return int(con.execute(f"SELECT count(*) FROM posts WHERE {clause}", params).fetchall()[0][0])


def search_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [scratch_tables.SCHEMA]
    ).fetchall()
    return {n for (n,) in rows if n.startswith("s") and n != scratch_tables.REGISTRY}


def test_a_second_search_on_a_connection_attaches_nothing_and_notes_itself_once(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    cur = connection.cursor()
    connection.execute("CALL enable_logging('QueryLog')")
    first = Filters(categories=("NLP",), start=date(2024, 3, 1), q="topic")
    assert queries.count(cur, first) == expected_count(cur, first)
    assert sum(s.startswith("ATTACH") for s in logged(connection)) == 1

    second = Filters(categories=("NLP",), start=date(2024, 3, 1), q="number twin")
    found = selection.resolve(cur, second)
    assert found.count == expected_count(cur, second)
    found.ranking_doc_filter("h")  # the ranking's filter: a bitmap of the same length
    ran = logged(connection)
    assert not [s for s in ran if s.startswith("ATTACH")], ran
    assert sum("max(doc)" in s for s in ran) == 1  # the bitmaps' length, read once
    # Its bitmap and day counts are both made, and noted as one search.
    assert sum(s.startswith("CREATE TABLE IF NOT EXISTS selections.s") for s in ran) == 2
    assert sum(s.startswith(f"INSERT INTO {scratch_tables.SCHEMA}") for s in ran) == 1
    assert not [s for s in ran if s.startswith("CREATE TABLE IF NOT EXISTS selections.kept")]

    # Another cursor (another session's thread) attaches once for itself.
    other = connection.cursor()
    assert queries.count(other, first) == expected_count(other, first)
    assert sum(s.startswith("ATTACH") for s in logged(connection)) == 1


def test_searches_kept_stay_bounded_across_many_searches_and_threads(
    connection: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scratch_tables, "KEEP", 3)
    wrong: list[tuple[Filters, int, int]] = []
    failures: list[BaseException] = []

    def session(offset: int) -> None:
        cur = connection.cursor()  # one cursor per thread, as the app's sessions
        try:
            for i in range(len(SEARCHES)):
                q = SEARCHES[(i + offset) % len(SEARCHES)]
                filters = Filters(categories=("NLP", "Large Model"), q=q)
                got = queries.count(cur, filters)
                if got != (want := expected_count(cur, filters)):
                    wrong.append((filters, got, want))
                queries.cards(cur, filters, queries.RELEVANCE, 5)
        except BaseException as exc:  # reported below: a thread's exception is lost
            failures.append(exc)
        finally:
            cur.close()

    threads = [threading.Thread(target=session, args=(k * 3,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures and not wrong, (failures, wrong)
    # 4 sessions x 12 searches, of 12 different searches: past the limit, the oldest
    # go (a table a race left out of the registry goes with the next search past it).
    last = Filters(categories=("NLP",), q="topic excerpt")
    assert queries.count(connection, last) == expected_count(connection, last)
    kept = {name.split("_")[0] for name in search_tables(connection)}
    assert len(kept) <= 3, search_tables(connection)
    assert selection.Search.of(last).key("mask") in kept
    (noted,) = connection.execute(
        f"SELECT count(DISTINCT key) FROM {scratch_tables.SCHEMA}.{scratch_tables.REGISTRY}"
    ).fetchall()[0]
    assert noted <= 3


def test_a_table_another_session_dropped_after_this_one_saw_it_is_made_again(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    reader, other = connection.cursor(), connection.cursor()
    filters = Filters(categories=("NLP",), q="topic")
    assert queries.count(reader, filters) == expected_count(reader, filters)  # seen
    for name in search_tables(other):  # what another session's eviction does
        other.execute(f"DROP TABLE {scratch_tables.SCHEMA}.{name}")
    assert queries.count(reader, filters) == expected_count(reader, filters)
    ranked = queries.cards(reader, filters, queries.RELEVANCE, 100)
    assert len(ranked) == expected_count(reader, filters)
    words_alone = Filters(q="topic")
    assert queries.count(reader, words_alone) == expected_count(reader, words_alone)


def test_forgetting_searches_keeps_the_tables_about_every_post(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    # As the search benchmark does before every search: only the searches' tables go.
    cur = connection.cursor()
    filters = Filters(categories=("NLP",), q="topic")
    queries.count(cur, filters)
    selection.forget(cur, store_wide=False)
    assert search_tables(cur) == set()
    assert scratch_tables.of(cur).existing(scratch_tables.STORE_WIDE, "slots")
    assert queries.count(cur, filters) == expected_count(cur, filters)
    selection.forget(cur)
    assert scratch_tables.of(cur).existing(scratch_tables.STORE_WIDE, "slots") is None
    assert queries.count(cur, filters) == expected_count(cur, filters)


def test_what_a_connection_remembers_goes_with_it(connection: duckdb.DuckDBPyConnection) -> None:
    # The app takes a cursor per question: what each remembered must not pile up.
    remembered = []
    for q in SEARCHES[:4]:
        cur = connection.cursor()
        filters = Filters(categories=("NLP",), q=q)
        assert queries.count(cur, filters) == expected_count(cur, filters)
        remembered.append(weakref.ref(scratch_tables.of(cur)))
        cur.close()
        del cur
    gc.collect()
    assert [r() for r in remembered] == [None] * 4


def test_a_prepared_connection_makes_only_the_search_s_own_tables(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    """The app prepares a connection in the background when it opens it, so that the first
    search does not number every post's day while a reader waits."""
    selection.prepare(connection.cursor())
    connection.execute("CALL enable_logging('QueryLog')")
    first = Filters(q="topic twin")
    counted = dict(queries.category_counts(connection.cursor(), first))
    assert sum(counted.values()) == expected_count(connection, first)
    made = [s.split()[5] for s in logged(connection) if s.startswith("CREATE TABLE IF NOT")]
    assert made and not [t for t in made if t.startswith("selections.all_")], made
