"""Streamlit pieces shared by the pages: connection, filter panel, cards."""
