"""Sites and cells: operator exports (CSV / XLSX / GPKG / GeoJSON / Parquet) and OpenCelliD.

One output row per cell (sector), :data:`~gigacov.ingest.model.CELL_COLUMNS`. :func:`read_sites`
runs one function per stage; the validation is vectorised over whole columns, and a row carries
the reason of the first stage it fails:

0. reading (:func:`_read`): the file (:mod:`.tables`), OpenCelliD or not (:mod:`.opencellid`),
   columns found by alias (:mod:`.site_columns`), site-level rows split into one row per azimuth
   (:mod:`.sectors`, counted under *fixed* as ``sectors_split``; its cells keep the file's row
   number). Counts are of spreadsheet rows: a split row is used when all its cells are, and
   otherwise rejected once, its message listing the cells that failed and why;
1. coordinates (:mod:`.site_position`): ``missing_value``, ``not_a_number``, then position: a
   point outside the region (its counties buffered by ``[sites] region_margin_m``) whose swapped
   coordinates fall inside is repaired and used (``lat_lon_swapped`` counted under *fixed*, with
   a warning); one that looks swapped but is inside the region in neither order is rejected
   ``lat_lon_swapped``; a point in another county of the boundary file is a row of another
   region, skipped ``outside_region``; any other point outside is rejected ``outside_region``;
2. technology (:func:`_technology`): 5G / NR / SA / NSA → ``"5G"``; 4G / LTE / FDD / TDD(-LTE) →
   ``"4G"``; anything else (GSM, UMTS, CDMA, …) → ``unknown_technology`` (:mod:`.vocab`). A
   missing technology is taken from the band (``n78`` → 5G, ``B3`` → 4G) when there is one;
   without a technology column at all the default 5G is applied and counted; a band of the
   other technology is read as that technology's band on the same frequencies (``D频段`` = B41
   on an NR row is n41; :func:`.site_radio.fit_band_to_tech`);
3. radio values (:mod:`.site_radio`: frequency, carrier, antenna, EIRP):
   frequency/band/ARFCN (:mod:`.bands`), bandwidth, SCS, height, azimuth, beamwidth, tilt, power
   (units in :mod:`.units`): ``not_a_number`` / ``out_of_range``; missing values get the
   defaults of :mod:`gigacov.radio_defaults`, each counted per column in the report;
4. commissioning date (:func:`_commissioning`): ``bad_date``; a site commissioned after the
   scenario year, or whose date says it is not on air yet (``待开通``, ``未开通``, ``规划``,
   ``在建``, … :data:`.units.PLANNED_WORDS`), is valid but belongs to a later year: *skipped*
   (``not_yet_commissioned``), not rejected;
5. ids and duplicates (:mod:`.site_ids`): ``duplicate_id``; a site id whose rows lie more than
   ``[sites] same_site_tolerance_m`` apart or carry different site names: ``site_conflict``,
   every row of that id rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..crs import parse_crs
from ..errors import InputError
from ..rundir import sha256_file
from ..scenario import Scenario
from ._common import Rejects, Tracker, as_text, date_text, is_missing, log, rows_text
from .geo import Region
from .model import CELL_COLUMNS, InputReport
from .opencellid import (
    OPENCELLID_COLUMNS,
    is_opencellid,
    looks_like_opencellid,
    opencellid_columns,
)
from .sectors import split_sector_rows
from .site_columns import SITE_ALIASES, SiteColumns, site_columns
from .site_ids import assign_ids, ids_per_operator, site_per_operator
from .site_position import coordinates
from .site_radio import (
    Band,
    antenna_stage,
    band_hints,
    carrier_stage,
    eirp_stage,
    fit_band_to_tech,
    frequency_stage,
)
from .site_work import SiteWork
from .tables import Table, match_table, missing_columns_error, read_table, sheets_to_read
from .units import parse_years, planned_dates
from .vocab import OPERATORS_BY_PLMN, map_unique, normalise_operator, normalise_tech

__all__ = [
    "SITE_ALIASES",
    "OPENCELLID_COLUMNS",
    "OPERATORS_BY_PLMN",
    "read_sites",
    "SitesResult",
    "normalise_tech",
    "normalise_operator",
    "parse_years",
]


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


def read_sites(
    scn: Scenario, region: Region, rejects: Rejects, hashes: dict[str, str]
) -> SitesResult:
    """Read ``[sites] path`` into the cells table (see the module docstring).

    A workbook whose sheets each hold sites (``[sites] sheet = ["5G", "4G"]``, or no ``sheet``
    and several sheets with a header row of site columns) is read sheet by sheet with the same
    settings; each sheet's rejected and skipped rows name it (``file.xlsx[电信联通]``, row
    numbers within the sheet) and every row is counted once in the file's one report."""
    paths = [scn.sites.path] if isinstance(scn.sites.path, str) else list(scn.sites.path)
    if len(paths) > 1:
        # several files (one operator's export each): read like the sheets of one workbook
        parts = [read_sites(scn.replace(sites={"path": p}), region, rejects, hashes) for p in paths]
        names = [Path(p).name for p in paths]
        note = f"sites read from {len(paths)} files: {', '.join(names)}"
        log.info("%s", note)
        merged = _merge_sheets(parts, names, note, scn.sites.same_site_tolerance_m)
        merged.report.path = "; ".join(p.report.path for p in parts)
        return merged
    scn = scn if isinstance(scn.sites.path, str) else scn.replace(sites={"path": paths[0]})
    sheets, note = sheets_to_read(
        scn.sites.path, scn.sites.sheet, what="sites", aliases=SITE_ALIASES, section="sites"
    )
    if len(sheets) == 1:
        return _read_sheet(scn, region, rejects, hashes, sheets[0], "")
    parts, read = [], []
    for i, sh in enumerate(sheets):
        try:
            label = f"{scn.sites.path}[{sh}]"
            part = _read_sheet(scn, region, rejects, hashes, sh, label)
            # each sheet's warnings name it: two sheets' alike warnings are two, not one
            head = f"{part.report.path}:"
            part.warnings[:] = [
                label + w[len(head) - 1 :] if w.startswith(head) else w for w in part.warnings
            ]
            parts.append(part)
            read.append(sh)
        except InputError as exc:
            if not note or i == 0:  # a sheet named in the scenario, or the first: as for one
                raise
            # a sheet found by its headers that still lacks a needed column (a summary table)
            msg = f"sheet {sh!r} not read: {exc}"
            log.warning("%s", msg)
            note = f"{note}; {msg}"
    return _merge_sheets(parts, read, note, scn.sites.same_site_tolerance_m)


