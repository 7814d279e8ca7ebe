"""Tests of gigacov.compliance: statuses, margins, shortfalls per unit kind, unit status, printing."""

from __future__ import annotations

import io
import math
import textwrap

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gigacov.cli_tables import print_compliance
from gigacov.compliance import (
    COMPLIANCE_COLUMNS,
    UNIT_STATUS_COLUMNS,
    evaluate,
    load_standard,
    load_standards,
    unit_status,
)
from gigacov.indicators import IndicatorSet, add_ratios, indicator_definitions

NAN = math.nan


def units(level: str, rows: list[dict]) -> gpd.GeoDataFrame:
    """A unit table as compute_indicators makes it (numerators/denominators → ratios)."""
    base = {"name": "", "name_en": "", "level": level, "parent_code": ""}
    t = pd.DataFrame([{**base, **r} for r in rows])
    t = gpd.GeoDataFrame(t, geometry=[None] * len(t), crs=4326)
    return add_ratios(t)


def std_file(tmp_path, body: str, name: str = "user.toml", sid: str = "user-std") -> str:
    head = f"""
        id = "{sid}"
        version = "1"
        year = 2024
        issuer = "test"
        source = "test"
        [title]
        en = "Test standard"
    """
    p = tmp_path / name
    p.write_text(textwrap.dedent(head) + textwrap.dedent(body), encoding="utf-8")
    return str(p)


def one(df: pd.DataFrame, code: str, indicator: str) -> pd.Series:
    r = df[(df["admin_code"] == code) & (df["indicator"] == indicator)]
    assert len(r) == 1, r
    return r.iloc[0]


# ------------------------------------------------------------------------------------------------
# Shortfall arithmetic, one unit kind at a time
# ------------------------------------------------------------------------------------------------


@pytest.fixture()
def counties() -> IndicatorSet:
    rows = [
        # short on everything, by amounts worked out below
        dict(
            admin_code="350501",
            name="Short",
            population=100_000.0,
            covered_population_5g=90_000.0,
            area_km2=10.0,
            covered_area_km2_5g=7.0,
            sites_5g=100,
            key_places=5.0,
            key_places_reached_5g=3.0,
            villages=10.0,
            villages_reached_5g=8.0,
            households=1000.0,
            gigabit_households_covered=700.0,
            pon_ports=1000.0,
            pon_10g_ports=250.0,
            fixed_users=1000.0,
            users_500m_plus=299.0,
            users_1000m_plus=250.0,
            mobile_users=2000.0,
            users_5g=400.0,
        ),
        # exactly on every threshold
        dict(
            admin_code="350502",
            name="Exact",
            population=100_000.0,
            covered_population_5g=95_000.0,
            area_km2=10.0,
            covered_area_km2_5g=8.0,
            sites_5g=120,
            key_places=20.0,
            key_places_reached_5g=19.0,
            villages=100.0,
            villages_reached_5g=97.0,
            households=1000.0,
            gigabit_households_covered=800.0,
            pon_ports=1000.0,
            pon_10g_ports=300.0,
            fixed_users=1000.0,
            users_500m_plus=300.0,
            users_1000m_plus=250.0,
            mobile_users=2000.0,
            users_5g=500.0,
        ),
        # no statistics, no population
        dict(
            admin_code="350503",
            name="Empty",
            population=NAN,
            covered_population_5g=NAN,
            area_km2=10.0,
            covered_area_km2_5g=9.0,
            sites_5g=3,
            key_places=0.0,
            key_places_reached_5g=0.0,
            villages=NAN,
            villages_reached_5g=NAN,
        ),
    ]
    return IndicatorSet(
        units={"county": units("county", rows)},
        key_places=None,
        definitions=indicator_definitions(),
    )


