"""Stores past one machine: a store exported as a Parquet dataset reads like the DuckDB file,
imports refuse it, and MotherDuck and object storage fail offline with a message that says why.

Everything runs on real parts: the bundled data imported by the real ingest, exported by
``lib.export``, read back through ``lib.store_kinds`` and the SQL console. Offline, MotherDuck and
``s3://`` really cannot be reached here, so their messages are the real behaviour.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib import console, export, queries, store_kinds, store_report, topics
from lib.config import REPO_ROOT, SEED_DIR
from lib.dataset import MANIFEST
from lib.export import ExportError, export_parquet
from lib.filters import Filters
from lib.ingest import run_ingest
from lib.locator import StoreMissing, StoreReadOnly, StoreUnavailable, locate
from lib.store import connect_read_only
from tests.helpers import ESCAPES, SECRET, query, seeded_store

SEARCHES = ("显存", "FlashAttention", "attention", "LoRA 微调")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_store(tmp_path_factory.mktemp("parquet-source"))


@pytest.fixture(scope="module")
def dataset(source: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("parquet-dataset") / "blog"
    export_parquet(source, str(target))
    return str(target)


def contents(folder: str | Path) -> dict[str, str]:
    """Every file under ``folder`` and its digest: what nothing may change."""
    root = Path(folder)
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def file_and_dataset(source: str, dataset: str) -> Iterator[tuple[duckdb.DuckDBPyConnection, ...]]:
    a, b = store_kinds.open_read_only(source), store_kinds.open_read_only(dataset)
    yield a, b
    a.close()
    b.close()


def store_tables(db: str) -> list[str]:
    con = connect_read_only(db)
    try:
        return export.base_tables(con)
    finally:
        con.close()


# --- What POSTS_DB names -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "location"),
    [
        ("data/posts.duckdb", "duckdb", "data/posts.duckdb"),
        ("/srv/blog/posts.db", "duckdb", "/srv/blog/posts.db"),
        ("md:blog", "motherduck", "md:blog"),
        ("md:blog?attach_mode=single", "motherduck", "md:blog?attach_mode=single"),
        ("parquet:/srv/blog", "parquet", "/srv/blog"),
        ("/srv/blog/", "parquet", "/srv/blog"),
        ("s3://bucket/blog/", "parquet", "s3://bucket/blog"),
        ("gs://bucket/blog", "parquet", "gs://bucket/blog"),
        ("az://container/blog", "parquet", "az://container/blog"),
        ("https://example.com/blog", "parquet", "https://example.com/blog"),
    ],
)
def test_posts_db_values_are_classified(value: str, kind: str, location: str) -> None:
    found = locate(value)
    assert (found.kind, found.location) == (kind, location)


def test_an_existing_folder_is_a_dataset_and_remote_kinds_are_remote(dataset: str) -> None:
    assert locate(dataset).kind == "parquet" and not locate(dataset).remote
    assert locate("md:blog").remote and locate("s3://b/x").remote
    assert not locate("data/posts.duckdb").remote


# --- Exporting -----------------------------------------------------------------------------


def test_export_writes_every_table_and_a_manifest(source: str, dataset: str) -> None:
    tables = store_tables(source)
    assert {"posts", "postings", "terms", "post_keywords", "meta"} <= set(tables)
    root = Path(dataset)
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == tables
    manifest = pq.read_table(root / MANIFEST).to_pylist()
    assert [m["table_name"] for m in manifest] == tables
    for entry in manifest:
        (count,) = query(source, f'SELECT count(*) FROM "{entry["table_name"]}"')[0]
        assert entry["rows"] == count
        assert pq.read_metadata(root / entry["file"]).num_rows == count
    # Read-only files: the app and the console never write them.
    modes = {stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*.parquet")}
    assert modes == {0o444}
    assert not [p for p in root.parent.iterdir() if ".tmp" in p.name]


def test_postings_are_ordered_by_term_so_row_groups_prune(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB's smallest row group is one vector (2,048 rows): the bundled postings make two.
    monkeypatch.setattr(export, "ROW_GROUP_SIZE", 2048)
    export_parquet(source, str(tmp_path / "ds"))
    meta = pq.read_metadata(tmp_path / "ds" / "postings" / "part-0.parquet")
    assert meta.num_row_groups >= 2
    ranges = []
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(0).statistics  # term_id
        ranges.append((stats.min, stats.max))
    # Each term's postings lie in one or two consecutive groups: ranges only touch at ends.
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ranges))
    rows = query(source, "SELECT term_id, doc FROM postings ORDER BY term_id, doc")
    con = store_kinds.open_read_only(str(tmp_path / "ds"))
    try:
        assert con.execute("SELECT term_id, doc FROM postings").fetchall() == rows
    finally:
        con.close()


def test_a_failed_export_leaves_the_previous_dataset(source: str, tmp_path: Path) -> None:
    target = tmp_path / "ds"
    export_parquet(source, str(target))
    before = contents(target)
    broken = tmp_path / "broken.duckdb"
    shutil.copy(source, broken)
    con = duckdb.connect(str(broken))
    con.execute('CREATE TABLE "zz-not-a-folder-name" AS SELECT 1 AS x')  # exported last
    con.close()
    with pytest.raises(ExportError, match="cannot be a dataset folder"):
        export_parquet(str(broken), str(target))
    assert contents(target) == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [
        "broken.duckdb",
        "ds",
    ]


def test_export_will_not_replace_a_folder_that_is_not_a_dataset(
    source: str, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "todo.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ExportError, match="is not a Parquet dataset"):
        export_parquet(source, str(folder))
    assert [p.name for p in folder.iterdir()] == ["todo.txt"]


def test_export_cli(source: str, tmp_path: Path) -> None:
    target = tmp_path / "published"
    result = subprocess.run(
        [sys.executable, "-m", "lib.export", "--db", source, "--parquet", str(target)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"to {target}" in result.stdout and "posts 33" in result.stdout
    assert (target / MANIFEST).is_file()
    refused = subprocess.run(
        [sys.executable, "-m", "lib.export", "--db", source, "--parquet", "s3://bucket/blog"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1
    assert "export to a folder, then copy it" in refused.stderr


# --- Reading: the same answers as the file -------------------------------------------------


def test_the_dataset_gives_the_same_answers_as_the_file(
    file_and_dataset: tuple[duckdb.DuckDBPyConnection, ...],
) -> None:
    a, b = file_and_dataset
    for filters in (Filters(), Filters(categories=("NLP",)), Filters(topics=("lora",))):
        assert queries.figures(a, filters) == queries.figures(b, filters)
        assert queries.count(a, filters) == queries.count(b, filters)
        assert queries.category_counts(a, filters) == queries.category_counts(b, filters)
        assert queries.cards(a, filters, "newest", 10) == queries.cards(b, filters, "newest", 10)
        assert topics.leading(a, filters, 20).equals(topics.leading(b, filters, 20))
    assert queries.figures(b, Filters()).posts == 33
    assert store_report.quality(a) == store_report.quality(b)
    assert store_report.ingest_runs(a).equals(store_report.ingest_runs(b))
    assert queries.export(a, Filters()).equals(queries.export(b, Filters()))


@pytest.mark.parametrize("q", SEARCHES)
def test_search_ranks_the_same_on_the_dataset(
    file_and_dataset: tuple[duckdb.DuckDBPyConnection, ...], q: str
) -> None:
    a, b = file_and_dataset
    filters = Filters(q=q)
    expected = queries.cards(a, filters, queries.RELEVANCE, 20)
    assert expected, f"{q!r} finds nothing in the bundled data"
    assert queries.cards(b, filters, queries.RELEVANCE, 20) == expected
    assert queries.count(b, filters) == queries.count(a, filters)


def test_one_post_its_keywords_and_neighbours_are_the_same(
    source: str, file_and_dataset: tuple[duckdb.DuckDBPyConnection, ...]
) -> None:
    a, b = file_and_dataset
    for (post_id,) in query(source, "SELECT id FROM posts ORDER BY id LIMIT 5"):
        assert queries.post(b, post_id) == queries.post(a, post_id)
        assert queries.keywords(b, post_id) == queries.keywords(a, post_id)
        assert queries.similar(b, post_id) == queries.similar(a, post_id)
        assert queries.sightings_of(b, post_id).equals(queries.sightings_of(a, post_id))


def test_columns_keep_their_types(source: str, dataset: str) -> None:
    con = store_kinds.open_read_only(dataset)
    try:
        for table in store_tables(source):
            in_file = query(source, f'SELECT column_name, column_type FROM (DESCRIBE "{table}")')
            in_dataset = con.execute(
                f'SELECT column_name, column_type FROM (DESCRIBE "{table}")'
            ).fetchall()
            assert in_dataset == in_file, table
    finally:
        con.close()


def test_a_table_added_to_the_store_is_exported_and_read(source: str, tmp_path: Path) -> None:
    db = tmp_path / "more.duckdb"
    shutil.copy(source, db)
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE topic_totals AS SELECT term, count(*) AS posts FROM post_keywords GROUP BY 1"
    )
    expected = con.execute("SELECT * FROM topic_totals ORDER BY term").fetchall()
    con.close()
    export_parquet(str(db), str(tmp_path / "ds"))
    reader = store_kinds.open_read_only(str(tmp_path / "ds"))
    try:
        assert reader.execute("SELECT * FROM topic_totals ORDER BY term").fetchall() == expected
    finally:
        reader.close()
    assert "topic_totals" in set(console.schema(str(tmp_path / "ds"))["table"])


def test_a_hand_made_folder_without_manifest_is_read(source: str, tmp_path: Path) -> None:
    root = tmp_path / "hand"
    export_parquet(source, str(root))
    (root / MANIFEST).chmod(0o644)
    (root / MANIFEST).unlink()
    shutil.move(root / "meta" / "part-0.parquet", root / "meta.parquet")  # <table>.parquet
    (root / "meta").rmdir()
    con = store_kinds.open_read_only(str(root))
    try:
        assert con.execute("SELECT count(*) FROM posts").fetchall() == [(33,)]
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    finally:
        con.close()


def test_a_manifest_naming_files_outside_the_dataset_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "evil"
    root.mkdir()
    outside = tmp_path / "secret.parquet"
    pq.write_table(pa.table({"secret": [SECRET]}), outside)
    pq.write_table(
        pa.table({"table_name": ["posts"], "file": ["../secret.parquet"], "rows": [1]}),
        root / MANIFEST,
    )
    with pytest.raises(StoreUnavailable, match="outside the dataset"):
        store_kinds.open_read_only(str(root))
    with pytest.raises(console.ConsoleError, match="outside the dataset") as failed:
        console.run_console(str(root), "SELECT * FROM posts")
    assert SECRET not in failed.value.message


def test_a_new_export_changes_the_signature_the_app_watches(source: str, tmp_path: Path) -> None:
    target = str(tmp_path / "ds")
    assert store_kinds.signature(target) is None
    export_parquet(source, target)
    first = store_kinds.signature(target)
    assert first is not None and store_kinds.signature(target) == first
    export_parquet(source, target)
    assert store_kinds.signature(target) != first
    remote = store_kinds.signature("md:blog")  # a time period
    assert remote == store_kinds.signature("s3://bucket/blog")


# --- Missing and unreachable stores --------------------------------------------------------


def test_a_missing_file_is_reported_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "typo.duckdb"
    with pytest.raises(StoreMissing) as failed:
        store_kinds.open_read_only(str(missing))
    assert str(missing) in failed.value.message
    assert failed.value.command == f"python -m lib.ingest --db {missing} SOURCE..."
    assert not missing.exists()


def test_a_missing_dataset_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(StoreMissing, match="There is no Parquet dataset"):
        store_kinds.open_read_only(f"{tmp_path}/nothing/")


def test_motherduck_offline_says_the_extension_cannot_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = "fake-token-for-the-test"
    monkeypatch.setenv("motherduck_token", token)
    with pytest.raises(StoreUnavailable) as failed:
        store_kinds.open_read_only("md:blog")
    message = failed.value.message
    assert message.startswith("Cannot open the MotherDuck database md:blog:")
    assert "motherduck extension could not be loaded" in message
    assert "network" in message
    assert token not in message


def test_motherduck_without_a_token_is_refused_before_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in store_kinds.TOKEN_VARS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(StoreUnavailable, match="needs a MotherDuck token"):
        store_kinds.open_read_only("md:blog")
    assert store_kinds.motherduck_token("from-secrets") == "from-secrets"
    monkeypatch.setenv("MOTHERDUCK_TOKEN", "from-env")
    assert store_kinds.motherduck_token("from-secrets") == "from-env"


def test_object_storage_offline_says_httpfs_cannot_load() -> None:
    with pytest.raises(StoreUnavailable) as failed:
        store_kinds.open_read_only("s3://bucket/blog/")
    assert "httpfs" in failed.value.message
    assert "s3://bucket/blog" in failed.value.message


def test_the_console_says_it_is_unavailable_for_remote_stores() -> None:
    for value in ("md:blog", "s3://bucket/blog", "https://example.com/blog"):
        why = console.unavailable(value)
        assert why and why.startswith("The SQL console is not available for")
        with pytest.raises(console.ConsoleUnavailable):
            console.schema(value)


# --- Writing is refused --------------------------------------------------------------------


def _ingest_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lib.ingest", "-q", *args, str(SEED_DIR)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_ingest_into_a_dataset_is_refused_and_changes_nothing(dataset: str) -> None:
    before = contents(dataset), store_kinds.signature(dataset)
    for result in (
        _ingest_cli("--db", dataset),
        _ingest_cli(env={"POSTS_DB": f"parquet:{dataset}"}),
    ):
        assert result.returncode == 2
        assert "is a Parquet dataset, which is read-only here" in result.stderr
        assert f"python -m lib.export --db data/posts.duckdb --parquet {dataset}" in result.stderr
        assert "Traceback" not in result.stderr
    with pytest.raises(StoreReadOnly):
        run_ingest(dataset, [str(SEED_DIR)])  # the library refuses too
    assert (contents(dataset), store_kinds.signature(dataset)) == before


def test_ingest_into_motherduck_is_refused() -> None:
    result = _ingest_cli("--db", "md:blog")
    assert result.returncode == 2
    assert "md:blog is a MotherDuck database" in result.stderr
    assert "cannot write to MotherDuck" in result.stderr


# --- The SQL console on a dataset ----------------------------------------------------------


def test_the_console_answers_as_on_the_file(source: str, dataset: str) -> None:
    for sql in console.EXAMPLES.values():
        on_file = console.run_console(source, sql).frame
        on_dataset = console.run_console(dataset, sql).frame
        assert on_dataset.equals(on_file), sql
    schema = console.schema(dataset)
    assert set(schema["table"]) == set(store_tables(source))
    assert schema[schema["table"] == "posts"]["rows"].iloc[0] == 33


@pytest.mark.parametrize(("sql", "says"), ESCAPES, ids=[sql[:50] for sql, _ in ESCAPES])
def test_escape_attempts_are_refused_on_a_dataset(
    dataset: str, tmp_path: Path, sql: str, says: str
) -> None:
    before = contents(dataset)
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    posts_file = str(Path(dataset, "posts", "part-0.parquet"))
    with pytest.raises(console.ConsoleRefused) as refused:
        console.run_console(dataset, sql.format(target=tmp_path, store=posts_file))
    assert says in refused.value.message
    assert SECRET not in refused.value.message
    assert contents(dataset) == before


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_text('{secret}')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('{root}/_manifest.parquet')",  # in the dataset, not listed
        "SELECT * FROM read_parquet('{root}/posts/../../{outside}')",
        "SELECT * FROM read_parquet('{root}/*/*.parquet')",
        "SELECT * FROM glob('{root}/*')",
        "COPY posts TO '{here}/out.parquet'",
        "ATTACH '{here}/other.db' AS other",
        "SET allowed_paths = ['{secret}']",
        "SET enable_external_access = true",
        "LOAD httpfs",
    ],
)
def test_the_dataset_sandbox_alone_reads_only_the_dataset(
    dataset: str, tmp_path: Path, sql: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    before = contents(dataset)
    con = console.open_sandbox(dataset)
    try:
        text = sql.format(
            secret=secret,
            root=dataset,
            here=tmp_path,
            outside=os.path.relpath(secret, Path(dataset).parent),
        )
        with pytest.raises(duckdb.Error) as failed:
            con.execute(text).fetchall()
        assert SECRET not in str(failed.value)
        # The store's own tables still answer after the refusal.
        assert con.execute("SELECT count(*) FROM posts").fetchall() == [(33,)]
    finally:
        con.close()
    assert contents(dataset) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.txt"]


def test_the_console_does_not_tell_where_the_dataset_lives(dataset: str) -> None:
    views = console.run_console(dataset, "SELECT sql FROM duckdb_views() WHERE NOT internal")
    definitions = " ".join(views.frame["sql"])
    assert "posts/part-0.parquet" in definitions
    assert dataset not in definitions
    with pytest.raises(console.ConsoleError) as failed:
        console.run_console(dataset, "SELECT nonexistent FROM posts")
    assert dataset not in failed.value.message
