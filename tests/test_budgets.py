"""Impossible parameters stop at the scenario; full-grid allocations are checked against the
memory budget before they happen; population rasters with impossible or missing values."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from click.testing import CliRunner
from hostile import write_tiny_scenario
from shapely.geometry import box

from gigacov.cli import main
from gigacov.errors import ConfigError, InputError, ResourceError
from gigacov.scenario import load_scenario, scenario_from_dict

BASE = {"scenario": {"name": "b", "year": 2024}, "sites": {"path": "s.csv"}}


def _with(section: str, key: str, value) -> dict:
    data = {k: dict(v) for k, v in BASE.items()}
    data.setdefault(section, {})[key] = value
    return data


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("grid", "resolution_m", float("inf")),
        ("grid", "resolution_m", float("nan")),
        ("grid", "resolution_m", 0.5),
        ("grid", "resolution_m", -100.0),
        ("radio", "max_radius_m", 1e12),
        ("radio", "load", 1.5),
        ("radio", "rsrp_threshold_dbm", 30.0),
        ("planning", "sectors", 100000),
        ("planning", "candidate_spacing_m", 0.5),
        ("planning", "tilt_deg", float("-inf")),
        ("compute", "memory_budget_mb", -1),
        ("indicators", "subpixel", 0),
        ("map", "raster_opacity", 2.0),
    ],
)
def test_impossible_parameters_name_the_key(section, key, value):
    with pytest.raises(ConfigError, match=rf"\[{section}\] {key}"):
        scenario_from_dict(_with(section, key, value))


def test_infinite_values_in_a_toml_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        '[scenario]\nname = "b"\nyear = 2024\n[sites]\npath = "s.csv"\n'
        "[grid]\nresolution_m = inf\n",
        "utf-8",
    )
    with pytest.raises(ConfigError, match=r"\[grid\] resolution_m must be a finite number"):
        load_scenario(path)


def test_replace_checks_the_bounds_too():
    scn = scenario_from_dict(BASE)
    with pytest.raises(ConfigError, match=r"\[planning\] sectors"):
        scn.replace(planning={"sectors": 100000})


def test_a_300_character_name_is_refused():
    data = _with("scenario", "name", "a" * 300)
    with pytest.raises(ConfigError, match=r"\[scenario\] name is 300 characters long"):
        scenario_from_dict(data)


def test_suburban_density_above_urban_is_refused():
    data = _with("radio", "suburban_density_per_km2", 5000.0)
    with pytest.raises(ConfigError, match="suburban_density_per_km2"):
        scenario_from_dict(data)


def test_candidate_grid_too_dense_is_refused_before_allocating():
    from gigacov.planning.candidates import grid_candidates

    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match=r"candidate_spacing_m = 10 m gives about"):
            grid_candidates(box(0, 0, 100_000, 100_000), 10.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20


# ------------------------------------------------------------------------------------------------
# the run's grid against the budget
# ------------------------------------------------------------------------------------------------


def test_one_metre_grid_is_refused_before_any_full_grid_allocation(tmp_path):
    from gigacov.pipeline import run

    scenario = write_tiny_scenario(tmp_path)
    scn = load_scenario(scenario).replace(
        grid={"resolution_m": 1.0}, compute={"memory_budget_mb": 512}
    )
    tracemalloc.start()
    try:
        with pytest.raises(ResourceError, match=r"over the budget of 512 MiB.*memory_budget_mb"):
            run(scn, until="coverage")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the grid would be 12,000 × 6,700 pixels (≈ 3 GB); nothing near that was allocated
    assert peak < 200 * 2**20


def test_planning_budget_is_checked_before_the_coverage_is_computed(tmp_path):
    from gigacov.ingest import load_inputs
    from gigacov.pipeline import check_grid_budget, make_grid
    from gigacov.planning.core import PLANNING_BYTES_PER_PIXEL

    scn = load_scenario(write_tiny_scenario(tmp_path)).replace(grid={"resolution_m": 10.0})
    grid = make_grid(scn, load_inputs(scn))
    fits = grid.n_pixels * 40 / 2**20  # MiB: room for the coverage stage, not for planning
    small = scn.replace(compute={"memory_budget_mb": max(1, int(fits))})
    check_grid_budget(small, grid, plan=False)
    assert PLANNING_BYTES_PER_PIXEL > 0
    with pytest.raises(ResourceError, match="planning needs"):
        check_grid_budget(small, grid, plan=True)


def test_half_globe_boundary_is_refused_cleanly(tmp_path):
    import geopandas as gpd

    write_tiny_scenario(tmp_path)
    huge = gpd.GeoDataFrame(
        {"admin_code": ["350582"], "name": ["半个地球"], "population": [1e6]},
        geometry=[box(-179, -80, 179, 80)],
        crs=4326,
    )
    huge.to_file(tmp_path / "counties.gpkg", driver="GPKG")
    text = (tmp_path / "s.toml").read_text("utf-8").replace('crs = "EPSG:32650"', 'crs = "auto"')
    (tmp_path / "s.toml").write_text(text, "utf-8")
    res = CliRunner().invoke(main, ["coverage", str(tmp_path / "s.toml")])
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "gigacov: error:" in res.output and "does not fit on one grid" in res.output
    assert "Traceback" not in res.output


# ------------------------------------------------------------------------------------------------
# population rasters
# ------------------------------------------------------------------------------------------------


def _population_raster(path, values: np.ndarray, nodata=None):
    import rasterio
    from rasterio.transform import from_origin

    # 0.005° pixels over the tiny scenario's two counties (118.50–118.62 E, 24.80–24.86 N)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(118.45, 24.91, 0.005, 0.005),
        nodata=nodata,
    ) as ds:
        ds.write(values.astype(np.float32), 1)


def _raster_scenario(tmp_path, values, nodata=None):
    scenario = write_tiny_scenario(tmp_path)
    text = scenario.read_text("utf-8").replace(
        '[population]\ncolumn = "population"', '[population]\nraster = "pop.tif"'
    )
    scenario.write_text(text, "utf-8")
    _population_raster(tmp_path / "pop.tif", values, nodata)
    return load_scenario(scenario)


def test_population_raster_with_infinite_pixel_is_refused(tmp_path):
    from gigacov.ingest import load_inputs

    values = np.full((24, 44), 50.0)
    values[10, 20] = np.inf
    with pytest.raises(InputError, match=r"pop.tif: the population raster holds infinite"):
        load_inputs(_raster_scenario(tmp_path, values))


def test_population_raster_with_implausible_density_is_refused(tmp_path):
    from gigacov.ingest import load_inputs

    values = np.full((24, 44), 50.0)
    values[10, 20] = 3e38
    with pytest.raises(InputError, match=r"implausible values .* row 10, column 20"):
        load_inputs(_raster_scenario(tmp_path, values))


def test_population_raster_partly_nodata_warns_with_the_share(tmp_path):
    from gigacov.ingest import load_inputs

    values = np.full((24, 44), 50.0)
    values[:, :16] = np.nan  # 6 of the region's 24 pixel columns (from 118.50 E)
    inp = load_inputs(_raster_scenario(tmp_path, values))
    msgs = [w for w in inp.warnings if "nodata" in w and "inside the region" in w]
    assert len(msgs) == 1, inp.warnings
    share = float(msgs[0].split("%")[0].split()[-1])
    assert 20 < share < 30


def test_population_raster_without_nodata_has_no_warning(tmp_path):
    from gigacov.ingest import load_inputs

    inp = load_inputs(_raster_scenario(tmp_path, np.full((24, 44), 50.0)))
    assert not [w for w in inp.warnings if "nodata" in w]


def test_a_unit_mostly_in_population_nodata_is_named_with_its_share(caplog):
    """The raster's nodata warning was region-wide; a county wholly in nodata (金门县 in the
    demo's raster) showed a population of 0 with nothing naming it. Now each unit below 95 %
    of its pixels with data is named with its share; whole units are not."""
    import geopandas as gpd
    import pyproj
    from affine import Affine
    from shapely.geometry import box

    from gigacov.grid import RasterData
    from gigacov.population_gaps import population_gaps

    values = np.full((10, 30), 5.0, dtype=np.float32)
    values[:, 20:] = -1.0  # the third unit: all nodata
    values[:5, 10:12] = -1.0  # the second: 10 of its 100 pixels
    raster = RasterData(
        values, Affine(0.01, 0, 118.0, 0, -0.01, 25.0), pyproj.CRS.from_epsg(4326), nodata=-1.0
    )
    units = gpd.GeoDataFrame(
        {"admin_code": ["350501", "350502", "350503"], "name": ["甲县", "乙县", "丙县"]},
        geometry=[
            box(118.0, 24.9, 118.1, 25.0),
            box(118.1, 24.9, 118.2, 25.0),
            box(118.2, 24.9, 118.3, 25.0),
        ],  # fmt: skip
        crs=4326,
    )
    with caplog.at_level("WARNING", logger="gigacov"):
        named = population_gaps(raster, units, "county")
    assert named == ["350502", "350503"]
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "乙县 (350502) 90%" in said and "丙县 (350503) 0%" in said and "甲县" not in said
