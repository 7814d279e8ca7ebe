"""Broadband statistics: Chinese headers, codes joined to boundaries, range and ratio checks."""

from __future__ import annotations

import numpy as np
import pytest

from gigacov.errors import InputError
from gigacov.ingest import BROADBAND_COLUMNS, load_inputs
from gigacov.scenario import scenario_from_dict

FENGZE = (118.6438, 24.9237)

HEADER = "行政区划代码,年份,家庭户数,FTTH覆盖家庭数,具备千兆接入能力家庭数,PON端口数,10G-PON端口数,固定宽带用户数,500M及以上用户数,千兆用户数,移动电话用户数,5G用户数"
ROWS = [
    "350582,2023,600000,590000,500000,40000,15000,520000,200000,120000,2100000,900000",  # 2 2023
    "350582,2024,610000,600000,560000,42000,20000,530000,230000,150000,2150000,1100000",  # 3 ok
    "350582000000,2022,590000,580000,400000,38000,9000,500000,150000,80000,2000000,600000",  # 4 2022
    "350503,2024,-5,1,1,1,1,1,1,1,1,1",  # 5 negative
    "350503,2024,1000,900,1200,10,5,800,300,100,2000,1000",  # 6 gigabit > households
    "350102,2024,1,1,1,1,1,1,1,1,1,1",  # 7 Fuzhou: skipped
    "359999,2024,1,1,1,1,1,1,1,1,1,1",  # 8 unknown code
    ",2024,1,1,1,1,1,1,1,1,1,1",  # 9 missing code
    "350582,2024,1,1,1,1,1,1,1,1,1,1",  # 10 duplicate
    "350503,二〇二四,1,1,1,1,1,1,1,1,1,1",  # 11 year not a number
    "350503,2024,1000,900,800,10,20,800,300,100,2000,1000",  # 12 10G > PON
    "350503,2024,1000,900,800,10,5,800,300,400,2000,1000",  # 13 1000M > 500M+
    "350503,2024,1000,900,800,10,5,800,300,100,2000,abc",  # 14 5G users NaN-text
    "350582101201,2024,300,300,250,5,2,280,100,50,900,400",  # 15 village (no village file)
    "350500,2024,3000000,2900000,2500000,1,1,1,1,1,1,1",  # 16 the city's own total
]


def load(tmp_path, text: str, encoding="utf-8"):
    bb = tmp_path / "宽带统计.csv"
    bb.write_bytes(text.encode(encoding))
    inp, rep = load_file(tmp_path, bb)
    return inp, rep, bb


def load_file(tmp_path, path):
    """The inputs of a scenario in Quanzhou whose broadband file is ``path``."""
    sites = tmp_path / "sites.csv"
    sites.write_text(f"lon,lat\n{FENGZE[0]},{FENGZE[1]}\n", encoding="utf-8")
    scn = scenario_from_dict(
        {
            "scenario": {"name": "b", "year": 2024, "region": "350500"},
            "sites": {"path": str(sites)},
            "broadband": {"path": str(path)},
        }
    )
    inp = load_inputs(scn)
    rep = next(r for r in inp.reports if r.input == "broadband")
    assert rep.read == rep.used + rep.rejected + rep.skipped
    return inp, rep


