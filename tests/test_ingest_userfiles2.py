"""A third user trial on realistic files: channel numbers in 频点 columns, impossible values,
common notations (FDD pairs, omni), city-wide lists with a one-county region, several key-place
lists, and workbooks with one sheet per operator or technology. Every fixture is written here
with the real writers (openpyxl, pandas)."""

from __future__ import annotations

import openpyxl
import pytest

from gigacov.ingest import load_inputs
from gigacov.scenario import scenario_from_dict

JINJIANG = (118.5501, 24.7083)  # 350582 晋江市
SHISHI = (118.6759, 24.7422)  # 350581 石狮市
NANAN = (118.3258, 24.9451)  # 350583 南安市
ANXI = (117.9417, 25.1371)  # 350524 安溪县


def scenario(tmp_path, sites_path, region="350500", **sections):
    data = {
        "scenario": {"name": "t", "year": 2024, "region": region},
        "sites": {"path": sites_path if isinstance(sites_path, list) else str(sites_path)},
    }
    for k, v in sections.items():
        data.setdefault(k, {}).update(v)
    return scenario_from_dict(data, base_dir=tmp_path)


def write_xlsx(path, sheets):
    """A workbook with one sheet per ``(name, rows)`` (header first)."""
    wb = openpyxl.Workbook()
    for i, (name, rows) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = name
        for r in rows:
            ws.append(list(r))
    wb.save(path)
    return path


SITE_HEADER = ["基站编号", "运营商", "经度", "纬度", "网络制式"]


# ------------------------------------------------------------------------------------------------
# A. 频点 columns hold channel numbers
# ------------------------------------------------------------------------------------------------


def test_pindian_whole_numbers_are_channel_numbers_even_inside_an_lte_band(tmp_path):
    x, y = JINJIANG
    header = [*SITE_HEADER, "下行频点", "带宽"]
    rows = [
        ("T1", "中国电信", x, y, "LTE", 1825, 20),  # EARFCN 1825: B3 1805 + 0.1·625 = 1867.5
        ("U1", "中国联通", x + 0.001, y, "LTE", 1650, 20),  # B3 1805 + 0.1·450 = 1850
        ("U2", "中国联通", x + 0.002, y, "LTE", 1850, 20),  # B3 1805 + 0.1·650 = 1870
        ("M1", "中国移动", x + 0.003, y, "NR", 504990, 100),  # NR-ARFCN → 2524.95
        ("M2", "中国移动", x + 0.004, y, "LTE", 38400, 20),  # B39 1880 + 0.1·150 = 1895
        ("T2", "中国电信", x + 0.005, y, "LTE", 1867.5, 20),  # decimals: no channel number
    ]
    p = write_xlsx(tmp_path / "sites.xlsx", [("基站", [header, *rows])])
    inp = load_inputs(scenario(tmp_path, p))
    assert inp.rejected.empty
    f = inp.cells.set_index("site_id")["freq_mhz"]
    assert f["T1"] == pytest.approx(1867.5) and f["U1"] == pytest.approx(1850.0)
    assert f["U2"] == pytest.approx(1870.0) and f["M1"] == pytest.approx(2524.95)
    assert f["M2"] == pytest.approx(1895.0) and f["T2"] == pytest.approx(1867.5)


def test_explicit_mhz_headers_stay_mhz_and_unknown_channels_are_rejected(tmp_path):
    x, y = JINJIANG
    header = [*SITE_HEADER, "中心频率(MHz)"]
    rows = [("T1", "中国电信", x, y, "LTE", 1825), ("U1", "中国联通", x + 0.001, y, "LTE", 1850)]
    p = write_xlsx(tmp_path / "mhz.xlsx", [("基站", [header, *rows])])
    f = load_inputs(scenario(tmp_path, p)).cells.set_index("site_id")["freq_mhz"]
    assert f["T1"] == pytest.approx(1825.0) and f["U1"] == pytest.approx(1850.0)
    # EARFCN 1000 lies in no LTE band used in China: rejected, not taken for 1000 MHz
    header = [*SITE_HEADER, "频点"]
    rows = [("T1", "中国电信", x, y, "LTE", 1000), ("T2", "中国电信", x + 0.001, y, "LTE", 1300)]
    p = write_xlsx(tmp_path / "ch.xlsx", [("基站", [header, *rows])])
    inp = load_inputs(scenario(tmp_path, p))
    assert inp.rejected["row"].tolist() == [2]
    assert inp.rejected["reason"].tolist() == ["not_a_number"]
    assert "频点" in inp.rejected["message"].iloc[0]
    assert inp.cells["freq_mhz"].tolist() == pytest.approx([1815.0])


