"""Entry point: navigation, page set-up, and the filter panel every page shares."""

from __future__ import annotations

import streamlit as st

from ui.data import require_store
from ui.filters import filter_panel
from ui.shell import pages, running_in_shell

st.set_page_config(page_title="Blog topic explorer", page_icon=":material/insights:", layout="wide")

page = st.navigation(pages())
with running_in_shell():
    require_store()
    filter_panel()
    page.run()
