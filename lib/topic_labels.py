"""Topic names: each topic's most distinctive terms by class-based TF-IDF, as the blog
writes them (``lib.topic_model`` fits the topics; this names them)."""

from __future__ import annotations

import duckdb
import numpy as np

from lib import topic_terms
from lib.topic_names import LABEL_SEPARATOR

LABEL_TERMS = (3, 5)
MIN_LIFT = 2.0  # a topic's term is used at least this many times more in it than overall
TOP_TERMS = 10  # kept per topic: the label, then the terms that describe it further


def name_topics(
    con: duckdb.DuckDBPyConnection, tf: np.ndarray, places: np.ndarray, members: list
) -> None:
    """Name each topic by its most distinctive terms, by class-based TF-IDF:
    ``W = tf(t, c) / |c| · log(1 + A / f(t))``, ``A`` the average words per topic;
    ``tf`` holds each topic's term counts (topics × columns)."""
    k = len(tf)
    words = np.maximum(tf.sum(axis=1, keepdims=True), 1)
    average = tf.sum() / max(1, (tf.sum(axis=1) > 0).sum())
    score = tf / words * np.log(1 + average / np.maximum(tf.sum(axis=0), 1))
    # How much more often a term is used in the topic than in all posts: a word of the
    # blog's boilerplate, used everywhere alike, describes no topic.
    lift = (tf / words) / np.maximum(tf.sum(axis=0) / max(tf.sum(), 1), 1e-12)
    shown = _shown_forms(con, members)
    labels: set[str] = set()
    records = []
    for topic in range(k):
        ranked = [c for c in np.argsort(-score[topic]) if score[topic, c] > 0]
        order = [c for c in ranked if lift[topic, c] >= MIN_LIFT]
        # Fewer than three telling terms: the next most distinctive, if above average.
        order += [c for c in ranked if 1 < lift[topic, c] < MIN_LIFT][
            : max(0, LABEL_TERMS[0] - len(order))
        ]
        order = order or ranked
        low, high = LABEL_TERMS
        top = score[topic, order[0]] if order else 0
        chosen = [c for i, c in enumerate(order[:high]) if i < low or score[topic, c] >= top / 2]
        named = [shown[c] for c in chosen]
        label = LABEL_SEPARATOR.join(named)
        for extra in order[high:]:  # two topics with one name: the next term tells them apart
            if label not in labels:
                break
            named.append(shown[extra])
            label = LABEL_SEPARATOR.join(named)
        labels.add(label)
        terms = [shown[c] for c in order[:TOP_TERMS]]
        records.append((topic, label, terms, 0, *map(float, places[topic])))
    if records:
        con.executemany("INSERT INTO topics VALUES (?, ?, ?, ?, ?, ?)", records)


def _shown_forms(con: duckdb.DuckDBPyConnection, members: list) -> list[str]:
    """Each column as the blog writes it: its most frequent name in the casing seen most;
    with its other-language name beside it when that is common too (``LLM/大模型``)."""
    names = [sorted(m, key=lambda pair: (-pair[1], pair[0])) for m in members]
    forms = topic_terms.written_forms(con, {t for n in names for t, _ in n[:3]})
    shown = []
    for ranked in names:
        first, count = ranked[0]
        text = forms.get(first, first)
        is_cjk = bool(topic_terms.CJK.search(first))
        other = [(t, n) for t, n in ranked[1:] if bool(topic_terms.CJK.search(t)) != is_cjk]
        if other and other[0][1] * 4 >= count:
            text += "/" + forms.get(other[0][0], other[0][0])
        shown.append(text)
    return shown
