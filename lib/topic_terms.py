"""Which index terms can describe a topic, which of them are one term, and how the blog writes them.

A topic model counts *terms*, not index tokens: ``llm``, ``llms``, ``大模型`` and
``大语言模型`` are one subject in two languages (``data/dictionary/bilingual.txt``), and
``flash-attention`` is ``flashattention`` spelled with a hyphen. Labels must read as a
reader would name the subject, so markup, code and LaTeX words, single letters and
identifiers never become terms, and each term is shown in the casing the blog uses
most (``LoRA``, ``PyTorch``), found in titles, tags and excerpts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Container, Iterable
from functools import lru_cache

import duckdb
import numpy as np
from scipy import sparse

from lib.search import compact
from lib.segment import DICTIONARY_DIR, default_segmenter
from lib.text import CJK, singular_forms

BILINGUAL_FILE = "bilingual.txt"
NOT_LABELS_FILE = "not_labels.txt"
COMPANION_SHARE = 0.9  # names together in this share of each one's posts are one term
COMPANION_MIN_DF = 10  # posts a name needs before its company says anything
COMPANION_COLUMNS = 3_000  # the most frequent terms checked for company, pairwise
CASING_SAMPLE = 200_000  # posts whose titles, tags and excerpts show how terms are written
WRITTEN_IN_CHARS = 50_000  # a post's opening, where its subjects are named (written_in)
# Identifiers and remnants: snake_case, hex, a digit first; dotted paths with digits
# (qwen1.57bchat), two dots (nn.functional.xxx), a file or host (utils.py, github.com) or a
# module alias (nn.xxx, np.array); a name written with one dot stays (torch.compile).
_CODE_LIKE = re.compile(
    r"_|^\d|^[0-9a-f]{6,}$|\.\w*\d|\.\w*\.|\.(?:py|com|org|net|io|ai|cn|md|exe)$"
    r"|^(?:nn|np|pd|tf|os|sys|f)\.|^\W|\W$"
)


def _lines(name: str) -> list[str]:
    """A dictionary file's lines, without blanks and ``#`` comments."""
    lines = (line.strip() for line in (DICTIONARY_DIR / name).read_text("utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def bilingual_groups() -> tuple[tuple[str, ...], ...]:
    """Each line of the bilingual dictionary, as index terms (an underscore stands for a
    space); a name the segmenter cuts into several terms cannot match one and is left out."""
    segmenter = default_segmenter()
    groups = []
    for line in _lines(BILINGUAL_FILE):
        members = []
        for name in line.split():
            tokens = segmenter.tokens(name.replace("_", " "))
            if len(tokens) == 1:
                members.append(tokens[0])
        if members:
            groups.append(tuple(dict.fromkeys(members)))
    return tuple(groups)


@lru_cache(maxsize=1)
def not_labels() -> frozenset[str]:
    """Markup, code and LaTeX words, which posts are full of and which name no subject."""
    lines = _lines(NOT_LABELS_FILE)
    return frozenset(word.lower() for line in lines for word in line.split())


def number_fragment(term: str) -> bool:
    """Whether an index term is a piece of a number, not a name: a Latin term that starts
    with a digit or holds fewer than two letters (``e-5`` of a learning rate ``1e-5``,
    ``1e``, ``3b``, ``v2``). A term of the dictionary is a name (add ``H100`` to keep it)."""
    if CJK.search(term) or term in default_segmenter().terms:
        return False
    return term[:1].isdigit() or sum(ch.isalpha() for ch in term) < 2


def labelable(term: str) -> bool:
    """Whether an index term (already judged topical at import) can stand in a label."""
    if term in not_labels() or number_fragment(term) or _CODE_LIKE.search(term):
        return False
    if CJK.search(term):
        return len(term) >= 2
    letters = sum(ch.isalpha() for ch in term)
    return letters >= 2 and not (len(term) <= 2 and term.islower() and term not in _group_of())


@lru_cache(maxsize=1)
def _group_of() -> dict[str, str]:
    """Each dictionary name's group key: the group's first name."""
    return {member: group[0] for group in bilingual_groups() for member in group}


def term_keys(terms: Iterable[str]) -> dict[str, str]:
    """Each term's key: terms with one key are one term of the model.

    A dictionary name takes its group's key; a Latin term its form without separators
    (``flash-attention`` → ``flashattention``), and a plural the key of its singular when
    the singular is among ``terms`` too.
    """
    terms = list(terms)
    groups = _group_of()
    keys: dict[str, str] = {}
    for term in terms:
        if term in groups:
            keys[term] = groups[term]
        elif CJK.search(term):
            keys[term] = term
        else:
            keys[term] = compact(term) or term
    latin = {key for term, key in keys.items() if term not in groups and not CJK.search(term)}
    for term, key in keys.items():
        if term in groups or CJK.search(term):
            continue
        if (one := singular(key, latin)) is not None:
            keys[term] = one
        elif (one := singular(key, groups)) is not None:  # of a dictionary name (``agents``)
            keys[term] = groups[one]
    return keys


def singular(term: str, known: Container[str]) -> str | None:
    """The singular of a Latin plural when the blog uses it too (``embeddings`` and
    ``embedding``): one subject, which search also finds under either
    (``lib.text.singular_forms``)."""
    return next((one for one in singular_forms(term) if one in known), None)


def written_forms(con: duckdb.DuckDBPyConnection, terms: Iterable[str]) -> dict[str, str]:
    """How the blog writes each Latin term most often, from titles, tags and excerpts
    (the body is full of code, whose casing is not the subject's); terms never seen
    written keep their index form."""
    latin = _latin(terms)
    if not latin:
        return {}
    rows = con.execute(
        """WITH sampled AS (
               SELECT concat_ws(' ', title, array_to_string(tags, ' '), left(excerpt, 300)) AS s
               FROM posts WHERE doc IS NOT NULL LIMIT ?)
           SELECT form, count(*) AS n
           FROM (SELECT unnest(regexp_extract_all(s, ?, 1)) AS form FROM sampled)
           GROUP BY form""",
        [CASING_SAMPLE, _written_pattern(latin)],
    ).fetchall()
    return _most_written(latin, rows)


def written_in(text: str, terms: Iterable[str]) -> dict[str, str]:
    """How one post writes each Latin term most often (``GRPO``, ``BM25``, ``LoRA``), for
    showing its keywords as its text does; terms it never writes keep their index form."""
    latin = _latin(terms)
    if not latin or not text:
        return {}
    found = re.findall(_written_pattern(latin), text[:WRITTEN_IN_CHARS])
    return _most_written(latin, Counter(found).items())


def _latin(terms: Iterable[str]) -> list[str]:
    return sorted({t for t in terms if not CJK.search(t) and t.isascii()}, key=len, reverse=True)


def _written_pattern(latin: list[str]) -> str:
    alternatives = "|".join(re.escape(t) for t in latin)
    return rf"(?i)(?:^|[^a-z0-9])({alternatives})(?:$|[^a-z0-9])"


def _most_written(latin: list[str], counted: Iterable[tuple[str, int]]) -> dict[str, str]:
    seen: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for form, n in counted:
        seen[form.lower()][form] += n
    return {t: seen[t].most_common(1)[0][0] for t in latin if seen.get(t)}


def companions(members: list, counts: sparse.csr_matrix) -> np.ndarray:
    """Each column's column after merging names that go together: a Chinese and a Latin
    name found in the same posts (each in at least ``COMPANION_SHARE`` of the other's
    posts, as ``剪枝（pruning）`` writes them) are one term the dictionary does not know."""
    width = counts.shape[1]
    target = np.arange(width)
    df = np.bincount(counts.indices, minlength=width)
    cjk = np.array([bool(m) and bool(CJK.search(max(m, key=lambda p: p[1])[0])) for m in members])
    often = np.flatnonzero(df >= COMPANION_MIN_DF)
    often = often[np.argsort(-df[often], kind="stable")][:COMPANION_COLUMNS]
    if len(often) < 2:
        return target
    present = counts[:, often].tocsc()
    present.data[:] = 1
    together = (present.T @ present).tocoo()
    for a, b, n in zip(together.row, together.col, together.data, strict=True):
        i, j = often[a], often[b]
        if i < j and cjk[i] != cjk[j] and n >= COMPANION_SHARE * max(df[i], df[j]):
            root_i, root_j = _root(target, i), _root(target, j)
            target[max(root_i, root_j)] = min(root_i, root_j)
    return np.array([_root(target, i) for i in range(width)])


def _root(target: np.ndarray, i: int) -> int:
    while target[i] != i:
        i = target[i]
    return int(i)
