"""What one run produced, in memory: :class:`RunResult`.

The pipeline (:mod:`gigacov.pipeline`) fills a :class:`RunResult` stage by stage; planning, the
map and the report read it. It lives in a module of its own, below all of them, so that they can
name its type without importing the pipeline. The run directory (:mod:`gigacov.rundir`) holds
the same results on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .grid import Grid
from .scenario import Scenario

if TYPE_CHECKING:  # pragma: no cover - types only; never imported at run time
    from .catalogue import IndicatorSet
    from .field import FieldResult
    from .ingest.model import Inputs
    from .planning.result import PlanResult
    from .radio.result import CoverageResult
    from .reuse import Decision
    from .staging import Staging
    from .standard_files import Standard

__all__ = ["RunResult"]


@dataclass
class RunResult:
    """Everything one run produced, in memory (the run directory holds the same on disk).

    Attributes
    ----------
    scenario
        The scenario that was run.
    run_dir
        Its run directory.
    inputs
        The validated inputs (None only before the ingest stage has run).
    grid
        The analysis grid (from the coverage stage on).
    population
        Persons per grid pixel (float32), or None without population data.
    coverage
        Technology (``"5G"``, ``"4G"``) → coverage result.
    coverage_by_operator
        Operator → its own 5G coverage (``[radio] per_operator``).
    operator_indicators
        Level → the ``<level>_operator`` table (one row per unit × operator).
    indicators
        Indicator tables per level (from the check stage on).
    standards
        The standards evaluated (check stage).
    compliance
        The compliance table (check stage).
    plan
        Recommended sites (plan stage), None when planning did not run.
    field_result
        The field check against measurements (with ``[measurements]``), else None.
    outputs
        Output name → path of every file written.
    timings
        Stage → seconds.
    manifest
        What ``manifest.json`` holds (after the run).
    warnings
        The distinct warnings logged during the run, in order (each said once).
    stages
        Per data stage (coverage, check, plan) what the manifest keeps to reuse it later.
    reuse
        What was read back from the run directory and why anything was recomputed, when the
        run reused an earlier one (:mod:`gigacov.reuse`), else None.
    staging
        While the run is being built: its :class:`gigacov.staging.Staging` (``run_dir`` is
        then the staging folder); None once the run is in its run directory.
    """

    scenario: Scenario
    run_dir: Path
    inputs: Inputs | None = None
    grid: Grid | None = None
    population: np.ndarray | None = None
    coverage: dict[str, CoverageResult] = field(default_factory=dict)
    coverage_by_operator: dict[str, CoverageResult] = field(default_factory=dict)
    operator_indicators: dict[str, pd.DataFrame] = field(default_factory=dict)
    indicators: IndicatorSet | None = None
    standards: list[Standard] = field(default_factory=list)
    compliance: pd.DataFrame | None = None
    plan: PlanResult | None = None
    field_result: FieldResult | None = None
    outputs: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    stages: dict[str, Any] = field(default_factory=dict)
    reuse: Decision | None = None
    staging: Staging | None = None

    def final_path(self, path: str | Path) -> Path:
        """Where ``path`` (written while the run is staged) is once the run is complete: what
        a file may name (a link from the report to the map, the run's folder)."""
        return self.staging.final_path(path) if self.staging is not None else Path(path)

    @property
    def synthetic(self) -> bool:
        """True when the scenario is marked synthetic (every output then says so)."""
        return self.scenario.scenario.synthetic
