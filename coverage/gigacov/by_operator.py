"""Coverage per operator: each operator's own 5G coverage, indicators and who lags where.

The region-wide result (best server over every network) is what the standards judge. Besides it,
the pipeline computes each operator's own coverage (:func:`compute_operator_coverage`): RSRP,
SINR and covered from the cells that serve that operator's users only (its own cells and the
cells of a network it shares), with interference from those cells. :func:`operator_indicators`
turns them into one table per level, one row per unit × operator — the ``<level>_operator``
layers of ``indicators.gpkg`` — with the raster indicators of that operator:
``pop_coverage_5g``, ``area_coverage_5g``, ``village_reach_5g``, ``key_place_reach_5g`` and
``sites_5g_per_10k`` (from the sites the operator itself lists). Counts and areas are summed
from villages and counties upwards exactly as for the region-wide tables.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .operators import (
    OPERATOR_ZH,
    OPERATORS,
    cells_serving,
    operator_label,
    operator_sites,
    operator_slug,
    operators_present,
    serving_mask,
)
from .rundir import gpkg_safe

if TYPE_CHECKING:  # pragma: no cover
    from .grid import Grid
    from .indicators import IndicatorSet
    from .radio.result import CoverageResult
    from .run_result import RunResult

__all__ = [
    "OPERATOR_INDICATORS",
    "OPERATOR_COLUMNS",
    "compute_operator_coverage",
    "operator_indicators",
    "operator_layer_name",
    "lagging_operators",
    "write_operator_layers",
    "operator_view",
]

log = logging.getLogger(__name__)

#: The indicators computed per operator (all raster indicators of the 5G network).
OPERATOR_INDICATORS: tuple[str, ...] = (
    "pop_coverage_5g",
    "area_coverage_5g",
    "village_reach_5g",
    "key_place_reach_5g",
    "sites_5g_per_10k",
)
_SUMS: tuple[str, ...] = (
    "population",
    "covered_population_5g",
    "area_km2",
    "covered_area_km2_5g",
    "villages",
    "villages_reached_5g",
    "key_places",
    "key_places_reached_5g",
    "sites_5g",
)
#: Columns of a ``<level>_operator`` table (before the geometry).
OPERATOR_COLUMNS: tuple[str, ...] = (
    "admin_code",
    "name",
    "level",
    "operator",
    "operator_zh",
    *_SUMS,
    *OPERATOR_INDICATORS,
)


def operator_layer_name(level: str) -> str:
    """``county`` → ``county_operator`` (the GeoPackage layer)."""
    return f"{level}_operator"


def compute_operator_coverage(
    cells: pd.DataFrame, grid: Grid, params: Any, **engine_kwargs: Any
) -> tuple[dict[str, CoverageResult], dict[str, float]]:
    """Each known operator's own 5G coverage: ``({operator: CoverageResult}, timings)``.

    ``cells`` are the transmitters of the region-wide run (shared twins already merged); an
    operator's run takes the cells that serve it. Work is proportional to the cells × footprint
    of each run, so all runs together cost about what the region-wide run costs, plus the shared
    cells once more for each further operator they serve; operators whose cells are the same
    (a shared network and nothing else) share one run. ``engine_kwargs`` go to
    :func:`gigacov.radio.compute_coverage` (population, clutter, dem, backend, …).
    """
    from .radio import compute_coverage

    out: dict[str, CoverageResult] = {}
    timings: dict[str, float] = {}
    done: dict[bytes, str] = {}
    for op in operators_present(cells, tech=None):
        mask = serving_mask(cells, op)
        own = cells[mask].reset_index(drop=True)
        key = np.packbits(mask).tobytes()
        if key in done:
            # operators of one shared network with no cells of their own: the same run
            out[op] = out[done[key]]
            timings[op] = 0.0
            log.info("%s: the same cells as %s", operator_label(op), operator_label(done[key]))
            continue
        t0 = time.perf_counter()
        out[op] = compute_coverage(own, grid, params, **engine_kwargs)
        timings[op] = round(time.perf_counter() - t0, 3)
        done[key] = op
        log.info("%s: %d cells, %.1f s", operator_label(op), len(own), timings[op])
    return out, timings


def operator_indicators(
    inputs: Any,
    grid: Grid,
    population: np.ndarray | None,
    coverage: Mapping[str, CoverageResult],
    indicators: IndicatorSet,
) -> dict[str, gpd.GeoDataFrame]:
    """One table per level (``{level: GeoDataFrame}``), one row per unit × operator.

    Parameters
    ----------
    inputs
        The run's :class:`~gigacov.ingest.Inputs` (cells with ``operator``, key places, scenario).
    grid, population
        The analysis grid and persons per pixel (as for the region-wide indicators).
    coverage
        ``{operator: CoverageResult}`` from :func:`compute_operator_coverage`.
    indicators
        The region-wide :class:`~gigacov.indicators.IndicatorSet` (units, population, areas,
        villages and key places per unit are taken from it).
    """
    from .indicators import _count_in_polygons, evaluate_key_places
    from .scenario import IndicatorsSection
    from .zonal import zonal_sums

    ops = [o for o in OPERATORS if o in coverage] + [o for o in coverage if o not in OPERATORS]
    if not ops:
        return {}
    scn = inputs.scenario
    opts = scn.indicators if scn is not None else IndicatorsSection()
    tile_size = scn.grid.tile_size if scn is not None else 256
    workers = scn.compute.workers if scn is not None else 0
    slug = {op: operator_slug(op) for op in ops}
    masks = {slug[op]: coverage[op].covered for op in ops}
    units = indicators.units
    counties = units["county"].reset_index(drop=True)
    villages = units.get("village")
    villages = villages.reset_index(drop=True) if villages is not None else None

    def zonal(table: gpd.GeoDataFrame):
        return zonal_sums(
            table.geometry,
            grid,
            population,
            masks,
            subpixel=int(opts.subpixel),
            tile_size=tile_size,
            workers=workers,
        )

    cz = zonal(counties)
    vz = zonal(villages) if villages is not None and len(villages) else None

    kp = None
    if indicators.key_places is not None and len(indicators.key_places):
        kp = evaluate_key_places(
            indicators.key_places, grid, {slug[op]: coverage[op] for op in ops}, opts
        )
    cells = inputs.cells
    five = cells[cells["tech"].astype(str).str.upper() == "5G"] if len(cells) else cells

    per_level: dict[str, list[pd.DataFrame]] = {"county": [], "village": []}
    for op in ops:
        s = slug[op]
        sites = operator_sites(five, op)[["site_id", "admin_code", "lon", "lat"]]
        c = _frame(counties, "county", op)
        c["covered_population_5g"] = cz.covered_population[s]
        c["covered_area_km2_5g"] = cz.covered_area_km2[s]
        c["sites_5g"] = (
            c["admin_code"].map(sites.groupby("admin_code")["site_id"].nunique()).fillna(0)
        ).astype(np.float64)
        if vz is not None:
            v = _frame(villages, "village", op)
            v["covered_population_5g"] = vz.covered_population[s]
            v["covered_area_km2_5g"] = vz.covered_area_km2[s]
            pop_share = _ratio(v["covered_population_5g"], v["population"])
            area_share = _ratio(v["covered_area_km2_5g"], v["area_km2"])
            share = np.where(np.isfinite(pop_share), pop_share, area_share)
            share = np.where(np.isfinite(share), share, 0.0)
            v["villages_reached_5g"] = (share >= opts.village_reached_pop_share - 1e-12).astype(
                np.float64
            )
            v["sites_5g"] = _count_in_polygons(villages, sites, distinct="site_id").astype(
                np.float64
            )
            vcounty = v["admin_code"].str[:6]
            c["villages_reached_5g"] = (
                c["admin_code"].map(v.groupby(vcounty)["villages_reached_5g"].sum()).fillna(0.0)
            )
        else:
            c["villages_reached_5g"] = np.nan
            v = None
        if kp is not None:
            reached = kp[f"reached_{s}"].astype(bool).to_numpy()
            code = kp["admin_code"].astype(str) if "admin_code" in kp.columns else None
            if code is not None:
                c["key_places_reached_5g"] = (
                    c["admin_code"].map(code[reached].value_counts()).fillna(0).astype(np.float64)
                )
            if v is not None:
                v["key_places_reached_5g"] = _count_in_polygons(villages, kp[reached]).astype(
                    np.float64
                )
        else:
            c["key_places_reached_5g"] = np.nan
            if v is not None:
                v["key_places_reached_5g"] = np.nan
        per_level["county"].append(c)
        if v is not None:
            per_level["village"].append(v)

    out: dict[str, gpd.GeoDataFrame] = {}
    county_all = pd.concat(per_level["county"], ignore_index=True)
    for level in ("province", "city"):
        table = units.get(level)
        if table is None or len(table) == 0:
            continue
        rows = []
        for _, unit in table.iterrows():
            members = _members(unit, counties, level)
            for op in ops:
                part = county_all[
                    (county_all["operator"] == op) & county_all["admin_code"].isin(members)
                ]
                rec = {k: unit[k] for k in ("admin_code", "name", "level")}
                rec.update(operator=op, operator_zh=OPERATOR_ZH.get(op, op))
                for k in _SUMS:
                    vals = pd.to_numeric(part[k], errors="coerce")
                    rec[k] = float(vals.sum(min_count=1)) if len(part) else np.nan
                rec["geometry"] = unit.geometry
                rows.append(rec)
        out[level] = _finish(pd.DataFrame(rows), table.crs)
    out["county"] = _finish(county_all, counties.crs)
    if per_level["village"]:
        out["village"] = _finish(pd.concat(per_level["village"], ignore_index=True), villages.crs)
    return {lv: out[lv] for lv in ("province", "city", "county", "village") if lv in out}


def _frame(units: gpd.GeoDataFrame, level: str, op: str) -> pd.DataFrame:
    t = pd.DataFrame(
        {
            "admin_code": units["admin_code"].astype(str).to_numpy(),
            "name": units["name"].astype(str).to_numpy(),
            "level": level,
            "operator": op,
            "operator_zh": OPERATOR_ZH.get(op, op),
        }
    )
    for k in ("population", "area_km2", "villages", "key_places"):
        t[k] = (
            pd.to_numeric(units[k], errors="coerce").to_numpy(dtype=np.float64)
            if k in units.columns
            else np.nan
        )
    if level == "village":
        t["villages"] = 1.0
    t["geometry"] = units.geometry.to_numpy()
    return t


def _members(unit: pd.Series, counties: gpd.GeoDataFrame, level: str) -> set[str]:
    codes = counties["admin_code"].astype(str)
    code = str(unit["admin_code"])
    parent = counties["parent_code"].astype(str) if "parent_code" in counties.columns else None
    if level == "province":
        mask = codes.str[:2] == code[:2]
    else:
        mask = codes.str[:4] == code[:4]
        if parent is not None:
            mask |= parent == code
    return set(codes[mask.to_numpy()])


def _ratio(num: pd.Series, den: pd.Series) -> np.ndarray:
    n = pd.to_numeric(num, errors="coerce").to_numpy(dtype=np.float64)
    d = pd.to_numeric(den, errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = n / d
    return np.where(np.isfinite(d) & (d > 0), r, np.nan)


def _finish(table: pd.DataFrame, crs) -> gpd.GeoDataFrame:
    from .indicators import add_ratios

    table = add_ratios(table.copy(), ("5g",))
    for k in OPERATOR_INDICATORS:
        if k not in table.columns:
            table[k] = np.nan
    cols = [c for c in OPERATOR_COLUMNS if c in table.columns]
    return gpd.GeoDataFrame(table[cols + ["geometry"]], geometry="geometry", crs=crs)


def lagging_operators(
    county_table: pd.DataFrame, standards: list[Any], level: str = "county"
) -> pd.DataFrame:
    """Per unit, each operator's coverage indicators against the standards' coverage thresholds,
    and the operator furthest from them.

    For every unit and operator the *gap* is the largest relative shortfall over the coverage
    indicators (``pop_coverage_5g``, ``area_coverage_5g``, ``village_reach_5g``,
    ``key_place_reach_5g``) that the standards set for ``level``: ``(threshold − value) /
    threshold`` where the value falls short, else 0. The operator(s) with the largest gap lag
    (operators sharing one network often tie: all are listed); no gap at all leaves ``lagging``
    empty. Returns one row per unit with ``admin_code, name, <operator>:<indicator> …, lagging``
    (a list), ``lagging_gap``, ``lagging_indicator``, ``lagging_value``, ``lagging_threshold``.
    """
    thresholds: dict[str, tuple[str, float]] = {}
    for std in standards:
        for ind in std.indicators:
            if ind.key in OPERATOR_INDICATORS[:4] and level in ind.levels and ind.op in (">=", ">"):
                old = thresholds.get(ind.key)
                if old is None or float(ind.threshold) > old[1]:
                    thresholds[ind.key] = (f"{std.id}", float(ind.threshold))
    rows = []
    for code, part in county_table.groupby("admin_code", sort=False):
        rec: dict[str, Any] = {"admin_code": code, "name": part["name"].iloc[0]}
        gaps: dict[str, tuple[float, str, float]] = {}
        for _, r in part.iterrows():
            op = r["operator"]
            worst = (0.0, "", np.nan)
            for key, (_std, thr) in thresholds.items():
                val = float(r.get(key, np.nan))
                if np.isfinite(val) and thr > 0 and val < thr:
                    g = (thr - val) / thr
                    if g > worst[0] + 1e-12:
                        worst = (g, key, val)
            for key in OPERATOR_INDICATORS:
                rec[f"{op}:{key}"] = r.get(key, np.nan)
            gaps[op] = worst
        best = max(gaps.values(), key=lambda g: g[0]) if gaps else (0.0, "", np.nan)
        if best[0] > 0:
            leaders = [op for op, g in gaps.items() if abs(g[0] - best[0]) <= 1e-9]
            rec.update(
                lagging=leaders,
                lagging_gap=best[0],
                lagging_indicator=best[1],
                lagging_value=best[2],
                lagging_threshold=thresholds[best[1]][1],
            )
        else:
            rec.update(
                lagging=[],
                lagging_gap=0.0,
                lagging_indicator="",
                lagging_value=np.nan,
                lagging_threshold=np.nan,
            )
        rows.append(rec)
    out = pd.DataFrame(rows)
    out.attrs["thresholds"] = thresholds
    return out


def write_operator_layers(tables: Mapping[str, gpd.GeoDataFrame], path) -> None:
    """Add the ``<level>_operator`` layers to an existing GeoPackage (WGS84)."""
    import pyogrio

    for level, gdf in tables.items():
        if gdf is None or len(gdf) == 0:
            continue
        g = gdf.to_crs(4326) if gdf.crs is not None and not gdf.crs.equals("EPSG:4326") else gdf
        pyogrio.write_dataframe(
            gpkg_safe(g), path, layer=operator_layer_name(level), driver="GPKG", append=False
        )


def operator_view(run: RunResult, operator: str) -> RunResult:
    """The run as one operator sees it, for planning (``gigacov plan --operator``).

    A shallow copy of ``run`` whose 5G coverage is the operator's own, whose cells are the
    operator's own (so ``sites_5g`` counts its sites), and whose indicators and compliance are
    recomputed from them; its scenario's ``[planning]`` puts new sites on the operator's main 5G
    carrier (centre and width from the carrier table). The region-wide results of ``run`` are
    not changed.
    """
    import dataclasses

    from .compliance import evaluate
    from .errors import ConfigError
    from .indicators import compute_indicators
    from .operators import parse_operator
    from .radio import RadioParams

    op = parse_operator(operator, "[planning] operator")
    cov = (getattr(run, "coverage_by_operator", None) or {}).get(op)
    region = run.coverage.get("5G")
    if cov is None:
        if region is None:
            raise ConfigError(f"planning for {operator_label(op)} needs the 5G coverage")
        if operators_present(region.cells, tech=None).count(op) == 0:
            raise ConfigError(
                f"[planning] operator: {operator_label(op)} has no 5G cells in this scenario "
                f"(operators present: "
                f"{', '.join(operator_label(o) for o in operators_present(region.cells, None))})"
            )
        scn = run.scenario
        by_op, _ = compute_operator_coverage(
            cells_serving(region.cells, op),
            run.grid,
            RadioParams.from_section(scn.radio, "5G"),
            population=run.population,
            clutter=run.inputs.clutter,
            dem=run.inputs.dem,
            workers=scn.compute.workers,
            tile_size=scn.grid.tile_size,
            progress=scn.compute.progress,
            memory_budget_mb=scn.compute.memory_budget_mb,
        )
        cov = by_op[op]
    own = run.inputs.cells
    own = own[own["operator"] == op].reset_index(drop=True)
    inputs = dataclasses.replace(run.inputs, cells=own)
    coverage = {**run.coverage, "5G": cov}
    indicators = compute_indicators(inputs, run.grid, run.population, coverage)
    compliance = evaluate(indicators, run.standards)
    scn = run.scenario
    table = getattr(run.inputs, "carrier_table", None)
    carrier = table.main(op, "5G") if table is not None else None
    planning: dict[str, Any] = {"operator": op}
    if carrier is not None:
        width = carrier.width_mhz
        planning["freq_mhz"] = carrier.centre_mhz
        planning["bandwidth_mhz"] = min(width, 100.0)
        if width <= 50.0:
            planning["scs_khz"] = 15.0  # low-band NR (n28) runs at 15 kHz
    return dataclasses.replace(
        run,
        scenario=scn.replace(planning=planning),
        inputs=inputs,
        coverage=coverage,
        indicators=indicators,
        compliance=compliance,
    )
