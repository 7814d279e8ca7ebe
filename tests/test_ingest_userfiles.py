"""A user trial on realistic files (issue 15, second round): band spellings against the row's
technology, allocations written as ranges, rough frequencies near a band edge, names that differ
only in full-width characters, coordinates with hemisphere words, planned sites, truncated DBF
headers, two-row merged headers, instruction sheets, and single-operator lists. Every fixture
is written here with the real writers (openpyxl, pandas, pyogrio)."""

from __future__ import annotations

import openpyxl
import pytest

from gigacov.ingest import load_inputs
from gigacov.scenario import scenario_from_dict

JINJIANG = (118.5501, 24.7083)  # 350582 晋江市
SHISHI = (118.6759, 24.7422)  # 350581 石狮市


def scenario(tmp_path, sites_path, **sections):
    data = {
        "scenario": {"name": "t", "year": 2024, "region": "350500"},
        "sites": {"path": str(sites_path)},
    }
    for k, v in sections.items():
        data.setdefault(k, {}).update(v)
    return scenario_from_dict(data, base_dir=tmp_path)


def write_xlsx(path, rows, *, title="基站清单", before=()):
    """A workbook whose first sheet holds ``rows`` (header first), after sheets ``before``
    (each ``(name, rows)``)."""
    wb = openpyxl.Workbook()
    first = True
    for name, sheet_rows in (*before, (title, rows)):
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = name
        for r in sheet_rows:
            ws.append(list(r))
    wb.save(path)
    return path


def cells_by_site(inp):
    return inp.cells.set_index("site_id")


# ------------------------------------------------------------------------------------------------
# Bands against the row's technology, allocations, rough frequencies
# ------------------------------------------------------------------------------------------------


def test_band_spellings_take_the_operators_carrier_of_the_rows_technology(tmp_path):
    x, y = JINJIANG
    header = ["基站编号", "运营商", "经度", "纬度", "网络制式", "工作频段", "下行频率"]
    rows = [
        ("M1", "中国移动", x, y, "NR", "D频段", None),  # LTE band 41 on an NR row → n41
        ("M2", "中国移动", x + 0.001, y, "NR", "2515-2675MHz", None),  # the whole allocation
        ("M3", "中国移动", x + 0.002, y, "NR", "2515-2615MHz", None),  # exactly one carrier
        ("M4", "中国移动", x + 0.003, y, "LTE", "900M", None),
        ("M5", "中国移动", x + 0.004, y, "NR", "700M", None),
        ("T1", "中国电信", x + 0.005, y, "LTE", "1.8G", None),  # 1800 MHz, B3 starts at 1805
        ("T2", "中国电信", x + 0.006, y, "LTE", "2.1G", None),
        ("T3", "中国电信", x + 0.007, y, "LTE", None, "1860-1870MHz"),  # one 10 MHz carrier
        ("T4", "中国电信", x + 0.008, y, "LTE", "3400-3500MHz", None),  # no LTE carrier that wide
        ("U1", "中国联通", x + 0.009, y, "LTE", "n3", None),  # an NR band on an LTE row → B3
        ("U2", "中国联通", x + 0.010, y, "NR", "B78", None),  # no LTE band 78: NR's n78
        ("U3", "中国联通", x + 0.011, y, "NR", "B258", None),  # no band 258 at all
    ]
    p = write_xlsx(tmp_path / "sites.xlsx", [header, *rows])
    inp = load_inputs(scenario(tmp_path, p))
    rej = inp.rejected
    assert rej["row"].tolist() == [13] and rej["reason"].tolist() == ["not_a_number"]
    c = cells_by_site(inp)
    span = {s: (c.loc[s, "carrier_low_mhz"], c.loc[s, "carrier_high_mhz"]) for s in c.index}
    # 2: D频段 on NR is n41: 100 MHz / 273 RB, China Mobile's n41 carrier
    assert (c.loc["M1", "bandwidth_mhz"], c.loc["M1", "n_rb"]) == (100.0, 273)
    assert span["M1"] == (2515.0, 2615.0) and c.loc["M1", "freq_source"] == "band"
    # 3: a 160 MHz range is an allocation: the operator's carrier in it, not its centre ± 50
    assert span["M2"] == (2515.0, 2615.0) and c.loc["M2", "freq_source"] == "band"
    assert span["M3"] == (2515.0, 2615.0) and c.loc["M3", "freq_source"] == "input"
    assert span["T3"] == (1860.0, 1870.0) and c.loc["T3", "bandwidth_mhz"] == 10.0
    assert c.loc["T3", "freq_source"] == "input"
    # a 100 MHz range on an LTE row is no LTE carrier: a band, LTE's default bandwidth
    assert c.loc["T4", "bandwidth_mhz"] == 20.0 and c.loc["T4", "n_rb"] == 100
    assert c.loc["T4", "freq_source"] == "band"
    # 4: rough spellings snap to the operator's nearest band within 60 MHz
    assert span["T1"] == (1860.0, 1880.0)  # 电信 B3
    assert span["T2"] == (2110.0, 2130.0)  # 电信 B1
    assert span["M4"] == (934.0, 949.0)  # 移动 B8
    assert span["M5"] == (758.0, 788.0)  # 移动 n28
    # an NR band on an LTE row is the LTE band of the same frequencies
    assert span["U1"] == (1830.0, 1860.0) and c.loc["U1", "bandwidth_mhz"] == 20.0
    assert span["U2"] == (3500.0, 3600.0) and c.loc["U2", "n_rb"] == 273


