"""A query read into what to search for: its tokens, the words a reader wrote (each with
its alternatives: ``OR``, and the other names of a subject in ``data/dictionary``,
discounted), and the phrases, fields and exclusions a post must satisfy.

:func:`plan` is half of the one rule of what a search matches; the other half, what a
single token matches, is ``lib.search.word_terms``. The syntax itself is
``lib.query_syntax``'s.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lib.filters import MAX_QUERY_CHARS
from lib.query_syntax import Term, parse
from lib.segment import (
    BILINGUAL_FILE,
    DICTIONARY_DIR,
    SYNONYMS_FILE,
    default_segmenter,
    read_lines,
)
from lib.text import CJK

MAX_TOKENS = 8  # typed tokens: a pasted paragraph is not a query; its first words are
MAX_ALL_TOKENS = 16  # with dictionary variants; each is a bit of an INTEGER mask
MAX_NAME_WORDS = 5  # the longest dictionary name looked for inside a longer query
VARIANT_WEIGHT = 0.6  # a near-synonym or spelling variant from the dictionary


@dataclass(frozen=True)
class Alternative:
    """One way to have a word: every token of ``tokens`` (indexes into ``Plan.tokens``)."""

    tokens: tuple[int, ...]
    weight: float = 1.0  # 1 as typed; VARIANT_WEIGHT for a dictionary variant


@dataclass(frozen=True)
class Word:
    """A word a reader wrote: a post has it when it has any of its alternatives."""

    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True)
class Check:
    """What a post must (or, excluded, must not) have beyond the index: its ``tokens``
    (indexes into ``Plan.tokens``) narrow the posts, then ``kind`` is checked on the
    stored text (``words``: the tokens are enough)."""

    kind: str  # words, phrase, title, tag or category
    text: str  # normalised as the index is: NFKC, lower case
    tokens: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """A query, read: the tokens to look up, the words (a soft AND: every word first,
    then most), the checks every post must pass, the exclusions, the stop words left
    out, and why the query could not be read (then it matches nothing)."""

    tokens: tuple[str, ...] = ()
    words: tuple[Word, ...] = ()
    required: tuple[Check, ...] = ()
    excluded: tuple[Check, ...] = ()
    ignored: tuple[str, ...] = ()
    error: str | None = None

    @property
    def plain(self) -> bool:
        """Only words: the ranking alone decides which posts match."""
        return not self.required and not self.excluded

    def typed_tokens(self) -> tuple[str, ...]:
        """The tokens of the words as typed (not variants): what cards highlight."""
        used = {i for w in self.words for a in w.alternatives if a.weight == 1 for i in a.tokens}
        return tuple(t for i, t in enumerate(self.tokens) if i in used)


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def _groups_in(path: Path, separator: str | None) -> list[list[str]]:
    if not path.exists():
        return []
    return [
        [_normalise(m.replace("_", " ") if separator is None else m) for m in line.split(separator)]
        for line in read_lines(path)
    ]


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """Each dictionary word's variants: the names of one subject in
    ``data/dictionary/bilingual.txt`` (separated by spaces, ``_`` for a space inside a
    name) and search's own ``synonyms.txt`` (separated by ``|``)."""
    found: dict[str, list[str]] = {}
    groups = _groups_in(DICTIONARY_DIR / BILINGUAL_FILE, None)
    groups += _groups_in(DICTIONARY_DIR / SYNONYMS_FILE, "|")
    for group in groups:
        members = [m for m in group if m]
        for member in members:
            known = found.setdefault(member, [])
            known += [m for m in members if m != member and m not in known]
    return {member: tuple(variants) for member, variants in found.items()}


