"""Backends: the grid cut into tiles, each tile's payload, the thread and Dask adapters, the
full-grid outputs (in memory or memory-mapped) and the kernels' compilation.

**Tiles.** :func:`bucket_tiles` gives each non-empty tile the (ascending) indices of the cells
whose window meets it; :func:`tile_payload` makes the tile's self-contained inputs (its cells'
rows with tile-local interference groups, its clutter and DEM windows) and :func:`run_tile` runs
the tile kernel on it. A thread and a Dask worker run the same function on the same payload, so
their rasters are identical.

**Backends.** ``threads``: tiles on a pool of ``workers`` threads, each tile with the serial
kernel (numba releases the GIL); with fewer tiles than workers, the tiles run one after the other
with the row-parallel kernel. ``dask``: the same tile payloads as tasks on ``dask.distributed``
(a ``LocalCluster`` of ``workers`` single-thread processes started and closed here when
``scheduler`` is empty, else the scheduler at that address).

**Memory.** Per tile the working set is the tile's outputs (13 bytes per pixel) and the kernel's
scratch (best RSRP, best index and one linear power sum per interference group: 8·(2 + groups)
bytes per pixel; 1.6 MiB for a 256² tile and one group), per worker. The four full-grid outputs
take 13 bytes per pixel (+1 for clutter classes, +4 for a DEM, padded by the largest cut-off
radius). With a DEM the kernel adds, per worker, 40 bytes per tile pixel of terrain scratch
(2.6 MiB for a 256² tile) and, for the horizon sweep, 12 bytes per ray and sample of the widest
cell (``M·S`` with ``M ≈ 2π·R/res``, ``S ≈ R/res``: 190 KiB for R = 5 km at 100 m, 1.7 MiB for
15 km; over the budget it is an error). When ``Grid.check_allocation`` says the outputs exceed
``memory_budget_mb``, they are ``numpy.memmap`` files in a private temporary folder (unlinked at
once on POSIX, so nothing is left behind); the result arrays are then memmaps. A DEM or clutter
grid that alone exceeds the budget is an error.
"""

from __future__ import annotations

import collections
import logging
import math
import mmap
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np

from ..errors import ConfigError, ResourceError
from ..grid import Grid, Tile
from . import kernels as K
from .models import AUTO, RURAL, SUBURBAN
from .prepare import Prepared
from .result import NO_SERVER

__all__ = [
    "Backend",
    "BACKENDS",
    "bucket_tiles",
    "tile_payload",
    "run_tile",
    "warm_up",
    "allocate_outputs",
    "run_threads",
    "run_dask",
]

log = logging.getLogger(__name__)

Backend = Literal["threads", "dask"]
BACKENDS: tuple[str, ...] = ("threads", "dask")

#: Bytes per pixel of the four full-grid outputs: float32 RSRP + float32 SINR + int32 server + uint8.
OUTPUT_BYTES_PER_PIXEL = 13
DEFAULT_MEMORY_BUDGET_MB = 4096

DUMMY_DEM = np.zeros((1, 1), dtype=np.float32)


# ------------------------------------------------------------------------------------------------
# Tiles
# ------------------------------------------------------------------------------------------------


def bucket_tiles(prep: Prepared, tile_size: int) -> list[tuple[Tile, np.ndarray]]:
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


def _class_window(prep: Prepared, tile: Tile) -> np.ndarray:
    """Clutter classes of a window, int8 (h, w + PAD) (the kernels' padded rows); suburban
    everywhere without a class grid."""
    out = np.full((tile.height, tile.width + K.PAD), SUBURBAN, dtype=np.int8)
    if prep.clutter is not None:
        out[:, : tile.width] = prep.clutter[tile.slices]
    return out


def tile_payload(
    prep: Prepared, tile: Tile, idx: np.ndarray, parallel: bool = False
) -> dict[str, Any]:
    """The self-contained inputs of one tile (what a thread or a Dask task receives)."""
    cellp = np.ascontiguousarray(prep.cellp[idx])
    coef = np.ascontiguousarray(prep.coef[idx])
    celli = np.ascontiguousarray(prep.celli[idx])
    groups, local = np.unique(celli[:, K.GROUP], return_inverse=True)
    celli[:, K.GROUP] = local
    ip = prep.ip.copy()
    ip[K.NGROUPS] = len(groups)
    sp = np.concatenate([prep.sp[: K.NSP], prep.overlap[np.ix_(groups, groups)].ravel()])
    clutter = _class_window(prep, tile)
    dem = DUMMY_DEM
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
        "sp": sp,
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
    elif payload["ip"][K.HAS_DEM]:
        evals = K.tile_kernel_dem(*args)
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
    sp = np.zeros(K.NSP + 1)  # + the 1×1 carrier-overlap matrix
    sp[[K.SY0, K.RES, K.HUT, K.LEVEL, K.LOAD, K.DMIN, K.WMAT]] = [
        200.0,
        100.0,
        1.5,
        -200.0,
        0.5,
        10.0,
        1.0,
    ]
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
        "dem": DUMMY_DEM,
        "parallel": parallel,
    }


