"""Entry point: navigation, page set-up, and the filter panel every page shares."""

from __future__ import annotations

import base64
from pathlib import Path

import streamlit as st

from ui.filters import filter_panel
from ui.shell import nav_links, pages, running_in_shell
from ui.store_access import require_store

# The icon is a file of the app's own: a :material/…: icon is fetched from a font CDN, which an
# offline or firewalled reader cannot reach. Given as a data URL: a file path is opened and
# registered with the media manager on every run.
ICON = Path(__file__).parent / "ui" / "icon.png"
ICON_URL = "data:image/png;base64," + base64.b64encode(ICON.read_bytes()).decode()
st.set_page_config(page_title="Blog topic explorer", page_icon=ICON_URL, layout="wide")

page = st.navigation(pages(), position="hidden")  # links of our own keep the filters
with running_in_shell():
    require_store()
    nav = st.sidebar.container()
    nav_links(nav, filter_panel())
    page.run()