# ------------------------------------------------------------------------------------------------
# B. Impossible values are rejected, not repaired
# ------------------------------------------------------------------------------------------------


def test_impossible_azimuths_and_dates_are_rejected(tmp_path):
    x, y = JINJIANG
    header = [*SITE_HEADER, "工作频段", "方位角", "开通时间"]
    rows = [
        ("M1", "中国移动", x, y, "NR", "n41", "0/120/400", "2022"),  # 400° is no azimuth
        ("M2", "中国移动", x + 0.001, y, "NR", "n41", 500, "2022"),
        ("M3", "中国移动", x + 0.002, y, "NR", "n41", "0", "2024-13-01"),  # month 13
        ("M4", "中国移动", x + 0.003, y, "NR", "n41", "0", "2023-02-29"),  # no 29 Feb in 2023
        ("M5", "中国移动", x + 0.004, y, "NR", "n41", "0", 20241301),  # yyyymmdd, month 13
        ("M6", "中国移动", x + 0.005, y, "NR", "n41", "-30", "2024-02-29"),  # fine: leap day
        ("M7", "中国移动", x + 0.006, y, "NR", "n41", "360", "2022年6月"),  # fine
    ]
    p = write_xlsx(tmp_path / "sites.xlsx", [("基站", [header, *rows])])
    inp = load_inputs(scenario(tmp_path, p))
    rej = inp.rejected.drop_duplicates("row").set_index("row")["reason"].to_dict()
    assert rej == {
        2: "out_of_range",
        3: "out_of_range",
        4: "bad_date",
        5: "bad_date",
        6: "bad_date",
    }
    c = inp.cells.set_index("site_id")
    assert sorted(c.index) == ["M6", "M7"]
    assert c.loc["M6", "azimuth_deg"] == 330.0 and c.loc["M7", "azimuth_deg"] == 0.0


# ------------------------------------------------------------------------------------------------
# C. Common notations: FDD pairs, omni antennas
# ------------------------------------------------------------------------------------------------


def test_fdd_paired_bandwidths_and_omni_azimuths_are_read(tmp_path):
    x, y = JINJIANG
    header = [*SITE_HEADER, "工作频段", "带宽", "方位角"]
    rows = [
        ("T1", "中国电信", x, y, "NR", "n1", "2×20MHz", "全向"),
        ("U1", "中国联通", x + 0.001, y, "NR", "n3", "2*15M", "omni"),
        ("T2", "中国电信", x + 0.002, y, "LTE", "B3", "2x20M", "360°全向"),
        ("T3", "中国电信", x + 0.003, y, "LTE", "B3", "20M", "90"),
        ("T4", "中国电信", x + 0.004, y, "LTE", "B3", "3x20M", "90"),  # no pair of three
    ]
    p = write_xlsx(tmp_path / "sites.xlsx", [("基站", [header, *rows])])
    inp = load_inputs(scenario(tmp_path, p))
    assert inp.rejected["row"].tolist() == [6]
    c = inp.cells.set_index("site_id")
    assert c["bandwidth_mhz"].to_dict() == {"T1": 20.0, "U1": 15.0, "T2": 20.0, "T3": 20.0}
    assert c["azimuth_deg"].isna().tolist() == [True, True, True, False]
    assert (c["beamwidth_deg"][["T1", "U1", "T2"]] == 360.0).all()


# ------------------------------------------------------------------------------------------------
# D. A city-wide list read for one county
# ------------------------------------------------------------------------------------------------


