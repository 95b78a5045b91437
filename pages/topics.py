"""``/topics``: placeholder while the page is built."""

from __future__ import annotations

import streamlit as st

from ui.shell import require_shell

require_shell()

st.title("Topics")
