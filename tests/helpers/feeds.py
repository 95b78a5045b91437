"""A blog's feed, served on 127.0.0.1: what the refresh and cloud tests fetch."""

from __future__ import annotations

import http.server
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape


def rss(items: list[tuple[str, str, str]], title: str = "团队博客") -> bytes:
    """An RSS 2.0 feed of ``items``: (title, link, ``YYYY-MM-DD``), newest first, as blogs
    write them; each item's link is its guid."""
    entries = "".join(
        f"<item><title>{escape(name)}</title><link>{escape(link)}</link>"
        f"<guid>{escape(link)}</guid>"
        f"<pubDate>{format_datetime(datetime.fromisoformat(day).replace(tzinfo=UTC))}</pubDate>"
        f"<description>{escape(name)}：正文摘要，讲清楚这篇笔记的要点。</description></item>"
        for name, link, day in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://team.example.com/</link>"
        f"{entries}</channel></rss>"
    ).encode()


class FeedServer:
    """An HTTP server on 127.0.0.1 whose answers a test sets, path by path.

    ``serve(path, body)`` answers 200 with ``body``; ``serve(path, b"", status=500)`` fails;
    a path never served is a 404; ``delay_s`` holds every answer back, as a slow blog does;
    ``drip_s`` sends the body a byte at a time, that many seconds apart, as a hostile one
    does; ``serve(path, b"", 302, {"Location": …})`` redirects.
    """

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.delay_s = 0.0
        self.drip_s = 0.0
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                time.sleep(owner.delay_s)
                status, body, headers = owner.routes.get(self.path, (404, b"not found", {}))
                self.send_response(status)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if not owner.drip_s:
                    self.wfile.write(body)
                    return
                try:
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(owner.drip_s)
                except OSError:  # the client gave up, as it should
                    return

            def log_message(self, *args: object) -> None:  # the test's output, not the server's
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def serve(
        self, path: str, body: bytes, status: int = 200, headers: dict[str, str] | None = None
    ) -> str:
        self.routes[path] = (status, body, headers or {})
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
