"""What both Excel workbooks share: status fills and fonts, cell styles, sheet names, safe
cells (text never read as a formula), the streamed :class:`Sheet`, the status legend and the
atomic save (:func:`save_workbook`, through :func:`gigacov.rundir.atomic_path`)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..rundir import atomic_path
from ..text import clean_text, is_formula_like
from .labels import Labeler

__all__ = [
    "STATUS_FILLS",
    "STATUS_FONTS",
    "HEADER_FILL",
    "GROUP_FILL",
    "THRESHOLD_FILL",
    "NOTICE_FILL",
    "BOLD",
    "TITLE",
    "RED_BOLD",
    "BOX",
    "WRAP",
    "CENTRE_WRAP",
    "README_SHEET",
    "SHORTFALL_SHEET",
    "sheet_name",
    "cell_number",
    "safe_cell",
    "Sheet",
    "legend_cells",
    "save_workbook",
    "ReadMe",
    "synthetic_notice",
]

#: Cell fills by status (Excel's own "Good" / "Neutral" / "Bad" / grey colours).
STATUS_FILLS = {
    "pass": PatternFill("solid", fgColor="C6EFCE"),
    "at_risk": PatternFill("solid", fgColor="FFEB9C"),
    "fail": PatternFill("solid", fgColor="FFC7CE"),
    "no_data": PatternFill("solid", fgColor="D9D9D9"),
}
STATUS_FONTS = {
    "pass": Font(color="006100"),
    "at_risk": Font(color="9C5700"),
    "fail": Font(color="9C0006"),
    "no_data": Font(color="595959"),
}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
GROUP_FILL = PatternFill("solid", fgColor="BDD7EE")
THRESHOLD_FILL = PatternFill("solid", fgColor="FFF2CC")
NOTICE_FILL = PatternFill("solid", fgColor="FFE699")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
RED_BOLD = Font(bold=True, color="C00000", size=12)
_THIN = Side(style="thin", color="A6A6A6")
BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTRE_WRAP = Alignment(wrap_text=True, vertical="center", horizontal="center")

_SHEET_NAMES = {
    "province": "省 province",
    "city": "地市 city",
    "county": "区县 county",
    "village": "行政村 village",
}
README_SHEET = "说明 read me"
SHORTFALL_SHEET = "缺口 shortfalls"


def sheet_name(level: str) -> str:
    """Sheet name of a level (≤ 31 characters, as Excel requires)."""
    return _SHEET_NAMES.get(level, level)[:31]


def cell_number(x: Any) -> float | None:
    """A finite float for a cell, or None (an empty cell) for missing values."""
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def safe_cell(ws: Any, value: Any) -> Cell:
    """A write-only cell; text is always stored as text, never as a formula.

    Control characters (which Excel cannot store) are removed. Text that a spreadsheet would
    read as a formula (``=…``, ``+…``, ``-…``, ``@…``) is stored as a string with Excel's quote
    prefix, as when a user types ``'=…``: it shows literally and stays text when edited.
    """
    if isinstance(value, str):
        text = clean_text(value, keep_newlines=True).replace("\r\n", "\n").replace("\r", "\n")
        cell = WriteOnlyCell(ws, value=text)
        cell.data_type = "s"
        if is_formula_like(text):
            cell.quotePrefix = True
        return cell
    return WriteOnlyCell(ws, value=value)


class Sheet:
    """A write-only sheet filled row by row.

    Column widths, frozen panes and row heights must be set before the rows they concern are
    appended (openpyxl streams the sheet); the auto-filter may be set at the end.
    """

    def __init__(
        self, wb: Workbook, title: str, widths: Sequence[float] = (), freeze: str | None = None
    ):
        self.ws = wb.create_sheet(title)
        for j, w in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(j)].width = w
        if freeze:
            self.ws.freeze_panes = freeze
        self.row = 0

    def c(
        self,
        value: Any,
        *,
        fmt: str | None = None,
        font: Font | None = None,
        fill: PatternFill | None = None,
        align: Alignment | None = None,
        border: bool = False,
        comment: str = "",
    ) -> Cell:
        cell = safe_cell(self.ws, value)
        if fmt:
            cell.number_format = fmt
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if align is not None:
            cell.alignment = align
        if border:
            cell.border = BOX
        if comment:
            text = clean_text(comment, keep_newlines=True)
            cell.comment = Comment(text, "gigacov", width=320, height=120)
        return cell

    def append(self, cells: Sequence[Any] = (), height: float | None = None) -> int:
        self.row += 1
        if height:
            self.ws.row_dimensions[self.row].height = height
        self.ws.append([c if isinstance(c, Cell) else safe_cell(self.ws, c) for c in cells])
        return self.row

    def header(self, headers: Sequence[str], height: float = 32) -> int:
        return self.append(
            [
                self.c(h, font=BOLD, fill=HEADER_FILL, align=CENTRE_WRAP, border=True)
                for h in headers
            ],
            height=height,
        )

    def filter(self, first_row: int, n_cols: int, last_row: int) -> None:
        self.ws.auto_filter.ref = (
            f"A{first_row}:{get_column_letter(max(n_cols, 1))}{max(last_row, first_row + 1)}"
        )


def legend_cells(sh: Sheet, lang: Labeler, unconfirmed_note: bool = True) -> list[Cell]:
    cells = [sh.c(lang("图例", "legend"), font=BOLD)]
    for st in STATUS_FILLS:
        cells.append(
            sh.c(
                lang.status(st),
                fill=STATUS_FILLS[st],
                font=STATUS_FONTS[st],
                align=CENTRE_WRAP,
                border=True,
            )
        )
    if unconfirmed_note:
        cells.append(
            sh.c(
                lang(
                    "* 阈值未经官方原文确认；存在风险 = 低于该阈值但不低于已获评城市的最低值",
                    "* threshold not confirmed against the official text; at risk = below it, "
                    "but not below the lowest certified city",
                ),
                font=Font(italic=True, color="7F6000"),
            )
        )
    return cells


def save_workbook(wb: Workbook, path: Path) -> Path:
    """Save through a temporary file renamed over ``path``; on failure discard the streams.

    A write-only workbook keeps one temporary file per sheet until it is saved; when saving
    fails, the sheets not yet written are closed and their temporary files removed.
    """
    try:
        with atomic_path(path) as tmp:
            wb.save(tmp)
    except BaseException:
        for ws in wb.worksheets:
            with contextlib.suppress(Exception):
                if not ws.closed:
                    ws.close()
                ws._writer.cleanup()  # noqa: SLF001 - openpyxl offers no public way to drop a stream
        raise
    return path


def synthetic_notice(lang: Labeler) -> str:
    return lang(
        "合成数据：本情景的全部输入均为合成（模拟）数据，结果不描述任何真实网络。",
        "SYNTHETIC DATA: every input of this scenario is synthetic; the figures describe no real network.",
    )


class ReadMe:
    """Key / value rows and small tables on a read-me sheet."""

    def __init__(self, wb: Workbook, widths: Sequence[float] = (30, 70, 24, 24, 24, 24, 24)):
        self.sh = Sheet(wb, README_SHEET, widths)

    def title(self, text: str) -> None:
        self.sh.append([self.sh.c(text, font=TITLE)], height=22)
        self.sh.append()

    def notice(self, text: str) -> None:
        sh = self.sh
        sh.append(
            [sh.c(text, font=RED_BOLD, fill=NOTICE_FILL)] + [sh.c(None, fill=NOTICE_FILL)] * 3,
            height=24,
        )
        sh.append()

    def kv(self, key: str, *values: Any, fmt: str | None = None) -> None:
        sh = self.sh
        sh.append(
            [sh.c(key, font=BOLD, align=WRAP)] + [sh.c(v, align=WRAP, fmt=fmt) for v in values]
        )

    def section(self, text: str) -> None:
        self.sh.append()
        self.sh.append([self.sh.c(text, font=Font(bold=True, size=12), fill=GROUP_FILL)])

    def header(self, headers: Sequence[str]) -> None:
        self.sh.append([self.sh.c(h, font=BOLD, fill=HEADER_FILL, border=True) for h in headers])

    def row(self, cells: Sequence[Any]) -> None:
        self.sh.append([c if isinstance(c, Cell) else self.sh.c(c, align=WRAP) for c in cells])
