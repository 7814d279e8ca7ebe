"""Verifying a plan: coverage and indicators computed again with the new sites appended."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from ..grid import Grid, Tile
from ..run_result import RunResult

__all__ = ["rerun"]


def rerun(
    run: RunResult,
    new_cells: pd.DataFrame,
    codes: list[str],
    metric_geoms: np.ndarray,
    county_index: dict[str, int],
) -> tuple[Any, Any]:
    """5G coverage and indicators with the new cells appended, for the counties ``codes``.

    Coverage is recomputed on the grid window of those counties (every cell takes part; the
    rest of the grid keeps the run's rasters) and the indicators are computed for those counties,
    their villages and key places only.
    """
    import shapely

    from ..indicators import compute_indicators
    from ..radio import CoverageResult, compute_coverage

    scn = run.scenario
    grid: Grid = run.grid
    cov = run.coverage["5G"]
    cells = pd.concat([cov.cells, new_cells.reindex(columns=cov.cells.columns)], ignore_index=True)
    geoms = [metric_geoms[county_index[c] - 1] for c in codes]
    minx, miny, maxx, maxy = shapely.union_all(geoms).bounds
    res = grid.resolution_m
    c0 = max(0, int(math.floor((minx - grid.transform.c) / res)))
    c1 = min(grid.width, int(math.ceil((maxx - grid.transform.c) / res)))
    r0 = max(0, int(math.floor((grid.transform.f - maxy) / res)))
    r1 = min(grid.height, int(math.ceil((grid.transform.f - miny) / res)))
    tile = Tile(r0, c0, max(1, r1 - r0), max(1, c1 - c0))
    sub = grid.subgrid(tile)
    sl = tile.slices
    part = compute_coverage(
        cells,
        sub,
        cov.params,
        population=run.population[sl],
        clutter=run.inputs.clutter,
        dem=run.inputs.dem,
        backend=scn.compute.backend,
        scheduler=scn.compute.scheduler,
        workers=scn.compute.workers,
        tile_size=scn.grid.tile_size,
        progress=False,
        memory_budget_mb=scn.compute.memory_budget_mb,
    )
    rsrp, sinr, server, covered = (
        cov.rsrp_dbm.copy(),
        cov.sinr_db.copy(),
        cov.server.copy(),
        cov.covered.copy(),
    )
    rsrp[sl], sinr[sl], server[sl], covered[sl] = (
        part.rsrp_dbm,
        part.sinr_db,
        part.server,
        part.covered,
    )
    full = CoverageResult(
        tech="5G",
        grid=grid,
        rsrp_dbm=rsrp,
        sinr_db=sinr,
        server=server,
        covered=covered,
        cells=cells,
        params=cov.params,
        timings=dict(part.timings),
    )
    techs = dict(run.coverage)
    techs["5G"] = full
    b = run.inputs.boundaries
    level = b["level"].astype(str)
    code6 = b["admin_code"].astype(str).str[:6]
    keep = level.isin(["province", "city"]) | (
        level.isin(["county", "village"]) & code6.isin(codes)
    )
    kp = run.inputs.key_places
    if kp is not None and len(kp):
        kp = kp[kp["admin_code"].astype(str).isin(codes)]
    inputs = dataclasses.replace(
        run.inputs,
        boundaries=b[keep.to_numpy()],
        key_places=kp,
        cells=pd.concat(
            [run.inputs.cells, new_cells.reindex(columns=run.inputs.cells.columns)],
            ignore_index=True,
        ),
    )
    ind = compute_indicators(inputs, grid, run.population, techs)
    return full, ind
