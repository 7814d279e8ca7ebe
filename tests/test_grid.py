"""Grid geometry, tiling and raster resampling."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
from affine import Affine

from gigacov.errors import ConfigError, CRSError, InputError, ResourceError
from gigacov.grid import Grid, RasterData, Tile, population_to_grid, warp_to_grid

UTM50 = pyproj.CRS.from_epsg(32650)


def test_from_bounds_snaps_to_resolution():
    g = Grid.from_bounds((1050.0, 2020.0, 1960.0, 2990.0), 100, UTM50)
    assert g.bounds == (1000.0, 2000.0, 2000.0, 3000.0)
    assert g.shape == (10, 10)
    assert g.resolution_m == 100


def test_pixel_centre_convention():
    g = Grid.from_bounds((0, 0, 300, 200), 100, UTM50)
    x, y = g.centres()
    assert list(x) == [50, 150, 250]
    assert list(y) == [150, 50]
    row, col = g.rowcol([50, 299.9, 300], [150, 0.1, 100])
    assert list(row) == [0, 1, 1]
    assert list(col) == [0, 2, 3]
    assert list(g.contains_rowcol(row, col)) == [True, True, False]


def test_tiles_cover_grid_exactly_once():
    g = Grid.from_bounds((0, 0, 1000, 700), 10, UTM50)
    hits = np.zeros(g.shape, dtype=int)
    for t in g.tiles(32):
        hits[t.slices] += 1
    assert (hits == 1).all()


def test_subgrid_and_window_around():
    g = Grid.from_bounds((0, 0, 1000, 1000), 10, UTM50)
    t = g.window_around(500, 500, 50)
    assert t == Tile(45, 45, 10, 10)
    sub = g.subgrid(t)
    x, y = sub.centres()
    assert x[0] == 455 and y[0] == 545
    assert g.window_around(5000, 5000, 10) is None


def test_grid_refuses_geographic_crs_and_bad_resolution():
    with pytest.raises(CRSError):
        Grid(pyproj.CRS.from_epsg(4326), Affine(0.001, 0, 118, 0, -0.001, 25), 10, 10)
    with pytest.raises(ConfigError, match="resolution_m must be > 0"):
        Grid.from_bounds((0, 0, 10, 10), 0, UTM50)


def test_check_allocation_names_the_budget():
    g = Grid.from_bounds((0, 0, 100_000, 100_000), 10, UTM50)
    with pytest.raises(ResourceError, match=r"needs 1144 MiB.*budget of 100 MiB"):
        g.check_allocation(12, 100 * 2**20, "coverage rasters")


def test_round_trip_dict():
    g = Grid.from_bounds((0, 0, 1000, 700), 10, UTM50)
    assert Grid.from_dict(g.to_dict()).same_as(g)


def test_population_to_grid_preserves_total_from_geographic_raster():
    # 0.01° WGS84 raster around Quanzhou, to a 500 m UTM grid that covers it completely.
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 500, size=(40, 50)).astype(np.float32)
    counts[3, 4] = -9999  # nodata
    r = RasterData(
        counts, Affine(0.01, 0, 118.3, 0, -0.01, 25.2), pyproj.CRS.from_epsg(4326), nodata=-9999
    )
    g = Grid.for_geometries(
        __import__("geopandas").GeoSeries.from_xy([118.25, 118.85], [24.75, 25.25], crs=4326),
        500,
        UTM50,
    )
    out = population_to_grid(r, g)
    expected = counts[counts >= 0].sum()
    assert out.sum() == pytest.approx(expected, rel=1e-4)
    assert out.dtype == np.float32 and out.min() >= 0


def test_population_to_grid_rejects_negative_counts():
    r = RasterData(
        np.array([[1.0, -2.0]], dtype=np.float32),
        Affine(100, 0, 0, 0, -100, 100),
        UTM50,
        path="pop.tif",
    )
    g = Grid.from_bounds((0, 0, 200, 100), 100, UTM50)
    with pytest.raises(InputError, match=r"pop.tif: negative population -2.0 at row 0, column 1"):
        population_to_grid(r, g)


def test_warp_to_grid_identity():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    r = RasterData(a, Affine(100, 0, 0, 0, -100, 300), UTM50)
    g = Grid.from_bounds((0, 0, 400, 300), 100, UTM50)
    np.testing.assert_array_equal(warp_to_grid(r, g, "nearest"), a)


def test_a_city_wide_region_fits_its_grid_at_100_m():
    """Quanzhou (~1.5° wide) at 100 m: the lon/lat box's curved edges stay within tolerance."""
    import geopandas as gpd

    from gigacov.crs import resolve_grid_crs
    from gigacov.run_stages import _check_grid_covers
    from gigacov.scenario import default_boundaries_path

    units = gpd.read_file(default_boundaries_path())
    counties = units[(units["level"] == "county") & units["admin_code"].str.startswith("3505")]
    bounds = tuple(counties.total_bounds)
    for res in (100.0, 30.0):
        grid = Grid.for_geometries(counties, res, resolve_grid_crs("auto", bounds))
        _check_grid_covers(grid, bounds)  # does not raise
