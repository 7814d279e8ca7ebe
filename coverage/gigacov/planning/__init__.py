"""Planning: weak-coverage areas and recommended new 5G sites for failing counties.

* :func:`plan` — gaps (connected populated, uncovered areas) and greedy site placement per
  county failing a coverage-related indicator (objective: :mod:`gigacov.planning.greedy`);
* :func:`write_plan` — ``gaps.gpkg``, ``recommended_sites.csv``, ``recommended_sites.gpkg``;
* :func:`print_plan` — a readable console summary.
"""

from __future__ import annotations

from .core import ASSUMPTIONS, OBJECTIVE, RECOMMENDED_COLUMNS, CountyPlan, PlanResult, plan
from .gaps import GAP_COLUMNS, find_gaps
from .greedy import COVERAGE_KEYS
from .output import print_plan, write_plan

__all__ = [
    "plan",
    "write_plan",
    "print_plan",
    "PlanResult",
    "CountyPlan",
    "GAP_COLUMNS",
    "RECOMMENDED_COLUMNS",
    "COVERAGE_KEYS",
    "OBJECTIVE",
    "ASSUMPTIONS",
    "find_gaps",
]
