"""Cleaning of individual field values shared by every parser.

Every source spells dates, tags and links differently; normalising them in one
place is what lets the merge step compare sightings from different sources.
"""

from __future__ import annotations

import email.utils
import functools
import re
import unicodedata
from collections.abc import Iterable
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime
from urllib.parse import urlsplit, urlunsplit

from dateutil import parser as date_parser

from lib.dates import OutOfRange
from lib.text import CJK_EXTENSION_A, CJK_UNIFIED

_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # C0 controls but tab and newlines
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# An ISO date, alone or before a time, whatever its year: a year Python's dates cannot
# hold (0000, -0001, 10000) is a date out of range, not text that is not a date.
_ISO_DAY = re.compile(r"^([+-]?\d{4,9})-(\d{2})-(\d{2})(?:$|[T ])")
_EPOCH = re.compile(r"^\d{9,19}$")
# A number is read as a moment since 1970 from 1e8 on (March 1973): smaller ones are a
# year (``date: 2024``), a count or a placeholder (0), never a post's time. Larger ones are
# milliseconds (JavaScript's ``Date.now()``), microseconds or nanoseconds, by magnitude.
_EPOCH_FROM = 1e8
_EPOCH_UNTIL = 1e19  # past 64-bit nanoseconds: no clock writes such a number
_EPOCH_UNITS = ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3))
# Chinese and Japanese dates, ``2024年1月5日`` (full-width digits are folded first).
_CJK_DAY = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
# Two far-apart defaults for dateutil: a field the text lacks is filled from the default,
# so a text read alike under both has a year, a month and a day of its own.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2011, 12, 31))
# A year before 1000 written with four digits ("Mon, 01 Jan 0001", Hugo's zero date in
# feeds), which dateutil reads as a two-digit year (2001); not a time or an offset.
_PADDED_YEAR = re.compile(r"(?<![\d:+-])0\d{3}(?![\d:])")
_NOT_WORD = re.compile(r"[\W_]+")
_URL_BREAKER = re.compile(r"[\s\x00-\x1f\x7f]")  # whitespace or a control character
# Joiners that scripts need: ZWJ builds emoji sequences and Indic conjuncts, ZWNJ
# separates Persian and Indic letters. Every other invisible format character goes.
JOINERS = "\u200c\u200d"
# Where a joiner joins nothing: next to ASCII, CJK, kana or Hangul (scripts that never
# join), or at an end. There it only makes ``a\u200db`` a second tag that looks like ``ab``.
_NON_JOINING = r"[\x00-\x7f\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]"
_IDLE_JOINERS = re.compile(
    rf"(?:^|(?<={_NON_JOINING}))[{JOINERS}]+|[{JOINERS}]+(?={_NON_JOINING}|$)"
)
# A variation selector after a Latin letter selects nothing (no letter has a variant), so
# it only makes ``a\ufe0f`` a second tag that looks like ``a``; digits keep theirs (keycaps).
_IDLE_SELECTORS = re.compile(r"(?<=[A-Za-z])[\ufe00-\ufe0f]+")
# Hangul fillers: letters (not format characters) that draw nothing, so a tag or a
# category of them looks empty; modern Korean text does not use them.
HANGUL_FILLERS = "\u115f\u1160\u3164\uffa0"
MAX_MARKS = 3  # combining marks kept on one base character; more is "zalgo" text
TAG_SEPARATORS = re.compile(r"[,;|，；、]")  # in RE2's syntax too (the fast lane's twin)

