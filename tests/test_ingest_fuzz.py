"""Fuzzed import files: records or an ``IngestError`` naming the file, never a crash.

Inputs are seeded: random bytes, truncated and mutated copies of the bundled snapshots
and the test fixtures, and a few structural extremes (huge lines, NUL bytes, BOMs,
nesting). Most go straight to the parsers, which is where every byte of a file is read;
a smaller set goes through ``run_ingest`` into a real store, which must stay exactly as it
was whenever the run fails.
"""

from __future__ import annotations

import hashlib
import io
import random
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.config import SEED_DIR
from lib.ingest import IngestError, ParseOptions, run_ingest
from lib.ingest.detect import EXTENSIONS, PARSERS
from lib.ingest.records import PostRecord
from tests.helpers import FIXTURES, table_state

SUFFIX = {fmt: ext for ext, fmt in reversed(list(EXTENSIONS.items()))}
TOKENS = [
    b"\x00",
    b"\xff",
    b"\xef\xbb\xbf",
    b"\n",
    b"\r\n",
    b"---\n",
    b"+++\n",
    b"<",
    b">",
    b"&",
    b"]]>",
    b"<![CDATA[",
    b"<!--",
    b'"',
    b",",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"...",
    "中文".encode(),
    "中".encode()[:2],  # half a character
    b"\t",
    b"\\",
    b"&#0;",
    b"javascript:alert(1)",
    b"2025-13-45",
    b"9999999999999999999999",
    b"LATEST UPDATES",
]


def seed_files() -> dict[str, list[bytes]]:
    """Valid (and some known-bad) files of every format, to mutate."""
    parquet = io.BytesIO()
    pq.write_table(
        pa.table(
            {
                "title": ["A post", "Another"],
                "excerpt": ["Some text", "More text"],
                "url": ["https://example.com/1", None],
                "published": ["2025-01-02", "2025-02-03"],
            }
        ),
        parquet,
    )
    bad = FIXTURES / "bad"
    return {
        "snapshot": [p.read_bytes() for p in sorted(SEED_DIR.glob("*.txt"))],
        "feed": [p.read_bytes() for p in sorted((FIXTURES / "feeds").iterdir())]
        + [(bad / "truncated_rss.xml").read_bytes()],
        "markdown": [p.read_bytes() for p in sorted((FIXTURES / "markdown").iterdir())]
        + [(bad / "broken-toml.md").read_bytes(), (bad / "broken-yaml.md").read_bytes()],
        "csv": [
            (FIXTURES / "tabular" / "posts.csv").read_bytes(),
            (FIXTURES / "tabular" / "mapped-columns.csv").read_bytes(),
            (bad / "bad-date.csv").read_bytes(),
            (bad / "too-many-fields.csv").read_bytes(),
        ],
        "jsonl": [(FIXTURES / "tabular" / "posts.jsonl").read_bytes()],
        "json": [
            (FIXTURES / "tabular" / "posts.json").read_bytes(),
            (bad / "syntax-error.json").read_bytes(),
        ],
        "parquet": [parquet.getvalue()],
    }


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        op = rng.randrange(6)
        i = rng.randrange(len(out) + 1)
        if op == 0:
            del out[i : i + rng.randrange(1, 50)]
        elif op == 1:
            out[i:i] = rng.choice(TOKENS)
        elif op == 2 and out:
            out[min(i, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif op == 3:
            del out[i:]  # truncated
        elif op == 4:
            j = min(len(out), i + rng.randrange(1, 200))
            out[i:i] = out[i:j] * rng.randrange(2, 4)
        else:
            out[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20)))
    return bytes(out)


def extreme(rng: random.Random, fmt: str, seeds: list[bytes]) -> bytes:
    """Structural extremes that stay within what the parsers are expected to survive."""
    kind = rng.randrange(6)
    if kind == 0:  # one huge line
        return rng.choice([b"x", "长".encode(), b"a,"]) * rng.randrange(100_000, 400_000)
    if kind == 1:  # many short lines
        return b"\n".join(rng.choice(TOKENS) for _ in range(rng.randrange(1_000, 20_000)))
    if kind == 2:  # NUL bytes, or a UTF-16 file
        return b"\x00" * rng.randrange(1, 5000) if rng.random() < 0.5 else _utf16(seeds, rng)
    if kind == 3:  # nesting, kept shallower than Python's recursion limit
        depth = rng.randrange(10, 200)
        return b"[" * depth + b"]" * depth if fmt != "markdown" else _front_matter(depth)
    if kind == 4:  # empty, or whitespace only
        return rng.choice([b"", b" \n\t\r\n", b"\xef\xbb\xbf"])
    return rng.choice(seeds) * rng.randrange(2, 5)  # a file repeated


