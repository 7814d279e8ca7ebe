"""Tests of gigacov.indicators on a 4×4 world whose answers are worked out by hand.

The world (100 m pixels, UTM 50N)::

    population            5G covered          units
    10 10  1  1           1 1 0 0             county A = columns 0-1 (villages VA1 = rows 0-1,
    10 10  1  1           1 1 0 0                                      VA2 = rows 2-3)
     5  5  1  1           0 0 1 0             county B = columns 2-3
     5  5  1  1           0 0 1 0             city C = A + B, province P = C

A: 60 persons, 40 covered; B: 8 persons, 2 covered.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from affine import Affine
from support.indicator_world import (
    BB,
    COVERED,
    GRID,
    POP,
    RES,
    UTM50,
    X0,
    Y1,
    boundaries,
    box,
    broadband,
    coverage,
    make_inputs,
    wgs,
    xy,
)

from gigacov.errors import InputError
from gigacov.grid import Grid
from gigacov.indicators import (
    BASE_COLUMNS,
    INDICATORS,
    IndicatorSet,
    compute_indicators,
    evaluate_key_places,
    write_indicators_gpkg,
)
from gigacov.scenario import IndicatorsSection
from gigacov.zonal import population_grid, zonal_sums

pytestmark = pytest.mark.filterwarnings("ignore:Dataset has no geotransform")


@pytest.fixture(scope="module")
def ind() -> IndicatorSet:
    return compute_indicators(make_inputs(), GRID, POP, {"5G": coverage()})


def row(ind, level, code):
    t = ind.units[level]
    return t[t["admin_code"] == code].iloc[0]


# ------------------------------------------------------------------------------------------------


def test_tables_have_every_stable_column(ind):
    assert ind.levels == ["province", "city", "county", "village"]
    for lv in ind.levels:
        t = ind.units[lv]
        assert list(t.columns[: len(BASE_COLUMNS)]) == list(BASE_COLUMNS)
        for key in INDICATORS:
            if not key.endswith("_4g"):
                assert key in t.columns
        assert "pop_coverage_4g" not in t.columns  # no 4G raster, no 4G columns
        assert t.crs.equals("EPSG:4326")
    assert {d.key for d in ind.definitions} >= {"pop_coverage_5g", "users_5g_share"}
    d = ind.definition("sites_5g_per_10k")
    assert (d.unit, d.source, d.name_zh) == ("per_10k", "raster", "每万人拥有5G基站数")


def test_county_raster_figures(ind):
    a = row(ind, "county", "350502")
    assert a["population"] == pytest.approx(60.0)
    assert a["covered_population_5g"] == pytest.approx(40.0)
    assert a["pop_coverage_5g"] == pytest.approx(2 / 3)
    assert a["area_km2"] == pytest.approx(0.08)
    assert a["area_coverage_5g"] == pytest.approx(0.5)
    b = row(ind, "county", "350503")
    assert b["pop_coverage_5g"] == pytest.approx(2 / 8)
    assert b["area_coverage_5g"] == pytest.approx(2 / 8)


def test_roll_up_weights_by_population_not_mean_of_ratios(ind):
    c = row(ind, "city", "350500")
    assert c["population"] == pytest.approx(68.0)
    assert c["pop_coverage_5g"] == pytest.approx(42 / 68)  # 0.6176...
    assert c["pop_coverage_5g"] != pytest.approx((2 / 3 + 1 / 4) / 2)  # not 0.4583
    p = row(ind, "province", "350000")
    assert p["pop_coverage_5g"] == pytest.approx(42 / 68)


def test_units_only_partly_analysed_say_so():
    # Whole city analysed: the city is complete, the province (other cities exist) is partial.
    got = compute_indicators(make_inputs(region="350500"), GRID, POP, {"5G": coverage()})
    prov, city = row(got, "province", "350000"), row(got, "city", "350500")
    # (this fixture's villages cover one of the two counties, which the names also say)
    assert prov["partial"] and prov["name"].startswith("P（仅分析区域 350500）（村级")
    assert prov["name_en"].startswith("350000 (analysed region 350500 only) (village figures")
    assert not city["partial"] and city["name"].startswith("C（村级指标仅含 1/2")  # see below
    # One county analysed: its city is partial too; no region: nothing is partial.
    one = compute_indicators(make_inputs(region="350502"), GRID, POP, {"5G": coverage()})
    assert row(one, "city", "350500")["partial"]
    whole = compute_indicators(make_inputs(region="350000"), GRID, POP, {"5G": coverage()})
    assert not whole.units["province"]["partial"].any() and not whole.units["city"]["partial"].any()


def test_sites_are_distinct_5g_sites_per_county(ind):
    a, b = row(ind, "county", "350502"), row(ind, "county", "350503")
    assert (a["sites_5g"], b["sites_5g"]) == (1, 1)  # s1 has two cells; s3 is 4G
    assert a["sites_5g_per_10k"] == pytest.approx(1 / (60 / 10_000))
    c = row(ind, "city", "350500")
    assert c["sites_5g"] == 2  # s4 lies in no county
    assert c["sites_5g_per_10k"] == pytest.approx(2 / (68 / 10_000))


def test_village_reach(ind):
    va1, va2 = row(ind, "village", "350502001001"), row(ind, "village", "350502001002")
    assert va1["pop_coverage_5g"] == pytest.approx(1.0)
    assert (va1["village_reach_5g"], va2["village_reach_5g"]) == (1.0, 0.0)
    a = row(ind, "county", "350502")
    assert (a["villages"], a["villages_reached_5g"], a["village_reach_5g"]) == (2, 1, 0.5)
    b = row(ind, "county", "350503")
    assert b["villages"] == 0 and np.isnan(b["village_reach_5g"])  # no villages: no data


def test_village_without_population_is_judged_by_area():
    pop = POP.copy()
    pop[2:, :2] = 0.0  # VA2 has nobody; half its area is covered
    cov = COVERED.copy()
    cov[2, 0] = cov[2, 1] = 1
    ind = compute_indicators(
        make_inputs(indicators={"village_reached_pop_share": 0.5}), GRID, pop, {"5G": coverage(cov)}
    )
    va2 = row(ind, "village", "350502001002")
    assert va2["population"] == 0.0 and np.isnan(va2["pop_coverage_5g"])
    assert va2["area_coverage_5g"] == pytest.approx(0.5)
    assert va2["village_reach_5g"] == 1.0


def test_statistics_villages_roll_up_unless_county_row(ind):
    a = row(ind, "county", "350502")
    assert a["stats_source"] == "villages"
    assert a["households"] == 150 and a["gigabit_households_covered"] == 110
    assert a["household_gigabit_coverage"] == pytest.approx(110 / 150)
    b = row(ind, "county", "350503")
    assert b["stats_source"] == "county" and b["households"] == 40  # 2023 row ignored
    c = row(ind, "city", "350500")
    assert c["household_gigabit_coverage"] == pytest.approx(150 / 190)
    # Fields nobody reported stay NaN (never 0).
    assert np.isnan(c["pon_10g_share"]) and np.isnan(c["pon_ports"])


def test_county_row_wins_over_its_villages_and_mismatch_is_logged(caplog):
    bb = pd.concat([BB, broadband([("350502", "county", 2024, 160, 100)])], ignore_index=True)
    with caplog.at_level(logging.WARNING, logger="gigacov.indicator_rollup"):
        ind = compute_indicators(make_inputs(bb=bb), GRID, POP, {"5G": coverage()})
    a = row(ind, "county", "350502")
    assert a["stats_source"] == "county" and a["households"] == 160
    assert "350502" in caplog.text and "households 160 vs 150" in caplog.text


def test_missing_statistics_are_nan_and_skipped_in_the_roll_up(caplog):
    bb = BB[BB["admin_code"] != "350503"]
    with caplog.at_level(logging.WARNING, logger="gigacov.indicator_rollup"):
        ind = compute_indicators(make_inputs(bb=bb), GRID, POP, {"5G": coverage()})
    b = row(ind, "county", "350503")
    assert b["stats_source"] == "none" and np.isnan(b["households"])
    assert np.isnan(b["household_gigabit_coverage"])
    c = row(ind, "city", "350500")
    assert c["households"] == 150 and c["stats_missing_units"] == 1
    assert "350503" in caplog.text


def test_a_missing_field_in_a_reported_row_makes_the_parent_field_nan():
    bb = broadband(
        [
            ("350502", "county", 2024, 100, 80, 1000, 300),
            ("350503", "county", 2024, 100, np.nan, 1000, 200),
        ]
    )
    ind = compute_indicators(make_inputs(bb=bb), GRID, POP, {"5G": coverage()})
    c = row(ind, "city", "350500")
    assert c["households"] == 200
    assert np.isnan(c["gigabit_households_covered"]) and np.isnan(c["household_gigabit_coverage"])
    assert c["users_1000m_share"] == pytest.approx(500 / 2000)
    assert c["users_1000m_count"] == 500


def test_no_statistics_at_all():
    ind = compute_indicators(make_inputs(bb=None), GRID, POP, {"5G": coverage()})
    for lv in ind.levels:
        assert ind.units[lv]["household_gigabit_coverage"].isna().all()
        assert (ind.units[lv]["stats_source"] == "none").all()


def test_no_population_gives_nan_not_zero():
    ind = compute_indicators(make_inputs(), GRID, None, {"5G": coverage()})
    a = row(ind, "county", "350502")
    assert np.isnan(a["population"]) and np.isnan(a["pop_coverage_5g"])
    assert np.isnan(a["sites_5g_per_10k"])
    assert a["area_coverage_5g"] == pytest.approx(0.5)
    assert a["village_reach_5g"] == 0.5  # villages judged by area: VA1 fully, VA2 not covered


def test_no_coverage_result_gives_nan():
    ind = compute_indicators(make_inputs(), GRID, POP, {})
    a = row(ind, "county", "350502")
    assert a["population"] == pytest.approx(60.0)
    assert np.isnan(a["pop_coverage_5g"]) and np.isnan(a["village_reach_5g"])


def test_4g_variants_when_4g_coverage_is_present():
    cov4 = np.ones((4, 4), np.uint8)
    cov4[:, 3] = 0
    ind = compute_indicators(
        make_inputs(), GRID, POP, {"5G": coverage(), "4G": coverage(cov4, "4G")}
    )
    assert ind.technologies == ("5g", "4g")
    b = row(ind, "county", "350503")
    assert b["pop_coverage_4g"] == pytest.approx(4 / 8)
    assert b["area_coverage_4g"] == pytest.approx(0.5)
    assert row(ind, "city", "350500")["pop_coverage_4g"] == pytest.approx(64 / 68)
    assert "pop_coverage_4g" in {d.key for d in ind.definitions}


def test_population_from_a_boundary_column():
    b = boundaries(villages=False, population=[np.nan, np.nan, 600.0, np.nan])
    inputs = make_inputs(b=b)
    pop = population_grid(inputs, GRID)
    ind = compute_indicators(inputs, GRID, pop, {"5G": coverage()})
    a = row(ind, "county", "350502")
    assert a["population"] == pytest.approx(600.0, rel=1e-5)
    assert a["pop_coverage_5g"] == pytest.approx(0.5)  # uniform spread: half the area covered
    assert np.isnan(row(ind, "county", "350503")["population"])  # its column value is missing
    assert np.isnan(row(ind, "city", "350500")["population"])


def test_village_population_column_is_kept_exactly_not_read_back_from_the_grid():
    """Villages whose edge cuts pixels: read back from the grid, the dense village would lose
    people to its sparse neighbour. Each village keeps its own figure, its county their sum, and
    the covered shares are the grid's."""
    b = boundaries(villages=True, population=[np.nan, np.nan, np.nan, np.nan, 1000.0, 10.0])
    edge = 1.3  # not on a pixel or sub-pixel edge
    b.loc[b["admin_code"] == "350502001001", "geometry"] = wgs([box(0, 0, 2, edge)])
    b.loc[b["admin_code"] == "350502001002", "geometry"] = wgs([box(0, edge, 2, 4)])
    inputs = make_inputs(b=b)
    pop = population_grid(inputs, GRID)
    grid_only = zonal_sums(wgs([box(0, 0, 2, edge)]).to_crs(GRID.crs), GRID, pop, {})
    assert abs(grid_only.population[0] - 1000.0) > 5  # what reading the grid back would give
    ind = compute_indicators(inputs, GRID, pop, {"5G": coverage()})
    va1, va2 = row(ind, "village", "350502001001"), row(ind, "village", "350502001002")
    assert va1["population"] == 1000.0 and va2["population"] == 10.0
    county = row(ind, "county", "350502")
    assert county["population"] == pytest.approx(1010.0, abs=1e-9)
    assert county["covered_population_5g"] == pytest.approx(
        va1["covered_population_5g"] + va2["covered_population_5g"], abs=1e-9
    )
    assert 0.0 <= va1["pop_coverage_5g"] <= 1.0
    # 350503 has no village with a population: no data, not its neighbours' edge pixels
    assert np.isnan(row(ind, "county", "350503")["population"])
    assert np.isnan(row(ind, "city", "350500")["population"])