def test_sites_in_other_counties_of_the_boundary_file_are_skipped_not_rejected(tmp_path):
    x, y = JINJIANG
    header = [*SITE_HEADER, "工作频段"]
    rows = [
        ("J1", "中国移动", x, y, "NR", "n41"),
        ("N1", "中国移动", *NANAN, "NR", "n41"),  # same city, another county
        ("A1", "中国移动", *ANXI, "NR", "n41"),
        ("B1", "中国移动", 116.40, 39.90, "NR", "n41"),  # Beijing: in no county of the file
        ("J2", "中国移动", y, x, "NR", "n41"),  # exchanged: repaired as before
    ]
    p = write_xlsx(tmp_path / "泉州全市.xlsx", [("基站", [header, *rows])])
    inp = load_inputs(scenario(tmp_path, p, region="350582"))
    assert sorted(inp.cells["site_id"]) == ["J1", "J2"]
    rej = inp.rejected
    assert rej["row"].tolist() == [5] and rej["reason"].tolist() == ["outside_region"]
    skipped = inp.skipped[inp.skipped["file"] == str(p)]
    assert skipped["row"].tolist() == [3, 4]
    assert set(skipped["reason"]) == {"outside_region"}
    assert skipped["message"].str.contains("350583").iloc[0]
    assert skipped["message"].str.contains("350524").iloc[1]
    rep = next(r for r in inp.reports if r.input == "sites")
    assert (rep.read, rep.used, rep.rejected, rep.skipped) == (5, 2, 1, 2)
    assert rep.skipped_reasons == {"outside_region": 2}


# ------------------------------------------------------------------------------------------------
# E. Several key-place lists
# ------------------------------------------------------------------------------------------------


def _sites(tmp_path):
    x, y = JINJIANG
    return write_xlsx(
        tmp_path / "sites.xlsx",
        [("基站", [[*SITE_HEADER, "工作频段"], ("J1", "移动", x, y, "NR", "n41")])],
    )


def test_two_key_place_lists_numbered_from_one_are_both_read_and_shared_places_count_once(
    tmp_path,
):
    x, y = JINJIANG
    sx, sy = SHISHI
    hospitals = write_xlsx(
        tmp_path / "医院.xlsx",
        [
            (
                "医院",
                [
                    ["序号", "名称", "类别", "经度", "纬度"],
                    (1, "晋江市医院", "医院", x, y),
                    (2, "石狮市医院", "医院", sx, sy),
                ],
            )
        ],
    )
    schools = write_xlsx(
        tmp_path / "学校.xlsx",
        [
            (
                "学校",
                [
                    ["序号", "名称", "类别", "经度", "纬度"],
                    (1, "泉州某职业技术学院", "高职院校", x + 0.01, y),
                    (2, "某高等专科学校", "高等专科", x + 0.02, y),
                    (3, "晋江市医院", "医院", x + 0.001, y),  # ~100 m from the first list's
                    (4, "石狮市医院", "医院", sx + 0.01, sy),  # ~1 km: another place
                ],
            )
        ],
    )
    # the second file's headers are its own: its columns replace the section's mapping
    inp = load_inputs(
        scenario(
            tmp_path,
            _sites(tmp_path),
            key_places={
                "path": [str(hospitals), str(schools)],
                "columns": {"place_id": "序号"},
            },
        )
    )
    assert inp.rejected.empty, inp.rejected.to_dict("records")
    kp = inp.key_places
    assert kp["place_id"].tolist() == ["1", "2", "kp2-1", "kp2-2", "4"]
    assert kp["category"].tolist()[2:4] == ["university", "university"]
    skipped = inp.skipped[inp.skipped["file"] == str(schools)]
    assert skipped["row"].tolist() == [4] and skipped["reason"].tolist() == ["duplicate_place"]
    assert f"{hospitals} row 2" in skipped["message"].iloc[0]
    reps = [r for r in inp.reports if r.input == "key_places"]
    assert [(r.read, r.used, r.skipped) for r in reps] == [(2, 2, 0), (4, 3, 1)]
    assert reps[1].skipped_reasons == {"duplicate_place": 1}


