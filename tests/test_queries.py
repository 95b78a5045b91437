"""``lib.filters`` and ``lib.queries`` against real stores built by the ingest code.

The bundled store (``seeded_db``: 33 posts, all dated 2026-01-11 or undated) answers
the counting questions; a store written here, spread over twenty months, answers
the time-series ones. Expected values come from plain DuckDB SQL over the store,
written independently of ``lib.filters.where`` (or, for a search, with the plain-SQL
reference ``tests.search_oracle``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from lib import queries
from lib.filters import MAX_QUERY_CHARS, NO_CATEGORY, Filters, where
from lib.search import MAX_TOKENS, query_tokens
from lib.store import connect_read_only
from tests.helpers import build_store, query, store_category_counts
from tests.search_oracle import where_with_search

SEED_DAY = date(2026, 1, 11)


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def con(seeded_db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect_read_only(seeded_db)
    yield connection
    connection.close()


# ---------------------------------------------------------------------------
# lib.filters
# ---------------------------------------------------------------------------


def test_no_filter_is_true_without_parameters() -> None:
    assert where(Filters()) == ("TRUE", [])


def test_each_filter_becomes_a_placeholder_with_its_parameter() -> None:
    clause, params = where_with_search(
        Filters(
            categories=("NLP", NO_CATEGORY, "Python"),
            start=date(2024, 1, 1),
            end=date(2024, 12, 31),
            q="LoRA 显存",
        )
    )
    assert clause.count("?") == len(params)
    assert params[:4] == ["NLP", "Python", date(2024, 1, 1), date(2024, 12, 31)]
    # Each search token is matched through the index, lower-cased, as a parameter.
    assert {"lora", "显存"} <= set(params[4:])
    assert "LoRA" not in clause and "显存" not in clause
    assert "category IS NULL" in clause
    assert "published >= ?" in clause and "published <= ?" in clause


def test_alias_prefixes_every_column() -> None:
    clause, _ = where_with_search(Filters(categories=("NLP",), start=SEED_DAY, q="x"), alias="p")
    assert "p.category IN (?)" in clause
    assert "p.published >= ?" in clause
    assert "p.doc IN" in clause


@pytest.mark.parametrize(
    "filters",
    [
        Filters(q="'; DROP TABLE posts; --"),
        Filters(categories=("NLP') OR TRUE OR (category IN ('x",)),
        Filters(categories=("'; DROP TABLE posts; --", NO_CATEGORY), q="' OR 1=1 --"),
    ],
    ids=["q", "category", "both"],
)
def test_user_text_never_reaches_the_sql_string(
    filters: Filters, con: duckdb.DuckDBPyConnection, seeded_db: str
) -> None:
    clause, params = where_with_search(filters)
    # The SQL depends only on how many values there are, never on what they say.
    benign = Filters(
        categories=tuple(
            c if c == NO_CATEGORY else f"c{i}" for i, c in enumerate(filters.categories)
        ),
        q=" ".join(f"w{i}" for i in range(len(query_tokens(filters.q)))),
    )
    assert clause == where_with_search(benign)[0]
    named = [c for c in filters.categories if c != NO_CATEGORY]
    assert params[: len(named)] == named
    for text in (filters.q, *filters.categories):
        if text and text != NO_CATEGORY:
            assert text not in clause
    # Run as parameters, the text breaks nothing: the search finds what its words find
    # written plainly (posts with any of them: ``lib.search``; ``--`` excludes nothing).
    if filters.q:
        plain = Filters(categories=filters.categories, q=" ".join(query_tokens(filters.q)))
        assert queries.count(con, filters) == queries.count(con, plain)
    else:
        expected = 11 if NO_CATEGORY in filters.categories else 0
        assert queries.count(con, filters) == expected
    assert query(seeded_db, "SELECT count(*) FROM posts") == [(33,)]


def test_search_words_are_segmented_deduplicated_and_capped() -> None:
    assert query_tokens("  LoRA  lora LoRA 显存 ") == ("lora", "显存")
    long = "a" * (MAX_QUERY_CHARS - 2) + " b c"  # only the first 200 characters count
    assert query_tokens(long) == ("a" * (MAX_QUERY_CHARS - 2), "b")
    assert query_tokens("   ") == ()
    assert len(query_tokens(" ".join(f"word{i}" for i in range(30)))) == MAX_TOKENS


def test_without_categories_keeps_the_other_filters() -> None:
    filters = Filters(categories=("NLP",), start=SEED_DAY, end=SEED_DAY, q="x")
    assert filters.without_categories() == Filters(start=SEED_DAY, end=SEED_DAY, q="x")


# ---------------------------------------------------------------------------
# lib.queries on the bundled store
# ---------------------------------------------------------------------------


def test_figures_of_the_whole_store(con: duckdb.DuckDBPyConnection, seeded_db: str) -> None:
    expected = query(
        seeded_db,
        """SELECT count(*), count(DISTINCT category), min(published), max(published),
                  count(*) - count(category), count(*) - count(published) FROM posts""",
    )[0]
    assert expected == (33, 5, SEED_DAY, SEED_DAY, 11, 11)
    assert queries.figures(con, Filters()) == queries.Figures(*expected)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(categories=("NLP",)), 4),
        (Filters(categories=("NLP", "Python")), 7),
        (Filters(categories=(NO_CATEGORY,)), 11),
        (Filters(categories=(NO_CATEGORY, "Large Model")), 24),
        (Filters(start=SEED_DAY, end=SEED_DAY), 22),
        (Filters(start=date(2026, 1, 12)), 0),
        (Filters(end=date(2026, 1, 10)), 0),
        (Filters(categories=("No such category",)), 0),
    ],
)
def test_count_and_figures_agree_with_the_store(
    con: duckdb.DuckDBPyConnection, filters: Filters, expected: int
) -> None:
    assert queries.count(con, filters) == expected
    figures = queries.figures(con, filters)
    assert figures.posts == expected
    assert len(queries.cards(con, filters, limit=100)) == expected


def test_search_is_case_insensitive_over_title_excerpt_body_and_tags(
    con: duckdb.DuckDBPyConnection, seeded_db: str
) -> None:
    for word in ("FlashAttention", "attention", "LoRA", "显存", "pytorch"):
        expected = query(
            seeded_db,
            """SELECT id FROM posts WHERE title ILIKE ? OR excerpt ILIKE ? OR body ILIKE ?
                   OR list_bool_or([t ILIKE ? FOR t IN coalesce(tags, [])]) ORDER BY id""",
            [f"%{word}%"] * 4,
        )
        found = sorted(c["id"] for c in queries.cards(con, Filters(q=word.upper()), limit=100))
        assert found == [row[0] for row in expected], word
        assert expected, word


def test_category_counts_match_the_store_largest_first(
    con: duckdb.DuckDBPyConnection, seeded_db: str
) -> None:
    counts = queries.category_counts(con, Filters())
    assert dict(counts) == store_category_counts(seeded_db)
    assert [n for _, n in counts] == sorted((n for _, n in counts), reverse=True)


def test_category_counts_ignore_the_category_filter(con: duckdb.DuckDBPyConnection) -> None:
    assert queries.category_counts(con, Filters(categories=("NLP",))) == queries.category_counts(
        con, Filters()
    )


def test_category_counts_keep_categories_without_matches(
    con: duckdb.DuckDBPyConnection, seeded_db: str
) -> None:
    counts = dict(queries.category_counts(con, Filters(q="FlashAttention")))
    assert set(counts) == set(store_category_counts(seeded_db))  # including None
    assert sum(counts.values()) == 1
    assert sorted(counts.values()) == [0, 0, 0, 0, 0, 1]
    nothing = dict(queries.category_counts(con, Filters(start=date(2030, 1, 1))))
    assert set(nothing) == set(counts) and set(nothing.values()) == {0}


def test_cards_pages_cover_the_store_in_order(
    con: duckdb.DuckDBPyConnection, seeded_db: str
) -> None:
    newest = [
        r[0]
        for r in query(seeded_db, "SELECT id FROM posts ORDER BY published DESC NULLS LAST, id")
    ]
    pages = [queries.cards(con, Filters(), "newest", 10, offset) for offset in (0, 10, 20, 30)]
    assert [len(p) for p in pages] == [10, 10, 10, 3]
    assert [c["id"] for page in pages for c in page] == newest
    assert queries.cards(con, Filters(), "newest", 10, 40) == []
    first = pages[0][0]
    assert list(first) == [c.strip() for c in queries.CARD_COLUMNS.split(",")]


def test_cards_sorted_oldest_first_and_unknown_sort_falls_back(
    con: duckdb.DuckDBPyConnection, seeded_db: str
) -> None:
    oldest = [
        r[0] for r in query(seeded_db, "SELECT id FROM posts ORDER BY published ASC NULLS LAST, id")
    ]
    assert [c["id"] for c in queries.cards(con, Filters(), "oldest", 100)] == oldest
    assert queries.cards(con, Filters(), "bogus", 100) == queries.cards(
        con, Filters(), "newest", 100
    )


def test_cards_respect_the_filters(con: duckdb.DuckDBPyConnection) -> None:
    cards = queries.cards(con, Filters(categories=("NLP",)), limit=100)
    assert len(cards) == 4
    assert {c["category"] for c in cards} == {"NLP"}


def test_post_returns_every_stored_field(con: duckdb.DuckDBPyConnection, seeded_db: str) -> None:
    post_id, title, sightings = query(
        seeded_db, "SELECT id, title, sightings FROM posts ORDER BY sightings DESC, id LIMIT 1"
    )[0]
    post = queries.post(con, post_id)
    assert post is not None
    assert list(post) == [c.strip() for c in queries.EXPORT_COLUMNS.split(",")]
    assert (post["id"], post["title"], post["sightings"]) == (post_id, title, sightings)
    assert len(queries.sightings_of(con, post_id)) == sightings
    assert queries.post(con, "no-such-id") is None
    assert queries.post(con, "' OR TRUE --") is None


def test_export_is_an_arrow_table_of_every_matching_row(
    con: duckdb.DuckDBPyConnection, seeded_db: str
) -> None:
    table = queries.export(con, Filters())
    assert isinstance(table, pa.Table)
    assert table.num_rows == 33
    columns = [c.strip() for c in queries.EXPORT_COLUMNS.split(",")]
    assert table.column_names == [*columns, "body_source", "source_format"]
    assert table.column("id").to_pylist() == [
        r[0]
        for r in query(seeded_db, "SELECT id FROM posts ORDER BY published DESC NULLS LAST, id")
    ]
    nlp = queries.export(con, Filters(categories=("NLP",)))
    assert nlp.num_rows == 4 and set(nlp.column("category").to_pylist()) == {"NLP"}
    assert queries.export(con, Filters(q="no such words anywhere")).num_rows == 0


def test_volume_of_one_day(con: duckdb.DuckDBPyConnection, seeded_db: str) -> None:
    frame, interval = queries.volume(con, Filters())
    assert interval == "day"
    assert set(frame["period"]) == {SEED_DAY}
    assert not frame["partial"].any()
    dated = dict(
        query(
            seeded_db, "SELECT category, count(*) FROM posts WHERE published IS NOT NULL GROUP BY 1"
        )
    )
    assert dict(zip(frame["category"], frame["posts"], strict=True)) == dated


def test_volume_with_nothing_dated_is_empty(con: duckdb.DuckDBPyConnection) -> None:
    frame, interval = queries.volume(con, Filters(categories=(NO_CATEGORY,)))
    assert frame.empty and interval == "month"
    assert list(frame.columns) == ["period", "category", "posts", "partial", "why"]


def test_volume_rejects_an_unknown_interval(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="interval must be one of"):
        queries.volume(con, Filters(), "fortnight")


# ---------------------------------------------------------------------------
# lib.queries.volume over many months
# ---------------------------------------------------------------------------


def test_volume_picks_months_for_twenty_months_and_counts_every_dated_post(
    multi_con: duckdb.DuckDBPyConnection, multi_db: str
) -> None:
    frame, interval = queries.volume(multi_con, Filters())
    assert interval == "month"
    expected = query(
        multi_db,
        """SELECT date_trunc('month', published)::DATE, category, count(*) FROM posts
           WHERE published IS NOT NULL GROUP BY ALL""",
    )
    got = {
        (p, None if pd.isna(c) else c, int(n))
        for p, c, n in zip(frame["period"], frame["category"], frame["posts"], strict=True)
    }
    assert got == set(expected)
    assert int(frame["posts"].sum()) == 42


def test_volume_flags_periods_cut_by_the_data_or_the_filter(
    multi_con: duckdb.DuckDBPyConnection,
) -> None:
    frame, _ = queries.volume(multi_con, Filters(), "month")
    partial = set(frame.loc[frame["partial"], "period"])
    # Data from 2024-01-01 (a whole first month) to 2025-09-16 (a cut last month).
    assert partial == {date(2025, 9, 1)}

    cut = Filters(start=date(2024, 2, 10), end=date(2025, 5, 20))
    frame, _ = queries.volume(multi_con, cut, "month")
    assert min(frame["period"]) == date(2024, 2, 1)
    assert max(frame["period"]) == date(2025, 5, 1)
    assert set(frame.loc[frame["partial"], "period"]) == {date(2024, 2, 1), date(2025, 5, 1)}

    whole = Filters(start=date(2024, 3, 1), end=date(2025, 4, 30))
    frame, _ = queries.volume(multi_con, whole, "month")
    assert not frame["partial"].any()


def test_volume_interval_follows_the_filtered_span(multi_con: duckdb.DuckDBPyConnection) -> None:
    assert queries.volume(multi_con, Filters(end=date(2024, 2, 15)))[1] == "day"
    assert queries.volume(multi_con, Filters(end=date(2024, 12, 31)))[1] == "week"
    assert queries.volume(multi_con, Filters(), "quarter")[1] == "quarter"
    weekly, _ = queries.volume(multi_con, Filters(), "week")
    assert {p.weekday() for p in weekly["period"]} == {0}


def test_downloads_are_capped_to_fit_a_small_server(con: duckdb.DuckDBPyConnection) -> None:
    assert queries.export(con, Filters(), limit=5).num_rows == 5
    newest = queries.export(con, Filters(), limit=1).column("published").to_pylist()
    every = queries.export(con, Filters()).column("published").to_pylist()
    assert newest == every[:1]


def test_volume_folds_the_smallest_categories_into_one_stack(tmp_path: Path) -> None:
    """A store with more categories than the chart can tell apart (an export with 20,000
    drew 20,000 traces, and the Overview took 50 s): the largest stay apart, the rest are
    one stack, and every post is still counted; categories picked stay apart."""
    many = queries.TOP_CATEGORIES + 5
    rows = [
        {
            "title": f"post {c}-{i}",
            "excerpt": "text",
            "url": f"https://blog.example/{c}/{i}",
            "published": "2024-03-05",
            "category": f"cat{c:02}",
        }
        for c in range(many)
        for i in range(many - c)  # cat00 largest, the last one smallest
    ]
    db = build_store(tmp_path / "many.duckdb", rows)
    con = connect_read_only(db)
    frame, _ = queries.volume(con, Filters())
    shown = set(frame["category"])
    assert shown == {f"cat{c:02}" for c in range(queries.TOP_CATEGORIES)} | {
        queries.OTHER_CATEGORIES
    }
    assert int(frame["posts"].sum()) == len(rows)
    picked = tuple(f"cat{c:02}" for c in range(many - 3, many))  # the three smallest
    assert set(queries.volume(con, Filters(categories=picked))[0]["category"]) == set(picked)