def _merge_sheets(
    parts: list[SitesResult], sheets: list[str], note: str, tolerance_m: float
) -> SitesResult:
    """One result from the sheets of one workbook: reports summed, cells concatenated. A site id
    an earlier sheet uses for another place (farther than ``tolerance_m``) gets ``@<sheet>``,
    and so does a cell id already given for the same site (ids are unique per sheet only)."""
    first = parts[0]
    report = InputReport(input="sites", path=first.report.path)
    for p in parts:
        report.add(p.report)
        report.cells = report.cells or 0
    warnings = [w for w in (note, *(w for p in parts for w in p.warnings)) if w]
    report.warnings.extend(warnings)
    cells = [parts[0].cells]
    seen = parts[0].cells.groupby("site_id")[["lon", "lat"]].first()
    for p, sheet in zip(parts[1:], sheets[1:], strict=True):
        c = p.cells.copy()
        if len(seen) and len(c):
            here = c.groupby("site_id")[["lon", "lat"]].first()
            both = here.index.intersection(seen.index)
            if len(both):
                a, b = here.loc[both], seen.loc[both]
                far = _distance_m(a["lon"], a["lat"], b["lon"], b["lat"]) > tolerance_m
                moved = set(both[far.to_numpy()])
                rename = c["site_id"].isin(moved)
                c.loc[rename, "site_id"] = c.loc[rename, "site_id"] + f"@{sheet}"
                earlier = pd.concat(cells)
                pairs = set(zip(earlier["site_id"], earlier["cell_id"], strict=True))
                again = np.array(
                    [(s_, c_) in pairs for s_, c_ in zip(c["site_id"], c["cell_id"], strict=True)],
                    dtype=bool,
                )
                # the same cell of the same technology and operator in two sheets (a copy of a
                # sheet?); a 4G sheet beside a 5G one, or another operator's export of the same
                # towers, shares site ids, and cell ids where gigacov made them
                same = ["site_id", "cell_id", "tech", "operator"]
                seen_cells = set(earlier[same].itertuples(index=False, name=None))
                copied = again & np.array(
                    [t in seen_cells for t in c[same].itertuples(index=False, name=None)],
                    dtype=bool,
                )
                c.loc[again, "cell_id"] = c.loc[again, "cell_id"] + f"@{sheet}"
                if copied.any():
                    msg = (
                        f"{first.report.path}: {int(copied.sum())} cell(s) of sheet {sheet!r} have "
                        "the site id, position, cell id and technology of a cell of an earlier "
                        "sheet; both "
                        f"are used (the later as '<cell>@{sheet}'). If one sheet copies another, "
                        'name the sheet to read: [sites] sheet = "…"'
                    )
                    log.warning("%s", msg)
                    warnings.append(msg)
                    report.warnings.append(msg)
                if rename.any() or again.any():
                    log.info(
                        "sites: sheet %r: %d site id(s) of another place and %d cell id(s) "
                        "already used by an earlier sheet get '@%s'",
                        sheet,
                        len(moved),
                        int(again.sum()),
                        sheet,
                    )
        cells.append(c)
        seen = pd.concat(cells).groupby("site_id")[["lon", "lat"]].first()
    out = site_per_operator(pd.concat(cells, ignore_index=True), first.report.path, warnings)
    raw_lon = np.concatenate([p.raw_lon for p in parts if p.raw_lon is not None])
    raw_lat = np.concatenate([p.raw_lat for p in parts if p.raw_lat is not None])
    return SitesResult(out, report, warnings, raw_lon, raw_lat, first.declared)


