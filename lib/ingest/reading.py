"""Turning a file or URL into text, refusing what is not text.

Every parser goes through here, so that each file is read in its own encoding (UTF-8,
else the one it is found to be in, or the one forced with ``--encoding``), and an empty
file, a binary file or bytes no encoding reads fail the same way: a message naming the
file and the first bad line.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from charset_normalizer import from_bytes

from lib.ingest.naming import scrub_message, shown_name, split_userinfo
from lib.ingest.records import IngestError

MAX_FETCH_BYTES = 200 * 1024 * 1024
# A whole fetch, however its bytes trickle in: the socket's timeout bounds each wait, and a
# server sending a byte every few seconds would otherwise hold an import for days.
MAX_FETCH_SECONDS = 300.0
READ_CHUNK = 1 << 16
USER_AGENT = "blog-topic-explorer/0.1 (+ingest)"


class _Overdue(Exception):
    """A fetch still running at its deadline."""


class _RedirectGuard(urllib.request.HTTPRedirectHandler):
    """Redirects to http(s) only (urllib also follows ``ftp://``), and never from a feed's
    host to a link-local address (a cloud's metadata service, 169.254.169.254) or from a
    public host to a private, loopback or reserved one: a hostile blog could otherwise make
    the server fetch, and import, what only the server can reach."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        target = urlsplit(newurl)
        if target.scheme.lower() not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, "redirect to a non-http(s) URL", headers, fp)
        before, after = _addresses(urlsplit(req.full_url).hostname), _addresses(target.hostname)
        if any(a.is_link_local for a in after) or (
            any(_internal(a) for a in after) and not all(_internal(a) for a in before)
        ):
            raise urllib.error.HTTPError(
                newurl, code, "redirect to an internal address refused", headers, fp
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _addresses(host: str | None) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses ``host`` stands for (none when it does not resolve: the fetch then fails)."""
    if not host:
        return []
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    return [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in found]


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not address.is_global


def is_web_url(source: str) -> bool:
    """Whether ``source`` is fetched over http(s) rather than read from a file."""
    return source.lower().startswith(("http://", "https://"))


def read_bytes(source: str, timeout: float = 30.0, deadline_s: float = MAX_FETCH_SECONDS) -> bytes:
    """The raw bytes of a local file or an http(s) URL.

    A URL's ``user:password@`` is sent as HTTP Basic authentication; messages name the URL
    without credentials (see :mod:`lib.ingest.naming`).
    """
    if is_web_url(source):
        url, login = split_userinfo(source)
        opener = urllib.request.build_opener(_RedirectGuard)
        if login is not None:
            # Preemptive, and only for this URL: urllib passes a header added by the
            # handler to no redirect target, where a plain header would go to any host.
            passwords = urllib.request.HTTPPasswordMgrWithPriorAuth()
            passwords.add_password(None, url, *login, is_authenticated=True)
            opener.add_handler(urllib.request.HTTPBasicAuthHandler(passwords))
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with opener.open(request, timeout=timeout) as response:
                data = _read_within(response, time.monotonic() + deadline_s)
        except _Overdue:
            raise IngestError(
                shown_name(source), f"cannot fetch: took longer than {deadline_s:g} s"
            ) from None
        except (OSError, ValueError, http.client.HTTPException) as exc:  # InvalidURL is one
            # "from None": a traceback printed anywhere must not show the URL either.
            reason = scrub_message(str(exc), source)
            raise IngestError(shown_name(source), f"cannot fetch: {reason}") from None
        if len(data) > MAX_FETCH_BYTES:
            raise IngestError(shown_name(source), f"larger than {MAX_FETCH_BYTES} bytes")
        return data
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise IngestError(source, f"cannot read: {exc.strerror or exc}") from exc


def _read_within(response: http.client.HTTPResponse, deadline: float) -> bytes:
    """At most ``MAX_FETCH_BYTES + 1`` bytes of ``response``, raising :class:`_Overdue` past
    ``deadline``: ``read1`` returns what one wait brings, so the clock is looked at often."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_FETCH_BYTES:
        if time.monotonic() > deadline:
            raise _Overdue
        chunk = response.read1(min(READ_CHUNK, MAX_FETCH_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


UTF8 = "utf-8-sig"  # a byte order mark is allowed, and dropped
PREFERRED = ("gb18030", "big5", "cp1252")
BINARY_FORMATS = frozenset({"parquet"})
NEAR_TIE = 0.02  # charset-normalizer's chaos: 0 for a clean reading, 1 for noise


def text_encoding(data: bytes, source: str, forced: str | None = None) -> str:
    """The encoding a file is read with: ``forced`` (``--encoding``) for every file, else
    UTF-8, else the legacy encoding charset-normalizer finds for this file alone (a GBK
    post among UTF-8 ones is read as GB18030).

    Raises for an empty or binary file, and for one that no encoding reads: bytes that
    are mostly valid UTF-8 are UTF-8 with damage, not another encoding, since a guess
    would store mojibake (the message names the first bad line).
    """
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise IngestError(source, "the file is empty")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise IngestError(source, "binary data (NUL byte), not a text file", line=line)
    if forced:
        return forced
    try:
        data.decode(UTF8)
    except UnicodeDecodeError as exc:
        found = None if _damaged_utf8(data) else _legacy_encoding(data)
        if found is None:
            line = data[: exc.start].count(b"\n") + 1
            hint = "convert it to UTF-8, or pass --encoding if it is another encoding"
            raise IngestError(source, f"not valid UTF-8 ({hint})", line=line) from exc
        return found
    return UTF8


def file_encoding(
    fmt: str, data: bytes, source: str, forced: str | None
) -> tuple[str | None, str | None]:
    """The encoding to parse a file of format ``fmt`` with (None for Parquet, which holds
    no text file), and its name for the run's summary when it was found not to be UTF-8."""
    if fmt in BINARY_FORMATS:
        return None, None
    encoding = text_encoding(data, source, forced)
    found = encoding not in (UTF8, forced)
    return encoding, encoding_name(encoding) if found else None


def encoding_name(encoding: str) -> str:
    """How messages name an encoding: ``GB18030`` for Python's ``gb18030``."""
    return encoding.replace("_", "-").upper()


def _damaged_utf8(data: bytes) -> bool:
    """Whether the bytes hold more valid multi-byte UTF-8 characters than bad sequences
    (GBK text read as UTF-8 has about one valid one to four bad)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    valid = len(text) - len(text.encode("ascii", errors="ignore")) - bad
    return valid > bad


def _legacy_encoding(data: bytes) -> str | None:
    """charset-normalizer's reading of the bytes. Short texts read equally well in several
    encodings; GB18030 (which GBK is part of), then Big5, then Windows' Western code page
    win a near tie, since the blogs read here are mostly Chinese. UTF-16 and UTF-32 need
    their byte order mark: without one, any even run of CJK bytes would pass for them."""
    bom = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    readings = [
        match
        for match in from_bytes(data)
        if bom or not match.encoding.startswith(("utf_16", "utf_32"))
    ]
    if not readings:
        return None
    least = min(match.chaos for match in readings)
    likely = [match.encoding for match in readings if match.chaos <= least + NEAR_TIE]
    found = next((name for name in PREFERRED if name in likely), likely[0])
    if found in ("utf_8", "ascii"):
        return None
    try:
        data.decode(found)
    except (UnicodeDecodeError, LookupError):
        return None
    return found


def decode_text(data: bytes, source: str, encoding: str | None = None) -> str:
    """The file's text, in the encoding given, else in :func:`text_encoding`'s."""
    encoding = text_encoding(data, source, encoding)
    try:
        return data.decode(encoding).removeprefix("\ufeff")
    except LookupError:
        raise IngestError(source, f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        detail = f"cannot decode as {encoding_name(encoding)}: {exc.reason}"
        raise IngestError(source, detail, line=line) from exc


def read_text(source: str, encoding: str | None = None) -> str:
    return decode_text(read_bytes(source), source, encoding)
