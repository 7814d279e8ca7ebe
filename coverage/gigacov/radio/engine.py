"""The radio coverage engine: cells → best-server RSRP, server, SINR and covered per pixel.

Layers (STYLE.md §2): the numba kernels of :mod:`gigacov.radio.kernels` work on one tile; the
adapters here cut the grid into tiles, give each tile the cells whose cut-off circle reaches it,
and run the tiles on a thread pool or on Dask; :func:`compute_coverage` validates, prepares and
assembles.

Link budget (per cell *i*, pixel *p*)::

    RSRP_i(p) = EIRP_i − 10·log10(12·N_RB,i) − PL_i(p) + A_i(p) − extra_loss − L_diffraction,i(p)
    N_i       = −174 + 10·log10(SCS_i in Hz) + NF                           (noise per RE, dBm)
    SINR(p)   = S / (load · Σ_{j ≠ server, f_j = f_server} 10^(RSRP_j(p)/10) + N_server)
    covered   = RSRP ≥ rsrp_threshold AND SINR ≥ sinr_threshold

**Contribution rule.** Cell *i* counts at pixel *p* (as candidate server and as interferer) when the
pixel centre lies within its **cut-off radius** and ``RSRP_i(p) ≥ rsrp_threshold −
cutoff_margin_db``. The cut-off radius is the distance beyond which even boresight gain (0 dB)
and the least-loss model that can apply around the cell (LOS formulas when a DEM can make pixels
LOS, NLOS formulas otherwise; per clutter class present within that distance) leave the RSRP below
that level, capped by ``max_radius_m``. So the radius never changes which cells contribute, it only
bounds the work: cells × footprint, not cells × region. (With a DEM and the default ``horizon``
terrain method it also sets the cell's number of rays, ``ceil(2π·radius / resolution)``, i.e. the
angular sampling of its terrain; see :mod:`gigacov.radio.terrain`.) Cells on other frequencies do
not interfere. Ties between equally strong servers go to the lower cell index.

**Terrain.** With a DEM, ``[radio] terrain_method`` chooses between ``horizon`` (default: a radial
horizon sweep per cell, O(1) work per cell-pixel evaluation, the transmitter-horizon single
knife-edge approximation) and ``profile`` (the exact path profile per pixel, O(distance));
``diffraction = "deygout"`` always runs on ``profile``. Interferers get the same terrain as
servers (every cell-pixel evaluation is the same). Where even the most favourable terrain (LOS,
no diffraction, 0 dB vertical gain) leaves a cell below the contribution level the terrain is not
computed at all (identical results, less work); see :mod:`gigacov.radio.kernels`. The DEM warped
onto the (padded) grid is kept for the next call with the same DEM values, grid and padding
(planning calls :func:`cell_footprints` many times): one such grid stays in memory between calls.

**Clutter and ``auto``.** Clutter classes are 1 urban, 2 suburban, 3 rural. From a clutter raster
when one is given (warped to the grid with nearest-neighbour; other values fall back to the
population rule), else from ``population`` (persons per pixel): density ≥
``urban_density_per_km2`` → urban, ≥ ``suburban_density_per_km2`` → suburban, else rural (NaN →
rural). Without either, every pixel is suburban (logged). ``auto`` uses UMa for urban **and
suburban** pixels (macro masts of 25–40 m match UMa's 25 m reference height; UMi assumes
below-rooftop 10 m street cells) and RMa for rural ones. COST-231 Hata takes its environment
from the same classes.

**Memory.** Per tile the working set is the tile's outputs (13 bytes per pixel) and the kernel's
scratch (best RSRP, best index and one linear power sum per frequency group: 8·(2 + groups)
bytes per pixel; 1.6 MiB for a 256² tile and one frequency), per worker. The four full-grid
outputs take 13 bytes per pixel (+1 for clutter classes, +4 for a DEM, padded by the largest
cut-off radius). With a DEM the kernel adds, per worker, 40 bytes per tile pixel of terrain
scratch (2.6 MiB for a 256² tile) and, for the horizon sweep, 12 bytes per ray and sample of the
widest cell (``M·S`` with ``M ≈ 2π·R/res``, ``S ≈ R/res``: 190 KiB for R = 5 km at 100 m,
1.7 MiB for 15 km; over the budget it is an error). When
``Grid.check_allocation`` says they exceed ``memory_budget_mb``, the outputs are ``numpy.memmap``
files in a private temporary folder (unlinked at once on POSIX, so nothing is left behind); the
result arrays are then memmaps. A DEM or clutter grid that alone exceeds the budget is an error.

**Backends.** ``threads``: tiles on a pool of ``workers`` threads, each tile with the serial
kernel (numba releases the GIL); with fewer tiles than workers, the tiles run one after the other
with the row-parallel kernel. ``dask``: the same tile payloads as tasks on ``dask.distributed``
(a ``LocalCluster`` of ``workers`` single-thread processes started and closed here when
``scheduler`` is empty, else the scheduler at that address). Both run the same kernel on the
same payload, so their rasters are identical.
"""

from __future__ import annotations

import collections
import logging
import math
import os
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyproj
from affine import Affine

from ..errors import ConfigError, InputError, ResourceError
from ..grid import Grid, RasterData, Tile, warp_to_grid
from . import kernels as K
from .models import (
    AUTO,
    COST231_HATA,
    D2D_MIN_M,
    D3D_MIN_FREE_SPACE_M,
    FREE_SPACE,
    MODEL_CODES,
    RMA,
    RURAL,
    SUBURBAN,
    UMA,
    UMI,
    URBAN,
    check_validity,
    model_code,
)
from .result import NO_SERVER, CoverageResult, RadioParams
from .terrain import (
    DIFFRACTION_CODES,
    PROFILE,
    SPEED_OF_LIGHT_M_S,
    TERRAIN_METHOD_CODES,
    horizon_ray_count,
    sample_bilinear_many,
)

__all__ = ["compute_coverage", "cell_footprints", "clutter_classes", "Backend", "run_tile"]

log = logging.getLogger(__name__)

Backend = Literal["threads", "dask"]
BACKENDS: tuple[str, ...] = ("threads", "dask")

#: Bytes per pixel of the four full-grid outputs: float32 RSRP + float32 SINR + int32 server + uint8.
OUTPUT_BYTES_PER_PIXEL = 13
DEFAULT_MEMORY_BUDGET_MB = 4096
_BLOCK = 16  # pixels per block of the clutter-presence map used to size cut-off radii

_DUMMY_DEM = np.zeros((1, 1), dtype=np.float32)


# ------------------------------------------------------------------------------------------------
# Preparation
# ------------------------------------------------------------------------------------------------


@dataclass
class _Prepared:
    """Everything the kernels need, for all cells (global indices)."""

    grid: Grid
    params: RadioParams
    cellp: np.ndarray  # (n, NCELLP) float64
    coef: np.ndarray  # (n, 3·NCOEF) float64 path-loss coefficients per clutter class
    celli: np.ndarray  # (n, NCELLI) int64; GROUP is the global frequency group
    active: np.ndarray  # bool (n,): the cell's window meets the grid
    sp: np.ndarray
    ip: np.ndarray
    clutter: np.ndarray | None  # int8 classes on the grid, or None
    dem: np.ndarray | None  # float32 DEM on the grid padded by dem_pad pixels, or None
    dem_pad: int
    n_groups: int


