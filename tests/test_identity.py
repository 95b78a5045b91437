"""One post is one row across a blog's sources, and two posts stay two however alike their
links are (``lib/ingest/identity.py``): imported by the real ingest into a real store."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from lib.ingest import ParseOptions, run_ingest
from lib.ingest.identity import STEM_CHARS, link_key, link_key_sql, text_stem, text_stem_sql
from lib.store import write_transaction
from tests.helpers import FIXTURES, open_app, query, table_state

HEXO = FIXTURES / "blogs" / "hexo"
# The Hexo site's posts whose feed entries are dated a day earlier: the feed writes UTC.
DAY_APART = {
    "意图识别实战：规则、BERT 与小模型蒸馏": "2023-08-15",
    "从正弦位置编码到 ALiBi：位置信息的几种注入方式": "2023-05-02",
}
SKILL_POSTS = [  # three posts of one blog, each with `permalink: /skill`
    ("大模型工程师的技能树", "2023-06-12", "经常有刚转行的同学问我：做大模型应用到底要学什么？"),
    ("提示词也是技能", "2024-03-08", "这篇是给产品和运营同学准备的培训讲义，讲提示词的四个部件。"),
    ("显存估算的技能", "2024-09-01", "估算显存要把权重、梯度、优化器状态和激活值四笔账分开算。"),
]


def _posts_without_site(tmp_path: Path) -> Path:
    """The Hexo site's posts without its config: no address, so no links to pair by."""
    folder = tmp_path / "posts"
    shutil.copytree(HEXO / "source" / "_posts", folder)
    return folder


def _post(title: str, day: str, text: str, **front: str) -> str:
    lines = [f"title: {title}", f"date: {day} 21:40:00", *(f"{k}: {v}" for k, v in front.items())]
    return "---\n" + "\n".join(lines) + f"\n---\n\n{text}\n\n正文第二段，接着讲{title}。\n"


def _rss(items: list[tuple[str, str, str, str]]) -> str:
    """An RSS feed of (title, link, pubDate, description) items."""
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}#{n}</guid>"
        f"<pubDate>{day}</pubDate><description>{text}</description></item>"
        for n, (title, link, day, text) in enumerate(items)
    )
    channel = f"<channel><title>b</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def _paired(db: str, title: str) -> list[tuple]:
    """Where the post titled ``title`` was seen: one post, one sighting per source."""
    return query(
        db,
        """SELECT count(DISTINCT p.id), list(s.source ORDER BY s.source)
           FROM posts p JOIN sightings s ON s.post_id = p.id WHERE p.title = ?""",
        [title],
    )


@pytest.mark.parametrize("runs", ["one run", "two runs"])
def test_a_post_and_its_feed_entry_pair_by_title_date_and_text_without_links(
    db_path: str, tmp_path: Path, runs: str
) -> None:
    """The posts have no links (no site address); the feed's dates are a day earlier for
    two of them, in UTC; each entry still pairs with its post, whose date is kept."""
    posts = str(_posts_without_site(tmp_path))
    feed = str(HEXO / "atom.xml")
    options = ParseOptions(generator="hexo")
    if runs == "one run":
        summary = run_ingest(db_path, [feed, posts], options=options)
        assert summary.added == 5
    else:
        run_ingest(db_path, [posts], options=options)
        summary = run_ingest(db_path, [feed], options=options)
        assert (summary.added, summary.updated) == (0, 4)
    assert query(db_path, "SELECT count(*) FROM posts") == [(5,)]
    for title, day in DAY_APART.items():
        ((count, sources),) = _paired(db_path, title)
        assert count == 1 and len(sources) == 2, sources
        stored = query(
            db_path, "SELECT CAST(published AS VARCHAR) FROM posts WHERE title = ?", [title]
        )
        assert stored == [(day,)]
    assert query(db_path, "SELECT count(*) FROM conflicts WHERE field = 'published'") == [(0,)]


def test_one_link_written_two_ways_is_one_post(db_path: str, tmp_path: Path) -> None:
    """Scheme, host case, default port, percent-encoding and a trailing slash apart, and
    a title edited since: the link says it is one post."""
    blog = tmp_path / "blog"
    blog.mkdir()
    text = "注意力头怎么分组，是推理速度和模型质量之间的折中，这篇把几种做法放在一起比较。"
    (blog / "gqa.md").write_text(
        _post("注意力头该怎么分组", "2024-02-20", text, permalink="/2024/02/注意力/"),
        encoding="utf-8",
    )
    feed = tmp_path / "feed.xml"
    link = "HTTP://Blog.Example.org:80/2024/02/%E6%B3%A8%E6%84%8F%E5%8A%9B"
    feed.write_text(
        _rss([("MHA 与 GQA：注意力头该怎么分组", link, "Tue, 20 Feb 2024 13:00:00 +0000", text)]),
        encoding="utf-8",
    )
    options = ParseOptions(base_url="https://blog.example.org/")
    summary = run_ingest(db_path, [str(feed), str(blog)], options=options)
    assert summary.added == 1
    assert query(db_path, "SELECT url, title FROM posts") == [
        ("https://blog.example.org/2024/02/注意力/", "注意力头该怎么分组")
    ]
    assert [c.field for c in summary.conflicts] == ["title"]  # the link and the date agree


def _skill_blog(tmp_path: Path) -> Path:
    blog = tmp_path / "skill-blog"
    blog.mkdir()
    for n, (title, day, text) in enumerate(SKILL_POSTS):
        (blog / f"post-{n}.md").write_text(
            _post(title, day, text, permalink="/skill"), encoding="utf-8"
        )
    return blog


