"""Field cleaning at the door: only absolute http(s) links survive, dates are read or refused."""

from __future__ import annotations

from datetime import date

import pytest

from lib.ingest.fields import clean_url, parse_date


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/relative/path",
        "https://exa mple.com/",
        "https://example.com/\tx",
        "https://example.com/\x7f",
        "ftp://example.com/file",
        "",
        None,
    ],
)
def test_clean_url_refuses_anything_but_absolute_http_links(value: object) -> None:
    assert clean_url(value) is None


def test_clean_url_keeps_http_links_and_resolves_site_relative_ones() -> None:
    assert (
        clean_url(" HTTPS://Blog.Example.com/posts/1/#top ") == "https://blog.example.com/posts/1/"
    )
    assert clean_url("/posts/2/", base="https://blog.example.com/feed.xml") == (
        "https://blog.example.com/posts/2/"
    )


def test_parse_date_reads_the_usual_spellings_and_refuses_text() -> None:
    assert parse_date("2026-01-11") == date(2026, 1, 11)
    assert parse_date("Sun, 11 Jan 2026 08:00:00 +0800") == date(2026, 1, 11)
    assert parse_date(1768089600) == date(2026, 1, 11)
    with pytest.raises(ValueError, match="not a date"):
        parse_date("sometime last year")
