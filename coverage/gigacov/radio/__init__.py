"""Radio coverage: propagation models, antenna pattern, terrain, numba kernels and the engine.

Public API (stable; other modules code against it):

* :func:`compute_coverage` — cells → :class:`CoverageResult` (best-server RSRP, server, SINR,
  covered) on a grid, on threads or Dask.
* :func:`cell_footprints` — each cell's own RSRP on the window within its cut-off radius.
* :func:`path_loss_db` — the path-loss models, vectorised over NumPy arrays.
* :func:`write_coverage` / :func:`read_coverage` — the rasters as Cloud-Optimised GeoTIFFs.
* :class:`RadioParams`, :class:`CoverageResult`, :data:`NO_SERVER`.

The model details (formulas, validity ranges, LOS/NLOS and antenna conventions) are documented
in :mod:`gigacov.radio.models`, :mod:`gigacov.radio.antenna`, :mod:`gigacov.radio.terrain` and
:mod:`gigacov.radio.engine`. The modules, bottom up: ``vmath`` (vectorisable maths), ``models``,
``antenna``, ``terrain``, ``kernels`` (numba, one tile or one cell's window), ``ground`` (clutter
classes, the DEM on the grid), ``prepare`` (cells → kernel arrays), ``backends`` (tiles, threads,
Dask, memory-mapped outputs, compilation) and ``engine`` (the public functions).
"""

from __future__ import annotations

from .engine import cell_footprints, clutter_classes, compute_coverage
from .models import MODEL_CODES, path_loss_db
from .rasters import read_coverage, write_coverage
from .result import NO_SERVER, CoverageResult, RadioParams

__all__ = [
    "compute_coverage",
    "cell_footprints",
    "clutter_classes",
    "path_loss_db",
    "write_coverage",
    "read_coverage",
    "RadioParams",
    "CoverageResult",
    "NO_SERVER",
    "MODEL_CODES",
]
