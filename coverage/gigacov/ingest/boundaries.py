"""Administrative boundaries: counties (with their cities and province) and villages.

The counties file may hold every level (the shipped ``data/boundaries/fujian.gpkg``) or only
counties; codes, names, levels and parents are found by alias (``adcode``, ``区划代码``, ``名称``,
``级别``, ``上级代码`` ...). Missing levels and parents are derived from the codes (a 6-digit
adcode ``PPCCXX``: province ``PP0000``, city ``PPCC00``); missing city or province rows are
dissolved from their counties, named from the shipped Fujian file when it knows the code and by
the code otherwise. Only the counties of ``[scenario] region`` and their parents are kept; the
other units are *skipped* (counted in the report, not rejected). Villages carry 12-digit
statistical codes whose first 6 digits must name a county of the file.

Invalid polygons are repaired with ``shapely.make_valid`` (keeping the polygonal part; reported
as a warning with the count); empty, missing or non-polygonal geometries are rejected
(``bad_geometry``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import WGS84, geoseries_to_wgs84, parse_crs
from ..errors import InputError
from ..rundir import sha256_file
from ..scenario import Scenario, default_boundaries_path
from ..shipped_boundaries import pinyin_name
from ._common import Parsed, Rejects, Tracker, as_text, log, parse_numbers
from .geo import Region, check_degrees, effective_crs
from .model import BOUNDARY_COLUMNS, InputReport
from .tables import match_table, missing_columns_error, read_table

__all__ = ["BOUNDARY_ALIASES", "read_boundaries", "region_prefix", "normalise_codes", "Boundaries"]

#: Canonical boundary columns and the headers accepted for them (first match wins). ``township``
#: and ``county_name`` are recognised so that a villages file's 乡镇名称 / 区县名称 are never
#: taken for the village's own name; a counties file without ``name`` uses ``county_name``.
BOUNDARY_ALIASES: dict[str, list[str]] = {
    "admin_code": [
        "adcode",
        "code",
        "区划代码",
        "行政区划代码",
        "统计用区划代码",
        "区划编码",
        "行政代码",
        "行政区代码",
        "村代码",
        "村级代码",
        "村编码",
        "行政村代码",
        "村居代码",
        "村委会代码",
        "社区代码",
        "村级行政区划代码",
        "区县代码",
        "县级代码",
        "县代码",
        "县区代码",
        "代码",
        "编码",
        "county_code",
        "village_code",
        "gb",
        "ad_code",
        "citycode_adcode",
        "xzqdm",
        "cjqydm",
    ],
    "name": [
        "名称",
        "区划名称",
        "行政区划名称",
        "行政区名称",
        "地名",
        "村名称",
        "村名",
        "行政村名称",
        "行政村",
        "村居名称",
        "村委会名称",
        "社区名称",
        "村庄名称",
        "name_zh",
        "name_cn",
        "中文名",
        "xzqmc",
        "cjqymc",
        "village_name",
    ],
    "name_en": ["english_name", "name_english", "英文名", "英文名称", "pinyin"],
    "level": ["级别", "层级", "行政级别", "等级", "adlevel", "admin_level", "type"],
    "parent_code": [
        "上级代码",
        "父级代码",
        "上级区划代码",
        "parent",
        "parent_adcode",
        "parentcode",
        "pcode",
    ],
    "population": ["人口", "常住人口", "户籍人口", "pop", "population_total"],
    "township": [
        "乡镇名称",
        "乡镇",
        "乡镇街道",
        "乡镇街道名称",
        "街道名称",
        "镇名称",
        "所属乡镇",
        "township_name",
        "town",
    ],
    "county_name": [
        "区县名称",
        "县区名称",
        "县名称",
        "县名",
        "区县",
        "县区",
        "县级名称",
        "所属区县",
        "county",
    ],
}

_LEVEL_WORDS = {
    "province": "province",
    "省": "province",
    "省级": "province",
    "prov": "province",
    "city": "city",
    "市": "city",
    "地级市": "city",
    "地级": "city",
    "prefecture": "city",
    "地区": "city",
    "自治州": "city",
    "盟": "city",
    "county": "county",
    "县": "county",
    "区": "county",
    "区县": "county",
    "县级": "county",
    "县级市": "county",
    "district": "county",
    "市辖区": "county",
    "旗": "county",
    "village": "village",
    "村": "village",
    "行政村": "village",
    "社区": "village",
    "居委会": "village",
    "村委会": "village",
}


@dataclass
class Boundaries:
    """What the boundary readers hand on: the table, the region, and bookkeeping."""

    units: gpd.GeoDataFrame
    region: Region
    prefix: str
    all_codes: set[str] = field(default_factory=set)
    """Every valid code of the boundary files, in the region or not."""
    reports: list[InputReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def region_prefix(region: str) -> str:
    """``"350500"`` → ``"3505"``, ``"350000"`` → ``"35"``, ``"350582"`` → ``"350582"``, ``""`` → ``""``."""
    r = str(region).strip()
    if len(r) == 12 and r.endswith("000000"):
        r = r[:6]
    while len(r) > 2 and len(r) % 2 == 0 and r.endswith("00"):
        r = r[:-2]
    return r


def normalise_codes(codes: pd.Series) -> pd.Series:
    """Admin codes as text; a 12-digit code ending in ``000000`` is its 6-digit county code."""
    text = as_text(codes).astype(str).str.replace(r"\s+", "", regex=True)
    text = text.str.replace(r"^(\d{6})000000$", r"\1", regex=True)
    return text.astype(object)


def level_from_code(codes: pd.Series) -> np.ndarray:
    c = codes.astype(str)
    lvl = np.where(c.str.len() == 12, "village", "county").astype(object)
    six = (c.str.len() == 6).to_numpy()
    lvl[six & c.str.endswith("0000").to_numpy()] = "province"
    lvl[six & ~c.str.endswith("0000").to_numpy() & c.str.endswith("00").to_numpy()] = "city"
    return lvl


def parent_from_code(codes: pd.Series, levels: np.ndarray) -> np.ndarray:
    c = codes.astype(str)
    out = np.full(len(c), "", dtype=object)
    county = levels == "county"
    city = levels == "city"
    village = levels == "village"
    out[county] = (c.str[:4] + "00").to_numpy()[county]
    out[city] = (c.str[:2] + "0000").to_numpy()[city]
    out[village] = c.str[:6].to_numpy()[village]
    return out


def _shipped_names() -> pd.DataFrame:
    path = default_boundaries_path()
    if not path.exists():  # pragma: no cover - the shipped file is part of the repository
        return pd.DataFrame(columns=["admin_code", "name", "name_en"])
    import pyogrio

    df = pyogrio.read_dataframe(
        path, read_geometry=False, columns=["admin_code", "name", "name_en"]
    )
    return pd.DataFrame(df)


def _pinyin(names: pd.Series, levels: pd.Series) -> pd.Series:
    """Pinyin names: ``gigacov.shipped_boundaries.pinyin_name`` for the few province/city/county names,
    a plain syllable join for villages (``"甲村"`` → ``"Jiacun"``), which may number thousands."""
    from pypinyin import Style, lazy_pinyin

    def village(name: str) -> str:
        word = ""
        for i, syl in enumerate(lazy_pinyin(name, style=Style.NORMAL, errors="ignore")):
            word += ("'" if i and syl[:1] in ("a", "o", "e") else "") + syl
        return word.capitalize()

    out = {}
    for name, level in set(zip(names.tolist(), levels.tolist(), strict=True)):
        if not name or not re.search(r"[\u4e00-\u9fff]", name):
            out[(name, level)] = name
        else:
            out[(name, level)] = village(name) if level == "village" else pinyin_name(name)
    return pd.Series(
        [out[(n, lv)] for n, lv in zip(names.tolist(), levels.tolist(), strict=True)],
        index=names.index,
        dtype=object,
    )


def _clean_geometries(
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


def _to_wgs84(table, declared_text: str, key: str, tracker: Tracker, warnings: list[str]):
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


def _read_units(
    path: str,
    *,
    crs_text: str,
    layer: str,
    what: str,
    crs_key: str,
    mapping: str,
    columns: dict[str, str],
    rejects: Rejects,
    warnings: list[str],
    pop_column: str,
    villages: bool,
):
    table = read_table(path, what=what, aliases=BOUNDARY_ALIASES, layer=layer)
    if table.geometry is None:
        raise InputError(
            f"{table.path}: the {what} file has no geometry; give a GeoPackage, GeoJSON or Shapefile "
            "with polygons"
        )
    aliases = dict(BOUNDARY_ALIASES)
    if pop_column:
        aliases = {**aliases, "population": [pop_column, *aliases["population"]]}
    cmap = match_table(table, aliases, columns, where=f"[{mapping}]", what=what)
    if "admin_code" not in cmap:
        raise missing_columns_error(
            table.path, what, ["admin_code"], cmap, BOUNDARY_ALIASES, mapping
        )
    report = InputReport(input=what, path=str(table.path))
    tracker = Tracker(str(table.path), table.rows, rejects, report)
    df = table.df
    raw_codes = df[cmap.header("admin_code")]
    codes = normalise_codes(raw_codes)
    hc = cmap.header("admin_code")
    tracker.reject(codes == "", hc, raw_codes, "missing_value", "no admin code")
    if villages:
        good = codes.str.fullmatch(r"\d{12}").to_numpy(dtype=bool, na_value=False)
        expect = "a 12-digit village code (first 6 digits = county)"
    else:
        good = codes.str.fullmatch(r"\d{6}|\d{12}").to_numpy(dtype=bool, na_value=False)
        expect = "a 6-digit adcode"
    tracker.reject(
        ~good,
        hc,
        raw_codes,
        "unknown_admin_code",
        lambda v: "admin code " + v.map(repr) + f" is not {expect}",
    )
    geoms = _to_wgs84(table, crs_text, crs_key, tracker, warnings)
    geoms_arr = _clean_geometries(
        geoms, tracker, table.path, warnings, "village" if villages else "boundary"
    )
    name_key = "name" if "name" in cmap or villages else "county_name"
    name = (
        as_text(df[cmap.header(name_key)])
        if name_key in cmap
        else pd.Series([""] * len(df), dtype=object)
    )
    no_name = (name == "").to_numpy()
    name = name.where(~no_name, codes)  # never a blank label: a unit without a name shows its code
    name_en = (
        as_text(df[cmap.header("name_en")])
        if "name_en" in cmap
        else pd.Series([""] * len(df), dtype=object)
    )
    if villages:
        level = np.full(len(df), "village", dtype=object)
    else:
        level = level_from_code(codes)
        if "level" in cmap:
            words = (
                as_text(df[cmap.header("level")])
                .map(lambda w: _LEVEL_WORDS.get(str(w).strip().lower(), ""))
                .to_numpy(dtype=object)
            )
            level = np.where(words != "", words, level)
    parent = parent_from_code(codes, level)
    if "parent_code" in cmap and not villages:
        given = normalise_codes(df[cmap.header("parent_code")]).to_numpy(dtype=object)
        parent = np.where(given != "", given, parent)
    out = gpd.GeoDataFrame(
        {
            "admin_code": codes.to_numpy(dtype=object),
            "name": name.to_numpy(dtype=object),
            "name_en": name_en.to_numpy(dtype=object),
            "level": level,
            "parent_code": parent,
            "_no_name": no_name,
        },
        geometry=gpd.GeoSeries(geoms_arr, crs=WGS84),
        crs=WGS84,
    )
    if "population" in cmap:
        parsed: Parsed = parse_numbers(df[cmap.header("population")])
        pop = parsed.values.copy()
        bad = parsed.bad | (np.nan_to_num(pop, nan=0.0) < 0)
        if bad.any():
            rows = table.rows[bad][:5].tolist()
            warnings.append(
                f"{table.path}: column {cmap.header('population')!r}: {int(bad.sum())} population "
                f"value(s) not a non-negative number (rows {', '.join(map(str, rows))}); they count as no data"
            )
            pop[bad] = np.nan
        scale = 1e4 if cmap.unit("population").startswith("万") else 1.0
        out["population"] = pop * scale
    elif pop_column:
        out["population"] = np.nan
    return table, cmap, tracker, out


def read_boundaries(scn: Scenario, rejects: Rejects, hashes: dict[str, str]) -> Boundaries:
    """Read ``[boundaries] counties`` (and ``villages``) for the scenario's region."""

    sec = scn.boundaries
    warnings: list[str] = []
    prefix = region_prefix(scn.scenario.region)
    pop_col = scn.population.column
    table, cmap, tracker, units = _read_units(
        sec.counties,
        crs_text=sec.crs,
        layer=sec.layer,
        what="boundaries",
        crs_key="[boundaries] crs",
        mapping="boundaries.columns",
        columns=sec.columns,
        rejects=rejects,
        warnings=warnings,
        pop_column=pop_col,
        villages=False,
    )
    hashes.update(_hash_with_sidecars(table.path, sha256_file))
    codes = units["admin_code"].to_numpy(dtype=object)
    level = units["level"].to_numpy(dtype=object)
    # Villages in the counties file are handled like a villages file would be.
    tracker.reject(
        (level == "village") & tracker.alive,
        cmap.header("admin_code"),
        codes,
        "unknown_admin_code",
        lambda v: (
            "village code "
            + v.map(repr)
            + " in the counties file; give villages as [boundaries] villages"
        ),
    )
    # duplicates among usable rows
    dup = (
        pd.Series(np.where(tracker.alive, codes, None)).duplicated(keep="first").to_numpy()
        & tracker.alive
    )
    first_row = _first_rows(codes, tracker.rows, tracker.alive)
    tracker.reject(
        dup,
        cmap.header("admin_code"),
        codes,
        "duplicate_id",
        lambda v: (
            "admin code " + v.map(repr) + " already given in row " + v.map(first_row).astype(str)
        ),
    )
    all_codes = set(codes[tracker.alive].tolist())
    is_county = (level == "county") & tracker.alive
    in_region = np.array([str(c).startswith(prefix) for c in codes], dtype=bool)
    if not (is_county & in_region).any():
        available = sorted({str(c)[:4] + "00" for c in codes[is_county]})
        raise InputError(
            f"{table.path}: no county has an admin code starting with {prefix!r} "
            f"([scenario] region = {scn.scenario.region!r}); the file's counties belong to "
            f"{', '.join(available[:12]) or 'no city'}{' ...' if len(available) > 12 else ''}"
        )
    region_counties = codes[is_county & in_region]
    parents_needed = {str(c)[:4] + "00" for c in region_counties} | {
        str(c)[:2] + "0000" for c in region_counties
    }
    parents_needed |= set(units.loc[is_county & in_region, "parent_code"].tolist()) - {""}
    keep = (is_county & in_region) | (
        tracker.alive & (level != "county") & np.isin(codes, list(parents_needed))
    )
    tracker.skip(
        tracker.alive & ~keep,
        "outside_region",
        cmap.header("admin_code"),
        codes,
        lambda v: "unit " + v.map(repr) + f" lies outside the region (admin codes {prefix}…)",
    )
    tracker.finish()
    _warn_no_names(units, tracker, table.path, cmap, "boundary", warnings)
    kept = units[tracker.alive].copy()
    kept = _add_missing_parents(kept, prefix, warnings, table.path)
    # villages
    reports = [tracker.report]
    if sec.villages:
        vt, vmap, vtracker, villages = _read_units(
            sec.villages,
            crs_text=sec.villages_crs or sec.crs,
            layer=sec.villages_layer,
            what="villages",
            crs_key="[boundaries] villages_crs",
            mapping="boundaries.villages_columns",
            columns=sec.villages_columns,
            rejects=rejects,
            warnings=warnings,
            pop_column=pop_col if pop_col else "",
            villages=True,
        )
        hashes.update(_hash_with_sidecars(vt.path, sha256_file))
        vcodes = villages["admin_code"].to_numpy(dtype=object)
        county = np.array([str(c)[:6] for c in vcodes], dtype=object)
        known_county = np.isin(county, list(all_codes))
        hc = vmap.header("admin_code")
        vtracker.reject(
            ~known_county,
            hc,
            vcodes,
            "unknown_admin_code",
            lambda v: (
                "village code "
                + v.map(repr)
                + " starts with "
                + v.str[:6].map(repr)
                + ", which is no county of the boundaries file"
            ),
        )
        vdup = (
            pd.Series(np.where(vtracker.alive, vcodes, None)).duplicated(keep="first").to_numpy()
            & vtracker.alive
        )
        vfirst = _first_rows(vcodes, vtracker.rows, vtracker.alive)
        vtracker.reject(
            vdup,
            hc,
            vcodes,
            "duplicate_id",
            lambda v: (
                "village code " + v.map(repr) + " already given in row " + v.map(vfirst).astype(str)
            ),
        )
        all_codes |= set(vcodes[vtracker.alive].tolist())
        vtracker.skip(
            vtracker.alive & ~np.isin(county, list(region_counties)),
            "outside_region",
            hc,
            vcodes,
            lambda v: (
                "village "
                + v.map(repr)
                + " belongs to county "
                + v.str[:6]
                + ", outside the region"
            ),
        )
        vtracker.finish()
        _warn_no_names(villages, vtracker, vt.path, vmap, "village", warnings)
        villages = villages[vtracker.alive].copy()
        villages["parent_code"] = villages["admin_code"].str[:6]
        kept = pd.concat([kept, villages], ignore_index=True)
        reports.append(vtracker.report)
    kept = gpd.GeoDataFrame(kept, geometry="geometry", crs=WGS84)
    # English names where the file has none
    need_en = kept["name_en"] == ""
    if need_en.any():
        kept.loc[need_en, "name_en"] = _pinyin(
            kept.loc[need_en, "name"], kept.loc[need_en, "level"]
        ).to_numpy()
    cols = (
        list(BOUNDARY_COLUMNS)
        + (["population"] if "population" in kept.columns else [])
        + ["geometry"]
    )
    kept = kept[cols].reset_index(drop=True)
    counties = kept[kept["level"] == "county"]
    region = Region.from_counties(
        counties["admin_code"].to_numpy(), counties.geometry.to_numpy(), scn.sites.region_margin_m
    )
    for rep in reports:
        rep.warnings.extend(w for w in warnings if w.startswith(rep.path))
    log.info(
        "boundaries: %d counties in region %r, %d units in all", len(counties), prefix, len(kept)
    )
    return Boundaries(kept, region, prefix, all_codes, reports, warnings)


