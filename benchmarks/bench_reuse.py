"""Benchmark of run reuse: ``gigacov map`` and ``gigacov report`` after ``gigacov run``.

Usage: python benchmarks/bench_reuse.py [--quick]

Builds the synthetic demo (scale 1, 100 m, with terrain; ``--quick``: scale 0.1, 1000 m, no
terrain), runs 2023 up to the compliance check (the 2024 report's year-over-year section needs
it) and 2024 in full with ``gigacov run``, then times, each as a separate ``gigacov`` process as a
user would start it:

* ``gigacov map`` and ``gigacov report`` reusing the run directory;
* the reference, in the same run: ``gigacov map --recompute`` (what ``map`` did before: compute
  every raster again).

Reports wall and CPU seconds per command, the ratio reference / reuse, the peak memory of the
reusing processes, and checks that the rasters were not rewritten. Writes bench-results/reuse.json.
"""

from __future__ import annotations

import hashlib
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

from gigacov.demo import build_demo  # noqa: E402

RASTERS = ("rsrp.tif", "sinr.tif", "server.tif", "covered.tif")


CPU: dict[str, float] = {}


def gigacov(args: list[str], cwd: Path) -> float:
    """Wall seconds of one ``gigacov`` process; its CPU seconds go to ``CPU[args[0]...]``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "gigacov.cli", "-q", *args],
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    key = " ".join(a for a in args if not a.endswith(".toml"))
    CPU[key] = round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2)
    return round(time.perf_counter() - t0, 2)


def digest(run_dir: Path) -> dict[str, tuple[int, str]]:
    return {
        n: (
            (run_dir / n).stat().st_mtime_ns,
            hashlib.sha256((run_dir / n).read_bytes()).hexdigest(),
        )
        for n in RASTERS
    }


def main() -> int:
    quick = "--quick" in sys.argv
    scale, res, terrain = (0.1, 1000.0, False) if quick else (1.0, 100.0, True)
    figures: dict = {"scale": scale, "resolution_m": res, "terrain": terrain, "quick": quick}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = build_demo(root / "demo", scale=scale, resolution_m=res, terrain=terrain)
        s23, s24 = str(paths["scenario_2023"]), str(paths["scenario_2024"])
        figures["run_2023_check_s"] = gigacov(["check", s23], root)
        figures["run_2024_s"] = gigacov(["run", s24], root)
        run_dir = Path(s24).parent / "runs" / "quanzhou-2024-synthetic"
        before = digest(run_dir)
        figures["map_reuse_s"] = gigacov(["map", s24], root)
        figures["report_reuse_s"] = gigacov(["report", s24], root)
        figures["reuse_peak_rss_mb"] = round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0, 1
        )
        figures["rasters_untouched"] = digest(run_dir) == before
        figures["map_recompute_s"] = gigacov(["map", s24, "--recompute"], root)
        figures["map_speedup"] = round(figures["map_recompute_s"] / figures["map_reuse_s"], 1)
        figures["cpu_s"] = dict(CPU)  # CPU seconds per command: steadier on a shared machine
        figures["map_mb"] = round(
            (root / "maps" / "quanzhou-2024-synthetic.html").stat().st_size / 1e6, 2
        )
    print(f"run reuse, demo scale {scale:g}, {res:g} m, terrain {terrain}")
    for key in ("run_2024_s", "map_reuse_s", "report_reuse_s", "map_recompute_s"):
        print(f"  {key:<24} {figures[key]:>8.2f} s")
    print(f"  {'map: recompute / reuse':<24} {figures['map_speedup']:>8.1f} ×")
    for key, cpu in figures["cpu_s"].items():
        print(f"  {'CPU ' + key:<24} {cpu:>8.2f} s")
    print(f"  {'peak RSS (map, report)':<24} {figures['reuse_peak_rss_mb']:>8.1f} MiB")
    print(f"  {'rasters untouched':<24} {figures['rasters_untouched']}")
    print(f"  wrote {save('reuse', figures)}")
    return 0 if figures["rasters_untouched"] else 1


if __name__ == "__main__":
    sys.exit(main())
