"""Site configs and permalinks: which generator a post belongs to, and the URL it gets.

Each test builds a small site in a temporary folder, as its generator lays it out, and
reads a post of it through the real parser (or the real import and command line).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from lib.ingest import IngestError, ParseOptions, run_ingest
from lib.ingest.__main__ import main
from lib.ingest.markdown import parse_markdown
from lib.ingest.records import NotPublished, PostRecord
from lib.ingest.sites import SiteFinder
from tests.helpers import query

JEKYLL_CONFIG = "url: https://ml.example.org\nbaseurl: /notes\ntimezone: Asia/Shanghai\n"
HEXO_CONFIG = "url: https://hexo.example.org\nroot: /\ntimezone: Asia/Shanghai\n"
HUGO_CONFIG = 'baseURL = "https://hugo.example.org/"\n'


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _read(folder: Path, post: str, options: ParseOptions | None = None) -> PostRecord:
    """The post at ``folder/post``, placed in its site as an import places it."""
    options = options or ParseOptions()
    path = folder / post
    place = SiteFinder(options).place_of(path, walked=folder)
    (record,) = parse_markdown(path.read_bytes(), post, replace(options, place=place))
    return record


def _front(**fields: str) -> str:
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in fields.items()) + "---\n正文第一段。\n"


# --- Which site a post belongs to ------------------------------------------------------------


def test_jekyll_site_found_above_the_post_gives_url_baseurl_and_the_date_style(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "_config.yml": JEKYLL_CONFIG,  # no permalink: Jekyll's "date" style
            "_posts/2024-03-05-lora-notes.md": _front(title="LoRA", categories="AI 微调"),
        },
    )
    post = _read(tmp_path / "_posts", "2024-03-05-lora-notes.md")
    assert post.url == "https://ml.example.org/notes/ai/微调/2024/03/05/lora-notes.html"
    assert (post.category, post.tags) == ("微调", ("AI",))


def test_hexo_is_told_from_jekyll_by_source_posts(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "_config.yml": HEXO_CONFIG + "permalink: posts/:category/:title/\n",
            "source/_posts/lora.md": _front(title="LoRA", categories="[[深度学习, 微调], 笔记]"),
        },
    )
    post = _read(tmp_path, "source/_posts/lora.md")
    # Hexo's :category is the last category, under its parents: 笔记 stands alone.
    assert post.url == "https://hexo.example.org/posts/笔记/lora/"
    assert (post.category, post.tags) == ("微调", ("深度学习", "笔记"))


def test_hugo_config_names_its_custom_taxonomies_and_permalinks_per_section(
    tmp_path: Path,
) -> None:
    config = HUGO_CONFIG + (
        '[permalinks]\n  post = "/:section/:year/:slug/"\n'
        '[taxonomies]\n  tag = "tags"\n  category = "categories"\n  series = "series"\n'
    )
    post_text = (
        '+++\ntitle = "Notes on KV Cache"\ndate = 2024-02-01T10:00:00+08:00\n'
        'categories = ["LLM", "推理"]\ntags = ["KV Cache"]\nseries = ["推理优化"]\n+++\n正文。\n'
    )
    _write(tmp_path, {"hugo.toml": config, "content/post/kv.md": post_text})
    post = _read(tmp_path / "content", "post/kv.md")
    assert post.url == "https://hugo.example.org/post/2024/notes-on-kv-cache/"
    # Hugo's terms are flat: LLM is the category, 推理 is kept as a tag, then the series.
    assert (post.category, post.tags) == ("LLM", ("KV Cache", "推理", "推理优化"))


def test_a_page_outside_the_posts_folder_named_on_its_own_is_read_as_before(
    tmp_path: Path,
) -> None:
    about = _front(title="关于", categories="个人 简介")
    _write(tmp_path, {"_config.yml": JEKYLL_CONFIG, "_posts/.keep": "", "about.md": about})
    place = SiteFinder(ParseOptions()).place_of(tmp_path / "about.md")  # not walking a folder
    (post,) = parse_markdown(about.encode(), "about.md", ParseOptions(place=place))
    assert (post.category, post.url) == ("个人 简介", None)


def test_a_broken_config_stops_the_import_naming_the_file_and_line(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "_config.yml": "url: https://x.example.org\npermalink: [oops\n",
            "_posts/2024-01-01-a.md": _front(title="a"),
        },
    )
    with pytest.raises(IngestError, match=r"_config\.yml:3: the site config is not valid YAML"):
        run_ingest(str(tmp_path / "posts.duckdb"), [str(tmp_path / "_posts")])


def test_an_unknown_time_zone_in_the_config_is_named(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {"hugo.toml": HUGO_CONFIG + 'timeZone = "Mars/Olympus"\n', "content/a.md": _front()},
    )
    with pytest.raises(IngestError, match=r"hugo\.toml: unknown time zone 'Mars/Olympus'"):
        _read(tmp_path, "content/a.md")


def test_the_command_line_base_url_and_permalink_win_over_the_config(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "_config.yml": JEKYLL_CONFIG + "permalink: pretty\n",
            "_posts/2024-03-05-lora.md": _front(title="LoRA"),
        },
    )
    options = ParseOptions(base_url="https://new.example.org/", permalink="/p/:title/")
    assert _read(tmp_path, "_posts/2024-03-05-lora.md", options).url == (
        "https://new.example.org/p/lora/"
    )


def test_walking_a_site_skips_what_its_generator_built(tmp_path: Path) -> None:
    atom = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        "<entry><title>Built copy</title><link href='https://x.example.org/a/'/>"
        "<id>a</id><content>正文</content></entry></feed>"
    )
    _write(
        tmp_path,
        {
            "hugo.toml": HUGO_CONFIG,
            "content/post/a.md": _front(title="A", slug="a"),
            "public/index.xml": atom,
            "themes/ivy/exampleSite/content/post/demo.md": _front(title="Theme demo"),
        },
    )
    db = str(tmp_path / "posts.duckdb")
    summary = run_ingest(db, [str(tmp_path)])
    assert query(db, "SELECT title, url FROM posts") == [("A", "https://hugo.example.org/post/a/")]
    assert str(tmp_path / "public" / "index.xml") in summary.skipped


# --- Drafts -----------------------------------------------------------------------------------


def test_a_draft_is_left_out_and_named_in_the_run_summary(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "_config.yml": HEXO_CONFIG,
            "source/_posts/done.md": _front(title="完成"),
            "source/_posts/wip.md": _front(title="草稿", published="false"),
        },
    )
    db = str(tmp_path / "posts.duckdb")
    summary = run_ingest(db, [str(tmp_path / "source")])
    assert query(db, "SELECT title FROM posts") == [("完成",)]
    wip = tmp_path / "source" / "_posts" / "wip.md"
    assert summary.unpublished == [(str(wip), "published: false")]
    assert f"not published (published: false), skipped: {wip}" in summary.describe()


def test_without_a_generator_a_draft_is_imported_as_before(tmp_path: Path) -> None:
    _write(tmp_path, {"wip.md": _front(title="草稿", published="false")})
    assert _read(tmp_path, "wip.md").title == "草稿"
    with pytest.raises(NotPublished, match="published: false"):
        _read(tmp_path, "wip.md", ParseOptions(generator="jekyll"))


NEXT_YEAR = f"{date.today().year + 1}-03-05"


@pytest.mark.parametrize(
    ("files", "post"),
    [
        ({"_config.yml": JEKYLL_CONFIG}, f"_posts/{NEXT_YEAR}-scheduled.md"),
        ({"hugo.toml": HUGO_CONFIG}, "content/post/scheduled.md"),
    ],
)
def test_a_post_dated_after_today_is_left_out_as_jekyll_and_hugo_do(
    tmp_path: Path, files: dict[str, str], post: str
) -> None:
    _write(tmp_path, {**files, post: _front(title="排期中", date=NEXT_YEAR)})
    with pytest.raises(NotPublished, match=f"dated {NEXT_YEAR}, after today"):
        _read(tmp_path, post)


@pytest.mark.parametrize(
    ("files", "post"),
    [
        ({"_config.yml": JEKYLL_CONFIG + "future: true\n"}, f"_posts/{NEXT_YEAR}-scheduled.md"),
        ({"hugo.toml": HUGO_CONFIG + "buildFuture = true\n"}, "content/post/scheduled.md"),
        ({"_config.yml": HEXO_CONFIG}, "source/_posts/scheduled.md"),  # Hexo builds them
    ],
)
def test_a_post_dated_after_today_is_read_where_the_site_builds_it(
    tmp_path: Path, files: dict[str, str], post: str
) -> None:
    _write(tmp_path, {**files, post: _front(title="排期中", date=NEXT_YEAR)})
    assert _read(tmp_path, post).published == date.fromisoformat(NEXT_YEAR)


# --- Permalink placeholders -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "path"),
    [
        ("date", "/ai/2024/03/05/Rope-笔记.html"),
        ("pretty", "/ai/2024/03/05/Rope-笔记/"),
        ("ordinal", "/ai/2024/065/Rope-笔记.html"),
        ("weekdate", "/ai/2024/W10/TUE/Rope-笔记.html"),
        ("none", "/ai/Rope-笔记.html"),
        ("/:year/:i_month/:i_day/:slug:output_ext", "/2024/3/5/rope-笔记.html"),
    ],
)
def test_jekyll_permalink_styles_and_placeholders(tmp_path: Path, style: str, path: str) -> None:
    _write(
        tmp_path,
        {
            "_config.yml": f"url: https://ml.example.org\npermalink: {style}\n",
            "_posts/2024-03-05-Rope 笔记.md": _front(title="RoPE", category="AI"),
        },
    )
    assert _read(tmp_path, "_posts/2024-03-05-Rope 笔记.md").url == "https://ml.example.org" + path


def test_jekyll_date_moves_to_the_site_time_zone_and_the_url_follows(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "_config.yml": JEKYLL_CONFIG + "permalink: /:year/:month/:day/:title/\n",
            "_posts/2024-01-31-rope.md": _front(title="RoPE", date="2024-01-31 22:10:00 -0800"),
        },
    )
    post = _read(tmp_path, "_posts/2024-01-31-rope.md")
    assert post.published == date(2024, 2, 1)
    assert post.url == "https://ml.example.org/notes/2024/02/01/rope/"
    assert post.guid == "https://ml.example.org/notes/2024/02/01/rope"  # jekyll-feed's <id>


def test_a_front_matter_permalink_wins_and_jekyll_fills_its_placeholders(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "_config.yml": JEKYLL_CONFIG,
            "_posts/2023-06-12-skill-tree.md": _front(title="技能树", permalink="/skill"),
            "_posts/2023-06-13-kv.md": _front(title="KV", permalink="/kv/:year/"),
            "_posts/2023-06-14-x.md": _front(title="X", permalink="https://elsewhere.example/x"),
        },
    )
    skill = _read(tmp_path, "_posts/2023-06-12-skill-tree.md")
    assert (skill.url, skill.guid) == (
        "https://ml.example.org/notes/skill",
        "https://ml.example.org/notes/skill-tree",
    )
    assert _read(tmp_path, "_posts/2023-06-13-kv.md").url == "https://ml.example.org/notes/kv/2023/"
    assert _read(tmp_path, "_posts/2023-06-14-x.md").url == "https://elsewhere.example/x"


def test_hexo_new_post_name_takes_the_date_out_of_the_title(tmp_path: Path) -> None:
    rule = "new_post_name: :year-:month-:day-:title.md\n"
    config = HEXO_CONFIG + "permalink: :year/:i_month/:title/:post_title/\n" + rule
    _write(
        tmp_path,
        {
            "_config.yml": config,
            "source/_posts/2023-08-15-intent.md": _front(
                title="Intent Recognition 实战", date="2023-08-15 00:20:00"
            ),
        },
    )
    post = _read(tmp_path, "source/_posts/2023-08-15-intent.md")
    assert post.url == "https://hexo.example.org/2023/8/intent/intent-recognition-实战/"


def test_hugo_slug_is_lower_cased_and_a_missing_one_is_the_urlized_title(tmp_path: Path) -> None:
    config = HUGO_CONFIG + '[permalinks]\n  post = "/cn/:year/:month/:slug/"\n'
    _write(
        tmp_path,
        {
            "config.toml": config,
            "content/post/a.md": _front(title="ArcFace", slug="ArcFace-Notes", date="2024-01-15"),
            "content/post/b.md": _front(title="Notes on KV Cache", date="0001-01-01T00:00:00Z"),
            "content/post/bundle/index.md": _front(title="投机解码：小模型打草稿"),
        },
    )
    assert _read(tmp_path, "content/post/a.md").url == (
        "https://hugo.example.org/cn/2024/01/arcface-notes/"
    )
    zero = _read(tmp_path, "content/post/b.md")
    assert zero.url == "https://hugo.example.org/cn/0001/01/notes-on-kv-cache/"
    assert zero.published is None  # Hugo's zero date is no date
    bundle = _read(tmp_path, "content/post/bundle/index.md")
    assert bundle.url == "https://hugo.example.org/cn/0001/01/投机解码小模型打草稿/"


def test_hugo_keeps_the_written_offset_for_the_date_and_the_url(tmp_path: Path) -> None:
    config = (
        HUGO_CONFIG + 'timeZone = "Asia/Shanghai"\n[permalinks]\n  post = "/:year/:month/:day/"\n'
    )
    text = '+++\ntitle = "FA"\ndate = 2023-09-10T23:30:00-07:00\n+++\n正文。\n'
    _write(tmp_path, {"config.toml": config, "content/post/fa.md": text})
    post = _read(tmp_path, "content/post/fa.md")
    assert (post.published, post.url) == (
        date(2023, 9, 10),
        "https://hugo.example.org/2023/09/10/",
    )


def test_hugo_without_permalinks_uses_the_folders_and_ugly_urls(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "hugo.yaml": "baseURL: https://hugo.example.org/blog/\nuglyURLs: true\n",
            "content/Notes/First-Post.md": _front(title="First"),
        },
    )
    post = _read(tmp_path, "content/Notes/First-Post.md")
    assert post.url == "https://hugo.example.org/blog/notes/first-post.html"


def test_a_placeholder_the_generator_does_not_know_gives_no_url(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "_config.yml": HEXO_CONFIG + "permalink: :year/:nonsense/:title/\n",
            "source/_posts/a.md": _front(title="A", date="2024-01-01"),
        },
    )
    assert _read(tmp_path, "source/_posts/a.md").url is None


# --- No config: --generator, --permalink -------------------------------------------------------


def test_generator_option_reads_a_bare_folder_as_that_generator(tmp_path: Path) -> None:
    _write(tmp_path, {"2024-03-05-gan.md": _front(title="GAN", tags="gan long-read")})
    before = _read(tmp_path, "2024-03-05-gan.md")
    assert before.tags == ("gan long-read",)  # today's reading: one tag
    options = ParseOptions(generator="jekyll", base_url="https://x.example.org/blog/")
    post = _read(tmp_path, "2024-03-05-gan.md", options)
    assert post.tags == ("gan", "long-read")
    assert post.url == "https://x.example.org/blog/2024/03/05/gan.html"  # Jekyll's default


def test_permalink_option_without_a_generator_fills_the_shared_placeholders(
    tmp_path: Path,
) -> None:
    _write(tmp_path, {"notes/2024-03-05-gan.md": _front(title="GAN", categories="[AI, 生成]")})
    options = ParseOptions(base_url="https://x.example.org", permalink="/:categories/:year/:slug/")
    post = _read(tmp_path, "notes/2024-03-05-gan.md", options)
    assert post.url == "https://x.example.org/AI/生成/2024/gan/"
    assert (post.category, post.tags) == ("AI", ("生成",))  # front matter read as before


def test_command_line_generator_base_url_and_permalink(tmp_path: Path) -> None:
    _write(
        tmp_path / "posts",
        {
            "wip.md": "+++\ntitle = 'WIP'\ndraft = true\n+++\n草稿。\n",
            "flash.md": "+++\ntitle = 'Flash Attention'\ndate = 2024-02-18\n+++\n正文。\n",
        },
    )
    db = str(tmp_path / "posts.duckdb")
    argv = ["--db", db, "-q", "--generator", "hugo", "--base-url", "https://h.example.org/"]
    assert main([*argv, "--permalink", "/:year/:slug/", str(tmp_path / "posts")]) == 0
    assert query(db, "SELECT title, url FROM posts") == [
        ("Flash Attention", "https://h.example.org/2024/flash-attention/")
    ]


def test_a_sites_pages_found_walking_it_are_not_posts(tmp_path: Path) -> None:
    """Imported whole, a Jekyll or Hexo site's about page, archive and other pages are
    skipped and named, as drafts are: its readers never see them among the posts."""
    _write(
        tmp_path / "jekyll",
        {
            "_config.yml": JEKYLL_CONFIG,
            "_posts/2024-01-02-real.md": _front(title="真的文章", date="2024-01-02"),
            "about.md": _front(title="关于", layout="page"),
            "_pages/projects.md": _front(title="项目", layout="page"),
        },
    )
    _write(
        tmp_path / "hexo",
        {
            "_config.yml": HEXO_CONFIG,
            "source/_posts/real.md": _front(title="Hexo 文章", date="2024-01-03"),
            "source/about/index.md": _front(title="关于我", date="2024-01-01"),
        },
    )
    db = str(tmp_path / "posts.duckdb")
    summary = run_ingest(db, [str(tmp_path / "jekyll"), str(tmp_path / "hexo")])
    assert sorted(t for (t,) in query(db, "SELECT title FROM posts")) == ["Hexo 文章", "真的文章"]
    assert sorted(Path(where).name for where, _ in summary.unpublished) == [
        "about.md",
        "index.md",
        "projects.md",
    ]
    assert {why for _, why in summary.unpublished} == {"a page of the site, not a post"}


def test_a_jekyll_post_written_in_html_is_a_post_and_a_rendered_page_is_not(
    tmp_path: Path,
) -> None:
    html_post = (
        "---\ntitle: 老博客的 HTML 文章\ndate: 2015-03-01\ncategories: 机器学习\n---\n"
        "<p>早年的文章直接写 <b>HTML</b>，逻辑回归用 sigmoid 把分数变成概率。</p>\n"
    )
    _write(
        tmp_path,
        {
            "_config.yml": JEKYLL_CONFIG,
            "_posts/2015-03-01-logistic.html": html_post,
            "_posts/2024-01-02-real.md": _front(title="新文章", date="2024-01-02"),
            "google1234.html": "<html><body>google-site-verification</body></html>",
        },
    )
    db = str(tmp_path / "posts.duckdb")
    run_ingest(db, [str(tmp_path)])
    rows = query(db, "SELECT title, body, url FROM posts ORDER BY published")
    assert rows == [
        (
            "老博客的 HTML 文章",
            "早年的文章直接写 HTML，逻辑回归用 sigmoid 把分数变成概率。",
            "https://ml.example.org/notes/机器学习/2015/03/01/logistic.html",
        ),
        ("新文章", "正文第一段。", rows[1][2]),
    ]
