"""Topic lists read monthly counts for whole months and the posts' keywords for the rest.

Every figure must equal what counting the filtered posts' own keywords gives, for
date ranges that start and end anywhere in a month (or nowhere), with and without
categories, words and topics. The reference here is pandas over ``post_keywords``.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from bench.corpus import generate
from lib import topics
from lib.filters import Filters
from lib.ingest import run_ingest
from lib.store import connect_read_only


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("months")
    source = folder / "corpus.parquet"
    pq.write_table(generate(1500, seed=3), source)
    db = folder / "posts.duckdb"
    run_ingest(str(db), [str(source)])
    return db


@pytest.fixture(scope="module")
def keywords(store: Path) -> pd.DataFrame:
    con = connect_read_only(str(store))
    try:
        return con.execute("SELECT doc, term, category, published FROM post_keywords").df()
    finally:
        con.close()


def _filtered(keywords: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    rows = keywords
    if filters.categories:
        rows = rows[rows["category"].isin(filters.categories)]
    published = pd.to_datetime(rows["published"])
    if filters.start:
        rows = rows[published >= pd.Timestamp(filters.start)]
        published = pd.to_datetime(rows["published"])
    if filters.end:
        rows = rows[published <= pd.Timestamp(filters.end)]
    return rows


def _ranges(seed: int) -> list[tuple[date | None, date | None]]:
    rng = random.Random(seed)
    out: list[tuple[date | None, date | None]] = [(None, None)]
    for _ in range(12):
        start = date(2016, 1, 1) + timedelta(days=rng.randrange(3650))
        length = rng.choice([0, 3, 17, 31, 45, 400])
        end = start + timedelta(days=length)
        if rng.random() < 0.3:
            start = start.replace(day=1)
        choice = rng.random()
        out.append(
            (start, None) if choice < 0.15 else (None, end) if choice < 0.3 else (start, end)
        )
    out += [(date(2020, 1, 1), date(2020, 1, 31)), (date(2020, 3, 5), date(2020, 3, 5))]
    return out


@pytest.mark.parametrize("span", _ranges(5))
@pytest.mark.parametrize("categories", [(), ("NLP",), ("Large Model", "Python")])
def test_leading_counts_equal_the_keywords(
    store: Path, keywords: pd.DataFrame, span: tuple[date | None, date | None], categories
) -> None:
    filters = Filters(categories=categories, start=span[0], end=span[1])
    con = connect_read_only(str(store))
    try:
        got = topics.leading(con, filters, limit=10_000)
    finally:
        con.close()
    rows = _filtered(keywords, filters)
    expected = rows.groupby("term").size()
    assert dict(zip(got["topic"], got["posts"], strict=True)) == expected.to_dict()
    if len(rows):
        share = expected / rows["doc"].nunique()
        for topic, value in zip(got["topic"], got["share"], strict=True):
            assert value == pytest.approx(share[topic])


@pytest.mark.parametrize("span", _ranges(9)[:6])
def test_class_and_mover_counts_equal_the_keywords(
    store: Path, keywords: pd.DataFrame, span: tuple[date | None, date | None]
) -> None:
    filters = Filters(start=span[0], end=span[1])
    con = connect_read_only(str(store))
    try:
        classes = topics.by_class(con, filters, "year", limit=10_000)
        periods = topics.Periods(
            (date(2019, 2, 10), date(2021, 6, 3)), (date(2021, 6, 4), date(2024, 12, 20))
        )
        moved = topics.movers(con, Filters(categories=("NLP",)), periods, limit=10_000)
    finally:
        con.close()
    rows = _filtered(keywords, filters).dropna(subset=["published"])
    expected = rows.groupby([pd.to_datetime(rows["published"]).dt.year.astype(str), "term"]).size()
    got = {
        (c, t): n
        for c, t, n in zip(classes["class"], classes["topic"], classes["posts"], strict=True)
    }
    assert got == {k: v for k, v in expected.to_dict().items()}
    for side, (lo, hi) in (("before", periods.before), ("after", periods.after)):
        part = _filtered(keywords, Filters(categories=("NLP",), start=lo, end=hi))
        counts = part.groupby("term").size()
        for topic, n in zip(moved["topic"], moved[side], strict=True):
            assert n == counts.get(topic, 0)


def test_words_and_topics_fall_back_to_the_keywords(store: Path, keywords: pd.DataFrame) -> None:
    con = connect_read_only(str(store))
    try:
        everything = topics.leading(con, Filters(), limit=5)
        searched = topics.leading(con, Filters(q=everything["topic"][0]), limit=10_000)
    finally:
        con.close()
    # Every post the search finds mentions the word; fewer posts than the store has.
    assert 0 < searched["posts"].max() <= keywords["doc"].nunique()
    assert searched["posts"].sum() < len(keywords)
