"""A Jekyll site whose config names no ``url`` gets GitHub Pages' address from its clone
(``lib.ingest.github_pages``): a ``CNAME`` file, else the ``origin`` remote."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.ingest import run_ingest
from tests.helpers import query

POST = "---\ntitle: Attention notes\ncategories: [NLP]\n---\nAttention is a weighted average.\n"


def _clone(root: Path, config: str, remote: str | None = None, cname: str | None = None) -> Path:
    """A Jekyll blog as ``git clone`` leaves it: config, one post, maybe CNAME and .git."""
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(config, encoding="utf-8")
    (root / "_posts" / "2018-06-24-attention-attention.md").write_text(POST, encoding="utf-8")
    if cname is not None:
        (root / "CNAME").write_text(cname, encoding="utf-8")
    if remote is not None:
        (root / ".git").mkdir()
        (root / ".git" / "config").write_text(
            '[core]\n\trepositoryformatversion = 0\n[remote "origin"]\n'
            f"\turl = {remote}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
            '\tfetch = +refs/tags/*:refs/tags/*\n[branch "master"]\n\tremote = origin\n',
            encoding="utf-8",
        )
    return root


def _url(tmp_path: Path, site: Path) -> str | None:
    db = str(tmp_path / "posts.duckdb")
    run_ingest(db, [str(site)])
    [(url,)] = query(db, "SELECT url FROM posts")
    return url


@pytest.mark.parametrize(
    ("config", "remote", "url"),
    [
        (  # a project site: served under /<repository>, as its baseurl says
            'baseurl: "/lil-log"\n',
            "https://github.com/LilianWeng/lil-log.git",
            "https://lilianweng.github.io/lil-log/nlp/2018/06/24/attention-attention.html",
        ),
        (  # a project site without baseurl: GitHub Pages serves it under its name
            "title: Notes\n",
            "git@github.com:someone/ml-notes.git",
            "https://someone.github.io/ml-notes/nlp/2018/06/24/attention-attention.html",
        ),
        (  # a user site: served at the root
            "title: Notes\n",
            "git@github.com:someone/someone.github.io.git",
            "https://someone.github.io/nlp/2018/06/24/attention-attention.html",
        ),
        (  # the config's url wins
            "url: https://blog.example.org\n",
            "git@github.com:someone/someone.github.io.git",
            "https://blog.example.org/nlp/2018/06/24/attention-attention.html",
        ),
        ("title: Notes\n", "https://gitlab.example.com/a/b.git", None),  # not GitHub Pages
        ("title: Notes\n", None, None),  # no clone: no address, as before
    ],
    ids=["project", "project-no-baseurl", "user-site", "config-url", "not-github", "no-git"],
)
def test_a_clone_says_where_github_pages_serves_it(
    tmp_path: Path, config: str, remote: str | None, url: str | None
) -> None:
    site = _clone(tmp_path / "blog", config, remote)
    assert _url(tmp_path, site) == url


def test_a_cname_file_is_the_custom_domain_served_at_its_root(tmp_path: Path) -> None:
    site = _clone(
        tmp_path / "blog", "title: Notes\n", "git@github.com:a/b.git", "Notes.Example.org\n"
    )
    assert (
        _url(tmp_path, site) == "https://notes.example.org/nlp/2018/06/24/attention-attention.html"
    )


def test_a_site_deep_in_another_repository_is_not_its_pages_site(tmp_path: Path) -> None:
    _clone(tmp_path / "repo", "title: Outer\n", "git@github.com:a/b.git")
    site = _clone(tmp_path / "repo" / "blogs" / "mine", "title: Notes\n")
    assert _url(tmp_path, site) is None