def _distance_m(lon1, lat1, lon2, lat2) -> pd.Series:
    """Approximate distance (m) between positions a few km apart at most (equirectangular)."""
    kx = 111_320.0 * np.cos(np.radians((lat1 + lat2) / 2.0))
    return np.hypot((lon1 - lon2) * kx, (lat1 - lat2) * 110_540.0)


#: A list's footer: ``合计``, ``总计：312``, ``小计(12个)`` — a total word alone, with a count at most.
_TOTAL_CELL = re.compile(
    r"\s*(合\s*计|总\s*计|小\s*计|汇\s*总|共\s*计|total|sum)\s*[:：]?[\s\d,，.()（）个座站小区基]*",
    re.IGNORECASE,
)


def _skip_total_rows(w: SiteWork) -> None:
    """A footer row (``合计`` in the id or name column, no position) is the list's total, not a
    site: skipped (``total_row``) rather than rejected for its missing coordinates."""
    cols, table = w.cols, w.table
    if table.geometry is not None or not (cols.has("lon") and cols.has("lat")):
        return
    no_position = is_missing(cols.raw["lon"]) & is_missing(cols.raw["lat"])
    if not no_position.any():
        return
    for key in ("site_id", "name", "cell_id"):
        if not cols.has(key):
            continue
        text = as_text(cols.raw[key])
        total = no_position & text.map(lambda v: bool(_TOTAL_CELL.fullmatch(v))).to_numpy(bool)
        w.tracker.skip(
            total & w.tracker.alive,
            "total_row",
            cols.header[key],
            text,
            lambda v: v.map(repr) + ": a total row of the list, not a site",
        )


