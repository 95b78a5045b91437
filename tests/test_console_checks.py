"""``lib.console.checks``: every escape is refused with a message that says what and why.

Queries run against a store built by the real ingest (the ``console_store`` fixture), and
expected values come from plain DuckDB over the same store.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit import dataframe_util

from lib import console
from lib.console import (
    EXAMPLES,
    ConsoleError,
    ConsoleRefused,
    ConsoleResult,
    ConsoleTimeout,
    check_statement,
    run_console,
)
from tests.helpers import (
    ESCAPES,
    SECRET,
    busy_workers,
)


@pytest.mark.parametrize(("sql", "says"), ESCAPES, ids=[sql[:50] for sql, _ in ESCAPES])
@pytest.mark.usefixtures("unchanged")
def test_escape_attempt_is_refused(console_store: str, target: Path, sql: str, says: str) -> None:
    text = sql.format(target=target, store=console_store)
    with pytest.raises(ConsoleRefused) as refused:
        run_console(console_store, text)
    message = refused.value.message
    assert says in message
    assert SECRET not in message
    if console_store not in text:
        assert console_store not in message  # the message never tells where the store lives


def test_there_are_at_least_thirty_escape_attempts() -> None:
    assert len(ESCAPES) >= 30
    assert len({sql for sql, _ in ESCAPES}) == len(ESCAPES)


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("", "Write a query first"),
        ("   \n\t ", "Write a query first"),
        ("SELECT 1 " + "-" * console.MAX_SQL_CHARS, "the limit is"),
        ("SELECT '\x00'", "NUL"),
        ("SELECT '\ud800'", "not valid Unicode"),
    ],
    ids=["empty", "blank", "too-long", "nul", "surrogate"],
)
def test_unusable_text_is_refused(console_store: str, sql: str, says: str) -> None:
    with pytest.raises(ConsoleRefused, match=says):
        run_console(console_store, sql)


def test_errors_are_messages_without_the_store_path(console_store: str) -> None:
    with pytest.raises(ConsoleError) as failed:
        run_console(console_store, "SELECT * FROM posts WHERE nonexistent = 1")
    assert type(failed.value) is ConsoleError
    assert "nonexistent" in failed.value.message
    assert console_store not in failed.value.message
    with pytest.raises(ConsoleError, match="syntax error"):
        run_console(console_store, "SELEC 1")
    with pytest.raises(ConsoleError, match="boom"):  # raised while the rows stream
        run_console(
            console_store, "SELECT CASE WHEN range = 5000 THEN error('boom') END FROM range(9000)"
        )


FRAGMENTS = [
    ";",
    "'",
    '"',
    "(",
    ")",
    "--",
    "/*",
    "*/",
    ",",
    "*",
    "?",
    "$1",
    "\\",
    "\x00",
    "\n",
    "🙂",
    "中文",
    "\u202e",
    "\ufeff",
    " DROP TABLE posts",
    "; DELETE FROM posts",
    " read_csv('/etc/passwd')",
    " FROM '/etc/passwd'",
    " UNION ALL SELECT * FROM duckdb_settings()",
    "'; COPY posts TO '/tmp/fuzz.csv'; --",
    " ATTACH ':memory:'",
    " LIMIT 0",
    " WHERE 1=1",
    " JOIN sightings ON TRUE",
    " ORDER BY 1 DESC",
    " GROUP BY ALL",
    " current_setting('threads')",
    " getenv('HOME')",
    "WITH x AS (SELECT 1) ",
    " SET threads=8",
]


COLUMNS = {
    "posts": ["id", "title", "category", "published", "tags", "sightings", "excerpt"],
    "sightings": ["post_id", "source", "seen_at", "truncated"],
    "ingest_runs": ["run_id", "added", "sources"],
    "post_keywords": ["term", "weight", "category"],
    "meta": ["key", "value"],
}


FUNCTIONS = [
    "count",
    "min",
    "max",
    "length",
    "lower",
    "upper",
    "len",
    "any_value",
    "approx_count_distinct",
]


def _random_text(rng: random.Random) -> str:
    kind = rng.randrange(3)
    n = rng.randrange(1, 80)
    if kind == 0:  # random bytes read as Latin-1
        return bytes(rng.randrange(256) for _ in range(n)).decode("latin-1")
    if kind == 1:  # random code points, surrogates included
        return "".join(chr(rng.randrange(0x110000)) for _ in range(n))
    return "".join(rng.choice("SELECT FROM WHERE posts ()*,;'\"-/ 0123456789abc") for _ in range(n))


def _random_query(rng: random.Random) -> str:
    table = rng.choice(list(COLUMNS))
    cols = rng.sample(COLUMNS[table], rng.randrange(1, 3))
    select = ", ".join(f"{rng.choice(FUNCTIONS)}({c})" if rng.random() < 0.3 else c for c in cols)
    sql = f"SELECT {select} FROM {table}"
    if rng.random() < 0.5:
        sql += f" WHERE {rng.choice(COLUMNS[table])} IS {rng.choice(['', 'NOT '])}NULL"
    if "(" in select and rng.random() < 0.7:
        plain = [c for c in cols if f"({c})" not in select]
        sql += " GROUP BY ALL" if plain else ""
    sql += f" LIMIT {rng.randrange(0, 50)}"
    return sql


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(7)
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randrange(1, 12))
        if op == 0:
            text = text[:i] + text[j:]
        elif op == 1:
            text = text[:i] + rng.choice(FRAGMENTS) + text[i:]
        elif op == 2:
            text = text[:i] + chr(rng.randrange(0x20, 0x3000)) + text[j:]
        elif op == 3:
            text = text[:i] + text[i:j] * rng.randrange(2, 5) + text[j:]
        elif op == 4:
            text = text[:i]
        elif op == 5:
            words = text.split(" ")
            rng.shuffle(words)
            text = " ".join(words)
        else:
            text = text.swapcase() if rng.random() < 0.5 else text + rng.choice(FRAGMENTS)
    return text


def fuzz_inputs(n: int, seed: int) -> list[str]:
    """Seeded: random text, mutations of valid and hostile SQL, and generated queries."""
    rng = random.Random(seed)
    seeds = [*EXAMPLES.values(), *(sql for sql, _ in ESCAPES)]
    inputs: list[str] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.3:
            inputs.append(_random_text(rng))
        elif roll < 0.85:
            inputs.append(_mutate(rng, rng.choice(seeds)))
        else:
            inputs.append(_random_query(rng))
    return inputs


@pytest.mark.usefixtures("unchanged")
def test_fuzzed_input_gives_a_result_or_a_message(console_store: str, target: Path) -> None:
    inputs = fuzz_inputs(1200, seed=20260101)
    assert len(inputs) >= 1000
    outcomes = {"result": 0, "refused": 0, "error": 0, "timeout": 0}
    for text in inputs:
        text = text.replace("{target}", str(target)).replace("{store}", console_store)
        try:
            result = run_console(console_store, text, timeout_s=3)
        except ConsoleTimeout:
            outcomes["timeout"] += 1
        except ConsoleRefused as exc:
            assert exc.message.strip(), text
            outcomes["refused"] += 1
        except ConsoleError as exc:
            assert exc.message.strip(), text
            outcomes["error"] += 1
        except Exception as exc:  # anything else is a crash of the console
            pytest.fail(f"{type(exc).__name__}: {exc} for input {text!r}")
        else:
            assert isinstance(result, ConsoleResult)
            dataframe_util.convert_anything_to_arrow_bytes(result.frame)
            outcomes["result"] += 1
    # The run exercised every path, not just the parser.
    assert outcomes["result"] >= 100, outcomes
    assert outcomes["refused"] >= 100, outcomes
    assert outcomes["error"] >= 100, outcomes
    assert busy_workers() == []  # nothing the fuzzer sent is still running


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_checking_any_text_gives_a_statement_or_a_message(text: str) -> None:
    try:
        checked = check_statement(text)
    except ConsoleError as exc:
        assert exc.message.strip()
    else:
        assert checked.sql.strip()