def warm_up(kind: str = "serial") -> float:
    """Compile (or load from cache) one kernel with a tiny call; seconds taken, 0 if done before.

    ``kind``: ``"serial"`` (the tile kernel without a DEM), ``"dem"`` (with one),
    ``"parallel"`` (the row-band tile kernel) or ``"footprint"``.
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
    elif kind == "dem":
        # No cells: compiles the kernel's terrain path without running it.
        p = _tiny_payload(False)
        p["cellp"], p["coef"], p["celli"] = p["cellp"][:0], p["coef"][:0], p["celli"][:0]
        p["ip"][K.HAS_DEM] = 1
        run_tile(p)
    else:
        run_tile(_tiny_payload(kind == "parallel"))
    _WARMED.add(kind)
    return time.perf_counter() - t0


def _worker_warm_up(kind: str = "serial") -> float:
    """Dask worker side: compile/load the serial tile kernel (``kind`` as :func:`warm_up`)."""
    return warm_up(kind)


# ------------------------------------------------------------------------------------------------
# Outputs
# ------------------------------------------------------------------------------------------------


def allocate_outputs(grid: Grid, budget_bytes: int) -> tuple[dict[str, np.ndarray], bool]:
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
            for r0 in range(0, grid.height, _FILL_ROWS):
                arr[r0 : r0 + _FILL_ROWS] = fills[name]
                release_rows(arr, r0, r0 + _FILL_ROWS)
            out[name] = arr
        shutil.rmtree(tmp, ignore_errors=True)  # POSIX: the mappings stay valid, no leftovers
        return out, True
    return {name: np.full(grid.shape, fills[name], dtype=dt) for name, dt in dtypes.items()}, False


_FILL_ROWS = 512


def release_rows(arr: np.ndarray, r0: int, r1: int) -> None:
    """Let the pages of rows ``[r0, r1)`` of a memory-mapped output go (``MADV_DONTNEED``; the
    data stays in the file's page cache and on disk, a later read maps it back), so that a
    province-size output written tile row by tile row does not stay resident in this process.
    Nothing for an in-memory array or where ``madvise`` is missing."""
    mm = getattr(arr, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return
    row_bytes = arr.strides[0]
    page = mmap.PAGESIZE
    start = -(-(arr.offset + max(r0, 0) * row_bytes) // page) * page
    end = (arr.offset + min(r1, arr.shape[0]) * row_bytes) // page * page
    if end > start:
        mm.madvise(mmap.MADV_DONTNEED, start, end - start)


def store_tile(outputs: dict[str, np.ndarray], tile: Tile, rsrp, server, sinr, covered) -> None:
    sl = tile.slices
    outputs["rsrp"][sl] = rsrp
    outputs["server"][sl] = server
    outputs["sinr"][sl] = sinr
    outputs["covered"][sl] = covered


class _RowRelease:
    """For memory-mapped outputs stored in tile order (rows of tiles top to bottom): once a
    tile of a lower row of tiles is stored, the rows above it are complete and their pages are
    let go (:func:`release_rows`)."""

    def __init__(self, outputs: dict[str, np.ndarray]):
        self.outputs = [a for a in outputs.values() if isinstance(a, np.memmap)]
        self.done = 0

    def stored(self, tile: Tile) -> None:
        if self.outputs and tile.row_off > self.done:
            for arr in self.outputs:
                release_rows(arr, self.done, tile.row_off)
            self.done = tile.row_off

    def finish(self) -> None:
        for arr in self.outputs:
            release_rows(arr, self.done, arr.shape[0])


class Progress:
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


def run_threads(prep, tiles, outputs, workers: int, on_done: Callable[[], None]) -> int:
    evals = 0
    rows = _RowRelease(outputs)
    if len(tiles) < workers or workers == 1:
        parallel = workers > 1
        if parallel:
            import numba

            previous = numba.get_num_threads()
            numba.set_num_threads(min(workers, numba.config.NUMBA_NUM_THREADS))
        try:
            for tile, idx in tiles:
                tile, rsrp, server, sinr, covered, n = run_tile(
                    tile_payload(prep, tile, idx, parallel)
                )
                store_tile(outputs, tile, rsrp, server, sinr, covered)
                rows.stored(tile)
                evals += n
                on_done()
        finally:
            if parallel:
                numba.set_num_threads(previous)
        rows.finish()
        return evals

    def job(item):
        tile, idx = item
        return run_tile(tile_payload(prep, tile, idx))

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gigacov-radio") as pool:
        pending: collections.deque = collections.deque()
        it: Iterator = iter(tiles)
        for item in it:
            pending.append(pool.submit(job, item))
            if len(pending) >= 2 * workers:
                break
        while pending:
            tile, rsrp, server, sinr, covered, n = pending.popleft().result()
            store_tile(outputs, tile, rsrp, server, sinr, covered)
            rows.stored(tile)
            evals += n
            on_done()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(job, nxt))
    rows.finish()
    return evals


def run_dask(prep, tiles, outputs, workers: int, scheduler: str, on_done) -> tuple[int, float]:
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
        client.run(_worker_warm_up, "dem" if prep.dem is not None else "serial")
        warm_s = time.perf_counter() - t0
        n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
        it = iter(tiles)
        futures = as_completed()
        for _ in range(2 * n_workers):
            item = next(it, None)
            if item is None:
                break
            futures.add(client.submit(run_tile, tile_payload(prep, *item), pure=False))
        for fut in futures:
            tile, rsrp, server, sinr, covered, n = fut.result()
            fut.release()
            store_tile(outputs, tile, rsrp, server, sinr, covered)
            evals += n
            on_done()
            item = next(it, None)
            if item is not None:
                futures.add(client.submit(run_tile, tile_payload(prep, *item), pure=False))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return evals, warm_s
