"""A team's own posts kept fresh: the sources fetched at start and on their schedule from a
blog served on 127.0.0.1 and merged into the seed's posts, the seed folder imported again
while the app runs, sessions reading through a refresh, and ``/data`` showing a fetch that
failed."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib import refresh
from lib.config import SEED_DIR
from lib.ingest import run_ingest
from lib.refresh import SEED_NAME, Refresher
from lib.sources import Source
from lib.store import file_signature, write_transaction
from tests.helpers import APP, FeedServer, assert_no_exception, query, rss, table_state

FEED = "/feed.xml"
LORA = ("LoRA 微调笔记", "https://team.example.com/lora", "2026-10-01")
KV = ("KV cache 压缩三法", "https://team.example.com/kv", "2026-10-15")
SPEC = ("投机解码的接受率", "https://team.example.com/spec", "2026-11-20")
BUNDLED = 33  # the bundled snapshots' distinct posts (README, tests/test_snapshots.py)


def _titles(db: str) -> set[str]:
    return {title for (title,) in query(db, "SELECT title FROM posts")}


def _count(db: str) -> int:
    return query(db, "SELECT count(*) FROM posts")[0][0]


def _wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the refresh did not happen in time"
        time.sleep(0.1)


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    """A copy of the bundled seed folder, which the test may change."""
    folder = tmp_path / "seed"
    shutil.copytree(SEED_DIR, folder)
    return folder


# --- Fetching into the store ----------------------------------------------------------------


def test_sources_are_merged_at_start_and_then_only_what_changed(
    feed_server: FeedServer, seed: Path, db_path: str
) -> None:
    url = feed_server.serve(FEED, rss([KV, LORA]))
    refresher = Refresher(db_path, seed_dir=seed, default_db=db_path, background=False)
    refresher.boot([Source(url)])
    assert _count(db_path) == BUNDLED + 2
    seed_status, feed_status = refresher.statuses()
    assert (seed_status.name, seed_status.outcome) == (
        SEED_NAME,
        "33 added, 0 updated, 0 unchanged",
    )
    assert (feed_status.name, feed_status.outcome) == (url, "2 added, 0 updated, 0 unchanged")

    stored = file_signature(db_path)
    refresher.check_now()
    refresher.run_due()
    assert refresher.statuses()[1].outcome == "unchanged"
    assert file_signature(db_path) == stored, "an unchanged feed does not rewrite the store"

    feed_server.serve(FEED, rss([SPEC, KV]))  # LoRA fell off the feed
    refresher.check_now()
    refresher.run_due()
    assert refresher.statuses()[1].outcome == "1 added, 0 updated, 1 unchanged"
    assert {LORA[0], KV[0], SPEC[0]} <= _titles(db_path), "history survives the feed"
    assert _count(db_path) == BUNDLED + 3


def test_a_failed_fetch_keeps_the_data_and_says_when_and_why(
    feed_server: FeedServer, seed: Path, db_path: str
) -> None:
    url = feed_server.serve(FEED, rss([KV, LORA]))
    refresher = Refresher(db_path, seed_dir=seed, default_db=db_path, background=False)
    refresher.boot([Source(url)])
    succeeded = refresher.statuses()[1].checked_at
    before = table_state(db_path)
    feed_server.serve(FEED, b"Service Unavailable", status=503)
    refresher.check_now()
    refresher.run_due()
    status = refresher.statuses()[1]
    assert status.outcome == "failed"
    assert status.error is not None and "HTTP Error 503" in status.error
    assert status.checked_at is not None and status.ok_at == succeeded
    assert table_state(db_path) == before

    feed_server.serve(FEED, rss([KV, LORA])[:-40])  # cut off mid-download
    refresher.check_now()
    refresher.run_due()
    assert refresher.statuses()[1].outcome == "failed"
    assert table_state(db_path) == before


def test_a_bad_seed_file_does_not_hold_back_the_feed(
    feed_server: FeedServer, seed: Path, db_path: str
) -> None:
    (seed / "exports").mkdir()
    (seed / "exports" / "broken.jsonl").write_text('{"title": "坏行"\n', "utf-8")
    url = feed_server.serve(FEED, rss([KV]))
    refresher = Refresher(db_path, seed_dir=seed, default_db=db_path, background=False)
    refresher.boot([Source(url)])
    seed_status, feed_status = refresher.statuses()
    assert seed_status.outcome == "failed"
    assert "exports/broken.jsonl" in (seed_status.error or "")
    assert feed_status.outcome == "1 added, 0 updated, 0 unchanged"
    assert _titles(db_path) == {KV[0]}, "the seed is all or nothing; the feed is its own import"


def test_a_named_store_that_is_missing_is_not_created_by_a_source(
    feed_server: FeedServer, seed: Path, tmp_path: Path
) -> None:
    named = str(tmp_path / "mine.duckdb")
    url = feed_server.serve(FEED, rss([KV]))
    refresher = Refresher(named, seed_dir=seed, background=False)
    refresher.boot([Source(url)])
    (status,) = refresher.statuses()
    assert status.outcome == "failed" and "does not exist" in (status.error or "")
    assert not os.path.exists(named)
    assert feed_server.requests == []


# --- The seed folder while the app runs --------------------------------------------------


def _jsonl(path: Path, *titles: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {"title": t, "url": f"https://team.example.com/{i}-{len(t)}"} for i, t in enumerate(titles)
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def test_a_seed_change_is_imported_while_running_and_at_the_next_start(
    seed: Path, db_path: str
) -> None:
    refresher = Refresher(
        db_path, seed_dir=seed, default_db=db_path, seed_check_s=0, background=False
    )
    refresher.boot([])
    assert _count(db_path) == BUNDLED

    _jsonl(seed / "exports" / "2026" / "week-48.jsonl", "梯度累积与大 batch")  # a new file
    refresher.run_due()
    assert "梯度累积与大 batch" in _titles(db_path)
    assert refresher.statuses()[0].outcome.startswith("1 added, 0 updated,")

    _jsonl(seed / "exports" / "2026" / "week-48.jsonl", "梯度累积与大 batch", "混合精度的坑")
    refresher.run_due()  # the same file, edited
    assert "混合精度的坑" in _titles(db_path)

    copied = seed / "exports" / "old.jsonl"
    _jsonl(copied, "一篇旧文章")
    os.utime(copied, (0, 0))  # copied with its old time: older than the store
    refresher.run_due()
    assert "一篇旧文章" in _titles(db_path)

    stored = file_signature(db_path)
    refresher.run_due()
    assert file_signature(db_path) == stored, "no change in the folder: no import"

    (seed / "exports" / "bad.jsonl").write_text('{"title": "坏行"\n', "utf-8")
    before = table_state(db_path)
    refresher.run_due()
    status = refresher.statuses()[0]
    assert status.outcome == "failed" and "bad.jsonl" in (status.error or "")
    assert table_state(db_path) == before
    (seed / "exports" / "bad.jsonl").unlink()

    # The app stopped; a file arrived with a push; the next start imports it.
    _jsonl(seed / "notes.jsonl", "重启后看到的新文章")
    Refresher(db_path, seed_dir=seed, default_db=db_path, background=False).boot([])
    assert "重启后看到的新文章" in _titles(db_path)


def test_the_background_thread_follows_the_schedule_and_the_folder(
    feed_server: FeedServer, seed: Path, db_path: str
) -> None:
    url = feed_server.serve(FEED, rss([LORA]))
    refresher = Refresher(db_path, seed_dir=seed, default_db=db_path, seed_check_s=0.2)
    try:
        refresher.boot([Source(url, refresh_s=0.5)])
        assert LORA[0] in _titles(db_path)
        feed_server.serve(FEED, rss([KV, LORA]))
        _wait_for(lambda: KV[0] in _titles(db_path))
        _jsonl(seed / "pushed.jsonl", "推送后出现的文章")
        _wait_for(lambda: "推送后出现的文章" in _titles(db_path))
    finally:
        refresher.stop()
    assert refresher._thread is not None and not refresher._thread.is_alive()


# --- In the app ---------------------------------------------------------------------------


@pytest.fixture
def app_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A store with the bundled posts for the app (``POSTS_DB``); its refresher is stopped
    when the test ends, as a server's would be."""
    db = str(tmp_path / "app" / "posts.duckdb")
    Path(db).parent.mkdir()
    run_ingest(db, [str(SEED_DIR)])
    monkeypatch.setenv("POSTS_DB", db)
    monkeypatch.delenv("POSTS_SOURCES", raising=False)
    yield db
    refresh.stop(db)


