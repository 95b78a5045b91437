"""``lib.console.limits``: every cap is a setting, and no value can remove one."""

from __future__ import annotations

import pytest

from lib.console import limits


@pytest.mark.parametrize("raw", ["", "x", "0", "-5", "inf", "Infinity", "-inf", "nan", "1e999"])
def test_a_value_that_is_not_a_positive_finite_number_keeps_the_default(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "inf" once passed as positive: no time limit, or a server that fails to start."""
    monkeypatch.setenv("CONSOLE_TIMEOUT_S", raw)
    assert limits._setting("TIMEOUT_S", 5.0) == 5.0


@pytest.mark.parametrize(("raw", "value"), [("10", 10.0), ("0.5", 0.5), (" 2 ", 2.0)])
def test_a_positive_number_is_taken(
    raw: str, value: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSOLE_TIMEOUT_S", raw)
    assert limits._setting("TIMEOUT_S", 5.0) == value
