"""Per-operator indicators on the 4×4 world of test_indicators, worked out by hand.

    population       China Mobile covered   China Telecom covered
    10 10  1  1      1 1 0 0                0 0 1 1
    10 10  1  1      1 1 0 0                0 0 1 1
     5  5  1  1      0 0 1 0                1 1 1 1
     5  5  1  1      0 0 1 0                1 1 1 1

County A = columns 0-1 (villages VA1 = rows 0-1, VA2 = rows 2-3), county B = columns 2-3.
China Mobile: A 40 of 60 persons, B 2 of 8; VA1 reached, VA2 not; one site in A.
China Telecom: A 20 of 60, B 8 of 8; VA2 reached, VA1 not; one site in B.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest
from support.indicator_world import COVERED, GRID, POP, coverage, make_inputs

from gigacov.by_operator import (
    OPERATOR_COLUMNS,
    lagging_operators,
    operator_indicators,
    write_operator_layers,
)
from gigacov.compliance import Standard, StandardIndicator
from gigacov.indicators import compute_indicators, write_indicators_gpkg

TELECOM = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]], np.uint8)
CELLS = pd.DataFrame(
    {
        "site_id": ["m1", "m1", "t1", "t2", "m2"],
        "tech": ["5G", "5G", "5G", "4G", "5G"],
        "operator": ["China Mobile", "China Mobile", "China Telecom", "China Telecom", "CMCC"],
        "admin_code": ["350502", "350502", "350503", "350503", ""],
        "lon": np.nan,
        "lat": np.nan,
    }
)


@pytest.fixture(scope="module")
def tables():
    inputs = make_inputs(cells=CELLS)
    ind = compute_indicators(inputs, GRID, POP, {"5G": coverage()})
    by_op = {"China Mobile": coverage(COVERED), "China Telecom": coverage(TELECOM)}
    return ind, operator_indicators(inputs, GRID, POP, by_op, ind)


def row(t, code, op):
    r = t[(t["admin_code"] == code) & (t["operator"] == op)]
    assert len(r) == 1
    return r.iloc[0]


def test_one_row_per_unit_and_operator(tables):
    _, t = tables
    assert list(t) == ["province", "city", "county", "village"]
    for level, table in t.items():
        assert list(table.columns) == [*OPERATOR_COLUMNS, "geometry"]
        assert set(table["operator"]) == {"China Mobile", "China Telecom"}
        assert (table["level"] == level).all()
    assert len(t["county"]) == 4 and len(t["village"]) == 4


def test_hand_computed_county_figures(tables):
    _, t = tables
    a = row(t["county"], "350502", "China Mobile")
    assert a["pop_coverage_5g"] == pytest.approx(40 / 60)
    assert a["area_coverage_5g"] == pytest.approx(0.5)
    assert a["village_reach_5g"] == pytest.approx(0.5)
    assert a["sites_5g"] == 1 and a["sites_5g_per_10k"] == pytest.approx(1 / (60 / 1e4))
    assert a["operator_zh"] == "中国移动"
    b = row(t["county"], "350503", "China Mobile")
    assert b["pop_coverage_5g"] == pytest.approx(2 / 8) and b["sites_5g"] == 0
    ta = row(t["county"], "350502", "China Telecom")
    assert ta["pop_coverage_5g"] == pytest.approx(20 / 60)
    assert ta["village_reach_5g"] == pytest.approx(0.5)
    assert ta["sites_5g"] == 0  # its 4G site does not count
    tb = row(t["county"], "350503", "China Telecom")
    assert tb["pop_coverage_5g"] == pytest.approx(1.0) and tb["sites_5g"] == 1
    v1 = row(t["village"], "350502001001", "China Mobile")
    v2 = row(t["village"], "350502001002", "China Telecom")
    assert v1["village_reach_5g"] == 1.0 and v2["village_reach_5g"] == 1.0
    assert row(t["village"], "350502001001", "China Telecom")["village_reach_5g"] == 0.0


def test_upper_levels_sum_the_counties(tables):
    ind, t = tables
    for op, covered in (("China Mobile", 42.0), ("China Telecom", 28.0)):
        c = row(t["city"], "350500", op)
        assert c["population"] == pytest.approx(68.0)
        assert c["covered_population_5g"] == pytest.approx(covered)
        assert c["pop_coverage_5g"] == pytest.approx(covered / 68)  # not a mean of ratios
        counties = t["county"][t["county"]["operator"] == op]
        for k in ("covered_population_5g", "covered_area_km2_5g", "sites_5g"):
            assert c[k] == pytest.approx(counties[k].sum())
        p = row(t["province"], "350000", op)
        assert p["covered_population_5g"] == pytest.approx(covered)
    # the population, areas and village counts are the region-wide ones
    region = ind.units["county"].set_index("admin_code")
    for _, r in t["county"].iterrows():
        assert r["population"] == pytest.approx(region.loc[r["admin_code"], "population"])
        assert r["villages"] == region.loc[r["admin_code"], "villages"]


def test_layers_written_next_to_the_region_wide_ones(tables, tmp_path):
    ind, t = tables
    path = tmp_path / "indicators.gpkg"
    write_indicators_gpkg(ind, path)
    write_operator_layers(t, path)
    names = [n for n, _ in pyogrio.list_layers(path)]
    assert {"county", "county_operator", "city_operator", "village_operator"} <= set(names)
    back = pyogrio.read_dataframe(path, layer="county_operator")
    assert len(back) == 4 and set(back["operator"]) == {"China Mobile", "China Telecom"}


def test_lagging_operator_is_the_furthest_from_the_thresholds(tables):
    _, t = tables
    std = Standard(
        id="s",
        title="s",
        issuer="",
        source="",
        version="1",
        year=2024,
        notes="",
        indicators=[
            StandardIndicator(
                key="village_reach_5g",
                name_zh="",
                name_en="",
                op=">=",
                threshold=0.8,
                level=("county",),
                mandatory=True,
                confirmed=True,
            )
        ],
    )
    county = t["county"].copy()
    county.loc[
        (county["admin_code"] == "350502") & (county["operator"] == "China Telecom"),
        "village_reach_5g",
    ] = 0.25
    lag = lagging_operators(county, [std]).set_index("admin_code")
    assert lag.loc["350502", "lagging"] == ["China Telecom"]  # 0.25 vs 0.5, threshold 0.8
    assert lag.loc["350502", "lagging_gap"] == pytest.approx((0.8 - 0.25) / 0.8)
    assert lag.loc["350502", "lagging_threshold"] == 0.8
    # county B has no villages: no figure, no gap, nobody lags
    assert lag.loc["350503", "lagging"] == []


def test_report_section_names_who_lags_where(tmp_path):
    from support.pages import Page
    from support.report_run import JINJIANG, LICHENG, make_run

    from gigacov.report import write_report

    run = make_run(tmp_path)
    run.standards.append(
        Standard(
            id="rural-5g",
            title="rural 5G",
            issuer="",
            source="",
            version="1",
            year=2024,
            notes="",
            indicators=[
                StandardIndicator(
                    "village_reach_5g", "行政村5G通达率", "village 5G reach", ">=", 0.9, ("county",)
                )
            ],
        )
    )
    rows = []
    for code, name, vals in (
        (LICHENG, "鲤城区", {"China Mobile": 0.95, "China Telecom": 0.6, "China Unicom": 0.6}),
        (JINJIANG, "晋江市", {"China Mobile": 0.5, "China Telecom": 0.92, "China Unicom": 0.92}),
    ):
        for op, v in vals.items():
            rows.append(
                {
                    "admin_code": code,
                    "name": name,
                    "level": "county",
                    "operator": op,
                    "village_reach_5g": v,
                    "pop_coverage_5g": 0.9,
                    "area_coverage_5g": 0.5,
                    "key_place_reach_5g": 1.0,
                    "sites_5g_per_10k": 10.0,
                }
            )
    run.operator_indicators = {"county": pd.DataFrame(rows)}
    page = Page(write_report(run)["report"].read_text(encoding="utf-8"))
    assert page.sections.index("by-operator") == page.sections.index("inputs") - 1
    html = (run.run_dir / "report.html").read_text(encoding="utf-8")
    part = html[html.index('id="by-operator"') : html.index('id="inputs"')]
    # 鲤城区: 电信 and 联通 share the shortfall (60 % < 90 %); 晋江市: 移动 (50 %)
    licheng = part[part.index("鲤城区") : part.index("晋江市")]
    assert "中国电信 China Telecom、中国联通 China Unicom</strong>" in licheng
    jinjiang = part[part.index("晋江市") :]
    assert "<strong>中国移动 China Mobile</strong>" in jinjiang
    assert "50.0% &lt; 90.0%" in jinjiang
    assert 'class="num short">50.0%' in jinjiang
    assert "中国移动 China Mobile: 1" in part and "中国电信 China Telecom: 1" in part