THRESHOLDS = """
    [[indicators]]
    key = "pop_coverage_5g"
    op = ">="
    threshold = 0.95
    levels = ["county"]
    [[indicators]]
    key = "area_coverage_5g"
    op = ">="
    threshold = 0.8
    levels = ["county"]
    [[indicators]]
    key = "sites_5g_per_10k"
    op = ">="
    threshold = 12
    levels = ["county"]
    [[indicators]]
    key = "key_place_reach_5g"
    op = ">="
    threshold = 0.95
    levels = ["county"]
    [[indicators]]
    key = "village_reach_5g"
    op = ">="
    threshold = 0.97
    levels = ["county"]
    [[indicators]]
    key = "household_gigabit_coverage"
    op = ">="
    threshold = 0.8
    levels = ["county"]
    [[indicators]]
    key = "pon_10g_share"
    op = ">="
    threshold = 0.3
    levels = ["county"]
    [[indicators]]
    key = "users_500m_share"
    op = ">="
    threshold = 0.3
    levels = ["county"]
    [[indicators]]
    key = "users_1000m_share"
    op = ">"
    threshold = 0.25
    levels = ["county"]
    [[indicators]]
    key = "users_1000m_count"
    op = ">="
    threshold = 400
    levels = ["county"]
    [[indicators]]
    key = "users_5g_share"
    op = ">="
    threshold = 0.25
    levels = ["county"]
"""


@pytest.fixture()
def evaluated(tmp_path, counties):
    return evaluate(counties, [load_standard(std_file(tmp_path, THRESHOLDS))])


@pytest.mark.parametrize(
    ("indicator", "value", "shortfall", "unit"),
    [
        ("pop_coverage_5g", 0.90, 5_000, "persons"),  # 0.95 × 100,000 − 90,000
        ("area_coverage_5g", 0.70, 1.0, "km2"),  # 0.8 × 10 − 7 km², not rounded
        ("sites_5g_per_10k", 10.0, 20, "sites"),  # ceil(12 × 10 − 100)
        ("key_place_reach_5g", 0.60, 2, "key_places"),  # ceil(0.95 × 5 − 3) = ceil(1.75)
        ("village_reach_5g", 0.80, 2, "villages"),  # ceil(0.97 × 10 − 8) = ceil(1.7)
        ("household_gigabit_coverage", 0.70, 100, "households"),  # 800 − 700
        ("pon_10g_share", 0.25, 50, "ports"),  # 300 − 250
        ("users_500m_share", 0.299, 1, "users"),  # 300 − 299
        ("users_1000m_share", 0.25, 1, "users"),  # "> 25 %": 250 of 1000 is not enough
        ("users_1000m_count", 250, 150, "users"),  # 400 − 250
        ("users_5g_share", 0.20, 100, "users"),  # 0.25 × 2000 − 400
    ],
)
def test_shortfall_in_real_units(evaluated, indicator, value, shortfall, unit):
    r = one(evaluated, "350501", indicator)
    assert r["status"] == "fail"
    assert r["value"] == pytest.approx(value)
    assert r["shortfall"] == pytest.approx(shortfall)
    assert r["shortfall_unit"] == unit
    assert r["margin"] == pytest.approx(value - r["threshold"])
    assert r["margin"] < 0 or (r["op"] == ">" and r["margin"] == 0)  # negative = short


def test_exactly_on_the_threshold_passes_ge_but_not_gt(evaluated):
    exact = evaluated[evaluated["admin_code"] == "350502"].set_index("indicator")
    assert exact.loc["users_1000m_share", "status"] == "fail"  # "> 25 %" with exactly 25 %
    assert exact.loc["users_1000m_share", "shortfall"] == 1
    assert exact.loc["users_1000m_share", "margin"] == pytest.approx(0.0)
    # 0.97 × 100 and 19 / 20 = 0.95 are not exact in binary; they still pass.
    others = exact.drop(index=["users_1000m_share", "users_1000m_count"])
    assert (others["status"] == "pass").all(), others[["value", "status"]]
    assert (others["shortfall"] == 0).all()


