"""Indicators per village, county, city and province (docs/design.md §2, §8).

:func:`compute_indicators` turns the coverage rasters, the population grid, the cell list, the key
places and the broadband statistics into one table per administrative level
(:class:`IndicatorSet`). Ratios are fractions 0–1; NaN means *no data* (never 0).

Where each figure comes from
----------------------------
* **Raster figures** (population, covered population, area, covered area) of counties and
  villages come from one zonal pass each over the grid (:func:`gigacov.zonal.zonal_sums`, with
  ``[indicators] subpixel`` sub-cells per pixel edge). Cities and the province are the sums of
  their counties, so every level adds up.
* **Sites**: distinct ``site_id`` among the 5G cells located in the unit (``cells.admin_code`` is
  the county; villages by location; cities and province by their counties).
* **Key places**: a point is reached when 5G covers its pixel; an area when the covered share of
  its area ≥ ``[indicators] key_place_area_share``; a road (line) when the covered share of its
  length ≥ ``key_place_road_share`` (plus its longest uncovered stretch, metres). A unit counts
  the key places whose ``admin_code`` is its county (villages: by location).
* **Villages**: a village is reached when the covered share of its population ≥
  ``village_reached_pop_share`` (of its area when it has no population).
* **Statistics** (``inputs.broadband``, rows of the scenario year only):

  - village rows are the villages' figures;
  - a county uses **its own row when it has one** (a mismatch with the sum of its village rows
    is logged, the county row wins); otherwise the **sum of its village rows**;
  - cities and the province sum their counties;
  - a unit without any statistics row is left out of its parent's sums and counted in the
    parent's ``stats_missing_units``; a field that is missing (NaN) in a unit that *does* have a
    row makes the parent's field NaN — a partial sum would look like a real figure;
  - ``stats_source`` says which rule gave each unit its figures (``village``, ``county``,
    ``villages``, ``counties``, ``none``).

* **Roll-up** always sums numerators and denominators and divides at the end — a city's
  population coverage is weighted by its counties' populations, never the mean of their ratios.

The city and province rows sum the counties *analysed* (the scenario's ``region``); with a region
narrower than the province, the province row describes that part only — its name then says so
("福建省（仅分析区域 350500）") and its ``partial`` column is true.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .catalogue import (
    BASE_COLUMNS,
    INDICATORS,
    LEVELS,
    STAT_FIELDS,
    IndicatorDef,
    IndicatorSet,
    indicator_definitions,
)
from .errors import InputError
from .grid import Grid, Tile
from .rundir import write_gpkg_layers
from .scenario import IndicatorsSection
from .zonal import rasterize_zones, zonal_sums

if TYPE_CHECKING:  # pragma: no cover
    from .ingest.model import Inputs
    from .radio.result import CoverageResult

__all__ = [
    "IndicatorDef",
    "IndicatorSet",
    "INDICATORS",
    "LEVELS",
    "STAT_FIELDS",
    "BASE_COLUMNS",
    "compute_indicators",
    "evaluate_key_places",
    "indicator_definitions",
    "add_ratios",
    "write_indicators_gpkg",
]

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------------------
# Ratios
# ------------------------------------------------------------------------------------------------


def _div(num, den, scale: float = 1.0) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64) / scale
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return np.where(np.isfinite(den) & (den > 0) & np.isfinite(num), out, np.nan)


def add_ratios(table: pd.DataFrame, technologies: tuple[str, ...] = ("5g",)) -> pd.DataFrame:
    """Compute every indicator key from the table's numerators and denominators (in place).

    Missing or zero denominators give NaN (no data), never 0.
    """
    for d in indicator_definitions(technologies):
        if d.numerator not in table.columns:
            continue
        if d.denominator:
            if d.denominator not in table.columns:
                continue
            table[d.key] = _div(table[d.numerator], table[d.denominator], d.scale)
        else:
            table[d.key] = pd.to_numeric(table[d.numerator], errors="coerce").astype(np.float64)
    return table


# ------------------------------------------------------------------------------------------------
# Key places
# ------------------------------------------------------------------------------------------------


def _window(grid: Grid, bounds) -> Tile | None:
    """Grid window covering metric ``bounds`` (clipped); None when outside the grid."""
    res = grid.resolution_m
    t = grid.transform
    c0 = max(int(math.floor((bounds[0] - t.c) / res)), 0)
    c1 = min(int(math.ceil((bounds[2] - t.c) / res)), grid.width)
    r0 = max(int(math.floor((t.f - bounds[3]) / res)), 0)
    r1 = min(int(math.ceil((t.f - bounds[1]) / res)), grid.height)
    if c0 >= c1 or r0 >= r1:
        return None
    return Tile(r0, c0, r1 - r0, c1 - c0)


def _sample_pixels(
    grid: Grid, xs: np.ndarray, ys: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    row, col = grid.rowcol(xs, ys)
    ok = grid.contains_rowcol(row, col)
    return np.where(ok, row, 0), np.where(ok, col, 0), ok


def _line_samples(geom, step: float) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Per line part: sample x, y at the middles of equal pieces ≤ ``step`` m, and piece length."""
    parts = shapely.get_parts(geom) if geom.geom_type.startswith("Multi") else [geom]
    out = []
    for part in parts:
        length = part.length
        if length <= 0:
            continue
        n = max(1, int(math.ceil(length / step)))
        piece = length / n
        pts = shapely.line_interpolate_point(part, (np.arange(n) + 0.5) * piece)
        out.append((shapely.get_x(pts), shapely.get_y(pts), piece))
    return out


