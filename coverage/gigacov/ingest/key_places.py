"""Key places (重点场所): hospitals, universities, tourist areas, stations, airports, roads.

GeoJSON / GeoPackage / Shapefile layers with points, lines (roads) or polygons, or tables (CSV /
XLSX) with lon/lat columns or a WKT geometry column. Categories are normalised to
:data:`~gigacov.ingest.model.KEY_PLACE_CATEGORIES` from English or Chinese words (医院 / 三甲医院 →
hospital, 高校 / 大学 → university, 景区 / 旅游 → tourism, 火车站 / 高铁站 → railway, 机场 →
airport, 道路 / 高速 / 公路 → road, 政府 → government); anything else becomes ``other`` and is
counted as a default. ``admin_code`` is the county containing the place's representative point
(for a road that point lies on the road); a place that does not touch the region's counties is
rejected ``outside_region``.
"""

from __future__ import annotations

import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import WGS84, geoseries_to_wgs84, parse_crs
from ..errors import InputError
from ..scenario import Scenario
from ._common import Rejects, Tracker, as_text, is_missing, log, parse_numbers
from .geo import Region, effective_crs, points_to_wgs84
from .model import KEY_PLACE_CATEGORIES, KEY_PLACE_COLUMNS, InputReport
from .tables import match_columns, read_table

__all__ = ["KEY_PLACE_ALIASES", "normalise_category", "read_key_places"]

