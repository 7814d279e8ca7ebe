"""Administrative boundaries: counties (with their cities and province) and villages.

The counties file may hold every level (the shipped ``data/boundaries/fujian.gpkg``) or only
counties; codes, names, levels and parents are found by alias (``adcode``, ``区划代码``, ``名称``,
``级别``, ``上级代码`` ...). Missing levels and parents are derived from the codes (a 6-digit
adcode ``PPCCXX``: province ``PP0000``, city ``PPCC00``); missing city or province rows are
dissolved from their counties, named from the shipped Fujian file when it knows the code and by
the code otherwise. Only the counties of ``[scenario] region`` and their parents are kept; the
other units are *skipped* (counted in the report, not rejected). Villages carry 12-digit
statistical codes whose first 6 digits must name a county of the file.

Codes, levels, parents and the missing city/province rows are :mod:`.admin_codes`; the polygons
(WGS84, invalid ones repaired, non-polygons rejected) :mod:`.polygons`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import WGS84
from ..errors import InputError
from ..rundir import sha256_file
from ..scenario import Scenario
from ._common import Parsed, Rejects, Tracker, as_text, log, parse_numbers
from .admin_codes import (
    LEVEL_WORDS,
    add_missing_parents,
    level_from_code,
    normalise_codes,
    parent_from_code,
    pinyin_names,
    region_prefix,
)
from .geo import Region
from .model import BOUNDARY_COLUMNS, InputReport
from .polygons import clean_polygons, polygons_to_wgs84
from .tables import match_table, missing_columns_error, read_table

__all__ = [
    "BOUNDARY_ALIASES",
    "read_boundaries",
    "region_prefix",
    "normalise_codes",
    "level_from_code",
    "parent_from_code",
    "Boundaries",
]

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
    warnings.extend(table.notes)
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
    geoms = polygons_to_wgs84(table, crs_text, crs_key, tracker, warnings)
    geoms_arr = clean_polygons(
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
                .map(lambda w: LEVEL_WORDS.get(str(w).strip().lower(), ""))
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
    # valid counties of other regions: sites there are rows of another region (skipped)
    other_counties = is_county & ~in_region & np.array([g is not None for g in units.geometry])
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
    kept = add_missing_parents(kept, prefix, warnings, table.path)
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
        _reject_villages_elsewhere(villages, county, kept, vtracker, hc)
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
        kept.loc[need_en, "name_en"] = pinyin_names(
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
    ).with_other_counties(codes[other_counties], units.geometry.to_numpy()[other_counties])
    for rep in reports:
        rep.warnings.extend(w for w in warnings if w.startswith(rep.path))
    log.info(
        "boundaries: %d counties in region %r, %d units in all", len(counties), prefix, len(kept)
    )
    return Boundaries(kept, region, prefix, all_codes, reports, warnings)


#: How far (degrees, about 2 km) a village's inner point may lie outside the county its code
#: names: two boundary files from different sources disagree by a few hundred metres at most.
VILLAGE_COUNTY_SLACK_DEG = 0.02


def _reject_villages_elsewhere(villages, county: np.ndarray, kept, tracker: Tracker, hc: str):
    """A village whose polygon lies in another county than the one its code names
    (``wrong_county``): the code or the polygon is wrong, and either way its people and its
    5G reach would be counted for the wrong county."""
    counties = kept[kept["level"] == "county"]
    geom_of = dict(zip(counties["admin_code"], counties.geometry, strict=True))
    alive = np.flatnonzero(tracker.alive)
    if not alive.size:
        return
    own = np.array([geom_of.get(c) for c in county[alive]], dtype=object)
    has = np.array([g is not None for g in own], dtype=bool)
    if not has.any():
        return
    idx, own = alive[has], own[has]
    inner = shapely.point_on_surface(villages.geometry.to_numpy()[idx])
    far = shapely.distance(inner, own) > VILLAGE_COUNTY_SLACK_DEG
    if not far.any():
        return
    names = dict(zip(counties["admin_code"], counties["name"], strict=True))
    codes = villages["admin_code"].to_numpy(dtype=object)
    msgs = np.full(len(county), "", dtype=object)
    for i, pt in zip(idx[far], inner[far], strict=True):
        held = [c for c, g in geom_of.items() if g is not None and shapely.contains(g, pt)]
        where = f"{names.get(held[0], '')} ({held[0]})" if held else "no county of the file"
        msgs[i] = (
            f"village code {codes[i]!r} names county {names.get(county[i], '')} ({county[i]}), "
            f"but its polygon lies in {where}: the code or the polygon is wrong"
        )
    mask = msgs != ""
    tracker.reject(
        mask, hc, villages["admin_code"], "wrong_county", lambda v: msgs[mask & tracker.alive]
    )


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


def _hash_with_sidecars(path: Path, sha) -> dict[str, str]:
    out = {str(path): sha(path)}
    if path.suffix.lower() == ".shp":
        for ext in (".shx", ".dbf", ".prj", ".cpg"):
            side = path.with_suffix(ext)
            if side.exists():
                out[str(side)] = sha(side)
    return out
