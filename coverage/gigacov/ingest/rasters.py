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
import shapely
from affine import Affine

from ..crs import WGS84, parse_crs, transformer
from ..errors import InputError, ResourceError
from ..grid import RasterData
from ..rundir import sha256_file
from ._common import log, require_regular_file
from .geo import Region, metres_to_degrees
from .model import InputReport

__all__ = ["read_raster"]


def _fmt(b) -> str:
    return f"lon {b[0]:.4f}…{b[2]:.4f}, lat {b[1]:.4f}…{b[3]:.4f}"


#: Highest plausible population density, persons per km² of one pixel. The densest
#: neighbourhoods ever recorded stayed below about 2 million persons per km² (Kowloon Walled
#: City, about 1.9 million); a pixel above this is an error in the file (a wrong unit, an
#: overflowed value), not a place.
MAX_DENSITY_PER_KM2 = 2_000_000.0
#: Share of a population raster's pixels inside the region that may be nodata before gigacov
#: warns (those pixels count as nobody living there).
NODATA_WARN_SHARE = 0.01


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
    budget_bytes: int | None = None,
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
        Population counts: reject (``InputError``) negative and infinite values and densities
        above :data:`MAX_DENSITY_PER_KM2`; warn with the share when more than
        :data:`NODATA_WARN_SHARE` of the pixels inside the region are nodata.
    budget_bytes
        Refuse (``ResourceError``) a window that would need more memory than this.
    """
    import rasterio
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    p = Path(path)
    require_regular_file(p, key)
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
        need = int(win.width) * int(win.height) * np.dtype(src.dtypes[0]).itemsize * 3
        if budget_bytes is not None and need > budget_bytes:
            raise ResourceError(
                f"{p}: the {what}'s window over the region is {int(win.width)}×{int(win.height)} "
                f"pixels and needs about {need / 2**20:.0f} MiB to read and check, over the "
                f"budget of {budget_bytes / 2**20:.0f} MiB ([compute] memory_budget_mb); use a "
                "coarser raster or raise the budget"
            )
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
    if nonnegative:
        _check_population(data, valid, region, report, what, row_off, col_off)
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


def _pixel_area_km2(data: RasterData) -> np.ndarray:
    """Area of each row's pixels in km² (rows differ in a geographic CRS)."""
    t = data.transform
    h = data.array.shape[0]
    crs = pyproj.CRS.from_user_input(data.crs)
    if not crs.is_geographic:
        return np.full(h, abs(t.a * t.e - t.b * t.d) / 1e6)
    geod = pyproj.Geod(ellps="WGS84")
    lat0 = t.f + np.arange(h) * t.e
    lat1 = lat0 + t.e
    lon0, lon1 = t.c, t.c + t.a
    areas = np.empty(h)
    for r in range(h):
        area, _ = geod.polygon_area_perimeter(
            [lon0, lon1, lon1, lon0], [lat0[r], lat0[r], lat1[r], lat1[r]]
        )
        areas[r] = abs(area) / 1e6
    return areas


def _check_population(
    data: RasterData,
    valid: np.ndarray,
    region: Region,
    report: InputReport,
    what: str,
    row_off: int,
    col_off: int,
) -> None:
    """Population counts: finite, plausible density, and little nodata inside the region."""
    from rasterio.features import geometry_mask

    arr = data.array
    p = data.path
    if np.issubdtype(arr.dtype, np.floating):
        inf = np.isinf(arr) & (arr != (data.nodata if data.nodata is not None else np.nan))
        if inf.any():
            r, c = np.argwhere(inf)[0]
            raise InputError(
                f"{p}: the {what} holds infinite values ({int(inf.sum())} pixels, e.g. "
                f"{float(arr[r, c])!r} at row {int(r) + row_off}, column {int(c) + col_off}); "
                "set the file's nodata value if they mean 'no data'"
            )
    area = _pixel_area_km2(data)[:, None]
    with np.errstate(invalid="ignore", over="ignore"):
        density = np.where(valid, arr.astype(np.float64) / area, 0.0)
    dense = density > MAX_DENSITY_PER_KM2
    if dense.any():
        r, c = np.argwhere(dense)[0]
        raise InputError(
            f"{p}: the {what} holds implausible values ({int(dense.sum())} pixels, e.g. "
            f"{float(arr[r, c]):.6g} persons at row {int(r) + row_off}, column "
            f"{int(c) + col_off}, i.e. {density[r, c]:.3g} persons per km²); gigacov accepts at "
            f"most {MAX_DENSITY_PER_KM2:,.0f} persons per km² — check the file's unit and nodata"
        )
    crs = pyproj.CRS.from_user_input(data.crs)
    geom = region.union
    if not crs.equals(pyproj.CRS.from_epsg(4326)):
        tr = transformer(pyproj.CRS.from_epsg(4326), crs)
        geom = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    inside = ~geometry_mask([geom], out_shape=arr.shape, transform=data.transform)
    n_inside = int(inside.sum())
    if n_inside == 0:
        return
    missing = int((inside & ~valid).sum())
    share = missing / n_inside
    if share > NODATA_WARN_SHARE:
        msg = (
            f"{p}: {share:.1%} of the {what}'s pixels inside the region are nodata "
            f"({missing:,} of {n_inside:,}); nobody is counted there, so population totals and "
            "population-weighted indicators are too low"
        )
        report.warnings.append(msg)
