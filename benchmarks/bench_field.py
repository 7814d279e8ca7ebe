"""Benchmark: the cost of the field check against the coverage run it checks.

Scene: the square scene of ``bench_radio`` (40 km × 40 km at 100 m around Quanzhou, 2,500
synthetic sites × 3 sectors, population from the sites; ``--quick``: 20 km, 700 sites), 5G with
the ``auto`` model. The coverage run (``compute_coverage``, warmed first, so numba compile time is
not in it) is the reference, measured in the same process. Then, for 100,000 and 1,000,000
synthetic samples spread along random drive routes over the scene (``--quick``: 20,000 and
100,000), each step of the field check is timed:

* ``predict`` — the prediction at every sample's pixel (``predict_samples``: positions to the
  grid, raster look-ups, serving-cell distances, verdicts);
* ``statistics`` — the error statistics with their breakdowns (``summarise``);
* ``calibration`` — the robust fit with 5-fold spatial cross-validation (``fit_calibration``);
* ``disputed`` — H3 resolution-8 aggregation and the binomial tests (``disputed_hexagons``).

Not included: reading the measurement file (ingest; see ``bench_ingest`` for rows/s of the
readers), the verdict-change check (one more indicators + compliance pass) and per-operator
predictions (a coverage run of that operator's cells on the window its samples span).

Writes ``bench-results/field.json``: seconds per step, samples/s, the ratio of the field check to
the coverage run, and peak memory.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import peak_rss_mb, save  # noqa: E402
from bench_radio import square_scene  # noqa: E402


def drive_samples(grid, n: int, rng) -> pd.DataFrame:
    """``n`` samples along random straight routes (50 m apart), as a drive test logs them."""
    x0, y0, x1, y1 = grid.bounds
    per_route = 400
    routes = -(-n // per_route)
    sx = rng.uniform(x0, x1, routes)
    sy = rng.uniform(y0, y1, routes)
    ang = rng.uniform(0, 2 * np.pi, routes)
    step = np.arange(per_route) * 50.0
    x = (sx[:, None] + np.cos(ang)[:, None] * step).ravel()[:n]
    y = (sy[:, None] + np.sin(ang)[:, None] * step).ravel()[:n]
    x = np.clip(x, x0 + 1, x1 - 1)
    y = np.clip(y, y0 + 1, y1 - 1)
    lon, lat = grid.xy_to_lonlat(x, y)
    return pd.DataFrame(
        {
            "lon": lon,
            "lat": lat,
            "tech": "5G",
            "operator": "",
            "rsrp_dbm": rng.normal(-95.0, 12.0, n),
            "sinr_db": np.where(rng.random(n) < 0.5, rng.normal(8.0, 6.0, n), np.nan),
            "indoor": False,
            "admin_code": "350503",
        }
    )


def main() -> int:
    from gigacov.field.calibration import fit_calibration
    from gigacov.field.check import predict_samples, summarise
    from gigacov.field.disputed import disputed_hexagons
    from gigacov.radio import RadioParams, compute_coverage
    from gigacov.radio.engine import clutter_classes

    quick = "--quick" in sys.argv
    rng = np.random.default_rng(17)
    grid, cells, population = square_scene(quick, rng)
    params = RadioParams(tech="5G", model="auto", max_radius_m=5000.0)
    tiny = cells.iloc[:5].reset_index(drop=True)
    compute_coverage(tiny, grid, params, population=population)  # compile / warm the kernels
    t0 = time.perf_counter()
    cov = compute_coverage(cells, grid, params, population=population)
    coverage_s = time.perf_counter() - t0
    classes = clutter_classes(grid, params, population)
    print(
        f"coverage run: {len(cells):,} cells on {grid.height}×{grid.width} px: {coverage_s:.2f} s",
        flush=True,
    )
    sizes = (20_000, 100_000) if quick else (100_000, 1_000_000)
    # warm the field code paths (pandas, h3, first calls) on a small set
    small = drive_samples(grid, 2000, rng)
    df = predict_samples(small, grid, {"5G": cov}, classes=classes)
    fit_calibration(df[np.isfinite(df["error_rsrp_db"])], {"5G": cov})
    disputed_hexagons(df[df["status"] == "compared"])
    results = []
    for n in sizes:
        samples = drive_samples(grid, n, rng)
        steps = {}
        t = time.perf_counter()
        df = predict_samples(samples, grid, {"5G": cov}, classes=classes)
        steps["predict"] = time.perf_counter() - t
        t = time.perf_counter()
        summarise(df)
        steps["statistics"] = time.perf_counter() - t
        compared = df[df["status"] == "compared"]
        t = time.perf_counter()
        fit_calibration(compared[np.isfinite(compared["error_rsrp_db"])], {"5G": cov})
        steps["calibration"] = time.perf_counter() - t
        t = time.perf_counter()
        hexes = disputed_hexagons(compared)
        steps["disputed"] = time.perf_counter() - t
        total = sum(steps.values())
        row = {
            "samples": n,
            "compared": int(len(compared)),
            "hexagons": int(len(hexes)),
            "seconds": {k: round(v, 3) for k, v in steps.items()},
            "total_s": round(total, 3),
            "samples_per_s": round(n / total),
            "ratio_to_coverage_run": round(total / coverage_s, 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }
        results.append(row)
        print(
            f"{n:>9,} samples: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items())
            + f" — total {total:.2f} s = {total / coverage_s:.2f}× the coverage run; "
            f"{n / total:,.0f} samples/s; peak {peak_rss_mb():,.0f} MiB",
            flush=True,
        )
    figures = {
        "scene": {
            "cells": int(len(cells)),
            "grid": [grid.height, grid.width],
            "resolution_m": grid.resolution_m,
            "quick": quick,
        },
        "coverage_run_s": round(coverage_s, 3),
        "coverage_evaluations_per_s": cov.timings.get("evaluations_per_s"),
        "runs": results,
        "note": "timings on a shared machine; the ratio is measured within one process",
    }
    print(f"written: {save('field', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
