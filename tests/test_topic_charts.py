"""``lib.topic_charts``: the Topics page's figures, built from frames shaped as
``lib.topics`` returns them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from lib.topic_charts import movers_chart, percent_ticks


def drawn_ticks(axis: dict[str, Any], low: float, high: float) -> list[str]:
    """The tick labels Plotly draws for a linear axis spanning ``low`` to ``high``."""
    step, decimals = axis["dtick"], int(axis["tickformat"][2:-1])
    first = np.ceil((low - axis["tick0"]) / step)
    values = [axis["tick0"] + (first + k) * step for k in range(int((high - low) / step) + 1)]
    return [f"{v * 100:+.{decimals}f}%" for v in values if v <= high + 1e-12]


@pytest.mark.parametrize(
    "changes",
    [
        [-0.012, -0.004, 0.0, 0.003],  # a span of 1.5 %: the old "+.0%" printed −1 %, −1 %, +0 %
        [-0.0004, 0.0002],
        [0.05, 0.21, -0.08],
        [0.0],
    ],
)
def test_rising_and_falling_tick_labels_are_distinct(changes: list[float]) -> None:
    frame = pd.DataFrame(
        {
            "topic": [f"t{i}" for i in range(len(changes))],
            "change": changes,
            "share_before": [0.1] * len(changes),
            "share_after": [0.1] * len(changes),
        }
    )
    axis = movers_chart(frame).to_dict()["layout"]["xaxis"]
    assert axis == {**axis, **percent_ticks(changes)}
    labels = drawn_ticks(axis, min(*changes, 0.0), max(*changes, 0.0))
    assert len(labels) >= 2 or changes == [0.0]
    assert len(labels) == len(set(labels)), labels
