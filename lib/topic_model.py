"""Topics: named groups of posts about one subject, fitted from the search index.

As BERTopic makes them, with non-neural parts (no model to download): each post is
its index terms weighed by TF-IDF (``lib.topic_terms`` merges spellings and the two
languages of a term first), reduced by truncated SVD, clustered by k-means
(``lib.topic_clusters``); each group is named by its most distinctive terms by class-based
TF-IDF (``lib.topic_labels``). Posts far from every group's centre are outliers, labelled as
such. Every post gets a 2-D place for the map: its group's place (the centres laid out by
PCA) plus its own offset.

The fit reads the postings (term ids and counts, never the text) for a sample of
posts, then places every post, so learning costs the same on any store past the sample.
``update`` runs at the end of every index update: it fits when there are no topics
or the store has grown a lot since, and otherwise assigns the new posts to the
topics there are. ``python -m lib.topic_model refit [--db PATH]`` refits by hand.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
from scipy import sparse

from lib import topic_terms
from lib.store import table_exists
from lib.topic_clusters import SMALL_BLOG, cluster, layout, topic_count
from lib.topic_labels import name_topics
from lib.topic_names import OUTLIER, OUTLIER_LABEL

FIT_SAMPLE = 60_000  # posts the SVD and k-means learn from; the rest are only placed
DIMENSIONS = 48
REFIT_GROWTH = 2  # refit at import once the store holds this many times the fitted posts
OUTLIER_SIMILARITY = 0.2  # cosine to the nearest centre below which a post is an outlier
MIN_DF_SHARE = 0.0005  # a term in fewer posts than this share says little about groups
MAX_DF_SHARE = 0.4  # nor does one in more

SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    topic_id INTEGER NOT NULL, label VARCHAR NOT NULL, terms VARCHAR[] NOT NULL,
    size INTEGER NOT NULL, x REAL, y REAL);
CREATE TABLE IF NOT EXISTS post_topics (
    doc INTEGER NOT NULL, topic_id INTEGER NOT NULL, weight REAL NOT NULL,
    x REAL NOT NULL, y REAL NOT NULL, category VARCHAR, published DATE);
CREATE TABLE IF NOT EXISTS topic_model (key VARCHAR PRIMARY KEY, value BLOB NOT NULL);
"""

Progress = Callable[[str], None]
STAGES = ("counting terms", "reducing", "clustering", "placing posts", "naming topics")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA)


@dataclass
class Model:
    """What placing a post needs: the term ids of each column, their idf, the SVD basis,
    the group centres and the 2-D layout."""

    term_ids: np.ndarray  # index term id of each term (several per column when merged)
    columns: np.ndarray  # column of each of term_ids
    idf: np.ndarray  # per column
    basis: np.ndarray  # columns x dimensions
    centres: np.ndarray  # topics x dimensions, unit length
    places: np.ndarray  # topics x 2
    axes: np.ndarray  # dimensions x 2: a post's offset from its centre, in 2-D
    fitted_posts: int

    def dump(self) -> bytes:
        out = io.BytesIO()
        np.savez(out, **{k: np.asarray(v) for k, v in self.__dict__.items()})
        return out.getvalue()

    @classmethod
    def load(cls, blob: bytes) -> Model:
        arrays = np.load(io.BytesIO(blob))
        return cls(**{k: arrays[k] for k in cls.__dataclass_fields__})


def _vocabulary(
    con: duckdb.DuckDBPyConnection, posts: int, least: int = 2
) -> tuple[np.ndarray, np.ndarray, list]:
    """The term ids the model counts, each one's column, and the index terms of each column
    (those in at least ``least`` posts, and in ``MIN_DF_SHARE`` of them)."""
    low = max(least, int(posts * MIN_DF_SHARE))
    high = max(low + 1, int(posts * MAX_DF_SHARE)) if posts >= 20 else posts
    rows = con.execute(
        "SELECT term_id, term, df FROM terms WHERE topical AND df >= ? ORDER BY term_id", [low]
    ).fetchall()
    rows = [r for r in rows if topic_terms.labelable(r[1])]
    keys = topic_terms.term_keys(r[1] for r in rows)
    frequency: dict[str, int] = {}
    for _, term, df in rows:
        frequency[keys[term]] = max(frequency.get(keys[term], 0), df)
    # A column's posts are at least its most frequent name's: the cut of columns too
    # common to tell groups apart is finished on the counts (see ``_drop_common``).
    kept = sorted(k for k, n in frequency.items() if n <= high)
    column = {k: i for i, k in enumerate(kept)}
    members: list[list[tuple[str, int]]] = [[] for _ in kept]
    ids, cols = [], []
    for term_id, term, df in rows:
        if keys[term] in column:
            ids.append(term_id)
            cols.append(column[keys[term]])
            members[column[keys[term]]].append((term, df))
    return np.array(ids, dtype=np.int32), np.array(cols, dtype=np.int32), members


