"""Browser tests: the real app (``streamlit run app.py``) in Debian's Chromium."""