def test_villages_covering_a_small_part_of_their_county_give_it_no_population(caplog):
    """Villages with a population on a third of the county: the county's figure is not their
    sum (which would halve its population and double its sites per 10,000 people)."""
    b = boundaries(villages=True, population=[np.nan, np.nan, np.nan, np.nan, 1000.0, np.nan])
    inputs = make_inputs(b=b)
    pop = population_grid(inputs, GRID)
    with caplog.at_level(logging.WARNING, logger="gigacov"):
        ind = compute_indicators(inputs, GRID, pop, {"5G": coverage()})
    assert row(ind, "village", "350502001001")["population"] == 1000.0
    county = row(ind, "county", "350502")
    assert np.isnan(county["population"]) and np.isnan(county["sites_5g_per_10k"])
    assert "cover only 50% of its area" in caplog.text


def test_statistics_of_some_villages_only_are_labelled_on_the_county_and_its_city():
    bb = broadband(
        [
            ("350502001001", "village", 2024, 100, 90),  # VA2 has no row
            ("350503", "county", 2024, 40, 40),
        ]
    )
    ind = compute_indicators(make_inputs(bb=bb), GRID, POP, {"5G": coverage()})
    a = row(ind, "county", "350502")
    assert a["name"] == "A（统计数据仅含 1/2 个村）"
    assert a["name_en"].endswith("(statistics from 1 of 2 villages only)")
    assert row(ind, "county", "350503")["name"] == "B"
    city = row(ind, "city", "350500")
    assert city["name"].endswith("（统计数据完整的区县仅 1/2）")


