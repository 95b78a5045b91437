"""The ``sources`` setting and the dated snapshots that keep a feed's history: the command
the scheduled workflow runs, and the workflow's own steps, against a blog on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from lib.config import REPO_ROOT
from lib.ingest import run_ingest
from lib.sources import parse_sources, resolve_sources, snapshot_folder
from tests.helpers import FeedServer, query, rss

FEED = "/feed.xml"
LORA = ("LoRA 微调笔记", "https://team.example.com/lora", "2026-10-01")
KV = ("KV cache 压缩三法", "https://team.example.com/kv", "2026-10-15")
SPEC = ("投机解码的接受率", "https://team.example.com/spec", "2026-11-20")


def _titles(db: str) -> set[str]:
    return {title for (title,) in query(db, "SELECT title FROM posts")}


# --- The setting -------------------------------------------------------------------------


def test_sources_are_urls_or_tables_and_what_was_left_out_is_said(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POSTS_SOURCES", raising=False)
    configured = parse_sources(
        [
            "https://a.example/feed.xml",
            {"url": "https://b.example/atom.xml", "refresh_minutes": 15},
            {"url": "https://b.example/atom.xml", "refresh_minutes": 5},  # twice: the first wins
            "ftp://c.example/feed",
            {"url": "https://d.example/f?token=SECRET123", "refresh_minutes": 0.1},
            {"url": "https://e.example/f", "refresh_minutes": "often"},
        ]
    )
    assert [(s.url, s.refresh_s) for s in configured.sources] == [
        ("https://a.example/feed.xml", 3600.0),
        ("https://b.example/atom.xml", 900.0),
        ("https://d.example/f?token=SECRET123", 60.0),
        ("https://e.example/f", 3600.0),
    ]
    assert configured.sources[2].shown == "https://d.example/f?token=REDACTED"
    assert configured.problems == (
        "sources entry 4: 'ftp://c.example/feed' is not an http(s) URL; left out",
        "sources entry 5: refresh_minutes 0.1 raised to 1",
        "sources entry 6: refresh_minutes 'often' is not a positive number; 60 used",
    )
    assert parse_sources({"url": "https://a.example/"}).problems == (
        "sources must be a list of URLs or of [[sources]] tables",
    )


def test_the_environment_wins_over_the_secret_and_the_secrets_file_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        'posts_db = "x.duckdb"\n[[sources]]\nurl = "https://a.example/atom.xml"\n'
        'refresh_minutes = 30\n\n[[sources]]\nurl = "https://b.example/rss"\n',
        encoding="utf-8",
    )
    monkeypatch.delenv("POSTS_SOURCES", raising=False)
    from_file = resolve_sources(secrets_file=secrets)
    assert [(s.url, s.refresh_s) for s in from_file.sources] == [
        ("https://a.example/atom.xml", 1800.0),
        ("https://b.example/rss", 3600.0),
    ]
    monkeypatch.setenv("POSTS_SOURCES", "https://env.example/feed.xml\n https://env.example/b")
    from_env = resolve_sources(secret=["https://secret.example/"], secrets_file=secrets)
    assert [s.url for s in from_env.sources] == [
        "https://env.example/feed.xml",
        "https://env.example/b",
    ]


# --- Dated snapshots (the scheduled workflow's command) --------------------------------------


def _snapshot(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "POSTS_SOURCES"}
    return subprocess.run(
        [sys.executable, "-m", "lib.sources", "snapshot", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_snapshots_keep_what_the_feed_forgets(
    feed_server: FeedServer, tmp_path: Path, db_path: str
) -> None:
    out = tmp_path / "feeds"
    secrets = tmp_path / "secrets.toml"
    feed = feed_server.serve(FEED, rss([KV, LORA]))
    broken = feed_server.serve("/broken.xml?key=SECRET123", b"oops", status=500)
    page = feed_server.serve("/about.html", b"<!doctype html><html><body>Hi</body></html>")
    secrets.write_text(
        "".join(f'[[sources]]\nurl = "{url}"\n' for url in (feed, broken, page)), "utf-8"
    )
    first = _snapshot("--out", str(out), "--secrets", str(secrets), "--date", "2026-11-01")
    port = feed.split(":")[2].split("/")[0]
    saved = out / f"127.0.0.1_{port}" / "feed" / "2026-11-01.xml"
    assert first.returncode == 1, first.stderr  # some source failed: the workflow says so
    assert f"saved {saved}" in first.stdout
    assert saved.read_bytes() == rss([KV, LORA])
    assert "HTTP Error 500" in first.stderr and "SECRET123" not in first.stderr
    assert "about.html: cannot tell the format" in first.stderr
    assert [p.relative_to(out) for p in out.rglob("*") if p.is_file()] == [
        saved.relative_to(out)
    ], "nothing is saved for a failed fetch or a page that is not a feed"

    only_feed = tmp_path / "only-feed.toml"
    only_feed.write_text(f'sources = ["{feed}"]\n', "utf-8")
    again = _snapshot("--out", str(out), "--secrets", str(only_feed), "--date", "2026-11-02")
    assert again.returncode == 0, again.stderr
    assert f"unchanged, newest is {saved}" in again.stdout
    assert sorted(p.name for p in saved.parent.iterdir()) == ["2026-11-01.xml"]

    feed_server.serve(FEED, rss([SPEC, KV]))  # a new post; the oldest fell off the feed
    later = _snapshot("--out", str(out), "--secrets", str(only_feed), "--date", "2026-11-21")
    assert later.returncode == 0, later.stderr
    assert sorted(p.name for p in saved.parent.iterdir()) == ["2026-11-01.xml", "2026-11-21.xml"]
    run_ingest(db_path, [str(out)])
    assert _titles(db_path) == {LORA[0], KV[0], SPEC[0]}


def test_no_sources_is_a_usage_error(tmp_path: Path) -> None:
    result = _snapshot("--out", str(tmp_path / "out"), "--secrets", str(tmp_path / "none.toml"))
    assert result.returncode == 2
    assert "no sources" in result.stderr
    assert not (tmp_path / "out").exists()


# --- The scheduled workflow -------------------------------------------------------------------


def _workflow_step(step_id: str) -> str:
    workflow = yaml.safe_load((REPO_ROOT / ".github/workflows/refresh-feeds.yml").read_text())
    (step,) = [s for s in workflow["jobs"]["snapshot"]["steps"] if s.get("id") == step_id]
    return step["run"]


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True)
    return done.stdout


def test_the_scheduled_workflow_saves_and_commits_each_feed(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """The workflow's own steps, run as GitHub runs them (bash -eo pipefail) in a checkout of
    a repository, against a blog on 127.0.0.1: a snapshot is committed and pushed; a source
    that fails is reported, and the others are still saved."""
    remote, work = tmp_path / "remote.git", tmp_path / "work"
    _git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    _git(tmp_path, "clone", "--quiet", str(remote), str(work))
    (work / "README.md").write_text("team blog\n", "utf-8")
    _git(work, "add", "README.md")
    _git(work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "start")
    _git(work, "push", "--quiet", "origin", "main")
    feed = feed_server.serve(FEED, rss([KV, LORA]))
    broken = feed_server.serve("/gone.xml", b"", status=410)
    output = tmp_path / "github-output"
    env = {
        **{k: v for k, v in os.environ.items() if k != "POSTS_DB"},
        "POSTS_SOURCES": f"{feed}\n{broken}",
        "GITHUB_OUTPUT": str(output),
        "PYTHONPATH": str(REPO_ROOT),  # the checkout holds the code on GitHub
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    for step in ("snapshot", "commit"):
        script = _workflow_step(step)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert output.read_text() == "status=1\n"  # the next step fails the run for the 410
    today = time.strftime("%Y-%m-%d", time.gmtime())
    port = feed.split(":")[2].split("/")[0]
    saved = f"data/seed/feeds/127.0.0.1_{port}/feed/{today}.xml"
    subject = _git(remote, "log", "-1", "--format=%s", "main").strip()
    assert subject == f"Feeds: snapshots of {today}"
    assert _git(remote, "ls-tree", "-r", "--name-only", "main").split() == ["README.md", saved]


@pytest.mark.parametrize(
    "url",
    [
        "https://h.example/feeds/token/Zq9xK2p/rss.xml",
        "https://h.example/feed.xml;jsessionid=Zq9xK2p",
        "https://h.example/feed.xml?access_token=Zq9xK2p",
    ],
)
def test_a_snapshot_folder_never_holds_a_token_of_its_url(url: str) -> None:
    """The folder is committed to the repository with the snapshots: a path token was in
    its name (``feeds_token_Zq9xK2p_rss``)."""
    folder = snapshot_folder(url)
    assert "Zq9xK2p" not in str(folder)
    assert folder != snapshot_folder(url.replace("Zq9xK2p", "other"))  # feeds kept apart