def test_band_without_a_counterpart_keeps_its_frequency_and_warns(tmp_path):
    x, y = SHISHI
    header = ["站号", "运营商", "经度", "纬度", "制式", "频段"]
    rows = [("A1", "中国电信", x, y, "LTE", "n78")]
    p = write_xlsx(tmp_path / "sites.xlsx", [header, *rows])
    inp = load_inputs(scenario(tmp_path, p))
    c = cells_by_site(inp)
    assert c.loc["A1", "tech"] == "4G" and c.loc["A1", "bandwidth_mhz"] == 20.0
    assert c.loc["A1", "n_rb"] == 100  # LTE's 20 MHz, not n78's 100 MHz (no such LTE carrier)
    assert any("'n78' on a 4G row" in w for w in inp.warnings)


def test_carrier_table_snaps_rough_frequencies_within_the_stated_tolerance():
    from gigacov.operators import BAND_SNAP_MHZ, load_carrier_table

    t = load_carrier_table()
    assert BAND_SNAP_MHZ == 60.0
    assert t.find("China Telecom", "4G", 1800.0) is None  # exact by default
    assert t.find("China Telecom", "4G", 1800.0, BAND_SNAP_MHZ).low_mhz == 1860.0
    assert t.find("China Unicom", "4G", 900.0, BAND_SNAP_MHZ).low_mhz == 954.0
    assert t.find("China Mobile", "5G", 700.0, BAND_SNAP_MHZ).low_mhz == 758.0
    assert t.find("China Mobile", "5G", 690.0, BAND_SNAP_MHZ) is None  # 68 MHz below n28
    assert t.find("China Mobile", "5G", 3500.0, BAND_SNAP_MHZ) is None
    # a frequency inside a band is that band, not a rounding: 1900 MHz is the F band (B39),
    # China Mobile's TD-LTE carrier there, and no band of China Telecom's (not its B3, 20 MHz off)
    assert t.find("China Mobile", "4G", 1900.0, BAND_SNAP_MHZ).low_mhz == 1885.0
    assert t.find("China Telecom", "4G", 1900.0, BAND_SNAP_MHZ) is None
    # 2.1 GHz NR: each operator's band-1 holding, never one another's
    assert t.find("China Unicom", "5G", 2100.0, BAND_SNAP_MHZ).low_mhz == 2130.0
    assert t.find("China Telecom", "5G", 2120.0).low_mhz == 2110.0


# ------------------------------------------------------------------------------------------------
# Names, coordinates, planned sites
# ------------------------------------------------------------------------------------------------


