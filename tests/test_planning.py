"""Tests of gigacov.planning: gap labelling, greedy site placement, candidates, outputs.

The radio footprints in most tests are hand-made discs (RSRP falling linearly with distance,
nothing beyond the disc) so that every answer can be worked out on paper; the end-to-end test at
the bottom uses the real radio engine and pipeline.
"""

from __future__ import annotations

import json
import math
from collections import deque
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from support.grids import UTM50, utm_grid

from gigacov.cli_tables import print_plan
from gigacov.errors import ConfigError, InputError, RunError
from gigacov.grid import Grid
from gigacov.ingest.model import CELL_COLUMNS, Inputs
from gigacov.planning import (
    GAP_COLUMNS,
    RECOMMENDED_COLUMNS,
    find_gaps,
    plan,
    write_plan,
)
from gigacov.planning._kernels import label_zones
from gigacov.planning.candidates import candidate_cells, grid_candidates, read_candidates
from gigacov.planning.greedy import (
    CountyTargets,
    Footprints,
    NetworkState,
    ObjectTable,
    Target,
    greedy_county,
)
from gigacov.radio.result import CoverageResult, RadioParams
from gigacov.run_result import RunResult
from gigacov.scenario import scenario_from_dict

RES = 100.0
X0, Y1 = 600_000.0, 2_750_000.0  # near Quanzhou, UTM 50N


#: make_grid(height, width): 100 m pixels from (X0, Y1).
make_grid = partial(utm_grid, resolution_m=RES, west=X0, north=Y1)


def pix_xy(grid: Grid, row: float, col: float) -> tuple[float, float]:
    """Centre of pixel (row, col) in metres."""
    return X0 + (col + 0.5) * RES, Y1 - (row + 0.5) * RES


def pix_lonlat(grid: Grid, row: float, col: float) -> tuple[float, float]:
    x, y = pix_xy(grid, row, col)
    lon, lat = grid.xy_to_lonlat([x], [y])
    return float(lon[0]), float(lat[0])


# ------------------------------------------------------------------------------------------------
# Labelling kernel vs a pure-Python flood fill
# ------------------------------------------------------------------------------------------------


def reference_labels(zone: np.ndarray) -> tuple[np.ndarray, int]:
    """Breadth-first flood fill, 8 neighbours, equal zone values; labels in raster-scan order."""
    h, w = zone.shape
    lab = np.zeros((h, w), np.int32)
    n = 0
    for r in range(h):
        for c in range(w):
            if zone[r, c] > 0 and lab[r, c] == 0:
                n += 1
                lab[r, c] = n
                queue = deque([(r, c)])
                while queue:
                    a, b = queue.popleft()
                    for da in (-1, 0, 1):
                        for db in (-1, 0, 1):
                            aa, bb = a + da, b + db
                            if (
                                0 <= aa < h
                                and 0 <= bb < w
                                and lab[aa, bb] == 0
                                and zone[aa, bb] == zone[r, c]
                            ):
                                lab[aa, bb] = n
                                queue.append((aa, bb))
    return lab, n