def test_broadband_chinese_gbk_every_row_accounted(tmp_path):
    inp, rep, path = load(tmp_path, "\n".join([HEADER, *ROWS]) + "\n", encoding="gbk")
    bb = inp.broadband
    assert list(bb.columns) == list(BROADBAND_COLUMNS)
    # rows 2 (2023) and 4 (2022) are other years, row 16 the city total: skipped, not used
    assert sorted(bb["source_row"]) == [3, 15]
    assert set(bb["year"]) == {2024}
    row3 = bb.set_index("source_row").loc[3]
    assert row3["admin_code"] == "350582" and row3["level"] == "county"
    assert row3["gigabit_households_covered"] == 560000 and row3["users_5g"] == 1100000
    assert bb.set_index("source_row").loc[15, "level"] == "village"
    rej = inp.rejected[inp.rejected.file == str(path)].set_index("row")
    assert rej.loc[5, "reason"] == "out_of_range" and "negative" in rej.loc[5, "message"]
    assert (
        rej.loc[6, "reason"] == "out_of_range"
        and "gigabit_households_covered above households" in rej.loc[6, "message"]
    )
    assert rej.loc[6, "value"] == "1200 > 1000" and rej.loc[6, "column"] == "具备千兆接入能力家庭数"
    assert rej.loc[8, "reason"] == "unknown_admin_code" and "'359999'" in rej.loc[8, "message"]
    assert rej.loc[9, "reason"] == "missing_value"
    assert rej.loc[10, "reason"] == "duplicate_id" and "row 3" in rej.loc[10, "message"]
    assert 2 not in rej.index and 4 not in rej.index and 16 not in rej.index
    assert rej.loc[11, "reason"] == "not_a_number" and rej.loc[11, "column"] == "年份"
    assert (
        rej.loc[12, "reason"] == "out_of_range"
        and "pon_10g_ports above pon_ports" in rej.loc[12, "message"]
    )
    assert (
        rej.loc[13, "reason"] == "out_of_range"
        and "users_1000m_plus above users_500m_plus" in rej.loc[13, "message"]
    )
    assert rej.loc[14, "reason"] == "not_a_number" and rej.loc[14, "column"] == "5G用户数"
    assert 7 not in rej.index
    # every row of the file once: 15 = 2 used + 9 rejected + 4 skipped
    assert (rep.read, rep.used, rep.rejected, rep.skipped) == (15, 2, 9, 4)
    assert rep.skipped_reasons == {"outside_region": 1, "other_year": 2, "total_row": 1}
    skipped = inp.skipped[inp.skipped.file == str(path)].sort_values("row")
    assert skipped[["row", "value", "reason"]].values.tolist() == [
        [2, "2023", "other_year"],
        [4, "2022", "other_year"],
        [7, "350102", "outside_region"],
        [16, "350500", "total_row"],
    ]
    assert "not the scenario year 2024" in skipped["message"].iloc[0]
    assert "city total of 泉州市" in skipped["message"].iloc[3]
    assert any("village rows" in w for w in inp.warnings)


def test_wan_units_thousands_separators_and_title_row(tmp_path):
    text = (
        "泉州市2024年宽带发展情况统计表\n"
        "区划代码,年份,家庭户数(万户),千兆用户数\n"
        '350582,2024,61.5,"150,000"\n'
    )
    inp, rep, _ = load(tmp_path, text)
    row = inp.broadband.iloc[0]
    assert row["households"] == pytest.approx(615000)
    assert row["users_1000m_plus"] == 150000
    assert row["source_row"] == 3
    assert np.isnan(row["pon_ports"])


def test_no_year_column_uses_the_scenario_year(tmp_path):
    inp, rep, _ = load(tmp_path, "adcode,households\n350582,1000\n")
    assert inp.broadband["year"].tolist() == [2024]
    assert rep.defaults == {"year": 1}


def test_missing_code_column_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"no admin_code column.*'县名'.*区划代码"):
        load(tmp_path, "县名,家庭户数\n晋江,1000\n")


def test_no_row_of_the_scenario_year_is_said(tmp_path):
    text = "\n".join([HEADER, ROWS[0].replace(",2023,", ",2022,"), ROWS[0]]) + "\n"
    inp, rep, _ = load(tmp_path, text)
    assert (rep.read, rep.used, rep.skipped) == (2, 0, 2)
    assert rep.skipped_reasons == {"other_year": 2}
    assert any(
        "no row is for the scenario year 2024 (years present: 2022, 2023)" in w
        for w in inp.warnings
    )