def test_a_files_entry_with_its_own_columns_does_not_take_the_sections(tmp_path):
    x, y = JINJIANG
    gov = tmp_path / "gov.csv"
    gov.write_text(f"场所名,类型,经度,纬度\n晋江站,火车站,{x},{y}\n", encoding="utf-8")
    amap = tmp_path / "amap.csv"
    amap.write_text(f"POI名称,type,lng,lat\n晋江某医院,医院,{x + 0.01},{y}\n", encoding="utf-8")
    inp = load_inputs(
        scenario(
            tmp_path,
            _sites(tmp_path),
            key_places={
                "path": str(gov),
                "columns": {"name": "场所名", "category": "类型"},  # amap.csv has no 类型
                "files": [{"path": str(amap), "columns": {"name": "POI名称"}}],
            },
        )
    )
    kp = inp.key_places.set_index("name")
    assert kp["category"].to_dict() == {"晋江站": "railway", "晋江某医院": "hospital"}


def test_exchanged_lonlat_in_a_location_column_is_swapped_back(tmp_path):
    x, y = JINJIANG
    pois = tmp_path / "场所_经纬度.csv"
    pois.write_text(
        f'名称,类别,经纬度\n晋江站,火车站,"{x},{y}"\n晋江某医院,医院,"{y},{x + 0.01}"\n'
        f'远处,医院,"{y},{x + 5}"\n晋江某站,火车站,{x + 0.02} {y}\n',
        encoding="utf-8",
    )
    inp = load_inputs(scenario(tmp_path, _sites(tmp_path), key_places={"path": str(pois)}))
    kp = inp.key_places.set_index("name")
    assert kp.loc["晋江某医院"].geometry.x == pytest.approx(x + 0.01)
    assert kp.loc["晋江某站"].geometry.x == pytest.approx(x + 0.02)  # "lon lat", no comma
    rep = next(r for r in inp.reports if r.input == "key_places")
    assert rep.fixed == {"lat_lon_swapped": 1}
    assert any("exchanged" in w and "'经纬度'" in w for w in inp.warnings)
    assert inp.rejected["row"].tolist() == [4]  # swapped it is not in the region either


def test_no_usable_row_error_names_the_reasons(tmp_path):
    from types import SimpleNamespace

    import pandas as pd

    from gigacov.errors import InputError
    from gigacov.ingest.model import InputReport
    from gigacov.run_stages import check_not_empty

    rej = pd.DataFrame(
        {
            "file": ["k.csv"] * 5,
            "row": [2, 3, 4, 5, 6],
            "column": "id",
            "value": "",
            "reason": ["duplicate_id"] * 4 + ["missing_value"],
            "message": "",
        }
    )
    report = InputReport("key_places", "k.csv", read=5, used=0, rejected=5)
    inputs = SimpleNamespace(rejected=rej, reports=[report])
    with pytest.raises(InputError, match=r"rejected 5 \(duplicate_id: 4, missing_value: 1"):
        check_not_empty(inputs)


# ------------------------------------------------------------------------------------------------
# F. Workbooks with one sheet per operator or technology
# ------------------------------------------------------------------------------------------------


def _two_sheet_workbook(tmp_path):
    x, y = JINJIANG
    header = [*SITE_HEADER, "工作频段", "开通时间"]
    mobile = [
        header,
        ("M1", "中国移动", x, y, "NR", "n41", 2022),
        ("M2", "中国移动", x + 0.001, y, "NR", "n41", "2024-13-01"),  # rejected: row 3
        ("S1", "中国广电", x + 0.002, y, "NR", "n28", 2023),
    ]
    ctcu = [
        ["说明：电信联通共享站点"],  # a title row above the header
        header,
        ("M1", "中国电信", x + 0.05, y, "NR", "n78", 2022),  # same id as 移动's, another place
        ("T2", "中国联通", x + 0.003, y, "LTE", "B3", "待开通"),  # skipped: row 4
        ("T3", "中国电信", x + 0.004, y, "NR", "n78", 2021),
    ]
    notes = [["填表说明"], ["每个运营商一个工作表"]]
    # site headers but no coordinates: a summary, not a list of sites
    summary = [["基站编号", "运营商", "网络制式", "工作频段"], ("合计", "全部", "5G", "全部")]
    return write_xlsx(
        tmp_path / "泉州基站_分运营商表.xlsx",
        [("移动广电", mobile), ("电信联通", ctcu), ("说明", notes), ("汇总", summary)],
    )


