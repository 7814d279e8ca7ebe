"""Zonal aggregation: population, area and covered shares per administrative unit.

Three layers (docs/architecture.md):

* **kernels** (``@jit``) on plain arrays: :func:`_zonal_tile_kernel` adds up, for one tile, the
  area, population, covered area and covered population of every zone from a *sub-sampled*
  zone-id raster; :func:`_paint_tile_kernel` spreads per-zone densities back onto pixels;
* **adapters**: :func:`_tile_zones` rasterises the zones once per tile (clipped to the tile, at
  ``subpixel`` × the grid resolution) and :func:`_run_tiles` runs the tiles on a thread pool
  (the kernels release the GIL), each tile into its own accumulator;
* **public functions**: :func:`zonal_sums`, :func:`spread_population`, :func:`population_grid`.

Sub-pixel rule
--------------
Every grid pixel is split into ``subpixel × subpixel`` equal sub-cells; a sub-cell belongs to the
zone that contains its centre (GDAL's pixel-centre rasterisation at the finer resolution, run once
per tile with all zones at once). A pixel's population and area are shared between zones in
proportion to the number of its sub-cells they hold, so a pixel on an edge between two villages is
split between them instead of going wholly to the one that holds its centre, and a village
smaller than a pixel still gets its fair share. ``subpixel = 1`` is the plain centre rule.
A zone too small to hold any sub-cell centre gets its exact polygon area at the pixel under its
representative point (``_tiny_zones``). The work scales with pixels × subpixel², never with
pixels × zones: each tile is rasterised once, and aggregated in one pass.

Coverage masks are defined per grid pixel, so a sub-cell is covered when its pixel is.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from affine import Affine

from ._jit import jit
from .errors import ConfigError, InputError
from .grid import Grid, Tile, population_to_grid

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from .ingest.model import Inputs

__all__ = [
    "ZonalSums",
    "zonal_sums",
    "rasterize_zones",
    "spread_population",
    "population_grid",
    "MAX_SUBPIXEL",
]

log = logging.getLogger(__name__)

# rasterio's rasterize builds an in-memory GDAL dataset and, when called from worker threads,
# sometimes reads its geotransform before setting it, which emits a spurious
# NotGeoreferencedWarning (the burned values are identical to a serial run; checked in
# tests/test_zonal.py). Silence exactly that warning from exactly that module.
warnings.filterwarnings(
    "ignore",
    message="Dataset has no geotransform",
    category=UserWarning,
    module="rasterio.features",
)

#: Largest accepted ``[indicators] subpixel`` (256 sub-cells per pixel).
MAX_SUBPIXEL = 16

#: Zone id of sub-cells outside every zone.
NO_ZONE = -1


# ------------------------------------------------------------------------------------------------
# Kernels
# ------------------------------------------------------------------------------------------------


@jit
def _zonal_tile_kernel(zone_sub, s, pop, masks, out):
    """Accumulate per-zone sums of one tile into ``out`` (in place).

    Parameters
    ----------
    zone_sub : uint8, uint16 or int32 (h·s, w·s)
        Zone number of each sub-cell (its row of ``out``); 0 = outside every zone (row 0 of
        ``out`` collects nothing).
    s : int
        Sub-cells per pixel edge.
    pop : float32 (h, w)
        Persons per pixel (non-finite values count as 0).
    masks : uint8 (k, h, w)
        Covered masks (non-zero = covered).
    out : float64 (1 + n_zones, 2 + 2k)
        Row 0 is "outside" and stays zero. Columns: area in pixels, persons, covered area in pixels per mask, covered persons per
        mask.
    """
    h = pop.shape[0]
    w = pop.shape[1]
    k = masks.shape[0]
    inv = 1.0 / (s * s)
    for r in range(h):
        r0 = r * s
        for c in range(w):
            c0 = c * s
            z0 = zone_sub[r0, c0]
            # Branch-free test whether all s×s sub-cells hold the same zone (most pixels do).
            diff = 0
            for i in range(s):
                for j in range(s):
                    diff |= zone_sub[r0 + i, c0 + j] ^ z0
            if diff == 0 and z0 == 0:
                continue
            p = pop[r, c]
            if not math.isfinite(p):
                p = 0.0
            if diff == 0:
                out[z0, 0] += 1.0
                out[z0, 1] += p
                for m in range(k):
                    if masks[m, r, c] != 0:
                        out[z0, 2 + m] += 1.0
                        out[z0, 2 + k + m] += p
            else:
                for i in range(s):
                    for j in range(s):
                        z = zone_sub[r0 + i, c0 + j]
                        if z == 0:
                            continue
                        out[z, 0] += inv
                        out[z, 1] += inv * p
                        for m in range(k):
                            if masks[m, r, c] != 0:
                                out[z, 2 + m] += inv
                                out[z, 2 + k + m] += inv * p


@jit
def _paint_tile_kernel(zone_sub, s, density, out):
    """Spread per-zone densities onto the pixels of one tile.

    ``out[r, c] += Σ density[zone of sub-cell] / s²`` over the pixel's sub-cells; ``zone_sub``
    as in :func:`_zonal_tile_kernel`, ``density`` in persons per pixel of area (float64, one
    value per zone number; ``density[0]`` = 0 for "outside").
    """
    h = out.shape[0]
    w = out.shape[1]
    inv = 1.0 / (s * s)
    for r in range(h):
        for c in range(w):
            acc = 0.0
            for i in range(s):
                for j in range(s):
                    acc += density[zone_sub[r * s + i, c * s + j]]
            out[r, c] += acc * inv


# ------------------------------------------------------------------------------------------------
# Adapters
# ------------------------------------------------------------------------------------------------


def _as_geometry_array(zones, grid: Grid) -> np.ndarray:
    """Zones as a shapely array in the grid CRS, made valid; accepts GeoSeries/GeoDataFrame."""
    import geopandas as gpd

    if isinstance(zones, gpd.GeoDataFrame):
        zones = zones.geometry
    if isinstance(zones, gpd.GeoSeries):
        if zones.crs is None:
            raise InputError("zones have no CRS; set one (e.g. EPSG:4326) before zonal statistics")
        if not grid.crs.equals(zones.crs):
            zones = zones.to_crs(grid.crs)
        geoms = np.asarray(zones.values, dtype=object)
    else:  # already shapely geometries in the grid CRS
        geoms = np.asarray(list(zones), dtype=object)
    geoms = np.where(shapely.is_missing(geoms), shapely.from_wkt("POLYGON EMPTY"), geoms)
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
    return geoms


def _tile_transform(grid: Grid, tile: Tile, s: int) -> Affine:
    res = grid.resolution_m
    t = grid.transform
    x0 = t.c + tile.col_off * res
    y1 = t.f - tile.row_off * res
    return Affine(res / s, 0.0, x0, 0.0, -res / s, y1)


def _tile_bounds(grid: Grid, tile: Tile) -> tuple[float, float, float, float]:
    res = grid.resolution_m
    t = grid.transform
    x0 = t.c + tile.col_off * res
    y1 = t.f - tile.row_off * res
    return (x0, y1 - tile.height * res, x0 + tile.width * res, y1)


def _tile_zones(
    geoms: np.ndarray, tree: shapely.STRtree, grid: Grid, tile: Tile, s: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rasterise the zones touching ``tile`` at ``s`` sub-cells per pixel edge.

    Returns ``(zone_sub, ids)``: ``zone_sub`` (``(h·s, w·s)``) holds a *local* zone number per
    sub-cell, 0 outside all zones, and ``ids[local - 1]`` is that zone's position in ``geoms``.
    Local numbers let the raster be uint8 whenever fewer than 256 zones touch the tile (uint16
    up to 65,535, else int32), which roughly halves GDAL's fill time and the kernel's memory
    traffic. Geometries are clipped to the tile (plus one pixel) first, so the scan-line fill
    only sees the edges that matter for this tile.
    """
    from rasterio.features import rasterize

    shape = (tile.height * s, tile.width * s)
    bounds = _tile_bounds(grid, tile)
    idx = tree.query(shapely.box(*bounds), predicate="intersects")
    if idx.size == 0:
        return np.zeros(shape, dtype=np.uint8), np.zeros(0, dtype=np.int64)
    idx = np.sort(idx)
    pad = grid.resolution_m
    clip = (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    sel = geoms[idx]
    gb = shapely.bounds(sel)
    inside = (
        (gb[:, 0] >= clip[0])
        & (gb[:, 1] >= clip[1])
        & (gb[:, 2] <= clip[2])
        & (gb[:, 3] <= clip[3])
    )
    clipped = sel.copy()
    if (~inside).any():
        clipped[~inside] = shapely.clip_by_rect(sel[~inside], *clip)
    keep = ~shapely.is_empty(clipped)
    ids = idx[keep].astype(np.int64)
    if ids.size == 0:
        return np.zeros(shape, dtype=np.uint8), ids
    n = ids.size
    dtype = "uint8" if n <= 255 else "uint16" if n <= 65535 else "int32"
    zone_sub = rasterize(
        [(g, i + 1) for i, g in enumerate(clipped[keep])],
        out_shape=shape,
        transform=_tile_transform(grid, tile, s),
        fill=0,
        dtype=dtype,
        all_touched=False,
    )
    return zone_sub, ids


def rasterize_zones(zones, grid: Grid, subpixel: int = 1, tile: Tile | None = None) -> np.ndarray:
    """Zone index (row position in ``zones``) per sub-cell of a grid window.

    Parameters
    ----------
    zones
        GeoSeries / GeoDataFrame (any CRS; reprojected to the grid CRS) or shapely geometries
        already in the grid CRS (metres).
    grid
        The analysis grid.
    subpixel
        Sub-cells per pixel edge (1 = one sample at each pixel centre).
    tile
        Window of the grid (default: the whole grid; mind the memory: ``4·n_pixels·subpixel²``
        bytes).

    Returns
    -------
    numpy.ndarray
        int32 ``(tile.height·subpixel, tile.width·subpixel)``; ``-1`` outside every zone. Where
        zones overlap, the one listed last wins.
    """
    s = _check_subpixel(subpixel)
    geoms = _as_geometry_array(zones, grid)
    tile = tile or Tile(0, 0, grid.height, grid.width)
    zone_sub, ids = _tile_zones(geoms, shapely.STRtree(geoms), grid, tile, s)
    lookup = np.concatenate([[NO_ZONE], ids]).astype(np.int32)
    return lookup[zone_sub]


def _check_subpixel(subpixel: int) -> int:
    if (
        isinstance(subpixel, bool)
        or not isinstance(subpixel, int | np.integer)
        or not 1 <= subpixel <= MAX_SUBPIXEL
    ):
        raise ConfigError(
            f"[indicators] subpixel must be an integer from 1 to {MAX_SUBPIXEL}, got {subpixel!r}"
        )
    return int(subpixel)


def _workers(workers: int | None) -> int:
    if not workers:
        return max(1, os.cpu_count() or 1)
    return max(1, int(workers))


def _run_tiles(fn, tiles: list[Tile], workers: int):
    """Map ``fn`` over tiles on a thread pool (kernels and GDAL release the GIL)."""
    if workers <= 1 or len(tiles) <= 1:
        return [fn(t) for t in tiles]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, tiles))


