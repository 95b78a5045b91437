"""Which sightings are one post: within a run, and against the store.

The rules are :mod:`lib.ingest.identity`'s, tried in turn: link, guid, title (with date
and text), text. Within a run each sighting is looked up by its keys among the posts
found so far. Against the store they take a few bulk joins (one per kind of key, not a
query per record): a link (``sightings.link``), a guid, the same record of the same file
seen before, a title (the text read only for the few posts a title meets), and the
opening text of snapshots.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import duckdb
import pyarrow as pa

from lib.ingest.identity import (
    Identity,
    Particulars,
    agreement,
    close_dates,
    distinct,
    link_key,
    needs_text,
    same_text,
    twins,
)

if TYPE_CHECKING:
    from lib.ingest.merge import Sighting

Key = TypeVar("Key", int, str)  # a post of this run (its number) or of the store (its id)


@dataclass
class _RunIndex:
    """Where each key was seen in this run: a link or a title may name several posts."""

    by_link: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_guid: dict[str, int] = field(default_factory=dict)
    by_title: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_lead: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    links: list[str | None] = field(default_factory=list)  # per group: its first link

    def add(self, ident: Identity, index: int) -> None:
        for key, seen in (
            (ident.link, self.by_link),
            (ident.particulars.title, self.by_title),
            (ident.lead, self.by_lead),
        ):
            if key is not None and index not in seen[key]:
                seen[key].append(index)
        if ident.guid:
            self.by_guid.setdefault(ident.guid, index)
        if index == len(self.links):
            self.links.append(None)
        self.links[index] = self.links[index] or ident.link


def group_run(sightings: Sequence[Sighting]) -> list[list[Sighting]]:
    """The run's sightings as posts: each list holds one post's sightings, in file order."""
    groups: list[list[Sighting]] = []
    seen = _RunIndex()
    for sighting in sightings:
        index = _find_group(sighting.identity, groups, seen)
        if index is None:
            index = len(groups)
            groups.append([])
        groups[index].append(sighting)
        seen.add(sighting.identity, index)
    return groups


def _find_group(ident: Identity, groups: list[list[Sighting]], seen: _RunIndex) -> int | None:
    """The post of this run that the sighting belongs to, by the rules of
    :mod:`lib.ingest.identity` in turn: link, guid, title (with date and text), text."""
    if ident.link:
        linked = _linked_group(ident, groups, seen.by_link.get(ident.link, ()))
        if linked is not None:
            return linked
    if ident.guid and ident.guid in seen.by_guid:
        return seen.by_guid[ident.guid]
    if ident.particulars.title is not None:
        found = [
            index
            for index in seen.by_title.get(ident.particulars.title, ())
            if any(twins(ident.particulars, s.identity.particulars) for s in groups[index])
        ]
        if len(found) == 1:
            return found[0]
    matches = [
        index
        for index in seen.by_lead.get(ident.lead, ())
        if _text_matches(ident, groups[index], seen.links[index])
    ]
    return matches[0] if len(matches) == 1 else None


def _linked_group(
    ident: Identity, groups: list[list[Sighting]], candidates: Iterable[int]
) -> int | None:
    """Of the posts under the sighting's link: the one sharing its guid, else the one
    agreeing most in title, date and text; none when each differs in all three."""
    others = {index: [s.identity for s in groups[index]] for index in candidates}
    for index, identities in others.items():
        if ident.guid and any(other.guid == ident.guid for other in identities):
            return index
    return _closest(
        ident.particulars, {i: [o.particulars for o in found] for i, found in others.items()}
    )


def _closest(ours: Particulars, candidates: dict[Key, list[Particulars]]) -> Key | None:
    """The candidate (a post, with the particulars of its sightings) that ``ours`` is not
    :func:`distinct` from; of several, the one agreeing most, the first on a tie."""
    near = {
        key: seen
        for key, seen in candidates.items()
        if not all(distinct(ours, theirs) for theirs in seen)
    }
    if len(near) < 2:
        return next(iter(near), None)
    scores = {key: max(agreement(ours, theirs) for theirs in seen) for key, seen in near.items()}
    return max(scores, key=lambda key: scores[key])


def _text_matches(ident: Identity, sightings: list[Sighting], group_link: str | None) -> bool:
    if ident.link and group_link and ident.link != group_link:
        return False
    return any(
        same_text(ident.stem, ident.truncated, s.identity.stem, s.identity.truncated)
        for s in sightings
    )


_PostsOf = dict[int, set[str]]  # group number -> ids of stored posts it may continue


def _candidates(
    con: duckdb.DuckDBPyConnection, groups: Sequence[Sequence[Sighting]]
) -> tuple[_PostsOf, _PostsOf, _PostsOf, _PostsOf, list[tuple]]:
    """The stored posts each group could continue: by link, by guid, by the same record
    seen before, by title; and the stored sightings sharing a group's opening text."""
    keys = pa.table(
        {
            "g": pa.array([i for i, g in enumerate(groups) for _ in g], pa.int64()),
            "link": [s.identity.link for g in groups for s in g],
            "guid": [s.identity.guid for g in groups for s in g],
            "title": [s.identity.particulars.title for g in groups for s in g],
            "lead": [s.identity.lead for g in groups for s in g],
            "digest": [s.source_digest for g in groups for s in g],
            "locator": [s.record.locator for g in groups for s in g],
            "fingerprint": [s.identity.fingerprint for g in groups for s in g],
        }
    )
    con.register("_run_keys", keys)
    try:
        by_link = _pairs(con, "JOIN sightings s ON s.link = k.link", "s.post_id")
        by_guid = _pairs(con, "JOIN sightings s ON s.guid = k.guid", "s.post_id")
        # The same record of the same file seen before: its post, even where its text
        # alone is ambiguous (several stored posts with one text), so a re-import adds none.
        by_seen = _pairs(
            con,
            """JOIN sightings s ON s.source_digest = k.digest AND s.locator = k.locator
                AND s.fingerprint = k.fingerprint""",
            "s.post_id",
        )
        by_title = _pairs(con, "JOIN posts p ON p.title = k.title AND NOT p.title_derived", "p.id")
        by_text = con.execute(
            """SELECT DISTINCT k.g, s.post_id, s.stem, s.truncated, p.url
               FROM _run_keys k JOIN sightings s ON s.lead = k.lead
               JOIN posts p ON p.id = s.post_id"""
        ).fetchall()
    finally:
        con.unregister("_run_keys")
    return by_link, by_guid, by_seen, by_title, by_text


