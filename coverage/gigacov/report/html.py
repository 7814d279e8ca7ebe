"""The self-contained HTML annual-review report and the comparison page (Jinja2).

Every image is a base64 PNG inside the page and the style sheet is inline, so the file can be
mailed or archived on its own; the only link out is the (relative) link to the interactive map.
"""

from __future__ import annotations

import logging
import math
import os
import re
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from ..compliance import unit_status
from ..errors import InputError
from ..formatting import format_delta, format_threshold, format_value, is_missing
from ..reference import CertifiedBelow, certified_below
from ..run_result import RunResult
from ..rundir import atomic_path
from ..standard_files import Standard, StandardInfo, standards_info
from . import charts
from .labels import (
    LEVELS,
    STATUS_NAMES,
    UNIT_COLUMNS,
    Labeler,
)
from .tables import (
    input_summary,
    levels_present,
    normalise_compliance,
    provenance,
    region_summary,
)

__all__ = [
    "render_report",
    "write_html",
    "render_comparison",
    "write_comparison_html",
    "comparison_context",
    "SUMMARY_KEYS",
]

log = logging.getLogger(__name__)

_TEMPLATES = Path(__file__).with_name("templates")

#: Headline figures of the summary (docs/design.md §8 keys), in display order.
SUMMARY_KEYS = (
    "pop_coverage_5g",
    "sites_5g_per_10k",
    "users_1000m_share",
    "household_gigabit_coverage",
    "pon_10g_share",
    "users_500m_share",
    "users_5g_share",
    "village_reach_5g",
    "key_place_reach_5g",
    "area_coverage_5g",
)

#: At most this many indicator charts per page (one per indicator).
MAX_CHARTS = 12


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _worst(statuses: list[str]) -> str:
    """A unit's status across standards, by the rule of :func:`gigacov.compliance.unit_status`."""
    for st in ("fail", "at_risk", "no_data"):
        if st in statuses:
            return st
    return "pass" if statuses else "no_data"


def _title_suffix(synthetic: bool, lang: Labeler) -> str:
    return f" ({lang('合成数据', 'synthetic data')})" if synthetic else ""


# ------------------------------------------------------------------------------------------------
# Report sections
# ------------------------------------------------------------------------------------------------


def _summary(indicators: Any, lang: Labeler) -> dict[str, Any]:
    """Headline cards (the province, else the one city, else the counties rolled up) and a table
    of the cities when there are any."""
    level, table = region_summary(indicators)
    units = getattr(indicators, "units", None) or {}
    cities = units.get("city")
    cities = (
        pd.DataFrame(cities.drop(columns="geometry", errors="ignore")).reset_index(drop=True)
        if cities is not None and len(cities)
        else pd.DataFrame()
    )
    cards: list[dict[str, str]] = []
    heading = ""
    if len(table) == 1:
        row = table.iloc[0]
        if level == "region":
            heading = lang("全区域（由区县汇总）", "whole region (rolled up from counties)")
        else:
            heading = f"{row.get('name', '')} ({lang.level(level)})"
        for col in ("population", "sites_5g"):
            if col in table and not is_missing(row[col]):
                zh, en, unit, _fmt = UNIT_COLUMNS[col]
                cards.append(
                    {"label": lang(zh, en), "value": f"{float(row[col]):,.0f}", "unit": unit}
                )
        for k in [k for k in SUMMARY_KEYS if k in table.columns]:
            lab = lang.indicator(k)
            cards.append(
                {
                    "label": lang(lab.name_zh, lab.name_en),
                    "value": format_value(row[k], lab.ratio, lab.decimals),
                    "unit": ""
                    if lab.ratio
                    else (lab.unit_zh if lang.language != "en" else lab.unit_en),
                }
            )
    rows: list[list[str]] = []
    keys = [k for k in SUMMARY_KEYS if k in cities.columns]
    if len(cities) and not (level == "city" and len(cities) == 1):
        for _, row in cities.iterrows():
            rows.append(
                [str(row.get("name", "")) or str(row.get("admin_code", ""))]
                + [
                    format_value(row[k], lang.indicator(k).ratio, lang.indicator(k).decimals)
                    for k in keys
                ]
            )
    if not cards and rows:
        heading = lang.level("city")
    headers = [lang("地市", "city")] + [lang.indicator_name(k) for k in keys]
    return {"level": heading or lang.level(level), "cards": cards, "headers": headers, "rows": rows}


def _partial_note(indicators: Any, level: str, region: str, lang: Labeler) -> str:
    """ " — 仅分析区域 350500 / analysed region only" when the level's units cover only part of
    themselves (a one-city scenario's province row), else ""."""
    t = (getattr(indicators, "units", None) or {}).get(level)
    if (
        t is None
        or "partial" not in getattr(t, "columns", ())
        or not t["partial"].fillna(False).astype(bool).any()
    ):
        return ""
    where = f" {region}" if region else ""
    return " — " + lang(f"仅分析区域{where}", f"analysed region{where} only")