def _counts(
    con: duckdb.DuckDBPyConnection, term_ids: np.ndarray, columns: np.ndarray, docs: str
) -> tuple[np.ndarray, sparse.csr_matrix]:
    """The docs of ``docs`` (a query of ``doc``) and their term counts per column."""
    con.register("_topic_terms", pa.table({"term_id": term_ids, "col": columns}))
    try:
        doc_list = con.sql(f"SELECT DISTINCT doc FROM ({docs}) ORDER BY doc").fetchnumpy()["doc"]
        table = con.sql(
            f"""SELECT s.doc, t.col, s.tf FROM postings s JOIN _topic_terms t USING (term_id)
                WHERE s.doc IN ({docs})"""
        ).fetchnumpy()
    finally:
        con.unregister("_topic_terms")
    doc_list = np.asarray(doc_list, dtype=np.int64)
    rows = np.searchsorted(doc_list, np.asarray(table["doc"], dtype=np.int64))
    width = int(columns.max()) + 1 if len(columns) else 1
    matrix = sparse.csr_matrix(
        (np.asarray(table["tf"], dtype=np.float32), (rows, np.asarray(table["col"]))),
        shape=(len(doc_list), width),
    )
    matrix.sum_duplicates()
    return doc_list, matrix


def _drop_common(
    term_ids: np.ndarray, columns: np.ndarray, members: list, counts: sparse.csr_matrix
) -> tuple[np.ndarray, np.ndarray, list, sparse.csr_matrix]:
    """Without the columns in more than ``MAX_DF_SHARE`` of the posts: a merged term (a
    name in two languages) is in more posts than any of its names, so the cut made on
    each name's own count in :func:`_vocabulary` is finished here."""
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    keep = np.flatnonzero(df <= max(2, MAX_DF_SHARE * counts.shape[0]))
    number = np.full(counts.shape[1], -1)
    number[keep] = np.arange(len(keep))
    kept = number[columns] >= 0
    return (
        term_ids[kept],
        number[columns[kept]].astype(np.int32),
        [members[i] for i in keep],
        counts[:, keep].tocsr(),
    )


def _merge_companions(
    term_ids: np.ndarray, columns: np.ndarray, members: list, counts: sparse.csr_matrix
) -> tuple[np.ndarray, np.ndarray, list, sparse.csr_matrix]:
    """One column for a Chinese and a Latin name that go together (``topic_terms.companions``)."""
    target = topic_terms.companions(members, counts)
    roots, number = np.unique(target, return_inverse=True)
    if len(roots) == len(target):
        return term_ids, columns, members, counts
    merged: list[list] = [[] for _ in roots]
    for column, names in enumerate(members):
        merged[number[column]] += names
    fold = sparse.csr_matrix(
        (np.ones(len(target), dtype=np.float32), (np.arange(len(target)), number)),
        shape=(len(target), len(roots)),
    )
    return term_ids, number[columns].astype(np.int32), merged, (counts @ fold).tocsr()