@pytest.mark.parametrize("seed", range(6))
def test_label_kernel_matches_flood_fill_on_random_masks(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        h, w = rng.integers(1, 35, 2)
        p = rng.uniform(0.15, 0.75)
        zones = 1 if seed % 2 == 0 else 3  # binary masks, and masks split by county
        zone = ((rng.random((h, w)) < p) * rng.integers(1, zones + 1, (h, w))).astype(np.int32)
        got, n = label_zones(zone)
        want, m = reference_labels(zone)
        assert n == m
        np.testing.assert_array_equal(got, want)


def test_label_kernel_diagonal_and_u_shape():
    # Diagonal pixels are connected (8-connectivity); a U shape merges two provisional labels.
    zone = np.array(
        [
            [1, 0, 0, 1, 0, 1],
            [0, 1, 0, 1, 0, 1],
            [0, 0, 1, 1, 1, 1],
            [2, 0, 0, 0, 0, 0],
            [0, 2, 0, 0, 1, 0],
        ],
        dtype=np.int32,
    )
    labels, n = label_zones(zone)
    assert n == 3
    assert labels[0, 0] == labels[2, 2] == labels[0, 5] == labels[2, 5] == 1
    assert labels[3, 0] == labels[4, 1] == 2  # zone 2, diagonal pair
    assert labels[4, 4] == 3
    # equal values in different zones never merge
    labels2, n2 = label_zones(np.array([[1, 2], [2, 1]], dtype=np.int32))
    assert n2 == 2 and labels2[0, 0] == labels2[1, 1] and labels2[0, 1] == labels2[1, 0]


# ------------------------------------------------------------------------------------------------
# Gap polygons
# ------------------------------------------------------------------------------------------------


def test_gap_population_and_area_sum_to_uncovered_populated_pixels():
    rng = np.random.default_rng(7)
    grid = make_grid(30, 40)
    pop = np.where(rng.random(grid.shape) < 0.5, rng.gamma(2.0, 20.0, grid.shape), 0.0).astype(
        np.float32
    )
    covered = (rng.random(grid.shape) < 0.45).astype(np.uint8)
    county = np.ones(grid.shape, np.int32)
    county[:, 25:] = 2
    county[:3, :] = 0  # outside every county
    sites_x, sites_y = np.array([X0 + 500.0]), np.array([Y1 - 500.0])
    gaps, labels = find_gaps(
        grid,
        pop,
        covered,
        county,
        ["350582", "350583"],
        ["晋江市", "南安市"],
        np.array(["S1"], object),
        sites_x,
        sites_y,
    )
    gap_mask = (pop > 0) & (covered == 0) & (county > 0)
    assert gaps["population"].sum() == pytest.approx(
        float(pop[gap_mask].sum(dtype=np.float64)), rel=1e-9
    )
    assert gaps["pixels"].sum() == gap_mask.sum()
    metric = gaps.to_crs(UTM50)
    np.testing.assert_allclose(
        metric.area.to_numpy(), gaps["pixels"].to_numpy() * RES * RES, rtol=1e-6
    )
    np.testing.assert_allclose(gaps["area_km2"], gaps["pixels"] * 0.01)
    # one polygon per labelled region; regions never cross the county line at column 25
    assert len(gaps) == labels.max()
    for _, g in metric.iterrows():
        minx, _, maxx, _ = g.geometry.bounds
        assert maxx <= X0 + 25 * RES + 1e-6 or minx >= X0 + 25 * RES - 1e-6
        assert g["admin_code"] == ("350582" if maxx <= X0 + 25 * RES + 1e-6 else "350583")
    # ranked by population, rank 1 first
    assert list(gaps["rank"]) == list(range(1, len(gaps) + 1))
    assert gaps["population"].is_monotonic_decreasing
    # nearest site distance = distance from the polygon to the site
    site = shapely.Point(sites_x[0], sites_y[0])
    for _, g in metric.head(5).iterrows():
        assert g["nearest_site_id"] == "S1"
        assert g["nearest_site_m"] == pytest.approx(g.geometry.distance(site), abs=0.05)
    assert list(gaps.columns) == GAP_COLUMNS + ["geometry"]
    assert gaps.crs.to_epsg() == 4326


def test_gaps_hand_checked_two_blocks_and_min_population():
    grid = make_grid(10, 10)
    pop = np.zeros(grid.shape, np.float32)
    pop[1:3, 1:3] = 10.0  # 40 persons, 4 px
    pop[6:9, 6:9] = 5.0  # 45 persons, 9 px
    pop[5, 5] = 1.0  # touches the second block diagonally -> same gap (46 persons)
    covered = np.zeros(grid.shape, np.uint8)
    covered[1, 1] = 1  # 30 persons left in the first block
    county = np.ones(grid.shape, np.int32)

    def gaps_without_sites(**kwargs):
        no_sites = (np.array([], object), np.array([]), np.array([]))
        return find_gaps(grid, pop, covered, county, ["350582"], ["晋江市"], *no_sites, **kwargs)

    gaps, _ = gaps_without_sites()
    assert gaps["population"].tolist() == [46.0, 30.0]
    assert gaps["pixels"].tolist() == [10, 3]
    assert gaps["nearest_site_id"].tolist() == ["", ""] and gaps["nearest_site_m"].isna().all()
    small, _ = gaps_without_sites(min_population=40.0)
    assert small["population"].tolist() == [46.0]


# ------------------------------------------------------------------------------------------------
# Greedy core on hand-made footprints
# ------------------------------------------------------------------------------------------------


def disc_footprint(grid: Grid, row: float, col: float, radius_px: float, rsrp0: float = -70.0):
    """Flat pixel indices and RSRP (−70 dBm at the centre, −1 dB per 100 m) within a disc."""
    rr, cc = np.mgrid[0 : grid.height, 0 : grid.width]
    d = np.hypot(rr - row, cc - col)
    inside = d <= radius_px
    return np.flatnonzero(inside.ravel()), (rsrp0 - d[inside]).astype(np.float32).ravel()


def make_state(grid: Grid, pop: np.ndarray, covered=None, best=None, objects=None) -> NetworkState:
    covered = np.zeros(grid.shape, np.uint8) if covered is None else covered
    best = np.full(grid.shape, np.nan, np.float32) if best is None else best
    return NetworkState.build(
        covered=covered,
        best_rsrp=best,
        in_noise_mw=np.full(grid.shape, 1e-12, np.float32),
        county=np.ones(grid.shape, np.int32),
        population=pop,
        objects=objects if objects is not None else ObjectTable.empty(grid.n_pixels),
        n_counties=1,
    )


def county(population, covered=0.0, sites=0.0, targets=(), key_places=0.0, villages=0.0):
    return CountyTargets(
        index=1,
        admin_code="350582",
        name="晋江市",
        population=population,
        covered_population=covered,
        sites=sites,
        key_places=key_places,
        key_places_reached=0.0,
        villages=villages,
        villages_reached=0.0,
        targets={t.key: t for t in targets},
    )


def fp_from(state: NetworkState, discs) -> Footprints:
    pix, val = [], []
    for p, v in discs:
        keep = state.relevant[p] != 0
        pix.append(p[keep])
        val.append(v[keep])
    return Footprints.from_lists(pix, val)


def test_two_villages_centres_picked_in_order_of_population():
    grid = make_grid(40, 60)
    pop = np.zeros(grid.shape, np.float32)
    pop[8:13, 8:13] = 100.0  # village A: 2,500 persons around (10, 10)
    pop[8:13, 43:48] = 60.0  # village B: 1,500 persons around (10, 45)
    state = make_state(grid, pop)
    discs = [
        disc_footprint(grid, 30, 30, 4),  # 0: useless (nobody there)
        disc_footprint(grid, 10, 45, 4),  # 1: centre of B
        disc_footprint(grid, 35, 5, 4),  # 2: useless
        disc_footprint(grid, 10, 10, 4),  # 3: centre of A
        disc_footprint(grid, 10, 16, 4),  # 4: edge of A (covers part of it)
    ]
    fp = fp_from(state, discs)
    ct = county(4000.0, targets=[Target("pop_coverage_5g", ">=", 0.95, ("fujian-2024",))])
    out = greedy_county(state, ct, fp, budget=10)
    assert [p.candidate for p in out.picks] == [3, 1]
    assert [p.added_population for p in out.picks] == [2500.0, 1500.0]
    assert out.stop_reason == "targets_met"
    assert ct.values(state)["pop_coverage_5g"] == 1.0
    # the naive method makes the same choices with more evaluations
    state2 = make_state(grid, pop)
    out2 = greedy_county(state2, ct, fp_from(state2, discs), budget=10, method="naive")
    assert [p.candidate for p in out2.picks] == [3, 1]


def test_greedy_never_picks_a_site_that_adds_nothing():
    grid = make_grid(40, 60)
    pop = np.zeros(grid.shape, np.float32)
    pop[8:13, 8:13] = 100.0
    pop[8:13, 43:48] = 60.0
    pop[38, 58] = 7.0  # out of every candidate's reach
    state = make_state(grid, pop)
    discs = [
        disc_footprint(grid, 10, 10, 4),
        disc_footprint(grid, 10, 12, 4),
        disc_footprint(grid, 10, 45, 4),
        disc_footprint(grid, 30, 30, 4),
    ]
    ct = county(4007.0, targets=[Target("pop_coverage_5g", ">=", 1.0, ("x",))])
    out = greedy_county(state, ct, fp_from(state, discs), budget=50)
    assert [p.candidate for p in out.picks] == [0, 2]  # 1 overlaps 0 completely, 3 covers nobody
    assert all(p.added_population > 0 for p in out.picks)
    assert out.stop_reason == "no_gain"
    assert "7 persons" in out.stop_message
    assert ct.values(state)["pop_coverage_5g"] == pytest.approx(4000 / 4007)


def test_budget_stops_planning():
    grid = make_grid(20, 20)
    pop = np.ones(grid.shape, np.float32)
    state = make_state(grid, pop)
    discs = [disc_footprint(grid, r, c, 2) for r in range(2, 20, 5) for c in range(2, 20, 5)]
    ct = county(400.0, targets=[Target("pop_coverage_5g", ">=", 0.99, ("x",))])
    out = greedy_county(state, ct, fp_from(state, discs), budget=3)
    assert len(out.picks) == 3 and out.stop_reason == "budget"


@pytest.mark.parametrize("seed", range(4))
def test_lazy_and_naive_greedy_pick_the_same_sites(seed):
    rng = np.random.default_rng(seed)
    grid = make_grid(40, 40)
    pop = np.where(rng.random(grid.shape) < 0.4, rng.integers(1, 30, grid.shape), 0).astype(
        np.float32
    )
    covered = (rng.random(grid.shape) < 0.3).astype(np.uint8)
    discs = [disc_footprint(grid, *rng.uniform(0, 40, 2), rng.uniform(2, 7)) for _ in range(60)]
    # two villages as objects: need half of their people covered
    objs = ObjectTable.build(
        grid.n_pixels,
        ["v1", "v2"],
        [1, 1],
        [1, 1],
        [0.5, 0.5],
        [np.arange(0, 200), np.arange(800, 1000)],
        [np.ones(200), np.ones(200)],
        covered=covered.ravel(),
    )
    targets = [
        Target("pop_coverage_5g", ">=", 0.9, ("x",)),
        Target("village_reach_5g", ">=", 1.0, ("y",)),
    ]
    total = float(pop.sum())
    picks = {}
    for method in ("lazy", "naive"):
        objs_m = ObjectTable.build(
            grid.n_pixels,
            objs.ids,
            objs.kind,
            objs.county,
            objs.req,
            objs.obj_pix,
            objs.obj_w,
            covered=covered.ravel(),
        )
        state = make_state(grid, pop, covered=covered, objects=objs_m)
        ct = county(total, covered=float(pop[covered == 1].sum()), villages=2.0, targets=targets)
        out = greedy_county(state, ct, fp_from(state, discs), budget=25, method=method)
        picks[method] = ([p.candidate for p in out.picks], out.stop_reason, out.evaluations)
    assert picks["lazy"][:2] == picks["naive"][:2]
    assert len(picks["lazy"][0]) >= 3
    assert picks["lazy"][2] < picks["naive"][2]


def test_partial_credit_reaches_a_village_that_no_single_site_reaches():
    grid = make_grid(10, 20)
    pop = np.zeros(grid.shape, np.float32)
    village_pix = np.ravel_multi_index((np.full(10, 5), np.arange(5, 15)), grid.shape)
    pop.ravel()[village_pix] = 10.0  # 100 persons in a row of 10 pixels
    objs = ObjectTable.build(
        grid.n_pixels, ["village:1"], [1], [1], [0.5], [village_pix], [np.full(10, 10.0)]
    )
    state = make_state(grid, pop, objects=objs)
    # each site covers 3 of the 10 pixels (30 %): two are needed to reach the 50 % rule
    discs = [
        (village_pix[0:3], np.full(3, -80, np.float32)),
        (village_pix[3:6], np.full(3, -80, np.float32)),
        (village_pix[7:10], np.full(3, -80, np.float32)),
        (np.array([0]), np.array([-80], np.float32)),  # nobody, no village
    ]
    ct = county(
        100.0, villages=1.0, targets=[Target("village_reach_5g", ">=", 1.0, ("fujian-2024",))]
    )
    out = greedy_county(state, ct, fp_from(state, discs), budget=10)
    assert len(out.picks) == 2
    assert [p.added_villages for p in out.picks] == [0, 1]
    assert out.stop_reason == "targets_met"
    assert ct.values(state)["village_reach_5g"] == 1.0


def test_density_phase_adds_capacity_sites_until_the_ratio_passes():
    grid = make_grid(30, 30)
    pop = np.full(grid.shape, 20.0, np.float32)  # 18,000 persons, all covered at −100 dBm
    best = np.full(grid.shape, -100.0, np.float32)
    state = make_state(grid, pop, covered=np.ones(grid.shape, np.uint8), best=best)
    discs = [disc_footprint(grid, r, c, 6) for r in (5, 15, 25) for c in (5, 15, 25)]
    discs.append(
        disc_footprint(grid, 15, 15, 6, rsrp0=-120.0)
    )  # weaker than the network everywhere
    # 2 sites per 10,000 persons needs 4 sites (3.6 rounds up); the county has 1
    ct = county(
        18000.0,
        covered=18000.0,
        sites=1.0,
        targets=[Target("sites_5g_per_10k", ">=", 2.0, ("miit-gigabit-city-2021",))],
    )
    out = greedy_county(state, ct, fp_from(state, discs), budget=10)
    assert len(out.picks) == 3 and out.stop_reason == "targets_met"
    assert all(p.purpose == "density" and p.served_population > 0 for p in out.picks)
    assert out.picks[0].candidate == 4  # the centre site serves the most pixels (no edge cut)
    assert 9 not in [p.candidate for p in out.picks]
    assert ct.values(state)["sites_5g_per_10k"] == pytest.approx(4 / 1.8)


def test_stop_message_keeps_the_coverage_reason_when_density_spends_the_budget():
    grid = make_grid(20, 20)
    pop = np.full(grid.shape, 10.0, np.float32)
    covered = np.zeros(grid.shape, np.uint8)
    covered[:, :10] = 1  # the west half is covered at -100 dBm, the east half by nothing
    best = np.where(covered == 1, -100.0, np.nan).astype(np.float32)
    state = make_state(grid, pop, covered=covered, best=best)
    discs = [disc_footprint(grid, 10, 3, 2), disc_footprint(grid, 10, 6, 2)]  # west half only
    ct = county(
        4000.0,
        covered=2000.0,
        targets=[
            Target("pop_coverage_5g", ">=", 0.9, ("a",)),
            Target("sites_5g_per_10k", ">=", 5.0, ("b",)),
        ],
    )
    out = greedy_county(state, ct, fp_from(state, discs), budget=1)
    assert [p.purpose for p in out.picks] == ["density"]
    assert out.stop_reason == "budget"
    assert (
        "no remaining candidate adds coverage towards pop_coverage_5g (short by 1,600 persons)"
        in out.stop_message
    )
    assert out.stop_message.endswith("the budget of 1 new sites is spent")


def test_density_phase_stops_when_no_site_serves_anyone_better():
    grid = make_grid(10, 10)
    pop = np.full(grid.shape, 100.0, np.float32)
    state = make_state(
        grid,
        pop,
        covered=np.ones(grid.shape, np.uint8),
        best=np.full(grid.shape, -60.0, np.float32),
    )
    ct = county(
        10000.0, covered=10000.0, sites=1.0, targets=[Target("sites_5g_per_10k", ">=", 3.0, ("x",))]
    )
    out = greedy_county(state, ct, fp_from(state, [disc_footprint(grid, 5, 5, 3)]), budget=10)
    assert out.picks == [] and out.stop_reason == "no_gain"
    assert "2 sites" in out.stop_message


def test_targets_take_the_strictest_failing_threshold_per_indicator():
    from gigacov.planning.targets import targets_from_compliance

    cols = ["admin_code", "level", "standard", "indicator", "op", "threshold", "status"]
    comp = pd.DataFrame(
        [
            ("350582", "county", "fujian-2024", "village_reach_5g", ">=", 0.97, "fail"),
            ("350582", "county", "national-14th-fyp-2025", "village_reach_5g", ">=", 0.8, "fail"),
            ("350582", "county", "miit-gigabit-city-2021", "sites_5g_per_10k", ">=", 12.0, "pass"),
            ("350582", "county", "x", "key_place_reach_5g", ">", 0.95, "fail"),
            ("350582", "county", "y", "key_place_reach_5g", ">=", 0.95, "fail"),
            ("350582", "county", "z", "household_gigabit_coverage", ">=", 0.8, "fail"),  # not radio
            (
                "350582",
                "city",
                "fujian-2024",
                "pop_coverage_5g",
                ">=",
                0.9,
                "fail",
            ),  # not a county row
            (
                "350583",
                "county",
                "fujian-2024",
                "village_reach_5g",
                ">=",
                0.97,
                "fail",
            ),  # not asked for
        ],
        columns=cols,
    )
    t = targets_from_compliance(comp, {"350582"})
    assert set(t) == {"350582"}
    assert set(t["350582"]) == {"village_reach_5g", "key_place_reach_5g"}
    v = t["350582"]["village_reach_5g"]
    assert (v.op, v.threshold, v.standards) == (
        ">=",
        0.97,
        ("fujian-2024", "national-14th-fyp-2025"),
    )
    assert t["350582"]["key_place_reach_5g"].op == ">"  # strict beats non-strict at the same value


def test_needed_counts_follow_the_comparison():
    c = county(
        10_000.0,
        sites=10.0,
        key_places=3.0,
        villages=40.0,
        targets=[
            Target("sites_5g_per_10k", ">=", 12.0, ("a",)),
            Target("key_place_reach_5g", ">=", 0.95, ("b",)),
            Target("village_reach_5g", ">", 0.8, ("c",)),
        ],
    )
    state = make_state(make_grid(2, 2), np.zeros((2, 2), np.float32))
    rem = c.remaining(state)
    assert rem["sites_5g_per_10k"] == 2.0  # 12 per 10,000 persons
    assert rem["key_place_reach_5g"] == 3.0  # 0.95 of 3 places needs all 3
    assert rem["village_reach_5g"] == 33.0  # strictly above 80 % of 40 needs 33
    assert set(c.unmet(state)) == {"sites_5g_per_10k", "key_place_reach_5g", "village_reach_5g"}


def test_key_place_pixel_weights_for_points_lines_and_polygons():
    from gigacov.planning.objects import key_place_pixels

    grid = make_grid(10, 10)
    p, w, kind = key_place_pixels(shapely.Point(*pix_xy(grid, 3, 4)), grid)
    assert kind == "point" and p.tolist() == [34] and w.tolist() == [1.0]
    # a 300 m road along row 5 from the left edge of column 2 to the left edge of column 5
    y = Y1 - 5.5 * RES
    p, w, kind = key_place_pixels(shapely.LineString([(X0 + 200, y), (X0 + 500, y)]), grid)
    assert kind == "line"
    per_pixel = pd.Series(w).groupby(p).sum()
    assert per_pixel.index.tolist() == [52, 53, 54] and np.allclose(per_pixel, 100.0)
    # a polygon holding the centres of a 2 × 3 pixel block
    poly = shapely.box(X0 + 100, Y1 - 300, X0 + 400, Y1 - 100)
    p, w, kind = key_place_pixels(poly, grid)
    assert kind == "polygon" and sorted(p.tolist()) == [11, 12, 13, 21, 22, 23]
    tiny = shapely.box(X0 + 110, Y1 - 140, X0 + 120, Y1 - 130)  # between pixel centres
    p, _, _ = key_place_pixels(tiny, grid)
    assert p.tolist() == [11]


# ------------------------------------------------------------------------------------------------
# Candidates
# ------------------------------------------------------------------------------------------------


def test_grid_candidates_at_multiples_of_the_spacing_inside_the_county():
    poly = shapely.box(1000.0, 2000.0, 2600.0, 3100.0)
    x, y = grid_candidates(poly, 500.0)
    assert sorted(set(x)) == [1500.0, 2000.0, 2500.0]
    assert sorted(set(y)) == [2500.0, 3000.0]
    assert len(x) == 6 and y[0] == 3000.0  # north first
    tiny = shapely.box(1010.0, 2010.0, 1020.0, 2020.0)
    x, y = grid_candidates(tiny, 500.0)
    assert len(x) == 1 and tiny.contains(shapely.Point(x[0], y[0]))
    with pytest.raises(ConfigError, match="candidate_spacing_m"):
        grid_candidates(poly, 0.0)


#: A new 5G macro site's radio values (the built-in defaults) for :func:`macro_cells`.
MACRO = dict(
    height_m=30.0,
    sectors=3,
    freq_mhz=3500.0,
    bandwidth_mhz=100.0,
    scs_khz=30.0,
    eirp_dbm=61.0,
    beamwidth_deg=65.0,
    tilt_deg=6.0,
)


def macro_cells(ids, lon, lat, county: str, **radio) -> pd.DataFrame:
    """:func:`candidate_cells` with the values of :data:`MACRO` unless ``radio`` says otherwise."""
    lon, lat = np.asarray(lon, np.float64), np.asarray(lat, np.float64)
    return candidate_cells(list(ids), lon, lat, county, **(MACRO | radio))


def test_candidate_cells_three_sectors_or_omni():
    cells = macro_cells(["A", "B"], [118.5, 118.6], [24.8, 24.9], "350582", year=2024)
    assert list(cells.columns) == list(CELL_COLUMNS)
    assert cells["azimuth_deg"].tolist() == [0.0, 120.0, 240.0] * 2
    assert cells["site_id"].tolist() == ["A"] * 3 + ["B"] * 3
    assert (cells["n_rb"] == 273).all()  # 100 MHz at 30 kHz, TS 38.101-1 Table 5.3.2-1
    omni_2600 = dict(height_m=25.0, sectors=1, freq_mhz=2600.0, eirp_dbm=58.0, tilt_deg=4.0)
    omni = macro_cells(["A"], [118.5], [24.8], "350582", bandwidth_mhz=40.0, **omni_2600)
    assert (
        len(omni) == 1 and math.isnan(omni["azimuth_deg"].iloc[0]) and omni["n_rb"].iloc[0] == 106
    )
    with pytest.raises(ConfigError, match="bandwidth_mhz 33.0"):
        macro_cells(["A"], [118.5], [24.8], "350582", bandwidth_mhz=33.0, **omni_2600)


def test_read_candidates_csv_gcj02_and_geojson(tmp_path):
    from gigacov.crs import wgs84_to_gcj02

    lon, lat = np.array([118.58, 118.60]), np.array([24.80, 24.82])
    glon, glat = wgs84_to_gcj02(lon, lat)
    p = tmp_path / "cands.csv"
    pd.DataFrame({"编号": ["T1", "T2"], "经度": glon, "纬度": glat, "高度": ["35", ""]}).to_csv(
        p, index=False, encoding="gb18030"
    )
    c = read_candidates(p, "gcj02")
    assert c["candidate_id"].tolist() == ["T1", "T2"]
    np.testing.assert_allclose(c["lon"], lon, atol=1e-8)
    np.testing.assert_allclose(c["lat"], lat, atol=1e-8)
    assert c["height_m"].iloc[0] == 35.0 and math.isnan(c["height_m"].iloc[1])
    gj = tmp_path / "c.geojson"
    gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=gpd.points_from_xy(lon, lat), crs=4326).to_file(
        gj
    )
    c2 = read_candidates(gj)
    np.testing.assert_allclose(c2["lon"], lon)
    assert c2["candidate_id"].tolist() == ["C1", "C2"] and c2["name"].tolist() == ["a", "b"]