# The SQL twins below let the fast lane (``lib.ingest.fast_lane``) check in DuckDB that a
# rule would leave a value as it is; each is tested against its Python rule.
#
# Characters on which Python's NFKC + lower() and DuckDB's lower() (after mapping the
# fullwidth forms) agree, and which Python's \w and RE2's [\p{L}\p{N}] classify alike:
# printable ASCII, Latin-1 letters, general punctuation, CJK punctuation, CJK ideographs
# and the fullwidth ASCII forms Chinese text uses (，：（）). None of them is a format
# character or a combining mark, which :func:`without_deceptive_characters` removes or
# caps: text holding one takes the per-record path (the CJK tone marks U+302A–U+302D
# are left out for this; the tests check every character of the set).
SAFE_RANGES = (
    (0x20, 0x7E), (0xB7, 0xB7), (0xC0, 0xFF), (0x2010, 0x2027), (0x2030, 0x205E),
    (0x3001, 0x3029), (0x302E, 0x3037), (0x303B, 0x303F), CJK_EXTENSION_A,
    CJK_UNIFIED, (0xFF01, 0xFF5E),
)  # fmt: skip
SAFE_CHARACTERS = "".join(
    rf"\x{{{first:X}}}" + (rf"-\x{{{last:X}}}" if last > first else "")
    for first, last in SAFE_RANGES
)  # for an RE2 character class
SAFE_LINE = rf"^[{SAFE_CHARACTERS}]+$"  # one line of safe characters
_UNEVEN_SPACING = r"^ | $|  "
# urlunsplit(urlsplit(url)) == url: lower-case scheme and host, a path, no fragment,
# no empty query, and only printable ASCII (no '<', which the HTML check would look at).
# No port either, so that ``identity.link_key_sql`` has none to drop.
_KEPT_URL = r"^https?://[a-z0-9.-]+/[!-\"$-;=-~]*$"


def clean_text(value: object) -> str | None:
    """Strip, drop control characters and deceptive ones, and turn empty into ``None``.

    Placeholders such as "N/A" are left alone on purpose: only the UI decides how a
    missing value looks, and a literal "N/A" in a source is its author's text.
    """
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from pandas/pyarrow
        return None
    text = without_deceptive_characters(_CONTROL.sub("", str(value)))
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def without_deceptive_characters(text: str) -> str:
    """Text without bidi controls or other invisible format characters (Unicode's ``Cf``,
    but the joiners where they join), without Hangul fillers, and with at most
    :data:`MAX_MARKS` combining marks on a character.

    A right-to-left override shows ``gnp.exe`` as ``exe.png``; invisible characters make
    two equal-looking titles differ; a pile of combining marks spills over the lines
    around it. Every parser's text goes through here, and the fast lane only takes text
    this leaves unchanged (``lib.ingest.fast_lane``).
    """
    invisible, marks = _deceptive_patterns()
    text = _IDLE_SELECTORS.sub("", _IDLE_JOINERS.sub("", invisible.sub("", text)))
    return marks.sub(_cap_marks, text)


@functools.cache
def _deceptive_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Character classes built from Python's Unicode tables on first use, not at import."""
    invisible, marks = [], []
    # Format characters and marks live in planes 0, 1 and 14 only.
    for code in (*range(0x20000), *range(0xE0000, 0xE1000)):
        category = unicodedata.category(chr(code))
        if (category == "Cf" and chr(code) not in JOINERS) or chr(code) in HANGUL_FILLERS:
            invisible.append(code)
        elif category in ("Mn", "Me"):
            marks.append(code)
    mark = _char_class(marks)
    # Runs of more marks than are kept, counted across joiners so that a joiner between
    # them cannot restart the count; shorter runs, most of them, never reach Python.
    too_many = f"{mark}(?:[{JOINERS}]*{mark}){{{MAX_MARKS},}}"
    return re.compile(_char_class(invisible)), re.compile(too_many)


def _char_class(codes: list[int]) -> str:
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]"


def _cap_marks(run: re.Match[str]) -> str:
    """The first :data:`MAX_MARKS` marks of a run, and its joiners."""
    kept: list[str] = []
    marks = 0
    for char in run.group():
        if char not in JOINERS:
            marks += 1
            if marks > MAX_MARKS:
                continue
        kept.append(char)
    return "".join(kept)