def test_a_shared_site_listed_by_both_sharing_operators_counts_once():
    """电信 and 联通 both report their shared (共建共享) sites: one physical site, one count."""
    shared = "China Telecom;China Unicom"
    cells = pd.DataFrame(
        {
            "site_id": ["T1", "T1", "U1", "U1", "U2"],
            "tech": ["5G"] * 5,
            "admin_code": ["350502"] * 5,
            "lon": [118.6, 118.6, 118.6, 118.6, 118.7],
            "lat": [24.9, 24.9, 24.9, 24.9, 24.9],
            "operator": ["China Telecom"] * 2 + ["China Unicom"] * 3,
            "serves": [shared] * 4 + ["China Unicom"],
            "freq_mhz": [3450.0] * 5,
            "carrier_low_mhz": [3400.0] * 5,
            "carrier_high_mhz": [3500.0] * 5,
            "azimuth_deg": [0.0, 120.0, 0.0, 120.0, 0.0],
        }
    )
    ind = compute_indicators(make_inputs(cells=cells), GRID, POP, {"5G": coverage()})
    assert row(ind, "county", "350502")["sites_5g"] == 2  # T1 = U1, and U2
    assert row(ind, "city", "350500")["sites_5g"] == 2


def test_grid_mismatch_is_an_error():
    other = Grid(UTM50, Affine(RES, 0.0, X0 + 100, 0.0, -RES, Y1), 4, 4)
    cov = coverage()
    cov.grid = other
    with pytest.raises(InputError, match="not on the analysis grid"):
        compute_indicators(make_inputs(), GRID, POP, {"5G": cov})


