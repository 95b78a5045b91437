"""``/data``: where the posts came from, and how complete they are."""

from __future__ import annotations

import streamlit as st

from lib import store_report
from lib.dates import ENV_VAR as DATES_ENV_VAR
from lib.dates import published_years
from ui.shell import require_shell
from ui.sources import refresh_section
from ui.store_access import run

require_shell()

st.title("Data")
# The filter panel shows on every page; without this a reader takes these figures as filtered.
st.caption("This page covers the whole store: the filters in the sidebar do not apply here.")
refresh_section()
quality = run(store_report.quality)
years = published_years()
st.subheader("Data quality")
if quality.posts == 0:
    st.info("The store is empty. Import posts with `python -m lib.ingest SOURCE...`.")
    st.stop()


def share(n: int) -> str:
    return f"{n:,} ({n / quality.posts:.0%})"


cols = st.columns(5)
cols[0].metric("Posts", f"{quality.posts:,}")
cols[1].metric("Without category", share(quality.without_category))
cols[2].metric("Without date", share(quality.without_date))
cols[3].metric("Title derived / missing", f"{quality.derived_title:,} / {quality.without_title:,}")
cols[4].metric("Without link", share(quality.without_link))
cols = st.columns(4)
cols[0].metric("Posts seen more than once", f"{quality.merged_posts:,}")
cols[1].metric("Sightings merged", f"{quality.sightings:,}")
cols[2].metric("Conflicts / rejected records", f"{quality.conflicts:,} / {quality.rejected:,}")
cols[3].metric(
    "Dates out of range",
    f"{quality.dates_out_of_range:,}",
    help=f"Dates outside {years.describe()} in the imports below, stored as no date"
    f" (`{DATES_ENV_VAR}` sets the years).",
)

st.subheader("Ingest runs")
st.dataframe(run(store_report.ingest_runs), hide_index=True)

if quality.conflicts:
    st.subheader("Conflicts")
    st.caption(
        "Sources that disagreed; the stored value was kept and the other one is listed here."
    )
    st.dataframe(run(store_report.conflicts), hide_index=True)

shared = run(store_report.shared_links)
if len(shared):
    st.subheader("Posts that share a link")
    st.caption(
        "Their sources give them one link (several posts with `permalink: /skill`, say), but"
        " they differ in title, date and text, so each is a post of its own."
    )
    st.dataframe(shared, hide_index=True)