def test_posts_sharing_a_permalink_stay_apart_and_each_feed_entry_finds_its_own(
    db_path: str, tmp_path: Path
) -> None:
    blog = _skill_blog(tmp_path)
    feed = tmp_path / "feed.xml"
    title, _, text = SKILL_POSTS[1]  # in the feed a day earlier (UTC), the link with a slash
    feed.write_text(
        _rss([(title, "https://blog.example.org/skill/", "Thu, 07 Mar 2024 16:00:00 +0000", text)]),
        encoding="utf-8",
    )
    options = ParseOptions(base_url="https://blog.example.org/")
    summary = run_ingest(db_path, [str(blog), str(feed)], options=options)
    assert summary.added == 3
    rows = query(db_path, "SELECT title, url FROM posts ORDER BY published")
    assert rows == [(t, "https://blog.example.org/skill") for t, _, _ in SKILL_POSTS]
    assert _paired(db_path, title)[0][0] == 1 and len(_paired(db_path, title)[0][1]) == 2
    # Each is found by search, not only in `conflicts`.
    found = query(
        db_path,
        "SELECT count(DISTINCT doc) FROM postings JOIN terms USING (term_id) WHERE term = '技能'",
    )
    assert found == [(3,)] and query(db_path, "SELECT count(*) FROM conflicts") == [(0,)]
    before = table_state(db_path)
    again = run_ingest(db_path, [str(blog), str(feed)], options=options)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert table_state(db_path) == before


def test_the_data_page_lists_the_posts_that_share_a_link(
    monkeypatch: pytest.MonkeyPatch, db_path: str, tmp_path: Path
) -> None:
    blog = _skill_blog(tmp_path)
    run_ingest(db_path, [str(blog)], options=ParseOptions(base_url="https://blog.example.org/"))
    at = open_app(monkeypatch, db_path, "pages/data.py")
    assert "Posts that share a link" in [s.value for s in at.subheader]
    (shared,) = [frame.value for frame in at.dataframe if "link" in frame.value.columns]
    assert list(shared["title"]) == [title for title, _, _ in SKILL_POSTS]
    assert set(shared["link"]) == {"https://blog.example.org/skill"}


def test_a_store_from_before_link_keys_keeps_its_posts_one_per_link(
    db_path: str, tmp_path: Path
) -> None:
    """A schema 6 store has no link keys: the upgrade derives them from the posts' links,
    so importing the same feed again adds nothing."""
    feed = str(HEXO / "atom.xml")
    run_ingest(db_path, [feed])
    with write_transaction(db_path) as con:
        con.execute("ALTER TABLE sightings DROP COLUMN link")
        con.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    again = run_ingest(db_path, [feed])
    assert (again.added, again.unchanged) == (0, 4)
    assert query(db_path, "SELECT count(*) FROM sightings WHERE link IS NULL") == [(0,)]


# --- The fast lane's SQL twins (lib.ingest.fast_lane) against the Python rules

EDGE_LINKS = [
    "https://a.example/p/1", "https://a.example/p/1/", "http://a.example/p/1//",
    "https://a.example/", "https://a.example/p/%E6%B3%A8/", "https://a.example/p/%e6%b3%a8",
    "https://a.example/p/%2F/", "https://a.example/p/%41?x=%E6%B3%A8", "https://a.example/a?b?c",
    "https://a.example/p/%FF", "https://a.example/p/%E6%B3", "https://a.example/p/%", "https://a.example/p/%G1",
    "https://a.example/p/a+b", "https://a.example/p/%00",
]  # fmt: skip
# Texts of the fast lane's safe characters, on the stem's edges: placeholders, cut-off
# marks, fullwidth letters, case, punctuation only, longer than the stem reads.
STEM_TEXTS = [
    "本文介绍显存优化的基本原理，并结合FlashAttention给出例子。",
    "KV Cache 与 PagedAttention：（ＡＢＣ）Ｑｗｅｎ３ 的推理",
    "前面一段[代码]后面一段", "[公式]开头就是公式", "图见[图片]与[Image]", "只有前半段...",
    "只有前半段…  ", "中间的...不算截断", "Straße À la carte · naïve", "。，：！",
    "", "a" * (STEM_CHARS - 1), "字" * (STEM_CHARS + 1), "x " * (STEM_CHARS * 2),
    "显" * (STEM_CHARS * 3) + "[代码]", "多行\n文本\t制表",
]  # fmt: skip


def test_the_fast_lanes_link_key_is_the_identity_rule() -> None:
    """``identity.link_key_sql`` against ``identity.link_key`` on links the fast lane takes;
    where SQL cannot decode an escape it gives NULL, and the row takes the record path."""
    con = duckdb.connect()
    try:
        for url in EDGE_LINKS:
            (sql,) = con.execute(
                f"SELECT {link_key_sql('u')} FROM (SELECT ? AS u)", [url]
            ).fetchone()
            assert sql in (link_key(url), None), url
            assert sql is not None or "\ufffd" in link_key(url), url
    finally:
        con.close()


def test_the_fast_lanes_text_stem_is_the_identity_rule() -> None:
    """``identity.text_stem_sql``, step by step in DuckDB, gives the stem and the cut-off
    flag ``identity.text_stem`` gives for the same text."""
    query = "SELECT ?::VARCHAR AS t"
    for name, expression in text_stem_sql("t"):
        query = f"SELECT *, {expression} AS {name} FROM ({query})"
    con = duckdb.connect()
    try:
        for text in STEM_TEXTS:
            got = con.execute(f"SELECT stem, truncated FROM ({query})", [text]).fetchone()
            assert got == text_stem(text), text[:40]
    finally:
        con.close()
    assert text_stem("前面一段[代码]后面一段") == ("前面一段", True)
