"""Folding a run's sightings into the ``posts`` table.

Work is done in bulk (one temp table and a few joins per run, not a query per
record) so that a million-post import stays within minutes. Merging is
conservative: a value fills what is missing, a longer text replaces its own
cut-off, tags are united, and any other disagreement keeps the stored value and
is written to ``conflicts`` so that nothing is silently overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import pyarrow as pa

from lib.ingest.identity import DAY_SLACK, Identity, identity_of, link_key, text_stem
from lib.ingest.matching import group_run, match_stored
from lib.ingest.records import BODY_IS_SOURCE, PostRecord

POST_FIELDS = ("title", "title_derived", "excerpt", "body", "category", "tags", "published", "url")
# The source a post's text was derived from, which travels with that text (``_merge_source``).
SOURCE_FIELDS = ("body_source", "source_format")
STORED_FIELDS = (*POST_FIELDS, *SOURCE_FIELDS)
SIGHTING_COLUMNS = (
    "post_id, run_id, source, locator, source_digest, fingerprint, guid, lead, stem, truncated,"
    " seen_at, link"
)


@dataclass(frozen=True)
class Sighting:
    record: PostRecord
    identity: Identity
    source_digest: str


@dataclass
class Conflict:
    post_id: str
    field: str
    kept: str | None
    offered: str | None
    locator: str


@dataclass
class MergeStats:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    changed_ids: list[str] = field(default_factory=list)  # added or updated: to re-index


@dataclass
class _Group:
    """The sightings of one post within this run, and the post's merged fields."""

    sightings: list[Sighting]
    fields: dict[str, Any]
    post_id: str | None = None
    conflicts: list[Conflict] = field(default_factory=list)

    def as_record(self) -> PostRecord:
        """The group's merged fields, to be merged into a stored post in one step."""
        first = self.sightings[0].record
        values = {k: v for k, v in self.fields.items() if k != "source"}
        return PostRecord(source=first.source, locator=first.locator, **values)


Place = tuple[int, int]  # (file number, row): where a record stands in the run


def sightings_from(
    records: Iterable[tuple[PostRecord, str, Place]], stats: MergeStats
) -> list[tuple[Sighting, Place]]:
    """Attach identities, keeping each record's place; a record with no text at all
    cannot be a post and is rejected."""
    out: list[tuple[Sighting, Place]] = []
    for record, digest, place in records:
        if not (record.title or record.excerpt or record.body):
            stats.rejected.append((record.locator, "no title, excerpt or body"))
            continue
        out.append((Sighting(record, identity_of(record), digest), place))
    return out


def merge_run(
    con: duckdb.DuckDBPyConnection,
    sightings: list[Sighting],
    run_id: int,
    seen_at: datetime,
    stats: MergeStats,
    fresh: set[str] | None = None,
) -> None:
    """Merge the sightings into the store; ``fresh`` posts were added earlier in this run
    (by the fast lane), so merging into one does not count it again."""
    fresh = fresh or set()
    groups = _group_within_run(sightings)
    existing = match_stored(
        con, [g.sightings for g in groups], [link_key(g.fields["url"]) for g in groups]
    )
    rows = _load_posts(con, {pid for pid in existing.values() if pid})
    pending: dict[str, dict[str, Any]] = {}
    status: dict[str, str] = {}
    for index, group in enumerate(groups):
        post_id = existing.get(index)
        if post_id is None:
            post_id = _unique_id(group.sightings[0].identity.new_post_id(), rows, pending)
            pending[post_id] = dict(group.fields)
            status[post_id] = "added"
        else:
            base = pending.get(post_id) or dict(rows[post_id])
            before = dict(base)
            _merge_fields(base, group.as_record(), post_id, stats.conflicts)
            pending[post_id] = base
            if status.get(post_id) != "added":
                changed = any(base[f] != before[f] for f in STORED_FIELDS)
                if changed or status.get(post_id) == "updated":
                    status[post_id] = "updated"
                else:
                    status[post_id] = "unchanged"
        group.post_id = post_id
        for found in group.conflicts:
            found.post_id = post_id
        stats.conflicts.extend(group.conflicts)
    for post_id, value in status.items():
        if post_id not in fresh:
            setattr(stats, value, getattr(stats, value) + 1)
    stats.changed_ids = [
        pid for pid, value in status.items() if value != "unchanged" and pid not in fresh
    ]
    _write(con, groups, pending, status, run_id, seen_at)


def _group_within_run(sightings: list[Sighting]) -> list[_Group]:
    """The run's posts, each with its sightings' fields merged in file order."""
    groups: list[_Group] = []
    for members in group_run(sightings):
        group = _Group(members, _fields_of(members[0].record))
        for sighting in members[1:]:
            _merge_fields(group.fields, sighting.record, "", group.conflicts)
        groups.append(group)
    return groups


