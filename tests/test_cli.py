"""``python -m lib.ingest``: the interface scripts and users rely on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lib.config import REPO_ROOT, SEED_DIR
from lib.ingest.index import update_index
from lib.store import write_transaction
from lib.text import plain_excerpt
from tests.helpers import FIXTURES, query, table_state


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lib.ingest", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_cli_imports_and_prints_a_summary(db_path: str) -> None:
    result = _cli("--db", db_path, str(SEED_DIR))
    assert result.returncode == 0, result.stderr
    assert "33 added, 0 updated, 0 unchanged, 0 rejected, 0 conflict(s)" in result.stdout
    assert query(db_path, "SELECT count(*) FROM posts") == [(33,)]


def test_posts_db_environment_variable_picks_the_store(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.duckdb"
    result = _cli(str(SEED_DIR), env={"POSTS_DB": str(target)})
    assert result.returncode == 0, result.stderr
    assert query(str(target), "SELECT count(*) FROM posts") == [(33,)]


def test_bad_source_exits_non_zero_naming_file_and_line(db_path: str, tmp_path: Path) -> None:
    _cli("--db", db_path, str(SEED_DIR))
    before = table_state(db_path)
    damaged = tmp_path / "listing.txt"
    text = "LATEST UPDATES\n这是一段很长的中文摘要,用来测试编码错误的提示信息是否清楚...\n"
    damaged.write_bytes(text.encode().replace("编码".encode(), b"\xff"))
    result = _cli("--db", db_path, str(damaged))
    assert result.returncode == 1
    assert f"{damaged}:2: not valid UTF-8" in result.stderr
    assert "--encoding" in result.stderr
    assert table_state(db_path) == before


def test_forced_encoding_reads_gbk_text(db_path: str, tmp_path: Path) -> None:
    gbk = tmp_path / "listing.txt"
    text = (
        "LATEST UPDATES\nNLP\n2025-02-03\n这是一段很长的中文摘要,讲 LoRA 微调的显存占用与秩的选择,"
        "以及 QLoRA 在单卡上的实践经验与常见问题...\n"
    )
    gbk.write_bytes(text.encode("gbk"))
    result = _cli("--db", db_path, "--encoding", "gbk", str(gbk))
    assert result.returncode == 0, result.stderr
    assert query(db_path, "SELECT category, CAST(published AS VARCHAR) FROM posts") == [
        ("NLP", "2025-02-03")
    ]


def test_empty_and_binary_files_are_refused(db_path: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    for path, message in ((empty, "the file is empty"), (binary, "binary data")):
        result = _cli("--db", db_path, str(path))
        assert result.returncode == 1
        assert str(path) in result.stderr and message in result.stderr
    assert not Path(db_path).exists()


def test_a_missing_source_is_named(db_path: str) -> None:
    result = _cli("--db", db_path, "no/such/folder")
    assert result.returncode == 1
    assert "no/such/folder: no such file or folder" in result.stderr


def test_wrong_map_option_is_a_usage_error(db_path: str) -> None:
    result = _cli("--db", db_path, "--map", "colour=red", str(SEED_DIR))
    assert result.returncode == 2
    assert "--map takes FIELD=COLUMN" in result.stderr


def test_a_folder_walk_skips_files_that_are_not_posts(db_path: str, tmp_path: Path) -> None:
    blog = tmp_path / "blog"
    blog.mkdir()
    (blog / "README.md").write_text("# My blog\n\nNotes on LLMs.\n", encoding="utf-8")
    (blog / "logo.png").write_bytes(b"\x89PNG\r\n")
    (blog / "lora.md").write_text(
        "---\ntitle: LoRA 微调实践\ndate: 2024-05-01\ncategories: [Large Model]\n---\n正文\n",
        encoding="utf-8",
    )
    result = _cli("--db", db_path, str(blog))
    assert result.returncode == 0, result.stderr
    assert "1 added" in result.stdout
    assert "skipped (not a post file)" in result.stdout and "README.md" in result.stdout
    assert query(db_path, "SELECT title, category FROM posts") == [("LoRA 微调实践", "Large Model")]


def test_a_file_with_only_a_byte_order_mark_is_empty(db_path: str, tmp_path: Path) -> None:
    bom = tmp_path / "listing.txt"
    bom.write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    result = _cli("--db", db_path, str(bom))
    assert result.returncode == 1
    assert "the file is empty" in result.stderr


def test_a_feed_is_imported_from_an_http_url(db_path: str) -> None:
    import functools
    import http.server
    import threading

    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(FIXTURES / "feeds")
    )
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/rss2.xml"
        result = _cli("--db", db_path, url)
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert "1 feed" in result.stdout
    (n, sources) = query(db_path, "SELECT count(*), any_value(source) FROM posts")[0]
    assert n >= 2 and sources == url
    assert query(db_path, "SELECT sources FROM ingest_runs") == [([url],)]


# --- Files in other encodings, files that cannot be read, and -q ---------------------------

MIXED = FIXTURES / "blogs" / "mixed-encoding"  # three UTF-8 posts and one in GBK
POST = "---\ntitle: {title}\ndate: 2024-05-0{day}\n---\n{title}的正文，写给读者看的一段话。\n"


def test_quiet_prints_nothing_on_success(db_path: str) -> None:
    result = _cli("-q", "--db", db_path, "--generator", "hexo", str(MIXED))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert query(db_path, "SELECT count(*) FROM posts") == [(4,)]


def test_a_gbk_post_among_utf8_ones_is_read_and_named(db_path: str) -> None:
    result = _cli("--db", db_path, "--generator", "hexo", str(MIXED))
    assert result.returncode == 0, result.stderr
    assert f"read as GB18030: {MIXED / 'crf-ner-gbk.md'}" in result.stdout
    assert "read as" not in result.stdout.replace("read as GB18030", "")
    titles = [title for (title,) in query(db_path, "SELECT title FROM posts ORDER BY title")]
    assert "条件随机场与命名实体识别（旧文）" in titles and len(titles) == 4


def _folder_with_a_bad_post(tmp_path: Path, bad: bytes, encoding: str = "utf-8") -> Path:
    blog = tmp_path / "blog"
    blog.mkdir()
    for day, title in ((1, "LoRA 微调实践"), (2, "FlashAttention 原理")):
        (blog / f"post-{day}.md").write_text(POST.format(title=title, day=day), encoding=encoding)
    (blog / "broken.md").write_bytes(bad)
    return blog


def test_an_unreadable_file_writes_nothing_unless_skip_bad(db_path: str, tmp_path: Path) -> None:
    # A post whose third line was overwritten with binary data.
    blog = _folder_with_a_bad_post(tmp_path, b"---\ntitle: x\n\x00\x01\x02\n---\n")
    result = _cli("--db", db_path, str(blog))
    assert result.returncode == 1
    assert f"{blog / 'broken.md'}:3: binary data" in result.stderr
    assert not Path(db_path).exists()

    result = _cli("--db", db_path, "--skip-bad", str(blog))
    assert result.returncode == 0, result.stderr
    assert "2 added" in result.stdout and "1 rejected" in result.stdout
    assert "broken.md:3: binary data (NUL byte), not a text file; the file was skipped" in (
        result.stdout
    )
    assert query(db_path, "SELECT count(*) FROM posts") == [(2,)]
    ((locator, reason),) = query(db_path, "SELECT locator, reason FROM rejections")
    assert locator.endswith("broken.md:3") and "skipped (--skip-bad)" in reason


def test_bytes_the_forced_encoding_cannot_read_name_file_and_line(
    db_path: str, tmp_path: Path
) -> None:
    bad = POST.format(title="坏", day=3).encode("gbk") + b"\xff"  # 0xFF starts no GBK character
    blog = _folder_with_a_bad_post(tmp_path, bad, encoding="gbk")
    result = _cli("--db", db_path, "--encoding", "gbk", str(blog))
    assert result.returncode == 1
    assert f"{blog / 'broken.md'}:6: cannot decode as GBK" in result.stderr
    assert not Path(db_path).exists()
    result = _cli("-q", "--db", db_path, "--encoding", "gbk", "--skip-bad", str(blog))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert query(db_path, "SELECT count(*), max(rejected) FROM posts, ingest_runs") == [(2, 1)]


# --- python -m lib.ingest --rederive -------------------------------------------------------

MARKDOWN_EXPORT = (
    "title,body,url,category\n"
    'LayerNorm 放在哪里,"**Pre-LN** 训练更稳定，详见 [原论文](https://arxiv.example.org/abs/1)'
    ' 第 3 节。",https://notes.example.net/ln/,训练\n'
    '梯度累积的坑,"# 梯度累积\n\n显存不够时拆小 batch，**loss** 要除以累积步数。",'
    "https://notes.example.net/accum/,训练\n"
    "数据并行的通信量,数据并行每一步都要做一次 all-reduce。,https://notes.example.net/dp/,分布式\n"
)
OTHER_KEYWORDS = (
    "SELECT k.* FROM post_keywords k JOIN posts p USING (doc) WHERE p.url <> ? ORDER BY ALL"
)
STALE_COLUMNS = "id, title, title_derived, category, tags, published, url, first_seen, sightings"


def _stale(db: str, url: str) -> None:
    """The post as an import under an older rule left it: its Markdown as its text, and
    the excerpt and index derived from that."""
    with write_transaction(db) as con:
        (body,) = con.execute("SELECT body_source FROM posts WHERE url = ?", [url]).fetchall()[0]
        con.execute(
            "UPDATE posts SET body = ?, excerpt = ? WHERE url = ?", [body, plain_excerpt(body), url]
        )
        ids = [
            row[0] for row in con.execute("SELECT id FROM posts WHERE url = ?", [url]).fetchall()
        ]
        update_index(con, ids)


def _terms_of(db: str, url: str) -> set[str]:
    rows = query(
        db,
        """SELECT t.term FROM postings x JOIN terms t USING (term_id)
           JOIN posts p ON p.doc = x.doc WHERE p.url = ?""",
        [url],
    )
    return {term for (term,) in rows}


def test_rederive_brings_a_stale_post_to_the_current_rules_and_nothing_else(
    db_path: str, tmp_path: Path
) -> None:
    export = tmp_path / "ghost.csv"
    export.write_text(MARKDOWN_EXPORT, encoding="utf-8")
    assert _cli("-q", "--db", db_path, str(export)).returncode == 0
    current = query(db_path, "SELECT url, excerpt, body FROM posts ORDER BY url")
    stale, old = "https://notes.example.net/ln/", "https://notes.example.net/accum/"
    _stale(db_path, stale)
    _stale(db_path, old)
    with write_transaction(db_path) as con:  # imported before sources were kept
        con.execute(
            "UPDATE posts SET body_source = NULL, source_format = NULL WHERE url = ?", [old]
        )
    assert "arxiv.example.org" in _terms_of(db_path, stale)
    assert query(db_path, "SELECT excerpt FROM posts WHERE url = ?", [stale])[0][0].startswith(
        "**Pre-LN**"
    )
    others = query(db_path, f"SELECT {STALE_COLUMNS} FROM posts ORDER BY id")
    keywords = query(db_path, OTHER_KEYWORDS, [stale])
    result = _cli("--rederive", "--db", db_path)
    assert result.returncode == 0, result.stderr
    assert "re-derived 2 post(s) from their stored source: 1 changed, 1 unchanged" in result.stdout
    assert "1 without a stored source" in result.stdout
    after = dict(
        ((u, (e, b)) for u, e, b in query(db_path, "SELECT url, excerpt, body FROM posts"))
    )
    assert after[stale] == next((e, b) for u, e, b in current if u == stale)
    assert after[old][1].startswith("# 梯度累积")  # no source: left as it was
    assert "arxiv.example.org" not in _terms_of(db_path, stale)
    assert {"pre-ln", "layernorm"} <= _terms_of(db_path, stale)
    assert query(db_path, f"SELECT {STALE_COLUMNS} FROM posts ORDER BY id") == others
    assert query(db_path, OTHER_KEYWORDS, [stale]) == keywords
    again = _cli("--rederive", "--db", db_path)
    assert "0 changed, 2 unchanged" in again.stdout


def test_rederive_takes_no_source_and_needs_a_store(tmp_path: Path) -> None:
    wrong = _cli("--rederive", "--db", str(tmp_path / "a.duckdb"), "posts.csv")
    assert wrong.returncode == 2 and "--rederive takes no SOURCE" in wrong.stderr
    missing = _cli("--rederive", "--db", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 1 and "no store at" in missing.stderr
    assert not (tmp_path / "none.duckdb").exists()


ENGLISH_EXPORT = (
    "title,body,url,category\n"
    '"Gradient clipping, unscaled","Clip after unscaling.\n\n```python\n'
    'scaler.unscale_(opt)\n```\n\nOtherwise the threshold means nothing.",'
    "https://notes.example.net/clip/,Training\n"
)


def test_rederive_gives_an_english_post_the_english_code_marker(
    db_path: str, tmp_path: Path
) -> None:
    export = tmp_path / "english.csv"
    export.write_text(ENGLISH_EXPORT, encoding="utf-8")
    assert _cli("-q", "--db", db_path, str(export)).returncode == 0
    (body,) = query(db_path, "SELECT body FROM posts")[0]
    assert "[Code]" in body and "[代码]" not in body and "unscale_" not in body
    with write_transaction(db_path) as con:  # as an import before the rule left it
        con.execute("UPDATE posts SET body = replace(body, '[Code]', '[代码]')")
    result = _cli("--rederive", "--db", db_path)
    assert result.returncode == 0, result.stderr
    assert query(db_path, "SELECT body FROM posts")[0][0] == body
