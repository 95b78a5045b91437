"""``python -m lib.ingest``: the interface scripts and users rely on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lib.config import REPO_ROOT, SEED_DIR
from tests.conftest import FIXTURES, query, table_state


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lib.ingest", "-q", *args],
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
    gbk = tmp_path / "listing.txt"
    gbk.write_bytes(
        "LATEST UPDATES\n这是一段很长的中文摘要,用来测试编码错误的提示信息是否清楚...\n".encode(
            "gbk"
        )
    )
    result = _cli("--db", db_path, str(gbk))
    assert result.returncode == 1
    assert f"{gbk}:2: not valid UTF-8" in result.stderr
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