def test_read_candidates_errors_name_file_row_and_column(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("id,lon,lat\nA,118.5,24.8\nB,east,24.9\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv: row 3 column 'lon': 'east' is not a number"):
        read_candidates(p)
    p.write_text("id,lon,lat\nA,24.8,118.5\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2: .*swapped"):
        read_candidates(p)
    p.write_text("id,x_coord\nA,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="longitude and latitude columns"):
        read_candidates(p)
    p.write_text("id,lon,lat\nA,118.5,24.8\nA,118.6,24.8\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate candidate id 'A'"):
        read_candidates(p)
    gj = tmp_path / "lines.geojson"
    gpd.GeoDataFrame(
        geometry=[shapely.LineString([(118.5, 24.8), (118.6, 24.8)])], crs=4326
    ).to_file(gj)
    with pytest.raises(
        InputError, match="row 2 column 'geometry': expected a point, got 'LineString'"
    ):
        read_candidates(gj)
    with pytest.raises(InputError, match="does not exist"):
        read_candidates(tmp_path / "nope.csv")


# ------------------------------------------------------------------------------------------------
# plan() on a hand-built run (disc footprints)
# ------------------------------------------------------------------------------------------------


def disc_footprint_fn(grid: Grid, radius_m: float):
    """Per-cell RSRP windows: −70 dBm at the site, −1 dB per 100 m, nothing beyond ``radius_m``."""

    def fn(cells: pd.DataFrame):
        x, y = grid.lonlat_to_xy(cells["lon"].to_numpy(float), cells["lat"].to_numpy(float))
        out = []
        for xi, yi in zip(x, y, strict=True):
            tile = grid.window_around(xi, yi, radius_m)
            if tile is None:
                out.append((None, np.empty((0, 0), np.float32)))
                continue
            xs, ys = grid.centres(tile)
            d = np.hypot(xs[None, :] - xi, ys[:, None] - yi)
            out.append(
                (tile, np.where(d <= radius_m, -70.0 - d / 100.0, np.nan).astype(np.float32))
            )
        return out

    return fn


def empty_cells() -> pd.DataFrame:
    return macro_cells([], [], [], "", sectors=1)


def build_run(
    tmp_path: Path,
    *,
    pop,
    covered,
    county_rows,
    village_rows=(),
    key_places=None,
    compliance_rows=(),
    planning=None,
    cells=None,
    county_cols=None,
):
    """A RunResult as the pipeline would hand it to planning, built by hand on a small grid."""
    h, w = pop.shape
    grid = make_grid(h, w)
    scn = scenario_from_dict(
        {
            "scenario": {"name": "plan-test", "year": 2024, "synthetic": True},
            "sites": {"path": "sites.csv"},
            "planning": planning or {},
        },
        base_dir=tmp_path,
    )

    def box(r0, c0, r1, c1):
        x0, y0 = X0 + c0 * RES, Y1 - r1 * RES
        x1, y1 = X0 + c1 * RES, Y1 - r0 * RES
        return shapely.box(x0, y0, x1, y1)

    rows = []
    for code, name, rc in county_rows:
        rows.append(
            {
                "admin_code": code,
                "name": name,
                "name_en": "",
                "level": "county",
                "parent_code": "350500",
                "geometry": box(*rc),
            }
        )
    for code, parent, rc in village_rows:
        rows.append(
            {
                "admin_code": code,
                "name": code,
                "name_en": "",
                "level": "village",
                "parent_code": parent,
                "geometry": box(*rc),
            }
        )
    boundaries = gpd.GeoDataFrame(rows, geometry="geometry", crs=UTM50).to_crs(4326)
    cells = empty_cells() if cells is None else cells
    inputs = Inputs(scenario=scn, boundaries=boundaries, cells=cells, key_places=key_places)
    rsrp = np.where(covered == 1, -90.0, np.nan).astype(np.float32)
    cov = CoverageResult(
        tech="5G",
        grid=grid,
        rsrp_dbm=rsrp,
        sinr_db=np.where(covered == 1, 10.0, np.nan).astype(np.float32),
        server=np.where(covered == 1, 0, -1).astype(np.int32),
        covered=covered.astype(np.uint8),
        cells=cells,
        params=RadioParams(),
    )
    county_cols = county_cols or {}
    units = {
        "county": pd.DataFrame(
            [{"admin_code": c, "name": n, **county_cols.get(c, {})} for c, n, _ in county_rows]
        )
    }
    indicators = SimpleNamespace(units=units, key_places=None)
    compliance = pd.DataFrame(
        compliance_rows,
        columns=[
            "admin_code",
            "name",
            "level",
            "standard",
            "indicator",
            "value",
            "op",
            "threshold",
            "status",
        ],
    )
    return RunResult(
        scenario=scn,
        run_dir=tmp_path / "run",
        inputs=inputs,
        grid=grid,
        population=pop,
        coverage={"5G": cov},
        indicators=indicators,
        compliance=compliance,
    )


def two_village_run(tmp_path, planning=None, threshold=0.95):
    pop = np.zeros((40, 60), np.float32)
    pop[8:13, 8:13] = 100.0  # village A, 2,500 persons
    pop[8:13, 43:48] = 60.0  # village B, 1,500 persons
    covered = np.zeros(pop.shape, np.uint8)
    grid = make_grid(*pop.shape)
    cands = tmp_path / "candidates.csv"
    pts = {"useless-1": (30, 30), "B-centre": (10, 45), "useless-2": (35, 5), "A-centre": (10, 10)}
    lonlat = {k: pix_lonlat(grid, *v) for k, v in pts.items()}
    pd.DataFrame(
        {
            "id": list(pts),
            "lon": [v[0] for v in lonlat.values()],
            "lat": [v[1] for v in lonlat.values()],
        }
    ).to_csv(cands, index=False)
    planning = {"candidates": str(cands), "verify": False, **(planning or {})}
    run = build_run(
        tmp_path,
        pop=pop,
        covered=covered,
        county_rows=[("350582", "晋江市", (0, 0, 40, 60))],
        compliance_rows=[
            (
                "350582",
                "晋江市",
                "county",
                "fujian-2024",
                "pop_coverage_5g",
                0.0,
                ">=",
                threshold,
                "fail",
            ),
            (
                "350582",
                "晋江市",
                "county",
                "fujian-2024",
                "sites_5g_per_10k",
                5.0,
                ">=",
                1.0,
                "pass",
            ),
        ],
        planning=planning,
        county_cols={
            "350582": {
                "population": 4000.0,
                "covered_population_5g": 0.0,
                "sites_5g": 2,
                "pop_coverage_5g": 0.0,
            }
        },
    )
    return run, grid


def test_plan_two_villages_end_to_end_with_disc_footprints(tmp_path):
    run, grid = two_village_run(tmp_path)
    result = plan(run, footprint_fn=disc_footprint_fn(grid, 400.0))
    rec = result.recommended
    assert rec["candidate_id"].tolist() == ["A-centre", "B-centre"]
    assert rec["rank"].tolist() == [1, 2]
    assert rec["added_population"].tolist() == [2500.0, 1500.0]
    assert rec["site_id"].tolist() == ["PLAN-350582-001", "PLAN-350582-002"]
    assert rec["pop_coverage_5g_after"].tolist() == [0.625, 1.0]
    assert (
        rec["azimuths_deg"].iloc[0] == "0/120/240"
        and rec["candidate_source"].iloc[0] == "candidates.csv"
    )
    assert list(rec.columns) == RECOMMENDED_COLUMNS + ["geometry"]
    a_lon, a_lat = pix_lonlat(grid, 10, 10)
    assert rec.geometry.iloc[0].x == pytest.approx(a_lon) and rec.geometry.iloc[
        0
    ].y == pytest.approx(a_lat)
    # the new cells: three sectors per site, ready to append to the run's cells
    assert len(result.new_cells) == 6 and list(result.new_cells.columns) == list(CELL_COLUMNS)
    # gaps before planning: the two villages, A first
    assert result.gaps["population"].tolist() == [2500.0, 1500.0]
    s = result.summary()
    json.dumps(s)  # JSON-able
    c = s["counties"][0]
    assert (c["status_before"], c["status_after"], c["sites_added"], c["people_covered"]) == (
        "fail",
        "pass",
        2,
        4000.0,
    )
    assert c["indicators"]["pop_coverage_5g"]["before"] == 0.0
    assert c["indicators"]["pop_coverage_5g"]["after"] == 1.0
    assert c["indicators"]["pop_coverage_5g"]["status_after"] == "pass"
    assert c["indicators"]["sites_5g_per_10k"] == {
        "before": 5.0,
        "after": 10.0,
        "targeted": False,
        "op": None,
        "threshold": None,
        "standards": [],
        "status_before": None,
        "status_after": None,
    }
    assert c["stop_reason"] == "targets_met" and c["verified"] is None


def test_plan_grid_candidates_reach_key_places_and_villages(tmp_path):
    pop = np.zeros((30, 30), np.float32)
    pop[2:6, 2:6] = 50.0  # 800 persons, village 350582001001
    pop[20:24, 20:24] = 5.0  # 80 persons, village 350582001002
    grid = make_grid(*pop.shape)
    kp_xy = pix_xy(grid, 25.0, 3.0)
    key_places = gpd.GeoDataFrame(
        {
            "place_id": ["K1"],
            "name": ["泉州站"],
            "category": ["railway"],
            "admin_code": ["350582"],
            "approximate": [False],
        },
        geometry=[shapely.Point(*kp_xy)],
        crs=UTM50,
    ).to_crs(4326)
    run = build_run(
        tmp_path,
        pop=pop,
        covered=np.zeros(pop.shape, np.uint8),
        county_rows=[("350582", "晋江市", (0, 0, 30, 30))],
        village_rows=[
            ("350582001001", "350582", (2, 2, 6, 6)),
            ("350582001002", "350582", (20, 20, 24, 24)),
        ],
        key_places=key_places,
        compliance_rows=[
            (
                "350582",
                "晋江市",
                "county",
                "fujian-2024",
                "village_reach_5g",
                0.0,
                ">=",
                1.0,
                "fail",
            ),
            (
                "350582",
                "晋江市",
                "county",
                "miit-gigabit-city-2021",
                "key_place_reach_5g",
                0.0,
                ">=",
                0.95,
                "fail",
            ),
        ],
        planning={"candidate_spacing_m": 500.0, "verify": False},
        county_cols={
            "350582": {
                "population": 880.0,
                "covered_population_5g": 0.0,
                "sites_5g": 0,
                "key_places": 1,
                "key_places_reached_5g": 0,
                "villages": 2,
                "villages_reached_5g": 0,
            }
        },
    )
    result = plan(run, footprint_fn=disc_footprint_fn(grid, 300.0))
    rec = result.recommended
    assert len(rec) == 3
    assert rec["added_key_places"].sum() == 1 and rec["added_villages"].sum() == 2
    c = result.summary()["counties"][0]
    assert (
        c["status_after"] == "pass" and c["key_places_reached"] == 1 and c["villages_reached"] == 2
    )
    assert c["indicators"]["village_reach_5g"]["after"] == 1.0
    assert c["indicators"]["key_place_reach_5g"]["after"] == 1.0
    # every pick is a grid candidate at a multiple of 500 m inside the county
    x, y = grid.lonlat_to_xy(rec["lon"].to_numpy(), rec["lat"].to_numpy())
    np.testing.assert_allclose(np.round(x / 500.0) * 500.0, x, atol=1e-3)
    np.testing.assert_allclose(np.round(y / 500.0) * 500.0, y, atol=1e-3)


def test_plan_respects_budget_and_county_selection(tmp_path):
    run, grid = two_village_run(tmp_path, planning={"budget": 1})
    result = plan(run, footprint_fn=disc_footprint_fn(grid, 400.0))
    assert result.recommended["candidate_id"].tolist() == ["A-centre"]
    c = result.summary()["counties"][0]
    assert (c["status_after"], c["stop_reason"]) == ("fail", "budget")
    with pytest.raises(
        ConfigError, match=r"--county '350599' is not a county of the region; valid codes: 350582"
    ):
        plan(run, counties=["350599"], footprint_fn=disc_footprint_fn(grid, 400.0))


def test_plan_only_the_requested_counties(tmp_path):
    pop = np.zeros((20, 40), np.float32)
    pop[5:8, 5:8] = 10.0  # west county
    pop[5:8, 25:28] = 20.0  # east county
    grid = make_grid(*pop.shape)
    run = build_run(
        tmp_path,
        pop=pop,
        covered=np.zeros(pop.shape, np.uint8),
        county_rows=[("350582", "晋江市", (0, 0, 20, 20)), ("350583", "南安市", (0, 20, 20, 40))],
        compliance_rows=[
            ("350582", "晋江市", "county", "s", "pop_coverage_5g", 0.0, ">=", 0.5, "fail"),
            ("350583", "南安市", "county", "s", "pop_coverage_5g", 0.0, ">=", 0.5, "fail"),
        ],
        planning={"candidate_spacing_m": 300.0, "verify": False},
        county_cols={
            "350582": {"population": 90.0, "covered_population_5g": 0.0, "sites_5g": 0},
            "350583": {"population": 180.0, "covered_population_5g": 0.0, "sites_5g": 0},
        },
    )
    result = plan(run, counties=["350583"], footprint_fn=disc_footprint_fn(grid, 250.0))
    assert [c["admin_code"] for c in result.summary()["counties"]] == ["350583"]
    assert set(result.recommended["county"]) == {"350583"}
    assert result.gaps["admin_code"].tolist() == ["350583"] and result.gaps[
        "population"
    ].tolist() == [180.0]
    both = plan(run, footprint_fn=disc_footprint_fn(grid, 250.0))
    assert both.gaps["admin_code"].tolist() == ["350583", "350582"]
    assert [c["status_after"] for c in both.summary()["counties"]] == ["pass", "pass"]


def test_plan_passing_county_needs_nothing(tmp_path):
    run, grid = two_village_run(tmp_path)
    run.compliance = run.compliance.assign(status="pass")
    result = plan(run, footprint_fn=disc_footprint_fn(grid, 400.0))
    assert len(result.recommended) == 0
    county = result.summary()["counties"][0]
    assert (county["stop_reason"], county["status_before"], county["status_after"]) == (
        "not_failing",
        "pass",
        "pass",
    )
    assert len(result.gaps) == 2  # gaps are reported all the same


@pytest.mark.parametrize(
    ("change", "status", "stop_reason", "message"),
    [
        ({"status": "no_data"}, "no_data", "not_failing", "no data"),  # never shown as pass
        (
            {"status": "fail", "op": "<="},
            "fail",
            "not_plannable",
            "upper bounds",
        ),  # sites cannot lower it
    ],
)
def test_plan_county_with_nothing_to_plan_keeps_its_real_status(
    tmp_path, change, status, stop_reason, message
):
    run, grid = two_village_run(tmp_path)
    run.compliance = run.compliance.assign(**change)
    result = plan(run, footprint_fn=disc_footprint_fn(grid, 400.0))
    county = result.summary()["counties"][0]
    assert len(result.recommended) == 0
    assert (county["status_before"], county["status_after"], county["stop_reason"]) == (
        status,
        status,
        stop_reason,
    )
    assert message in county["stop_message"]


def test_plan_refuses_a_grid_over_the_memory_budget(tmp_path):
    from gigacov.errors import ResourceError

    run, grid = two_village_run(tmp_path)
    run.scenario = run.scenario.replace(compute={"memory_budget_mb": 0})
    with pytest.raises(
        ResourceError, match=r"planning needs 0 MiB for a 60×40 grid .*memory_budget_mb"
    ):
        plan(run, footprint_fn=disc_footprint_fn(grid, 400.0))


def test_plan_needs_population_and_5g(tmp_path):
    run, _ = two_village_run(tmp_path)
    run.population = None
    with pytest.raises(RunError, match="population"):
        plan(run)
    run, _ = two_village_run(tmp_path)
    run.coverage = {}
    with pytest.raises(RunError, match="5G coverage"):
        plan(run)


def test_write_plan_outputs_and_print(tmp_path, capsys):
    run, grid = two_village_run(tmp_path)
    result = plan(run, footprint_fn=disc_footprint_fn(grid, 400.0))
    out = write_plan(result, tmp_path / "run")
    assert set(out) == {"gaps", "recommended_csv", "recommended_gpkg"}
    gaps = gpd.read_file(out["gaps"], layer="gaps")
    assert gaps.crs.to_epsg() == 4326 and gaps["population"].tolist() == [2500.0, 1500.0]
    csv = pd.read_csv(out["recommended_csv"], encoding="utf-8-sig", dtype={"county": str})
    assert (
        csv["county_name"].tolist() == ["晋江市", "晋江市"]
        and csv["county"].tolist() == ["350582"] * 2
    )
    rec = gpd.read_file(out["recommended_gpkg"], layer="recommended_sites")
    assert rec["site_id"].tolist() == ["PLAN-350582-001", "PLAN-350582-002"]
    assert not list((tmp_path / "run").glob(".*partial*"))
    print_plan(result)
    text = " ".join(capsys.readouterr().out.split())
    assert "晋江市" in text and "pop_coverage_5g" in text and "2 new sites recommended" in text
    # an empty plan still writes valid, empty layers
    run.compliance = run.compliance.assign(status="pass")
    run.population = np.zeros_like(run.population)
    empty = plan(run, footprint_fn=disc_footprint_fn(grid, 400.0))
    out = write_plan(empty, tmp_path / "empty")
    assert len(gpd.read_file(out["gaps"])) == 0 and len(gpd.read_file(out["recommended_gpkg"])) == 0


# ------------------------------------------------------------------------------------------------
# End to end with the real radio engine, indicators and compliance
# ------------------------------------------------------------------------------------------------

STANDARD_TOML = """
id = "plan-test"
version = "1"
year = 2024
issuer = "test"
source = "synthetic test standard"
[title]
zh = "测试标准"
en = "test standard"
[[indicators]]
key = "pop_coverage_5g"
op = ">="
threshold = {pop_threshold}
levels = ["county"]
[[indicators]]
key = "village_reach_5g"
op = ">="
threshold = 1.0
levels = ["county"]
[[indicators]]
key = "key_place_reach_5g"
op = ">="
threshold = 1.0
levels = ["county"]
[[indicators]]
key = "sites_5g_per_10k"
op = ">="
threshold = 2.0
levels = ["county"]
"""


def real_run(tmp_path: Path, planning: dict | None = None, pop_threshold: float = 0.9):
    """A small synthetic county (5 × 7 km) through the real coverage, indicator and compliance
    stages: a town with one 5G site, three villages and a railway station without 5G."""
    from gigacov.compliance import evaluate, load_standards
    from gigacov.indicators import compute_indicators
    from gigacov.radio import compute_coverage

    h, w = 50, 70
    grid = make_grid(h, w)
    rr, cc = np.mgrid[0:h, 0:w]

    def blob(r, c, s, peak):
        return peak * np.exp(-((rr - r) ** 2 + (cc - c) ** 2) / (2 * s * s))

    pop = blob(25, 20, 4, 150) + blob(10, 55, 1.5, 40) + blob(40, 60, 1.5, 40) + blob(8, 8, 1.5, 40)
    pop = np.where(pop > 0.5, pop, 0.0).astype(np.float32)

    def box(r0, c0, r1, c1):
        return shapely.box(X0 + c0 * RES, Y1 - r1 * RES, X0 + c1 * RES, Y1 - r0 * RES)

    rows = [
        {
            "admin_code": "350582",
            "name": "晋江市",
            "name_en": "",
            "level": "county",
            "parent_code": "350500",
            "geometry": box(0, 0, h, w),
        }
    ]
    for i, (r, c) in enumerate([(10, 55), (40, 60), (8, 8)]):
        rows.append(
            {
                "admin_code": f"350582{i + 1:03d}001",
                "name": f"村{i}",
                "name_en": "",
                "level": "village",
                "parent_code": "350582",
                "geometry": box(r - 3, c - 3, r + 4, c + 4),
            }
        )
    boundaries = gpd.GeoDataFrame(rows, geometry="geometry", crs=UTM50).to_crs(4326)
    key_places = gpd.GeoDataFrame(
        {
            "place_id": ["K1"],
            "name": ["晋江站"],
            "category": ["railway"],
            "admin_code": ["350582"],
            "approximate": [False],
        },
        geometry=[shapely.Point(*pix_xy(grid, 45, 35))],
        crs=UTM50,
    ).to_crs(4326)
    scn = scenario_from_dict(
        {
            "scenario": {
                "name": "plan-e2e",
                "year": 2024,
                "synthetic": True,
                "standards": [str(tmp_path / "std.toml")],
            },
            "sites": {"path": "sites.csv"},
            "planning": {"candidate_spacing_m": 500.0, "budget": 40, **(planning or {})},
        },
        base_dir=tmp_path,
    )
    (tmp_path / "std.toml").write_text(
        STANDARD_TOML.replace("{pop_threshold}", repr(pop_threshold)), encoding="utf-8"
    )
    lon, lat = pix_lonlat(grid, 25, 20)
    cells = macro_cells(["S1"], [lon], [lat], "350582", year=2022)
    inputs = Inputs(scenario=scn, boundaries=boundaries, cells=cells, key_places=key_places)
    from gigacov.radio import RadioParams as RP

    params = RP.from_section(scn.radio, "5G")
    cov = compute_coverage(cells, grid, params, population=pop)
    ind = compute_indicators(inputs, grid, pop, {"5G": cov})
    standards = load_standards([str(tmp_path / "std.toml")])
    comp = evaluate(ind, standards)
    run = RunResult(
        scenario=scn,
        run_dir=tmp_path / "run",
        inputs=inputs,
        grid=grid,
        population=pop,
        coverage={"5G": cov},
        indicators=ind,
        standards=standards,
        compliance=comp,
    )
    return run, params


@pytest.mark.parametrize(
    ("pop_threshold", "spacing_m", "rounds"),
    [
        (0.9, 300.0, 0),
        # Here the greedy search, which ignores the new sites' interference, believes 0.97 is
        # reached; the coverage engine disagrees and a verification round adds sites.
        (0.97, 500.0, 1),
    ],
)
def test_recommended_sites_make_the_county_pass_in_the_coverage_engine(
    tmp_path, pop_threshold, spacing_m, rounds
):
    from gigacov.compliance import evaluate
    from gigacov.indicators import compute_indicators
    from gigacov.radio import compute_coverage

    run, params = real_run(
        tmp_path, planning={"candidate_spacing_m": spacing_m}, pop_threshold=pop_threshold
    )
    before = run.compliance.set_index("indicator")["status"]
    assert (before == "fail").all()  # all four coverage indicators fail
    result = plan(run)
    county_plan = result.summary()["counties"][0]
    assert county_plan["status_after"] == "pass" and county_plan["verified"] is True
    assert county_plan["key_places_reached"] == 1 and county_plan["villages_reached"] == 3
    rec = result.recommended
    assert rec["verification_round"].max() == rounds, "the radio engine changed: pick another case"
    assert (
        rec["added_population"]
        + rec["served_population"]
        + rec["added_key_places"]
        + rec["added_villages"]
        > 0
    ).all()
    # Independent check: the run's cells plus the recommended ones, through the same stages.
    cells = pd.concat([run.inputs.cells, result.new_cells], ignore_index=True)
    cov = compute_coverage(cells, run.grid, params, population=run.population)
    inputs = Inputs(
        scenario=run.scenario,
        boundaries=run.inputs.boundaries,
        cells=cells,
        key_places=run.inputs.key_places,
    )
    after = evaluate(
        compute_indicators(inputs, run.grid, run.population, {"5G": cov}), run.standards
    )
    after = after[after["admin_code"] == "350582"].set_index("indicator")
    assert (after.loc[list(before.index), "status"] == "pass").all(), after[
        ["value", "threshold", "status"]
    ]
    assert after.loc["sites_5g_per_10k", "value"] == pytest.approx(
        county_plan["indicators"]["sites_5g_per_10k"]["after"]
    )


def test_pipeline_end_to_end_rerun_with_recommended_sites_passes(tmp_path):
    """gigacov.pipeline.run on files written here; the sites file plus the recommended sites,
    run again, makes every targeted indicator of the county pass."""
    import rasterio

    from gigacov.pipeline import run as run_pipeline

    (tmp_path / "made").mkdir()
    made, _ = real_run(tmp_path / "made")
    grid = made.grid
    b = made.inputs.boundaries
    b[b["level"] == "county"].to_file(tmp_path / "counties.gpkg")
    b[b["level"] == "village"].to_file(tmp_path / "villages.gpkg")
    made.inputs.key_places.to_file(tmp_path / "key_places.geojson")
    with rasterio.open(
        tmp_path / "population.tif",
        "w",
        driver="GTiff",
        height=grid.height,
        width=grid.width,
        count=1,
        dtype="float32",
        crs=grid.crs,
        transform=grid.transform,
    ) as ds:
        ds.write(made.population, 1)
    site_cols = [
        "site_id",
        "cell_id",
        "lon",
        "lat",
        "tech",
        "freq_mhz",
        "bandwidth_mhz",
        "scs_khz",
        "height_m",
        "azimuth_deg",
        "beamwidth_deg",
        "tilt_deg",
        "eirp_dbm",
    ]
    made.inputs.cells[site_cols].to_csv(tmp_path / "sites.csv", index=False)
    (tmp_path / "std.toml").write_text(
        STANDARD_TOML.replace("{pop_threshold}", "0.9"), encoding="utf-8"
    )
    toml = """
[scenario]
name = "plan-pipeline"
year = 2024
synthetic = true
region = "350582"
standards = ["std.toml"]
out_dir = "out-{tag}"
[boundaries]
counties = "counties.gpkg"
villages = "villages.gpkg"
[sites]
path = "{sites}"
[population]
raster = "population.tif"
[key_places]
path = "key_places.geojson"
[grid]
resolution_m = 100
crs = "EPSG:32650"
[radio]
technologies = ["5G"]
[planning]
candidate_spacing_m = 300
budget = 40
"""
    (tmp_path / "before.toml").write_text(
        toml.format(tag="before", sites="sites.csv"), encoding="utf-8"
    )
    first = run_pipeline(tmp_path / "before.toml", until="plan")
    targeted = first.compliance[
        (first.compliance["admin_code"] == "350582") & (first.compliance["status"] == "fail")
    ]
    assert set(targeted["indicator"]) == {
        "pop_coverage_5g",
        "village_reach_5g",
        "key_place_reach_5g",
        "sites_5g_per_10k",
    }
    assert {"gaps", "recommended_csv", "recommended_gpkg"} <= set(first.outputs)
    county_plan = first.plan.summary()["counties"][0]
    assert county_plan["status_after"] == "pass" and county_plan["verified"] is True
    written = pd.read_csv(first.outputs["recommended_csv"], encoding="utf-8-sig")
    assert len(written) == county_plan["sites_added"] > 0
    # append the recommended sites to the sites file and run again
    new = first.plan.new_cells[site_cols]
    pd.concat([pd.read_csv(tmp_path / "sites.csv"), new], ignore_index=True).to_csv(
        tmp_path / "sites_plus.csv", index=False
    )
    (tmp_path / "after.toml").write_text(
        toml.format(tag="after", sites="sites_plus.csv"), encoding="utf-8"
    )
    second = run_pipeline(tmp_path / "after.toml", until="check")
    after = second.compliance.set_index(["admin_code", "indicator"])
    for key in targeted["indicator"]:
        assert after.loc[("350582", key), "status"] == "pass", after.loc["350582"]
        assert after.loc[("350582", key), "value"] == pytest.approx(
            county_plan["indicators"][key]["after"], rel=1e-6
        )
