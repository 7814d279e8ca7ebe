"""The synthetic Quanzhou demo scenario (gigacov.demo).

The inputs are built once per module at a small scale (4 % of the villages and sites) and a coarse
1 km resolution; every check reads the files as a user would (GBK CSV, GeoPackage, GeoTIFF,
GeoJSON, TOML) and compares them with figures written out here: the yearbook's county populations (docs/design.md §10)
and the design's counts.
"""

from __future__ import annotations

import hashlib
import json
import math
import re

import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.transform import rowcol, xy

from gigacov.demo import FILE_NAMES, build_demo
from gigacov.demo.design import PLANNING_BUDGET
from gigacov.errors import ConfigError
from gigacov.grid import Grid
from gigacov.scenario import load_scenario
from gigacov.shipped_boundaries import read_shipped_boundaries

SCALE = 0.04
RES = 1000.0

# docs/design.md §10: resident population at year-end 2021 (Quanzhou statistical yearbook 2022), persons.
POPULATION = {
    "350502": 429_000,
    "350503": 720_000,
    "350504": 255_000,
    "350505": 359_000,
    "350521": 1_041_000,
    "350524": 1_002_000,
    "350525": 422_000,
    "350526": 337_000,
    "350581": 689_000,
    "350582": 2_069_000,
    "350583": 1_527_000,
}
KINMEN = "350527"
# The design: villages at scale 1 and 5G sites per 10,000 people at the end of 2024.
VILLAGES_SCALE_1 = {
    "350502": 70,
    "350503": 85,
    "350504": 75,
    "350505": 85,
    "350521": 205,
    "350524": 370,
    "350525": 190,
    "350526": 170,
    "350581": 105,
    "350582": 320,
    "350583": 330,
}
RATE_5G = {
    "350502": 28.0,
    "350503": 26.0,
    "350504": 20.0,
    "350505": 16.0,
    "350521": 9.5,
    "350524": 19.0,
    "350525": 21.0,
    "350526": 19.0,
    "350581": 22.0,
    "350582": 22.5,
    "350583": 21.5,
}
# At 4 %: 70 × 0.04 = 2.8 → 3, 370 × 0.04 = 14.8 → 15, ... (no value ends in .5).
EXPECTED_VILLAGES = {
    "350502": 3,
    "350503": 3,
    "350504": 3,
    "350505": 3,
    "350521": 8,
    "350524": 15,
    "350525": 8,
    "350526": 7,
    "350581": 4,
    "350582": 13,
    "350583": 13,
}
# 28 × 42.9 × 0.04 = 48.05 → 48; 9.5 × 104.1 × 0.04 = 39.6 → 40; 22.5 × 206.9 × 0.04 = 186.2 → 186 ...
EXPECTED_5G_2024 = {
    "350502": 48,
    "350503": 75,
    "350504": 20,
    "350505": 23,
    "350521": 40,
    "350524": 76,
    "350525": 35,
    "350526": 26,
    "350581": 61,
    "350582": 186,
    "350583": 131,
}
HEADERS = [
    "站号",
    "站名",
    "小区ID",
    "小区名称",
    "区县",
    "经度",
    "纬度",
    "制式",
    "运营商",
    "频段",
    "带宽(MHz)",
    "子载波间隔(kHz)",
    "方位角",
    "水平波瓣宽度",
    "挂高(m)",
    "下倾角",
    "EIRP(dBm)",
    "开通时间",
    "站型",
]
UTM = pyproj.Transformer.from_crs(4326, 32650, always_xy=True)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    build_demo(out, scale=SCALE, resolution_m=RES)
    return out


@pytest.fixture(scope="module")
def counties():
    gdf = read_shipped_boundaries()
    c = gdf[(gdf["level"] == "county") & gdf["admin_code"].str.startswith("3505")]
    return c.set_index("admin_code").to_crs(32650)


@pytest.fixture(scope="module")
def villages(demo_dir):
    return pyogrio.read_dataframe(demo_dir / FILE_NAMES["villages"], layer="villages")


def _read_sites(path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="gbk", dtype={"站号": str, "小区ID": str})


@pytest.fixture(scope="module")
def sites(demo_dir):
    return {y: _read_sites(demo_dir / FILE_NAMES[f"sites_{y}"]) for y in (2023, 2024)}


def _valid_sites(df: pd.DataFrame, tech: str) -> pd.DataFrame:
    """Rows of ``tech`` with a usable position (drops the deliberately bad coordinates)."""
    ok = (df["制式"] == tech) & df["纬度"].notna() & (df["纬度"].abs() <= 90)
    return df[ok]


