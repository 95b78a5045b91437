"""How a source is named in the store and in messages: never with a credential or a server path.

The name of a source ends up in ``ingest_runs.sources``, ``posts.source`` and the
``sightings``, ``conflicts`` and ``rejections`` tables, which the ``/data`` page shows and
the SQL page reads, and in every message about the source. So a URL is stored and shown
without its credentials: the ``user:password@`` part is dropped, and the values of
query-string (or fragment) parameters whose names look like credentials (``access_token``,
``api_key``, ``X-Amz-Signature``, ``sig`` …) are replaced with :data:`REDACTED`. A local
file is stored relative to the project or the current folder, else from the folder the user
named (or by its file name alone), so the server's layout is not published; messages, read
by whoever runs the import on the server, name it by the path it was read from.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

from lib.config import REPO_ROOT

REDACTED = "REDACTED"
# Matched anywhere in a parameter's name, whatever the case: a false alarm (``author``)
# only hides a value from the store, a miss would publish a credential.
CREDENTIAL_PARAM = re.compile(
    "token|key|secret|pass|pwd|pw|signature|sig|auth|credential|session|sessid|sid|jwt|bearer"
    "|hmac|otp|ticket|cookie",
    re.IGNORECASE,
)
# A credential in the path: the segment after one named like a credential
# (``/token/abc123/feed.xml``, ``/api-key/…``), or a path parameter (``;jsessionid=abc``).
_CREDENTIAL_SEGMENT = re.compile(
    r"(?i)^[\w.-]*(token|key|secret|pass|password|auth|sig|signature|credential|session|jwt)$"
)
# Shorter values are not searched for in messages: replacing "ab" everywhere garbles them,
# and the whole URL and its user:password@ part are replaced whatever their length.
SCRUB_FROM = 4


def redact_url(url: str) -> str:
    """``url`` without its userinfo and with credential parameters' values replaced."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query, fragment = _redact_parameters(parts.query), _redact_parameters(parts.fragment)
    path = _redact_path(parts.path)
    if (netloc, path, query, fragment) == (parts.netloc, parts.path, parts.query, parts.fragment):
        return url  # as typed: urlunsplit may respell a URL it did not need to change
    return urlunsplit(parts._replace(netloc=netloc, path=path, query=query, fragment=fragment))


def _redact_path(path: str) -> str:
    return "/".join(_path_segments(path)[0])


def _path_segments(path: str) -> tuple[list[str], list[str]]:
    """The path's segments with credentials redacted, and the credentials found."""
    segments, found = path.split("/"), []
    for i, segment in enumerate(segments):
        if i and segment and _CREDENTIAL_SEGMENT.match(segments[i - 1].partition(";")[0]):
            segments[i], segment = REDACTED, ""
            found.append(path.split("/")[i])
        if "=" in segment:  # ;jsessionid=abc, or key=abc as a whole segment
            redacted = _redact_parameters(segment)
            found += _credential_values(segment) if redacted != segment else []
            segments[i] = redacted
    return segments, found


def _is_credential(name: str) -> bool:
    return bool(CREDENTIAL_PARAM.search(unquote_plus(name)))


def _credential_values(text: str) -> list[str]:
    """The values of the credential parameters in ``text`` (``a=1&token=x;sig=y``)."""
    pieces = (piece.partition("=") for piece in re.split(r"[&;]", text))
    return [value for name, _, value in pieces if _is_credential(name)]


def _redact_parameters(text: str) -> str:
    pieces = re.split(r"([&;])", text)  # separators kept, so the rest stays as typed
    for i in range(0, len(pieces), 2):
        name, equals, value = pieces[i].partition("=")
        if equals and value and _is_credential(name):
            pieces[i] = f"{name}={REDACTED}"
    return "".join(pieces)


def split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without ``user:password@``, and that user and password (decoded), if any."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return bare, (unquote(parts.username), unquote(parts.password or ""))


def scrub_message(text: str, url: str) -> str:
    """``text`` (an error's message about ``url``) without ``url``'s credentials."""
    parts = urlsplit(url)
    text = text.replace(url, redact_url(url))
    userinfo = parts.netloc.rpartition("@")[0]
    if userinfo:
        text = text.replace(f"{userinfo}@", "")
    secrets = [parts.password or "", *_path_segments(parts.path)[1]]
    secrets += _credential_values(f"{parts.query}&{parts.fragment}")
    for secret in secrets:
        for spelling in {secret, unquote_plus(secret)}:
            if len(spelling) >= SCRUB_FROM:
                text = text.replace(spelling, REDACTED)
    return text


def shown_name(source: str) -> str:
    """``source`` as the user typed it, for messages, but never with a credential."""
    return redact_url(source) if "://" in source else source


def stored_name(source: str, named: str | None = None) -> str:
    """How ``source`` is named in the store.

    A URL: without credentials (:func:`redact_url`). A local path: relative to the project
    (so a clone elsewhere reads the same), else to the current folder; else, for a file found
    in a folder the user ``named``, its path from that folder, the folder's name first;
    else its file name.
    """
    if "://" in source:
        return redact_url(source)
    path = Path(source).expanduser().resolve()
    for base in (REPO_ROOT, Path.cwd().resolve()):
        # Relative to "/" would be the absolute path without its first slash.
        if base.parent != base and path.is_relative_to(base):
            return str(path.relative_to(base))
    if named is not None:
        folder = Path(named).expanduser().resolve()
        if path.is_relative_to(folder):
            return str(Path(folder.name) / path.relative_to(folder))
    return path.name
