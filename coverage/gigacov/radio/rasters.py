"""Coverage rasters on disk: Cloud-Optimised GeoTIFFs that open in QGIS.

Each array is first written (in strips, so memmapped province-size arrays never need a second
copy in memory) to a tiled scratch GeoTIFF next to the destination, then copied with GDAL's
**COG driver** (deflate, 256-pixel tiles, overviews) to a temporary name and renamed into place
(:func:`gigacov.rundir.atomic_path`), so an interrupted run never leaves a half-written raster.

=============  =========  ========  ================================  ====================
file           dtype      nodata    meaning                           overview resampling
=============  =========  ========  ================================  ====================
rsrp.tif       float32    NaN       best-server RSRP per RE, dBm      average
sinr.tif       float32    NaN       SINR of the best server, dB       average
server.tif     int32      −1        best server, row of the cells     nearest
covered.tif    uint8      (none)    1 covered, 0 not                  nearest
=============  =========  ========  ================================  ====================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyproj

from .. import __version__
from ..errors import RunError
from ..grid import Grid
from ..rundir import atomic_path, coverage_file, read_coverage_rasters
from ..safefs import partial_dir
from .result import NO_SERVER, CoverageResult

__all__ = ["write_coverage", "read_coverage", "LAYERS"]

#: name → (CoverageResult attribute, dtype, nodata, overview resampling, description)
LAYERS: dict[str, tuple[str, str, Any, str, str]] = {
    "rsrp": (
        "rsrp_dbm",
        "float32",
        float("nan"),
        "AVERAGE",
        "best-server RSRP per resource element (dBm)",
    ),
    "sinr": ("sinr_db", "float32", float("nan"), "AVERAGE", "SINR of the best server (dB)"),
    "server": (
        "server",
        "int32",
        NO_SERVER,
        "NEAREST",
        "best-serving cell (row of the cells table), -1 = none",
    ),
    "covered": (
        "covered",
        "uint8",
        None,
        "NEAREST",
        "1 = covered (RSRP and SINR at or above the thresholds)",
    ),
}
BLOCKSIZE = 256
_STRIP_ROWS = 1024


def _write_cog(
    array: np.ndarray,
    grid: Grid,
    path: Path,
    dtype: str,
    nodata,
    resampling: str,
    description: str,
    tags: dict[str, str],
) -> None:
    import rasterio
    import rasterio.shutil
    from rasterio.crs import CRS
    from rasterio.windows import Window

    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": dtype,
        "crs": CRS.from_wkt(grid.crs.to_wkt()),
        "transform": grid.transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": BLOCKSIZE,
        "blockysize": BLOCKSIZE,
        "BIGTIFF": "IF_SAFER",
    }
    with partial_dir(path.parent) as tmp:
        scratch = tmp / "scratch.tif"
        with rasterio.open(scratch, "w", **profile) as dst:
            for r in range(0, grid.height, _STRIP_ROWS):
                n = min(_STRIP_ROWS, grid.height - r)
                dst.write(
                    np.asarray(array[r : r + n], dtype=dtype), 1, window=Window(0, r, grid.width, n)
                )
            dst.set_band_description(1, description)
            dst.update_tags(**tags)
        with atomic_path(path) as out:
            rasterio.shutil.copy(
                scratch,
                out,
                driver="COG",
                COMPRESS="DEFLATE",
                PREDICTOR="YES",
                BLOCKSIZE=str(BLOCKSIZE),
                OVERVIEWS="AUTO",
                OVERVIEW_RESAMPLING=resampling,
                BIGTIFF="IF_SAFER",
            )


def write_coverage(
    result: CoverageResult, run_dir: str | Path, suffix: str = ""
) -> dict[str, Path]:
    """Write the four coverage rasters of ``result`` as COGs into ``run_dir``.

    Parameters
    ----------
    result
        A :class:`CoverageResult`.
    run_dir
        Folder (created if missing).
    suffix
        Appended to the file stems and the keys: ``"_4g"`` → ``rsrp_4g.tif`` under key
        ``"rsrp_4g"``.

    Returns
    -------
    dict
        ``{"rsrp" + suffix: path, "sinr" + suffix: ..., "server" + suffix: ..., "covered" + suffix: ...}``.
    """
    run_dir = Path(run_dir)
    p = result.params
    tags = {
        "gigacov_version": __version__,
        "tech": result.tech,
        "model": p.model,
        "rsrp_threshold_dbm": f"{p.rsrp_threshold_dbm:g}",
        "sinr_threshold_db": f"{p.sinr_threshold_db:g}",
        "load": f"{p.load:g}",
        "cells": str(len(result.cells)),
    }
    out: dict[str, Path] = {}
    for name, (attr, dtype, nodata, resampling, description) in LAYERS.items():
        path = run_dir / coverage_file(name, suffix)
        _write_cog(
            getattr(result, attr),
            result.grid,
            path,
            dtype,
            nodata,
            resampling,
            description,
            {**tags, "layer": name},
        )
        out[f"{name}{suffix}"] = path
    return out


def read_coverage(run_dir: str | Path, suffix: str = "") -> dict[str, Any]:
    """Read the rasters written by :func:`write_coverage`.

    Returns
    -------
    dict
        ``{"rsrp": float32, "sinr": float32, "server": int32, "covered": uint8, "grid": Grid}``
        (keys without the suffix; arrays with the grid's shape, NaN / −1 where no server).

    Raises
    ------
    RunError
        A raster is missing, or the four rasters are not on the same grid.
    """
    run_dir = Path(run_dir)
    out: dict[str, Any] = {}
    grid = None
    for name, stored in read_coverage_rasters(run_dir, suffix).items():
        g = Grid(pyproj.CRS.from_wkt(stored.crs_wkt), stored.transform, stored.width, stored.height)
        out[name] = stored.array.astype(LAYERS[name][1], copy=False)
        if grid is None:
            grid = g
        elif not grid.same_as(g):
            raise RunError(
                f"{stored.path}: not on the same grid as {run_dir / coverage_file('rsrp', suffix)}"
            )
    out["grid"] = grid
    return out
