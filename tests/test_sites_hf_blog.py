"""The Hugging Face blog's layout (``lib.ingest.sites``, generator ``hf-blog``).

Its posts are Markdown files beside ``_blog.yml``, a listing that gives each post (by file
name) its date and tags, which the posts' front matter lacks; a translation's folder
(``zh/``) has a listing of its own and links under ``/blog/zh/``. The fixture
(``tests/fixtures/blogs/hf-blog``) is imported whole, as a reader would import a clone.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lib.ingest import IngestError, ParseOptions, RunSummary, run_ingest
from tests.helpers import query

SITE = Path(__file__).parent / "fixtures" / "blogs" / "hf-blog"
BLOG = "https://huggingface.co/blog/"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, RunSummary]:
    db = str(tmp_path_factory.mktemp("hf") / "posts.duckdb")
    return db, run_ingest(db, [str(SITE)])


def _rows(db: str) -> dict[str, tuple]:
    rows = query(db, "SELECT url, title, published, category, tags, excerpt, body FROM posts")
    return {url.removeprefix(BLOG): rest for url, *rest in rows}


def test_each_listed_post_has_the_listings_date_tags_and_link(imported) -> None:
    posts = _rows(imported[0])
    assert sorted(posts) == [
        "decoding-basics",
        "grpo-notes",
        "tokenizer-fertility",
        "zh/grpo-notes",
        "zh/tokenizer-fertility",
    ]
    title, published, category, tags, *_ = posts["grpo-notes"]
    assert title == "GRPO without a value model: notes from training a small reasoner"
    assert (published, category, tags) == (date(2025, 2, 11), None, ["rl", "llm", "guide"])
    assert posts["tokenizer-fertility"][1] == date(2024, 9, 16)  # "Sep 16, 2024"
    assert posts["decoding-basics"][1] == date(2020, 3, 1)  # "March, 2020": the month's first
    assert tuple(posts["zh/grpo-notes"][1:4]) == (date(2025, 2, 20), None, ["rl", "llm"])


def test_what_the_listing_does_not_name_is_no_post(imported) -> None:
    described = imported[1].describe()
    assert "not in _blog.yml, the blog's listing" in described
    assert "draft-moe-routing.md" in described
    titles = {row[0] for row in _rows(imported[0]).values()}
    assert not titles & {"Draft: MoE routing tricks", "Images for the GRPO post"}


def test_a_post_reads_without_its_title_twice_markup_or_a_translators_credits(imported) -> None:
    posts = _rows(imported[0])
    excerpt, body = posts["grpo-notes"][4:]
    assert excerpt.startswith("Group Relative Policy Optimization (GRPO) drops")
    assert "{blog_metadata}" not in body and "<img" not in body and "Open In Colab" not in body
    assert "group size 8" in body and "Press Ctrl+C once" in body
    zh_excerpt, zh_body = posts["zh/grpo-notes"][4:]
    assert zh_excerpt.startswith("组相对策略优化 (GRPO) 去掉了 PPO 的价值模型")
    for credit in ("英文原文", "原文作者", "译者", "审校"):
        assert credit not in zh_body
    assert zh_body.endswith("准确率奖励则要慢十倍。")


def test_base_url_moves_the_blog_to_a_mirror(tmp_path: Path) -> None:
    db = str(tmp_path / "posts.duckdb")
    run_ingest(db, [str(SITE)], options=ParseOptions(base_url="https://mirror.example.org/blog"))
    urls = {url for (url,) in query(db, "SELECT url FROM posts")}
    assert "https://mirror.example.org/blog/zh/grpo-notes" in urls


def test_a_broken_listing_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "_blog.yml").write_text("local: not-a-list\n", encoding="utf-8")
    (tmp_path / "post.md").write_text("---\ntitle: A post\n---\nText.\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"_blog\.yml.*list of '- local: name' entries"):
        run_ingest(str(tmp_path / "posts.duckdb"), [str(tmp_path)])
