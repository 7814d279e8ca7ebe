"""The self-contained HTML annual-review report and the comparison page (Jinja2).

Every image is a base64 PNG inside the page and the style sheet is inline, so the file can be
mailed or archived on its own; the only link out is the (relative) link to the interactive map.
"""

from __future__ import annotations

import logging
import math
import os
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from ..compliance import Standard, unit_status
from ..errors import InputError
from ..pipeline import atomic_path
from ..reference import CertifiedBelow, certified_below
from . import charts
from .labels import (
    LEVELS,
    STATUS_NAMES,
    UNIT_COLUMNS,
    Labeler,
    fmt_delta,
    fmt_threshold,
    fmt_value,
)
from .tables import (
    StandardInfo,
    input_summary,
    levels_present,
    normalise_compliance,
    provenance,
    region_summary,
    standards_info,
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

#: Headline figures of the summary (DESIGN.md §10 keys), in display order.
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


def _is_missing(x: Any) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return False


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
            if col in table and not _is_missing(row[col]):
                zh, en, unit, _fmt = UNIT_COLUMNS[col]
                cards.append(
                    {"label": lang(zh, en), "value": f"{float(row[col]):,.0f}", "unit": unit}
                )
        for k in [k for k in SUMMARY_KEYS if k in table.columns]:
            lab = lang.indicator(k)
            cards.append(
                {
                    "label": lang(lab.name_zh, lab.name_en),
                    "value": fmt_value(row[k], lab.ratio, lab.decimals),
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
                    fmt_value(row[k], lang.indicator(k).ratio, lang.indicator(k).decimals)
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
            f"{lang(lab.name_zh, lab.name_en)}: {fmt_value(r.value, lab.ratio, lab.decimals)} "
            f"({lang('要求', 'required')} {fmt_threshold(r.op, r.threshold, lab.ratio)})"
        )
        sf = lang.shortfall(r.shortfall, r.shortfall_unit, r.indicator)
        if sf:
            text += f" — {sf}"
        if r.status == "at_risk":
            low = (certified or {}).get(r.indicator, math.nan)
            low_txt = fmt_value(low, lab.ratio, lab.decimals) if not _is_missing(low) else "—"
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
    run: Any, units: list[dict[str, Any]], lang: Labeler, font: str, suffix: str, limit: int
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
                "—" if _is_missing(rsrp) else f"{float(rsrp):.1f} dBm",
                fmt_value(share, True),
            ]
        )
    return {
        "total": int(len(kp)),
        "reached": int(reached.sum()),
        "rows": rows,
        "more": max(0, len(missed) - limit),
    }


def _inputs(inputs: Any) -> dict[str, Any]:
    reports, reasons = input_summary(inputs)
    return {
        "rows": [
            [
                r.input,
                r.path,
                f"{r.read:,}",
                f"{r.used:,}",
                f"{r.rejected:,}",
                r.defaults or "—",
                r.fixed or "—",
                f"{r.skipped:,}",
            ]
            for r in reports.itertuples()
        ],
        "reasons": [[r.file, r.reason, f"{int(r.rows):,}"] for r in reasons.itertuples()],
        "warnings": list(getattr(inputs, "warnings", None) or []),
    }


_PLAN_SKIP = {"scenario", "synthetic", "settings", "timings_s"}
_PLAN_MAX_ROWS = 100


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def _records_table(records: list[Any]) -> dict[str, Any] | None:
    """A table of the scalar fields of a list of dicts (nested values left out)."""
    dicts = [r for r in records if isinstance(r, dict)]
    if not dicts:
        return None
    headers = list(dict.fromkeys(k for r in dicts for k, v in r.items() if _is_scalar(v)))
    rows = [[_short(_plain(r.get(h, ""))) for h in headers] for r in dicts[:_PLAN_MAX_ROWS]]
    return {"headers": headers, "rows": rows, "more": max(0, len(dicts) - _PLAN_MAX_ROWS)}


