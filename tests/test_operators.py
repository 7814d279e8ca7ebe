"""Operators: names, the carrier table, carrier overlap, sharing, and what the engine makes of them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyproj
import pytest
from affine import Affine

from gigacov.errors import ConfigError
from gigacov.grid import Grid
from gigacov.operators import (
    OPERATORS,
    cells_serving,
    load_carrier_table,
    normalise_operator,
    operator_label,
    operators_present,
    overlap_weights,
    parse_operator,
    resolve_carriers,
    transmitters,
)
from gigacov.radio import RadioParams, compute_coverage

CRS = "EPSG:32650"
TO_LL = pyproj.Transformer.from_crs(CRS, 4326, always_xy=True)
X0, Y0 = 652_000.0, 2_762_000.0


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("移动", "China Mobile"),
        ("中国移动", "China Mobile"),
        ("CMCC", "China Mobile"),
        ("China Mobile", "China Mobile"),
        ("46000", "China Mobile"),
        ("46002", "China Mobile"),
        ("460-07", "China Mobile"),
        ("电信", "China Telecom"),
        ("CTCC", "China Telecom"),
        ("46003", "China Telecom"),
        ("46011", "China Telecom"),
        ("联通", "China Unicom"),
        ("CUCC", "China Unicom"),
        ("46001", "China Unicom"),
        ("46006", "China Unicom"),
        ("广电", "China Broadnet"),
        ("CBN", "China Broadnet"),
        ("46015", "China Broadnet"),
        (" 中国移动通信集团福建有限公司 ", "China Mobile"),
        ("", ""),
        (None, ""),
        ("某专网", "某专网"),
    ],
)
def test_operator_names_normalise(text, name):
    assert normalise_operator(text) == name


def test_parse_operator_refuses_unknown_names():
    assert parse_operator("中国广电") == "China Broadnet"
    with pytest.raises(ConfigError, match=r"'铁塔' is not an operator gigacov knows"):
        parse_operator("铁塔")
    assert operator_label("China Unicom") == "中国联通 China Unicom"


def test_shipped_table_resolves_bands_per_operator():
    t = load_carrier_table()
    assert t.find("China Telecom", "5G", 3500.0).low_mhz == 3400.0  # "n78" / "3.5G"
    assert t.find("China Unicom", "5G", 3500.0).low_mhz == 3500.0
    assert t.find("China Telecom", "5G", 3300.0).band == "n78-indoor"  # "3.3G"
    assert t.find("China Mobile", "5G", 2600.0).band == "n41"  # "2.6G"
    assert t.find("China Mobile", "5G", 4850.0).low_mhz == 4800.0  # n79
    assert t.find("China Broadnet", "5G", 4850.0).low_mhz == 4900.0  # n79 is 广电's 4900–5000
    assert t.find("China Mobile", "5G", 3500.0) is None  # 移动 has no n78 carrier
    assert t.main("China Mobile", "5G").band == "n41"
    assert t.find("China Telecom", "4G", 1842.5).low_mhz == 1860.0  # B3
    assert "MIIT" in t.provenance and all(not c.confirmed for c in t.carriers)


def test_scenario_overrides_and_bad_declarations():
    t = load_carrier_table(
        carriers=[{"operator": "电信", "band": "n78", "low_mhz": 3400, "high_mhz": 3600}]
    )
    c = t.band_of("China Telecom", "5G", "n78")
    assert (c.low_mhz, c.high_mhz, c.source, c.main) == (3400.0, 3600.0, "scenario", True)
    with pytest.raises(ConfigError, match=r"\[radio\] carriers\[0\]: missing high_mhz"):
        load_carrier_table(carriers=[{"operator": "电信", "band": "n78", "low_mhz": 3400}])
    with pytest.raises(ConfigError, match=r"shared\[0\]: name at least two"):
        load_carrier_table(shared=[["电信", "中国电信", "n78"]])
    with pytest.raises(ConfigError, match=r"中国移动 China Mobile has no carrier in band 'n78'"):
        load_carrier_table(shared=[["移动", "联通", "n78"]])
    with pytest.raises(ConfigError, match=r"expected two or more operators and a band"):
        load_carrier_table(shared=[["电信"]])


def test_overlap_weights_by_hand():
    # carriers: A 3400–3500, B 3450–3550 (half of A), C 3500–3600 (touches A), D 3420–3440
    w = overlap_weights(
        np.array([3400.0, 3450.0, 3500.0, 3420.0]), np.array([3500.0, 3550.0, 3600.0, 3440.0])
    )
    assert w[0, 0] == 1.0
    assert w[0, 1] == pytest.approx(0.5) and w[1, 0] == pytest.approx(0.5)
    assert w[0, 2] == 0.0 and w[2, 0] == 0.0
    assert w[0, 3] == pytest.approx(0.2)  # D covers a fifth of A
    assert w[3, 0] == pytest.approx(1.0)  # A covers all of D
    # bare frequencies (no bandwidth): the same frequency interferes, another does not
    p = overlap_weights(np.array([3500.0, 3500.0, 3600.0]), np.array([3500.0, 3500.0, 3600.0]))
    assert p[0, 1] == 1.0 and p[0, 2] == 0.0


def _cells(ops, freq_source="band", freq=3500.0, x=(X0 + 1000.0, X0 + 1300.0), y=None):
    y = y or [Y0 - 500.0] * len(ops)
    lon, lat = TO_LL.transform(list(x), list(y))
    n = len(ops)
    return pd.DataFrame(
        {
            "site_id": [f"S{i}" for i in range(n)],
            "cell_id": [f"C{i}" for i in range(n)],
            "lon": lon,
            "lat": lat,
            "tech": "5G",
            "operator": list(ops),
            "freq_mhz": freq,
            "freq_source": freq_source,
            "bandwidth_mhz": 100.0,
            "scs_khz": 30.0,
            "n_rb": 273,
            "height_m": 30.0,
            "azimuth_deg": np.nan,
            "beamwidth_deg": np.nan,
            "tilt_deg": np.nan,
            "eirp_dbm": 61.0,
            "source_row": np.arange(2, n + 2),
        }
    )


def test_resolve_carriers_sets_carrier_and_serves():
    cells = _cells(["中国电信", "联通"])
    cells.loc[len(cells)] = cells.iloc[0]
    cells.loc[2, ["operator", "freq_source", "freq_mhz"]] = ["CMCC", "default", 3500.0]
    cells.loc[len(cells)] = cells.iloc[0]
    cells.loc[3, ["operator", "freq_source", "freq_mhz"]] = ["46011", "input", 3460.0]
    cells.loc[len(cells)] = cells.iloc[0]
    cells.loc[4, ["operator"]] = ["某专网"]
    out, summ = resolve_carriers(cells, load_carrier_table())
    assert list(out["operator"]) == [
        "China Telecom",
        "China Unicom",
        "China Mobile",
        "China Telecom",
        "某专网",
    ]
    assert list(out["carrier_low_mhz"]) == [3400.0, 3500.0, 2515.0, 3410.0, 3450.0]
    assert list(out["freq_mhz"]) == [3450.0, 3550.0, 2565.0, 3460.0, 3500.0]
    assert list(out["serves"]) == [
        "China Telecom",
        "China Unicom",
        "China Mobile",
        "China Telecom",
        "",
    ]
    assert (summ.from_table, summ.main_carrier, summ.explicit, summ.unknown_operator) == (
        2,
        1,
        1,
        1,
    )
    assert summ.unknown_examples == ["某专网"]
    assert cells.loc[0, "freq_mhz"] == 3500.0  # the caller's frame is untouched
    # declared sharing: both on the carrier of the operator listed first, serving both
    shared, summ = resolve_carriers(
        _cells(["电信", "联通"]), load_carrier_table(shared=[["中国电信", "中国联通", "n78"]])
    )
    assert list(shared["carrier_low_mhz"]) == [3400.0, 3400.0]
    assert set(shared["serves"]) == {"China Telecom;China Unicom"}
    assert summ.shared == 2
    assert len(cells_serving(shared, "China Unicom")) == 2
    assert operators_present(shared) == ["China Telecom", "China Unicom"]


def test_a_shared_cell_listed_by_both_operators_is_one_transmitter():
    table = load_carrier_table(shared=[["中国电信", "中国联通", "n78"]])
    twins = _cells(["电信", "联通", "电信"], x=(X0 + 1000.0, X0 + 1000.0, X0 + 1300.0))
    cells, _ = resolve_carriers(twins, table)
    tx = transmitters(cells)
    assert list(tx["cell_id"]) == ["C0", "C2"]
    # not shared: two operators' cells on their own carriers are two transmitters
    cells, _ = resolve_carriers(twins, load_carrier_table())
    assert len(transmitters(cells)) == 3
    # one operator listing two cells at one spot is not sharing
    same, _ = resolve_carriers(_cells(["电信", "电信"], x=(X0 + 1000.0,) * 2), table)
    assert len(transmitters(same)) == 2


# ------------------------------------------------------------------------------------------------
# What the engine makes of it (issue #16's cases)
# ------------------------------------------------------------------------------------------------


def _grid() -> Grid:
    # 1 row × 46 columns of 50 m: the two sites at columns 20 and 26 (300 m apart)
    return Grid(CRS, Affine(50.0, 0.0, X0, 0.0, -50.0, Y0), 46, 1)


def _two_sites(ops, shared=()):
    xa, xb = X0 + 20.5 * 50.0, X0 + 26.5 * 50.0
    cells = _cells(ops, x=(xa, xb), y=[Y0 - 25.0, Y0 - 25.0])
    cells, _ = resolve_carriers(cells, load_carrier_table(shared=shared))
    return cells


def _run(cells):
    params = RadioParams(model="free-space", load=0.5)
    return compute_coverage(transmitters(cells), _grid(), params, workers=1)


MID = (0, 23)  # 150 m from both sites


def _single_cell_sinr(cells, i):
    return _run(cells.iloc[[i]].reset_index(drop=True)).sinr_db[MID]


def test_telecom_and_unicom_n78_do_not_interfere_unless_shared():
    cells = _two_sites(["中国电信", "中国联通"])
    res = _run(cells)
    alone = _single_cell_sinr(cells, 0)
    # noise-limited at the midpoint: the same SINR as with the server alone, not about 0 dB
    assert res.sinr_db[MID] == pytest.approx(alone, abs=0.1)
    assert res.sinr_db[MID] > 30.0
    # the same two cells declared shared: one network, two transmitters on one carrier
    shared = _two_sites(["中国电信", "中国联通"], shared=[["中国电信", "中国联通", "n78"]])
    res_s = _run(shared)
    s = 10 ** (res_s.rsrp_dbm[MID] / 10)
    noise = 10 ** ((-174 + 10 * math.log10(30e3) + 7.0) / 10)
    assert res_s.sinr_db[MID] == pytest.approx(10 * math.log10(s / (0.5 * s + noise)), abs=1e-3)
    assert res_s.sinr_db[MID] == pytest.approx(10 * math.log10(2.0), abs=0.05)
    # both transmitters serve both operators' users
    for op in ("China Telecom", "China Unicom"):
        assert len(cells_serving(shared, op)) == 2
        assert len(cells_serving(cells, op)) == 1


def test_same_operator_same_carrier_is_the_classic_co_channel_case():
    cells = _two_sites(["中国移动", "CMCC"])
    res = _run(cells)
    s = 10 ** (res.rsrp_dbm[MID] / 10)
    noise = 10 ** ((-174 + 10 * math.log10(30e3) + 7.0) / 10)
    assert res.sinr_db[MID] == pytest.approx(10 * math.log10(s / (0.5 * s + noise)), abs=1e-3)


def test_partly_overlapping_carriers_interfere_by_the_overlapping_share():
    cells = _two_sites(["中国电信", "中国电信"])
    cells.loc[1, ["carrier_low_mhz", "carrier_high_mhz"]] = [3450.0, 3550.0]  # half of 3400–3500
    cells.loc[1, "eirp_dbm"] = 58.0  # weaker: cell 0 serves the midpoint
    res = _run(cells)
    s = 10 ** (res.rsrp_dbm[MID] / 10)
    i = 10 ** (_run(cells.iloc[[1]].reset_index(drop=True)).rsrp_dbm[MID] / 10)
    noise = 10 ** ((-174 + 10 * math.log10(30e3) + 7.0) / 10)
    assert res.server[MID] == 0
    expected = 10 * math.log10(s / (0.5 * 0.5 * i + noise))
    assert res.sinr_db[MID] == pytest.approx(expected, abs=1e-3)


def test_all_operators_known():
    assert OPERATORS == ("China Mobile", "China Telecom", "China Unicom", "China Broadnet")


# ------------------------------------------------------------------------------------------------
# From a real-shaped site list (GBK CSV, Chinese headers) through ingest
# ------------------------------------------------------------------------------------------------

SITES_CSV = """站号,小区ID,经度,纬度,网络制式,频段,频率,带宽,运营商
A1,1,118.5501,24.7083,NR,n78,,100,中国电信
A2,1,118.5511,24.7083,NR,n78,,100,联通
A3,1,118.5521,24.7083,NR,,3.5G,100,CTCC
A4,1,118.5531,24.7083,NR,,3460,100,46011
A5,1,118.5541,24.7083,NR,,,100,CMCC
A6,1,118.5551,24.7083,NR,n79,,100,广电
A7,1,118.5561,24.7083,NR,n78,,100,某专网
A8,1,118.5571,24.7083,LTE,B3,,20,46001
A9,1,118.5581,24.7083,NR,3400-3500MHz,,,联通
"""


def test_ingest_resolves_carriers_per_operator(tmp_path):
    from gigacov.ingest import load_inputs
    from gigacov.scenario import scenario_from_dict

    path = tmp_path / "站点.csv"
    path.write_bytes(SITES_CSV.encode("gbk"))
    scn = scenario_from_dict(
        {
            "scenario": {"name": "t", "year": 2024, "region": "350500"},
            "sites": {"path": str(path)},
            "radio": {"shared": [["中国移动", "中国广电", "n28"]]},
        },
        base_dir=tmp_path,
    )
    inp = load_inputs(scn)
    c = inp.cells.set_index("site_id")
    assert list(c["freq_source"]) == [
        "band",
        "band",
        "band",
        "input",
        "default",
        "band",
        "band",
        "band",
        "input",
    ]
    assert c.loc["A1", "carrier_low_mhz"] == 3400.0 and c.loc["A2", "carrier_low_mhz"] == 3500.0
    assert c.loc["A3", "carrier_low_mhz"] == 3400.0  # "3.5G" names the band: 电信's carrier
    assert (c.loc["A4", "carrier_low_mhz"], c.loc["A4", "freq_mhz"]) == (3410.0, 3460.0)
    assert c.loc["A5", "carrier_low_mhz"] == 2515.0  # no band: 移动's main carrier (n41)
    assert c.loc["A6", "carrier_low_mhz"] == 4900.0  # 广电's n79
    assert c.loc["A7", "serves"] == "" and c.loc["A7", "carrier_low_mhz"] == 3450.0
    assert c.loc["A8", "carrier_low_mhz"] == 1830.0  # 联通 B3
    # an explicit range wins over the table, whoever the operator
    assert (c.loc["A9", "carrier_low_mhz"], c.loc["A9", "carrier_high_mhz"]) == (3400.0, 3500.0)
    rep = next(r for r in inp.reports if r.input == "sites")
    assert rep.defaults["operator unknown (frequency ± bandwidth/2)"] == 1
    assert rep.defaults["carrier (operator's carrier for the band)"] == 5
    assert any("某专网" in w for w in inp.warnings)
    assert inp.carriers.unknown_operator == 1


def test_scenario_rejects_a_bad_sharing_declaration(tmp_path):
    from gigacov.scenario import scenario_from_dict

    with pytest.raises(ConfigError, match=r"\[radio\] shared\[0\]: '铁塔' is not an operator"):
        scenario_from_dict(
            {
                "scenario": {"name": "t", "year": 2024},
                "sites": {"path": "x.csv"},
                "radio": {"shared": [["铁塔", "中国联通", "n78"]]},
            }
        )
    with pytest.raises(ConfigError, match=r"\[planning\] operator: 'ABC' is not an operator"):
        scenario_from_dict(
            {
                "scenario": {"name": "t", "year": 2024},
                "sites": {"path": "x.csv"},
                "planning": {"operator": "ABC"},
            }
        )


def test_per_operator_runs_serve_shared_cells_and_run_once_per_cell_set():
    from gigacov.by_operator import compute_operator_coverage

    params = RadioParams(model="free-space", load=0.5)
    separate = _two_sites(["中国电信", "中国联通"])
    by_op, _ = compute_operator_coverage(transmitters(separate), _grid(), params, workers=1)
    assert set(by_op) == {"China Telecom", "China Unicom"}
    assert [len(c.cells) for c in by_op.values()] == [1, 1]
    # each operator alone at the midpoint: its own single-cell SINR
    assert by_op["China Telecom"].sinr_db[MID] == pytest.approx(_single_cell_sinr(separate, 0))
    shared = _two_sites(["中国电信", "中国联通"], shared=[["中国电信", "中国联通", "n78"]])
    by_op, _ = compute_operator_coverage(transmitters(shared), _grid(), params, workers=1)
    assert by_op["China Telecom"] is by_op["China Unicom"]  # one network: one run
    assert len(by_op["China Unicom"].cells) == 2
