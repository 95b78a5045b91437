"""The search box's syntax, as readers know it from web search and Kibana.

- words: ``LoRA 显存``: posts with every word first, then those with most of them;
- ``"exact phrase"``: the words side by side, in this order (also in Chinese);
- ``-word``, ``-"a phrase"``: leave out the posts that have it;
- ``a OR b``: either word counts as the same word of the query;
- ``title:word``, ``tag:word``, ``category:name``: only in the title, a tag, or the
  category (``title:"two words"`` too).

:func:`parse` only reads the syntax; what a word matches is ``lib.search``'s rule. A query
that cannot be read gets a message instead of an exception (:attr:`Parsed.error`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

FIELDS = ("title", "tag", "category")
OR = "OR"
# One item of the query: an optional ``-``, an optional ``field:``, then a quoted phrase
# (possibly unclosed, which is an error) or a run of non-space characters.
_ITEM = re.compile(
    r'(?P<minus>-?)(?:(?P<field>[A-Za-z]+):)?(?:"(?P<phrase>[^"]*)(?P<close>"?)|(?P<bare>\S*))'
)


@dataclass(frozen=True)
class Term:
    """One thing a post must (or, excluded, must not) have."""

    text: str  # the words, as typed (without quotes, minus or field)
    phrase: bool = False  # quoted: the words side by side
    field: str | None = None  # ``title``, ``tag`` or ``category``; ``None``: anywhere

    @property
    def plain(self) -> bool:
        """A bare word anywhere: it counts towards the soft AND, not as a requirement."""
        return not self.phrase and self.field is None


@dataclass(frozen=True)
class Parsed:
    """A query read: ``clauses`` are the words (each a tuple of alternatives joined by
    ``OR``), ``excluded`` the terms after a ``-``; ``error`` says why it could not be read."""

    clauses: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()
    error: str | None = None

    @property
    def empty(self) -> bool:
        return not self.clauses and not self.excluded


def _items(q: str) -> list[tuple[bool, Term | None, str]]:
    """(excluded, term, raw) per item; ``term`` is ``None`` for ``OR``."""
    out: list[tuple[bool, Term | None, str]] = []
    position = 0
    while position < len(q):
        if q[position].isspace():
            position += 1
            continue
        match = _ITEM.match(q, position)
        assert match is not None  # the pattern matches any non-space start
        raw = match.group(0)
        position = match.end() if match.end() > position else position + 1
        if raw == OR:
            out.append((False, None, raw))
            continue
        if match.group("phrase") is not None and not match.group("close"):
            raise ValueError('A quote is not closed: add the closing " or remove it.')
        field = match.group("field")
        if field is not None and field.lower() not in FIELDS:
            raise ValueError(
                f"“{field}:” is not a field; use title:, tag: or category: "
                "(or leave out the colon)."
            )
        text = match.group("phrase") if match.group("phrase") is not None else match.group("bare")
        text = " ".join((text or "").split())
        if not text:
            what = f"“{raw}”" if raw else "“-”"
            raise ValueError(f"{what} has nothing after it: write a word, e.g. -LoRA.")
        phrase = match.group("phrase") is not None
        term = Term(text, phrase, field.lower() if field else None)
        out.append((bool(match.group("minus")), term, raw))
    return out


@lru_cache(maxsize=256)
def parse(q: str) -> Parsed:
    """The query ``q`` read (cached: a page asks a handful of times)."""
    try:
        items = _items(q.replace("“", '"').replace("”", '"'))  # Chinese quotes too
    except ValueError as exc:
        return Parsed(error=str(exc))
    clauses: list[list[Term]] = []
    excluded: list[Term] = []
    joining = False  # the previous item was OR
    for index, (minus, term, _raw) in enumerate(items):
        if term is None:
            if not clauses or joining or index == len(items) - 1 or items[index + 1][0]:
                return Parsed(error="OR goes between two words, as in: LoRA OR QLoRA.")
            joining = True
            continue
        if minus:
            excluded.append(term)
        elif joining:
            if not (term.plain and clauses[-1][-1].plain):
                return Parsed(error="OR joins plain words; quotes and fields cannot be OR-ed.")
            clauses[-1].append(term)
        else:
            clauses.append([term])
        joining = False
    return Parsed(tuple(tuple(c) for c in clauses), tuple(excluded))
