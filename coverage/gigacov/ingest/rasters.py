"""Rasters: population (persons per pixel), DEM (metres) and clutter classes, in any CRS.

Only the window covering the region (plus a margin) is read, so a country-wide raster costs the
memory of the region, not of the country. The first band is kept with its transform, CRS and
nodata value (:class:`gigacov.grid.RasterData`). A raster that does not overlap the region is an
:class:`~gigacov.errors.InputError` naming both extents in WGS84 degrees.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyproj
from affine import Affine

from ..crs import WGS84, parse_crs
from ..errors import InputError
from ..grid import RasterData
from ._common import log
from .geo import Region, metres_to_degrees
from .model import InputReport

__all__ = ["read_raster"]


def _fmt(b) -> str:
    return f"lon {b[0]:.4f}…{b[2]:.4f}, lat {b[1]:.4f}…{b[3]:.4f}"


def read_raster(
    path: str,
    *,
    what: str,
    key: str,
    region: Region,
    crs_override: str = "",
    margin_m: float = 20_000.0,
    hashes: dict[str, str] | None = None,
    nonnegative: bool = False,
) -> tuple[RasterData, InputReport]:
    """Read the region's window of a single-band raster.

    Parameters
    ----------
    path
        GeoTIFF (or anything GDAL reads).
    what, key
        Names for messages: ``"population raster"``, ``"[population] raster"``.
    region
        The analysed region (WGS84).
    crs_override
        CRS to use when the file declares none (``[population] crs``).
    margin_m
        Extra margin around the region's bounding box, metres.
    nonnegative
        Reject (``InputError``) negative values other than nodata (population counts).
    """
    import rasterio
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    from ..pipeline import sha256_file

    p = Path(path)
    if not p.exists():
        raise InputError(f"{key}: {what} file {str(p)!r} does not exist")
    if hashes is not None:
        hashes[str(p)] = sha256_file(p)
    try:
        src = rasterio.open(p)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{p}: cannot read the {what} ({exc})") from None
    with src:
        crs = src.crs
        if crs is None:
            if not crs_override:
                raise InputError(
                    f'{p}: the {what} declares no CRS; set {key.split("]")[0]}] crs = "EPSG:xxxx"'
                )
            spec = parse_crs(crs_override, what=f"{key.split(']')[0]}] crs")
            crs = spec.crs
        crs = pyproj.CRS.from_user_input(crs)
        minx, miny, maxx, maxy = region.bounds
        dlon, dlat = metres_to_degrees(margin_m, (miny + maxy) / 2)
        want = (minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)
        rb = src.bounds
        have84 = transform_bounds(crs, WGS84, *rb, densify_pts=21)
        region_wgs = (minx, miny, maxx, maxy)
        if not (
            have84[0] < region_wgs[2]
            and have84[2] > region_wgs[0]
            and have84[1] < region_wgs[3]
            and have84[3] > region_wgs[1]
        ):
            raise InputError(
                f"{p}: the {what} does not overlap the region: raster covers {_fmt(have84)} "
                f"(its CRS {crs.to_string()}), the region covers {_fmt(region_wgs)} (WGS84); check "
                f"the file and its CRS"
            )
        want_src = transform_bounds(WGS84, crs, *want, densify_pts=21)
        win = from_bounds(*want_src, transform=src.transform)
        full = Window(0, 0, src.width, src.height)
        c0 = max(0, int(math.floor(win.col_off)))
        r0 = max(0, int(math.floor(win.row_off)))
        c1 = min(src.width, int(math.ceil(win.col_off + win.width)))
        r1 = min(src.height, int(math.ceil(win.row_off + win.height)))
        if c1 <= c0 or r1 <= r0:  # pragma: no cover - excluded by the overlap test above
            c0, r0, c1, r1 = 0, 0, src.width, src.height
        col_off, row_off = c0, r0
        win = Window(c0, r0, c1 - c0, r1 - r0)
        arr = src.read(1, window=win)
        transform = src.transform @ Affine.translation(col_off, row_off)
        nodata = src.nodata
    data = RasterData(arr, transform, crs, nodata, str(p))
    valid = data.valid_mask()
    if nonnegative:
        neg = valid & (arr < 0)
        if neg.any():
            r, c = np.argwhere(neg)[0]
            raise InputError(
                f"{p}: the {what} holds negative values ({int(neg.sum())} pixels, e.g. {float(arr[r, c])!r} at "
                f"row {int(r) + row_off}, column {int(c) + col_off}); persons per pixel cannot be "
                "negative — set the file's nodata value if they mean 'no data'"
            )
    report = InputReport(input=what.replace(" raster", "").replace(" ", "_").lower(), path=str(p))
    report.read = report.used = int(arr.size)
    if not valid.any():
        report.warnings.append(f"{p}: the {what} has no valid pixel over the region (all nodata)")
    log.info(
        "%s: window %dx%d of %dx%d pixels, CRS %s",
        p,
        arr.shape[1],
        arr.shape[0],
        full.width,
        full.height,
        crs.to_string(),
    )
    return data, report
