"""The planning stage: weak-coverage areas of a run and recommended new sites per failing county.

:func:`plan` reads what the pipeline computed (5G coverage, population, indicators, compliance),
labels the weak-coverage areas (:mod:`.gaps`), and for every county that fails a
coverage-related indicator places sites greedily (:mod:`.greedy`, whose docstring states the
objective) on candidate locations (:mod:`.candidates`), measuring each candidate with the radio
engine's own propagation model (``gigacov.radio.cell_footprints``). With ``[planning] verify`` the
plan is then checked by re-running the coverage engine and the indicators with the new sites
appended to the cells — which accounts for the interference the new sites cause — and sites are
added where a target is still missed.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ConfigError, RunError
from ..grid import Grid, Tile
from ..ingest.bands import n_rb_for
from ._kernels import site_footprint_pixels
from .candidates import candidate_cells, grid_candidates, read_candidates
from .defaults import FALLBACK, new_site_radio, section_for
from .gaps import find_gaps
from .greedy import (
    COVERAGE_KEYS,
    CountyTargets,
    Footprints,
    NetworkState,
    Target,
    compare_op,
    greedy_county,
)
from .objects import build_objects

__all__ = [
    "PlanResult",
    "CountyPlan",
    "RECOMMENDED_COLUMNS",
    "plan",
    "OBJECTIVE",
    "ASSUMPTIONS",
]

log = logging.getLogger(__name__)

#: Per-cell footprint function: cells (CELL_COLUMNS) → [(Tile | None, RSRP dBm window)] in order.
FootprintFn = Callable[[pd.DataFrame], Sequence[tuple[Tile | None, np.ndarray]]]

OBJECTIVE = (
    "Greedy placement per failing county. Coverage phase: a candidate's gain is the share of each "
    "failing indicator's initial shortfall it closes (newly covered persons for pop_coverage_5g; key "
    "places / villages brought to 'reached', with partial credit towards the reach rule, for "
    "key_place_reach_5g / village_reach_5g), summed; ties go to more newly covered persons. Density "
    "phase (sites_5g_per_10k still failing): gain = persons the site would serve with a better signal "
    "than the network does. Lazy (CELF) evaluation; a site with zero gain is never picked."
)
ASSUMPTIONS = (
    "A candidate covers a pixel when its RSRP reaches [radio] rsrp_threshold_dbm and its SINR against "
    "the interference and noise already present (from the 5G coverage result) reaches "
    "sinr_threshold_db; interference between new sites and from new sites onto existing cells is "
    "ignored during the greedy search and accounted for by the verification run of the coverage "
    "engine ([planning] verify)."
)

#: Full-grid bytes per pixel that planning holds at once (checked against
#: ``[compute] memory_budget_mb``).
PLANNING_BYTES_PER_PIXEL = 40

#: Columns of ``PlanResult.recommended`` (plus ``geometry``, WGS84 points).
RECOMMENDED_COLUMNS = [
    "site_id",
    "county",
    "county_name",
    "rank",
    "purpose",
    "added_population",
    "added_key_places",
    "added_villages",
    "served_population",
    "pop_coverage_5g_after",
    "sites_5g_per_10k_after",
    "key_place_reach_5g_after",
    "village_reach_5g_after",
    "lon",
    "lat",
    "candidate_id",
    "candidate_source",
    "height_m",
    "sectors",
    "azimuths_deg",
    "beamwidth_deg",
    "tilt_deg",
    "freq_mhz",
    "bandwidth_mhz",
    "scs_khz",
    "eirp_dbm",
    "verification_round",
]


# ------------------------------------------------------------------------------------------------
# Result types
# ------------------------------------------------------------------------------------------------


@dataclass
class CountyPlan:
    """What planning did for one county (one entry of ``PlanResult.summary()['counties']``)."""

    admin_code: str
    name: str
    targets: dict[str, Target]
    indicators_before: dict[str, float]
    indicators_after: dict[str, float]
    status_before: str
    status_after: str
    counts_before: dict[str, float] = field(default_factory=dict)
    """``covered_population``, ``sites``, ``key_places_reached``, ``villages_reached``."""
    counts_after: dict[str, float] = field(default_factory=dict)
    sites_added: int = 0
    coverage_sites: int = 0
    density_sites: int = 0
    candidates: int = 0
    evaluations: int = 0
    stop_reason: str = ""
    stop_message: str = ""
    verified: bool | None = None
    """True/False after a verification run of the coverage engine, None when not verified."""

    def _gain(self, key: str) -> float:
        a, b = self.counts_after.get(key, math.nan), self.counts_before.get(key, math.nan)
        return 0.0 if math.isnan(a) or math.isnan(b) else float(a - b)

    @property
    def people_covered(self) -> float:
        """Persons of the county newly covered (verified figures when verified)."""
        return self._gain("covered_population")

    @property
    def key_places_reached(self) -> int:
        return int(round(self._gain("key_places_reached")))

    @property
    def villages_reached(self) -> int:
        return int(round(self._gain("villages_reached")))

    def to_dict(self) -> dict[str, Any]:
        indicators = {}
        for key in COVERAGE_KEYS:
            t = self.targets.get(key)
            before = self.indicators_before.get(key)
            after = self.indicators_after.get(key)
            indicators[key] = {
                "before": _json_num(before),
                "after": _json_num(after),
                "targeted": t is not None,
                "op": t.op if t else None,
                "threshold": t.threshold if t else None,
                "standards": list(t.standards) if t else [],
                "status_before": _status(before, t),
                "status_after": _status(after, t),
            }
        return {
            "admin_code": self.admin_code,
            "name": self.name,
            "status_before": self.status_before,
            "status_after": self.status_after,
            "sites_added": int(self.sites_added),
            "coverage_sites": int(self.coverage_sites),
            "density_sites": int(self.density_sites),
            "people_covered": round(float(self.people_covered), 1),
            "key_places_reached": int(self.key_places_reached),
            "villages_reached": int(self.villages_reached),
            "candidates": int(self.candidates),
            "gain_evaluations": int(self.evaluations),
            "stop_reason": self.stop_reason,
            "stop_message": self.stop_message,
            "verified": self.verified,
            "indicators": indicators,
        }


def _status(value: float | None, t: Target | None) -> str | None:
    if t is None:
        return None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no_data"
    return "pass" if compare_op(value, t.op, t.threshold) else "fail"


def _json_num(v: Any) -> Any:
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) or math.isinf(v) else v


@dataclass
class PlanResult:
    """Weak-coverage areas and recommended sites of one run.

    Attributes
    ----------
    gaps
        GeoDataFrame (EPSG:4326) of weak-coverage polygons, :data:`gigacov.planning.gaps.GAP_COLUMNS`;
        rank 1 = most people.
    recommended
        GeoDataFrame (EPSG:4326 points) of recommended sites, :data:`RECOMMENDED_COLUMNS`;
        ``rank`` is the order of choice within the county.
    counties
        One :class:`CountyPlan` per county planned.
    new_cells
        The recommended sites as cells (:data:`gigacov.ingest.model.CELL_COLUMNS`), ready to be
        appended to the run's cells for a what-if coverage run.
    settings
        The ``[planning]`` settings used.
    timings
        Seconds per step and counts.
    """

    gaps: gpd.GeoDataFrame
    recommended: gpd.GeoDataFrame
    counties: list[CountyPlan] = field(default_factory=list)
    new_cells: pd.DataFrame | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    scenario_name: str = ""
    synthetic: bool = False

    def summary(self) -> dict[str, Any]:
        """JSON-able summary: totals, gaps, and per county the status before/after, the sites
        added, people / key places / villages reached and the indicators before → after."""
        gaps = self.gaps
        top = gaps.head(10)
        return {
            "scenario": self.scenario_name,
            "synthetic": self.synthetic,
            "objective": OBJECTIVE,
            "assumptions": ASSUMPTIONS,
            "settings": {
                k: (v if not isinstance(v, float) else _json_num(v))
                for k, v in self.settings.items()
            },
            "gaps": {
                "count": int(len(gaps)),
                "population": round(float(gaps["population"].sum()), 1) if len(gaps) else 0.0,
                "area_km2": round(float(gaps["area_km2"].sum()), 3) if len(gaps) else 0.0,
                "largest": [
                    {
                        "rank": int(r["rank"]),
                        "admin_code": r["admin_code"],
                        "county_name": r["county_name"],
                        "population": round(float(r["population"]), 1),
                        "area_km2": round(float(r["area_km2"]), 3),
                        "nearest_site_id": r["nearest_site_id"],
                        "nearest_site_m": _json_num(r["nearest_site_m"]),
                    }
                    for _, r in top.iterrows()
                ],
            },
            "sites_recommended": int(len(self.recommended)),
            "counties": [c.to_dict() for c in self.counties],
            "timings_s": {k: round(float(v), 3) for k, v in self.timings.items()},
        }


# ------------------------------------------------------------------------------------------------
# Inputs from the run
# ------------------------------------------------------------------------------------------------


def _require(run) -> None:
    missing = []
    if run.grid is None:
        missing.append("grid")
    if "5G" not in (run.coverage or {}):
        missing.append("5G coverage")
    if run.population is None:
        missing.append("population")
    if run.indicators is None:
        missing.append("indicators")
    if run.compliance is None:
        missing.append("compliance")
    if missing:
        hint = (
            " (give a [population] raster or column)"
            if "population" in missing
            else " (add '5G' to [radio] technologies)"
            if "5G coverage" in missing
            else " (run the coverage and check stages first)"
        )
        raise RunError(f"planning needs {', '.join(missing)} from the run{hint}")


def _validate_settings(ps) -> None:
    if ps.budget < 0:
        raise ConfigError(f"[planning] budget must be ≥ 0, got {ps.budget!r}")
    if ps.sectors < 1:
        raise ConfigError(f"[planning] sectors must be ≥ 1, got {ps.sectors!r}")
    for key in (
        "candidate_spacing_m",
        "site_height_m",
        "freq_mhz",
        "bandwidth_mhz",
        "footprint_radius_m",
        "scs_khz",
    ):
        v = getattr(ps, key)
        if v is None:  # not given: from the existing network (planning.defaults)
            continue
        if not v > 0:
            raise ConfigError(f"[planning] {key} must be > 0, got {v!r}")
    if not 0 < ps.beamwidth_deg <= 360:
        raise ConfigError(f"[planning] beamwidth_deg must be in (0, 360], got {ps.beamwidth_deg!r}")
    if ps.verify_rounds < 0:
        raise ConfigError(f"[planning] verify_rounds must be ≥ 0, got {ps.verify_rounds!r}")


def _col(df: pd.DataFrame, name: str, default: float = np.nan) -> pd.Series:
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce")
    return pd.Series(default, index=df.index, dtype=float)


def _county_baselines(county_table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Numerators/denominators of the coverage indicators per county from the indicator table."""
    t = county_table
    pop = _col(t, "population")
    out: dict[str, dict[str, float]] = {}
    cov_pop = _col(t, "covered_population_5g")
    if "covered_population_5g" not in t.columns:
        cov_pop = _col(t, "pop_coverage_5g") * pop
    sites = _col(t, "sites_5g")
    if "sites_5g" not in t.columns:
        sites = (_col(t, "sites_5g_per_10k") * pop / 1e4).round()
    kp, kp_r = _col(t, "key_places", 0.0), _col(t, "key_places_reached_5g", 0.0)
    v, v_r = _col(t, "villages", 0.0), _col(t, "villages_reached_5g", 0.0)
    for i, code in enumerate(t["admin_code"].astype(str)):
        out[code] = {
            "population": float(pop.iloc[i]),
            "covered_population": float(cov_pop.iloc[i]),
            "sites": float(sites.iloc[i]) if pd.notna(sites.iloc[i]) else 0.0,
            "key_places": float(kp.iloc[i]) if pd.notna(kp.iloc[i]) else 0.0,
            "key_places_reached": float(kp_r.iloc[i]) if pd.notna(kp_r.iloc[i]) else 0.0,
            "villages": float(v.iloc[i]) if pd.notna(v.iloc[i]) else 0.0,
            "villages_reached": float(v_r.iloc[i]) if pd.notna(v_r.iloc[i]) else 0.0,
        }
    return out


