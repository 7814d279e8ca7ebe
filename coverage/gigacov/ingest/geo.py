"""Geometry helpers of ingest: CRS of a file vs. its declaration, region tests, county lookup."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely

from ..crs import (
    WGS84,
    CRSSpec,
    crs_spec_from_pyproj,
    metric_crs_for,
    parse_crs,
    to_wgs84,
    transformer,
)
from ..errors import InputError
from ._common import Tracker, log

__all__ = [
    "Region",
    "effective_crs",
    "points_to_wgs84",
    "check_lonlat_ranges",
    "check_degrees",
    "not_degrees_message",
]


def effective_crs(
    declared: CRSSpec, file_crs: pyproj.CRS | None, path, warnings: list[str]
) -> tuple[CRSSpec, CRSSpec | None]:
    """Decide how to read coordinates of a file that may carry its own CRS.

    Returns ``(first, shift)``: ``first`` converts the file's coordinates to lon/lat, ``shift``
    (GCJ-02 / BD-09 or None) is applied afterwards. A GCJ-02 / BD-09 declaration wins over the
    file's CRS (such files usually claim WGS84 wrongly); an EPSG declaration that contradicts the
    file's own CRS is reported and the file's CRS is used.
    """
    if file_crs is None:
        return (
            (declared, None) if not declared.needs_datum_shift else (parse_crs("wgs84"), declared)
        )
    file_spec = crs_spec_from_pyproj(file_crs)
    if declared.needs_datum_shift:
        return file_spec, declared
    if (
        declared.kind == "epsg"
        and file_spec.kind == "epsg"
        and not declared.crs.equals(file_spec.crs)
    ):
        warnings.append(
            f"{path}: the scenario declares {declared.text!r} but the file says "
            f"{file_spec.crs.to_string()!r}; the file's CRS was used"
        )
    elif declared.kind == "epsg" and file_spec.kind == "wgs84":
        warnings.append(
            f"{path}: the scenario declares {declared.text!r} but the file says WGS84; the file's CRS was used"
        )
    return file_spec, None


def points_to_wgs84(x: np.ndarray, y: np.ndarray, first: CRSSpec, shift: CRSSpec | None):
    lon, lat = to_wgs84(x, y, first)
    if shift is not None:
        lon, lat = to_wgs84(lon, lat, shift)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def points_to_wgs84_by_source(
    x: np.ndarray,
    y: np.ndarray,
    from_cols: np.ndarray,
    col_crs: tuple[CRSSpec, CRSSpec | None],
    geo_crs: tuple[CRSSpec, CRSSpec | None],
):
    """Points of one file to WGS84 lon/lat when some rows came from coordinate columns
    (``from_cols``) and the others from the file's geometry, each source with its own CRS and
    datum shift (``(first, shift)`` as for :func:`points_to_wgs84`)."""
    lon = np.full(x.shape, np.nan)
    lat = np.full(x.shape, np.nan)
    if from_cols.any():
        lon[from_cols], lat[from_cols] = points_to_wgs84(x[from_cols], y[from_cols], *col_crs)
    if (~from_cols).any():
        lon[~from_cols], lat[~from_cols] = points_to_wgs84(x[~from_cols], y[~from_cols], *geo_crs)
    return lon, lat


def check_lonlat_ranges(
    x: np.ndarray, y: np.ndarray, spec: CRSSpec, path, columns: str, key: str = "crs"
) -> None:
    """Points read as degrees whose coordinates are mostly far beyond ±360 are a CRS mistake.

    (Beyond ±180 / ±90 alone is not enough for points: a latitude of 118 is usually a longitude
    in the wrong column, which the sites reader repairs or rejects row by row.)
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    check_degrees(x, y, x, y, spec, path, key, limits=(360.0, 360.0), what=columns)


def check_degrees(
    xmin,
    ymin,
    xmax,
    ymax,
    spec: CRSSpec,
    path,
    key: str,
    *,
    limits: tuple[float, float] = (180.0, 90.0),
    what: str = "",
    file_crs: bool = False,
) -> np.ndarray:
    """Features whose coordinates cannot be longitude/latitude although they are read as degrees.

    ``xmin … ymax`` are per-feature bounds in the file's coordinates, ``spec`` the CRS they are
    read in. When ``spec`` is geographic and more than half of the features lie beyond ``limits``
    (±180° / ±90°), the file is in a projected CRS that nobody declared (a Gauss–Krüger
    shapefile without its ``.prj``): :class:`InputError` naming the file, the coordinate range
    found and the scenario key to set (``key``, e.g. ``"[boundaries] villages_crs"``). Otherwise
    returns the mask of the few impossible features, for the caller to reject.
    """
    xmin, ymin, xmax, ymax = (np.asarray(a, dtype=np.float64) for a in (xmin, ymin, xmax, ymax))
    bad = np.zeros(xmin.shape, dtype=bool)
    if spec.kind == "epsg" and not spec.crs.is_geographic:
        return bad
    ok = np.isfinite(xmin) & np.isfinite(ymin) & np.isfinite(xmax) & np.isfinite(ymax)
    if not ok.any():
        return bad
    lx, ly = limits
    bad = ok & (
        (np.abs(xmin) > lx) | (np.abs(xmax) > lx) | (np.abs(ymin) > ly) | (np.abs(ymax) > ly)
    )
    if bad.sum() > 0.5 * ok.sum():
        raise InputError(
            not_degrees_message(
                path,
                xmin[ok],
                ymin[ok],
                xmax[ok],
                ymax[ok],
                spec,
                key,
                what=what,
                file_crs=file_crs,
            )
        )
    return bad


