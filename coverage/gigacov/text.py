"""Text hygiene at the edges: what names and titles may carry into a terminal, a spreadsheet or a
chart.

Names come from other people's files (boundary attributes, site lists, standard files, the
scenario's title). Before they reach an output that interprets text, they pass through one of
these functions:

* :func:`clean_text` — removes terminal escape sequences (CSI ``ESC [ …``, OSC ``ESC ] … BEL``),
  and C0/C1 control characters (tab and line breaks are kept only when asked). Used for
  terminals, workbooks and charts.
* :func:`terminal_text` — :func:`clean_text` plus rich-markup escaping, for text printed through
  rich with markup on.
* :func:`spreadsheet_text` / :func:`csv_cell` / :func:`csv_frame` — neutralise spreadsheet
  formulas (OWASP "CSV injection"): a text cell that starts with ``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return gets a leading apostrophe, unless the whole text is a plain number
  (``-12.5``, ``+3``), which stays a number.

This module imports nothing heavy (pandas only inside :func:`csv_frame`), so every layer may use
it.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "FORMULA_PREFIXES",
    "clean_text",
    "terminal_text",
    "spreadsheet_text",
    "is_formula_like",
    "csv_cell",
    "csv_frame",
    "csv_unquote_frame",
    "write_csv",
]

#: First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# ESC-introduced sequences: CSI (ESC [ params final), OSC (ESC ] … terminated by BEL or ESC \),
# DCS/SOS/PM/APC strings (ESC P / X / ^ / _ … ESC \) and two-character escapes (ESC + one char).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[ -~]?"  # other escapes, or a lone ESC
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x9d[^\x07\x9c]*[\x07\x9c]?"  # 8-bit OSC
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROLS_AND_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def clean_text(text: Any, *, keep_newlines: bool = False) -> str:
    """``text`` as a string without terminal escape sequences and control characters.

    Parameters
    ----------
    text
        Any value; ``None`` becomes ``""``, other values go through ``str``.
    keep_newlines
        Keep tab, line feed and carriage return (multi-line notes); otherwise each becomes a
        space, so a one-line name stays on one line.
    """
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    if s.isprintable():  # the common case: nothing to do
        return s
    s = _ESCAPES.sub("", s)
    if keep_newlines:
        return _CONTROLS.sub("", s)
    s = re.sub(r"[\t\n\r\u2028\u2029]", " ", s)
    return _CONTROLS_AND_BREAKS.sub("", s)


def terminal_text(text: Any) -> str:
    """``text`` safe to print through rich with markup on: no escapes, no controls, no markup."""
    from rich.markup import escape

    return escape(clean_text(text))


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet would read ``text`` as a formula (and it is not a plain number)."""
    return bool(text) and text[0] in FORMULA_PREFIXES and not _PLAIN_NUMBER.fullmatch(text)


def spreadsheet_text(text: Any, *, keep_newlines: bool = True) -> str:
    """A string for a spreadsheet cell: controls removed, formula-like text prefixed with ``'``."""
    s = clean_text(text, keep_newlines=keep_newlines)
    return "'" + s if is_formula_like(s) else s


def csv_cell(value: Any) -> Any:
    """One CSV value: strings that a spreadsheet would run as a formula get a leading ``'``.

    Numbers (and strings that are plain numbers) are returned unchanged; control characters are
    kept (a CSV may carry them and the value column of ``rejected_rows.csv`` must show the
    input as it was), except that a leading tab or carriage return is neutralised like ``=``.
    """
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def csv_frame(df: Any) -> Any:
    """A copy of a DataFrame whose text cells (and column names) are safe for :func:`csv_cell`.

    Only object and string columns are touched; numeric columns are returned as they are, so
    numbers stay numbers in the CSV.
    """
    import pandas as pd

    out = df.copy(deep=False)
    for col in out.columns:
        s = out[col]
        if isinstance(s, pd.DataFrame):  # duplicate column names: leave them, names fixed below
            continue
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            if s.map(lambda v: isinstance(v, str) and is_formula_like(v)).any():
                out[col] = s.map(csv_cell)
    out.columns = [csv_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def write_csv(df: Any, path: Any, **kwargs: Any) -> None:
    """Write a table as CSV for spreadsheet users: formula-like text neutralised
    (:func:`csv_frame`), no index, CRLF line ends (RFC 4180), so that a field holding a line
    break or a carriage return is quoted and the file still reads back row by row."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\r\n")
    csv_frame(df).to_csv(path, **kwargs)


def csv_unquote(value: Any) -> Any:
    """Undo :func:`csv_cell`: ``'=x`` read back from gigacov's own CSV becomes ``=x``."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and is_formula_like(value[1:]):
        return value[1:]
    return value


def csv_unquote_frame(df: Any) -> Any:
    """Undo :func:`csv_frame` on a table read back from one of gigacov's CSV files (in place)."""
    import pandas as pd

    for col in df.columns:
        s = df[col]
        if isinstance(s, pd.DataFrame) or not (
            s.dtype == object or pd.api.types.is_string_dtype(s.dtype)
        ):
            continue
        if s.map(lambda v: isinstance(v, str) and v[:1] == "'").any():
            df[col] = s.map(csv_unquote)
    return df
