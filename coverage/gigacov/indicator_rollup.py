"""How unit figures add up across levels: broadband statistics per unit, and the roll-up of
counties to their cities and province.

* **Statistics** (``inputs.broadband``, rows of the scenario year only): village rows are the
  villages' figures; a county uses its own row when it has one (a mismatch with the sum of its
  village rows is logged, the county row wins), otherwise the sum of its village rows; a unit
  without any row is left out of its parent's sums and counted in ``stats_missing_units``; a
  missing field in a unit that has a row makes the parent's field NaN.
* **Roll-up**: cities and the province sum the numerators and denominators of their analysed
  counties; rows that describe only part of a unit say so in their name (``partial``,
  ``village_counties``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from .catalogue import STAT_FIELDS

if TYPE_CHECKING:  # pragma: no cover
    from .ingest.model import Inputs

__all__ = ["county_statistics", "roll_up"]

log = logging.getLogger(__name__)


def _statistics(inputs: Inputs, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(village rows, county rows) of the scenario year, indexed by admin_code."""
    empty = pd.DataFrame(columns=list(STAT_FIELDS), dtype=np.float64)
    bb = inputs.broadband
    if bb is None or len(bb) == 0:
        return empty, empty
    rows = bb[pd.to_numeric(bb["year"], errors="coerce") == year].copy()
    if len(rows) == 0:
        years = sorted(pd.to_numeric(bb["year"], errors="coerce").dropna().astype(int).unique())
        log.warning("broadband statistics have no rows for %s (years present: %s)", year, years)
        return empty, empty
    rows["admin_code"] = rows["admin_code"].astype(str)
    if "level" in rows.columns:
        level = rows["level"].astype(str).str.lower()
    else:
        level = pd.Series(
            np.where(rows["admin_code"].str.len() > 6, "village", "county"), index=rows.index
        )
    for f in STAT_FIELDS:
        rows[f] = pd.to_numeric(rows[f], errors="coerce") if f in rows.columns else np.nan
    out = []
    for lv in ("village", "county"):
        part = rows[level == lv]
        dup = part["admin_code"].duplicated(keep="last")
        if dup.any():
            log.warning(
                "broadband statistics: %d duplicate %s row(s) for %s (e.g. %r); the last is used",
                int(dup.sum()),
                lv,
                year,
                part.loc[dup, "admin_code"].iloc[0],
            )
        part = part[~dup].set_index("admin_code")[list(STAT_FIELDS)].astype(np.float64)
        out.append(part)
    return out[0], out[1]


def _sum_strict(frame: pd.DataFrame) -> pd.Series:
    """Column sums that are NaN when any value is NaN (and for an empty frame)."""
    if len(frame) == 0:
        return pd.Series(np.nan, index=frame.columns)
    return frame.sum(skipna=False)


def _rollup_stats(children: pd.DataFrame, has: pd.Series) -> tuple[pd.Series, int]:
    """Sum the statistics of the children that have any; returns (sums, children without)."""
    with_stats = children[has.to_numpy()]
    missing = int((~has).sum())
    if len(with_stats) == 0:
        return pd.Series(np.nan, index=list(STAT_FIELDS)), missing
    return _sum_strict(with_stats[list(STAT_FIELDS)]), missing


def county_statistics(
    counties: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, inputs: Inputs, year: int
) -> None:
    """Give villages and counties their statistics fields, ``stats_source`` and
    ``stats_missing_units`` (in place)."""
    vrows, crows = _statistics(inputs, year)
    if len(villages):
        vstats = vrows.reindex(villages["admin_code"])
        for f in STAT_FIELDS:
            villages[f] = vstats[f].to_numpy()
        has_v = vstats.notna().any(axis=1).to_numpy()
        villages["stats_source"] = np.where(has_v, "village", "none")
        villages["stats_missing_units"] = 0
    stats_rows = []
    vr_county = vrows.index.str[:6] if len(vrows) else pd.Index([])
    known_villages = (
        villages.groupby(villages["admin_code"].str[:6]).size()
        if len(villages)
        else pd.Series(dtype=int)
    )
    for code in counties["admin_code"]:
        vpart = vrows[vr_county == code] if len(vrows) else vrows
        vsum = _sum_strict(vpart) if len(vpart) else None
        n_known = int(known_villages.get(code, 0))
        if code in crows.index:
            row = crows.loc[code].astype(np.float64)
            if vsum is not None:
                _log_mismatch(code, row, vsum, len(vpart))
            stats_rows.append((row, "county", 0))
        elif vsum is not None:
            missing = max(n_known - len(vpart), 0)
            if missing:
                log.warning(
                    "county %s: %d of its %d villages have no statistics row for %s; its figures "
                    "sum the %d villages that do",
                    code,
                    missing,
                    n_known,
                    year,
                    len(vpart),
                )
            stats_rows.append((vsum, "villages", missing))
        else:
            stats_rows.append((pd.Series(np.nan, index=list(STAT_FIELDS)), "none", n_known))
    for f in STAT_FIELDS:
        counties[f] = [r[0][f] for r in stats_rows]
    counties["stats_source"] = [r[1] for r in stats_rows]
    counties["stats_missing_units"] = np.array([r[2] for r in stats_rows], dtype=np.int64)
    _label_partial_county_stats(counties, known_villages)
    no_stats = counties.loc[counties["stats_source"] == "none", "admin_code"].tolist()
    if no_stats and (len(vrows) or len(crows)):
        log.warning("no broadband statistics for %s for county(ies) %s", year, ", ".join(no_stats))


