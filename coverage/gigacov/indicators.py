"""Indicators per village, county, city and province (docs/design.md §2, §8).

:func:`compute_indicators` turns the coverage rasters, the population grid, the cell list, the key
places and the broadband statistics into one table per administrative level
(:class:`IndicatorSet`). Ratios are fractions 0–1; NaN means *no data* (never 0).

Where each figure comes from
----------------------------
This module holds the computation per level; whether each key place is reached is decided in
:mod:`gigacov.key_place_reach`, and the statistics rows and the roll-up to cities and the province
in :mod:`gigacov.indicator_rollup`.

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
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

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
from .grid import Grid
from .indicator_rollup import county_statistics, roll_up
from .key_place_reach import evaluate_key_places
from .population_gaps import population_gaps
from .rundir import write_gpkg_layers
from .scenario import IndicatorsSection
from .serving import transmitters
from .zonal import zonal_sums

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
    """The cells of one technology as physical transmitters: a cell of a declared shared
    network that two sharing operators both list is one cell, so a shared site they both report
    counts once in ``sites_5g`` (:func:`gigacov.serving.transmitters`)."""
    if cells is None or len(cells) == 0 or "site_id" not in cells.columns:
        return pd.DataFrame(columns=["site_id", "admin_code", "lon", "lat"])
    c = transmitters(cells[cells["tech"].astype(str).str.upper() == tech])
    return c[["site_id", "admin_code", "lon", "lat"]].copy()


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

    # Units mostly in the population raster's nodata are named (their population counts the
    # pixels with data only).
    if inputs.population is not None and population is not None:
        population_gaps(inputs.population, counties, "county")
        if len(villages):
            population_gaps(inputs.population, villages, "village")

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
    if pop_missing:
        _exact_column_population(counties, villages, b, level_of, col_techs)

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
    county_statistics(counties, villages, inputs, year)

    # ---- roll-up to cities and the province --------------------------------------------------
    region = scn.scenario.region if scn is not None else ""
    upper = roll_up(counties, cities, provinces, sites, col_techs, region)

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


#: Below this share of its area covered by villages that carry ``[population] column``, a
#: county's population is no data (not the sum of a part of it).
MIN_VILLAGE_AREA_SHARE = 0.9


def _exact_column_population(
    counties: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    b: gpd.GeoDataFrame,
    level_of: pd.Series,
    col_techs: tuple[str, ...],
) -> None:
    """Population from ``[population] column``: the units' own figures, not the grid's.

    The column's values are spread over the grid only to find out *which* of a unit's people
    are covered. Read back from the grid, a unit's total loses or gains the people of pixels it
    shares with its neighbours (a few per cent at 500 m). So each unit that has a value gets it
    exactly, with its covered population scaled by the same factor (its covered share is the
    grid's), and a county whose villages carry the column gets the exact sum of its villages,
    covered population included, so that villages add up to their county.
    """
    vv = pd.to_numeric(b.loc[level_of == "village", "population"], errors="coerce")
    by_village = pd.Series(
        vv.to_numpy(), index=b.loc[level_of == "village", "admin_code"].astype(str).to_numpy()
    )
    cols = [f"covered_population_{t}" for t in col_techs]

    def rescale(table: gpd.GeoDataFrame, exact: np.ndarray) -> None:
        grid_pop = table["population"].to_numpy(dtype=np.float64)
        ok = np.isfinite(exact)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(grid_pop > 0, exact / grid_pop, 0.0)
        for c in cols:
            cov = table[c].to_numpy(dtype=np.float64)
            table[c] = np.where(ok, cov * scale, cov)
        table["population"] = np.where(ok, exact, grid_pop)

    if len(villages) and by_village.notna().any():
        rescale(villages, villages["admin_code"].astype(str).map(by_village).to_numpy(float))
        county_of = villages["admin_code"].astype(str).str[:6]
        has = villages["population"].notna()
        sums = (
            villages[has]
            .groupby(county_of[has])[["population", "area_km2", *cols]]
            .sum(min_count=1)
        )
        code = counties["admin_code"].astype(str)
        inside = code.isin(sums.index).to_numpy()
        # A county's population is its villages' sum only where they cover it: a county with
        # no village (or villages on a small part of it) has no population figure, rather
        # than the people of its neighbours' edge pixels or half of its own.
        share = np.zeros(len(counties))
        area = counties["area_km2"].to_numpy(dtype=np.float64)
        share[inside] = sums.loc[code[inside], "area_km2"].to_numpy(dtype=np.float64) / np.where(
            area[inside] > 0, area[inside], np.nan
        )
        covered = inside & (share >= MIN_VILLAGE_AREA_SHARE)
        for c in ["population", *cols]:
            vals = np.full(len(counties), np.nan)
            vals[covered] = sums.loc[code[covered], c].to_numpy(dtype=np.float64)
            counties[c] = vals
        thin = inside & ~covered
        if thin.any():
            log.warning(
                "county %s: its villages with a population cover only %s of its area; its "
                "population (and every figure per person) is no data rather than their sum",
                ", ".join(code[thin]),
                ", ".join(f"{s:.0%}" for s in share[thin]),
            )
        none = ~inside
        if none.any():
            log.warning(
                "county %s: no village with a population ([population] column); its population "
                "is no data",
                ", ".join(code[none]),
            )
        return
    cv = pd.to_numeric(b.loc[level_of == "county", "population"], errors="coerce")
    by_county = pd.Series(
        cv.to_numpy(), index=b.loc[level_of == "county", "admin_code"].astype(str).to_numpy()
    )
    rescale(counties, counties["admin_code"].astype(str).map(by_county).to_numpy(float))


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
