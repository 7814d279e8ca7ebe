"""Key places: points, roads and areas from GeoJSON / CSV, categories, counties, rejections."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, Polygon

from gigacov.errors import InputError
from gigacov.ingest import KEY_PLACE_COLUMNS, load_inputs
from gigacov.ingest.key_places import normalise_category
from gigacov.scenario import scenario_from_dict

JINJIANG = (118.5501, 24.7083)
FENGZE = (118.6438, 24.9237)


def scn(tmp_path, path, **kp):
    sites = tmp_path / "sites.csv"
    sites.write_text(f"lon,lat\n{FENGZE[0]},{FENGZE[1]}\n", encoding="utf-8")
    return scenario_from_dict(
        {
            "scenario": {"name": "k", "year": 2024, "region": "350500"},
            "sites": {"path": str(sites)},
            "key_places": {"path": str(path), **kp},
        }
    )


def test_categories():
    got = [
        normalise_category(c)
        for c in [
            "三甲医院",
            "高校",
            "大学",
            "5A景区",
            "旅游区",
            "高铁站",
            "火车站",
            "机场",
            "高速公路",
            "国道",
            "市政府",
            "hospital",
            "菜市场",
            "",
        ]
    ]
    assert got == [
        "hospital",
        "university",
        "university",
        "tourism",
        "tourism",
        "railway",
        "railway",
        "airport",
        "road",
        "road",
        "government",
        "hospital",
        "",
        "",
    ]


def test_geojson_points_lines_polygons(tmp_path):
    road = LineString([(118.55, 24.70), (118.60, 24.75), (118.64, 24.92)])
    campus = Polygon([(118.64, 24.92), (118.65, 24.92), (118.65, 24.93), (118.64, 24.93)])
    bow = Polygon(
        [(118.55, 24.70), (118.56, 24.71), (118.56, 24.70), (118.55, 24.71)]
    )  # self-intersecting
    gdf = gpd.GeoDataFrame(
        {
            "名称": [
                "泉州市第一医院",
                "沈海高速泉州段",
                "华侨大学",
                "景区",
                "北京协和医院",
                "",
                "火车站",
            ],
            "类别": ["三甲医院", "高速", "高校", "风景名胜", "医院", "医院", "菜场"],
            "近似": ["是", "否", "", "1", "", "", "0"],
        },
        geometry=[
            Point(*FENGZE),
            road,
            campus,
            bow,
            Point(116.41, 39.91),
            Point(*JINJIANG),
            Point(*JINJIANG),
        ],
        crs=4326,
    )
    path = tmp_path / "重点场所.geojson"
    gdf.to_file(path, driver="GeoJSON")
    inp = load_inputs(scn(tmp_path, path))
    kp = inp.key_places
    assert list(kp.columns[: len(KEY_PLACE_COLUMNS)]) == list(KEY_PLACE_COLUMNS)
    assert kp["category"].tolist() == ["hospital", "road", "university", "tourism", "other"]
    assert kp["approximate"].tolist() == [True, False, False, True, False]
    assert kp["admin_code"].iloc[0] == "350503"
    # the road's representative point lies on the road, inside one of the counties it crosses
    assert kp["admin_code"].iloc[1] in {"350582", "350503", "350502", "350581", "350583"}
    assert kp.geometry.is_valid.all() and kp.geometry.iloc[3].area > 0
    rep = next(r for r in inp.reports if r.input == "key_places")
    assert rep.read == rep.used + rep.rejected + rep.skipped == 7
    assert rep.defaults == {"category": 1} and rep.fixed == {"invalid_geometry": 1}
    rej = inp.rejected[inp.rejected.file == str(path)].set_index("row")
    # Beijing is a valid place of another region: skipped (not rejected), named, with its position
    assert 6 not in rej.index and rep.skipped_reasons == {"outside_region": 1}
    sk = inp.skipped[inp.skipped.file == str(path)].set_index("row")
    assert sk.loc[6, "reason"] == "outside_region" and sk.loc[6, "value"] == "116.41, 39.91"
    assert sk.loc[6, "message"].startswith("'北京协和医院' at 116.41, 39.91 as written")
    assert rej.loc[7, "reason"] == "missing_value" and rej.loc[7, "column"] == "名称"
    assert kp["place_id"].tolist()[0] == "kp-2"


def test_csv_with_wkt_and_lonlat(tmp_path):
    path = tmp_path / "kp.csv"
    path.write_text(
        "name,category,wkt\n"
        f'码头路,道路,"LINESTRING (118.60 24.90, 118.62 24.91)"\n'
        f"医院,医院,POINT ({FENGZE[0]} {FENGZE[1]})\n"
        "坏,医院,POINT (abc)\n",
        encoding="utf-8",
    )
    inp = load_inputs(scn(tmp_path, path))
    assert inp.key_places["category"].tolist() == ["road", "hospital"]
    assert inp.rejected["reason"].tolist() == ["bad_geometry"] and inp.rejected["row"].tolist() == [
        4
    ]
    path2 = tmp_path / "kp2.csv"
    path2.write_text(
        f"名称,类型,经度,纬度\n机场,机场,{JINJIANG[0]},{JINJIANG[1]}\n", encoding="utf-8"
    )
    inp = load_inputs(scn(tmp_path, path2))
    assert inp.key_places["category"].tolist() == ["airport"]
    assert inp.key_places.geometry.iloc[0].equals(Point(*JINJIANG))


def test_no_name_column_is_an_error(tmp_path):
    path = tmp_path / "kp.csv"
    path.write_text(f"类别,经度,纬度\n医院,{JINJIANG[0]},{JINJIANG[1]}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no name column.*'类别'"):
        load_inputs(scn(tmp_path, path))