def _app(sources: list[object]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["sources"] = sources
    return at


def _posts_metric(at: AppTest) -> str:
    (value,) = [m.value for m in at.metric if m.label == "Posts"]
    return value


def test_a_session_reads_on_while_a_refresh_adds_a_post(
    feed_server: FeedServer, app_store: str
) -> None:
    url = feed_server.serve(FEED, rss([KV, LORA]))
    at = _app([{"url": url, "refresh_minutes": 60}])
    at.run()
    assert_no_exception(at)
    assert _posts_metric(at) == str(BUNDLED + 2)
    assert any(KV[0] in md.value for md in at.markdown)

    feed_server.serve(FEED, rss([SPEC, KV, LORA]))
    feed_server.delay_s = 1.0  # a slow blog: the session reruns while the refresh runs
    refresher = refresh.start(app_store, [Source(url, 3600.0)])  # the app's own refresher
    refresher.check_now()
    reruns = 0
    while refresher.statuses()[0].outcome != "1 added, 0 updated, 2 unchanged":
        at.run()
        assert_no_exception(at)
        assert _posts_metric(at) in {str(BUNDLED + 2), str(BUNDLED + 3)}
        reruns += 1
        assert reruns < 200, refresher.statuses()
    assert reruns >= 2
    at.run()
    assert _posts_metric(at) == str(BUNDLED + 3)
    assert any(SPEC[0] in md.value for md in at.markdown)


def test_sessions_read_the_old_store_while_an_import_writes_its_copy(
    app_store: str,
) -> None:
    at = _app([])
    at.run()
    with write_transaction(app_store) as con:
        con.execute("DELETE FROM posts WHERE category IS NULL")
        at.run()  # the import has not committed: the session reads the store as it was
        assert_no_exception(at)
        assert _posts_metric(at) == str(BUNDLED)
    at.run()
    assert _posts_metric(at) == str(_count(app_store))
    assert _count(app_store) < BUNDLED


def test_data_page_shows_a_failed_fetch_with_its_time_and_error(
    feed_server: FeedServer, app_store: str
) -> None:
    good = feed_server.serve(FEED, rss([KV]))
    broken = feed_server.serve("/private.xml?token=SECRET123", b"", status=500)
    at = _app([good, {"url": broken, "refresh_minutes": 30}, "not a url"])
    at.run()
    assert_no_exception(at)
    assert _posts_metric(at) == str(BUNDLED + 1)  # the good source is imported
    at.switch_page("pages/data.py").run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "/private.xml?token=REDACTED failed at 20" in error.replace("\\", "")
    assert "HTTP Error 500" in error and "SECRET123" not in error
    assert error.replace("\\", "").count("private.xml") == 1, "the source is named once"
    (warning,) = [w.value for w in at.warning]
    assert "is not an http(s) URL" in warning.replace("\\", "")
    table = at.dataframe[0].value
    assert list(table["result"]) == ["1 added, 0 updated, 0 unchanged", "failed"]
    assert list(table["checked"]) == ["60 min", "30 min"]
    assert "SECRET123" not in table.to_csv()
