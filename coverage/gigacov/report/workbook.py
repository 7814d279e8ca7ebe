"""The Excel workbooks: ``compliance.xlsx`` (one sheet per level) and ``comparison.xlsx``.

Written with openpyxl for people who work in Excel: bilingual headers (中文 / English) with
units, a threshold row under the header, cells filled by status (pass / fail / no data, with a
legend), frozen header, auto-filters, numbers stored as numbers (ratios as fractions with a
percentage format — never as text). The workbooks are streamed (openpyxl write-only mode: rows
are written in order, memory stays flat for 14,000 villages) and saved through
:func:`gigacov.rundir.atomic_path`, so an interrupted write leaves the old file (or none).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..compliance import unit_status
from ..run_result import RunResult
from ..rundir import atomic_path
from ..standard_files import StandardInfo, standards_info
from ..text import clean_text, is_formula_like
from .labels import (
    LEVEL_NAMES,
    LEVELS,
    UNIT_COLUMNS,
    Labeler,
    excel_number_format,
    excel_threshold_format,
)
from .tables import (
    indicator_columns,
    levels_present,
    normalise_compliance,
    provenance,
)

__all__ = [
    "STATUS_FILLS",
    "README_SHEET",
    "SHORTFALL_SHEET",
    "write_workbook",
    "build_compliance_workbook",
    "write_comparison_workbook",
    "build_comparison_workbook",
    "sheet_name",
    "change_name",
]

log = logging.getLogger(__name__)

#: Cell fills by status (Excel's own "Good" / "Neutral" / "Bad" / grey colours).
STATUS_FILLS = {
    "pass": PatternFill("solid", fgColor="C6EFCE"),
    "at_risk": PatternFill("solid", fgColor="FFEB9C"),
    "fail": PatternFill("solid", fgColor="FFC7CE"),
    "no_data": PatternFill("solid", fgColor="D9D9D9"),
}
_STATUS_FONTS = {
    "pass": Font(color="006100"),
    "at_risk": Font(color="9C5700"),
    "fail": Font(color="9C0006"),
    "no_data": Font(color="595959"),
}
_CHANGE_STATUS = {
    "newly_passing": "pass",
    "newly_failing": "fail",
    "still_failing": "fail",
    "still_passing": "pass",
    "at_risk": "at_risk",
    "no_data": "no_data",
}
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_GROUP_FILL = PatternFill("solid", fgColor="BDD7EE")
_THRESHOLD_FILL = PatternFill("solid", fgColor="FFF2CC")
_NOTICE_FILL = PatternFill("solid", fgColor="FFE699")
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_RED_BOLD = Font(bold=True, color="C00000", size=12)
_THIN = Side(style="thin", color="A6A6A6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTRE_WRAP = Alignment(wrap_text=True, vertical="center", horizontal="center")

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


def _num(x: Any) -> float | None:
    """A finite float for a cell, or None (an empty cell) for missing values."""
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _cell(ws: Any, value: Any) -> Cell:
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


class _Sheet:
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
        cell = _cell(self.ws, value)
        if fmt:
            cell.number_format = fmt
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if align is not None:
            cell.alignment = align
        if border:
            cell.border = _BOX
        if comment:
            text = clean_text(comment, keep_newlines=True)
            cell.comment = Comment(text, "gigacov", width=320, height=120)
        return cell

    def append(self, cells: Sequence[Any] = (), height: float | None = None) -> int:
        self.row += 1
        if height:
            self.ws.row_dimensions[self.row].height = height
        self.ws.append([c if isinstance(c, Cell) else _cell(self.ws, c) for c in cells])
        return self.row

    def header(self, headers: Sequence[str], height: float = 32) -> int:
        return self.append(
            [
                self.c(h, font=_BOLD, fill=_HEADER_FILL, align=_CENTRE_WRAP, border=True)
                for h in headers
            ],
            height=height,
        )

    def filter(self, first_row: int, n_cols: int, last_row: int) -> None:
        self.ws.auto_filter.ref = (
            f"A{first_row}:{get_column_letter(max(n_cols, 1))}{max(last_row, first_row + 1)}"
        )


def _legend_cells(sh: _Sheet, lang: Labeler, unconfirmed_note: bool = True) -> list[Cell]:
    cells = [sh.c(lang("图例", "legend"), font=_BOLD)]
    for st in STATUS_FILLS:
        cells.append(
            sh.c(
                lang.status(st),
                fill=STATUS_FILLS[st],
                font=_STATUS_FONTS[st],
                align=_CENTRE_WRAP,
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


# ------------------------------------------------------------------------------------------------
# compliance.xlsx
# ------------------------------------------------------------------------------------------------


class _Column:
    __slots__ = (
        "group",
        "header",
        "key",
        "kind",
        "standard",
        "fmt",
        "threshold",
        "op",
        "confirmed",
        "note",
        "width",
    )

    def __init__(
        self,
        group: str,
        header: str,
        key: str,
        kind: str,
        *,
        standard: str = "",
        fmt: str | None = None,
        threshold: float | None = None,
        op: str = "",
        confirmed: bool = True,
        note: str = "",
        width: float = 16,
    ):
        self.group, self.header, self.key, self.kind = group, header, key, kind
        self.standard, self.fmt, self.threshold, self.op = standard, fmt, threshold, op
        self.confirmed, self.note, self.width = confirmed, note, width


def _level_columns(
    level: str,
    table: pd.DataFrame,
    comp: pd.DataFrame,
    stds: list[StandardInfo],
    lang: Labeler,
    judged: set[str],
) -> list[_Column]:
    """The columns of a level sheet; ``judged``: standards with an overall status at this level."""
    base = lang("基本信息", "unit")
    cols = [
        _Column(base, lang("代码", "code"), "admin_code", "text", width=14),
        _Column(base, lang("名称", "name"), "name", "text", width=14),
    ]
    if "name_en" in table and table["name_en"].fillna("").astype(str).str.len().gt(0).any():
        cols.append(_Column(base, lang("英文名", "English name"), "name_en", "text", width=14))
    if "parent_code" in table:
        cols.append(_Column(base, lang("上级代码", "parent code"), "parent_code", "text", width=13))
    for key, (zh, en, unit, fmt) in UNIT_COLUMNS.items():
        if key in table and key != "covered_population_5g":
            cols.append(_Column(base, f"{lang(zh, en)} ({unit})", key, "number", fmt=fmt, width=13))
    used: set[str] = set()
    std_ids = [s.id for s in stds] + sorted(set(comp["standard"]) - {s.id for s in stds})
    for sid in std_ids:
        sc = comp[comp["standard"] == sid]
        if sc.empty:
            continue
        info = next((s for s in stds if s.id == sid), None)
        order = [t.key for t in info.indicators] if info else []
        keys = [k for k in order if k in set(sc["indicator"])]
        keys += [k for k in dict.fromkeys(sc["indicator"]) if k not in keys]
        for key in keys:
            rows = sc[sc["indicator"] == key]
            thr_rows = rows["threshold"].dropna()
            threshold = float(thr_rows.iloc[0]) if len(thr_rows) else None
            op = next((o for o in rows["op"] if o), "")
            ti = info.get(key, level) if info else None
            label = lang.indicator(key)
            note_parts = []
            if ti is not None:
                if not ti.confirmed:
                    note_parts.append(
                        lang(
                            "阈值未经官方原文确认",
                            "threshold not confirmed against the official text",
                        )
                    )
                if ti.source:
                    note_parts.append(ti.source)
                if not ti.mandatory:
                    note_parts.append(lang("非必选指标", "not mandatory"))
            cols.append(
                _Column(
                    sid,
                    lang.indicator_header(key),
                    key,
                    "indicator",
                    standard=sid,
                    fmt=excel_number_format(label),
                    threshold=threshold,
                    op=op,
                    confirmed=ti.confirmed if ti else True,
                    note="\n".join(note_parts),
                )
            )
            used.add(key)
        if sid in judged:
            cols.append(
                _Column(sid, lang("总体结果", "overall"), sid, "overall", standard=sid, width=11)
            )
    other = lang("其他指标", "other indicators")
    for key in indicator_columns(table):
        if key not in used:
            label = lang.indicator(key)
            cols.append(
                _Column(
                    other, lang.indicator_header(key), key, "other", fmt=excel_number_format(label)
                )
            )
    return cols


def _level_sheet(
    wb: Workbook,
    level: str,
    table: pd.DataFrame,
    comp: pd.DataFrame,
    stds: list[StandardInfo],
    lang: Labeler,
    title: str,
) -> None:
    comp = comp[comp["level"] == level]
    status_rows = unit_status(comp, stds)
    overall = {(r.admin_code, r.standard): r.status for r in status_rows.itertuples()}
    cols = _level_columns(level, table, comp, stds, lang, set(status_rows["standard"]))
    # Units: those of the indicator table, plus any only the compliance table knows.
    codes = list(dict.fromkeys(table["admin_code"].tolist())) if len(table) else []
    known = set(codes)
    codes += [c for c in dict.fromkeys(comp["admin_code"]) if c not in known]
    wanted = [
        c.key for c in cols if c.kind in ("text", "number", "other") and c.key in table.columns
    ]
    records: dict[str, dict[str, Any]] = (
        table.drop_duplicates("admin_code")
        .set_index("admin_code", drop=False)[wanted]
        .to_dict("index")
        if len(table)
        else {}
    )
    names = dict(zip(comp["admin_code"], comp["name"], strict=True))
    cell_val = {
        (c, s, k): (v, st)
        for c, s, k, v, st in zip(
            comp["admin_code"],
            comp["standard"],
            comp["indicator"],
            comp["value"],
            comp["status"],
            strict=True,
        )
    }

    # Row 1 title, row 2 legend, row 3 groups, row 4 headers, row 5 thresholds, data from row 6.
    thr_row, first = 5, 6
    sh = _Sheet(wb, sheet_name(level), [c.width for c in cols], freeze=f"C{first}")
    sh.append([sh.c(f"{title} — {lang.level(level)}", font=_TITLE)], height=22)
    sh.append(_legend_cells(sh, lang))
    groups = []
    for j, col in enumerate(cols):
        start = j == 0 or cols[j - 1].group != col.group
        groups.append(
            sh.c(
                col.group if start else None,
                font=_BOLD,
                fill=_GROUP_FILL,
                align=_CENTRE_WRAP,
                border=start,
            )
        )
    sh.append(groups)
    sh.header([c.header for c in cols], height=64)
    thresholds = []
    for j, col in enumerate(cols):
        if j == 0:
            thresholds.append(
                sh.c(lang("阈值", "threshold"), font=_BOLD, fill=_THRESHOLD_FILL, border=True)
            )
        elif col.kind == "indicator" and col.threshold is not None:
            label = lang.indicator(col.key)
            thresholds.append(
                sh.c(
                    col.threshold,
                    fill=_THRESHOLD_FILL,
                    align=_CENTRE_WRAP,
                    border=True,
                    fmt=excel_threshold_format(label, col.op, col.threshold, col.confirmed),
                    font=Font(italic=not col.confirmed, bold=True),
                    comment=col.note,
                )
            )
        else:
            thresholds.append(sh.c(None, fill=_THRESHOLD_FILL, border=True))
    sh.append(thresholds)

    for code in codes:
        unit = records.get(code, {})
        row: list[Any] = []
        for col in cols:
            if col.kind == "text":
                if col.key == "admin_code":
                    row.append(code)
                elif col.key in unit:
                    v = unit[col.key]
                    row.append(
                        "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                    )
                else:
                    row.append(names.get(code, "") if col.key == "name" else "")
            elif col.kind in ("number", "other"):
                row.append(sh.c(_num(unit.get(col.key)), fmt=col.fmt))
            elif col.kind == "indicator":
                v, status = cell_val.get((code, col.standard, col.key), (None, "no_data"))
                row.append(
                    sh.c(
                        _num(v), fmt=col.fmt, fill=STATUS_FILLS[status], font=_STATUS_FONTS[status]
                    )
                )
            else:  # overall ("—": no mandatory indicator of the standard for this unit)
                status = overall.get((code, col.standard))
                row.append(
                    "—"
                    if status is None
                    else sh.c(
                        lang.status(status),
                        fill=STATUS_FILLS[status],
                        font=_STATUS_FONTS[status],
                        align=_CENTRE_WRAP,
                    )
                )
        sh.append(row)
    sh.filter(thr_row, len(cols), sh.row)


def _shortfall_sheet(wb: Workbook, comp: pd.DataFrame, lang: Labeler, title: str) -> None:
    sh = _Sheet(wb, SHORTFALL_SHEET, (10, 14, 14, 24, 30, 24, 12, 11, 11, 11, 18, 44), freeze="A3")
    sh.append(
        [
            sh.c(
                f"{title} — "
                + lang(
                    "未达标与存在风险的指标及缺口",
                    "failed and at-risk indicators, and their shortfalls",
                ),
                font=_TITLE,
            )
        ],
        height=22,
    )
    headers = [
        lang("层级", "level"),
        lang("代码", "code"),
        lang("名称", "unit"),
        lang("标准", "standard"),
        lang("指标", "indicator"),
        lang("指标键", "key"),
        lang("结果", "result"),
        lang("数值", "value"),
        lang("阈值", "threshold"),
        lang("缺口（至阈值）", "shortfall (to the threshold)"),
        lang("缺口单位", "unit of shortfall"),
        lang("说明", "what is needed"),
    ]
    top = sh.header(headers)
    fails = comp[comp["status"].isin(("fail", "at_risk"))].copy()
    fails["_lv"] = fails["level"].map({lv: i for i, lv in enumerate(LEVELS)}).fillna(len(LEVELS))
    fails = fails.sort_values(["_lv", "standard", "admin_code", "indicator"], kind="stable")
    for r in fails.itertuples():
        label = lang.indicator(r.indicator)
        sh.append(
            [
                lang.level(r.level),
                r.admin_code,
                r.name,
                r.standard,
                lang(label.name_zh, label.name_en),
                r.indicator,
                sh.c(lang.status(r.status), fill=STATUS_FILLS[r.status]),
                sh.c(_num(r.value), fmt=excel_number_format(label), fill=STATUS_FILLS[r.status]),
                sh.c(_num(r.threshold), fmt=excel_threshold_format(label, r.op, r.threshold)),
                sh.c(_num(r.shortfall), fmt="#,##0.##"),
                r.shortfall_unit,
                lang.shortfall(r.shortfall, r.shortfall_unit, r.indicator),
            ]
        )
    sh.filter(top, len(headers), sh.row)


def _synthetic_notice(lang: Labeler) -> str:
    return lang(
        "合成数据：本情景的全部输入均为合成（模拟）数据，结果不描述任何真实网络。",
        "SYNTHETIC DATA: every input of this scenario is synthetic; the figures describe no real network.",
    )


def _county_note(lang: Labeler) -> str:
    return lang(
        "千兆城市评价对象为地级市；区县、行政村结果按同一指标类比计算，不是官方评价。",
        "The gigabit-city title applies to prefecture-level cities; county and village results are "
        "computed by analogy with the same indicators and are not an official rating.",
    )


class _ReadMe:
    """Key / value rows and small tables on a read-me sheet."""

    def __init__(self, wb: Workbook, widths: Sequence[float] = (30, 70, 24, 24, 24, 24, 24)):
        self.sh = _Sheet(wb, README_SHEET, widths)

    def title(self, text: str) -> None:
        self.sh.append([self.sh.c(text, font=_TITLE)], height=22)
        self.sh.append()

    def notice(self, text: str) -> None:
        sh = self.sh
        sh.append(
            [sh.c(text, font=_RED_BOLD, fill=_NOTICE_FILL)] + [sh.c(None, fill=_NOTICE_FILL)] * 3,
            height=24,
        )
        sh.append()

    def kv(self, key: str, *values: Any, fmt: str | None = None) -> None:
        sh = self.sh
        sh.append(
            [sh.c(key, font=_BOLD, align=_WRAP)] + [sh.c(v, align=_WRAP, fmt=fmt) for v in values]
        )

    def section(self, text: str) -> None:
        self.sh.append()
        self.sh.append([self.sh.c(text, font=Font(bold=True, size=12), fill=_GROUP_FILL)])

    def header(self, headers: Sequence[str]) -> None:
        self.sh.append([self.sh.c(h, font=_BOLD, fill=_HEADER_FILL, border=True) for h in headers])

    def row(self, cells: Sequence[Any]) -> None:
        self.sh.append([c if isinstance(c, Cell) else self.sh.c(c, align=_WRAP) for c in cells])


def _readme_sheet(
    wb: Workbook,
    run: RunResult,
    stds: list[StandardInfo],
    levels: list[str],
    lang: Labeler,
    prov: dict[str, Any],
) -> None:
    rm = _ReadMe(wb)
    sh = rm.sh
    scn = run.scenario
    rm.title(scn.title)
    if scn.scenario.synthetic:
        rm.notice(_synthetic_notice(lang))
    rm.kv(lang("情景", "scenario"), scn.name)
    rm.kv(lang("年份", "year"), scn.year)
    if scn.scenario.region:
        rm.kv(lang("区域代码", "region"), scn.scenario.region)
    rm.kv(lang("生成时间 (UTC)", "generated (UTC)"), prov["generated_utc"])
    rm.kv(lang("工具版本", "tool version"), f"gigacov {prov['tool_version']}")
    if {"county", "village"} & set(levels):
        rm.kv(lang("注意", "note"), _county_note(lang))
    rm.kv(
        lang("无数据", "no data"),
        lang(
            "缺少数据的指标一律不算达标。", "An indicator without data is never counted as a pass."
        ),
    )
    sh.append()
    sh.append(_legend_cells(sh, lang))
    rm.section(lang("工作表", "sheets"))
    for lv in levels:
        zh_level = LEVEL_NAMES.get(lv, (lv, lv))[0]
        rm.kv(
            sheet_name(lv),
            lang(
                f"每个{zh_level}一行：指标值（按达标情况着色）、阈值行、总体结果",
                f"one row per {lv}: indicator values coloured by status, threshold row, "
                "overall result",
            ),
        )
    rm.kv(
        SHORTFALL_SHEET,
        lang(
            "未达标的指标及其缺口（实际单位）",
            "failed indicators and their shortfalls in real units",
        ),
    )
    rm.section(lang("标准及来源", "standards and sources"))
    rm.header(
        [
            lang("标准", "standard"),
            lang("名称", "title"),
            lang("发布机关", "issuer"),
            lang("版本", "version"),
            lang("来源文件", "source"),
            lang("说明", "notes"),
        ]
    )
    for s in stds:
        notes = "\n".join(
            [s.notes, *(f"{lang.level(lv)}: {note}" for lv, note in s.level_notes)]
        ).strip()
        title = lang(s.title_zh, s.title) if s.title_zh else s.title
        rm.row([s.id, title, s.issuer, s.version, f"{s.source}\n{s.url}".strip(), notes])
    rm.section(lang("阈值（* = 未确认）", "thresholds (* = unconfirmed)"))
    rm.header(
        [
            lang("标准", "standard"),
            lang("指标", "indicator"),
            lang("阈值", "threshold"),
            lang("层级", "levels"),
            lang("必选", "mandatory"),
            lang("已确认", "confirmed"),
            lang("说明与来源", "note and source"),
        ]
    )
    for s in stds:
        for t in s.indicators:
            label = lang.indicator(t.key)
            unconf = not t.confirmed
            rm.row(
                [
                    s.id,
                    f"{lang(t.name_zh or label.name_zh, t.name_en or label.name_en)} ({t.key})",
                    sh.c(
                        _num(t.threshold),
                        fmt=excel_threshold_format(label, t.op, t.threshold, t.confirmed),
                    ),
                    ", ".join(t.levels),
                    lang("是", "yes") if t.mandatory else lang("否", "no"),
                    sh.c(
                        lang("未确认", "UNCONFIRMED") if unconf else lang("已确认", "confirmed"),
                        font=Font(bold=unconf, color="C00000" if unconf else "000000"),
                        fill=_NOTICE_FILL if unconf else None,
                    ),
                    "\n".join(x for x in (t.note, t.source) if x),
                ]
            )
    rm.section(lang("来源与处理记录", "provenance"))
    rm.kv(lang("情景文件", "scenario file"), prov["scenario"]["path"] or "—")
    for inp in prov["inputs"]:
        rm.kv(
            f"{lang('输入', 'input')} {inp['input']}".strip(),
            f"{inp['path']}\nSHA-256 {inp['sha256'] or '—'}",
        )
    for s in prov["standards"]:
        rm.kv(lang("标准", "standard"), f"{s['id']} {lang('版本', 'version')} {s['version']}")
    if prov["grid"]:
        g = prov["grid"]
        rm.kv(
            lang("栅格", "grid"),
            f"{g['crs']}, {g['resolution_m']:g} m, {g['width']}×{g['height']} px, transform {g['transform']}",
        )
    for tech, params in prov["radio"].items():
        rm.kv(
            f"{lang('无线参数', 'radio parameters')} {tech}", json.dumps(params, ensure_ascii=False)
        )
    if prov["timings_s"]:
        rm.kv(lang("耗时 (秒)", "timings (s)"), json.dumps(prov["timings_s"], ensure_ascii=False))


def build_compliance_workbook(run: RunResult) -> Workbook:
    """The compliance workbook of a run, in memory (see :func:`write_workbook`)."""
    comp = normalise_compliance(run.compliance)
    stds = standards_info(run.standards)
    lang = Labeler(run.scenario.report.language, getattr(run.indicators, "definitions", None))
    levels = levels_present(run.indicators, comp)
    units = getattr(run.indicators, "units", None) or {}
    wb = Workbook(write_only=True)
    _readme_sheet(wb, run, stds, levels, lang, provenance(run))
    title = run.scenario.title
    for lv in levels:
        t = units.get(lv)
        table = (
            pd.DataFrame(t.drop(columns="geometry", errors="ignore")).reset_index(drop=True)
            if t is not None
            else pd.DataFrame(columns=["admin_code", "name"])
        )
        table["admin_code"] = table["admin_code"].astype(str)
        _level_sheet(wb, lv, table, comp, stds, lang, title)
    _shortfall_sheet(wb, comp, lang, title)
    return wb


def _save(wb: Workbook, path: Path) -> Path:
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


def write_workbook(run: RunResult, path: str | Path) -> Path:
    """Write ``compliance.xlsx`` for a run (atomically: a failed write leaves the old file)."""
    path = _save(build_compliance_workbook(run), Path(path))
    log.info("workbook written: %s", path)
    return path


# ------------------------------------------------------------------------------------------------
# comparison.xlsx
# ------------------------------------------------------------------------------------------------

_CHANGE_NAMES = {
    "newly_passing": ("新达标", "newly passing"),
    "newly_failing": ("新未达标", "newly failing"),
    "still_passing": ("保持达标", "still passing"),
    "still_failing": ("仍未达标", "still failing"),
    "at_risk": ("存在风险", "at risk"),
    "no_data": ("无数据", "no data"),
    "new": ("新增", "new"),
    "dropped": ("已无", "dropped"),
}
_DELTA_FMT = {True: "+0.0000;-0.0000;0", False: "+#,##0.00;-#,##0.00;0"}
_PP_FMT = '+0.0" pp";-0.0" pp";0.0" pp"'


def change_name(change: str, lang: Labeler) -> str:
    zh, en = _CHANGE_NAMES.get(change, (change, change))
    return lang(zh, en)


def _status_cell(sh: _Sheet, status: Any, lang: Labeler) -> Any:
    if isinstance(status, str) and status in STATUS_FILLS:
        return sh.c(lang.status(status), fill=STATUS_FILLS[status])
    return "—"


def build_comparison_workbook(cmp: Any, language: str = "both") -> Workbook:
    """The comparison workbook in memory (see :func:`write_comparison_workbook`)."""
    lang = Labeler(language, cmp.b.definitions or cmp.a.definitions)  # type: ignore[arg-type]
    a, b = cmp.a, cmp.b
    wb = Workbook(write_only=True)
    rm = _ReadMe(wb, (28, 60, 60))
    rm.title(lang("年度对比", "year-over-year comparison") + f": {a.label} → {b.label}")
    if a.synthetic or b.synthetic:
        rm.notice(_synthetic_notice(lang))
    if cmp.forced:
        rm.notice(
            lang(
                "强制对比：两次运行不完全可比",
                "FORCED comparison: the runs are not fully comparable",
            )
        )
        for reason in cmp.reasons:
            rm.kv("—", reason)
        rm.sh.append()
    rm.kv("", f"A: {a.label}", f"B: {b.label}")
    rm.kv(lang("运行目录", "run directory"), str(a.path or "—"), str(b.path or "—"))
    rm.kv(lang("年份", "year"), a.year, b.year)
    rm.kv(
        lang("标准", "standards"),
        ", ".join(f"{k} {v}" for k, v in a.standards.items()),
        ", ".join(f"{k} {v}" for k, v in b.standards.items()),
    )
    rm.kv(
        lang("栅格", "grid"),
        json.dumps(a.grid, ensure_ascii=False),
        json.dumps(b.grid, ensure_ascii=False),
    )
    rm.kv(
        lang("工具版本", "tool version"),
        a.manifest.get("tool_version", "—"),
        b.manifest.get("tool_version", "—"),
    )
    rm.kv(
        lang("生成时间", "created"),
        a.manifest.get("created_utc") or a.manifest.get("generated_utc") or "—",
        b.manifest.get("created_utc") or b.manifest.get("generated_utc") or "—",
    )
    rm.section(lang("说明", "how to read"))
    rm.kv(
        "Δ",
        lang("B − A；比例指标另给百分点 (pp)", "B − A; for ratios also in percentage points (pp)"),
    )
    rm.kv(
        change_name("newly_passing", lang),
        lang("B 达标，A 未达标或无数据", "passes in B; failed or had no data in A"),
    )
    rm.kv(
        change_name("newly_failing", lang),
        lang("B 未达标，A 达标或无数据", "fails in B; passed or had no data in A"),
    )

    # Changes per unit and indicator.
    sh = _Sheet(wb, "变化 changes", (10, 14, 14, 24, 30, 14, 14, 12, 10), freeze="A2")
    headers = [
        lang("层级", "level"),
        lang("代码", "code"),
        lang("名称", "unit"),
        lang("指标键", "key"),
        lang("指标", "indicator"),
        f"A {a.label}",
        f"B {b.label}",
        "Δ (B − A)",
        lang("Δ 百分点", "Δ pp"),
    ]
    sh.header(headers)
    for r in cmp.indicator_changes.itertuples():
        label = lang.indicator(r.indicator)
        fmt = excel_number_format(label)
        sh.append(
            [
                lang.level(r.level),
                r.admin_code,
                r.name,
                r.indicator,
                lang(label.name_zh, label.name_en),
                sh.c(_num(r.value_a), fmt=fmt),
                sh.c(_num(r.value_b), fmt=fmt),
                sh.c(_num(r.delta), fmt=_DELTA_FMT[label.ratio]),
                sh.c(_num(r.delta_pp), fmt=_PP_FMT),
            ]
        )
    sh.filter(1, len(headers), sh.row)

    # Overall status per unit and standard.
    sh = _Sheet(wb, "达标变化 status", (10, 14, 14, 24, 12, 12, 14, 60), freeze="A2")
    headers = [
        lang("层级", "level"),
        lang("代码", "code"),
        lang("名称", "unit"),
        lang("标准", "standard"),
        f"A {a.label}",
        f"B {b.label}",
        lang("变化", "change"),
        lang("B 未达标指标", "failed in B"),
    ]
    sh.header(headers)
    for r in cmp.unit_changes.itertuples():
        st = _CHANGE_STATUS.get(r.change)
        if r.change in ("newly_passing", "newly_failing") and st:
            change = sh.c(
                change_name(r.change, lang),
                fill=STATUS_FILLS[st],
                font=Font(bold=True, color=_STATUS_FONTS[st].color),
            )
        else:
            change = change_name(r.change, lang)
        sh.append(
            [
                lang.level(r.level),
                r.admin_code,
                r.name,
                r.standard,
                _status_cell(sh, r.status_a, lang),
                _status_cell(sh, r.status_b, lang),
                change,
                ", ".join(lang.indicator_name(k) for k in r.failed_b),
            ]
        )
    sh.filter(1, len(headers), sh.row)

    # Status per unit, standard and indicator.
    sh = _Sheet(
        wb,
        "指标达标 indicator status",
        (10, 14, 14, 24, 24, 12, 12, 12, 12, 10, 10, 14),
        freeze="A2",
    )
    headers = [
        lang("层级", "level"),
        lang("代码", "code"),
        lang("名称", "unit"),
        lang("标准", "standard"),
        lang("指标键", "key"),
        f"A {a.label}",
        f"B {b.label}",
        lang("阈值 A", "threshold A"),
        lang("阈值 B", "threshold B"),
        lang("状态 A", "status A"),
        lang("状态 B", "status B"),
        lang("变化", "change"),
    ]
    sh.header(headers)
    for r in cmp.status_changes.itertuples():
        label = lang.indicator(r.indicator)
        vf, tf = excel_number_format(label), excel_threshold_format(label, r.op, r.threshold_b)
        sh.append(
            [
                lang.level(r.level),
                r.admin_code,
                r.name,
                r.standard,
                r.indicator,
                sh.c(_num(r.value_a), fmt=vf),
                sh.c(_num(r.value_b), fmt=vf),
                sh.c(_num(r.threshold_a), fmt=tf),
                sh.c(_num(r.threshold_b), fmt=tf),
                _status_cell(sh, r.status_a, lang),
                _status_cell(sh, r.status_b, lang),
                change_name(r.change, lang),
            ]
        )
    sh.filter(1, len(headers), sh.row)
    return wb


def write_comparison_workbook(cmp: Any, path: str | Path, language: str = "both") -> Path:
    """Write ``comparison.xlsx`` (atomically)."""
    return _save(build_comparison_workbook(cmp, language), Path(path))
