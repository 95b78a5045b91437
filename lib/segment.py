"""Word segmentation for Chinese text with English terms mixed in.

Chinese runs go to jieba (its Rust port, ``rjieba``: pure-Python jieba is too slow
for a million posts). Before that, terms from
the domain dictionary that contain Latin letters or spaces (``KV cache``) and
Latin words themselves (``FlashAttention``, ``Qwen3-VL``, ``DeepSeek-V3``) are
cut out whole, so the segmenter never splits them. Tokens are lower-cased so
English matches case-insensitively; stop words and bare punctuation are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from lib.config import DATA_DIR
from lib.text import CJK, CJK_RANGE

DICTIONARY_DIR = DATA_DIR / "dictionary"
STOPWORDS_FILE = "stopwords.txt"
NOT_TOPICS_FILE = "not_topics.txt"
SYNONYMS_FILE = "synonyms.txt"  # groups of variants for search (lib.search), not terms
BILINGUAL_FILE = "bilingual.txt"  # one subject's names a line (topics and search), not terms
NOT_LABELS_FILE = "not_labels.txt"  # words no topic label may hold (lib.topic_terms)
# The folder's other *.txt files are term dictionaries: a user extends it by adding one.
WORD_LISTS = (STOPWORDS_FILE, NOT_TOPICS_FILE, SYNONYMS_FILE, BILINGUAL_FILE, NOT_LABELS_FILE)
# jieba parts of speech that can name a topic: nouns, verbal nouns, idioms of the trade,
# abbreviations, foreign words, and words it does not know (often new technical terms).
_TOPIC_POS = ("n", "vn", "nz", "j", "eng", "x")
_NOT_A_TOPIC = re.compile(r"^[\d.,%x×+\-_]+$")
# Latin letters with their accented forms (Latin-1 and Extended-A/B), so Bézier and naïve
# stay one word.
_LATIN_LETTER = "a-z_\u00df-\u00f6\u00f8-\u024f"
_LATIN_WORD = rf"[{_LATIN_LETTER}][{_LATIN_LETTER}0-9]*(?:[-.+][{_LATIN_LETTER}0-9]+)*\+*"
_CJK_RUN = re.compile(f"[{CJK_RANGE}]+")
_NOT_CJK = re.compile(f"[^{CJK_RANGE}]+")
_APART = "\x00"  # between texts cut in one call (Segmenter.raw_tokens_apart)
_TERM_FREQ = 100_000  # high enough that jieba keeps a dictionary term in one piece


def read_lines(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


class Segmenter:
    """Turns text into index and query tokens; one instance per process is enough."""

    def __init__(
        self, terms: Iterable[str], stopwords: Iterable[str], not_topics: Iterable[str] = ()
    ) -> None:
        import rjieba  # here, not at the top: loading it would slow the app's cold start

        self._jieba = rjieba.Jieba()
        self.stopwords = frozenset(_normalise(w) for w in stopwords)
        self.not_topics = frozenset(_normalise(w) for w in not_topics)
        self.terms = frozenset(_normalise(t) for t in terms)
        latin_terms: list[str] = []
        for term in self.terms:
            if CJK.search(term) and not re.search(r"[a-z ]", term):
                self._jieba.add_word(term, _TERM_FREQ, "n")
            else:
                latin_terms.append(term)
        # Longest first, so "ring allreduce" wins over a shorter term inside it.
        alternatives = [
            r"\s+".join(re.escape(part) for part in term.split())
            for term in sorted(latin_terms, key=len, reverse=True)
        ]
        protected = ""
        if alternatives:
            edge = f"{_LATIN_LETTER}0-9"
            protected = rf"(?<![{edge}])(?:{'|'.join(alternatives)})(?![{edge}])|"
        self._protected = re.compile(rf"({protected}{_LATIN_WORD})")
        self._latin = re.compile(rf"({_LATIN_WORD})")
        # Trying every protected term at every character is most of the cost of a
        # Chinese text; a text without any such term's first word can skip it. One
        # search for any first word is cheaper than one ``in`` per word.
        self._needles = tuple(sorted({term.split()[0] for term in latin_terms}))
        self._needle = re.compile("|".join(re.escape(n) for n in self._needles) or "(?!)")

    def _split(self, normalised: str) -> list[str]:
        """Text and Latin pieces alternating, as ``re.split`` with one group returns them."""
        if self._needle.search(normalised):
            return self._protected.split(normalised)
        return self._latin.split(normalised)

    def tokens(self, text: str | None) -> list[str]:
        """Every meaningful token of ``text``, in order, repeats kept (for term counts)."""
        return [token for word in self.words(text) for token in word]

    def words(self, text: str | None) -> list[list[str]]:
        """The tokens of :meth:`tokens`, grouped as a reader wrote them: a Latin word or
        protected term alone, and the pieces jieba cut one run of Chinese into together
        (``量子纠缠`` is one word of two tokens, ``量子`` and ``纠缠``)."""
        if not text:
            return []
        out: list[list[str]] = []
        parts = self._split(_normalise(text))
        for index, part in enumerate(parts):
            if index % 2:  # a protected term or a Latin word
                token = " ".join(part.split())
                if token not in self.stopwords and not token.strip("_").isdigit():
                    out.append([token])
                continue
            for chunk in _CJK_RUN.findall(part):
                pieces = [w for w in self._jieba.cut(chunk) if w not in self.stopwords]
                if pieces:
                    out.append(pieces)
        return out

    def raw_tokens(self, text: str | None) -> list[str]:
        """The tokens of :meth:`tokens` as the index counts them, before stop words and
        blanks are dropped, with the Chinese runs cut in one jieba call (joined by spaces,
        where jieba always cuts) rather than one per run.

        The index counts a whole batch of posts at once (``lib.ingest.postings``), so it
        drops words per distinct word of the batch (:meth:`indexable`), not per post.
        """
        if not text:
            return []
        normalised = _normalise(text)
        protected = self._needle.search(normalised) is not None
        parts = (self._protected if protected else self._latin).split(normalised)
        latin = parts[1::2]
        if protected:  # a protected term may span a line break or several spaces
            latin = [" ".join(part.split()) for part in latin]
        latin.extend(self._jieba.cut(_NOT_CJK.sub(" ", " ".join(parts[0::2]))))
        return latin

    def raw_tokens_apart(self, texts: Iterable[str]) -> list[str]:
        """The :meth:`raw_tokens` of each of ``texts``, in one call: a post's text and its
        title are cut alike, and the calls' own cost is most of a short title's.

        The texts are joined by a NUL, which normalises alone, ends a Latin word or term
        and starts none (a protected term spans only whitespace), and becomes a space,
        where jieba always cuts: the tokens are those of each text (with blanks more).
        """
        return self.raw_tokens(_APART.join(texts))

    def indexable(self, word: str) -> bool:
        """Whether a token of :meth:`raw_tokens` is counted: not a stop word, not blank,
        not a bare number in underscores."""
        return not (
            word in self.stopwords
            or word.isspace()
            or (word[0] == "_" and word.strip("_").isdigit())
        )

    def is_topical(self, term: str) -> bool:
        """Whether a token can stand as a topic: a dictionary term, or a noun-like word.

        Searching needs every word; a topic list of 随着, 所有 and "given" reads as noise.
        """
        if term in self.terms:
            return True
        if term in self.not_topics or _NOT_A_TOPIC.match(term):
            return False
        if not CJK.search(term):
            return len(term) >= 3 or any(ch.isdigit() for ch in term[1:])
        if len(term) < 2:
            return False
        tags = self._jieba.tag(term)
        if len(tags) > 1:  # a compound jieba only knows as a whole: usually a technical term
            return True
        return tags[0][1].startswith(_TOPIC_POS)


def _words(path: Path) -> list[str]:
    return [word for line in read_lines(path) for word in line.split()]


@lru_cache(maxsize=1)
def default_segmenter() -> Segmenter:
    """The segmenter with every dictionary file in ``data/dictionary`` (word lists apart)."""
    terms: list[str] = []
    for path in sorted(DICTIONARY_DIR.glob("*.txt")):
        if path.name not in WORD_LISTS:
            terms.extend(read_lines(path))
    return Segmenter(
        terms,
        _words(DICTIONARY_DIR / STOPWORDS_FILE),
        _words(DICTIONARY_DIR / NOT_TOPICS_FILE),
    )


def tokens(text: str | None) -> list[str]:
    return default_segmenter().tokens(text)
