"""Rasters in another CRS: windowed read, nodata, CRS override, no-overlap and negative errors."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from gigacov.crs import transformer
from gigacov.errors import InputError
from gigacov.grid import Grid, population_to_grid
from gigacov.ingest import load_inputs
from gigacov.scenario import scenario_from_dict

FENGZE = (118.6438, 24.9237)


def write_tif(path, array, transform, crs, nodata=None):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=array.shape[1],
        height=array.shape[0],
        count=1,
        dtype=array.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(array, 1)


def scn(tmp_path, **sections):
    sites = tmp_path / "sites.csv"
    sites.write_text(f"lon,lat\n{FENGZE[0]},{FENGZE[1]}\n", encoding="utf-8")
    data = {
        "scenario": {"name": "r", "year": 2024, "region": "350500"},
        "sites": {"path": str(sites)},
    }
    data.update(sections)
    return scenario_from_dict(data, base_dir=tmp_path)


def web_mercator_raster(tmp_path, *, crs="EPSG:3857", name="pop.tif", big=False):
    """A 1 km Web-Mercator raster over all of Fujian and beyond (or a wider area), 1 person/pixel."""
    x0, y1 = transformer(4326, 3857).transform(114.0 if big else 115.5, 29.0 if big else 28.5)
    x1, y0 = transformer(4326, 3857).transform(122.0 if big else 121.0, 22.5 if big else 23.0)
    res = 1000.0
    w, h = int((x1 - x0) // res), int((y1 - y0) // res)
    arr = np.ones((h, w), dtype=np.float32)
    arr[:10, :] = -9999.0  # nodata strip in the north
    path = tmp_path / name
    write_tif(path, arr, Affine(res, 0, x0, 0, -res, y1), crs, nodata=-9999.0)
    return path, arr.shape


def test_population_raster_in_web_mercator_is_windowed(tmp_path):
    path, full_shape = web_mercator_raster(tmp_path)
    inp = load_inputs(scn(tmp_path, population={"raster": str(path)}))
    pop = inp.population
    assert pop.crs.to_epsg() == 3857 and pop.nodata == -9999.0
    # only the region's window (Quanzhou + margin) was read, not the whole of Fujian
    assert pop.array.shape[0] < full_shape[0] and pop.array.shape[1] < full_shape[1]
    assert pop.array.dtype == np.float32
    # the window covers the region: every county corner maps inside the raster window
    minx, miny, maxx, maxy = inp.counties.total_bounds
    x, y = transformer(4326, 3857).transform([minx, maxx], [miny, maxy])
    b = pop.bounds
    assert b[0] <= min(x) and b[2] >= max(x) and b[1] <= min(y) and b[3] >= max(y)
    rep = next(r for r in inp.reports if r.input == "population")
    assert rep.read == rep.used == pop.array.size and rep.rejected == 0
    assert str(path) in inp.file_hashes
    # and it works with the grid contract downstream: 1 person per 1 km² Mercator pixel
    grid = Grid.for_geometries(inp.counties, 5000.0, __import__("pyproj").CRS.from_epsg(32650))
    persons = population_to_grid(pop, grid)
    assert persons.sum() > 0


def test_raster_without_crs_needs_the_override(tmp_path):
    arr = np.ones((50, 60), dtype=np.float32)
    path = tmp_path / "nocrs.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=60,
        height=50,
        count=1,
        dtype="float32",
        transform=Affine(0.05, 0, 117.0, 0, -0.05, 26.5),
    ) as dst:
        dst.write(arr, 1)
    with pytest.raises(InputError, match=r"declares no CRS.*\[population\] crs"):
        load_inputs(scn(tmp_path, population={"raster": str(path)}))
    inp = load_inputs(scn(tmp_path, population={"raster": str(path), "crs": "EPSG:4326"}))
    assert inp.population.crs.to_epsg() == 4326


def test_raster_outside_the_region_names_both_extents(tmp_path):
    arr = np.ones((10, 10), dtype=np.float32)
    path = tmp_path / "beijing.tif"
    write_tif(path, arr, Affine(0.01, 0, 116.3, 0, -0.01, 40.0), "EPSG:4326")
    with pytest.raises(InputError) as err:
        load_inputs(scn(tmp_path, terrain={"dem": str(path)}))
    msg = str(err.value)
    assert "does not overlap" in msg and "lon 116.3000…116.4000, lat 39.9000…40.0000" in msg
    assert "the region covers lon 117." in msg and str(path) in msg


def test_negative_population_is_an_error_but_nodata_is_not(tmp_path):
    path, _ = web_mercator_raster(tmp_path)
    with rasterio.open(path, "r+") as ds:
        a = ds.read(1)
        a[a.shape[0] // 2, a.shape[1] // 2] = -3.0
        ds.write(a, 1)
    with pytest.raises(InputError, match=r"negative values \(1 pixels, e.g. -3.0"):
        load_inputs(scn(tmp_path, population={"raster": str(path)}))


def test_dem_and_clutter_in_utm(tmp_path):
    x0, y1 = transformer(4326, 32650).transform(117.2, 25.9)
    arr = np.full((400, 400), 120.0, dtype=np.float32)
    path = tmp_path / "dem.tif"
    write_tif(path, arr, Affine(500, 0, x0, 0, -500, y1), "EPSG:32650")
    clutter = tmp_path / "clutter.tif"
    write_tif(
        clutter,
        np.full((400, 400), 2, dtype=np.uint8),
        Affine(500, 0, x0, 0, -500, y1),
        "EPSG:32650",
    )
    inp = load_inputs(scn(tmp_path, terrain={"dem": str(path)}, radio={"clutter": str(clutter)}))
    assert inp.dem.crs.to_epsg() == 32650 and float(inp.dem.array.mean()) == 120.0
    assert inp.clutter.array.dtype == np.uint8
