"""Sites and cells: operator exports (CSV / XLSX / GPKG / GeoJSON / Parquet) and OpenCelliD.

One output row per cell (sector), :data:`~gigacov.ingest.model.CELL_COLUMNS`. :func:`read_sites`
runs one function per stage; the validation is vectorised over whole columns, and a row carries
the reason of the first stage it fails:

0. reading (:func:`_read`): the file (:mod:`.tables`), OpenCelliD or not (:mod:`.opencellid`),
   columns found by alias (:mod:`.site_columns`), site-level rows split into one row per azimuth
   (:mod:`.sectors`, counted under *fixed* as ``sectors_split``; its cells keep the file's row
   number). Counts are of spreadsheet rows: a split row is used when all its cells are, and
   otherwise rejected once, its message listing the cells that failed and why;
1. coordinates (:func:`_coordinates`): ``missing_value``, ``not_a_number``, then position: a
   point outside the region (its counties buffered by ``[sites] region_margin_m``) whose swapped
   coordinates fall inside is repaired and used (``lat_lon_swapped`` counted under *fixed*, with
   a warning); one that looks swapped but is inside the region in neither order is rejected
   ``lat_lon_swapped``; any other point outside is rejected ``outside_region``;
2. technology (:func:`_technology`): 5G / NR / SA / NSA → ``"5G"``; 4G / LTE / FDD / TDD(-LTE) →
   ``"4G"``; anything else (GSM, UMTS, CDMA, …) → ``unknown_technology`` (:mod:`.vocab`). A
   missing technology is taken from the band (``n78`` → 5G, ``B3`` → 4G) when there is one;
   without a technology column at all the default 5G is applied and counted;
3. radio values (:func:`_frequency`, :func:`_carrier`, :func:`_antenna`, :func:`_eirp`):
   frequency/band/ARFCN (:mod:`.bands`), bandwidth, SCS, height, azimuth, beamwidth, tilt, power
   (units in :mod:`.units`): ``not_a_number`` / ``out_of_range``; missing values get the
   :data:`DEFAULTS`, each counted per column in the report;
4. commissioning date (:func:`_commissioning`): ``bad_date``; a site commissioned after the
   scenario year is valid but belongs to a later year: *skipped* (``not_yet_commissioned``), not
   rejected;
5. ids and duplicates (:mod:`.site_ids`): ``duplicate_id``; a site id whose rows lie more than
   ``[sites] same_site_tolerance_m`` apart or carry different site names: ``site_conflict``,
   every row of that id rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from ..crs import CRSSpec, parse_crs
from ..scenario import Scenario
from ._common import Parsed, Rejects, Tracker, as_text, is_missing, log, parse_numbers
from .bands import (
    BAND_CENTRE_MHZ,
    arfcn_or_mhz,
    default_bandwidth,
    freq_text,
    guess_mhz,
    is_arfcn_header,
    is_range,
    n_rb_for,
    parse_band,
)
from .geo import Region, check_lonlat_ranges, effective_crs, points_to_wgs84
from .model import CELL_COLUMNS, InputReport
from .opencellid import (
    OPENCELLID_COLUMNS,
    is_opencellid,
    looks_like_opencellid,
    opencellid_columns,
)
from .sectors import MULTI_VALUE_RE, split_sector_rows
from .site_columns import SITE_ALIASES, SiteColumns, site_columns
from .site_ids import assign_ids
from .tables import Table, match_columns, missing_columns_error, read_table
from .units import (
    angle_unit,
    coord_unit,
    dbi_unit,
    dbm_unit,
    is_plain_number,
    khz_unit,
    metres_unit,
    mhz_unit,
    parse_years,
    power_to_dbm,
)
from .vocab import OPERATORS_BY_PLMN, map_unique, normalise_operator, normalise_tech

__all__ = [
    "SITE_ALIASES",
    "OPENCELLID_COLUMNS",
    "OPERATORS_BY_PLMN",
    "DEFAULTS",
    "read_sites",
    "SitesResult",
    "normalise_tech",
    "normalise_operator",
    "parse_years",
]

#: Defaults for values a site list does not give, by technology.
DEFAULTS = {
    "5G": {
        "freq_mhz": 3500.0,
        "bandwidth_mhz": 100.0,
        "scs_khz": 30.0,
        "eirp_dbm": 61.0,
        "height_m": 30.0,
    },
    "4G": {
        "freq_mhz": 1800.0,
        "bandwidth_mhz": 20.0,
        "scs_khz": 15.0,
        "eirp_dbm": 61.0,
        "height_m": 30.0,
    },
}
DEFAULT_BEAMWIDTH_DEG = 65.0
DEFAULT_TILT_DEG = 6.0


@dataclass
class SitesResult:
    cells: pd.DataFrame
    report: InputReport
    warnings: list[str] = field(default_factory=list)
    raw_lon: np.ndarray | None = None
    """Coordinates as written in the file (declared CRS) of rows with usable numbers — for the
    datum check."""
    raw_lat: np.ndarray | None = None
    declared: object = None


@dataclass
class _Work:
    """One site file in progress: what every stage reads and where it notes what it did."""

    scn: Scenario
    table: Table
    cols: SiteColumns
    tracker: Tracker
    report: InputReport
    warnings: list[str] = field(default_factory=list)
    defaults: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.table.df)

    def numeric(self, key: str, unit_parser, what: str, multi: bool = False) -> np.ndarray:
        """Parse an optional numeric column; reject non-numbers; NaN where missing or absent."""
        cols, tracker = self.cols, self.tracker
        if not cols.has(key):
            return np.full(self.n, np.nan)
        raw = cols.raw[key]
        p: Parsed = parse_numbers(raw, unit_parser)
        header = cols.header[key]
        if multi and p.bad.any():
            text = raw.astype("str")
            several = p.bad & text.str.match(MULTI_VALUE_RE).to_numpy(dtype=bool, na_value=False)
            tracker.reject(
                several,
                header,
                raw,
                "not_a_number",
                lambda v: (
                    f"{what} " + v.map(repr) + " holds several values that do not match the row's "
                    "azimuths (or a decimal comma); give one value per azimuth, or one cell "
                    "(sector) per row"
                ),
            )
        tracker.reject(
            p.bad,
            header,
            raw,
            "not_a_number",
            lambda v: f"{what} " + v.map(repr) + " is not a number",
        )
        return p.values


def read_sites(
    scn: Scenario, region: Region, rejects: Rejects, hashes: dict[str, str]
) -> SitesResult:
    """Read ``[sites] path`` into the cells table (see the module docstring)."""
    from ..pipeline import sha256_file

    table, cols, split = _read(scn)
    hashes[str(table.path)] = sha256_file(table.path)
    report = InputReport(input="sites", path=str(table.path))
    groups, labels = _row_groups(table, cols)
    tracker = Tracker(str(table.path), table.rows, rejects, report, groups=groups, labels=labels)
    w = _Work(scn, table, cols, tracker, report)
    if split:
        report.fixed["sectors_split"] = split[0]
        w.warnings.append(split[1])
        log.info(split[1])
    declared = parse_crs(scn.sites.crs, what="[sites] crs")
    lon, lat, raw_lon, raw_lat = _coordinates(w, region, declared)
    band = _band_hints(w)
    tech = _technology(w, band)
    freq, freq_source = _frequency(w, tech, band)
    bw, scs, n_rb = _carrier(w, tech, freq, band)
    antenna = _antenna(w)
    eirp = _eirp(w, n_rb)
    year = _commissioning(w)
    site_id, cell_id, no_site, no_cell = assign_ids(
        cols.raw.get("site_id"),
        cols.raw.get("cell_id"),
        cols.header.get("cell_id", "cell_id"),
        table.df,
        lon,
        lat,
        w.tracker,
        conflicts=None
        if is_opencellid(table.df.columns, table.has_header)
        else (
            _site_names(cols),
            cols.header.get("site_id", "site_id"),
            scn.sites.same_site_tolerance_m,
        ),
    )
    w.defaults["site_id"] = no_site
    w.defaults["cell_id"] = no_cell
    w.tracker.finish()
    for col, mask in w.defaults.items():
        w.tracker.count_default(col, mask)
    report.warnings.extend(w.warnings)
    keep = w.tracker.alive
    values = {
        "site_id": site_id,
        "cell_id": cell_id,
        "name": _text(cols, "name", w.n),
        "lon": lon,
        "lat": lat,
        "tech": tech,
        "operator": (
            map_unique(as_text(cols.raw["operator"]), normalise_operator).to_numpy(dtype=object)
            if cols.has("operator")
            else np.full(w.n, "", dtype=object)
        ),
        "freq_mhz": freq,
        "freq_source": freq_source,
        "bandwidth_mhz": bw,
        "scs_khz": scs,
        "n_rb": n_rb,
        **antenna,
        "eirp_dbm": eirp,
    }
    cells = pd.DataFrame({k: v[keep] for k, v in values.items()})
    cells["commissioned_year"] = pd.array(
        np.where(np.isfinite(year[keep]), year[keep], np.nan), dtype="Float64"
    ).astype("Int64")
    cells["admin_code"] = region.county_of(lon[keep], lat[keep])
    cells["source_row"] = table.rows[keep]
    cells = _typed(cells)
    log.info(
        "sites: %d rows read, %d cells used, %d rejected", report.read, report.used, report.rejected
    )
    return SitesResult(cells, report, w.warnings, raw_lon, raw_lat, declared)


# ------------------------------------------------------------------------------------------------
# 0. reading
# ------------------------------------------------------------------------------------------------


def _read(scn: Scenario) -> tuple[Table, SiteColumns, tuple[int, str] | None]:
    """The file as a table, its columns by canonical name, and (rows split, message) if any."""
    sec = scn.sites
    table = read_table(
        sec.path,
        what="sites",
        aliases=SITE_ALIASES,
        sheet=sec.sheet,
        layer=sec.layer,
        encoding=sec.encoding,
        headerless=OPENCELLID_COLUMNS,
        headerless_test=looks_like_opencellid,
    )
    if is_opencellid(table.df.columns, table.has_header):
        log.info("%s: OpenCelliD layout", table.path)
        return table, opencellid_columns(table.df), None
    cmap = match_columns(table.df.columns, SITE_ALIASES, sec.columns, where="[sites.columns]")
    if table.geometry is None and not ("lon" in cmap and "lat" in cmap):
        missing = [k for k in ("lon", "lat") if k not in cmap]
        raise missing_columns_error(
            table.path, "sites", missing, cmap, SITE_ALIASES, "sites.columns"
        )
    table, split_rows, split_cells = split_sector_rows(table, cmap)
    split = None
    if split_rows:
        first = int(table.rows[np.flatnonzero(np.diff(table.rows) == 0)[0]])
        split = (
            split_rows,
            f"{table.path}: {split_rows} row(s) list several sectors in "
            f"{cmap.header('azimuth')!r} (e.g. row {first}); split into {split_cells} cells, one "
            "per azimuth",
        )
    return table, site_columns(table.df, cmap), split


def _row_groups(table: Table, cols: SiteColumns) -> tuple[np.ndarray, np.ndarray]:
    """Spreadsheet row of each cell (as a group index) and a label for the cells of split rows
    (``"sector 2 (azimuth 120)"``), so that a row is counted once, not once per cell."""
    rows = table.rows
    uniq, groups = np.unique(rows, return_inverse=True)
    labels = np.full(rows.size, "", dtype=object)
    split = np.bincount(groups)[groups] > 1
    if split.any():
        k = pd.Series(groups[split]).groupby(groups[split]).cumcount().to_numpy() + 1
        az = (
            as_text(cols.raw["azimuth"]).to_numpy(dtype=object)[split]
            if cols.has("azimuth")
            else np.full(int(split.sum()), "", dtype=object)
        )
        labels[split] = [f"sector {j} (azimuth {a})" for j, a in zip(k, az, strict=True)]
    return groups, labels


#: Name headers that name a cell, not its site (they differ between the cells of one site).
_CELL_NAME_HEADERS = {"小区名称", "cellname", "cell_name", "小区名"}


def _site_names(cols: SiteColumns) -> np.ndarray | None:
    """The site-name column for the conflict rule (None when the names are cell names)."""
    if not cols.has("name"):
        return None
    h = cols.header["name"].strip().lower().replace(" ", "")
    if h in _CELL_NAME_HEADERS or "小区" in h or "cell" in h:
        return None
    return as_text(cols.raw["name"]).to_numpy(dtype=object)


def _text(cols: SiteColumns, key: str, n: int) -> np.ndarray:
    if cols.has(key):
        return as_text(cols.raw[key]).to_numpy(dtype=object)
    return np.full(n, "", dtype=object)


def _typed(cells: pd.DataFrame) -> pd.DataFrame:
    for col, dtype in CELL_COLUMNS.items():
        if dtype == "str":
            cells[col] = cells[col].astype(object).astype(str)
        elif dtype == "Int64":
            cells[col] = cells[col].astype("Int64")
        else:
            cells[col] = cells[col].astype(dtype)
    return cells[list(CELL_COLUMNS)].reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# 1. coordinates
# ------------------------------------------------------------------------------------------------

_GEOM_TYPE_NAMES = {
    1: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def _coordinates(w: _Work, region: Region, declared: CRSSpec):
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
        plon = parse_numbers(cols.raw["lon"], coord_unit)
        plat = parse_numbers(cols.raw["lat"], coord_unit)
        hl, ha = cols.header["lon"], cols.header["lat"]
        tracker.reject(
            from_cols & plon.missing, hl, None, "missing_value", f"no longitude ({hl!r} is empty)"
        )
        tracker.reject(
            from_cols & plat.missing, ha, None, "missing_value", f"no latitude ({ha!r} is empty)"
        )
        tracker.reject(
            from_cols & plon.bad,
            hl,
            cols.raw["lon"],
            "not_a_number",
            lambda v: (
                "longitude " + v.map(repr) + " is not a number (decimal degrees or 118°35'20\")"
            ),
        )
        tracker.reject(
            from_cols & plat.bad,
            ha,
            cols.raw["lat"],
            "not_a_number",
            lambda v: (
                "latitude " + v.map(repr) + " is not a number (decimal degrees or 24°52'10\")"
            ),
        )
        x = np.where(from_cols, plon.values, x)
        y = np.where(from_cols, plat.values, y)
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

    def to84(xx, yy, cols_mask):
        lo = np.full(xx.shape, np.nan)
        la = np.full(xx.shape, np.nan)
        if cols_mask.any():
            lo[cols_mask], la[cols_mask] = points_to_wgs84(
                xx[cols_mask], yy[cols_mask], first_col, shift_col
            )
        if (~cols_mask).any():
            lo[~cols_mask], la[~cols_mask] = points_to_wgs84(
                xx[~cols_mask], yy[~cols_mask], first_geo, shift_geo
            )
        return lo, la

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


def _outside(w: _Work, region: Region, out, x, y, lon, lat, to84, from_cols, hl, ha) -> None:
    """Points outside the region: repair exchanged lon/lat, else reject (see the module doc)."""
    tracker, table, n = w.tracker, w.table, w.n
    oi = np.flatnonzero(out)
    slon, slat = to84(y[oi], x[oi], from_cols[oi])
    swap_in = region.contains(slon, slat)
    fix = oi[swap_in]
    if fix.size:
        lon[fix], lat[fix] = slon[swap_in], slat[swap_in]
        w.report.fixed["lat_lon_swapped"] = int(fix.size)
        ex = ", ".join(map(str, table.rows[fix][:5].tolist()))
        w.warnings.append(
            f"{table.path}: {fix.size} row(s) had longitude and latitude exchanged (rows {ex}"
            f"{', ...' if fix.size > 5 else ''}); swapped back and used, since only the swapped "
            "position lies in the region"
        )
    rest = oi[~swap_in]
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


# ------------------------------------------------------------------------------------------------
# 2. technology
# ------------------------------------------------------------------------------------------------


@dataclass
class _Band:
    """What the band column says per row: centre MHz, technology hint, typical bandwidth."""

    mhz: np.ndarray
    tech: np.ndarray
    bw: np.ndarray


def _band_hints(w: _Work) -> _Band:
    n = w.n
    out = _Band(np.full(n, np.nan), np.full(n, "", dtype=object), np.full(n, np.nan))
    if not w.cols.has("band"):
        return out
    text = as_text(w.cols.raw["band"])
    parsed = map_unique(text, lambda t: parse_band(t) if t else None)
    got = parsed.notna().to_numpy()
    if got.any():
        arr = parsed[got].tolist()
        out.mhz[got] = [a[0] for a in arr]
        out.tech[got] = [a[1] for a in arr]
        out.bw[got] = [a[2] for a in arr]
    return out


def _technology(w: _Work, band: _Band) -> np.ndarray:
    """ "5G" / "4G" per row (rejecting other and unknown technologies)."""
    cols, tracker = w.cols, w.tracker
    if not cols.has("tech"):
        w.defaults["tech"] = band.tech == ""
        return np.where(band.tech != "", band.tech, "5G").astype(object)
    raw_t = cols.raw["tech"]
    tmiss = is_missing(raw_t)
    tech = map_unique(as_text(raw_t), normalise_tech).to_numpy(dtype=object)
    tech = np.where(tmiss, "", tech)
    from_band = tmiss & (band.tech != "")
    tech = np.where(from_band, band.tech, tech)
    w.defaults["tech"] = from_band
    ht = cols.header["tech"]
    tracker.reject(
        tmiss & ~from_band,
        ht,
        None,
        "missing_value",
        f"no technology ({ht!r} is empty and no band tells it); write 4G or 5G",
    )
    tracker.reject(
        tech == "old",
        ht,
        raw_t,
        "unknown_technology",
        lambda v: (
            "technology " + v.map(repr) + " is neither 4G nor 5G; only 4G/5G cells are analysed"
        ),
    )
    tracker.reject(
        tech == "",
        ht,
        raw_t,
        "unknown_technology",
        lambda v: "technology " + v.map(repr) + " is not understood; write 4G/LTE or 5G/NR",
    )
    mismatch = tracker.alive & (band.tech != "") & (tech != band.tech) & ~tmiss
    if mismatch.any():
        w.warnings.append(
            f"{w.table.path}: {int(mismatch.sum())} row(s) give a technology that does not match "
            f"their band (e.g. row {int(w.table.rows[np.argmax(mismatch)])}); the technology "
            "column was used"
        )
    return tech


# ------------------------------------------------------------------------------------------------
# 3. radio values
# ------------------------------------------------------------------------------------------------


def _frequency(w: _Work, tech: np.ndarray, band: _Band) -> tuple[np.ndarray, np.ndarray]:
    """Centre frequency (MHz) from the frequency, band or ARFCN column; default by technology.

    Also returns where each row's frequency came from (``freq_source``): ``"input"`` (MHz or
    ARFCN), ``"band"`` (a band name or a rough frequency such as ``3.5G``: the operator's
    carrier in that band applies) or ``"default"`` (nothing given)."""
    freq, fbad, (col_name, raw_vals), source = _frequency_columns(w.cols, tech, band.mhz, w.n)
    if fbad.any():
        w.tracker.reject(
            fbad,
            col_name,
            raw_vals,
            "not_a_number",
            lambda v: (
                "frequency/band "
                + v.map(repr)
                + " is not understood; give MHz (3500), a band (n78, B3) or an ARFCN"
            ),
        )
    frange = np.isfinite(freq) & ((freq < 400) | (freq > 52600))
    w.tracker.reject(
        frange,
        col_name,
        freq,
        "out_of_range",
        lambda v: "frequency " + v.astype(str) + " MHz is outside 400–52,600 MHz",
    )
    fmiss = ~np.isfinite(freq)
    is5 = tech == "5G"
    w.defaults["freq_mhz"] = fmiss
    source = np.where(fmiss, "default", source).astype(object)
    freq = np.where(
        fmiss, np.where(is5, DEFAULTS["5G"]["freq_mhz"], DEFAULTS["4G"]["freq_mhz"]), freq
    )
    return freq, source


def _frequency_columns(cols: SiteColumns, tech: np.ndarray, band_mhz: np.ndarray, n: int):
    """Centre frequency (MHz) from freq / band / ARFCN columns.

    Returns (freq, bad, (column, raw), source) with ``source`` per row ``"input"`` (an exact
    frequency or an ARFCN), ``"band"`` (a band name, a band number or a rough frequency: a
    spelling with a unit, or a plain number in GHz, that is a whole multiple of 100 MHz, such as
    ``3.5G`` or ``2600M``) or ``""`` (none)."""
    freq = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    src = ("freq_mhz", None)
    source = np.full(n, "", dtype=object)
    if cols.has("freq"):
        raw = cols.raw["freq"]
        header_unit = cols.unit.get("freq", "")
        p = parse_numbers(raw, lambda num, unit: freq_text(f"{num}{unit}"))
        vals = p.values
        plain = ~p.missing & ~p.bad & is_plain_number(raw)
        if header_unit in ("ghz", "g"):
            vals = np.where(plain, vals * 1000.0, vals)
        elif header_unit in ("khz", "k"):
            vals = np.where(plain, vals / 1000.0, vals)
        elif header_unit == "hz":
            vals = np.where(plain, vals / 1e6, vals)
        elif header_unit in ("mhz", "m"):
            pass
        else:
            guessed = pd.Series(vals[plain]).map(
                lambda v: guess_mhz(v) if np.isfinite(v) else np.nan
            )
            vals = vals.copy()
            vals[plain] = guessed.to_numpy(dtype=float, na_value=np.nan)
        # exact MHz numbers are explicit; GHz numbers and spelled-out units that are whole
        # hundreds of MHz ("3.5G", "2600M") only name a band
        if header_unit in ("ghz", "g"):
            ghz_plain = plain
        elif header_unit == "":
            with np.errstate(invalid="ignore"):
                ghz_plain = plain & (np.asarray(p.values, dtype=np.float64) < 60.0)
        else:
            ghz_plain = np.zeros(n, dtype=bool)
        rough = np.isfinite(vals) & (np.abs(vals / 100.0 - np.round(vals / 100.0)) < 1e-9)
        spelled = ~plain & ~p.missing & ~p.bad
        source[np.isfinite(vals)] = "input"
        source[rough & (ghz_plain | spelled)] = "band"
        # an explicit range ("3400-3500MHz") is the carrier itself: given, not a band
        source[spelled & map_unique(as_text(raw), is_range).to_numpy(dtype=bool)] = "input"
        # band names in a frequency column ("n78") come back as NaN → try them as bands
        nb = p.bad
        if nb.any():
            b = map_unique(as_text(raw[nb]), lambda t: parse_band(t))
            ok = b.notna().to_numpy()
            idx = np.flatnonzero(nb)
            vals[idx[ok]] = [a[0] for a in b[ok].tolist()]
            source[idx[ok]] = "band"
            nb = nb.copy()
            nb[idx[ok]] = False
        freq = vals
        bad = nb | (plain & ~np.isfinite(vals))
        src = (cols.header["freq"], raw)
    take = ~np.isfinite(freq) & ~bad & np.isfinite(band_mhz)
    freq[take] = band_mhz[take]
    source[take] = "band"
    if cols.has("band") and take.any():
        ranged = map_unique(as_text(cols.raw["band"]), is_range).to_numpy(dtype=bool)
        source[take & ranged] = "input"
    if cols.has("band"):
        band_text = as_text(cols.raw["band"])
        bmiss = is_missing(cols.raw["band"])
        band_bad = ~bmiss & ~np.isfinite(band_mhz)
        # a plain band number ("78", "3") with the row's technology
        num = pd.to_numeric(band_text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        small = band_bad & np.isfinite(num) & (num >= 1) & (num < 100) & (num == np.floor(num))
        if small.any():
            keys = (
                np.where(tech[small] == "5G", "n", "b")
                + pd.Series(num[small]).astype(int).astype(str).to_numpy()
            )
            centre = np.array([BAND_CENTRE_MHZ.get(k, (np.nan,))[0] for k in keys])
            idx = np.flatnonzero(small)
            source[idx[~np.isfinite(freq[idx]) & np.isfinite(centre)]] = "band"
            freq[idx] = np.where(np.isfinite(freq[idx]), freq[idx], centre)
            band_bad[idx[np.isfinite(centre)]] = False
        newbad = band_bad & ~np.isfinite(freq)
        if newbad.any() and not bad.any():
            src = (cols.header["band"], cols.raw["band"])
        bad |= newbad
    if cols.has("arfcn"):
        raw = cols.raw["arfcn"]
        p = parse_numbers(raw)
        v = p.values
        f = arfcn_or_mhz(v, tech, explicit=is_arfcn_header(cols.header["arfcn"]))
        take = ~np.isfinite(freq) & np.isfinite(f)
        freq[take] = f[take]
        source[take] = "input"
        abad = (p.bad | (np.isfinite(v) & ~np.isfinite(f))) & ~np.isfinite(freq)
        if abad.any() and not bad.any():
            src = (cols.header["arfcn"], raw)
        bad |= abad
    bad &= ~np.isfinite(freq)
    source[~np.isfinite(freq)] = ""
    return freq, bad, src, source


def _carrier(w: _Work, tech: np.ndarray, freq: np.ndarray, band: _Band):
    """Channel bandwidth (MHz), sub-carrier spacing (kHz) and N_RB per row."""
    cols, tracker, n = w.cols, w.tracker, w.n
    is5 = tech == "5G"
    bw = w.numeric("bandwidth", mhz_unit, "bandwidth")
    bw_unit = cols.unit.get("bandwidth", "")
    if bw_unit in ("khz", "k"):
        bw = bw / 1000.0
    elif bw_unit == "hz":
        bw = bw / 1e6
    elif not bw_unit:
        bw = np.where(bw >= 1e6, bw / 1e6, np.where(bw >= 1000, bw / 1000.0, bw))
    bmiss = ~np.isfinite(bw)
    typical = np.where(np.isfinite(band.bw), band.bw, default_bandwidth(is5, freq))
    bw = np.where(bmiss, typical, bw)
    w.defaults["bandwidth_mhz"] = bmiss

    scs = w.numeric("scs", khz_unit, "subcarrier spacing")
    if cols.unit.get("scs", "") == "hz":
        scs = scs / 1000.0
    smiss = ~np.isfinite(scs)
    scs = np.where(smiss, np.where(is5, 30.0, 15.0), scs)
    w.defaults["scs_khz"] = smiss & is5
    n_rb = n_rb_for(tech, bw, scs)
    bad_rb = n_rb < 0
    if bad_rb.any():
        combos = np.full(n, "", dtype=object)
        combos[bad_rb] = [
            f"{t} {b:g} MHz at {c:g} kHz"
            for t, b, c in zip(tech[bad_rb], bw[bad_rb], scs[bad_rb], strict=True)
        ]
        tracker.reject(
            bad_rb,
            cols.header.get("bandwidth", cols.header.get("scs", "bandwidth_mhz")),
            combos,
            "out_of_range",
            lambda v: (
                v + " is not a 3GPP channel configuration (NR FR1: 5–100 MHz at 15/30/60 kHz per "
                "TS 38.101-1 Table 5.3.2-1; LTE: 1.4/3/5/10/15/20 MHz)"
            ),
        )
    return bw, scs, n_rb


def _antenna(w: _Work) -> dict[str, np.ndarray]:
    """Height, azimuth (NaN = omni), horizontal beamwidth and total downtilt per row."""
    cols, tracker = w.cols, w.tracker
    height = w.numeric("height", metres_unit, "antenna height", multi=True)
    hbad = np.isfinite(height) & ((height <= 0) | (height > 500))
    tracker.reject(
        hbad,
        cols.header.get("height", ""),
        cols.raw.get("height"),
        "out_of_range",
        lambda v: "antenna height " + v.astype(str) + " m is outside (0, 500] m",
    )
    hmiss = ~np.isfinite(height)
    height = np.where(hmiss, DEFAULTS["5G"]["height_m"], height)
    w.defaults["height_m"] = hmiss

    azimuth = w.numeric("azimuth", angle_unit, "azimuth", multi=True)
    abad = np.isfinite(azimuth) & ((azimuth < -360) | (azimuth > 720))
    tracker.reject(
        abad,
        cols.header.get("azimuth", ""),
        cols.raw.get("azimuth"),
        "out_of_range",
        lambda v: "azimuth " + v.astype(str) + "° is outside −360…720°",
    )
    omni = ~np.isfinite(azimuth)
    azimuth = np.where(omni, np.nan, np.mod(azimuth, 360.0))
    w.defaults["azimuth_deg"] = omni

    beam = w.numeric("beamwidth", angle_unit, "beamwidth", multi=True)
    bbad = np.isfinite(beam) & ((beam <= 0) | (beam > 360))
    tracker.reject(
        bbad,
        cols.header.get("beamwidth", ""),
        cols.raw.get("beamwidth"),
        "out_of_range",
        lambda v: "beamwidth " + v.astype(str) + "° is outside (0, 360]°",
    )
    bmiss_b = ~np.isfinite(beam)
    beam = np.where(bmiss_b, np.where(omni, 360.0, DEFAULT_BEAMWIDTH_DEG), beam)
    w.defaults["beamwidth_deg"] = bmiss_b & ~omni

    tilt = w.numeric("tilt", angle_unit, "downtilt", multi=True)
    if not cols.has("tilt") and (cols.has("tilt_mech") or cols.has("tilt_elec")):
        mech = w.numeric("tilt_mech", angle_unit, "mechanical downtilt", multi=True)
        elec = w.numeric("tilt_elec", angle_unit, "electrical downtilt", multi=True)
        both_missing = ~np.isfinite(mech) & ~np.isfinite(elec)
        tilt = np.where(both_missing, np.nan, np.nan_to_num(mech) + np.nan_to_num(elec))
    tcol = cols.header.get("tilt", cols.header.get("tilt_mech", cols.header.get("tilt_elec", "")))
    tbad = np.isfinite(tilt) & ((tilt < -20) | (tilt > 90))
    tracker.reject(
        tbad,
        tcol,
        tilt,
        "out_of_range",
        lambda v: "downtilt " + v.astype(str) + "° is outside −20…90°",
    )
    tmiss = ~np.isfinite(tilt)
    tilt = np.where(tmiss, DEFAULT_TILT_DEG, tilt)
    w.defaults["tilt_deg"] = tmiss
    return {"height_m": height, "azimuth_deg": azimuth, "beamwidth_deg": beam, "tilt_deg": tilt}


def _eirp(w: _Work, n_rb: np.ndarray) -> np.ndarray:
    """EIRP (dBm, total over the carrier) from eirp / tx power + gain / RS power + gain."""
    cols, n = w.cols, w.n
    n_rb = np.where(n_rb > 0, n_rb, 1)
    warn = ""
    if cols.has("eirp"):
        eirp = _plain_power(cols, "eirp", w.numeric("eirp", dbm_unit, "EIRP"))
        eirp_col = cols.header["eirp"]
    else:
        gain = np.zeros(n)
        if cols.has("gain"):
            gain = np.nan_to_num(w.numeric("gain", dbi_unit, "antenna gain"), nan=0.0)
        if cols.has("tx_power"):
            t = _plain_power(cols, "tx_power", w.numeric("tx_power", dbm_unit, "transmit power"))
            if not cols.has("gain"):
                warn = (
                    f"transmit power ({cols.header['tx_power']!r}) taken as EIRP: the file has no "
                    "antenna gain column (天线增益 / antenna_gain); a sector antenna adds about "
                    "15–18 dB"
                )
            eirp, eirp_col = t + gain, cols.header["tx_power"]
        elif cols.has("rs_power"):
            rs = w.numeric("rs_power", dbm_unit, "reference-signal power")
            eirp, eirp_col = rs + 10 * np.log10(12.0 * n_rb) + gain, cols.header["rs_power"]
        else:
            eirp, eirp_col = np.full(n, np.nan), "eirp_dbm"
    ebad = np.isfinite(eirp) & ((eirp < 0) | (eirp > 100))
    w.tracker.reject(
        ebad,
        eirp_col,
        eirp,
        "out_of_range",
        lambda v: "EIRP " + v.map(lambda e: f"{e:.1f}") + " dBm is outside 0–100 dBm",
    )
    emiss = ~np.isfinite(eirp)
    w.defaults["eirp_dbm"] = emiss
    if warn:
        w.warnings.append(f"{w.table.path}: {warn}")
    return np.where(emiss, DEFAULTS["5G"]["eirp_dbm"], eirp)


def _plain_power(cols: SiteColumns, key: str, values: np.ndarray) -> np.ndarray:
    unit = cols.unit.get(key, "")
    if unit in ("w", "瓦", "mw", "kw"):
        plain = is_plain_number(cols.raw[key])
        return np.where(plain, power_to_dbm(values, unit), values)
    return values


# ------------------------------------------------------------------------------------------------
# 4. commissioning
# ------------------------------------------------------------------------------------------------


def _commissioning(w: _Work) -> np.ndarray:
    """Commissioning year per row (NaN = not given)."""
    cols = w.cols
    if not cols.has("commissioned"):
        return np.full(w.n, np.nan)
    hc = cols.header["commissioned"]
    raw = cols.raw["commissioned"]
    year, ybad = parse_years(raw)
    w.tracker.reject(
        ybad,
        hc,
        raw,
        "bad_date",
        lambda v: (
            "commissioning date " + v.map(repr) + " is not a date or year (e.g. 2021-06-30, 2021)"
        ),
    )
    scn_year = w.scn.year
    late = w.tracker.skip(np.isfinite(year) & (year > scn_year), "not_yet_commissioned")
    if late.size:
        rows = np.unique(w.table.rows[late])
        ex = ", ".join(map(str, rows[:5].tolist()))
        w.warnings.append(
            f"{w.table.path}: {rows.size} row(s) commissioned after the scenario year {scn_year} "
            f"(rows {ex}{', ...' if rows.size > 5 else ''}) skipped: they belong to a later year "
            "(not_yet_commissioned)"
        )
    return year
