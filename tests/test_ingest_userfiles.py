"""A user trial on realistic files (issue 15, second round): band spellings against the row's
technology, allocations written as ranges, rough frequencies near a band edge, names that differ
only in full-width characters, coordinates with hemisphere words, planned sites, truncated DBF
headers, two-row merged headers, instruction sheets, and single-operator lists. Every fixture
is written here with the real writers (openpyxl, pandas, pyogrio)."""

from __future__ import annotations

import openpyxl

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
        ("U2", "中国联通", x + 0.010, y, "NR", "B78", None),  # no LTE band 78: not understood
    ]
    p = write_xlsx(tmp_path / "sites.xlsx", [header, *rows])
    inp = load_inputs(scenario(tmp_path, p))
    rej = inp.rejected
    assert rej["row"].tolist() == [12] and rej["reason"].tolist() == ["not_a_number"]
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
