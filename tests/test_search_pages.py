"""What Browse and Overview say about a search: one clear, correct line for each thing the
search did that a reader would not guess (issue 18). Real app, real store, via AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib import selection
from tests.helpers import build_store, card_titles, open_app

POSTS = [
    {
        "title": "LoRA 与显存",
        "body": "LoRA 只训练低秩矩阵,显存占用小得多。",
        "category": "Large Model",
        "date": "2025-03-01",
    },
    {
        "title": "LoRA 的秩怎么选",
        "body": "LoRA 的秩 r 通常取 8 或 16。",
        "category": "Large Model",
        "date": "2025-03-05",
    },
    {
        "title": "显存不够怎么办",
        "body": "梯度检查点用计算换显存。",
        "category": "NLP",
        "date": "2025-03-09",
    },
    {
        "title": "分词器入门",
        "body": "BPE 从字符开始合并。",
        "category": "NLP",
        "date": "2025-03-12",
    },
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(Path(tmp_path_factory.mktemp("search-pages")) / "posts.duckdb", POSTS)


def lines(at: AppTest) -> list[str]:
    """Every caption, info and warning on the page: where a page says what happened."""
    return [e.value for e in (*at.caption, *at.info, *at.warning)]


def test_browse_says_how_many_have_every_word_and_lists_them_first(
    monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    at = open_app(monkeypatch, store, "pages/posts.py", {"q": "LoRA 显存"})
    assert at.markdown[0].value == "**3** posts match"
    said = [line for line in lines(at) if "every word" in line]
    assert said == [
        ":material/info: 1 post has every word; 2 more have some, listed after them by relevance."
    ]
    assert "LoRA" in card_titles(at)[0] and "显存" in card_titles(at)[0]


def test_one_word_found_everywhere_needs_no_note(
    monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    at = open_app(monkeypatch, store, "pages/posts.py", {"q": "LoRA"})
    assert at.markdown[0].value == "**2** posts match"
    assert not [line for line in lines(at) if "word" in line]


def test_no_post_with_every_word_says_so_once(monkeypatch: pytest.MonkeyPatch, store: str) -> None:
    at = open_app(monkeypatch, store, "pages/posts.py", {"q": "LoRA 分词器"})
    said = [line for line in lines(at) if "word" in line]
    assert said == [
        ":material/info: No post has every word: showing the 3 with some, those with most first."
    ]


def test_no_result_says_it_once_and_suggests_only_filters_that_are_set(
    monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    at = open_app(monkeypatch, store, "pages/posts.py", {"q": "zzyzx"})
    assert at.markdown[0].value == "**0** posts match"
    assert [i.value for i in at.info] == ["No post has this word."]
    assert not [line for line in lines(at) if "any of them" in line or "dates" in line]
    at = open_app(monkeypatch, store, "pages/posts.py", {"q": "LoRA", "category": "NLP"})
    assert [i.value for i in at.info] == [
        "No posts match these filters. Try removing a category or changing the words."
    ]
    at = open_app(monkeypatch, store, None, {"q": "zzyzx qqq"})  # Overview
    assert [i.value for i in at.info] == ["No post has any of these words."]
    # What failed may be the phrase or the field, not a word: no word is said to be missing.
    at = open_app(monkeypatch, store, "pages/posts.py", {"q": '"LoRA zzyzx" title:显存'})
    assert at.markdown[0].value == "**0** posts match"
    assert [i.value for i in at.info] == ["No post matches this search."]


def test_stop_words_left_out_are_named(monkeypatch: pytest.MonkeyPatch, store: str) -> None:
    at = open_app(monkeypatch, store, "pages/posts.py", {"q": "LoRA 的 显存"})
    assert ":material/info: Left out of the search as too common: “的”." in lines(at)


@pytest.mark.parametrize("page", [None, "pages/posts.py"], ids=["overview", "browse"])
def test_a_query_that_cannot_be_read_says_why_instead_of_failing(
    monkeypatch: pytest.MonkeyPatch, store: str, page: str | None
) -> None:
    at = open_app(monkeypatch, store, page, {"q": '"LoRA 显存'})
    (warning,) = at.warning
    assert warning.value.startswith("Search not understood: A quote is not closed")
    assert card_titles(at) == []
    assert not at.info  # one line, not also "no posts match"


def test_the_search_box_explains_the_syntax(monkeypatch: pytest.MonkeyPatch, store: str) -> None:
    at = open_app(monkeypatch, store)
    (box,) = at.sidebar.text_input
    for example in ('"', "-", "OR", "title:", "tag:", "category:"):
        assert example in box.help


def test_a_phrase_too_common_to_check_is_said(monkeypatch: pytest.MonkeyPatch, store: str) -> None:
    """Past the limit a phrase is matched as its words; the page must not hide that."""
    monkeypatch.setattr(selection, "PHRASE_TEXT_LIMIT", 0)
    at = open_app(monkeypatch, store, "pages/posts.py", {"q": '"显存 LoRA"'})
    said = "“显存 lora”: its words are together in over"
    assert any(line.startswith(f":material/info: {said}") for line in lines(at)), lines(at)
    assert len(card_titles(at)) == 1  # LoRA 与显存: both words, in the other order