def test_one_row_per_operator_is_summed_per_unit_never_the_first_operator_alone(tmp_path):
    """Statistics given per operator (运营商): ports and users are summed per unit; before,
    the second and third operators' rows were rejected as duplicates and the first operator's
    share (30 %) made the county pass where all three together (23.5 %) fail."""
    text = (
        "区县代码,区县,运营商,年份,家庭户数,固定宽带用户数,千兆用户数,PON端口数\n"
        "350502,鲤城区,中国移动,2024,80000,74550,22365,2840\n"
        "350502,鲤城区,中国电信,2024,80000,52185,10437,1987\n"
        "350502,鲤城区,中国联通,2024,80000,22365,2236,852\n"
        "350502,鲤城区,合计,2024,80000,149100,35038,5679\n"  # the unit's own: agrees, used
        "350503,丰泽区,中国移动,2024,90000,112875,33862,4300\n"
        "350503,丰泽区,中国电信,2024,91000,60000,,2000\n"  # households differ, users blank
        ",合计,,2024,1,1,1,1\n"  # a total row without a code: skipped, not rejected
    )
    inp, rep, path = load(tmp_path, text, encoding="gbk")
    bb = inp.broadband.set_index("admin_code")
    assert bb.loc["350502", "fixed_users"] == 149100
    assert bb.loc["350502", "users_1000m_plus"] == 35038  # 23.5 % of users, not the 30 % of one
    assert bb.loc["350502", "households"] == 80000  # the unit's, given alike by every operator
    assert np.isnan(bb.loc["350503", "households"])  # 90000 vs 91000: not guessed
    assert np.isnan(bb.loc["350503", "users_1000m_plus"])  # one operator blank: no partial sum
    assert bb.loc["350503", "pon_ports"] == 6300
    assert inp.rejected[inp.rejected.file == str(path)].empty
    assert (rep.read, rep.used, rep.rejected, rep.skipped) == (7, 6, 0, 1)
    assert rep.skipped_reasons == {"total_row": 1}
    assert any(
        "per operator (China Mobile, China Telecom, China Unicom)" in w for w in inp.warnings
    )
    assert any("different household counts for 350503 households" in w for w in inp.warnings)
    assert any("no value in '千兆用户数' (350503 (row 7))" in w for w in inp.warnings)
    # the same operator twice for one unit is still a duplicate
    inp, rep, path = load(tmp_path, text.replace("中国电信,2024,80000", "中国移动,2024,80000"))
    rej = inp.rejected[inp.rejected.file == str(path)]
    assert rej["reason"].tolist() == ["duplicate_id"]
    assert "operator China Mobile already given in row 2" in rej["message"].iloc[0]


