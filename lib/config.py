"""Where the data lives.

One resolver for the app, the CLI, the tests and the benchmarks, so that
``POSTS_DB`` means the same thing everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
SEED_DIR = DATA_DIR / "seed"
DEFAULT_DB = DATA_DIR / "posts.duckdb"
ENV_VAR = "POSTS_DB"


def resolve_db(explicit: str | os.PathLike[str] | None = None, secret: str | None = None) -> str:
    """The database to use: an explicit path, then ``POSTS_DB``, then the secret, then the default.

    The Streamlit secret is passed in by the app rather than read here, because
    ``lib`` must not depend on Streamlit.
    """
    for candidate in (explicit, os.environ.get(ENV_VAR), secret):
        if candidate:
            return str(candidate)
    return str(DEFAULT_DB)
