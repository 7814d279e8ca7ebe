"""Sites and cells: real-shaped exports (GBK CSV, OpenCelliD, XLSX, GeoPackage), every reason
code, defaults, units and site grouping (gigacov.ingest.sites)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gigacov.crs import wgs84_to_gcj02
from gigacov.errors import ConfigError, InputError
from gigacov.ingest import CARRIER_COLUMNS, CELL_COLUMNS, REASON_CODES, load_inputs
from gigacov.ingest.bands import earfcn_to_mhz, n_rb_for, nr_arfcn_to_mhz, parse_band
from gigacov.ingest.sites import normalise_operator, normalise_tech, parse_years
from gigacov.scenario import scenario_from_dict

# Representative points of Quanzhou counties (inside the shipped boundaries).
JINJIANG = (118.5501, 24.7083)  # 350582
FENGZE = (118.6438, 24.9237)  # 350503
NANAN = (118.3258, 24.9451)  # 350583
ANXI = (117.9417, 25.1371)  # 350524


def scenario(tmp_path, sites_path: str, **sections):
    data = {
        "scenario": {"name": "t", "year": 2024, "region": "350500"},
        "sites": {"path": sites_path},
    }
    for k, v in sections.items():
        data.setdefault(k, {}).update(v)
    return scenario_from_dict(data, base_dir=tmp_path)


def load(tmp_path, sites_path, **sections):
    inp = load_inputs(scenario(tmp_path, sites_path, **sections))
    rep = next(r for r in inp.reports if r.input == "sites")
    assert rep.read == rep.used + rep.rejected + rep.skipped
    assert rep.cells == len(inp.cells)  # rows are counted, and the cells they made
    return inp, rep


def rejected_for(inp, path):
    return inp.rejected[inp.rejected["file"] == str(path)]


GBK_CSV = """站号,小区ID,站名,经度,纬度,网络制式,频段,方位角,天线挂高(m),总下倾角,EIRP(W),开通日期,运营商
QZ001,1,晋江青阳1,{jx},{jy},5G SA,n78,0,30,6,200,2021-06-30,中国电信
QZ001,2,晋江青阳1,{jx},{jy},NR,n78,120,30,6,200,2021/6/30,中国电信
QZ001,3,晋江青阳1,{jx},{jy},NR,n78,240°,30,8,200,2021年6月,中国电信
QZ002,1,丰泽东湖,{fx},{fy},TDD-LTE,D频段,45,25m,4,,2019,移动
QZ003,1,南安老站,{nx},{ny},GSM,,,,,,2008,移动
QZ004,1,,{fy},{fx},LTE,B3,90,35,6,,2020,联通
QZ005,1,缺坐标,,{ny},5G,n41,0,30,6,,2022,移动
QZ006,1,坐标错,abc,{ny},5G,n41,0,30,6,,2022,移动
QZ007,1,外省,116.40,39.90,5G,n41,0,30,6,,2022,移动
QZ001,2,重复,{jx},{jy},NR,n78,120,30,6,,2021,中国电信
QZ008,1,明年,{ax},{ay},5G,n78,0,30,6,,2026-01-01,移动
QZ009,1,高度错,{ax},{ay},5G,n78,0,-3,6,,2022,移动
QZ010,1,日期错,{ax},{ay},5G,n78,0,30,6,,昨天,移动
QZ011,1,频点,{ax},{ay},5G,,0,30,6,,2022,移动
"""


def write_gbk_sites(tmp_path):
    text = GBK_CSV.format(
        jx=JINJIANG[0],
        jy=JINJIANG[1],
        fx=FENGZE[0],
        fy=FENGZE[1],
        nx=NANAN[0],
        ny=NANAN[1],
        ax=ANXI[0],
        ay=ANXI[1],
    )
    path = tmp_path / "基站清单.csv"
    path.write_bytes(text.encode("gbk"))
    return path


def test_gbk_csv_with_chinese_headers_every_row_accounted(tmp_path):
    path = write_gbk_sites(tmp_path)
    inp, rep = load(tmp_path, str(path))
    assert rep.read == 14 and rep.skipped == 1  # the 2026 site belongs to a later year
    assert rep.skipped_reasons == {"not_yet_commissioned": 1}
    rej = rejected_for(inp, path).set_index("row")
    # header is row 1: the GSM row is the 5th data row → row 6
    assert rej.loc[6, "reason"] == "unknown_technology" and rej.loc[6, "column"] == "网络制式"
    assert rej.loc[8, "reason"] == "missing_value" and rej.loc[8, "column"] == "经度"
    assert rej.loc[9, "reason"] == "not_a_number" and rej.loc[9, "value"] == "abc"
    assert "'abc'" in rej.loc[9, "message"]
    assert rej.loc[10, "reason"] == "outside_region"
    assert rej.loc[11, "reason"] == "duplicate_id" and "row 3" in rej.loc[11, "message"]
    assert 12 not in rej.index  # skipped, not rejected
    assert any("after the scenario year 2024 (row 12)" in w for w in inp.warnings)
    assert rej.loc[13, "reason"] == "out_of_range" and rej.loc[13, "column"] == "天线挂高(m)"
    assert rej.loc[14, "reason"] == "bad_date" and rej.loc[14, "value"] == "昨天"
    # row 7 had lat/lon swapped: repaired and used, counted, warned
    assert rep.fixed == {"lat_lon_swapped": 1}
    assert any("exchanged" in w and "row 7" in w for w in inp.warnings)
    cells = inp.cells.set_index("source_row")
    assert cells.loc[7, "lon"] == pytest.approx(FENGZE[0]) and cells.loc[7, "lat"] == pytest.approx(
        FENGZE[1]
    )
    assert sorted(cells.index) == [2, 3, 4, 5, 7, 15]
    assert set(rej["reason"]) <= set(REASON_CODES)


def test_gbk_values_are_normalised(tmp_path):
    inp, rep = load(tmp_path, str(write_gbk_sites(tmp_path)))
    c = inp.cells.set_index("source_row")
    assert list(inp.cells.columns) == list(CELL_COLUMNS) + list(CARRIER_COLUMNS)
    assert c.loc[2, "tech"] == "5G" and c.loc[5, "tech"] == "4G"
    # n78 of 中国电信 → its carrier 3400–3500 MHz (centre 3450); China Mobile "D" band = LTE
    # band 41 (2496–2690 MHz, no operator carrier in the table: the band centre)
    assert c.loc[2, "freq_mhz"] == 3450.0 and c.loc[5, "freq_mhz"] == pytest.approx(2593.0)
    assert c.loc[2, "carrier_low_mhz"] == 3400.0 and c.loc[2, "freq_source"] == "band"
    assert c.loc[7, "freq_mhz"] == pytest.approx(1845.0)  # 联通 B3: its 1830–1860 MHz carrier
    # EIRP 200 W = 10·log10(200 000 mW) = 53.01 dBm
    assert c.loc[2, "eirp_dbm"] == pytest.approx(10 * math.log10(200e3))
    assert c.loc[5, "eirp_dbm"] == 61.0  # default
    assert c.loc[4, "azimuth_deg"] == 240.0 and c.loc[5, "height_m"] == 25.0
    assert c.loc[4, "tilt_deg"] == 8.0
    assert [c.loc[r, "commissioned_year"] for r in (2, 3, 4, 5)] == [2021, 2021, 2021, 2019]
    assert c.loc[2, "operator"] == "China Telecom" and c.loc[5, "operator"] == "China Mobile"
    assert c.loc[7, "operator"] == "China Unicom"
    # 5G: 100 MHz at 30 kHz → 273 RB; 4G 20 MHz → 100 RB
    assert c.loc[2, "n_rb"] == 273 and c.loc[5, "n_rb"] == 100
    assert c.loc[2, "admin_code"] == "350582" and c.loc[5, "admin_code"] == "350503"
    # a site keeps one id, each cell its own azimuth
    site = inp.cells[inp.cells.site_id == "QZ001"]
    assert sorted(site["azimuth_deg"]) == [0.0, 120.0, 240.0]
    # row 15: no band, no frequency → the default, counted; its operator (移动) known: its main
    # 5G carrier (n41, 2515–2615 MHz)
    assert c.loc[15, "freq_source"] == "default" and c.loc[15, "freq_mhz"] == 2565.0
    assert rep.defaults["freq_mhz"] == 1
    assert rep.defaults["carrier (operator's main carrier)"] == 1
    assert rep.defaults["eirp_dbm"] == 3  # rows 5, 7, 15
    assert rep.defaults["beamwidth_deg"] == 6  # every used cell has an azimuth, none a beamwidth
    assert "azimuth_deg" not in rep.defaults


def test_utf8_bom_and_title_line_above_header(tmp_path):
    path = tmp_path / "sites.csv"
    text = (
        "2024年泉州市5G基站清单\n"
        f"基站名称,经度,纬度,制式\nA,{JINJIANG[0]},{JINJIANG[1]},5G\nB,{FENGZE[0]},{FENGZE[1]},4G\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    inp, rep = load(tmp_path, str(path))
    assert rep.read == 2 and rep.used == 2
    # the header is on spreadsheet row 2, so the data start on row 3
    assert inp.cells["source_row"].tolist() == [3, 4]
    assert inp.cells["name"].tolist() == ["A", "B"]


def test_missing_longitude_column_is_an_input_error_naming_file_columns_and_aliases(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("站号,纬度,制式\nA,24.7,5G\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_inputs(scenario(tmp_path, str(path)))
    msg = str(err.value)
    assert (
        str(path) in msg
        and "lon" in msg
        and "'纬度'" in msg
        and "经度" in msg
        and "longitude" in msg
    )


def test_column_mapping_in_the_scenario(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(f"编号,东坐标,北坐标\nA,{JINJIANG[0]},{JINJIANG[1]}\n", encoding="utf-8")
    inp, rep = load(
        tmp_path,
        str(path),
        sites={"columns": {"lon": "东坐标", "lat": "北坐标", "site_id": "编号"}},
    )
    assert inp.cells["site_id"].tolist() == ["A"]
    assert rep.defaults["tech"] == 1  # no technology column: DESIGN default 5G, counted
    with pytest.raises(ConfigError, match="did you mean 'lon'"):
        load_inputs(scenario(tmp_path, str(path), sites={"columns": {"lng": "东坐标"}}))
    with pytest.raises(ConfigError, match="no such header"):
        load_inputs(scenario(tmp_path, str(path), sites={"columns": {"lon": "X"}}))


def test_projected_coordinates_declared_wgs84_are_an_error(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("lon,lat\n655000,2735000\n656000,2736000\n", encoding="utf-8")
    with pytest.raises(InputError, match="projected metres.*EPSG"):
        load_inputs(scenario(tmp_path, str(path)))
    # declared correctly (UTM 50N) they are read
    inp, _ = load(tmp_path, str(path), sites={"crs": "EPSG:32650"})
    assert inp.cells["lon"].between(118, 119).all()


def test_gcj02_declared_sites_are_converted(tmp_path):
    gx, gy = wgs84_to_gcj02(*JINJIANG)
    path = tmp_path / "s.csv"
    path.write_text(f"lon,lat,tech\n{gx!r},{gy!r},5G\n", encoding="utf-8")
    inp, _ = load(tmp_path, str(path), sites={"crs": "gcj02"})
    assert inp.cells.loc[0, "lon"] == pytest.approx(JINJIANG[0], abs=1e-8)
    assert inp.cells.loc[0, "lat"] == pytest.approx(JINJIANG[1], abs=1e-8)


OCID_ROWS = [
    # radio, mcc, net, area, cell, unit, lon, lat, range, samples, changeable, created, updated, avg
    ("LTE", 460, 0, 22801, 123456789, 0, *FENGZE, 1000, 5, 1, 1600000000, 1650000000, 0),
    ("LTE", 460, 0, 22801, 123456790, 1, *FENGZE, 1000, 5, 1, 1600000000, 1650000000, 0),
    ("NR", 460, 1, 22801, 5000000000, 1, *JINJIANG, 500, 5, 1, 1700000000, 1700000000, 0),
    ("GSM", 460, 0, 22801, 1234, 1, *JINJIANG, 500, 5, 1, 1300000000, 1300000000, 0),
    ("LTE", 460, 11, 22801, 22222222, 0, *NANAN, 1000, 5, 1, 1750000000, 1760000000, 0),
    ("LTE", 460, 0, 22801, 123456789, 0, *FENGZE, 1000, 5, 1, 1600000000, 1650000000, 0),
    ("UMTS", 460, 1, 22801, 99, 0, *FENGZE, 1000, 5, 1, 1600000000, 1650000000, 0),
    ("LTE", 466, 92, 1, 777, 0, *ANXI, 1000, 5, 1, 1600000000, 1650000000, 0),
]


@pytest.mark.parametrize("header", [True, False])
def test_opencellid_extract(tmp_path, header):
    path = tmp_path / "460.csv"
    lines = (
        [
            "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal"
        ]
        if header
        else []
    )
    lines += [",".join(map(str, r)) for r in OCID_ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    inp, rep = load(tmp_path, str(path))
    first = 2 if header else 1
    rej = rejected_for(inp, path).set_index("row")
    assert rej.loc[first + 3, "reason"] == "unknown_technology"  # GSM
    assert rej.loc[first + 6, "reason"] == "unknown_technology"  # UMTS
    assert first + 4 not in rej.index  # created 2025-06: skipped (a later year), not rejected
    assert rep.skipped_reasons == {"not_yet_commissioned": 1}
    assert rej.loc[first + 5, "reason"] == "duplicate_id"
    assert rep.read == 8 and rep.used == 4 and rep.skipped == 1
    c = inp.cells.set_index("source_row")
    # ECI 123456789 = eNB 482253 (·256) + cell 21; both cells on one eNB
    assert c.loc[first, "site_id"] == c.loc[first + 1, "site_id"] == "460-00-eNB482253"
    assert 123456789 // 256 == 482253
    assert c.loc[first + 2, "site_id"] == f"460-01-gNB{5000000000 // 4096}"
    assert (
        c.loc[first, "operator"] == "China Mobile"
        and c.loc[first + 2, "operator"] == "China Unicom"
    )
    assert c.loc[first + 7, "operator"] == "466-92"
    assert c.loc[first, "tech"] == "4G" and c.loc[first + 2, "tech"] == "5G"
    assert (
        c.loc[first, "commissioned_year"] == 2020 and c.loc[first + 2, "commissioned_year"] == 2023
    )
    assert rep.defaults["freq_mhz"] == 4 and rep.defaults["azimuth_deg"] == 4


def test_xlsx_with_numbers_dates_and_a_named_sheet(tmp_path):
    import datetime as dt

    import openpyxl

    path = tmp_path / "sites.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["本表为基站清单"])
    ws = wb.create_sheet("小区")
    ws.append(
        [
            "基站ID",
            "小区名称",
            "Longitude",
            "Latitude",
            "Technology",
            "频率(GHz)",
            "带宽",
            "挂高",
            "开通时间",
        ]
    )
    ws.append(
        [350001, "A1", JINJIANG[0], JINJIANG[1], "NR", 3.5, "100M", 30, dt.datetime(2022, 5, 1)]
    )
    ws.append([350001, "A2", JINJIANG[0], JINJIANG[1], "NR", 2.6, 60, 30, 2023])
    ws.append([None, None, None, None, None, None, None, None, None])  # blank row: not data
    ws.append([350002, "B1", NANAN[0], NANAN[1], "LTE", 1.8, "15MHz", 25.5, "2020-01-01"])
    ws.append([350003, "C1", NANAN[0], NANAN[1], "NR", 3.5, 12, 25.5, "2020-01-01"])
    ws.append([350004, "D1", NANAN[0], NANAN[1], "NR", 3.5, 100, 30, dt.datetime(2025, 3, 1)])
    ws.append([350005, "E1", NANAN[0], NANAN[1], "NR", 3.5, 100, 30, 45700])  # Excel day number
    wb.save(path)
    inp, rep = load(tmp_path, str(path), sites={"sheet": "小区"})
    c = inp.cells.set_index("source_row")
    assert sorted(c.index) == [2, 3, 5]
    assert c.loc[2, "site_id"] == "350001"  # a number in Excel becomes text without ".0"
    assert c.loc[2, "freq_mhz"] == 3500.0 and c.loc[3, "freq_mhz"] == 2600.0
    assert (
        c.loc[3, "bandwidth_mhz"] == 60.0 and c.loc[3, "n_rb"] == 162
    )  # TS 38.101-1: 60 MHz @30 kHz
    assert c.loc[5, "bandwidth_mhz"] == 15.0 and c.loc[5, "n_rb"] == 75  # LTE 15 MHz
    assert c.loc[2, "commissioned_year"] == 2022
    rej = rejected_for(inp, path)
    assert rej["row"].tolist() == [6] and rej["reason"].tolist() == ["out_of_range"]
    assert "12 MHz at 30 kHz" in rej["message"].iloc[0]
    # late sites are listed as people write dates, not as Python objects or bare day numbers
    sk = inp.skipped[inp.skipped.file == str(path)].set_index("row")
    assert sk.loc[7, "value"] == "2025-03-01"
    assert sk.loc[7, "message"].startswith("commissioned 2025-03-01, after the scenario year")
    assert sk.loc[8, "message"].startswith("commissioned 45700 (Excel date 2025-02-12), after")
    with pytest.raises(ConfigError, match="no sheet 'cells'"):
        load_inputs(scenario(tmp_path, str(path), sites={"sheet": "cells"}))


def test_geopackage_points_in_utm_grouped_by_position(tmp_path):
    pts = [JINJIANG, JINJIANG, (JINJIANG[0] + 3e-6, JINJIANG[1]), NANAN]  # 3e-6° ≈ 0.3 m
    gdf = gpd.GeoDataFrame(
        {"azimuth": [0, 120, 240, 90], "tech": ["5G"] * 4},
        geometry=gpd.points_from_xy(*zip(*pts, strict=True)),
        crs=4326,
    ).to_crs(32650)
    gdf = pd.concat(
        [
            gdf,
            gpd.GeoDataFrame(
                {"azimuth": [0], "tech": ["5G"]},
                geometry=[shapely.LineString([(0, 0), (1, 1)])],
                crs=32650,
            ),
        ],
        ignore_index=True,
    )
    path = tmp_path / "sites.gpkg"
    gdf.to_file(path, layer="cells")
    inp, rep = load(tmp_path, str(path))
    c = inp.cells
    assert len(c) == 4
    assert c["lon"].iloc[0] == pytest.approx(JINJIANG[0], abs=1e-7)
    # no site ids: the three cells within a metre form one site, the fourth its own
    assert c["site_id"].iloc[0] == c["site_id"].iloc[1] == c["site_id"].iloc[2]
    assert c["site_id"].iloc[3] != c["site_id"].iloc[0]
    assert c["site_id"].iloc[0].startswith("site@118.5501")
    assert c["cell_id"].tolist()[:3] == [f"{c['site_id'].iloc[0]}-{k}" for k in (1, 2, 3)]
    assert rep.defaults["site_id"] == 4
    rej = rejected_for(inp, path)
    assert rej["reason"].tolist() == ["bad_geometry"] and rej["row"].tolist() == [6]
    # the same file read again gives the same ids
    again, _ = load(tmp_path, str(path))
    assert again.cells["site_id"].tolist() == c["site_id"].tolist()


def test_geojson_and_parquet_sites(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"site_id": ["a", "b"], "制式": ["5G", "LTE"]},
        geometry=gpd.points_from_xy([FENGZE[0], NANAN[0]], [FENGZE[1], NANAN[1]]),
        crs=4326,
    )
    gdf.to_file(tmp_path / "s.geojson", driver="GeoJSON")
    pd.DataFrame({"lng": [FENGZE[0]], "lat": [FENGZE[1]], "rat": ["NSA"]}).to_parquet(
        tmp_path / "s.parquet"
    )
    inp, _ = load(tmp_path, str(tmp_path / "s.geojson"))
    assert inp.cells["tech"].tolist() == ["5G", "4G"]
    inp, _ = load(tmp_path, str(tmp_path / "s.parquet"))
    assert inp.cells["tech"].tolist() == ["5G"]


def test_swapped_but_outside_in_both_orders_is_rejected_as_swapped(tmp_path):
    path = tmp_path / "s.csv"
    # |lat| > 90 while the "longitude" would be a latitude; swapped, it is at sea east of Taiwan
    path.write_text("lon,lat,tech\n23.0,125.0,5G\n", encoding="utf-8")
    inp, rep = load(tmp_path, str(path))
    assert inp.rejected["reason"].tolist() == ["lat_lon_swapped"]
    assert rep.fixed == {}


def test_site_margin_keeps_border_sites(tmp_path):
    # 2 km north of Anxi's northern edge is Sanming/Zhangping: kept (covers the region) with no county
    b = gpd.read_file(scenario(tmp_path, "x.csv").boundaries.counties)
    anxi = b.set_index("admin_code").loc["350524", "geometry"]
    x, y = anxi.centroid.x, anxi.bounds[3] + 0.015
    path = tmp_path / "s.csv"
    # 0.3° north is deep in a county of another city of the boundary file: a valid site of
    # another region, skipped; Hangzhou lies in no county of the file: rejected
    path.write_text(f"lon,lat\n{x},{y}\n{x},{y + 0.3}\n120.15,30.28\n", encoding="utf-8")
    inp, rep = load(tmp_path, str(path))
    assert len(inp.cells) == 1 and inp.cells["admin_code"].iloc[0] in (
        "",
        "350524",
        "350525",
        "350526",
    )
    assert inp.rejected["reason"].tolist() == ["outside_region"]
    assert inp.rejected["row"].tolist() == [4]
    assert rep.skipped_reasons == {"outside_region": 1}


def test_site_level_rows_are_split_into_one_cell_per_azimuth(tmp_path):
    path = tmp_path / "s.csv"
    jx, jy = JINJIANG
    fx, fy = FENGZE
    path.write_text(
        "站号,小区ID,经度,纬度,方位角,下倾角,挂高\n"
        f"QZ1,A,{jx},{jy},0/120/240,3/3/6,30\n"  # row 2: three sectors, tilts split alongside
        f"QZ2,,{fx},{fy},30、150,4,25/35\n"  # row 3: two sectors, one tilt for both
        f"QZ3,C,{fx},{fy},120,5,30\n"  # row 4: one sector, untouched
        f"QZ4,D,{jx},{jy},0/120/240,3/6,30\n"  # row 5: two tilts for three azimuths
        f'QZ5,E,{jx},{jy},"120,5",4,30\n'  # row 6: decimal comma? not split
        f"QZ6,F,,{jy},0/180,4,30\n",  # row 7: no longitude: both cells rejected
        encoding="utf-8",
    )
    inp, rep = load(tmp_path, str(path))
    cells = inp.cells.set_index("cell_id")
    assert cells.loc[["A-1", "A-2", "A-3"], "azimuth_deg"].tolist() == [0.0, 120.0, 240.0]
    assert cells.loc[["A-1", "A-2", "A-3"], "tilt_deg"].tolist() == [3.0, 3.0, 6.0]
    assert cells.loc[["A-1", "A-2", "A-3"], "source_row"].tolist() == [2, 2, 2]
    assert set(cells.loc[["A-1", "A-2", "A-3"], "site_id"]) == {"QZ1"}
    qz2 = inp.cells[inp.cells["site_id"] == "QZ2"]
    assert qz2["azimuth_deg"].tolist() == [30.0, 150.0] and qz2["tilt_deg"].tolist() == [4.0, 4.0]
    assert qz2["height_m"].tolist() == [25.0, 35.0] and qz2["cell_id"].tolist() == [
        "QZ2-1",
        "QZ2-2",
    ]
    assert cells.loc["C", "azimuth_deg"] == 120.0
    # Counts are spreadsheet rows (6: 3 used, 3 rejected), each once; the used rows made 6 cells.
    assert (rep.read, rep.used, rep.rejected, rep.cells) == (6, 3, 3, 6)
    assert rep.fixed == {
        "sectors_split": 2
    }  # split rows used (rows 5 and 7 were split but rejected)
    assert any(
        "4 row(s) list several sectors in '方位角' (e.g. row 2); split into 10 cells" in w
        for w in rep.warnings
    )
    rej = inp.rejected.sort_values("row", kind="stable")
    assert rej["row"].tolist() == [5, 6, 7]  # one rejected row each, not one per cell
    assert rej["reason"].tolist() == ["not_a_number"] * 2 + ["missing_value"]
    bad_tilt = rej[rej["row"] == 5].iloc[0]
    assert bad_tilt["column"] == "下倾角" and bad_tilt["value"] == "3/6"
    assert "do not match the row's azimuths" in bad_tilt["message"]
    # the message lists the cells the row would have made
    assert bad_tilt["message"].startswith("the row makes 3 cells; 3 cannot be used")
    for az in ("sector 1 (azimuth 0)", "sector 2 (azimuth 120)", "sector 3 (azimuth 240)"):
        assert az in bad_tilt["message"]
    assert "sector 2 (azimuth 180): no longitude" in rej[rej["row"] == 7].iloc[0]["message"]
    comma = rej[rej["row"] == 6].iloc[0]
    assert comma["column"] == "方位角" and "decimal comma" in comma["message"]


def test_duplicate_rows_without_cell_ids(tmp_path):
    path = tmp_path / "s.csv"
    row = f"S1,{JINJIANG[0]},{JINJIANG[1]},5G,0"
    path.write_text(
        f"site_id,lon,lat,tech,azimuth\n{row}\n{row}\nS1,{JINJIANG[0]},{JINJIANG[1]},5G,120\n",
        encoding="utf-8",
    )
    inp, rep = load(tmp_path, str(path))
    assert inp.rejected["reason"].tolist() == ["duplicate_id"]
    assert "identical to row 2" in inp.rejected["message"].iloc[0]
    assert inp.cells["cell_id"].tolist() == ["S1-1", "S1-2"]


def test_transmit_power_plus_gain_and_rs_power(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(
        f"lon,lat,制式,发射功率,天线增益,带宽\n{JINJIANG[0]},{JINJIANG[1]},5G,46dBm,17,100\n",
        encoding="utf-8",
    )
    inp, _ = load(tmp_path, str(path))
    assert inp.cells["eirp_dbm"].iloc[0] == pytest.approx(63.0)
    # LTE reference-signal power per RE: total = RS + 10·log10(12·N_RB) = 15.2 + 10·log10(1200)
    path.write_text(
        f"lon,lat,制式,参考信号功率,带宽\n{JINJIANG[0]},{JINJIANG[1]},LTE,15.2,20\n",
        encoding="utf-8",
    )
    inp, _ = load(tmp_path, str(path))
    assert inp.cells["eirp_dbm"].iloc[0] == pytest.approx(15.2 + 10 * math.log10(1200))
    # transmit power without a gain column: used as EIRP, with a warning
    path.write_text(
        f"lon,lat,制式,发射功率\n{JINJIANG[0]},{JINJIANG[1]},5G,40W\n", encoding="utf-8"
    )
    inp, _ = load(tmp_path, str(path))
    assert inp.cells["eirp_dbm"].iloc[0] == pytest.approx(10 * math.log10(40e3))
    assert any("taken as EIRP" in w for w in inp.warnings)


def test_arfcn_columns(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(
        f"lon,lat,制式,频点\n{JINJIANG[0]},{JINJIANG[1]},5G,627264\n{JINJIANG[0]},{JINJIANG[1]},LTE,1300\n"
        f"{NANAN[0]},{NANAN[1]},LTE,1850\n{NANAN[0]},{NANAN[1]},LTE,38400\n",
        encoding="utf-8",
    )
    inp, _ = load(tmp_path, str(path))
    f = inp.cells["freq_mhz"].tolist()
    # NR-ARFCN 627264 → 3000 + 0.015·27264 = 3408.96 MHz; EARFCN 1300 (band 3) → 1805 + 0.1·100;
    # EARFCN 1850 (band 3) → 1805 + 0.1·650 = 1870 (a 频点 column holds channel numbers, even
    # where the number would also be a band-3 frequency); EARFCN 38400 (band 39) → 1880 + 0.1·150
    assert f == pytest.approx([3408.96, 1815.0, 1870.0, 1895.0])


# ---- unit-level pieces ------------------------------------------------------------------------


def test_band_table_and_spellings():
    assert parse_band("n78")[:2] == (3500.0, "5G")
    assert parse_band("N41")[1] == "5G" and parse_band("B3")[:2] == (1842.5, "4G")
    assert parse_band("2.6G")[0] == 2600.0 and parse_band("3.5GHz")[0] == 3500.0
    assert parse_band("700M")[0] == 700.0 and parse_band("n28")[0] == 773.0
    assert (
        parse_band("B8")[0] == 942.5
        and parse_band("B39")[0] == 1900.0
        and parse_band("B40")[0] == 2350.0
    )
    assert (
        parse_band("n79")[0] == 4850.0
        and parse_band("B1")[0] == 2140.0
        and parse_band("B41")[0] == 2593.0
    )
    assert parse_band("F频段")[0] == 1900.0
    assert parse_band("n258") is None and parse_band("hello") is None


def test_n_rb_tables():
    tech = np.array(["5G", "5G", "5G", "5G", "4G", "4G", "5G"], dtype=object)
    bw = np.array([100, 20, 40, 10, 20, 1.4, 100])
    scs = np.array([30, 15, 30, 60, 15, 15, 15])
    # TS 38.101-1 Table 5.3.2-1 and TS 36.101 Table 5.6-1; 100 MHz at 15 kHz does not exist
    assert n_rb_for(tech, bw, scs).tolist() == [273, 106, 106, 11, 100, 6, -1]


def test_arfcn_formulas():
    assert nr_arfcn_to_mhz(np.array([620000, 504990, 151600]))[:].tolist() == pytest.approx(
        [3300.0, 2524.95, 758.0]
    )
    assert earfcn_to_mhz(np.array([0, 1825, 38950, 99999])).tolist()[:3] == pytest.approx(
        [2110.0, 1867.5, 2330.0]
    )
    assert math.isnan(earfcn_to_mhz(np.array([99999]))[0])


def test_vocabularies():
    assert [
        normalise_tech(t) for t in ["5G NR", "NSA", "TDD-LTE", "FDD", "LTE-A", "WCDMA", "卫星"]
    ] == ["5G", "5G", "4G", "4G", "4G", "old", ""]
    assert [
        normalise_operator(o) for o in ["中国移动", "CUCC", "电信", "中国广电", "460-11", "某公司"]
    ] == [
        "China Mobile",
        "China Unicom",
        "China Telecom",
        "China Broadnet",
        "China Telecom",
        "某公司",
    ]


def test_parse_years_spellings():
    s = pd.Series(
        [
            "2021-06-30",
            "2021/6/30",
            "2021年3月",
            "20190101",
            "2020",
            "44377",
            "1600000000",
            "",
            "昨天",
        ],
        dtype="str",
    )
    year, bad = parse_years(s)
    assert year[:7].tolist() == [2021, 2021, 2021, 2019, 2020, 2021, 2020]
    assert np.isnan(year[7]) and not bad[7]
    assert bad.tolist() == [False] * 8 + [True]


def test_numbers_with_commas_are_thousands_only_when_grouped_by_three():
    import pandas as pd

    from gigacov.ingest._common import parse_numbers

    p = parse_numbers(
        pd.Series(
            ["1,234", "12,345.5", "1，234 m", "120,5", "1,2345", "1,234.5,6", "30"], dtype=object
        ),
        lambda num, unit: num if unit == "m" else None,
    )
    assert p.values[:3].tolist() == [1234.0, 12345.5, 1234.0] and p.values[6] == 30.0
    assert p.bad.tolist() == [
        False,
        False,
        False,
        True,
        True,
        True,
        False,
    ]  # never 1205 for "120,5"
