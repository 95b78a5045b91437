"""Fetching a feed from a hostile server: a trickle, and redirects where a feed never is.

The servers are ``FeedServer`` on 127.0.0.1; a redirect to another address is refused
before any connection to it is made.
"""

from __future__ import annotations

import pytest

from lib.ingest import IngestError
from lib.ingest.reading import read_bytes
from tests.helpers import FeedServer, rss

FEED = rss([("标题", "https://blog.example/1", "2026-01-05")])


def test_a_feed_sent_a_byte_at_a_time_is_given_up_at_the_deadline(
    feed_server: FeedServer,
) -> None:
    """Each byte came well within the socket's timeout, so the fetch never ended."""
    feed_server.drip_s = 0.2
    url = feed_server.serve("/slow.xml", FEED)
    with pytest.raises(IngestError, match="took longer than 1 s"):
        read_bytes(url, timeout=5, deadline_s=1)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("ftp://127.0.0.1:9/feed.xml", "non-http"),  # urllib follows ftp:// redirects
        ("file:///etc/passwd", "Redirection to url"),  # refused by urllib itself
        ("http://169.254.169.254/latest/meta-data/", "internal address"),
        ("http://2852039166/latest/meta-data/", "internal address"),  # the same, as a number
    ],
)
def test_a_redirect_out_of_the_web_is_refused(
    feed_server: FeedServer, target: str, reason: str
) -> None:
    url = feed_server.serve("/feed.xml", b"", 302, {"Location": target})
    with pytest.raises(IngestError, match=reason):
        read_bytes(url, timeout=5)


def test_a_redirect_between_paths_of_one_server_is_followed(feed_server: FeedServer) -> None:
    feed_server.serve("/new.xml", FEED)
    url = feed_server.serve("/old.xml", b"", 301, {"Location": feed_server.url("/new.xml")})
    assert read_bytes(url, timeout=5) == FEED
