"""The ground under the analysis grid: clutter classes and the DEM on the grid (cached).

**Clutter classes** are 1 urban, 2 suburban, 3 rural. From a clutter raster when one is given
(warped to the grid with nearest-neighbour; other values fall back to the population rule), else
from ``population`` (persons per pixel): density ≥ ``urban_density_per_km2`` → urban, ≥
``suburban_density_per_km2`` → suburban, else rural (NaN → rural). Without either, every pixel is
suburban. The model ``auto`` uses UMa for urban **and suburban** pixels (macro masts of 25–40 m
match UMa's 25 m reference height; UMi assumes below-rooftop 10 m street cells) and RMa for rural
ones. COST-231 Hata takes its environment from the same classes.

**The DEM** is warped (bilinear) onto the grid extended by the largest cut-off radius on every
side, so that paths from cells outside the grid see their terrain. The warped grid is kept for
the next call with the same DEM values, grid and padding (the pipeline computes 5G and 4G on the
same DEM, and planning calls :func:`gigacov.radio.cell_footprints` many times): one such grid
stays in memory between calls (4 bytes per padded pixel).
"""

from __future__ import annotations

import collections
import logging
import math
import zlib

import numpy as np
import pyproj
from affine import Affine

from ..errors import InputError
from ..grid import Grid, RasterData, warp_to_grid
from .models import RURAL, SUBURBAN, URBAN
from .result import RadioParams

__all__ = ["clutter_classes", "dem_on_grid"]

log = logging.getLogger(__name__)

#: Rows per block where a whole grid is converted (no full-size temporaries).
_ROWS = 1024


def clutter_classes(
    grid: Grid,
    params: RadioParams,
    population: np.ndarray | None = None,
    clutter: RasterData | None = None,
) -> np.ndarray | None:
    """Clutter class per pixel (int8: 1 urban, 2 suburban, 3 rural), or None without inputs.

    From ``clutter`` (warped to the grid, nearest) where it holds 1, 2 or 3; elsewhere from the
    population density (``population`` persons per pixel → persons/km² against
    ``params.urban_density_per_km2`` and ``params.suburban_density_per_km2``); elsewhere suburban.
    """
    classes = None
    if population is not None:
        pop = np.asarray(population)
        if pop.shape != grid.shape:
            raise InputError(
                f"population grid has shape {pop.shape}, the analysis grid is {grid.shape}; "
                "compute it with gigacov.zonal.population_grid on the same grid"
            )
        classes = np.full(grid.shape, RURAL, dtype=np.int8)
        km2 = grid.pixel_area_m2 / 1e6
        # A block of rows at a time: a province grid at 30 m has 300 M pixels, and a float64
        # density grid would take 2.4 GB.
        for r0 in range(0, grid.height, _ROWS):
            density = pop[r0 : r0 + _ROWS].astype(np.float64) / km2
            block = classes[r0 : r0 + _ROWS]
            block[density >= params.suburban_density_per_km2] = SUBURBAN
            block[density >= params.urban_density_per_km2] = URBAN
    if clutter is not None:
        warped = _aligned_copy(clutter, grid)
        if warped is None:
            warped = warp_to_grid(clutter, grid, resampling="nearest")
        valid = np.isin(warped, (URBAN, SUBURBAN, RURAL))
        if classes is None:
            classes = np.full(grid.shape, SUBURBAN, dtype=np.int8)
        classes[valid] = warped[valid].astype(np.int8)
        if not valid.all():
            log.info(
                "clutter raster %s: %.1f%% of the grid has no class 1/2/3; using %s there",
                clutter.path or "(in memory)",
                100.0 * (1.0 - valid.mean()),
                "the population density" if population is not None else "suburban",
            )
    return classes


