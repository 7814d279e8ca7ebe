"""Planning: weak-coverage areas and recommended new 5G sites for failing counties.

* :func:`plan` — gaps (connected populated, uncovered areas) and greedy site placement per
  county failing a coverage-related indicator (objective: :mod:`gigacov.planning.greedy`);
* :func:`write_plan` — ``gaps.gpkg``, ``recommended_sites.csv``, ``recommended_sites.gpkg``;
* the console summary is printed by the command line (:func:`gigacov.cli_tables.print_plan`).
"""

from __future__ import annotations

from .core import plan
from .gaps import GAP_COLUMNS, find_gaps
from .greedy import COVERAGE_KEYS
from .output import write_plan
from .result import ASSUMPTIONS, OBJECTIVE, RECOMMENDED_COLUMNS, CountyPlan, PlanResult

__all__ = [
    "plan",
    "write_plan",
    "PlanResult",
    "CountyPlan",
    "GAP_COLUMNS",
    "RECOMMENDED_COLUMNS",
    "COVERAGE_KEYS",
    "OBJECTIVE",
    "ASSUMPTIONS",
    "find_gaps",
]
