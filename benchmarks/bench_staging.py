"""Benchmark of staged runs: what building a run in a staging folder and moving it in costs.

Usage: python benchmarks/bench_staging.py [--quick] [--scenario SCENARIO.toml]

Builds the synthetic demo (scale 1, 100 m grid, no terrain; ``--quick``: scale 0.1, 1000 m) or
uses the 2024 scenario given (for example the one ``make demo`` wrote), runs it in full, then
runs what ``gigacov map`` and ``gigacov report`` do (reusing the run) three times each, all in
this process. Every staging step is timed where it happens — creating the staging folder, the
hard links of the reused files, the commit (renames, manifest last) and the start-up sweep — and
reported next to the command's total wall time, as seconds and as a share: the overhead measured
against the command it belongs to, in the same run.

Reference, in the same run: copying the files a reusing command keeps (what a staging folder
without hard links would cost) against hard-linking them. Also checks that the reused rasters
keep their inode (linked, never copied) and reports the run's size (the disk a re-run needs on
top of it, at most) and the peak memory. Writes bench-results/staging.json.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, save  # noqa: E402

from gigacov import staging  # noqa: E402
from gigacov.demo import build_demo  # noqa: E402
from gigacov.pipeline import run  # noqa: E402
from gigacov.scenario import load_scenario  # noqa: E402

SPENT: dict[str, float] = defaultdict(float)


def instrument() -> None:
    real_create = staging.Staging.create.__func__

    def create(cls, out_dir):
        t0 = time.perf_counter()
        try:
            return real_create(cls, out_dir)
        finally:
            SPENT["create"] += time.perf_counter() - t0

    staging.Staging.create = classmethod(create)
    for name, key in (("carry", "hard links"), ("commit", "commit")):
        _wrap_method(staging.Staging, name, key)
    _wrap_function(staging, "sweep", "sweep")


def _wrap_method(cls, name: str, key: str) -> None:
    real = getattr(cls, name)

    def wrapper(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return real(self, *args, **kwargs)
        finally:
            SPENT[key] += time.perf_counter() - t0

    setattr(cls, name, wrapper)


def _wrap_function(module, name: str, key: str) -> None:
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            SPENT[key] += time.perf_counter() - t0

    setattr(module, name, wrapper)


def command(label: str, figures: dict, repeat: int, **kwargs) -> None:
    """Run ``pipeline.run(**kwargs)`` ``repeat`` times; record total and staging seconds."""
    totals, overheads = [], []
    for _ in range(repeat):
        SPENT.clear()
        t0 = time.perf_counter()
        run(**kwargs)
        totals.append(time.perf_counter() - t0)
        overheads.append(dict(SPENT))
    best = min(range(repeat), key=lambda i: totals[i])
    staged = sum(overheads[best].values())
    figures[label] = {
        "total_s": round(totals[best], 3),
        "staging_s": round(staged, 4),
        "staging_share": round(staged / totals[best], 4),
        "steps_s": {k: round(v, 4) for k, v in overheads[best].items()},
        "totals_s": [round(t, 3) for t in totals],
    }


def main() -> int:
    quick = "--quick" in sys.argv
    given = sys.argv[sys.argv.index("--scenario") + 1] if "--scenario" in sys.argv else None
    scale, res = (0.1, 1000.0) if quick else (1.0, 100.0)
    figures: dict = {"quick": quick}
    instrument()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if given:
            s24 = Path(given).resolve()
            figures["scenario"] = str(s24)
        else:
            paths = build_demo(root / "demo", scale=scale, resolution_m=res, terrain=False)
            s24 = paths["scenario_2024"]
            figures.update(scale=scale, resolution_m=res, terrain=False)
        os.chdir(root)  # the map goes to maps/ here
        scn = load_scenario(s24).replace(report={"previous_run": ""})
        run_dir = Path(scn.out_dir)
        command("run", figures, 1, scenario=scn)
        rasters = sorted(p for p in run_dir.glob("*.tif"))
        inodes = {p.name: p.stat().st_ino for p in rasters}
        figures["run_mb"] = round(sum(p.stat().st_size for p in run_dir.iterdir()) / 1e6, 1)
        command("map", figures, 3, scenario=scn, until="map", skip={"plan"}, reuse=True)
        command(
            "report", figures, 3, scenario=scn, until="report", skip={"plan", "map"}, reuse=True
        )
        figures["rasters_linked_not_copied"] = {p.name: p.stat().st_ino for p in rasters} == inodes
        # Reference: the reused files copied instead of hard-linked, same files, same disk.
        files = [p for p in run_dir.iterdir() if staging.is_run_output(p.name)]
        ref = run_dir.parent / ".bench-copy"
        for how, fn in (("copy", shutil.copy2), ("hard link", os.link)):
            ref.mkdir()
            t0 = time.perf_counter()
            for p in files:
                fn(p, ref / p.name)
            figures[f"{how}_s"] = round(time.perf_counter() - t0, 4)
            shutil.rmtree(ref)
        figures["copy_over_link"] = round(figures["copy_s"] / max(figures["hard link_s"], 1e-6), 1)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(f"staged runs ({'given scenario' if given else f'demo scale {scale:g}, {res:g} m'})")
    for label in ("run", "map", "report"):
        f = figures[label]
        steps = ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in f["steps_s"].items())
        print(
            f"  {label:<7} total {f['total_s']:8.2f} s   staging {f['staging_s'] * 1000:7.1f} ms "
            f"({f['staging_share']:.2%})   [{steps}]"
        )
    print(
        f"  run size {figures['run_mb']} MB; rasters kept their inodes: "
        f"{figures['rasters_linked_not_copied']}"
    )
    print(
        f"  reference: copying the run's files {figures['copy_s'] * 1000:.1f} ms, hard-linking "
        f"them {figures['hard link_s'] * 1000:.1f} ms ({figures['copy_over_link']}×)"
    )
    print(f"  peak RSS {figures['peak_rss_mb']} MiB")
    print(f"  wrote {save('staging', figures)}")
    return 0 if figures["rasters_linked_not_copied"] else 1


if __name__ == "__main__":
    sys.exit(main())