def _weigh(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF-IDF, rows of unit length."""
    from sklearn.preprocessing import normalize

    weighted = counts.copy()
    weighted.data = 1 + np.log(weighted.data)
    return normalize(weighted @ sparse.diags(idf.astype(np.float32)), copy=False)


def _embed(weighted: sparse.csr_matrix, basis: np.ndarray) -> np.ndarray:
    from sklearn.preprocessing import normalize

    return normalize(np.asarray(weighted @ basis, dtype=np.float32))


def _place(model: Model, embedded: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each post's topic (``OUTLIER`` when far from all), similarity to it, and 2-D place."""
    similarity = embedded @ model.centres.T
    nearest = similarity.argmax(axis=1)
    best = similarity[np.arange(len(nearest)), nearest]
    empty = ~embedded.any(axis=1)
    offset = (embedded - model.centres[nearest]) @ model.axes
    xy = model.places[nearest] + offset
    topic = np.where((best < OUTLIER_SIMILARITY) | empty, OUTLIER, nearest)
    return topic.astype(np.int32), np.where(empty, 0, best).astype(np.float32), xy


def fit(con: duckdb.DuckDBPyConnection, progress: Progress | None = None) -> int:
    """Fit topics on the whole store, replacing any there were; returns how many."""
    # On a handful of posts scikit-learn warns (no variance left, fewer distinct groups
    # than asked); the fit copes, and an import's output is no place for it.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", module=r"sklearn\.")
        return _fit(con, progress)


def _fit(con: duckdb.DuckDBPyConnection, progress: Progress | None) -> int:
    from sklearn.decomposition import TruncatedSVD

    say = progress or (lambda _: None)
    ensure_schema(con)
    posts = con.execute("SELECT count(*) FROM posts WHERE doc IS NOT NULL").fetchall()[0][0]
    term_ids, columns, members = _vocabulary(con, posts)
    con.execute("DELETE FROM post_topics")
    con.execute("DELETE FROM topics")
    con.execute("DELETE FROM topic_model")
    if len(members) < 2:  # too few words to group by: every post is an outlier
        _place_all_outliers(con)
        return 0
    say("counting terms")
    docs_sql = "SELECT doc FROM posts WHERE doc IS NOT NULL"
    sample_sql = docs_sql
    if posts > FIT_SAMPLE:  # every k-th post: a sample spread over the whole store
        sample_sql += f" AND doc % {int(np.ceil(posts / FIT_SAMPLE))} = 0"
    _, counts = _counts(con, term_ids, columns, sample_sql)
    counts.resize((counts.shape[0], len(members)))
    term_ids, columns, members, counts = _merge_companions(term_ids, columns, members, counts)
    term_ids, columns, members, counts = _drop_common(term_ids, columns, members, counts)
    if len(members) < 2 or counts.shape[0] < 2:
        _place_all_outliers(con)
        return 0
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log((1 + counts.shape[0]) / (1 + df)) + 1
    weighted = _weigh(counts, idf)
    say("reducing")
    dims = max(1, min(DIMENSIONS, weighted.shape[1] - 1, weighted.shape[0] - 1))
    svd = TruncatedSVD(dims, algorithm="randomized", n_iter=4, random_state=0)
    svd.fit(weighted)
    basis = svd.components_.T.astype(np.float32)
    embedded = _embed(weighted, basis)
    say("clustering")
    centres = cluster(embedded, topic_count(posts))
    centres = (centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-9)).astype(
        np.float32
    )
    centres = _holding_posts(centres, embedded)
    places, axes = layout(centres, embedded)
    model = Model(term_ids, columns, idf, basis, centres, places, axes, posts)
    say("placing posts")
    topic, counts = _assign(con, model, docs_sql)
    say("naming topics")
    _name(con, model, topic, counts, members, docs_sql)
    _refresh_sizes(con)
    con.execute("INSERT INTO topic_model VALUES ('model', ?)", [model.dump()])
    return int(con.execute("SELECT count(*) FROM topics WHERE topic_id >= 0").fetchall()[0][0])


def _holding_posts(centres: np.ndarray, embedded: np.ndarray) -> np.ndarray:
    """The centres that some post of the sample is placed at: a group of posts with no
    term the model counts has a centre at nothing, nearest to no post, and would stand as
    a topic with no posts and no name."""
    similarity = embedded @ centres.T
    nearest = similarity.argmax(axis=1)
    best = similarity[np.arange(len(nearest)), nearest]
    held = np.unique(nearest[(best >= OUTLIER_SIMILARITY) & embedded.any(axis=1)])
    return centres[held] if len(held) else centres


def _name(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    topic: np.ndarray,
    counts: sparse.csr_matrix,
    members: list,
    docs: str,
) -> None:
    """Name the topics from the term counts of their posts (``topic`` and ``counts``, one
    row per post of ``docs``, as :func:`_assign` gives them)."""
    if model.fitted_posts <= SMALL_BLOG:
        # A small blog's topic holds a few posts, each on its own subject, which it names
        # all through (FlashAttention, YaRN) and which no other post shares: the words
        # its posts share are generic (长度, 优化). Name it from every term.
        term_ids, columns, members = _vocabulary(con, model.fitted_posts, least=1)
        _, counts = _counts(con, term_ids, columns, docs)
        counts.resize((counts.shape[0], len(members)))
        term_ids, columns, members, counts = _merge_companions(term_ids, columns, members, counts)
    placed = topic >= 0
    by_topic = sparse.csr_matrix(
        (np.ones(int(placed.sum())), (topic[placed], np.flatnonzero(placed))),
        shape=(len(model.centres), len(topic)),
    )
    name_topics(con, (by_topic @ counts).toarray(), model.places, members)


def assign(con: duckdb.DuckDBPyConnection, model: Model, docs: str) -> int:
    """Place the posts of ``docs`` (a query of ``doc``) in the fitted topics; returns how many."""
    return len(_assign(con, model, docs)[0])


