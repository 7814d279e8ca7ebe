"""The report's sections on its sources: the standards applied (with the evidence for each
unconfirmed threshold), the provenance of the run, and the results per operator."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..formatting import format_threshold, format_value, is_missing
from ..reference import CertifiedBelow, certified_below
from ..standard_files import Standard, StandardInfo
from .labels import Labeler

if TYPE_CHECKING:  # pragma: no cover
    from ..run_result import RunResult

__all__ = ["certified_evidence", "standards_rows", "provenance_rows", "operators_section"]

log = logging.getLogger(__name__)


def operators_section(run: RunResult, lang: Labeler) -> dict[str, Any] | None:
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


def certified_evidence(standards: list[Any] | None) -> dict[str, list[CertifiedBelow]]:
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


def standards_rows(
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


def provenance_rows(prov: dict[str, Any], lang: Labeler) -> list[list[str]]:
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
