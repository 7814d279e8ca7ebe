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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ConfigError, RunError
from ..grid import Grid
from ..ingest.bands import n_rb_for
from ..run_result import RunResult
from .candidates import candidate_cells, grid_candidates, read_candidates
from .defaults import FALLBACK, new_site_radio, section_for
from .footprints import FootprintFn, build_footprints, interference_noise_mw, radio_footprint_fn
from .gaps import find_gaps
from .greedy import greedy_county
from .network import NetworkState
from .objects import build_objects
from .result import CountyPlan, PlanResult, empty_recommended, recommended_frame
from .targets import (
    IDLE_MESSAGES,
    county_baselines,
    county_targets,
    coverage_status,
    require_run,
    targets_from_compliance,
    validate_settings,
)
from .verify import rerun

__all__ = ["plan", "PLANNING_BYTES_PER_PIXEL"]

log = logging.getLogger(__name__)

PLANNING_BYTES_PER_PIXEL = 40


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
        in_noise_mw=interference_noise_mw(
            cov, cov.params.noise_figure_db, scs_khz, cov.params.load
        ),
        county=ctx.county_zone,
        population=run.population,
        objects=objects,
        n_counties=len(ctx.counties),
    )
    return state, county_baselines(units["county"])


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
    run: RunResult,
    *,
    counties: list[str] | None = None,
    footprint_fn: FootprintFn | None = None,
    method: str = "lazy",
) -> PlanResult:
    """Weak-coverage areas and recommended new 5G sites for a run's failing counties.

    Parameters
    ----------
    run
        A :class:`gigacov.run_result.RunResult` after the coverage and check stages (5G coverage,
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
    require_run(run)
    scn = run.scenario
    validate_settings(scn.planning)
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
            radio[c]["values"].update(
                bandwidth_mhz=FALLBACK["bandwidth_mhz"], scs_khz=FALLBACK["scs_khz"]
            )
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
    targets = targets_from_compliance(run.compliance, set(wanted))
    failing = [c for c in wanted if c in targets]
    settings = dataclasses.asdict(scn.planning)
    settings["new_site_radio"] = {c: radio[c] for c in wanted}
    result = PlanResult(
        gaps=gaps,
        recommended=empty_recommended(),
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
    idle_status = coverage_status(run.compliance, wanted)
    plans: dict[str, CountyPlan] = {}
    for code in wanted:
        base = baselines.get(code)
        ct = county_targets(code, county_index[code], names[code], base, targets.get(code, {}))
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
            stop_message="" if ct.targets else IDLE_MESSAGES[idle_status[code]],
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
            ct = county_targets(code, county_index[code], names[code], bl.get(code), cp.targets)
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
            cov_v, ind_v = rerun(run, new_cells, to_verify, metric_geoms, county_index)
            state_v, base_v = _state_from(run, ctx, cov_v, ind_v, ps.scs_khz)
            retry = []
            for code in to_verify:
                cp = plans[code]
                ct = county_targets(
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

    rec = recommended_frame(rows)
    result.recommended = rec
    result.new_cells = new_cells
    result.counties = list(plans.values())
    timings["total_s"] = time.perf_counter() - t_start
    return result


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