def roll_up(
    counties: gpd.GeoDataFrame,
    cities: gpd.GeoDataFrame,
    provinces: gpd.GeoDataFrame,
    sites: pd.DataFrame,
    col_techs: tuple[str, ...],
    region: str,
) -> dict[str, gpd.GeoDataFrame]:
    """The city and province tables: sums of their analysed counties (``region``: the
    scenario's)."""
    city_codes = set(cities["admin_code"])
    prov_codes = set(provinces["admin_code"])
    county_city = counties.apply(lambda r: _parent(r, city_codes, 4), axis=1)
    county_prov = counties.apply(lambda r: _province_of(r, prov_codes), axis=1)
    sum_cols = [
        "population",
        "area_km2",
        "sites_5g",
        "key_places",
        "villages",
        *[
            f"{p}_{t}"
            for t in col_techs
            for p in (
                "covered_population",
                "covered_area_km2",
                "key_places_reached",
                "villages_reached",
            )
        ],
    ]
    upper: dict[str, gpd.GeoDataFrame] = {}
    for level, table, member in (
        ("city", cities, county_city),
        ("province", provinces, county_prov),
    ):
        if len(table) == 0:
            continue
        keep = table["admin_code"].isin(set(member.dropna()))
        dropped = table.loc[~keep, "admin_code"].tolist()
        if dropped:
            log.info("%s unit(s) %s have no analysed county; left out", level, ", ".join(dropped))
        table = table[keep].reset_index(drop=True)
        rows = []
        for code in table["admin_code"]:
            ch = counties[(member == code).to_numpy()]
            rec = {c: float(_sum_strict(ch[[c]]).iloc[0]) for c in sum_cols}
            rec["sites_5g"] = int(
                sites[sites["admin_code"].isin(set(ch["admin_code"]))]["site_id"].nunique()
            )
            has = ch["stats_source"] != "none"
            st, missing = _rollup_stats(ch, has)
            rec.update({f: st[f] for f in STAT_FIELDS})
            rec["stats_source"] = "counties" if has.any() else "none"
            rec["stats_missing_units"] = missing
            with_villages = int((ch["villages"].fillna(0) > 0).sum()) if "villages" in ch else 0
            rec["village_counties"] = (
                f"{with_villages}/{len(ch)}" if 0 < with_villages < len(ch) else ""
            )
            # counties whose own statistics are partial (some villages' rows only) count as
            # incomplete too
            thin = int((has & (ch["stats_missing_units"].fillna(0) > 0)).sum())
            complete = len(ch) - missing - thin
            rec["stats_counties"] = (
                f"{complete}/{len(ch)}" if has.any() and complete < len(ch) else ""
            )
            if has.any() and missing:
                log.warning(
                    "%s %s: statistics of %d of its %d counties are missing; its statistics "
                    "indicators sum the other %d counties only (its name in every output says so)",
                    level,
                    code,
                    missing,
                    len(ch),
                    len(ch) - missing,
                )
            rows.append(rec)
        extra = pd.DataFrame(rows)
        for c in extra.columns:
            table[c] = extra[c].to_numpy()
        _label_partial(table, region)
        _label_partial_villages(table)
        _label_partial_stats(table)
        upper[level] = table
    return upper


def _log_mismatch(code: str, row: pd.Series, vsum: pd.Series, n: int) -> None:
    diffs = []
    for f in STAT_FIELDS:
        a, v = row.get(f, np.nan), vsum.get(f, np.nan)
        if np.isfinite(a) and np.isfinite(v) and abs(a - v) > max(0.005 * abs(a), 0.5):
            diffs.append(f"{f} {a:,.0f} vs {v:,.0f}")
    if diffs:
        log.warning(
            "county %s: its own statistics row differs from the sum of its %d village rows (%s); "
            "the county row is used",
            code,
            n,
            "; ".join(diffs),
        )


