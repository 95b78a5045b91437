"""Hexo, Hugo and Jekyll posts: front matter fields, Markdown bodies, errors by line."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from lib.ingest.assemble import MAX_TAGS_PER_POST
from lib.ingest.markdown import MAX_POST_BYTES, looks_like_markdown_post, parse_markdown
from lib.ingest.records import IngestError, ParseOptions, PostRecord

POSTS = Path(__file__).parent / "fixtures" / "markdown"
BAD = Path(__file__).parent / "fixtures" / "bad"
HEXO = POSTS / "lora-finetune.md"
HUGO = POSTS / "flash-attention.md"
JEKYLL = POSTS / "2024-01-10-python-asyncio.md"
BASE = "https://notes.example.com/blog/"


def _parse(path: Path, options: ParseOptions | None = None) -> PostRecord:
    records = parse_markdown(path.read_bytes(), str(path), options or ParseOptions())
    assert len(records) == 1
    return records[0]


def _parse_text(text: str, name: str = "post.md", base_url: str | None = None) -> PostRecord:
    (record,) = parse_markdown(text.encode("utf-8"), name, ParseOptions(base_url=base_url))
    return record


def test_hexo_post_fields() -> None:
    post = _parse(HEXO)
    assert post.title == "LoRA 微调实践：单卡 24GB 跑通 7B 模型"
    assert post.title_derived is False
    # Nested Hexo categories are flattened: the first is the category, the rest become tags.
    assert post.category == "Large Model"
    assert post.tags == ("LoRA", "PEFT", "Qwen", "微调", "NLP")
    # 00:30 +08:00: the author's day, not the UTC one.
    assert post.published == date(2024, 3, 5)
    assert post.locator == f"{HEXO}:1"


def test_hexo_more_marker_gives_the_excerpt_and_leaves_the_body() -> None:
    post = _parse(HEXO)
    assert post.excerpt == "LoRA 只训练低秩矩阵，显存降到全参数微调的三分之一，适合个人 GPU。"
    assert post.body is not None
    assert "<!-- more -->" not in post.body
    # The body reads as prose: headings and emphasis without marks, code as a marker,
    # links as their text.
    assert post.body == (
        "LoRA 只训练低秩矩阵，显存降到全参数微调的三分之一，适合个人 GPU。\n\n环境准备\n\n[代码]"
        "\n\n详见 PEFT 文档，r=8 通常就够了。"
    )


def test_relative_permalink_needs_a_base_url() -> None:
    assert _parse(HEXO).url is None
    with_base = _parse(HEXO, ParseOptions(base_url=BASE))
    assert with_base.url == "https://notes.example.com/2024/03/05/lora-finetune/"


def test_hugo_toml_post_fields() -> None:
    post = _parse(HUGO)
    assert post.title == "FlashAttention 原理：IO-aware 的精确注意力"
    assert post.published == date(2024, 2, 18)
    assert (post.category, post.tags) == ("NLP", ("FlashAttention", "CUDA", "Attention"))
    assert post.excerpt == "分块 (tiling) + online softmax，把 HBM 读写从 O(N²) 降到 O(N)。"
    assert post.body is not None
    assert post.body.startswith("FlashAttention 把 Q、K、V 分块搬进 SRAM")
    assert "\n\n为什么快\n\n" in post.body and "#" not in post.body


def test_hugo_slug_becomes_a_url_under_the_base_url_only() -> None:
    assert _parse(HUGO).url is None  # draft = true: still returned, no url without a base
    assert _parse(HUGO, ParseOptions(base_url=BASE)).url == BASE + "flash-attention"


def test_jekyll_date_comes_from_the_file_name() -> None:
    post = _parse(JEKYLL)
    assert post.published == date(2024, 1, 10)
    assert (post.category, post.tags) == ("Python", ("asyncio", "aiohttp"))


def test_jekyll_post_without_title_gets_one_from_the_prose_not_the_markup() -> None:
    post = _parse(JEKYLL)
    assert post.title == "用 asyncio + aiohttp 并发抓取 arXiv 论文列表"
    assert post.title_derived is True
    assert post.excerpt is not None
    assert "```" not in post.excerpt
    assert "#" not in post.excerpt
    assert "ClientSession" not in post.excerpt  # code is not prose


def test_front_matter_date_wins_over_the_file_name() -> None:
    post = _parse_text("---\ntitle: x\ndate: 2024-06-01\n---\nbody\n", "2024-01-10-x.md")
    assert post.published == date(2024, 6, 1)


def test_published_false_is_a_draft_flag_not_a_date() -> None:
    post = _parse_text("---\ntitle: a\npublished: false\n---\n", "2024-02-01-a.md")
    assert post.published == date(2024, 2, 1)


def test_crlf_post_with_more_marker() -> None:
    text = "---\r\ntitle: a\r\ntags: [LoRA]\r\n---\r\n开头一段。\r\n<!-- more -->\r\n\r\n正文。\r\n"
    post = _parse_text(text)
    assert (post.excerpt, post.body, post.tags) == ("开头一段。", "开头一段。\n\n正文。", ("LoRA",))


def test_absolute_permalink_is_kept_and_javascript_dropped() -> None:
    ok = _parse_text("---\ntitle: a\npermalink: https://notes.example.com/p/a/\n---\n")
    assert ok.url == "https://notes.example.com/p/a/"
    bad = _parse_text("---\ntitle: a\nurl: javascript:alert(1)\n---\n", base_url=BASE)
    assert bad.url is None


def test_single_string_category_and_keywords_as_tags() -> None:
    post = _parse_text("---\ntitle: a\ncategory: NLP\nkeywords: BPE, tokenizer\n---\n")
    assert (post.category, post.tags) == ("NLP", ("BPE", "tokenizer"))


def test_empty_post_is_returned_for_the_merge_step_to_reject() -> None:
    post = _parse_text("---\nlayout: post\n---\n")
    assert (post.title, post.excerpt, post.body, post.category) == (None, None, None, None)


def test_broken_yaml_names_file_and_line() -> None:
    path = BAD / "broken-yaml.md"
    with pytest.raises(IngestError) as caught:
        _parse(path)
    assert caught.value.line == 5
    message = str(caught.value)
    assert message.startswith(f"{path}:5: front matter is not valid YAML")
    assert "started on line 4" in message  # where the unclosed [RLHF, PPO list opened


def test_broken_toml_names_file_and_line() -> None:
    path = BAD / "broken-toml.md"
    with pytest.raises(IngestError, match=r"broken-toml\.md:5: front matter is not valid TOML"):
        _parse(path)


def test_toml_error_inside_the_block_points_at_its_line() -> None:
    text = '+++\ntitle = "DPO"\ndate = 2024-05-20\ntags = "a" "b"\n+++\n'
    with pytest.raises(IngestError, match=r"^post\.md:4: front matter is not valid TOML"):
        _parse_text(text)


def test_bad_date_in_front_matter_names_its_line() -> None:
    with pytest.raises(IngestError, match=r"^post\.md:3: front matter 'date': not a date"):
        _parse_text("---\ntitle: RLHF 入门\ndate: 上周五\n---\n")


def test_missing_or_unclosed_front_matter() -> None:
    with pytest.raises(IngestError, match=r"^post\.md:1: no front matter"):
        _parse_text("# LoRA 微调实践\n\n正文\n")
    with pytest.raises(IngestError, match=r"^post\.md:1: front matter opened with '---' is never"):
        _parse_text("---\ntitle: a\n\n正文\n")


def test_front_matter_that_is_not_a_mapping() -> None:
    with pytest.raises(IngestError, match=r"^post\.md:2: front matter must be YAML"):
        _parse_text("---\n- a\n- b\n---\n")


def test_title_given_as_a_list_is_an_error_on_its_line() -> None:
    with pytest.raises(IngestError, match=r"^post\.md:3: front matter 'title' should be text"):
        _parse_text("---\ndate: 2024-01-01\ntitle: [a, b]\n---\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\ntitle: a\n---\n", True),
        ("\ufeff+++\ntitle = 'a'\n+++\n", True),
        ("\n\n---\ntitle: a\n---\n", True),
        ("# Heading\n", False),
        ("----\n", False),
        ("", False),
    ],
)
def test_looks_like_markdown_post(text: str, expected: bool) -> None:
    assert looks_like_markdown_post(text) is expected


def _alias_bomb(levels: int, width: int) -> bytes:
    """Front matter whose last alias stands for ``width ** levels`` tags in a few hundred bytes."""
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return (
        "---\ntitle: bomb\n" + "\n".join(lines) + f"\ntags: *a{levels - 1}\n---\nbody\n"
    ).encode()


def test_a_yaml_alias_bomb_is_refused_at_once_naming_the_file() -> None:
    data = _alias_bomb(levels=9, width=9)
    assert len(data) < 600
    started = time.process_time()
    with pytest.raises(IngestError, match=r"bomb\.md:2: .*YAML aliases"):
        parse_markdown(data, "bomb.md", ParseOptions())
    assert time.process_time() - started < 1.0


def test_ordinary_yaml_aliases_still_work() -> None:
    data = b"---\ntitle: t\ntags: &t [lora, qlora]\nkeywords: *t\n---\nbody text\n"
    assert parse_markdown(data, "a.md", ParseOptions())[0].tags == ("lora", "qlora")


def test_a_front_matter_date_before_year_one_is_no_date_and_its_title_reads_as_it_is() -> None:
    """YAML's own loader raised ValueError on 0000-01-01, a traceback naming no file."""
    post = _parse_text('---\ntitle: "holiday\u202egnp.exe"\ndate: 0000-01-01\n---\nBody text.\n')
    assert (post.title, post.published, post.date_out_of_range) == (
        "holidaygnp.exe",
        None,
        "0000-01-01",
    )


def test_an_impossible_front_matter_date_names_its_line() -> None:
    with pytest.raises(IngestError, match=r"^post\.md:3: front matter 'date': day is out of range"):
        _parse_text("---\ntitle: x\ndate: 2024-02-30\n---\nBody text.\n")


def test_a_post_past_the_size_limit_is_refused_naming_the_file() -> None:
    data = b"---\ntitle: big\n---\n" + b"x" * (MAX_POST_BYTES + 1)
    with pytest.raises(IngestError, match=r"^big\.md: 10\.0 MB; a Markdown post may hold at most"):
        parse_markdown(data, "big.md", ParseOptions())


def test_more_tags_than_a_post_may_have_is_an_error_on_its_line() -> None:
    tags = ", ".join(f"t{i}" for i in range(MAX_TAGS_PER_POST + 1))
    with pytest.raises(IngestError, match=r"^tags\.md:1: 201 tags; a post may have at most 200"):
        _parse_text(f"---\ntitle: t\ntags: [{tags}]\n---\nbody\n", name="tags.md")
