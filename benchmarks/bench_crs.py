"""Benchmark: WGS84 ⇄ GCJ-02 ⇄ BD-09 conversion of one million points.

Reference: a straightforward vectorised NumPy implementation of the same forward formula, run
on the same points in the same process. Usage: python benchmarks/bench_crs.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from _common import best_of, peak_rss_mb, save

from gigacov import crs


def numpy_wgs_to_gcj(lon: np.ndarray, lat: np.ndarray):
    a, ee, pi = 6378245.0, 0.00669342162296594323, math.pi
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20 * np.sin(6 * x * pi) + 20 * np.sin(2 * x * pi)) * 2 / 3
        + (20 * np.sin(y * pi) + 40 * np.sin(y / 3 * pi)) * 2 / 3
        + (160 * np.sin(y / 12 * pi) + 320 * np.sin(y * pi / 30)) * 2 / 3
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20 * np.sin(6 * x * pi) + 20 * np.sin(2 * x * pi)) * 2 / 3
        + (20 * np.sin(x * pi) + 40 * np.sin(x / 3 * pi)) * 2 / 3
        + (150 * np.sin(x / 12 * pi) + 300 * np.sin(x / 30 * pi)) * 2 / 3
    )
    rad = lat / 180 * pi
    magic = 1 - ee * np.sin(rad) ** 2
    sq = np.sqrt(magic)
    dlat = dlat * 180 / ((a * (1 - ee)) / (magic * sq) * pi)
    dlon = dlon * 180 / (a / sq * np.cos(rad) * pi)
    return lon + dlon, lat + dlat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n = 100_000 if args.quick else 1_000_000
    rng = np.random.default_rng(2024)
    lon = rng.uniform(115.8, 120.7, n)  # Fujian's extent
    lat = rng.uniform(23.5, 28.3, n)

    t0 = time.perf_counter()
    crs.wgs84_to_gcj02(lon[:10], lat[:10])  # compile or load the cached kernel
    crs.gcj02_to_wgs84(lon[:10], lat[:10])
    warm_s = time.perf_counter() - t0

    fwd, fwd_med = best_of(lambda: crs.wgs84_to_gcj02(lon, lat))
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    inv, inv_med = best_of(lambda: crs.gcj02_to_wgs84(glon, glat))
    bd, bd_med = best_of(lambda: crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat)))
    ref, ref_med = best_of(lambda: numpy_wgs_to_gcj(lon, lat))
    rlon, rlat = numpy_wgs_to_gcj(lon, lat)
    agree = float(max(np.abs(rlon - glon).max(), np.abs(rlat - glat).max()))
    back = crs.gcj02_to_wgs84(glon, glat)
    round_trip_deg = float(max(np.abs(back[0] - lon).max(), np.abs(back[1] - lat).max()))

    figures = {
        "points": n,
        "first_call_s (compile or cache load)": round(warm_s, 3),
        "wgs84_to_gcj02_s": round(fwd, 4),
        "wgs84_to_gcj02_points_per_s": round(n / fwd),
        "gcj02_to_wgs84_s (iterative inverse)": round(inv, 4),
        "wgs84_bd09_round_trip_s": round(bd, 4),
        "numpy_reference_forward_s": round(ref, 4),
        "speedup_forward_vs_numpy": round(ref / fwd, 2),
        "max_abs_diff_vs_numpy_deg": agree,
        "max_round_trip_error_deg": round_trip_deg,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    width = max(map(len, figures))
    print(f"CRS conversion benchmark ({n:,} points in Fujian, best of 5)")
    for k, v in figures.items():
        print(f"  {k:<{width}}  {v}")
    print(f"  -> {save('crs', figures)}")


if __name__ == "__main__":
    main()