def _targets_from_compliance(
    compliance: pd.DataFrame, codes: set[str]
) -> dict[str, dict[str, Target]]:
    """Per county: the strictest failing threshold of each coverage-related indicator."""
    df = compliance
    sel = df[
        (df["level"].astype(str) == "county")
        & df["indicator"].isin(COVERAGE_KEYS)
        & (df["status"].astype(str) == "fail")
        & df["admin_code"].astype(str).isin(codes)
    ]
    out: dict[str, dict[str, Target]] = {}
    for (code, key), rows in sel.groupby([sel["admin_code"].astype(str), "indicator"], sort=True):
        ge = rows[rows["op"].isin([">=", ">"])]
        if len(ge) < len(rows):
            log.warning(
                "planning %s: %s has a '<' / '<=' threshold; new sites cannot lower it, ignored",
                code,
                key,
            )
        if ge.empty:
            continue
        thr = pd.to_numeric(ge["threshold"], errors="coerce")
        best = ge.loc[thr.idxmax()]
        top = thr.max()
        op = ">" if (ge.loc[thr == top, "op"] == ">").any() else str(best["op"])
        out.setdefault(code, {})[key] = Target(
            key=key,
            op=op,
            threshold=float(top),
            standards=tuple(sorted(set(ge["standard"].astype(str)))),
        )
    return out


