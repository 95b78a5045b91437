"""``lib.ingest.index`` on real-looking blogs: no keyword is markup, code or LaTeX.

Each site of the fixture corpus (``tests/fixtures/blogs``: Jekyll, Hexo and Hugo sources,
modelled on real Chinese ML blogs) is imported by the real ingest; the leading topics of the
largest real blog were ``quot``, ``mxcell``, ``amp``, ``mxgeometry`` before bodies were read
as prose, and code identifiers (``self``, ``d_model``, ``__init__``) led others.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib import topics
from lib.config import REPO_ROOT
from lib.filters import Filters
from lib.ingest import run_ingest
from lib.store import connect_read_only
from tests.helpers import build_store, query

BLOGS = REPO_ROOT / "tests" / "fixtures" / "blogs"
EXPECTED = json.loads((BLOGS / "EXPECTED.json").read_text(encoding="utf-8"))
# Words that only markup, templates and LaTeX put into a post.
MARKUP = {
    "quot",
    "amp",
    "nbsp",
    "lt",
    "gt",
    "mxcell",
    "mxgeometry",
    "mxgraph",
    "mxfile",
    "geometry",
    "parent",
    "div",
    "span",
    "class",
    "href",
    "src",
    "img",
    "png",
    "jpg",
    "html",
    "css",
    "flex-item",
    "icon-mask",
    "mathbf",
    "boldsymbol",
    "left",
    "right",
    "frac",
    "theta",
    "pmb",
    "begin",
    "end",
    "align",
    "aligned",
    "operatorname",
    "cdot",
    "sum",
    "highlight",
    "endhighlight",
    "raw",
    "endraw",
    "linenos",
    "asset_img",
    "gallery",
    "figure",
    "site.baseurl",
    "toc",
}


def _code_words() -> set[str]:
    return {w.lower() for post in EXPECTED["posts"] for w in post.get("code_identifiers", [])}


@pytest.mark.parametrize("site", ["jekyll", "hexo", "hugo"])
def test_no_keyword_of_a_blog_is_markup_code_or_latex(site: str, tmp_path: Path) -> None:
    db = str(tmp_path / "posts.duckdb")
    run_ingest(db, [str(BLOGS / site)])
    keywords = {term for (term,) in query(db, "SELECT DISTINCT term FROM post_keywords")}
    assert keywords, "the import found no keywords at all"
    assert keywords & MARKUP == set()
    assert keywords & _code_words() == set()
    assert not [k for k in keywords if len(k) == 1 and k.isascii()]  # no stray letters
    words = {term for (term,) in query(db, "SELECT term FROM terms")}
    assert words & {"mxcell", "mathbf", "quot", "endhighlight"} == set()  # nor search words


# Numbers as blogs write them: learning rates, model sizes, versions, shapes.
NUMBERS_POSTS = [
    {
        "title": "LoRA 微调记录",
        "body": "学习率设为 1e-5，warmup 之后衰减到 3e-6。LoRA 的 rank 取 8，alpha 取 16。"
        "在 7B 和 13B 的模型上都试过 LoRA，v2 版本的配置更稳。batch 大小 32，训练 3 个 epoch。",
    },
    {
        "title": "Learning rate notes",
        "body": "A learning rate of 2e-4 with AdamW, then 1e-5 for the last epochs. The 70B model "
        "needed 8x H100 and a 4k context; v3 of the recipe halves the warmup.",
    },
    {
        "title": "量化 7B 模型",
        "body": "把 7B 模型量化到 INT4，困惑度只升了 0.3，显存从 14G 降到 4G。"
        "量化的校准集用 512 条。",
    },
]


def test_no_keyword_is_a_piece_of_a_number(tmp_path: Path) -> None:
    # A learning rate 1e-5 left "e-5" as a leading keyword of a held-out WordPress blog.
    db = build_store(tmp_path / "posts.duckdb", NUMBERS_POSTS)
    keywords = {term for (term,) in query(db, "SELECT DISTINCT term FROM post_keywords")}
    assert {"lora", "量化"} <= keywords  # the names stay
    fragments = {t for t in keywords if t[0].isdigit() or sum(c.isalpha() for c in t) < 2}
    assert not fragments, sorted(keywords)
    labels = query(db, "SELECT terms FROM topics")
    shown = {t for (terms,) in labels for t in terms}
    assert not {t for t in shown if t[0].isdigit() or sum(c.isalpha() for c in t) < 2}


def test_leading_keywords_of_a_small_blog_go_by_use_not_the_alphabet(tmp_path: Path) -> None:
    # Four posts, one subject each, named all through it; each also names a fruit once.
    subjects = ["warmup", "speculative", "rmsnorm", "quantization"]
    fruits = ["apple", "banana", "cherry", "damson"]
    rows = [
        {
            "title": f"On {subject}",
            "body": " ".join([f"{subject}."] * 6 + [f"{fruit}."]),
        }
        for subject, fruit in zip(subjects, fruits, strict=True)
    ]
    db = build_store(tmp_path / "posts.duckdb", rows)
    con = connect_read_only(db)
    try:
        first = list(topics.leading(con, Filters(), 4)["topic"])
    finally:
        con.close()
    assert set(first) == set(subjects), first  # alphabetical order put the fruits first


def test_a_word_and_its_plural_are_one_keyword_and_one_topic(tmp_path: Path) -> None:
    # "check" and "checks" were two keywords of one held-out post, and a topic's posts were
    # split between "embedding" and "embeddings" in the leading topics.
    rows = [
        {"title": "Hybrid search", "body": "Embeddings and BM25. The embeddings drift. " * 3},
        {"title": "Pooling", "body": "Mean pooling of an embedding. One embedding per text. " * 3},
        {"title": "Tuning", "body": "Fine-tune the embedding model; check the embeddings. " * 3},
        {"title": "Harness", "body": "Two checks before a number: the check of overlap. " * 3},
        {"title": "Biases", "body": "Length biases; a bias to the first option. Strategies. " * 3},
        {"title": "Plans", "body": "One strategy a week; a bias check. Unrelated filler. " * 3},
    ]
    db = build_store(tmp_path / "posts.duckdb", rows)
    keywords = query(db, "SELECT p.title, k.term FROM post_keywords k JOIN posts p USING (doc)")
    terms = {term for _, term in keywords}
    assert {"embedding", "check", "bias", "strategy"} <= terms
    assert not terms & {"embeddings", "checks", "biases", "strategies"}
    per_post = [(title, term) for title, term in keywords]
    assert len(per_post) == len(set(per_post))  # a post holds each keyword once
    con = connect_read_only(db)
    try:
        leading = topics.leading(con, Filters(), 10).set_index("topic")["posts"]
    finally:
        con.close()
    assert leading["embedding"] == 3  # every post that wrote either form


def test_english_function_words_are_never_keywords(tmp_path: Path) -> None:
    # "Inside our evaluation harness" made "inside" a keyword of a held-out post.
    rows = [
        {"title": "Inside the harness", "body": "Inside, against, throughout: quantization. " * 4},
        {"title": "Against drift", "body": "Everything against drift; somehow distillation. " * 4},
        {"title": "Warmup", "body": "A warmup schedule, nothing more. " * 4},
    ]
    db = build_store(tmp_path / "posts.duckdb", rows)
    terms = {term for (term,) in query(db, "SELECT DISTINCT term FROM post_keywords")}
    assert {"quantization", "distillation", "warmup"} <= terms
    assert not terms & {"inside", "against", "throughout", "everything", "somehow"}