def _planning(plan: Any, lang: Labeler) -> dict[str, Any] | None:
    """The planning summary: totals, explanations and per-county tables from ``plan.summary()``
    (a dict, a DataFrame or text), recommended sites per county and the weak-coverage areas."""
    if plan is None:
        return None
    out: dict[str, Any] = {
        "summary_items": [],
        "paragraphs": [],
        "tables": [],
        "text": "",
        "by_county": [],
        "gaps": None,
    }
    summary = None
    if hasattr(plan, "summary"):
        summary = plan.summary() if callable(plan.summary) else plan.summary
    if isinstance(summary, dict):
        for k, v in summary.items():
            if k in _PLAN_SKIP:
                continue
            if isinstance(v, str) and len(v) > 160:
                out["paragraphs"].append([str(k), v])
            elif _is_scalar(v):
                out["summary_items"].append([str(k), _plain(v)])
            elif isinstance(v, dict):
                for k2, v2 in v.items():
                    if _is_scalar(v2):
                        out["summary_items"].append([f"{k}: {k2}", _plain(v2)])
                    elif isinstance(v2, list) and (t := _records_table(v2)):
                        out["tables"].append({"title": f"{k}: {k2}", **t})
            elif isinstance(v, list) and (t := _records_table(v)):
                out["tables"].append({"title": str(k), **t})
    elif isinstance(summary, pd.DataFrame):
        out["tables"].append(
            {
                "title": "",
                "headers": [str(c) for c in summary.columns],
                "rows": [[_plain(v) for v in row] for row in summary.itertuples(index=False)],
                "more": 0,
            }
        )
    elif summary is not None:
        out["text"] = str(summary)
    rec = getattr(plan, "recommended", None)
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
            out["by_county"].append([label, f"{int(n):,}", pop])
    gaps = getattr(plan, "gaps", None)
    if gaps is not None and len(gaps):
        pop = float(
            pd.to_numeric(gaps.get("population", pd.Series(dtype=float)), errors="coerce").sum()
        )
        area = float(
            pd.to_numeric(gaps.get("area_km2", pd.Series(dtype=float)), errors="coerce").sum()
        )
        out["gaps"] = {
            "count": f"{len(gaps):,}",
            "population": f"{pop:,.0f}",
            "area_km2": f"{area:,.1f}",
        }
    return out


def _field_section(run: Any, lang: Labeler, font: str, suffix: str) -> dict[str, Any] | None:
    from .field import field_context

    return field_context(run, lang, font, suffix)


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
        value = fmt_value(b.value, lab.ratio, lab.decimals)
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
            if not t.confirmed and not _is_missing(t.certified_min):
                low = fmt_value(t.certified_min, lab.ratio, lab.decimals)
                certified = lang(
                    f"已获评城市最低值 {low}：介于其与阈值之间为“存在风险”，低于它为未达标。",
                    f"lowest certified value {low}: between it and the threshold is 'at risk', "
                    "below it fails.",
                ) + (f" ({t.certified_source})" if t.certified_source else "")
            inds.append(
                {
                    "key": t.key,
                    "name": lang(t.name_zh or lab.name_zh, t.name_en or lab.name_en),
                    "threshold": fmt_threshold(t.op, t.threshold, lab.ratio),
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


def _map_link(run: Any, report_path: Path) -> str | None:
    m = (run.outputs or {}).get("map")
    if not m:
        return None
    rel = os.path.relpath(Path(m).resolve(), report_path.resolve().parent)
    return urllib.parse.quote(Path(rel).as_posix())


# ------------------------------------------------------------------------------------------------
# Year over year (shared by the report section and comparison.html)
# ------------------------------------------------------------------------------------------------


def comparison_context(
    cmp: Any, lang: Labeler, font: str, suffix: str = "", max_charts: int = 8
) -> dict[str, Any]:
    """What the year-over-year template needs from a :class:`~gigacov.report.compare.Comparison`."""
    from .workbook import change_name

    a, b = cmp.a, cmp.b
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
                        f"{lang(lab.name_zh, lab.name_en)} {fmt_value(x.value_a, lab.ratio, lab.decimals)} → "
                        f"{fmt_value(x.value_b, lab.ratio, lab.decimals)} "
                        f"({fmt_threshold(x.op, x.threshold_b, lab.ratio)})"
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
                    fmt_value(r.value_a, lab.ratio, lab.decimals),
                    fmt_value(r.value_b, lab.ratio, lab.decimals),
                    fmt_delta(r.delta, lab.ratio, lab.decimals),
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
            lang.indicator_name(k) for k in keys
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
                        f"{fmt_value(r.value_b, lab.ratio, lab.decimals)} ({fmt_delta(r.delta, lab.ratio, lab.decimals)})"
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


def render_report(run: Any, report_path: Path, font: str, yoy: dict[str, Any] | None = None) -> str:
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
            "inputs": _inputs(run.inputs),
            "planning": _planning(run.plan, lang),
            "field": _field_section(run, lang, font, suffix),
            "yoy": yoy,
            "standards": _standards(stds, lang, _certified_below(run.standards)),
            "provenance": _provenance_rows(provenance(run), lang),
        }
    )
    return _env().get_template("report.html.j2").render(**ctx)


def _write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    return path


def write_html(run: Any, path: str | Path, font: str, yoy: dict[str, Any] | None = None) -> Path:
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
    return _env().get_template("comparison.html.j2").render(**ctx)


def write_comparison_html(
    cmp: Any, path: str | Path, language: str = "both", font: str | None = None
) -> Path:
    """Write ``comparison.html`` (atomically)."""
    font = font or charts.find_cjk_font()
    path = Path(path)
    _write_text(path, render_comparison(cmp, font, language))
    return path
