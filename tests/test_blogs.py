"""Real Jekyll, Hexo and Hugo sites (``tests/fixtures/blogs``), imported by the real ingest.

``EXPECTED.json`` says what a reader of each site sees; these tests check that the store
holds it. The store keeps one category and one tag list per post, so a post's
``categories`` reach it as: ``category`` (the leaf of the first category path), and
tags = its tags, then its other category names, then the terms of its other taxonomies
(Hugo's ``series``), de-duplicated. Posts a site never builds (``published: false``,
``draft = true``) are not stored, and the import says so.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

from lib.config import REPO_ROOT
from lib.ingest import IngestError, ParseOptions, RunSummary, run_ingest
from lib.ingest.records import kept_source_sql
from tests.helpers import query

BLOGS = Path(__file__).parent / "fixtures" / "blogs"
EXPECTED = json.loads((BLOGS / "EXPECTED.json").read_text(encoding="utf-8"))
SITES = EXPECTED["sites"]
# Where each site keeps its posts: importing that folder is importing "the source alone".
POST_FOLDERS = {
    "jekyll": "jekyll/_posts",
    "hexo": "hexo/source/_posts",
    "hugo": "hugo/content",
    "mixed-encoding": "mixed-encoding",
}
# mixed-encoding has no site config; its README calls the posts Hexo-style, so it is
# imported as ``--generator hexo`` would import it (no base URL: no URLs).
OPTIONS = {"mixed-encoding": ParseOptions(generator="hexo")}


def _stored_name(path: str) -> str:
    """How the store names a fixture file: relative to the project."""
    return str((BLOGS / path).relative_to(REPO_ROOT))


def _visible(site: str) -> list[dict]:
    return [p for p in EXPECTED["posts"] if p["site"] == site and p["reader_visible"]]


def _posts() -> list:
    posts = [p for site in POST_FOLDERS for p in _visible(site)]
    return [pytest.param(p, id=p["path"]) for p in posts]


@dataclass(frozen=True)
class Imported:
    db: str
    summary: RunSummary | None
    error: IngestError | None

    def stored(self, path: str) -> dict:
        """The stored post that the file at ``path`` (relative to the fixtures) became."""
        if self.error is not None:
            raise self.error
        rows = query(
            self.db,
            """SELECT p.title, p.published, p.category, p.tags, p.url, p.excerpt
               FROM posts p JOIN sightings s ON s.post_id = p.id WHERE s.source = ?""",
            [_stored_name(path)],
        )
        assert len(rows) == 1, f"{path} is not one stored post: {rows}"
        names = ("title", "published", "category", "tags", "url", "excerpt")
        return dict(zip(names, rows[0], strict=True))

    def count(self) -> int:
        if self.error is not None:
            raise self.error
        return query(self.db, "SELECT count(*) FROM posts")[0][0]


@pytest.fixture(scope="module")
def imports(tmp_path_factory: pytest.TempPathFactory):
    """``imports(site, what)`` imports a site's posts, feed or both once per module."""
    done: dict[tuple[str, str], Imported] = {}

    def imported(site: str, what: str = "posts") -> Imported:
        if (site, what) not in done:
            folder = {"posts": POST_FOLDERS[site], "feed": SITES[site]["feed"], "both": site}[what]
            db = str(tmp_path_factory.mktemp(f"{site}-{what}") / "posts.duckdb")
            try:
                summary = run_ingest(db, [str(BLOGS / folder)], options=OPTIONS.get(site))
                done[site, what] = Imported(db, summary, None)
            except IngestError as exc:
                done[site, what] = Imported(db, None, exc)
        return done[site, what]

    return imported


@pytest.mark.parametrize("post", _posts())
def test_each_post_is_stored_as_its_site_shows_it(imports, post: dict) -> None:
    stored = imports(post["site"]).stored(post["path"])
    published = stored["published"].isoformat() if stored["published"] else None
    others = [name for name in post["categories"] if name != post["category"]]
    terms = [term for values in post.get("taxonomies", {}).values() for term in values]
    assert stored["title"] == post["title"]
    assert published == post["published"]
    assert stored["category"] == post["category"]
    assert stored["tags"] == list(dict.fromkeys([*post["tags"], *others, *terms]))
    url = unquote(stored["url"]) if stored["url"] else None
    assert url == (unquote(post["url"]) if post["url"] else None)


