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

from lib.config import REPO_ROOT
from lib.ingest import run_ingest
from tests.helpers import query

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
