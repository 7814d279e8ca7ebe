"""Per-operator coverage cost: every operator's own run against the one region-wide run.

The scene is bench_radio's square around Quanzhou (100 m; 2,500 sites × 3 sectors, quick: 700)
with the sites split among the four operators in the demo's urban shares (移动 n41 45 %, 移动 n79
8 %, 电信 n78 22 %, 联通 n78 20 %, 广电 n28 5 %), carriers resolved from the shipped table. Two
settings: the operators' separate networks, and 电信/联通 n78 declared shared (its cells then serve
both operators; the two operators, having no other cells, share one run). Reported: wall and CPU seconds of the
region-wide run and of all per-operator runs together (best of ``--repeat``, kernels warmed
first), their ratio, cell-pixel evaluations of each, and peak memory. Timings on a shared machine
are noisy; the evaluation counts are exact.

Usage: python benchmarks/bench_operators.py [--quick] [--repeat N] [--workers N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, save  # noqa: E402
from bench_radio import square_scene  # noqa: E402

MIX = (
    ("中国移动", "n41", 0.45),
    ("中国移动", "n79", 0.08),
    ("中国电信", "n78", 0.22),
    ("中国联通", "n78", 0.20),
    ("中国广电", "n28", 0.05),
)
BANDS = {
    "n41": (2565.0, 100.0),
    "n79": (4850.0, 100.0),
    "n78": (3500.0, 100.0),
    "n28": (773.0, 30.0),
}


def scene(quick: bool, seed: int = 16):
    from gigacov.ingest.bands import n_rb_for

    rng = np.random.default_rng(seed)
    grid, cells, population = square_scene(quick, rng)
    n_sites = len(cells) // 3
    pick = rng.choice(len(MIX), n_sites, p=[m[2] for m in MIX])
    op = np.repeat([MIX[i][0] for i in pick], 3)
    band = np.repeat([MIX[i][1] for i in pick], 3)
    cells["operator"] = op
    cells["freq_mhz"] = [BANDS[b][0] for b in band]
    cells["bandwidth_mhz"] = [BANDS[b][1] for b in band]
    cells["freq_source"] = "band"
    scs = np.where(cells["bandwidth_mhz"] <= 50, 15.0, 30.0)
    cells["scs_khz"] = scs
    cells["n_rb"] = n_rb_for(np.full(len(cells), "5G"), cells["bandwidth_mhz"], scs)
    return grid, cells, population


def timed(fn, repeat: int):
    best_wall, best_cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from gigacov.by_operator import compute_operator_coverage
    from gigacov.operators import load_carrier_table, resolve_carriers, transmitters
    from gigacov.radio import RadioParams, compute_coverage

    grid, raw, population = scene(args.quick)
    params = RadioParams(model="auto", max_radius_m=5000.0)
    kw = {"population": population, "workers": args.workers, "progress": False}
    compute_coverage(raw.iloc[:30].reset_index(drop=True), grid, params, **kw)  # warm up
    figures = {"grid": list(grid.shape), "cells": int(len(raw)), "workers": args.workers}
    for name, shared in (("separate", []), ("shared_n78", [["中国电信", "中国联通", "n78"]])):
        cells, _ = resolve_carriers(raw, load_carrier_table(shared=shared))
        tx = transmitters(cells)
        rw, rc, region = timed(lambda tx=tx: compute_coverage(tx, grid, params, **kw), args.repeat)
        ow, oc, (by_op, _) = timed(
            lambda tx=tx: compute_operator_coverage(tx, grid, params, **kw), args.repeat
        )
        ev_region = int(region.timings["evaluations"])
        runs = {id(c): c for c in by_op.values()}  # operators of one shared network share a run
        ev_ops = int(sum(c.timings["evaluations"] for c in runs.values()))
        figures[name] = {
            "region_wall_s": round(rw, 3),
            "region_cpu_s": round(rc, 3),
            "operators_wall_s": round(ow, 3),
            "operators_cpu_s": round(oc, 3),
            "ratio_wall": round(ow / rw, 2),
            "ratio_cpu": round(oc / rc, 2),
            "evaluations_region": ev_region,
            "evaluations_operators": ev_ops,
            "ratio_evaluations": round(ev_ops / ev_region, 3),
            "runs": len(runs),
            "cells_per_operator": {op: int(len(c.cells)) for op, c in by_op.items()},
            "covered_share_region": round(float(region.covered.mean()), 4),
            "covered_share_per_operator": {
                op: round(float(c.covered.mean()), 4) for op, c in by_op.items()
            },
        }
        f = figures[name]
        print(
            f"{name}: region {rw:.2f} s wall / {rc:.2f} s CPU, all operators {ow:.2f} s / "
            f"{oc:.2f} s → ×{f['ratio_wall']} wall, ×{f['ratio_cpu']} CPU, "
            f"×{f['ratio_evaluations']} evaluations"
        )
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(f"peak memory {figures['peak_rss_mb']:.0f} MiB → {save('operators', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