@pytest.mark.parametrize("post", _posts())
def test_each_excerpt_starts_with_what_a_reader_reads_first(imports, post: dict) -> None:
    excerpt = re.sub(r"\s+", " ", imports(post["site"]).stored(post["path"])["excerpt"] or "")
    assert excerpt.startswith(post["excerpt_starts"])
    assert [bad for bad in post["excerpt_must_not_contain"] if bad in excerpt] == []


@pytest.mark.parametrize("site", ["jekyll", "hexo", "hugo", "mixed-encoding"])
def test_the_source_alone_holds_every_post_a_reader_can_see(imports, site: str) -> None:
    assert imports(site).count() == SITES[site]["counts"]["source_posts"]


@pytest.mark.parametrize("site", ["jekyll", "hexo", "hugo"])
def test_posts_the_site_never_builds_are_left_out_and_named(imports, site: str) -> None:
    imported = imports(site)
    assert imported.summary is not None
    unpublished = [where for where, _ in imported.summary.unpublished]
    assert unpublished == [str(BLOGS / path) for path in SITES[site]["not_reader_visible"]]
    summary = imported.summary.describe()
    for path in SITES[site]["not_reader_visible"]:
        assert f"skipped: {BLOGS / path}" in summary
        title = next(p["title"] for p in EXPECTED["posts"] if p["path"] == path)
        assert query(imported.db, "SELECT count(*) FROM posts WHERE title = ?", [title]) == [(0,)]


@pytest.mark.parametrize("site", ["jekyll", "hexo", "hugo"])
def test_the_feed_alone_holds_every_entry(imports, site: str) -> None:
    assert imports(site, "feed").count() == SITES[site]["counts"]["feed_entries"]


@pytest.mark.parametrize("site", ["jekyll", "hexo", "hugo"])
def test_the_source_and_its_feed_hold_each_post_once(imports, site: str) -> None:
    imported = imports(site, "both")
    assert imported.count() == SITES[site]["counts"]["source_plus_feed"]
    feed = _stored_name(SITES[site]["feed"])
    for post in _visible(site):
        if post["feed_twin"] is None:
            continue
        source = _stored_name(post["path"])
        guid = post["feed_twin"].split("#", 1)[1]
        paired = query(
            imported.db,
            """SELECT count(*) FROM sightings s JOIN sightings f ON f.post_id = s.post_id
               WHERE s.source = ? AND f.source = ? AND f.guid = ?""",
            [source, feed, guid],
        )
        assert paired == [(1,)], f"{post['path']} and its feed entry are not one post"


def test_the_gbk_post_among_utf8_ones_is_read_in_its_own_encoding_and_named(imports) -> None:
    """One GBK file among UTF-8 ones (one with a BOM and CRLF): each is read in its own
    encoding, nothing turns into mojibake, and the summary says which file was not UTF-8."""
    imported = imports("mixed-encoding")
    assert imported.summary is not None
    gbk = [p["path"] for p in _visible("mixed-encoding") if p["encoding"] == "gbk"]
    assert imported.summary.read_as == [("GB18030", str(BLOGS / path)) for path in gbk]
    assert f"read as GB18030: {BLOGS / gbk[0]}" in imported.summary.describe()
    texts = query(imported.db, "SELECT title || coalesce(body, '') FROM posts")
    assert [t for (t,) in texts if "\ufffd" in t or "锟斤拷" in t or "Ã" in t] == []


# --- The source as it came (posts.body_source), and exports written in Markdown -------------

EXPORT = BLOGS / "export"
# Markup a reader never sees: emphasis, a heading, a link, code, math, a table rule.
MARKUP = re.compile(r"\*\*|(?m:^#+ )|\]\(|`|\$|\|\s*---")


def _front_matter_body(path: Path) -> str:
    """What follows a post's front matter, read by hand: the source the store must keep."""
    text = path.read_text(encoding="utf-8")
    return re.split(r"^(?:---|\+\+\+)[ \t]*\n", text, maxsplit=2, flags=re.M)[2]


@pytest.mark.parametrize("site", ["jekyll", "hexo", "hugo"])
def test_each_markdown_post_keeps_its_body_as_written(imports, site: str) -> None:
    imported = imports(site)
    for post in _visible(site):
        rows = query(
            imported.db,
            """SELECT p.body_source, p.source_format FROM posts p
               JOIN sightings s ON s.post_id = p.id WHERE s.source = ?""",
            [_stored_name(post["path"])],
        )
        assert rows == [(_front_matter_body(BLOGS / post["path"]), "markdown")], post["path"]


