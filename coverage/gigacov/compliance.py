"""The evaluation of indicators against standards: the compliance table and unit statuses.

Standards and their files are :mod:`gigacov.standard_files`.

Compliance table (docs/design.md §8): one row per unit × standard × indicator with ``value``,
``op``, ``threshold``, ``mandatory``, ``status`` (``pass`` / ``at_risk`` / ``fail`` /
``no_data`` — missing data is never a pass), ``margin`` (value − threshold for ≥/>, threshold −
value for ≤/<: negative = short) and ``shortfall`` to the (cited) threshold in real units (sites,
persons, households, ports, users, km², key places, villages, cities; 0 when passing).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .catalogue import INDICATORS, LEVELS, IndicatorSet
from .standard_files import (
    DERIVED_KEYS,
    OPS,
    STANDARDS_DIR,
    Standard,
    StandardIndicator,
    list_standards,
    load_standard,
    load_standards,
)

__all__ = [
    "Standard",
    "StandardIndicator",
    "COMPLIANCE_COLUMNS",
    "UNIT_STATUS_COLUMNS",
    "STATUSES",
    "OPS",
    "DERIVED_KEYS",
    "STANDARDS_DIR",
    "list_standards",
    "load_standard",
    "load_standards",
    "evaluate",
    "mandatory_flags",
    "unit_status",
    "standards_meta",
]

log = logging.getLogger(__name__)

#: Columns of the compliance table, in order (docs/design.md §8).
COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "admin_code",
    "name",
    "level",
    "standard",
    "indicator",
    "value",
    "op",
    "threshold",
    "mandatory",
    "status",
    "margin",
    "shortfall",
    "shortfall_unit",
)
#: Columns of :func:`unit_status`; ``failed``, ``at_risk`` and ``no_data`` list indicator keys.
UNIT_STATUS_COLUMNS: tuple[str, ...] = (
    "admin_code",
    "name",
    "level",
    "standard",
    "status",
    "failed",
    "at_risk",
    "no_data",
)
#: Statuses of a compliance row and of a unit, best first. ``at_risk``: below an unconfirmed
#: threshold, but not below the lowest value of a unit that was certified (``certified_min``).
STATUSES: tuple[str, ...] = ("pass", "at_risk", "fail", "no_data")
_TOL = 1e-9  # comparisons: values within this (relative) of the threshold count as equal


def passes(value: float | None, op: str, threshold: float) -> bool:
    """``value op threshold`` for a standard's comparison operators; missing (None/NaN) never passes.

    Values within a relative 1e-9 of the threshold count as equal to it.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    tol = _TOL * max(1.0, abs(threshold))
    if op == ">=":
        return value >= threshold - tol
    if op == ">":
        return value > threshold + tol
    if op == "<=":
        return value <= threshold + tol
    if op == "<":
        return value < threshold - tol
    raise ValueError(f"unknown comparison {op!r}")


def _margin(value: float, op: str, threshold: float) -> float:
    return value - threshold if op in (">=", ">") else threshold - value


def _shortfall(num: float, den: float, op: str, threshold: float, integer: bool) -> float:
    """Change of the numerator (in its own units) needed to pass, with the denominator fixed.

    ≥: ceil(threshold·den − num); >: floor(threshold·den − num) + 1 (the smallest whole number
    that makes it strictly greater); ≤ / < mirror that as a reduction. Continuous units (km²)
    are not rounded.
    """
    if not (math.isfinite(num) and math.isfinite(den)):
        return math.nan
    need = threshold * den - num if op in (">=", ">") else num - threshold * den
    if not integer:
        return max(need, 0.0)
    need = round(need, 6)  # 0.8 × 1000 − 800 must not become 1 through rounding noise
    if op in (">=", "<="):
        return float(max(math.ceil(need), 0))
    return float(max(math.floor(need) + 1, 0))


def _rows_for(table: pd.DataFrame, std: Standard, ind: StandardIndicator, level: str) -> list[dict]:
    d = INDICATORS[ind.key]
    rows = []
    values = (
        pd.to_numeric(table[ind.key], errors="coerce")
        if ind.key in table.columns
        else pd.Series(np.nan, index=table.index)
    )
    nums = (
        pd.to_numeric(table[d.numerator], errors="coerce") if d.numerator in table.columns else None
    )
    dens = (
        pd.to_numeric(table[d.denominator], errors="coerce") / d.scale
        if d.denominator and d.denominator in table.columns
        else None
    )
    integer = d.shortfall_unit != "km2"
    codes = table["admin_code"].astype(str).tolist()
    names = table["name"].astype(str).tolist()
    v = values.to_numpy(dtype=np.float64)
    nu = nums.to_numpy(dtype=np.float64) if nums is not None else np.full(len(table), math.nan)
    if dens is not None:
        de = dens.to_numpy(dtype=np.float64)
    else:
        de = np.full(len(table), 1.0 if not d.denominator else math.nan)
    for i in range(len(table)):
        rows.append(
            _judge(
                codes[i],
                names[i],
                level,
                std,
                ind,
                float(v[i]),
                float(nu[i]),
                float(de[i]),
                integer,
                d.shortfall_unit,
            )
        )
    return rows