def test_site_names_differing_only_in_full_width_characters_are_one_name(tmp_path):
    x, y = JINJIANG
    text = (
        "站号,小区号,站名,经度,纬度,制式\n"
        f"A1,1,晋江青阳（东）,{x},{y},5G\n"
        f"A1,2,晋江青阳(东),{x},{y},5G\n"
        f"B1,1,石狮　宝盖 大厦,{SHISHI[0]},{SHISHI[1]},5G\n"  # an ideographic space
        f"B1,2,石狮宝盖大厦,{SHISHI[0]},{SHISHI[1]},5G\n"
        f"C1,1,安海中学,{x + 0.01},{y},5G\n"
        f"C1,2,安海小学,{x + 0.01},{y},5G\n"  # really two names: still a conflict
    )
    path = tmp_path / "站点.csv"
    path.write_bytes(text.encode("gbk", errors="strict"))
    inp = load_inputs(scenario(tmp_path, path))
    assert inp.rejected["reason"].tolist() == ["site_conflict", "site_conflict"]
    assert inp.rejected["row"].tolist() == [6, 7]
    assert sorted(inp.cells["site_id"]) == ["A1", "A1", "B1", "B1"]


def test_coordinates_with_hemisphere_prefixes_and_suffixes(tmp_path):
    header = ["站号", "经度", "纬度", "制式"]
    rows = [
        ("P1", "E118°33'00.36\"", "N24°42'29.88\""),
        ("P2", "东经118°33′00.36″", "北纬24°42′29.88″"),
        ("P3", "118.5501E", "24.7083N"),
        ("P4", "E 118.5501", "N24.7083"),
        ("P5", "118.5501°E", "北纬：24.7083"),
        ("P6", "W118.5501", "N24.7083"),  # the western hemisphere: outside the region
    ]
    p = write_xlsx(tmp_path / "sites.xlsx", [header, *[(*r, "5G") for r in rows]])
    inp = load_inputs(scenario(tmp_path, p))
    rej = inp.rejected
    assert rej[["row", "reason"]].values.tolist() == [[7, "outside_region"]]
    c = cells_by_site(inp)
    assert sorted(c.index) == ["P1", "P2", "P3", "P4", "P5"]
    for s in c.index:
        assert c.loc[s, "lon"] == pytest.approx(118.5501, abs=1e-6), s
        assert c.loc[s, "lat"] == pytest.approx(24.7083, abs=1e-6), s


def test_planned_sites_are_skipped_not_rejected(tmp_path):
    x, y = JINJIANG
    header = ["站号", "经度", "纬度", "制式", "开通时间"]
    rows = [
        ("D1", x, y, "5G", "2021-06-30"),
        ("D2", x + 0.001, y, "5G", "待开通"),
        ("D3", x + 0.002, y, "5G", "未开通"),
        ("D4", x + 0.003, y, "5G", "规划"),
        ("D5", x + 0.004, y, "5G", "在建"),
        ("D6", x + 0.005, y, "5G", "昨天"),  # not a date, not a plan: still bad_date
    ]
    p = write_xlsx(tmp_path / "sites.xlsx", [header, *rows])
    inp = load_inputs(scenario(tmp_path, p))
    rep = next(r for r in inp.reports if r.input == "sites")
    assert (rep.read, rep.used, rep.rejected, rep.skipped) == (
        6,
        1,
        1,
        4,
    )  # read is every row of the file
    assert rep.skipped_reasons == {"not_yet_commissioned": 4}
    assert inp.rejected[["row", "reason"]].values.tolist() == [[7, "bad_date"]]
    skipped = inp.skipped[inp.skipped["file"] == str(p)]
    assert skipped["value"].tolist() == ["待开通", "未开通", "规划", "在建"]
    assert set(skipped["reason"]) == {"not_yet_commissioned"}
    assert "'待开通'" in skipped["message"].iloc[0]
    assert any("not on air yet" in w and "'待开通'" in w for w in inp.warnings)


