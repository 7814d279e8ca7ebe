"""Benchmark of the planning stage on a Quanzhou-like synthetic scenario.

What it measures (all in one run, on the same inputs):

* planning time for the failing counties, by step (gap labelling, candidate footprints from the
  radio engine, greedy placement, verification with the coverage engine);
* the greedy placement with **lazy (CELF) evaluation** against **re-evaluating every candidate
  each round** ("naive"): time, number of gain evaluations, speed-up — the two must pick exactly
  the same sites (checked);
* the labelling kernel against ``scipy.ndimage.label`` (8-connectivity) on the gap mask when SciPy
  is installed (agreement and time), and the numba compile time, reported apart;
* peak memory (``ru_maxrss``) and the size of the stored candidate footprints.

The scenario (seeded, synthetic, labelled as such): the real boundaries of Quanzhou's county-level
units (``data/boundaries/fujian.gpkg``), resident population per county from the Quanzhou
statistical yearbook 2022 (docs/design.md §10) spread over a town core, Voronoi villages and a diffuse
background; 5G sites placed where people live at a per-county density chosen so that the rural
counties fail; a few key places per county. Coverage, indicators and compliance come from the
real engine (``gigacov.radio``, ``gigacov.indicators``, ``gigacov.compliance``) with the shipped
standards ``miit-gigabit-city-2021`` and ``fujian-2024`` plus a benchmark standard that asks
``pop_coverage_5g ≥ 0.85`` per county (none of the shipped standards has a population-coverage
target, and it is the term with the most picks).

A second part times the planning stage on the **demo scenario itself** (``gigacov demo``'s
synthetic Quanzhou, 2024, 100 m, with terrain): the pipeline runs up to compliance, then
``planning.plan`` is timed on its failing counties.

Run: ``.venv/bin/python benchmarks/bench_planning.py [--quick]``; writes
``bench-results/planning.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gigacov.demo.design import COUNTIES

ROOT = Path(__file__).resolve().parents[1]

# Resident population 2021, 10,000 persons (Quanzhou statistical yearbook 2022, table 3-5; docs/design.md §10),
# as the demo's design carries it.
POPULATION_10K = {c.code: c.population_10k for c in COUNTIES}
# Synthetic 5G sites per 10,000 persons: the rural counties are built to fail (< 12).
SITE_DENSITY = {
    "350502": 30.0,
    "350503": 28.0,
    "350504": 16.0,
    "350505": 15.0,
    "350581": 24.0,
    "350582": 22.0,
    "350583": 14.0,
    "350521": 13.0,
    "350524": 9.0,
    "350525": 10.0,
    "350526": 10.5,
}
URBAN_SHARE = {"350502": 0.9, "350503": 0.85, "350581": 0.7, "350582": 0.65}
QUICK_COUNTIES = ("350581", "350525")  # 石狮市 (dense, passes) and 永春县 (rural, fails)

BENCH_STANDARD = """
id = "bench-pop-coverage"
version = "bench"
year = 2024
issuer = "gigacov benchmark"
source = "benchmark target, not an official standard"
[title]
zh = "基准测试：人口覆盖率"
en = "benchmark: population coverage"
[[indicators]]
key = "pop_coverage_5g"
op = ">="
threshold = 0.85
levels = ["county"]
"""


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------------------------------------
# Scenario
# ------------------------------------------------------------------------------------------------


def _add_gaussian(pop, grid, x, y, sigma, mass):
    """Add ``mass`` persons as an isotropic Gaussian (σ metres) at (x, y), ±4σ window."""
    tile = grid.window_around(x, y, 4 * sigma)
    if tile is None:
        return
    xs, ys = grid.centres(tile)
    g = np.exp(-((xs[None, :] - x) ** 2 + (ys[:, None] - y) ** 2) / (2 * sigma * sigma))
    s = g.sum()
    if s > 0:
        pop[tile.slices] += (mass * g / s).astype(np.float32)


def build_scenario(tmp: Path, resolution_m: float, counties: tuple[str, ...] | None, seed: int):
    from gigacov.crs import metric_crs_for
    from gigacov.grid import Grid
    from gigacov.ingest.model import Inputs
    from gigacov.planning.candidates import candidate_cells
    from gigacov.scenario import scenario_from_dict

    rng = np.random.default_rng(seed)
    b = gpd.read_file(ROOT / "data" / "boundaries" / "fujian.gpkg")
    b = b[
        b["admin_code"].str.startswith("3505") & (b["admin_code"] != "350527")
    ]  # 金门: no PRC data
    if counties:
        b = b[(b["level"] != "county") | b["admin_code"].isin(counties)]
    b = b[b["level"].isin(["city", "county"])].reset_index(drop=True)
    cty = b[b["level"] == "county"].reset_index(drop=True)
    crs = metric_crs_for(tuple(cty.total_bounds))
    grid = Grid.for_geometries(cty, resolution_m, crs)
    metric = cty.to_crs(crs)
    pop = np.zeros(grid.shape, np.float32)
    from gigacov.zonal import rasterize_zones

    zone = rasterize_zones(metric.geometry, grid, 1)
    village_rows, site_rows, kp_rows = [], [], []
    for i, row in metric.iterrows():
        code, poly = row["admin_code"], row.geometry
        total = POPULATION_10K[code] * 1e4
        area_km2 = poly.area / 1e6
        urban = URBAN_SHARE.get(code, 0.45)
        # town core
        seat = poly.representative_point()
        _add_gaussian(pop, grid, seat.x, seat.y, 1200.0 + 25.0 * math.sqrt(area_km2), urban * total)
        # villages: seeds inside the county, Voronoi polygons
        n_v = max(8, int(area_km2 / 4.5))
        minx, miny, maxx, maxy = poly.bounds
        pts = []
        while len(pts) < n_v:
            cand = np.column_stack(
                [rng.uniform(minx, maxx, 4 * n_v), rng.uniform(miny, maxy, 4 * n_v)]
            )
            inside = shapely.contains_xy(poly, cand[:, 0], cand[:, 1])
            pts.extend(cand[inside][: n_v - len(pts)].tolist())
        pts = np.asarray(pts)
        mass = np.exp(rng.normal(0, 0.6, n_v))
        mass = mass / mass.sum() * (1 - urban - 0.08) * total
        for (x, y), m in zip(pts, mass, strict=True):
            _add_gaussian(pop, grid, x, y, rng.uniform(250, 500), m)
        cells_v = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=poly)
        for j, cell in enumerate(shapely.get_parts(cells_v)):
            piece = shapely.intersection(cell, poly)
            if piece.is_empty:
                continue
            village_rows.append(
                {
                    "admin_code": f"{code}{j // 100 + 1:03d}{j % 100 + 1:03d}",
                    "name": f"村{code[-2:]}-{j + 1}",
                    "name_en": "",
                    "level": "village",
                    "parent_code": code,
                    "geometry": piece,
                }
            )
        # diffuse background (8 %) over the county's pixels
        mask = zone == i
        if mask.any():
            pop[mask] += np.float32(0.08 * total / mask.sum())
        # key places: a hospital and a station near the seat, a tourist site in a random village
        for k, (cat, dx, dy) in enumerate((("hospital", 300, 200), ("railway", -2500, 1500))):
            kp_rows.append(
                {
                    "place_id": f"{code}-K{k + 1}",
                    "name": f"{cat}-{code}",
                    "category": cat,
                    "admin_code": code,
                    "approximate": True,
                    "geometry": shapely.Point(seat.x + dx, seat.y + dy),
                }
            )
        vx, vy = pts[rng.integers(len(pts))]
        kp_rows.append(
            {
                "place_id": f"{code}-K3",
                "name": f"tourism-{code}",
                "category": "tourism",
                "admin_code": code,
                "approximate": True,
                "geometry": shapely.Point(vx, vy).buffer(400.0),
            }
        )
    # rescale each county to its total (Gaussian tails cross county lines)
    for i, row in cty.iterrows():
        mask = zone == i
        s = pop[mask].sum(dtype=np.float64)
        if s > 0:
            pop[mask] *= np.float32(POPULATION_10K[row["admin_code"]] * 1e4 / s)
    pop[zone < 0] = 0.0
    # sites: hexagonal lattices by density class (urban 300 m, suburban 800 m, rural 2.5 km
    # where anyone lives), thinned at random to the county's designed count
    density = pop / (resolution_m * resolution_m / 1e6)
    for i, row in cty.iterrows():
        code, poly = row["admin_code"], metric.geometry.iloc[i]
        n = int(round(SITE_DENSITY[code] * POPULATION_10K[code]))
        xs_all, ys_all = [], []
        for spacing, lo, hi in (
            (300.0, 3000.0, np.inf),
            (800.0, 300.0, 3000.0),
            (2500.0, 1.0, 300.0),
        ):
            minx, miny, maxx, maxy = poly.bounds
            ys = np.arange(miny, maxy, spacing * math.sqrt(3) / 2)
            gx = [np.arange(minx + (k % 2) * spacing / 2, maxx, spacing) for k in range(len(ys))]
            px = np.concatenate(gx) if gx else np.empty(0)
            py = (
                np.concatenate([np.full(len(g), y) for g, y in zip(gx, ys, strict=True)])
                if gx
                else np.empty(0)
            )
            px, py = (
                px + rng.uniform(-0.1, 0.1, len(px)) * spacing,
                py + rng.uniform(-0.1, 0.1, len(py)) * spacing,
            )
            r, c = grid.rowcol(px, py)
            ok = grid.contains_rowcol(r, c) & shapely.contains_xy(poly, px, py)
            r, c, px, py = r[ok], c[ok], px[ok], py[ok]
            d = density[r, c]
            keep = (d >= lo) & (d < hi)
            xs_all.append(px[keep])
            ys_all.append(py[keep])
        xs, ys = np.concatenate(xs_all), np.concatenate(ys_all)
        if len(xs) > n:
            sel = np.sort(rng.choice(len(xs), size=n, replace=False))
            xs, ys = xs[sel], ys[sel]
        lon, lat = grid.xy_to_lonlat(xs, ys)
        site_rows.append((code, lon, lat))
    villages = gpd.GeoDataFrame(village_rows, geometry="geometry", crs=crs).to_crs(4326)
    boundaries = pd.concat([b, villages], ignore_index=True)
    boundaries = gpd.GeoDataFrame(boundaries, geometry="geometry", crs=4326)
    key_places = gpd.GeoDataFrame(kp_rows, geometry="geometry", crs=crs).to_crs(4326)
    parts = []
    for code, lon, lat in site_rows:
        ids = [f"{code}-S{k + 1}" for k in range(len(lon))]
        parts.append(
            candidate_cells(
                ids,
                lon,
                lat,
                code,
                height_m=rng.uniform(25, 45, len(lon)).round(1),
                sectors=3,
                freq_mhz=3500.0,
                bandwidth_mhz=100.0,
                scs_khz=30.0,
                eirp_dbm=61.0,
                beamwidth_deg=65.0,
                tilt_deg=6.0,
                year=2023,
            )
        )
    cells = pd.concat(parts, ignore_index=True)
    (tmp / "bench-standard.toml").write_text(BENCH_STANDARD, encoding="utf-8")
    scn = scenario_from_dict(
        {
            "scenario": {
                "name": "quanzhou-like-synthetic",
                "year": 2024,
                "synthetic": True,
                "region": "350500",
                "standards": [
                    "miit-gigabit-city-2021",
                    "fujian-2024",
                    str(tmp / "bench-standard.toml"),
                ],
            },
            "sites": {"path": "sites-synthetic.csv"},
            "grid": {"resolution_m": resolution_m},
            "planning": {"budget": 60},
        },
        base_dir=tmp,
    )
    inputs = Inputs(scenario=scn, boundaries=boundaries, cells=cells, key_places=key_places)
    return scn, inputs, grid, pop


def run_stages(scn, inputs, grid, pop, tmp: Path):
    from gigacov.compliance import evaluate, load_standards
    from gigacov.indicators import compute_indicators
    from gigacov.radio import RadioParams, compute_coverage
    from gigacov.run_result import RunResult

    params = RadioParams.from_section(scn.radio, "5G")
    t0 = time.perf_counter()
    cov = compute_coverage(
        inputs.cells,
        grid,
        params,
        population=pop,
        workers=scn.compute.workers,
        tile_size=scn.grid.tile_size,
    )
    t_cov = time.perf_counter() - t0
    t0 = time.perf_counter()
    ind = compute_indicators(inputs, grid, pop, {"5G": cov})
    standards = load_standards(scn.scenario.standards)
    comp = evaluate(ind, standards)
    t_ind = time.perf_counter() - t0
    run = RunResult(
        scenario=scn,
        run_dir=tmp / "run",
        inputs=inputs,
        grid=grid,
        population=pop,
        coverage={"5G": cov},
        indicators=ind,
        standards=standards,
        compliance=comp,
    )
    return run, {
        "coverage_s": t_cov,
        "indicators_compliance_s": t_ind,
        "cell_pixel_evaluations": cov.timings.get("evaluations"),
    }


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------


def bench_labelling(run) -> dict:
    from gigacov.planning._kernels import label_zones
    from gigacov.planning.gaps import gap_zones
    from gigacov.zonal import rasterize_zones

    t0 = time.perf_counter()
    label_zones(np.zeros((3, 3), np.int32))
    compile_s = time.perf_counter() - t0
    county = (rasterize_zones(run.inputs.counties.geometry, run.grid, 1) + 1).astype(np.int32)
    zone = gap_zones(run.population, run.coverage["5G"].covered, county)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        labels, n = label_zones(zone)
        times.append(time.perf_counter() - t0)
    out = {
        "compile_s": compile_s,
        "numba_s": min(times),
        "regions": int(n),
        "pixels": int(zone.size),
        "gap_pixels": int((zone > 0).sum()),
    }
    try:
        from scipy import ndimage
    except ImportError:
        out["scipy"] = "not installed"
        return out
    # scipy labels one binary mask: label each county's gap mask and offset (same definition).
    t0 = time.perf_counter()
    total = 0
    ref = np.zeros_like(labels)
    for z in np.unique(zone[zone > 0]):
        lab, k = ndimage.label(zone == z, structure=np.ones((3, 3), int))
        ref[lab > 0] = lab[lab > 0] + total
        total += k
    out["scipy_s"] = time.perf_counter() - t0
    out["scipy_regions"] = int(total)
    # same partition (label numbers differ): every numba region maps to one scipy region
    pairs = np.unique(np.column_stack([labels[zone > 0], ref[zone > 0]]), axis=0)
    out["same_partition"] = bool(len(pairs) == n == total)
    return out


def bench_planning(run, quick: bool) -> dict:
    from gigacov.planning import plan

    results = {}
    recs = {}
    for method, verify in (("lazy", True), ("naive", False)):
        run.scenario = run.scenario.replace(planning={"verify": verify})
        t0 = time.perf_counter()
        res = plan(run, method=method)
        wall = time.perf_counter() - t0
        s = res.summary()
        failing = [c for c in s["counties"] if c["status_before"] == "fail"]
        results[method] = {
            "wall_s": wall,
            "timings_s": res.timings,
            "gain_evaluations": sum(c["gain_evaluations"] for c in failing),
            "sites": int(len(res.recommended)),
            "counties": [
                {
                    k: c[k]
                    for k in (
                        "admin_code",
                        "name",
                        "status_before",
                        "status_after",
                        "sites_added",
                        "coverage_sites",
                        "density_sites",
                        "people_covered",
                        "key_places_reached",
                        "villages_reached",
                        "candidates",
                        "gain_evaluations",
                        "stop_reason",
                        "stop_message",
                        "verified",
                    )
                }
                for c in failing
            ],
            "gaps": s["gaps"]["count"],
            "gap_population": s["gaps"]["population"],
        }
        r0 = res.recommended[res.recommended["verification_round"] == 0]
        recs[method] = r0[["county", "candidate_id"]].to_numpy().tolist()
        _log(
            f"  {method}: {wall:.1f} s, greedy {res.timings.get('greedy_s', 0):.3f} s, "
            f"{len(res.recommended)} sites"
        )
    results["same_sites"] = recs["lazy"] == recs["naive"]
    lz, nv = results["lazy"]["timings_s"]["greedy_s"], results["naive"]["timings_s"]["greedy_s"]
    results["greedy_speedup"] = nv / lz if lz > 0 else float("nan")
    results["evaluation_ratio"] = results["naive"]["gain_evaluations"] / max(
        1, results["lazy"]["gain_evaluations"]
    )
    return results


def bench_demo_planning(tmp: Path, quick: bool) -> dict:
    """Planning time for the failing counties of the demo scenario (2024)."""
    from gigacov.demo import build_demo
    from gigacov.pipeline import run as run_pipeline
    from gigacov.planning import plan

    res_m, scale = (500.0, 0.2) if quick else (100.0, 1.0)
    paths = build_demo(tmp / "demo", resolution_m=res_m, scale=scale)
    scn_path = next(p for k, p in paths.items() if str(p).endswith("quanzhou-2024-synthetic.toml"))
    t0 = time.perf_counter()
    run = run_pipeline(scn_path, until="check")
    upstream_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = plan(run)
    plan_s = time.perf_counter() - t0
    summary = result.summary()
    counties = [c for c in summary.get("counties", []) if c.get("stop_reason") != "not_failing"]
    return {
        "resolution_m": res_m,
        "scale": scale,
        "upstream_s (ingest, coverage, indicators, compliance)": round(upstream_s, 2),
        "planning_s": round(plan_s, 2),
        "planning_timings_s": {
            k: round(float(v), 3) for k, v in result.timings.items() if isinstance(v, (int, float))
        },
        "failing_counties_planned": len(counties),
        "recommended_sites": int(len(result.recommended)),
        "gaps": int(len(result.gaps)),
        "counties": [
            {
                k: c.get(k)
                for k in (
                    "admin_code",
                    "name",
                    "sites_added",
                    "people_covered",
                    "status_before",
                    "status_after",
                    "stop_reason",
                )
            }
            for c in counties
        ],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick", action="store_true", help=f"two counties ({', '.join(QUICK_COUNTIES)}) at 200 m"
    )
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--out", default=str(ROOT / "bench-results" / "planning.json"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    res_m = 200.0 if args.quick else 100.0
    counties = QUICK_COUNTIES if args.quick else None
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        _log(f"building the Quanzhou-like synthetic scenario at {res_m:g} m ...")
        t0 = time.perf_counter()
        scn, inputs, grid, pop = build_scenario(tmp, res_m, counties, args.seed)
        t_build = time.perf_counter() - t0
        _log(
            f"  {grid.width}×{grid.height} px, {pop.sum():,.0f} persons, {inputs.cells['site_id'].nunique():,} 5G sites, "
            f"{(inputs.boundaries['level'] == 'village').sum():,} villages ({t_build:.1f} s)"
        )
        _log("coverage, indicators and compliance (real engine) ...")
        run, stage_t = run_stages(scn, inputs, grid, pop, tmp)
        comp = run.compliance
        failing = comp[
            (comp["level"] == "county")
            & (comp["status"] == "fail")
            & comp["indicator"].isin(
                ["pop_coverage_5g", "sites_5g_per_10k", "key_place_reach_5g", "village_reach_5g"]
            )
        ]
        _log(
            f"  coverage {stage_t['coverage_s']:.1f} s; {failing['admin_code'].nunique()} failing counties"
        )
        _log("labelling kernel ...")
        lab = bench_labelling(run)
        _log("planning: lazy (with verification) and naive ...")
        pl = bench_planning(run, args.quick)
        _log("the demo scenario (gigacov demo, 2024): pipeline up to compliance, then planning ...")
        demo = bench_demo_planning(tmp, args.quick)
    figures = {
        "benchmark": "planning",
        "quick": bool(args.quick),
        "synthetic": True,
        "scenario": {
            "resolution_m": res_m,
            "grid": [grid.width, grid.height],
            "persons": float(pop.sum()),
            "sites_5g": int(inputs.cells["site_id"].nunique()),
            "villages": int((inputs.boundaries["level"] == "village").sum()),
            "failing_counties": sorted(failing["admin_code"].unique().tolist()),
            "build_s": t_build,
            **stage_t,
        },
        "labelling": lab,
        "planning": pl,
        "demo_planning": demo,
        "peak_rss_mb": rss_mb(),
        "total_s": time.perf_counter() - t_all,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "note": "timings on a shared machine are noisy; ratios are measured in the same run",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(figures, indent=1, ensure_ascii=False, default=float) + "\n", encoding="utf-8"
    )
    lz, nv = pl["lazy"], pl["naive"]
    t = lz["timings_s"]
    print(
        f"\nPlanning benchmark ({'quick, ' if args.quick else ''}Quanzhou-like synthetic, {res_m:g} m, "
        f"{grid.width}×{grid.height} px)"
    )
    print(f"{'step':<34}{'seconds':>10}")
    for k in ("gaps_s", "state_s", "footprints_s", "greedy_s", "verify_s", "total_s"):
        if k in t:
            print(f"  {k:<32}{t[k]:>10.3f}")
    print(f"\n{'greedy placement':<24}{'lazy (CELF)':>14}{'naive':>14}")
    print(f"  {'seconds':<22}{t['greedy_s']:>14.3f}{nv['timings_s']['greedy_s']:>14.3f}")
    print(f"  {'gain evaluations':<22}{lz['gain_evaluations']:>14,}{nv['gain_evaluations']:>14,}")
    print(
        f"  speed-up {pl['greedy_speedup']:.1f}×, evaluations ÷ {pl['evaluation_ratio']:.1f}, "
        f"same sites: {pl['same_sites']}"
    )
    print(
        f"\n{'county':<18}{'sites':>6}{'cov/den':>9}{'people':>10}{'kp':>4}{'vil':>5}  {'before→after':<24}stop"
    )
    for c in lz["counties"]:
        status = f"{c['status_before']}→{c['status_after']}" + (
            " (verified)" if c["verified"] else ""
        )
        print(
            f"  {c['admin_code']} {c['name']:<8}{c['sites_added']:>6}{c['coverage_sites']:>5}/{c['density_sites']:<3}"
            f"{c['people_covered']:>10,.0f}{c['key_places_reached']:>4}{c['villages_reached']:>5}  {status:<24}"
            f"{c['stop_reason']}"
        )
    for c in lz["counties"]:
        if "no remaining candidate" in c["stop_message"]:
            print(f"  {c['admin_code']}: {c['stop_message']}")
    print(
        f"\nDemo scenario (synthetic Quanzhou 2024, {demo['resolution_m']:g} m, scale {demo['scale']:g}): "
        f"planning {demo['planning_s']:.1f} s for {demo['failing_counties_planned']} failing counties, "
        f"{demo['recommended_sites']} recommended sites, {demo['gaps']} weak-coverage areas "
        f"(pipeline up to compliance {demo['upstream_s (ingest, coverage, indicators, compliance)']:.1f} s)"
    )
    for k, v in demo["planning_timings_s"].items():
        print(f"  {k:<32}{v:>10.3f}")
    for c in demo["counties"]:
        print(
            f"  {c['admin_code']} {c['name']:<8}{c['sites_added']:>6}{c['people_covered']:>10,.0f}  "
            f"{c['status_before']}→{c['status_after']}  {c['stop_reason']}"
        )
    print(
        f"\nlabelling: numba {lab['numba_s'] * 1e3:.1f} ms for {lab['pixels']:,} px ({lab['regions']:,} regions), "
        f"compile {lab['compile_s']:.2f} s"
        + (
            f", scipy {lab['scipy_s'] * 1e3:.1f} ms, same partition: {lab['same_partition']}"
            if "scipy_s" in lab
            else ""
        )
    )
    print(f"peak RSS {figures['peak_rss_mb']:.0f} MiB; written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
