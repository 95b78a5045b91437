"""Jupyter notebooks as the Markdown posts they are on a blog (Quarto, fastpages, nbdev).

A notebook post is read as the Markdown its generator renders: its front matter (Quarto's
first raw cell ``---…---``, or fastpages' first Markdown cell ``# Title`` / ``> summary`` /
``- categories: [a, b]``), then its Markdown cells as written and its code cells as fenced
code (a reader sees code, so they read as ``[代码]``); outputs are left out, as a feed's
summary or a listing never shows them. The result goes through the Markdown reader like any
``.md`` post, so a notebook is found, placed in its site and read by one set of rules.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lib.ingest.reading import decode_text
from lib.ingest.records import IngestError

_FASTPAGES_TITLE = re.compile(r"\A#\s+(?P<title>[^\n]+)\n")
_FASTPAGES_SUMMARY = re.compile(r"\A>\s*(?P<summary>[^\n]+)\n")
_FASTPAGES_OPTION = re.compile(r"\A-\s+(?P<key>[A-Za-z_][\w-]*):\s*(?P<value>[^\n]*)\n")


def notebook_markdown(data: bytes, source: str) -> bytes:
    """The notebook at ``source`` as a Markdown post with front matter, UTF-8 encoded."""
    try:
        notebook = json.loads(decode_text(data, source, None))
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise IngestError(source, f"not a Jupyter notebook: {exc}") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise IngestError(source, "not a Jupyter notebook: no list of cells")
    language = _language(notebook)
    texts = [(cell.get("cell_type"), _text(cell)) for cell in cells if isinstance(cell, dict)]
    texts = [(kind, text) for kind, text in texts if text.strip()]
    front = ""
    if texts and texts[0][1].lstrip().startswith("---") and texts[0][0] in ("raw", "markdown"):
        front, texts = texts[0][1].strip() + "\n", texts[1:]
    elif texts and texts[0][0] == "markdown":
        front, rest = _fastpages_front(texts[0][1])
        texts = [("markdown", rest), *texts[1:]] if rest.strip() else texts[1:]
    parts = [front] if front else []  # no front matter: not a post, as for a .md file
    for kind, text in texts:
        if kind == "markdown":
            parts.append(text)
        elif kind == "code":
            parts.append(f"```{language}\n{text.rstrip()}\n```")
    return "\n\n".join(parts).encode("utf-8")


def _text(cell: dict[str, Any]) -> str:
    value = cell.get("source", "")
    return "".join(value) if isinstance(value, list) else str(value)


def _language(notebook: dict[str, Any]) -> str:
    metadata = notebook.get("metadata")
    info = metadata.get("language_info") if isinstance(metadata, dict) else None
    name = info.get("name") if isinstance(info, dict) else None
    return name if isinstance(name, str) and name.isidentifier() else "python"


def _fastpages_front(text: str) -> tuple[str, str]:
    """fastpages' front matter (``# Title``, ``> summary``, ``- key: value`` lines) as
    YAML, and the rest of the cell; no title line means no front matter."""
    rest = text.lstrip() + "\n"
    title = _FASTPAGES_TITLE.match(rest)
    if title is None:
        return "", text
    lines = [f"title: {json.dumps(title.group('title').strip(), ensure_ascii=False)}"]
    rest = rest[title.end() :].lstrip("\n")
    if summary := _FASTPAGES_SUMMARY.match(rest):
        quoted = json.dumps(summary.group("summary").strip(), ensure_ascii=False)
        lines.append(f"description: {quoted}")
        rest = rest[summary.end() :].lstrip("\n")
    while option := _FASTPAGES_OPTION.match(rest):
        lines.append(f"{option.group('key')}: {option.group('value').strip()}")
        rest = rest[option.end() :].lstrip("\n")
    return "---\n" + "\n".join(lines) + "\n---\n", rest
