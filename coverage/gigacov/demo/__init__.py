"""The embedded default: a synthetic, seeded Quanzhou scenario (docs/design.md §10).

``build_demo(out_dir)`` writes the inputs (villages, population raster, DEM, two yearly operator
site exports, broadband statistics, key places), two scenario files and ``README-synthetic.md``;
``run_demo(out_dir)`` also runs both years end to end and compares them (``gigacov demo``).
Real: Quanzhou's county boundaries and county populations. Everything else is synthetic and
labelled so.
"""

from __future__ import annotations

from .build import FILE_NAMES, build_demo, generate_world, scenario_name
from .design import COUNTIES, DEFAULT_SEED, KINMEN_CODE, REGION, YEARS, intended_failures
from .run import outcome_check, run_demo

__all__ = [
    "build_demo",
    "run_demo",
    "generate_world",
    "outcome_check",
    "scenario_name",
    "FILE_NAMES",
    "COUNTIES",
    "DEFAULT_SEED",
    "KINMEN_CODE",
    "REGION",
    "YEARS",
    "intended_failures",
]
