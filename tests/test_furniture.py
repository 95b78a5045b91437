"""A platform's furniture is not the post (``lib.ingest.furniture``).

Unit tests of the rules, then the Substack and Medium feeds of the held-out fixtures
(``tests/fixtures/blogs/substack``, ``…/medium``) imported whole, as a reader would, and read
back as the app shows them: the text, the excerpt and the link.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.ingest import run_ingest
from lib.ingest.furniture import is_furniture, without_footer_lines, without_tracking
from lib.ingest.htmltext import html_to_text
from tests.helpers import query

BLOGS = Path(__file__).parent / "fixtures" / "blogs"
SUBSTACK = "https://ledger.example.com/p/"
MEDIUM = "https://medium.example.com/vector-field/"
# What Substack and Medium write into every post, which no reader should meet as its text.
FURNITURE_WORDS = (
    "Subscribe",
    "Share",
    "Leave a comment",
    "Type your email",
    "reader-supported",
    "Thanks for reading",
    "Read more",
    "originally published",
    "continuing the conversation",
    "Unsplash",
    "Image by author",
)


@pytest.mark.parametrize(
    "attrs",
    [
        [("data-component-name", "SubscribeWidgetToDOM"), ("class", "x")],
        [("class", "button-wrapper"), ("data-attrs", "{}")],
        [("class", "pencraft image-link-expand")],
        [("class", "more-link")],
    ],
)
def test_a_platforms_furniture_is_known_by_its_name(attrs) -> None:
    assert is_furniture(attrs)


@pytest.mark.parametrize(
    "attrs",
    [[("class", "captioned-image-container")], [("class", "button")], [("id", "subscribe")], []],
)
def test_a_posts_own_elements_are_not_furniture(attrs) -> None:
    assert not is_furniture(attrs)


def test_footer_lines_go_only_as_whole_paragraphs() -> None:
    text = (
        "Medium was originally published in 2012; we moved away from it.\n\n"
        "The post Attention, explained appeared first on Tensor Notes.\n\n"
        "Read more\n\n"
        "Read more about LoRA in the paper."
    )
    assert without_footer_lines(text) == (
        "Medium was originally published in 2012; we moved away from it.\n\n"
        "Read more about LoRA in the paper."
    )


def test_an_ordered_list_is_numbered_from_its_start_and_items_keep_their_text() -> None:
    html = '<ol start="3"><li><p>warm up</p></li><li><p>decay</p></li></ol><ul><li>a</li></ul>'
    assert html_to_text(html) == "3. warm up\n\n4. decay\n\n- a"


@pytest.mark.parametrize(
    ("link", "kept"),
    [
        (
            "https://medium.example.com/p/x-5e1f?source=rss----7c1e---4",
            "https://medium.example.com/p/x-5e1f",
        ),
        ("https://a.example.org/?p=12&utm_source=feedburner", "https://a.example.org/?p=12"),
        (
            "https://a.example.org/?p=12&source=newsletter",
            "https://a.example.org/?p=12&source=newsletter",
        ),
        ("https://a.example.org/post/", "https://a.example.org/post/"),
    ],
)
def test_click_counting_parameters_leave_a_feeds_links(link: str, kept: str) -> None:
    assert without_tracking(link) == kept


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The Substack and the Medium feed, each imported into a store of its own."""
    out = {}
    for name in ("substack", "medium"):
        db = str(tmp_path_factory.mktemp(name) / "posts.duckdb")
        run_ingest(db, [str(BLOGS / name / "feed.xml")])
        out[name] = db
    return out


def _texts(db: str) -> list[tuple[str, str, str]]:
    return query(db, "SELECT title, excerpt, body FROM posts ORDER BY published")


@pytest.mark.parametrize("name", ["substack", "medium"])
def test_no_post_reads_the_platforms_furniture(stores, name: str) -> None:
    for title, excerpt, body in _texts(stores[name]):
        for words in FURNITURE_WORDS:
            assert words not in excerpt and words not in body, f"{title}: {words!r}"


def test_a_substack_post_reads_as_its_page(stores) -> None:
    [(body,)] = query(
        stores["substack"],
        "SELECT body FROM posts WHERE url = ?",
        [SUBSTACK + "lora-rank-learning-rate"],
    )
    # The footnote number is not glued to the sentence; the footnote itself is kept.
    assert "to see how much the rank decides. Short version" in body
    assert "The data were 52,000 instruction pairs" in body
    assert "The update a LoRA adapter adds to a frozen weight is\n\n[Math]\n\nso scaling" in body
    assert "each point a rank." in body  # the image's caption
    [(reading,)] = query(
        stores["substack"],
        "SELECT body FROM posts WHERE url = ?",
        [SUBSTACK + "reading-list-preference-tuning"],
    )
    assert "Thanks to Jonas Berg for the list." in reading  # a mention names the person
    assert "\n\n1. Length bias. Preference data rewards" in reading


def test_a_paid_posts_preview_ends_where_the_feed_cut_it(stores) -> None:
    [(excerpt, body)] = query(
        stores["substack"],
        "SELECT excerpt, body FROM posts WHERE url = ?",
        [SUBSTACK + "evaluation-harness"],
    )
    assert excerpt == "How we keep benchmark numbers honest when the models change every week."
    assert body.endswith("the prompt templates we freeze per benchmark, and the")


def test_a_medium_post_has_its_own_link_tags_and_an_excerpt_without_its_title(stores) -> None:
    rows = query(stores["medium"], "SELECT url, category, tags, excerpt, title FROM posts")
    assert all("?" not in url for url, *_ in rows)  # no ?source=rss----…
    chunking = next(r for r in rows if "chunking" in r[0])
    assert chunking[:3] == (  # Medium's <category> elements are the story's tags
        MEDIUM + "chunking-documents-for-rag-what-we-measured-0b7d4e2c9a61",
        None,
        ["rag", "llm", "chunking"],
    )
    assert chunking[3].startswith("Chunk size is the first knob")  # not the title again
    hybrid = next(r for r in rows if "hybrid" in r[0])
    assert hybrid[3].startswith("We spent six weeks")  # not the photo's credit