def test_a_units_own_row_with_a_blank_operator_is_never_summed_as_one_more_operator(tmp_path):
    """An operator's statistics workbook as it is usually sent: a title row, figures in 万,
    each county's operator rows and then the county's own row with the 运营商 cell blank,
    which alone gives the households. Before, the blank row was summed as a fifth operator,
    doubling every county's users and ports (晋江 gigabit users 50,000 for 25,000)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2024年宽带统计"
    ws.append(["泉州市各县（市、区）固定宽带发展情况（2024年）"])
    ws.append(["区县代码", "区县", "运营商", "家庭户数(万户)", "千兆覆盖家庭数(万户)",
               "固定宽带用户数(万户)", "千兆用户数(万户)", "PON端口数"])  # fmt: skip
    rows = [
        ["350582", "晋江市", "中国移动", None, None, 10.0, 1.2, 4000],
        ["350582", "晋江市", "中国电信", None, None, 6.0, 0.8, 3000],
        ["350582", "晋江市", "中国联通", None, None, 3.0, 0.5, 1000],
        ["350582", "晋江市", None, 60.0, 58.0, 19.0, 2.5, 8000],  # the county's own row
        ["350581", "石狮市", "中国移动", None, None, 5.0, 1.0, 2000],
        ["350581", "石狮市", "中国电信", None, None, 3.0, 0.5, 1000],
        ["350581", "石狮市", "", 30.0, 29.0, 8.0, 2.5, None],  # 2.5 against 1.5: a conflict
        ["350583", "南安市", "中国移动", 40.0, 35.0, 4.0, 0.6, 1500],
        ["350583", "南安市", "中国电信", 40.0, 35.0, None, 0.4, 500],  # users blank
        ["350583", "南安市", "合计", None, None, 7.0, 1.0, None],  # the total fills the blank
    ]
    for r in rows:
        ws.append(r)
    path = tmp_path / "泉州宽带_分运营商.xlsx"
    wb.save(path)
    inp, rep = load_file(tmp_path, path)
    bb = inp.broadband.set_index("admin_code")
    assert bb.loc["350582", "users_1000m_plus"] == 25_000  # not 50,000
    assert bb.loc["350582", "fixed_users"] == 190_000
    assert bb.loc["350582", "pon_ports"] == 8000
    assert bb.loc["350582", "households"] == 600_000  # from the unit's own row
    assert bb.loc["350582", "gigabit_households_covered"] == 580_000
    assert np.isnan(bb.loc["350581", "users_1000m_plus"])  # 25,000 vs 15,000: not guessed
    assert bb.loc["350581", "fixed_users"] == 80_000  # agrees
    assert bb.loc["350581", "pon_ports"] == 3000  # the unit row leaves it blank: the sum
    assert bb.loc["350583", "households"] == 400_000  # the operators agree
    assert bb.loc["350583", "fixed_users"] == 70_000  # the operators' sum is no data
    assert bb.loc["350583", "users_1000m_plus"] == 10_000
    assert len(bb) == 3
    assert (rep.read, rep.used, rep.rejected, rep.skipped) == (10, 10, 0, 0)
    assert any(
        "350581 users_1000m_plus: row 9 gives 25000, the operators' rows (row 7, row 8) add up "
        "to 15000" in w
        for w in inp.warnings
    )
    assert any("3 row(s) with no operator (or 合计) beside them" in w for w in inp.warnings)
    # blanks in operators' rows that the unit's own row fills are not said to be no data
    missing = [w for w in inp.warnings if "have no value in" in w]
    assert not any("350582" in w or "350583" in w for w in missing), missing


def test_codes_merged_down_over_a_units_block_of_operator_rows(tmp_path):
    """区划代码, 区县 and 年份 merged down over each county's block (移动 / 电信 / 联通 / 合计), as
    statistics offices lay them out. openpyxl reads the merged value in the block's first row
    only; before, the other rows were rejected for a missing code and the county was its first
    operator alone (鲤城 gigabit share 30 %, passing, for 25 %, failing)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2024年各县（市、区）固定宽带用户情况"])
    ws.append(["区划代码", "区县", "年份", "运营商", "固定宽带用户数", "千兆用户数", "PON端口数"])
    blocks = {
        ("350502", "鲤城区"): [
            ("中国移动", 40000, 12000, 1000),
            ("中国电信", 30000, 6000, 800),
            ("中国联通", 10000, 2000, 200),
            ("合计", 80000, 20000, 2000),
        ],
        ("350503", "丰泽区"): [("中国移动", 50000, 15000, 900), ("中国电信", 40000, 9000, 700)],
    }
    r = 3
    for (code, name), ops in blocks.items():
        for i, (op, users, giga, pon) in enumerate(ops):
            ws.append([code, name, 2024] if i == 0 else [None, None, None])
            for j, v in enumerate((op, users, giga, pon), start=4):
                ws.cell(row=r + i, column=j, value=v)
        for col in "ABC":
            ws.merge_cells(f"{col}{r}:{col}{r + len(ops) - 1}")
        r += len(ops)
    ws.merge_cells("A1:G1")  # the title, merged across the table: above the body, left alone
    path = tmp_path / "分运营商_合并单元格.xlsx"
    wb.save(path)
    inp, rep = load_file(tmp_path, path)
    bb = inp.broadband.set_index("admin_code")
    assert bb.loc["350502", "users_1000m_plus"] == 20000
    assert bb.loc["350502", "fixed_users"] == 80000  # 25 %: fails the > 25 % target
    assert bb.loc["350503", "users_1000m_plus"] == 24000
    assert (rep.read, rep.used, rep.rejected, rep.skipped) == (6, 6, 0, 0)