@pytest.mark.parametrize("site", ["hexo", "hugo"])
def test_each_feed_entry_keeps_its_html_as_the_feed_gave_it(imports, site: str) -> None:
    """The entries' HTML is in CDATA sections, so the kept source is in the file as is."""
    imported = imports(site, "feed")
    feed = (BLOGS / SITES[site]["feed"]).read_text(encoding="utf-8")
    kept = query(imported.db, "SELECT body_source, source_format FROM posts ORDER BY id")
    assert kept and {fmt for _, fmt in kept} == {"html"}
    for source, _ in kept:
        assert source.startswith("<") and source in feed


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("export") / "posts.duckdb")
    run_ingest(db, [str(EXPORT)])
    return db


def test_an_export_with_markdown_bodies_stores_what_a_reader_reads(exported: str) -> None:
    rows = query(exported, "SELECT title, excerpt, body, source_format FROM posts ORDER BY url")
    assert len(rows) == 5
    assert [
        (title, markup)
        for title, excerpt, body, _ in rows
        for markup in MARKUP.findall(excerpt + body)
    ] == []
    by_title = {title: (excerpt, fmt) for title, excerpt, _, fmt in rows}
    excerpt, fmt = by_title["LayerNorm 放在哪里：Pre-LN 与 Post-LN"]
    assert fmt == "markdown"
    assert excerpt.startswith(
        "先说结论 Pre-LN 训练更稳定，深层模型基本不需要 warmup；Post-LN 收敛后"
    )
    assert "详见 原论文 的第 3 节" in excerpt and "[Math]" in excerpt and "[代码]" in excerpt
    # The export's body_format column decides: the HTML row is read as HTML.
    assert by_title["RoPE 外推的几种做法"] == (
        "位置插值把位置 m 缩放成 m / s，NTK-aware 则改底数。 YaRN 在两者之间分频段处理。",
        "html",
    )
    assert by_title["读书笔记：数据并行的通信量"][1] == "text"


def test_an_export_keeps_each_body_cell_as_written(exported: str) -> None:
    with (EXPORT / "ghost-posts.csv").open(encoding="utf-8", newline="") as handle:
        cells = {row["url"]: row["body"] for row in csv.DictReader(handle)}
    items = json.loads((EXPORT / "notion-posts.json").read_text(encoding="utf-8"))["posts"]
    cells.update({item["link"]: item["content"] for item in items})
    kept = dict(query(exported, f"SELECT url, {kept_source_sql()} FROM posts"))
    assert kept == cells
    # The plain-text cell reads as itself: its body is its source, with no copy stored.
    copies = query(exported, "SELECT url FROM posts WHERE body_source = body")
    assert copies == [] and "https://notes.example.net/dp-comm/" in kept


DOC_TERMS = {
    "postings": "SELECT t.term FROM postings x JOIN terms t USING (term_id) JOIN posts p"
    " ON p.doc = x.doc WHERE p.title = ?",
    "post_keywords": "SELECT k.term FROM post_keywords k JOIN posts p USING (doc)"
    " WHERE p.title = ?",
}


def _doc_terms(db: str, table: str, title: str) -> set[str]:
    return {term for (term,) in query(db, DOC_TERMS[table], [title])}


def test_names_in_code_blocks_are_search_terms_but_never_keywords(exported: str) -> None:
    """Code reads as [代码] in the text, so a post's names in code are not its words; the
    index still holds them (from the stored source), so searching ``d_model`` finds it."""
    title = "LayerNorm 放在哪里：Pre-LN 与 Post-LN"
    (body,) = query(exported, "SELECT body FROM posts WHERE title = ?", [title])[0]
    assert "d_model" not in body and "[代码]" in body
    searchable = _doc_terms(exported, "postings", title)
    assert {"d_model", "__init__", "prelnblock", "ln_attn"} <= searchable
    keywords = _doc_terms(exported, "post_keywords", title)
    assert keywords and not keywords & {"d_model", "__init__", "prelnblock", "ln_attn", "self"}
    # Indented code and a name only in code: the same.
    accum = _doc_terms(exported, "postings", "梯度累积的三个坑")
    assert "accum_steps" in accum
    assert "accum_steps" not in _doc_terms(exported, "post_keywords", "梯度累积的三个坑")
