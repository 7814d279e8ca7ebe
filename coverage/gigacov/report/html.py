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

from ..compliance import unit_status
from ..formatting import format_threshold, format_value, is_missing
from ..run_result import RunResult
from ..rundir import atomic_path
from ..standard_files import StandardInfo, standards_info
from . import charts
from .labels import (
    STATUS_NAMES,
    UNIT_COLUMNS,
    Labeler,
)
from .planning_section import planning_context
from .sources_section import (
    certified_evidence,
    operators_section,
    provenance_rows,
    standards_rows,
)
from .tables import (
    input_summary,
    levels_present,
    normalise_compliance,
    provenance,
    region_summary,
)
from .year_over_year import comparison_context

__all__ = [
    "render_report",
    "write_html",
    "render_comparison",
    "write_comparison_html",
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


def _field_section(run: RunResult, lang: Labeler, font: str, suffix: str) -> dict[str, Any] | None:
    from .field import field_context

    return field_context(run, lang, font, suffix)


def _map_link(run: RunResult, report_path: Path) -> str | None:
    m = (run.outputs or {}).get("map")
    if not m:
        return None
    # While the run is staged, both files are elsewhere than where the link will be followed.
    final = getattr(run, "final_path", Path)
    rel = os.path.relpath(final(m).resolve(), final(report_path).resolve().parent)
    return urllib.parse.quote(Path(rel).as_posix())


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
            "by_operator": operators_section(run, lang),
            "inputs": _inputs(run.inputs),
            "planning": planning_context(run.plan, lang, comp),
            "field": _field_section(run, lang, font, suffix),
            "yoy": yoy,
            "standards": standards_rows(stds, lang, certified_evidence(run.standards)),
            "provenance": provenance_rows(provenance(run), lang),
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
