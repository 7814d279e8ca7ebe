"""Candidate locations for new sites, and the cells a candidate site would have.

Candidates are either a regular grid inside each county (``[planning] candidate_spacing_m``,
points at integer multiples of the spacing in the grid CRS) or a user list of points
(``[planning] candidates``: CSV with lon/lat columns, GeoJSON or GeoPackage points, CRS
``[planning] candidates_crs``) — towers, poles and rooftops that can actually be used.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ..crs import crs_spec_from_pyproj, parse_crs, to_wgs84
from ..errors import ConfigError, InputError
from ..ingest.model import CELL_COLUMNS

__all__ = [
    "grid_candidates",
    "read_candidates",
    "candidate_cells",
    "n_resource_blocks",
    "CANDIDATE_COLUMNS",
]

log = logging.getLogger(__name__)

#: Columns of a candidate table (WGS84 lon/lat).
CANDIDATE_COLUMNS = ["candidate_id", "name", "lon", "lat", "height_m"]

_ALIASES = {
    "lon": ("lon", "lng", "long", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "candidate_id": ("candidate_id", "id", "site_id", "编号", "站址编号"),
    "name": ("name", "名称", "站址名称"),
    "height_m": ("height_m", "height", "高度", "挂高"),
}


def n_resource_blocks(bandwidth_mhz: float, scs_khz: float) -> int:
    """Resource blocks of an NR carrier (TS 38.101-1 Table 5.3.2-1, via :mod:`gigacov.ingest.bands`).

    Raises
    ------
    ConfigError
        When the bandwidth / sub-carrier spacing pair is not in the table.
    """
    from ..ingest.bands import NR_N_RB, n_rb_for

    n_rb = int(
        n_rb_for(np.array(["5G"], dtype=object), np.array([bandwidth_mhz]), np.array([scs_khz]))[0]
    )
    if n_rb <= 0:
        valid = {s: sorted(t) for s, t in NR_N_RB.items()}
        raise ConfigError(
            f"[planning] bandwidth_mhz {bandwidth_mhz!r} with scs_khz {scs_khz!r} is not an NR "
            f"carrier of TS 38.101-1 Table 5.3.2-1; valid bandwidths per SCS: {valid}"
        )
    return n_rb


def grid_candidates(county_metric, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points at multiples of ``spacing_m`` (grid CRS) inside a county polygon, row-major
    (north to south, west to east). A county too small to hold one gets its representative
    point."""
    if not spacing_m > 0:
        raise ConfigError(f"[planning] candidate_spacing_m must be > 0, got {spacing_m!r}")
    minx, miny, maxx, maxy = county_metric.bounds
    xs = np.arange(math.ceil(minx / spacing_m), math.floor(maxx / spacing_m) + 1) * spacing_m
    ys = np.arange(math.floor(maxy / spacing_m), math.ceil(miny / spacing_m) - 1, -1) * spacing_m
    if len(xs) and len(ys):
        gx, gy = np.meshgrid(xs, ys)
        gx, gy = gx.ravel(), gy.ravel()
        shapely.prepare(county_metric)
        inside = shapely.contains_xy(county_metric, gx, gy)
        gx, gy = gx[inside], gy[inside]
    else:
        gx = gy = np.empty(0)
    if len(gx) == 0:
        pt = county_metric.representative_point()
        return np.array([pt.x]), np.array([pt.y])
    return gx.astype(np.float64), gy.astype(np.float64)


def _find_column(columns, key: str) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    for alias in _ALIASES[key]:
        if alias in lower:
            return lower[alias]
    return None


def _read_csv(path: Path) -> pd.DataFrame:
    last: Exception | None = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False)
        except UnicodeDecodeError as exc:
            last = exc
        except pd.errors.ParserError as exc:
            raise InputError(f"{path}: not a readable CSV table ({exc})") from None
    raise InputError(f"{path}: text encoding is neither UTF-8 nor GB18030 ({last})")