def _utf16(seeds: list[bytes], rng: random.Random) -> bytes:
    return rng.choice(seeds).decode("utf-8", "replace").encode("utf-16")


def _front_matter(depth: int) -> bytes:
    return b"---\ntitle: " + b"[" * depth + b"x" + b"]" * depth + b"\n---\nbody\n"


def fuzz_files(n: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    seeds = seed_files()
    files: list[tuple[str, bytes]] = []
    for _ in range(n):
        fmt = rng.choice(list(PARSERS))
        roll = rng.random()
        if roll < 0.15:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 2000)))
        elif roll < 0.25:
            source = rng.choice(seeds[fmt])
            data = source[: rng.randrange(len(source) + 1)]
        elif roll < 0.9:
            data = mutate(rng, rng.choice(seeds[fmt]))
        else:
            data = extreme(rng, fmt, seeds[fmt])
        files.append((fmt, data))
    return files


def parse(fmt: str, data: bytes) -> list[PostRecord] | IngestError:
    """The parser's records, or its ``IngestError``; anything else propagates (a crash)."""
    try:
        return PARSERS[fmt](data, f"fuzz{SUFFIX[fmt]}", ParseOptions())
    except IngestError as exc:
        return exc


def test_fuzzed_files_give_records_or_an_ingest_error() -> None:
    files = fuzz_files(1500, seed=5)
    assert len(files) >= 1000
    crashes: list[str] = []
    parsed = failed = 0
    for fmt, data in files:
        try:
            outcome = parse(fmt, data)
        except Exception as exc:
            crashes.append(f"{fmt}: {type(exc).__name__}: {exc} for {data[:80]!r}")
            continue
        if isinstance(outcome, IngestError):
            assert outcome.source and str(outcome).startswith(outcome.source)
            failed += 1
        else:
            assert all(isinstance(r, PostRecord) for r in outcome)
            parsed += 1
    assert crashes == []
    assert parsed >= 100 and failed >= 100, (parsed, failed)  # both paths were exercised


def _snapshot(db: str) -> tuple[str, list[str], list[tuple]]:
    folder = Path(db).parent
    digest = hashlib.sha256(Path(db).read_bytes()).hexdigest()
    files = sorted(p.name for p in folder.iterdir() if p.parent == folder and p.is_file())
    return digest, files, table_state(db)


def test_failed_imports_leave_the_store_unchanged(db_path: str, tmp_path: Path) -> None:
    run_ingest(db_path, [str(SEED_DIR)])
    before = _snapshot(db_path)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    bad = [(fmt, data) for fmt, data in fuzz_files(400, seed=9) if _fails(fmt, data)]
    bad = bad[:60]
    assert len(bad) == 60
    for i, (fmt, data) in enumerate(bad):
        source = inputs / f"{i:03d}{SUFFIX[fmt]}"
        source.write_bytes(data)
        with pytest.raises(IngestError):
            run_ingest(db_path, [str(source)], fmt=fmt)
        assert _snapshot(db_path) == before, f"input {i} ({fmt}) changed the store"


def _fails(fmt: str, data: bytes) -> bool:
    try:
        return isinstance(parse(fmt, data), IngestError)
    except Exception:
        return False  # a crash: reported by the parser test, not this one


# --- Known crashes, for the ingest code's owner ------------------------------------------------

DEEP = 50_000
DEEPLY_NESTED = {
    "json-array": ("json", b"[" * DEEP + b"]" * DEEP),
    "jsonl-object": ("jsonl", b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"\n"),
    "yaml-front-matter": ("markdown", _front_matter(10_000)),
    "toml-front-matter": (
        "markdown",
        b"+++\ntitle = " + b"[" * 10_000 + b"]" * 10_000 + b"\n+++\nbody\n",
    ),
}
BRACKET_URL = "https://[unbalanced/post"
BRACKET_URL_FILES = {
    "jsonl": f'{{"title": "a", "excerpt": "b", "url": "{BRACKET_URL}"}}\n'.encode(),
    "csv": f"title,excerpt,url\na,b,{BRACKET_URL}\n".encode(),
    "feed": (
        '<rss version="2.0"><channel><title>t</title><item><title>a</title>'
        f"<link>{BRACKET_URL}</link></item></channel></rss>"
    ).encode(),
    "markdown": f'---\ntitle: a\nurl: "{BRACKET_URL}"\n---\nbody\n'.encode(),
}


