"""Numbers as people read them: indicator values, thresholds and changes, in every output.

One rule for the report, the workbook's texts, the map's tooltips and the terminal tables: a ratio
(stored as a fraction 0–1) is shown as a percentage, other numbers with thousands separators and
``decimals`` decimals (an integral number ≥ 1,000 without decimals), a missing value (``None``,
NaN, ``pd.NA``) as ``missing``. The outputs differ only in presentation, which the callers pass:
the report writes ``85.3%``, the map's tooltips ``85.3 %`` and ``no data``, the terminal
``≥80.0%`` (see each caller).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["OP_SYMBOLS", "is_missing", "format_value", "format_threshold", "format_delta"]

#: Comparison operators of the standards (``op``) as printed.
OP_SYMBOLS: dict[str, str] = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}


def is_missing(x: Any) -> bool:
    """``None``, ``pd.NA``, ``pd.NaT`` or a NaN; any other value (any text) is not missing."""
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    if isinstance(x, str | bytes):
        return False
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def format_value(
    x: Any, ratio: bool, decimals: int = 1, *, percent: str = "%", missing: str = "—"
) -> str:
    """``85.3%`` for a ratio, ``12.3``, ``12,345``; ``missing`` when there is no value.

    ``percent`` is what follows a percentage (``"%"`` or ``" %"``).
    """
    if is_missing(x):
        return missing
    x = float(x)
    if ratio:
        return f"{x * 100:.{decimals}f}{percent}"
    if decimals == 0 or (x.is_integer() and abs(x) >= 1000):
        return f"{x:,.0f}"
    return f"{x:,.{decimals}f}"


def format_threshold(
    op: Any,
    threshold: Any,
    ratio: bool,
    decimals: int | None = None,
    *,
    percent: str = "%",
    separator: str = " ",
    missing: str = "—",
) -> str:
    """``≥ 80%``: the operator's symbol, ``separator`` and the threshold.

    With ``decimals=None`` the threshold is written as short as it is (``80%``, ``12``), else
    as :func:`format_value` writes a value. An unknown operator is written as given.
    """
    if is_missing(threshold):
        return missing
    sym = OP_SYMBOLS.get(str(op), str(op) if op else "")
    if decimals is None:
        t = float(threshold)
        text = f"{t * 100:g}{percent}" if ratio else f"{t:,g}"
    else:
        text = format_value(threshold, ratio, decimals, percent=percent)
    return f"{sym}{separator}{text}".strip()


def format_delta(delta: Any, ratio: bool, decimals: int = 1, *, missing: str = "—") -> str:
    """``+2.5 pp`` for a ratio (percentage points), ``+1.20`` otherwise."""
    if is_missing(delta):
        return missing
    d = float(delta)
    if ratio:
        return f"{d * 100:+.{decimals}f} pp"
    if decimals == 0:
        return f"{d:+,.0f}"
    return f"{d:+,.{decimals}f}"
