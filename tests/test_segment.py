"""Segmentation: Chinese cut into words, English terms kept whole, filler dropped."""

from __future__ import annotations

import pytest

from lib.segment import (
    BILINGUAL_FILE,
    DICTIONARY_DIR,
    NOT_LABELS_FILE,
    Segmenter,
    default_segmenter,
    read_lines,
    tokens,
)


def test_english_terms_stay_whole_and_lower_case() -> None:
    words = tokens("使用FlashAttention和KV cache,对比Qwen3-VL与DeepSeek-V3的 use_rmpad 和 C++ 实现")
    for term in ("flashattention", "kv cache", "qwen3-vl", "deepseek-v3", "use_rmpad", "c++"):
        assert term in words
    assert "kv" not in words and "cache" not in words


def test_dictionary_terms_are_one_token() -> None:
    words = tokens("梯度检查点(Gradient Checkpointing)在分布式训练中节省显存,大模型的参数量巨大")
    for term in ("梯度检查点", "gradient checkpointing", "分布式训练", "显存", "大模型", "参数量"):
        assert term in words


def test_stop_words_punctuation_and_bare_numbers_are_dropped() -> None:
    words = tokens("这是一个关于 the LoRA 的例子,在 2024 年。")
    assert "的" not in words and "是" not in words and "the" not in words
    assert "2024" not in words and "," not in words and "。" not in words
    assert "lora" in words


def test_repeats_are_kept_for_term_counts() -> None:
    assert tokens("LoRA 与 LoRA").count("lora") == 2


def test_the_dictionary_is_extendable() -> None:
    plain = Segmenter(terms=[], stopwords=[])
    extended = Segmenter(terms=["旋转位置编码", "Ring AllReduce"], stopwords=[])
    text = "旋转位置编码和 ring  allreduce"
    assert "旋转位置编码" not in plain.tokens(text)
    assert extended.tokens(text) == ["旋转位置编码", "和", "ring allreduce"]


def test_empty_text_has_no_tokens() -> None:
    assert tokens(None) == [] and tokens("") == [] and tokens("，。！") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bézier 曲线", ["bézier", "曲线"]),
        ("naïve Bayes", ["naïve", "bayes"]),
        ("条件随机场是判别模型", ["条件随机场", "判别", "模型"]),
        ("隐马尔可夫模型与随机森林", ["隐马尔可夫模型", "随机森林"]),
    ],
    ids=["accented-latin", "diaeresis", "crf", "hmm-random-forest"],
)
def test_accented_words_and_domain_terms_stay_whole(text: str, expected: list[str]) -> None:
    """Bézier was cut into b + zier, and 条件随机场 into 条 / 随 / 机场 ("airport")."""
    assert default_segmenter().tokens(text) == expected


def test_word_lists_in_the_dictionary_folder_are_not_terms() -> None:
    """A line of bilingual.txt or not_labels.txt lists several words; were it read as one
    dictionary term, text repeating the line would be one token."""
    for name in (BILINGUAL_FILE, NOT_LABELS_FILE):
        line = next(line for line in read_lines(DICTIONARY_DIR / name) if len(line.split()) > 2)
        assert len(tokens(line)) > 1, (name, line)


@pytest.mark.parametrize(
    "texts",
    [
        ["长文本推理依赖 KV", "cache 的显存占用"],  # a term in two texts is no term
        ["训练 FlashAttention", "FlashAttention 笔记"],
        ["Café", "\u0301 combining mark opens the title"],  # no composition across texts
        ["ΟΔΟΣ", "ΣΟΦΙΑ 与 σοφια"],  # a final sigma is final at a text's end only
        ["", "只有标题"],
        ["Qwen3-", "VL"],
    ],
)
def test_texts_cut_in_one_call_give_each_text_s_tokens(texts: list[str]) -> None:
    """The index cuts a post's text and its title in one call (``raw_tokens_apart``): the
    tokens a search finds must be those of cutting each text alone."""
    segmenter = default_segmenter()
    alone = [t for text in texts for t in segmenter.raw_tokens(text) if t.strip()]
    together = [t for t in segmenter.raw_tokens_apart(texts) if t.strip()]
    assert sorted(together) == sorted(alone)