def read_candidates(path: str | Path, crs: str = "wgs84", layer: str = "") -> pd.DataFrame:
    """Read a user candidate list into :data:`CANDIDATE_COLUMNS` (WGS84 lon/lat).

    Parameters
    ----------
    path
        CSV (columns ``lon``/``lat`` or ``longitude``/``latitude``/``经度``/``纬度``; optional
        ``candidate_id``, ``name``, ``height_m``), GeoJSON or GeoPackage of points.
    crs
        Declared CRS of the coordinates (``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``,
        ``EPSG:xxxx``). For GeoJSON/GeoPackage the file's own CRS is used unless ``crs`` is
        GCJ-02 or BD-09 (files holding such coordinates usually claim WGS84).
    layer
        GeoPackage layer (default: the first).

    Raises
    ------
    InputError
        Unreadable file, missing coordinate columns, non-numeric or out-of-range coordinates,
        non-point geometries (naming the file, the row and the column). Rows follow the
        spreadsheet convention of :mod:`gigacov.ingest`: header = row 1, first data row (or
        first feature of a GIS layer) = row 2.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"[planning] candidates: file {str(p)!r} does not exist")
    spec = parse_crs(crs, what="[planning] candidates_crs")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):

        def where(i: int) -> str:
            return f"row {i + 2}"

        raw = _read_csv(p)
        lon_col, lat_col = _find_column(raw.columns, "lon"), _find_column(raw.columns, "lat")
        if lon_col is None or lat_col is None:
            raise InputError(
                f"{p}: needs longitude and latitude columns (e.g. 'lon' and 'lat'); "
                f"found {', '.join(map(str, raw.columns))!s}"
            )
        xs = _numbers(raw[lon_col], p, str(lon_col), where)
        ys = _numbers(raw[lat_col], p, str(lat_col), where)
    elif suffix in (".geojson", ".json", ".gpkg", ".shp"):
        import geopandas as gpd

        def where(i: int) -> str:
            return f"row {i + 2}"  # the feature's row in its attribute table (header = row 1)

        try:
            raw = gpd.read_file(p, layer=layer or None)
        except Exception as exc:  # pyogrio raises several types for unreadable files
            raise InputError(f"{p}: cannot read as a GIS file ({exc})") from None
        geoms = raw.geometry.values
        for i, g in enumerate(geoms):
            if g is None or g.is_empty or g.geom_type != "Point":
                kind = "empty" if g is None or g.is_empty else g.geom_type
                raise InputError(
                    f"{p}: {where(i)} column 'geometry': expected a point, got {kind!r}"
                )
        xs = shapely.get_x(geoms).astype(np.float64)
        ys = shapely.get_y(geoms).astype(np.float64)
        if spec.kind not in ("gcj02", "bd09") and raw.crs is not None:
            spec = crs_spec_from_pyproj(raw.crs)
    else:
        raise InputError(
            f"{p}: unsupported candidate file type {p.suffix!r}; use .csv, .geojson or .gpkg"
        )
    lon, lat = to_wgs84(xs, ys, spec)
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    bad = ~((np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        swapped = abs(lat[i]) <= 180 and abs(lon[i]) <= 90
        hint = (
            " (longitude and latitude swapped?)" if swapped else f" (declared CRS {crs!r} wrong?)"
        )
        raise InputError(
            f"{p}: {where(i)}: coordinates {(float(xs[i]), float(ys[i]))!r} are not a valid "
            f"longitude/latitude{hint}"
        )
    n = len(lon)
    id_col = _find_column(raw.columns, "candidate_id")
    name_col = _find_column(raw.columns, "name")
    h_col = _find_column(raw.columns, "height_m")
    ids = (
        raw[id_col].astype(str).to_numpy()
        if id_col is not None
        else np.array([f"C{i + 1}" for i in range(n)], dtype=object)
    )
    if id_col is not None and pd.Series(ids).duplicated().any():
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
        raise InputError(
            f"{p}: column {id_col!r}: duplicate candidate id {dup!r}; ids must be unique"
        )
    height = np.full(n, np.nan)
    if h_col is not None:
        height = _numbers(raw[h_col], p, str(h_col), where, allow_empty=True)
        neg = np.flatnonzero(height <= 0)
        if len(neg):
            i = int(neg[0])
            raise InputError(
                f"{p}: {where(i)} column {h_col!r}: height {height[i]!r} must be > 0 m"
            )
    return pd.DataFrame(
        {
            "candidate_id": ids.astype(object),
            "name": raw[name_col].astype(str).to_numpy() if name_col is not None else "",
            "lon": lon,
            "lat": lat,
            "height_m": height,
        }
    )


def _numbers(col: pd.Series, path: Path, name: str, where, allow_empty: bool = False) -> np.ndarray:
    text = col.astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values)
    if allow_empty:
        bad &= (text != "").to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{path}: {where(i)} column {name!r}: {col.iloc[i]!r} is not a number")
    return values


def candidate_cells(
    site_ids: list[str],
    lon: np.ndarray,
    lat: np.ndarray,
    admin_code: str | np.ndarray,
    *,
    height_m: np.ndarray | float,
    sectors: int,
    freq_mhz: float,
    bandwidth_mhz: float,
    scs_khz: float,
    eirp_dbm: float,
    beamwidth_deg: float,
    tilt_deg: float,
    year: int | None = None,
) -> pd.DataFrame:
    """Cells (:data:`CELL_COLUMNS`) of candidate 5G sites: ``sectors`` cells per site at
    azimuths ``360·i/sectors`` (0/120/240 for three), or one omni cell when ``sectors == 1``.
    Rows are grouped by site, in the order of ``site_ids``. ``admin_code`` (the county) and
    ``height_m`` are one value or one per site."""
    n = len(site_ids)
    heights = np.broadcast_to(np.asarray(height_m, dtype=np.float64), (n,))
    if sectors == 1:
        azimuths = [np.nan]
    else:
        azimuths = [360.0 * i / sectors for i in range(sectors)]
    m = len(azimuths)
    sid = np.repeat(np.asarray(site_ids, dtype=object), m)
    sector = np.tile(np.arange(1, m + 1), n)
    n_rb = n_resource_blocks(bandwidth_mhz, scs_khz)
    data = {
        "site_id": sid,
        "cell_id": [f"{s}-{k}" for s, k in zip(sid, sector, strict=True)],
        "name": sid,
        "lon": np.repeat(np.asarray(lon, dtype=np.float64), m),
        "lat": np.repeat(np.asarray(lat, dtype=np.float64), m),
        "tech": "5G",
        "operator": "planned",
        "freq_mhz": float(freq_mhz),
        "bandwidth_mhz": float(bandwidth_mhz),
        "scs_khz": float(scs_khz),
        "n_rb": np.int64(n_rb),
        "height_m": np.repeat(heights, m),
        "azimuth_deg": np.tile(np.asarray(azimuths, dtype=np.float64), n),
        "beamwidth_deg": float(beamwidth_deg) if sectors > 1 else np.nan,
        "tilt_deg": float(tilt_deg),
        "eirp_dbm": float(eirp_dbm),
        "commissioned_year": pd.array([year] * (n * m), dtype="Int64"),
        "admin_code": np.repeat(np.broadcast_to(np.asarray(admin_code, dtype=object), (n,)), m),
        "source_row": np.int64(0),
    }
    df = pd.DataFrame(data, index=pd.RangeIndex(n * m))
    for col, dtype in CELL_COLUMNS.items():
        if dtype == "str":
            df[col] = df[col].astype(object)
        else:
            df[col] = df[col].astype(dtype)
    return df[list(CELL_COLUMNS)]