def _judge(code, name, level, std, ind, value, num, den, integer, sunit, undecided=False) -> dict:
    row = {
        "admin_code": code,
        "name": name,
        "level": level,
        "standard": std.id,
        "indicator": ind.key,
        "value": value,
        "op": ind.op,
        "threshold": ind.threshold,
        "mandatory": ind.mandatory,
        "status": "no_data",
        "margin": math.nan,
        "shortfall": math.nan,
        "shortfall_unit": sunit,
    }
    if not math.isfinite(value) or not math.isfinite(ind.threshold):
        return row  # no figure, or no threshold to judge it by
    row["margin"] = _margin(value, ind.op, ind.threshold)
    if passes(value, ind.op, ind.threshold):
        row["status"] = "pass"
        row["shortfall"] = 0.0
        return row
    if undecided:
        row["status"] = "no_data"
    elif ind.has_evidence_bound and passes(value, ">=", ind.certified_min):
        row["status"] = "at_risk"  # below the cited figure, not below every certified unit
    else:
        row["status"] = "fail"
    row["shortfall"] = _shortfall(num, den, ind.op, ind.threshold, integer)
    return row


def _derived_rows(
    ind: IndicatorSet, std: Standard, si: StandardIndicator, level: str, others: dict[str, Standard]
) -> list[dict]:
    """``cities_passing_share``: share of the unit's ``of_level`` units that pass ``of_standard``."""
    table = ind.units[level]
    target = others.get(si.of_standard)
    if target is None:
        target = _resolve(si.of_standard, std)
    sub = evaluate(ind, [target])
    st = unit_status(sub, [target])
    st = st[st["level"] == si.of_level]
    members = ind.units.get(si.of_level)
    rows = []
    sunit = DERIVED_KEYS[si.key][3]
    for i in range(len(table)):
        unit = table.iloc[i]
        code, name = str(unit["admin_code"]), str(unit["name"])
        if members is None or len(members) == 0:
            rows.append(
                _judge(code, name, level, std, si, math.nan, math.nan, math.nan, True, sunit)
            )
            continue
        mine = members[_belongs(members, code, level)]["admin_code"].astype(str)
        s = st[st["admin_code"].isin(set(mine))]["status"]
        n = len(mine)
        if n == 0:
            rows.append(
                _judge(code, name, level, std, si, math.nan, math.nan, math.nan, True, sunit)
            )
            continue
        n_pass = int((s == "pass").sum())
        n_nodata = n - n_pass - int((s == "fail").sum())
        value = n_pass / n
        # Undecided when the no-data cities could still make it pass.
        undecided = n_nodata > 0 and passes((n_pass + n_nodata) / n, si.op, si.threshold)
        rows.append(
            _judge(
                code, name, level, std, si, value, float(n_pass), float(n), True, sunit, undecided
            )
        )
    return rows


def _belongs(members: pd.DataFrame, code: str, level: str) -> pd.Series:
    """Which ``members`` rows lie in the unit ``code`` of ``level`` (parent code or code prefix)."""
    digits = {"province": 2, "city": 4, "county": 6}.get(level, 6)
    codes = members["admin_code"].astype(str)
    return (members["parent_code"].astype(str) == code) | (codes.str[:digits] == code[:digits])


def _resolve(ref: str, std: Standard) -> Standard:
    base = Path(std.path).parent if std.path else None
    return load_standards([ref], base_dir=base)[0]


def standards_meta(standards: list[Standard]) -> dict[str, Any]:
    """What the tables and reports need of each standard: title, level notes, indicators."""
    return {
        s.id: {
            "title": s.title,
            "title_zh": s.title_zh,
            "version": s.version,
            "level_notes": dict(s.level_notes),
            "indicators": [
                {
                    "key": i.key,
                    "levels": list(i.level),
                    "mandatory": i.mandatory,
                    "confirmed": i.confirmed,
                    "unit": i.unit,
                    "name_en": i.name_en,
                    "name_zh": i.name_zh,
                    "op": i.op,
                    "threshold": i.threshold,
                    "note": i.note,
                    "certified_min": i.certified_min,
                    "certified_source": i.certified_source,
                }
                for i in s.indicators
            ],
        }
        for s in standards
    }


