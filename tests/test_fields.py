"""Field cleaning at the door: only absolute http(s) links survive, dates are read or refused,
text that would lie about itself (bidi controls, invisible characters, zalgo) is cleaned."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from lib.dates import OutOfRange
from lib.ingest.fields import (
    after_title,
    clean_line,
    clean_line_keeps_sql,
    clean_text,
    clean_url,
    clean_url_keeps_sql,
    may_repeat_title_sql,
    parse_date,
    split_tags,
    split_tags_sql,
)


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/relative/path",
        "https://exa mple.com/",
        "https://example.com/\tx",
        "https://example.com/\x7f",
        "ftp://example.com/file",
        "",
        None,
    ],
)
def test_clean_url_refuses_anything_but_absolute_http_links(value: object) -> None:
    assert clean_url(value) is None


def test_clean_url_keeps_http_links_and_resolves_site_relative_ones() -> None:
    assert (
        clean_url(" HTTPS://Blog.Example.com/posts/1/#top ") == "https://blog.example.com/posts/1/"
    )
    assert clean_url("/posts/2/", base="https://blog.example.com/feed.xml") == (
        "https://blog.example.com/posts/2/"
    )


def test_parse_date_reads_the_usual_spellings_and_refuses_text() -> None:
    assert parse_date("2026-01-11") == date(2026, 1, 11)
    assert parse_date("Sun, 11 Jan 2026 08:00:00 +0800") == date(2026, 1, 11)
    assert parse_date(1768089600) == date(2026, 1, 11)
    with pytest.raises(ValueError, match="not a date"):
        parse_date("sometime last year")


@pytest.mark.parametrize(
    "number", [1e20, -1e20, float("inf"), float("-inf"), float("nan"), 10**400]
)
def test_a_number_no_clock_reaches_is_not_a_date(number: float) -> None:
    """JSON's 1e20 or Infinity raised OverflowError or OSError, which no parser named."""
    with pytest.raises(ValueError, match="not a date"):
        parse_date(number)


@pytest.mark.parametrize(
    "written", ["0000-01-01", "-0001-01-01", "10000-01-01", "0000-01-01T00:00:00Z"]
)
def test_an_iso_date_beyond_pythons_years_is_out_of_range_not_an_error(written: str) -> None:
    assert parse_date(written) == OutOfRange(written)


def test_hugos_zero_date_in_a_feed_is_year_one_not_2001() -> None:
    assert parse_date("Mon, 01 Jan 0001 00:00:00 +0000") == date(1, 1, 1)
    assert parse_date("Sun, 11 Jan 2026 08:00:00 +0800") == date(2026, 1, 11)


RLO, PDF = "\u202e", "\u202c"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_bidi_controls_are_removed_so_a_name_reads_as_it_is() -> None:
    assert clean_line(f"holiday{RLO}gnp.exe{PDF}") == "holidaygnp.exe"
    assert clean_text(f"a{BIDI}b\n{BIDI}c") == "ab\nc"


@pytest.mark.parametrize(
    "invisible", ["\u200b", "\u2060", "\ufeff", "\u00ad", "\u2062", "\U000e0041", "\u180e"]
)
def test_other_invisible_format_characters_are_removed(invisible: str) -> None:
    assert clean_line(f"Pay{invisible}Pal") == "PayPal"


@pytest.mark.parametrize(
    "text",
    [
        "👨\u200d👩\u200d👧 family",  # emoji joined by ZWJ
        "🏳️\u200d🌈",  # a variation selector and a ZWJ
        "می\u200cخواهم",  # Persian: ZWNJ keeps the letters apart
        "क्\u200dष",  # Devanagari: ZWJ shapes the conjunct
        "Vie\u0323\u0302t",  # Vietnamese, decomposed: two marks on one letter
        "e\u0323\u0302\u0301",  # three marks: still written text
    ],
)
def test_what_scripts_need_is_kept_while_the_rest_goes(text: str) -> None:
    assert clean_line(f"{RLO}{text}\u200b") == text


@pytest.mark.parametrize(
    ("written", "seen"),
    [
        ("Py\u200dTorch", "PyTorch"),  # between Latin letters a joiner joins nothing
        ("\u200cLLM\u200d", "LLM"),  # nor at either end
        ("量\u200d化", "量化"),  # nor between Chinese characters
        ("\u3164", None),  # a Hangul filler draws nothing: a tag of it looks empty
        ("A\u3164I\uffa0\u115f\u1160", "AI"),
        ("Py\ufe0fTorch\ufe0e\ufe0f", "PyTorch"),  # no Latin letter has a variant
        ("1\ufe0f\u20e3 ❤\ufe0f", "1\ufe0f\u20e3 ❤\ufe0f"),  # a keycap and an emoji keep theirs
    ],
)
def test_joiners_that_join_nothing_and_hangul_fillers_are_removed(
    written: str, seen: str | None
) -> None:
    """``PyTorch`` and ``Py\u200dTorch`` were two tags that look the same on every page."""
    assert clean_line(written) == seen


