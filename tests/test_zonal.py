"""Tests of gigacov.zonal: hand-checkable grids, NumPy references, exactextract agreement."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from affine import Affine
from support.grids import utm_grid

from gigacov import zonal
from gigacov.errors import ConfigError, InputError
from gigacov.grid import Grid, RasterData, Tile, population_to_grid
from gigacov.ingest.model import Inputs
from gigacov.scenario import scenario_from_dict

# Spurious warning of rasterio's in-memory dataset when rasterising from threads (see zonal.py).
pytestmark = pytest.mark.filterwarnings("ignore:Dataset has no geotransform")

UTM50 = pyproj.CRS.from_epsg(32650)
X0, Y1, RES = 500_000.0, 2_800_000.0, 100.0


def grid4(width: int = 4, height: int = 4) -> Grid:
    return utm_grid(height, width, RES, west=X0, north=Y1, crs=UTM50)


def box(c0: float, r0: float, c1: float, r1: float) -> shapely.Polygon:
    """A rectangle given in pixel units (columns c0..c1, rows r0..r1) of :func:`grid4`."""
    return shapely.box(X0 + c0 * RES, Y1 - r1 * RES, X0 + c1 * RES, Y1 - r0 * RES)


POP = np.arange(16, dtype=np.float32).reshape(4, 4)  # row r, col c holds 4r + c persons


# ------------------------------------------------------------------------------------------------
# Hand-checked answers
# ------------------------------------------------------------------------------------------------


def test_edge_pixels_split_between_two_zones():
    # Zone A: column 0 and the left half of column 1; zone B: the rest. Column 1 is split.
    a, b = box(0, 0, 1.5, 4), box(1.5, 0, 4, 4)
    covered = np.zeros((4, 4), np.uint8)
    covered[:, 1] = 1
    z = zonal.zonal_sums([a, b], grid4(), POP, {"5g": covered}, subpixel=4, workers=1)
    # Column 0 holds 0+4+8+12 = 24 persons, column 1 holds 1+5+9+13 = 28 (half each → 14).
    assert z.population == pytest.approx([24 + 14, 14 + (2 + 6 + 10 + 14) + (3 + 7 + 11 + 15)])
    assert z.area_km2 == pytest.approx([0.06, 0.10])  # 6 and 10 pixels of 0.01 km²
    assert z.covered_area_km2["5g"] == pytest.approx([0.02, 0.02])  # half of column 1 each
    assert z.covered_population["5g"] == pytest.approx([14.0, 14.0])
    assert z.population.sum() == pytest.approx(POP.sum())


def test_quarter_split_and_centre_rule():
    # The edge at x = 1.25 pixels: with 4×4 sub-cells, one quarter of column 1 goes to A.
    a, b = box(0, 0, 1.25, 4), box(1.25, 0, 4, 4)
    z4 = zonal.zonal_sums([a, b], grid4(), POP, subpixel=4, workers=1)
    assert z4.population[0] == pytest.approx(24 + 28 / 4)
    # subpixel = 1 is the plain pixel-centre rule: column 1's centre (1.5) lies in B.
    z1 = zonal.zonal_sums([a, b], grid4(), POP, subpixel=1, workers=1)
    assert z1.population[0] == pytest.approx(24.0)
    assert z1.area_km2 == pytest.approx([0.04, 0.12])


def test_zone_smaller_than_a_subcell_gets_its_exact_area():
    # A 10 m × 10 m square in pixel (row 1, col 1), away from every sub-cell centre
    # (sub-cell centres sit 12.5 m, 37.5 m, ... from the pixel's edges).
    x = X0 + 100.0 + 1.0
    y = Y1 - 200.0 + 1.0
    tiny = shapely.box(x, y, x + 10.0, y + 10.0)
    covered = np.zeros((4, 4), np.uint8)
    covered[1, 1] = 1
    z = zonal.zonal_sums([tiny], grid4(), POP, {"5g": covered}, subpixel=4, workers=1)
    assert z.subcells[0] == 0
    assert z.area_km2[0] == pytest.approx(100.0 / 1e6)
    assert z.population[0] == pytest.approx(POP[1, 1] * 100.0 / 10_000.0)
    assert z.covered_population["5g"][0] == pytest.approx(z.population[0])


def test_zone_outside_the_grid_and_no_population():
    outside = box(10, 10, 11, 11)
    inside = box(0, 0, 2, 2)
    z = zonal.zonal_sums(
        [outside, inside], grid4(), None, {"5g": np.ones((4, 4), np.uint8)}, workers=1
    )
    assert z.area_km2 == pytest.approx([0.0, 0.04])
    assert np.isnan(z.population).all()  # no population raster: NaN, not 0
    assert np.isnan(z.covered_population["5g"]).all()
    assert z.covered_area_km2["5g"] == pytest.approx([0.0, 0.04])


def test_geoseries_in_wgs84_is_reprojected():
    a = box(0, 0, 2, 4)
    wgs = gpd.GeoSeries([a], crs=UTM50).to_crs(4326)
    z = zonal.zonal_sums(wgs, grid4(), POP, subpixel=4, workers=1)
    assert z.population[0] == pytest.approx(POP[:, :2].sum(), rel=1e-6)


def test_rasterize_zones_marks_subcells():
    sub = zonal.rasterize_zones([box(0, 0, 1.5, 4), box(1.5, 0, 4, 4)], grid4(), 4)
    assert sub.shape == (16, 16)
    assert (sub[:, :6] == 0).all() and (sub[:, 6:] == 1).all()
    win = zonal.rasterize_zones([box(0, 0, 1.5, 4)], grid4(), 2, tile=Tile(1, 1, 2, 3))
    assert win.shape == (4, 6)
    assert (win[:, :1] == 0).all() and (win[:, 1:] == -1).all()


@pytest.mark.parametrize("bad", [0, 17, 2.5, True])
def test_subpixel_must_be_a_small_integer(bad):
    with pytest.raises(ConfigError, match=r"\[indicators\] subpixel"):
        zonal.zonal_sums([box(0, 0, 1, 1)], grid4(), POP, subpixel=bad)


def test_raster_shape_must_match_the_grid():
    with pytest.raises(InputError, match="shape"):
        zonal.zonal_sums([box(0, 0, 1, 1)], grid4(), np.zeros((3, 3), np.float32))


# ------------------------------------------------------------------------------------------------
# Kernels against NumPy references
# ------------------------------------------------------------------------------------------------


def reference_zonal(zone_sub, s, pop, masks, n_zones):
    """Obviously-correct reference: every sub-cell adds 1/s² of its pixel to its zone."""
    h, w = pop.shape
    k = masks.shape[0]
    out = np.zeros((n_zones + 1, 2 + 2 * k))
    pr = np.repeat(np.arange(h), s)
    pc = np.repeat(np.arange(w), s)
    cell_pop = np.nan_to_num(pop.astype(np.float64))[pr][:, pc] / (s * s)
    z = zone_sub.astype(np.int64).ravel()
    np.add.at(out[:, 0], z, 1.0 / (s * s))
    np.add.at(out[:, 1], z, cell_pop.ravel())
    for m in range(k):
        cov = (masks[m] != 0)[pr][:, pc].ravel()
        np.add.at(out[:, 2 + m], z, cov / (s * s))
        np.add.at(out[:, 2 + k + m], z, cov * cell_pop.ravel())
    out[0] = 0.0  # zone number 0 = outside
    return out


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32])
@pytest.mark.parametrize("s", [1, 3, 4])
def test_zonal_kernel_matches_numpy_reference(s, dtype):
    rng = np.random.default_rng(7 + s)
    h, w, n, k = 5, 6, 4, 2
    # Blocky zones (mostly uniform pixels) plus random noise on some sub-cells.
    zone_sub = np.repeat(np.repeat(rng.integers(0, n + 1, (h, w)), s, 0), s, 1).astype(dtype)
    noise = rng.random(zone_sub.shape) < 0.1
    zone_sub[noise] = rng.integers(0, n + 1, int(noise.sum()))
    pop = rng.gamma(2.0, 5.0, (h, w)).astype(np.float32)
    pop[0, 0] = np.nan  # missing population counts as 0
    masks = (rng.random((k, h, w)) < 0.5).astype(np.uint8)
    out = np.zeros((n + 1, 2 + 2 * k))
    zonal._zonal_tile_kernel(zone_sub, s, pop, masks, out)
    np.testing.assert_allclose(
        out, reference_zonal(zone_sub, s, pop, masks, n), rtol=1e-12, atol=1e-9
    )


def test_paint_kernel_matches_numpy_reference():
    rng = np.random.default_rng(3)
    s, h, w = 3, 4, 5
    zone_sub = rng.integers(0, 4, (h * s, w * s)).astype(np.uint8)
    density = np.array([0.0, 2.0, 5.0, 11.0])
    out = np.zeros((h, w))
    zonal._paint_tile_kernel(zone_sub, s, density, out)
    ref = density[zone_sub].reshape(h, s, w, s).sum(axis=(1, 3)) / (s * s)
    np.testing.assert_allclose(out, ref)


def test_tiles_and_threads_do_not_change_the_answer():
    rng = np.random.default_rng(11)
    g = grid4(37, 29)
    pop = rng.gamma(1.0, 3.0, g.shape).astype(np.float32)
    cov = (rng.random(g.shape) < 0.4).astype(np.uint8)
    zones = [
        shapely.Point(X0 + 1000, Y1 - 1200).buffer(900.0),
        shapely.Point(X0 + 2600, Y1 - 1500).buffer(1100.0),
        shapely.Polygon([(X0 + 100, Y1 - 2800), (X0 + 3600, Y1 - 2000), (X0 + 3000, Y1 - 2850)]),
    ]
    ref = zonal.zonal_sums(zones, g, pop, {"5g": cov}, subpixel=4, tile_size=1000, workers=1)
    for tile_size, workers in [(7, 1), (16, 2), (5, 2)]:
        z = zonal.zonal_sums(
            zones, g, pop, {"5g": cov}, subpixel=4, tile_size=tile_size, workers=workers
        )
        np.testing.assert_allclose(z.population, ref.population, rtol=1e-12)
        np.testing.assert_allclose(
            z.covered_population["5g"], ref.covered_population["5g"], rtol=1e-12
        )
        np.testing.assert_allclose(z.area_km2, ref.area_km2, rtol=1e-12)


# ------------------------------------------------------------------------------------------------
# Population grid
# ------------------------------------------------------------------------------------------------


def test_spread_population_conserves_each_zone_total():
    zones = [box(0, 0, 1.5, 4), box(1.5, 0, 4, 2.5)]
    pop = zonal.spread_population(zones, [600.0, 1000.0], grid4(), subpixel=4, workers=1)
    assert pop.dtype == np.float32
    assert pop.sum() == pytest.approx(1600.0, rel=1e-6)
    # Zone A is 6 pixels of area: 100 persons per full pixel; column 1 gets half of A's density
    # and half of B's (B: 1000 persons over 2.5 × 2.5 = 6.25 pixels → 160 per pixel).
    assert pop[3, 0] == pytest.approx(100.0)
    assert pop[0, 1] == pytest.approx(50.0 + 80.0)
    assert pop[3, 3] == pytest.approx(0.0)  # outside both zones


def _inputs(
    boundaries: gpd.GeoDataFrame, population: RasterData | None = None, column: str = ""
) -> Inputs:
    scn = scenario_from_dict(
        {
            "scenario": {"name": "t", "year": 2024},
            "sites": {"path": "sites.csv"},
            "population": {"column": column} if column else {},
        }
    )
    return Inputs(scenario=scn, boundaries=boundaries, cells=pd.DataFrame(), population=population)


def _units(levels, geoms, codes, population=None):
    d = {"admin_code": codes, "name": codes, "name_en": "", "level": levels, "parent_code": ""}
    if population is not None:
        d["population"] = population
    return gpd.GeoDataFrame(
        d, geometry=gpd.GeoSeries(geoms, crs=UTM50).to_crs(4326).values, crs=4326
    )


def test_population_grid_none_without_raster_or_column():
    b = _units(["county"], [box(0, 0, 4, 4)], ["350502"])
    assert zonal.population_grid(_inputs(b), grid4()) is None


def test_population_grid_from_county_column(caplog):
    b = _units(
        ["county", "county", "county"],
        [box(0, 0, 2, 4), box(2, 0, 4, 4), box(0, 0, 0.1, 0.1)],
        ["350502", "350503", "350504"],
        population=[800.0, 80.0, np.nan],
    )
    with caplog.at_level(logging.WARNING, logger="gigacov.zonal"):
        pop = zonal.population_grid(_inputs(b, column="population"), grid4())
    assert "no 'population' value" in caplog.text
    assert pop[:, :2].sum() == pytest.approx(800.0, rel=1e-5)
    assert pop[0, 0] == pytest.approx(100.0, rel=1e-5)
    assert pop[:, 2:].sum() == pytest.approx(80.0, rel=1e-5)


def test_population_grid_prefers_villages_that_carry_the_column():
    b = _units(
        ["county", "village", "village"],
        [box(0, 0, 4, 4), box(0, 0, 1, 1), box(3, 3, 4, 4)],
        ["350502", "350502001001", "350502001002"],
        population=[9999.0, 30.0, 70.0],
    )
    pop = zonal.population_grid(_inputs(b, column="population"), grid4())
    assert pop[0, 0] == pytest.approx(30.0, rel=1e-5)
    assert pop[3, 3] == pytest.approx(70.0, rel=1e-5)
    assert pop.sum() == pytest.approx(100.0, rel=1e-5)


def test_population_grid_from_raster_uses_population_to_grid():
    # A WGS84 raster of counts over the grid: the grid must get the same as population_to_grid.
    lon0, lat0 = grid4().xy_to_lonlat(np.array([X0 - 200.0]), np.array([Y1 + 200.0]))
    raster = RasterData(
        np.full((10, 10), 3.0, np.float32),
        Affine(0.001, 0.0, float(lon0[0]), 0.0, -0.001, float(lat0[0])),
        pyproj.CRS.from_epsg(4326),
    )
    b = _units(["county"], [box(0, 0, 4, 4)], ["350502"])
    got = zonal.population_grid(_inputs(b, population=raster), grid4())
    np.testing.assert_array_equal(got, population_to_grid(raster, grid4()))


# ------------------------------------------------------------------------------------------------
# Agreement with exactextract on real county polygons
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quanzhou_case():
    from gigacov.scenario import default_boundaries_path

    b = gpd.read_file(default_boundaries_path())
    counties = (
        b[b["admin_code"].isin(["350502", "350503", "350504"])].to_crs(UTM50).reset_index(drop=True)
    )
    g = Grid.for_geometries(counties.to_crs(4326), 100.0, UTM50)
    rng = np.random.default_rng(2024)
    yy, xx = np.mgrid[0 : g.height, 0 : g.width]
    smooth = 50.0 * np.exp(
        -(((xx - g.width * 0.4) ** 2 + (yy - g.height * 0.6) ** 2) / (0.1 * g.n_pixels))
    )
    pop = (smooth * rng.lognormal(0.0, 0.8, g.shape)).astype(np.float32)
    # Synthetic villages: Voronoi cells of random points, clipped to each county.
    region = counties.union_all()
    minx, miny, maxx, maxy = region.bounds
    pts = shapely.MultiPoint(
        np.column_stack([rng.uniform(minx, maxx, 60), rng.uniform(miny, maxy, 60)])
    )
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=region.envelope))
    villages = []
    for county in counties.geometry:
        for c in cells:
            piece = c.intersection(county)
            if piece.area >= 2e6:  # ≥ 2 km² (≥ 200 pixels)
                villages.append(piece)
    return g, pop, counties.geometry.to_numpy(), np.array(villages, dtype=object)


def exactextract_sums(g: Grid, raster: np.ndarray, geoms) -> np.ndarray:
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    minx, miny, maxx, maxy = g.bounds
    src = NumPyRasterSource(raster, minx, miny, maxx, maxy, name="v", srs_wkt=g.crs.to_wkt())
    frame = gpd.GeoDataFrame({"i": np.arange(len(geoms))}, geometry=list(geoms), crs=g.crs)
    out = exact_extract(src, frame, ["sum"], output="pandas")
    return out["sum"].to_numpy()


def test_agrees_with_exactextract_on_quanzhou_counties_and_villages(quanzhou_case):
    g, pop, counties, villages = quanzhou_case
    assert len(villages) >= 15
    ours_c = zonal.zonal_sums(counties, g, pop, subpixel=4, workers=2).population
    ee_c = exactextract_sums(g, pop, counties)
    assert np.abs(ours_c / ee_c - 1.0).max() < 0.005  # counties within 0.5 %
    ours_v = zonal.zonal_sums(villages, g, pop, subpixel=4, workers=2).population
    ee_v = exactextract_sums(g, pop, villages)
    err4 = np.abs(ours_v / ee_v - 1.0)
    assert err4.max() < 0.02  # villages within 2 %
    # The sub-pixel rule is what earns that: the plain centre rule is worse on villages.
    err1 = np.abs(zonal.zonal_sums(villages, g, pop, subpixel=1, workers=1).population / ee_v - 1.0)
    assert err4.mean() < err1.mean()
    # Areas agree with the polygons' exact areas too.
    area = zonal.zonal_sums(villages, g, None, subpixel=4, workers=1).area_km2
    np.testing.assert_allclose(area, shapely.area(villages) / 1e6, rtol=0.02)
