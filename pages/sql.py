"""``/sql``: read-only SQL over the store, with the query in the URL so a question can be shared.

What keeps the console safe (the statement checks, the sandboxed DuckDB instance in a worker
process, the time, memory and size limits, the queue and the byte-bounded result cache)
lives in ``lib.console``; this page only draws what it returns, and names the session so
that one visitor has one query running at a time. Every value from the store or from the
query is shown inertly: cells in ``st.dataframe``, messages escaped or in ``st.code``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pandas as pd
import streamlit as st

from lib import console
from lib.charts import result_chart
from lib.safe_text import escape_markdown
from ui.charts import show_chart
from ui.shell import require_shell
from ui.store_access import Store, signature

require_shell()

SQL_KEY = "sql"  # the widget's key is the URL parameter
CHART_KEY = "_sql_chart"
SESSION_KEY = "_sql_session"  # who is asking, for the console's one-query-per-session rule


def _session() -> str:
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = uuid.uuid4().hex
    return st.session_state[SESSION_KEY]


@st.cache_data(max_entries=4, show_spinner=False)
def _schema(store: Store) -> pd.DataFrame:
    return console.schema(store[0])


def _csv_when_asked(store: Store, sql: str) -> Callable[[], bytes]:
    """The result as CSV, made when the button is clicked, from the console's cache (or run
    again). Streamlit keeps a button's data for as long as it keeps the session, minutes after
    the visitor left, so it must hold the question, never the rows."""
    session = _session()

    def csv() -> bytes:
        try:
            outcome = console.answer(
                store[0],
                sql,
                store_key=store,
                session=session,
                timeout_s=console.DEFAULT_TIMEOUT_S,
            )
        except console.ConsoleBusy:
            return b""
        return outcome.csv() if isinstance(outcome, console.ConsoleResult) else b""

    return csv


def _use_example(sql: str) -> None:
    st.session_state[SQL_KEY] = sql


def _show_error(error: console.ConsoleError) -> None:
    """The message only: its first line as the error, any detail (DuckDB's caret) as code."""
    headline, _, detail = error.message.partition("\n")
    if isinstance(error, console.ConsoleRefused):
        icon = ":material/block:"
    elif isinstance(error, console.ConsoleTimeout):
        icon = ":material/timer_off:"
    elif isinstance(error, console.ConsoleBusy):
        icon = ":material/hourglass_top:"
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
    waiting = st.empty()
    with st.spinner("Running the query…"):
        try:
            outcome = console.answer(
                store[0],
                sql,
                store_key=store,
                session=_session(),
                timeout_s=console.DEFAULT_TIMEOUT_S,
                on_wait=lambda where: waiting.info(where, icon=":material/hourglass_top:"),
            )
        except console.ConsoleBusy as exc:
            outcome = exc
    waiting.empty()
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
        data=_csv_when_asked(store, sql),
        file_name="query.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    if chart_on:
        figure = result_chart(outcome.frame)
        if figure is None:
            st.info("The result has no rows to chart.")
        else:
            show_chart(figure, key="sql_result_chart")
    st.dataframe(outcome.frame, hide_index=True)


store = signature()
st.title("SQL")
st.caption(
    "Ask the store anything with one read-only query (DuckDB SQL): `SELECT`, `WITH`, `FROM`-first,"
    f" `DESCRIBE`, `SUMMARIZE`, `SHOW TABLES`. A query may run {console.DEFAULT_TIMEOUT_S:g} s"
    f" and show {console.MAX_ROWS:,} rows in its own process, with a memory cap; it cannot"
    " change anything or read files."
    " The sidebar filters do not apply here; the query is in the URL, so the link shares it."
)
unavailable = console.unavailable(store[0])
if unavailable:  # MotherDuck, or a dataset in object storage: the sandbox cannot reach it
    st.info(escape_markdown(unavailable), icon=":material/block:")
    st.stop()
console.pool().prestart()  # a worker imports DuckDB while the visitor writes the query

left, right = st.columns([3, 1], gap="large")
with right:
    _schema_panel(store)
with left:
    _query_box()
    _result(store, (st.session_state.get(SQL_KEY) or "").strip())
