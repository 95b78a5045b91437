"""The fast lane (lib.ingest.fast_lane) stores exactly what the per-record path stores.

Each test imports the same Parquet file twice, once with the fast lane and once
without, and compares every stored post and sighting. The rows are built from
pieces chosen to sit on the lane's edges: whitespace other than spaces, control
characters, HTML, fullwidth and compatibility characters, cut-off markers, odd
links and dates, repeated links and texts.
"""

from __future__ import annotations

import csv
import json
import random
import unicodedata
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.corpus import generate
from lib.ingest import IngestError, run_ingest
from lib.ingest.detect import BULK_PARSERS
from lib.ingest.fast_lane import derives_itself_sql, fast_rows
from lib.ingest.fields import SAFE_RANGES, without_deceptive_characters
from lib.ingest.records import ParseOptions, kept_source_sql
from lib.ingest.rederive import derived_again, rederive
from lib.store import connect_read_only

PIECES = [
    "显存", "分布式训练", "FlashAttention", "KV cache", "Qwen3-VL", " ", "  ", "\t", "\n", "\r\n",
    "\u3000", "\xa0", "\x07", "<b>粗体</b>", "a < b", "List<String>", "...", "…", "[代码]",
    "[公式]", "，", "：", "（ＡＢＣ）", "ﬁ", "²", "①", "İ", "Σ", "é", "ß", "😀", "\u0301",
    "ｶ", "_", "·", "—", "“引号”", "100%", "v1.2", "C++",
    "**加粗**", "`d_model`", "$x^2$", "$5", "\n# ", "[链接](https://a.example/x)", "\n- ",
    "\n    ", "|", "[^1]", "~~删~~", "\n1. ", "\\",
]  # fmt: skip
URLS = [
    None, "", "https://blog.example.com/a/{n}", "https://Blog.Example.com/b/{n}",
    "http://blog.example.com/c/{n}#top", "https://blog.example.com", "https://blog.example.com/d?",
    "https://blog.example.com/e?x={n}", "/relative/{n}", "javascript:alert({n})",
    "https://blog.example.com/f/{n} x", "https://blog.example.com:8080/g/{n}",
    "https://blog.example.com/same", "https://[bad/{n}", " https://blog.example.com/h/{n}",
    "https://blog.example.com/%E6%98%BE/{n}", "https://blog.example.com/显/{n}/",
    "https://blog.example.com/a/{n}/", "https://blog.example.com/%FF/{n}",
]  # fmt: skip
DATES = [
    None, "2024-01-05", " 2024-01-05", "2024/01/05", "Jan 5, 2024", "1704412800", "",
    "2024-01-05T23:30:00Z", "2024-01-05 08:15", "2024-01-05T00:10:00.25+08:00",
    "2024-01-05T10:00:00-0500", "2024-01-05t10:00",
]  # fmt: skip


def _text(rng: random.Random, pieces: int) -> str:
    return "".join(rng.choice(PIECES) for _ in range(pieces))


