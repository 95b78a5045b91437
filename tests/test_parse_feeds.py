"""RSS and Atom feeds become clean records: plain-text bodies, safe links, local dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lib.ingest.feeds import looks_like_feed, parse_feed
from lib.ingest.records import IngestError, ParseOptions, PostRecord

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
BAD = Path(__file__).parent / "fixtures" / "bad"
RSS = FEEDS / "rss2.xml"
ATOM = FEEDS / "atom.xml"


def _parse(path: Path, options: ParseOptions | None = None) -> list[PostRecord]:
    return parse_feed(path.read_bytes(), str(path), options or ParseOptions())


def _item(title: str, extra: str = "") -> bytes:
    return f"<item><title>{title}</title>{extra}</item>".encode()


def _rss(*items: bytes) -> bytes:
    channel = b"<title>t</title><link>https://notes.example.com/</link>" + b"".join(items)
    return b'<?xml version="1.0"?><rss version="2.0"><channel>' + channel + b"</channel></rss>"


def test_rss_items_keep_title_category_tags_date_and_guid() -> None:
    lora, flash, aiohttp = _parse(RSS)
    assert lora.title == "LoRA 微调实践：从原理到 PEFT 代码"
    assert lora.title_derived is False
    assert (lora.category, lora.tags) == ("Large Model", ("LoRA", "PEFT"))
    assert lora.guid == "notes-2024-0305-lora"
    assert lora.url == "https://notes.example.com/2024/03/05/lora-finetune/"
    assert lora.excerpt == "用 LoRA 在单卡 24GB 上微调 7B 模型，显存、rank 与 alpha 怎么选。"
    assert (flash.title, flash.category, flash.tags) == (
        "FlashAttention 原理 & 实现细节",
        "NLP",
        ("Attention",),
    )
    assert (aiohttp.category, aiohttp.tags) == ("Python", ())


def test_publication_day_is_the_one_the_author_wrote_not_utc() -> None:
    # 00:30 +08:00 on 5 March is still 4 March in UTC; the post says 5 March.
    dates = [record.published for record in _parse(RSS)]
    assert dates == [date(2024, 3, 5), date(2024, 2, 18), date(2024, 1, 10)]


def test_content_encoded_becomes_plain_text_with_paragraphs_and_code_as_a_marker() -> None:
    body = _parse(RSS)[0].body
    assert body is not None
    assert "<" not in body.replace("> 100GB", "")
    assert "全参数微调 7B 模型需要 > 100GB 显存" in body  # &gt; unescaped
    assert "0.1% 左右" in body  # &nbsp; is a plain space
    assert "alert" not in body  # <script> content is not text
    assert body.startswith("为什么是 LoRA\n\n全参数微调")
    assert "下面是用 PEFT 的最小例子：\n\n[代码]\n\n" in body  # code reads as a marker
    assert "LoraConfig" not in body
    assert "- rank 取 8 或 16\n- alpha 一般是 rank 的 2 倍" in body


def test_links_are_resolved_against_the_feed_and_scripts_are_dropped() -> None:
    records = _parse(RSS)
    assert records[1].url == "https://notes.example.com/2024/02/18/flash-attention/"
    assert records[2].url is None  # <link>javascript:alert(document.cookie)</link>


def test_entry_without_content_has_no_body_but_keeps_its_summary() -> None:
    aiohttp = _parse(RSS)[2]
    assert aiohttp.body is None
    assert aiohttp.excerpt == "用 asyncio + aiohttp 并发抓取 arXiv 列表页，控制并发数避免被封。"


def test_locators_name_the_entry() -> None:
    assert [r.locator for r in _parse(RSS)] == [f"{RSS} entry {n}" for n in (1, 2, 3)]


def test_atom_entries() -> None:
    rope, vllm = _parse(ATOM)
    assert rope.title == "RoPE 旋转位置编码 <详解>"  # type="html" title, unescaped once
    assert (rope.category, rope.tags) == ("NLP", ("Position Encoding",))
    assert rope.published == date(2024, 4, 1)  # <published>, not the later <updated>
    assert rope.excerpt == "RoPE 用旋转矩阵把相对位置注入 attention。"
    assert rope.body == (
        "RoPE（Rotary Position Embedding）把 query 和 key 按位置旋转。\n\n"
        "LLaMA、Qwen 都采用了 RoPE。"
    )
    assert rope.guid == "tag:blog.example.org,2024:rope"
    assert vllm.published == date(2024, 3, 20)  # only <updated>
    assert vllm.url == "https://blog.example.org/posts/vllm-paged-attention/"
    assert vllm.category == "Large Model"


def test_atom_entry_without_summary_gets_an_excerpt_from_its_content() -> None:
    vllm = _parse(ATOM)[1]
    first = "PagedAttention 借鉴操作系统的分页，把 KV cache 切成固定大小的 block。"
    assert vllm.body == f"{first}\n\n吞吐提升 2–4 倍。"
    assert vllm.excerpt == f"{first} 吞吐提升 2–4 倍。"


def test_entry_without_title_gets_a_derived_one() -> None:
    summary = "&lt;p&gt;KV cache 量化对比：INT8 与 FP8。&lt;/p&gt;"
    data = _rss(f"<item><description>{summary}</description></item>".encode())
    (record,) = parse_feed(data, "feed.xml", ParseOptions())
    assert record.title == "KV cache 量化对比：INT8 与 FP8"
    assert record.title_derived is True


def test_entry_with_nothing_is_returned_for_the_merge_step_to_reject() -> None:
    (record,) = parse_feed(_rss(b"<item><guid>x-1</guid></item>"), "feed.xml", ParseOptions())
    assert (record.title, record.excerpt, record.body, record.guid) == (None, None, None, "x-1")


def test_stray_ampersand_is_tolerated_like_feed_readers_do() -> None:
    data = RSS.read_bytes().replace(b"&amp;", b"&")
    records = parse_feed(data, "feed.xml", ParseOptions())
    assert [r.title for r in records][1] == "FlashAttention 原理 & 实现细节"
    assert len(records) == 3


def test_truncated_feed_is_refused_with_the_line_it_breaks_on() -> None:
    path = BAD / "truncated_rss.xml"
    last_line = len(path.read_text(encoding="utf-8").splitlines())
    with pytest.raises(IngestError) as caught:
        _parse(path)
    assert caught.value.line == last_line
    assert f"truncated_rss.xml:{last_line}: the feed is cut off" in str(caught.value)


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(IngestError, match=r"^page\.xml: not an RSS or Atom feed"):
        parse_feed(b"<!doctype html><html><body>404</body></html>", "page.xml", ParseOptions())


def test_plain_text_is_not_a_feed() -> None:
    with pytest.raises(
        IngestError, match=r"^notes\.xml: not an RSS or Atom feed: it starts with 'LoRA"
    ):
        parse_feed("LoRA 微调笔记\n".encode(), "notes.xml", ParseOptions())


def test_broken_feed_with_no_entries_names_file_and_line() -> None:
    data = b'<?xml version="1.0"?>\n<rss version="2.0">\n<channel><title>a</title>\n<<<\n</rss>'
    with pytest.raises(IngestError, match=r"^broken\.xml:4: malformed feed XML: not well-formed"):
        parse_feed(data, "broken.xml", ParseOptions())


def test_unparseable_date_names_the_entry() -> None:
    data = _rss(
        _item("ok", "<pubDate>Tue, 05 Mar 2024 00:30:00 +0800</pubDate>"),
        _item("bad", "<pubDate>上周五</pubDate>"),
    )
    with pytest.raises(IngestError, match=r"^feed\.xml: entry 2: bad date '上周五'"):
        parse_feed(data, "feed.xml", ParseOptions())


def test_gbk_feed_is_read_in_its_own_encoding_or_the_one_given() -> None:
    text = RSS.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="GBK"')
    data = text.replace("²", "^2").encode("gbk")
    for options in (ParseOptions(), ParseOptions(encoding="gbk")):
        records = parse_feed(data, "gbk.xml", options)
        assert records[0].title == "LoRA 微调实践：从原理到 PEFT 代码"
    with pytest.raises(IngestError, match=r"^gbk\.xml:\d+: cannot decode as BIG5"):
        parse_feed(data, "gbk.xml", ParseOptions(encoding="big5"))


def test_base_url_resolves_links_when_the_feed_has_no_link() -> None:
    data = b'<rss version="2.0"><channel><title>t</title>' + _item("x", "<link>/p/1</link>")
    data += b"</channel></rss>"
    (record,) = parse_feed(data, "f.xml", ParseOptions(base_url="https://blog.example.org/"))
    assert record.url == "https://blog.example.org/p/1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (RSS.read_text(encoding="utf-8"), True),
        (ATOM.read_text(encoding="utf-8"), True),
        ('\ufeff<?xml version="1.0"?>\n<!-- c -->\n<rdf:RDF xmlns:rdf="x">', True),
        ("  <rss version='2.0'>", True),
        ("<!DOCTYPE html><html><head><title>rss</title></head>", False),
        ("<rssfeed>", False),
        ("---\ntitle: x\n---\n", False),
        ("title,date\nx,2024-01-01\n", False),
    ],
)
def test_looks_like_feed(text: str, expected: bool) -> None:
    assert looks_like_feed(text) is expected


def test_hugos_zero_date_is_no_date_and_a_bidi_override_is_removed() -> None:
    """Hugo writes "Mon, 01 Jan 0001" for a post without a date; dateutil read it as 2001."""
    data = _rss(_item("holiday\u202egnp.exe", "<pubDate>Mon, 01 Jan 0001 00:00:00 +0000</pubDate>"))
    (record,) = parse_feed(data, "feed.xml", ParseOptions())
    assert (record.title, record.published, record.date_out_of_range) == (
        "holidaygnp.exe",
        None,
        "0001-01-01",
    )


@pytest.mark.parametrize(
    ("title", "kept"),
    [
        ("LoRA 微调显存估算 - 小林的笔记", "LoRA 微调显存估算"),  # cnblogs appends the author
        ("小林的笔记", "小林的笔记"),  # a title that is only the name stays
        ("Notes - on - 小林的笔记s", "Notes - on - 小林的笔记s"),  # another name
    ],
)
def test_an_author_appended_to_a_feeds_titles_is_not_the_title(title: str, kept: str) -> None:
    author = "<author><name>小林的笔记</name></author>"
    entry = f'<entry><id>x-1</id><title type="text">{title}</title>{author}</entry>'
    data = f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">{entry}</feed>'
    (record,) = parse_feed(data.encode(), "feed.xml", ParseOptions())
    assert record.title == kept