def _assign(
    con: duckdb.DuckDBPyConnection, model: Model, docs: str
) -> tuple[np.ndarray, sparse.csr_matrix]:
    """:func:`assign`, returning each post's topic and its term counts (for naming)."""
    doc_list, counts = _counts(con, model.term_ids, model.columns, docs)
    if counts.shape[1] < len(model.idf):
        counts.resize((counts.shape[0], len(model.idf)))
    if len(doc_list) == 0:
        return np.zeros(0, dtype=np.int32), counts
    topic, weight, xy = _place(model, _embed(_weigh(counts, model.idf), model.basis))
    placed = pa.table(
        {
            "doc": doc_list.astype(np.int32),
            "topic_id": topic,
            "weight": weight,
            "x": xy[:, 0].astype(np.float32),
            "y": xy[:, 1].astype(np.float32),
        }
    )
    _store_places(con, placed)
    return topic, counts


def _store_places(con: duckdb.DuckDBPyConnection, placed: pa.Table) -> None:
    con.register("_placed", placed)
    try:
        con.execute("DELETE FROM post_topics WHERE doc IN (SELECT doc FROM _placed)")
        con.execute(
            """INSERT INTO post_topics
               SELECT n.doc, n.topic_id, n.weight, n.x, n.y, p.category, p.published
               FROM _placed n JOIN posts p USING (doc) ORDER BY p.published, n.doc"""
        )
    finally:
        con.unregister("_placed")


def _place_all_outliers(con: duckdb.DuckDBPyConnection) -> None:
    docs = con.sql("SELECT doc FROM posts WHERE doc IS NOT NULL").fetchnumpy()["doc"]
    zeros = np.zeros(len(docs), dtype=np.float32)
    outlier = np.full(len(docs), OUTLIER, dtype=np.int32)
    _store_places(
        con,
        pa.table({"doc": np.asarray(docs, np.int32), "topic_id": outlier, "weight": zeros,
                  "x": zeros, "y": zeros}),
    )  # fmt: skip
    _refresh_sizes(con)


def _refresh_sizes(con: duckdb.DuckDBPyConnection) -> None:
    """Recount each topic's posts; the outliers get their row when there are any."""
    con.execute(
        """UPDATE topics SET size = coalesce(
               (SELECT count(*) FROM post_topics p WHERE p.topic_id = topics.topic_id), 0)"""
    )
    con.execute(
        """INSERT INTO topics
           SELECT ?, ?, []::VARCHAR[], count(*), NULL, NULL FROM post_topics
           WHERE topic_id = ? AND NOT EXISTS (SELECT 1 FROM topics WHERE topic_id = ?)
           HAVING count(*) > 0""",
        [OUTLIER, OUTLIER_LABEL, OUTLIER, OUTLIER],
    )


def stored_model(con: duckdb.DuckDBPyConnection) -> Model | None:
    rows = con.execute("SELECT value FROM topic_model WHERE key = 'model'").fetchall()
    return Model.load(rows[0][0]) if rows else None


def update(con: duckdb.DuckDBPyConnection, progress: Progress | None = None) -> None:
    """Keep the topics in step with the index, at the end of every index update: fit
    when there are none or the store has grown ``REFIT_GROWTH`` times since; otherwise
    place the new and changed posts in the topics there are."""
    ensure_schema(con)
    posts = con.execute("SELECT count(*) FROM posts WHERE doc IS NOT NULL").fetchall()[0][0]
    model = stored_model(con)
    if model is None or posts >= model.fitted_posts * REFIT_GROWTH:
        fit(con, progress)
        return
    con.execute(
        "DELETE FROM post_topics WHERE doc NOT IN (SELECT doc FROM posts WHERE doc IS NOT NULL)"
    )
    fresh = """SELECT doc FROM posts WHERE doc IS NOT NULL
               AND doc NOT IN (SELECT doc FROM post_topics)"""
    if table_exists(con, "_docs"):  # the posts the index update re-indexed
        fresh += " UNION SELECT doc FROM _docs"
    assign(con, model, fresh)
    _refresh_sizes(con)


def main(argv: list[str] | None = None) -> int:
    """``python -m lib.topic_model refit [--db PATH]``: fit the topics again, with progress."""
    import argparse

    from tqdm import tqdm

    from lib.config import resolve_db
    from lib.store import write_transaction

    parser = argparse.ArgumentParser(prog="python -m lib.topic_model", description=main.__doc__)
    parser.add_argument("command", choices=["refit"])
    parser.add_argument("--db", help="database file (default: $POSTS_DB or data/posts.duckdb)")
    args = parser.parse_args(argv)
    with tqdm(total=len(STAGES), unit="step") as bar, write_transaction(resolve_db(args.db)) as con:

        def step(stage: str) -> None:
            bar.set_description(stage)
            bar.update(1)

        found = fit(con, step)
        bar.update(bar.total - bar.n)
    print(f"{found} topics")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