def _warn_no_names(units, tracker: Tracker, path: Path, cmap, what: str, warnings) -> None:
    """A unit without a name is labelled by its code; say how many, never leave labels blank."""
    n = int((units["_no_name"].to_numpy(dtype=bool) & tracker.alive).sum())
    if not n:
        return
    if "name" in cmap or "county_name" in cmap:
        col = cmap.header("name") if "name" in cmap else cmap.header("county_name")
        why = f"their {col!r} is empty"
    else:
        why = (
            f"the file has no name column (accepted: {', '.join(BOUNDARY_ALIASES['name'][:8])}, "
            f'…; or map it: [{cmap_key(what)}] name = "<header>")'
        )
    msg = f"{path}: {n} {what} unit(s) have no name ({why}); they are labelled by their code"
    warnings.append(msg)
    tracker.report.defaults["name"] = tracker.report.defaults.get("name", 0) + n
    log.warning(msg)


def cmap_key(what: str) -> str:
    return "boundaries.villages_columns" if what == "village" else "boundaries.columns"


def _first_rows(codes: np.ndarray, rows: np.ndarray, alive: np.ndarray) -> dict:
    s = pd.Series(rows[alive], index=pd.Index(codes[alive]))
    return s[~s.index.duplicated(keep="first")].to_dict()


