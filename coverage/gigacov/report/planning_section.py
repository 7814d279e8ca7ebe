"""The report's planning section: what was planned where and why, in a planner's words.

Built from a plan (a :class:`gigacov.planning.PlanResult` or a plan read back from a run
directory: its ``summary()``, ``recommended`` sites and weak-coverage ``gaps``) and the
compliance table.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from markupsafe import Markup

from ..formatting import format_threshold, format_value
from .labels import Labeler

__all__ = ["planning_context"]

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


def planning_context(
    plan: Any, lang: Labeler, comp: pd.DataFrame | None = None
) -> dict[str, Any] | None:
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