def _rows(seed: int, n: int) -> pa.Table:
    """Clean rows, a third of them with one or two fields made awkward."""
    rng = random.Random(seed)
    plain = "本文介绍显存优化的基本原理，并结合FlashAttention给出一个可以运行的例子。"
    awkward = {
        "title": lambda i: rng.choice([None, "", _text(rng, 3), f" 标题 {i}", f"A  B {i}", "笔记"]),
        "excerpt": lambda i: rng.choice([None, "", _text(rng, 2), "摘要", plain[:30]]),
        "body": lambda i: rng.choice(
            [None, "", _text(rng, rng.randint(1, 12)), plain + "...", plain + "[代码] 之后", plain]
        ),
        "category": lambda i: rng.choice([None, "", "a,b", " NLP", "Ｎｌｐ"]),
        "tags": lambda i: rng.choice([[], ["LoRA", "LoRA"], ["x", ""], [" y"], ["a;b", "c"]]),
        "date": lambda i: rng.choice(DATES),
        "url": lambda i: (rng.choice(URLS) or "").format(n=i % 40) or None,
        "guid": lambda i: rng.choice([None, f"guid-{i % 30}", ""]),
    }
    rows: dict[str, list[object]] = {k: [] for k in awkward}
    for i in range(n):
        row: dict[str, object] = {
            "title": f"笔记 {i}",
            "excerpt": rng.choice([None, "摘要：显存与吞吐"]),
            "body": f"{plain} 第{i}篇，{rng.choice(PIECES[:5])}。",
            "category": rng.choice([None, "NLP", "Large Model", "杂七杂八"]),
            "tags": rng.choice([None, ["LoRA"], ["LoRA", "显存"]]),
            "date": rng.choice([None, "2024-01-05", "2023-12-31", "2023-12-31T23:59:59Z"]),
            "url": f"https://blog.example.com/posts/{i}/",
            "guid": None,
        }
        if rng.random() < 1 / 3:
            for field in rng.sample(list(awkward), rng.randint(1, 2)):
                row[field] = awkward[field](i)
        for field, value in row.items():
            rows[field].append(value)
    return pa.table(rows)


def _stored(db: Path) -> dict[str, list[tuple]]:
    con = connect_read_only(str(db))
    try:
        return {
            "posts": con.execute(
                """SELECT id, title, title_derived, excerpt, body, category, tags, published, url,
                          source, sightings, body_source, source_format FROM posts ORDER BY id"""
            ).fetchall(),
            "sightings": con.execute(
                """SELECT post_id, locator, source_digest, fingerprint, guid, lead, stem,
                          truncated FROM sightings ORDER BY locator, post_id"""
            ).fetchall(),
            "conflicts": con.execute(
                "SELECT post_id, field, kept, offered, locator FROM conflicts ORDER BY ALL"
            ).fetchall(),
            "rejections": con.execute(
                "SELECT locator, reason FROM rejections ORDER BY ALL"
            ).fetchall(),
        }
    finally:
        con.close()


def _both(tmp_path: Path, sources: list[Path], before: list[Path] | None = None):
    out = []
    for lane in (True, False):
        db = tmp_path / f"lane-{lane}.duckdb"
        for earlier in before or []:
            run_ingest(str(db), [str(earlier)], fast_lane=False)
        summary = run_ingest(str(db), [str(s) for s in sources], fast_lane=lane)
        out.append((summary, _stored(db)))
    return out


def _write(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize("seed", range(6))
def test_both_lanes_store_the_same_posts(tmp_path: Path, seed: int) -> None:
    # Dates that are not dates stop the run on both lanes; keep to readable ones here.
    table = _rows(seed, 400)
    source = _write(table, tmp_path / "export.parquet")
    (fast_summary, fast), (slow_summary, slow) = _both(tmp_path, [source])
    for name in fast:
        assert fast[name] == slow[name], name
    for field in ("records", "added", "updated", "unchanged"):
        assert getattr(fast_summary, field) == getattr(slow_summary, field), field


def test_the_fast_lane_takes_the_clean_rows(tmp_path: Path) -> None:
    table = generate(500)
    fast, slow = fast_rows(table, {"title": "title", "excerpt": "excerpt", "body": "body",
                                   "category": "category", "tags": "tags",
                                   "published": "date", "url": "url"},
                          [f"x row {n}" for n in range(1, 501)])  # fmt: skip
    # The synthetic corpus is clean: every row skips per-row Python.
    assert fast.num_rows == 500 and slow == []
    source = _write(table, tmp_path / "corpus.parquet")
    (_, fast_store), (_, slow_store) = _both(tmp_path, [source])
    assert fast_store == slow_store


def test_rows_meeting_stored_posts_merge_as_on_the_record_path(tmp_path: Path) -> None:
    """A second export repeating links and texts already stored: nothing is added twice."""
    first = _write(_rows(11, 300), tmp_path / "first.parquet")
    second = _write(_rows(12, 300), tmp_path / "second.parquet")
    (fast_summary, fast), (slow_summary, slow) = _both(tmp_path, [second], before=[first])
    assert fast == slow
    assert (fast_summary.added, fast_summary.updated, fast_summary.unchanged) == (
        slow_summary.added,
        slow_summary.updated,
        slow_summary.unchanged,
    )


def test_reimporting_the_same_file_changes_nothing(tmp_path: Path) -> None:
    source = _write(generate(200), tmp_path / "corpus.parquet")
    db = tmp_path / "store.duckdb"
    run_ingest(str(db), [str(source)])
    before = _stored(db)
    again = run_ingest(str(db), [str(source)])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 200)
    assert _stored(db) == before