def _longest_run(flags: np.ndarray) -> int:
    """Longest run of True in a 1-D boolean array."""
    if flags.size == 0 or not flags.any():
        return 0
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    d = np.diff(padded)
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return int((ends - starts).max())


def evaluate_key_places(
    key_places: gpd.GeoDataFrame,
    grid: Grid,
    coverage: Mapping[str, CoverageResult],
    options: IndicatorsSection | None = None,
) -> gpd.GeoDataFrame:
    """Whether each key place is reached, per technology.

    Parameters
    ----------
    key_places
        Points, lines (roads) or polygons, any CRS with a CRS set (WGS84 from ingest).
    grid
        The grid of the coverage rasters.
    coverage
        ``{tech: CoverageResult}`` (``"5G"``, ``"4G"``).
    options
        ``[indicators]`` settings (shares and sub-pixel factor).

    Returns
    -------
    GeoDataFrame
        A copy of ``key_places`` (original geometry) with, per technology ``t`` present:
        ``reached_<t>`` (bool), ``covered_share_<t>`` (fraction of the point(s) / area / length
        covered; NaN when the place lies outside the grid); for 5G also ``rsrp_dbm`` (at a
        point, the median over the samples otherwise) and ``longest_gap_m`` (the longest
        uncovered stretch of a road, metres; NaN for points and areas). Without a 5G result
        the 5G columns are there with NA / NaN.

    Notes
    -----
    A point is reached when its pixel is covered; a multi-point, like an area, when the covered
    share ≥ ``key_place_area_share``. Areas are sampled at the sub-cell centres inside them
    (``subpixel`` per pixel edge; a place smaller than a sub-cell at its representative point);
    roads at the middles of equal pieces of at most ``resolution / subpixel`` metres, per part,
    so ``longest_gap_m`` is exact to that step and never runs across two parts.
    """
    opts = options or IndicatorsSection()
    s = int(opts.subpixel)
    out = key_places.copy()
    if key_places.crs is None:
        raise InputError("key places have no CRS; ingest should hand them over in WGS84")
    metric = key_places.geometry.to_crs(grid.crs)
    step = grid.resolution_m / s
    n = len(out)
    samples: list[tuple[np.ndarray, np.ndarray, np.ndarray, list[int], str]] = []
    # One set of sample pixels per place (rows, cols, weights, run boundaries, kind).
    for geom in metric.values:
        kind = "point"
        if geom is None or geom.is_empty:
            samples.append((np.zeros(0, int), np.zeros(0, int), np.zeros(0), [], "empty"))
            continue
        gt = geom.geom_type
        if gt in ("Point", "MultiPoint"):
            pts = shapely.get_parts(geom)
            xs, ys = shapely.get_x(pts), shapely.get_y(pts)
            w = np.ones(len(xs))
            runs = [len(xs)]
            kind = "point" if gt == "Point" else "points"
        elif gt in ("LineString", "MultiLineString", "LinearRing"):
            parts = _line_samples(geom, step)
            xs = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
            ys = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
            w = np.concatenate([np.full(len(p[0]), p[2]) for p in parts]) if parts else np.zeros(0)
            runs = [len(p[0]) for p in parts]
            kind = "line"
        elif gt in ("Polygon", "MultiPolygon"):
            kind = "area"
            win = _window(grid, geom.bounds)
            xs = ys = np.zeros(0)
            if win is not None:
                sub = rasterize_zones([geom], grid, s, tile=win)
                rr, cc = np.nonzero(sub == 0)
                res = grid.resolution_m
                xs = grid.transform.c + (win.col_off + (cc + 0.5) / s) * res
                ys = grid.transform.f - (win.row_off + (rr + 0.5) / s) * res
            if len(xs) == 0:  # smaller than a sub-cell: its representative point
                p = geom.representative_point()
                xs, ys = np.array([p.x]), np.array([p.y])
            w = np.ones(len(xs))
            runs = [len(xs)]
        else:
            p = geom.representative_point()
            xs, ys, w, runs = np.array([p.x]), np.array([p.y]), np.ones(1), [1]
        row, col, ok = _sample_pixels(grid, np.asarray(xs), np.asarray(ys))
        samples.append(
            (row[ok], col[ok], np.asarray(w)[ok], runs if ok.all() else [int(ok.sum())], kind)
        )
        if not ok.all():
            log.warning("key place partly or wholly outside the grid; the part outside is ignored")
    outside = 0
    for tech, cov in coverage.items():
        t = tech.lower()
        shares = np.full(n, np.nan)
        reached = np.zeros(n, dtype=bool)
        rsrp = np.full(n, np.nan)
        gaps = np.full(n, np.nan)
        covered = cov.covered
        for i, (row, col, w, runs, kind) in enumerate(samples):
            if row.size == 0:
                if kind != "empty" and t == "5g":
                    outside += 1
                continue
            cv = covered[row, col] != 0
            share = float((w * cv).sum() / w.sum())
            shares[i] = share
            if kind == "point":
                reached[i] = bool(cv[0])
            elif kind == "line":
                reached[i] = share >= opts.key_place_road_share - 1e-12
            else:
                reached[i] = share >= opts.key_place_area_share - 1e-12
            if t == "5g":
                vals = cov.rsrp_dbm[row, col]
                if np.isfinite(vals).any():
                    rsrp[i] = float(np.nanmedian(vals))
                if kind == "line":
                    longest, start = 0.0, 0
                    for nrun in runs:
                        seg = ~cv[start : start + nrun]
                        if seg.size:
                            longest = max(longest, _longest_run(seg) * float(w[start]))
                        start += nrun
                    gaps[i] = longest
        out[f"reached_{t}"] = reached
        out[f"covered_share_{t}"] = shares
        if t == "5g":
            out["rsrp_dbm"] = rsrp
            out["longest_gap_m"] = gaps
    if "5g" not in {t.lower() for t in coverage}:
        # No 5G raster: reach is unknown, not "not reached".
        out["reached_5g"] = pd.array([pd.NA] * n, dtype="boolean")
        out["covered_share_5g"] = np.nan
        out["rsrp_dbm"] = np.nan
        out["longest_gap_m"] = np.nan
    if outside:
        log.warning("%d key place(s) lie outside the grid: counted as not reached", outside)
    return out