# ------------------------------------------------------------------------------------------------
# Shapefile field names cut at 10 bytes
# ------------------------------------------------------------------------------------------------


def test_shapefile_headers_cut_at_ten_bytes_are_recognised(tmp_path):
    import warnings

    import geopandas as gpd
    import shapely

    x, y = JINJIANG
    gdf = gpd.GeoDataFrame(
        {
            "行政区划代码": ["350582101001", "350582101002"],  # GBK: 12 bytes → "行政区划代"
            "行政区划名称": ["青阳村", "梅岭村"],  # → "行政区划名"
            "乡镇街道名称": ["青阳街道", "梅岭街道"],  # → "乡镇街道名"
            "population_total": [1200, 900],  # → "population"
        },
        geometry=[
            shapely.box(x, y, x + 0.01, y + 0.01),
            shapely.box(x + 0.01, y, x + 0.02, y + 0.01),
        ],
        crs=4326,
    )
    path = tmp_path / "村界.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL says it truncates the names: that is the point
        gdf.to_file(path, encoding="gbk", engine="pyogrio")
    for ext in (".cpg", ".CPG"):
        path.with_suffix(ext).unlink(missing_ok=True)
    import pyogrio

    assert "行政区划代" in pyogrio.read_info(path, encoding="gbk")["fields"]
    sites = tmp_path / "sites.csv"
    sites.write_text(f"站号,经度,纬度,制式\nA1,{x},{y},5G\n", encoding="utf-8")
    inp = load_inputs(scenario(tmp_path, sites, boundaries={"villages": str(path)}))
    v = inp.villages.set_index("admin_code")
    assert v.loc["350582101001", "name"] == "青阳村"
    assert v.loc["350582101002", "name"] == "梅岭村"


def test_dbf_truncations_in_gbk_and_utf8():
    from gigacov.ingest.tables import dbf_truncations

    assert dbf_truncations("行政区划代码") == ["行政区划代", "行政区"]
    assert dbf_truncations("population_total") == ["population"]
    assert dbf_truncations("村代码") == [] and dbf_truncations("lon") == []


# ------------------------------------------------------------------------------------------------
# Two-row merged headers
# ------------------------------------------------------------------------------------------------