def _aligned_copy(raster: RasterData, grid: Grid) -> np.ndarray | None:
    """``raster`` on ``grid`` by plain copying when it is in the grid CRS on the same pixel
    lattice (same size, north-up, whole-pixel offset); else None (warp instead). Exact."""
    t = raster.transform
    res = grid.resolution_m
    try:
        same_crs = pyproj.CRS.from_user_input(raster.crs) == grid.crs
    except pyproj.exceptions.CRSError:
        return None
    if (
        not same_crs
        or t.b != 0
        or t.d != 0
        or not (math.isclose(t.a, res, rel_tol=1e-12) and math.isclose(-t.e, res, rel_tol=1e-12))
    ):
        return None
    col_shift = (t.c - grid.transform.c) / res
    row_shift = (grid.transform.f - t.f) / res
    if abs(col_shift - round(col_shift)) > 1e-9 or abs(row_shift - round(row_shift)) > 1e-9:
        return None
    dc, dr = int(round(col_shift)), int(round(row_shift))  # grid pixel of raster pixel (0, 0)
    out = np.full(grid.shape, np.nan, dtype=np.float32)
    h, w = raster.array.shape
    r0, r1 = max(dr, 0), min(dr + h, grid.height)
    c0, c1 = max(dc, 0), min(dc + w, grid.width)
    # Block of rows by block of rows, no full-size temporaries (a 30 m province DEM is 1.2 GB).
    for a in range(r0, r1, _ROWS):
        b = min(a + _ROWS, r1)
        part = RasterData(
            raster.array[a - dr : b - dr, c0 - dc : c1 - dc],
            raster.transform,
            raster.crs,
            raster.nodata,
        )
        out[a:b, c0:c1] = np.where(part.valid_mask(), part.array, np.nan)
    return out


#: The last DEM warped onto a grid: the pipeline computes 5G and 4G on the same DEM and grid, and
#: planning calls :func:`cell_footprints` tens of times with them (warping a province DEM takes
#: longer than a batch of footprints). One entry: it holds one padded DEM grid (4 bytes per pixel)
#: until a different DEM or grid replaces it.
_DEM_CACHE: collections.OrderedDict = collections.OrderedDict()
_DEM_CACHE_SIZE = 1


def _dem_key(dem: RasterData, grid: Grid, pad: int) -> tuple:
    """What the warped DEM depends on, including a checksum of the DEM's values (so an array
    changed in place is warped again)."""
    arr = np.ascontiguousarray(dem.array)
    return (
        arr.shape,
        arr.dtype.str,
        zlib.adler32(arr.view(np.uint8).reshape(-1)),
        tuple(dem.transform)[:6],
        pyproj.CRS.from_user_input(dem.crs).to_wkt(),
        repr(dem.nodata),
        grid.crs.to_wkt(),
        tuple(grid.transform)[:6],
        grid.width,
        grid.height,
        pad,
    )


def dem_on_grid(dem: RasterData, grid: Grid, pad: int) -> np.ndarray:
    """The DEM warped (bilinear) onto the grid extended by ``pad`` pixels on every side (cached:
    the same DEM values, grid and pad give the same array back; the kernels never write to it)."""
    key = _dem_key(dem, grid, pad)
    hit = _DEM_CACHE.get(key)
    if hit is not None:
        _DEM_CACHE.move_to_end(key)
        return hit
    out = _warp_dem(dem, grid, pad)
    _DEM_CACHE[key] = out
    while len(_DEM_CACHE) > _DEM_CACHE_SIZE:
        _DEM_CACHE.popitem(last=False)
    return out


def _warp_dem(dem: RasterData, grid: Grid, pad: int) -> np.ndarray:
    res = grid.resolution_m
    t = grid.transform
    padded = Grid(
        grid.crs,
        Affine(res, 0.0, t.c - pad * res, 0.0, -res, t.f + pad * res),
        grid.width + 2 * pad,
        grid.height + 2 * pad,
    )
    out = _aligned_copy(dem, padded)
    if out is None:
        out = warp_to_grid(dem, padded, resampling="bilinear")
    inner = out[pad : pad + grid.height, pad : pad + grid.width]
    n_nan = sum(int(np.isnan(inner[a : a + _ROWS]).sum()) for a in range(0, grid.height, _ROWS))
    missing = n_nan / inner.size if inner.size else 0.0
    if missing > 0:
        log.warning(
            "DEM %s covers only %.1f%% of the grid; terrain is ignored where it has no data",
            dem.path or "(in memory)",
            100.0 * (1.0 - missing),
        )
    return out