def not_degrees_message(
    path, xmin, ymin, xmax, ymax, spec: CRSSpec, key: str, *, what="", file_crs=False
) -> str:
    """The error for a projected file read as degrees: file, range found, key to set, a guess."""
    rng = (
        f"x {np.min(xmin):,.0f} … {np.max(xmax):,.0f}, y {np.min(ymin):,.0f} … {np.max(ymax):,.0f}"
    )
    cols = f" ({what})" if what else ""
    why = (
        f"the file's own CRS says {spec.text}"
        if file_crs
        else f"the file declares no CRS and {key} is {spec.text!r}"
    )
    guess, code = _guess_projected(np.median((xmin + xmax) / 2), np.median((ymin + ymax) / 2))
    example = f'{key} = "EPSG:{code or "<code>"}"'
    return (
        f"{path}: the coordinates{cols} range over {rng}, which cannot be longitude/latitude in "
        f"degrees, but they are read as degrees ({why}). They look like projected metres"
        f"{guess}. Set the file's CRS in the scenario: {example} (or give the file its .prj)."
    )


def _guess_projected(x: float, y: float) -> tuple[str, int | None]:
    """A hint (and an EPSG code when it is clear) for common Chinese projected CRSs."""
    if not (0 < y < 10_000_000):
        return "", None
    zone = int(x // 1_000_000)
    if 25 <= zone <= 45 and 300_000 <= x - zone * 1_000_000 <= 700_000:
        return (
            f", with the zone number {zone} in front of the easting: CGCS2000 3-degree "
            f"Gauss–Krüger zone {zone} is EPSG:{4488 + zone}",
            4488 + zone,
        )
    if 13 <= zone <= 23 and 100_000 <= x - zone * 1_000_000 <= 900_000:
        return (
            f", with the zone number {zone} in front of the easting: CGCS2000 6-degree "
            f"Gauss–Krüger zone {zone} is EPSG:{4478 + zone}",
            4478 + zone,
        )
    if 100_000 <= x <= 900_000:
        return (
            " without a zone number (UTM, e.g. EPSG:32650 for zone 50N, or CGCS2000 3-degree "
            "Gauss–Krüger by central meridian, e.g. EPSG:4549 for 120°E)",
            None,
        )
    return "", None


@dataclass
class Region:
    """The analysed region: its counties (WGS84) and fast point tests against them."""

    codes: np.ndarray  # county adcodes, sorted
    geoms: np.ndarray  # county geometries (same order)
    union: object  # shapely geometry, prepared
    buffered: object  # union buffered by margin_m (prepared)
    margin_m: float
    #: The boundary file's counties outside the region (codes and WGS84 geometries, prepared):
    #: a point there is a valid row of another region (skipped), not a wrong position.
    other_codes: np.ndarray | None = None
    other_geoms: np.ndarray | None = None

    @classmethod
    def from_counties(cls, codes, geoms, margin_m: float) -> Region:
        order = np.argsort(np.asarray(codes, dtype=object).astype(str), kind="stable")
        codes = np.asarray(codes, dtype=object)[order]
        geoms = np.asarray(geoms, dtype=object)[order]
        union = shapely.union_all(geoms)
        buffered = _buffer_m(union, margin_m)
        for g in geoms:
            shapely.prepare(g)
        shapely.prepare(union)
        shapely.prepare(buffered)
        return cls(codes, geoms, union, buffered, float(margin_m))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return tuple(float(b) for b in self.union.bounds)

    def contains(self, lon, lat, *, buffered: bool = True) -> np.ndarray:
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        geom = self.buffered if buffered else self.union
        out = np.zeros(lon.shape, dtype=bool)
        ok = np.isfinite(lon) & np.isfinite(lat)
        minx, miny, maxx, maxy = geom.bounds
        ok &= (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
        if ok.any():
            out[ok] = shapely.contains_xy(geom, lon[ok], lat[ok])
        return out

    def with_other_counties(self, codes, geoms) -> Region:
        """This region, knowing the boundary file's counties outside it (see ``other_codes``)."""
        codes = np.asarray(codes, dtype=object)
        geoms = np.asarray(geoms, dtype=object)
        for g in geoms:
            shapely.prepare(g)
        self.other_codes, self.other_geoms = codes, geoms
        return self

    def other_county_of(self, lon, lat) -> np.ndarray:
        """The boundary file's county outside the region that holds each point ("" for none)."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        out = np.full(lon.shape, "", dtype=object)
        if self.other_codes is None or not len(self.other_codes):
            return out
        todo = np.isfinite(lon) & np.isfinite(lat)
        for code, geom in zip(self.other_codes, self.other_geoms, strict=True):
            if not todo.any():
                break
            minx, miny, maxx, maxy = geom.bounds
            cand = todo & (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
            if not cand.any():
                continue
            idx = np.flatnonzero(cand)
            hit = shapely.intersects_xy(geom, lon[idx], lat[idx])
            out[idx[hit]] = code
            todo[idx[hit]] = False
        return out

    def county_of(self, lon, lat) -> np.ndarray:
        """County adcode containing each point ("" outside); ties go to the smaller code."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        out = np.full(lon.shape, "", dtype=object)
        todo = self.contains(lon, lat, buffered=False)
        for code, geom in zip(self.codes, self.geoms, strict=True):
            if not todo.any():
                break
            minx, miny, maxx, maxy = geom.bounds
            cand = todo & (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
            if not cand.any():
                continue
            idx = np.flatnonzero(cand)
            hit = shapely.intersects_xy(geom, lon[idx], lat[idx])
            out[idx[hit]] = code
            todo[idx[hit]] = False
        return out

    def county_of_geometry(self, geoms) -> np.ndarray:
        """County of each geometry's representative point; else the first county it touches."""
        geoms = np.asarray(geoms, dtype=object)
        pts = shapely.point_on_surface(geoms)
        x = shapely.get_x(pts)
        y = shapely.get_y(pts)
        out = self.county_of(x, y)
        rest = np.flatnonzero(out == "")
        if rest.size:
            tree = shapely.STRtree(self.geoms)
            a, b = tree.query(geoms[rest], predicate="intersects")
            if a.size:
                first = {}
                for i, j in zip(a.tolist(), b.tolist(), strict=True):
                    if i not in first or j < first[i]:
                        first[i] = j
                for i, j in first.items():
                    out[rest[i]] = self.codes[j]
        return out


def _buffer_m(geom, margin_m: float):
    """Buffer a WGS84 geometry by metres (through the region's UTM zone), simplified a little."""
    if margin_m <= 0:
        return geom
    crs = metric_crs_for(tuple(geom.bounds))
    fwd = transformer(WGS84, crs)
    back = transformer(crs, WGS84)
    proj = shapely.transform(geom, lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1])))
    # Simplifying first (by a tenth of the margin, at most 100 m) keeps the buffer cheap; the
    # buffer then covers the exact union to within that tolerance.
    tol = min(margin_m / 10.0, 100.0)
    buf = shapely.buffer(shapely.simplify(proj, tol), margin_m + tol, quad_segs=2)
    out = shapely.transform(buf, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1])))
    log.debug("region buffered by %.0f m: %d vertices", margin_m, shapely.get_num_coordinates(out))
    return out


