"""Key places (重点场所): hospitals, universities, tourist areas, stations, airports, roads.

``[key_places] path`` is one file or a list of files. Each is a GeoJSON / GeoPackage / Shapefile
layer with points, lines (roads) or polygons, or a table (CSV / XLSX) whose rows carry either a
WKT geometry or lon/lat columns (or one ``location`` column ``"lon,lat"``, as Amap exports write
it); a table may mix both kinds of row. Categories are normalised to
:data:`~gigacov.ingest.model.KEY_PLACE_CATEGORIES` from English or Chinese words (医院 →
hospital, 高校 / 大学 / 高等院校 → university, 景区 / 旅游 → tourism, 火车站 / 高铁站 → railway,
机场 → airport, 道路 / 高速 / 公路 → road, 政府 → government); an Amap category path
(``科教文化服务;学校;高等院校``) is read from its most specific part. Anything else becomes
``other`` and is counted as a default. No grade is read or claimed (a 综合医院 is a hospital,
whatever its grade). ``admin_code`` is the county containing the place's representative point
(for a road that point lies on the road); a place that does not touch the region's counties is
*skipped* ``outside_region`` (listed with its name and position in ``skipped_rows.csv``).

Place ids must be unique within a file (a repeated id is rejected ``duplicate_id``); an id an
earlier file already used is kept with the prefix ``kp<n>-`` (two lists both numbered 1…n are
both read). The same place in two files (the same name after NFKC, within 200 m) is counted
once: the later row is skipped ``duplicate_place``, naming the first file and row. A point row
whose lon/lat are exchanged (in lon/lat columns or a ``经纬度`` location column) is swapped back
when only the swapped position lies in the region (*fixed* ``lat_lon_swapped``, with a warning).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import WGS84, geoseries_to_wgs84, parse_crs
from ..errors import InputError
from ..scenario import Scenario
from ._common import Rejects, Tracker, as_text, is_missing, log, rows_text
from .geo import Region, check_degrees, effective_crs
from .model import KEY_PLACE_CATEGORIES, KEY_PLACE_COLUMNS, InputReport
from .place_categories import category_text as _category_text
from .place_categories import normalise_category
from .source import open_source
from .tables import mapping_hint, sheets_to_read
from .units import parse_coordinates
from .vocab import map_unique

__all__ = ["KEY_PLACE_ALIASES", "normalise_category", "read_key_places", "key_place_files"]

KEY_PLACE_ALIASES: dict[str, list[str]] = {
    "place_id": ["id", "编号", "场所编号", "场所id", "poi_id", "poiid", "fid"],
    "name": ["名称", "场所名称", "name_zh", "名字", "地名", "标题", "title"],
    "category": [
        "typecode_name",
        "类别",
        "类型",
        "场所类型",
        "场所类别",
        "分类",
        "type",
        "class",
        "kind",
        "fclass",
        "poi_type",
    ],
    "lon": ["lng", "long", "longitude", "x", "经度", "lon_wgs84", "lon_gcj02", "东经"],
    "lat": ["latitude", "y", "纬度", "lat_wgs84", "lat_gcj02", "北纬"],
    "location": ["lonlat", "lnglat", "经纬度", "坐标", "位置坐标"],
    "wkt": ["geometry", "geom", "the_geom", "shape", "几何", "wkt_geometry"],
    "approximate": ["approx", "is_approximate", "位置近似", "近似", "近似位置"],
}

_TRUE = {"1", "true", "yes", "y", "t", "是", "近似", "approximate", "approx"}


def key_place_files(section) -> list[str]:
    """Every key-places file: ``[key_places] path`` (one or a list), then ``files``."""
    return [f.path for f in section.sources()]


def read_key_places(
    scn: Scenario, region: Region, rejects: Rejects, hashes: dict[str, str]
) -> tuple[gpd.GeoDataFrame, list[InputReport], list[str], np.ndarray, np.ndarray]:
    """Read every file of ``[key_places] path``.

    Returns the places of all files, one report per file, warnings, and the raw point
    coordinates of the files read as WGS84 (for the datum check)."""
    parts, reports, warnings, xs, ys = [], [], [], [], []
    seen_ids: set[str] = set()  # place ids of the earlier files (an id repeated is renamed)
    seen_places: dict[str, list[tuple[object, str]]] = {}  # NFKC name → (geometry, "file row N")
    index = 0
    for source, label, optional in _sheets(scn.key_places.sources()):
        try:
            out, rep, w, x, y = _read_one(
                source, index, region, rejects, hashes, seen_ids, seen_places, label
            )
        except InputError as exc:
            if not optional:
                raise
            # a sheet found by its headers that still lacks a needed column (a summary table)
            msg = f"{label}: sheet not read: {exc}"
            log.warning("%s", msg)
            warnings.append(msg)
            continue
        index += 1
        parts.append(out)
        reports.append(rep)
        warnings.extend(w)
        xs.append(x)
        ys.append(y)
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=WGS84)
    return out, reports, warnings, np.concatenate(xs), np.concatenate(ys)


def _sheets(sources):
    """Each key-places source once per sheet to read (``sheet = ["医院", "学校"]``, or every
    sheet with a header row of key-place columns), with its label in the row lists."""
    for source in sources:
        sheets, note = sheets_to_read(
            source.path,
            source.sheet,
            what="key places",
            aliases=KEY_PLACE_ALIASES,
            section="key_places",
        )
        for i, sh in enumerate(sheets):
            label = f"{source.path}[{sh}]" if len(sheets) > 1 else ""
            # sheets found by their headers (no sheet named) after the first may be skipped
            yield dataclasses.replace(source, sheet=sh), label, bool(note) and i > 0


#: Headers of Amap (高德) POI exports: the category levels, the type code, the packed location.
_AMAP_HEADERS = {"大类", "中类", "小类", "typecode", "location", "pname", "adname", "business_area"}


def _refuse_undeclared_amap(df: pd.DataFrame, path, declared: bool, warnings: list[str]) -> None:
    """A file that looks like an Amap export (its headers, or category paths such as
    ``科教文化服务;学校;高等院校``) read as WGS 84: Amap's coordinates are GCJ-02 (a few hundred
    metres off, enough to put a hospital in the next county). Not declared: stop and ask; declared
    ``wgs84``: the user says the file was converted, so go on with a warning."""
    heads = {str(c).strip().lower() for c in df.columns}
    signs = sorted(h for h in heads if h in _AMAP_HEADERS)
    if not signs:
        for c in df.columns:
            text = df[c].astype(str)
            if text.str.fullmatch(r"[^;；\d]{2,12}(;[^;；\d]{2,12}){2}").mean() > 0.5:
                signs = [f"category paths such as {text.iloc[0]!r} in {c!r}"]
                break
    if not signs:
        return
    what = f"{path} looks like an Amap (高德) export ({', '.join(signs)})"
    if declared:
        warnings.append(
            f"{what} and is declared WGS 84: Amap's own coordinates are GCJ-02; if the file was "
            'not converted, set crs = "gcj02"'
        )
        return
    raise InputError(
        f"{what}, and its datum is not declared. Amap's coordinates are GCJ-02 whatever the file "
        "says; read as WGS 84 they are a few hundred metres off, enough to put a place in the "
        'next county. Declare it: [key_places] crs = "gcj02" (or, for this file only, '
        '[[key_places.files]] path = "…" crs = "gcj02"); crs = "wgs84" if it was converted'
    )


def _read_one(sec, index: int, region, rejects, hashes, seen_ids, seen_places, label=""):
    """One file or sheet (``sec``: its path and the settings that apply to it)."""
    src = open_source(
        sec.path,
        sec,
        input_name="key_places",
        what="key places",
        aliases=KEY_PLACE_ALIASES,
        rejects=rejects,
        hashes=hashes,
        label=label,
    )
    table, df, n, cmap = src.table, src.df, src.n, src.cmap
    report, tracker, warnings = src.report, src.tracker, src.warnings
    declared = parse_crs(sec.crs or "wgs84", what=f"[key_places] crs of {sec.path}")
    if table.geometry is None and declared.kind == "wgs84":
        _refuse_undeclared_amap(df, table.path, bool(sec.crs), warnings)
    key = "[key_places] crs"
    raw_x = raw_y = np.empty(0)
    has_lonlat = ("lon" in cmap and "lat" in cmap) or "location" in cmap
    if table.geometry is not None:
        first, shift = effective_crs(declared, table.crs, table.path, warnings)
        raw = np.asarray(table.geometry.values, dtype=object)
        _check_degrees(raw, first, table.path, key, tracker, table.crs is not None)
        geoms = geoseries_to_wgs84(gpd.GeoSeries(raw, crs=table.geometry.crs), first)
        if shift is not None:
            geoms = geoseries_to_wgs84(geoms, shift)
        arr = np.asarray(geoms.values, dtype=object)
        pts = ~shapely.is_missing(raw) & (shapely.get_type_id(raw) == 0) & tracker.alive
        if first.kind == "wgs84":
            raw_x, raw_y = shapely.get_x(raw[pts]), shapely.get_y(raw[pts])
    elif "wkt" in cmap or has_lonlat:
        first, shift = (
            (declared, None) if not declared.needs_datum_shift else (parse_crs("wgs84"), declared)
        )
        raw = np.full(n, None, dtype=object)
        wkt_rows = np.zeros(n, dtype=bool)
        if "wkt" in cmap:
            text = as_text(df[cmap.header("wkt")])
            wkt_rows = (text != "").to_numpy()
            parsed = shapely.from_wkt(
                np.where(wkt_rows, text.to_numpy(dtype=object), None), on_invalid="ignore"
            )
            bad = wkt_rows & shapely.is_missing(parsed)
            tracker.reject(
                bad,
                cmap.header("wkt"),
                text.str[:60],
                "bad_geometry",
                lambda v: "geometry " + v.map(repr) + " is not valid WKT",
            )
            raw[wkt_rows] = parsed[wkt_rows]
        pt_rows = ~wkt_rows
        if has_lonlat and pt_rows.any():
            x, y = _lonlat(df, cmap, tracker, pt_rows)
            ok = pt_rows & np.isfinite(x) & np.isfinite(y)
            _swap_exchanged(x, y, ok, (first, shift), region, table, cmap, tracker, warnings)
            raw[ok] = shapely.points(x[ok], y[ok])
            if first.kind == "wgs84":
                raw_x, raw_y = x[ok], y[ok]
        elif pt_rows.any():
            tracker.reject(
                pt_rows,
                cmap.header("wkt"),
                None,
                "missing_value",
                "no geometry (the WKT cell is empty and the file has no lon/lat columns)",
            )
        _check_degrees(raw, first, table.path, key, tracker, False)
        arr = np.asarray(geoseries_to_wgs84(gpd.GeoSeries(raw), first).values, dtype=object)
        if shift is not None:
            arr = np.asarray(geoseries_to_wgs84(gpd.GeoSeries(arr), shift).values, dtype=object)
    else:
        raise InputError(
            f"{table.path}: the key places file has neither a geometry, a WKT column nor lon/lat "
            f"columns; columns found: {', '.join(map(repr, df.columns))}; accepted: geometry / WKT "
            f"({', '.join(KEY_PLACE_ALIASES['wkt'])}), lon "
            f"({', '.join(KEY_PLACE_ALIASES['lon'])}) and lat "
            f"({', '.join(KEY_PLACE_ALIASES['lat'])}), or location "
            f'({", ".join(KEY_PLACE_ALIASES["location"])}: "lon,lat"); or map them: '
            + mapping_hint("key_places.columns", "lon")
        )
    arr = np.where(tracker.alive, arr, None)
    # geometry checks
    null = shapely.is_missing(arr)
    empty = ~null & shapely.is_empty(np.where(null, shapely.Point(), arr))
    tracker.reject(
        null | empty, "geometry", None, "bad_geometry", "the geometry is missing or empty"
    )
    cand = tracker.alive.copy()
    invalid = np.zeros(n, dtype=bool)
    invalid[cand] = ~shapely.is_valid(arr[cand])
    if invalid.any():
        arr[invalid] = shapely.make_valid(arr[invalid])
        report.fixed["invalid_geometry"] = int(invalid.sum())
        warnings.append(
            f"{table.path}: {int(invalid.sum())} invalid key-place geometr"
            f"{'y' if invalid.sum() == 1 else 'ies'} repaired with shapely.make_valid"
        )
    # name
    if "name" in cmap:
        name = as_text(df[cmap.header("name")]).to_numpy(dtype=object)
        tracker.reject(name == "", cmap.header("name"), None, "missing_value", "no name")
    else:
        raise InputError(
            f"{table.path}: the key places file has no name column; columns found: "
            f"{', '.join(map(repr, df.columns))}; accepted: name, "
            f"{', '.join(KEY_PLACE_ALIASES['name'])}; or map it: "
            + mapping_hint("key_places.columns", "name")
        )
    # region
    alive = tracker.alive
    touches = np.zeros(n, dtype=bool)
    if alive.any():
        idx = np.flatnonzero(alive)
        touches[idx] = shapely.intersects(region.union, arr[idx])
    # a place outside the region is a valid row of another region: skipped, named, with where
    # it lies as written in the file and in WGS84 (the first point of a line or polygon)
    away = alive & ~touches
    written = np.full(n, "", dtype=object)
    wgs = np.full(n, "", dtype=object)
    for i in np.flatnonzero(away):
        x, y = shapely.get_coordinates(arr[i])[0]
        wgs[i] = f"{x:.5f}, {y:.5f}"
        r = raw[i] if raw[i] is not None and not shapely.is_empty(raw[i]) else arr[i]
        rx, ry = shapely.get_coordinates(r)[0]
        written[i] = f"{rx:.6g}, {ry:.6g}"
    tracker.skip(
        away,
        "outside_region",
        "geometry",
        written,
        lambda v: pd.Series(
            [
                f"{name[i]!r} at {v_} as written ({wgs[i]} WGS84 lon, lat) does not touch the "
                "region's counties"
                for i, v_ in zip(np.flatnonzero(away), v, strict=True)
            ],
            dtype=object,
        ),
    )
    # ids: unique within a file; an id an earlier file already used is kept, prefixed by the
    # file's number (two lists both numbered 1…n are both read)
    if "place_id" in cmap:
        pid = as_text(df[cmap.header("place_id")]).to_numpy(dtype=object)
    else:
        pid = np.full(n, "", dtype=object)
    no_id = pid == ""
    prefix = "kp-" if index == 0 else f"kp{index + 1}-"
    pid[no_id] = np.char.add(prefix, table.rows[no_id].astype(str)).astype(object)
    sub = pd.Series(np.where(tracker.alive, pid, None))
    dup = sub.duplicated(keep="first").to_numpy() & tracker.alive
    if dup.any():
        firsts: dict[str, int] = {}
        for p, r in zip(pid[tracker.alive], table.rows[tracker.alive], strict=True):
            firsts.setdefault(p, int(r))
        first_row = np.array([firsts.get(p, 0) for p in pid], dtype=object)
        tracker.reject(
            dup,
            cmap.header("place_id") if "place_id" in cmap else "place_id",
            pid,
            "duplicate_id",
            lambda v: (
                "place id "
                + v.map(repr)
                + " already given in row "
                + pd.Series(first_row[dup & tracker.alive]).astype(str).to_numpy(dtype=object)
                + " of this file"
            ),
        )
    _skip_places_seen(arr, name, table, tracker, seen_places)
    taken = tracker.alive & np.isin(pid, list(seen_ids)) & ~no_id
    if taken.any():
        pid[taken] = np.char.add(f"kp{index + 1}-", pid[taken].astype(str)).astype(object)
        log.info(
            "key places: %s: %d place id(s) already used by an earlier file, prefixed 'kp%d-'",
            table.path,
            int(taken.sum()),
            index + 1,
        )
    seen_ids.update(pid[tracker.alive].tolist())
    # category
    cat_text, cat_from = _category_text(df, cmap)
    cat = map_unique(cat_text, normalise_category).to_numpy(dtype=object)
    unknown = cat == ""
    cat[unknown] = "other"
    n_unknown = int((unknown & tracker.alive).sum())
    if n_unknown and cat_from:
        words = pd.Series(cat_text.to_numpy(dtype=object)[unknown & tracker.alive])
        ex = ", ".join(repr(w) for w in words[words != ""].value_counts().index[:5])
        warnings.append(
            f"{table.path}: {n_unknown} place(s) have a category ({cat_from}) that names none of "
            f"{', '.join(KEY_PLACE_CATEGORIES[:-1])}{f' (e.g. {ex})' if ex else ''}; they count "
            "as 'other'"
        )
    elif n_unknown:
        warnings.append(
            f"{table.path}: no category column, so all {n_unknown} place(s) count as 'other'; "
            "name it with " + mapping_hint("key_places.columns", "category")
        )
    approx = np.zeros(n, dtype=bool)
    if "approximate" in cmap:
        a = df[cmap.header("approximate")]
        if a.dtype.kind == "b":
            approx = a.fillna(False).to_numpy(dtype=bool)
        else:
            approx = (~is_missing(a)) & as_text(a).str.lower().isin(_TRUE).to_numpy()
    tracker.finish()
    tracker.count_default("category", unknown)
    report.warnings.extend(warnings)
    keep = tracker.alive
    geoms_keep = arr[keep]
    out = gpd.GeoDataFrame(
        {
            "place_id": pid[keep].astype(str),
            "name": name[keep].astype(str),
            "category": cat[keep].astype(str),
            "admin_code": region.county_of_geometry(geoms_keep).astype(str)
            if keep.any()
            else np.array([], dtype=str),
            "approximate": approx[keep],
            "source_row": table.rows[keep],
        },
        geometry=gpd.GeoSeries(geoms_keep, crs=WGS84),
        crs=WGS84,
    )
    out = out[list(KEY_PLACE_COLUMNS) + ["source_row", "geometry"]].reset_index(drop=True)
    log.info("key places: %s: %d read, %d used", table.path, report.read, report.used)
    return out, report, warnings, np.asarray(raw_x, dtype=float), np.asarray(raw_y, dtype=float)


def _lonlat(df, cmap, tracker: Tracker, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of the ``rows`` from lon/lat columns or a ``"lon,lat"`` location column."""
    n = len(df)
    if "lon" in cmap and "lat" in cmap:
        cols = [
            (cmap.header("lon"), df[cmap.header("lon")], "longitude"),
            (cmap.header("lat"), df[cmap.header("lat")], "latitude"),
        ]
    else:
        h = cmap.header("location")
        text = as_text(df[h]).str.replace("，", ",").str.strip()
        # "lon,lat"; without a comma, "lon lat" (one space or more between two numbers)
        text = text.where(text.str.contains(","), text.str.replace(r"\s+", ",", n=1, regex=True))
        pair = text.str.split(",", n=1, expand=True)
        if pair.shape[1] < 2:
            pair[1] = ""
        cols = [(h, pair[0].fillna(""), "longitude"), (h, pair[1].fillna(""), "latitude")]
    out = []
    for h, raw, what in cols:
        p = parse_coordinates(raw.reset_index(drop=True))
        tracker.reject(rows & p.missing, h, None, "missing_value", f"no {what}")
        tracker.reject(
            rows & p.bad,
            h,
            raw,
            "not_a_number",
            lambda v, w=what: f"{w} " + v.map(repr) + " is not a number",
        )
        vals = np.full(n, np.nan)
        vals[rows] = p.values[rows]
        out.append(vals)
    return out[0], out[1]