# ------------------------------------------------------------------------------------------------
# Key places
# ------------------------------------------------------------------------------------------------


def key_places():
    geoms = [
        xy(0.5, 0.5),  # point in a covered pixel
        xy(3.5, 0.5),  # point in an uncovered pixel
        box(1, 0, 3, 1),  # area: pixels (0,1) covered, (0,2) not → share 0.5
        shapely.LineString([(X0, Y1 - 50), (X0 + 400, Y1 - 50)]),  # road along row 0
        shapely.LineString([(X0 + 250, Y1), (X0 + 250, Y1 - 400)]),  # road down column 2
        xy(40, 40),  # outside the grid
    ]
    return gpd.GeoDataFrame(
        {
            "place_id": [f"k{i}" for i in range(6)],
            "name": ["hospital", "school", "campus", "road 1", "road 2", "far away"],
            "category": ["hospital", "university", "university", "road", "road", "airport"],
            "admin_code": ["350502", "350503", "350502", "350502", "350503", "350503"],
            "approximate": False,
        },
        geometry=wgs(geoms),
        crs=4326,
    )


def test_key_places_points_areas_and_roads():
    kp = evaluate_key_places(key_places(), GRID, {"5G": coverage()}, IndicatorsSection())
    assert kp["reached_5g"].tolist() == [True, False, True, False, False, False]
    np.testing.assert_allclose(kp["covered_share_5g"].to_numpy()[:5], [1.0, 0.0, 0.5, 0.5, 0.5])
    assert np.isnan(kp["covered_share_5g"].iloc[5])  # outside the grid: unknown share, not reached
    assert kp["rsrp_dbm"].iloc[0] == pytest.approx(-90.0)
    assert kp["rsrp_dbm"].iloc[1] == pytest.approx(-115.0)
    # Road 1 runs over columns 0-1 (covered) then 2-3 (not): 200 m gap.
    # Road 2 runs down column 2: rows 0-1 uncovered, rows 2-3 covered: 200 m gap.
    assert kp["longest_gap_m"].iloc[3] == pytest.approx(200.0)
    assert kp["longest_gap_m"].iloc[4] == pytest.approx(200.0)
    assert np.isnan(kp["longest_gap_m"].iloc[0])  # points have no gap


