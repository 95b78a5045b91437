"""A ``topic=`` link made before a refit renamed its topic: the topic sharing most of its
terms, said on the page (``lib.topic_links``)."""

from __future__ import annotations

import pytest

from bench.topic_corpus import blog_posts
from lib.store import connect_read_only
from lib.topic_links import renamed_topics
from lib.topic_names import LABEL_SEPARATOR, OUTLIER_LABEL
from tests.helpers import build_store, card_titles, open_app, query

UNRELATED = LABEL_SEPARATOR.join(["甲乙丙", "丁戊己"])  # shares no term with any topic


@pytest.fixture(scope="module")
def fitted_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    rows = [{k: v for k, v in r.items() if k != "subject"} for r in blog_posts("zh-llm-notes", 240)]
    return build_store(tmp_path_factory.mktemp("links") / "posts.duckdb", rows)


def largest_label(db: str) -> str:
    return query(db, "SELECT label FROM topics WHERE topic_id >= 0 ORDER BY size DESC")[0][0]


def renamed_from(label: str) -> str:
    """A name as an earlier fit could have given the topic: its first two terms, then one
    the topic does not have."""
    return LABEL_SEPARATOR.join([*label.split(LABEL_SEPARATOR)[:2], "旧名字"])


def test_a_stale_name_leads_to_the_topic_sharing_most_terms(fitted_db: str) -> None:
    label = largest_label(fitted_db)
    con = connect_read_only(fitted_db)
    try:
        found = renamed_topics(con, (renamed_from(label), label, "lora", OUTLIER_LABEL, UNRELATED))
    finally:
        con.close()
    # A current name, a keyword and the outliers are no stale names.
    assert found == {renamed_from(label): label, UNRELATED: None}


def test_browse_under_a_stale_topic_link_shows_the_renamed_topic(
    monkeypatch: pytest.MonkeyPatch, fitted_db: str
) -> None:
    label = largest_label(fitted_db)
    current = open_app(monkeypatch, fitted_db, "pages/posts.py", {"topic": label})
    stale = open_app(monkeypatch, fitted_db, "pages/posts.py", {"topic": renamed_from(label)})
    assert card_titles(stale) == card_titles(current)
    assert stale.session_state["topic"] == [label]  # the filter chip names the topic now
    notes = [c.value for c in stale.caption if "fitted again" in c.value]
    assert len(notes) == 1 and "旧名字" in notes[0]


def test_a_stale_topic_sharing_no_term_is_named_and_dropped(
    monkeypatch: pytest.MonkeyPatch, fitted_db: str
) -> None:
    everything = open_app(monkeypatch, fitted_db, "pages/posts.py")
    stale = open_app(monkeypatch, fitted_db, "pages/posts.py", {"topic": UNRELATED})
    assert card_titles(stale) == card_titles(everything)  # not an empty page without a word
    assert stale.session_state["topic"] == []
    assert any("Ignored `topic`" in c.value and "甲乙丙" in c.value for c in stale.caption)
