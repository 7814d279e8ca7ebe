"""Users' real files: GBK shapefiles without .cpg in CGCS2000 Gauss–Krüger (with and without
.prj), operator workbooks with title rows and Chinese headers, DMS with prime characters, band
ranges, column mappings. Every fixture is built here with the real writers (pyogrio, openpyxl)."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from gigacov.cli import main
from gigacov.errors import ConfigError, InputError
from gigacov.ingest import load_inputs
from gigacov.scenario import scenario_from_dict

JINJIANG = (118.5501, 24.7083)  # 350582 晋江市
SHISHI = (118.6759, 24.7422)  # 350581 石狮市

SITES_CSV = "站号,经度,纬度,制式\nA1,{:.5f},{:.5f},5G\nA2,{:.5f},{:.5f},5G\n".format(
    *JINJIANG, *SHISHI
)


def write_villages(tmp_path, *, prj=True, names=True, crs=4528, name="villages.shp"):
    """A GBK village shapefile (no .cpg) of 8 villages in 晋江市 and 石狮市, in ``crs``."""
    rows = []
    for county, (x0, y0), county_name in (
        ("350582", JINJIANG, "晋江市"),
        ("350581", SHISHI, "石狮市"),
    ):
        for k in range(4):
            x, y = x0 + 0.012 * (k % 2), y0 + 0.012 * (k // 2)
            rows.append(
                {
                    "村代码": f"{county}101{k + 1:03d}",
                    "村名称": f"青阳{k + 1}村" if names else None,
                    "乡镇名称": "青阳街道",
                    "区县名称": county_name,
                    "geometry": shapely.box(x - 0.005, y - 0.005, x + 0.005, y + 0.005),
                }
            )
    gdf = gpd.GeoDataFrame(rows, crs=4326).to_crs(crs)
    path = tmp_path / name
    gdf.to_file(path, encoding="gbk", engine="pyogrio")
    for ext in (".cpg", ".CPG"):
        path.with_suffix(ext).unlink(missing_ok=True)
    if not prj:
        path.with_suffix(".prj").unlink()
    dbf = path.with_suffix(".dbf").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        dbf.decode("utf-8")  # really GBK, as users' files are
    return path


def scenario(tmp_path, **sections):
    (tmp_path / "sites.csv").write_text(SITES_CSV, encoding="utf-8")
    data = {
        "scenario": {"name": "t", "year": 2024, "region": "350500"},
        "sites": {"path": "sites.csv"},
    }
    for k, v in sections.items():
        data.setdefault(k, {}).update(v)
    return scenario_from_dict(data, base_dir=tmp_path)


def write_toml(tmp_path, text: str):
    (tmp_path / "sites.csv").write_text(SITES_CSV, encoding="utf-8")
    p = tmp_path / "s.toml"
    p.write_text(
        '[scenario]\nname = "t"\nyear = 2024\nregion = "350500"\n'
        f'out_dir = "{tmp_path / "out"}"\n[sites]\npath = "sites.csv"\n' + text,
        encoding="utf-8",
    )
    return p


# ------------------------------------------------------------------------------------------------
# Projected files read as degrees
# ------------------------------------------------------------------------------------------------


def test_gauss_krueger_gbk_shapefile_with_prj_reads_names_and_places(tmp_path):
    path = write_villages(tmp_path)
    inp = load_inputs(scenario(tmp_path, boundaries={"villages": str(path)}))
    v = inp.villages.set_index("admin_code")
    assert len(v) == 8
    assert v.loc["350582101001", "name"] == "青阳1村"  # 村代码 / 村名称, GBK without .cpg
    c = v.loc["350582101001"].geometry.centroid
    assert abs(c.x - JINJIANG[0]) < 1e-6 and abs(c.y - JINJIANG[1]) < 1e-6
    assert not any("name" in w for w in inp.warnings)


def test_a_gbk_shapefile_whose_cpg_says_utf8_is_read_as_gbk_with_a_warning(tmp_path):
    """A .cpg saying UTF-8 beside a GBK DBF (copied from another layer, or written by a tool
    that always says UTF-8): before, the run stopped on a raw UnicodeDecodeError, and no key
    could fix it."""
    path = write_villages(tmp_path)
    path.with_suffix(".cpg").write_text("UTF-8", encoding="ascii")
    inp = load_inputs(scenario(tmp_path, boundaries={"villages": str(path)}))
    assert inp.villages.set_index("admin_code").loc["350582101001", "name"] == "青阳1村"
    assert any("its villages.cpg says 'UTF-8', but the attributes are not" in w
               for w in inp.warnings)  # fmt: skip


def test_gauss_krueger_shapefile_without_prj_fails_validate_naming_range_and_key(tmp_path):
    path = write_villages(tmp_path, prj=False)
    toml = write_toml(tmp_path, f'[boundaries]\nvillages = "{path}"\n')
    res = CliRunner().invoke(main, ["validate", str(toml)])
    assert res.exit_code == 1, res.output
    msg = " ".join(res.output.split())
    assert str(path) in msg
    assert "x 40,3" in msg and "y 2,7" in msg  # the coordinate range found
    assert '[boundaries] villages_crs = "EPSG:4528"' in msg  # the key to set, zone 40 recognised
    assert "Traceback" not in res.output
    # declaring it makes the same file work
    inp = load_inputs(
        scenario(tmp_path, boundaries={"villages": str(path), "villages_crs": "EPSG:4528"})
    )
    assert len(inp.villages) == 8


def test_projected_villages_message_names_villages_crs_when_set(tmp_path):
    path = write_villages(tmp_path, prj=False)
    with pytest.raises(InputError, match=r"\[boundaries\] villages_crs = "):
        load_inputs(
            scenario(tmp_path, boundaries={"villages": str(path), "villages_crs": "cgcs2000"})
        )


def test_projected_counties_without_prj_fail(tmp_path):
    from gigacov.scenario import default_boundaries_path

    counties = gpd.read_file(default_boundaries_path())
    counties = counties[counties["admin_code"].str.startswith("3505")].to_crs(4528)
    counties = counties[["admin_code", "name", "geometry"]]
    path = tmp_path / "counties.shp"
    counties.to_file(path, encoding="gbk")
    path.with_suffix(".prj").unlink()
    with pytest.raises(
        InputError, match=r"counties.shp: the coordinates range over x 40,.*\[boundaries\] crs = "
    ):
        load_inputs(scenario(tmp_path, boundaries={"counties": str(path)}))


def test_projected_key_places_and_candidates_fail(tmp_path):
    from gigacov.planning.candidates import read_candidates

    x, y = (
        gpd.GeoSeries(gpd.points_from_xy([JINJIANG[0]], [JINJIANG[1]]), crs=4326)
        .to_crs(4528)
        .iloc[0]
        .coords[0]
    )
    kp = tmp_path / "kp.csv"
    kp.write_text(f"名称,类别,X,Y\n晋江医院,医院,{x:.2f},{y:.2f}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"kp.csv: .*range over x 40,.*\[key_places\] crs"):
        load_inputs(scenario(tmp_path, key_places={"path": str(kp)}))
    inp = load_inputs(scenario(tmp_path, key_places={"path": str(kp), "crs": "EPSG:4528"}))
    p = inp.key_places.geometry.iloc[0]
    assert abs(p.x - JINJIANG[0]) < 1e-6
    cand = tmp_path / "cand.csv"
    cand.write_text(f"编号,经度,纬度\nT1,{x:.2f},{y:.2f}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"cand.csv: .*\[planning\] candidates_crs"):
        read_candidates(cand)


# ------------------------------------------------------------------------------------------------
# Column mappings and names
# ------------------------------------------------------------------------------------------------


def test_missing_village_names_warn_with_a_count_and_label_by_code(tmp_path):
    path = write_villages(tmp_path, names=False, crs=4326)
    inp = load_inputs(scenario(tmp_path, boundaries={"villages": str(path)}))
    assert (inp.villages["name"] == inp.villages["admin_code"]).all()
    assert any("8 village unit(s) have no name" in w for w in inp.warnings)
    rep = next(r for r in inp.reports if r.input == "villages")
    assert rep.defaults["name"] == 8


def test_unmapped_code_column_suggests_the_exact_mapping_and_the_mapping_works(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"VCODE": ["350582101001"], "VNAME": ["青阳村"]},
        geometry=[shapely.box(118.54, 24.70, 118.55, 24.71)],
        crs=4326,
    )
    path = tmp_path / "v.gpkg"
    gdf.to_file(path)
    with pytest.raises(InputError) as err:
        load_inputs(scenario(tmp_path, boundaries={"villages": str(path)}))
    assert '[boundaries.villages_columns]\n    admin_code = "<the header in your file>"' in str(
        err.value
    )
    toml = write_toml(
        tmp_path,
        f'[boundaries]\nvillages = "{path}"\n'
        '[boundaries.villages_columns]\nadmin_code = "VCODE"\nname = "VNAME"\n',
    )
    from gigacov.scenario import load_scenario

    inp = load_inputs(load_scenario(toml))
    assert inp.villages["name"].tolist() == ["青阳村"]
    with pytest.raises(
        ConfigError, match=r"\[boundaries.villages_columns\] nmae = 'VNAME'.*'name'"
    ):
        load_inputs(
            scenario(
                tmp_path,
                boundaries={"villages": str(path), "villages_columns": {"nmae": "VNAME"}},
            )
        )


# ------------------------------------------------------------------------------------------------
# An operator's workbook
# ------------------------------------------------------------------------------------------------


def write_operator_xlsx(path):
    import datetime

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "5G站点"
    ws.append(["泉州分公司5G基站清单（2024年12月）"])
    ws.append([])
    ws.append(
        [
            "基站编号",
            "基站名称",
            "经度",
            "纬度",
            "网络制式",
            "工作频段",
            "方位角",
            "天线挂高(m)",
            "开通时间",
        ]
    )
    ws.append(
        [
            "Q1",
            "晋江青阳",
            "118°33′00.4″",
            "24°42′29.9″",
            "NR",
            "2515-2675MHz",
            "0/120/240",
            30,
            datetime.datetime(2021, 6, 30),
        ]
    )
    ws.append(
        ["Q2", "石狮宝盖", "118°40'33.2\"", "24°44'31.9\"", "NR", "3400-3500MHz", 90, "25米", 44378]
    )  # an Excel serial day number (2021-07-01)
    ws.append(
        [
            "Q3",
            "晋江安海",
            "118度33分0.4秒",
            "24度42分29.9秒",
            "LTE",
            "1850-1870M",
            45,
            35,
            "2022年3月",
        ]
    )
    wb.save(path)


def test_operator_xlsx_title_rows_primes_band_ranges_and_sectors(tmp_path):
    p = tmp_path / "sites.xlsx"
    write_operator_xlsx(p)
    scn = scenario(tmp_path)
    scn = scn.replace(sites={"path": str(p)})
    inp = load_inputs(scn)
    assert inp.rejected.empty, inp.rejected.to_dict("records")
    c = inp.cells.set_index("cell_id")
    assert len(inp.cells) == 5  # Q1 split into three sectors
    q1 = inp.cells[inp.cells["site_id"] == "Q1"]
    assert sorted(q1["azimuth_deg"]) == [0.0, 120.0, 240.0]
    assert q1["source_row"].tolist() == [4, 4, 4]  # title row + blank row + header
    np.testing.assert_allclose(q1["lon"], 118 + 33 / 60 + 0.4 / 3600, atol=1e-9)
    np.testing.assert_allclose(q1["freq_mhz"], 2595.0)  # the centre of 2515–2675 MHz
    assert (q1["bandwidth_mhz"] == 100.0).all()  # 160 MHz is a band, not a carrier: default
    q2 = c.loc[inp.cells.loc[inp.cells["site_id"] == "Q2", "cell_id"].iloc[0]]
    assert q2["freq_mhz"] == 3450.0 and q2["bandwidth_mhz"] == 100.0 and q2["height_m"] == 25.0
    q3 = inp.cells[inp.cells["site_id"] == "Q3"].iloc[0]
    assert q3["tech"] == "4G" and q3["bandwidth_mhz"] == 20.0 and q3["freq_mhz"] == 1860.0
    assert q3["lon"] == pytest.approx(q1["lon"].iloc[0], abs=1e-9)
    years = inp.cells.groupby("site_id")["commissioned_year"].first().to_dict()
    assert years == {"Q1": 2021, "Q2": 2021, "Q3": 2022}
    rep = next(r for r in inp.reports if r.input == "sites")
    assert rep.fixed["sectors_split"] == 1


# ------------------------------------------------------------------------------------------------
# Key places: several files, mixed rows, Amap category paths
# ------------------------------------------------------------------------------------------------


def test_key_places_from_several_files_mixed_rows_and_amap_paths(tmp_path):
    from gigacov.crs import wgs84_to_gcj02

    amap = tmp_path / "amap-pois.csv"
    glon, glat = wgs84_to_gcj02(np.array([SHISHI[0]]), np.array([SHISHI[1]]))
    amap.write_text(
        "name,type,location\n"
        f'泉州某学院,科教文化服务;学校;高等院校,"{glon[0]:.6f},{glat[0]:.6f}"\n'
        f'晋江市医院,医疗保健服务;综合医院;综合医院,"{glon[0] + 0.01:.6f},{glat[0]:.6f}"\n'
        f'某中学,科教文化服务;学校;中学,"{glon[0] + 0.02:.6f},{glat[0]:.6f}"\n',
        encoding="utf-8",
    )
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "名称,类别,经度,纬度,wkt\n"
        f"青阳站,火车站,{JINJIANG[0]},{JINJIANG[1]},\n"
        f'滨海路,道路,,,"LINESTRING ({JINJIANG[0]} {JINJIANG[1]}, {SHISHI[0]} {SHISHI[1]})"\n',
        encoding="utf-8",
    )
    (tmp_path / "sites.csv").write_text(SITES_CSV, encoding="utf-8")
    (tmp_path / "s.toml").write_text(
        '[scenario]\nname = "t"\nyear = 2024\nregion = "350500"\n[sites]\npath = "sites.csv"\n'
        '[key_places]\npath = ["amap-pois.csv", "mixed.csv"]\ncrs = "gcj02"\n',
        encoding="utf-8",
    )
    from gigacov.scenario import load_scenario

    scn = load_scenario(tmp_path / "s.toml")
    assert scn.key_places.path == [str(amap), str(mixed)]
    inp = load_inputs(scn)
    assert inp.rejected.empty, inp.rejected.to_dict("records")
    kp = inp.key_places.set_index("name")
    assert kp["category"].to_dict() == {
        "泉州某学院": "university",
        "晋江市医院": "hospital",
        "某中学": "other",
        "青阳站": "railway",
        "滨海路": "road",
    }
    assert kp.loc["泉州某学院"].geometry.distance(shapely.Point(*SHISHI)) < 1e-5  # GCJ-02 undone
    assert kp.loc["滨海路"].geometry.geom_type == "LineString"
    assert len(set(inp.key_places["place_id"])) == 5  # ids unique across the two files
    reps = [r for r in inp.reports if r.input == "key_places"]
    assert [(r.read, r.used) for r in reps] == [(3, 3), (2, 2)]
    from gigacov.maps.layers import KEY_PLACE_SYMBOLS

    assert "grade" not in KEY_PLACE_SYMBOLS["hospital"][1]  # no grade the data does not give


def test_amap_three_category_columns_and_unknown_categories_are_said(tmp_path):
    """Amap POI exports give 大类 / 中类 / 小类 columns: read as one path, most specific first;
    places no category word names count as 'other' with a warning naming examples."""
    x, y = SHISHI
    pois = tmp_path / "高德POI.csv"
    pois.write_text(
        "名称,大类,中类,小类,经度,纬度\n"
        f"泉州某学院,科教文化服务,学校,高等院校,{x},{y}\n"
        f"石狮市医院,医疗保健服务,综合医院,三级甲等医院,{x + 0.01},{y}\n"
        f"石狮汽车站,交通设施服务,长途汽车站,,{x + 0.02},{y}\n"
        f"某菜市场,购物服务,综合市场,农贸市场,{x + 0.03},{y}\n",
        encoding="gbk",
    )
    # Amap's coordinates are GCJ-02: an export read as WGS 84 without a word put 11 of 15
    # places near county borders in the wrong county; undeclared, it now stops
    with pytest.raises(
        InputError, match=r"looks like an Amap \(高德\) export \(中类, 大类, 小类\)"
    ):
        load_inputs(scenario(tmp_path, key_places={"path": str(pois)}))
    declared = load_inputs(scenario(tmp_path, key_places={"path": str(pois), "crs": "wgs84"}))
    assert any("is declared WGS 84: Amap's own coordinates are GCJ-02" in w
               for w in declared.warnings)  # fmt: skip
    inp = load_inputs(scenario(tmp_path, key_places={"path": str(pois), "crs": "gcj02"}))
    kp = inp.key_places.set_index("name")
    assert kp["category"].to_dict() == {
        "泉州某学院": "university",
        "石狮市医院": "hospital",
        "石狮汽车站": "other",
        "某菜市场": "other",
    }
    warn = next(w for w in inp.warnings if "count as 'other'" in w)
    assert "2 place(s)" in warn and "'大类' / '中类' / '小类'" in warn
    assert "'购物服务;综合市场;农贸市场'" in warn


def test_key_place_mapping_error_names_the_file(tmp_path):
    pois = tmp_path / "pois.csv"
    pois.write_text(f"名称,经度,纬度\n医院,{SHISHI[0]},{SHISHI[1]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"pois\.csv: \[key_places\.columns\] category"):
        load_inputs(
            scenario(tmp_path, key_places={"path": str(pois), "columns": {"category": "类型"}})
        )


def test_each_key_places_file_can_have_its_own_crs_and_columns(tmp_path):
    """A government list in WGS84 and an Amap export in GCJ-02 with headers of its own: one
    [[key_places.files]] entry each; both land where they are."""
    from gigacov.crs import wgs84_to_gcj02
    from gigacov.scenario import load_scenario

    gov = tmp_path / "重点场所清单.csv"
    gov.write_text(f"名称,类别,经度,纬度\n晋江站,火车站,{JINJIANG[0]},{JINJIANG[1]}\n", "utf-8")
    glon, glat = wgs84_to_gcj02(np.array([SHISHI[0]]), np.array([SHISHI[1]]))
    amap = tmp_path / "amap.csv"
    amap.write_text(
        f"POI名称,大类,中类,小类,X,Y\n石狮医院,医疗保健服务,综合医院,,{glon[0]},{glat[0]}\n",
        "utf-8",
    )
    (tmp_path / "sites.csv").write_text(SITES_CSV, encoding="utf-8")
    (tmp_path / "s.toml").write_text(
        '[scenario]\nname = "t"\nyear = 2024\nregion = "350500"\n[sites]\npath = "sites.csv"\n'
        '[key_places]\npath = "重点场所清单.csv"\n'
        '[[key_places.files]]\npath = "amap.csv"\ncrs = "gcj02"\n'
        'columns = { name = "POI名称", lon = "X", lat = "Y" }\n',
        encoding="utf-8",
    )
    scn = load_scenario(tmp_path / "s.toml")
    assert [f.path for f in scn.key_places.sources()] == [str(gov), str(amap)]
    assert [f.crs for f in scn.key_places.sources()] == ["", "gcj02"]  # "": not declared
    inp = load_inputs(scn)
    assert inp.rejected.empty, inp.rejected.to_dict("records")
    kp = inp.key_places.set_index("name")
    assert kp.loc["晋江站"].geometry.distance(shapely.Point(*JINJIANG)) < 1e-9  # not shifted
    assert kp.loc["石狮医院"].geometry.distance(shapely.Point(*SHISHI)) < 1e-5  # GCJ-02 undone
    assert kp.loc["石狮医院", "category"] == "hospital"
    # a files entry without a path is a configuration error naming it
    (tmp_path / "s.toml").write_text(
        '[scenario]\nname = "t"\nyear = 2024\nregion = "350500"\n[sites]\npath = "sites.csv"\n'
        '[[key_places.files]]\ncrs = "gcj02"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"\[key_places\] files\[0\]: no path"):
        load_scenario(tmp_path / "s.toml")


def test_place_ids_are_unique_within_a_file_not_across_files(tmp_path):
    """Ids number the rows of one list: two lists both numbered from 1 are both read (the later
    id prefixed); an id repeated within one file is rejected naming its first row."""
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text(f"id,名称,经度,纬度\nP1,医院,{JINJIANG[0]},{JINJIANG[1]}\n", encoding="utf-8")
    b.write_text(
        f"id,名称,经度,纬度\nP1,学校,{SHISHI[0]},{SHISHI[1]}\nP1,车站,{SHISHI[0]},{SHISHI[1]}\n",
        encoding="utf-8",
    )
    inp = load_inputs(scenario(tmp_path, key_places={"path": [str(a), str(b)]}))
    rej = inp.rejected
    assert rej["reason"].tolist() == ["duplicate_id"] and rej["row"].tolist() == [3]
    assert rej["file"].iloc[0] == str(b) and "row 2 of this file" in rej["message"].iloc[0]
    assert inp.key_places["place_id"].tolist() == ["P1", "kp2-P1"]


# ------------------------------------------------------------------------------------------------
# Counting rows, and the site-conflict rule
# ------------------------------------------------------------------------------------------------


def test_duplicate_site_id_at_two_places_with_two_names_is_a_conflict_naming_both_rows(tmp_path):
    x, y = JINJIANG
    dx = 130.0 / (111_320.0 * np.cos(np.radians(y)))  # 130 m east
    d20 = 20.0 / (111_320.0 * np.cos(np.radians(y)))
    text = (
        "站号,小区号,站名,经度,纬度,制式,方位角\n"
        f"A1,1,青阳大厦,{x:.7f},{y:.7f},5G,0\n"
        f"B1,1,安海中学,{SHISHI[0]:.7f},{SHISHI[1]:.7f},5G,0\n"
        f"A1,2,安海镇区,{x + dx:.7f},{y:.7f},5G,120\n"
        f"B1,2,安海中学,{SHISHI[0] + d20:.7f},{SHISHI[1]:.7f},5G,120\n"  # 20 m: same site
    )
    path = tmp_path / "站点清单.csv"
    path.write_bytes(text.encode("gbk"))
    inp = load_inputs(scenario(tmp_path).replace(sites={"path": str(path)}))
    rej = inp.rejected.set_index("row")
    assert rej["reason"].to_dict() == {2: "site_conflict", 4: "site_conflict"}
    assert "row 4, 130 m away, named '安海镇区' there and '青阳大厦' here" in rej.loc[2, "message"]
    assert "row 2, 130 m away, named '青阳大厦' there and '安海镇区' here" in rej.loc[4, "message"]
    assert sorted(inp.cells["site_id"]) == ["B1", "B1"]
    # a tighter tolerance splits B1 too; the same positions and names are never a conflict
    inp = load_inputs(
        scenario(tmp_path).replace(sites={"path": str(path), "same_site_tolerance_m": 10.0})
    )
    assert (inp.rejected["reason"] == "site_conflict").sum() == 4


def test_a_split_row_in_conflict_is_listed_once_with_its_reason_once(tmp_path):
    """A site-level row of three sectors whose id conflicts with another row: one rejected row,
    the conflict said once for its three cells, not three times; repairs count used rows."""
    x, y = JINJIANG
    dx = 300.0 / (111_320.0 * np.cos(np.radians(y)))
    path = tmp_path / "site-level.csv"
    path.write_text(
        "站号,站名,经度,纬度,制式,方位角\n"
        f"A1,青阳,{x:.7f},{y:.7f},5G,0/120/240\n"
        f"A1,青阳,{x + dx:.7f},{y:.7f},5G,0/120/240\n"  # same id 300 m away
        f"B1,安海,{y:.7f},{x:.7f},5G,0/120/240\n"  # lat/lon exchanged: repaired, split, used
        f"C1,石狮,{y:.7f},{SHISHI[0]:.7f},5G,0/120/240\n",  # exchanged, but C1's lon is bad
        encoding="utf-8",
    )
    path.write_text(path.read_text("utf-8").replace(f"{y:.7f},{SHISHI[0]:.7f}", "x,1"), "utf-8")
    inp = load_inputs(scenario(tmp_path).replace(sites={"path": str(path)}))
    rep = next(r for r in inp.reports if r.input == "sites")
    assert (rep.read, rep.used, rep.rejected, rep.cells) == (4, 1, 3, 3)
    # fixed counts the rows used after a repair: B1 (split and swapped), not the rejected rows
    assert rep.fixed == {"sectors_split": 1, "lat_lon_swapped": 1}
    # like every count of the report, defaults are rows: B1's three cells are one row
    assert all(v <= rep.used for v in rep.defaults.values()), rep.defaults
    rej = inp.rejected.set_index("row")
    assert rej.loc[2, "reason"] == "site_conflict" and rej.index.is_unique
    msg = rej.loc[2, "message"]
    assert msg.count("300 m away") == 1, msg
    assert "sector 1 (azimuth 0), sector 2 (azimuth 120), sector 3 (azimuth 240): " in msg


def test_a_split_row_is_one_row_used_or_rejected_and_late_sites_are_skipped(tmp_path):
    x, y = JINJIANG
    path = tmp_path / "planning-sheet.csv"
    path.write_text(
        "站号,经度,纬度,制式,方位角,开通年份\n"
        f"S1,{x},{y},5G,0/120/240,2021\n"
        f"S2,{x + 0.01},{y},5G,0/120/800,2021\n"  # one sector out of range: the row is rejected
        f"S3,{x + 0.02},{y},5G,0/180,2026\n",  # commissioned after 2024: skipped
        encoding="utf-8",
    )
    toml = write_toml(tmp_path, "")
    toml.write_text(toml.read_text("utf-8").replace('"sites.csv"', f'"{path}"'), "utf-8")
    res = CliRunner().invoke(main, ["validate", "--json", str(toml)])
    assert res.exit_code == 0, res.output
    import json

    doc = json.loads(res.stdout)
    rep = next(r for r in doc["inputs"] if r["input"] == "sites")
    assert (rep["read"], rep["used"], rep["rejected"], rep["skipped"]) == (3, 1, 1, 1)
    # the warnings of the inputs are in the JSON document (the late site among them)
    assert any("not_yet_commissioned" in w for w in doc["warnings"])
    assert rep["cells"] == 3 and rep["skipped_reasons"] == {"not_yet_commissioned": 1}
    rejected = pd.read_csv(tmp_path / "out" / "rejected_rows.csv")
    assert rejected["row"].tolist() == [3]  # once, not once per sector
    msg = rejected["message"].iloc[0]
    assert msg.startswith("the row makes 3 cells; 1 cannot be used, so none is: sector 3")
    assert "800" in msg
    # the skipped row is listed once too (not once per sector), with the value that decided it
    skipped = pd.read_csv(tmp_path / "out" / "skipped_rows.csv", dtype=str)
    skipped = skipped[skipped["file"] == str(path)]  # (the other counties of Fujian are too)
    assert skipped[["row", "column", "value", "reason"]].values.tolist() == [
        ["4", "开通年份", "2026", "not_yet_commissioned"]
    ]
    assert "after the scenario year 2024" in skipped["message"].iloc[0]
    assert "skipped rows: " not in res.stdout  # --json: one JSON document on stdout


# ------------------------------------------------------------------------------------------------
# New sites look like the existing network
# ------------------------------------------------------------------------------------------------


def test_new_site_radio_comes_from_the_county_network_then_region_then_fallback(tmp_path):
    from gigacov.planning.defaults import new_site_radio, section_for

    p = tmp_path / "sites.xlsx"
    write_operator_xlsx(p)  # all 5G at 2.6 GHz in 晋江 (Q1), 3.45 GHz in 石狮 (Q2)
    inp = load_inputs(scenario(tmp_path).replace(sites={"path": str(p)}))
    scn = scenario(tmp_path)
    radio = new_site_radio(scn.planning, inp.cells, ["350582", "350581", "350583"])
    jj = radio["350582"]
    assert jj["values"]["freq_mhz"] == 2595.0 and jj["values"]["bandwidth_mhz"] == 100.0
    assert jj["values"]["site_height_m"] == 30.0
    assert "county 350582's 5G network" in jj["source"]["freq_mhz"]
    assert radio["350581"]["values"]["site_height_m"] == 25.0
    # 南安 has no 5G cells: the region's most common carrier (3 cells at 2595 MHz vs 1 at 3450)
    na = radio["350583"]
    assert na["values"]["freq_mhz"] == 2595.0 and "region" in na["source"]["freq_mhz"]
    assert na["values"]["eirp_dbm"] == 61.0  # the workbook gives none: ingest's default, reused
    # what the scenario says wins
    scn2 = scn.replace(planning={"freq_mhz": 3500.0, "bandwidth_mhz": 100.0, "scs_khz": 30.0})
    radio2 = new_site_radio(scn2.planning, inp.cells, ["350582"])
    assert radio2["350582"]["values"]["freq_mhz"] == 3500.0
    assert radio2["350582"]["source"]["freq_mhz"] == "scenario"
    assert section_for(scn.planning, radio, "350581").freq_mhz == 3450.0


# ------------------------------------------------------------------------------------------------
# No data is not zero
# ------------------------------------------------------------------------------------------------


def test_a_list_without_4g_cells_gives_no_4g_coverage_rather_than_zero(tmp_path):
    from gigacov.pipeline import run

    scn = scenario(tmp_path).replace(
        scenario={"region": "350581", "out_dir": str(tmp_path / "out")},
        grid={"resolution_m": 1000.0},
        compute={"progress": False},
    )
    result = run(scn, until="coverage")
    assert any("no 4G cells in the site list" in w for w in result.inputs.warnings)
    assert set(result.coverage) == {"5G"}  # 4G not computed: unknown, not 0 %
    assert not list((tmp_path / "out").glob("*_4g.tif"))
    assert (tmp_path / "out" / "covered.tif").exists()


def test_a_site_list_from_some_operators_only_is_said(tmp_path):
    x, y = JINJIANG
    path = tmp_path / "移动站点.csv"
    path.write_text(
        f"站号,经度,纬度,制式,运营商\nM1,{x},{y},5G,中国移动\nB1,{x + 0.01},{y},5G,中国广电\n",
        encoding="utf-8",
    )
    inp = load_inputs(scenario(tmp_path).replace(sites={"path": str(path)}))
    warn = [w for w in inp.warnings if "describe these operators' networks" in w]
    assert warn and "cells of 中国移动, 中国广电 only, none of 中国电信, 中国联通" in warn[0]
    path.write_text(
        "站号,经度,纬度,制式,运营商\n"
        + "".join(
            f"S{i},{x + 0.01 * i},{y},5G,{op}\n" for i, op in enumerate(["移动", "电信", "联通"])
        ),
        encoding="utf-8",
    )
    inp = load_inputs(scenario(tmp_path).replace(sites={"path": str(path)}))
    assert not [w for w in inp.warnings if "describe these operators' networks" in w]


def test_a_band_the_operator_holds_no_carrier_in_is_said(tmp_path):
    x, y = JINJIANG
    path = tmp_path / "电信站点.csv"
    path.write_text(
        f"站号,经度,纬度,制式,运营商,频段\nT1,{x},{y},5G,中国电信,n41\nT2,{x + 0.01},{y},5G,中国电信,n78\n",
        encoding="utf-8",
    )
    inp = load_inputs(scenario(tmp_path).replace(sites={"path": str(path)}))
    warn = [w for w in inp.warnings if "holds no carrier" in w]
    assert warn and "1 row(s)" in warn[0] and "China Telecom 5G" in warn[0]


def test_sites_from_several_files_one_per_operator(tmp_path):
    """Each operator sends its own export with its own headers: [sites] path takes a list; every
    row of every file is counted once, rejected rows name their file, and an id two files use
    for two places stays two sites."""
    import openpyxl

    x, y = JINJIANG
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["中国移动泉州分公司5G基站清单"])  # a title row
    ws.append(["站号", "经度", "纬度", "网络制式", "运营商", "频段"])
    ws.append(["A1", x, y, "NR", "中国移动", "n41"])
    ws.append(["A2", x + 0.01, y, "NR", "中国移动", "n41"])
    ws.append(["A3", None, y, "NR", "中国移动", "n41"])  # no longitude: rejected
    cmcc = tmp_path / "移动.xlsx"
    wb.save(cmcc)
    ctcu = tmp_path / "电信联通.csv"
    ctcu.write_bytes(
        (
            "基站编号,东经,北纬,制式,运营商,频段\n"
            f"A1,{x + 0.05},{y},5G,中国电信,n78\n"  # A1 again, 5 km away: another site
            f"U1,{x + 0.02},{y},5G,中国联通,n78\n"
        ).encode("gbk")
    )
    scn = scenario(tmp_path).replace(sites={"path": [str(cmcc), str(ctcu)]})
    inp = load_inputs(scn)
    rep = next(r for r in inp.reports if r.input == "sites")
    assert (rep.read, rep.used, rep.rejected, rep.skipped) == (5, 4, 1, 0)
    assert rep.path == f"{cmcc}; {ctcu}"
    assert sorted(inp.cells["site_id"]) == ["A1", "A1@电信联通.csv", "A2", "U1"]
    assert set(inp.cells["operator"]) == {"China Mobile", "China Telecom", "China Unicom"}
    rej = inp.rejected
    assert rej["file"].tolist() == [str(cmcc)] and rej["row"].tolist() == [5]
    assert any("1 of 5 row(s) rejected (missing_value: 1)" in w for w in inp.warnings)


def test_two_longitude_columns_are_never_chosen_between_silently(tmp_path):
    """An export with 经度/纬度 (the operator's own, GCJ-02 here) beside 经度WGS84/纬度WGS84:
    before, the alias order picked one pair without a word; now the run stops, naming both
    pairs and the mapping that chooses, and the mapping is enough to go on."""
    from gigacov.errors import InputError
    from gigacov.ingest import load_inputs
    from gigacov.scenario import scenario_from_dict

    p = tmp_path / "基站_双坐标.csv"
    p.write_text(
        "站号,经度,纬度,经度WGS84,纬度WGS84,制式\n"
        "Q1,118.5921,24.9064,118.5872,24.9093,5G\n"
        "Q2,118.6021,24.9164,118.5972,24.9193,5G\n",
        encoding="utf-8",
    )

    def scenario(columns=None):
        sites = {"path": str(p)} | ({"columns": columns} if columns else {})
        return scenario_from_dict(
            {"scenario": {"name": "t", "year": 2024, "region": "350500"}, "sites": sites}
        )

    with pytest.raises(InputError) as err:
        load_inputs(scenario())
    msg = str(err.value)
    assert "2 columns hold a longitude: '经度', '经度WGS84'" in msg
    assert "[sites.columns]" in msg and 'lon = "<longitude header>"' in msg
    inp = load_inputs(scenario({"lon": "经度WGS84", "lat": "纬度WGS84"}))
    assert sorted(inp.cells["lon"].round(4)) == [118.5872, 118.5972]
    # the same header twice (经度, 经度): the second is read as 经度.1 and is a choice too
    p.write_text(p.read_text(encoding="utf-8").replace("WGS84", ""), encoding="utf-8")
    with pytest.raises(InputError, match=r"2 columns hold a longitude: '经度', '经度.1'"):
        load_inputs(scenario())
    inp = load_inputs(scenario({"lon": "经度", "lat": "纬度"}))
    assert sorted(inp.cells["lon"].round(4)) == [118.5921, 118.6021]


def test_a_5g_and_a_4g_sheet_of_one_workbook_are_not_taken_for_a_copy(tmp_path):
    """A workbook with a 5G sheet and a 4G sheet of the same masts and no cell-id column:
    the cells share site ids and the cell ids gigacov makes, but not their technology, so no
    "one sheet copies another" warning (and no empty warning line); a real copy is still said."""
    import openpyxl

    from gigacov.ingest import load_inputs
    from gigacov.scenario import scenario_from_dict

    def book(second_tech: str):
        wb = openpyxl.Workbook()
        for i, (title, tech) in enumerate((("5G", "5G"), ("4G", second_tech))):
            ws = wb.active if i == 0 else wb.create_sheet(title)
            ws.title = title
            ws.append(["站号", "经度", "纬度", "制式", "运营商"])
            ws.append(["A1", 118.59, 24.90, tech, "中国移动"])
            ws.append(["A2", 118.60, 24.91, tech, "中国移动"])
        p = tmp_path / f"泉州移动_{second_tech}.xlsx"
        wb.save(p)
        return load_inputs(
            scenario_from_dict(
                {
                    "scenario": {"name": "t", "year": 2024, "region": "350500"},
                    "sites": {"path": str(p), "sheet": ["5G", "4G"]},
                }
            )
        )

    inp = book("4G")
    assert sorted(inp.cells["tech"]) == ["4G", "4G", "5G", "5G"]
    assert all(w.strip() for w in inp.warnings)
    assert not any("copies another" in w for w in inp.warnings)
    inp = book("5G")  # the second sheet repeats the first one's 5G cells
    assert any(
        "2 cell(s) of sheet '4G' have the site id, position, cell id and technology" in w
        for w in inp.warnings
    )


def test_formula_cells_never_computed_stop_the_run_naming_the_cells(tmp_path):
    """A site list written by a script with formulas (=118.5+0.09) that Excel never computed:
    openpyxl reads no value, and before, the rows were rejected as missing coordinates. Now
    the cells are named and the user told how to get their values; a workbook saved with its
    results (cached values) reads normally."""
    import zipfile

    import openpyxl

    from gigacov.errors import InputError
    from gigacov.ingest import load_inputs
    from gigacov.scenario import scenario_from_dict

    p = tmp_path / "脚本导出_站址.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["站号", "经度", "纬度", "制式"])
    ws.append(["Q1", "=118.5+0.09", 24.90, "5G"])
    ws.append(["Q2", 118.60, "=24.9+0.01", "5G"])
    wb.save(p)
    scn = scenario_from_dict(
        {"scenario": {"name": "t", "year": 2024, "region": "350500"}, "sites": {"path": str(p)}}
    )
    with pytest.raises(InputError) as err:
        load_inputs(scn)
    assert "2 cell(s) hold a formula whose result was never computed and saved (B2, C3)" in str(
        err.value
    )
    # The same workbook as Excel saves it: each formula with its result (<v>) beside it.
    saved = tmp_path / "saved.xlsx"
    with zipfile.ZipFile(p) as src, zipfile.ZipFile(saved, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<f>118.5+0.09</f><v />", b"<f>118.5+0.09</f><v>118.59</v>")
                data = data.replace(b"<f>24.9+0.01</f><v />", b"<f>24.9+0.01</f><v>24.91</v>")
            dst.writestr(item, data)
    inp = load_inputs(scn.replace(sites={"path": str(saved)}))
    assert sorted(inp.cells["lon"].round(2)) == [118.59, 118.6]


def test_a_total_footer_of_a_site_list_is_skipped_not_rejected(tmp_path):
    """An operator's export ends with 合计：3 (no position): it is the list's total, skipped as
    total_row (listed in skipped_rows), not a site rejected for missing coordinates. A site whose
    name only starts with 总计 (总计算中心) and has no position is still rejected."""
    import openpyxl

    from gigacov.ingest import load_inputs
    from gigacov.scenario import scenario_from_dict

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["泉州移动5G基站清单"])
    ws.append(["站号", "站名", "经度", "纬度", "制式"])
    ws.append(["Q1", "丰泽东海", 118.59, 24.90, "5G"])
    ws.append(["Q2", "鲤城开元", 118.60, 24.91, "5G"])
    ws.append(["Q3", "总计算中心", None, None, "5G"])
    ws.append(["合计：3", None, None, None, None])
    p = tmp_path / "泉州移动5G.xlsx"
    wb.save(p)
    inp = load_inputs(
        scenario_from_dict(
            {"scenario": {"name": "t", "year": 2024, "region": "350500"}, "sites": {"path": str(p)}}
        )
    )
    rep = next(r for r in inp.reports if r.input == "sites")
    assert (rep.read, rep.used, rep.rejected, rep.skipped) == (4, 2, 1, 1)
    assert rep.skipped_reasons == {"total_row": 1}
    skipped = inp.skipped[inp.skipped.file == str(p)]
    assert skipped["row"].tolist() == [6] and "合计：3" in skipped["message"].iloc[0]
    assert inp.rejected[inp.rejected.file == str(p)]["row"].tolist() == [5]


def test_a_site_conflict_names_one_distance_from_either_row(tmp_path):
    """Two rows of one id about 10 km apart, diagonally: both messages give the same distance
    (before, 10,647 m from one side and 10,650 m from the other)."""
    x, y = JINJIANG
    text = f"站号,经度,纬度,制式\nA1,{x:.6f},{y:.6f},5G\nA1,{x + 0.07:.6f},{y + 0.06:.6f},5G\n"
    path = tmp_path / "站点清单.csv"
    path.write_text(text, encoding="utf-8")
    inp = load_inputs(scenario(tmp_path).replace(sites={"path": str(path)}))
    rej = inp.rejected[inp.rejected.file == str(path)].set_index("row")["message"]
    d2 = re.search(r"([\d,]+) m away", rej.loc[2]).group(1)
    d3 = re.search(r"([\d,]+) m away", rej.loc[3]).group(1)
    assert d2 == d3 and 9_000 < int(d2.replace(",", "")) < 11_000


def test_a_tower_code_shared_by_operators_is_one_site_per_operator(tmp_path):
    """站址编码 names China Tower's tower: 移动, 电信 and 联通 each have a gNB on it. Before, the
    three counted as one site (5G sites per 10,000 people a third of the truth), and with the
    operator in the site name all rows were rejected as a site_conflict. A conflict within one
    operator is still one."""
    x, y = JINJIANG
    text = (
        "站址编码,站址名称,运营商,经度,纬度,制式,频段\n"
        f"T001,青阳塔-移动,中国移动,{x},{y},5G,n41\n"
        f"T001,青阳塔-电信,中国电信,{x},{y},5G,n78\n"
        f"T001,青阳塔-联通,中国联通,{x},{y},5G,n78\n"
        f"T002,安海塔,中国移动,{x + 0.02},{y},5G,n41\n"
        f"T002,安海塔,中国移动,{x + 0.05},{y},5G,n41\n"  # 3 km from its first row
    )
    path = tmp_path / "铁塔站址.csv"
    path.write_text(text, encoding="utf-8")
    inp = load_inputs(scenario(tmp_path).replace(sites={"path": str(path)}))
    assert sorted(inp.cells["site_id"]) == ["T001@cmcc", "T001@ctcc", "T001@cucc"]
    rej = inp.rejected[inp.rejected.file == str(path)]
    assert rej["reason"].tolist() == ["site_conflict", "site_conflict"]
    assert any("1 site id(s) are used by several operators ('T001'" in w for w in inp.warnings)
    # one export per operator, both with the tower's code: one site per operator, and no
    # "one sheet copies another" warning (the operators differ)
    cm, ct = tmp_path / "移动.csv", tmp_path / "电信.csv"
    cm.write_text(f"站址编码,运营商,经度,纬度,制式\nT009,中国移动,{x},{y},5G\n", "utf-8")
    ct.write_text(f"站址编码,运营商,经度,纬度,制式\nT009,中国电信,{x},{y},5G\n", "utf-8")
    inp = load_inputs(scenario(tmp_path).replace(sites={"path": [str(cm), str(ct)]}))
    assert sorted(inp.cells["site_id"]) == ["T009@cmcc", "T009@ctcc"]
    assert not any("copies another" in w for w in inp.warnings)
    assert any("used by several operators' sheets or files ('T009'" in w for w in inp.warnings)