# ------------------------------------------------------------------------------------------------
# Public functions
# ------------------------------------------------------------------------------------------------


@dataclass
class ZonalSums:
    """Per-zone totals of one zonal pass (one entry per zone, in the zones' order).

    Attributes
    ----------
    area_km2
        Area of the zone on the grid (sub-cell sampled), km².
    population
        Persons in the zone; NaN for every zone when no population raster was given.
    covered_area_km2, covered_population
        ``{mask name: array}`` — area and persons in covered pixels.
    subcells
        Number of sub-cells (pixels × subpixel²) each zone holds; 0 for zones that fell
        between sub-cell centres or outside the grid.
    """

    area_km2: np.ndarray
    population: np.ndarray
    covered_area_km2: dict[str, np.ndarray] = field(default_factory=dict)
    covered_population: dict[str, np.ndarray] = field(default_factory=dict)
    subcells: np.ndarray | None = None

    def to_frame(self, index=None) -> pd.DataFrame:
        """A table with ``area_km2``, ``population`` and ``covered_{area_km2,population}_<mask>``."""
        cols: dict[str, np.ndarray] = {"area_km2": self.area_km2, "population": self.population}
        for name, arr in self.covered_area_km2.items():
            cols[f"covered_area_km2_{name}"] = arr
        for name, arr in self.covered_population.items():
            cols[f"covered_population_{name}"] = arr
        return pd.DataFrame(cols, index=index)


