"""Map layers as compact, JSON-able data for the map runtime (``static/gigacov_map.js``):
administrative units coloured by compliance status, and villages.

Every function here takes pipeline objects (WGS84 GeoDataFrames, the compliance table) and
returns plain dicts and lists. The other layers have their own modules: key places and sites in
:mod:`gigacov.maps.place_layers`, weak-coverage areas and recommended sites in
:mod:`gigacov.maps.planning_layers`; escaping, rounding and the display datum are in
:mod:`gigacov.maps.encoding`. Their names are importable from here too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..catalogue import INDICATORS
from ..formatting import is_missing
from ..standard_files import StandardInfo
from .encoding import (
    COORD_DIGITS,
    Display,
    _feature,
    _shown,
    _shown_threshold,
    esc,
    esc_plain,
)
from .place_layers import KEY_PLACE_SYMBOLS, key_places_layer, road_pieces, sites_layer
from .planning_layers import gaps_layer, recommended_layer

__all__ = [
    "esc",
    "Display",
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "KEY_PLACE_SYMBOLS",
    "indicator_meta",
    "shortfall_text",
    "units_layer",
    "villages_layer",
    "key_places_layer",
    "road_pieces",
    "sites_layer",
    "gaps_layer",
    "recommended_layer",
    "COORD_DIGITS",
    "esc_plain",
]


#: ``at_risk``: below an unconfirmed threshold, not below the lowest certified unit's value.
STATUS_COLOURS = {"pass": "#1a9850", "at_risk": "#f08c00", "fail": "#d73027", "no_data": "#969696"}
STATUS_LABELS = {"pass": "pass", "at_risk": "at risk", "fail": "fail", "no_data": "no data"}


#: How an indicator unit (gigacov.indicators.IndicatorDef.unit) is shown; others: plain numbers.
_KINDS = {"ratio": "ratio", "count": "count"}


# ------------------------------------------------------------------------------------------------
# Indicators, thresholds, shortfalls
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorMeta:
    key: str
    label: str
    label_zh: str
    kind: str  # "ratio", "count" or "number"


def indicator_meta(
    definitions: Iterable[Any] | None, columns: Iterable[str] = ()
) -> list[IndicatorMeta]:
    """Indicators to show, in order: the IndicatorSet's definitions, else docs/design.md §8 keys.

    Only keys that appear in ``columns`` are kept when ``columns`` is given and definitions are
    missing; with definitions, every defined key is kept (its value may come from compliance).
    """
    metas: list[IndicatorMeta] = []
    seen: set[str] = set()
    for d in definitions or ():
        key = str(getattr(d, "key", "") or "")
        if not key or key in seen:
            continue
        seen.add(key)
        base = _catalogue_meta(key)
        label = str(getattr(d, "name_en", "") or base.label)
        unit = str(getattr(d, "unit", "") or "").strip().lower()
        if unit in ("ratio", "fraction", "share", "%", "percent", "0-1", "0–1"):
            kind = "ratio"
        elif unit in ("count", "users", "households", "sites", "ports", "persons"):
            kind = "count"
        else:
            kind = base.kind
        metas.append(IndicatorMeta(key, label, str(getattr(d, "name_zh", "") or ""), kind))
    if metas:
        return metas
    cols = set(columns)
    return [_catalogue_meta(k) for k in INDICATORS if k in cols]


def _catalogue_meta(key: str) -> IndicatorMeta:
    """An indicator as gigacov.indicators defines it (an unknown key: its key, a plain number)."""
    d = INDICATORS.get(key)
    if d is None:
        return IndicatorMeta(key, key.replace("_", " "), "", "number")
    return IndicatorMeta(key, d.name_en, d.name_zh, _KINDS.get(d.unit, "number"))


# shortfall_unit codes of the compliance table → what the shortfall counts, in words.
_SHORTFALL_WORDS = {
    "sites": "5G base stations",
    "households": "gigabit-capable households",
    "ports": "10G-PON ports",
    "persons": "people covered by 5G",
    "key_places": "key places reached by 5G",
    "villages": "villages reached by 5G",
    "cities": "cities meeting the standard",
}
_USER_WORDS = {
    "users_500m_share": "users on ≥ 500 Mbps plans",
    "users_1000m_share": "users on 1000 Mbps plans",
    "users_1000m_count": "users on 1000 Mbps plans",
    "users_5g_share": "5G users",
}


def shortfall_text(row: pd.Series | dict, kind: str) -> str:
    """ "needs 37 more 5G base stations" from a failing compliance row."""
    shortfall = row.get("shortfall")
    unit = row.get("shortfall_unit")
    unit = "" if is_missing(unit) else str(unit).strip()
    if not is_missing(shortfall) and float(shortfall) > 0:
        n = float(shortfall)
        if unit == "km2":
            return f"needs {n:,.1f} km² more 5G coverage"
        words = _SHORTFALL_WORDS.get(unit) or (
            _USER_WORDS.get(str(row.get("indicator", "")), "users") if unit == "users" else unit
        )
        amount = f"{math.ceil(n - 1e-9):,}" if unit else _shown(n, kind)
        return f"needs {amount} more {words}".rstrip()
    margin = row.get("margin")
    if not is_missing(margin):
        return f"short by {_shown(abs(float(margin)), kind)}"
    return "below the threshold"


# ------------------------------------------------------------------------------------------------
# Administrative units (counties, cities) coloured by compliance status
# ------------------------------------------------------------------------------------------------


def _unit_tooltip(
    name: str,
    code: str,
    level: str,
    std: StandardInfo | None,
    status: str,
    values: dict[str, Any],
    rows: dict[str, pd.Series],
    metas: Sequence[IndicatorMeta],
) -> str:
    parts = [
        f'<div class="gc-tip"><b>{esc(name)}</b> <span class="gc-muted">{esc(code)} · {esc(level)}</span>'
    ]
    if std is not None:
        parts.append(
            f'<div><span class="gc-badge gc-{status}">{esc(STATUS_LABELS.get(status, status))}</span> '
            f"{esc(std.title)}</div>"
        )
    parts.append(
        '<table class="gc-table"><tr><th>indicator</th><th>value</th><th>target</th><th></th></tr>'
    )
    for m in metas:
        row = rows.get(m.key)
        value = row["value"] if row is not None else values.get(m.key)
        if row is None and is_missing(value) and m.key not in values:
            continue
        if row is not None:
            target = _shown_threshold(row.get("op"), row.get("threshold"), m.kind)
            if std is not None and m.key in std.unconfirmed_keys:
                target += "*"
            st = str(row.get("status"))
            mark = {"pass": "✓", "at_risk": "!", "fail": "✗"}.get(st, "?")
            cls = f"gc-{st}"
        else:
            target, mark, cls = "—", "", ""
        parts.append(
            f'<tr class="{cls}"><td>{esc(m.label)}</td><td>{esc(_shown(value, m.kind))}</td>'
            f"<td>{esc(target)}</td><td>{mark}</td></tr>"
        )
    parts.append("</table></div>")
    return "".join(parts)


def _unit_popup(
    name: str,
    code: str,
    level: str,
    std: StandardInfo | None,
    status: str,
    rows: dict[str, pd.Series],
    metas: dict[str, IndicatorMeta],
) -> str:
    parts = [
        f'<div class="gc-pop"><b>{esc(name)}</b> <span class="gc-muted">{esc(code)} · {esc(level)}</span>'
    ]
    if std is None:
        parts.append("<p>No standard was evaluated for this run.</p></div>")
        return "".join(parts)
    parts.append(
        f'<p><span class="gc-badge gc-{status}">{esc(STATUS_LABELS.get(status, status))}</span> '
        f"{esc(std.title)}</p>"
    )
    fails, at_risk, missing = [], [], []
    for key, row in rows.items():
        meta = metas.get(key) or _catalogue_meta(key)
        st = str(row.get("status"))
        item = f"<li><b>{esc(meta.label)}</b>: {esc(shortfall_text(row, meta.kind))}</li>"
        if st == "fail":
            fails.append(item)
        elif st == "at_risk":
            at_risk.append(item)
        elif st != "pass":
            missing.append(f"<li>{esc(meta.label)}</li>")
    if fails:
        parts.append("<p>Shortfalls:</p><ul>" + "".join(fails) + "</ul>")
    if at_risk:
        parts.append(
            "<p>At risk (below the unconfirmed threshold, not below the lowest value of a "
            "certified city):</p><ul>" + "".join(at_risk) + "</ul>"
        )
    if missing:
        parts.append(
            "<p>No data (missing data is never a pass):</p><ul>" + "".join(missing) + "</ul>"
        )
    if not fails and not at_risk and not missing:
        parts.append("<p>Meets every indicator of this standard.</p>")
    note = std.level_note(level)
    if note:
        parts.append(f'<p class="gc-note">{esc(note)}</p>')
    if any(k in std.unconfirmed_keys for k in rows):
        parts.append('<p class="gc-note">* threshold not confirmed against the official text.</p>')
    parts.append("</div>")
    return "".join(parts)


def units_layer(
    units: Any,
    level: str,
    *,
    standards: Sequence[StandardInfo],
    compliance: pd.DataFrame | None,
    statuses: pd.DataFrame,
    metas: Sequence[IndicatorMeta],
    display: Display,
) -> dict[str, Any]:
    """Units of one level as a FeatureCollection with, per standard, status, tooltip and popup.

    Feature properties: ``c`` admin code, ``st`` {standard id: status}, ``tip`` and ``pop``
    {standard id: escaped HTML}. With no standard, the single key ``""`` holds ``no_data``.
    """
    units = units.reset_index(drop=True)
    codes = units["admin_code"].astype(str).tolist()
    names = units["name"].astype(str).tolist() if "name" in units.columns else codes
    geoms = display.geoms(units.geometry)
    meta_by_key = {m.key: m for m in metas}
    value_cols = [m.key for m in metas if m.key in units.columns]
    comp = None
    if compliance is not None and len(compliance):
        comp = compliance.assign(admin_code=compliance["admin_code"].astype(str))
        if "level" in comp.columns:
            comp = comp[comp["level"].astype(str) == level]
    status_map: dict[tuple[str, str], str] = {}
    if len(statuses):
        sub = statuses
        if "level" in sub.columns:
            sub = sub[(sub["level"].astype(str) == level) | (sub["level"].astype(str) == "")]
        status_map = {
            (str(a), str(s)): str(v)
            for a, s, v in zip(sub["admin_code"], sub["standard"], sub["status"], strict=True)
        }
    grouped: dict[tuple[str, str], dict[str, pd.Series]] = {}
    if comp is not None:
        for (code, std_id), g in comp.groupby(["admin_code", "standard"], sort=False):
            grouped[(str(code), str(std_id))] = {str(r["indicator"]): r for _, r in g.iterrows()}
    std_list: list[StandardInfo | None] = list(standards) or [None]
    features = []
    for i, code in enumerate(codes):
        values = {k: units.at[i, k] for k in value_cols}
        st, tip, pop = {}, {}, {}
        for std in std_list:
            sid = std.id if std is not None else ""
            rows = grouped.get((code, sid), {})
            status = status_map.get((code, sid), "no_data")
            st[sid] = status
            tip[sid] = _unit_tooltip(names[i], code, level, std, status, values, rows, metas)
            pop[sid] = _unit_popup(names[i], code, level, std, status, rows, meta_by_key)
        features.append(_feature(geoms[i], {"c": code, "st": st, "tip": tip, "pop": pop}))
    return {"type": "FeatureCollection", "features": features}


# ------------------------------------------------------------------------------------------------
# Villages: 5G reach and gigabit fibre
# ------------------------------------------------------------------------------------------------


def fibre_classes(threshold: float) -> list[tuple[float, str, str]]:
    """Gigabit-fibre classes of a village, best first: ``(lower bound, colour, label)``.

    The top class starts at the standard's household threshold (80 % when no standard gives
    one), the middle one at 50 % (or half the threshold when that is 50 % or less).
    """
    t = float(threshold)
    mid = 0.5 if t > 0.5 else t / 2.0
    return [
        (t, "#1a9850", f"≥ {t * 100:.0f} %"),
        (mid, "#fdae61", f"{mid * 100:.0f} … {t * 100:.0f} %"),
        (0.0, "#d7191c", f"< {mid * 100:.0f} %"),
    ]


VILLAGE_REACH_COLOURS = {1: "#2c7bb6", 0: "#d7191c", None: "#bdbdbd"}


def villages_layer(
    villages: Any, *, display: Display, fibre_threshold: float, county_names: dict[str, str]
) -> dict[str, Any]:
    """Villages with ``r`` (5G reached 1/0/None), ``f`` (fibre class index or None) and ``tip``."""
    v = villages.reset_index(drop=True)
    geoms = display.geoms(v.geometry)
    reach = _column(v, "village_reach_5g")
    if reach is None and "villages_reached_5g" in v.columns and "villages" in v.columns:
        reach = pd.to_numeric(v["villages_reached_5g"], errors="coerce") / pd.to_numeric(
            v["villages"], errors="coerce"
        )
    fibre = _column(v, "household_gigabit_coverage")
    popcov = _column(v, "pop_coverage_5g")
    households = _column(v, "households")
    classes = fibre_classes(fibre_threshold)
    codes = v["admin_code"].astype(str).tolist()
    names = v["name"].astype(str).tolist() if "name" in v.columns else codes
    parents = (
        v["parent_code"].astype(str).tolist()
        if "parent_code" in v.columns
        else [c[:6] for c in codes]
    )
    reach_a = None if reach is None else reach.to_numpy(dtype=np.float64)
    fibre_a = None if fibre is None else fibre.to_numpy(dtype=np.float64)
    features = []
    for i in range(len(v)):
        r = None if reach_a is None or np.isnan(reach_a[i]) else int(reach_a[i] >= 0.5)
        f = None
        if fibre_a is not None and not np.isnan(fibre_a[i]):
            f = next(k for k, (lo, _, _) in enumerate(classes) if fibre_a[i] >= lo or lo == 0.0)
        code, name = codes[i], names[i]
        county = county_names.get(parents[i], "")
        reach_txt = {1: "reached", 0: "not reached", None: "no data"}[r]
        tip = (
            f'<div class="gc-tip"><b>{esc(name)}</b> <span class="gc-muted">{esc(code)}'
            f"{' · ' + esc(county) if county else ''}</span>"
            f'<table class="gc-table"><tr><td>5G</td><td>{esc(reach_txt)}</td></tr>'
        )
        if popcov is not None:
            tip += f"<tr><td>5G population coverage</td><td>{esc(_shown(popcov.iat[i], 'ratio'))}</td></tr>"
        if fibre is not None:
            tip += f"<tr><td>households with gigabit fibre</td><td>{esc(_shown(fibre.iat[i], 'ratio'))}</td></tr>"
        if households is not None:
            tip += f"<tr><td>households</td><td>{esc(_shown(households.iat[i], 'count'))}</td></tr>"
        tip += "</table></div>"
        features.append(_feature(geoms[i], {"c": code, "r": r, "f": f, "tip": tip}))
    return {"type": "FeatureCollection", "features": features}


def _column(df: pd.DataFrame, name: str) -> pd.Series | None:
    if name not in df.columns:
        return None
    return pd.to_numeric(df[name], errors="coerce").reset_index(drop=True)