def test_every_sheet_of_sites_is_read_and_each_row_counted_once(tmp_path):
    p = _two_sheet_workbook(tmp_path)
    inp = load_inputs(scenario(tmp_path, p))
    c = inp.cells
    assert sorted(c["site_id"]) == ["M1", "M1@电信联通", "S1", "T3"]
    assert c["operator"].nunique() == 3  # 移动, 广电, 电信
    rej = inp.rejected
    assert rej["file"].tolist() == [f"{p}[移动广电]"] and rej["row"].tolist() == [3]
    skipped = inp.skipped[inp.skipped["file"].str.startswith(str(p))]
    assert skipped["file"].tolist() == [f"{p}[电信联通]"] and skipped["row"].tolist() == [4]
    rep = next(r for r in inp.reports if r.input == "sites")
    assert rep.path == str(p)
    assert (rep.read, rep.used, rep.rejected, rep.skipped, rep.cells) == (6, 4, 1, 1, 4)
    note = next(w for w in rep.warnings if "all are read" in w)
    assert "'移动广电'" in note and "'电信联通'" in note and "'说明'" in note
    assert "sheet '汇总' not read" in note


def test_a_list_of_sheets_reads_those_only(tmp_path):
    p = _two_sheet_workbook(tmp_path)
    inp = load_inputs(scenario(tmp_path, p, sites={"sheet": ["电信联通"]}))
    assert sorted(inp.cells["site_id"]) == ["M1", "T3"]
    rep = next(r for r in inp.reports if r.input == "sites")
    assert (rep.read, rep.used, rep.skipped) == (3, 2, 1)
    inp = load_inputs(scenario(tmp_path, p, sites={"sheet": "移动广电"}))
    assert sorted(inp.cells["site_id"]) == ["M1", "S1"]


def test_key_places_in_several_sheets_are_all_read(tmp_path):
    x, y = JINJIANG
    header = ["名称", "类别", "经度", "纬度"]
    p = write_xlsx(
        tmp_path / "重点场所.xlsx",
        [
            ("医院", [header, ("晋江市医院", "医院", x, y)]),
            (
                "学校",
                [header, ("某职业技术学院", "高职院校", x + 0.01, y), ("无名", "学校", None, y)],
            ),
        ],
    )
    inp = load_inputs(scenario(tmp_path, _sites(tmp_path), key_places={"path": str(p)}))
    assert sorted(inp.key_places["name"]) == ["晋江市医院", "某职业技术学院"]
    assert inp.rejected["file"].tolist() == [f"{p}[学校]"]
    reps = [r.path for r in inp.reports if r.input == "key_places"]
    assert reps == [f"{p}[医院]", f"{p}[学校]"]
    inp = load_inputs(
        scenario(tmp_path, _sites(tmp_path), key_places={"path": str(p), "sheet": ["医院"]})
    )
    assert inp.key_places["name"].tolist() == ["晋江市医院"]


def test_a_cell_listed_in_two_sheets_is_warned_about(tmp_path):
    x, y = JINJIANG
    header = [*SITE_HEADER, "小区编号", "工作频段"]
    rows = [header, ("M1", "中国移动", x, y, "NR", "1", "n41")]
    p = write_xlsx(tmp_path / "sites.xlsx", [("清单", rows), ("清单备份", rows)])
    inp = load_inputs(scenario(tmp_path, p))
    assert sorted(inp.cells["cell_id"]) == ["1", "1@清单备份"]
    assert any("cell(s) of sheet '清单备份'" in w for w in inp.warnings)