def zonal_sums(
    zones,
    grid: Grid,
    population: np.ndarray | None = None,
    masks: Mapping[str, np.ndarray] | None = None,
    *,
    subpixel: int = 4,
    tile_size: int = 256,
    workers: int | None = None,
) -> ZonalSums:
    """Area, population, covered area and covered population of every zone, in one pass.

    Parameters
    ----------
    zones
        Polygons: a GeoSeries / GeoDataFrame in any CRS (reprojected to ``grid.crs``), or
        shapely geometries already in the grid CRS. Zones should not overlap (administrative
        units of one level); where they do, the one listed last takes the shared sub-cells.
    grid
        The analysis grid (metric CRS).
    population
        Persons per grid pixel, ``grid.shape``; None → populations are NaN.
    masks
        ``{name: covered mask}`` on ``grid.shape`` (non-zero = covered), any number of them
        (e.g. ``{"5g": ..., "4g": ...}``).
    subpixel
        Sub-cells per pixel edge (``[indicators] subpixel``; 4 → 16 samples per pixel).
    tile_size
        Tile edge in pixels. Memory per worker: the tile's sub-cell zone raster,
        ``(tile_size·subpixel)²`` bytes (×2 when more than 255 zones touch one tile), plus the
        tile's population and masks; nothing of the size of the grid is allocated.
    workers
        Threads (0/None = all CPU cores).

    Returns
    -------
    ZonalSums
    """
    s = _check_subpixel(subpixel)
    geoms = _as_geometry_array(zones, grid)
    n = len(geoms)
    masks = dict(masks or {})
    for name, arr in [("population", population), *masks.items()]:
        if arr is not None and tuple(arr.shape) != grid.shape:
            raise InputError(f"{name} raster has shape {arr.shape}, the grid is {grid.shape}")
    names = list(masks)
    k = len(names)
    out = np.zeros((n, 2 + 2 * k), dtype=np.float64)
    if n:
        tree = shapely.STRtree(geoms)
        tiles = list(grid.tiles(tile_size))

        def one(tile: Tile) -> tuple[np.ndarray, np.ndarray]:
            zone_sub, ids = _tile_zones(geoms, tree, grid, tile, s)
            acc = np.zeros((ids.size + 1, 2 + 2 * k), dtype=np.float64)
            if ids.size == 0:
                return ids, acc
            rs, cs = tile.slices
            pop = (
                np.ascontiguousarray(population[rs, cs], dtype=np.float32)
                if population is not None
                else np.zeros((tile.height, tile.width), np.float32)
            )
            m = np.zeros((k, tile.height, tile.width), dtype=np.uint8)
            for i, name in enumerate(names):
                m[i] = masks[name][rs, cs] != 0
            _zonal_tile_kernel(zone_sub, s, pop, m, acc)
            return ids, acc

        for ids, acc in _run_tiles(one, tiles, _workers(workers)):
            out[ids] += acc[1:]  # ids are unique within a tile
        _tiny_zones(geoms, grid, population, [masks[nm] for nm in names], out)
    px_km2 = grid.pixel_area_m2 / 1e6
    pop_sum = out[:, 1].copy() if population is not None else np.full(n, np.nan)
    return ZonalSums(
        area_km2=out[:, 0] * px_km2,
        population=pop_sum,
        covered_area_km2={nm: out[:, 2 + i] * px_km2 for i, nm in enumerate(names)},
        covered_population={
            nm: (out[:, 2 + k + i].copy() if population is not None else np.full(n, np.nan))
            for i, nm in enumerate(names)
        },
        subcells=np.rint(out[:, 0] * s * s).astype(np.int64),
    )