def write_two_row_broadband(path, *, extra_sub=None):
    """A statistics workbook as bureaus send it: a title row, then group titles merged across
    their sub-headers (row 2) over the sub-headers (row 3), code/name/year merged down."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2024年宽带统计"
    ws.append(["2024年泉州市宽带发展统计表"])
    ws.merge_cells("A1:L1")
    subs_fixed = ["总数", "500M及以上", "千兆及以上"] + ([extra_sub] if extra_sub else [])
    n_fixed = len(subs_fixed)
    upper = ["行政区划代码", "名称", "年份", "家庭户数(万户)", "固定宽带用户(万户)"]
    upper += [None] * (n_fixed - 1) + ["移动电话用户(万户)", None, "端口(个)", None]
    lower = [None, None, None, None, *subs_fixed, "总数", "5G用户", "PON端口", "10G PON端口"]
    ws.append(upper)
    ws.append(lower)
    col = 5  # E: the first fixed-broadband column
    ws.merge_cells(start_row=2, start_column=col, end_row=2, end_column=col + n_fixed - 1)
    ws.merge_cells(start_row=2, start_column=col + n_fixed, end_row=2, end_column=col + n_fixed + 1)
    ws.merge_cells(
        start_row=2, start_column=col + n_fixed + 2, end_row=2, end_column=col + n_fixed + 3
    )
    for c in range(1, 5):
        ws.merge_cells(start_row=2, start_column=c, end_row=3, end_column=c)
    fixed = [53.0, 23.0, 15.0] + ([1.0] if extra_sub else [])
    ws.append(["350582", "晋江市", 2024, 61.0, *fixed, 215.0, 110.0, 42000, 20000])
    ws.append(
        ["350581", "石狮市", 2024, 25.0, 20.0, 9.0, 6.0, *([0.5] if extra_sub else [])]
        + [80.0, 40.0, 15000, 7000]
    )
    wb.save(path)
    return path


def test_two_row_merged_header_keeps_every_column(tmp_path):
    x, y = JINJIANG
    sites = tmp_path / "sites.csv"
    sites.write_text(f"站号,经度,纬度,制式\nA1,{x},{y},5G\n", encoding="utf-8")
    bb = write_two_row_broadband(tmp_path / "宽带统计.xlsx")
    inp = load_inputs(scenario(tmp_path, sites, broadband={"path": str(bb)}))
    assert inp.rejected[inp.rejected["file"] == str(bb)].empty
    b = inp.broadband.set_index("admin_code")
    assert b["source_row"].tolist() == [4, 5]  # title, group row, sub-header row above
    jj = b.loc["350582"]
    assert jj["households"] == 610_000  # 万户 scaled
    assert jj["fixed_users"] == 530_000  # 固定宽带用户(万户)/总数
    assert jj["users_500m_plus"] == 230_000  # the group's unit applies to its sub-headers
    assert jj["users_1000m_plus"] == 150_000
    assert jj["mobile_users"] == 2_150_000 and jj["users_5g"] == 1_100_000
    assert jj["pon_ports"] == 42000 and jj["pon_10g_ports"] == 20000


def test_two_row_header_column_that_cannot_be_mapped_fails_naming_it(tmp_path):
    from gigacov.errors import InputError

    x, y = JINJIANG
    sites = tmp_path / "sites.csv"
    sites.write_text(f"站号,经度,纬度,制式\nA1,{x},{y},5G\n", encoding="utf-8")
    bb = write_two_row_broadband(tmp_path / "宽带统计.xlsx", extra_sub="农村")
    with pytest.raises(InputError) as err:
        load_inputs(scenario(tmp_path, sites, broadband={"path": str(bb)}))
    msg = str(err.value)
    assert str(bb) in msg and "'固定宽带用户(万户)/农村'" in msg
    assert '[broadband.columns]\n    <column> = "固定宽带用户(万户)/农村"' in msg
    # mapped (here to a column the file lacks), it is read, with its group's unit
    cols = {"fttx_households_covered": "固定宽带用户(万户)/农村"}
    inp = load_inputs(scenario(tmp_path, sites, broadband={"path": str(bb), "columns": cols}))
    assert inp.broadband.set_index("admin_code").loc["350582", "fttx_households_covered"] == 10_000


def test_a_header_over_text_data_is_not_taken_for_two_rows(tmp_path):
    # DMS coordinates are text under the header: still data, not a second header row
    header = ["站号", "站名", "经度", "纬度", "制式", "备注"]
    rows = [
        ("A1", "青阳", "118°33′00.36″", "24°42′29.88″", "NR", None),
        ("A2", "宝盖", "118°40′33.24″", "24°44′31.92″", "NR", None),
    ]
    p = write_xlsx(tmp_path / "sites.xlsx", [header, *rows])
    inp = load_inputs(scenario(tmp_path, p))
    assert sorted(inp.cells["site_id"]) == ["A1", "A2"]
    assert inp.cells["source_row"].tolist() == [2, 3]


def test_two_row_header_in_a_csv_export(tmp_path):
    x, y = JINJIANG
    sites = tmp_path / "sites.csv"
    sites.write_text(f"站号,经度,纬度,制式\nA1,{x},{y},5G\n", encoding="utf-8")
    bb = tmp_path / "宽带.csv"
    bb.write_bytes(
        (
            "行政区划代码,年份,固定宽带用户(万户),,,移动电话用户(万户),\n"
            ",,总数,500M及以上,千兆及以上,总数,5G用户\n"
            "350582,2024,53,23,15,215,110\n"
        ).encode("gbk")
    )
    inp = load_inputs(scenario(tmp_path, sites, broadband={"path": str(bb)}))
    jj = inp.broadband.set_index("admin_code").loc["350582"]
    assert jj["source_row"] == 3
    assert (jj["fixed_users"], jj["users_500m_plus"], jj["users_1000m_plus"]) == (
        530_000,
        230_000,
        150_000,
    )
    assert jj["users_5g"] == 1_100_000


# ------------------------------------------------------------------------------------------------
# Workbooks whose first sheet is not the data; single-operator lists
# ------------------------------------------------------------------------------------------------

INSTRUCTIONS = [
    ("填表说明",),
    ("1. 经纬度请填写WGS84坐标，保留6位小数；",),
    ("2. 网络制式填写4G或5G；",),
    ("3. 开通时间格式为YYYY-MM-DD。",),
]


def test_instructions_sheet_first_reads_the_data_sheet_with_a_warning(tmp_path):
    x, y = JINJIANG
    header = ["基站编号", "经度", "纬度", "网络制式"]
    p = write_xlsx(
        tmp_path / "sites.xlsx",
        [header, ("A1", x, y, "NR"), ("A2", x + 0.01, y, "NR")],
        title="站点清单",
        before=[("填表说明", INSTRUCTIONS), ("字典", [("制式",), ("4G",), ("5G",)])],
    )
    inp = load_inputs(scenario(tmp_path, p))
    assert sorted(inp.cells["site_id"]) == ["A1", "A2"]
    note = next(w for w in inp.warnings if "填表说明" in w)
    assert "'站点清单'" in note and '[sites] sheet = "站点清单"' in note


def test_no_recognisable_sheet_names_file_sheets_and_the_key(tmp_path):
    from gigacov.errors import InputError

    x, y = JINJIANG
    p = write_xlsx(
        tmp_path / "sites.xlsx",
        [["基站编号", "经度", "纬度"], ("A1", x, y)],
        title="清单一",
        before=[("填表说明", INSTRUCTIONS), ("清单二", [["站号", "经度", "纬度"], ("B1", x, y)])],
    )
    with pytest.raises(InputError) as err:
        load_inputs(scenario(tmp_path, p))
    msg = str(err.value)
    assert str(p) in msg and "'填表说明', '清单二', '清单一'" in msg
    assert "several sheets look like data" in msg and '[sites] sheet = "清单二"' in msg
    # the key reads the named sheet
    inp = load_inputs(scenario(tmp_path, p).replace(sites={"path": str(p), "sheet": "清单一"}))
    assert inp.cells["site_id"].tolist() == ["A1"]


def test_sites_operator_key_sets_the_operator_of_rows_that_name_none(tmp_path):
    x, y = JINJIANG
    header = ["站号", "经度", "纬度", "制式", "频段"]
    p = write_xlsx(
        tmp_path / "sites.xlsx",
        [header, ("M1", x, y, "NR", "2.6G"), ("M2", x + 0.01, y, "NR", None)],
    )
    inp = load_inputs(scenario(tmp_path, p, sites={"operator": "中国移动"}))
    c = cells_by_site(inp)
    assert set(c["operator"]) == {"China Mobile"} and set(c["serves"]) == {"China Mobile"}
    assert (c["carrier_low_mhz"] == 2515.0).all() and (c["carrier_high_mhz"] == 2615.0).all()
    rep = next(r for r in inp.reports if r.input == "sites")
    assert rep.defaults["operator"] == 2
    # a column that names the operator wins; only its empty cells take the key
    header2 = ["站号", "运营商", "经度", "纬度", "制式"]
    p2 = write_xlsx(
        tmp_path / "sites2.xlsx",
        [header2, ("T1", "中国电信", x, y, "NR"), ("M1", None, x + 0.01, y, "NR")],
    )
    inp = load_inputs(scenario(tmp_path, p2, sites={"operator": "CMCC"}))
    assert cells_by_site(inp)["operator"].to_dict() == {"T1": "China Telecom", "M1": "China Mobile"}


def test_sites_operator_key_must_name_an_operator(tmp_path):
    from gigacov.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[sites\] operator: '某专网' is not an operator"):
        scenario(tmp_path, tmp_path / "s.csv", sites={"operator": "某专网"})
