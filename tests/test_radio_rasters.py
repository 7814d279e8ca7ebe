"""Coverage rasters as Cloud-Optimised GeoTIFFs: layout, georeferencing, round trip, atomicity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
from affine import Affine

from gigacov.errors import RunError
from gigacov.grid import Grid
from gigacov.radio import CoverageResult, RadioParams, read_coverage, write_coverage

CRS = pyproj.CRS.from_epsg(32650)


def synthetic_result(h=300, w=520, tech="5G") -> CoverageResult:
    grid = Grid(CRS, Affine(100.0, 0.0, 600_000.0, 0.0, -100.0, 2_800_000.0), w, h)
    rng = np.random.default_rng(0)
    rsrp = rng.uniform(-125, -60, grid.shape).astype(np.float32)
    rsrp[:, : w // 5] = np.nan  # no server there
    server = rng.integers(0, 40, grid.shape).astype(np.int32)
    server[np.isnan(rsrp)] = -1
    sinr = np.where(np.isnan(rsrp), np.nan, rng.uniform(-10, 30, grid.shape)).astype(np.float32)
    covered = ((rsrp >= -105) & (sinr >= -3)).astype(np.uint8)
    cells = pd.DataFrame({"site_id": [f"S{i}" for i in range(40)]})
    return CoverageResult(tech, grid, rsrp, sinr, server, covered, cells, RadioParams(tech=tech))


def test_cogs_are_valid_georeferenced_and_round_trip(tmp_path):
    result = synthetic_result()
    paths = write_coverage(result, tmp_path)
    assert set(paths) == {"rsrp", "sinr", "server", "covered"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "covered.tif",
        "rsrp.tif",
        "server.tif",
        "sinr.tif",
    ]
    expected = {
        "rsrp": ("float32", True),
        "sinr": ("float32", True),
        "server": ("int32", -1),
        "covered": ("uint8", None),
    }
    for name, path in paths.items():
        with rasterio.open(path) as src:
            assert src.driver == "GTiff"
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert src.tags(ns="IMAGE_STRUCTURE").get("COMPRESSION") == "DEFLATE"
            assert src.profile["tiled"] and src.block_shapes == [(256, 256)]
            # Overviews until the image fits one 256-pixel tile: 520×300 → 260×150 → 130×75.
            assert src.overviews(1) == [2, 4]
            assert pyproj.CRS.from_wkt(src.crs.to_wkt()) == CRS
            assert src.transform == result.grid.transform
            assert (src.width, src.height) == (520, 300)
            dtype, nodata = expected[name]
            assert src.dtypes[0] == dtype
            if nodata is True:
                assert np.isnan(src.nodata)
            else:
                assert src.nodata == nodata
            assert src.tags()["tech"] == "5G" and src.tags()["layer"] == name
            assert src.descriptions[0]
            # Overviews are readable (what QGIS shows when zoomed out).
            assert src.read(1, out_shape=(150, 260)).shape == (150, 260)
    back = read_coverage(tmp_path)
    assert back["grid"].same_as(result.grid)
    np.testing.assert_array_equal(back["rsrp"], result.rsrp_dbm)
    np.testing.assert_array_equal(back["sinr"], result.sinr_db)
    np.testing.assert_array_equal(back["server"], result.server)
    np.testing.assert_array_equal(back["covered"], result.covered)


def test_suffix_names_files_and_keys(tmp_path):
    result = synthetic_result(40, 30, tech="4G")
    paths = write_coverage(result, tmp_path / "run", suffix="_4g")
    assert {k: p.name for k, p in paths.items()} == {
        "rsrp_4g": "rsrp_4g.tif",
        "sinr_4g": "sinr_4g.tif",
        "server_4g": "server_4g.tif",
        "covered_4g": "covered_4g.tif",
    }
    back = read_coverage(tmp_path / "run", suffix="_4g")
    np.testing.assert_array_equal(back["server"], result.server)
    with pytest.raises(RunError, match=r"rsrp\.tif: coverage raster missing"):
        read_coverage(tmp_path / "run")


def test_the_run_directory_names_and_reads_the_rasters(tmp_path):
    from gigacov.radio.rasters import LAYERS
    from gigacov.rundir import (
        COVERAGE_LAYERS,
        coverage_file,
        coverage_suffix,
        read_coverage_rasters,
    )

    assert tuple(LAYERS) == COVERAGE_LAYERS
    assert coverage_suffix("5g") == "" and coverage_suffix("4G") == "_4g"
    assert coverage_file("covered", coverage_suffix("5G", "cmcc")) == "covered_5g_cmcc.tif"
    result = synthetic_result(20, 30)
    write_coverage(result, tmp_path, suffix=coverage_suffix("5G", "cmcc"))
    stored = read_coverage_rasters(tmp_path, "_5g_cmcc")
    assert list(stored) == list(COVERAGE_LAYERS)
    assert stored["server"].array.dtype == np.int32 and stored["rsrp"].width == 30
    assert pyproj.CRS.from_wkt(stored["covered"].crs_wkt) == CRS
    # a raster that is not on the others' grid is named
    other = synthetic_result(20, 31)
    write_coverage(other, tmp_path / "other")
    (tmp_path / "other" / "sinr.tif").replace(tmp_path / "sinr_5g_cmcc.tif")
    with pytest.raises(RunError, match=r"sinr_5g_cmcc\.tif: not on the same grid"):
        read_coverage(tmp_path, "_5g_cmcc")


def test_failed_write_leaves_previous_raster_and_no_partial_file(tmp_path, monkeypatch):
    first = synthetic_result(40, 30)
    write_coverage(first, tmp_path)
    before = (tmp_path / "rsrp.tif").read_bytes()

    def broken_copy(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(rasterio.shutil, "copy", broken_copy)
    second = synthetic_result(40, 30)
    second.rsrp_dbm[:] = -50.0
    with pytest.raises(OSError, match="disk full"):
        write_coverage(second, tmp_path)
    assert (tmp_path / "rsrp.tif").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "covered.tif",
        "rsrp.tif",
        "server.tif",
        "sinr.tif",
    ]


def test_memmapped_results_are_written_in_strips(tmp_path):
    result = synthetic_result(1100, 300)  # more rows than one 1024-row strip
    mm = np.memmap(tmp_path / "r.dat", dtype=np.float32, mode="w+", shape=result.grid.shape)
    mm[:] = result.rsrp_dbm
    result.rsrp_dbm = mm
    write_coverage(result, tmp_path / "out")
    np.testing.assert_array_equal(read_coverage(tmp_path / "out")["rsrp"], np.asarray(mm))
