"""``comparison.xlsx``: what changed between two runs, for people who work in Excel.

Same conventions as ``compliance.xlsx`` (:mod:`gigacov.report.workbook`): bilingual headers,
numbers as numbers, cells filled by status, streamed sheets, an atomic save.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from .labels import Labeler, excel_number_format, excel_threshold_format
from .sheets import (
    STATUS_FILLS,
    STATUS_FONTS,
    ReadMe,
    Sheet,
    cell_number,
    save_workbook,
    synthetic_notice,
)

__all__ = ["build_comparison_workbook", "write_comparison_workbook", "change_name"]

log = logging.getLogger(__name__)

_CHANGE_STATUS = {
    "newly_passing": "pass",
    "newly_failing": "fail",
    "still_failing": "fail",
    "still_passing": "pass",
    "at_risk": "at_risk",
    "no_data": "no_data",
}


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


def _status_cell(sh: Sheet, status: Any, lang: Labeler) -> Any:
    if isinstance(status, str) and status in STATUS_FILLS:
        return sh.c(lang.status(status), fill=STATUS_FILLS[status])
    return "—"


def build_comparison_workbook(cmp: Any, language: str = "both") -> Workbook:
    """The comparison workbook in memory (see :func:`write_comparison_workbook`)."""
    lang = Labeler(language, cmp.b.definitions or cmp.a.definitions)  # type: ignore[arg-type]
    a, b = cmp.a, cmp.b
    wb = Workbook(write_only=True)
    rm = ReadMe(wb, (28, 60, 60))
    rm.title(lang("年度对比", "year-over-year comparison") + f": {a.label} → {b.label}")
    if a.synthetic or b.synthetic:
        rm.notice(synthetic_notice(lang))
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
    for note in cmp.notes:
        rm.kv(lang("注意", "note"), note)
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
    sh = Sheet(wb, "变化 changes", (10, 14, 14, 24, 30, 14, 14, 12, 10), freeze="A2")
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
                sh.c(cell_number(r.value_a), fmt=fmt),
                sh.c(cell_number(r.value_b), fmt=fmt),
                sh.c(cell_number(r.delta), fmt=_DELTA_FMT[label.ratio]),
                sh.c(cell_number(r.delta_pp), fmt=_PP_FMT),
            ]
        )
    sh.filter(1, len(headers), sh.row)

    # Overall status per unit and standard.
    sh = Sheet(wb, "达标变化 status", (10, 14, 14, 24, 12, 12, 14, 60), freeze="A2")
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
                font=Font(bold=True, color=STATUS_FONTS[st].color),
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
    sh = Sheet(
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
                sh.c(cell_number(r.value_a), fmt=vf),
                sh.c(cell_number(r.value_b), fmt=vf),
                sh.c(cell_number(r.threshold_a), fmt=tf),
                sh.c(cell_number(r.threshold_b), fmt=tf),
                _status_cell(sh, r.status_a, lang),
                _status_cell(sh, r.status_b, lang),
                change_name(r.change, lang),
            ]
        )
    sh.filter(1, len(headers), sh.row)
    return wb


def write_comparison_workbook(cmp: Any, path: str | Path, language: str = "both") -> Path:
    """Write ``comparison.xlsx`` (atomically)."""
    return save_workbook(build_comparison_workbook(cmp, language), Path(path))
