"""Per-cell footprints for planning: each candidate measured with the radio engine's own model."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import RunError
from ..grid import Grid, Tile
from ..run_result import RunResult
from ._kernels import site_footprint_pixels
from .network import Footprints, NetworkState

__all__ = ["FootprintFn", "interference_noise_mw", "build_footprints", "radio_footprint_fn"]


#: Per-cell footprint function: cells (CELL_COLUMNS) → [(Tile | None, RSRP dBm window)] in order.
FootprintFn = Callable[[pd.DataFrame], Sequence[tuple[Tile | None, np.ndarray]]]


def interference_noise_mw(cov, noise_figure_db: float, scs_khz: float, load: float) -> np.ndarray:
    """Interference + noise per resource element (mW) that a new cell's signal would face.

    From the best server's RSRP ``S`` and SINR: ``S / SINR`` is the interference of the other
    cells plus noise; the best server itself interferes at ``load · S``. Where no cell reaches,
    thermal noise per resource element: −174 dBm/Hz + 10·log10(SCS) + noise figure.
    """
    noise_dbm = -174.0 + 10.0 * math.log10(scs_khz * 1e3) + noise_figure_db
    noise_mw = np.float32(10.0 ** (noise_dbm / 10.0))
    out = np.empty(cov.rsrp_dbm.shape, dtype=np.float32)
    for r0 in range(0, out.shape[0], 256):  # row blocks keep the float temporaries small
        rows = slice(r0, r0 + 256)
        rsrp = np.asarray(cov.rsrp_dbm[rows], dtype=np.float64)
        sinr = np.asarray(cov.sinr_db[rows], dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore", under="ignore"):
            s = np.power(10.0, rsrp / 10.0)
            block = s / np.power(10.0, sinr / 10.0) + load * s
        out[rows] = np.where(np.isfinite(block) & (block > 0), block, noise_mw)
    return out


def _combine_sectors(
    items: Sequence[tuple[Tile | None, np.ndarray]],
) -> tuple[Tile | None, np.ndarray | None]:
    """Best RSRP over a site's cells in the union of their windows."""
    items = [(t, a) for t, a in items if t is not None and a is not None and a.size]
    if not items:
        return None, None
    t0 = items[0][0]
    if all(t == t0 for t, _ in items):
        out = np.asarray(items[0][1], dtype=np.float32).copy()
        for _, a in items[1:]:
            np.fmax(out, a, out=out)
        return t0, out
    r0 = min(t.row_off for t, _ in items)
    c0 = min(t.col_off for t, _ in items)
    r1 = max(t.row_off + t.height for t, _ in items)
    c1 = max(t.col_off + t.width for t, _ in items)
    tile = Tile(r0, c0, r1 - r0, c1 - c0)
    out = np.full((tile.height, tile.width), np.nan, dtype=np.float32)
    for t, a in items:
        sub = out[
            t.row_off - r0 : t.row_off - r0 + t.height, t.col_off - c0 : t.col_off - c0 + t.width
        ]
        np.fmax(sub, a, out=sub)
    return tile, out


def build_footprints(
    state: NetworkState,
    grid: Grid,
    cells: pd.DataFrame,
    sectors: int,
    footprint_fn: FootprintFn,
    rsrp_threshold_dbm: float,
    sinr_threshold_db: float,
    radius_m: float = 5000.0,
    window_budget_bytes: int = 64 * 2**20,
) -> Footprints:
    """Stored footprints of candidate sites (cells grouped by site, ``sectors`` rows each).

    Keeps, per site, the pixels it covers that matter (people or a target object) and that it
    would newly cover or serve better (see :func:`gigacov.planning._kernels.site_footprint_pixels`).
    The footprint function is called on batches of sites sized so that their dense RSRP windows
    (at most ``radius_m`` around each cell) stay within ``window_budget_bytes``.
    """
    m = 1 if sectors == 1 else sectors
    n_sites = len(cells) // m
    side = 2.0 * radius_m / grid.resolution_m + 2.0
    batch_sites = int(min(4096, max(16, window_budget_bytes // max(1.0, 4.0 * m * side * side))))
    pix: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for b0 in range(0, n_sites, batch_sites):
        b1 = min(n_sites, b0 + batch_sites)
        batch = cells.iloc[b0 * m : b1 * m].reset_index(drop=True)
        results = list(footprint_fn(batch))
        if len(results) != len(batch):
            raise RunError(
                f"the footprint function returned {len(results)} windows for {len(batch)} cells"
            )
        for s in range(b1 - b0):
            tile, rsrp = _combine_sectors(results[s * m : (s + 1) * m])
            if tile is None:
                pix.append(np.empty(0, np.int64))
                val.append(np.empty(0, np.float32))
                continue
            idx, v = site_footprint_pixels(
                np.ascontiguousarray(rsrp, dtype=np.float32),
                tile.row_off,
                tile.col_off,
                grid.width,
                state.in_noise_mw,
                float(rsrp_threshold_dbm),
                float(sinr_threshold_db),
                state.covered,
                state.best_rsrp,
                state.relevant,
            )
            pix.append(idx)
            val.append(v)
    return Footprints.from_lists(pix, val)


def radio_footprint_fn(run: RunResult, max_radius_m: float) -> FootprintFn:
    """``gigacov.radio.cell_footprints`` with the run's 5G model settings and inputs."""
    from ..radio import cell_footprints

    cov = run.coverage["5G"]
    # Only pixels at or above the RSRP threshold matter to a candidate, so its footprint is cut
    # where the RSRP falls below the threshold (no interference margin): same values, smaller
    # windows.
    params = dataclasses.replace(
        cov.params, max_radius_m=min(cov.params.max_radius_m, max_radius_m), cutoff_margin_db=0.0
    )
    inputs = run.inputs

    def fn(cells: pd.DataFrame):
        return cell_footprints(
            cells,
            run.grid,
            params,
            population=run.population,
            clutter=getattr(inputs, "clutter", None),
            dem=getattr(inputs, "dem", None),
        )

    return fn


# plan()
