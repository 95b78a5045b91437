"""How many groups the posts fall into, their centres, and where the groups sit on the map.

k-means on the posts' reduced vectors, for the number of groups whose groups are best
separated; centres that point the same way are merged (k-means cuts a large subject in two
sooner than it leaves two subjects together); the centres are laid out in 2-D by PCA.
Pure numpy and scikit-learn: :mod:`lib.topic_model` reads the store and writes the topics.
"""

from __future__ import annotations

import numpy as np

MAX_TOPICS = 60
SILHOUETTE_SAMPLE = 3_000  # posts the number of topics is judged on
SMALL_TRIAL = 5_000
FULL_KMEANS = 2_000  # posts up to which plain k-means (10 starts) is fitted, not mini-batch
CHOICE_SAMPLE = 15_000  # posts the trial groupings for that judgement are fitted on
MERGE_SIMILARITY = 0.8  # centres this close (cosine) are one subject cut in two
PLACE_SPREAD = 0.35  # a post's offset from its group's place, relative to the layout
SMALL_GROUP = 3  # posts a group of a small blog holds at least, on average
# Posts up to which a blog is small: a group of one post is no topic, and topics are
# named from every term of their posts (lib.topic_model).
SMALL_BLOG = 200
SMALL_BLOG_TOPICS = 20  # up to this many groups are tried, one by one, on a small blog


def topic_count(posts: int) -> int:
    return int(np.clip(round(np.sqrt(posts) / 3), 1, MAX_TOPICS))


def cluster(embedded: np.ndarray, guess: int) -> np.ndarray:
    """Group centres by k-means, for the number of groups around ``guess`` whose groups
    are best separated (silhouette, judged on subsamples): a blog has as many subjects
    as it has, not as many as its size suggests."""
    from sklearn.metrics import silhouette_score

    candidates = _candidates(len(embedded), guess)
    order = np.random.default_rng(0).permutation(len(embedded))
    trial = embedded[order[:CHOICE_SAMPLE]]
    probe = embedded[order[:SILHOUETTE_SAMPLE]]
    best_k, best_score = 0, -2.0
    tries = 3 if len(trial) <= SMALL_TRIAL else 1  # one init is noisy, and cheap when small
    for k in (c for c in candidates if 2 <= c < len(trial)):
        labels = _kmeans(k, trial, tries)
        found = labels.predict(probe)
        score = silhouette_score(probe, found) if len(set(found)) > 1 else -1.0
        if len(trial) <= SMALL_BLOG and np.bincount(labels.labels_).min() < 2:
            continue  # a group of one post is no topic: it is that post's subject
        if score > best_score:
            best_k, best_score = k, score
    if not best_k:
        return embedded.mean(axis=0, keepdims=True)
    return merge_close(_kmeans(best_k, embedded, 3).cluster_centers_)


def _kmeans(k: int, points: np.ndarray, tries: int):
    """k-means: mini-batch on many posts; plain, with 10 starts, on a few, where mini-batches
    of one batch land in poor minima (15 posts on 15 subjects came out 11, 3 and 1)."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if len(points) <= FULL_KMEANS:
        return KMeans(k, n_init=10, random_state=0).fit(points)
    return MiniBatchKMeans(k, n_init=tries, batch_size=4096, random_state=0).fit(points)


def _candidates(posts: int, guess: int) -> list[int]:
    """The numbers of groups tried: around ``guess``, and on a small blog every number up
    to one group per ``SMALL_GROUP`` posts, since its few posts may each be on a subject
    of its own (a guess from the size alone would put 16 posts in 1 or 2 groups)."""
    most = max(1, min(MAX_TOPICS, 2 * guess, posts // 2))
    tried = set(np.linspace(max(2, guess // 2), most, 6).round().astype(int))
    small = min(SMALL_BLOG_TOPICS, posts // SMALL_GROUP)
    if small > most:
        tried |= set(range(2, small + 1))
    return sorted(int(k) for k in tried)


def merge_close(centres: np.ndarray) -> np.ndarray:
    """One centre for groups whose centres point the same way: k-means cuts a large
    subject in two sooner than it leaves two subjects together."""
    unit = centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-9)
    groups = [[i] for i in range(len(unit))]
    while len(groups) > 1:
        means = np.array([unit[g].mean(axis=0) for g in groups])
        means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-9)
        similarity = means @ means.T
        np.fill_diagonal(similarity, -1)
        a, b = np.unravel_index(similarity.argmax(), similarity.shape)
        if similarity[a, b] < MERGE_SIMILARITY:
            break
        groups[a] += groups.pop(b)
    return np.array([centres[g].mean(axis=0) for g in groups])


def layout(centres: np.ndarray, embedded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The centres' places in 2-D (PCA over them) and the axes a post's offset follows."""
    from sklearn.decomposition import PCA

    if len(centres) >= 3:
        places = PCA(2, random_state=0).fit_transform(centres)
    else:
        places = np.c_[np.arange(len(centres), dtype=np.float64), np.zeros(len(centres))]
    scale = float(np.abs(places).max()) or 1.0
    places = places / scale
    if embedded.shape[1] >= 2 and len(embedded) >= 3:
        axes = PCA(2, random_state=0).fit(embedded).components_.T
    else:
        axes = np.zeros((embedded.shape[1], 2))
    return places.astype(np.float32), (axes * PLACE_SPREAD).astype(np.float32)
