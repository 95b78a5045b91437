"""Text helpers (``lib/text.py``): the fast lane's twin of the plain excerpt gives the same
opening as the Python rule, and the shared patterns read what the parsers write."""

from __future__ import annotations

import duckdb
import pytest

from lib.text import (
    CJK,
    ENDS_IN_ELLIPSIS,
    EXCERPT_CHARS,
    PLACEHOLDER,
    code_mark_in_language,
    plain_excerpt,
    plain_excerpt_sql,
    singular_forms,
)

BODIES = [
    "显存优化的基本原理。",
    "第一段\n\n第二段\t有制表符",
    "字" * EXCERPT_CHARS,
    "字" * (EXCERPT_CHARS + 1),
    "词 " * EXCERPT_CHARS + "尾",
    ("a" * (EXCERPT_CHARS - 1)) + "  \n  b" * 3,
    "KV cache 与 FlashAttention",
]


def test_the_fast_lanes_plain_excerpt_is_the_python_rule() -> None:
    con = duckdb.connect()
    try:
        for body in [*BODIES, None]:
            (sql,) = con.execute(
                f"SELECT {plain_excerpt_sql('b')} FROM (SELECT ?::VARCHAR AS b)", [body]
            ).fetchone()
            assert sql == plain_excerpt(body), (body or "")[:40]
    finally:
        con.close()
    assert plain_excerpt("字" * (EXCERPT_CHARS + 1)).endswith("...")


def test_the_shared_patterns() -> None:
    assert ENDS_IN_ELLIPSIS.search("说到这里...") and ENDS_IN_ELLIPSIS.search("未完…  ")
    assert not ENDS_IN_ELLIPSIS.search("中间的...不算")
    assert PLACEHOLDER.findall("前[代码]中[Math]后[图片]") == ["[代码]", "[Math]", "[图片]"]
    assert CJK.search("显") and CJK.search("\u3400") and CJK.search("\uf900")
    assert not CJK.search("KV cache，：")


def test_an_english_post_reads_its_code_marker_in_english() -> None:
    english = "We train the model in bf16. [代码] Then we unscale the gradients before clipping."
    assert code_mark_in_language(english, english) == english.replace("[代码]", "[Code]")
    # A Chinese note full of English terms keeps the blog's own marker.
    chinese = "用 FlashAttention 和 PagedAttention 降低 KV cache 的显存占用。[代码] 然后对比吞吐。"
    assert code_mark_in_language(chinese, chinese) == chinese
    # An English post quoting one Chinese word is still English; a post of code alone, Chinese.
    quoting = "The Chinese word 显存 means GPU memory. [代码] " + "Memory is the limit. " * 5
    assert "[Code]" in code_mark_in_language(quoting, quoting)
    assert code_mark_in_language("[代码]", "[代码]") == "[代码]"
    # The English marker is a placeholder too (never a search term), and a WordPress
    # shortcode is not one.
    assert PLACEHOLDER.findall("x [Code] y [code] z") == ["[Code]"]


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("embeddings", ("embedding",)),
        ("biases", ("biase", "bias")),
        ("strategies", ("strategie", "strategi", "strategy")),
        ("llms", ("llm",)),
        ("loss", ()),
        ("gas", ()),
        ("uses", ("use",)),
        ("显存s", ()),
    ],
)
def test_what_a_plural_may_be_the_plural_of(word: str, forms: tuple[str, ...]) -> None:
    assert singular_forms(word) == forms