# ------------------------------------------------------------------------------------------------
# Building the level tables
# ------------------------------------------------------------------------------------------------


def _base_table(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    cols = ["admin_code", "name", "name_en", "level", "parent_code"]
    t = units.reset_index(drop=True).copy()
    for c in cols:
        if c not in t.columns:
            t[c] = ""
    t["admin_code"] = t["admin_code"].astype(str)
    t["parent_code"] = t["parent_code"].fillna("").astype(str)
    return gpd.GeoDataFrame(t[cols + ["geometry"]], geometry="geometry", crs=units.crs)


def _sites(cells: pd.DataFrame | None, tech: str) -> pd.DataFrame:
    if cells is None or len(cells) == 0 or "site_id" not in cells.columns:
        return pd.DataFrame(columns=["site_id", "admin_code", "lon", "lat"])
    c = cells[cells["tech"].astype(str).str.upper() == tech]
    return c[["site_id", "admin_code", "lon", "lat"]].copy()


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


def compute_indicators(
    inputs: Inputs,
    grid: Grid,
    population: np.ndarray | None,
    coverage: Mapping[str, CoverageResult],
) -> IndicatorSet:
    """Indicators of every village, county, city and province in ``inputs``.

    Parameters
    ----------
    inputs
        Normalised inputs (WGS84); its scenario supplies the year and ``[indicators]``.
    grid
        The analysis grid (metric CRS) of ``population`` and the coverage rasters.
    population
        Persons per pixel on ``grid`` (float32), or None: population figures are then NaN and
        villages are judged by area.
    coverage
        ``{tech: CoverageResult}``; ``"5G"`` gives the ``_5g`` columns, ``"4G"`` the ``_4g``
        variants. A technology without a result has NaN coverage figures.

    Returns
    -------
    IndicatorSet
    """
    scn = inputs.scenario
    opts: IndicatorsSection = scn.indicators if scn is not None else IndicatorsSection()
    year = int(scn.year) if scn is not None else 0
    tile_size = scn.grid.tile_size if scn is not None else 256
    workers = scn.compute.workers if scn is not None else 0
    cov = {k.lower(): v for k, v in coverage.items()}
    for t, c in cov.items():
        if not c.grid.same_as(grid):
            raise InputError(f"{t.upper()} coverage raster is not on the analysis grid")
    techs = tuple(t for t in ("5g", "4g") if t in cov)
    masks = {t: cov[t].covered for t in techs}
    col_techs = ("5g",) + tuple(t for t in techs if t != "5g")
    if population is not None and tuple(population.shape) != grid.shape:
        raise InputError(
            f"population raster has shape {population.shape}, the grid is {grid.shape}"
        )

    b = inputs.boundaries
    level_of = b["level"].astype(str)
    counties = _base_table(b[level_of == "county"])
    villages = _base_table(b[level_of == "village"])
    cities = _base_table(b[level_of == "city"])
    provinces = _base_table(b[level_of == "province"])
    if len(counties) == 0:
        raise InputError("no county boundaries to compute indicators for")

    # Population from a boundary column: units whose value is missing have no population.
    pop_missing: dict[str, set[str]] = {}
    if inputs.population is None and "population" in b.columns and population is not None:
        vv = pd.to_numeric(b.loc[level_of == "village", "population"], errors="coerce")
        spread_level = "village" if len(vv) and vv.notna().any() else "county"
        vals = pd.to_numeric(b.loc[level_of == spread_level, "population"], errors="coerce")
        pop_missing[spread_level] = set(
            b.loc[level_of == spread_level, "admin_code"].astype(str)[vals.isna()]
        )

    # ---- raster figures of counties and villages ------------------------------------------
    def raster_figures(table: gpd.GeoDataFrame, level: str) -> None:
        z = zonal_sums(
            table.geometry,
            grid,
            population,
            masks,
            subpixel=int(opts.subpixel),
            tile_size=tile_size,
            workers=workers,
        )
        table["population"] = z.population
        table["area_km2"] = z.area_km2
        for t in col_techs:
            if t in masks:
                table[f"covered_population_{t}"] = z.covered_population[t]
                table[f"covered_area_km2_{t}"] = z.covered_area_km2[t]
            else:
                table[f"covered_population_{t}"] = np.nan
                table[f"covered_area_km2_{t}"] = np.nan
        miss = table["admin_code"].isin(pop_missing.get(level, set()))
        if miss.any():
            table.loc[miss, ["population"] + [f"covered_population_{t}" for t in col_techs]] = (
                np.nan
            )
        outside = (table["area_km2"] <= 0).sum()
        if outside:
            log.warning("%d %s unit(s) do not overlap the grid", int(outside), level)

    raster_figures(counties, "county")
    if len(villages):
        raster_figures(villages, "village")

    # ---- sites ---------------------------------------------------------------------------
    sites = _sites(inputs.cells, "5G")
    counties["sites_5g"] = (
        counties["admin_code"]
        .map(sites.groupby("admin_code")["site_id"].nunique())
        .fillna(0)
        .astype(np.int64)
    )
    if len(villages):
        villages["sites_5g"] = _count_in_polygons(villages, sites, distinct="site_id")

    # ---- key places ----------------------------------------------------------------------
    kp = None
    if inputs.key_places is not None and len(inputs.key_places):
        kp = evaluate_key_places(inputs.key_places, grid, cov, opts)
        kp_code = (
            kp["admin_code"].astype(str)
            if "admin_code" in kp.columns
            else pd.Series("", index=kp.index)
        )
        counties["key_places"] = (
            counties["admin_code"].map(kp_code.value_counts()).fillna(0).astype(np.float64)
        )
        if len(villages):
            villages["key_places"] = _count_in_polygons(villages, kp).astype(np.float64)
        for t in col_techs:
            col = f"key_places_reached_{t}"
            if t in cov:
                reached = kp[f"reached_{t}"].astype(bool)
                counties[col] = (
                    counties["admin_code"]
                    .map(kp_code[reached].value_counts())
                    .fillna(0)
                    .astype(np.float64)
                )
                if len(villages):
                    villages[col] = _count_in_polygons(villages, kp[reached.to_numpy()]).astype(
                        np.float64
                    )
            else:
                counties[col] = np.nan
                if len(villages):
                    villages[col] = np.nan
    else:
        for tbl in (counties, villages):
            tbl["key_places"] = np.nan
            for t in col_techs:
                tbl[f"key_places_reached_{t}"] = np.nan

    # ---- villages reached -------------------------------------------------------------------
    if len(villages):
        villages["villages"] = 1.0
        vcounty = villages["admin_code"].str[:6]
        counties["villages"] = (
            counties["admin_code"].map(vcounty.value_counts()).fillna(0).astype(np.float64)
        )
        for t in col_techs:
            col = f"villages_reached_{t}"
            if t not in cov:
                villages[col] = np.nan
                counties[col] = np.nan
                continue
            pop_share = _div(villages[f"covered_population_{t}"], villages["population"])
            area_share = _div(villages[f"covered_area_km2_{t}"], villages["area_km2"])
            share = np.where(np.isfinite(pop_share), pop_share, area_share)
            share = np.where(np.isfinite(share), share, 0.0)  # off-grid village: not reached
            villages[col] = (share >= opts.village_reached_pop_share - 1e-12).astype(np.float64)
            counties[col] = (
                counties["admin_code"].map(villages.groupby(vcounty)[col].sum()).fillna(0.0)
            )
    else:
        for tbl in (counties,):
            tbl["villages"] = np.nan
            for t in col_techs:
                tbl[f"villages_reached_{t}"] = np.nan

    # ---- statistics --------------------------------------------------------------------------
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
    no_stats = counties.loc[counties["stats_source"] == "none", "admin_code"].tolist()
    if no_stats and (len(vrows) or len(crows)):
        log.warning("no broadband statistics for %s for county(ies) %s", year, ", ".join(no_stats))

    # ---- roll-up to cities and the province --------------------------------------------------
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
            if has.any() and missing:
                log.info(
                    "%s %s: statistics of %d of its %d counties are missing; its figures sum the others",
                    level,
                    code,
                    missing,
                    len(ch),
                )
            rows.append(rec)
        extra = pd.DataFrame(rows)
        for c in extra.columns:
            table[c] = extra[c].to_numpy()
        _label_partial(table, scn.scenario.region if scn is not None else "")
        _label_partial_villages(table)
        upper[level] = table

    # ---- assemble --------------------------------------------------------------------------
    units: dict[str, gpd.GeoDataFrame] = {}
    defs = indicator_definitions(col_techs)
    for level, table in (
        ("province", upper.get("province")),
        ("city", upper.get("city")),
        ("county", counties),
        ("village", villages if len(villages) else None),
    ):
        if table is None or len(table) == 0:
            continue
        table = add_ratios(table, col_techs)
        units[level] = _order_columns(table, col_techs, defs)
    return IndicatorSet(
        units=units,
        key_places=kp,
        definitions=defs,
        year=year,
        technologies=techs,
    )


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


def _province_of(row, codes: set[str]) -> str | None:
    guess = row["admin_code"][:2].ljust(6, "0")
    if guess in codes:
        return guess
    return row["parent_code"] if row["parent_code"] in codes else None


def _count_in_polygons(
    polys: gpd.GeoDataFrame, things: pd.DataFrame, distinct: str = ""
) -> np.ndarray:
    """Number of ``things`` (points with lon/lat, or a GeoDataFrame) inside each polygon."""
    if len(things) == 0:
        return np.zeros(len(polys), dtype=np.int64)
    if isinstance(things, gpd.GeoDataFrame):
        pts = things.geometry.representative_point().to_crs(polys.crs)
        g = gpd.GeoDataFrame(
            things.drop(columns=things.geometry.name), geometry=pts.values, crs=polys.crs
        )
    else:
        g = gpd.GeoDataFrame(
            things, geometry=gpd.points_from_xy(things["lon"], things["lat"]), crs="EPSG:4326"
        ).to_crs(polys.crs)
    left = gpd.GeoDataFrame(
        {"_i": np.arange(len(polys))}, geometry=polys.geometry.values, crs=polys.crs
    )
    j = gpd.sjoin(g, left, how="inner", predicate="within")
    if distinct:
        counts = j.groupby("_i")[distinct].nunique()
    else:
        counts = j.groupby("_i").size()
    return counts.reindex(np.arange(len(polys))).fillna(0).astype(np.int64).to_numpy()


def _order_columns(
    table: gpd.GeoDataFrame, techs: tuple[str, ...], defs: list[IndicatorDef]
) -> gpd.GeoDataFrame:
    first = list(BASE_COLUMNS)
    for t in techs:
        if t != "5g":
            first += [f"covered_population_{t}", f"covered_area_km2_{t}"]
    counts = ["key_places"] + [f"key_places_reached_{t}" for t in techs]
    counts += ["villages"] + [f"villages_reached_{t}" for t in techs]
    stats = list(STAT_FIELDS) + ["stats_source", "stats_missing_units"]
    keys = [d.key for d in defs]
    order = [c for c in first + counts + stats + keys if c in table.columns]
    rest = [c for c in table.columns if c not in order and c != "geometry"]
    return gpd.GeoDataFrame(table[order + rest + ["geometry"]], geometry="geometry", crs=table.crs)


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------


def write_indicators_gpkg(ind: IndicatorSet, path: Path) -> None:
    """Write ``indicators.gpkg``: one layer per level present and ``key_places`` (WGS84).

    Columns as docs/design.md; ratios are fractions 0–1, NaN (GeoPackage NULL) = no data. An
    existing file at ``path`` is replaced, atomically.
    """
    layers = [(lv, ind.units[lv]) for lv in ind.levels]
    if ind.key_places is not None and len(ind.key_places):
        layers.append(("key_places", ind.key_places))
    if not layers:
        raise InputError("no indicator tables to write")
    write_gpkg_layers(path, layers)
