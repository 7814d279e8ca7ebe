"""The Excel workbook ``compliance.xlsx`` (one sheet per level, shortfalls, read-me).

``comparison.xlsx`` is :mod:`gigacov.report.comparison_workbook`; what both share (styles, safe
cells, the streamed sheet, the atomic save) is :mod:`gigacov.report.sheets`.

Written with openpyxl for people who work in Excel: bilingual headers (中文 / English) with
units, a threshold row under the header, cells filled by status (pass / fail / no data, with a
legend), frozen header, auto-filters, numbers stored as numbers (ratios as fractions with a
percentage format — never as text). The workbook is streamed (openpyxl write-only mode: rows
are written in order, memory stays flat for 14,000 villages) and saved through
:func:`gigacov.rundir.atomic_path`, so an interrupted write leaves the old file (or none).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from ..compliance import unit_status
from ..run_result import RunResult
from ..standard_files import StandardInfo, standards_info
from .labels import (
    LEVEL_NAMES,
    LEVELS,
    UNIT_COLUMNS,
    Labeler,
    excel_number_format,
    excel_threshold_format,
)
from .sheets import (
    BOLD,
    CENTRE_WRAP,
    GROUP_FILL,
    NOTICE_FILL,
    README_SHEET,
    SHORTFALL_SHEET,
    STATUS_FILLS,
    STATUS_FONTS,
    THRESHOLD_FILL,
    TITLE,
    ReadMe,
    Sheet,
    cell_number,
    legend_cells,
    save_workbook,
    sheet_name,
    synthetic_notice,
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
    "sheet_name",
]

log = logging.getLogger(__name__)

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
    sh = Sheet(wb, sheet_name(level), [c.width for c in cols], freeze=f"C{first}")
    sh.append([sh.c(f"{title} — {lang.level(level)}", font=TITLE)], height=22)
    sh.append(legend_cells(sh, lang))
    groups = []
    for j, col in enumerate(cols):
        start = j == 0 or cols[j - 1].group != col.group
        groups.append(
            sh.c(
                col.group if start else None,
                font=BOLD,
                fill=GROUP_FILL,
                align=CENTRE_WRAP,
                border=start,
            )
        )
    sh.append(groups)
    sh.header([c.header for c in cols], height=64)
    thresholds = []
    for j, col in enumerate(cols):
        if j == 0:
            thresholds.append(
                sh.c(lang("阈值", "threshold"), font=BOLD, fill=THRESHOLD_FILL, border=True)
            )
        elif col.kind == "indicator" and col.threshold is not None:
            label = lang.indicator(col.key)
            thresholds.append(
                sh.c(
                    col.threshold,
                    fill=THRESHOLD_FILL,
                    align=CENTRE_WRAP,
                    border=True,
                    fmt=excel_threshold_format(label, col.op, col.threshold, col.confirmed),
                    font=Font(italic=not col.confirmed, bold=True),
                    comment=col.note,
                )
            )
        else:
            thresholds.append(sh.c(None, fill=THRESHOLD_FILL, border=True))
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
                row.append(sh.c(cell_number(unit.get(col.key)), fmt=col.fmt))
            elif col.kind == "indicator":
                v, status = cell_val.get((code, col.standard, col.key), (None, "no_data"))
                row.append(
                    sh.c(
                        cell_number(v),
                        fmt=col.fmt,
                        fill=STATUS_FILLS[status],
                        font=STATUS_FONTS[status],
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
                        font=STATUS_FONTS[status],
                        align=CENTRE_WRAP,
                    )
                )
        sh.append(row)
    sh.filter(thr_row, len(cols), sh.row)


def _shortfall_sheet(wb: Workbook, comp: pd.DataFrame, lang: Labeler, title: str) -> None:
    sh = Sheet(wb, SHORTFALL_SHEET, (10, 14, 14, 24, 30, 24, 12, 11, 11, 11, 18, 44), freeze="A3")
    sh.append(
        [
            sh.c(
                f"{title} — "
                + lang(
                    "未达标与存在风险的指标及缺口",
                    "failed and at-risk indicators, and their shortfalls",
                ),
                font=TITLE,
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
                sh.c(
                    cell_number(r.value),
                    fmt=excel_number_format(label),
                    fill=STATUS_FILLS[r.status],
                ),
                sh.c(
                    cell_number(r.threshold), fmt=excel_threshold_format(label, r.op, r.threshold)
                ),
                sh.c(cell_number(r.shortfall), fmt="#,##0.##"),
                r.shortfall_unit,
                lang.shortfall(r.shortfall, r.shortfall_unit, r.indicator),
            ]
        )
    sh.filter(top, len(headers), sh.row)


def _county_note(lang: Labeler) -> str:
    return lang(
        "千兆城市评价对象为地级市；区县、行政村结果按同一指标类比计算，不是官方评价。",
        "The gigabit-city title applies to prefecture-level cities; county and village results are "
        "computed by analogy with the same indicators and are not an official rating.",
    )


def _readme_sheet(
    wb: Workbook,
    run: RunResult,
    stds: list[StandardInfo],
    levels: list[str],
    lang: Labeler,
    prov: dict[str, Any],
) -> None:
    rm = ReadMe(wb)
    sh = rm.sh
    scn = run.scenario
    rm.title(scn.title)
    if scn.scenario.synthetic:
        rm.notice(synthetic_notice(lang))
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
    sh.append(legend_cells(sh, lang))
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
                        cell_number(t.threshold),
                        fmt=excel_threshold_format(label, t.op, t.threshold, t.confirmed),
                    ),
                    ", ".join(t.levels),
                    lang("是", "yes") if t.mandatory else lang("否", "no"),
                    sh.c(
                        lang("未确认", "UNCONFIRMED") if unconf else lang("已确认", "confirmed"),
                        font=Font(bold=unconf, color="C00000" if unconf else "000000"),
                        fill=NOTICE_FILL if unconf else None,
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


def write_workbook(run: RunResult, path: str | Path) -> Path:
    """Write ``compliance.xlsx`` for a run (atomically: a failed write leaves the old file)."""
    path = save_workbook(build_compliance_workbook(run), Path(path))
    log.info("workbook written: %s", path)
    return path