def metres_to_degrees(margin_m: float, lat: float) -> tuple[float, float]:
    dlat = margin_m / 111_320.0
    dlon = margin_m / (111_320.0 * max(math.cos(math.radians(lat)), 0.05))
    return dlon, dlat


def lonlat_columns(
    tracker: Tracker,
    raw_lon,
    raw_lat,
    headers: tuple[str, str],
    rows: np.ndarray,
    *,
    examples: tuple[str, str] = ("", ""),
) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of ``rows`` from two text columns (any coordinate notation).

    An empty cell is rejected ``missing_value``, text that is no coordinate ``not_a_number``
    (``examples``, e.g. ``118°35'20"``, are shown as the notations expected). Returns the parsed
    values (NaN where none).
    """
    from .units import parse_coordinates

    hl, ha = headers
    plon = parse_coordinates(raw_lon)
    plat = parse_coordinates(raw_lat)
    tracker.reject(
        rows & plon.missing, hl, None, "missing_value", f"no longitude ({hl!r} is empty)"
    )
    tracker.reject(rows & plat.missing, ha, None, "missing_value", f"no latitude ({ha!r} is empty)")
    for name, parsed, header, raw, example in (
        ("longitude", plon, hl, raw_lon, examples[0]),
        ("latitude", plat, ha, raw_lat, examples[1]),
    ):
        hint = f" (decimal degrees or {example})" if example else ""
        tracker.reject(
            rows & parsed.bad,
            header,
            raw,
            "not_a_number",
            lambda v, name=name, hint=hint: name + " " + v.map(repr) + " is not a number" + hint,
        )
    return plon.values, plat.values
