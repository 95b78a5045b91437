"""How many groups a blog's posts fall into (lib.topic_clusters), on small blogs imported by
the real ingest: a blog of a few posts on several subjects gets a topic per subject."""

from __future__ import annotations

import pytest

from bench.topic_corpus import ZH_LLM, blog_posts
from lib.topic_clusters import topic_count
from tests.helpers import build_store, query

SUBJECTS = ("LoRA 微调", "RAG 检索增强", "量化", "分布式训练", "RLHF 对齐")
PER_SUBJECT = (4, 3, 3, 3, 3)  # 16 posts, as a small blog imported from its feed


def _small_blog() -> list[dict]:
    """16 posts of a Chinese LLM-notes blog, 3 or 4 on each of 5 subjects."""
    wanted = dict(zip(SUBJECTS, PER_SUBJECT, strict=True))
    rows = []
    for row in blog_posts("zh-llm-notes", 400):
        if wanted.get(row["subject"], 0) > 0:
            wanted[row["subject"]] -= 1
            rows.append(row)
    assert not any(wanted.values())
    return rows


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    rows = [{k: v for k, v in r.items() if k != "subject"} for r in _small_blog()]
    return build_store(tmp_path_factory.mktemp("small") / "posts.duckdb", rows)


def test_size_alone_would_guess_one_topic() -> None:
    # Why the candidates reach past the guess: a 16-post blog's guess is 1.
    assert topic_count(16) == 1


def test_a_small_blog_gets_a_topic_per_subject_named_by_its_terms(small_store: str) -> None:
    topics = query(small_store, "SELECT label, size FROM topics WHERE topic_id >= 0")
    assert len(topics) >= 4, topics
    assert max(size for _, size in topics) <= 6, topics  # no topic swallows the blog
    named = set()
    for label, _ in topics:
        terms = {t.lower() for part in label.split(" · ") for t in part.split("/")}
        subjects = [s for s in SUBJECTS if terms & {w.lower() for w in ZH_LLM[s][0] + ZH_LLM[s][1]}]
        assert subjects, (label, topics)  # each name carries a term of a subject
        named.update(subjects)
    assert len(named) >= 4, topics


def test_each_small_topic_holds_posts_of_one_subject(small_store: str) -> None:
    subject_of = {r["url"]: r["subject"] for r in _small_blog()}
    rows = query(
        small_store,
        """SELECT t.topic_id, p.url FROM post_topics t JOIN posts p USING (doc)
           WHERE t.topic_id >= 0""",
    )
    groups: dict[int, list[str]] = {}
    for topic_id, url in rows:
        groups.setdefault(topic_id, []).append(subject_of[url])
    pure = sum(max(map(g.count, g)) for g in groups.values())
    assert pure >= 14, groups  # at most two posts in a topic of another subject
