"""Fitted topics (lib.topic_model) on stores imported by the real ingest, from posts made
like a Chinese LLM-notes blog (bench.topic_corpus): both languages, code, LaTeX, markup."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.topic_corpus import blog_posts
from lib import queries
from lib.config import REPO_ROOT
from lib.filters import Filters
from lib.ingest import run_ingest
from lib.store import connect_read_only
from lib.topic_names import LABEL_SEPARATOR, OUTLIER_LABEL
from lib.topic_terms import bilingual_groups, not_labels
from tests.helpers import build_store, query

POSTS = 240


def _rows(blog: str, posts: int, start: int = 0) -> list[dict]:
    rows = blog_posts(blog, start + posts)[start:]
    return [{k: v for k, v in row.items() if k != "subject"} for row in rows]


@pytest.fixture(scope="module")
def zh_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(tmp_path_factory.mktemp("zh") / "posts.duckdb", _rows("zh-llm-notes", POSTS))


def _topics(db: str) -> list[tuple[int, str, list[str], int]]:
    return query(db, "SELECT topic_id, label, terms, size FROM topics ORDER BY topic_id")


def _subjects(db: str) -> dict[str, str]:
    """Each post's subject as the corpus wrote it, by URL."""
    return {row["url"]: row["subject"] for row in blog_posts("zh-llm-notes", POSTS + 40)}


def test_a_term_and_its_other_language_are_one_term(zh_store: str) -> None:
    named = [t for t in _topics(zh_store) if t[0] >= 0]
    assert len(named) >= 5
    group_of = {m: g[0] for g in bilingual_groups() for m in g}
    seen: dict[str, int] = {}
    for topic_id, _, terms, _ in named:
        for term in terms:
            for name in term.lower().split("/"):
                key = group_of.get(name)
                if key:  # one subject's names never stand in two topics, nor twice in one
                    assert seen.setdefault(key, topic_id) == topic_id, (key, named)
    labels = [label for _, label, _, _ in named]
    # Shown together, as the blog writes them: 微调 with fine-tuning, 量化 with quantization.
    assert any("微调/fine-tuning" in label or "fine-tuning/微调" in label for label in labels)
    assert any("量化/quantization" in label for label in labels), labels


@pytest.fixture(scope="module")
def en_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    rows = _rows("en-gpu-systems", POSTS)
    return build_store(tmp_path_factory.mktemp("en") / "posts.duckdb", rows)


@pytest.mark.parametrize("blog", ["zh_store", "en_store"])
def test_no_label_is_markup_code_latex_or_a_letter(
    blog: str, request: pytest.FixtureRequest
) -> None:
    db = request.getfixturevalue(blog)
    # The posts are full of self, return, \\mathbf, <div>, &nbsp; and single-letter maths;
    # what of them the import keeps as index terms could name a topic.
    leftovers = ("self", "return", "mathbf", "frac", "div", "span", "nbsp", "config", "bytes")
    marks = ", ".join("?" for _ in leftovers)
    sql = f"SELECT count(*) FROM terms WHERE topical AND term IN ({marks})"
    assert query(db, sql, list(leftovers))[0][0] >= 2
    for _, label, terms, _ in _topics(db):
        for term in [*label.split(LABEL_SEPARATOR), *terms]:
            for name in term.split("/"):
                assert len(name) > 1, label
                assert name.lower() not in not_labels(), label
                assert not any(ch in name for ch in "<>\\_&{}$"), label


def test_each_post_has_one_main_topic_or_is_an_outlier(zh_store: str) -> None:
    (posts,) = query(zh_store, "SELECT count(*) FROM posts")[0]
    placed = query(zh_store, "SELECT count(*), count(DISTINCT doc) FROM post_topics")[0]
    assert placed == (posts, posts)
    assert not query(
        zh_store, "SELECT doc FROM post_topics WHERE topic_id NOT IN (SELECT topic_id FROM topics)"
    )
    sizes = {label: size for _, label, _, size in _topics(zh_store)}
    assert sum(sizes.values()) == posts
    assert sizes.get(OUTLIER_LABEL, 0) < posts / 10


def test_topics_follow_the_subjects_the_posts_were_written_about(zh_store: str) -> None:
    subjects = _subjects(zh_store)
    rows = query(
        zh_store,
        """SELECT p.url, t.label FROM posts p JOIN post_topics pt USING (doc)
           JOIN topics t USING (topic_id) WHERE t.topic_id >= 0""",
    )
    by_topic: dict[str, list[str]] = {}
    for url, label in rows:
        by_topic.setdefault(label, []).append(subjects[url])
    for label, found in by_topic.items():
        leading = max(set(found), key=found.count)
        assert found.count(leading) / len(found) > 0.8, (label, leading)


def test_new_posts_are_placed_in_the_topics_there_are(tmp_path: Path) -> None:
    db = build_store(tmp_path / "posts.duckdb", _rows("zh-llm-notes", POSTS))
    before = _topics(db)
    fresh = tmp_path / "more.jsonl"
    import json

    fresh.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _rows("zh-llm-notes", 40, POSTS)),
        encoding="utf-8",
    )
    run_ingest(db, [str(fresh)])
    after = _topics(db)
    # Not refitted: the same topics, grown by the new posts.
    assert [(t, label) for t, label, _, _ in after] == [(t, label) for t, label, _, _ in before]
    assert sum(size for *_, size in after) == POSTS + 40
    subjects = _subjects(db)
    placed = query(
        db,
        """SELECT p.url, t.label FROM posts p JOIN post_topics pt USING (doc)
           JOIN topics t USING (topic_id)""",
    )
    new_urls = {r["url"] for r in _rows("zh-llm-notes", 40, POSTS)}
    lora = [label for url, label in placed if url in new_urls and subjects[url] == "LoRA 微调"]
    assert lora and all("微调" in label for label in lora), lora