class _TokenCollector:
    """Collects a plan's tokens (each once, at most :data:`MAX_ALL_TOKENS`)."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.ignored: list[str] = []

    def add(self, text: str, limit: int) -> tuple[int, ...] | None:
        """The token indexes of ``text``; ``None`` when it has no searchable token."""
        segmenter = default_segmenter()
        self.ignored += [
            t for t in segmenter.raw_tokens(text) if t in segmenter.stopwords and t.strip()
        ]
        found: list[int] = []
        for token in segmenter.tokens(text):
            if token not in self.tokens and len(self.tokens) < limit:
                self.tokens.append(token)
            if token in self.tokens and self.tokens.index(token) not in found:
                found.append(self.tokens.index(token))
        return tuple(found) or None

    def words(self, text: str) -> list[tuple[str, tuple[int, ...]]]:
        """Each word of ``text`` as the segmenter groups it (a Latin word or dictionary
        term, or a run of Chinese, whose pieces are never split up: 量子纠缠 is not 量子
        alone), with its text."""
        segmenter = default_segmenter()
        self.ignored += [t for t in segmenter.raw_tokens(text) if t in segmenter.stopwords]
        out = []
        for word in segmenter.words(text):
            joined = "".join(word) if CJK.search(word[0]) else " ".join(word)
            if found := self.add(joined, MAX_TOKENS):
                out.append((joined, found))
        return out

    def variants(self, text: str) -> list[Alternative]:
        out = []
        for variant in synonyms().get(_normalise(text), ()):
            pieces = default_segmenter().tokens(variant)
            if len(pieces) != 1 or (CJK.search(pieces[0]) and len(pieces[0]) < 2):
                # One index term only, as the topics count names: a name the segmenter
                # cuts up (语言模型, 低秩适配) would search for common pieces, slowly.
                continue
            if found := self.add(variant, MAX_ALL_TOKENS):
                out.append(Alternative(found, VARIANT_WEIGHT))
        return out


def _dictionary_names(run: list[str]) -> list[list[str]]:
    """A run of plain words cut so that each name of several words the dictionary knows is
    a piece of its own (``decision tree overfitting``: ``decision tree``, ``overfitting``),
    the longest name first at each place, so a name keeps its variants (决策树) inside a
    longer query as it does alone."""
    if len(run) < 2:
        return [run]
    pieces: list[list[str]] = []
    rest: list[str] = []  # words not in a name, segmented together as before
    i = 0
    while i < len(run):
        end = next(
            (
                j
                for j in range(min(len(run), i + MAX_NAME_WORDS), i + 1, -1)
                if synonyms().get(_normalise(" ".join(run[i:j])))
            ),
            None,
        )
        if end is None:
            rest.append(run[i])
            i += 1
            continue
        if rest:
            pieces.append(rest)
            rest = []
        pieces.append(run[i:end])
        i = end
    if rest:
        pieces.append(rest)
    return pieces


def _run_words(builder: _TokenCollector, text: str, several: bool) -> list[Word]:
    """The words of a run of plain words, each with its dictionary variants; a name of
    several words the dictionary knows (mixture of experts) is one word."""
    if several and synonyms().get(_normalise(text)):
        tokens = tuple(i for _, found in builder.words(text) for i in found)
        return [Word((Alternative(tokens), *builder.variants(text)))] if tokens else []
    return [
        Word((Alternative(found), *builder.variants(joined)))
        for joined, found in builder.words(text)
    ]


def _read_check(builder: _TokenCollector, kind: str, term: Term) -> Check:
    tokens = () if kind == "category" else builder.add(term.text, MAX_ALL_TOKENS) or ()
    text = _normalise(term.text)
    if kind == "phrase" and len(tokens) == 1 and builder.tokens[tokens[0]] == text:
        # One index term (``"KV cache"``, ``"显存占用"``): the index already holds the words
        # side by side, so no text needs reading (slow at a million posts).
        kind = "words"
    return Check(kind, text, tokens)


def _check_kind(term: Term) -> str:
    return term.field or ("phrase" if term.phrase else "words")


@lru_cache(maxsize=256)
def plan(q: str) -> Plan:
    """The :class:`Plan` of ``q`` (cached: one page asks for it a handful of times). A
    query made only of stop words (``的``) still searches for them literally, rather than
    silently matching everything."""
    q = q[:MAX_QUERY_CHARS]
    parsed = parse(q)
    if parsed.error:
        return Plan(error=parsed.error)
    builder = _TokenCollector()
    words: list[Word] = []
    required: list[Check] = []
    run: list[str] = []  # consecutive plain words, segmented together (KV cache stays whole)
    for clause in (*parsed.clauses, ()):
        if len(clause) == 1 and clause[0].plain:
            run.append(clause[0].text)
            continue
        if run:
            for piece in _dictionary_names(run):
                words += _run_words(builder, " ".join(piece), several=len(piece) > 1)
            run = []
        alternatives = []
        for term in clause:
            if not term.plain:
                required.append(check := _read_check(builder, _check_kind(term), term))
                if check.tokens and term.field != "category":
                    alternatives.append(Alternative(check.tokens))
            elif found := builder.add(term.text, MAX_TOKENS):
                alternatives += [Alternative(found), *builder.variants(term.text)]
        if alternatives:
            words.append(Word(tuple(alternatives)))
    excluded = [_read_check(builder, _check_kind(t), t) for t in parsed.excluded]
    # A word with nothing to search for (``-的``, ``--``) excludes nothing.
    excluded = [c for c in excluded if c.tokens or c.kind not in ("words", "phrase")]
    if not words and not required and not excluded and q.strip():
        literal = [w.lower() for w in q.split()][:MAX_TOKENS]
        words = [Word((Alternative((i,)),)) for i in range(len(literal))]
        return Plan(tuple(literal), tuple(words))
    words = list(dict.fromkeys(words))  # LoRA lora is one word
    ignored = tuple(dict.fromkeys(builder.ignored))
    return Plan(tuple(builder.tokens), tuple(words), tuple(required), tuple(excluded), ignored)


def query_tokens(q: str) -> tuple[str, ...]:
    """The query's tokens as typed (see :class:`Plan`): what cards highlight."""
    return plan(q).typed_tokens()