def _tiny_zones(geoms, grid: Grid, population, masks: list[np.ndarray], out: np.ndarray) -> None:
    """Zones that caught no sub-cell centre: exact area at the pixel of their representative point."""
    empty = np.flatnonzero(out[:, 0] <= 0)
    if empty.size == 0:
        return
    areas = shapely.area(geoms[empty])
    live = areas > 0
    if not live.any():
        return
    empty = empty[live]
    areas = areas[live]
    pts = shapely.point_on_surface(geoms[empty])
    row, col = grid.rowcol(shapely.get_x(pts), shapely.get_y(pts))
    ok = grid.contains_rowcol(row, col)
    k = len(masks)
    for z, a, r, c, inside in zip(empty, areas, row, col, ok, strict=True):
        if not inside:
            continue
        frac = a / grid.pixel_area_m2
        p = float(population[r, c]) if population is not None else 0.0
        p = p if math.isfinite(p) else 0.0
        out[z, 0] += frac
        out[z, 1] += frac * p
        for m in range(k):
            if masks[m][r, c]:
                out[z, 2 + m] += frac
                out[z, 2 + k + m] += frac * p
    log.debug(
        "%d zone(s) smaller than a sub-cell placed at their representative point", int(ok.sum())
    )


def spread_population(
    zones,
    values: Sequence[float] | np.ndarray,
    grid: Grid,
    *,
    subpixel: int = 4,
    tile_size: int = 256,
    workers: int | None = None,
) -> np.ndarray:
    """Persons per pixel (float32) from per-zone totals, spread uniformly over each zone's area.

    The zones are sampled with the same sub-cells as :func:`zonal_sums`, so the grid total of a
    zone equals its value whenever the zone lies inside the grid. Zones with a missing (NaN) or
    negative value add nobody; zones outside the grid are lost (logged).
    """
    s = _check_subpixel(subpixel)
    geoms = _as_geometry_array(zones, grid)
    vals = np.asarray(values, dtype=np.float64)
    if vals.shape != (len(geoms),):
        raise InputError(f"{len(vals)} population values for {len(geoms)} zones")
    sums = zonal_sums(geoms, grid, None, None, subpixel=s, tile_size=tile_size, workers=workers)
    area_px = sums.area_km2 * 1e6 / grid.pixel_area_m2
    usable = np.isfinite(vals) & (vals > 0)
    lost = usable & (area_px <= 0)
    if lost.any():
        log.warning(
            "%d zone(s) with population lie outside the grid; %.0f persons not placed",
            int(lost.sum()),
            float(vals[lost].sum()),
        )
    density = np.where(usable & (area_px > 0), vals / np.where(area_px > 0, area_px, 1.0), 0.0)
    pop = np.zeros(grid.shape, dtype=np.float64)
    tiny = usable & (sums.subcells == 0) & (area_px > 0)
    tree = shapely.STRtree(geoms)

    def one(tile: Tile) -> None:
        zone_sub, ids = _tile_zones(geoms, tree, grid, tile, s)
        rs, cs = tile.slices
        buf = np.zeros((tile.height, tile.width), dtype=np.float64)
        if ids.size:
            _paint_tile_kernel(zone_sub, s, np.concatenate([[0.0], density[ids]]), buf)
        pop[rs, cs] = buf  # tiles do not overlap: no shared writes

    _run_tiles(one, list(grid.tiles(tile_size)), _workers(workers))
    if tiny.any():
        pts = shapely.point_on_surface(geoms[tiny])
        row, col = grid.rowcol(shapely.get_x(pts), shapely.get_y(pts))
        ok = grid.contains_rowcol(row, col)
        np.add.at(pop, (row[ok], col[ok]), vals[tiny][ok])
    return pop.astype(np.float32)


