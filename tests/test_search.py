"""Search, keywords, topics and similar posts over the bundled posts, as a reader meets them.

Expected posts are found by their own text with plain SQL, never through the index.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from lib import queries, selection, topics
from lib.bootstrap import schema_version, upgrade
from lib.filters import Filters
from lib.ingest import run_ingest
from lib.search_plan import plan
from lib.store import SCHEMA_VERSION, connect_read_only, write_transaction
from tests.helpers import build_store, multi_month_posts, query


@pytest.fixture
def con(seeded_db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect_read_only(seeded_db)
    yield connection
    connection.close()


def post_with(db: str, opening: str) -> str:
    """The id of the one post whose excerpt contains ``opening``."""
    rows = query(db, "SELECT id FROM posts WHERE contains(excerpt, ?)", [opening])
    assert len(rows) == 1, (opening, rows)
    return rows[0][0]


def ranked(con: duckdb.DuckDBPyConnection, q: str, limit: int = 5) -> list[str]:
    return [c["id"] for c in queries.cards(con, Filters(q=q), queries.RELEVANCE, limit)]


# Each query is a word a reader would type for the post whose excerpt holds the opening.
DISTINCTIVE = [
    ("FlashAttention", "FlashAttention的关键创新"),
    ("flashattention", "FlashAttention的关键创新"),  # English is case-insensitive
    ("DeepSeek-V3", "研究团队开发了 DeepSeek-V3"),
    ("deepseek", "研究团队开发了 DeepSeek-V3"),
    ("Medusa", "Medusa 是自投机领域"),
    ("VQVAE", "VQVAE的一个明显特征"),
    ("pdb", "Pycharm 的图形化界面"),
    ("Gradient Checkpointing", "梯度检查点(Gradient Checkpointing)"),
    ("梯度检查点", "梯度检查点(Gradient Checkpointing)"),
    ("集群通信", "分布式深度学习里的通信"),
    ("自投机", "Medusa 是自投机领域"),
    ("继承", "通过继承创建的新类"),
    ("线程 进程", "进程 一个在内存中运行的应用程序"),
    ("计算几何", "计算几何(Computational Geometry)"),
    ("单精度", "默认使用的数据类型为单精度"),
    ("Chameleon", "Chameleon:生成理解统一模型"),
    ("无辅助损失", "研究团队开发了 DeepSeek-V3"),  # not a dictionary word: segmented the same way
    # The same word written with separators: as a reader types it, not as the post did.
    ("Flash Attention", "FlashAttention的关键创新"),
    ("flash-attention", "FlashAttention的关键创新"),
    ("Deepseek V3", "研究团队开发了 DeepSeek-V3"),
]


@pytest.mark.parametrize(("q", "opening"), DISTINCTIVE, ids=[q for q, _ in DISTINCTIVE])
def test_a_distinctive_term_ranks_its_post_first(
    con: duckdb.DuckDBPyConnection, seeded_db: str, q: str, opening: str
) -> None:
    assert ranked(con, q)[0] == post_with(seeded_db, opening)


@pytest.mark.parametrize("q", ["量子纠缠", "zzyzx", "Kubernetes", "区块链"])
def test_a_term_in_no_post_finds_nothing(con: duckdb.DuckDBPyConnection, q: str) -> None:
    assert queries.count(con, Filters(q=q)) == 0
    assert ranked(con, q) == []


@pytest.mark.parametrize("q", ["卡", "显存", "微调", "GPU", "attention", "模型"])
def test_short_words_find_every_post_that_contains_them(
    con: duckdb.DuckDBPyConnection, seeded_db: str, q: str
) -> None:
    """One- and two-character words live inside longer segmented words; they are still found."""
    containing = {
        r[0]
        for r in query(
            seeded_db,
            "SELECT id FROM posts WHERE contains(lower(concat_ws(' ', title, excerpt, body)), ?)",
            [q.lower()],
        )
    }
    assert containing, "the query must occur in the bundled posts"
    found = {c["id"] for c in queries.cards(con, Filters(q=q), "newest", 100)}
    assert found == containing


def test_posts_with_every_word_come_first_then_posts_with_some(
    con: duckdb.DuckDBPyConnection, seeded_db: str
) -> None:
    # A soft AND: every post with either word matches, those with both lead the list.
    lora, memory = Filters(q="LoRA"), Filters(q="显存")
    both = queries.search_note(con, Filters(q="LoRA 显存")).every
    found = queries.count(con, Filters(q="LoRA 显存"))
    assert both is not None and 0 < both < found
    assert found == len(
        {c["id"] for f in (lora, memory) for c in queries.cards(con, f, "newest", 100)}
    )
    listed = queries.cards(con, Filters(q="LoRA 显存"), queries.RELEVANCE, 100)
    with_both = {
        r[0]
        for r in query(
            seeded_db,
            "SELECT id FROM posts, (SELECT lower(concat_ws(' ', title, tags, excerpt, body)) AS t)"
            " WHERE contains(t, 'lora') AND contains(t, '显存')",
        )
    }
    assert {c["id"] for c in listed[:both]} == with_both


def test_when_no_post_has_every_word_posts_with_most_of_them_come_first(
    con: duckdb.DuckDBPyConnection, seeded_db: str
) -> None:
    # What a reader types: the subject, and words no post happens to use.
    flash = post_with(seeded_db, "FlashAttention的关键创新")
    assert ranked(con, "FlashAttention 原理 zzyzx")[0] == flash
    # Softmax alone is in other posts too; the one with FlashAttention as well leads.
    assert queries.count(con, Filters(q="softmax")) > 1
    assert ranked(con, "FlashAttention Softmax zzyzx")[0] == flash
    assert queries.count(con, Filters(q="LoRA zzyzx")) == queries.count(con, Filters(q="LoRA"))
    assert queries.search_note(con, Filters(q="LoRA zzyzx")).every == 0
    # A word is never split up: 量子纠缠 is cut into 量子 and 纠缠, and no post has 纠缠.
    assert queries.count(con, Filters(q="量子纠缠 zzyzx")) == 0
    assert queries.count(con, Filters(q="量子纠缠")) == 0


def test_search_combines_with_the_other_filters(con: duckdb.DuckDBPyConnection) -> None:
    everywhere = queries.count(con, Filters(q="模型"))
    in_nlp = queries.count(con, Filters(q="模型", categories=("NLP",)))
    assert 0 < in_nlp < everywhere
    ids = {c["id"] for c in queries.cards(con, Filters(q="模型", categories=("NLP",)), "newest")}
    assert all(c["category"] == "NLP" for c in queries.cards(con, Filters(categories=("NLP",))))
    assert ids <= {c["id"] for c in queries.cards(con, Filters(q="模型"), "newest", 100)}


def test_relevance_puts_the_post_about_it_before_posts_that_mention_it(
    con: duckdb.DuckDBPyConnection, seeded_db: str
) -> None:
    scores = [c["score"] for c in queries.cards(con, Filters(q="显存"), queries.RELEVANCE, 20)]
    assert scores == sorted(scores, reverse=True) and len(scores) == 6


@pytest.mark.parametrize(
    ("opening", "subject"),
    [
        ("研究团队开发了 DeepSeek-V3", "deepseek-v3"),
        ("FlashAttention的关键创新", "flashattention"),
        ("梯度检查点(Gradient Checkpointing)", "梯度检查点"),
        ("Medusa 是自投机领域", "medusa"),
        ("分布式深度学习里的通信", "集群通信"),
        ("VQVAE的一个明显特征", "vqvae"),
    ],
)
def test_keywords_of_a_post_include_its_subject(
    con: duckdb.DuckDBPyConnection, seeded_db: str, opening: str, subject: str
) -> None:
    words = queries.keywords(con, post_with(seeded_db, opening))
    assert subject in words[:3], words


def test_keywords_read_like_topics(con: duckdb.DuckDBPyConnection) -> None:
    every = {r[0] for r in con.execute("SELECT term FROM post_keywords").fetchall()}
    filler = {
        "随着",
        "所有",
        "尽管",
        "虽然",
        "一个",
        "我们",
        "可以",
        "本文",
        "given",
        "the",
        "https",
    }
    assert not every & filler
    assert not [w for w in every if w.isdigit() or len(w) < 2]


def test_category_keywords_differ_between_categories(con: duckdb.DuckDBPyConnection) -> None:
    table = topics.by_class(con, Filters(), "category", 5)
    per_class = {c: set(g["topic"]) for c, g in table.groupby("class")}
    assert {"Large Model", "NLP", "Python"} <= set(per_class)
    names = sorted(per_class)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert per_class[a] != per_class[b], (a, b)
    assert "python" in per_class["Python"]


def test_leading_topics_follow_the_filters(con: duckdb.DuckDBPyConnection) -> None:
    everything = topics.leading(con, Filters(), 50)
    python = topics.leading(con, Filters(categories=("Python",)), 50)
    assert set(python["topic"]) < set(everything["topic"]) | set(python["topic"])
    assert python["posts"].max() <= queries.count(con, Filters(categories=("Python",)))
    assert (everything["share"] <= 1).all() and (everything["posts"] > 0).all()


def test_a_topic_filter_keeps_the_posts_that_mention_it(
    con: duckdb.DuckDBPyConnection, seeded_db: str
) -> None:
    mentioning = queries.count(con, Filters(topics=("显存",)))
    assert mentioning == queries.count(con, Filters(q="显存")) == 6
    either = queries.count(con, Filters(topics=("显存", "medusa")))
    assert either == mentioning + 1  # any of the topics: the Medusa post has no 显存
    frame = topics.volume(con, Filters(), ("显存", "medusa"), "month")
    dated = queries.count(con, Filters(topics=("显存",), start=date(2000, 1, 1)))
    assert frame.set_index("topic").loc["显存", "posts"] == dated


def test_similar_posts_share_the_subject(con: duckdb.DuckDBPyConnection, seeded_db: str) -> None:
    # The bundled data hold two LoRA/Adapter posts that open the same way and then differ.
    pair = [
        r[0]
        for r in query(seeded_db, "SELECT id FROM posts WHERE contains(excerpt, '进入LLM时代')")
    ]
    assert len(pair) == 2
    assert queries.similar(con, pair[0])[0]["id"] == pair[1]
    assert pair[0] not in {p["id"] for p in queries.similar(con, pair[0])}


def test_topics_rise_and_fall_by_share(db_path: str) -> None:
    rows = multi_month_posts()
    for i, row in enumerate(rows[:40]):  # early posts about LoRA, late ones about 显存优化
        row["excerpt"] += " LoRA 微调" if i < 20 else " 显存 优化器 显存"
    build_store(db_path, rows)
    con = connect_read_only(db_path)
    try:
        periods = topics.default_periods(con, Filters())
        assert periods is not None and periods.before[1] < periods.after[0]
        moved = topics.movers(con, Filters(), periods).set_index("topic")
        assert moved.loc["显存", "change"] > 0 > moved.loc["lora", "change"]
    finally:
        con.close()


def test_reimport_leaves_the_index_unchanged_and_an_update_reindexes(db_path: str) -> None:
    url = "https://example.com/a"
    build_store(db_path, [{"title": "Post A", "excerpt": "关于 LoRA 的笔记", "url": url}])
    index = "SELECT doc, term, tf FROM postings JOIN terms USING (term_id) ORDER BY doc, term"
    before = query(db_path, index)
    source = db_path.removesuffix(".duckdb") + ".jsonl"
    run_ingest(db_path, [source])
    assert query(db_path, index) == before
    longer = db_path.removesuffix(".duckdb") + "_more.jsonl"
    with open(longer, "w", encoding="utf-8") as out:
        out.write(f'{{"url": "{url}", "body": "关于 LoRA 的笔记, 以及 QLoRA 的显存"}}\n')
    run_ingest(db_path, [longer])
    con = connect_read_only(db_path)
    try:
        assert queries.count(con, Filters(q="qlora")) == 1
        assert queries.count(con, Filters(q="lora")) == 1  # still one post, not two
    finally:
        con.close()


def test_a_store_from_before_the_index_is_upgraded_in_place(db_path: str) -> None:
    build_store(db_path, [{"title": "Post A", "excerpt": "FlashAttention 笔记"}])
    with write_transaction(db_path) as con:  # make it look like a schema-1 store
        con.execute("DELETE FROM postings")
        con.execute("DELETE FROM terms")
        con.execute("DELETE FROM post_keywords")
        con.execute("UPDATE posts SET doc = NULL, doc_len = NULL")
    with write_transaction(db_path) as con:
        con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    assert schema_version(db_path) == 1
    assert upgrade(db_path)
    assert schema_version(db_path) == SCHEMA_VERSION
    assert query(db_path, "SELECT count(*) FROM posts WHERE doc IS NULL") == [(0,)]
    assert query(db_path, "SELECT df FROM terms WHERE term = 'flashattention'") == [(1,)]
    assert not upgrade(db_path)  # already current: nothing to do


def test_a_typed_topic_is_matched_as_the_index_writes_it(con: duckdb.DuckDBPyConnection) -> None:
    typed = queries.count(con, Filters(topics=("FlashAttention",)))
    assert typed == queries.count(con, Filters(topics=("flashattention",))) == 1


def test_a_word_written_apart_is_found_written_as_one_and_the_other_way_round(
    tmp_path: Path,
) -> None:
    db = build_store(
        tmp_path / "posts.duckdb",
        [
            {"title": "One", "excerpt": "KV Cache 占用显存", "url": "https://example.com/1"},
            {"title": "Two", "excerpt": "kvcache 的实现", "url": "https://example.com/2"},
            {"title": "Three", "excerpt": "kv 与 cache 分开说", "url": "https://example.com/3"},
        ],
    )
    con = connect_read_only(db)
    try:
        for q in ("KV cache", "kvcache", "kv-cache"):
            found = {c["title"] for c in queries.cards(con, Filters(q=q), queries.RELEVANCE)}
            # "kv 与 cache" has both words, but not as one term: "KV cache" is a dictionary
            # term, kept whole, so it finds the posts that name it and no other.
            assert found == {"One", "Two"}, q
    finally:
        con.close()


# --- Ranking as a reader expects (issue 18) ------------------------------------------------

COMPOUND_POSTS = [
    {
        "title": "识别与检测的区别",
        "body": "识别回答这是什么。识别的输出是类别。很多人把识别和检测混为一谈。" * 3,
        "url": "https://blog.example/recog",
    },
    {
        "title": "视觉任务全景",
        "body": (
            "人脸识别、字符识别、车牌识别、手势识别、行人重识别、动作识别都很常见。"
            "人脸识别用于门禁,字符识别用于票据,车牌识别用于停车场。下面的示意图总结了它们。"
        )
        * 3,
        "url": "https://blog.example/overview",
    },
    {
        "title": "对话系统的意图识别",
        "body": "意图识别判断用户想做什么。意图的类别要和业务对齐。" * 3,
        "url": "https://blog.example/intent",
    },
    {
        "title": "画一张网络结构示意图",
        "body": "一张好的示意图只表达一个意思。示意图的配色不超过三种。" * 3,
        "url": "https://blog.example/diagram",
    },
    {
        "title": "Mixture of Experts explained",
        "body": "A MoE layer routes each token to a few experts. MoE grows parameters cheaply.",
        "url": "https://blog.example/moe",
    },
    {
        "title": "稀疏模型笔记",
        "body": "稠密模型每个参数都参与计算。本文不讨论路由。",
        "url": "https://blog.example/dense",
    },
]


@pytest.fixture(scope="module")
def compounds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    db = build_store(tmp_path_factory.mktemp("compounds") / "posts.duckdb", COMPOUND_POSTS)
    connection = connect_read_only(db)
    yield connection
    connection.close()


def listed(con: duckdb.DuckDBPyConnection, q: str) -> list[str]:
    cards = queries.cards(con, Filters(q=q), queries.RELEVANCE, 20)
    return [card["url"].rsplit("/", 1)[-1] for card in cards]


def test_the_word_itself_outranks_many_compounds_built_on_it(
    compounds: duckdb.DuckDBPyConnection,
) -> None:
    # The overview has eight compounds of 识别; the post about 识别 says the word itself.
    found = listed(compounds, "识别")
    assert found[0] == "recog"
    assert set(found) == {"recog", "overview", "intent"}  # compounds still count
    assert listed(compounds, "人脸识别") == ["overview"]


def test_a_word_inside_a_longer_word_ranks_after_the_word(
    compounds: duckdb.DuckDBPyConnection,
) -> None:
    # 意图 is inside 示意图 (diagram): the post about 意图 comes first.
    found = listed(compounds, "意图")
    assert found[0] == "intent"
    assert found.index("intent") < found.index("diagram")
    assert listed(compounds, "示意图")[0] == "diagram"


def test_a_name_in_the_other_language_finds_the_post(
    compounds: duckdb.DuckDBPyConnection,
) -> None:
    # The dictionary says 混合专家 is MoE (data/dictionary): the English post is found.
    assert listed(compounds, "混合专家")[0] == "moe"
    assert listed(compounds, "mixture of experts")[0] == "moe"


def test_stop_words_left_out_are_named(compounds: duckdb.DuckDBPyConnection) -> None:
    note = queries.search_note(compounds, Filters(q="识别的区别"))
    assert "的" in note.ignored
    assert listed(compounds, "识别的区别")[0] == "recog"


@pytest.mark.parametrize(
    "filters",
    [
        Filters(q="模型"),
        Filters(q="模"),  # one character: every word built on it
        Filters(q="训练"),
        Filters(q="attention"),
        Filters(q="模", categories=("Large Model",)),
        Filters(q="训练", categories=("Large Model",), start=date(2020, 1, 1)),
        # Several words: pages within the posts with every word rank only those.
        Filters(q="模型 训练"),
        Filters(q="attention 模型"),
        Filters(q="训练 数据", categories=("Large Model",)),
    ],
)
def test_relevance_pages_follow_one_ranking(
    con: duckdb.DuckDBPyConnection, filters: Filters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page ranks only the posts it can show (a one-word search: ``lib.search``'s
    cutoff; several words: the posts with every word while there are enough of them):
    read two cards at a time, the pages list the same posts, in the same order and with
    the same scores, as one long list."""
    monkeypatch.setattr(selection, "RANK_EVERY_WORD_PAST", 0)  # a few posts lack a word here
    whole = queries.cards(con, filters, queries.RELEVANCE, 100)
    assert len(whole) > 4
    if len(plan(filters.q).words) > 1:  # pages on both sides of the last with every word
        assert 2 < queries.search_note(con, filters).every < len(whole) - 2
    paged = [
        card
        for offset in range(0, len(whole), 2)
        for card in queries.cards(con, filters, queries.RELEVANCE, 2, offset)
    ]
    assert [(c["id"], c["score"]) for c in paged] == [(c["id"], c["score"]) for c in whole]


def test_a_plural_finds_posts_that_write_the_singular(tmp_path: Path) -> None:
    # "checkpoints" found only posts that wrote the plural, and "strategies" missed every
    # "strategy" (the dictionary pairs a few names, such as LLM and LLMs, not every word).
    rows = [
        {"title": "Saving a checkpoint", "body": "One checkpoint every hour; a strategy."},
        {"title": "Sharded checkpoints", "body": "Checkpoints in shards; two strategies."},
        {"title": "Weekly news", "body": "The news this week: a new optimizer."},
        {"title": "A new optimizer", "body": "Something new for Adam users."},
    ]
    db = build_store(tmp_path / "posts.duckdb", rows)
    con = connect_read_only(db)
    try:
        found = {
            q: {card["title"] for card in queries.cards(con, Filters(q=q), "newest", 10)}
            for q in ("checkpoints", "checkpoint", "strategies", "news")
        }
    finally:
        con.close()
    assert found["checkpoints"] == {"Saving a checkpoint", "Sharded checkpoints"}
    assert found["checkpoint"] == found["checkpoints"]
    assert found["strategies"] == found["checkpoints"]
    assert found["news"] == {"Weekly news"}  # "new" is a filler word, not its singular