def test_refit_command_fits_again_with_progress(tmp_path: Path) -> None:
    db = build_store(tmp_path / "posts.duckdb", _rows("zh-llm-notes", 120))
    con = connect_read_only(db)
    con.close()
    done = subprocess.run(
        [sys.executable, "-m", "lib.topic_model", "refit", "--db", db],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "naming topics" in done.stderr  # the progress bar's last step
    assert done.stdout.strip().endswith("topics")
    assert len([t for t in _topics(db) if t[0] >= 0]) >= 3


def test_topic_filter_names_topics_and_keeps_keyword_links(zh_store: str) -> None:
    con = connect_read_only(zh_store)
    try:
        total = queries.count(con, Filters())
        named = [(label, size) for _, label, _, size in _topics(zh_store)]
        assert sum(size for _, size in named) == total
        for label, size in named:
            assert queries.count(con, Filters(topics=(label,))) == size
        # An old keyword link: not a topic's name, so the posts mentioning the word.
        assert queries.count(con, Filters(topics=("lora",))) > 0
        assert queries.count(con, Filters(topics=("lora",))) < total
    finally:
        con.close()


def test_names_always_written_together_are_one_term(tmp_path: Path) -> None:
    """A blog that writes 剪枝（pruning）: a pair the bilingual dictionary does not know."""
    subjects = {
        "pruning": (
            "模型剪枝（pruning）实践",
            "剪枝（pruning）减少参数，稀疏权重，结构化剪枝与 pruning 的裁剪率。",
        ),
        "recsys": (
            "推荐系统的召回",
            "召回和排序是推荐系统的两步，特征交叉决定排序的质量，冷启动另说。",
        ),
        "speech": ("语音识别笔记", "声学模型把音素解码成文字，语音识别的端点检测和解码器很关键。"),
    }  # fmt: skip
    rows = [
        {"title": f"{title} {i}", "excerpt": f"{body} 第{i}篇。", "url": f"https://b.example/{key}/{i}"}
        for key, (title, body) in subjects.items()
        for i in range(30)
    ]  # fmt: skip
    db = build_store(tmp_path / "posts.duckdb", rows)
    labels = [label for topic_id, label, _, _ in _topics(db) if topic_id >= 0]
    assert any("剪枝/pruning" in label or "pruning/剪枝" in label for label in labels), labels


# A small blog: four themes of three posts, each post on a subject of its own that it names
# all through; a theme's posts share only its everyday words, the blog shares its own.
SMALL_BLOG = {
    ("显存", "内存", "节省"): ("LoRA", "ZeRO", "BF16"),
    ("吞吐量", "服务器", "集群"): ("PagedAttention", "Medusa", "GPTQ"),
    ("长度", "上下文", "序列"): ("RoPE", "YaRN", "ALiBi"),
    ("奖励", "人类", "信号"): ("DPO", "PPO", "KTO"),
}


def _small_blog_rows() -> list[dict]:
    rows = []
    for shared, subjects in SMALL_BLOG.items():
        for subject in subjects:
            sentences = [f"{subject} 的做法值得细看，{subject} 在实践里很常用。"] * 4
            sentences += [f"这类方法都关心{shared[0]}、{shared[1]}和{shared[2]}。"] * 2
            sentences += ["这是我的学习笔记，记录实验和思考。"]
            rows.append(
                {
                    "title": f"{subject} 读后",
                    "body": "".join(sentences),
                    "url": f"https://s.example/{subject}",
                }
            )
    return rows


def test_a_small_blogs_topics_are_named_by_the_subjects_of_their_posts(tmp_path: Path) -> None:
    # Named from terms of 2+ posts only, a topic read 显存 · 内存 · 节省: true of every
    # post in it, and not what any of them is about.
    db = build_store(tmp_path / "posts.duckdb", _small_blog_rows())
    rows = query(
        db,
        """SELECT p.title, t.label FROM posts p JOIN post_topics pt USING (doc)
           JOIN topics t USING (topic_id) WHERE pt.topic_id >= 0""",
    )
    assert len({label for _, label in rows}) == 4, rows
    named = [
        title
        for title, label in rows
        if any(term.lower() in title.lower() for term in label.split(LABEL_SEPARATOR))
    ]
    assert len(named) >= 8, rows  # of 12 posts, most find their subject in their topic's name


def test_a_group_with_no_counted_term_is_no_nameless_topic(tmp_path: Path) -> None:
    # Three posts whose shared words are no topic words (推理, 吞吐, 延迟: verbs to jieba)
    # were grouped at a centre at nothing: a topic named "" holding no post.
    rows = _small_blog_rows()
    for row in rows[3:6]:
        row["body"] = row["body"].replace("吞吐量、服务器和集群", "推理、吞吐和延迟")
    db = build_store(tmp_path / "posts.duckdb", rows)
    topics = query(db, "SELECT label, size FROM topics")
    assert all(label and size > 0 for label, size in topics), topics
