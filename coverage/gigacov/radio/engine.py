"""The radio coverage engine: cells → best-server RSRP, server, SINR and covered per pixel.

Three layers: the numba kernels of :mod:`.kernels` work on one tile (or one cell's window);
:mod:`.backends` cuts the grid into tiles, gives each tile the cells whose cut-off circle reaches
it and runs the tiles on a thread pool or on Dask; the public functions here
(:func:`compute_coverage`, :func:`cell_footprints`) validate, prepare (:mod:`.prepare`, with the
clutter classes and the DEM of :mod:`.ground`) and assemble.

Link budget (per cell *i*, pixel *p*)::

    RSRP_i(p) = EIRP_i − 10·log10(12·N_RB,i) − PL_i(p) + A_i(p) − extra_loss − L_diffraction,i(p)
    N_i       = −174 + 10·log10(SCS_i in Hz) + NF                           (noise per RE, dBm)
    SINR(p)   = S / (load · Σ_{j ≠ server} w(server, j) · 10^(RSRP_j(p)/10) + N_server)
    covered   = RSRP ≥ rsrp_threshold AND SINR ≥ sinr_threshold

**Contribution rule.** Cell *i* counts at pixel *p* (as candidate server and as interferer) when the
pixel centre lies within its **cut-off radius** and ``RSRP_i(p) ≥ rsrp_threshold −
cutoff_margin_db``. The cut-off radius is the distance beyond which even boresight gain (0 dB)
and the least-loss model that can apply around the cell (LOS formulas when a DEM can make pixels
LOS, NLOS formulas otherwise; per clutter class present within that distance) leave the RSRP below
that level, capped by ``max_radius_m``. So the radius never changes which cells contribute, it only
bounds the work: cells × footprint, not cells × region. (With a DEM and the default ``horizon``
terrain method it also sets the cell's number of rays, ``ceil(2π·radius / resolution)``, i.e. the
angular sampling of its terrain; see :mod:`gigacov.radio.terrain`.) **Carriers.** ``w(server, j)``
is the share of the server's carrier that cell *j*'s carrier overlaps (:mod:`gigacov.operators`):
1 on the same carrier, 0 on a disjoint one (China Telecom's 3400–3500 MHz and China Unicom's
3500–3600 MHz n78 carriers do not interfere). A cell's carrier is its ``carrier_low_mhz`` –
``carrier_high_mhz`` (set from the operators' carrier table at ingest), else ``freq_mhz`` ± half
its ``bandwidth_mhz``. Ties between equally strong servers go to the lower cell index.

**Terrain.** With a DEM, ``[radio] terrain_method`` chooses between ``horizon`` (default: a radial
horizon sweep per cell, O(1) work per cell-pixel evaluation, the transmitter-horizon single
knife-edge approximation) and ``profile`` (the exact path profile per pixel, O(distance));
``diffraction = "deygout"`` always runs on ``profile``. Interferers get the same terrain as
servers (every cell-pixel evaluation is the same). Where even the most favourable terrain (LOS,
no diffraction, 0 dB vertical gain) leaves a cell below the contribution level the terrain is not
computed at all (identical results, less work); see :mod:`gigacov.radio.kernels`. The DEM on
the grid is cached between calls (:mod:`.ground`).

Clutter classes and ``auto``: :mod:`.ground`. Tiles, backends and memory (when the outputs
become memory-mapped files): :mod:`.backends`.
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..grid import Grid, RasterData, Tile
from . import kernels as K
from .backends import (
    BACKENDS,
    DEFAULT_MEMORY_BUDGET_MB,
    DUMMY_DEM,
    Backend,
    Progress,
    allocate_outputs,
    bucket_tiles,
    run_dask,
    run_threads,
    warm_up,
)
from .ground import clutter_classes
from .models import SUBURBAN
from .prepare import prepare, validate_params
from .result import CoverageResult, RadioParams

__all__ = ["compute_coverage", "cell_footprints", "clutter_classes", "Backend"]

log = logging.getLogger(__name__)


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
    validate_params(params)
    cells_out = cells.reset_index(drop=True)
    outputs, spilled = allocate_outputs(grid, budget)
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

    # The tile kernel (with or without terrain) + radius search; cached after the first run.
    compile_s = warm_up("dem" if dem is not None else "serial")
    t_prep0 = time.perf_counter()
    prep = prepare(cells_out, grid, params, population, clutter, dem, budget_bytes=budget)
    tiles = bucket_tiles(prep, int(tile_size))
    # Validation and output allocation before the warm-up count as preparation too.
    prepare_s = (time.perf_counter() - t_prep0) + (t_prep0 - t_start - compile_s)
    parallel = backend == "threads" and 1 < workers and len(tiles) < workers
    if parallel:
        compile_s += warm_up("parallel")
    t_compute = time.perf_counter()
    cpu_compute = time.process_time()
    bar = Progress(progress, len(tiles), f"{params.tech} coverage")
    try:
        if backend == "dask":
            evals, worker_warm = run_dask(prep, tiles, outputs, workers, scheduler, bar.advance)
            compile_s += worker_warm
        else:
            evals = run_threads(prep, tiles, outputs, workers, bar.advance)
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
    prep = prepare(cells, grid, params, population, clutter, dem)
    dem_arr = prep.dem if prep.dem is not None else DUMMY_DEM
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