def _validate_params(params: RadioParams) -> None:
    if params.model not in MODEL_CODES:
        model_code(params.model)  # raises ConfigError with the choices
    checks = (
        ("ue_height_m", params.ue_height_m > 0, "> 0 metres"),
        ("load", 0.0 <= params.load <= 1.0, "between 0 and 1"),
        ("max_radius_m", params.max_radius_m > 0, "> 0 metres"),
        ("noise_figure_db", math.isfinite(params.noise_figure_db), "a number of dB"),
        ("extra_loss_db", math.isfinite(params.extra_loss_db), "a number of dB"),
        ("rsrp_threshold_dbm", math.isfinite(params.rsrp_threshold_dbm), "a number of dBm"),
        ("sinr_threshold_db", math.isfinite(params.sinr_threshold_db), "a number of dB"),
        ("vertical_beamwidth_deg", params.vertical_beamwidth_deg > 0, "> 0 degrees"),
        ("default_beamwidth_deg", params.default_beamwidth_deg > 0, "> 0 degrees"),
        ("cutoff_margin_db", params.cutoff_margin_db >= 0, "≥ 0 dB"),
        ("building_height_m", params.building_height_m > 0, "> 0 metres"),
        ("street_width_m", params.street_width_m > 0, "> 0 metres"),
        ("urban_density_per_km2", params.urban_density_per_km2 >= 0, "≥ 0 persons/km²"),
        ("suburban_density_per_km2", params.suburban_density_per_km2 >= 0, "≥ 0 persons/km²"),
    )
    for key, ok, expected in checks:
        if not ok:
            raise ConfigError(f"[radio] {key} must be {expected}, got {getattr(params, key)!r}")
    if params.diffraction not in DIFFRACTION_CODES:
        raise ConfigError(
            f"[radio] diffraction: {params.diffraction!r} is not one of "
            f"{', '.join(map(repr, DIFFRACTION_CODES))}"
        )
    if params.terrain_method not in TERRAIN_METHOD_CODES:
        raise ConfigError(
            f"[radio] terrain_method: {params.terrain_method!r} is not one of "
            f"{', '.join(map(repr, TERRAIN_METHOD_CODES))}"
        )


def terrain_method_code(params: RadioParams) -> int:
    """The terrain method the kernels run: ``params.terrain_method``, except ``profile`` whenever
    ``diffraction = "deygout"`` (the three-edge construction needs the exact path profile)."""
    if params.diffraction == "deygout":
        return PROFILE
    return TERRAIN_METHOD_CODES[params.terrain_method]


def _row_label(cells: pd.DataFrame, pos: int) -> str:
    if "source_row" in cells.columns:
        try:
            return f"row {int(cells['source_row'].iloc[pos])}"
        except (TypeError, ValueError):
            pass
    return f"row position {pos}"


