"""Boundaries: region selection, county-only user files, repairs and rejections, villages."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Polygon, box

from gigacov.crs import geoseries_from_wgs84
from gigacov.errors import InputError
from gigacov.ingest import load_inputs
from gigacov.ingest.boundaries import region_prefix
from gigacov.scenario import scenario_from_dict

FENGZE = (118.6438, 24.9237)


@pytest.fixture
def sites_csv(tmp_path):
    p = tmp_path / "sites.csv"
    p.write_text(f"lon,lat\n{FENGZE[0]},{FENGZE[1]}\n", encoding="utf-8")
    return p


def scn(tmp_path, sites_csv, region="350500", **boundaries):
    data = {
        "scenario": {"name": "b", "year": 2024, "region": region},
        "sites": {"path": str(sites_csv)},
    }
    if boundaries:
        data["boundaries"] = boundaries
    return scenario_from_dict(data, base_dir=tmp_path)


def report(inp, name):
    rep = next(r for r in inp.reports if r.input == name)
    assert rep.read == rep.used + rep.rejected + rep.skipped
    return rep


def test_region_prefix():
    assert region_prefix("350500") == "3505"
    assert region_prefix("350000") == "35"
    assert region_prefix("350582") == "350582"
    assert region_prefix("350582000000") == "350582"
    assert region_prefix("") == ""


def test_shipped_boundaries_region_and_parents(tmp_path, sites_csv):
    inp = load_inputs(scn(tmp_path, sites_csv))
    b = inp.boundaries
    assert b["level"].value_counts().to_dict() == {"county": 12, "city": 1, "province": 1}
    assert set(b.loc[b.level != "county", "admin_code"]) == {"350500", "350000"}
    assert list(b.columns) == ["admin_code", "name", "name_en", "level", "parent_code", "geometry"]
    rep = report(inp, "boundaries")
    # the other 80 units of Fujian are skipped (not errors), not rejected
    assert (rep.read, rep.used, rep.rejected, rep.skipped) == (94, 14, 0, 80)
    assert inp.rejected.empty
    assert str(scn(tmp_path, sites_csv).boundaries.counties) in inp.file_hashes


def test_unknown_region_is_an_error_naming_the_available_cities(tmp_path, sites_csv):
    with pytest.raises(
        InputError, match=r"no county has an admin code starting with '4401'.*350500"
    ):
        load_inputs(scn(tmp_path, sites_csv, region="440100"))


def _county_file(tmp_path, *, crs_shift=None):
    """A user's county-only GeoJSON with Chinese headers, one broken and one empty polygon."""
    shipped = gpd.read_file(scn(tmp_path, tmp_path / "x.csv").boundaries.counties)
    q = shipped[(shipped.level == "county") & shipped.admin_code.str.startswith("3505")]
    q = q[["admin_code", "name", "geometry"]].rename(
        columns={"admin_code": "行政区划代码", "name": "名称"}
    )
    q = q.copy()
    # a self-intersecting "bow tie" for 350527 (Kinmen) — invalid, repaired by make_valid
    x0, y0, x1, y1 = q.loc[q["行政区划代码"] == "350527", "geometry"].iloc[0].bounds
    bow = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
    q.loc[q["行政区划代码"] == "350527", "geometry"] = bow
    extra = gpd.GeoDataFrame(
        {"行政区划代码": ["350599", "350598"], "名称": ["空", "线"]},
        geometry=[Polygon(), shapely.LineString([(118, 25), (118.1, 25.1)])],
        crs=4326,
    )
    out = gpd.GeoDataFrame(__import__("pandas").concat([q, extra], ignore_index=True), crs=4326)
    if crs_shift:
        out["geometry"] = geoseries_from_wgs84(out.geometry, crs_shift).values
    path = tmp_path / "counties.geojson"
    out.to_file(path, driver="GeoJSON")
    return path, bow


def test_county_only_user_file_with_aliases_repairs_and_rejections(tmp_path, sites_csv):
    path, bow = _county_file(tmp_path)
    assert not bow.is_valid
    inp = load_inputs(scn(tmp_path, sites_csv, counties=str(path)))
    b = inp.boundaries.set_index("admin_code")
    # city and province rows dissolved from the counties, named from the shipped file
    assert b.loc["350500", "level"] == "city" and b.loc["350500", "name"] == "泉州市"
    assert b.loc["350000", "level"] == "province" and b.loc["350500", "parent_code"] == "350000"
    assert (
        b.loc["350582", "parent_code"] == "350500" and b.loc["350582", "name_en"] == "Jinjiang Shi"
    )
    city_area = b.loc["350500", "geometry"].area
    counties_area = shapely.area(b.loc[b.level == "county", "geometry"].to_numpy()).sum()
    assert city_area == pytest.approx(counties_area, rel=1e-6)
    # the bow tie became a valid polygon with area; reported as a repair with its count
    kinmen = b.loc["350527", "geometry"]
    assert kinmen.is_valid and kinmen.area > 0 and kinmen.geom_type in ("Polygon", "MultiPolygon")
    assert any("1 invalid boundary geometry repaired" in w for w in inp.warnings)
    rep = report(inp, "boundaries")
    assert rep.fixed == {"invalid_geometry": 1}
    rej = inp.rejected.set_index("row")
    # features 13 and 14 (0-based 12, 13) → rows 14 and 15
    assert rej.loc[14, "reason"] == "bad_geometry" and "missing or empty" in rej.loc[14, "message"]
    assert rej.loc[15, "reason"] == "bad_geometry" and "LineString" in rej.loc[15, "message"]
    assert (rep.read, rep.used, rep.rejected) == (14, 12, 2)


