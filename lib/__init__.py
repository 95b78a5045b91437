"""Everything that is not UI: storage, ingest, text, queries and charts.

Nothing under ``lib`` imports Streamlit, so the CLI, the benchmarks and the tests
can use it without a running app.
"""
