"""``/post``: a hostile post is shown clipped, with "show more", and its link's real host.

Each post is imported by the real ingest from JSON Lines, and the page is opened in AppTest
the way a link opens it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.safe_text import BODY_CHUNK_CHARS, TITLE_CHARS
from tests.helpers import build_store, open_app, query

PAGE = "pages/post.py"


def open_post(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **post: object):
    db = build_store(tmp_path / "posts.duckdb", [{"title": "A post", "excerpt": "x", **post}])
    (post_id,) = query(db, "SELECT id FROM posts")[0]
    return open_app(monkeypatch, db, page=PAGE, params={"id": post_id})


def test_a_huge_title_is_clipped_with_the_rest_a_click_away(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    title = "长" * 1_000_000
    at = open_post(monkeypatch, tmp_path, title=title)
    (shown,) = [t.value for t in at.title]
    assert len(shown) < TITLE_CHARS + 5 and shown.endswith("…")
    (whole,) = [e for e in at.expander if e.label.startswith("The whole title")]
    assert "1,000,000 characters" in whole.label
    assert len(whole.markdown[0].value) < BODY_CHUNK_CHARS + 5


def test_a_long_body_is_shown_in_chunks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    body = "".join(f"段落{i} " for i in range(30_000))  # about 230,000 characters
    at = open_post(monkeypatch, tmp_path, body=body)
    longest = max(len(m.value) for m in at.markdown)
    assert longest < BODY_CHUNK_CHARS + 100
    (more,) = [b for b in at.button if b.label.startswith("Show more")]
    assert f"{len(body.strip()) - BODY_CHUNK_CHARS:,} more characters" in more.label
    more.click().run()
    assert max(len(m.value) for m in at.markdown) > 2 * BODY_CHUNK_CHARS - 100


def test_a_thousand_tags_show_fifty_and_a_count(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tags = [f"tag{i}-{'x' * 100}" for i in range(150)]
    at = open_post(monkeypatch, tmp_path, tags=tags)
    (caption,) = [c.value for c in at.caption if c.value.startswith("Tags:")]
    assert caption.endswith("and 100 more")
    assert "x" * 61 not in caption  # each tag clipped too


@pytest.mark.parametrize(
    ("url", "label", "target"),
    [
        (
            "https://google.com@evil.example/login",
            "Read the original on evil.example ↗",
            "https://evil.example/login",
        ),
        ("https://аpple.com/post", "Read the original on xn--pple-43d.com ↗", None),
        ("https://example.com:8443/p", "Read the original on example.com:8443 ↗", None),
    ],
    ids=["userinfo", "idn-homograph", "port"],
)
def test_the_link_button_names_the_real_host(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, label: str, target: str | None
) -> None:
    at = open_post(monkeypatch, tmp_path, url=url)
    (button,) = at.get("link_button")
    assert button.label == label
    assert "@" not in button.proto.url
    if target:
        assert button.proto.url == target


def test_a_body_opening_with_its_title_shows_the_title_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A Hugging Face blog post opens with "# Title": the page showed its title twice.
    body = "# GRPO 训练笔记\n\n组相对策略优化去掉了价值模型。"
    at = open_post(monkeypatch, tmp_path, title="GRPO 训练笔记", body=body, format="markdown")
    shown = "\n".join(m.value for m in at.markdown)
    assert "组相对策略优化去掉了价值模型" in shown
    assert "GRPO 训练笔记" not in shown  # only in the page's title


def test_keywords_are_named_as_the_post_writes_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The index keeps terms in lower case: the page named a post's subjects "grpo", "bm25".
    body = "GRPO samples a group of answers. GRPO needs no critic; BM25 ranks the rest. " * 3
    at = open_post(monkeypatch, tmp_path, title="Notes on GRPO", body=body)
    labels = [link.proto.label for link in at.get("page_link")]
    assert "GRPO" in labels and "grpo" not in labels
    links = {link.proto.label: link.proto.query_string for link in at.get("page_link")}
    assert "topic=grpo" in links["GRPO"]  # the link still filters by the stored term