_IDLE_MESSAGES = {
    "pass": "no coverage-related indicator fails; nothing to plan",
    "no_data": "no coverage-related indicator fails, but some have no data (never a pass); nothing to plan",
    "fail": "the failing coverage-related thresholds are upper bounds ('<' / '<='); new sites cannot meet them",
}


def _coverage_status(compliance: pd.DataFrame, codes: list[str]) -> dict[str, str]:
    """Per county, the status of its coverage-related indicators taken together.

    ``fail`` when any fails, else ``no_data`` when any lacks data (missing data is never a
    pass), else ``pass``; a county with no coverage-related row at all is ``no_data`` too.
    """
    df = compliance
    sel = df[(df["level"].astype(str) == "county") & df["indicator"].isin(COVERAGE_KEYS)]
    by_code = {
        str(c): set(g["status"].astype(str)) for c, g in sel.groupby(sel["admin_code"].astype(str))
    }
    out: dict[str, str] = {}
    for code in codes:
        seen = by_code.get(code, set())
        out[code] = "fail" if "fail" in seen else "pass" if seen and seen <= {"pass"} else "no_data"
    return out


def _interference_noise_mw(cov, noise_figure_db: float, scs_khz: float, load: float) -> np.ndarray:
    """Interference + noise per resource element (mW) that a new cell's signal would face.

    From the best server's RSRP ``S`` and SINR: ``S / SINR`` is the interference of the other
    cells plus noise; the best server itself interferes at ``load · S``. Where no cell reaches,
    thermal noise per resource element: −174 dBm/Hz + 10·log10(SCS) + noise figure.
    """
    noise_dbm = -174.0 + 10.0 * math.log10(scs_khz * 1e3) + noise_figure_db
    noise_mw = np.float32(10.0 ** (noise_dbm / 10.0))
    out = np.empty(cov.rsrp_dbm.shape, dtype=np.float32)
    for r0 in range(0, out.shape[0], 256):  # row blocks keep the float temporaries small
        rows = slice(r0, r0 + 256)
        rsrp = np.asarray(cov.rsrp_dbm[rows], dtype=np.float64)
        sinr = np.asarray(cov.sinr_db[rows], dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore", under="ignore"):
            s = np.power(10.0, rsrp / 10.0)
            block = s / np.power(10.0, sinr / 10.0) + load * s
        out[rows] = np.where(np.isfinite(block) & (block > 0), block, noise_mw)
    return out


# ------------------------------------------------------------------------------------------------
# Footprints
# ------------------------------------------------------------------------------------------------


def _combine_sectors(
    items: Sequence[tuple[Tile | None, np.ndarray]],
) -> tuple[Tile | None, np.ndarray | None]:
    """Best RSRP over a site's cells in the union of their windows."""
    items = [(t, a) for t, a in items if t is not None and a is not None and a.size]
    if not items:
        return None, None
    t0 = items[0][0]
    if all(t == t0 for t, _ in items):
        out = np.asarray(items[0][1], dtype=np.float32).copy()
        for _, a in items[1:]:
            np.fmax(out, a, out=out)
        return t0, out
    r0 = min(t.row_off for t, _ in items)
    c0 = min(t.col_off for t, _ in items)
    r1 = max(t.row_off + t.height for t, _ in items)
    c1 = max(t.col_off + t.width for t, _ in items)
    tile = Tile(r0, c0, r1 - r0, c1 - c0)
    out = np.full((tile.height, tile.width), np.nan, dtype=np.float32)
    for t, a in items:
        sub = out[
            t.row_off - r0 : t.row_off - r0 + t.height, t.col_off - c0 : t.col_off - c0 + t.width
        ]
        np.fmax(sub, a, out=sub)
    return tile, out


def build_footprints(
    state: NetworkState,
    grid: Grid,
    cells: pd.DataFrame,
    sectors: int,
    footprint_fn: FootprintFn,
    rsrp_threshold_dbm: float,
    sinr_threshold_db: float,
    radius_m: float = 5000.0,
    window_budget_bytes: int = 64 * 2**20,
) -> Footprints:
    """Stored footprints of candidate sites (cells grouped by site, ``sectors`` rows each).

    Keeps, per site, the pixels it covers that matter (people or a target object) and that it
    would newly cover or serve better (see :func:`gigacov.planning._kernels.site_footprint_pixels`).
    The footprint function is called on batches of sites sized so that their dense RSRP windows
    (at most ``radius_m`` around each cell) stay within ``window_budget_bytes``.
    """
    m = 1 if sectors == 1 else sectors
    n_sites = len(cells) // m
    side = 2.0 * radius_m / grid.resolution_m + 2.0
    batch_sites = int(min(4096, max(16, window_budget_bytes // max(1.0, 4.0 * m * side * side))))
    pix: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for b0 in range(0, n_sites, batch_sites):
        b1 = min(n_sites, b0 + batch_sites)
        batch = cells.iloc[b0 * m : b1 * m].reset_index(drop=True)
        results = list(footprint_fn(batch))
        if len(results) != len(batch):
            raise RunError(
                f"the footprint function returned {len(results)} windows for {len(batch)} cells"
            )
        for s in range(b1 - b0):
            tile, rsrp = _combine_sectors(results[s * m : (s + 1) * m])
            if tile is None:
                pix.append(np.empty(0, np.int64))
                val.append(np.empty(0, np.float32))
                continue
            idx, v = site_footprint_pixels(
                np.ascontiguousarray(rsrp, dtype=np.float32),
                tile.row_off,
                tile.col_off,
                grid.width,
                state.in_noise_mw,
                float(rsrp_threshold_dbm),
                float(sinr_threshold_db),
                state.covered,
                state.best_rsrp,
                state.relevant,
            )
            pix.append(idx)
            val.append(v)
    return Footprints.from_lists(pix, val)


def radio_footprint_fn(run, max_radius_m: float) -> FootprintFn:
    """``gigacov.radio.cell_footprints`` with the run's 5G model settings and inputs."""
    from ..radio import cell_footprints

    cov = run.coverage["5G"]
    # Only pixels at or above the RSRP threshold matter to a candidate, so its footprint is cut
    # where the RSRP falls below the threshold (no interference margin): same values, smaller
    # windows.
    params = dataclasses.replace(
        cov.params, max_radius_m=min(cov.params.max_radius_m, max_radius_m), cutoff_margin_db=0.0
    )
    inputs = run.inputs

    def fn(cells: pd.DataFrame):
        return cell_footprints(
            cells,
            run.grid,
            params,
            population=run.population,
            clutter=getattr(inputs, "clutter", None),
            dem=getattr(inputs, "dem", None),
        )

    return fn


# ------------------------------------------------------------------------------------------------
# plan()
# ------------------------------------------------------------------------------------------------


@dataclass
class _Context:
    """Everything that stays fixed while planning a run."""

    grid: Grid
    counties: gpd.GeoDataFrame  # region counties, row i = county index i + 1
    county_index: dict[str, int]
    county_zone: np.ndarray  # int32 (H, W)
    metric_geoms: np.ndarray
    candidates: pd.DataFrame | None  # user candidates with x, y, county
    candidate_source: str


def _state_from(
    run, ctx: _Context, cov, indicators, scs_khz: float
) -> tuple[NetworkState, dict[str, dict[str, float]]]:
    scn = run.scenario
    ind = scn.indicators
    units = indicators.units
    objects = build_objects(
        grid=ctx.grid,
        population=run.population,
        covered=cov.covered,
        key_places=getattr(run.inputs, "key_places", None),
        key_place_status=getattr(indicators, "key_places", None),
        villages=run.inputs.villages if len(run.inputs.villages) else None,
        village_status=units.get("village"),
        county_index=ctx.county_index,
        village_reached_pop_share=ind.village_reached_pop_share,
        key_place_area_share=ind.key_place_area_share,
        key_place_road_share=ind.key_place_road_share,
    )
    state = NetworkState.build(
        covered=cov.covered,
        best_rsrp=cov.rsrp_dbm,
        in_noise_mw=_interference_noise_mw(
            cov, cov.params.noise_figure_db, scs_khz, cov.params.load
        ),
        county=ctx.county_zone,
        population=run.population,
        objects=objects,
        n_counties=len(ctx.counties),
    )
    return state, _county_baselines(units["county"])


def _candidates_for(ctx: _Context, code: str, ps) -> pd.DataFrame:
    """Candidate table of one county: candidate_id, name, x, y, lon, lat, height_m."""
    i = ctx.county_index[code] - 1
    if ctx.candidates is not None:
        c = ctx.candidates[ctx.candidates["county"] == code]
        return c.reset_index(drop=True)
    x, y = grid_candidates(ctx.metric_geoms[i], ps.candidate_spacing_m)
    lon, lat = ctx.grid.xy_to_lonlat(x, y)
    return pd.DataFrame(
        {
            "candidate_id": [f"G{code}-{j + 1}" for j in range(len(x))],
            "name": "",
            "x": x,
            "y": y,
            "lon": lon,
            "lat": lat,
            "height_m": np.nan,
        }
    )


def _cells_for(
    cands: pd.DataFrame, code: str, ps, year: int, exclude: set[str] = frozenset()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    cands = cands[~cands["candidate_id"].isin(exclude)].reset_index(drop=True)
    heights = np.where(
        np.isnan(cands["height_m"].to_numpy(float)),
        ps.site_height_m,
        cands["height_m"].to_numpy(float),
    )
    cands = cands.assign(height_m=heights)
    cells = candidate_cells(
        [f"CAND-{cid}" for cid in cands["candidate_id"]],
        cands["lon"].to_numpy(float),
        cands["lat"].to_numpy(float),
        code,
        height_m=heights,
        sectors=ps.sectors,
        freq_mhz=ps.freq_mhz,
        bandwidth_mhz=ps.bandwidth_mhz,
        scs_khz=ps.scs_khz,
        eirp_dbm=ps.eirp_dbm,
        beamwidth_deg=ps.beamwidth_deg,
        tilt_deg=ps.tilt_deg,
        year=year,
    )
    return cands, cells


def plan(
    run,
    *,
    counties: list[str] | None = None,
    footprint_fn: FootprintFn | None = None,
    method: str = "lazy",
) -> PlanResult:
    """Weak-coverage areas and recommended new 5G sites for a run's failing counties.

    Parameters
    ----------
    run
        A :class:`gigacov.pipeline.RunResult` after the coverage and check stages (5G coverage,
        population, indicators, compliance).
    counties
        County adcodes to plan (default: every county of the region that fails a
        coverage-related indicator in any standard of the run). Gaps are reported for these
        counties only when given.
    footprint_fn
        Per-cell RSRP windows for candidate cells. Default: ``gigacov.radio.cell_footprints``
        with the run's 5G model settings, cut at ``[planning] footprint_radius_m``. A custom
        function (another propagation model, tests) disables the verification run.
    method
        ``"lazy"`` (CELF, default) or ``"naive"`` (re-evaluate every candidate each round; same
        result, for benchmarks).

    Returns
    -------
    PlanResult

    Raises
    ------
    RunError
        When the run lacks 5G coverage, population, indicators or compliance.
    ConfigError
        For an unknown county code or an invalid ``[planning]`` setting.
    InputError
        For an unreadable candidate file.
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    _require(run)
    scn = run.scenario
    _validate_settings(scn.planning)
    if method not in ("lazy", "naive"):
        raise ConfigError(f"planning method must be 'lazy' or 'naive', got {method!r}")
    grid: Grid = run.grid
    cov = run.coverage["5G"]
    if not cov.grid.same_as(grid) or run.population.shape != grid.shape:
        raise RunError("planning: the 5G coverage or population is not on the run's grid")
    # network state (22 bytes per pixel), object map (4), labelling and gap rasters (~12)
    grid.check_allocation(
        PLANNING_BYTES_PER_PIXEL, int(scn.compute.memory_budget_mb) * 2**20, "planning"
    )

    region = run.inputs.counties.reset_index(drop=True)
    codes = region["admin_code"].astype(str).tolist()
    county_index = {c: i + 1 for i, c in enumerate(codes)}
    radio = new_site_radio(scn.planning, run.inputs.cells, codes)
    ps = section_for(scn.planning, radio, "")  # region-wide values (interference noise)
    ps_of = {c: section_for(scn.planning, radio, c) for c in codes}
    for c in codes:
        n_rb = int(
            n_rb_for(
                np.array(["5G"], dtype=object),
                np.array([ps_of[c].bandwidth_mhz]),
                np.array([ps_of[c].scs_khz]),
            )[0]
        )
        if n_rb <= 0:  # a network carrier that is no NR carrier: fall back, and say so
            ps_of[c] = dataclasses.replace(
                ps_of[c], bandwidth_mhz=FALLBACK["bandwidth_mhz"], scs_khz=FALLBACK["scs_khz"]
            )
            radio[c]["values"].update(bandwidth_mhz=100.0, scs_khz=30.0)
            radio[c]["source"].update(
                bandwidth_mhz="built-in default (the network's is no NR carrier)",
                scs_khz="built-in default (the network's is no NR carrier)",
            )
    if counties:
        unknown = [c for c in counties if str(c) not in county_index]
        if unknown:
            raise ConfigError(
                f"--county {unknown[0]!r} is not a county of the region; valid codes: {', '.join(codes)}"
            )
        wanted = [str(c) for c in dict.fromkeys(counties)]
    else:
        wanted = codes

    from ..zonal import rasterize_zones

    t0 = time.perf_counter()
    zone = rasterize_zones(region.geometry, grid, subpixel=1) + 1
    county_zone = zone.astype(np.int32)
    metric_geoms = np.asarray(region.geometry.to_crs(grid.crs).values, dtype=object)
    timings["rasterise_s"] = time.perf_counter() - t0

    # ---- weak-coverage areas -----------------------------------------------------------------
    t0 = time.perf_counter()
    gap_zone = county_zone
    if counties:
        keep = np.zeros(len(codes) + 1, dtype=bool)
        keep[[county_index[c] for c in wanted]] = True
        gap_zone = np.where(keep[county_zone], county_zone, 0).astype(np.int32)
    site_ids, sx, sy = _existing_sites(cov.cells, grid)
    gaps, _labels = find_gaps(
        grid,
        run.population,
        cov.covered,
        gap_zone,
        codes,
        region["name"].astype(str).tolist(),
        site_ids,
        sx,
        sy,
        min_population=ps.gap_min_population,
    )
    timings["gaps_s"] = time.perf_counter() - t0

    # ---- targets ---------------------------------------------------------------------------
    targets = _targets_from_compliance(run.compliance, set(wanted))
    failing = [c for c in wanted if c in targets]
    settings = dataclasses.asdict(scn.planning)
    settings["new_site_radio"] = {c: radio[c] for c in wanted}
    result = PlanResult(
        gaps=gaps,
        recommended=_empty_recommended(),
        settings=settings,
        timings=timings,
        scenario_name=scn.name,
        synthetic=bool(scn.scenario.synthetic),
        new_cells=None,
    )
    ctx = _Context(grid, region, county_index, county_zone, metric_geoms, None, "grid")
    t0 = time.perf_counter()
    state, baselines = _state_from(run, ctx, cov, run.indicators, ps.scs_khz)
    timings["state_s"] = time.perf_counter() - t0
    names = dict(zip(codes, region["name"].astype(str), strict=True))
    idle_status = _coverage_status(run.compliance, wanted)
    plans: dict[str, CountyPlan] = {}
    for code in wanted:
        base = baselines.get(code)
        ct = _county_targets(code, county_index[code], names[code], base, targets.get(code, {}))
        vals = ct.values(state)
        counts = ct.counts(state)
        plans[code] = CountyPlan(
            admin_code=code,
            name=names[code],
            targets=ct.targets,
            indicators_before=vals,
            indicators_after=dict(vals),
            counts_before=counts,
            counts_after=dict(counts),
            status_before="fail" if ct.targets else idle_status[code],
            status_after="fail" if ct.targets else idle_status[code],
            stop_reason=""
            if ct.targets
            else ("not_plannable" if idle_status[code] == "fail" else "not_failing"),
            stop_message="" if ct.targets else _IDLE_MESSAGES[idle_status[code]],
        )
    if not failing:
        result.counties = list(plans.values())
        timings["total_s"] = time.perf_counter() - t_start
        return result

    # ---- candidates ------------------------------------------------------------------------
    if ps.candidates:
        t0 = time.perf_counter()
        user = read_candidates(
            ps.candidates, ps.candidates_crs, ps.candidates_layer, ps.candidates_columns
        )
        x, y = grid.lonlat_to_xy(user["lon"].to_numpy(), user["lat"].to_numpy())
        user = user.assign(x=x, y=y, county=_locate(x, y, metric_geoms, codes))
        outside = int((user["county"] == "").sum())
        if outside:
            log.info(
                "planning: %d of %d candidates lie outside the region's counties",
                outside,
                len(user),
            )
        ctx.candidates, ctx.candidate_source = user, Path(ps.candidates).name
        timings["candidates_read_s"] = time.perf_counter() - t0
    source = ctx.candidate_source
    own_fp = footprint_fn is None
    if own_fp:
        footprint_fn = radio_footprint_fn(run, ps.footprint_radius_m)
    thr_rsrp, thr_sinr = cov.params.rsrp_threshold_dbm, cov.params.sinr_threshold_db

    rows: list[dict[str, Any]] = []
    picked_ids: dict[str, set[str]] = {c: set() for c in failing}
    t_fp = t_greedy = 0.0

    def plan_counties(
        todo: list[str], st: NetworkState, bl: dict[str, dict[str, float]], round_no: int
    ) -> None:
        nonlocal t_fp, t_greedy
        for code in todo:
            cp = plans[code]
            ct = _county_targets(code, county_index[code], names[code], bl.get(code), cp.targets)
            budget = ps.budget - cp.sites_added
            t0 = time.perf_counter()
            cands, cells = _cells_for(
                _candidates_for(ctx, code, ps), code, ps_of[code], scn.year, picked_ids[code]
            )
            fp = build_footprints(
                st,
                grid,
                cells,
                ps.sectors,
                footprint_fn,
                thr_rsrp,
                thr_sinr,
                radius_m=min(ps.footprint_radius_m, cov.params.max_radius_m),
            )
            t_fp += time.perf_counter() - t0
            t0 = time.perf_counter()
            out = greedy_county(st, ct, fp, budget, method=method)  # type: ignore[arg-type]
            t_greedy += time.perf_counter() - t0
            cp.candidates = max(cp.candidates, len(cands))
            cp.evaluations += out.evaluations
            cp.stop_reason, cp.stop_message = out.stop_reason, out.stop_message
            for pk in out.picks:
                cand = cands.iloc[pk.candidate]
                picked_ids[code].add(str(cand["candidate_id"]))
                cp.sites_added += 1
                cp.coverage_sites += pk.purpose == "coverage"
                cp.density_sites += pk.purpose == "density"
                rows.append(
                    _row(code, names[code], cp.sites_added, pk, cand, ps_of[code], source, round_no)
                )
            cp.indicators_after = ct.values(st)
            cp.counts_after = ct.counts(st)
            cp.status_after = "pass" if not ct.unmet(st) else "fail"

    plan_counties(failing, state, baselines, 0)
    timings["footprints_s"] = t_fp
    timings["greedy_s"] = t_greedy

    # ---- verification ----------------------------------------------------------------------
    # Counties whose greedy run claims to pass are checked with the coverage engine (new sites'
    # interference included) and the indicator stage; where a target is still missed, sites are
    # added from the verified state, up to [planning] verify_rounds times.
    new_cells = _new_cells(rows, ps_of, scn.year)
    if ps.verify and own_fp and rows:
        t0 = time.perf_counter()
        to_verify = [
            c for c in failing if plans[c].stop_reason == "targets_met" and plans[c].sites_added
        ]
        round_no = 0
        while to_verify:
            round_no += 1
            cov_v, ind_v = _rerun(run, new_cells, to_verify, metric_geoms, county_index)
            state_v, base_v = _state_from(run, ctx, cov_v, ind_v, ps.scs_khz)
            retry = []
            for code in to_verify:
                cp = plans[code]
                ct = _county_targets(
                    code, county_index[code], names[code], base_v.get(code), cp.targets
                )
                cp.indicators_after = ct.values(state_v)
                cp.counts_after = ct.counts(state_v)
                unmet = ct.unmet(state_v)
                cp.verified = not unmet
                cp.status_after = "fail" if unmet else "pass"
                if not unmet:
                    continue
                if round_no <= ps.verify_rounds and cp.sites_added < ps.budget:
                    retry.append(code)
                else:
                    cp.stop_reason = "verification_failed"
                    cp.stop_message = (
                        f"re-run with the new sites, the coverage engine finds {', '.join(unmet)} still "
                        f"failing after {round_no} verification round(s) (the new sites' interference); "
                        "raise [planning] verify_rounds or budget"
                    )
            if not retry:
                break
            log.info(
                "planning: verification round %d: %s still fail; adding sites",
                round_no,
                ", ".join(retry),
            )
            plan_counties(retry, state_v, base_v, round_no)
            for code in retry:
                plans[code].verified = None  # sites added since the last check
            new_cells = _new_cells(rows, ps_of, scn.year)
            to_verify = [c for c in retry if plans[c].stop_reason == "targets_met"]
        timings["verify_s"] = time.perf_counter() - t0
        timings["verify_rounds"] = round_no

    rec = _recommended_frame(rows)
    result.recommended = rec
    result.new_cells = new_cells
    result.counties = list(plans.values())
    timings["total_s"] = time.perf_counter() - t_start
    return result


def _county_targets(
    code: str, index: int, name: str, base: dict[str, float] | None, targets: dict[str, Target]
) -> CountyTargets:
    base = base or {}
    return CountyTargets(
        index=index,
        admin_code=code,
        name=name,
        population=base.get("population", float("nan")),
        covered_population=base.get("covered_population", float("nan")),
        sites=base.get("sites", 0.0),
        key_places=base.get("key_places", 0.0),
        key_places_reached=base.get("key_places_reached", 0.0),
        villages=base.get("villages", 0.0),
        villages_reached=base.get("villages_reached", 0.0),
        targets=dict(targets),
    )


def _existing_sites(cells: pd.DataFrame, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if cells is None or len(cells) == 0:
        return np.empty(0, object), np.empty(0), np.empty(0)
    sites = cells.groupby(cells["site_id"].astype(str), sort=True)[["lon", "lat"]].first()
    x, y = grid.lonlat_to_xy(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float))
    return sites.index.to_numpy(dtype=object), x, y


def _locate(x: np.ndarray, y: np.ndarray, geoms: np.ndarray, codes: list[str]) -> np.ndarray:
    import shapely

    out = np.full(len(x), "", dtype=object)
    pts = shapely.points(x, y)
    tree = shapely.STRtree(geoms)
    pi, gi = tree.query(pts, predicate="within")
    # first county wins where boundaries overlap
    order = np.lexsort((gi, pi))
    pi, gi = pi[order], gi[order]
    first = np.unique(pi, return_index=True)[1]
    out[pi[first]] = np.asarray(codes, dtype=object)[gi[first]]
    return out


def _row(code, name, rank, pk, cand, ps, source, round_no) -> dict[str, Any]:
    va = pk.values_after
    return {
        "site_id": f"PLAN-{code}-{rank:03d}",
        "county": code,
        "county_name": name,
        "rank": rank,
        "purpose": pk.purpose,
        "added_population": round(pk.added_population, 1),
        "added_key_places": pk.added_key_places,
        "added_villages": pk.added_villages,
        "served_population": round(pk.served_population, 1),
        "pop_coverage_5g_after": va["pop_coverage_5g"],
        "sites_5g_per_10k_after": va["sites_5g_per_10k"],
        "key_place_reach_5g_after": va["key_place_reach_5g"],
        "village_reach_5g_after": va["village_reach_5g"],
        "lon": float(cand["lon"]),
        "lat": float(cand["lat"]),
        "candidate_id": str(cand["candidate_id"]),
        "candidate_source": source,
        "height_m": float(cand["height_m"]),
        "sectors": int(ps.sectors),
        "azimuths_deg": "omni"
        if ps.sectors == 1
        else "/".join(f"{360.0 * i / ps.sectors:g}" for i in range(ps.sectors)),
        "beamwidth_deg": float(ps.beamwidth_deg) if ps.sectors > 1 else float("nan"),
        "tilt_deg": float(ps.tilt_deg),
        "freq_mhz": float(ps.freq_mhz),
        "bandwidth_mhz": float(ps.bandwidth_mhz),
        "scs_khz": float(ps.scs_khz),
        "eirp_dbm": float(ps.eirp_dbm),
        "verification_round": int(round_no),
    }


def _new_cells(rows: list[dict[str, Any]], ps_of: dict, year: int) -> pd.DataFrame:
    """Cells of the recommended sites, each county's with its own radio settings."""
    from ..ingest.model import CELL_COLUMNS

    if not rows:
        return pd.DataFrame(
            {
                c: pd.Series(dtype="Int64" if t == "Int64" else (object if t == "str" else t))
                for c, t in CELL_COLUMNS.items()
            }
        )
    df = pd.DataFrame(rows)
    parts = []
    for code, sub in df.groupby("county", sort=False):
        ps = ps_of[str(code)]
        parts.append(
            candidate_cells(
                sub["site_id"].tolist(),
                sub["lon"].to_numpy(float),
                sub["lat"].to_numpy(float),
                sub["county"].to_numpy(object),
                height_m=sub["height_m"].to_numpy(float),
                sectors=ps.sectors,
                freq_mhz=ps.freq_mhz,
                bandwidth_mhz=ps.bandwidth_mhz,
                scs_khz=ps.scs_khz,
                eirp_dbm=ps.eirp_dbm,
                beamwidth_deg=ps.beamwidth_deg,
                tilt_deg=ps.tilt_deg,
                year=year,
            )
        )
    return pd.concat(parts, ignore_index=True)


def _recommended_frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    if not rows:
        return _empty_recommended()
    df = pd.DataFrame(rows, columns=RECOMMENDED_COLUMNS)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)


def _empty_recommended() -> gpd.GeoDataFrame:
    dtypes = {
        "site_id": object,
        "county": object,
        "county_name": object,
        "rank": "int64",
        "purpose": object,
        "added_population": float,
        "added_key_places": "int64",
        "added_villages": "int64",
        "served_population": float,
        "candidate_id": object,
        "candidate_source": object,
        "sectors": "int64",
        "azimuths_deg": object,
        "verification_round": "int64",
    }
    df = pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, float)) for c in RECOMMENDED_COLUMNS})
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([], crs=4326), crs=4326)