def test_typed_dates_and_timestamps(tmp_path: Path) -> None:
    table = pa.table(
        {
            "title": ["甲", "乙"],
            "body": ["正文一。", "正文二。"],
            "url": ["https://a.example/1", "https://a.example/2"],
            "published": pa.array([datetime(2024, 3, 1, 23, 59), None], pa.timestamp("us")),
            "day": pa.array([date(2020, 1, 2), date(2021, 2, 3)], pa.date32()),
        }
    )
    source = _write(table, tmp_path / "typed.parquet")
    (_, fast), (_, slow) = _both(tmp_path, [source])
    assert fast == slow
    assert {row[7] for row in fast["posts"]} == {date(2024, 3, 1), None}


def test_a_bad_date_stops_the_run_on_the_fast_lane_too(tmp_path: Path) -> None:
    table = pa.table({"title": ["甲"], "url": ["https://a.example/1"], "date": ["2024-02-30"]})
    source = _write(table, tmp_path / "bad.parquet")
    with pytest.raises(IngestError, match="row 1"):
        run_ingest(str(tmp_path / "store.duckdb"), [str(source)])


@pytest.mark.parametrize("seed", [21, 22])
def test_reimporting_awkward_rows_matches_the_record_path(tmp_path: Path, seed: int) -> None:
    source = _write(_rows(seed, 300), tmp_path / "export.parquet")
    (fast_summary, fast), (slow_summary, slow) = _both(tmp_path, [source], before=[source])
    assert fast == slow
    assert (fast_summary.added, fast_summary.updated, fast_summary.unchanged) == (
        slow_summary.added,
        slow_summary.updated,
        slow_summary.unchanged,
    )
    assert fast_summary.added == 0


def test_markdown_takes_the_record_path_and_both_lanes_keep_the_same_source(
    tmp_path: Path,
) -> None:
    """A body or excerpt that may hold Markdown is read by the parsers, not taken as is;
    every body is kept as written, a clean one as its own text source."""
    bodies = [
        "显存优化的基本原理与一个能运行的例子。",
        "**Pre-LN** 训练更稳定。",
        "先看公式 $\\sqrt{L}$ 再看代码。",
        "见 [原论文](https://a.example/p) 第 3 节。",
        "## 结论\n\n残差分支的方差随层数增长。",
        "用 `torch.nn.LayerNorm` 即可。",
        "价格从 $5 涨到 $10，不是公式。",
    ]
    table = pa.table(
        {
            "title": [f"笔记 {i}" for i in range(len(bodies))],
            "body": bodies,
            "url": [f"https://blog.example.com/md/{i}/" for i in range(len(bodies))],
        }
    )
    mapping = {"title": "title", "body": "body", "url": "url"}
    fast, slow = fast_rows(table, mapping, [f"x row {n}" for n in range(1, len(bodies) + 1)])
    assert slow == [1, 2, 3, 4, 5, 6]
    # Plain text that reads as itself keeps no copy: the body is its source.
    assert fast.column("body_source").to_pylist() == [None]
    assert fast.column("source_format").to_pylist() == ["text"]
    source = _write(table, tmp_path / "md.parquet")
    (_, fast_store), (_, slow_store) = _both(tmp_path, [source])
    assert fast_store == slow_store
    kept = {row[8]: (row[4], row[11], row[12]) for row in fast_store["posts"]}
    assert kept["https://blog.example.com/md/1/"] == (
        "Pre-LN 训练更稳定。",
        "**Pre-LN** 训练更稳定。",
        "markdown",
    )
    assert kept["https://blog.example.com/md/6/"] == (bodies[6], None, "text")