def test_missing_data_is_no_data_never_a_pass(evaluated):
    empty = evaluated[evaluated["admin_code"] == "350503"].set_index("indicator")
    assert empty.loc["area_coverage_5g", "status"] == "pass"  # 9 of 10 km²: that one is known
    for key in [
        "pop_coverage_5g",
        "sites_5g_per_10k",
        "key_place_reach_5g",
        "village_reach_5g",
        "household_gigabit_coverage",
        "users_5g_share",
        "users_1000m_count",
    ]:
        assert empty.loc[key, "status"] == "no_data", key
        assert np.isnan(empty.loc[key, "value"]) and np.isnan(empty.loc[key, "shortfall"])
        assert np.isnan(empty.loc[key, "margin"])


def test_columns_are_exactly_the_stable_ones(evaluated):
    assert list(evaluated.columns) == list(COMPLIANCE_COLUMNS)
    assert len(evaluated) == 3 * 11
    assert set(evaluated["status"]) == {"pass", "fail", "no_data"}


def test_less_or_equal_margin_and_shortfall(tmp_path):
    rows = [
        dict(admin_code="350501", name="X", households=1000.0, gigabit_households_covered=600.0)
    ]
    ind = IndicatorSet(units={"county": units("county", rows)}, key_places=None, definitions=[])
    path = std_file(
        tmp_path,
        """
        [[indicators]]
        key = "household_gigabit_coverage"
        op = "<="
        threshold = 0.5
        levels = ["county"]
        [[indicators]]
        key = "pon_10g_share"
        op = "<"
        threshold = 0.5
        levels = ["county"]
    """,
    )
    df = evaluate(ind, load_standards([path]))
    r = one(df, "350501", "household_gigabit_coverage")
    assert r["status"] == "fail"
    assert r["margin"] == pytest.approx(0.5 - 0.6)  # negative = short, for ≤ too
    assert r["shortfall"] == 100  # 100 households fewer
    assert one(df, "350501", "pon_10g_share")["status"] == "no_data"


# ------------------------------------------------------------------------------------------------
# Unit status and the derived "all cities pass" indicator
# ------------------------------------------------------------------------------------------------


def test_unit_status_uses_mandatory_indicators_only(tmp_path, counties):
    path = std_file(
        tmp_path,
        """
        [[indicators]]
        key = "area_coverage_5g"
        op = ">="
        threshold = 0.8
        levels = ["county"]
        [[indicators]]
        key = "household_gigabit_coverage"
        op = ">="
        threshold = 0.8
        levels = ["county"]
        [[indicators]]
        key = "users_5g_share"
        op = ">="
        threshold = 0.99
        levels = ["county"]
        mandatory = false
    """,
    )
    df = evaluate(counties, load_standards([path]))
    st = unit_status(df).set_index("admin_code")
    assert list(st.reset_index().columns) == list(UNIT_STATUS_COLUMNS)
    assert st.loc["350501", "status"] == "fail"
    assert st.loc["350501", "failed"] == ["area_coverage_5g", "household_gigabit_coverage"]
    assert st.loc["350502", "status"] == "pass"  # its optional users_5g_share fails: ignored
    assert one(df, "350502", "users_5g_share")["status"] == "fail"
    assert st.loc["350503", "status"] == "no_data"  # area passes, statistics missing
    assert st.loc["350503", "no_data"] == ["household_gigabit_coverage"]
    # The table says which indicators are mandatory, and so does compliance.csv.
    assert df["mandatory"].tolist() == [k != "users_5g_share" for k in df["indicator"]]
    again = pd.read_csv(io.StringIO(df.to_csv(index=False)), dtype={"admin_code": str})
    assert again.attrs == {} and "mandatory" in again.columns
    st2 = unit_status(again).set_index("admin_code")
    assert st2.loc["350502", "status"] == "pass"
    # A table without the column (an older run): the flags come from the standards passed in,
    # and an indicator found nowhere counts as mandatory (it can make a unit fail, never pass).
    old = again.drop(columns="mandatory")
    st3 = unit_status(old, load_standards([path])).set_index("admin_code")
    assert st3.loc["350502", "status"] == "pass"
    assert unit_status(old).set_index("admin_code").loc["350502", "status"] == "fail"


