"""The search box's syntax: quotes, minus, OR and fields, read and then searched.

Posts are a handful of short ML notes written for these tests; each assertion is about
which posts a reader would see listed, and in what order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from lib import queries, selection
from lib.filters import Filters
from lib.query_syntax import Term, parse
from lib.store import connect_read_only
from tests.helpers import build_store

POSTS = [
    {
        "title": "LoRA 原理",
        "body": "LoRA 冻结原始权重,只训练低秩矩阵。推理时 LoRA 权重可以合并。",
        "category": "Large Model",
        "tags": ["LoRA", "微调"],
        "url": "https://blog.example/lora",
    },
    {
        "title": "QLoRA 单卡微调",
        "body": "QLoRA 在 4bit 量化的模型上训练 LoRA,显存占用很小。",
        "category": "Large Model",
        "tags": ["QLoRA"],
        "url": "https://blog.example/qlora",
    },
    {
        "title": "FlashAttention 原理",
        "body": "FlashAttention 把注意力分块计算。The flash attention kernel avoids HBM reads.",
        "category": "Large Model",
        "tags": ["CUDA"],
        "url": "https://blog.example/flash",
    },
    {
        "title": "Attention from scratch",
        "body": "Attention weighs values by how well queries match keys. Softmax attention.",
        "category": "NLP",
        "tags": ["attention"],
        "url": "https://blog.example/attention",
    },
    {
        "title": "旋转位置编码",
        "body": "旋转位置编码把位置信息乘到向量上。位置和编码分开说也常见。",
        "category": "NLP",
        "tags": ["RoPE"],
        "url": "https://blog.example/rope",
    },
    {
        "title": "编码与位置",
        "body": "编码器读入序列,位置由另一个模块给出,这里的位置不是旋转的。",
        "category": "NLP",
        "tags": ["encoder"],
        "url": "https://blog.example/encoder",
    },
]


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    folder = Path(tmp_path_factory.mktemp("syntax"))
    connection = connect_read_only(build_store(folder / "posts.duckdb", POSTS))
    yield connection
    connection.close()


def listed(con: duckdb.DuckDBPyConnection, q: str) -> list[str]:
    """The posts Browse lists for ``q`` by relevance, by the key in their link."""
    cards = queries.cards(con, Filters(q=q), queries.RELEVANCE, 20)
    return [card["url"].rsplit("/", 1)[-1] for card in cards]


# --- Reading the query ------------------------------------------------------------------


def test_words_phrases_exclusions_or_and_fields_are_read() -> None:
    parsed = parse('LoRA "flash attention" -QLoRA attention OR softmax title:原理 tag:"KV cache"')
    assert parsed.error is None
    assert parsed.clauses == (
        (Term("LoRA"),),
        (Term("flash attention", phrase=True),),
        (Term("attention"), Term("softmax")),
        (Term("原理", field="title"),),
        (Term("KV cache", phrase=True, field="tag"),),
    )
    assert parsed.excluded == (Term("QLoRA"),)
    assert parse("self-attention DeepSeek-V3").clauses == (
        (Term("self-attention"),),
        (Term("DeepSeek-V3"),),
    )
    # Chinese quotation marks are quotes too.
    assert parse("“旋转位置编码”").clauses == ((Term("旋转位置编码", phrase=True),),)


@pytest.mark.parametrize(
    ("q", "says"),
    [
        ('LoRA "flash attention', "quote is not closed"),
        ("LoRA -", "nothing after it"),
        ("LoRA OR", "OR goes between two words"),
        ("OR LoRA", "OR goes between two words"),
        ("LoRA OR OR QLoRA", "OR goes between two words"),
        ("author:karpathy", "not a field"),
        ('title:LoRA OR "x y"', "cannot be OR-ed"),
    ],
)
def test_a_query_that_cannot_be_read_says_why(q: str, says: str) -> None:
    parsed = parse(q)
    assert parsed.error is not None and says in parsed.error
    assert parsed.clauses == ()


# --- What it finds ------------------------------------------------------------------------


def test_a_phrase_finds_the_words_side_by_side_only(con: duckdb.DuckDBPyConnection) -> None:
    # Both posts have 旋转, 位置 and 编码; only one says 旋转位置编码.
    assert set(listed(con, "旋转 位置 编码")) == {"rope", "encoder"}
    assert listed(con, '"旋转位置编码"') == ["rope"]
    assert listed(con, '"flash attention"') == ["flash"]


def test_a_phrase_too_common_to_read_is_matched_as_its_words_and_said(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the text of every post with a phrase's words takes seconds at a million
    posts: past the limit the phrase is its words, and the page is told."""
    # The rope post has both words, never in this order.
    assert listed(con, '"位置 旋转"') == []
    assert queries.search_note(con, Filters(q='"位置 旋转"')).unchecked == ()
    monkeypatch.setattr(selection, "PHRASE_TEXT_LIMIT", 1)
    selection.forget(con)  # searches resolved under the real limit
    assert "rope" in listed(con, '"位置 旋转"')
    assert queries.search_note(con, Filters(q='"位置 旋转"')).unchecked == ("位置 旋转",)


def test_a_minus_leaves_out_the_posts_with_the_word(con: duckdb.DuckDBPyConnection) -> None:
    assert "flash" in listed(con, "attention")
    assert "flash" not in listed(con, "attention -FlashAttention")
    assert "attention" in listed(con, "attention -FlashAttention")
    assert "rope" not in listed(con, '位置 -"旋转位置编码"')


def test_or_counts_either_word_as_the_same_word(con: duckdb.DuckDBPyConnection) -> None:
    # QLoRA OR LoRA is one word: with 显存, the post that has both leads.
    found = listed(con, "QLoRA OR LoRA 显存")
    assert found[0] == "qlora"
    assert set(found) == {"lora", "qlora"}
    note = queries.search_note(con, Filters(q="QLoRA OR LoRA 显存"))
    assert note.every == 1 and note.error is None


def test_fields_look_in_the_title_the_tags_or_the_category(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert set(listed(con, "原理")) >= {"lora", "flash"}
    assert listed(con, "title:FlashAttention") == ["flash"]
    assert listed(con, "tag:rope") == ["rope"]
    assert set(listed(con, "category:NLP")) == {"attention", "rope", "encoder"}
    assert listed(con, "category:NLP attention") == ["attention"]
    assert queries.count(con, Filters(q='category:"Large Model"')) == 3


def test_a_query_that_cannot_be_read_finds_nothing_and_says_why(
    con: duckdb.DuckDBPyConnection,
) -> None:
    for q in ('LoRA "flash', "LoRA -", "author:me"):
        assert queries.count(con, Filters(q=q)) == 0
        assert listed(con, q) == []
        assert queries.search_note(con, Filters(q=q)).error
