"""Text helpers shared by ingest and the UI: derived titles and plain-text excerpts."""

from __future__ import annotations

import re

MAX_TITLE_CHARS = 60
EXCERPT_CHARS = 360

# Section headings that open many posts but say nothing about them.
_GENERIC_HEADING = re.compile(
    r"^(?:简介|概述|引言与背景|引言|背景|模型概述|题目|前言|摘要|介绍|导读|写在前面"
    r"|Introduction|Overview|Abstract|Background)(?:\s*[:：]\s*|\s+)",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://\S+")
# Markers the listing scraper puts where code, formulas and images were; the import writes
# the first two where a post's source has a code block or a formula.
CODE_MARK = "[代码]"
CODE_MARK_LATIN = "[Code]"  # not in Chinese; capitalised as [Math], unlike the [code] shortcode
MATH_MARK = "[Math]"
# Written in Python's and in RE2's syntax alike: the fast lane runs it in DuckDB too.
PLACEHOLDER = re.compile(r"\[(?:代码|Code|公式|Math|图片|Image)\]")
# A post whose ideographs are fewer than this share of its letters is not in Chinese: a
# Chinese note with English terms is far above it, an English post with a 中文 word below.
CHINESE_SHARE = 0.1
# How a cut-off text ends: a listing excerpt, a summary, :func:`plain_excerpt`.
ELLIPSES = ("...", "…")
ENDS_IN_ELLIPSIS = re.compile(rf"(?:{'|'.join(map(re.escape, ELLIPSES))})\s*$")
# Chinese, Japanese and Korean ideographs: text in them has no spaces between words.
CJK_EXTENSION_A = (0x3400, 0x4DBF)
CJK_UNIFIED = (0x4E00, 0x9FFF)
CJK_COMPATIBILITY = (0xF900, 0xFAFF)  # NFKC maps these onto unified ideographs
# For character classes: the three blocks, and the Yijing symbols between the first two.
CJK_RANGE = "".join(
    f"{chr(first)}-{chr(last)}"
    for first, last in ((CJK_EXTENSION_A[0], CJK_UNIFIED[1]), CJK_COMPATIBILITY)
)
CJK = re.compile(f"[{CJK_RANGE}]")


def written_in_chinese(text: str) -> bool:
    """Whether ``text`` (markers aside) is Chinese; a text with no letters is taken to be."""
    text = PLACEHOLDER.sub(" ", text)
    letters = sum(1 for c in text if c.isalpha())  # ideographs are letters too
    return not letters or len(CJK.findall(text)) >= CHINESE_SHARE * letters


def code_mark_in_language(text: str | None, written: str) -> str | None:
    """``text`` with its code marker in the language of ``written`` (the whole post):
    ``[代码]``, as the blog's own listing writes it, unless the post is not in Chinese."""
    if not text or CODE_MARK not in text or written_in_chinese(written):
        return text
    return text.replace(CODE_MARK, CODE_MARK_LATIN)


_LEADING_SYMBOLS = re.compile(r"^[\W_]+", re.UNICODE)
_CLAUSE_END = re.compile(r"[。！？!?；;，,\U0001F300-\U0001FAFF\u2600-\u27BF]|\s\[|$")
MIN_TITLE_CHARS = 10
_WS = re.compile(r"\s+")


def derive_title(text: str | None) -> str | None:
    """A readable title from the opening of a post, for sources that have none.

    Generic openers ("简介", "概述") and bare links are skipped so the title names
    the subject; the first clause is kept, cut at a word boundary when long.
    """
    if not text:
        return None
    cleaned = _WS.sub(" ", PLACEHOLDER.sub(" ", _URL.sub(" ", text))).strip()
    cleaned = _LEADING_SYMBOLS.sub("", cleaned)
    cleaned = _GENERIC_HEADING.sub("", cleaned, count=1)
    # Extend clause by clause until the title says something ("24年12月" alone does not).
    end = 0
    clause = ""
    while len(clause) < MIN_TITLE_CHARS and end < len(cleaned):
        match = _CLAUSE_END.search(cleaned, end + 1)
        end = match.start() if match else len(cleaned)
        clause = cleaned[:end].strip()
    clause = clause.rstrip(".…:： ")
    if not clause:
        return None
    if len(clause) <= MAX_TITLE_CHARS:
        return clause
    cut = clause[:MAX_TITLE_CHARS]
    space = cut.rfind(" ")
    if space > MAX_TITLE_CHARS // 2 and cut[space - 1 : space].isascii():
        cut = cut[:space]
    return cut.rstrip() + "…"


def plain_excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str | None:
    """The opening of a body as one line, for sources that give no summary."""
    if not text:
        return None
    flat = _WS.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat or None
    return flat[:limit].rstrip() + ELLIPSES[0]


def plain_excerpt_sql(column: str) -> str:
    """:func:`plain_excerpt` in SQL, for text the fast lane's checks have passed (no
    leading or trailing whitespace, nothing but the whitespace RE2's ``\\s`` knows)."""
    flat = f"regexp_replace({column}, '\\s+', ' ', 'g')"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL"
        f" WHEN length({flat}) <= {EXCERPT_CHARS} THEN {flat}"
        f" ELSE rtrim(left({flat}, {EXCERPT_CHARS})) || '{ELLIPSES[0]}' END"
    )


def singular_forms(word: str) -> tuple[str, ...]:
    """What a Latin word may be the plural of (``embeddings`` → ``embedding``, ``biases`` →
    ``bias``, ``strategies`` → ``strategy``), longest ending first; none for a word under
    four letters (``gas``, ``its``) or ending in ``ss``, and no singular under three letters
    (``uses``). Whether one is a word is for the caller's vocabulary to say."""
    if len(word) < 4 or not word.endswith("s") or word.endswith("ss") or CJK.search(word):
        return ()
    forms = [word[:-1]]
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    return tuple(form for form in forms if len(form) >= 3)
