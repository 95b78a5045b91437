"""Searches resolved once into a bitmap and day counts (lib.selection), and what reads them.

Every answer read through a resolved search must equal the same question asked of the
posts directly, with ``tests.search_oracle`` (the search as ``doc IN (postings…)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from lib import queries, scratch_tables, selection, topics
from lib.filters import Filters
from lib.ingest import run_ingest
from lib.store import connect_read_only
from tests.helpers import build_store, metrics, multi_month_posts, open_app
from tests.search_oracle import where_with_search

# "lora zzyzx": no post has both words, so the posts with either match.
WORDS = ("显存", "LoRA", "lora 显存", "topic", "nowhere-to-be-found", "的", "lora zzyzx")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    rows = multi_month_posts()
    for i, row in enumerate(rows):
        row["excerpt"] += (" LoRA 显存", " LoRA", " 显存 FlashAttention", "")[i % 4]
    # Two posts a search for "ab" finds, one of them without a keyword ("ab" is too short
    # to be a topic): the share of a topic under that search is of one post, not two.
    rows += [{"title": "ab", "excerpt": "ab 显存"}, {"title": "ab", "excerpt": "ab"}]
    return build_store(tmp_path_factory.mktemp("selection") / "posts.duckdb", rows)


@pytest.fixture
def con(store: str) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect_read_only(store)
    cur = connection.cursor()
    selection.forget(cur)
    try:
        yield cur
    finally:
        cur.close()
        connection.close()


def filter_sets() -> list[Filters]:
    spans = [(None, None), (date(2024, 3, 10), None), (None, date(2025, 2, 14))]
    spans.append((date(2024, 5, 1), date(2024, 12, 31)))
    found = []
    for q in WORDS:
        for topics_ in ((), ("lora",), ("显存", "flashattention")):
            for categories in ((), ("NLP",), ("Large Model", "Uncategorized")):
                for start, end in spans:
                    found.append(Filters(categories, start, end, q, topics_))
    return found[::5]  # a spread of every kind, in a few seconds


def direct(con: duckdb.DuckDBPyConnection, filters: Filters, sql: str) -> list[tuple]:
    clause, params = where_with_search(filters)
    return con.execute(sql.format(clause=clause), params).fetchall()


@pytest.mark.parametrize("filters", filter_sets(), ids=str)
def test_answers_through_a_resolved_search_equal_the_posts_asked_directly(
    con: duckdb.DuckDBPyConnection, filters: Filters
) -> None:
    (expected,) = direct(
        con,
        filters,
        """SELECT count(*), count(DISTINCT category), min(published), max(published),
                  count(*) FILTER (WHERE category IS NULL),
                  count(*) FILTER (WHERE published IS NULL) FROM posts WHERE {clause}""",
    )
    for _ in range(2):  # resolving, then reading what was resolved
        assert tuple(vars(queries.figures(con, filters)).values()) == expected
        assert queries.count(con, filters) == expected[0]
        newest = direct(
            con,
            filters,
            "SELECT id FROM posts WHERE {clause} ORDER BY published DESC NULLS LAST, doc LIMIT 7",
        )
        assert [c["id"] for c in queries.cards(con, filters, "newest", 7)] == [r[0] for r in newest]
        by_category = dict(
            direct(
                con,
                filters.without_categories(),
                "SELECT category, count(*) FROM posts WHERE {clause} GROUP BY ALL",
            )
        )
        assert {c: n for c, n in queries.category_counts(con, filters) if n} == by_category
        newest_first = queries.SORTS["newest"]
        everything = direct(
            con, filters, f"SELECT id FROM posts WHERE {{clause}} ORDER BY {newest_first}"
        )
        assert queries.export(con, filters).column("id").to_pylist() == [r[0] for r in everything]
        if filters.q.strip():  # ranked, the same posts (their filter is a bitmap of its own)
            ranked = queries.cards(con, filters, queries.RELEVANCE, len(everything) + 1)
            assert sorted(c["id"] for c in ranked) == sorted(r[0] for r in everything)


@pytest.mark.parametrize("sort", ["newest", "oldest"])
@pytest.mark.parametrize("filters", [Filters(), Filters(q="显存"), Filters(categories=("NLP",))])
def test_every_page_of_cards_is_the_posts_in_date_order(
    con: duckdb.DuckDBPyConnection, filters: Filters, sort: str
) -> None:
    # Pages are chosen from the posts sorted by date, bounded by the day counts; the last
    # pages reach the undated posts, which sort after every dated one.
    order = queries.SORTS[sort]
    expected = [
        r[0]
        for r in direct(con, filters, f"SELECT id FROM posts WHERE {{clause}} ORDER BY {order}")
    ]
    shown = []
    for offset in range(0, len(expected) + 7, 7):
        shown += [c["id"] for c in queries.cards(con, filters, sort, 7, offset)]
    assert shown == expected
    assert any(
        c["published"] is None for c in queries.cards(con, filters, sort, 7, len(expected) - 2)
    )


def test_a_search_is_resolved_once_and_sliced_by_category_and_date(
    con: duckdb.DuckDBPyConnection,
) -> None:
    def resolved() -> set[str]:
        rows = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ?",
            [scratch_tables.SCHEMA],
        ).fetchall()
        return {name for (name,) in rows if name.startswith("s")}

    queries.figures(con, Filters(q="显存"))
    made = resolved()
    assert {name.rsplit("_", 1)[1] for name in made} == {"mask", "days"}
    queries.figures(con, Filters(q="显存", categories=("NLP",), start=date(2024, 6, 1)))
    queries.cards(con, Filters(q=" 显存 ", end=date(2025, 1, 1)))
    assert resolved() == made  # the same search, however sliced or spaced
    queries.figures(con, Filters(q="LoRA"))
    queries.figures(con, Filters(q="lora"))  # English is matched case-insensitively
    assert len(resolved()) == len(made) * 2


def test_the_oldest_searches_are_dropped_past_the_limit(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scratch_tables, "KEEP", 3)
    for word in ("显存", "lora", "topic", "excerpt", "number"):
        queries.count(con, Filters(q=word, categories=("NLP",)))
    (masks,) = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name LIKE '%mask'",
        [scratch_tables.SCHEMA],
    ).fetchall()[0]
    assert masks == 3
    # A dropped search is simply resolved again.
    assert (
        queries.count(con, Filters(q="显存", categories=("NLP",)))
        == direct(
            con, Filters(q="显存", categories=("NLP",)), "SELECT count(*) FROM posts WHERE {clause}"
        )[0][0]
    )


def test_a_search_dropped_by_another_session_while_read_is_made_again(
    con: duckdb.DuckDBPyConnection,
) -> None:
    filters = Filters(q="显存", categories=("NLP",))
    found = selection.resolve(con, filters)
    days = found.day_counts_table
    clause, params = found.columns_where()
    con.execute(f"DROP TABLE {days}")  # what another session's eviction does
    con.execute(f"DROP TABLE {days.removesuffix('_days')}_mask")
    sql = f"SELECT coalesce(sum(posts), 0) FROM {days} WHERE {clause}"
    (posts,) = found.execute(sql, params).fetchall()[0]
    assert posts == direct(con, filters, "SELECT count(*) FROM posts WHERE {clause}")[0][0]


def test_topic_lists_under_a_search_equal_the_keywords_counted_directly(
    con: duckdb.DuckDBPyConnection,
) -> None:
    for filters in (
        Filters(q="topic"),  # every post
        Filters(q="excerpt lora", categories=("NLP",), start=date(2024, 4, 2)),
        Filters(q="显存"),
        Filters(q="lora", start=date(2024, 2, 10), end=date(2025, 3, 20)),
        Filters(topics=("lora",), categories=("NLP",)),
        Filters(q="ab"),
    ):
        clause, params = where_with_search(filters, "k")
        expected = dict(
            con.execute(
                f"SELECT term, count(*) FROM post_keywords k WHERE {clause} GROUP BY term", params
            ).fetchall()
        )
        leading = topics.leading(con, filters, 100)
        assert expected, filters
        assert dict(zip(leading["topic"], leading["posts"], strict=True)) == {
            t: n for t, n in expected.items() if t in set(leading["topic"])
        }
        # A share is of the filtered posts that have keywords.
        (keyed,) = con.execute(
            f"SELECT count(DISTINCT doc) FROM post_keywords k WHERE {clause}", params
        ).fetchall()[0]
        assert list(leading["share"]) == pytest.approx(list(leading["posts"] / keyed))
        by_category = topics.by_class(con, filters, "category", 100)
        expected_by_category = con.execute(
            f"""SELECT category, term, count(*) FROM post_keywords k WHERE {clause}
                GROUP BY ALL""",
            params,
        ).fetchall()
        assert {(c, t, n) for c, t, n in expected_by_category} >= {
            (c, t, n) for c, t, n in by_category[["class", "topic", "posts"]].itertuples(False)
        }


def test_the_app_reads_an_import_made_while_it_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = multi_month_posts()
    db = build_store(tmp_path / "posts.duckdb", rows[:20])
    at = open_app(monkeypatch, db, None, {"q": "topic"})
    assert metrics(at)["Posts"] == "20"
    source = tmp_path / "more.jsonl"
    source.write_text(
        "".join(f'{{"title": "More {i}", "excerpt": "topic {i}"}}\n' for i in range(5))
    )
    run_ingest(db, [str(source)])
    at.run()
    # A new file: a new connection, so neither old posts nor the old resolved search.
    assert metrics(at)["Posts"] == "25"
