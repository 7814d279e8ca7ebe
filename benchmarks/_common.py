"""Shared helpers for the benchmark scripts (timing, peak memory, result files)."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "bench-results"


def best_of(fn, repeat: int = 5) -> tuple[float, float]:
    """(best, median) wall time in seconds of ``fn()`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[0], times[len(times) // 2]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def save(area: str, figures: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{area}.json"
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    return path