KEY_PLACE_ALIASES: dict[str, list[str]] = {
    "place_id": ["id", "编号", "场所编号", "场所id", "poi_id", "poiid", "fid"],
    "name": ["名称", "场所名称", "name_zh", "名字", "地名", "标题", "title"],
    "category": [
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
    "lon": ["lng", "long", "longitude", "x", "经度"],
    "lat": ["latitude", "y", "纬度"],
    "wkt": ["geometry", "geom", "the_geom", "shape", "几何", "wkt_geometry"],
    "approximate": ["approx", "is_approximate", "位置近似", "近似", "近似位置"],
}

# Order matters: more specific words first (高铁站 before 站, 道路 words after stations).
_CATEGORY_WORDS: list[tuple[tuple[str, ...], str]] = [
    (("hospital", "医院", "三甲", "卫生院", "medical", "clinic"), "hospital"),
    (("university", "college", "高校", "大学", "学院", "campus"), "university"),
    (("airport", "机场", "航站楼"), "airport"),
    (
        (
            "railway",
            "rail",
            "train",
            "station",
            "火车站",
            "高铁站",
            "动车站",
            "铁路",
            "高铁",
            "客运站",
        ),
        "railway",
    ),
    (
        ("tourism", "tourist", "scenic", "attraction", "景区", "旅游", "风景", "名胜", "文旅"),
        "tourism",
    ),
    (
        (
            "road",
            "highway",
            "motorway",
            "expressway",
            "street",
            "道路",
            "高速",
            "公路",
            "国道",
            "省道",
            "大道",
            "车联网",
        ),
        "road",
    ),
    (("government", "政府", "机关", "行政中心"), "government"),
]
_TRUE = {"1", "true", "yes", "y", "t", "是", "近似", "approximate", "approx"}


def normalise_category(value) -> str:
    """``"三甲医院"`` → ``"hospital"``, ``"高速公路"`` → ``"road"``; unknown → ``""``."""
    t = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if not t:
        return ""
    if t in KEY_PLACE_CATEGORIES:
        return t
    for words, cat in _CATEGORY_WORDS:
        if any(w in t for w in words):
            return cat
    return ""


def read_key_places(
    scn: Scenario, region: Region, rejects: Rejects, hashes: dict[str, str]
) -> tuple[gpd.GeoDataFrame, InputReport, list[str], np.ndarray, np.ndarray]:
    """Read ``[key_places] path``; returns the places, the report, warnings and raw point coords."""
    from ..pipeline import sha256_file

    sec = scn.key_places
    table = read_table(
        sec.path,
        what="key places",
        aliases=KEY_PLACE_ALIASES,
        sheet=sec.sheet,
        layer=sec.layer,
        encoding=sec.encoding,
    )
    hashes[str(table.path)] = sha256_file(table.path)
    warnings: list[str] = []
    df = table.df
    n = len(df)
    cmap = match_columns(df.columns, KEY_PLACE_ALIASES, sec.columns, where="[key_places]")
    report = InputReport(input="key_places", path=str(table.path))
    tracker = Tracker(str(table.path), table.rows, rejects, report)
    declared = parse_crs(sec.crs, what="[key_places] crs")
    raw_x = raw_y = np.empty(0)
    if table.geometry is not None:
        first, shift = effective_crs(declared, table.crs, table.path, warnings)
        geoms = geoseries_to_wgs84(table.geometry, first)
        if shift is not None:
            geoms = geoseries_to_wgs84(geoms, shift)
        arr = np.asarray(geoms.values, dtype=object)
        raw = np.asarray(table.geometry.values, dtype=object)
        pts = ~shapely.is_missing(raw) & (shapely.get_type_id(raw) == 0)
        if first.kind == "wgs84":
            raw_x, raw_y = shapely.get_x(raw[pts]), shapely.get_y(raw[pts])
    elif "wkt" in cmap:
        text = as_text(df[cmap.header("wkt")])
        miss = (text == "").to_numpy()
        parsed = shapely.from_wkt(
            np.where(miss, None, text.to_numpy(dtype=object)), on_invalid="ignore"
        )
        bad = ~miss & shapely.is_missing(parsed)
        tracker.reject(
            bad,
            cmap.header("wkt"),
            text.str[:60],
            "bad_geometry",
            lambda v: "geometry " + v.map(repr) + " is not valid WKT",
        )
        first, shift = (
            (declared, None) if not declared.needs_datum_shift else (parse_crs("wgs84"), declared)
        )
        gs = gpd.GeoSeries(parsed)
        arr = np.asarray(geoseries_to_wgs84(gs, first).values, dtype=object)
        if shift is not None:
            arr = np.asarray(geoseries_to_wgs84(gpd.GeoSeries(arr), shift).values, dtype=object)
    elif "lon" in cmap and "lat" in cmap:
        plon = parse_numbers(df[cmap.header("lon")])
        plat = parse_numbers(df[cmap.header("lat")])
        for p, key in ((plon, "lon"), (plat, "lat")):
            h = cmap.header(key)
            tracker.reject(
                p.missing,
                h,
                None,
                "missing_value",
                f"no {'longitude' if key == 'lon' else 'latitude'}",
            )
            tracker.reject(
                p.bad,
                h,
                df[h],
                "not_a_number",
                lambda v: "coordinate " + v.map(repr) + " is not a number",
            )
        ok = np.isfinite(plon.values) & np.isfinite(plat.values)
        lon = np.full(n, np.nan)
        lat = np.full(n, np.nan)
        lon[ok], lat[ok] = points_to_wgs84(
            plon.values[ok],
            plat.values[ok],
            *(
                (declared, None)
                if not declared.needs_datum_shift
                else (parse_crs("wgs84"), declared)
            ),
        )
        raw_x, raw_y = plon.values[ok], plat.values[ok]
        arr = np.array([None] * n, dtype=object)
        arr[ok] = shapely.points(lon[ok], lat[ok])
    else:
        raise InputError(
            f"{table.path}: the key places file has neither a geometry, a WKT column nor lon/lat "
            f"columns; columns found: {', '.join(map(repr, df.columns))}; accepted: geometry / WKT "
            f"({', '.join(KEY_PLACE_ALIASES['wkt'])}) or lon ({', '.join(KEY_PLACE_ALIASES['lon'])}) "
            f"and lat ({', '.join(KEY_PLACE_ALIASES['lat'])})"
        )
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
            f"{', '.join(map(repr, df.columns))}; accepted: name, {', '.join(KEY_PLACE_ALIASES['name'])}"
        )
    # region
    alive = tracker.alive
    touches = np.zeros(n, dtype=bool)
    if alive.any():
        idx = np.flatnonzero(alive)
        touches[idx] = shapely.intersects(region.union, arr[idx])
    wkt_short = pd.Series(
        shapely.to_wkt(np.where(alive, arr, None), rounding_precision=5, trim=True)
    ).str[:60]
    tracker.reject(
        alive & ~touches,
        "geometry",
        wkt_short,
        "outside_region",
        lambda v: "the place " + v.map(repr) + " does not touch the region's counties",
    )
    # ids
    if "place_id" in cmap:
        pid = as_text(df[cmap.header("place_id")]).to_numpy(dtype=object)
    else:
        pid = np.full(n, "", dtype=object)
    no_id = pid == ""
    pid[no_id] = np.char.add("kp-", table.rows[no_id].astype(str)).astype(object)
    sub = pd.Series(np.where(tracker.alive, pid, None))
    dup = sub.duplicated(keep="first").to_numpy() & tracker.alive
    tracker.reject(
        dup,
        cmap.header("place_id") if "place_id" in cmap else "place_id",
        pid,
        "duplicate_id",
        lambda v: "place id " + v.map(repr) + " given twice (the first row is kept)",
    )
    # category
    if "category" in cmap:
        raw_cat = df[cmap.header("category")]
        cat = (
            pd.Series(as_text(raw_cat)).map(lambda c: normalise_category(c)).to_numpy(dtype=object)
        )
    else:
        cat = np.full(n, "", dtype=object)
    unknown = cat == ""
    cat[unknown] = "other"
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
    log.info("key places: %d read, %d used", report.read, report.used)
    return out, report, warnings, np.asarray(raw_x, dtype=float), np.asarray(raw_y, dtype=float)
