"""Stage 1 of the site reader: positions (columns or point geometries) to WGS84, checked.

``missing_value``, ``not_a_number``, then position: a point outside the region (its counties
buffered by ``[sites] region_margin_m``) whose swapped coordinates fall inside is repaired and used
(``lat_lon_swapped`` counted under *fixed*, with a warning); one that looks swapped but is inside
the region in neither order is rejected ``lat_lon_swapped``; a point in another county of the
boundary file (a city-wide list read for one county) is a valid row of another region: *skipped*
``outside_region``; any other point outside (outside every county of the boundary file, or in
the sea beyond the margin) is rejected ``outside_region``. Coordinates read as degrees that cannot be degrees stop the run
(:func:`~gigacov.ingest.geo.check_lonlat_ranges`).
"""

from __future__ import annotations

import logging
from functools import partial

import numpy as np
import pandas as pd
import shapely

from ..crs import CRSSpec, parse_crs
from ._common import rows_text
from .geo import (
    Region,
    check_lonlat_ranges,
    effective_crs,
    lonlat_columns,
    points_to_wgs84_by_source,
)
from .site_work import SiteWork

__all__ = ["coordinates"]

log = logging.getLogger(__name__)

_GEOM_TYPE_NAMES = {
    1: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def coordinates(w: SiteWork, region: Region, declared: CRSSpec):
    """WGS84 lon/lat per row (NaN where rejected) and the raw column coordinates (datum check)."""
    cols, tracker, table, n = w.cols, w.tracker, w.table, w.n
    gx = gy = None
    if table.geometry is not None:
        geom = np.asarray(table.geometry.values, dtype=object)
        missing_geom = shapely.is_missing(geom) | shapely.is_empty(
            np.where(shapely.is_missing(geom), shapely.Point(), geom)
        )
        tid = np.where(missing_geom, -1, shapely.get_type_id(np.where(missing_geom, None, geom)))
        is_point = tid == 0
        gx = np.full(n, np.nan)
        gy = np.full(n, np.nan)
        gx[is_point] = shapely.get_x(geom[is_point])
        gy[is_point] = shapely.get_y(geom[is_point])
        tracker.reject(
            (tid > 0),
            "geometry",
            pd.Series(tid).map(_GEOM_TYPE_NAMES),
            "bad_geometry",
            lambda v: "a " + v.astype(str) + " is not a site position; give points",
        )
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    from_cols = np.ones(n, dtype=bool)
    if gx is not None:
        x[:], y[:] = gx, gy
        from_cols = ~np.isfinite(gx)
    if cols.has("lon") and cols.has("lat") and from_cols.any():
        hl, ha = cols.header["lon"], cols.header["lat"]
        plon, plat = lonlat_columns(
            w.tracker,
            cols.raw["lon"],
            cols.raw["lat"],
            (hl, ha),
            from_cols,
            examples=("118°35'20\"", "24°52'10\""),
        )
        x = np.where(from_cols, plon, x)
        y = np.where(from_cols, plat, y)
    elif from_cols.any():
        tracker.reject(
            from_cols, "geometry", None, "bad_geometry", "the feature has no point geometry"
        )
    hl = cols.header.get("lon", "geometry")
    ha = cols.header.get("lat", "geometry")
    first_geo, shift_geo = (
        effective_crs(declared, table.crs, table.path, w.warnings)
        if gx is not None
        else (declared, None)
    )
    first_col, shift_col = (
        (declared, None) if not declared.needs_datum_shift else (parse_crs("wgs84"), declared)
    )
    usable = tracker.alive & np.isfinite(x) & np.isfinite(y)
    check_lonlat_ranges(
        x[usable & from_cols],
        y[usable & from_cols],
        first_col,
        table.path,
        f"{hl!r} / {ha!r}",
        key="[sites] crs",
    )
    if gx is not None and (~from_cols).any():
        geo = usable & ~from_cols
        check_lonlat_ranges(x[geo], y[geo], first_geo, table.path, "geometry", key="[sites] crs")

    to84 = partial(
        points_to_wgs84_by_source,
        col_crs=(first_col, shift_col),
        geo_crs=(first_geo, shift_geo),
    )

    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    idx = np.flatnonzero(usable)
    lon[idx], lat[idx] = to84(x[idx], y[idx], from_cols[idx])
    raw_lon, raw_lat = x[usable & from_cols].copy(), y[usable & from_cols].copy()
    inside = np.zeros(n, dtype=bool)
    inside[idx] = region.contains(lon[idx], lat[idx])
    out = usable & ~inside
    if out.any():
        _outside(w, region, out, x, y, lon, lat, to84, from_cols, hl, ha)
    return lon, lat, raw_lon, raw_lat


def _outside(w: SiteWork, region: Region, out, x, y, lon, lat, to84, from_cols, hl, ha) -> None:
    """Points outside the region: repair exchanged lon/lat, else reject (see the module doc)."""
    tracker, table, n = w.tracker, w.table, w.n
    oi = np.flatnonzero(out)
    slon, slat = to84(y[oi], x[oi], from_cols[oi])
    swap_in = region.contains(slon, slat)
    fix = oi[swap_in]
    if fix.size:
        lon[fix], lat[fix] = slon[swap_in], slat[swap_in]
        fixed = np.zeros(n, dtype=bool)
        fixed[fix] = True
        tracker.fix(fixed, "lat_lon_swapped")
        rows = np.unique(table.rows[fix])
        w.warnings.append(
            f"{table.path}: {rows.size} row(s) had longitude and latitude exchanged "
            f"({rows_text(rows)}); swapped back and used, since only the swapped position lies "
            "in the region"
        )
    # in another county of the boundary file: a valid row of another region (a city-wide list
    # read for one county), skipped like boundary and broadband rows of other regions
    other = region.other_county_of(lon[oi], lat[oi])
    elsewhere = ~swap_in & (other != "")
    if elsewhere.any():
        mask = np.zeros(n, dtype=bool)
        mask[oi[elsewhere]] = True
        county = np.full(n, "", dtype=object)
        county[oi[elsewhere]] = other[elsewhere]
        tracker.skip(
            mask,
            "outside_region",
            f"{hl}/{ha}",
            county,
            lambda v: (
                "the site lies in county " + v.astype(str) + " of the boundary file, outside "
                f"the region (its counties + {region.margin_m / 1000.0:g} km)"
            ),
        )
        log.info(
            "%s: %d row(s) lie in other counties of the boundary file; skipped (outside_region)",
            table.path,
            np.unique(table.rows[oi[elsewhere]]).size,
        )
    keep = ~swap_in & ~elsewhere
    slon, slat = slon[~elsewhere], slat[~elsewhere]
    swap_in = swap_in[~elsewhere]
    rest = oi[keep]
    minx, miny, maxx, maxy = region.bounds
    pad = 1.0

    def near(a, b):
        return (a >= minx - pad) & (a <= maxx + pad) & (b >= miny - pad) & (b <= maxy + pad)

    looks_swapped = (np.abs(y[rest]) > 90) & (np.abs(x[rest]) <= 90) | near(
        slon[~swap_in], slat[~swap_in]
    )
    vals = pd.Series(
        [f"{float(a)!r}, {float(b)!r}" for a, b in zip(x[rest], y[rest], strict=True)],
        dtype=object,
    )
    mask = np.zeros(n, dtype=bool)
    mask[rest[looks_swapped]] = True
    full_vals = np.full(n, "", dtype=object)
    full_vals[rest] = vals.to_numpy()
    tracker.reject(
        mask,
        f"{hl}/{ha}",
        full_vals,
        "lat_lon_swapped",
        lambda v: (
            "longitude/latitude " + v + " look exchanged, but the position lies in the region "
            "in neither order; check the row"
        ),
    )
    mask = np.zeros(n, dtype=bool)
    mask[rest] = True
    km = region.margin_m / 1000.0
    tracker.reject(
        mask,
        f"{hl}/{ha}",
        full_vals,
        "outside_region",
        lambda v: (
            "position " + v + f" is outside the region (its counties + {km:g} km); "
            "check the coordinates and [sites] crs"
        ),
    )
