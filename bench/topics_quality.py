"""Topic quality, side by side in one run: NPMI coherence, topic diversity, and agreement
with the subject each post was written about (NMI), on corpora made like real ML blogs.

    python -m bench.topics_quality [--posts 600]

Four methods on the same store, built by the real import from ``bench.topic_corpus``:

- ``keywords``: today's keyword topics, each the posts that have one term among their
  keywords (the leading terms), described by the keywords those posts share most;
- ``LDA``: scikit-learn's LatentDirichletAllocation on the same index terms;
- ``BERTopic-tfidf``: BERTopic's pipeline re-implemented with a non-neural embedding
  (BERTopic itself needs sentence-transformers): TF-IDF over the index terms, truncated
  SVD, HDBSCAN (outliers dropped), c-TF-IDF on the clusters;
- ``topics``: ours (``lib.topic_model``), as the import fitted them.

NPMI is the mean over pairs of each topic's top 10 terms of
``log(p(a,b) / p(a)p(b)) / -log p(a,b)`` by document co-occurrence in the corpus
(-1 for a pair never together), a term's spellings and languages merged for every
method (naming one term three ways earns no coherence); diversity is the share of
distinct terms among all topics' top 10s; NMI compares each post's main topic with
the subject it was written about.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import duckdb
import numpy as np
from scipy import sparse

from bench.topic_corpus import BLOGS, blog_posts
from lib.ingest import run_ingest
from lib.search import compact
from lib.topic_names import LABEL_SEPARATOR, OUTLIER
from lib.topic_terms import term_keys

TOP = 10
LISTED = 2 * TOP  # terms each baseline lists: after merging spellings, its top 10 are judged


def build(folder: Path, blog: str, posts: int) -> tuple[str, dict[str, str]]:
    rows = blog_posts(blog, posts)
    source = folder / f"{blog}.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps({k: v for k, v in row.items() if k != "subject"}) + "\n")
    db = str(folder / f"{blog}.duckdb")
    run_ingest(db, [str(source)])
    return db, {row["url"]: row["subject"] for row in rows}


class Corpus:
    """The store's posts as sets of index terms: the reference for co-occurrence."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.docs = con.sql("SELECT doc FROM posts ORDER BY doc").fetchnumpy()["doc"]
        terms = con.sql("SELECT term_id, term, topical FROM terms ORDER BY term_id").fetchall()
        self.term = {tid: t for tid, t, _ in terms}
        self.column = {t: i for i, (_, t, _) in enumerate(terms)}
        self.topical = np.array([flag for *_, flag in terms])
        p = con.sql("SELECT doc, term_id, tf FROM postings").fetchnumpy()
        rows = np.searchsorted(self.docs, p["doc"])
        cols = np.array([self.column[self.term[t]] for t in p["term_id"]])
        self.counts = sparse.csr_matrix(
            (p["tf"].astype(np.float64), (rows, cols)), shape=(len(self.docs), len(terms))
        )
        self.present = (self.counts > 0).astype(np.float64).tocsc()
        self.keys = term_keys(self.column)

    def key(self, word: str) -> str:
        """The term a word stands for, its spellings and languages one (``LLM/大模型``)."""
        low = word.split("/")[0].lower()
        return self.keys.get(low, compact(low))

    def merged(self, words: list[str]) -> list[str]:
        """``words`` with the second spelling of a term left out: each method's list is
        judged as terms, so that naming a term twice earns no coherence."""
        return list({self.key(w): w for w in reversed(words)}.values())[::-1]

    def docs_of(self, word: str) -> np.ndarray:
        """Which posts have ``word``: an index term, or a shown term (all its spellings)."""
        members: set[str] = set()
        for part in word.split("/"):
            low = part.lower()
            key = self.keys.get(low, compact(low))
            members |= {t for t, k in self.keys.items() if k == key} | {low}
        cols = [self.column[m] for m in members if m in self.column]
        if not cols:
            return np.zeros(len(self.docs), dtype=bool)
        return np.asarray(self.present[:, cols].sum(axis=1)).ravel() > 0


def npmi(corpus: Corpus, topics: list[list[str]]) -> float:
    scores = []
    n = len(corpus.docs)
    for words in topics:
        sets = [corpus.docs_of(w) for w in words[:TOP]]
        for i in range(len(sets)):
            for j in range(i + 1, len(sets)):
                both = (sets[i] & sets[j]).sum() / n
                pi, pj = sets[i].sum() / n, sets[j].sum() / n
                if both == 0 or pi == 0 or pj == 0:
                    scores.append(-1.0)
                elif both == 1:
                    scores.append(1.0)
                else:
                    scores.append(np.log(both / (pi * pj)) / -np.log(both))
    return float(np.mean(scores)) if scores else float("nan")


def diversity(topics: list[list[str]]) -> float:
    words = [w.lower() for t in topics for w in t[:TOP]]
    return len(set(words)) / len(words) if words else float("nan")


def _ctfidf_top(counts: sparse.csr_matrix, labels: np.ndarray, names: list[str]) -> list[list[str]]:
    """Each cluster's top terms by c-TF-IDF, as BERTopic ranks them."""
    clusters = sorted(c for c in set(labels.tolist()) if c != OUTLIER)
    tf = np.vstack([np.asarray(counts[labels == c].sum(axis=0)).ravel() for c in clusters])
    average = tf.sum() / len(clusters)
    score = tf / np.maximum(tf.sum(axis=1, keepdims=True), 1)
    score *= np.log(1 + average / np.maximum(tf.sum(axis=0), 1))
    return [[names[i] for i in np.argsort(-row)[:LISTED] if row[i] > 0] for row in score]


