"""How the server and a worker talk: one JSON line per request, one framed reply per query.

A reply is a fixed header (the lengths of what follows), a JSON object saying what happened,
and the rows as an Arrow IPC stream (empty when the query failed). Nothing is pickled, so a
worker can only ever hand the server data, never objects to rebuild.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import pyarrow as pa

READY = b"R"  # a new worker's first byte: DuckDB is imported and its limits are set
PREFIX = struct.Struct(">IQ")  # the header's length, then the rows' length
MAX_HEADER_BYTES = 1024 * 1024


def request_line(request: dict[str, Any]) -> bytes:
    return json.dumps(request, ensure_ascii=True).encode("ascii") + b"\n"


def reply(header: dict[str, Any], table: pa.Table | None = None) -> bytes:
    body = b""
    if table is not None:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        body = sink.getvalue().to_pybytes()
    head = json.dumps(header, ensure_ascii=True).encode("ascii")
    return PREFIX.pack(len(head), len(body)) + head + body


def rows(body: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(body)).read_all()


def json_header(raw: bytes) -> dict[str, Any]:
    header = json.loads(raw)
    if not isinstance(header, dict):
        raise ValueError("a reply's header is an object")
    return header
