"""The fitted topics' queries against a plain reading of ``post_topics``: what the Topics
page's table and its example posts say, under filters and searches alike."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest

from bench.topic_corpus import blog_posts
from lib import selection, topics
from lib.charts import label
from lib.filters import Filters
from lib.store import connect_read_only
from tests.helpers import build_store

CATEGORIES = ("Large Model", "Infra", "笔记")
CASES = {
    "no filters": Filters(),
    "a category": Filters(categories=("Infra",)),
    "a word": Filters(q="显存"),
    "a word in a category": Filters(categories=("笔记",), q="训练"),
}


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """A blog of 240 posts about seven subjects in three categories, one uncategorised."""
    rows = [{k: v for k, v in r.items() if k != "subject"} for r in blog_posts("zh-llm-notes", 240)]
    for i, row in enumerate(rows):
        row["category"] = CATEGORIES[i % 3]
    del rows[0]["category"]
    db = build_store(tmp_path_factory.mktemp("topics") / "posts.duckdb", rows)
    connection = connect_read_only(db)
    yield connection
    connection.close()


def posts_kept(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Every post's topic row, and whether ``filters`` keep it (by the search's own list)."""
    frame = con.execute(
        """SELECT pt.doc, pt.topic_id, pt.weight, pt.category, p.id, p.title
           FROM post_topics pt JOIN posts p USING (doc)"""
    ).df()
    clause, params = selection.resolve(con, filters).where("p")
    kept = {d for (d,) in con.execute(f"SELECT doc FROM posts p WHERE {clause}", params).fetchall()}
    return frame.assign(kept=frame["doc"].isin(kept))


def expected_table(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """The table by its definition, in pandas: counts under the filters, lifts against all
    posts, and each topic's most over-represented category."""
    every = posts_kept(con, filters)
    here = every[every["kept"]]
    store_share = every.groupby("topic_id").size() / len(every)
    per_class = every.groupby(["category", "topic_id"], dropna=False).size()
    class_share = per_class / per_class.groupby(level="category", dropna=False).transform("sum")
    peak = (class_share / store_share.reindex(class_share.index, level="topic_id")).rename("lift")
    best = peak.reset_index().sort_values("lift", ascending=False).drop_duplicates("topic_id")
    counts = here.groupby("topic_id").size()
    frame = pd.DataFrame({"posts": counts, "share": counts / len(here)})
    frame["lift"] = frame["share"] / store_share.reindex(frame.index)
    frame = frame.join(best.set_index("topic_id").rename(columns={"lift": "peak"}))
    return frame.rename(columns={"category": "most_in"})


@pytest.mark.parametrize("case", CASES)
def test_topic_table_counts_and_lifts_by_their_definition(
    con: duckdb.DuckDBPyConnection, case: str
) -> None:
    filters = CASES[case]
    table = topics.topic_table(con, filters, 50).set_index("topic_id")
    expected = expected_table(con, filters)
    assert table["posts"].to_dict() == expected["posts"].to_dict()
    assert table["share"].to_dict() == pytest.approx(expected["share"].to_dict())
    lift = expected["lift"] if topics.filters_narrow(filters) else expected["peak"]
    assert table["lift"].to_dict() == pytest.approx(lift.to_dict())
    # The posts without a category are a class too: a topic can be most typical of them.
    most_in = expected["most_in"].reindex(table.index)
    assert [label(c) for c in table["most_in"]] == [label(c) for c in most_in]


def test_topic_table_holds_when_every_kept_table_was_dropped(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Each topic's spread over all posts is kept once per store: dropped (as a benchmark
    drops every table), it is made again, with the same figures."""
    filters = Filters(categories=("Infra",), q="显存")
    before = topics.topic_table(con, filters, 50)
    selection.forget(con)
    after = topics.topic_table(con, filters, 50)
    pd.testing.assert_frame_equal(before, after)


@pytest.mark.parametrize("case", CASES)
def test_examples_are_each_topics_closest_kept_posts(
    con: duckdb.DuckDBPyConnection, case: str
) -> None:
    """Read in the same scan as the counts: each topic's three kept posts of the highest
    weight (closest to its centre), best first, with their titles."""
    filters = CASES[case]
    table = topics.topic_table(con, filters, 50, examples=3)
    assert table.drop(columns="examples").equals(topics.topic_table(con, filters, 50))
    kept = posts_kept(con, filters)
    kept = kept[kept["kept"]]
    for row in table.itertuples():
        members = kept[kept["topic_id"] == row.topic_id].sort_values("weight", ascending=False)
        assert len(row.examples) == min(3, len(members))
        weights = list(members.set_index("doc").loc[list(row.examples), "weight"])
        # Best first, and none left out that is closer than the last one shown.
        assert weights == sorted(weights, reverse=True)
        assert weights == list(members["weight"].head(len(weights)))
    docs = tuple(int(d) for examples in table["examples"] for d in examples)
    shown = topics.example_posts(con, docs).set_index("doc")
    assert sorted(shown.index) == sorted(docs)
    titles = kept.set_index("doc")
    assert (shown["title"] == titles.loc[shown.index, "title"].fillna(shown["id"])).all()