def _parent(row, codes: set[str], keep_digits: int) -> str | None:
    """The unit of ``codes`` a county belongs to: its parent_code, else its code prefix."""
    if row["parent_code"] in codes:
        return row["parent_code"]
    guess = row["admin_code"][:keep_digits].ljust(6, "0")
    return guess if guess in codes else None


def _label_partial(table: gpd.GeoDataFrame, region: str) -> None:
    """Mark city/province rows that sum only part of their counties (a narrower ``region``).

    A unit's counties are all analysed when the region prefix is no longer than the unit's own
    code prefix (``350000`` → ``35``, ``350500`` → ``3505``). Otherwise its figures describe the
    analysed region only, and its name says so, so that a Quanzhou run never shows a row named
    福建省 that reads like the whole province.
    """
    stem_r = region.rstrip("0")
    partial = []
    for i, code in enumerate(table["admin_code"].astype(str)):
        stem = code.rstrip("0") or code
        part = bool(stem_r) and len(stem_r) > len(stem) and stem_r.startswith(stem)
        partial.append(part)
        if part:
            table.iloc[i, table.columns.get_loc("name")] = (
                f"{table['name'].iloc[i]}（仅分析区域 {region}）"
            )
            if "name_en" in table.columns:
                en = table["name_en"].iloc[i] or code
                table.iloc[i, table.columns.get_loc("name_en")] = (
                    f"{en} (analysed region {region} only)"
                )
    table["partial"] = partial


def _label_partial_villages(table: gpd.GeoDataFrame) -> None:
    """Mark city/province rows whose village figures come from only some of their counties.

    The villages file may cover a few counties; the village reach of their city then describes
    those counties' villages only. ``village_counties`` (``"2/12"``) says how many, and the name
    says so, so that every output (tables, workbook, map, report) carries it.
    """
    if "village_counties" not in table.columns:
        return
    for i, part in enumerate(table["village_counties"].astype(str)):
        if not part:
            continue
        n, total = part.split("/")
        table.iloc[i, table.columns.get_loc("name")] = (
            f"{table['name'].iloc[i]}（村级指标仅含 {n}/{total} 个区县的村）"
        )
        if "name_en" in table.columns:
            en = table["name_en"].iloc[i] or table["admin_code"].iloc[i]
            table.iloc[i, table.columns.get_loc("name_en")] = (
                f"{en} (village figures from {n} of {total} counties only)"
            )


def _label_partial_county_stats(counties: gpd.GeoDataFrame, known_villages: pd.Series) -> None:
    """Mark counties whose statistics sum only some of their villages' rows: the name says
    so in every output ("（统计数据仅含 40/142 个村）"), as a city's does for its counties."""
    part = (counties["stats_source"] == "villages") & (counties["stats_missing_units"] > 0)
    for i in np.flatnonzero(part.to_numpy()):
        code = str(counties["admin_code"].iloc[i])
        total = int(known_villages.get(code, 0))
        have = total - int(counties["stats_missing_units"].iloc[i])
        counties.iloc[i, counties.columns.get_loc("name")] = (
            f"{counties['name'].iloc[i]}（统计数据仅含 {have}/{total} 个村）"
        )
        if "name_en" in counties.columns:
            en = counties["name_en"].iloc[i] or code
            counties.iloc[i, counties.columns.get_loc("name_en")] = (
                f"{en} (statistics from {have} of {total} villages only)"
            )


def _label_partial_stats(table: gpd.GeoDataFrame) -> None:
    """Mark city/province rows whose statistics sum only some of their counties.

    A county without a statistics row adds nothing to its city's households or users, so the
    city's ratios describe the other counties. ``stats_counties`` (``"11/12"``) says how many
    counties gave statistics, and the name says so in every output (tables, workbook, map,
    report), as :func:`_label_partial_villages` does for village figures.
    """
    if "stats_counties" not in table.columns:
        return
    for i, part in enumerate(table["stats_counties"].astype(str)):
        if not part:
            continue
        n, total = part.split("/")
        table.iloc[i, table.columns.get_loc("name")] = (
            f"{table['name'].iloc[i]}（统计数据完整的区县仅 {n}/{total}）"
        )
        if "name_en" in table.columns:
            en = table["name_en"].iloc[i] or table["admin_code"].iloc[i]
            table.iloc[i, table.columns.get_loc("name_en")] = (
                f"{en} (complete statistics from {n} of {total} counties only)"
            )


def _province_of(row, codes: set[str]) -> str | None:
    guess = row["admin_code"][:2].ljust(6, "0")
    if guess in codes:
        return guess
    return row["parent_code"] if row["parent_code"] in codes else None
