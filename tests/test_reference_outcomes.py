"""The shipped standards held to the evidence: certified gigabit cities, and the at_risk verdict."""

from __future__ import annotations

import dataclasses
import io
import math
import textwrap

import geopandas as gpd
import pandas as pd
import pytest

from gigacov.compliance import evaluate, load_standard, load_standards, unit_status
from gigacov.errors import InputError, StandardError
from gigacov.indicators import IndicatorSet, add_ratios, indicator_definitions
from gigacov.reference import (
    REFERENCE_DIR,
    certified_below,
    evaluate_reference,
    read_reference_outcomes,
)

MIIT = "miit-gigabit-city-2021"
REFERENCE = "miit-certified-gigabit-cities-2022"


def std_file(tmp_path, body: str) -> str:
    head = """
        id = "bounded"
        version = "1"
        year = 2024
        issuer = "test"
        source = "test"
        [title]
        en = "Test standard with an evidence bound"
    """
    p = tmp_path / "bounded.toml"
    p.write_text(textwrap.dedent(head) + textwrap.dedent(body), encoding="utf-8")
    return str(p)


def one(df: pd.DataFrame, code: str, indicator: str) -> pd.Series:
    r = df[(df["admin_code"] == code) & (df["indicator"] == indicator)]
    assert len(r) == 1, r
    return r.iloc[0]


@pytest.fixture(scope="module")
def miit():
    return load_standards([MIIT])[0]


@pytest.fixture(scope="module")
def outcomes():
    return read_reference_outcomes(REFERENCE)