def _read_sheet(
    scn: Scenario,
    region: Region,
    rejects: Rejects,
    hashes: dict[str, str],
    sheet: str,
    label: str,
) -> SitesResult:
    """One sheet (or the file's one table) of ``[sites] path``; ``label`` names it in the
    rejected and skipped rows ("" = the file's path)."""
    table, cols, split = _read(scn, sheet)
    hashes[str(table.path)] = sha256_file(table.path)
    report = InputReport(input="sites", path=str(table.path))
    groups, labels = _row_groups(table, cols)
    tracker = Tracker(
        label or str(table.path), table.rows, rejects, report, groups=groups, labels=labels
    )
    w = SiteWork(scn, table, cols, tracker, report)
    w.warnings.extend(table.notes)
    if split:
        tracker.fix(np.bincount(groups)[groups] > 1, "sectors_split")
        w.warnings.append(split[1])
        log.info(split[1])
    _skip_total_rows(w)
    declared = parse_crs(scn.sites.crs, what="[sites] crs")
    lon, lat, raw_lon, raw_lat = coordinates(w, region, declared)
    band = band_hints(w)
    tech = _technology(w, band)
    fit_band_to_tech(w, band, tech)
    freq, freq_source = frequency_stage(w, tech, band)
    bw, scs, n_rb = carrier_stage(w, tech, freq, band)
    antenna = antenna_stage(w)
    eirp = eirp_stage(w, n_rb)
    year = _commissioning(w)
    operator = _operators(w)
    site_id, cell_id, no_site, no_cell = assign_ids(
        ids_per_operator(
            cols.raw.get("site_id"), operator, w.tracker.alive, table.path, w.warnings
        ),
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
        "operator": operator,
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


def _read(scn: Scenario, sheet: str) -> tuple[Table, SiteColumns, tuple[int, str] | None]:
    """The file (sheet) as a table, its columns by canonical name, and (rows split, message) if
    any."""
    sec = scn.sites
    table = read_table(
        sec.path,
        what="sites",
        section="sites",
        aliases=SITE_ALIASES,
        sheet=sheet,
        layer=sec.layer,
        encoding=sec.encoding,
        headerless=OPENCELLID_COLUMNS,
        headerless_test=looks_like_opencellid,
    )
    if is_opencellid(table.df.columns, table.has_header):
        log.info("%s: OpenCelliD layout", table.path)
        return table, opencellid_columns(table.df), None
    cmap = match_table(table, SITE_ALIASES, sec.columns, where="[sites.columns]", what="sites")
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


def _operators(w: SiteWork) -> np.ndarray:
    """Operator per row: the operator column, normalised; ``[sites] operator`` for rows that name
    none (or every row, without the column), counted as a default."""
    cols, n = w.cols, w.n
    ops = (
        map_unique(as_text(cols.raw["operator"]), normalise_operator).to_numpy(dtype=object)
        if cols.has("operator")
        else np.full(n, "", dtype=object)
    )
    if w.scn.sites.operator:
        fill = ops == ""
        ops = np.where(fill, normalise_operator(w.scn.sites.operator), ops).astype(object)
        w.defaults["operator"] = fill
    return ops


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

# ------------------------------------------------------------------------------------------------
# 2. technology
# ------------------------------------------------------------------------------------------------


def _technology(w: SiteWork, band: Band) -> np.ndarray:
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
    return tech


# ------------------------------------------------------------------------------------------------
# 4. commissioning
# ------------------------------------------------------------------------------------------------


def _commissioning(w: SiteWork) -> np.ndarray:
    """Commissioning year per row (NaN = not given)."""
    cols = w.cols
    if not cols.has("commissioned"):
        return np.full(w.n, np.nan)
    hc = cols.header["commissioned"]
    raw = cols.raw["commissioned"]
    year, ybad = parse_years(raw)
    planned = planned_dates(raw, ybad)
    soon = w.tracker.skip(
        planned,
        "not_yet_commissioned",
        hc,
        raw,
        lambda v: (
            "commissioning date " + v.map(repr) + " says the site is not on air yet (planned or "
            "being built): the row belongs to a later year"
        ),
    )
    if soon.size:
        rows = np.unique(w.table.rows[soon])
        words = ", ".join(repr(v) for v in pd.unique(as_text(raw.iloc[soon]))[:3])
        w.warnings.append(
            f"{w.table.path}: {rows.size} row(s) whose commissioning date says the site is not on "
            f"air yet ({words}; {rows_text(rows)}) skipped (not_yet_commissioned)"
        )
    w.tracker.reject(
        ybad & ~planned,
        hc,
        raw,
        "bad_date",
        lambda v: (
            "commissioning date "
            + v.map(lambda x: repr(date_text(x)))
            + " is not a date or year (e.g. 2021-06-30, 2021)"
        ),
    )
    scn_year = w.scn.year
    late = w.tracker.skip(
        np.isfinite(year) & (year > scn_year),
        "not_yet_commissioned",
        hc,
        raw,
        lambda v: (
            "commissioned "
            + v.map(date_text)
            + f", after the scenario year {scn_year}: the row belongs to a later year"
        ),
    )
    if late.size:
        rows = np.unique(w.table.rows[late])
        w.warnings.append(
            f"{w.table.path}: {rows.size} row(s) commissioned after the scenario year {scn_year} "
            f"({rows_text(rows)}) skipped: they belong to a later year (not_yet_commissioned)"
        )
    return year
