"""Sources are stored and shown without credentials, and local files without server paths."""

from __future__ import annotations

import base64
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lib.config import REPO_ROOT, SEED_DIR
from lib.ingest import run_ingest
from lib.ingest.naming import redact_url
from tests.helpers import FIXTURES, open_app, query

TOKEN = "SECRET123"
LOGIN = "user:pw"
FEEDS = {"/feed.xml": "rss2.xml", "/private.xml": "atom.xml"}


class _PrivateFeeds(http.server.BaseHTTPRequestHandler):
    """Two private feeds: one wants ``?access_token=SECRET123``, the other Basic ``user:pw``."""

    def do_GET(self) -> None:
        path, _, query_string = self.path.partition("?")
        basic = "Basic " + base64.b64encode(LOGIN.encode()).decode()
        allowed = {
            "/feed.xml": f"access_token={TOKEN}" in query_string,
            "/private.xml": self.headers.get("Authorization") == basic,
        }
        if path not in FEEDS:
            self.send_error(404)
        elif not allowed[path]:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="feeds"')
            self.end_headers()
        else:
            body = (FIXTURES / "feeds" / FEEDS[path]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # the test's output, not the server's
        pass


@pytest.fixture
def feeds_host() -> Iterator[str]:
    """``127.0.0.1:PORT`` of a local server with the two private feeds."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PrivateFeeds)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lib.ingest", *args],  # not -q: the summary must not leak either
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _columns_holding(db: str, text: str) -> list[str]:
    """Every ``table.column`` of the store in which some value, read as text, holds ``text``."""
    columns = query(
        db,
        """SELECT table_name, column_name FROM duckdb_columns()
           WHERE NOT internal AND schema_name = 'main' ORDER BY ALL""",
    )
    assert len(columns) > 50  # every table of the store, not an empty catalogue
    found = []
    for table, column in columns:
        # Names from the catalogue itself; the searched text is a parameter.
        (hits,) = query(
            db, f'SELECT count(*) FROM "{table}" WHERE contains("{column}"::VARCHAR, ?)', [text]
        )[0]
        if hits:
            found.append(f"{table}.{column}")
    return found


def test_credentials_in_feed_urls_are_never_stored_or_shown(
    db_path: str, feeds_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_token = f"http://{feeds_host}/feed.xml?access_token={TOKEN}&page=2"
    with_login = f"http://{LOGIN}@{feeds_host}/private.xml"
    done = _cli("--db", db_path, with_token, with_login)
    assert done.returncode == 0, done.stderr
    assert "2 feed" in done.stdout
    assert TOKEN not in done.stdout + done.stderr

    stored_token = f"http://{feeds_host}/feed.xml?access_token=REDACTED&page=2"
    stored_login = f"http://{feeds_host}/private.xml"
    assert query(db_path, "SELECT sources FROM ingest_runs") == [([stored_token, stored_login],)]
    assert query(db_path, "SELECT DISTINCT source FROM posts ORDER BY ALL") == [
        (stored_token,),
        (stored_login,),
    ]
    for secret in (TOKEN, f"{LOGIN}@", ":pw@"):
        assert _columns_holding(db_path, secret) == [], secret
    assert "sightings.locator" in _columns_holding(db_path, "access_token=REDACTED")

    at = open_app(monkeypatch, db_path, page="pages/data.py")
    texts = [*at.markdown, *at.caption, *at.metric, *at.info, *at.error, *at.warning]
    shown = " ".join(
        [*(frame.value.to_csv() for frame in at.dataframe), *(str(t.value) for t in texts)]
    )
    assert stored_token in shown
    assert TOKEN not in shown and f"{LOGIN}@" not in shown


@pytest.mark.parametrize(
    ("url", "secret", "named"),
    [
        # A 404: the message names the URL
        (
            "http://{host}/missing.xml?api_key=SECRET123&page=2",
            TOKEN,
            "http://{host}/missing.xml?api_key=REDACTED&page=2",
        ),
        # An invalid URL: http.client's own message quotes it
        (
            "http://{host}/feed.xml?access_token=SECRET123 &page=2",
            TOKEN,
            "http://{host}/feed.xml?access_token=REDACTED&page=2",
        ),
        # A wrong password: refused
        (
            "http://user:wrong-password@{host}/private.xml",
            "wrong-password",
            "http://{host}/private.xml",
        ),
    ],
    ids=["not-found", "invalid-url", "wrong-password"],
)
def test_a_failed_fetch_says_so_without_the_credential(
    db_path: str, feeds_host: str, url: str, secret: str, named: str
) -> None:
    done = _cli("--db", db_path, url.format(host=feeds_host))
    assert done.returncode == 1
    assert f"error: {named.format(host=feeds_host)}: cannot fetch" in done.stderr
    assert secret not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://h/f.xml?access_token=t0k&page=2", "https://h/f.xml?access_token=REDACTED&page=2"),
        ("https://h/f.xml?API_KEY=k3y", "https://h/f.xml?API_KEY=REDACTED"),
        (
            "https://b.s3.amazonaws.com/f.xml?X-Amz-Credential=AK%2F1&X-Amz-Signature=ab12&v=1",
            "https://b.s3.amazonaws.com/f.xml?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&v=1",
        ),
        ("https://h/f.xml?sv=2024&sig=xyz%3D", "https://h/f.xml?sv=2024&sig=REDACTED"),
        (
            "https://h/f.xml?PHPSESSID=abc;client_secret=s",
            "https://h/f.xml?PHPSESSID=REDACTED;client_secret=REDACTED",
        ),
        ("https://h/cb#access_token=abc&state=1", "https://h/cb#access_token=REDACTED&state=1"),
        ("https://ghp_token@h:8443/f.xml", "https://h:8443/f.xml"),
        ("https://h/f.xml?page=2&lang=zh", "https://h/f.xml?page=2&lang=zh"),
        # Shapes that were stored as typed:
        ("https://h/f.xml?pass=hunter2&pw=x", "https://h/f.xml?pass=REDACTED&pw=REDACTED"),
        ("https://h/f.xml?jwt=eyJh.eyJz&bearer=b", "https://h/f.xml?jwt=REDACTED&bearer=REDACTED"),
        ("https://h/feeds/token/abc123/rss.xml", "https://h/feeds/token/REDACTED/rss.xml"),
        ("https://h/u/api-key/k3y/feed", "https://h/u/api-key/REDACTED/feed"),
        ("https://h/feed.xml;jsessionid=abc", "https://h/feed.xml;jsessionid=REDACTED"),
        ("https://h/private/key=abc/feed.xml", "https://h/private/key=REDACTED/feed.xml"),
        ("https://h/2024/keynote/feed.xml", "https://h/2024/keynote/feed.xml"),
    ],
)
def test_credential_parameters_and_userinfo_are_redacted(url: str, stored: str) -> None:
    assert redact_url(url) == stored


def _jsonl(path: Path, title: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {"title": title, "excerpt": f"{title} excerpt", "url": f"https://example.com/{title}"}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return path


def test_files_outside_the_project_are_stored_without_the_servers_path(
    db_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)
    folder = tmp_path / "exports"
    _jsonl(folder / "2024" / "a.jsonl", "walked")
    single = _jsonl(tmp_path / "elsewhere" / "single.jsonl", "single")
    run_ingest(db_path, [str(folder), str(single), str(SEED_DIR)])
    (sources,) = query(db_path, "SELECT sources FROM ingest_runs")[0]
    assert sources == ["exports", "single.jsonl", "data/seed"]
    stored = {row[0] for row in query(db_path, "SELECT DISTINCT source FROM posts")}
    assert {"exports/2024/a.jsonl", "single.jsonl"} < stored
    assert all(
        s.startswith("data/seed/") for s in stored - {"exports/2024/a.jsonl", "single.jsonl"}
    )
    assert _columns_holding(db_path, str(tmp_path)) == []
    assert _columns_holding(db_path, str(REPO_ROOT)) == []


def test_files_under_the_current_folder_are_stored_relative_to_it(
    db_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _jsonl(tmp_path / "notes" / "a.jsonl", "relative")
    absolute = _jsonl(tmp_path / "notes" / "b.jsonl", "absolute")
    run_ingest(db_path, [os.path.join("notes", "a.jsonl"), str(absolute)])
    assert query(db_path, "SELECT source FROM posts ORDER BY source") == [
        ("notes/a.jsonl",),
        ("notes/b.jsonl",),
    ]