def _as_csv(table: pa.Table, path: Path) -> Path:
    """The rows as CSV: tags joined with commas, line breaks kept inside quoted cells."""
    rows = table.to_pylist()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.column_names)
        for row in rows:
            tags = row["tags"]
            row["tags"] = ",".join(t for t in tags) if tags is not None else None
            writer.writerow(["" if row[name] is None else row[name] for name in table.column_names])
            if row["title"] and row["title"].endswith("3"):
                handle.write("\n")  # a blank line now and then: line numbers must still agree
    return path


def _as_jsonl(table: pa.Table, path: Path) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in table.to_pylist():
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    return path


@pytest.mark.parametrize("seed", [31, 32, 33])
@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_csv_and_json_lines_take_the_fast_lane_with_the_same_result(
    tmp_path: Path, seed: int, kind: str
) -> None:
    table = _rows(seed, 300)
    writer = _as_csv if kind == "csv" else _as_jsonl
    source = writer(table, tmp_path / f"export.{kind}")
    (fast_summary, fast), (slow_summary, slow) = _both(tmp_path, [source])
    assert fast == slow
    assert fast_summary.added == slow_summary.added
    assert any(":" in row[1] for row in fast["sightings"])  # file:line locators


def test_clean_csv_and_json_lines_rows_skip_the_record_path(tmp_path: Path) -> None:
    table = generate(300)
    for kind, writer in (("csv", _as_csv), ("jsonl", _as_jsonl)):
        source = writer(table, tmp_path / f"corpus.{kind}")
        fast_table, records, _ = BULK_PARSERS[kind](
            source.read_bytes(), str(source), ParseOptions()
        )
        assert fast_table.num_rows == 300 and records == [], kind


@pytest.mark.parametrize("written", ["2024-01-05T25:00:00", "2024-02-30T10:00:00Z"])
def test_an_impossible_time_stops_the_run_on_both_lanes(tmp_path: Path, written: str) -> None:
    table = pa.table({"title": ["甲"], "url": ["https://a.example/1"], "date": [written]})
    source = _write(table, tmp_path / "bad.parquet")
    for lane in (True, False):
        with pytest.raises(IngestError, match="row 1"):
            run_ingest(str(tmp_path / f"store-{lane}.duckdb"), [str(source)], fast_lane=lane)


# --- Dates outside the years the store keeps, and text that lies (lib.dates, fields) -----

EDGE_DATES = [
    "0000-01-01", "-0001-01-01", "0001-01-01", "0001-01-01T00:00:00Z", "1969-12-31",
    "1970-01-01", "2100-12-31T23:59:59Z", "2101-01-01", "9999-12-31", "10000-01-01",
    "Mon, 01 Jan 0001 00:00:00 +0000", "2024-01-05", None,
]  # fmt: skip
KEPT_DATES = {
    "1970-01-01": date(1970, 1, 1),
    "2100-12-31T23:59:59Z": date(2100, 12, 31),
    "2024-01-05": date(2024, 1, 5),
}


def _dated_rows(dates: list[object], kind: pa.DataType | None = None) -> pa.Table:
    n = len(dates)
    return pa.table(
        {
            "title": [f"帖子 {i}" for i in range(n)],
            "excerpt": [f"摘要 {i}" for i in range(n)],
            "body": [f"正文第{i}篇。" for i in range(n)],
            "category": ["NLP"] * n,
            "tags": pa.nulls(n, pa.list_(pa.string())),
            "date": pa.array(dates, kind or pa.string()),
            "url": [f"https://a.example/{i}" for i in range(n)],
            "guid": pa.nulls(n, pa.string()),
        }
    )


def _runs_out_of_range(db: Path) -> list[int]:
    con = connect_read_only(str(db))
    try:
        return [r[0] for r in con.execute("SELECT dates_out_of_range FROM ingest_runs").fetchall()]
    finally:
        con.close()


