"""Grids and coverage comparisons shared by the test modules."""

from __future__ import annotations

import numpy as np
import pyproj
from affine import Affine

from gigacov.grid import Grid
from gigacov.radio.result import CoverageResult

#: UTM zone 50N, the metric CRS of Quanzhou and most of Fujian.
UTM50 = pyproj.CRS.from_epsg(32650)

#: The per-pixel arrays of a coverage result.
COVERAGE_ARRAYS = ("rsrp_dbm", "sinr_db", "server", "covered")


def utm_grid(
    height: int, width: int, resolution_m: float, *, west: float, north: float, crs=UTM50
) -> Grid:
    """A north-up grid of square pixels whose top-left corner is (``west``, ``north``)."""
    return Grid(crs, Affine(resolution_m, 0.0, west, 0.0, -resolution_m, north), width, height)


def assert_same_coverage(
    expected: CoverageResult, actual: CoverageResult, *, evaluations: bool = True
) -> None:
    """Two coverage results are identical, array by array (bit for bit, NaN where NaN).

    With ``evaluations`` the engines must also have evaluated the same number of cell-pixels
    (the same work split differently, never work skipped).
    """
    for name in COVERAGE_ARRAYS:
        np.testing.assert_array_equal(
            np.asarray(getattr(actual, name)), np.asarray(getattr(expected, name)), err_msg=name
        )
    if evaluations:
        assert actual.timings["evaluations"] == expected.timings["evaluations"]
