"""The shared report tables and labels: overall unit status, compliance normalisation, formats."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gigacov.compliance import unit_status
from gigacov.errors import RunError
from gigacov.formatting import format_delta, format_threshold, format_value
from gigacov.report.labels import is_ratio, shortfall_text
from gigacov.report.tables import normalise_compliance


def _rows(*rows):
    cols = ["admin_code", "name", "level", "standard", "indicator", "value", "status"]
    return normalise_compliance(pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows]))


def test_unit_status_rules():
    df = _rows(
        ("1", "A", "county", "s", "x", 1.0, "pass"),
        ("1", "A", "county", "s", "y", 1.0, "pass"),
        ("2", "B", "county", "s", "x", 1.0, "pass"),
        ("2", "B", "county", "s", "y", 0.0, "fail"),
        ("3", "C", "county", "s", "x", 1.0, "pass"),
        ("3", "C", "county", "s", "y", math.nan, "no_data"),
        ("4", "D", "county", "s", "x", 0.0, "fail"),
        ("4", "D", "county", "s", "y", math.nan, "no_data"),
    )
    st = unit_status(df).set_index("admin_code")
    assert st.loc["1", "status"] == "pass"
    assert st.loc["2", "status"] == "fail" and st.loc["2", "failed"] == ["y"]
    assert st.loc["3", "status"] == "no_data" and st.loc["3", "no_data"] == [
        "y"
    ]  # missing is never a pass
    assert st.loc["4", "status"] == "fail"


def test_unit_status_ignores_optional_indicators():
    df = _rows(
        ("1", "A", "county", "s", "x", 1.0, "pass"), ("1", "A", "county", "s", "opt", 0.0, "fail")
    )
    df["mandatory"] = [True, False]
    assert unit_status(df)["status"].tolist() == ["pass"]
    df["mandatory"] = [False, False]  # nothing mandatory: the standard does not judge
    assert unit_status(df).empty


def test_unit_status_without_mandatory_flags_takes_every_row_as_mandatory():
    df = pd.DataFrame(
        dict(
            admin_code=["1", "1", "2", "2", "3", "3", "4"],
            name="",
            level="county",
            standard="s",
            indicator=["x", "y"] * 3 + ["x"],
            status=["pass", "fail", "pass", "no_data", "pass", "pass", "no_data"],
        )
    )
    st = unit_status(df).set_index("admin_code")["status"].to_dict()
    assert st == {"1": "fail", "2": "no_data", "3": "pass", "4": "no_data"}


def test_normalise_compliance_reads_back_csv_types_and_rejects_bad_status():
    df = pd.DataFrame(
        {
            "admin_code": [350582.0],
            "level": ["county"],
            "standard": ["s"],
            "indicator": ["x"],
            "value": ["0.5"],
            "status": ["No Data"],
        }
    )
    out = normalise_compliance(df)
    assert out.loc[0, "admin_code"] == "350582" and out.loc[0, "status"] == "no_data"
    assert out.loc[0, "value"] == 0.5 and math.isnan(out.loc[0, "shortfall"])
    df["status"] = ["ok"]
    with pytest.raises(RunError, match="column 'status' holds 'ok'"):
        normalise_compliance(df, where="run/compliance.csv")
    with pytest.raises(RunError, match="missing column.*status"):
        normalise_compliance(df.drop(columns="status"))


def test_formats():
    assert format_value(0.8532, True) == "85.3%" and format_value(12.345, False, 2) == "12.35"
    assert format_value(math.nan, True) == "—" and format_value(123456, False, 0) == "123,456"
    assert (
        format_threshold(">=", 0.8, True) == "≥ 80%" and format_threshold(">", 12, False) == "> 12"
    )
    assert format_delta(0.025, True) == "+2.5 pp" and format_delta(-1.2, False, 2) == "-1.20"
    assert (
        shortfall_text(37, "sites", indicator="sites_5g_per_10k")
        == "还需 37 个5G基站 / needs 37 more 5G base stations"
    )
    assert (
        shortfall_text(12400, "households", "en") == "needs 12,400 more gigabit-capable households"
    )
    assert shortfall_text(3, "key_places", "en") == "needs 3 more key places reached"
    assert shortfall_text(2, "furlongs", "en") == "needs 2 more furlongs"
    assert shortfall_text(0, "households") == "" and shortfall_text(math.nan, "") == ""
    assert (
        is_ratio("users_5g_share")
        and is_ratio("pop_coverage_4g")
        and not is_ratio("sites_5g_per_10k")
    )
    assert (
        not is_ratio("users_1000m_count")
        and is_ratio("new_thing_share")
        and not is_ratio("x", "sites")
    )


def test_mandatory_flags_from_evaluate_metadata():
    df = _rows(
        ("1", "A", "county", "s", "x", 1.0, "pass"),
        ("1", "A", "county", "s", "opt", 0.0, "fail"),
        ("9", "P", "province", "s", "opt", 0.0, "fail"),
    )
    df.attrs["standards"] = {
        "s": {
            "indicators": [
                {"key": "x", "levels": ["county"], "mandatory": True},
                {"key": "opt", "levels": ["county"], "mandatory": False},
                {"key": "opt", "levels": ["province"], "mandatory": True},
            ]
        }
    }
    st = unit_status(df).set_index("admin_code")
    assert st.loc["1", "status"] == "pass" and st.loc["9", "status"] == "fail"


def test_headline_skips_a_province_row_that_covers_only_the_analysed_city():
    from types import SimpleNamespace

    from gigacov.report.tables import region_summary

    def unit(code, name, level, pop, covered, partial):
        return {
            "admin_code": code,
            "name": name,
            "level": level,
            "population": pop,
            "covered_population_5g": covered,
            "pop_coverage_5g": covered / pop,
            "partial": partial,
        }

    province = pd.DataFrame(
        [unit("350000", "福建省（仅分析区域 350500）", "province", 100.0, 80.0, True)]
    )
    one_city = pd.DataFrame([unit("350500", "泉州市", "city", 100.0, 80.0, False)])
    counties = pd.DataFrame(
        [
            unit("350502", "鲤城区", "county", 40.0, 40.0, False),
            unit("350503", "丰泽区", "county", 60.0, 40.0, False),
        ]
    )
    level, table = region_summary(
        SimpleNamespace(units={"province": province, "city": one_city, "county": counties})
    )
    assert (level, table["name"].tolist()) == ("city", ["泉州市"])

    whole = province.assign(name="福建省", partial=False)
    level, table = region_summary(
        SimpleNamespace(units={"province": whole, "city": one_city, "county": counties})
    )
    assert (level, table["name"].tolist()) == ("province", ["福建省"])

    # Two partial cities and a partial province: the headline is rolled up from the counties.
    cities = pd.concat(
        [one_city.assign(partial=True), one_city.assign(admin_code="350100", partial=True)]
    )
    level, table = region_summary(
        SimpleNamespace(units={"province": province, "city": cities, "county": counties})
    )
    assert level == "region" and table["population"].tolist() == [100.0]
    assert table["pop_coverage_5g"].tolist() == [0.8]