def test_road_share_threshold_and_area_share_threshold():
    opts = IndicatorsSection(key_place_road_share=0.5, key_place_area_share=0.6)
    kp = evaluate_key_places(key_places(), GRID, {"5G": coverage()}, opts)
    assert kp["reached_5g"].tolist()[2:5] == [False, True, True]


def test_longest_gap_with_two_gaps():
    cov = np.zeros((4, 4), np.uint8)
    cov[0, 1] = 1  # row 0: gap (col 0), covered (col 1), gap (cols 2-3)
    road = gpd.GeoDataFrame(
        {"admin_code": ["350502"]},
        geometry=wgs([shapely.LineString([(X0, Y1 - 50), (X0 + 400, Y1 - 50)])]),
        crs=4326,
    )
    kp = evaluate_key_places(road, GRID, {"5G": coverage(cov)})
    assert kp["covered_share_5g"].iloc[0] == pytest.approx(0.25)
    assert kp["longest_gap_m"].iloc[0] == pytest.approx(200.0, abs=1.0)


def test_key_place_counts_per_unit():
    ind = compute_indicators(make_inputs(key_places=key_places()), GRID, POP, {"5G": coverage()})
    a, b = row(ind, "county", "350502"), row(ind, "county", "350503")
    assert (a["key_places"], a["key_places_reached_5g"]) == (3, 2)
    assert a["key_place_reach_5g"] == pytest.approx(2 / 3)
    assert (b["key_places"], b["key_places_reached_5g"]) == (3, 0)
    c = row(ind, "city", "350500")
    assert c["key_place_reach_5g"] == pytest.approx(2 / 6)
    assert set(ind.key_places.columns) >= {
        "reached_5g",
        "covered_share_5g",
        "rsrp_dbm",
        "longest_gap_m",
    }
    # Without key places the reach is no data, not 0.
    assert np.isnan(
        row(compute_indicators(make_inputs(), GRID, POP, {"5G": coverage()}), "county", "350502")[
            "key_place_reach_5g"
        ]
    )


# ------------------------------------------------------------------------------------------------
# GeoPackage
# ------------------------------------------------------------------------------------------------


def test_write_indicators_gpkg_layers_and_columns(tmp_path):
    ind = compute_indicators(make_inputs(key_places=key_places()), GRID, POP, {"5G": coverage()})
    path = tmp_path / "indicators.gpkg"
    path.write_text("stale")  # replaced, not appended to
    write_indicators_gpkg(ind, path)
    layers = [name for name, _ in pyogrio.list_layers(path)]
    assert layers == ["province", "city", "county", "village", "key_places"]
    county = gpd.read_file(path, layer="county")
    for col in [*BASE_COLUMNS, *[k for k in INDICATORS if not k.endswith("_4g")]]:
        assert col in county.columns
    county = county.set_index("admin_code")
    assert county.loc["350502", "pop_coverage_5g"] == pytest.approx(2 / 3)
    assert np.isnan(county.loc["350502", "pon_10g_share"])  # NULL, not 0
    assert county.crs.equals("EPSG:4326")
    kp = gpd.read_file(path, layer="key_places")
    assert kp["reached_5g"].astype(bool).tolist() == [True, False, True, False, False, False]


def test_roll_up_of_villages_from_some_counties_says_so(ind):
    # Only county 350502 has villages: the city's village reach describes 1 of its 2 counties.
    city = row(ind, "city", "350500")
    assert city["village_counties"] == "1/2"
    assert city["name"] == "C（村级指标仅含 1/2 个区县的村）"
    assert city["name_en"].endswith("(village figures from 1 of 2 counties only)")
    assert city["village_reach_5g"] == pytest.approx(0.5)  # the figure stays, labelled
    # villages in every county: no label
    b = boundaries()
    extra = gpd.GeoDataFrame(
        {
            "admin_code": ["350503001001"],
            "name": ["VB1"],
            "name_en": "",
            "level": "village",
            "parent_code": "350503",
        },
        geometry=wgs([box(2, 0, 4, 4)]),
        crs=4326,
    )
    full = compute_indicators(
        make_inputs(b=pd.concat([b, extra], ignore_index=True)), GRID, POP, {"5G": coverage()}
    )
    c2 = row(full, "city", "350500")
    assert c2["village_counties"] == "" and c2["name"] == "C"