def test_reference_file_has_the_published_rows_and_its_provenance(outcomes):
    assert (REFERENCE_DIR / "PROVENANCE.md").is_file()
    text = (REFERENCE_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "2022-12-18" in text and "千兆城市关键指标情况汇总表" in text
    assert len(outcomes) == 8
    baotou = outcomes.set_index("city").loc["包头"]
    # Per cent as published, fractions once read.
    assert baotou["pon_10g_share"] == pytest.approx(0.25)
    assert baotou["users_500m_share"] == pytest.approx(0.29)
    assert baotou["sites_5g_per_10k"] == pytest.approx(21.0)
    assert baotou["batch"] == "2022"


def test_no_certified_city_fails_the_shipped_miit_standard(miit, outcomes):
    df = evaluate_reference(miit, outcomes)
    assert len(df) == 8 * len(miit.applies_to("city"))
    assert not (df["status"] == "fail").any(), df[df["status"] == "fail"]
    at_risk = df[df["status"] == "at_risk"]
    assert set(zip(at_risk["name"], at_risk["indicator"], strict=True)) == {
        ("包头", "pon_10g_share"),
        ("包头", "users_500m_share"),
        ("大同", "users_500m_share"),
        ("太原", "users_500m_share"),
    }
    status = unit_status(df).set_index("admin_code")["status"]
    assert set(status[status == "at_risk"].index) == {"包头", "大同", "太原"}
    assert "fail" not in set(status)


def test_without_certified_min_the_standard_contradicts_the_certifications(miit, outcomes):
    """What the test above guards against: the cited thresholds alone fail three certified
    cities."""
    bare = dataclasses.replace(
        miit,
        indicators=[
            dataclasses.replace(i, certified_min=math.nan, certified_source="")
            for i in miit.indicators
        ],
    )
    df = evaluate_reference(bare, outcomes)
    failing = unit_status(df).set_index("admin_code")["status"]
    assert set(failing[failing == "fail"].index) == {"包头", "大同", "太原"}


def test_certified_min_is_the_lowest_certified_value_below_the_threshold(miit, outcomes):
    bounded = {i.key: i for i in miit.indicators if i.has_evidence_bound}
    assert set(bounded) == {"pon_10g_share", "users_500m_share"}
    for key, ind in bounded.items():
        below = outcomes[key][outcomes[key] < ind.threshold]
        assert ind.certified_min == pytest.approx(below.min()), key
        assert ind.certified_source and "2022-12-18" in ind.certified_source
    # The other indicators have no certified value below their threshold: nothing to soften.
    for ind in miit.indicators:
        if ind.key in outcomes.columns and ind.key not in bounded:
            assert (outcomes[ind.key] >= ind.threshold).all(), ind.key


def test_certified_below_lists_the_cities_for_the_report(miit):
    below = certified_below(miit)
    assert {(b.city, b.indicator) for b in below} == {
        ("包头", "pon_10g_share"),
        ("包头", "users_500m_share"),
        ("大同", "users_500m_share"),
        ("太原", "users_500m_share"),
    }
    assert all(b.status == "at_risk" and b.threshold == pytest.approx(0.30) for b in below)
    assert certified_below(load_standards(["fujian-2024"])[0]) == []  # names no reference


def test_reference_file_errors_name_file_row_and_column(tmp_path):
    bad = tmp_path / "ref.csv"
    bad.write_text("city,pon_10g_share_pct\nA,25\nB,lots\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"ref\.csv: row 3, column 'pon_10g_share_pct': 'lots'"):
        read_reference_outcomes(str(bad))
    bad.write_text("town,pon_10g_share_pct\nA,25\n", encoding="utf-8")
    with pytest.raises(InputError, match="no 'city' column"):
        read_reference_outcomes(str(bad))
    bad.write_text("city,speed\nA,25\n", encoding="utf-8")
    with pytest.raises(InputError, match="no indicator column"):
        read_reference_outcomes(str(bad))
    with pytest.raises(InputError, match="do not exist"):
        read_reference_outcomes("no-such-reference")


# ------------------------------------------------------------------------------------------------
# The at_risk verdict on units
# ------------------------------------------------------------------------------------------------

BOUNDED = """
    [[indicators]]
    key = "pon_10g_share"
    op = ">="
    threshold = 0.30
    levels = ["county"]
    confirmed = false
    note = "commonly cited"
    certified_min = 0.25
    certified_source = "a certified city had 25 %"
    [[indicators]]
    key = "sites_5g_per_10k"
    op = ">="
    threshold = 12
    levels = ["county"]
"""


def _pon_units(shares_10g: dict[str, float], sites: int = 150) -> IndicatorSet:
    rows = [
        dict(
            admin_code=code,
            name=code,
            population=100_000.0,
            sites_5g=sites,
            pon_ports=1000.0,
            pon_10g_ports=share * 1000.0,
        )
        for code, share in shares_10g.items()
    ]
    base = {"level": "county", "name_en": "", "parent_code": ""}
    table = pd.DataFrame([{**base, **r} for r in rows])
    table = add_ratios(gpd.GeoDataFrame(table, geometry=[None] * len(table), crs=4326))
    return IndicatorSet(
        units={"county": table},
        key_places=None,
        definitions=indicator_definitions(),
    )


def test_between_certified_min_and_threshold_is_at_risk_with_shortfall_to_the_threshold(tmp_path):
    std = load_standard(std_file(tmp_path, BOUNDED))
    df = evaluate(_pon_units({"A": 0.22, "B": 0.25, "C": 0.27, "D": 0.30, "E": 0.2499}), [std])
    assert one(df, "A", "pon_10g_share")["status"] == "fail"  # below every certified value
    assert one(df, "E", "pon_10g_share")["status"] == "fail"
    assert one(df, "B", "pon_10g_share")["status"] == "at_risk"  # as low as a certified city
    c = one(df, "C", "pon_10g_share")
    assert c["status"] == "at_risk"
    assert c["shortfall"] == 30 and c["shortfall_unit"] == "ports"  # to the cited 30 %
    assert c["margin"] == pytest.approx(-0.03)
    assert one(df, "D", "pon_10g_share")["status"] == "pass"
    st = unit_status(df).set_index("admin_code")
    assert st.loc["C", "status"] == "at_risk" and st.loc["C", "at_risk"] == ["pon_10g_share"]
    assert st.loc["A", "status"] == "fail" and st.loc["A", "failed"] == ["pon_10g_share"]
    assert st.loc["D", "status"] == "pass"
    # Through compliance.csv: the status survives a round trip.
    again = pd.read_csv(io.StringIO(df.to_csv(index=False)), dtype={"admin_code": str})
    assert unit_status(again).set_index("admin_code").loc["C", "status"] == "at_risk"


def test_a_failing_indicator_outranks_at_risk_and_at_risk_outranks_no_data(tmp_path):
    std = load_standard(std_file(tmp_path, BOUNDED))
    fails_sites = evaluate(_pon_units({"C": 0.27}, sites=100), [std])  # 10 per 10k < 12
    st = unit_status(fails_sites).set_index("admin_code")
    assert st.loc["C", "status"] == "fail" and st.loc["C", "at_risk"] == ["pon_10g_share"]
    nodata = evaluate(_pon_units({"C": 0.27}), [std])
    nodata.loc[nodata["indicator"] == "sites_5g_per_10k", "status"] = "no_data"
    assert unit_status(nodata).set_index("admin_code").loc["C", "status"] == "at_risk"


def test_a_confirmed_threshold_keeps_pass_and_fail(tmp_path):
    body = BOUNDED.replace('confirmed = false\n    note = "commonly cited"\n', "")
    with pytest.raises(StandardError, match=r"indicators\[0\]\.certified_min: the threshold is"):
        load_standard(std_file(tmp_path, body))
    plain = BOUNDED.replace("    certified_min = 0.25\n", "").replace(
        '    certified_source = "a certified city had 25 %"\n', ""
    )
    std = load_standard(std_file(tmp_path, plain))
    assert one(evaluate(_pon_units({"C": 0.27}), [std]), "C", "pon_10g_share")["status"] == "fail"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("certified_min = 0.25", "certified_min = 0.30"), "is not below the threshold 0.3"),
        (("certified_min = 0.25", "certified_min = 25"), "not a fraction 0–1"),
        (('op = ">="\n    threshold = 0.30', 'op = "<="\n    threshold = 0.30'), "op '>=' or '>'"),
        (('    certified_source = "a certified city had 25 %"\n', ""), "needs certified_source"),
        (("    certified_min = 0.25\n", ""), "certified_source is given without certified_min"),
        (("certified_min = 0.25", 'certified_min = "25 %"'), "certified_min must be a float"),
    ],
)
def test_certified_min_errors_name_the_key(tmp_path, change, message):
    body = BOUNDED.replace(*change)
    assert body != BOUNDED
    with pytest.raises(StandardError, match=message):
        load_standard(std_file(tmp_path, body))