def clean_line(value: object) -> str | None:
    """Like :func:`clean_text` but folded onto one line (titles, categories, tags)."""
    text = clean_text(value)
    if text is None:
        return None
    return _WS.sub(" ", text) or None


def clean_line_keeps_sql(column: str, also: str = "") -> str:
    """SQL true where :func:`clean_line` leaves ``column`` as it is (or it is NULL):
    safe characters only, single inner spaces, none at the ends. ``also`` is a further
    condition on a value that is there."""
    return (
        f"({column} IS NULL OR (regexp_matches({column}, '{SAFE_LINE}')"
        f" AND NOT regexp_matches({column}, '{_UNEVEN_SPACING}'){also}))"
    )


def parse_date(value: object) -> date | OutOfRange | None:
    """Read a publication date from any of the usual spellings.

    Raises ``ValueError`` for text (or a number) that is not a date, so that the parser
    can name the row; silently dropping a bad date would hide a broken export. An ISO
    date whose year Python cannot hold comes back as :class:`~lib.dates.OutOfRange`;
    ``lib.dates.kept_date`` decides which of the others the store keeps.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_epoch(value)
    text = clean_line(value)
    if text is None:
        return None
    text = unicodedata.normalize("NFKC", text)  # full-width and other digits as ASCII ones
    iso = _ISO_DAY.match(text)
    if iso and not MINYEAR <= int(iso.group(1)) <= MAXYEAR:
        if not (1 <= int(iso.group(2)) <= 12 and 1 <= int(iso.group(3)) <= 31):
            raise ValueError(f"not a date: {text[:40]!r}")
        return OutOfRange(text[:40])
    if _ISO_DATE.match(text):
        return date.fromisoformat(text)
    if _EPOCH.match(text):
        return parse_date(int(text))
    cjk = _CJK_DAY.match(text)
    if cjk:
        return date(*map(int, cjk.groups()))
    parsed = _rfc822_date(text) or _complete_date(text)
    padded = _PADDED_YEAR.search(text)
    if padded and int(padded.group()) != parsed.year:
        if int(padded.group()) < MINYEAR:
            return OutOfRange(text[:40])
        return parsed.replace(year=int(padded.group()))
    return parsed


def _rfc822_date(text: str) -> date | None:
    """The day of an RSS date (``Mon, 01 Jan 2024 08:00:00 +0800``) as written, else ``None``:
    the standard library reads it ten times faster than dateutil, and a feed holds thousands."""
    fields = email.utils.parsedate_tz(text)
    if fields is None:
        return None
    try:
        return date(*fields[:3])
    except ValueError as exc:  # 30 Feb
        raise ValueError(f"not a date: {text[:40]!r}") from exc


def _complete_date(text: str) -> date:
    """The date dateutil reads in ``text``, which must name its year, month and day.

    dateutil fills a missing field from today: ``2024`` became today's day in 2024,
    ``Monday`` the next Monday, ``12:00`` today; each is refused instead.
    """
    try:
        first, second = (date_parser.parse(text, default=d).date() for d in _DEFAULTS)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a date: {text[:40]!r}") from exc
    if first != second:
        raise ValueError(f"not a date (no year, month and day): {text[:40]!r}")
    return first


def _from_epoch(value: float) -> date:
    """Seconds since 1970 from 1e8 on; milliseconds, microseconds or nanoseconds by size.

    A number no clock reaches (``1e20``, infinity, NaN) is not a date: it raises
    ``ValueError`` as bad text does, instead of the ``OverflowError`` or ``OSError``
    that the conversion throws for it. Neither is a small one (:data:`_EPOCH_FROM`).
    """
    if value != value:
        raise ValueError("not a date: NaN")
    if not abs(value) >= _EPOCH_FROM:
        raise ValueError(f"not a date: {value!r:.40} (a year or a count, not a time)")
    if abs(value) >= _EPOCH_UNTIL:
        raise ValueError(f"not a date: {value!r:.40}")
    try:
        divisor = next((unit for limit, unit in _EPOCH_UNITS if abs(value) >= limit), 1)
        return datetime.fromtimestamp(value / divisor, tz=UTC).date()
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"not a date: {value!r:.40}") from exc


def clean_url(value: object, base: str | None = None) -> str | None:
    """Keep only absolute http(s) links; anything else becomes ``None``.

    Post text is untrusted: a ``javascript:`` or ``data:`` link must never reach a
    page, so it is dropped here, at the door, and not only when rendering.
    """
    text = clean_line(value)
    if text is None:
        return None
    try:
        if base and text.startswith("/") and not text.startswith("//"):
            base_parts = urlsplit(base)
            if base_parts.scheme in ("http", "https") and base_parts.netloc:
                text = f"{base_parts.scheme}://{base_parts.netloc}{text}"
        parts = urlsplit(text)
    except ValueError:  # "https://[oops": not a link anyone can follow
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if _URL_BREAKER.search(text):
        return None
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def clean_url_keeps_sql(column: str) -> str:
    """SQL true where :func:`clean_url` leaves ``column`` as it is (or it is NULL)."""
    return (
        f"({column} IS NULL OR (regexp_matches({column}, '{_KEPT_URL}')"
        f" AND NOT ends_with({column}, '?')))"
    )


def split_tags(value: object) -> tuple[str, ...]:
    """Tags from a list, or from a comma/semicolon/pipe separated string, deduplicated."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[object] = TAG_SEPARATORS.split(value)
    elif isinstance(value, Iterable):
        items = value
    else:
        items = [value]
    seen: dict[str, None] = {}
    for item in items:
        if isinstance(item, (list, tuple)):
            for tag in split_tags(item):
                seen.setdefault(tag, None)
            continue
        tag = clean_line(item)
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)