def _status_counts(us: pd.DataFrame, level: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    sub = us[us["level"] == level]
    for std, g in sub.groupby("standard", sort=False):
        out[str(std)] = {st: int((g["status"] == st).sum()) for st in STATUS_NAMES}
    return out


def _reason_texts(
    rows: pd.DataFrame,
    lang: Labeler,
    optional: set[str] | None = None,
    certified: dict[str, float] | None = None,
) -> list[str]:
    out = []
    for r in rows.itertuples():
        lab = lang.indicator(r.indicator)
        text = (
            f"{lang(lab.name_zh, lab.name_en)}: {format_value(r.value, lab.ratio, lab.decimals)} "
            f"({lang('要求', 'required')} {format_threshold(r.op, r.threshold, lab.ratio)})"
        )
        sf = lang.shortfall(r.shortfall, r.shortfall_unit, r.indicator)
        if sf:
            text += f" — {sf}"
        if r.status == "at_risk":
            low = (certified or {}).get(r.indicator, math.nan)
            low_txt = format_value(low, lab.ratio, lab.decimals) if not is_missing(low) else "—"
            text += (
                " ["
                + lang(
                    f"存在风险：低于未确认阈值，但不低于已获评城市的最低值 {low_txt}",
                    f"at risk: below the unconfirmed threshold, not below the lowest certified "
                    f"city's {low_txt}",
                )
                + "]"
            )
        if optional and r.indicator in optional:
            text += f" [{lang('非必选，仅供参考', 'not mandatory, for information')}]"
        out.append(text)
    return out


def _unit_results(
    comp: pd.DataFrame,
    us: pd.DataFrame,
    level: str,
    lang: Labeler,
    stds: list[StandardInfo] | None = None,
) -> list[dict[str, Any]]:
    """Per unit of ``level``: each standard's overall status, the failed indicators with their
    shortfalls (optional ones marked) and the mandatory indicators without data."""
    sub = comp[comp["level"] == level]
    usl = us[us["level"] == level]
    units = []
    by_unit = {code: g for code, g in sub.groupby("admin_code", sort=False)}
    certified = {
        s.id: {t.key: t.certified_min for t in s.indicators if t.applies_to(level)}
        for s in stds or []
    }
    for code, g in usl.groupby("admin_code", sort=True):
        results = []
        for r in g.itertuples():
            rows = by_unit[code]
            rows = rows[rows["standard"] == r.standard]
            short = rows[rows["status"].isin(("fail", "at_risk"))]
            optional = set(short["indicator"]) - set(r.failed) - set(r.at_risk)
            results.append(
                {
                    "id": r.standard,
                    "status": r.status,
                    "status_label": lang.status(r.status),
                    "reasons": _reason_texts(short, lang, optional, certified.get(str(r.standard))),
                    "no_data": [lang.indicator_name(k) for k in r.no_data],
                }
            )
        worst = _worst([s["status"] for s in results])
        units.append(
            {"code": code, "name": g["name"].iloc[0], "status": worst, "standards": results}
        )
    rank = {"fail": 0, "at_risk": 1, "no_data": 2, "pass": 3}
    units.sort(key=lambda u: (rank[u["status"]], u["code"]))
    return units


def _indicator_charts(
    comp: pd.DataFrame, level: str, stds: list[StandardInfo], lang: Labeler, font: str, suffix: str
) -> list[dict[str, str]]:
    sub = comp[comp["level"] == level]
    if sub.empty:
        return []
    order = [t.key for s in stds for t in s.indicators]
    keys = [k for k in dict.fromkeys(order) if k in set(sub["indicator"])]
    keys += [k for k in dict.fromkeys(sub["indicator"]) if k not in keys]
    out = []
    for key in keys[:MAX_CHARTS]:
        rows = sub[sub["indicator"] == key]
        per_unit = rows.groupby("admin_code", sort=True)
        names, values, statuses = [], [], []
        for code, g in per_unit:
            names.append(str(g["name"].iloc[0]) or str(code))
            vals = g["value"].dropna()
            values.append(float(vals.iloc[0]) if len(vals) else math.nan)
            statuses.append(_worst(g["status"].tolist()))
        thresholds = []
        for std, g in rows.groupby("standard", sort=False):
            thr = g["threshold"].dropna()
            if len(thr):
                thresholds.append((str(std), float(thr.iloc[0])))
        lab = lang.indicator(key)
        title = f"{lang(lab.name_zh, lab.name_en)} — {lang.level(level)}{suffix}"
        png = charts.indicator_bar_chart(
            names, values, statuses, thresholds, lab, title, font, lang
        )
        out.append({"key": key, "title": title, "uri": charts.png_data_uri(png)})
    return out


def _county_maps(
    run: RunResult, units: list[dict[str, Any]], lang: Labeler, font: str, suffix: str, limit: int
) -> tuple[list[dict[str, str]], list[str]]:
    """Static maps of failing counties; returns (maps, names of failing counties without a map)."""
    failing = [u for u in units if u["status"] == "fail"]
    cov = (run.coverage or {}).get("5G")
    table = (getattr(run.indicators, "units", None) or {}).get("county")
    if cov is None or table is None or "geometry" not in getattr(table, "columns", []):
        return [], [f"{u['name']} ({u['code']})" for u in failing]
    geoms = dict(zip(table["admin_code"].astype(str), table.geometry, strict=True))
    maps, skipped = [], []
    for u in failing:
        if len(maps) >= limit:
            skipped.append(f"{u['name']} ({u['code']})")
            continue
        geom = geoms.get(u["code"])
        window = charts.county_window(geom, cov.grid, cov.rsrp_dbm) if geom is not None else None
        if window is None:
            skipped.append(f"{u['name']} ({u['code']})")
            continue
        title = f"{u['name']} ({u['code']}) — 5G RSRP{suffix}"
        png = charts.county_map(window, title, font, lang)
        maps.append(
            {"code": u["code"], "name": u["name"], "uri": charts.png_data_uri(png), "title": title}
        )
    return maps, skipped


def _key_places(indicators: Any, lang: Labeler, limit: int = 200) -> dict[str, Any] | None:
    kp = getattr(indicators, "key_places", None)
    if kp is None or not len(kp) or "reached_5g" not in kp:
        return None
    reached = kp["reached_5g"].fillna(False).astype(bool)
    missed = kp[~reached]
    rows = []
    for r in missed.head(limit).itertuples():
        rsrp = getattr(r, "rsrp_dbm", math.nan)
        share = getattr(r, "covered_share_5g", math.nan)
        rows.append(
            [
                str(getattr(r, "name", "")),
                str(getattr(r, "category", "")),
                str(getattr(r, "admin_code", "")),
                "—" if is_missing(rsrp) else f"{float(rsrp):.1f} dBm",
                format_value(share, True),
            ]
        )
    return {
        "total": int(len(kp)),
        "reached": int(reached.sum()),
        "rows": rows,
        "more": max(0, len(missed) - limit),
    }


def _by_operator(run: Any, lang: Labeler) -> dict[str, Any] | None:
    """The "运营商对比 / by operator" section: per county, each operator's own coverage
    indicators side by side, and the operator furthest from the standards' coverage thresholds."""
    from ..by_operator import OPERATOR_INDICATORS, lagging_operators
    from ..operators import operator_label

    tables = getattr(run, "operator_indicators", None) or {}
    county = tables.get("county")
    if county is None or not len(county):
        return None
    lag = lagging_operators(county, list(run.standards or []), "county")
    thresholds = lag.attrs.get("thresholds", {})
    keys = list(OPERATOR_INDICATORS)
    header = [lang("区县", "county"), lang("运营商", "operator")] + [
        lang.indicator_header(k) for k in keys
    ]
    ops = list(dict.fromkeys(county["operator"]))
    by_code = {r["admin_code"]: r for r in lag.to_dict(orient="records")}
    units = []
    lagging_count: dict[str, int] = {}
    for code, part in county.groupby("admin_code", sort=False):
        info = by_code.get(code, {})
        lagging = list(info.get("lagging", []))
        for o in lagging:
            lagging_count[o] = lagging_count.get(o, 0) + 1
        rows = []
        for _, r in part.iterrows():
            cells = []
            for k in keys:
                lab = lang.indicator(k)
                val = r.get(k)
                thr = thresholds.get(k)
                short = thr is not None and not is_missing(val) and float(val) < thr[1]
                cells.append({"text": format_value(val, lab.ratio, lab.decimals), "short": short})
            rows.append(
                {
                    "operator": operator_label(r["operator"]),
                    "lagging": r["operator"] in lagging,
                    "cells": cells,
                }
            )
        note = ""
        if lagging:
            key = info.get("lagging_indicator", "")
            lab = lang.indicator(key)
            note = (
                f"{lang.indicator_name(key)} {format_value(info.get('lagging_value'), lab.ratio)}"
                f" < {format_value(info.get('lagging_threshold'), lab.ratio)}"
            )
        units.append(
            {
                "code": code,
                "name": str(part["name"].iloc[0]),
                "rows": rows,
                "lagging": "、".join(operator_label(o) for o in lagging),
                "lagging_note": note,
            }
        )
    thr_text = [
        f"{lang.indicator_name(k)} {format_threshold('>=', t, lang.indicator(k).ratio)} ({std})"
        for k, (std, t) in thresholds.items()
    ]
    return {
        "header": header,
        "units": units,
        "operators": [operator_label(o) for o in ops],
        "thresholds": thr_text,
        "most_lagging": [
            f"{operator_label(o)}: {n}"
            for o, n in sorted(lagging_count.items(), key=lambda x: -x[1])
        ],
    }


def _inputs(inputs: Any) -> dict[str, Any]:
    reports, reasons = input_summary(inputs)
    return {
        "rows": [
            [
                r.input,
                r.path,
                f"{r.read:,}",
                f"{r.used:,}" + (f" ({int(r.cells):,} cells)" if pd.notna(r.cells) else ""),
                f"{r.rejected:,}",
                r.defaults or "—",
                r.fixed or "—",
                f"{r.skipped:,}" + (f" ({r.skipped_reasons})" if r.skipped_reasons else ""),
            ]
            for r in reports.itertuples()
        ],
        "reasons": [[r.file, r.reason, f"{int(r.rows):,}"] for r in reasons.itertuples()],
        "warnings": list(getattr(inputs, "warnings", None) or []),
    }


_PLAN_MAX_ROWS = 100

#: Why planning stopped in a county (``CountyPlan.stop_reason``), in words a planner uses.
_STOP_REASONS: dict[str, tuple[str, str]] = {
    "targets_met": ("覆盖类目标已全部达成", "the coverage targets are met"),
    "budget": ("已达到每县新建站址上限", "the site budget per county was reached"),
    "no_gain": ("已无能改善指标的候选站址", "no candidate site improves a target any more"),
    "verification_failed": (
        "复核计算未能确认目标达成",
        "the verifying coverage run did not confirm the targets",
    ),
    "not_failing": ("覆盖类指标未见不达标，无需规划", "no coverage target fails: nothing to plan"),
    "not_plannable": (
        "仅上限类阈值未达标，新建站址无助于改善",
        "only upper-bound thresholds fail; new sites cannot help",
    ),
}

#: Indicators new sites can change (the rest come from operators' statistics).
_PLANNABLE = ("pop_coverage_5g", "sites_5g_per_10k", "key_place_reach_5g", "village_reach_5g")


_STATUS_CODES = ("pass", "fail", "at_risk", "no_data")


def _plan_status(status: Any, lang: Labeler) -> str | Markup:
    """A planning table's status cell: the bilingual label in the status colour (as everywhere
    else in the report), never the raw code."""
    if not (isinstance(status, str) and status):
        return "—"
    label = lang.status(status)
    if status not in _STATUS_CODES:
        return label
    return Markup('<span class="badge {}">{}</span>').format(status, label)


def _plan_summary(plan: Any) -> dict[str, Any]:
    summary = None
    if hasattr(plan, "summary"):
        summary = plan.summary() if callable(plan.summary) else plan.summary
    return summary if isinstance(summary, dict) else {}


def _planning(plan: Any, lang: Labeler, comp: pd.DataFrame | None = None) -> dict[str, Any] | None:
    """The planning section in a planner's words: what was planned where and why, how many sites,
    what they add, which targets they close and which they cannot; the method in a short
    paragraph with the details (objective, assumptions, settings) in a collapsible note."""
    if plan is None:
        return None
    summary = _plan_summary(plan)
    counties = [c for c in summary.get("counties") or [] if isinstance(c, dict)]
    rec = getattr(plan, "recommended", None)
    n_sites = int(summary.get("sites_recommended", len(rec) if rec is not None else 0) or 0)
    planned = [c for c in counties if int(c.get("sites_added") or 0) > 0]
    out: dict[str, Any] = {"intro": "", "counties": None, "indicators": None, "gaps": None}
    out["intro"] = lang(
        f"规划为覆盖类指标（5G人口覆盖率、每万人5G基站数、重点场所与行政村5G通达率）未达标的区县寻找"
        f"新建5G站址：共考察 {len(counties)} 个区县，在其中 {len(planned)} 个区县建议新建 "
        f"{n_sites:,} 个站址。",
        f"Planning looks for new 5G sites in the counties that fail a coverage target (5G "
        f"population coverage, 5G sites per 10,000 people, key-place and village 5G reach): "
        f"{len(counties)} {'county was' if len(counties) == 1 else 'counties were'} examined, and "
        f"{n_sites:,} new {'site is' if n_sites == 1 else 'sites are'} recommended in "
        f"{len(planned)} of them.",
    )
    # Failing indicators that new sites cannot change, per county (from the compliance table).
    unplannable: dict[str, list[str]] = {}
    if comp is not None and len(comp):
        sub = comp[(comp["level"] == "county") & (comp["status"].isin(("fail", "at_risk")))]
        for code, g in sub.groupby("admin_code", sort=False):
            keys = [k for k in dict.fromkeys(g["indicator"]) if k not in _PLANNABLE]
            if keys:
                unplannable[str(code)] = [lang.indicator_name(k) for k in keys]
    if counties:
        rows = []
        for c in counties[:_PLAN_MAX_ROWS]:
            code = str(c.get("admin_code", ""))
            reason = c.get("stop_reason") or ""
            rows.append(
                [
                    f"{c.get('name', '')} {code}".strip(),
                    _plan_status(c.get("status_before"), lang),
                    f"{int(c.get('sites_added') or 0):,}",
                    _plain_count(c.get("people_covered")),
                    _plain_count(c.get("key_places_reached")),
                    _plain_count(c.get("villages_reached")),
                    _plan_status(c.get("status_after"), lang),
                    "; ".join(unplannable.get(code, [])) or "—",
                    lang(*_STOP_REASONS[reason]) if reason in _STOP_REASONS else reason or "—",
                ]
            )
        out["counties"] = {
            "headers": [
                lang("区县", "county"),
                lang("规划前（覆盖类目标）", "before (coverage targets)"),
                lang("建议新建站址", "new sites"),
                lang("新增覆盖人口", "people newly covered"),
                lang("新通达重点场所", "key places newly reached"),
                lang("新通达行政村", "villages newly reached"),
                lang("规划后（覆盖类目标）", "after (coverage targets)"),
                lang(
                    "新建站址无法解决的未达标指标（统计类）",
                    "still short, not solvable by new sites (statistics)",
                ),
                lang("规划结束原因", "why planning stopped"),
            ],
            "rows": rows,
            "more": max(0, len(counties) - _PLAN_MAX_ROWS),
        }
        ind_rows = []
        for c in counties:
            for key, d in (c.get("indicators") or {}).items():
                if not isinstance(d, dict) or not (d.get("targeted", True)):
                    continue
                lab = lang.indicator(key)
                thr = d.get("threshold")
                ind_rows.append(
                    [
                        str(c.get("name", "") or c.get("admin_code", "")),
                        lang(lab.name_zh, lab.name_en),
                        format_threshold(d.get("op") or "", thr, lab.ratio)
                        if thr is not None
                        else "—",
                        format_value(_num_or_nan(d.get("before")), lab.ratio, lab.decimals),
                        format_value(_num_or_nan(d.get("after")), lab.ratio, lab.decimals),
                        _plan_status(d.get("status_after"), lang),
                    ]
                )
        if ind_rows:
            out["indicators"] = {
                "headers": [
                    lang("区县", "county"),
                    lang("指标", "indicator"),
                    lang("阈值", "threshold"),
                    lang("规划前", "before"),
                    lang("规划后", "after"),
                    lang("规划后结果", "result after"),
                ],
                "rows": ind_rows[:_PLAN_MAX_ROWS],
                "more": max(0, len(ind_rows) - _PLAN_MAX_ROWS),
            }
    gaps = getattr(plan, "gaps", None)
    if gaps is not None and len(gaps):
        pop = float(
            pd.to_numeric(gaps.get("population", pd.Series(dtype=float)), errors="coerce").sum()
        )
        area = float(
            pd.to_numeric(gaps.get("area_km2", pd.Series(dtype=float)), errors="coerce").sum()
        )
        largest = [
            r for r in (summary.get("gaps") or {}).get("largest") or [] if isinstance(r, dict)
        ]
        out["gaps"] = {
            "text": lang(
                f"弱覆盖区域（5G信号达不到覆盖门限、且有人居住的连片区域）共 {len(gaps):,} 处，"
                f"涉及人口 {pop:,.0f} 人，面积 {area:,.1f} km²。",
                f"Weak-coverage areas (connected populated areas where the 5G signal is below the "
                f"coverage thresholds): {len(gaps):,}, with {pop:,.0f} people on {area:,.1f} km².",
            ),
            "headers": [
                lang("排名", "rank"),
                lang("区县", "county"),
                lang("人口", "people"),
                lang("面积", "area") + " (km²)",
                lang("最近的现有站址", "nearest existing site"),
                lang("距离", "distance") + " (m)",
            ],
            "rows": [
                [
                    str(r.get("rank", "")),
                    f"{r.get('county_name', '')} {r.get('admin_code', '')}".strip(),
                    _plain_count(r.get("population")),
                    format_value(_num_or_nan(r.get("area_km2")), False, 2),
                    str(r.get("nearest_site_id") or "—"),
                    _plain_count(r.get("nearest_site_m")),
                ]
                for r in largest
            ],
        }
    by_county = []
    if rec is not None and len(rec) and "county" in rec:
        counts = rec.groupby("county").size().sort_values(ascending=False)
        added = (
            rec.groupby("county")["added_population"].sum() if "added_population" in rec else None
        )
        names = (
            dict(zip(rec["county"], rec["county_name"], strict=True))
            if "county_name" in rec
            else {}
        )
        for county, n in counts.items():
            pop = "—" if added is None else f"{float(added.get(county, 0.0)):,.0f}"
            label = f"{names[county]} ({county})" if county in names else str(county)
            by_county.append([label, f"{int(n):,}", pop])
    out["by_county"] = by_county
    out["method"] = lang(
        "方法：在每个未达标区县内，逐个挑选对未达标覆盖指标改善最大的候选站址（优先覆盖更多人口），"
        "直到目标达成、达到站址上限或再无改善；之后用覆盖计算引擎连同新站址重新计算，确认结果。"
        "人口、站址数之外的统计类指标（如5G用户占比、千兆用户占比）取决于用户发展，新建站址无法解决。",
        "Method: in each failing county, sites are picked one at a time from the candidate "
        "locations, each time the one that closes most of the remaining shortfall of the failing "
        "coverage targets (more people covered breaks ties), until the targets are met, the site "
        "budget is reached or no candidate helps; the coverage engine is then re-run with the new "
        "sites to confirm the result. Statistics-based indicators (5G user share, gigabit users, "
        "fibre take-up) depend on subscribers, not on sites, and new sites cannot close them.",
    )
    details = []
    for key, (zh, en) in (
        ("objective", ("目标函数", "objective")),
        ("assumptions", ("假设", "assumptions")),
    ):
        if isinstance(summary.get(key), str) and summary[key]:
            details.append([lang(zh, en), summary[key]])
    settings = summary.get("settings")
    if isinstance(settings, dict) and settings:
        details.append(
            [
                lang("规划参数", "settings"),
                ", ".join(f"{k} = {_plain(v)}" for k, v in settings.items() if _is_scalar(v)),
            ]
        )
    out["details"] = details
    return out


def _field_section(run: Any, lang: Labeler, font: str, suffix: str) -> dict[str, Any] | None:
    from .field import field_context

    return field_context(run, lang, font, suffix)


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def _plain_count(v: Any) -> str:
    x = _num_or_nan(v)
    return "—" if math.isnan(x) else f"{x:,.0f}"


def _num_or_nan(v: Any) -> float:
    try:
        return math.nan if v is None else float(v)
    except (TypeError, ValueError):
        return math.nan


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return "—" if math.isnan(v) else f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _certified_below(standards: list[Any] | None) -> dict[str, list[CertifiedBelow]]:
    """Per standard id: the certified cities of its reference outcomes below its thresholds."""
    out: dict[str, list[CertifiedBelow]] = {}
    for s in standards or []:
        if isinstance(s, Standard):
            try:
                out[s.id] = certified_below(s)
            except InputError as exc:
                log.warning("reference outcomes of %s cannot be read: %s", s.id, exc)
    return out


def _evidence_note(below: list[CertifiedBelow], lang: Labeler) -> str:
    """ "3 certified cities were below them: 包头 2022 (10G-PON port share 25.0%), …"."""
    if not below:
        return ""
    by_city: dict[tuple[str, str, str], list[str]] = {}
    for b in below:
        lab = lang.indicator(b.indicator)
        value = format_value(b.value, lab.ratio, lab.decimals)
        by_city.setdefault((b.city, b.city_en, b.batch), []).append(
            f"{lang(lab.name_zh, lab.name_en)} {value}"
        )
    cities = "; ".join(
        f"{lang(c, f'{c} {en}'.strip())} {batch} ({', '.join(parts)})"
        for (c, en, batch), parts in by_city.items()
    )
    n = len(by_city)
    return lang(
        f"已获评千兆城市中有 {n} 个低于这些阈值：{cities}",
        f"{n} certified {'city was' if n == 1 else 'cities were'} below them: {cities}",
    )


def _standards(
    stds: list[StandardInfo],
    lang: Labeler,
    below: dict[str, list[CertifiedBelow]] | None = None,
) -> list[dict[str, Any]]:
    out = []
    for s in stds:
        inds = []
        for t in s.indicators:
            lab = lang.indicator(t.key)
            certified = ""
            if not t.confirmed and not is_missing(t.certified_min):
                low = format_value(t.certified_min, lab.ratio, lab.decimals)
                certified = lang(
                    f"已获评城市最低值 {low}：介于其与阈值之间为“存在风险”，低于它为未达标。",
                    f"lowest certified value {low}: between it and the threshold is 'at risk', "
                    "below it fails.",
                ) + (f" ({t.certified_source})" if t.certified_source else "")
            inds.append(
                {
                    "key": t.key,
                    "name": lang(t.name_zh or lab.name_zh, t.name_en or lab.name_en),
                    "threshold": format_threshold(t.op, t.threshold, lab.ratio),
                    "levels": ", ".join(lang.level(lv) for lv in t.levels),
                    "mandatory": t.mandatory,
                    "confirmed": t.confirmed,
                    "source": t.source,
                    "note": t.note,
                    "certified": certified,
                }
            )
        title = lang(s.title_zh, s.title) if s.title_zh else s.title
        out.append(
            {
                "id": s.id,
                "title": title,
                "issuer": s.issuer,
                "version": s.version,
                "source": s.source,
                "url": s.url,
                "notes": s.notes,
                "indicators": inds,
                "level_notes": [[lang.level(lv), note] for lv, note in s.level_notes],
                "unconfirmed": [i for i in inds if not i["confirmed"]],
                "evidence": _evidence_note((below or {}).get(s.id, []), lang),
            }
        )
    return out


def _provenance_rows(prov: dict[str, Any], lang: Labeler) -> list[list[str]]:
    rows = [
        [lang("工具", "tool"), f"gigacov {prov['tool_version']}"],
        [lang("生成时间 (UTC)", "generated (UTC)"), prov["generated_utc"]],
        [lang("情景文件", "scenario file"), prov["scenario"]["path"] or "—"],
    ]
    for inp in prov["inputs"]:
        rows.append(
            [
                f"{lang('输入', 'input')} {inp['input']}".strip(),
                f"{inp['path']} — SHA-256 {inp['sha256'] or '—'}",
            ]
        )
    for s in prov["standards"]:
        rows.append(
            [lang("标准", "standard"), f"{s['id']} ({lang('版本', 'version')} {s['version']})"]
        )
    if prov["grid"]:
        g = prov["grid"]
        rows.append(
            [
                lang("栅格", "grid"),
                f"{g['crs']}, {g['resolution_m']:g} m, {g['width']}×{g['height']} px",
            ]
        )
    for tech, params in prov["radio"].items():
        rows.append(
            [
                f"{lang('无线参数', 'radio parameters')} {tech}",
                ", ".join(f"{k}={v}" for k, v in params.items()),
            ]
        )
    if prov["timings_s"]:
        rows.append(
            [
                lang("耗时", "timings"),
                ", ".join(f"{k} {v:g} s" for k, v in prov["timings_s"].items()),
            ]
        )
    return rows


def _map_link(run: RunResult, report_path: Path) -> str | None:
    m = (run.outputs or {}).get("map")
    if not m:
        return None
    # While the run is staged, both files are elsewhere than where the link will be followed.
    final = getattr(run, "final_path", Path)
    rel = os.path.relpath(final(m).resolve(), final(report_path).resolve().parent)
    return urllib.parse.quote(Path(rel).as_posix())


# ------------------------------------------------------------------------------------------------
# Year over year (shared by the report section and comparison.html)
# ------------------------------------------------------------------------------------------------


def run_columns(a: Any, b: Any, lang: Labeler) -> tuple[str, str]:
    """How the two runs of a comparison are named in table headers: their years ("2023年 /
    2023") when they differ, else their run names."""
    years = []
    for t in (a, b):
        scn = (getattr(t, "manifest", None) or {}).get("scenario") or {}
        years.append(str(scn.get("year") or ""))
    if all(years) and years[0] != years[1]:
        return lang(f"{years[0]}年", years[0]), lang(f"{years[1]}年", years[1])
    return lang(f"运行 {a.label}", a.label), lang(f"运行 {b.label}", b.label)


def comparison_context(
    cmp: Any, lang: Labeler, font: str, suffix: str = "", max_charts: int = 8
) -> dict[str, Any]:
    """What the year-over-year template needs from a :class:`~gigacov.report.compare.Comparison`."""
    from .workbook import change_name

    a, b = cmp.a, cmp.b
    col_a, col_b = run_columns(a, b, lang)
    ic = cmp.indicator_changes
    uc = cmp.unit_changes
    sc = cmp.status_changes
    counts = []
    for lv in [lv for lv in LEVELS if lv in set(uc["level"])]:
        sub = uc[uc["level"] == lv]
        counts.append(
            [
                lang.level(lv),
                int((sub["change"] == "newly_passing").sum()),
                int((sub["change"] == "newly_failing").sum()),
                int((sub["status_b"] == "pass").sum()),
                int((sub["status_b"] == "at_risk").sum()),
                int((sub["status_b"] == "fail").sum()),
            ]
        )

    def unit_rows(change: str) -> list[list[str]]:
        rows = []
        for r in uc[uc["change"] == change].itertuples():
            reasons = ""
            if change in ("newly_failing", "at_risk"):
                f = sc[
                    (sc["level"] == r.level)
                    & (sc["admin_code"] == r.admin_code)
                    & (sc["standard"] == r.standard)
                    & (sc["status_b"] == ("fail" if change == "newly_failing" else "at_risk"))
                ]
                parts = []
                for x in f.itertuples():
                    lab = lang.indicator(x.indicator)
                    part = (
                        f"{lang(lab.name_zh, lab.name_en)} {format_value(x.value_a, lab.ratio, lab.decimals)} → "
                        f"{format_value(x.value_b, lab.ratio, lab.decimals)} "
                        f"({format_threshold(x.op, x.threshold_b, lab.ratio)})"
                    )
                    sf = lang.shortfall(x.shortfall, x.shortfall_unit, x.indicator)
                    parts.append(part + (f", {sf}" if sf else ""))
                reasons = "; ".join(parts)
            rows.append(
                [
                    lang.level(r.level),
                    r.admin_code,
                    r.name,
                    r.standard,
                    lang.status(r.status_a) if isinstance(r.status_a, str) else "—",
                    lang.status(r.status_b) if isinstance(r.status_b, str) else "—",
                    reasons,
                ]
            )
        return rows

    # Headline changes at the top level present in both runs.
    top = next((lv for lv in LEVELS if lv in set(ic["level"])), None)
    headline = []
    if top is not None:
        for r in ic[ic["level"] == top].itertuples():
            lab = lang.indicator(r.indicator)
            headline.append(
                [
                    r.name or r.admin_code,
                    lang(lab.name_zh, lab.name_en),
                    format_value(r.value_a, lab.ratio, lab.decimals),
                    format_value(r.value_b, lab.ratio, lab.decimals),
                    format_delta(r.delta, lab.ratio, lab.decimals),
                ]
            )
    # Wide county table: each standard indicator as "B (Δ)".
    chart_level = "county" if "county" in set(ic["level"]) else top
    wide = {"headers": [], "rows": []}
    chart_list = []
    if chart_level is not None:
        std_keys = list(dict.fromkeys(sc.loc[sc["level"] == chart_level, "indicator"]))
        sub = ic[ic["level"] == chart_level]
        keys = [k for k in std_keys if k in set(sub["indicator"])] or list(
            dict.fromkeys(sub["indicator"])
        )
        wide["headers"] = [lang("代码", "code"), lang("名称", "name")] + [
            lang.indicator_header(k) for k in keys
        ]
        piv = {(r.admin_code, r.indicator): r for r in sub.itertuples()}
        for code in sorted(set(sub["admin_code"])):
            name = next((piv[(code, k)].name for k in keys if (code, k) in piv), "")
            cells = []
            for k in keys:
                r = piv.get((code, k))
                lab = lang.indicator(k)
                if r is None:
                    cells.append("—")
                else:
                    cells.append(
                        f"{format_value(r.value_b, lab.ratio, lab.decimals)} ({format_delta(r.delta, lab.ratio, lab.decimals)})"
                    )
            wide["rows"].append([code, name] + cells)
        for k in keys[:max_charts]:
            rows = sub[sub["indicator"] == k]
            lab = lang.indicator(k)
            thr = sc[(sc["level"] == chart_level) & (sc["indicator"] == k)]
            thresholds = []
            for std, g in thr.groupby("standard", sort=False):
                t = g["threshold_b"].dropna()
                if len(t):
                    thresholds.append((str(std), float(t.iloc[0])))
            title = f"{lang(lab.name_zh, lab.name_en)}: {a.label} → {b.label}{suffix}"
            png = charts.yoy_chart(
                [str(n) or str(c) for n, c in zip(rows["name"], rows["admin_code"], strict=True)],
                rows["value_a"].tolist(),
                rows["value_b"].tolist(),
                str(a.label),
                str(b.label),
                lab,
                title,
                font,
                lang,
                thresholds,
            )
            chart_list.append({"key": k, "title": title, "uri": charts.png_data_uri(png)})
    return {
        "label_a": a.label,
        "label_b": b.label,
        "col_a": col_a,
        "col_b": col_b,
        "path_a": str(a.path or ""),
        "path_b": str(b.path or ""),
        "forced": cmp.forced,
        "reasons": list(cmp.reasons),
        "refused": None,
        "counts": counts,
        "newly_passing": unit_rows("newly_passing"),
        "newly_failing": unit_rows("newly_failing"),
        "at_risk": unit_rows("at_risk"),
        "newly_passing_label": change_name("newly_passing", lang),
        "newly_failing_label": change_name("newly_failing", lang),
        "headline": headline,
        "headline_level": lang.level(top) if top else "",
        "wide": wide,
        "wide_level": lang.level(chart_level) if chart_level else "",
        "charts": chart_list,
    }


# ------------------------------------------------------------------------------------------------
# Pages
# ------------------------------------------------------------------------------------------------


_TABLE_OPEN = re.compile(r"<table\b")


def wrap_tables(page: str) -> str:
    """Every ``<table>`` of a page inside ``<div class="table-wrap">``: a wide table scrolls in
    its own box with its first column fixed, and the page never scrolls sideways, whoever added
    the table to the templates."""
    return _TABLE_OPEN.sub('<div class="table-wrap"><table', page).replace(
        "</table>", "</table></div>"
    )


def _common(lang: Labeler, title: str, synthetic: bool) -> dict[str, Any]:
    return {
        "L": lang,
        "title": title,
        "synthetic": synthetic,
        "synthetic_notice": lang(
            "合成数据：本报告的全部输入均为合成（模拟）数据，结果不描述任何真实网络。",
            "SYNTHETIC DATA: every input of this report is synthetic; the figures describe no real network.",
        ),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "html_lang": {"zh": "zh-CN", "en": "en", "both": "zh-CN"}[lang.language],
    }


def render_report(
    run: RunResult, report_path: Path, font: str, yoy: dict[str, Any] | None = None
) -> str:
    """The HTML annual-review report of a run, as a string."""
    scn = run.scenario
    comp = normalise_compliance(run.compliance)
    stds = standards_info(run.standards)
    lang = Labeler(scn.report.language, getattr(run.indicators, "definitions", None))
    synthetic = bool(scn.scenario.synthetic)
    suffix = _title_suffix(synthetic, lang)
    us = unit_status(comp, stds)
    levels = levels_present(run.indicators, comp)
    detail_level = "county" if "county" in levels else (levels[-1] if levels else "county")
    units = _unit_results(comp, us, detail_level, lang, stds)
    status_charts = []
    counts_tables = []
    for lv in levels:
        counts = _status_counts(us, lv)
        if not counts:
            continue
        counts_tables.append(
            {
                "level": lang.level(lv)
                + _partial_note(run.indicators, lv, scn.scenario.region, lang),
                "rows": [[std, *(c[st] for st in STATUS_NAMES)] for std, c in counts.items()],
            }
        )
        if lv == detail_level:
            title = f"{lang('达标情况', 'compliance')} — {lang.level(lv)}{suffix}"
            status_charts.append(
                {
                    "title": title,
                    "uri": charts.png_data_uri(
                        charts.status_overview_chart(counts, title, font, lang)
                    ),
                }
            )
    ind_charts = _indicator_charts(comp, detail_level, stds, lang, font, suffix)
    maps, maps_skipped = _county_maps(
        run, units, lang, font, suffix, max(0, int(scn.report.county_maps_max))
    )
    ctx = _common(lang, f"{scn.title} — {lang('年度评估报告', 'annual review')}", synthetic)
    ctx.update(
        {
            "scenario": {
                "name": scn.name,
                "year": scn.year,
                "region": scn.scenario.region,
                "description": scn.scenario.description,
            },
            "map_link": _map_link(run, report_path),
            "summary": _summary(run.indicators, lang),
            "counts_tables": counts_tables,
            "status_charts": status_charts,
            "detail_level": lang.level(detail_level),
            "county_note": detail_level in ("county", "village"),
            "units": units,
            "n_fail": sum(u["status"] == "fail" for u in units),
            "n_pass": sum(u["status"] == "pass" for u in units),
            "n_at_risk": sum(u["status"] == "at_risk" for u in units),
            "n_nodata": sum(u["status"] == "no_data" for u in units),
            "charts": ind_charts,
            "county_maps": maps,
            "county_maps_skipped": maps_skipped,
            "key_places": _key_places(run.indicators, lang),
            "by_operator": _by_operator(run, lang),
            "inputs": _inputs(run.inputs),
            "planning": _planning(run.plan, lang, comp),
            "field": _field_section(run, lang, font, suffix),
            "yoy": yoy,
            "standards": _standards(stds, lang, _certified_below(run.standards)),
            "provenance": _provenance_rows(provenance(run), lang),
        }
    )
    return wrap_tables(_env().get_template("report.html.j2").render(**ctx))


def _write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    return path


def write_html(
    run: RunResult, path: str | Path, font: str, yoy: dict[str, Any] | None = None
) -> Path:
    """Write ``report.html`` (atomically: a failed write leaves the old file or none)."""
    path = Path(path)
    text = render_report(run, path, font, yoy)
    _write_text(path, text)
    log.info("report written: %s (%d kB)", path, len(text) // 1024)
    return path


def render_comparison(cmp: Any, font: str, language: str = "both") -> str:
    lang = Labeler(language, cmp.b.definitions or cmp.a.definitions)  # type: ignore[arg-type]
    synthetic = cmp.a.synthetic or cmp.b.synthetic
    suffix = _title_suffix(synthetic, lang)
    ctx = _common(
        lang,
        f"{lang('年度对比', 'year-over-year comparison')}: {cmp.a.label} → {cmp.b.label}{suffix}",
        synthetic,
    )
    ctx["yoy"] = comparison_context(cmp, lang, font, suffix)
    return wrap_tables(_env().get_template("comparison.html.j2").render(**ctx))


def write_comparison_html(
    cmp: Any, path: str | Path, language: str = "both", font: str | None = None
) -> Path:
    """Write ``comparison.html`` (atomically)."""
    font = font or charts.find_cjk_font()
    path = Path(path)
    _write_text(path, render_comparison(cmp, font, language))
    return path
