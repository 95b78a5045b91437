"""Jupyter notebooks read as Markdown posts (``lib.ingest.notebooks``), through a real import."""

from __future__ import annotations

import json
from pathlib import Path

from lib.ingest import run_ingest
from lib.ingest.notebooks import notebook_markdown
from tests.helpers import query


def _notebook(*cells: tuple[str, str]) -> bytes:
    return json.dumps(
        {
            "cells": [{"cell_type": kind, "metadata": {}, "source": text} for kind, text in cells],
            "metadata": {"language_info": {"name": "python"}},
            "nbformat": 4,
        }
    ).encode()


def test_fastpages_front_matter_lines_become_the_posts_fields() -> None:
    data = _notebook(
        (
            "markdown",
            "# 用 NumPy 写 softmax\n> 数值稳定的写法\n\n- toc: true\n- categories: [numpy]",
        ),
        ("markdown", "先减去最大值，再取指数。"),
        ("code", "x - x.max()"),
    )
    text = notebook_markdown(data, "softmax.ipynb").decode()
    assert text.startswith('---\ntitle: "用 NumPy 写 softmax"\ndescription: "数值稳定的写法"\n')
    assert "categories: [numpy]\n---\n" in text
    assert text.endswith("先减去最大值，再取指数。\n\n```python\nx - x.max()\n```")


def test_a_folder_of_notebooks_imports_the_posts_and_skips_the_rest(tmp_path: Path) -> None:
    (tmp_path / "post.ipynb").write_bytes(
        _notebook(
            ("raw", "---\ntitle: 梯度下降\ndate: 2024-01-05\n---\n"), ("markdown", "步长要小。")
        )
    )
    (tmp_path / "analysis.ipynb").write_bytes(_notebook(("code", "df.describe()")))  # no front
    (tmp_path / "broken.ipynb").write_bytes(b'{"cells": [')
    db = str(tmp_path / "posts.duckdb")
    summary = run_ingest(db, [str(tmp_path)])
    assert query(db, "SELECT title, body FROM posts") == [("梯度下降", "步长要小。")]
    assert {Path(p).name for p in summary.skipped} >= {"analysis.ipynb", "broken.ipynb"}