def _rerun(
    run,
    new_cells: pd.DataFrame,
    codes: list[str],
    metric_geoms: np.ndarray,
    county_index: dict[str, int],
) -> tuple[Any, Any]:
    """5G coverage and indicators with the new cells appended, for the counties ``codes``.

    Coverage is recomputed on the grid window of those counties (every cell takes part; the
    rest of the grid keeps the run's rasters) and the indicators are computed for those counties,
    their villages and key places only.
    """
    import shapely

    from ..indicators import compute_indicators
    from ..radio import CoverageResult, compute_coverage

    scn = run.scenario
    grid: Grid = run.grid
    cov = run.coverage["5G"]
    cells = pd.concat([cov.cells, new_cells.reindex(columns=cov.cells.columns)], ignore_index=True)
    geoms = [metric_geoms[county_index[c] - 1] for c in codes]
    minx, miny, maxx, maxy = shapely.union_all(geoms).bounds
    res = grid.resolution_m
    c0 = max(0, int(math.floor((minx - grid.transform.c) / res)))
    c1 = min(grid.width, int(math.ceil((maxx - grid.transform.c) / res)))
    r0 = max(0, int(math.floor((grid.transform.f - maxy) / res)))
    r1 = min(grid.height, int(math.ceil((grid.transform.f - miny) / res)))
    tile = Tile(r0, c0, max(1, r1 - r0), max(1, c1 - c0))
    sub = grid.subgrid(tile)
    sl = tile.slices
    part = compute_coverage(
        cells,
        sub,
        cov.params,
        population=run.population[sl],
        clutter=run.inputs.clutter,
        dem=run.inputs.dem,
        backend=scn.compute.backend,
        scheduler=scn.compute.scheduler,
        workers=scn.compute.workers,
        tile_size=scn.grid.tile_size,
        progress=False,
        memory_budget_mb=scn.compute.memory_budget_mb,
    )
    rsrp, sinr, server, covered = (
        cov.rsrp_dbm.copy(),
        cov.sinr_db.copy(),
        cov.server.copy(),
        cov.covered.copy(),
    )
    rsrp[sl], sinr[sl], server[sl], covered[sl] = (
        part.rsrp_dbm,
        part.sinr_db,
        part.server,
        part.covered,
    )
    full = CoverageResult(
        tech="5G",
        grid=grid,
        rsrp_dbm=rsrp,
        sinr_db=sinr,
        server=server,
        covered=covered,
        cells=cells,
        params=cov.params,
        timings=dict(part.timings),
    )
    techs = dict(run.coverage)
    techs["5G"] = full
    b = run.inputs.boundaries
    level = b["level"].astype(str)
    code6 = b["admin_code"].astype(str).str[:6]
    keep = level.isin(["province", "city"]) | (
        level.isin(["county", "village"]) & code6.isin(codes)
    )
    kp = run.inputs.key_places
    if kp is not None and len(kp):
        kp = kp[kp["admin_code"].astype(str).isin(codes)]
    inputs = dataclasses.replace(
        run.inputs,
        boundaries=b[keep.to_numpy()],
        key_places=kp,
        cells=pd.concat(
            [run.inputs.cells, new_cells.reindex(columns=run.inputs.cells.columns)],
            ignore_index=True,
        ),
    )
    ind = compute_indicators(inputs, grid, run.population, techs)
    return full, ind