def _numeric(cells: pd.DataFrame, name: str, default: float | None) -> np.ndarray:
    if name not in cells.columns:
        if default is None:
            raise InputError(
                f"cells: required column {name!r} is missing (columns: {', '.join(map(str, cells.columns))}); "
                "pass a frame with the columns of gigacov.ingest.model.CELL_COLUMNS"
            )
        return np.full(len(cells), default, dtype=np.float64)
    return pd.to_numeric(cells[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _require(
    cells: pd.DataFrame, ok: np.ndarray, name: str, values: np.ndarray, expected: str
) -> None:
    bad = np.flatnonzero(~ok)
    if bad.size:
        pos = int(bad[0])
        raw = cells[name].iloc[pos] if name in cells.columns else values[pos]
        if isinstance(raw, np.generic):
            raw = raw.item()
        more = f" (and {bad.size - 1} more rows)" if bad.size > 1 else ""
        raise InputError(
            f"cells {_row_label(cells, pos)}, column {name!r}: {raw!r} is not {expected}{more}; "
            "fix the sites file or drop the cell"
        )


def _cell_table(cells: pd.DataFrame, grid: Grid, params: RadioParams) -> dict[str, np.ndarray]:
    """Validated per-cell numbers (grid CRS positions, grid azimuths, link-budget terms)."""
    tech = params.tech.upper()
    if "tech" in cells.columns and len(cells):
        techs = cells["tech"].astype(str).str.upper()
        wrong = np.flatnonzero((techs != tech).to_numpy())
        if wrong.size:
            pos = int(wrong[0])
            raise InputError(
                f"cells {_row_label(cells, pos)}, column 'tech': {cells['tech'].iloc[pos]!r} but "
                f"this call computes {tech!r} coverage; pass one technology per call "
                "(filter the cells by their 'tech' column)"
            )
    lon = _numeric(cells, "lon", None)
    lat = _numeric(cells, "lat", None)
    _require(
        cells, np.isfinite(lon) & (np.abs(lon) <= 180), "lon", lon, "a longitude in degrees (WGS84)"
    )
    _require(
        cells, np.isfinite(lat) & (np.abs(lat) <= 90), "lat", lat, "a latitude in degrees (WGS84)"
    )
    freq = _numeric(cells, "freq_mhz", None)
    _require(cells, np.isfinite(freq) & (freq > 0), "freq_mhz", freq, "a positive frequency in MHz")
    eirp = _numeric(cells, "eirp_dbm", None)
    _require(cells, np.isfinite(eirp), "eirp_dbm", eirp, "an EIRP in dBm")
    height = _numeric(cells, "height_m", None)
    _require(
        cells, np.isfinite(height) & (height > 0), "height_m", height, "a positive height in metres"
    )
    scs_default = 15.0 if tech == "4G" else 30.0
    scs = _numeric(cells, "scs_khz", scs_default)
    scs = np.where(np.isfinite(scs) & (scs > 0), scs, scs_default)
    n_rb = _numeric(cells, "n_rb", np.nan)
    missing = ~(np.isfinite(n_rb) & (n_rb >= 1))
    if missing.any():
        from ..ingest.bands import n_rb_for

        bw = _numeric(cells, "bandwidth_mhz", np.nan)
        derived = n_rb_for(np.full(len(cells), tech, dtype=object), bw, scs).astype(np.float64)
        n_rb = np.where(missing, derived, n_rb)
        _require(
            cells,
            np.isfinite(n_rb) & (n_rb >= 1),
            "n_rb" if "n_rb" in cells.columns else "bandwidth_mhz",
            n_rb,
            "a resource-block count (or a 3GPP bandwidth for the cell's sub-carrier spacing)",
        )
    azimuth = _numeric(cells, "azimuth_deg", np.nan)
    beamwidth = _numeric(cells, "beamwidth_deg", np.nan)
    beamwidth = np.where(
        np.isfinite(beamwidth) & (beamwidth > 0), beamwidth, params.default_beamwidth_deg
    )
    tilt = _numeric(cells, "tilt_deg", np.nan)

    x, y = grid.lonlat_to_xy(lon, lat)
    az_grid = np.full(len(cells), np.nan)
    has_az = np.isfinite(azimuth)
    if has_az.any():
        # Grid azimuth = bearing in the grid CRS of a point 100 m away along the true azimuth
        # (corrects the meridian convergence of the projection).
        geod = pyproj.Geod(ellps="WGS84")
        lon2, lat2, _ = geod.fwd(
            lon[has_az], lat[has_az], azimuth[has_az], np.full(has_az.sum(), 100.0)
        )
        x2, y2 = grid.lonlat_to_xy(lon2, lat2)
        az_grid[has_az] = np.degrees(np.arctan2(x2 - x[has_az], y2 - y[has_az]))
    return {
        "x": np.asarray(x, dtype=np.float64),
        "y": np.asarray(y, dtype=np.float64),
        "h_bs": height,
        "az": az_grid,
        "bw": beamwidth,
        "tilt": tilt,
        "eirp_re": eirp - 10.0 * np.log10(12.0 * n_rb),
        "f_ghz": freq / 1000.0,
        "freq_mhz": freq,
        "noise_mw": 10.0
        ** ((-174.0 + 10.0 * np.log10(scs * 1000.0) + params.noise_figure_db) / 10.0),
        "wavelength": SPEED_OF_LIGHT_M_S / (freq * 1e6),
    }


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
        density = pop.astype(np.float64) / (grid.pixel_area_m2 / 1e6)
        classes = np.full(grid.shape, RURAL, dtype=np.int8)
        classes[density >= params.suburban_density_per_km2] = SUBURBAN
        classes[density >= params.urban_density_per_km2] = URBAN
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
    src = np.where(raster.valid_mask(), raster.array, np.nan).astype(np.float32)
    out = np.full(grid.shape, np.nan, dtype=np.float32)
    h, w = src.shape
    r0, r1 = max(dr, 0), min(dr + h, grid.height)
    c0, c1 = max(dc, 0), min(dc + w, grid.width)
    if r0 < r1 and c0 < c1:
        out[r0:r1, c0:c1] = src[r0 - dr : r1 - dr, c0 - dc : c1 - dc]
    return out


def ray_scratch_bytes(radius_m: float, res: float) -> int:
    """Bytes of the horizon sweep's scratch for one cut-off radius (one worker, one band):
    ``M × S`` float64 slopes + int32 steps (:func:`gigacov.radio.kernels.ray_scratch`)."""
    n_rays = horizon_ray_count(radius_m, res)
    steps = int(math.floor(radius_m / res + 0.5)) + 1
    return 12 * n_rays * steps + 24 * n_rays


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


def _dem_on_grid(dem: RasterData, grid: Grid, pad: int) -> np.ndarray:
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
    missing = float(np.isnan(inner).mean()) if inner.size else 0.0
    if missing > 0:
        log.warning(
            "DEM %s covers only %.1f%% of the grid; terrain is ignored where it has no data",
            dem.path or "(in memory)",
            100.0 * (1.0 - missing),
        )
    return out


def _windows(x, y, radius, grid: Grid):
    """Per-cell pixel windows [r0, r1) × [c0, c1) (clipped), as :meth:`Grid.window_around`."""
    res = grid.resolution_m
    t = grid.transform
    with np.errstate(invalid="ignore"):
        c0 = np.floor((x - radius - t.c) / res)
        c1 = np.ceil((x + radius - t.c) / res)
        r0 = np.floor((t.f - (y + radius)) / res)
        r1 = np.ceil((t.f - (y - radius)) / res)
    c0 = np.clip(c0, 0, grid.width).astype(np.int64)
    c1 = np.clip(c1, 0, grid.width).astype(np.int64)
    r0 = np.clip(r0, 0, grid.height).astype(np.int64)
    r1 = np.clip(r1, 0, grid.height).astype(np.int64)
    active = (c0 < c1) & (r0 < r1) & (radius > 0)
    return r0, r1, c0, c1, active


def _class_presence(classes: np.ndarray, cls: int) -> np.ndarray:
    """Integral image (int64) of the blocks of ``_BLOCK``² pixels that contain class ``cls``."""
    h, w = classes.shape
    bh, bw = -(-h // _BLOCK), -(-w // _BLOCK)
    present = np.zeros((bh, bw), dtype=bool)
    for r in range(bh):
        rows = classes[r * _BLOCK : (r + 1) * _BLOCK]
        hit = (rows == cls).any(axis=0)
        if hit.any():
            padded = np.zeros(bw * _BLOCK, dtype=bool)
            padded[:w] = hit
            present[r] = padded.reshape(bw, _BLOCK).any(axis=1)
    integral = np.zeros((bh + 1, bw + 1), dtype=np.int64)
    integral[1:, 1:] = present.cumsum(axis=0).cumsum(axis=1)
    return integral


def _radii(
    table, params: RadioParams, grid: Grid, classes: np.ndarray | None, has_dem: bool
) -> tuple[np.ndarray, dict[int, float]]:
    """Cut-off radius per cell (m): largest over the clutter classes present within it.

    Also returns, per concrete model code, the largest distance at which that model will be
    evaluated (for the validity warnings).
    """
    model = MODEL_CODES[params.model]
    level = params.rsrp_threshold_dbm - params.cutoff_margin_db
    budget = table["eirp_re"] - params.extra_loss_db - level
    n = budget.size

    def radius_for(cls: int) -> np.ndarray:
        out = np.empty(n, dtype=np.float64)
        K.cutoff_radii(
            budget,
            K.resolve_model(model, cls),
            cls,
            has_dem,
            table["f_ghz"],
            table["h_bs"],
            params.ue_height_m,
            params.building_height_m,
            params.street_width_m,
            params.max_radius_m,
            out,
        )
        return out

    reach: dict[int, float] = {}
    if classes is None or (model != AUTO and model != COST231_HATA):
        radius = radius_for(SUBURBAN)
        active = _windows(table["x"], table["y"], radius, grid)[4]
        reach[K.resolve_model(model, SUBURBAN)] = (
            float(radius[active].max()) if active.any() else 0.0
        )
        return radius, reach
    radius = np.zeros(n, dtype=np.float64)
    present_classes = [c for c in (URBAN, SUBURBAN, RURAL) if (classes == c).any()]
    for cls in present_classes:
        r_c = radius_for(cls)
        integral = _class_presence(classes, cls)
        r0, r1, c0, c1, active = _windows(table["x"], table["y"], r_c, grid)
        br0, bc0 = r0 // _BLOCK, c0 // _BLOCK
        br1, bc1 = -(-r1 // _BLOCK), -(-c1 // _BLOCK)
        count = integral[br1, bc1] - integral[br0, bc1] - integral[br1, bc0] + integral[br0, bc0]
        near = active & (count > 0)
        radius = np.where(near, np.maximum(radius, r_c), radius)
        m = K.resolve_model(model, cls)
        reach[m] = max(reach.get(m, 0.0), float(r_c[near].max()) if near.any() else 0.0)
    return radius, reach


def path_loss_coefficients(table: dict[str, np.ndarray], params: RadioParams) -> np.ndarray:
    """Per-cell coefficients of the coefficient form of the path loss (see :mod:`.kernels`).

    Derived term by term from the published formulas of :mod:`.models` for each clutter class
    (urban, suburban, rural → the model ``params.model`` resolves to for that class).
    Returns float64 (n, 3·NCOEF).
    """
    f = table["f_ghz"]
    hbs = table["h_bs"]
    hut = params.ue_height_m
    n = f.size
    lgf = np.log10(f)
    dh2 = (hbs - hut) ** 2
    h, w_st = params.building_height_m, params.street_width_m
    model = MODEL_CODES[params.model]
    out = np.zeros((n, 3 * K.NCOEF), dtype=np.float64)
    inf = np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        for cls in (URBAN, SUBURBAN, RURAL):
            m = K.resolve_model(model, cls)
            c = {
                name: np.zeros(n)
                for name in (
                    "BP",
                    "A1L",
                    "B1L",
                    "C1L",
                    "A1H",
                    "B1H",
                    "C1H",
                    "E1",
                    "A2N",
                    "A2L",
                    "B2",
                )
            }
            c["A2L"] = np.full(n, -inf)
            if m == FREE_SPACE:
                c["BP"][:] = inf
                c["A1L"] = c["A1H"] = 32.45 + 20.0 * np.log10(f * 1000.0) - 60.0
                c["B1L"][:] = c["B1H"][:] = 20.0
                c["A2N"] = np.full(n, -inf)
            elif m in (UMA, UMI):
                dbp = 4.0 * np.maximum(hbs - 1.0, 0.0) * max(hut - 1.0, 0.0) * f * 1e9 / 3.0e8
                c["BP"] = dbp
                if m == UMA:
                    c["A1L"] = 28.0 + 20.0 * lgf
                    c["B1L"][:] = 22.0
                    c["A1H"] = 28.0 + 20.0 * lgf - 9.0 * np.log10(dbp**2 + dh2)
                    c["A2N"] = 13.54 + 20.0 * lgf - 0.6 * (hut - 1.5)
                    c["B2"][:] = 39.08
                else:
                    c["A1L"] = 32.4 + 20.0 * lgf
                    c["B1L"][:] = 21.0
                    c["A1H"] = 32.4 + 20.0 * lgf - 9.5 * np.log10(dbp**2 + dh2)
                    c["A2N"] = 22.4 + 21.3 * lgf - 0.3 * (hut - 1.5)
                    c["B2"][:] = 35.3
                c["B1H"][:] = 40.0
            elif m == RMA:
                hp = h**1.72
                dbp = 2.0 * math.pi * hbs * hut * f * 1e9 / 3.0e8
                c["BP"] = dbp
                c["A1L"] = 20.0 * np.log10(40.0 * math.pi * f / 3.0) - min(0.044 * hp, 14.77)
                c["B1L"][:] = 20.0 + min(0.03 * hp, 10.0)
                c["C1L"][:] = 0.002 * math.log10(h)
                pl1_bp = (
                    20.0 * np.log10(40.0 * math.pi * dbp * f / 3.0)
                    + min(0.03 * hp, 10.0) * np.log10(dbp)
                    - min(0.044 * hp, 14.77)
                    + 0.002 * math.log10(h) * dbp
                )
                c["A1H"] = pl1_bp - 40.0 * np.log10(dbp)
                c["B1H"][:] = 40.0
                lh = np.log10(hbs)
                c["A2N"] = (
                    161.04
                    - 7.1 * math.log10(w_st)
                    + 7.5 * math.log10(h)
                    - (24.37 - 3.7 * (h / hbs) ** 2) * lh
                    - 3.0 * (43.42 - 3.1 * lh)
                    + 20.0 * lgf
                    - (3.2 * math.log10(11.75 * hut) ** 2 - 4.97)
                )
                c["B2"] = 43.42 - 3.1 * lh
            else:  # COST-231 Hata, environment = class
                lf = np.log10(f * 1000.0)
                a_hm = (1.1 * lf - 0.7) * hut - (1.56 * lf - 0.8)
                lhb = np.log10(hbs)
                slope = 44.9 - 6.55 * lhb
                base = (
                    46.3 + 33.9 * lf - 13.82 * lhb - a_hm - 3.0 * slope
                )  # log10(d_km) = log10(d) − 3
                if cls == URBAN:
                    base = base + 3.0
                elif cls == SUBURBAN:
                    base = base - 2.0 * np.log10(f * 1000.0 / 28.0) ** 2 - 5.4
                else:
                    base = base - 4.78 * lf**2 + 18.33 * lf - 40.94
                c["BP"][:] = inf
                c["A1L"] = c["A1H"] = base
                c["E1"] = slope
                c["A2N"] = c["A2L"] = 32.45 + 20.0 * lf - 60.0  # free-space floor
                c["B2"][:] = 20.0
            o = (cls - 1) * K.NCOEF
            for name, j in (
                ("BP", K.BP),
                ("A1L", K.A1L),
                ("B1L", K.B1L),
                ("C1L", K.C1L),
                ("A1H", K.A1H),
                ("B1H", K.B1H),
                ("C1H", K.C1H),
                ("E1", K.E1),
                ("A2N", K.A2N),
                ("A2L", K.A2L),
                ("B2", K.B2),
            ):
                out[:, o + j] = c[name]
    return out


def _prepare(
    cells: pd.DataFrame,
    grid: Grid,
    params: RadioParams,
    population: np.ndarray | None,
    clutter: RasterData | None,
    dem: RasterData | None,
    budget_bytes: int | None = None,
) -> _Prepared:
    _validate_params(params)
    table = _cell_table(cells, grid, params)
    model = MODEL_CODES[params.model]
    has_dem = dem is not None
    classes = None
    # Clutter classes pick the model (auto), the COST-231 environment, and — with a DEM — whether
    # a terrain-clear path uses the LOS formula (rural pixels only; see kernels._rsrp_dem).
    if model in (AUTO, COST231_HATA) or has_dem:
        if budget_bytes is not None:
            grid.check_allocation(1, budget_bytes, "the clutter-class grid")
        classes = clutter_classes(grid, params, population, clutter)
        if classes is None and model in (AUTO, COST231_HATA):
            log.warning(
                "model %r: no population grid and no clutter raster; every pixel is treated as "
                "suburban",
                params.model,
            )
    radius, reach = _radii(table, params, grid, classes, has_dem)
    r0, r1, c0, c1, active = _windows(table["x"], table["y"], radius, grid)
    n = radius.size
    res = grid.resolution_m

    dem_grid = None
    pad = 0
    z_site = np.zeros(n, dtype=np.float64)
    if has_dem:
        r_max = float(radius[active].max()) if active.any() else 0.0
        pad = int(math.ceil(r_max / res)) + 2
        if budget_bytes is not None:
            padded = Grid(grid.crs, grid.transform, grid.width + 2 * pad, grid.height + 2 * pad)
            padded.check_allocation(4, budget_bytes, "the DEM on the analysis grid")
        method = terrain_method_code(params)
        if method == PROFILE and params.terrain_method != "profile":
            log.info(
                "[radio] diffraction = 'deygout' needs the exact path profile: using "
                "terrain_method 'profile' (O(distance) work per pixel) instead of %r",
                params.terrain_method,
            )
        if method != PROFILE and budget_bytes is not None and r_max > 0:
            scratch = ray_scratch_bytes(r_max, res)
            if scratch > budget_bytes:
                raise ResourceError(
                    f"the horizon sweep needs {scratch / 2**20:.0f} MiB of scratch per worker for "
                    f"a cut-off radius of {r_max:.0f} m at {res:g} m, over the budget of "
                    f"{budget_bytes / 2**20:.0f} MiB; lower [radio] max_radius_m, use a coarser "
                    "[grid] resolution_m or raise [compute] memory_budget_mb"
                )
        dem_grid = _dem_on_grid(dem, grid, pad)
        sample_bilinear_many(
            dem_grid,
            grid.transform.c - pad * res,
            grid.transform.f + pad * res,
            res,
            table["x"],
            table["y"],
            z_site,
        )
        if np.isnan(z_site[active]).any():
            log.warning(
                "DEM has no data at %d site(s); their ground is taken as 0 m",
                int(np.isnan(z_site[active]).sum()),
            )
        z_site = np.where(np.isnan(z_site), 0.0, z_site)

    # Validity of the models actually used, up to the distance each is used (logged once per
    # process and model).
    if active.any():
        for m, d_max in reach.items():
            if d_max > 0:
                check_validity(
                    m,
                    d_max,
                    table["f_ghz"][active],
                    table["h_bs"][active],
                    params.ue_height_m,
                    los=has_dem,
                )

    freq_values, groups = np.unique(table["freq_mhz"], return_inverse=True)
    omni = np.isnan(table["az"])
    az_rad = np.radians(np.where(omni, 0.0, table["az"]))
    has_tilt = np.isfinite(table["tilt"])
    cellp = np.empty((n, K.NCELLP), dtype=np.float64)
    cellp[:, K.X] = table["x"]
    cellp[:, K.Y] = table["y"]
    cellp[:, K.HBS] = table["h_bs"]
    cellp[:, K.EIRP_RE] = table["eirp_re"]
    cellp[:, K.FGHZ] = table["f_ghz"]
    cellp[:, K.ZSITE] = z_site
    cellp[:, K.RADIUS] = radius
    cellp[:, K.NOISE_MW] = table["noise_mw"]
    cellp[:, K.WAVELEN] = table["wavelength"]
    cellp[:, K.SINAZ] = np.sin(az_rad)
    cellp[:, K.COSAZ] = np.cos(az_rad)
    # 12·(φ/φ3dB)² with angles in radians; 0 = no horizontal (omni) / vertical (no tilt) pattern.
    cellp[:, K.KH] = np.where(omni, 0.0, 12.0 / np.radians(table["bw"]) ** 2)
    cellp[:, K.KV] = np.where(
        has_tilt, 12.0 / math.radians(params.vertical_beamwidth_deg) ** 2, 0.0
    )
    cellp[:, K.TILT_RAD] = np.radians(np.where(has_tilt, table["tilt"], 0.0))
    coef = path_loss_coefficients(table, params)
    celli = np.empty((n, K.NCELLI), dtype=np.int64)
    celli[:, K.GID] = np.arange(n)
    celli[:, K.GROUP] = groups
    celli[:, K.R0] = r0
    celli[:, K.R1] = r1
    celli[:, K.C0] = c0
    celli[:, K.C1] = c1
    celli[:, K.N_RAYS] = horizon_ray_count(radius, res)

    sp = np.zeros(K.NSP, dtype=np.float64)
    sp[K.SX0] = grid.transform.c
    sp[K.SY0] = grid.transform.f
    sp[K.RES] = res
    sp[K.HUT] = params.ue_height_m
    sp[K.EXTRA] = params.extra_loss_db
    sp[K.LEVEL] = params.rsrp_threshold_dbm - params.cutoff_margin_db
    sp[K.LOAD] = params.load
    sp[K.THR_RSRP] = params.rsrp_threshold_dbm
    sp[K.THR_SINR] = params.sinr_threshold_db
    sp[K.DEM_X0] = grid.transform.c - pad * res
    sp[K.DEM_Y0] = grid.transform.f + pad * res
    sp[K.DMIN] = 0.0 if model == FREE_SPACE else D2D_MIN_M
    sp[K.D3MIN2] = D3D_MIN_FREE_SPACE_M**2 if model == FREE_SPACE else 0.0
    ip = np.zeros(K.NIP, dtype=np.int64)
    ip[K.MODEL] = model
    ip[K.NEED_LOG_D2D] = model == COST231_HATA
    ip[K.NEED_D3] = bool(np.any(coef[:, [K.C1L, K.NCOEF + K.C1L, 2 * K.NCOEF + K.C1L]] != 0.0))
    ip[K.HAS_DEM] = has_dem
    ip[K.DIFFR] = DIFFRACTION_CODES[params.diffraction]
    ip[K.TERRAIN] = terrain_method_code(params)
    ip[K.DEM_PAD] = pad
    ip[K.NGROUPS] = len(freq_values)
    return _Prepared(
        grid, params, cellp, coef, celli, active, sp, ip, classes, dem_grid, pad, len(freq_values)
    )


# ------------------------------------------------------------------------------------------------
# Tiles
# ------------------------------------------------------------------------------------------------


def _bucket(prep: _Prepared, tile_size: int) -> list[tuple[Tile, np.ndarray]]:
    """Non-empty tiles with the (ascending) indices of the cells whose window meets them."""
    grid = prep.grid
    idx = np.flatnonzero(prep.active)
    if idx.size == 0:
        return []
    ts = tile_size
    ci = prep.celli
    tr0 = ci[idx, K.R0] // ts
    tr1 = (ci[idx, K.R1] - 1) // ts
    tc0 = ci[idx, K.C0] // ts
    tc1 = (ci[idx, K.C1] - 1) // ts
    ncol = tc1 - tc0 + 1
    counts = (tr1 - tr0 + 1) * ncol
    total = int(counts.sum())
    cell_rep = np.repeat(idx, counts)
    offs = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    ncol_rep = np.repeat(ncol, counts)
    tile_r = np.repeat(tr0, counts) + offs // ncol_rep
    tile_c = np.repeat(tc0, counts) + offs % ncol_rep
    n_tile_cols = -(-grid.width // ts)
    tid = tile_r * n_tile_cols + tile_c
    order = np.argsort(tid, kind="stable")
    tid = tid[order]
    cell_rep = cell_rep[order]
    uniq, starts = np.unique(tid, return_index=True)
    ends = np.append(starts[1:], tid.size)
    out = []
    for t, s, e in zip(uniq, starts, ends, strict=True):
        tr, tc = divmod(int(t), n_tile_cols)
        r, c = tr * ts, tc * ts
        tile = Tile(r, c, min(ts, grid.height - r), min(ts, grid.width - c))
        out.append((tile, cell_rep[s:e]))
    return out


def _class_window(prep: _Prepared, tile: Tile) -> np.ndarray:
    """Clutter classes of a window, int8 (h, w + PAD) (the kernels' padded rows); suburban
    everywhere without a class grid."""
    out = np.full((tile.height, tile.width + K.PAD), SUBURBAN, dtype=np.int8)
    if prep.clutter is not None:
        out[:, : tile.width] = prep.clutter[tile.slices]
    return out


def _tile_payload(
    prep: _Prepared, tile: Tile, idx: np.ndarray, parallel: bool = False
) -> dict[str, Any]:
    """The self-contained inputs of one tile (what a thread or a Dask task receives)."""
    cellp = np.ascontiguousarray(prep.cellp[idx])
    coef = np.ascontiguousarray(prep.coef[idx])
    celli = np.ascontiguousarray(prep.celli[idx])
    groups, local = np.unique(celli[:, K.GROUP], return_inverse=True)
    celli[:, K.GROUP] = local
    ip = prep.ip.copy()
    ip[K.NGROUPS] = len(groups)
    clutter = _class_window(prep, tile)
    dem = _DUMMY_DEM
    if prep.dem is not None:
        res = prep.grid.resolution_m
        reach = int(math.ceil(float(cellp[:, K.RADIUS].max()) / res)) + 2
        p = prep.dem_pad
        hp, wp = prep.dem.shape
        r0 = max(tile.row_off + p - reach, 0)
        r1 = min(tile.row_off + tile.height + p + reach, hp)
        c0 = max(tile.col_off + p - reach, 0)
        c1 = min(tile.col_off + tile.width + p + reach, wp)
        dem = np.ascontiguousarray(prep.dem[r0:r1, c0:c1])
        ip[K.DEM_ROW_OFF] = r0
        ip[K.DEM_COL_OFF] = c0
    return {
        "tile": tile,
        "cellp": cellp,
        "coef": coef,
        "celli": celli,
        "sp": prep.sp,
        "ip": ip,
        "clutter": clutter,
        "dem": dem,
        "parallel": parallel,
    }


def run_tile(
    payload: dict[str, Any],
) -> tuple[Tile, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Run the tile kernel on one payload: ``(tile, rsrp, server, sinr, covered, evaluations)``.

    A module-level function so that Dask workers can import it.
    """
    tile: Tile = payload["tile"]
    shape = (tile.height, tile.width)
    rsrp = np.empty(shape, dtype=np.float32)
    server = np.empty(shape, dtype=np.int32)
    sinr = np.empty(shape, dtype=np.float32)
    covered = np.empty(shape, dtype=np.uint8)
    args = (
        tile.row_off,
        tile.col_off,
        payload["cellp"],
        payload["coef"],
        payload["celli"],
        payload["sp"],
        payload["ip"],
        payload["clutter"],
        payload["dem"],
        rsrp,
        server,
        sinr,
        covered,
    )
    if payload["parallel"]:
        band = K.BAND
        if payload["ip"][K.HAS_DEM]:
            # Each band marches its own rays: about two bands per thread, not BAND rows.
            import numba

            band = max(K.BAND, -(-tile.height // (2 * numba.get_num_threads())))
        evals = K.tile_kernel_parallel(*args, band)
    else:
        evals = K.tile_kernel(*args)
    return tile, rsrp, server, sinr, covered, int(evals)


# ------------------------------------------------------------------------------------------------
# Compilation (warm-up)
# ------------------------------------------------------------------------------------------------

_WARMED: set[str] = set()


def _tiny_payload(parallel: bool) -> dict[str, Any]:
    cellp = np.zeros((1, K.NCELLP))
    cellp[0, [K.HBS, K.FGHZ, K.RADIUS, K.NOISE_MW, K.WAVELEN, K.COSAZ, K.KH, K.KV]] = [
        30.0,
        3.5,
        500.0,
        1e-12,
        0.0857,
        1.0,
        9.4,
        394.0,
    ]
    coef = np.zeros((1, 3 * K.NCOEF))
    celli = np.array([[0, 0, 0, 2, 0, 2, 32]], dtype=np.int64)
    sp = np.zeros(K.NSP)
    sp[[K.SY0, K.RES, K.HUT, K.LEVEL, K.LOAD, K.DMIN]] = [200.0, 100.0, 1.5, -200.0, 0.5, 10.0]
    ip = np.zeros(K.NIP, dtype=np.int64)
    ip[K.MODEL] = AUTO
    ip[K.NGROUPS] = 1
    return {
        "tile": Tile(0, 0, 2, 2),
        "cellp": cellp,
        "coef": coef,
        "celli": celli,
        "sp": sp,
        "ip": ip,
        "clutter": np.full((2, 2 + K.PAD), SUBURBAN, dtype=np.int8),
        "dem": _DUMMY_DEM,
        "parallel": parallel,
    }


def warm_up(kind: str = "serial") -> float:
    """Compile (or load from cache) one kernel with a tiny call; seconds taken, 0 if done before.

    ``kind``: ``"serial"``, ``"parallel"`` (tile kernels) or ``"footprint"``.
    """
    if kind in _WARMED:
        return 0.0
    t0 = time.perf_counter()
    radius = np.empty(1)
    K.cutoff_radii(
        np.array([150.0]),
        AUTO,
        RURAL,
        False,
        np.array([3.5]),
        np.array([30.0]),
        1.5,
        5.0,
        20.0,
        1000.0,
        radius,
    )
    if kind == "footprint":
        p = _tiny_payload(False)
        out = np.empty(4, dtype=np.float32)
        one = np.zeros(1, dtype=np.int64)
        K.footprints_kernel(
            one,
            one,
            one,
            one + 2,
            one + 2,
            one,
            p["cellp"],
            p["coef"],
            p["celli"],
            p["sp"],
            p["ip"],
            p["clutter"],
            p["dem"],
            out,
            one.copy(),
        )
    else:
        run_tile(_tiny_payload(kind == "parallel"))
    _WARMED.add(kind)
    return time.perf_counter() - t0


def _worker_warm_up() -> float:
    """Dask worker side: compile/load the serial tile kernel."""
    return warm_up("serial")


# ------------------------------------------------------------------------------------------------
# Outputs
# ------------------------------------------------------------------------------------------------


def _allocate(grid: Grid, budget_bytes: int) -> tuple[dict[str, np.ndarray], bool]:
    """The four full-grid outputs, in memory or (over budget) as memmaps in a temp folder."""
    dtypes = {"rsrp": np.float32, "server": np.int32, "sinr": np.float32, "covered": np.uint8}
    fills = {"rsrp": np.nan, "server": NO_SERVER, "sinr": np.nan, "covered": 0}
    try:
        grid.check_allocation(OUTPUT_BYTES_PER_PIXEL, budget_bytes, "coverage rasters")
    except ResourceError as exc:
        need = grid.n_pixels * OUTPUT_BYTES_PER_PIXEL
        folder = tempfile.gettempdir()
        free = shutil.disk_usage(folder).free
        if free < need * 1.05:
            raise ResourceError(
                f"{exc}; spilling them to disk needs {need / 2**20:.0f} MiB but {folder!r} has "
                f"{free / 2**20:.0f} MiB free (set TMPDIR to a larger disk)"
            ) from None
        log.info(
            "coverage rasters (%.0f MiB) exceed the memory budget: using memmaps in %s",
            need / 2**20,
            folder,
        )
        tmp = tempfile.mkdtemp(prefix="gigacov-radio-")
        out = {}
        for name, dt in dtypes.items():
            path = os.path.join(tmp, f"{name}.dat")
            arr = np.memmap(path, dtype=dt, mode="w+", shape=grid.shape)
            arr[...] = fills[name]
            out[name] = arr
        shutil.rmtree(tmp, ignore_errors=True)  # POSIX: the mappings stay valid, no leftovers
        return out, True
    return {name: np.full(grid.shape, fills[name], dtype=dt) for name, dt in dtypes.items()}, False


def _store(outputs: dict[str, np.ndarray], tile: Tile, rsrp, server, sinr, covered) -> None:
    sl = tile.slices
    outputs["rsrp"][sl] = rsrp
    outputs["server"][sl] = server
    outputs["sinr"][sl] = sinr
    outputs["covered"][sl] = covered


class _Progress:
    """A rich progress bar on a terminal, nothing otherwise."""

    def __init__(self, enabled: bool, total: int, label: str):
        self._bar = None
        if enabled and total and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            self._bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(label, total=total)

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.advance(self._task)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


# ------------------------------------------------------------------------------------------------
# Backends
# ------------------------------------------------------------------------------------------------


def _run_threads(prep, tiles, outputs, workers: int, on_done: Callable[[], None]) -> int:
    evals = 0
    if len(tiles) < workers or workers == 1:
        parallel = workers > 1
        if parallel:
            import numba

            previous = numba.get_num_threads()
            numba.set_num_threads(min(workers, numba.config.NUMBA_NUM_THREADS))
        try:
            for tile, idx in tiles:
                tile, rsrp, server, sinr, covered, n = run_tile(
                    _tile_payload(prep, tile, idx, parallel)
                )
                _store(outputs, tile, rsrp, server, sinr, covered)
                evals += n
                on_done()
        finally:
            if parallel:
                numba.set_num_threads(previous)
        return evals

    def job(item):
        tile, idx = item
        return run_tile(_tile_payload(prep, tile, idx))

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gigacov-radio") as pool:
        pending: collections.deque = collections.deque()
        it: Iterator = iter(tiles)
        for item in it:
            pending.append(pool.submit(job, item))
            if len(pending) >= 2 * workers:
                break
        while pending:
            tile, rsrp, server, sinr, covered, n = pending.popleft().result()
            _store(outputs, tile, rsrp, server, sinr, covered)
            evals += n
            on_done()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(job, nxt))
    return evals


def _run_dask(prep, tiles, outputs, workers: int, scheduler: str, on_done) -> tuple[int, float]:
    """Tiles as Dask tasks; returns (evaluations, worker warm-up seconds)."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="30s")
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.WARNING,
            )
            client = Client(cluster)
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise ConfigError(
            f"[compute] scheduler: cannot connect to Dask scheduler {scheduler or 'LocalCluster'!r}: {exc}"
        ) from None
    evals = 0
    try:
        t0 = time.perf_counter()
        client.run(_worker_warm_up)
        warm_s = time.perf_counter() - t0
        n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
        it = iter(tiles)
        futures = as_completed()
        for _ in range(2 * n_workers):
            item = next(it, None)
            if item is None:
                break
            futures.add(client.submit(run_tile, _tile_payload(prep, *item), pure=False))
        for fut in futures:
            tile, rsrp, server, sinr, covered, n = fut.result()
            fut.release()
            _store(outputs, tile, rsrp, server, sinr, covered)
            evals += n
            on_done()
            item = next(it, None)
            if item is not None:
                futures.add(client.submit(run_tile, _tile_payload(prep, *item), pure=False))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return evals, warm_s


# ------------------------------------------------------------------------------------------------
# Public functions
# ------------------------------------------------------------------------------------------------


def _result(cells, grid, params, outputs, timings) -> CoverageResult:
    return CoverageResult(
        tech=params.tech.upper(),
        grid=grid,
        rsrp_dbm=outputs["rsrp"],
        sinr_db=outputs["sinr"],
        server=outputs["server"],
        covered=outputs["covered"],
        cells=cells,
        params=params,
        timings=timings,
    )


def compute_coverage(
    cells: pd.DataFrame,
    grid: Grid,
    params: RadioParams,
    *,
    population: np.ndarray | None = None,
    clutter: RasterData | None = None,
    dem: RasterData | None = None,
    backend: Backend = "threads",
    scheduler: str = "",
    workers: int = 0,
    tile_size: int = 256,
    progress: bool = False,
    memory_budget_mb: float | None = None,
) -> CoverageResult:
    """Best-server RSRP, server, SINR and covered mask of one technology on a grid.

    Parameters
    ----------
    cells
        One row per cell with the columns of :data:`gigacov.ingest.model.CELL_COLUMNS` (WGS84
        ``lon``/``lat``; ``freq_mhz``, ``eirp_dbm`` (total over the carrier, boresight),
        ``height_m`` required; ``n_rb`` or ``bandwidth_mhz`` + ``scs_khz``; ``azimuth_deg`` NaN =
        omni; ``beamwidth_deg`` NaN = ``params.default_beamwidth_deg``; ``tilt_deg`` NaN = no
        vertical pattern). One technology per call (``tech`` must equal ``params.tech``). Row
        ``i`` becomes server id ``i``. The frame is not modified.
    grid
        The analysis grid (projected CRS in metres).
    params
        Link budget, thresholds and model (:class:`RadioParams`).
    population
        Persons per grid pixel (float32, ``grid.shape``); sets the clutter class for ``auto`` and
        ``cost231-hata`` when no clutter raster is given.
    clutter
        Clutter raster in its own CRS (1 urban, 2 suburban, 3 rural), warped with nearest.
    dem
        Terrain raster in its own CRS (metres), warped bilinearly; enables LOS/NLOS per pixel
        and diffraction (``params.diffraction``) by ``params.terrain_method`` (``"horizon"``:
        radial horizon sweep, O(1) per pixel; ``"profile"``: exact path profile, O(distance)).
    backend
        ``"threads"`` or ``"dask"``.
    scheduler
        Dask scheduler address; ``""`` starts (and closes) a ``LocalCluster``.
    workers
        Threads or Dask worker processes; 0 = the number of CPU cores.
    tile_size
        Tile edge in pixels.
    progress
        Show a progress bar (only when stderr is a terminal).
    memory_budget_mb
        Budget for the full-grid arrays (default 4096, as ``[compute] memory_budget_mb``); over it
        the outputs become memmaps on disk (see the module doc).

    Returns
    -------
    CoverageResult
        With ``timings``: ``compile_s`` (first call in the process only; with Dask plus the
        workers' warm-up), ``prepare_s`` (cells, clutter, radii, tiling), ``compute_s`` (the tiles,
        wall) and ``compute_cpu_s`` (this process's CPU time meanwhile, all threads; not the Dask
        workers'), ``evaluations`` (cell-pixel evaluations), ``tiles``, ``evaluations_per_s``
        (evaluations / compute_s), ``memmap`` (1.0 when the outputs were spilled to disk).

    Raises
    ------
    InputError
        A cell row with a missing or unusable value (names the row and column), a population
        grid of the wrong shape.
    ConfigError
        A bad parameter (names the ``[radio]`` / ``[compute]`` / ``[grid]`` key).
    ResourceError
        Outputs over the memory budget and not enough disk to spill them.
    """
    t_start = time.perf_counter()
    if backend not in BACKENDS:
        raise ConfigError(
            f"[compute] backend: {backend!r} is not one of {', '.join(map(repr, BACKENDS))}"
        )
    if not isinstance(tile_size, int | np.integer) or tile_size < 1:
        raise ConfigError(f"[grid] tile_size must be a positive integer, got {tile_size!r}")
    if not isinstance(workers, int | np.integer) or workers < 0:
        raise ConfigError(f"[compute] workers must be ≥ 0 (0 = all cores), got {workers!r}")
    workers = int(workers) or (os.cpu_count() or 1)
    budget = int(
        (memory_budget_mb if memory_budget_mb is not None else DEFAULT_MEMORY_BUDGET_MB) * 2**20
    )
    _validate_params(params)
    cells_out = cells.reset_index(drop=True)
    outputs, spilled = _allocate(grid, budget)
    timings: dict[str, float] = {
        "compile_s": 0.0,
        "prepare_s": 0.0,
        "compute_s": 0.0,
        "compute_cpu_s": 0.0,
        "evaluations": 0,
        "tiles": 0,
        "evaluations_per_s": 0.0,
        "memmap": float(spilled),
    }
    if len(cells_out) == 0:
        timings["prepare_s"] = round(time.perf_counter() - t_start, 4)
        return _result(cells_out, grid, params, outputs, timings)

    compile_s = warm_up("serial")  # tile kernel + radius search; cached after the first run
    t_prep0 = time.perf_counter()
    prep = _prepare(cells_out, grid, params, population, clutter, dem, budget_bytes=budget)
    tiles = _bucket(prep, int(tile_size))
    # Validation and output allocation before the warm-up count as preparation too.
    prepare_s = (time.perf_counter() - t_prep0) + (t_prep0 - t_start - compile_s)
    parallel = backend == "threads" and 1 < workers and len(tiles) < workers
    if parallel:
        compile_s += warm_up("parallel")
    t_compute = time.perf_counter()
    cpu_compute = time.process_time()
    bar = _Progress(progress, len(tiles), f"{params.tech} coverage")
    try:
        if backend == "dask":
            evals, worker_warm = _run_dask(prep, tiles, outputs, workers, scheduler, bar.advance)
            compile_s += worker_warm
        else:
            evals = _run_threads(prep, tiles, outputs, workers, bar.advance)
    finally:
        bar.close()
    compute_s = time.perf_counter() - t_compute
    compute_cpu_s = time.process_time() - cpu_compute
    timings.update(
        compile_s=round(compile_s, 4),
        prepare_s=round(prepare_s, 4),
        compute_s=round(compute_s, 4),
        compute_cpu_s=round(compute_cpu_s, 4),
        evaluations=int(evals),
        tiles=len(tiles),
        evaluations_per_s=round(evals / compute_s, 1) if compute_s > 0 else 0.0,
    )
    log.info(
        "%s coverage: %d cells, %d tiles, %.3g cell-pixel evaluations in %.1f s (%s, %d workers)",
        params.tech,
        len(cells_out),
        len(tiles),
        evals,
        compute_s,
        backend,
        workers,
    )
    return _result(cells_out, grid, params, outputs, timings)


def cell_footprints(
    cells: pd.DataFrame,
    grid: Grid,
    params: RadioParams,
    *,
    population: np.ndarray | None = None,
    clutter: RasterData | None = None,
    dem: RasterData | None = None,
) -> list[tuple[Tile, np.ndarray]]:
    """Each cell's own RSRP on the window of pixels within its cut-off radius.

    Same model, link budget, clutter, terrain and contribution rule as :func:`compute_coverage`
    (so candidate sites are judged exactly as the coverage map is computed).

    Returns
    -------
    list of (Tile, numpy.ndarray)
        One entry per cell, in row order: the window (:class:`gigacov.grid.Tile`, clipped to the
        grid, as :meth:`Grid.window_around` with the cut-off radius) and the float32 RSRP per
        resource element (dBm) of that cell alone on it — NaN where the pixel centre is beyond the
        cut-off radius or the RSRP is below ``rsrp_threshold_dbm − cutoff_margin_db``. A cell whose
        window misses the grid gets ``Tile(0, 0, 0, 0)`` and an empty (0, 0) array. The arrays
        are views of one buffer per call (the cells are computed in parallel, one numba kernel
        call, on numba's threads).
    """
    cells = cells.reset_index(drop=True)
    if len(cells) == 0:
        return []
    warm_up("footprint")
    prep = _prepare(cells, grid, params, population, clutter, dem)
    dem_arr = prep.dem if prep.dem is not None else _DUMMY_DEM
    ci = prep.celli
    ks = np.flatnonzero(prep.active)
    row_off, col_off = ci[ks, K.R0], ci[ks, K.C0]
    height, width = ci[ks, K.R1] - row_off, ci[ks, K.C1] - col_off
    sizes = height * width
    offsets = np.zeros(ks.size, dtype=np.int64)
    if ks.size:
        offsets[1:] = np.cumsum(sizes)[:-1]
    flat = np.empty(int(sizes.sum()), dtype=np.float32)
    evals = np.zeros(ks.size, dtype=np.int64)
    classes = np.full((grid.height, grid.width + K.PAD), SUBURBAN, dtype=np.int8)
    if prep.clutter is not None:
        classes[:, : grid.width] = prep.clutter
    ip = prep.ip.copy()
    K.footprints_kernel(
        ks,
        row_off,
        col_off,
        height,
        width,
        offsets,
        prep.cellp,
        prep.coef,
        ci,
        prep.sp,
        ip,
        classes,
        dem_arr,
        flat,
        evals,
    )
    out: list[tuple[Tile, np.ndarray]] = [
        (Tile(0, 0, 0, 0), np.empty((0, 0), dtype=np.float32)) for _ in range(len(cells))
    ]
    for q, k in enumerate(ks):
        h, w, o = int(height[q]), int(width[q]), int(offsets[q])
        out[k] = (Tile(int(row_off[q]), int(col_off[q]), h, w), flat[o : o + h * w].reshape(h, w))
    return out
