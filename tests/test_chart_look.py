"""``lib.chart_look``: every figure the app builds carries the app's look in itself.

Charts are sent with ``theme=None``, so a figure without the template would be drawn in
Plotly's own look (a grey plot area, Plotly's fonts) and, worse, with Streamlit's
placeholder colours (``#000001``…) swapped for Plotly's defaults. The expected values are
read from ``.streamlit/config.toml`` here, the file a reader's theme comes from.
"""

from __future__ import annotations

import inspect
import json
import re
import tomllib
from collections.abc import Callable
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import pytest

from lib import charts, topic_charts
from lib.chart_look import CHART_TEMPLATE
from lib.config import REPO_ROOT

THEME = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())["theme"]
# Streamlit's Python template marks colours for its frontend to replace: #000001 to #000040.
PLACEHOLDER = re.compile(r"#0000[0-4]\d\b")

MONTHS = [date(2025, m, 1) for m in (1, 2, 3)]
TOPICS = ["LoRA 微调", "显存 优化", "outlier"]


def _volume() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category": ["大模型", "NLP", None, "大模型"],
            "period": [MONTHS[0], MONTHS[0], MONTHS[1], MONTHS[2]],
            "posts": [4, 2, 1, 3],
            "partial": [False, False, False, True],
        }
    )


def _compared() -> pd.DataFrame:
    rows = [(t, m, 2 + i, 10) for i, m in enumerate(MONTHS) for t in TOPICS[:2]]
    frame = pd.DataFrame(rows, columns=["topic", "period", "posts", "total"])
    return frame.assign(share=frame["posts"] / frame["total"])


# One small input per figure builder, the way its page calls it.
SAMPLES: dict[str, Callable[[], go.Figure | None]] = {
    "figure": lambda: charts.figure([{"type": "bar", "x": ["a"], "y": [1]}], {}),
    "volume_chart": lambda: charts.volume_chart(_volume(), "month"),
    "category_chart": lambda: charts.category_chart(
        pd.DataFrame({"category": ["大模型", "NLP"], "posts": [5, 3]}), None, ["NLP"]
    ),
    "tag_chart": lambda: charts.tag_chart([("nlp", 3), ("强化学习", 2)]),
    "count_bars": lambda: charts.count_bars(["a", "b"], [2, 1], "Posts", "posts"),
    "result_chart": lambda: charts.result_chart(
        pd.DataFrame({"month": pd.to_datetime(MONTHS), "posts": [3, 1, 4]})
    ),
    "topics_over_time": lambda: topic_charts.topics_over_time(
        pd.DataFrame({"period": MONTHS * 2, "topic": TOPICS[:2] * 3, "posts": [1, 2, 3] * 2}),
        "month",
    ),
    "topic_map": lambda: topic_charts.topic_map(
        pd.DataFrame(
            {"topic": TOPICS, "x": [0.1, 0.5, 0.9], "y": [0.2, 0.4, 0.6], "title": list("甲乙丙")}
        ),
        TOPICS[:2],
    ),
    "compare_chart": lambda: topic_charts.compare_chart(_compared(), "share", "month"),
    "topic_totals_chart": lambda: topic_charts.topic_totals_chart(_compared()),
    "movers_chart": lambda: topic_charts.movers_chart(
        pd.DataFrame(
            {
                "topic": TOPICS[:2],
                "change": [0.03, -0.02],
                "share_before": [0.1, 0.2],
                "share_after": [0.13, 0.18],
            }
        )
    ),
}


def _builders() -> set[str]:
    """The functions of the chart modules that return a figure."""
    found = set()
    for module in (charts, topic_charts):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and "Figure" in str(
                inspect.signature(function).return_annotation
            ):
                found.add(name)
    return found


def test_every_figure_builder_has_a_sample_here() -> None:
    assert _builders() == set(SAMPLES)


@pytest.mark.parametrize("builder", list(SAMPLES))
def test_every_figure_is_drawn_in_the_apps_look(builder: str) -> None:
    built = SAMPLES[builder]()
    assert built is not None
    sent = json.loads(built.to_json())  # as Streamlit sends it to the browser
    look = sent["layout"]["template"]["layout"]
    assert look["paper_bgcolor"] == look["plot_bgcolor"] == THEME["backgroundColor"]
    assert look["font"]["family"] == THEME["font"]
    assert look["font"]["family"].startswith("Source Sans, Noto Sans CJK SC")
    assert look["hoverlabel"]["font"]["family"] == THEME["font"]
    # Titles bold in the text colour, as Streamlit's theme draws them.
    assert look["title"]["font"]["color"] == THEME["textColor"]
    assert look["title"]["font"]["weight"] == 700
    assert look["yaxis"]["gridcolor"] != look["plot_bgcolor"]
    assert not PLACEHOLDER.findall(json.dumps(sent)), "Streamlit's placeholder colours"


def test_the_template_is_valid_plotly() -> None:
    """Figures skip Plotly's validation, and plotly.js ignores a misspelt property."""
    template = go.layout.Template(CHART_TEMPLATE)
    assert template.layout.paper_bgcolor == THEME["backgroundColor"]


def test_our_category_colours_win_over_the_colorway() -> None:
    colours = charts.category_colours(["大模型", "NLP"])
    figure = json.loads(charts.volume_chart(_volume(), "month", colours).to_json())
    drawn = {t["name"]: t["marker"].get("color") for t in figure["data"] if t.get("x") != [None]}
    assert drawn["大模型"] == colours["大模型"]
    assert drawn["NLP"] == colours["NLP"]
    assert drawn["Uncategorized"] == charts.UNCATEGORIZED_COLOUR
    partial = [t for t in figure["data"] if t["marker"].get("pattern")]
    assert partial and partial[0]["marker"]["color"] == colours["大模型"]