@pytest.mark.parametrize("kind", ["parquet", "csv", "jsonl"])
def test_dates_at_the_edges_are_stored_alike_by_both_lanes(tmp_path: Path, kind: str) -> None:
    """0000-01-01 passed the fast lane as a BC date while the record path refused it."""
    table = _dated_rows(EDGE_DATES)
    writers = {"parquet": _write, "csv": _as_csv, "jsonl": _as_jsonl}
    source = writers[kind](table, tmp_path / f"edges.{kind}")
    (fast_summary, fast), (slow_summary, slow) = _both(tmp_path, [source])
    assert fast == slow
    stored = {title: published for _, title, _, _, _, _, _, published, *_ in fast["posts"]}
    expected = {f"帖子 {i}": KEPT_DATES.get(d) for i, d in enumerate(EDGE_DATES)}  # type: ignore[arg-type]
    assert stored == expected
    # Each as the source wrote it when Python has no such date, else as read.
    dropped = ["0000-01-01", "-0001-01-01", "0001-01-01", "0001-01-01", "1969-12-31",
               "2101-01-01", "9999-12-31", "10000-01-01", "0001-01-01"]  # fmt: skip
    assert [written for _, written in fast_summary.dates_out_of_range] == dropped
    assert fast_summary.dates_out_of_range == slow_summary.dates_out_of_range
    assert "9 date(s) out of range" in fast_summary.describe()
    for lane in (True, False):
        assert _runs_out_of_range(tmp_path / f"lane-{lane}.duckdb") == [9]


@pytest.mark.parametrize("kind", [pa.date32(), pa.timestamp("us")])
def test_typed_dates_beyond_the_kept_years_are_dropped_alike_by_both_lanes(
    tmp_path: Path, kind: pa.DataType
) -> None:
    """Arrow holds years Python cannot: the record path raised OverflowError on them."""
    days = [-800_000, -719_162, -1, 0, 19_727, 47_846, 47_847, 2_932_896, 3_000_000, None]
    if kind == pa.date32():
        values = pa.array(days, pa.int32()).cast(kind)
    else:
        micros = [None if d is None else d * 86_400_000_000 for d in days]
        values = pa.array(micros, pa.int64()).cast(kind)
    table = _dated_rows(days, pa.int32()).set_column(5, "date", values)
    source = _write(table, tmp_path / "typed.parquet")
    (fast_summary, fast), (slow_summary, slow) = _both(tmp_path, [source])
    assert fast == slow
    kept = sorted(str(row[7]) for row in fast["posts"] if row[7] is not None)
    assert kept == ["1970-01-01", "2024-01-05", "2100-12-31"]
    assert len(fast_summary.dates_out_of_range) == len(slow_summary.dates_out_of_range) == 6


RLO = "\u202e"
DECEPTIVE = {
    "title": [f"photo{RLO}gnp.exe", "Z" + "\u0301\u0336" * 5 + "algo", "字" + "\u302a" * 5, "标题"],
    "excerpt": ["摘要\u2066隐藏\u2069", "a\u200bb", None, "普通摘要"],
    "body": ["正文\u200f。", "e" + "\u0489" * 9, "😀\u200d😀\ufeff", "普通正文。"],
    "category": ["NLP\u200e", "NLP", "\u061cNLP", "NLP"],
    "tags": [["a\u200bb", "c"], None, ["\u2067x"], ["LoRA"]],
    "date": ["2024-01-05"] * 4,
    "url": [f"https://a.example/d/{i}" for i in range(4)],
    "guid": [None] * 4,
}
CLEANED_TITLES = ["photognp.exe", "Z\u0301\u0336\u0301algo", "字\u302a\u302a\u302a", "标题"]


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_bidi_controls_and_zalgo_are_stripped_alike_by_both_lanes(
    tmp_path: Path, kind: str
) -> None:
    table = pa.table(DECEPTIVE)
    source = (_write if kind == "parquet" else _as_csv)(table, tmp_path / f"lies.{kind}")
    (_, fast), (_, slow) = _both(tmp_path, [source])
    assert fast == slow
    assert sorted(row[1] for row in fast["posts"]) == sorted(CLEANED_TITLES)
    texts = [
        text
        for row in fast["posts"]
        for text in (row[1], row[3], row[4], row[5], *(row[6] or ()))
        if text is not None
    ]
    assert "NLP" in texts and "ab" in texts and "😀\u200d😀" in texts
    hidden = [t for t in texts if any(unicodedata.category(c) == "Cf" and c != "\u200d" for c in t)]
    assert hidden == []


