"""One formatter for indicator values and thresholds (gigacov.formatting), in each output's style."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gigacov.formatting import format_delta, format_threshold, format_value, is_missing


@pytest.mark.parametrize("x", [None, math.nan, np.float32("nan"), pd.NA, pd.NaT])
def test_missing_values(x):
    assert is_missing(x)
    assert format_value(x, True) == "—"
    assert format_value(x, False, missing="no data") == "no data"
    assert format_threshold(">=", x, True) == "—"
    assert format_delta(x, True) == "—"


@pytest.mark.parametrize("x", [0, 0.0, "nan", "NaN", "", "x", np.int64(3)])
def test_values_and_texts_are_not_missing(x):
    assert not is_missing(x)


def test_report_map_and_terminal_styles_share_the_rule():
    # report: no space before %, shortest threshold
    assert format_value(0.8532, True) == "85.3%"
    assert format_threshold(">=", 0.95, True) == "≥ 95%"
    # map tooltips: a space before %, thresholds with one decimal
    assert format_value(0.8532, True, percent=" %") == "85.3 %"
    assert format_threshold(">=", 0.95, True, 1, percent=" %") == "≥ 95.0 %"
    # terminal: operator and value together
    assert format_threshold(">=", 0.8, True, 1, separator="") == "≥80.0%"
    assert format_threshold(">", 1234.0, False, 0, separator="") == ">1,234"
    # numbers: thousands separators; an integral number ≥ 1,000 without decimals
    assert format_value(1234.0, False) == "1,234" and format_value(12.34, False) == "12.3"
    assert format_value(999.0, False) == "999.0" and format_value(1234.5, False, 0) == "1,234"
    assert format_threshold("==", 3, False) == "= 3" and format_threshold("", 3, False) == "3"
    assert format_delta(-0.012, True) == "-1.2 pp" and format_delta(1500, False, 0) == "+1,500"