def test_one_sheet_per_operator_is_read_and_summed(tmp_path):
    """A workbook with a sheet per operator (中国移动 / 电信 / 联通), the same headers and no 运营商
    column. Before, only the first sheet was read without a word (鲤城 gigabit share 30 %,
    passing, for 25 %). Each sheet's rows are now its operator's, summed per unit; two sheets
    that cannot be told apart stop the run."""
    import openpyxl

    header = ["区划代码", "年份", "固定宽带用户数", "千兆用户数"]
    sheets = {
        "中国移动": [("350502", 2024, 40000, 12000), ("350503", 2024, 50000, 15000)],
        "电信": [("350502", 2024, 30000, 6000), ("350503", 2024, 40000, 9000)],
        "CUCC": [("350502", 2024, 10000, 2000)],
    }

    def book(names):
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for title, rows in zip(names, sheets.values(), strict=True):
            ws = wb.create_sheet(title)
            ws.append(header)
            for r in rows:
                ws.append(list(r))
        path = tmp_path / f"分运营商_{len(names)}_{names[1]}.xlsx"
        wb.save(path)
        return path

    inp, rep = load_file(tmp_path, book(list(sheets)))
    bb = inp.broadband.set_index("admin_code")
    assert bb.loc["350502", "users_1000m_plus"] == 20000
    assert bb.loc["350502", "fixed_users"] == 80000
    assert bb.loc["350503", "users_1000m_plus"] == 24000
    assert (rep.read, rep.used, rep.rejected, rep.skipped) == (5, 5, 0, 0)
    assert any("[电信]: no operator column; the rows are taken as China Telecom's" in w
               for w in inp.warnings)  # fmt: skip
    # sheets whose names are not operators' give the same units twice: not guessed
    with pytest.raises(InputError, match=r"sheets '第二张' and '第三张' both give unit 350502"):
        load_file(tmp_path, book(["移动表", "第二张", "第三张"]))


def test_a_breakdown_row_is_left_out_and_operators_are_known_by_longer_names(tmp_path):
    """Operator rows named as offices name themselves (泉州电信, 联通泉州分公司) plus a row
    其中：农村 per county. Before, 其中：农村 was summed as a fourth operator (鲤城 gigabit share
    25.6 %, passing, for 25 %) and the long names were listed as unknown operators."""
    text = (
        "区划代码,运营商,年份,固定宽带用户数,千兆用户数\n"
        "350502,中国移动泉州分公司,2024,40000,12000\n"
        "350502,泉州电信,2024,30000,6000\n"
        "350502,联通泉州分公司,2024,10000,2000\n"
        "350502,其中：农村,2024,10000,3000\n"
        "350502,鹏博士,2024,0,0\n"
    )
    inp, rep, path = load(tmp_path, text)
    bb = inp.broadband.set_index("admin_code")
    assert bb.loc["350502", "users_1000m_plus"] == 20000
    assert bb.loc["350502", "fixed_users"] == 80000
    assert (rep.read, rep.used, rep.rejected, rep.skipped) == (5, 4, 0, 1)
    assert rep.skipped_reasons == {"part_row": 1}
    said = " ".join(inp.warnings)
    assert "(China Mobile, China Telecom, China Unicom, 鹏博士)" in said
    assert "rows of '鹏博士' in '运营商', which gigacov does not know as an operator" in said


def test_a_townships_row_beside_its_villages_rows_is_their_total(tmp_path):
    """Village statistics with each township's subtotal (12 digits ending in 000) between them.
    Without a villages file the 12-digit rows are kept by their county; before, the township's
    row was added to its villages' (丰泽 gigabit users 1,600 for 800). A township whose villages
    have no rows stands for them and is kept."""
    text = (
        "区划代码,年份,家庭户数,千兆用户数\n"
        "350503001000,2024,4000,800\n"  # 东湖街道: the sum of the two below
        "350503001001,2024,2500,500\n"
        "350503001002,2024,1500,300\n"
        "350503002000,2024,3000,600\n"  # a township given alone
    )
    inp, rep, path = load(tmp_path, text)
    used = sorted(inp.broadband["admin_code"])
    assert used == ["350503001001", "350503001002", "350503002000"]
    assert inp.broadband["users_1000m_plus"].sum() == 1400
    assert rep.skipped_reasons == {"total_row": 1}
    skipped = inp.skipped[inp.skipped.file == str(path)]
    assert skipped["row"].tolist() == [2] and "is a township" in skipped["message"].iloc[0]