def _load_posts(con: duckdb.DuckDBPyConnection, ids: set[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    con.register("_ids", pa.table({"id": sorted(ids)}))
    try:
        cur = con.execute(
            f"SELECT id, {', '.join(STORED_FIELDS)} FROM posts WHERE id IN (SELECT id FROM _ids)"
        )
        names = [d[0] for d in cur.description]
        rows = {r[0]: dict(zip(names[1:], r[1:], strict=True)) for r in cur.fetchall()}
    finally:
        con.unregister("_ids")
    for row in rows.values():
        row["tags"] = tuple(row["tags"]) if row["tags"] else ()
        if row["source_format"] == BODY_IS_SOURCE and row["body_source"] == row["body"]:
            row["body_source"] = None  # a copy, as stores kept before: what a record offers
    return rows


def _unique_id(candidate: str, rows: dict[str, Any], pending: dict[str, Any]) -> str:
    """Ids are content hashes; two different posts with one hash get a suffix, not a merge."""
    post_id, n = candidate, 1
    while post_id in rows or post_id in pending:
        n += 1
        post_id = f"{candidate}-{n}"
    return post_id


def _fields_of(record: PostRecord) -> dict[str, Any]:
    return {
        "title": record.title,
        "title_derived": record.title_derived if record.title else False,
        "excerpt": record.excerpt,
        "body": record.body,
        "category": record.category,
        "tags": tuple(record.tags),
        "published": record.published,
        "url": record.url,
        "source": record.source,
        "body_source": record.body_source,
        "source_format": record.source_format,
    }


def _merge_fields(
    base: dict[str, Any], record: PostRecord, post_id: str, conflicts: list[Conflict]
) -> None:
    """Fill gaps from ``record``; report, never overwrite, a real disagreement."""

    def conflict(name: str, kept: object, offered: object) -> None:
        conflicts.append(Conflict(post_id, name, _show(kept), _show(offered), record.locator))

    before = {name: base[name] for name in ("excerpt", "body")}

    if record.title:
        if not base["title"] or (base["title_derived"] and not record.title_derived):
            base["title"], base["title_derived"] = record.title, record.title_derived
        elif (
            base["title"] != record.title and not record.title_derived and not base["title_derived"]
        ):
            conflict("title", base["title"], record.title)
    for name in ("excerpt", "body"):
        offered = getattr(record, name)
        if not offered or offered == base[name]:
            continue
        if not base[name]:
            base[name] = offered
            continue
        if name == "excerpt" and _opens_own_body(record):
            continue  # the sighting had no excerpt of its own: the stored one is not contradicted
        (kept_stem, kept_cut), (new_stem, _) = text_stem(base[name]), text_stem(offered)
        # Within one post, a text that opens the other is no disagreement (a feed's summary,
        # a listing's cut), marked as cut or not; only a cut-off stored text is replaced.
        if kept_stem.startswith(new_stem) or new_stem.startswith(kept_stem):
            if len(new_stem) > len(kept_stem) and kept_cut:
                base[name] = offered
        else:
            conflict(name, base[name], offered)
    for name in ("category", "published", "url"):
        offered = getattr(record, name)
        if offered is None or offered == base[name] or _written_otherwise(name, base, offered):
            continue
        if base[name] is None:
            base[name] = offered
        else:
            conflict(name, base[name], offered)
    if record.tags:
        merged = tuple(dict.fromkeys((*base["tags"], *record.tags)))
        base["tags"] = merged
    _merge_source(base, record, before)


def _merge_source(base: dict[str, Any], record: PostRecord, before: dict[str, Any]) -> None:
    """Keep the newest source with the text it derived: the body, or for a post without one
    (a listing card, a feed's summary) the excerpt.

    An offered source is taken when its text is the post's text now: when that text was
    just taken from the record, when the post had no source, or when it is a newer source
    in the same format (an edited Markdown file that reads the same). A source in another
    format of the same text (a feed's HTML of a Markdown post) leaves the stored one.
    """
    if record.source_format is None:
        return  # no source: a text's own body is one (records.BODY_IS_SOURCE)
    derived = "body" if record.body else "excerpt"
    if derived == "excerpt" and base["body"] is not None:
        return  # the post's source derives its body, which this record does not offer
    if base[derived] != getattr(record, derived):
        return  # the stored text stayed, with its own source
    taken = before[derived] != base[derived]
    if taken or base["source_format"] is None or base["source_format"] == record.source_format:
        base["body_source"], base["source_format"] = record.body_source, record.source_format


def _written_otherwise(name: str, base: dict[str, Any], offered: Any) -> bool:
    """One value in two spellings, which is no disagreement: a link percent-encoded or
    with a trailing slash, the day of one moment in two time zones. The stored one stays."""
    kept = base[name]
    if kept is None:
        return False
    if name == "url":
        return link_key(kept) == link_key(offered)
    if name == "published":
        return abs((kept - offered).days) <= DAY_SLACK
    return False


def _show(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"


def _write(
    con: duckdb.DuckDBPyConnection,
    groups: list[_Group],
    pending: dict[str, dict[str, Any]],
    status: dict[str, str],
    run_id: int,
    seen_at: datetime,
) -> None:
    changed = [pid for pid, s in status.items() if s != "unchanged"]
    if changed:
        rows = [pending[pid] for pid in changed]
        table = pa.table(
            {
                "id": changed,
                "title": [r["title"] for r in rows],
                "title_derived": pa.array([bool(r["title_derived"]) for r in rows], pa.bool_()),
                "excerpt": [r["excerpt"] for r in rows],
                "body": [r["body"] for r in rows],
                "category": [r["category"] for r in rows],
                "tags": pa.array([list(r["tags"]) or None for r in rows], pa.list_(pa.string())),
                "published": pa.array([r["published"] for r in rows], pa.date32()),
                "url": [r["url"] for r in rows],
                "source": [r.get("source") for r in rows],
                "body_source": pa.array([r["body_source"] for r in rows], pa.string()),
                "source_format": pa.array([r["source_format"] for r in rows], pa.string()),
            }
        )
        con.register("_changed", table)
        try:
            con.execute(
                """UPDATE posts SET title = c.title, title_derived = c.title_derived,
                       excerpt = c.excerpt, body = c.body, category = c.category, tags = c.tags,
                       published = c.published, url = c.url, body_source = c.body_source,
                       source_format = c.source_format
                   FROM _changed c WHERE posts.id = c.id"""
            )
            con.execute(
                """INSERT INTO posts (id, title, title_derived, excerpt, body, category, tags,
                                      published, url, source, first_seen, last_seen, sightings,
                                      body_source, source_format)
                   SELECT c.id, c.title, c.title_derived, c.excerpt, c.body, c.category, c.tags,
                          c.published, c.url, c.source, ?, ?, 0, c.body_source, c.source_format
                   FROM _changed c ANTI JOIN posts p ON p.id = c.id""",
                [seen_at, seen_at],
            )
        finally:
            con.unregister("_changed")
    _write_sightings(con, groups, run_id, seen_at)


def _write_sightings(
    con: duckdb.DuckDBPyConnection, groups: list[_Group], run_id: int, seen_at: datetime
) -> None:
    """Record each sighting once; a re-import of the same file adds none, so nothing changes."""
    pairs = [(g.post_id, s) for g in groups for s in g.sightings]
    if not pairs:
        return
    table = pa.table(
        {
            "post_id": [pid for pid, _ in pairs],
            "source": [s.record.source for _, s in pairs],
            "locator": [s.record.locator for _, s in pairs],
            "source_digest": [s.source_digest for _, s in pairs],
            "fingerprint": [s.identity.fingerprint for _, s in pairs],
            "guid": [s.identity.guid for _, s in pairs],
            "lead": [s.identity.lead for _, s in pairs],
            "stem": [s.identity.stem for _, s in pairs],
            "truncated": pa.array([s.identity.truncated for _, s in pairs], pa.bool_()),
            "link": pa.array([s.identity.link for _, s in pairs], pa.string()),
        }
    )
    con.register("_seen", table)
    try:
        con.execute(
            f"""INSERT INTO sightings ({SIGHTING_COLUMNS})
               SELECT DISTINCT ON (n.post_id, n.source_digest, n.fingerprint)
                      n.post_id, ?, n.source, n.locator, n.source_digest, n.fingerprint,
                      n.guid, n.lead, n.stem, n.truncated, ?, n.link
               FROM _seen n ANTI JOIN sightings s
                 ON s.post_id = n.post_id AND s.source_digest = n.source_digest
                AND s.fingerprint = n.fingerprint""",
            [run_id, seen_at],
        )
        con.execute(
            """UPDATE posts SET sightings = agg.n, first_seen = agg.first, last_seen = agg.last
               FROM (SELECT post_id, count(*) AS n, min(seen_at) AS first, max(seen_at) AS last
                     FROM sightings WHERE post_id IN (SELECT DISTINCT post_id FROM _seen)
                     GROUP BY post_id) agg
               WHERE posts.id = agg.post_id
                 AND (posts.sightings, posts.first_seen, posts.last_seen)
                     IS DISTINCT FROM (agg.n, agg.first, agg.last)"""
        )
    finally:
        con.unregister("_seen")


def _opens_own_body(record: PostRecord) -> bool:
    """True when a record's excerpt is the opening of its own body (derived, not written)."""
    if not record.body or not record.excerpt:
        return False
    return text_stem(record.body)[0].startswith(text_stem(record.excerpt)[0])