def _add_missing_parents(
    units: gpd.GeoDataFrame, prefix: str, warnings: list[str], path: Path
) -> gpd.GeoDataFrame:
    """Dissolve counties into city / province rows that the file lacks."""
    counties = units[units["level"] == "county"]
    names = _shipped_names().set_index("admin_code")
    added = []
    for lvl, key_len, parent_of in (
        ("city", 4, lambda c: c[:2] + "0000"),
        ("province", 2, lambda c: ""),
    ):
        have = set(units.loc[units["level"] == lvl, "admin_code"])
        groups = counties["admin_code"].str[:key_len] + "0" * (6 - key_len)
        missing = sorted(set(groups) - have)
        for code in missing:
            geom = shapely.union_all(counties.geometry[groups == code].to_numpy())
            name = names["name"].get(code, code) if not names.empty else code
            name_en = names["name_en"].get(code, code) if not names.empty else code
            added.append(
                {
                    "admin_code": code,
                    "name": name,
                    "name_en": name_en,
                    "level": lvl,
                    "parent_code": parent_of(code),
                    "geometry": geom,
                }
            )
    if added:
        warnings.append(
            f"{path}: no row for {', '.join(a['admin_code'] for a in added)}; "
            f"derived by dissolving their counties"
        )
        extra = gpd.GeoDataFrame(added, geometry="geometry", crs=WGS84)
        if "population" in units.columns:
            pop = counties["population"]
            extra["population"] = [
                pop[
                    counties["admin_code"].str[: 4 if a["level"] == "city" else 2].to_numpy()
                    == a["admin_code"][: 4 if a["level"] == "city" else 2]
                ].sum(min_count=1)
                for a in added
            ]
        units = pd.concat([units, extra], ignore_index=True)
    return units


def _hash_with_sidecars(path: Path, sha) -> dict[str, str]:
    out = {str(path): sha(path)}
    if path.suffix.lower() == ".shp":
        for ext in (".shx", ".dbf", ".prj", ".cpg"):
            side = path.with_suffix(ext)
            if side.exists():
                out[str(side)] = sha(side)
    return out
