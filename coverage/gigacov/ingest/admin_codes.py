"""Administrative codes and the units they imply.

A 6-digit adcode ``PPCCXX`` names a county; its city is ``PPCC00`` and its province ``PP0000``;
a 12-digit statistical village code starts with its county's 6 digits (``350582100200`` →
county ``350582``). From the codes: the region prefix of ``[scenario] region``, each unit's
level (or the level word a file writes: ``县``, ``地级市``, ``行政村`` …) and parent, the city
and province rows a file lacks (dissolved from their counties, named from the shipped Fujian
file when it knows the code, else by the code), and English names (pinyin) where a file has none.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import WGS84
from ..scenario import default_boundaries_path
from ..shipped_boundaries import pinyin_name
from ._common import as_text

__all__ = [
    "LEVEL_WORDS",
    "region_prefix",
    "normalise_codes",
    "level_from_code",
    "parent_from_code",
    "shipped_names",
    "pinyin_names",
    "add_missing_parents",
]

LEVEL_WORDS = {
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


def shipped_names() -> pd.DataFrame:
    path = default_boundaries_path()
    if not path.exists():  # pragma: no cover - the shipped file is part of the repository
        return pd.DataFrame(columns=["admin_code", "name", "name_en"])
    import pyogrio

    df = pyogrio.read_dataframe(
        path, read_geometry=False, columns=["admin_code", "name", "name_en"]
    )
    return pd.DataFrame(df)


def pinyin_names(names: pd.Series, levels: pd.Series) -> pd.Series:
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


def add_missing_parents(
    units: gpd.GeoDataFrame, prefix: str, warnings: list[str], path: Path
) -> gpd.GeoDataFrame:
    """Dissolve counties into city / province rows that the file lacks."""
    counties = units[units["level"] == "county"]
    names = shipped_names().set_index("admin_code")
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