def test_gcj02_declared_boundaries_are_converted(tmp_path, sites_csv):
    path, _ = _county_file(tmp_path, crs_shift="gcj02")
    inp = load_inputs(scn(tmp_path, sites_csv, counties=str(path), crs="gcj02"))
    shipped = gpd.read_file(scn(tmp_path, sites_csv).boundaries.counties).set_index("admin_code")
    got = inp.boundaries.set_index("admin_code").loc["350582", "geometry"]
    ref = shipped.loc["350582", "geometry"]
    # back on the WGS84 outline to well under a metre (≈1e-5°)
    assert got.symmetric_difference(ref).area / ref.area < 1e-4


def test_villages_codes_and_parents(tmp_path, sites_csv):
    vill = gpd.GeoDataFrame(
        {
            "统计用区划代码": [
                "350582101201",
                "350582101202",
                "350102001001",
                "999999001001",
                "350582101201",
                "3505821",
            ],
            "名称": ["甲村", "乙村", "福州村", "无县", "重复", "短"],
        },
        geometry=[
            box(118.55, 24.70, 118.56, 24.71),
            box(118.56, 24.70, 118.57, 24.71),
            box(119.3, 26.0, 119.31, 26.01),
            box(118.5, 24.7, 118.51, 24.71),
            box(118.55, 24.70, 118.56, 24.71),
            box(118.5, 24.7, 118.51, 24.71),
        ],
        crs=4326,
    )
    path = tmp_path / "villages.gpkg"
    vill.to_file(path)
    inp = load_inputs(scn(tmp_path, sites_csv, villages=str(path)))
    v = inp.villages
    assert v["admin_code"].tolist() == ["350582101201", "350582101202"]
    assert (v["parent_code"] == "350582").all() and (v["level"] == "village").all()
    assert v["name_en"].tolist() == ["Jiacun", "Yicun"]
    rep = report(inp, "villages")
    assert rep.skipped == 1  # Fuzhou's village: a known county outside the region
    skipped = inp.skipped[inp.skipped.file == str(path)]
    assert skipped["reason"].tolist() == ["outside_region"] and skipped["row"].tolist() == [4]
    assert skipped["value"].str.startswith("350102").all()
    assert "belongs to county 350102, outside the region" in skipped["message"].iloc[0]
    rej = inp.rejected[inp.rejected.file == str(path)].set_index("row")
    assert rej.loc[5, "reason"] == "unknown_admin_code" and "'999999'" in rej.loc[5, "message"]
    assert rej.loc[6, "reason"] == "duplicate_id" and "row 2" in rej.loc[6, "message"]
    assert rej.loc[7, "reason"] == "unknown_admin_code"
    assert (rep.read, rep.used, rep.rejected) == (6, 2, 3)


def test_a_village_whose_polygon_lies_in_another_county_is_rejected(tmp_path, sites_csv):
    """Two villages with their codes swapped: 甲村's polygon is in 晋江市 but its code names
    德化县, 65 km away. Before, both were counted for the county their code names."""
    dehua = (118.2415, 25.4920)  # 德化县 (350526)
    vill = gpd.GeoDataFrame(
        {
            "统计用区划代码": ["350526100201", "350582101202", "350582101203"],
            "名称": ["甲村", "乙村", "丙村"],
        },
        geometry=[
            box(118.55, 24.70, 118.56, 24.71),  # in 晋江市
            box(dehua[0], dehua[1], dehua[0] + 0.01, dehua[1] + 0.01),  # in 德化县
            box(118.56, 24.70, 118.57, 24.71),  # in 晋江市, as its code says
        ],
        crs=4326,
    )
    path = tmp_path / "villages.gpkg"
    vill.to_file(path)
    inp = load_inputs(scn(tmp_path, sites_csv, villages=str(path)))
    assert inp.villages["admin_code"].tolist() == ["350582101203"]
    rej = inp.rejected[inp.rejected.file == str(path)].set_index("row")
    assert rej["reason"].tolist() == ["wrong_county", "wrong_county"]
    assert (
        "names county 德化县 (350526), but its polygon lies in 晋江市 (350582)"
        in rej.loc[2, "message"]
    )
    assert "lies in 德化县 (350526)" in rej.loc[3, "message"]


def test_population_column_on_boundaries(tmp_path, sites_csv):
    shipped = gpd.read_file(scn(tmp_path, sites_csv).boundaries.counties)
    q = shipped[shipped.admin_code.str.startswith("3505") & (shipped.level == "county")].copy()
    q["常住人口(万人)"] = 10.0
    q.loc[q.admin_code == "350582", "常住人口(万人)"] = 206.9
    q.loc[q.admin_code == "350527", "常住人口(万人)"] = -1
    path = tmp_path / "c.gpkg"
    q.to_file(path)
    data = {
        "scenario": {"name": "b", "year": 2024, "region": "350500"},
        "sites": {"path": str(sites_csv)},
        "boundaries": {"counties": str(path)},
        "population": {"column": "常住人口(万人)"},
    }
    inp = load_inputs(scenario_from_dict(data))
    b = inp.boundaries.set_index("admin_code")
    assert b.loc["350582", "population"] == pytest.approx(2_069_000)
    assert b.loc["350527", "population"] != b.loc["350527", "population"]  # NaN: negative → no data
    assert any("population" in w and "no data" in w for w in inp.warnings)