def evaluate(ind: IndicatorSet, standards: list[Standard]) -> pd.DataFrame:
    """The compliance table: one row per unit × standard × indicator (docs/design.md §8).

    Every unit of every level an indicator applies to gets a row; a unit without the figure
    (no statistics, no population, no key places) gets ``status = "no_data"`` with NaN value,
    margin and shortfall. Standards' metadata (mandatory flags, confirmation, level notes) ride
    along in ``df.attrs["standards"]`` for :func:`unit_status` and :func:`print_compliance`.
    """
    rows: list[dict] = []
    by_id = {s.id: s for s in standards}
    for std in standards:
        for level in LEVELS:
            if level not in ind.units:
                continue
            table = ind.units[level]
            for si in std.applies_to(level):
                if si.key in DERIVED_KEYS:
                    rows.extend(_derived_rows(ind, std, si, level, by_id))
                else:
                    rows.extend(_rows_for(table, std, si, level))
    df = pd.DataFrame(rows, columns=list(COMPLIANCE_COLUMNS))
    for c in ("value", "threshold", "margin", "shortfall"):
        df[c] = df[c].astype(np.float64)
    df["mandatory"] = df["mandatory"].astype(bool)
    df.attrs["standards"] = standards_meta(standards)
    return df


def _flag_table(standards: Iterable[Any] | None, meta: Any) -> dict[tuple[str, str, str], bool]:
    """(standard, indicator, level) → mandatory, from standards or ``evaluate``'s metadata.

    ``standards`` may be :class:`Standard` objects or anything with ``id`` and ``indicators``
    whose items have ``key``, ``level`` or ``levels`` and ``mandatory`` (the report's
    ``StandardInfo``); an entry without levels applies to every level (``"*"``).
    """
    out: dict[tuple[str, str, str], bool] = {}
    if standards:
        for s in standards:
            for i in getattr(s, "indicators", None) or ():
                levels = getattr(i, "level", None) or getattr(i, "levels", None) or ("*",)
                for lv in (levels,) if isinstance(levels, str) else levels:
                    out[(str(s.id), str(i.key), str(lv))] = bool(getattr(i, "mandatory", True))
        return out
    for sid, m in (meta or {}).items():
        for i in m.get("indicators", []):
            for lv in i.get("levels", []) or ["*"]:
                out[(str(sid), str(i.get("key")), str(lv))] = bool(i.get("mandatory", True))
    return out


def mandatory_flags(df: pd.DataFrame, standards: Iterable[Any] | None = None) -> np.ndarray:
    """Whether each row of a compliance table is a mandatory indicator of its standard.

    From the table's ``mandatory`` column (written by :func:`evaluate` and kept in
    ``compliance.csv``); for rows without it (a table from an older run), from ``standards``,
    else from the metadata :func:`evaluate` leaves in ``df.attrs["standards"]``. An indicator
    found nowhere counts as mandatory: it can make a unit fail, never pass.
    """
    n = len(df)
    given = (
        np.array(df["mandatory"].map(_as_flag).tolist(), dtype=object)
        if "mandatory" in df.columns
        else np.full(n, None, dtype=object)
    )
    missing = [i for i in range(n) if given[i] is None]
    if missing:
        table = _flag_table(standards, df.attrs.get("standards"))
        std, key, lvl = (df[c].astype(str).to_numpy() for c in ("standard", "indicator", "level"))
        for i in missing:
            given[i] = table.get((std[i], key[i], lvl[i]), table.get((std[i], key[i], "*"), True))
    return given.astype(bool)


def _as_flag(value: Any) -> bool | None:
    """A ``mandatory`` cell as read from a table or CSV (True/False, 1/0, "true"/"false")."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None


def unit_status(df: pd.DataFrame, standards: Iterable[Any] | None = None) -> pd.DataFrame:
    """Overall status per unit × standard: the one rule every output uses.

    ``fail`` when any mandatory indicator fails; else ``at_risk`` when any is ``at_risk`` (below
    an unconfirmed threshold but not below every certified unit: neither pass nor fail); else
    ``no_data`` when any lacks data (missing data is never a pass); else ``pass``. Informative
    (``mandatory = false``) indicators do not count. Units for which a standard has no mandatory
    indicator at their level get no row (the standard does not judge them). Columns
    :data:`UNIT_STATUS_COLUMNS`: ``failed``, ``at_risk`` and ``no_data`` list the mandatory
    indicators in each state. Which indicators are mandatory: see :func:`mandatory_flags`.
    """
    cols = list(UNIT_STATUS_COLUMNS)
    if df is None or len(df) == 0:
        return pd.DataFrame(columns=cols)
    keys = ["standard", "level", "admin_code"]
    work = df[["standard", "level", "admin_code", "name", "indicator", "status"]].copy()
    work["admin_code"] = work["admin_code"].astype(str)
    work["name"] = work["name"].fillna("").astype(str)
    work = work[mandatory_flags(df, standards)]
    if work.empty:
        return pd.DataFrame(columns=cols)
    out = work.groupby(keys, sort=False)["name"].first().to_frame()
    for state, col in (("fail", "failed"), ("at_risk", "at_risk"), ("no_data", "no_data")):
        found = work[work["status"] == state].groupby(keys, sort=False)["indicator"].agg(list)
        out[col] = [found.get(k, []) for k in out.index]
    out["status"] = [
        "fail" if f else ("at_risk" if r else ("no_data" if n else "pass"))
        for f, r, n in zip(out["failed"], out["at_risk"], out["no_data"], strict=True)
    ]
    return out.reset_index()[cols]
