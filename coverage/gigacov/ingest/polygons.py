"""Boundary polygons as a file holds them → WGS84 (multi)polygons.

A projected file read as degrees stops the run (the coordinates cannot be degrees); missing,
empty or non-polygonal geometries are rejected (``bad_geometry``); invalid polygons are repaired
with ``shapely.make_valid`` (the polygonal part kept; counted as fixed, with a warning).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import geoseries_to_wgs84, parse_crs
from ._common import Tracker
from .geo import check_degrees, effective_crs

__all__ = ["polygons_to_wgs84", "clean_polygons"]


def clean_polygons(
    geoms: gpd.GeoSeries, tracker: Tracker, path: Path, warnings: list[str], what: str
) -> np.ndarray:
    """Reject missing/empty/non-polygonal geometries; repair invalid ones (polygonal part)."""
    arr = np.asarray(geoms.values, dtype=object)
    null = shapely.is_missing(arr)
    empty = ~null & shapely.is_empty(np.where(null, shapely.Point(), arr))
    tracker.reject(
        null | empty, "geometry", None, "bad_geometry", f"{what}: the geometry is missing or empty"
    )
    ok = ~(null | empty)
    types = np.full(arr.size, -1)
    types[ok] = shapely.get_type_id(arr[ok])
    polygonal = np.isin(types, (3, 6))  # Polygon, MultiPolygon
    gc = types == 7
    kinds = pd.Series(shapely.get_type_id(np.where(ok, arr, None))).map(_TYPE_NAMES)
    tracker.reject(
        ok & ~polygonal & ~gc,
        "geometry",
        kinds,
        "bad_geometry",
        lambda v: f"{what}: a " + v + " is not a polygon; boundaries must be (multi)polygons",
    )
    valid = np.ones(arr.size, dtype=bool)
    cand = tracker.alive & (polygonal | gc)
    valid[cand] = shapely.is_valid(arr[cand]) & ~gc[cand]
    fix = cand & ~valid
    n_fixed = 0
    if fix.any():
        repaired = shapely.make_valid(arr[fix])
        repaired = np.array([_polygonal_part(g) for g in repaired], dtype=object)
        arr[fix] = repaired
        gone = np.zeros(arr.size, dtype=bool)
        gone[np.flatnonzero(fix)] = shapely.is_empty(repaired)
        tracker.reject(
            gone,
            "geometry",
            None,
            "bad_geometry",
            f"{what}: the geometry is invalid and has no area left after repair",
        )
        n_fixed = int((fix & ~gone).sum())
    if n_fixed:
        rows = tracker.rows[fix & tracker.alive][:5].tolist()
        warnings.append(
            f"{path}: {n_fixed} invalid {what} geometr{'y' if n_fixed == 1 else 'ies'} repaired with "
            f"shapely.make_valid (polygonal part kept; rows {', '.join(map(str, rows))}"
            f"{', ...' if n_fixed > 5 else ''})"
        )
        tracker.report.fixed["invalid_geometry"] = (
            tracker.report.fixed.get("invalid_geometry", 0) + n_fixed
        )
    return arr


_TYPE_NAMES = {
    -1: "missing geometry",
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def _polygonal_part(g):
    if g is None or g.is_empty:
        return shapely.MultiPolygon()
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.MultiPolygon()
    return shapely.union_all(parts)


def polygons_to_wgs84(table, declared_text: str, key: str, tracker: Tracker, warnings: list[str]):
    """The file's polygons in WGS84; a projected file read as degrees stops the run."""
    declared = parse_crs(declared_text or "wgs84", what=key)
    first, shift = effective_crs(declared, table.crs, table.path, warnings)
    geoms = table.geometry
    arr = np.asarray(geoms.values, dtype=object)
    present = ~shapely.is_missing(arr)
    present[present] = ~shapely.is_empty(arr[present])
    b = np.full((arr.size, 4), np.nan)
    if present.any():
        b[present] = shapely.bounds(arr[present])
    impossible = check_degrees(
        b[:, 0], b[:, 1], b[:, 2], b[:, 3], first, table.path, key, file_crs=table.crs is not None
    )
    if impossible.any():
        rng = np.array(
            [f"x {r[0]:,.0f} … {r[2]:,.0f}, y {r[1]:,.0f} … {r[3]:,.0f}" for r in b[impossible]],
            dtype=object,
        )
        values = np.full(arr.size, "", dtype=object)
        values[impossible] = rng
        tracker.reject(
            impossible,
            "geometry",
            values,
            "bad_geometry",
            lambda v: "coordinates " + v + f" cannot be degrees ({key} = {first.text!r})",
        )
        arr = np.where(impossible, None, arr)
        geoms = gpd.GeoSeries(arr, crs=geoms.crs)
    out = geoseries_to_wgs84(geoms, first)
    if shift is not None:
        out = geoseries_to_wgs84(out, shift)
    return out