def _check_degrees(raw: np.ndarray, spec, path, key: str, tracker: Tracker, file_crs: bool) -> None:
    """A projected file read as degrees stops the run; a few impossible rows are rejected."""
    present = ~shapely.is_missing(raw)
    present[present] = ~shapely.is_empty(raw[present])
    b = np.full((raw.size, 4), np.nan)
    if present.any():
        b[present] = shapely.bounds(raw[present])
    bad = check_degrees(b[:, 0], b[:, 1], b[:, 2], b[:, 3], spec, path, key, file_crs=file_crs)
    if bad.any():
        vals = np.array([f"x {r[0]:.6g}, y {r[1]:.6g}" for r in b], dtype=object)
        tracker.reject(
            bad,
            "geometry",
            vals,
            "bad_geometry",
            lambda v: "coordinates " + v + f" cannot be degrees ({key} = {spec.text!r})",
        )


#: Two places of different files with the same name at most this far apart are one place.
SAME_PLACE_M = 200.0


def _metres(geom, lat0: float):
    """A WGS84 geometry in local metres (equirectangular about ``lat0``): enough for 200 m."""
    kx = 111_320.0 * np.cos(np.radians(lat0))
    return shapely.transform(geom, lambda c: c * np.array([kx, 110_540.0]))


def _place_name(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


def _skip_places_seen(arr, name, table, tracker: Tracker, seen_places) -> None:
    """Skip (``duplicate_place``) places an earlier file already gave (same name after NFKC,
    within :data:`SAME_PLACE_M`), naming the first file and row; then remember this file's."""
    alive = np.flatnonzero(tracker.alive)
    same = np.zeros(len(arr), dtype=bool)
    first = np.full(len(arr), "", dtype=object)
    for i in alive:
        for geom, where in seen_places.get(_place_name(name[i]), ()):
            lat0 = float(shapely.get_coordinates(arr[i])[0][1])
            if shapely.distance(_metres(arr[i], lat0), _metres(geom, lat0)) <= SAME_PLACE_M:
                same[i], first[i] = True, where
                break
    if same.any():
        tracker.skip(
            same,
            "duplicate_place",
            "name",
            name,
            lambda v: pd.Series(
                [
                    f"{v_!r} is already given in {first[i]} (same name, within "
                    f"{SAME_PLACE_M:g} m); counted once"
                    for i, v_ in zip(np.flatnonzero(same), v, strict=True)
                ],
                dtype=object,
            ),
        )
        log.info(
            "key places: %s: %d place(s) already given in an earlier file; skipped",
            table.path,
            int(same.sum()),
        )
    for i in np.flatnonzero(tracker.alive):
        seen_places.setdefault(_place_name(name[i]), []).append(
            (arr[i], f"{table.path} row {int(table.rows[i])}")
        )


def _swap_exchanged(x, y, ok, crs, region: Region, table, cmap, tracker, warnings) -> None:
    """Exchange back the lon/lat of point rows (in place) whose position lies in the region only
    when swapped, as for sites: counted under *fixed* (``lat_lon_swapped``), with a warning."""
    idx = np.flatnonzero(ok)
    if not idx.size:
        return
    as_is = region.contains(*_points_wgs84(x[idx], y[idx], crs))
    cand = idx[~as_is]
    if not cand.size:
        return
    swapped_in = region.contains(*_points_wgs84(y[cand], x[cand], crs))
    fix = cand[swapped_in]
    if not fix.size:
        return
    x[fix], y[fix] = y[fix].copy(), x[fix].copy()
    mask = np.zeros(len(x), dtype=bool)
    mask[fix] = True
    tracker.fix(mask, "lat_lon_swapped")
    cols = (
        f"{cmap.header('lon')!r} / {cmap.header('lat')!r}"
        if "lon" in cmap and "lat" in cmap
        else repr(cmap.header("location"))
    )
    rows = np.unique(table.rows[fix])
    warnings.append(
        f"{table.path}: {rows.size} place(s) had longitude and latitude exchanged in {cols} "
        f"({rows_text(rows)}); swapped back and used, since only the swapped position lies "
        "in the region"
    )


def _points_wgs84(x, y, crs) -> tuple[np.ndarray, np.ndarray]:
    """Points read in ``crs`` (first, datum shift or None) → WGS84 lon, lat (NaN where the
    conversion fails: coordinates that cannot be degrees)."""
    first, shift = crs
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    lon = np.full(x.shape, np.nan)
    lat = np.full(x.shape, np.nan)
    deg = (np.abs(x) <= 180) & (np.abs(y) <= 90)
    if first.kind != "wgs84" and not first.needs_datum_shift:
        deg = np.ones(x.shape, dtype=bool)  # projected: any number may be metres
    if not deg.any():
        return lon, lat
    g = geoseries_to_wgs84(gpd.GeoSeries(shapely.points(x[deg], y[deg])), first)
    if shift is not None:
        g = geoseries_to_wgs84(g, shift)
    pts = np.asarray(g.values, dtype=object)
    lon[deg] = shapely.get_x(pts)
    lat[deg] = shapely.get_y(pts)
    return lon, lat
