"""What kind of store a ``POSTS_DB`` value names, decided from the value alone.

``POSTS_DB`` (or ``--db``, or the Streamlit secret ``posts_db``) names one of three kinds:

- ``md:NAME`` (with any ``?param=…`` MotherDuck takes): a **MotherDuck** database.
- a **Parquet dataset** (see ``lib.dataset`` for its layout), when the value
  - starts with ``parquet:`` (the rest is the dataset's folder or URL), or
  - is an object-storage or web URL (``s3://``, ``gs://``, ``az://``, ``https://`` …), or
  - ends in ``/``, or is a folder that exists.
- anything else: a **DuckDB file**, as before.

The rule is purely textual except for "a folder that exists", so that a typo in a file name
is reported as a missing file, not silently taken for an empty dataset. Classifying needs
no DuckDB and no network, so the CLI can refuse a write before touching anything.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["duckdb", "parquet", "motherduck"]

MOTHERDUCK_PREFIX = "md:"
PARQUET_PREFIX = "parquet:"
# Schemes DuckDB reads through its httpfs (s3, gcs, r2, http) or azure extensions.
REMOTE_SCHEMES = ("s3", "s3a", "s3n", "gs", "gcs", "r2", "az", "azure", "abfss", "http", "https")
_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://", re.IGNORECASE)


class StoreError(Exception):
    """A store that cannot be used as asked; ``message`` is fit to show the person who asked.

    ``command``, when set, is a shell command that would fix it, shown as code.
    """

    def __init__(self, message: str, command: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.command = command


class StoreMissing(StoreError):
    """The store named does not exist (and is not created behind the user's back)."""


class StoreUnavailable(StoreError):
    """The store exists somewhere, but cannot be opened from here (an extension, the network)."""


class StoreReadOnly(StoreError):
    """The store cannot be written by an import: a Parquet dataset, or MotherDuck."""


@dataclass(frozen=True)
class Locator:
    """Where a store lives: its kind, and the path, URL or ``md:`` name to open."""

    kind: Kind
    location: str  # a file path; a dataset's folder or URL (no trailing "/"); "md:NAME"

    @property
    def remote(self) -> bool:
        """Read over the network: no local file to watch for changes."""
        return self.kind == "motherduck" or (
            self.kind == "parquet" and is_remote_url(self.location)
        )

    def describe(self) -> str:
        if self.kind == "motherduck":
            return f"the MotherDuck database {self.location}"
        if self.kind == "parquet":
            return f"the Parquet dataset {self.location}"
        return f"the DuckDB file {self.location}"


def is_remote_url(value: str) -> bool:
    """Whether ``value`` is a URL DuckDB reads over the network (``REMOTE_SCHEMES``)."""
    match = _URL.match(value)
    return bool(match) and match.group("scheme").lower() in REMOTE_SCHEMES


def locate(value: str | os.PathLike[str]) -> Locator:
    """Classify a ``POSTS_DB`` value (see the module docstring for the rule)."""
    text = str(value).strip()
    if text.lower().startswith(MOTHERDUCK_PREFIX):
        return Locator("motherduck", text)
    if text.lower().startswith(PARQUET_PREFIX):
        return Locator("parquet", _root(text[len(PARQUET_PREFIX) :]))
    if _URL.match(text):
        return Locator("parquet", _root(text))
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        return Locator("parquet", _root(text))
    return Locator("duckdb", text)


def _root(text: str) -> str:
    stripped = text.rstrip("/")
    if is_remote_url(stripped) or not stripped:
        return stripped or "/"
    return str(Path(stripped).expanduser())


def refuse_writes(locator: Locator) -> None:
    """Raise :class:`StoreReadOnly`, saying what to do instead, unless imports can write here.

    Imports are all or nothing because they write a private copy of a DuckDB file and
    swap it in (``lib.store.write_transaction``); neither a Parquet dataset nor a
    MotherDuck database can be written that way.
    """
    if locator.kind == "parquet":
        raise StoreReadOnly(
            f"{locator.location} is a Parquet dataset, which is read-only here: import into a"
            " DuckDB file, then export that file to the dataset.",
            command=(
                "python -m lib.ingest --db data/posts.duckdb SOURCE...\n"
                f"python -m lib.export --db data/posts.duckdb --parquet {locator.location}"
            ),
        )
    if locator.kind == "motherduck":
        raise StoreReadOnly(
            f"{locator.location} is a MotherDuck database; imports write a DuckDB file (through"
            " a copy that replaces it only when the whole run succeeded), so they cannot write"
            " to MotherDuck. Import into a DuckDB file, then copy it to MotherDuck (README,"
            ' "Stores past one machine").',
            command="python -m lib.ingest --db data/posts.duckdb SOURCE...",
        )