def test_a_total_in_wan_agrees_with_its_operators_to_their_rounding(tmp_path):
    """Figures in 万 with two decimals: four operators' rounded 千兆 users add up to 0.98万 and
    the 合计 (the true total, rounded) says 1.00万. They agree to the rounding of five figures
    (±250), so the 合计 is used; before, a 0.5 % tolerance (±49) made the share no data. A
    total 0.03万 further off than the rounding allows is still a disagreement."""
    rows = [
        ("中国移动", 1.50, 0.25),
        ("中国电信", 1.20, 0.24),
        ("中国联通", 0.90, 0.25),
        ("中国广电", 0.48, 0.24),
    ]
    head = "区划代码,运营商,年份,固定宽带用户数(万户),千兆用户数(万户)\n"
    body = "".join(f"350504,{op},2024,{u:.2f},{g:.2f}\n" for op, u, g in rows)
    inp, rep, path = load(tmp_path, head + body + "350504,合计,2024,4.08,1.00\n")
    bb = inp.broadband.set_index("admin_code")
    assert bb.loc["350504", "users_1000m_plus"] == pytest.approx(10000)
    assert bb.loc["350504", "fixed_users"] == pytest.approx(40800)
    assert not any("disagrees" in w for w in inp.warnings)
    inp, rep, path = load(tmp_path, head + body + "350504,合计,2024,4.08,1.01\n")
    assert np.isnan(inp.broadband.set_index("admin_code").loc["350504", "users_1000m_plus"])
    assert any("350504 users_1000m_plus" in w and "disagrees" in w for w in inp.warnings)


def test_a_unit_given_only_in_the_title_row_scales_the_columns_it_names(tmp_path):
    """A title row "单位：万户、个" and headers without units: households and users are in 万,
    ports as given. Before, every count was read 10,000 times too small, with no warning."""
    text = (
        "泉州市固定宽带发展情况（单位：万户、个）\n"
        "区划代码,年份,家庭户数,千兆用户数,固定宽带用户数,PON端口数,户均带宽(M)\n"
        "350503,2024,10.5,2.4,8.0,3200,300\n"
    )
    inp, rep, path = load(tmp_path, text)
    row = inp.broadband.set_index("admin_code").loc["350503"]
    assert row["households"] == pytest.approx(105000)
    assert row["users_1000m_plus"] == pytest.approx(24000)
    assert row["pon_ports"] == 3200
    said = [w for w in inp.warnings if "the title says '单位：万户、个'" in w]
    assert said and "are read in 万 (×10,000); ports as given" in said[0]
    # a header that gives its own unit keeps it
    inp, _, _ = load(tmp_path, text.replace("家庭户数,", "家庭户数(户),").replace("10.5", "105000"))
    assert inp.broadband.set_index("admin_code").loc["350503", "households"] == 105000


def test_notes_under_the_table_are_skipped_not_rejected(tmp_path):
    """注：… and 填报单位：… lines under a statistics table are notes: skipped (note_row), so that
    validate --strict does not fail on them; a row with a bad code is still rejected."""
    text = (
        "区划代码,年份,家庭户数,千兆用户数\n"
        "350503,2024,100000,24000\n"
        "35X503,2024,1,1\n"
        "注：1. 千兆用户指接入速率1000M及以上的用户,,,\n"
        "填报单位：泉州市通信管理局,,,\n"
    )
    inp, rep, path = load(tmp_path, text)
    assert (rep.read, rep.used, rep.rejected, rep.skipped) == (4, 1, 1, 2)
    assert rep.skipped_reasons == {"note_row": 2}
    assert inp.rejected[inp.rejected.file == str(path)]["row"].tolist() == [3]