#: Bytes per grid pixel while the population grid is built (a float64 working copy and the
#: float32 result).
POPULATION_BYTES_PER_PIXEL = 12


def population_grid(inputs: Inputs, grid: Grid) -> np.ndarray | None:
    """Persons per grid pixel (float32, ``grid.shape``), or None when there is no population.

    * ``inputs.population`` (a raster in any CRS) → :func:`gigacov.grid.population_to_grid`
      (area-weighted, total preserved);
    * else, with ``[population] column``: each unit's population spread uniformly over its area
      (:func:`spread_population`) — the villages when they carry the column (any value), else
      the counties;
    * else None.
    """
    scn = inputs.scenario
    if scn is not None and (inputs.population is not None or scn.population.column):
        grid.check_allocation(
            POPULATION_BYTES_PER_PIXEL,
            int(scn.compute.memory_budget_mb) * 2**20,
            "the population grid",
        )
    if inputs.population is not None:
        return population_to_grid(inputs.population, grid)
    column = scn.population.column if scn is not None else ""
    b = inputs.boundaries
    col = (
        "population"
        if "population" in b.columns
        else (column if column and column in b.columns else "")
    )
    if not col:
        if column:
            log.warning("[population] column %r not found on the boundaries; no population", column)
        return None
    opts = scn.indicators if scn is not None else None
    subpixel = opts.subpixel if opts is not None else 4
    tile_size = scn.grid.tile_size if scn is not None else 256
    workers = scn.compute.workers if scn is not None else None
    villages = b[b["level"] == "village"]
    vvals = (
        pd.to_numeric(villages[col], errors="coerce") if len(villages) else pd.Series(dtype=float)
    )
    units: gpd.GeoDataFrame
    if len(villages) and vvals.notna().any():
        units, values, level = villages, vvals, "village"
    else:
        units = b[b["level"] == "county"]
        values, level = pd.to_numeric(units[col], errors="coerce"), "county"
    if not values.notna().any():
        log.warning("population column %r has no values on the %s units; no population", col, level)
        return None
    missing = int(values.isna().sum())
    if missing:
        log.warning("%d %s unit(s) have no %r value; they get no population", missing, level, col)
    log.info("population spread uniformly over %d %s units from column %r", len(units), level, col)
    return spread_population(
        units.geometry,
        values.to_numpy(),
        grid,
        subpixel=subpixel,
        tile_size=tile_size,
        workers=workers,
    )
