"""Benchmark of the synthetic demo generator (and, with --run, of the whole demo).

Usage: python benchmarks/bench_demo.py [--quick] [--run]

* generator: ``build_demo`` at scale 1 and 100 m (``--quick``: scale 0.1, 1000 m), cold (first call
  in the process: boundaries, coast) and warm, with the per-step breakdown of ``generate_world``;
* the separable grid evaluation of the terrain noise against the direct point-wise sum on the same
  grid (a ratio measured in this run);
* ``--run``: ``run_demo`` end to end (both years, every stage, comparison) at the same settings.

Writes bench-results/demo.json.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, save  # noqa: E402

from gigacov.demo import build_demo  # noqa: E402
from gigacov.demo.build import generate_world  # noqa: E402
from gigacov.demo.fields import Terrain, load_region  # noqa: E402


def main() -> int:
    quick = "--quick" in sys.argv
    full_run = "--run" in sys.argv
    scale, res = (0.1, 1000.0) if quick else (1.0, 100.0)
    figures: dict = {"scale": scale, "resolution_m": res, "quick": quick}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths = build_demo(Path(tmp) / "cold", scale=scale, resolution_m=res)
        figures["build_cold_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        build_demo(Path(tmp) / "warm", scale=scale, resolution_m=res)
        figures["build_warm_s"] = round(time.perf_counter() - t0, 2)
        figures["files_mb"] = {k: round(p.stat().st_size / 2**20, 2) for k, p in paths.items()}
        timings: dict[str, float] = {}
        world = generate_world(scale=scale, timings=timings)
        figures["generate_world_steps_s"] = timings
        figures["sites_5g"] = int((world.sites.sites["tech"] == "5G").sum())
        figures["sites_4g"] = int((world.sites.sites["tech"] == "4G").sum())
        figures["cells"] = int(len(world.cells))
        figures["villages"] = int(len(world.villages.table))

        # Separable noise on a grid vs the point-wise reference, same grid.
        region = load_region()
        terrain = Terrain.from_seed(np.random.default_rng(0), region)
        grid = region.grid(1000.0 if quick else 250.0)
        xs, ys = grid.centres()
        xx, yy = np.meshgrid(xs, ys)
        t0 = time.perf_counter()
        ref = terrain.noise(xx, yy)
        t_ref = time.perf_counter() - t0
        t0 = time.perf_counter()
        fast = terrain.noise_grid(xs, ys)
        t_fast = time.perf_counter() - t0
        figures["noise_grid"] = {
            "pixels": int(xx.size),
            "pointwise_s": round(t_ref, 4),
            "separable_s": round(t_fast, 4),
            "speedup": round(t_ref / t_fast, 1),
            "max_abs_diff": float(np.abs(ref - fast).max()),
        }
        if full_run:
            from gigacov.demo import run_demo

            t0 = time.perf_counter()
            run_demo(Path(tmp) / "run", resolution_m=res, scale=scale)
            figures["run_demo_s"] = round(time.perf_counter() - t0, 1)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)

    print(f"demo generator, scale {scale:g}, {res:g} m")
    print(f"  {'build_demo cold':<28} {figures['build_cold_s']:>8.2f} s")
    print(f"  {'build_demo warm':<28} {figures['build_warm_s']:>8.2f} s")
    for k, v in timings.items():
        print(f"    {k:<26} {v:>8.2f} s")
    print(
        f"  {'villages / 5G / 4G / cells':<28} {figures['villages']:,} / {figures['sites_5g']:,} / "
        f"{figures['sites_4g']:,} / {figures['cells']:,}"
    )
    n = figures["noise_grid"]
    print(
        f"  {'terrain noise, ' + format(n['pixels'], ',') + ' px':<28} point-wise {n['pointwise_s']:.3f} s, "
        f"separable {n['separable_s']:.3f} s, ×{n['speedup']} (max diff {n['max_abs_diff']:.1e})"
    )
    if "run_demo_s" in figures:
        print(f"  {'run_demo (both years)':<28} {figures['run_demo_s']:>8.1f} s")
    print(f"  {'peak RSS':<28} {figures['peak_rss_mb']:>8.1f} MiB")
    print(f"  wrote {save('demo', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