def test_the_fast_lane_takes_no_character_the_text_rule_changes() -> None:
    """The fast lane's twin of the rule: its safe characters are all left as they are."""
    changed = [
        f"U+{code:04X}"
        for first, last in SAFE_RANGES
        for code in range(first, last + 1)
        if without_deceptive_characters(chr(code) * 4) != chr(code) * 4
    ]
    assert changed == []
    assert without_deceptive_characters("字" + "\u302a" * 4) == "字" + "\u302a" * 3


# --- Identity: links written several ways, posts sharing a link, titles (lib.ingest.identity)


def test_links_written_several_ways_and_shared_links_are_stored_alike_by_both_lanes(
    tmp_path: Path,
) -> None:
    """One post under a link spelled three ways, three posts under one link that differ in
    title, date and text, twins by title a day apart with other links: the fast lane sends
    each of them down the record path, and both lanes store the same."""
    text = "本文介绍显存优化的基本原理，并结合FlashAttention给出一个可以运行的例子，第{}篇。"
    rows = [
        ("注意力", "https://blog.example.com/p/%E6%B3%A8/", "2024-01-05", text.format(1)),
        ("注意力", "https://blog.example.com/p/注", "2024-01-05", text.format(1)),
        ("注意力（修订）", "http://blog.example.com/p/%e6%b3%a8", "2024-01-06", text.format(1)),
        ("技能树", "https://blog.example.com/skill", "2023-06-12", "技能树：先能跑，再能调。"),
        ("提示词", "https://blog.example.com/skill", "2024-03-08", "提示词的四个部件与调试。"),
        ("显存账", "https://blog.example.com/skill/", "2024-09-01", "显存要分四笔账来算清楚。"),
        ("双胞胎", "https://blog.example.com/a/twin", "2024-02-01", text.format(2)),
        ("双胞胎", "https://mirror.example.com/twin", "2024-01-31", text.format(2)),
        ("独自一篇", "https://blog.example.com/alone/", "2024-04-01", text.format(3)),
    ]
    names = ("title", "url", "date", "body")
    table = pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})
    source = _write(table, tmp_path / "links.parquet")
    (fast_summary, fast), (slow_summary, slow) = _both(tmp_path, [source])
    assert fast == slow
    assert fast_summary.added == slow_summary.added == 6


@pytest.mark.parametrize("seed", range(3))
def test_rederive_right_after_an_import_changes_nothing(tmp_path: Path, seed: int) -> None:
    """Every post reads from its kept source as it was stored, including the plain ones
    ``--rederive`` leaves to SQL (derives_itself_sql), which are checked here in Python."""
    source = _write(_rows(seed, 300), tmp_path / "export.parquet")
    db = str(tmp_path / "posts.duckdb")
    run_ingest(db, [str(source)])
    con = connect_read_only(db)
    try:
        cur = con.execute(
            f"""SELECT id, title, title_derived, excerpt, body,
                       {kept_source_sql()} AS body_source, source_format,
                       coalesce({derives_itself_sql()}, FALSE) AS in_sql
                FROM posts WHERE {kept_source_sql()} IS NOT NULL"""
        )
        names = [d[0] for d in cur.description]
        posts = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()
    assert sum(p["in_sql"] for p in posts) > 100  # the shortcut is taken, and checked here
    assert [p["id"] for p in posts if derived_again(p) != p] == []
    summary = rederive(db)
    assert (summary.posts, summary.changed) == (len(posts), 0)
