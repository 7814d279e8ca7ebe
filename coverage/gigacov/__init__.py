"""gigacov — 5G and gigabit-broadband (双千兆) coverage analysis for Chinese provinces.

The public API re-exported here is stable; see README.md and DESIGN.md for the contracts.
"""

from __future__ import annotations

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
    "run",
]


def run(scenario, **kwargs):
    """Run the whole pipeline on a scenario (path or :class:`Scenario`); see :func:`gigacov.pipeline.run`."""
    from .pipeline import run as _run

    return _run(scenario, **kwargs)
