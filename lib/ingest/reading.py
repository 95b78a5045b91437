"""Turning a file or URL into text, refusing what is not text.

Every parser goes through here so that an empty file, a binary file or a file in
GBK fails the same way: a message naming the file and the first bad line.
"""

from __future__ import annotations

import http.client
import urllib.request
from pathlib import Path

from charset_normalizer import from_bytes

from lib.ingest.naming import scrub_message, shown_name, split_userinfo
from lib.ingest.records import IngestError

MAX_FETCH_BYTES = 200 * 1024 * 1024
USER_AGENT = "blog-topic-explorer/0.1 (+ingest)"


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def read_bytes(source: str, timeout: float = 30.0) -> bytes:
    """The raw bytes of a local file or an http(s) URL.

    A URL's ``user:password@`` is sent as HTTP Basic authentication; messages name the URL
    without credentials (see :mod:`lib.ingest.naming`).
    """
    if is_url(source):
        url, login = split_userinfo(source)
        opener = urllib.request.build_opener()
        if login is not None:
            # Preemptive, and only for this URL: urllib passes a header added by the
            # handler to no redirect target, where a plain header would go to any host.
            passwords = urllib.request.HTTPPasswordMgrWithPriorAuth()
            passwords.add_password(None, url, *login, is_authenticated=True)
            opener.add_handler(urllib.request.HTTPBasicAuthHandler(passwords))
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with opener.open(request, timeout=timeout) as response:
                data = response.read(MAX_FETCH_BYTES + 1)
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


def decode_text(data: bytes, source: str, encoding: str | None = None) -> str:
    """Decode as UTF-8 (BOM allowed) or as the forced ``encoding``.

    GBK and other legacy encodings are refused rather than guessed: a wrong guess
    silently stores mojibake, while the message tells the user the exact fix.
    """
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise IngestError(source, "the file is empty")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise IngestError(source, "binary data (NUL byte), not a text file", line=line)
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except (UnicodeDecodeError, LookupError) as exc:
            raise IngestError(source, f"cannot decode as {encoding}: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        guess = from_bytes(data).best()
        hint = ""
        if guess is not None and guess.encoding not in ("utf_8", "ascii"):
            name = guess.encoding.replace("_", "-").upper()
            hint = f" (it looks like {name}: convert it to UTF-8 or pass --encoding {name})"
        raise IngestError(source, f"not valid UTF-8{hint}", line=line) from exc


def read_text(source: str, encoding: str | None = None) -> str:
    return decode_text(read_bytes(source), source, encoding)
