"""Benchmark: the zonal stage (gigacov.zonal.zonal_sums) against exactextract on the same job.

Job: Fujian's 84 county polygons (data/boundaries/fujian.gpkg, reprojected to UTM 50N) over a
100 m grid of the whole province (about 4,900 × 5,300 pixels) with three bands — a population
raster and two covered masks (5G, 4G). Per county both tools compute area, population, covered
area and covered population for each mask:

* gigacov: one pass, ``subpixel = 4`` (16 samples per pixel), 1 thread and all threads;
* exactextract (exact coverage fractions, single-threaded): ``exact_extract([pop, cov5, cov4],
  counties, ["sum", "weighted_sum", "count"], weights=pop)`` — ``count`` is the area in pixels,
  ``sum`` of a mask its covered area, ``weighted_sum`` of a mask its covered population.

Inputs are synthetic and seeded. Kernels are warmed before timing (the first call, which
compiles or loads the numba cache, is reported apart). Reported: best and median wall time of
each, the ratio exactextract / gigacov, the largest relative difference per figure, and peak
memory (tracemalloc peak of the gigacov call; process peak RSS).

Usage: python benchmarks/bench_zonal.py [--quick] [--repeat N]
(--quick: Quanzhou's 12 counties at 200 m).
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from _common import best_of, peak_rss_mb, save

from gigacov import zonal
from gigacov.grid import Grid
from gigacov.scenario import default_boundaries_path

UTM50 = pyproj.CRS.from_epsg(32650)


def synthetic_rasters(grid: Grid, seed: int = 2024) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Population (lognormal noise on a few smooth city bumps) and two blobby covered masks."""
    rng = np.random.default_rng(seed)
    h, w = grid.shape
    yy = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    xx = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
    smooth = np.zeros((h, w), np.float32)
    for _ in range(12):
        cx, cy, r, a = (
            rng.uniform(0, 1),
            rng.uniform(0, 1),
            rng.uniform(0.02, 0.08),
            rng.uniform(20, 200),
        )
        smooth += a * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
    pop = (smooth + 1.0) * rng.lognormal(0.0, 0.7, (h, w)).astype(np.float32)
    # Covered: smooth bumps above a level (5G: fewer, 4G: most of the land).
    coarse = rng.random((h // 64 + 2, w // 64 + 2)).astype(np.float32)
    field = np.kron(coarse, np.ones((64, 64), np.float32))[:h, :w]
    cov5 = ((field + smooth / smooth.max()) > 0.7).astype(np.uint8)
    cov4 = ((field + smooth / smooth.max()) > 0.25).astype(np.uint8)
    return pop.astype(np.float32), cov5, cov4


def run_exactextract(grid: Grid, counties: gpd.GeoDataFrame, pop, cov5, cov4):
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    minx, miny, maxx, maxy = grid.bounds
    wkt = grid.crs.to_wkt()

    def src(a, name):
        return NumPyRasterSource(a, minx, miny, maxx, maxy, name=name, srs_wkt=wkt)

    return exact_extract(
        [src(pop, "pop"), src(cov5, "cov5"), src(cov4, "cov4")],
        counties,
        ["sum", "weighted_sum", "count"],
        weights=src(pop, "w"),
        output="pandas",
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="Quanzhou's 12 counties at 200 m")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    b = gpd.read_file(default_boundaries_path())
    counties = b[b["level"] == "county"]
    resolution = 100.0
    if args.quick:
        counties = counties[counties["admin_code"].str.startswith("3505")]
        resolution = 200.0
    counties = counties.reset_index(drop=True)
    grid = Grid.for_geometries(counties, resolution, UTM50)
    metric = counties.to_crs(UTM50)[["admin_code", "geometry"]]
    pop, cov5, cov4 = synthetic_rasters(grid)
    masks = {"5g": cov5, "4g": cov4}
    workers = os.cpu_count() or 1
    print(
        f"job: {len(counties)} counties, grid {grid.width}×{grid.height} = {grid.n_pixels / 1e6:.1f} M "
        f"pixels at {resolution:g} m, 3 bands (population, 5G mask, 4G mask)"
    )

    # First call on a tiny job: numba compile (or cache load) and GDAL warm-up, reported apart.
    tiny = Grid(UTM50, grid.transform, 8, 8)
    t0 = time.perf_counter()
    zonal.zonal_sums(
        [shapely.box(*tiny.bounds)],
        tiny,
        np.ones((8, 8), np.float32),
        {"a": np.ones((8, 8), np.uint8)},
        subpixel=4,
        workers=1,
    )
    first_call_s = time.perf_counter() - t0

    def ours(n):
        return zonal.zonal_sums(metric.geometry, grid, pop, masks, subpixel=4, workers=n)

    ours(workers)  # warm (page in the rasters)
    tracemalloc.start()
    z = ours(1)
    ours_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    t1_best, t1_med = best_of(lambda: ours(1), args.repeat)
    tn_best, tn_med = best_of(lambda: ours(workers), args.repeat)

    ee = run_exactextract(grid, metric, pop, cov5, cov4)  # warm
    ee_best, ee_med = best_of(lambda: run_exactextract(grid, metric, pop, cov5, cov4), args.repeat)

    px_km2 = grid.pixel_area_m2 / 1e6
    pairs = {
        "population": (z.population, ee["pop_sum"].to_numpy()),
        "area_km2": (z.area_km2, ee["pop_count"].to_numpy() * px_km2),
        "covered_area_km2_5g": (z.covered_area_km2["5g"], ee["cov5_sum"].to_numpy() * px_km2),
        "covered_population_5g": (z.covered_population["5g"], ee["cov5_w_weighted_sum"].to_numpy()),
        "covered_area_km2_4g": (z.covered_area_km2["4g"], ee["cov4_sum"].to_numpy() * px_km2),
        "covered_population_4g": (z.covered_population["4g"], ee["cov4_w_weighted_sum"].to_numpy()),
    }
    agreement = {}
    for name, (a, e) in pairs.items():
        ok = e > 0
        rel = np.abs(a[ok] / e[ok] - 1.0)
        agreement[name] = {"max_rel_diff": float(rel.max()), "mean_rel_diff": float(rel.mean())}
    total = {
        "gigacov_population": float(z.population.sum()),
        "exactextract_population": float(ee["pop_sum"].sum()),
    }

    rows = [
        ("gigacov zonal, 1 thread", t1_best, t1_med),
        (f"gigacov zonal, {workers} threads", tn_best, tn_med),
        ("exactextract (1 thread)", ee_best, ee_med),
    ]
    print(f"\n{'':34s} {'best s':>8s} {'median s':>9s} {'Mpx/s':>8s}")
    for name, best, med in rows:
        print(f"{name:34s} {best:8.3f} {med:9.3f} {grid.n_pixels / best / 1e6:8.1f}")
    print(
        f"\nexactextract / gigacov: {ee_best / t1_best:.2f}× (1 thread), {ee_best / tn_best:.2f}× ({workers} threads)"
    )
    print(f"first call (numba compile or cache load): {first_call_s:.2f} s")
    print("\nagreement per county (relative difference gigacov vs exactextract):")
    for name, a in agreement.items():
        print(
            f"  {name:24s} max {a['max_rel_diff'] * 100:7.3f} %   mean {a['mean_rel_diff'] * 100:7.3f} %"
        )
    print(
        f"\npeak memory: gigacov call {ours_peak_mb:.0f} MiB (tracemalloc), process {peak_rss_mb():.0f} MiB (ru_maxrss)"
    )
    print("note: timings on a shared 2-core machine are noisy; the ratio is measured in one run.")

    figures = {
        "job": {
            "counties": len(counties),
            "resolution_m": resolution,
            "width": grid.width,
            "height": grid.height,
            "pixels": grid.n_pixels,
            "bands": 3,
            "subpixel": 4,
            "quick": args.quick,
            "repeat": args.repeat,
        },
        "seconds": {
            "gigacov_1_thread": {"best": t1_best, "median": t1_med},
            f"gigacov_{workers}_threads": {"best": tn_best, "median": tn_med},
            "exactextract": {"best": ee_best, "median": ee_med},
            "first_call": first_call_s,
        },
        "ratio_exactextract_over_gigacov": {
            "1_thread": ee_best / t1_best,
            f"{workers}_threads": ee_best / tn_best,
        },
        "agreement": agreement,
        "totals": total,
        "memory_mb": {"gigacov_tracemalloc_peak": ours_peak_mb, "process_peak_rss": peak_rss_mb()},
        "cpu_count": workers,
    }
    path = save("zonal", figures)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