def match_stored(
    con: duckdb.DuckDBPyConnection, groups: Sequence[Sequence[Sighting]], links: list[str | None]
) -> dict[int, str]:
    """For each group (the sightings of one post in this run, and the post's link key),
    the stored post it continues, where one fits."""
    if not groups:
        return {}
    by_link, by_guid, by_seen, by_title, by_text = _candidates(con, groups)
    stored = _StoredPosts(
        con, {pid for found in (by_link, by_title) for p in found.values() for pid in p}
    )
    stored.read_texts(
        pid
        for g, pids in by_link.items()
        for pid in pids
        for s in groups[g]
        if needs_text(s.identity.particulars, stored.particulars(pid))
    )
    result: dict[int, str] = {}
    for g, pids in by_link.items():
        found = _linked(groups[g], pids, by_guid.get(g, set()), stored)
        if found is not None:
            result[g] = found
    for found_by in (by_guid, by_seen):
        for g, pids in found_by.items():
            result.setdefault(g, min(pids))
    titled = {g: pids for g, pids in by_title.items() if g not in result}
    stored.read_texts(
        pid
        for g, pids in titled.items()
        for pid in pids
        for s in groups[g]
        if close_dates(s.identity.particulars, stored.particulars(pid)) is not False
    )
    for g, pids in titled.items():
        found = [pid for pid in sorted(pids) if _twin(groups[g], pid, stored)]
        if len(found) == 1:
            result[g] = found[0]
    _match_text(groups, links, by_text, result)
    return result


def _pairs(con: duckdb.DuckDBPyConnection, join: str, post: str) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for g, pid in con.execute(f"SELECT DISTINCT k.g, {post} FROM _run_keys k {join}").fetchall():
        found[g].add(pid)
    return found


class _StoredPosts:
    """The particulars of the stored posts a run's links and titles meet; the text of only
    those whose title and date cannot decide is read (:meth:`read_texts`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, ids: Iterable[str]):
        self._con = con
        self._posts: dict[str, Particulars] = {}
        for pid, title, derived, published in self._select("title, title_derived, published", ids):
            self._posts[pid] = Particulars(None if derived else title, published, None)

    def particulars(self, post_id: str) -> Particulars:
        """Title and date, and the text if it was read."""
        return self._posts[post_id]

    def read_texts(self, ids: Iterable[str]) -> None:
        wanted = {pid for pid in ids if self._posts[pid].text is None}
        for pid, body, excerpt in self._select("body, excerpt", wanted):
            known = self._posts[pid]
            self._posts[pid] = Particulars(known.title, known.published, body or excerpt)

    def _select(self, columns: str, ids: Iterable[str]) -> list[tuple]:
        """``id`` and ``columns`` of the posts ``ids``."""
        ids = sorted(set(ids))
        if not ids:
            return []
        self._con.register("_ids", pa.table({"id": pa.array(ids, pa.string())}))
        try:
            return self._con.execute(
                f"SELECT id, {columns} FROM posts WHERE id IN (SELECT id FROM _ids)"
            ).fetchall()
        finally:
            self._con.unregister("_ids")


def _linked(
    sightings: Sequence[Sighting], pids: set[str], guided: set[str], stored: _StoredPosts
) -> str | None:
    """Of the stored posts under the group's link: the one its guid names, else the one
    agreeing most in title, date and text; none when each differs in all three."""
    if guided & pids:
        return min(guided & pids)
    candidates = {pid: [stored.particulars(pid)] for pid in sorted(pids)}
    found = [_closest(s.identity.particulars, candidates) for s in sightings]
    return next((pid for pid in found if pid is not None), None)


def _twin(sightings: Sequence[Sighting], pid: str, stored: _StoredPosts) -> bool:
    return any(twins(s.identity.particulars, stored.particulars(pid)) for s in sightings)


def _match_text(
    groups: Sequence[Sequence[Sighting]],
    links: list[str | None],
    by_text: list[tuple],
    result: dict[int, str],
) -> None:
    """Snapshots' rule: a stored sighting's text equal to, or a cut-off of, the group's;
    only where exactly one stored post fits and no other key decided."""
    candidates: dict[int, set[str]] = defaultdict(set)
    for g, pid, stem, truncated, url in by_text:
        if g in result:
            continue
        stored_link = link_key(url)
        if links[g] and stored_link and links[g] != stored_link:
            continue
        if any(
            same_text(s.identity.stem, s.identity.truncated, stem, truncated) for s in groups[g]
        ):
            candidates[g].add(pid)
    for g, pids in candidates.items():
        if len(pids) == 1:
            result[g] = next(iter(pids))