def _vocabulary(corpus: Corpus) -> tuple[sparse.csr_matrix, list[str]]:
    """The topical terms in 2 posts or more and at most 40 %: what LDA and BERTopic get."""
    df = np.asarray(corpus.present.sum(axis=0)).ravel()
    keep = np.flatnonzero(corpus.topical & (df >= 2) & (df <= 0.4 * len(corpus.docs)))
    names = sorted(corpus.column, key=corpus.column.get)
    return corpus.counts[:, keep].tocsr(), [names[i] for i in keep]


def keyword_topics(con, corpus: Corpus, k: int) -> tuple[list[list[str]], np.ndarray]:
    leading = [t for (t,) in con.sql(
        """SELECT term FROM post_keywords GROUP BY term
           ORDER BY count(*) * ln(1 + (SELECT count(DISTINCT doc) FROM post_keywords) / count(*))
           DESC, term LIMIT ?""", params=[k]).fetchall()]  # fmt: skip
    rows = con.sql("SELECT doc, term, weight FROM post_keywords").fetchall()
    keywords: dict[int, list[tuple[float, str]]] = {}
    for doc, term, weight in rows:
        keywords.setdefault(doc, []).append((weight, term))
    topics = []
    for term in leading:
        shared: dict[str, int] = {}
        for pairs in keywords.values():
            if any(t == term for _, t in pairs):
                for _, t in pairs:
                    shared[t] = shared.get(t, 0) + 1
        rest = sorted((t for t in shared if t != term), key=lambda t: (-shared[t], t))
        topics.append([term, *rest[: LISTED - 1]])
    main = {doc: max(pairs)[1] for doc, pairs in keywords.items()}
    index = {t: i for i, t in enumerate(leading)}
    labels = np.array([index.get(main.get(d, ""), OUTLIER) for d in corpus.docs])
    return topics, labels


def lda_topics(corpus: Corpus, k: int) -> tuple[list[list[str]], np.ndarray]:
    from sklearn.decomposition import LatentDirichletAllocation

    counts, names = _vocabulary(corpus)
    lda = LatentDirichletAllocation(k, max_iter=30, random_state=0).fit(counts)
    topics = [[names[i] for i in np.argsort(-row)[:LISTED]] for row in lda.components_]
    return topics, lda.transform(counts).argmax(axis=1)


def bertopic_tfidf(corpus: Corpus) -> tuple[list[list[str]], np.ndarray]:
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    counts, names = _vocabulary(corpus)
    tfidf = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
    embedded = normalize(TruncatedSVD(48, random_state=0).fit_transform(tfidf))
    labels = HDBSCAN(min_cluster_size=max(10, len(corpus.docs) // 100)).fit_predict(embedded)
    if (labels == OUTLIER).all():
        return [], labels
    return _ctfidf_top(counts, labels, names), labels


def ours(con, corpus: Corpus) -> tuple[list[list[str]], np.ndarray, list[str]]:
    rows = con.sql(
        "SELECT topic_id, terms, label FROM topics WHERE topic_id >= 0 ORDER BY topic_id"
    ).fetchall()
    placed = dict(con.sql("SELECT doc, topic_id FROM post_topics").fetchall())
    labels = np.array([placed.get(int(d), OUTLIER) for d in corpus.docs])
    return [list(t) for _, t, _ in rows], labels, [label for *_, label in rows]


def nmi(labels: np.ndarray, subjects: list[str]) -> float:
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(subjects, labels))


def judge(db: str, subject_of: dict[str, str]) -> list[tuple[str, int, float, float, float]]:
    con = duckdb.connect(db, read_only=True)
    corpus = Corpus(con)
    ids = dict(con.sql("SELECT doc, url FROM posts").fetchall())
    subjects = [subject_of[ids[int(d)]] for d in corpus.docs]
    mine, my_labels, names = ours(con, corpus)
    k = len(mine)
    methods = {
        "keywords": keyword_topics(con, corpus, k),
        "LDA": lda_topics(corpus, k),
        "BERTopic-tfidf": bertopic_tfidf(corpus),
        "topics": (mine, my_labels),
    }
    print("  our labels: " + " | ".join(n.replace(LABEL_SEPARATOR, ", ") for n in names))
    con.close()
    results = []
    for name, (topics, labels) in methods.items():
        terms = [corpus.merged(t)[:TOP] for t in topics]
        keys = [[corpus.key(w) for w in t] for t in terms]
        results.append(
            (name, len(topics), npmi(corpus, terms), diversity(keys), nmi(labels, subjects))
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=600, help="posts per blog")
    args = parser.parse_args()
    totals: dict[str, list[tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for blog in BLOGS:
            db, subject_of = build(Path(tmp), blog, args.posts)
            print(f"{blog} ({args.posts} posts, {len(BLOGS[blog][1])} subjects)")
            for name, k, coherence, spread, agreement in judge(db, subject_of):
                print(f"  {name:15} topics {k:3}  NPMI {coherence:+.3f}  diversity {spread:.2f}"
                      f"  NMI {agreement:.2f}")  # fmt: skip
                totals.setdefault(name, []).append((coherence, spread, agreement))
    print("mean over blogs")
    for name, rows in totals.items():
        c, d, a = np.mean(rows, axis=0)
        print(f"  {name:15} NPMI {c:+.3f}  diversity {d:.2f}  NMI {a:.2f}")


if __name__ == "__main__":
    main()
