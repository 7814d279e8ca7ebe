"""Coordinate reference systems used in China, and the metric CRS for raster work.

Chinese map data come in three "datums" that no EPSG code describes:

* **WGS84** — GPS coordinates; operator site lists are usually in it. **CGCS2000** (EPSG:4490)
  differs from WGS84 by a few centimetres, far below anything this tool resolves, so it is
  *treated as WGS84* here.
* **GCJ-02** — the obfuscated datum mandated for published maps (Amap/Gaode, Tencent,
  Google China). It is WGS84 plus a smooth, position-dependent offset of roughly 100–700 m,
  computed by a published closed-form algorithm (Krasovsky-ellipsoid constants and two
  trigonometric polynomials). Outside the rough bounding box of China the offset is zero.
* **BD-09** — Baidu's datum: GCJ-02 plus a further rotation/scale offset.

Only the forward directions (WGS84 → GCJ-02 → BD-09) have closed forms. The inverses are computed
here by fixed-point iteration until the forward transform of the estimate reproduces the input to
better than 1e-10 degrees (about 0.01 mm), so a round trip is exact for practical purposes.

Everything else (EPSG codes, projected CRSs) goes through :mod:`pyproj` with ``always_xy=True``:
longitude/easting first, everywhere in this package.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyproj

from ._jit import jit, pjit, prange
from .errors import CRSError

__all__ = [
    "CRSKind",
    "CRSSpec",
    "parse_crs",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "out_of_china",
    "to_wgs84",
    "from_wgs84",
    "geoseries_to_wgs84",
    "geoseries_from_wgs84",
    "metric_crs_for",
    "transformer",
    "require_metric",
    "WGS84",
]

CRSKind = Literal["wgs84", "gcj02", "bd09", "epsg"]

WGS84 = pyproj.CRS.from_epsg(4326)

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
_ITER_TOL_DEG = 1e-10
_ITER_MAX = 50


# ---------------------------------------------------------------------------------------------
# CRS parsing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CRSSpec:
    """A parsed input CRS declaration.

    Attributes
    ----------
    kind
        ``"wgs84"`` (also CGCS2000, EPSG:4326 and EPSG:4490), ``"gcj02"``, ``"bd09"``, or
        ``"epsg"`` for any other CRS that pyproj knows.
    text
        The declaration as the user wrote it (for messages and provenance).
    crs
        The pyproj CRS for ``kind == "epsg"``; EPSG:4326 otherwise (the datum the
        coordinates are converted to before any further work).
    """

    kind: CRSKind
    text: str
    crs: pyproj.CRS

    @property
    def needs_datum_shift(self) -> bool:
        """True for GCJ-02 and BD-09, whose coordinates must be shifted to reach WGS84."""
        return self.kind in ("gcj02", "bd09")

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.text


_ALIASES: dict[str, CRSKind] = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "wgs 84": "wgs84",
    "gps": "wgs84",
    "cgcs2000": "wgs84",
    "cgcs-2000": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "mars": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
}

_VALID_TEXT = "'wgs84', 'cgcs2000', 'gcj02', 'bd09' or 'EPSG:<code>'"


def parse_crs(text: str | int | None, *, what: str = "crs") -> CRSSpec:
    """Parse a CRS declaration from a scenario file or the command line.

    Parameters
    ----------
    text
        ``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``, ``"bd09"`` (case-insensitive, a few aliases
        such as ``"amap"`` or ``"baidu"`` accepted) or ``"EPSG:<code>"``. An integer is read as
        an EPSG code. CGCS2000 (EPSG:4490) is treated as WGS84: the two differ by centimetres.
    what
        Name of the setting, used in error messages (e.g. ``"[sites] crs"``).

    Raises
    ------
    CRSError
        For an empty, unknown or malformed declaration.
    """
    if isinstance(text, bool) or text is None:
        raise CRSError(f"{what}: no CRS given; expected {_VALID_TEXT}")
    if isinstance(text, int):
        text = f"EPSG:{text}"
    raw = str(text).strip()
    key = raw.lower()
    if not key:
        raise CRSError(f"{what}: empty CRS; expected {_VALID_TEXT}")
    if key in _ALIASES:
        return CRSSpec(_ALIASES[key], raw, WGS84)
    if key.startswith("epsg:"):
        code_text = key[5:].strip()
        if not code_text.isdigit():
            raise CRSError(f"{what}: {raw!r} is not a valid EPSG code; expected e.g. 'EPSG:32650'")
        code = int(code_text)
        if code in (4326, 4490):
            return CRSSpec("wgs84", raw, WGS84)
        try:
            crs = pyproj.CRS.from_epsg(code)
        except pyproj.exceptions.CRSError as exc:
            raise CRSError(f"{what}: {raw!r} is not an EPSG code pyproj knows ({exc})") from None
        return CRSSpec("epsg", raw, crs)
    raise CRSError(f"{what}: unknown CRS {raw!r}; expected {_VALID_TEXT}")


def crs_spec_from_pyproj(
    crs: pyproj.CRS | str | None, *, default: CRSSpec | None = None
) -> CRSSpec:
    """Wrap a CRS read from a file (GeoPackage, GeoTIFF, ...) in a :class:`CRSSpec`."""
    if crs is None:
        if default is None:
            raise CRSError("the file declares no CRS and none was given")
        return default
    crs = pyproj.CRS.from_user_input(crs)
    epsg = crs.to_epsg()
    if epsg in (4326, 4490):
        return CRSSpec("wgs84", f"EPSG:{epsg}", WGS84)
    return CRSSpec("epsg", crs.to_string(), crs)


# ---------------------------------------------------------------------------------------------
# GCJ-02 / BD-09 kernels (scalar, then vectorised loops)
# ---------------------------------------------------------------------------------------------


@jit
def _out_of_china(lon: float, lat: float) -> bool:
    # The rectangle the published algorithm uses: no offset outside it.
    return lon < 72.004 or lon > 137.8347 or lat < 0.8293 or lat > 55.8271


@jit
def _poly_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


@jit
def _poly_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


@jit
def _wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    if _out_of_china(lon, lat):
        return lon, lat
    dlat = _poly_lat(lon - 105.0, lat - 35.0)
    dlon = _poly_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = math.sin(radlat)
    magic = 1.0 - _KRASOVSKY_EE * magic * magic
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


@jit
def _gcj_to_bd(lon: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


@jit
def _invert_gcj(lon: float, lat: float) -> tuple[float, float]:
    # Fixed point: x_{k+1} = x_k + (target - f(x_k)). f is identity plus a slowly varying
    # offset, so this converges in a handful of steps.
    x, y = lon, lat
    for _ in range(_ITER_MAX):
        fx, fy = _wgs_to_gcj(x, y)
        dx, dy = lon - fx, lat - fy
        x += dx
        y += dy
        if abs(dx) < _ITER_TOL_DEG and abs(dy) < _ITER_TOL_DEG:
            break
    return x, y


@jit
def _invert_bd(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 0.0065, lat - 0.006
    for _ in range(_ITER_MAX):
        fx, fy = _gcj_to_bd(x, y)
        dx, dy = lon - fx, lat - fy
        x += dx
        y += dy
        if abs(dx) < _ITER_TOL_DEG and abs(dy) < _ITER_TOL_DEG:
            break
    return x, y


# op codes for the one vectorised loop
_OP_WGS_GCJ, _OP_GCJ_WGS, _OP_GCJ_BD, _OP_BD_GCJ = 0, 1, 2, 3


@pjit
def _apply(
    op: int, lon: np.ndarray, lat: np.ndarray, out_lon: np.ndarray, out_lat: np.ndarray
) -> None:
    for i in prange(lon.shape[0]):  # each iteration writes only its own element
        x, y = lon[i], lat[i]
        if not (math.isfinite(x) and math.isfinite(y)):
            out_lon[i], out_lat[i] = x, y
            continue
        if op == _OP_WGS_GCJ:
            out_lon[i], out_lat[i] = _wgs_to_gcj(x, y)
        elif op == _OP_GCJ_WGS:
            out_lon[i], out_lat[i] = _invert_gcj(x, y)
        elif op == _OP_GCJ_BD:
            out_lon[i], out_lat[i] = _gcj_to_bd(x, y)
        else:
            out_lon[i], out_lat[i] = _invert_bd(x, y)


def _vectorised(op: int, lon, lat):
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    if lon_a.shape != lat_a.shape:
        raise ValueError(f"lon and lat differ in shape: {lon_a.shape} vs {lat_a.shape}")
    scalar = lon_a.ndim == 0
    flat_lon = np.ascontiguousarray(lon_a.reshape(-1))
    flat_lat = np.ascontiguousarray(lat_a.reshape(-1))
    out_lon = np.empty_like(flat_lon)
    out_lat = np.empty_like(flat_lat)
    _apply(op, flat_lon, flat_lat, out_lon, out_lat)
    if scalar:
        return float(out_lon[0]), float(out_lat[0])
    return out_lon.reshape(lon_a.shape), out_lat.reshape(lat_a.shape)


def wgs84_to_gcj02(lon, lat):
    """WGS84 → GCJ-02 (degrees). Identity outside China's bounding rectangle.

    Accepts scalars or arrays (any shape); returns ``(lon, lat)`` of the same shape.
    Non-finite inputs pass through unchanged.
    """
    return _vectorised(_OP_WGS_GCJ, lon, lat)


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 → WGS84 (degrees), by iterating the forward transform to < 1e-10°."""
    return _vectorised(_OP_GCJ_WGS, lon, lat)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 → BD-09 (degrees)."""
    return _vectorised(_OP_GCJ_BD, lon, lat)


def bd09_to_gcj02(lon, lat):
    """BD-09 → GCJ-02 (degrees), by iterating the forward transform to < 1e-10°."""
    return _vectorised(_OP_BD_GCJ, lon, lat)


def wgs84_to_bd09(lon, lat):
    """WGS84 → BD-09 (degrees)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """BD-09 → WGS84 (degrees)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def out_of_china(lon, lat):
    """True where the GCJ-02 algorithm applies no offset (outside China's rectangle)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


# ---------------------------------------------------------------------------------------------
# General conversion to and from WGS84
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _cached_transformer(src_wkt: str, dst_wkt: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(
        pyproj.CRS.from_wkt(src_wkt), pyproj.CRS.from_wkt(dst_wkt), always_xy=True
    )


def transformer(src: pyproj.CRS | str | int, dst: pyproj.CRS | str | int) -> pyproj.Transformer:
    """The one pyproj transformer helper: cached, ``always_xy=True`` (lon/x first)."""
    src_crs = pyproj.CRS.from_user_input(src)
    dst_crs = pyproj.CRS.from_user_input(dst)
    return _cached_transformer(src_crs.to_wkt(), dst_crs.to_wkt())


def to_wgs84(x, y, spec: CRSSpec | str):
    """Convert coordinates declared in ``spec`` to WGS84 longitude/latitude (degrees)."""
    if not isinstance(spec, CRSSpec):
        spec = parse_crs(spec)
    if spec.kind == "wgs84":
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if spec.kind == "gcj02":
        return gcj02_to_wgs84(x, y)
    if spec.kind == "bd09":
        return bd09_to_wgs84(x, y)
    lon, lat = transformer(spec.crs, WGS84).transform(
        np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    )
    return np.asarray(lon), np.asarray(lat)


def from_wgs84(lon, lat, spec: CRSSpec | str):
    """Convert WGS84 longitude/latitude to the CRS declared by ``spec``."""
    if not isinstance(spec, CRSSpec):
        spec = parse_crs(spec)
    if spec.kind == "wgs84":
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if spec.kind == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if spec.kind == "bd09":
        return wgs84_to_bd09(lon, lat)
    x, y = transformer(WGS84, spec.crs).transform(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return np.asarray(x), np.asarray(y)


def _transform_geoseries(geoms, func):
    import shapely

    def _xy(coords: np.ndarray) -> np.ndarray:
        if coords.size == 0:
            return coords
        lon, lat = func(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), _xy)


def geoseries_to_wgs84(gs, spec: CRSSpec | str):
    """Return a GeoSeries in EPSG:4326 from one declared in ``spec`` (GCJ-02/BD-09 shifted).

    ``gs`` may carry its own CRS; the declaration wins for GCJ-02/BD-09 because files holding
    such data usually (wrongly) claim WGS84.
    """
    import geopandas as gpd

    if not isinstance(spec, CRSSpec):
        spec = parse_crs(spec)
    if spec.kind == "wgs84":
        return gpd.GeoSeries(np.asarray(gs.values, dtype=object), index=gs.index, crs=WGS84)
    if spec.kind == "epsg":
        src = gpd.GeoSeries(np.asarray(gs.values, dtype=object), index=gs.index, crs=spec.crs)
        return src.to_crs(WGS84)
    func = gcj02_to_wgs84 if spec.kind == "gcj02" else bd09_to_wgs84
    return gpd.GeoSeries(_transform_geoseries(gs.values, func), index=gs.index, crs=WGS84)


def geoseries_from_wgs84(gs, spec: CRSSpec | str):
    """Inverse of :func:`geoseries_to_wgs84` (e.g. shift overlays onto an Amap basemap)."""
    import geopandas as gpd

    if not isinstance(spec, CRSSpec):
        spec = parse_crs(spec)
    if spec.kind == "wgs84":
        return gpd.GeoSeries(np.asarray(gs.values, dtype=object), index=gs.index, crs=WGS84)
    if spec.kind == "epsg":
        return gpd.GeoSeries(np.asarray(gs.values, dtype=object), index=gs.index, crs=WGS84).to_crs(
            spec.crs
        )
    func = wgs84_to_gcj02 if spec.kind == "gcj02" else wgs84_to_bd09
    return gpd.GeoSeries(_transform_geoseries(gs.values, func), index=gs.index, crs=WGS84)


# ---------------------------------------------------------------------------------------------
# Metric CRS
# ---------------------------------------------------------------------------------------------


def metric_crs_for(bounds: tuple[float, float, float, float]) -> pyproj.CRS:
    """The WGS84 UTM zone containing the centre of ``bounds`` (lon/lat degrees).

    ``bounds`` is ``(min_lon, min_lat, max_lon, max_lat)`` in WGS84. Fujian (115.8–120.7 °E)
    gets EPSG:32650 (UTM 50N). Raises :class:`CRSError` for bounds that are not lon/lat.
    """
    min_lon, min_lat, max_lon, max_lat = (float(b) for b in bounds)
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise CRSError(
            f"metric_crs_for: bounds {bounds!r} are not WGS84 longitude/latitude "
            "(min_lon, min_lat, max_lon, max_lat)"
        )
    lon = (min_lon + max_lon) / 2.0
    lat = (min_lat + max_lat) / 2.0
    zone = int((lon + 180.0) // 6.0) + 1
    zone = min(max(zone, 1), 60)
    epsg = (32600 if lat >= 0 else 32700) + zone
    return pyproj.CRS.from_epsg(epsg)


def resolve_grid_crs(setting: str, bounds_wgs84: tuple[float, float, float, float]) -> pyproj.CRS:
    """Resolve the scenario's ``[grid] crs`` (``"auto"`` or ``"EPSG:xxxx"``) to a metric CRS."""
    if setting.strip().lower() == "auto":
        return metric_crs_for(bounds_wgs84)
    spec = parse_crs(setting, what="[grid] crs")
    crs = spec.crs if spec.kind == "epsg" else WGS84
    require_metric(crs, what="[grid] crs")
    return crs


def require_metric(crs: pyproj.CRS, *, what: str = "grid CRS") -> pyproj.CRS:
    """Raise :class:`CRSError` unless ``crs`` is projected with metre units."""
    crs = pyproj.CRS.from_user_input(crs)
    if not crs.is_projected:
        raise CRSError(
            f"{what}: {crs.to_string()!r} is geographic (degrees); raster work needs a projected "
            "CRS in metres, e.g. 'auto' (the region's UTM zone) or 'EPSG:32650'"
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if unit not in ("metre", "meter", "m"):
        raise CRSError(f"{what}: {crs.to_string()!r} has axis unit {unit!r}; expected metres")
    return crs
