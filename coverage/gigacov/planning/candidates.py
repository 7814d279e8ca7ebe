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
from ..ingest._common import as_text, parse_numbers
from ..ingest.geo import check_lonlat_ranges
from ..ingest.model import CELL_COLUMNS
from ..ingest.site_columns import SITE_ALIASES
from ..ingest.tables import match_table, read_table
from ..ingest.units import metres_unit, parse_coordinates

__all__ = [
    "grid_candidates",
    "read_candidates",
    "candidate_cells",
    "n_resource_blocks",
    "CANDIDATE_COLUMNS",
    "CANDIDATE_ALIASES",
]

log = logging.getLogger(__name__)

#: Columns of a candidate table (WGS84 lon/lat).
CANDIDATE_COLUMNS = ["candidate_id", "name", "lon", "lat", "height_m"]

#: Accepted headers of a candidate list (besides the canonical names), as for site lists.
CANDIDATE_ALIASES: dict[str, list[str]] = {
    "lon": SITE_ALIASES["lon"],
    "lat": SITE_ALIASES["lat"],
    "candidate_id": ["id", "site_id", "编号", "站址编号", "站址id", "站址编码", "候选站址编号"],
    "name": ["名称", "站址名称", "site_name", "候选站址名称"],
    "height_m": ["height", "高度", "挂高", "天线挂高", "可用挂高"],
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


#: Most grid candidates per county (each gets a radio footprint computed).
MAX_GRID_CANDIDATES = 1_000_000


def grid_candidates(county_metric, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points at multiples of ``spacing_m`` (grid CRS) inside a county polygon, row-major
    (north to south, west to east). A county too small to hold one gets its representative
    point."""
    if not spacing_m > 0:
        raise ConfigError(f"[planning] candidate_spacing_m must be > 0, got {spacing_m!r}")
    minx, miny, maxx, maxy = county_metric.bounds
    n = (math.floor((maxx - minx) / spacing_m) + 2) * (math.floor((maxy - miny) / spacing_m) + 2)
    if n > MAX_GRID_CANDIDATES:
        suggest = spacing_m * math.ceil(math.sqrt(n / MAX_GRID_CANDIDATES))
        raise ConfigError(
            f"[planning] candidate_spacing_m = {spacing_m:g} m gives about {n:,} candidate "
            f"points in one county's bounding box, more than the {MAX_GRID_CANDIDATES:,} gigacov "
            f"evaluates; use candidate_spacing_m = {suggest:g} or more, or a candidates file"
        )
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


def read_candidates(
    path: str | Path,
    crs: str = "wgs84",
    layer: str = "",
    columns: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Read a user candidate list into :data:`CANDIDATE_COLUMNS` (WGS84 lon/lat).

    The file is read like every other input (:func:`gigacov.ingest.tables.read_table`: CSV in
    UTF-8 or GBK with title lines, XLSX, GeoJSON, GeoPackage, Shapefile), and its columns are
    found by :data:`CANDIDATE_ALIASES` or ``columns`` (``[planning.candidates_columns]``).

    Parameters
    ----------
    path
        CSV / XLSX (longitude and latitude columns, decimal degrees or DMS; optional
        ``candidate_id``, ``name``, ``height_m``), or GeoJSON / GeoPackage / Shapefile points.
    crs
        Declared CRS of the coordinates (``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``,
        ``EPSG:xxxx``). For GIS files the file's own CRS is used unless ``crs`` is GCJ-02 or
        BD-09 (files holding such coordinates usually claim WGS84).
    layer
        GeoPackage layer (default: the first).
    columns
        Canonical column → the file's header, for headers no alias knows.

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
    table = read_table(p, what="candidate sites", aliases=CANDIDATE_ALIASES, layer=layer)
    cmap = match_table(
        table,
        CANDIDATE_ALIASES,
        columns,
        where="[planning.candidates_columns]",
        what="candidate sites",
    )
    df, rows = table.df, table.rows
    if table.geometry is not None:
        geoms = np.asarray(table.geometry.values, dtype=object)
        for i, g in enumerate(geoms):
            if g is None or g.is_empty or g.geom_type != "Point":
                kind = "empty" if g is None or g.is_empty else g.geom_type
                raise InputError(
                    f"{p}: row {rows[i]} column 'geometry': expected a point, got {kind!r}"
                )
        xs = shapely.get_x(geoms).astype(np.float64)
        ys = shapely.get_y(geoms).astype(np.float64)
        if spec.kind not in ("gcj02", "bd09") and table.crs is not None:
            spec = crs_spec_from_pyproj(table.crs)
    else:
        if "lon" not in cmap or "lat" not in cmap:
            raise InputError(
                f"{p}: needs longitude and latitude columns (e.g. 'lon' and 'lat'); found "
                f"{', '.join(map(repr, cmap.headers))}; accepted: lon "
                f"({', '.join(CANDIDATE_ALIASES['lon'])}), lat "
                f"({', '.join(CANDIDATE_ALIASES['lat'])}); or map them in the scenario: "
                '[planning.candidates_columns] lon = "<header>"'
            )
        xs = _numbers(df, cmap.header("lon"), rows, p, None)
        ys = _numbers(df, cmap.header("lat"), rows, p, None)
        check_lonlat_ranges(
            xs,
            ys,
            spec,
            p,
            f"{cmap.header('lon')!r} / {cmap.header('lat')!r}",
            key="[planning] candidates_crs",
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
            f"{p}: row {rows[i]}: coordinates {(float(xs[i]), float(ys[i]))!r} are not a valid "
            f"longitude/latitude{hint}"
        )
    n = len(lon)
    ids = (
        as_text(df[cmap.header("candidate_id")]).to_numpy(dtype=object)
        if "candidate_id" in cmap
        else np.array([f"C{i + 1}" for i in range(n)], dtype=object)
    )
    if "candidate_id" in cmap:
        dup = pd.Series(ids).duplicated().to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            raise InputError(
                f"{p}: row {rows[i]} column {cmap.header('candidate_id')!r}: duplicate candidate "
                f"id {ids[i]!r}; ids must be unique"
            )
    height = np.full(n, np.nan)
    if "height_m" in cmap:
        h_col = cmap.header("height_m")
        height = _numbers(df, h_col, rows, p, metres_unit, allow_empty=True)
        neg = np.flatnonzero(height <= 0)
        if len(neg):
            i = int(neg[0])
            raise InputError(
                f"{p}: row {rows[i]} column {h_col!r}: height {height[i]!r} must be > 0 m"
            )
    return pd.DataFrame(
        {
            "candidate_id": ids.astype(object),
            "name": as_text(df[cmap.header("name")]).to_numpy(dtype=object)
            if "name" in cmap
            else "",
            "lon": lon,
            "lat": lat,
            "height_m": height,
        }
    )


def _numbers(
    df: pd.DataFrame, header: str, rows, path: Path, unit_parser, allow_empty: bool = False
) -> np.ndarray:
    """A numeric column through the ingest parser (coordinates when ``unit_parser`` is None); the
    first bad value is an error naming it."""
    p = parse_numbers(df[header], unit_parser) if unit_parser else parse_coordinates(df[header])
    bad = p.bad | (p.missing if not allow_empty else np.zeros(len(df), dtype=bool))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = df[header].iloc[i]
        raise InputError(f"{path}: row {rows[i]} column {header!r}: {value!r} is not a number")
    return p.values


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
        "freq_source": "input",
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
