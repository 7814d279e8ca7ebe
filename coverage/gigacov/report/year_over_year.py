"""Year over year: what changed between two runs, for the report's section and comparison.html.

:func:`comparison_context` turns a :class:`~gigacov.report.compare.Comparison` into what the
templates show; :func:`run_columns` names the two runs in table headers.
"""

from __future__ import annotations

from typing import Any

from ..formatting import format_delta, format_threshold, format_value
from . import charts
from .labels import LEVELS, Labeler

__all__ = ["run_columns", "comparison_context"]


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
    from .comparison_workbook import change_name

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
        "notes": list(cmp.notes),
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
