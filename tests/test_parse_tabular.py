"""CSV, JSON Lines, JSON and Parquet exports: column aliases, mappings, positions in errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.ingest import run_ingest
from lib.ingest.records import IngestError, ParseOptions, PostRecord, kept_source
from lib.ingest.tabular import parse_csv, parse_json, parse_jsonl, parse_parquet

TABULAR = Path(__file__).parent / "fixtures" / "tabular"
BAD = Path(__file__).parent / "fixtures" / "bad"
POSTS_CSV = TABULAR / "posts.csv"
MAPPED_CSV = TABULAR / "mapped-columns.csv"
BASE = "https://notes.example.com/"
CHINESE_COLUMNS = {
    "title": "标题",
    "excerpt": "摘要",
    "category": "栏目",
    "tags": "标签",
    "published": "发布时间",
    "url": "地址",
}


def _csv(path: Path, **options: object) -> list[PostRecord]:
    return parse_csv(path.read_bytes(), str(path), ParseOptions(**options))  # type: ignore[arg-type]


# --- CSV -------------------------------------------------------------------------------


def test_csv_fixture_really_has_bom_and_crlf() -> None:
    data = POSTS_CSV.read_bytes()
    assert data.startswith(b"\xef\xbb\xbftitle,")
    assert b"\r\n" in data


def test_csv_rows_with_bom_crlf_and_multiline_field() -> None:
    lora, flash, asyncio = _csv(POSTS_CSV)
    assert lora.title == "LoRA 微调实践：单卡 24GB 跑通 7B 模型"  # BOM not glued to "title"
    assert lora.body == '第一段：为什么选 LoRA。\n\n第二段：r=8, alpha=16 是常见配置，"够用"就好。'
    assert lora.excerpt == "LoRA 只训练低秩矩阵，显存降到三分之一。"
    assert (lora.category, lora.tags) == ("Large Model", ("LoRA", "PEFT", "Qwen"))
    assert lora.published == dt.date(2024, 3, 5)
    assert lora.guid == "post-001"
    assert (flash.title, flash.published) == ("FlashAttention 原理", dt.date(2024, 2, 18))
    assert asyncio.published == dt.date(2024, 1, 10)  # "Jan 10, 2024"


def test_csv_locator_is_the_line_a_row_starts_on() -> None:
    # The first data row spans lines 2-4 (a quoted field with two line breaks).
    assert [r.locator for r in _csv(POSTS_CSV)] == [f"{POSTS_CSV}:{n}" for n in (2, 5, 6)]


def test_csv_html_content_becomes_text_and_categories_split() -> None:
    flash = _csv(POSTS_CSV)[1]
    assert flash.body == "FlashAttention 是 IO-aware 的精确注意力。\n\n适合长序列 & 大 batch。"
    assert (flash.category, flash.tags) == ("NLP", ("FlashAttention", "CUDA", "Attention"))


def test_csv_urls_javascript_dropped_relative_resolved_with_base_url() -> None:
    lora, flash, asyncio = _csv(POSTS_CSV)
    assert lora.url == "https://notes.example.com/2024/03/05/lora-finetune/"
    assert flash.url is None  # javascript:alert(1)
    assert asyncio.url is None  # relative and no --base-url
    assert _csv(POSTS_CSV, base_url=BASE)[2].url == BASE + "2024/01/10/python-asyncio/"


def test_csv_row_without_title_gets_a_derived_one() -> None:
    asyncio = _csv(POSTS_CSV)[2]
    assert asyncio.title == "用 asyncio + aiohttp 并发抓取 arXiv 论文列表"
    assert asyncio.title_derived is True
    assert (asyncio.category, asyncio.tags) == ("Python", ("asyncio", "aiohttp"))


def test_csv_with_mapped_chinese_columns_and_semicolons() -> None:
    rope, vllm = _csv(MAPPED_CSV, columns=CHINESE_COLUMNS)
    assert rope.title == "RoPE 旋转位置编码详解"
    assert rope.excerpt == "用旋转矩阵注入相对位置。"
    assert (rope.category, rope.tags) == ("NLP", ("RoPE", "LLaMA"))
    assert rope.published == dt.date(2024, 4, 1)
    assert rope.url == "https://blog.example.org/posts/rope/"
    assert (vllm.category, vllm.tags) == ("Large Model", ("vLLM", "推理"))


def test_mapping_to_a_missing_column_lists_the_columns_found() -> None:
    with pytest.raises(IngestError) as caught:
        _csv(MAPPED_CSV, columns={"title": "Titel"})
    message = str(caught.value)
    assert message.startswith(f"{MAPPED_CSV}: mapped column 'Titel' (for title) is not in the file")
    assert "'标题', '摘要', '栏目', '标签', '发布时间', '地址'" in message


def test_mapping_names_an_unknown_field() -> None:
    with pytest.raises(IngestError, match="unknown field 'titel' in the column mapping"):
        _csv(MAPPED_CSV, columns={"titel": "标题"})


def test_table_with_no_recognisable_text_column_is_refused_as_a_whole() -> None:
    with pytest.raises(IngestError, match=r"no column for the title, excerpt or body .*'标题'"):
        _csv(MAPPED_CSV)


def test_mapping_is_case_insensitive_and_beats_aliases() -> None:
    data = b"Title,Headline,Summary\nalias title,mapped title,s\n"
    (record,) = parse_csv(data, "m.csv", ParseOptions(columns={"title": "HEADLINE"}))
    assert record.title == "mapped title"


def test_tab_separated_file(tmp_path: Path) -> None:
    path = tmp_path / "posts.tsv"
    path.write_text("title\tcategory\tdate\nMoE 路由\tLarge Model\t2024-04-15\n", encoding="utf-8")
    (record,) = _csv(path)
    assert (record.title, record.category, record.published) == (
        "MoE 路由",
        "Large Model",
        dt.date(2024, 4, 15),
    )


def test_row_with_too_many_fields_names_its_line() -> None:
    path = BAD / "too-many-fields.csv"
    with pytest.raises(IngestError) as caught:
        _csv(path)
    assert caught.value.line == 3
    assert str(caught.value) == f"{path}:3: this row has 4 fields but the header has 3"


def test_bad_date_names_its_line_and_the_value() -> None:
    path = BAD / "bad-date.csv"
    # Line 5: the row before it spans lines 3-4.
    with pytest.raises(
        IngestError, match=r"bad-date\.csv:5: column 'date': not a date: '昨天下午'"
    ):
        _csv(path)


def test_open_quote_is_reported_where_the_row_starts() -> None:
    data = 'title,date\n"LoRA 微调,2024-03-05\nFlashAttention,2024-02-18\n'.encode()
    with pytest.raises(IngestError, match=r"^q\.csv:2: a quoted field .* is never closed"):
        parse_csv(data, "q.csv", ParseOptions())


def test_quote_closed_in_a_later_row_is_a_field_count_error_with_a_hint() -> None:
    data = 'title,date\n"LoRA 微调,2024-03-05\nFlashAttention",2024-02-18,x\nBPE,2024-01-01\n'
    with pytest.raises(IngestError, match=r"^q\.csv:2: this row has 3 .*quote left open"):
        parse_csv(data.encode(), "q.csv", ParseOptions())


def test_text_after_a_closing_quote_is_a_quoting_error() -> None:
    with pytest.raises(IngestError, match=r"^q\.csv:2: bad CSV quoting"):
        parse_csv(b'title,date\n"LoRA" x,2024-03-05\n', "q.csv", ParseOptions())


def test_gbk_csv_is_read_in_its_own_encoding_and_damaged_utf8_refused(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    text = "title,category\nLoRA 微调实践,大模型\nFlashAttention 原理,自然语言处理\n"
    path.write_bytes(text.encode("gbk"))
    for encoding in (None, "gbk"):
        records = _csv(path, encoding=encoding)
        assert [(r.title, r.category) for r in records] == [
            ("LoRA 微调实践", "大模型"),
            ("FlashAttention 原理", "自然语言处理"),
        ]
    # UTF-8 with one bad byte is not another encoding: guessing one would store mojibake.
    path.write_bytes(text.encode().replace("原理".encode(), b"\xff"))
    with pytest.raises(IngestError) as caught:
        _csv(path)
    assert str(caught.value).startswith(f"{path}:3: not valid UTF-8")
    assert "--encoding" in str(caught.value)


def test_header_only_csv_has_no_records() -> None:
    assert parse_csv(b"title,date\r\n", "empty.csv", ParseOptions()) == []


def test_file_with_only_a_bom_and_line_breaks_is_empty() -> None:
    with pytest.raises(IngestError, match=r"^empty\.csv: the file is empty"):
        parse_csv(b"\xef\xbb\xbf\r\n", "empty.csv", ParseOptions())
    with pytest.raises(IngestError, match=r"^empty\.jsonl: the file is empty"):
        parse_jsonl(b"\xef\xbb\xbf\n\n", "empty.jsonl", ParseOptions())


# --- JSON Lines ------------------------------------------------------------------------


def test_jsonl_objects_with_different_keys() -> None:
    path = TABULAR / "posts.jsonl"
    dpo, bpe, pandas = parse_jsonl(path.read_bytes(), str(path), ParseOptions())
    assert dpo.title == "DPO 直接偏好优化：不用奖励模型的 RLHF"
    assert (
        dpo.body == "背景\n\nPPO 训练不稳定，DPO 直接在偏好数据上优化。"
    )  # content_html, no <script>
    assert (dpo.category, dpo.tags) == ("Large Model", ("DPO", "偏好对齐", "RLHF"))
    assert dpo.published == dt.date(2024, 5, 20)  # created_at
    assert dpo.guid == "101"
    assert (bpe.category, bpe.tags) == ("NLP", ("tokenizer", "BPE"))  # section, labels
    assert bpe.published == dt.date(2024, 1, 1)  # pub_date as epoch seconds
    assert bpe.url is None  # data: URL
    assert pandas.title == "pandas 3.0 默认启用 Copy-on-Write"
    assert pandas.title_derived is True
    assert [r.locator for r in (dpo, bpe, pandas)] == [f"{path}:{n}" for n in (1, 3, 4)]


def test_jsonl_bad_line_is_named() -> None:
    data = b'{"title": "LoRA"}\n\n{"title": "FlashAttention",}\n'
    with pytest.raises(IngestError, match=r"^p\.jsonl:3: not valid JSON: Expecting property name"):
        parse_jsonl(data, "p.jsonl", ParseOptions())
    with pytest.raises(IngestError, match=r"^p\.jsonl:2: expected a JSON object, got a list"):
        parse_jsonl(b'{"title": "a"}\n["b"]\n', "p.jsonl", ParseOptions())


# --- JSON ------------------------------------------------------------------------------


def test_json_object_with_posts_list() -> None:
    path = TABULAR / "posts.json"
    kv, moe = parse_json(path.read_bytes(), str(path), ParseOptions(base_url=BASE))
    assert kv.title == "KV Cache 量化：INT8 还是 FP8？"
    assert (kv.category, kv.tags) == ("Large Model", ("Quantization", "KV Cache", "Inference"))
    assert kv.published == dt.date(2024, 5, 28)
    assert kv.url == BASE + "2024/05/28/kv-cache-quant/"
    assert kv.guid == "5c1e7a4e-0f3b-4f7e-9a49-3d1d7b1c9e01"
    assert kv.locator == f"{path} row 1"
    # WordPress-style {"rendered": html} values; an upper-case JavaScript: link.
    assert moe.title == "Mixture of Experts – 路由与负载均衡"
    assert moe.body == "MoE 的路由器为每个 token 选 top-k 个专家。"
    assert moe.tags == ("MoE", "Routing")
    assert moe.url is None


def test_json_syntax_error_names_the_line() -> None:
    path = BAD / "syntax-error.json"
    with pytest.raises(IngestError) as caught:
        parse_json(path.read_bytes(), str(path), ParseOptions())
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{path}:3: not valid JSON")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'{"site": "x", "count": 2}',
            r"^p\.json: expected a list of posts, or an object .*'site'",
        ),
        (b'"LoRA"', r"^p\.json: expected a list of posts, got a string"),
        (
            b'{"items": [{"title": "a"}, 3]}',
            r"^p\.json: row 2: expected a JSON object, got a number",
        ),
        (
            b'[{"title": ["a", "b"]}]',
            r"^p\.json: row 1: column 'title' should hold text, not a list",
        ),
        (b'[{"title": "a", "date": "someday"}]', r"^p\.json: row 1: column 'date': not a date"),
    ],
)
def test_json_documents_of_the_wrong_shape(data: bytes, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        parse_json(data, "p.json", ParseOptions())


# --- Parquet ---------------------------------------------------------------------------


def _write_parquet(path: Path) -> None:
    shanghai = pa.timestamp("ms", tz="+08:00")
    table = pa.table(
        {
            "Title": ["LoRA 微调实践", None],
            "Summary": ["单卡 24GB 跑通 7B。", "FlashAttention 的分块与 online softmax。"],
            "tags": pa.array([["LoRA", "PEFT"], []], type=pa.list_(pa.string())),
            "categories": pa.array([["Large Model", "微调"], ["NLP"]], type=pa.list_(pa.string())),
            # 2024-03-04 16:30 UTC is 2024-03-05 00:30 in Shanghai.
            "created_at": pa.array([dt.datetime(2024, 3, 4, 16, 30), None], type=shanghai),
            "post_link": ["https://notes.example.com/lora/", "javascript:void(0)"],
        }
    )
    pq.write_table(table, path)


def test_parquet_rows_with_list_columns_and_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "posts.parquet"
    _write_parquet(path)
    options = ParseOptions(columns={"url": "post_link"})
    lora, flash = parse_parquet(path.read_bytes(), str(path), options)
    assert lora.title == "LoRA 微调实践"
    assert (lora.category, lora.tags) == ("Large Model", ("LoRA", "PEFT", "微调"))
    assert lora.published == dt.date(2024, 3, 5)
    assert lora.url == "https://notes.example.com/lora/"
    assert lora.locator == f"{path} row 1"
    assert flash.title == "FlashAttention 的分块与 online softmax"
    assert flash.title_derived is True
    assert (flash.category, flash.tags, flash.published, flash.url) == ("NLP", (), None, None)


def test_unreadable_parquet_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(IngestError, match=r"broken\.parquet: not a readable Parquet file"):
        parse_parquet(path.read_bytes(), str(path), ParseOptions())


# --- Numbers that are not dates ------------------------------------------------------------

NOT_DATES = ["1e20", "-1e20", "Infinity", "-Infinity", "NaN", "1e400"]


def _number_dated(folder: Path, kind: str, number: str) -> tuple[Path, str]:
    """A file whose second post is dated ``number``, and where the error must point."""
    first = '{"title": "甲", "url": "https://a.example/1", "published": 1700000000}'
    second = f'{{"title": "乙", "url": "https://a.example/2", "published": {number}}}'
    path = folder / f"numbers.{kind}"
    if kind == "json":
        path.write_text(f"[{first},\n {second}]", encoding="utf-8")
        return path, r"numbers\.json: row 2: column 'published': not a date"
    path.write_text(f"{first}\n{second}\n", encoding="utf-8")
    return path, r"numbers\.jsonl:2: column 'published': not a date"


@pytest.mark.parametrize("number", NOT_DATES)
@pytest.mark.parametrize("kind", ["json", "jsonl"])
@pytest.mark.parametrize("fast_lane", [True, False])
def test_a_number_that_is_no_date_is_a_row_error_naming_file_and_row(
    tmp_path: Path, kind: str, number: str, fast_lane: bool
) -> None:
    """``1e20`` or ``Infinity`` ended the import in a traceback naming neither."""
    path, where = _number_dated(tmp_path, kind, number)
    db = tmp_path / "posts.duckdb"
    with pytest.raises(IngestError, match=where):
        run_ingest(str(db), [str(path)], fast_lane=fast_lane)
    assert not db.exists()  # nothing was written


def test_a_parquet_number_that_is_no_date_is_a_row_error(tmp_path: Path) -> None:
    path = tmp_path / "numbers.parquet"
    pq.write_table(
        pa.table({"title": ["甲", "乙", "丙"], "published": [1.7e9, float("nan"), 1e20]}), path
    )
    with pytest.raises(IngestError, match=r"numbers\.parquet: row 2: column 'published'"):
        run_ingest(str(tmp_path / "posts.duckdb"), [str(path)])


# --- Each value read as what it is: Markdown, HTML or text, and kept as written -------------

MARKDOWN_ROWS = [
    {"title": "加粗", "body": "**Pre-LN** 训练更稳定，*Post-LN* 效果略好。"},
    {"title": "标题", "body": "# 梯度累积\n\n显存不够时拆小 batch。"},
    {"title": "链接", "body": "详见 [原论文](https://arxiv.example.org/abs/1) 第 3 节。"},
    {"title": "代码", "body": "用 `peak_lr` 预热：\n\n```python\nlr = peak_lr * step\n```"},
    {"title": "公式", "body": "方差约为 $\\sqrt{L}$ 量级，$$a^2+b^2$$ 也是。"},
    {"title": "文本", "body": "价格从 $5 涨到 $10，List<String> 不是 HTML。"},
    {"title": "网页", "body": "<p>位置插值把 <em>m</em> 缩放。</p>"},
]
MARKUP = ("**", "# ", "](", "`", "$\\", "$$", "<p>", "<em>")


def _markdown_export(kind: str) -> bytes:
    if kind == "json":
        return json.dumps(MARKDOWN_ROWS, ensure_ascii=False).encode()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["title", "body"])
    writer.writeheader()
    writer.writerows(MARKDOWN_ROWS)
    return buffer.getvalue().encode()


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_markdown_bodies_in_an_export_are_read_as_markdown(kind: str) -> None:
    parse = parse_json if kind == "json" else parse_csv
    records = parse(_markdown_export(kind), f"posts.{kind}", ParseOptions())
    formats = [r.source_format for r in records]
    assert formats == ["markdown"] * 5 + ["text", "html"]
    for record in records:
        assert not [m for m in MARKUP if m in (record.excerpt or "") + (record.body or "")]
    assert records[0].excerpt == "Pre-LN 训练更稳定，Post-LN 效果略好。"
    assert records[1].body == "梯度累积\n\n显存不够时拆小 batch。"
    assert records[3].body == "用 peak_lr 预热：\n\n[代码]"
    assert records[4].excerpt == "方差约为 [Math] 量级，[Math] 也是。"
    assert records[5].body == MARKDOWN_ROWS[5]["body"]  # text stays as written
    # Each body is kept exactly as the export holds it; text that reads as itself is its
    # own source, with no copy.
    kept = [kept_source(r.body_source, r.source_format, r.body) for r in records]
    assert kept == [row["body"] for row in MARKDOWN_ROWS]
    assert records[5].body_source is None


def test_a_format_column_says_how_each_body_is_written() -> None:
    rows = [
        {"title": "a", "format": "markdown", "body": "价格 $5，**重点**"},
        {"title": "b", "format": "text", "body": "**这里的星号是原文**"},
        {"title": "c", "format": "html", "body": "<b>粗</b> &amp; 细"},
        {"title": "d", "format": "", "body": "`auto` 由内容决定"},
    ]
    records = parse_json(json.dumps(rows).encode(), "posts.json", ParseOptions())
    assert [(r.body, r.source_format) for r in records] == [
        ("价格 $5，重点", "markdown"),
        ("**这里的星号是原文**", "text"),
        ("粗 & 细", "html"),
        ("auto 由内容决定", "markdown"),
    ]