def split_tags_sql(column: str) -> tuple[str, str]:
    """:func:`split_tags` in SQL, for a string of safe characters on one line
    (``SAFE_LINE``): the pieces cut at the separators, spaces folded, empty ones dropped;
    and the tags, those pieces without repeats (the first of each kept), an empty list
    where :func:`split_tags` gives no tags."""
    pieces = (
        f"list_filter(list_transform(string_split_regex({column}, '{TAG_SEPARATORS.pattern}'),"
        " lambda x: trim(regexp_replace(x, ' +', ' ', 'g'))), lambda x: x <> '')"
    )
    return pieces, f"list_filter({pieces}, lambda x, i: list_position({pieces}, x) = i)"


def after_title(text: str, title: object) -> str:
    """``text`` without a first line that only repeats the title (a Markdown post opening
    with ``# Title``, Medium's feed): what an excerpt starts from, and what the post page
    shows under the title it has already shown."""
    first, _, rest = text.partition("\n")
    wanted = match_text(clean_line(title))
    return rest.strip() if wanted and rest.strip() and match_text(first) == wanted else text


def may_repeat_title_sql(body: str, title: str) -> str:
    """SQL true wherever :func:`after_title` may find the ``body`` column opening with the
    ``title`` column (the fast lane's twin, over-inclusive: letters and digits compared in
    lower case, and a fullwidth one in either, which NFKC maps, always counts as a maybe)."""
    letters = "regexp_replace(lower({}), '[^\\p{{L}}\\p{{N}}]', '', 'g')"
    opening = f"left({body}, 1000)"
    fullwidth = "'[０-９Ａ-Ｚａ-ｚ]'"
    return (
        f"(starts_with({letters.format(opening)}, {letters.format(title)})"
        f" OR regexp_matches({title}, {fullwidth}) OR regexp_matches({opening}, {fullwidth}))"
    )


def match_text(value: str | None) -> str:
    """Text reduced to letters and digits, for deciding whether two sightings are one post.

    The listing scraper drops hyphens and spacing (``Kimi-VL`` becomes ``KimiVL``) and
    replaces code and formulas by markers, so identity has to ignore all of that.
    """
    if not value:
        return ""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", value).lower())
