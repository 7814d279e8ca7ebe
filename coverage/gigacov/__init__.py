"""gigacov — 5G and gigabit-broadband (双千兆) coverage analysis for Chinese provinces.

The public API re-exported here is stable; see README.md, docs/design.md and docs/architecture.md.
Heavy submodules (radio engine, indicators, maps, reports) are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    ConfigError,
    CRSError,
    GigacovError,
    InputError,
    ResourceError,
    RunError,
    StandardError,
)
from .grid import Grid, RasterData, Tile  # noqa: E402
from .scenario import Scenario, load_scenario  # noqa: E402

# name -> module that defines it (imported lazily by __getattr__)
_LAZY = {
    "run": "pipeline",
    "RunResult": "run_result",
    "load_inputs": "ingest",
    "Inputs": "ingest",
    "compute_coverage": "radio",
    "CoverageResult": "radio",
    "RadioParams": "radio",
    "path_loss_db": "radio",
    "population_grid": "zonal",
    "IndicatorSet": "indicators",
    "compute_indicators": "indicators",
    "write_indicators_gpkg": "indicators",
    "Standard": "standard_files",
    "load_standards": "standard_files",
    "evaluate": "compliance",
    "unit_status": "compliance",
    "plan": "planning",
    "PlanResult": "planning",
    "build_map": "maps",
    "write_report": "report",
    "compare_runs": "report",
    "run_demo": "demo",
}

__all__ = [
    "__version__",
    "GigacovError",
    "InputError",
    "ConfigError",
    "CRSError",
    "StandardError",
    "ResourceError",
    "RunError",
    "Grid",
    "Tile",
    "RasterData",
    "Scenario",
    "load_scenario",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gigacov' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