def test_tags_that_differ_only_by_invisible_characters_are_one_tag() -> None:
    assert split_tags(["PyTorch", "Py\u200dTorch", "\u3164", "Py\u3164Torch"]) == ("PyTorch",)


def test_stacked_combining_marks_are_capped_at_three() -> None:
    zalgo = "Z" + "\u0301\u0336\u0334\u0337\u035c\u0361" * 5 + "a" + "\u0489" * 7
    assert clean_line(zalgo) == "Z\u0301\u0336\u0334a\u0489\u0489\u0489"
    # A joiner or an invisible character between marks does not restart the count.
    assert clean_line("e\u0301\u0301\u200d\u0301\u0301\u200b\u0301") == "e\u0301\u0301\u200d\u0301"


# --- The fast lane's SQL twins (lib.ingest.fast_lane) against the Python rules: a value
# a twin passes is one its rule leaves as it is, and a clean value passes.

LINES = [
    "显存优化的基本原理", "KV cache 与 FlashAttention", "（ＡＢＣ）：注", "À la carte · naïve",
    " leading", "trailing ", "two  spaces", "tab\there", "line\nbreak", "ﬁ ligature", "😀",
    "a\u200bb", "e\u0301", "\u3000全角空格", "x",
]  # fmt: skip
KEPT_LINES = {
    "显存优化的基本原理",
    "KV cache 与 FlashAttention",
    "（ＡＢＣ）：注",
    "À la carte · naïve",
    "x",
}
URLS = [
    "https://blog.example.com/a/1", "http://blog.example.com/", "https://blog.example.com/e?x=1",
    "https://Blog.Example.com/b", "https://blog.example.com", "https://blog.example.com/d?",
    "http://blog.example.com/c#top", "https://blog.example.com:8080/g", "/relative/1",
    "javascript:alert(1)", "https://blog.example.com/f x", "https://blog.example.com/显",
    "HTTPS://blog.example.com/h",
]  # fmt: skip
KEPT_URLS = {
    "https://blog.example.com/a/1",
    "http://blog.example.com/",
    "https://blog.example.com/e?x=1",
}
TAG_STRINGS = [
    "LLM, 显存", "a,,b", "a , a", "训练；推理、部署", "x  y|z", ",", " ", "a|A", "机器学习",
    "a;b;a;c", "，，", "KV cache， 显存",
]  # fmt: skip


def _sql(expression: str, value: object) -> object:
    con = duckdb.connect()
    try:
        return con.execute(
            f"SELECT {expression} FROM (SELECT ?::VARCHAR AS v)", [value]
        ).fetchone()[0]
    finally:
        con.close()


def test_the_fast_lanes_line_check_passes_only_lines_clean_line_keeps() -> None:
    passed = {line for line in LINES if _sql(clean_line_keeps_sql("v"), line)}
    assert passed == KEPT_LINES
    assert all(clean_line(line) == line for line in passed)
    assert _sql(clean_line_keeps_sql("v"), None) is True


def test_the_fast_lanes_url_check_passes_only_links_clean_url_keeps() -> None:
    passed = {url for url in URLS if _sql(clean_url_keeps_sql("v"), url)}
    assert passed == KEPT_URLS
    assert all(clean_url(url) == url for url in passed)


def test_the_fast_lanes_tags_are_split_tags() -> None:
    """``split_tags_sql`` on one-line strings gives the tags ``split_tags`` gives."""
    for value in TAG_STRINGS:
        pieces, tags = split_tags_sql("v")
        assert tuple(_sql(tags, value)) == split_tags(value), value
        assert len(_sql(pieces, value)) >= len(split_tags(value))
    assert split_tags("a;b;a;c") == ("a", "b", "c")


# (title, body): bodies that open with their title, in every spelling after_title allows,
# and bodies that do not.
TITLED = [
    ("LoRA 微调", "LoRA 微调\n\n正文。"),
    ("LoRA: 微调", "lora 微调！\n正文。"),
    ("ＧＰＴ 笔记", "GPT 笔记\n正文。"),  # fullwidth in the title, ASCII in the body
    ("GPT 笔记", "ＧＰＴ 笔记\n正文。"),
    ("标题", "标题"),  # nothing after it: kept
    ("标题", "正文先说。\n标题"),
    ("A post", "Another post\nText."),
]


def test_the_fast_lanes_title_check_is_true_wherever_after_title_drops_a_line() -> None:
    con = duckdb.connect()
    try:
        for title, body in TITLED:
            (maybe,) = con.execute(
                f"SELECT {may_repeat_title_sql('b', 't')} FROM (SELECT ? AS t, ? AS b)",
                [title, body],
            ).fetchone()
            if after_title(body, title) != body:
                assert maybe, (title, body)
        assert not con.execute(
            f"SELECT {may_repeat_title_sql('b', 't')} FROM (SELECT 'A post' AS t, 'Other' AS b)"
        ).fetchone()[0]
    finally:
        con.close()
