"""``/sql``: read-only SQL over the store, with the query in the URL so a question can be shared.

What keeps the console safe (the statement checks, the sandboxed DuckDB instance, the time
and size limits) lives in ``lib.console``; this page only draws what it returns. Results are
cached per store file and query text, failures included, so that a query that ran into the
time limit is not run again on every click; only "busy" is not cached, as it is worth a retry.
Every value from the store or from the query is shown inertly: cells in ``st.dataframe``,
messages escaped or in ``st.code``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import console
from lib.safe_text import escape_markdown
from ui.data import Store, signature
from ui.shell import require_shell

require_shell()

SQL_KEY = "sql"  # the widget's key is the URL parameter
CHART_KEY = "_sql_chart"


@st.cache_data(max_entries=64, ttl=600, show_spinner=False)
def _run(store: Store, sql: str, timeout_s: float) -> console.ConsoleResult | console.ConsoleError:
    try:
        return console.run_console(store[0], sql, timeout_s=timeout_s)
    except console.ConsoleBusy:
        raise  # not cached: the next try may find a free slot
    except console.ConsoleError as exc:
        return exc


@st.cache_data(max_entries=4, show_spinner=False)
def _schema(store: Store) -> pd.DataFrame:
    return console.schema(store[0])


def _use_example(sql: str) -> None:
    st.session_state[SQL_KEY] = sql


def _show_error(error: console.ConsoleError) -> None:
    """The message only: its first line as the error, any detail (DuckDB's caret) as code."""
    headline, _, detail = error.message.partition("\n")
    if isinstance(error, console.ConsoleRefused):
        icon = ":material/block:"
    elif isinstance(error, console.ConsoleTimeout):
        icon = ":material/timer_off:"
    else:
        icon = ":material/error:"
    st.error(escape_markdown(headline), icon=icon)
    if detail.strip():
        st.code(detail.strip("\n"), language=None)


def _schema_panel(store: Store) -> None:
    st.subheader("Tables")
    columns = _schema(store)
    with st.container(height=560, border=False):  # scrolls beside the box, however many tables
        for table, rows in columns.groupby("table", sort=False):
            size = rows["rows"].iloc[0]
            count = "" if pd.isna(size) else f" · {int(size):,} row{'' if size == 1 else 's'}"
            with st.expander(escape_markdown(f"{table}{count}"), expanded=table == "posts"):
                st.dataframe(rows[["column", "type"]], hide_index=True)


def _query_box() -> None:
    st.caption("Examples")
    with st.container(horizontal=True):
        for i, (label, example) in enumerate(console.EXAMPLES.items()):
            st.button(label, key=f"_sql_example_{i}", on_click=_use_example, args=(example,))
    st.text_area(
        "Query",
        key=SQL_KEY,
        bind="query-params",
        height=200,
        max_chars=console.MAX_SQL_CHARS,
        placeholder="SELECT category, count(*) AS posts FROM posts GROUP BY ALL",
        help="One statement. Ctrl+Enter runs it.",
    )
    st.button("Run", type="primary", icon=":material/play_arrow:")


def _result(store: Store, sql: str) -> None:
    """The outcome of ``sql``: a message, or the rows with a chart switch and a download."""
    if not sql:
        st.info("Write a query, or pick an example above.")
        return
    with st.spinner("Running the query…"):
        try:
            outcome = _run(store, sql, console.DEFAULT_TIMEOUT_S)
        except console.ConsoleBusy as exc:
            outcome = exc
    if isinstance(outcome, console.ConsoleError):
        _show_error(outcome)
        return
    if outcome.truncated:
        st.warning(escape_markdown(outcome.describe()), icon=":material/content_cut:")
    else:
        st.caption(outcome.describe())
    bar = st.container(horizontal=True, vertical_alignment="center")
    chart_on = bar.toggle("Chart", key=CHART_KEY, help="The first column against the first number")
    bar.download_button(
        "Download CSV",
        data=outcome.csv,
        file_name="query.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    if chart_on:
        figure = console.result_chart(outcome.frame)
        if figure is None:
            st.info("The result has no rows to chart.")
        else:
            st.plotly_chart(figure, theme="streamlit", key="sql_result_chart")
    st.dataframe(outcome.frame, hide_index=True)


store = signature()
st.title("SQL")
st.caption(
    "Ask the store anything with one read-only query (DuckDB SQL): `SELECT`, `WITH`, `FROM`-first,"
    f" `DESCRIBE`, `SUMMARIZE`, `SHOW TABLES`. A query may run {console.DEFAULT_TIMEOUT_S:g} s"
    f" and show {console.MAX_ROWS:,} rows; it cannot change anything or read files."
    " The sidebar filters do not apply here; the query is in the URL, so the link shares it."
)
unavailable = console.unavailable(store[0])
if unavailable:  # MotherDuck, or a dataset in object storage: the sandbox cannot reach it
    st.info(escape_markdown(unavailable), icon=":material/block:")
    st.stop()

left, right = st.columns([3, 1], gap="large")
with right:
    _schema_panel(store)
with left:
    _query_box()
    _result(store, (st.session_state.get(SQL_KEY) or "").strip())