def test_cities_passing_share(tmp_path):
    city_rows = [
        dict(
            admin_code="350100",
            name="Fuzhou",
            parent_code="350000",
            households=100.0,
            gigabit_households_covered=90.0,
        ),
        dict(
            admin_code="350200",
            name="Xiamen",
            parent_code="350000",
            households=100.0,
            gigabit_households_covered=85.0,
        ),
        dict(
            admin_code="350300",
            name="Putian",
            parent_code="350000",
            households=100.0,
            gigabit_households_covered=50.0,
        ),
    ]
    prov = [
        dict(admin_code="350000", name="Fujian", households=300.0, gigabit_households_covered=225.0)
    ]
    ind = IndicatorSet(
        units={"province": units("province", prov), "city": units("city", city_rows)},
        key_places=None,
        definitions=[],
    )
    base = std_file(
        tmp_path,
        """
        [[indicators]]
        key = "household_gigabit_coverage"
        op = ">="
        threshold = 0.8
        levels = ["city"]
    """,
        name="base.toml",
        sid="base",
    )
    top = std_file(
        tmp_path,
        """
        [[indicators]]
        key = "cities_passing_share"
        of_standard = "base.toml"
        op = ">="
        threshold = 1.0
        levels = ["province"]
    """,
        name="top.toml",
        sid="top",
    )
    df = evaluate(ind, load_standards([top]))
    r = one(df, "350000", "cities_passing_share")
    assert r["value"] == pytest.approx(2 / 3)
    assert (r["status"], r["shortfall"], r["shortfall_unit"]) == ("fail", 1, "cities")
    # A city without data can still make it pass: the province is then undecided, not failed.
    ind.units["city"].loc[2, "household_gigabit_coverage"] = np.nan
    df = evaluate(ind, load_standards([top, base]))
    assert one(df, "350000", "cities_passing_share")["status"] == "no_data"


# ------------------------------------------------------------------------------------------------
# Printing
# ------------------------------------------------------------------------------------------------


def test_print_compliance_is_readable(evaluated):
    from rich.console import Console

    con = Console(record=True, width=220, color_system="truecolor")
    print_compliance(evaluated, console=con)
    text = con.export_text()
    assert "Short 350501" in text and "FAIL" in text and "no data" in text
    assert "90.0%" in text  # ratios as percentages
    assert "+5,000 persons" in text and "+20 sites" in text and "+100 hh" in text
    assert "10.0" in text  # sites per 10,000 people
    # One row per unit: the unit name appears once in the county table.
    assert text.count("Exact 350502") == 1
    html = con.export_html()
    assert "#800000" in html or "#ff0000" in html.lower() or "color: #" in html  # coloured


def test_print_shipped_standard_notes_and_unconfirmed(tmp_path):
    from rich.console import Console

    rows = [
        dict(
            admin_code=f"3505{i:02d}",
            name=f"County{i}",
            households=100.0,
            gigabit_households_covered=70.0 + i,
        )
        for i in range(12)
    ]
    ind = IndicatorSet(units={"county": units("county", rows)}, key_places=None, definitions=[])
    df = evaluate(ind, load_standards(["miit-gigabit-city-2021"]))
    con = Console(record=True, width=200)
    print_compliance(df, level="county", console=con)
    text = con.export_text()
    assert "by analogy" in text
    assert "not confirmed" in text and "≥80.0%*" in text
    assert text.count("County11 350511") == 1
    assert "12:" in text  # 12 counties in the title with their status counts