@pytest.mark.parametrize(("fmt", "data"), DEEPLY_NESTED.values(), ids=list(DEEPLY_NESTED))
def test_a_crashing_input_still_leaves_the_store_unchanged(
    db_path: str, tmp_path: Path, fmt: str, data: bytes
) -> None:
    """Even the inputs below, which crash the parser today, never reach the store."""
    run_ingest(db_path, [str(SEED_DIR)])
    before = _snapshot(db_path)
    (tmp_path / "inputs").mkdir()
    source = tmp_path / "inputs" / f"deep{SUFFIX[fmt]}"
    source.write_bytes(data)
    with pytest.raises(IngestError, match="nested too deeply"):
        run_ingest(db_path, [str(source)], fmt=fmt)
    assert _snapshot(db_path) == before


@pytest.mark.parametrize(("fmt", "data"), DEEPLY_NESTED.values(), ids=list(DEEPLY_NESTED))
def test_deeply_nested_input_is_an_ingest_error(fmt: str, data: bytes) -> None:
    assert isinstance(parse(fmt, data), IngestError)


@pytest.mark.parametrize("fmt", list(BRACKET_URL_FILES))
def test_a_malformed_link_is_dropped_or_an_ingest_error(fmt: str) -> None:
    outcome = parse(fmt, BRACKET_URL_FILES[fmt])
    assert isinstance(outcome, IngestError) or all(r.url is None for r in outcome)


# --- Pathological files: each within a per-file budget of CPU time ----------------------------

FILE_BUDGET_S = 20.0  # CPU seconds for one whole import (parse, merge, index) of one small file
_FRONT = "---\ntitle: t\ndate: 2024-01-02\n---\n"


def _alias_bomb() -> str:
    lines = ["a0: &a0 [" + ", ".join(["x"] * 9) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "---\ntitle: bomb\n" + "\n".join(lines) + "\ntags: *a8\n---\nbody\n"


PATHOLOGICAL: dict[str, tuple[str, str]] = {
    "brackets": ("md", _FRONT + "[" * 200_000),
    "growing-fences": ("md", _FRONT + "".join("`" * i + "\n" for i in range(1, 2001))),
    "unclosed-environments": ("md", _FRONT + "\\begin{align}\n" * 20_000),
    "unclosed-liquid": ("md", _FRONT + "{%" * 100_000),
    "nested-quotes": ("md", _FRONT + ">" * 100_000 + " x"),
    "nested-lists": ("md", _FRONT + "".join("  " * i + "- x\n" for i in range(3000))),
    "alias-bomb": ("md", _alias_bomb()),
    "nested-html-feed": (
        "xml",
        "<rss version='2.0'><channel><title>t</title><item><title>x</title><description>"
        + "&lt;div&gt;" * 50_000
        + "</description></item></channel></rss>",
    ),
    "a-million-tags": (
        "jsonl",
        '{"title": "t", "excerpt": "x", "tags": [' + ",".join(['"t"'] * 1_000_000) + "]}\n",
    ),
    "huge-title-line": ("csv", "title,excerpt\n" + "长" * 1_000_000 + ",x\n"),
    "number-dates": ("jsonl", '{"title": "t", "excerpt": "x", "published": 1e20}\n'),
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_a_pathological_file_is_imported_or_refused_within_its_budget(
    name: str, tmp_path: Path
) -> None:
    suffix, text = PATHOLOGICAL[name]
    source = tmp_path / f"{name}.{suffix}"
    source.write_text(text, encoding="utf-8")
    db = str(tmp_path / "posts.duckdb")
    started = time.process_time()
    try:
        run_ingest(db, [str(source)])
    except IngestError as exc:
        assert source.name in str(exc)  # the message names the file
    assert time.process_time() - started < FILE_BUDGET_S


# --- Numbers longer than Python converts ------------------------------------------------------

_LONG = "1" + "0" * 5000  # Python refuses int() of more than 4,300 digits with ValueError
LONG_NUMBERS: dict[str, tuple[str, str]] = {
    "json": ("json", f'[{{"title": "t", "excerpt": "x", "views": {_LONG}}}]'),
    "jsonl": ("jsonl", f'{{"title": "t", "excerpt": "x", "views": {_LONG}}}\n'),
    "toml-front-matter": ("md", f"+++\ntitle = 't'\nweight = {_LONG}\n+++\nbody\n"),
}


@pytest.mark.parametrize("name", list(LONG_NUMBERS))
def test_a_number_of_5000_digits_is_an_ingest_error_naming_the_file(name: str) -> None:
    """Each ended in a traceback (``ValueError: Exceeds the limit (4300 digits)``)."""
    fmt, text = LONG_NUMBERS[name]
    outcome = parse(EXTENSIONS[f".{fmt}"], text.encode())
    assert isinstance(outcome, IngestError), outcome
    assert f"fuzz.{fmt}" in str(outcome) and "too long" in str(outcome)


def test_a_5000_digit_number_in_yaml_front_matter_is_kept_as_text() -> None:
    (record,) = parse("markdown", f"---\ntitle: {_LONG}\n---\nbody\n".encode())
    assert record.title == _LONG