def _site_xy(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    first = df.drop_duplicates("站号")
    return UTM.transform(first["经度"].to_numpy(float), first["纬度"].to_numpy(float))


def _county_of(counties, x, y) -> np.ndarray:
    out = np.full(len(x), "", dtype=object)
    for code, geom in counties.geometry.items():
        out[shapely.contains_xy(geom, x, y)] = code
    return out


# ------------------------------------------------------------------------------------------------
# Determinism and arguments
# ------------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_files_other_seed_different_ones(demo_dir, tmp_path):
    again = build_demo(tmp_path / "again", scale=SCALE, resolution_m=RES)
    assert set(again) == set(FILE_NAMES)
    for key, path in again.items():
        a = hashlib.sha256((demo_dir / FILE_NAMES[key]).read_bytes()).hexdigest()
        b = hashlib.sha256(path.read_bytes()).hexdigest()
        assert a == b, f"{key} differs between two builds with the same seed"
    other = build_demo(tmp_path / "other", seed=7, scale=SCALE, resolution_m=RES)
    assert other["sites_2024"].read_bytes() != again["sites_2024"].read_bytes()
    # ... but the county populations are facts, whatever the seed.
    with rasterio.open(other["population"]) as src:
        total = float(src.read(1, masked=True).sum())
    assert total == pytest.approx(8_850_000, rel=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scale": 0.0}, "scale must be between"),
        ({"resolution_m": 5}, "resolution_m must be between"),
        ({"seed": -1}, "seed must be a non-negative integer"),
    ],
)
def test_bad_arguments_raise_config_error(tmp_path, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        build_demo(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------------------------------------------
# Building blocks: the fast grid evaluations equal the direct formulas
# ------------------------------------------------------------------------------------------------


def test_separable_grid_fields_equal_pointwise_sums():
    from gigacov.demo.fields import Terrain, _gauss_grid

    rng = np.random.default_rng(1)
    t = Terrain(
        kx=rng.normal(0, 1e-3, 5),
        ky=rng.normal(0, 1e-3, 5),
        phase=rng.uniform(0, 6, 5),
        amp=rng.uniform(0.1, 1, 5),
        valley_xy=np.zeros((0, 2)),
        valley_sigma_m=np.zeros(0),
        region=None,
    )
    xs = np.array([0.0, 250.0, 900.0])
    ys = np.array([5000.0, 100.0])
    direct = np.zeros((2, 3))
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            direct[i, j] = sum(
                a * math.cos(kx * x + ky * y + ph)
                for kx, ky, ph, a in zip(t.kx, t.ky, t.phase, t.amp, strict=True)
            )
    np.testing.assert_allclose(t.noise_grid(xs, ys), direct, rtol=1e-12, atol=1e-12)
    # Two Gaussians, σ = 100 and 400 m: at (x, y) the sum of w·exp(−r²/2σ²).
    g = _gauss_grid(
        xs,
        ys,
        np.array([0.0, 1000.0]),
        np.array([100.0, 4000.0]),
        np.array([100.0, 400.0]),
        np.array([2.0, 1.0]),
    )
    assert g[1, 0] == pytest.approx(2.0)  # on the first centre; the second is 4.1 km away
    assert g[0, 2] == pytest.approx(math.exp(-(100.0**2 + 1000.0**2) / (2 * 400.0**2)))


def test_design_keeps_clear_margins_from_the_thresholds():
    from gigacov.demo.design import ASSUMED_THRESHOLDS, COUNTIES, STATISTICS_KEYS

    for c in COUNTIES:
        for year, stats in c.stats.items():
            for key in STATISTICS_KEYS:
                _, _, thr = ASSUMED_THRESHOLDS[key]
                assert abs(stats[key] - thr) >= 0.02 - 1e-9, (c.name, year, key)
            assert stats["users_1000m_share"] < stats["users_500m_share"]
        assert c.stats[2023]["users_1000m_share"] < c.stats[2024]["users_1000m_share"]
        for year in (2023, 2024):  # 5G sites per 10,000 at scale 1: ≥ 15 or clearly short (< 12)
            rate = c.sites_5g_per_10k * (1 - c.share_5g_2024 if year == 2023 else 1)
            assert rate >= 15 or rate < 11.5, (c.name, year, rate)


def test_calibrated_numerators_meet_the_ratio_and_the_caps():
    from gigacov.demo.broadband import _calibrated

    den = np.array([100.0, 200.0, 50.0, 650.0])
    cap = np.array([100.0, 150.0, 50.0, 650.0])
    num = _calibrated(np.random.default_rng(3), den, 0.8, cap)
    assert num.dtype == np.int64 and (num <= cap).all() and (num >= 0).all()
    assert num.sum() == 800  # 0.8 × 1000 exactly
    capped = _calibrated(np.random.default_rng(3), den, 0.99, np.full(4, 10.0))
    assert (capped == 10).all()  # cannot reach the ratio: every village at its cap


# ------------------------------------------------------------------------------------------------
# Villages
# ------------------------------------------------------------------------------------------------


def test_villages_per_county_codes_and_tessellation(villages, counties):
    assert villages.groupby("parent_code").size().to_dict() == EXPECTED_VILLAGES
    assert {k: max(3, round(v * SCALE)) for k, v in VILLAGES_SCALE_1.items()} == EXPECTED_VILLAGES
    codes = villages["admin_code"]
    assert codes.str.fullmatch(r"\d{12}").all()
    assert codes.is_unique
    assert (codes.str[:6] == villages["parent_code"]).all()
    assert (villages["township_code"] == codes.str[:9]).all()
    town = codes.str[6:9].astype(int)
    vill = codes.str[9:].astype(int)
    assert town.between(1, 299).all()
    # communities (社区) 001–199, villages (村) from 201, as in the statistical division codes
    assert vill[villages["kind"] == "社区"].between(1, 199).all()
    assert (vill[villages["kind"] == "村"] >= 201).all()
    assert (villages["name"].str.endswith("村") | villages["name"].str.endswith("社区")).all()
    assert not villages.duplicated(["parent_code", "name"]).any()
    assert villages["synthetic"].astype(bool).all()
    assert (villages["level"] == "village").all()
    assert KINMEN not in set(villages["parent_code"])
    # The villages of a county cover it exactly, without overlaps.
    vm = villages.to_crs(32650)
    assert vm.geometry.is_valid.all()
    for code, geom in counties.geometry.items():
        if code == KINMEN:
            continue
        part = vm[vm["parent_code"] == code].geometry
        assert part.area.sum() == pytest.approx(geom.area, rel=1e-6)
        assert part.union_all().symmetric_difference(geom).area < 1e-6 * geom.area


# ------------------------------------------------------------------------------------------------
# Rasters
# ------------------------------------------------------------------------------------------------


def test_population_raster_matches_county_totals_on_the_pipeline_grid(demo_dir, counties):
    with rasterio.open(demo_dir / FILE_NAMES["population"]) as src:
        pop = src.read(1, masked=True)
        transform, crs = src.transform, src.crs
        assert src.tags()["SYNTHETIC"] == "true"
        assert "2022" in src.tags()["SOURCE"]
    assert crs.to_epsg() == 32650
    grid = Grid.for_geometries(counties.to_crs(4326), RES, pyproj.CRS.from_epsg(32650))
    assert pop.shape == grid.shape and transform.almost_equals(grid.transform)
    for code, persons in POPULATION.items():
        zone = rasterize([(counties.geometry[code], 1)], out_shape=pop.shape, transform=transform)
        total = float(pop[zone == 1].astype(np.float64).sum())
        assert total == pytest.approx(persons, rel=0.01), code
    kinmen = rasterize([(counties.geometry[KINMEN], 1)], out_shape=pop.shape, transform=transform)
    assert kinmen.sum() > 0 and pop.mask[kinmen == 1].all()
    assert float(pop.sum()) == pytest.approx(sum(POPULATION.values()), rel=1e-4)


def test_dem_rises_to_the_north_west_and_people_live_low(demo_dir, counties):
    with rasterio.open(demo_dir / FILE_NAMES["dem"]) as src:
        dem = src.read(1).astype(float)
        dem_t = src.transform
        assert src.crs.to_epsg() == 4326
    assert 1200 < dem.max() < 2000
    row, col = rowcol(dem_t, 119.0, 24.55)  # Taiwan Strait
    assert dem[row, col] == 0
    c4326 = counties.to_crs(4326)

    def mean_elev(code):
        zone = rasterize([(c4326.geometry[code], 1)], out_shape=dem.shape, transform=dem_t)
        return dem[zone == 1].mean()

    assert mean_elev("350526") > 500 > 100 > mean_elev("350581")  # 德化 high, 石狮 coastal
    assert mean_elev("350526") > 3 * mean_elev("350582")
    # Population-weighted elevation is far below the mean elevation of the land.
    with rasterio.open(demo_dir / FILE_NAMES["population"]) as src:
        pop = src.read(1, masked=True).filled(0.0)
        pt = src.transform
    rows, cols = np.nonzero(pop > 0)
    x, y = xy(pt, rows, cols)  # pixel centres
    lon, lat = pyproj.Transformer.from_crs(32650, 4326, always_xy=True).transform(x, y)
    dr, dc = rowcol(dem_t, lon, lat)
    elev = dem[np.asarray(dr), np.asarray(dc)]
    assert np.average(elev, weights=pop[rows, cols]) < 0.5 * elev.mean()


# ------------------------------------------------------------------------------------------------
# Sites
# ------------------------------------------------------------------------------------------------


def test_site_export_is_gbk_with_chinese_headers(demo_dir):
    raw = (demo_dir / FILE_NAMES["sites_2024"]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    assert text.split("\r\n", 1)[0].split(",") == HEADERS
    assert "中国移动" in text and "德化县" in text


def test_sites_per_county_and_technology(sites, counties):
    for df in sites.values():
        assert set(df["制式"]) == {"5G", "4G", "3G"}
        assert KINMEN not in set(_county_of(counties, *_site_xy(_valid_sites(df, "5G"))))
    df = sites[2024]
    s5 = _valid_sites(df, "5G")
    x, y = _site_xy(s5)
    where = pd.Series(_county_of(counties, x, y))
    assert where.value_counts().to_dict() == EXPECTED_5G_2024
    # The designed 5G rate (sites per 10,000) is what the files give, at this scale.
    for code, n in EXPECTED_5G_2024.items():
        assert n == round(RATE_5G[code] * POPULATION[code] / 1e4 * SCALE)
    s4 = _valid_sites(df, "4G")
    n4 = s4["站号"].nunique()
    assert abs(n4 - 25_000 * SCALE) <= 11  # 25,000 × 4 %, rounded per county
    where4 = pd.Series(_county_of(counties, *_site_xy(s4)))
    assert KINMEN not in set(where4) and "" not in set(where4)
    # Cells: 1–3 per site, Chinese operators' bands.
    per_site = df[df["制式"].isin(["5G", "4G"])].drop_duplicates("小区ID").groupby("站号").size()
    assert per_site.between(1, 3).all() and (per_site == 3).mean() > 0.5
    assert set(s5["频段"]) == {"n78", "n41", "n79", "n28"}
    assert set(s4["频段"]) == {"B3", "B1", "B8"}
    assert set(df["运营商"]) == {"中国移动", "中国电信", "中国联通", "中国广电"}
    assert set(s5.loc[s5["频段"] == "n78", "运营商"]) == {"中国电信", "中国联通"}
    assert df["EIRP(dBm)"].between(45, 80).all()
    assert df["挂高(m)"].between(8, 50).all()
    az = df["方位角"].dropna()
    assert az.between(0, 360).all()
    omni = df["方位角"].isna()
    assert (df.loc[omni, "站型"] == "微站").all() and omni.any()


def test_commissioning_years_and_the_two_exports(sites, counties):
    y23, y24 = sites[2023], sites[2024]
    years24 = pd.to_datetime(_valid_sites(y24, "5G")["开通时间"]).dt.year
    assert years24.min() == 2019 and years24.max() == 2024
    assert set(years24) == {2019, 2020, 2021, 2022, 2023, 2024}
    assert pd.to_datetime(y23["开通时间"]).dt.year.max() <= 2023
    assert pd.to_datetime(_valid_sites(y24, "4G")["开通时间"]).dt.year.min() == 2014
    ids23 = set(_valid_sites(y23, "5G")["站号"])
    ids24 = set(_valid_sites(y24, "5G")["站号"])
    assert ids23 < ids24
    # 泉港区: 30 % of its 5G sites came in 2024 — 23 − round(6.9) = 16 remain for 2023;
    # 惠安县: 15 % — 40 − round(6.0) = 34.
    where = pd.Series(_county_of(counties, *_site_xy(_valid_sites(y23, "5G"))))
    counts = where.value_counts()
    assert counts["350505"] == 16 and counts["350521"] == 34


def test_bad_rows_are_present_as_designed(demo_dir, sites):
    meta = json.loads((demo_dir / FILE_NAMES["metadata"]).read_text(encoding="utf-8"))
    for year, df in sites.items():
        bad = meta["exports"][str(year)]["bad_rows"]
        good_rows = len(df) - len(bad)
        assert len(bad) == max(4, round(0.001 * good_rows))
        kinds = {b["kind"] for b in bad}
        assert kinds == {
            "lat_lon_swapped",
            "missing_coordinate",
            "duplicate_cell_id",
            "unknown_technology",
        }
        # The rows are where the metadata says (spreadsheet numbering: header = row 1).
        for b in bad:
            row = df.iloc[b["row"] - 2]
            assert row["小区ID"] == b["cell_id"]
            if b["kind"] == "lat_lon_swapped":
                assert 24 < row["经度"] < 26 and 117 < row["纬度"] < 120
            elif b["kind"] == "missing_coordinate":
                assert math.isnan(row["纬度"]) and not math.isnan(row["经度"])
            elif b["kind"] == "unknown_technology":
                assert row["制式"] == "3G"
            else:
                assert (df["小区ID"] == b["cell_id"]).sum() == 2
        # ... and they are the only such rows.
        assert (df["纬度"].abs() > 90).sum() == sum(b["kind"] == "lat_lon_swapped" for b in bad)
        assert df["纬度"].isna().sum() == sum(b["kind"] == "missing_coordinate" for b in bad)
        assert (df["制式"] == "3G").sum() == sum(b["kind"] == "unknown_technology" for b in bad)
        assert df["小区ID"].duplicated().sum() == sum(b["kind"] == "duplicate_cell_id" for b in bad)


# ------------------------------------------------------------------------------------------------
# Designed gaps: every village and key place has 5G nearby, except in 德化县's mountains
# ------------------------------------------------------------------------------------------------


def test_5g_reaches_every_village_except_remote_dehua(villages, sites):
    x, y = _site_xy(_valid_sites(sites[2024], "5G"))
    tree = shapely.STRtree(shapely.points(x, y))
    vm = villages.to_crs(32650)
    near = np.array(
        [len(tree.query(g, predicate="dwithin", distance=400.0)) > 0 for g in vm.geometry]
    )
    outside = (vm["parent_code"] != "350526").to_numpy()
    assert near[outside].all()
    dehua = vm[vm["parent_code"] == "350526"]
    far = [len(tree.query(g, predicate="dwithin", distance=15_000.0)) == 0 for g in dehua.geometry]
    assert any(far)  # beyond the scenario's max_radius_m of every 5G site: cannot be reached


def test_key_places(demo_dir, sites, counties):
    doc = json.loads((demo_dir / FILE_NAMES["key_places"]).read_text(encoding="utf-8"))
    feats = doc["features"]
    cats = {f["properties"]["category"] for f in feats}
    assert {"hospital", "university", "tourism", "railway", "airport", "road"} <= cats
    roads = [f for f in feats if f["properties"]["category"] == "road"]
    assert len(roads) == 3 and all(f["geometry"]["type"] == "LineString" for f in roads)
    for f in feats:
        p = f["properties"]
        assert p["synthetic"] is True
        assert p["approximate"] == ("（合成）" not in p["name"])
        geom = shapely.transform(
            shapely.from_geojson(json.dumps(f["geometry"])),
            lambda xy: np.column_stack(UTM.transform(xy[:, 0], xy[:, 1])),
        )
        assert not geom.intersects(counties.geometry[KINMEN])
    x, y = _site_xy(_valid_sites(sites[2024], "5G"))
    tree = shapely.STRtree(shapely.points(x, y))
    for f in feats:
        if f["properties"]["category"] == "road":
            continue
        geom = shapely.transform(
            shapely.from_geojson(json.dumps(f["geometry"])),
            lambda xy: np.column_stack(UTM.transform(xy[:, 0], xy[:, 1])),
        )
        if f["properties"]["name"] == "九仙山风景区":
            assert len(tree.query(geom, predicate="dwithin", distance=15_000.0)) == 0
        else:
            assert len(tree.query(geom, predicate="dwithin", distance=600.0)) > 0, f["properties"][
                "name"
            ]


# ------------------------------------------------------------------------------------------------
# Broadband statistics
# ------------------------------------------------------------------------------------------------


def test_broadband_statistics_consistent_and_calibrated(demo_dir, villages):
    bb = pd.read_csv(demo_dir / FILE_NAMES["broadband"], dtype={"admin_code": str})
    assert sorted(bb["year"].unique()) == [2023, 2024]
    for year in (2023, 2024):
        assert sorted(bb.loc[bb["year"] == year, "admin_code"]) == sorted(villages["admin_code"])
    pairs = [
        ("fttx_households_covered", "households"),
        ("gigabit_households_covered", "fttx_households_covered"),
        ("pon_10g_ports", "pon_ports"),
        ("users_500m_plus", "fixed_users"),
        ("users_1000m_plus", "users_500m_plus"),
        ("users_5g", "mobile_users"),
    ]
    for num, den in pairs:
        assert (bb[num] <= bb[den]).all(), (num, den)
        assert (bb[num] >= 0).all()
    bb["county"] = bb["admin_code"].str[:6]
    assert KINMEN not in set(bb["county"])
    by = bb.groupby(["county", "year"]).sum(numeric_only=True)

    def share(code, year, num, den):
        return by.loc[(code, year), num] / by.loc[(code, year), den]

    # 安溪县 is designed short of gigabit households (72 % < 80 %), 晋江市 not (93 %).
    assert share("350524", 2024, "gigabit_households_covered", "households") == pytest.approx(
        0.72, abs=0.002
    )
    assert share("350582", 2024, "gigabit_households_covered", "households") == pytest.approx(
        0.93, abs=0.002
    )
    # 洛江区: 5G users 22 % of mobile users; 泉港区: 10G-PON ports 22 %.
    assert share("350504", 2024, "users_5g", "mobile_users") == pytest.approx(0.22, abs=0.002)
    assert share("350505", 2024, "pon_10g_ports", "pon_ports") == pytest.approx(0.22, abs=0.01)
    # Quanzhou: gigabit users 20–30 % in 2024 (Fujian's 2024 target: > 25 %), fewer in 2023,
    # more than Fujian's 14.1 % of April 2023.
    city = bb.groupby("year").sum(numeric_only=True)
    g24 = city.loc[2024, "users_1000m_plus"] / city.loc[2024, "fixed_users"]
    g23 = city.loc[2023, "users_1000m_plus"] / city.loc[2023, "fixed_users"]
    assert 0.20 <= g24 <= 0.30 and 0.141 < g23 < g24
    # Households follow people: about 2.6–3.1 persons per household.
    assert 2.5 < sum(POPULATION.values()) / city.loc[2024, "households"] < 3.2


# ------------------------------------------------------------------------------------------------
# Scenario files, README, metadata
# ------------------------------------------------------------------------------------------------


def test_scenario_files_load_and_point_at_the_inputs(demo_dir):
    for year in (2023, 2024):
        path = demo_dir / FILE_NAMES[f"scenario_{year}"]
        assert "synthetic" in path.name
        text = path.read_text(encoding="utf-8")
        assert str(demo_dir) not in text  # relative paths only
        scn = load_scenario(path)
        assert scn.scenario.synthetic and scn.year == year and scn.scenario.region == "350500"
        assert "synthetic" in scn.name and "synthetic" in scn.title.lower()
        assert scn.grid.resolution_m == RES
        assert scn.radio.max_radius_m == 5_000
        assert scn.planning.budget == PLANNING_BUDGET >= 260  # 惠安县 needs about 260 more sites
        assert scn.terrain.dem.endswith("dem-synthetic.tif")
        for p in (
            scn.sites.path,
            scn.boundaries.villages,
            scn.broadband.path,
            scn.population.raster,
            scn.terrain.dem,
            scn.key_places.path,
        ):
            assert "synthetic" in p and (demo_dir / p).resolve().is_file()
        assert scn.sites.path.endswith(f"sites-{year}-synthetic.csv")
        assert scn.out_dir == (demo_dir / "runs" / scn.name).resolve()
    scn24 = load_scenario(demo_dir / FILE_NAMES["scenario_2024"])
    assert scn24.report.previous_run == str(
        (demo_dir / "runs" / "quanzhou-2023-synthetic").resolve()
    )


def test_without_terrain_the_scenarios_leave_the_dem_out(tmp_path):
    paths = build_demo(tmp_path, scale=SCALE, resolution_m=RES, terrain=False)
    assert paths["dem"].is_file()  # written anyway, for whoever turns it on
    for year in (2023, 2024):
        scn = load_scenario(paths[f"scenario_{year}"])
        assert scn.terrain.dem == ""
    assert "leave the synthetic DEM out" in paths["readme"].read_text(encoding="utf-8")


def test_readme_and_metadata(demo_dir, sites):
    readme = (demo_dir / FILE_NAMES["readme"]).read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" in readme
    assert "泉州统计年鉴2022" in readme and "22,000" in readme
    for name in (
        "鲤城区",
        "丰泽区",
        "洛江区",
        "泉港区",
        "惠安县",
        "安溪县",
        "永春县",
        "德化县",
        "石狮市",
        "晋江市",
        "南安市",
        "金门县",
    ):
        assert name in readme
    meta = json.loads((demo_dir / FILE_NAMES["metadata"]).read_text(encoding="utf-8"))
    assert meta["synthetic"] is True and meta["scale"] == SCALE
    assert meta["planning_budget"] == PLANNING_BUDGET and f"budget = {PLANNING_BUDGET}" in readme
    assert meta["totals"]["population"] == sum(POPULATION.values())
    assert meta["totals"]["sites_5g"]["2024"] == sum(EXPECTED_5G_2024.values())
    assert meta["totals"]["villages"] == sum(EXPECTED_VILLAGES.values())
    assert meta["exports"]["2024"]["rows"] == len(sites[2024])
    dehua = next(c for c in meta["counties"] if c["admin_code"] == "350526")
    assert "fujian-2024:village_reach_5g" in dehua["intended_failures"]["2024"]
    anxi = next(c for c in meta["counties"] if c["admin_code"] == "350524")
    assert "miit-gigabit-city-2021:household_gigabit_coverage" in anxi["intended_failures"]["2024"]
    # At 4 % of the sites every county is short of 5G sites per 10,000 — and the metadata says so.
    assert all(
        "miit-gigabit-city-2021:sites_5g_per_10k" in c["intended_failures"]["2024"]
        for c in meta["counties"]
    )


# ------------------------------------------------------------------------------------------------
# End to end (the whole pipeline; the lead runs it at integration)
# ------------------------------------------------------------------------------------------------


def _map_statuses(html: str) -> dict[tuple[str, str], str]:
    out = {}
    for code, st in re.findall(r'"c"\s*:\s*"(\d{6})"\s*,\s*"st"\s*:\s*(\{[^{}]*\})', html):
        for std, status in json.loads(st).items():
            out[(code, std)] = status
    return out


def _workbook_statuses(path) -> dict[tuple[str, str], str]:
    from openpyxl import load_workbook

    from gigacov.report.labels import STATUS_NAMES
    from gigacov.report.workbook import sheet_name

    ws = load_workbook(path, read_only=False)[sheet_name("county")]
    by_text = {}
    for key, (zh, en) in STATUS_NAMES.items():
        for label in (zh, en, f"{zh} / {en}", f"{zh}/{en}"):
            by_text[label] = key
    group = {}
    current = None
    for col in range(1, ws.max_column + 1):
        current = ws.cell(3, col).value or current
        group[col] = current
    out = {}
    for col in range(1, ws.max_column + 1):
        head = str(ws.cell(4, col).value or "")
        if "overall" not in head:
            continue
        for row in range(6, ws.max_row + 1):
            code = ws.cell(row, 1).value
            text = str(ws.cell(row, col).value or "").strip()
            if code:
                out[(str(code), group[col])] = by_text.get(text, text)
    return out


@pytest.mark.slow
@pytest.mark.browser
def test_run_demo_end_to_end_outputs_agree(tmp_path, monkeypatch):
    from gigacov.compliance import unit_status
    from gigacov.demo import run_demo

    monkeypatch.chdir(tmp_path)  # the maps go to ./maps/
    out = run_demo(tmp_path / "demo", resolution_m=RES, scale=SCALE)
    for key in (
        "map",
        "report",
        "workbook",
        "comparison",
        "comparison_workbook",
        "run_2023",
        "run_2024",
        "readme",
        "outcome_check",
    ):
        assert out[key].exists(), key
    for year in (2023, 2024):
        manifest = json.loads((out[f"run_{year}"] / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["scenario"]["synthetic"] is True
    comp = pd.read_csv(out["run_2024"] / "compliance.csv", dtype={"admin_code": str})
    status = unit_status(comp)
    status = status[status["level"] == "county"]
    expected = {(r.admin_code, r.standard): r.status for r in status.itertuples()}
    assert len({c for c, _ in expected}) == 12
    assert all(v == "no_data" for (c, _), v in expected.items() if c == KINMEN)
    on_map = _map_statuses(out["map"].read_text(encoding="utf-8"))
    in_book = _workbook_statuses(out["workbook"])
    for key, value in expected.items():
        assert on_map[key] == value, key
        assert in_book[key] == value, key
    # Every outcome the design predicts is what the pipeline found (at this scale every county is
    # short of 5G sites; the statistics-based failures are those of the design). Village reach of
    # the other counties is left out here: at 4 % scale a village is 25 times larger than designed,
    # so one site at its centre no longer guarantees that half of its people are covered.
    # The demo map itself works in a real browser: no JavaScript errors, the layers are there,
    # one feature per county and per village (network blocked; CDN and tiles answered locally).
    import pyogrio
    from support.map_browser import check_map

    n_villages = len(pyogrio.read_dataframe(out["run_2024"] / "indicators.gpkg", layer="village"))
    # The demo's sites carry operators: per-operator layer, report section and map switch.
    by_op = pyogrio.read_dataframe(out["run_2024"] / "indicators.gpkg", layer="county_operator")
    assert set(by_op["operator"]) == {
        "China Mobile",
        "China Telecom",
        "China Unicom",
        "China Broadnet",
    }
    assert len(by_op) == 4 * 12
    # 电信 and 联通 share one n78 network in the demo: the same coverage, their own sites
    ct = by_op[by_op["operator"] == "China Telecom"].set_index("admin_code")
    cu = by_op[by_op["operator"] == "China Unicom"].set_index("admin_code")
    assert np.allclose(ct["pop_coverage_5g"], cu["pop_coverage_5g"], equal_nan=True)
    assert (ct["sites_5g"] != cu["sites_5g"]).any()
    report_html = out["report"].read_text(encoding="utf-8")
    assert 'id="by-operator"' in report_html and "运营商对比 / by operator" in report_html
    counties_layer = "区县达标 / Counties — miit-gigabit-city-2021"
    check_map(
        out["map"],
        layers=[
            "5G覆盖 (SS-RSRP) / 5G coverage (SS-RSRP)",
            counties_layer,
            "区县达标 / Counties — fujian-2024",
            "行政村5G通达 / Villages — 5G reach",
            "重点场所5G通达 / Key places — 5G reach",
            "重点道路5G覆盖 / Key roads — 5G coverage",
            "5G基站 / 5G sites",
            "实测样本 RSRP 误差 / Field samples — RSRP error",
            "争议区域（实测与预测不符） / Disputed areas (measurements vs prediction)",
            "中国移动自有5G覆盖 / 5G covered — China Mobile",
            "中国广电自有5G覆盖 / 5G covered — China Broadnet",
        ],
        feature_counts={counties_layer: 12, "行政村5G通达 / Villages — 5G reach": n_villages},
        screenshot="demo-map",
    )
    # Field truth: the synthetic drive test, its field check, calibration and disputed areas agree.
    run24 = out["run_2024"]
    fc = json.loads((run24 / "field_check.json").read_text(encoding="utf-8"))
    cal = json.loads((run24 / "calibration.json").read_text(encoding="utf-8"))
    hexes = pyogrio.read_dataframe(run24 / "disputed.gpkg", layer="hexagons")
    samples = pyogrio.read_dataframe(run24 / "disputed.gpkg", layer="samples")
    design = json.loads((tmp_path / "demo" / FILE_NAMES["metadata"]).read_text("utf-8"))[
        "drive_test"
    ]
    assert fc["technologies"]["5G"]["n"] == cal["n"] == len(samples) > 500
    assert fc["disputed"]["hexagons"] == len(hexes)
    assert fc["disputed"]["disputed_predicted_covered_measured_not"] == int(
        (hexes["dispute"] == "predicted_covered_measured_not").sum()
    )
    for cls, bias in design["true_bias_db"].items():
        if cal["technologies"]["5G"]["n_by_class"][cls] >= 300:
            assert cal["offsets_db"][cls] == pytest.approx(bias, abs=1.5), cls
    assert cal["after"]["rmse_db"] < cal["before"]["rmse_db"]
    assert cal["after"]["rmse_db"] < design["shadowing_sigma_db"] + 1.0
    report_html = out["report"].read_text(encoding="utf-8")
    assert 'id="field-check"' in report_html
    # The report and the comparison fit any screen and every table header carries Chinese.
    from browser import reader_layout

    for kind in ("report", "comparison"):
        for width, probe in reader_layout(out[kind], screenshot=f"demo-{kind}").items():
            assert probe["scrollWidth"] <= probe["innerWidth"], (kind, width, probe)
            assert probe["unwrapped"] == 0 and probe["headersWithoutChinese"] == [], (kind, probe)
    checks = pd.read_csv(out["outcome_check"], dtype={"admin_code": str})
    judged = checks[
        (checks["indicator"] != "village_reach_5g") | (checks["admin_code"] == "350526")
    ]
    assert judged["agrees"].all(), judged[~judged["agrees"]]
    failed = checks[(checks["year"] == 2024) & (checks["actual"] == "fail")]
    assert set(failed.loc[failed["admin_code"] == "350524", "indicator"]) >= {
        "household_gigabit_coverage"
    }
    assert "village_reach_5g" in set(failed.loc[failed["admin_code"] == "350526", "indicator"])
