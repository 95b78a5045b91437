"""The charts as drawn: the app's light look, whether Streamlit's theme or the figure gives it.

Charts are sent with ``theme=None`` and carry their look in a template (``lib.chart_look``);
without it Plotly would draw a grey plot area, its own greys and a plain title. The colours
expected are Streamlit's for this app's light theme, as its chart theme drew them.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.helpers import App, open_page

pytestmark = pytest.mark.e2e

# What Chromium computes for each part of every chart on the page.
_DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => {
  const style = (selector, property) => {
    const el = gd.querySelector(selector);
    return el ? getComputedStyle(el)[property] : null;
  };
  const title = gd.querySelector('.gtitle');
  return {
    title: title.textContent,
    titleWeight: getComputedStyle(title.querySelector('tspan') || title).fontWeight,
    titleColour: style('.gtitle', 'fill'),
    paper: getComputedStyle(gd.querySelector('.main-svg')).backgroundColor,
    plotArea: style('.bglayer .bg', 'fill'),
    grid: style('.ygrid, .xgrid', 'stroke'),
    ticks: style('.ytick text, .xtick text', 'fill'),
    legend: style('.legendtext', 'fill'),
    font: style('.ytick text, .xtick text', 'fontFamily'),
  };
})"""
WHITE = "rgb(255, 255, 255)"


def test_the_overview_charts_keep_the_apps_look(page: Page, decade_app: App) -> None:
    open_page(page, decade_app("/?from=2018-02-15&to=2019-06-10&interval=month"))
    page.wait_for_selector(".js-plotly-plot .legendtext")
    drawn = {chart["title"]: chart for chart in page.evaluate(_DRAWN)}
    assert set(drawn) == {"Posts per month", "Posts by category"}
    for title, chart in drawn.items():
        assert chart["titleWeight"] == "700", title  # bold, as Streamlit's theme drew it
        assert chart["titleColour"] == "rgb(31, 36, 48)", title  # the theme's text colour
        assert chart["paper"] == WHITE, title
        assert chart["plotArea"] in (WHITE, None), title  # not Plotly's grey #e5ecf6
        assert chart["ticks"] == "rgb(128, 132, 149)", title
        assert chart["font"].startswith('"Source Sans", "Noto Sans CJK SC"'), chart["font"]
    # Gridlines across the values only: none along the category chart's bars.
    assert drawn["Posts per month"]["grid"] == "rgb(230, 234, 241)"
    assert drawn["Posts by category"]["grid"] is None
    assert drawn["Posts per month"]["legend"] == "rgb(38, 39, 48)"
