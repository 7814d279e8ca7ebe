"""Build the synthetic Quanzhou demo scenario: every input file, two scenario files, a README.

Everything is drawn from one seed with independent random streams per component
(``numpy.random.default_rng([seed, k])``), so changing one component leaves the others as they
were, and the same seed gives the same files. Villages, sites and statistics do not depend on
``resolution_m`` (they are drawn on a fixed 200 m model grid); only the two rasters do.
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import ConfigError
from ..grid import Grid
from ..rundir import atomic_path
from .broadband import build_broadband
from .design import (
    COUNTIES,
    DEFAULT_SEED,
    MAX_RADIUS_M,
    PLANNING_BUDGET,
    POPULATION_SOURCE,
    REGION,
    YEARS,
)
from .fields import DEMO_CRS, MODEL_RES_M, PopulationModel, Region, Terrain, load_region
from .key_places import KeyPlace, build_key_places, write_key_places
from .metadata import metadata
from .readme import write_readme
from .sites import SiteTable, build_sites, cells_table, export_rows, write_export
from .villages import Villages, build_villages

__all__ = ["build_demo", "DemoWorld", "FILE_NAMES", "scenario_name"]

log = logging.getLogger(__name__)

#: Output file names (all say "synthetic").
FILE_NAMES: dict[str, str] = {
    "villages": "villages-synthetic.gpkg",
    "population": "population-synthetic.tif",
    "dem": "dem-synthetic.tif",
    "sites_2023": "sites-2023-synthetic.csv",
    "sites_2024": "sites-2024-synthetic.csv",
    "broadband": "broadband-synthetic.csv",
    "key_places": "key-places-synthetic.geojson",
    "scenario_2023": "quanzhou-2023-synthetic.toml",
    "scenario_2024": "quanzhou-2024-synthetic.toml",
    "readme": "README-synthetic.md",
    "metadata": "demo-synthetic.json",
    "drive_test": "drive-test-2024-synthetic.csv",
}
#: Streams of the random generator, one per component (their order never changes).
_STREAMS = (
    "terrain",
    "villages",
    "village_mass",
    "key_places",
    "sites",
    "cells",
    "exports",
    "broadband",
    "drive_test",
)
#: Fixed timestamp written into GeoPackages so that the same seed gives the same bytes.
_GPKG_DATE = "2024-04-30T00:00:00Z"


def scenario_name(year: int) -> str:
    return f"quanzhou-{year}-synthetic"


@dataclass
class DemoWorld:
    """Everything generated, in memory (``build_demo`` writes it; tests may inspect it)."""

    seed: int
    scale: float
    region: Region
    terrain: Terrain
    model: PopulationModel
    villages: Villages
    village_population: np.ndarray
    places: list[KeyPlace]
    sites: SiteTable
    cells: pd.DataFrame
    broadband: pd.DataFrame


@contextmanager
def _step(name: str, timings: dict[str, float]):
    t0 = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - t0, 3)
    log.info("demo: %s in %.1f s", name, timings[name])


def _check_args(seed: int, resolution_m: float, scale: float) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"demo seed must be a non-negative integer, got {seed!r}")
    if not (isinstance(resolution_m, int | float) and 10.0 <= float(resolution_m) <= 5000.0):
        raise ConfigError(
            f"demo resolution_m must be between 10 and 5000 metres, got {resolution_m!r}; "
            "100 is the default, 500–1000 gives a quick look"
        )
    if not (isinstance(scale, int | float) and 0.005 <= float(scale) <= 2.0):
        raise ConfigError(
            f"demo scale must be between 0.005 and 2 (1 = ~2,000 villages, ~18,000 5G sites), "
            f"got {scale!r}"
        )


def generate_world(
    seed: int = DEFAULT_SEED, scale: float = 1.0, timings: dict[str, float] | None = None
) -> DemoWorld:
    """Draw the synthetic world (no files written)."""
    timings = {} if timings is None else timings
    rngs = {name: np.random.default_rng([int(seed), k]) for k, name in enumerate(_STREAMS)}
    with _step("region", timings):
        region = load_region()
    terrain = Terrain.from_seed(rngs["terrain"], region)
    model = PopulationModel(region, terrain)
    with _step("villages", timings):
        villages = build_villages(rngs["villages"], region, model, scale)
        seeds = villages.seeds_xy
        comp = model.components(seeds[:, 0], seeds[:, 1])
        model.seeds_xy = seeds
        model.seed_mass = comp["diffuse"] * np.exp(
            rngs["village_mass"].normal(0.0, 0.6, len(seeds))
        )
    with _step("model_population", timings):
        grid200 = region.grid(MODEL_RES_M)
        pop200, labels200 = model.raster(grid200)
        village_of_pixel = _village_index_raster(villages, grid200)
        village_pop = np.bincount(
            village_of_pixel[village_of_pixel >= 0].ravel(),
            weights=pop200[village_of_pixel >= 0].ravel(),
            minlength=len(seeds),
        )
        village_pop = np.maximum(village_pop, 60.0)
    with _step("key_places", timings):
        places = build_key_places(rngs["key_places"], region)
    with _step("sites", timings):
        sites = build_sites(
            rngs["sites"], region, villages, places, pop200, labels200, village_of_pixel, scale
        )
        cells = cells_table(rngs["cells"], sites.sites)
    with _step("broadband", timings):
        tbl = villages.table
        broadband = build_broadband(
            rngs["broadband"],
            tbl["admin_code"].to_numpy(),
            tbl["name"].to_numpy(),
            villages.county,
            villages.urban,
            village_pop,
        )
    return DemoWorld(
        int(seed),
        float(scale),
        region,
        terrain,
        model,
        villages,
        village_pop,
        places,
        sites,
        cells,
        broadband,
    )


def _village_index_raster(villages: Villages, grid: Grid) -> np.ndarray:
    from rasterio.features import rasterize

    shapes = [(g, i) for i, g in enumerate(villages.polygons_m) if not g.is_empty]
    return rasterize(
        shapes,
        out_shape=grid.shape,
        transform=grid.transform,
        fill=-1,
        dtype="int32",
        all_touched=False,
    )


# ------------------------------------------------------------------------------------------------
# Writers
# ------------------------------------------------------------------------------------------------


def write_population(world: DemoWorld, resolution_m: float, path: Path) -> dict[str, float]:
    """Persons per pixel, float32, EPSG:32650, on the pipeline's grid; nodata −9999 outside
    the 11 administered counties (金门县 included). Returns the per-county totals written."""
    import rasterio

    grid = world.region.grid(resolution_m)
    pop, labels = world.model.raster(grid)
    data = np.where(labels > 0, pop, -9999.0).astype(np.float32)
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "width": grid.width,
        "height": grid.height,
        "crs": DEMO_CRS,
        "transform": grid.transform,
        "nodata": -9999.0,
        "compress": "deflate",
        "predictor": 3,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(
            SYNTHETIC="true",
            UNITS="persons per pixel",
            SOURCE=f"gigacov {__version__} synthetic demo (seed {world.seed}); county totals: "
            f"{POPULATION_SOURCE}",
        )
        dst.set_band_description(1, "population (synthetic, persons per pixel)")
    totals = {}
    for i, c in enumerate(COUNTIES, start=1):
        totals[c.code] = float(data[labels == i].astype(np.float64).sum())
    return totals


def write_dem(world: DemoWorld, resolution_m: float, path: Path) -> None:
    """Synthetic DEM: int16 metres, WGS84 (EPSG:4326) like SRTM, ≈ ``resolution_m`` pixels
    (whole arc-seconds), covering the region plus 0.05°; the sea is 0 m.

    The terrain is evaluated on a metric grid at the same resolution and resampled (bilinear)
    to the geographic grid with rasterio.
    """
    import rasterio
    from affine import Affine
    from rasterio.features import rasterize
    from rasterio.warp import Resampling, reproject, transform_bounds

    res_deg = max(1, round(resolution_m / 30.87)) / 3600.0
    minx, miny, maxx, maxy = world.region.counties.total_bounds
    pad = 0.05
    x0 = np.floor((minx - pad) / res_deg) * res_deg
    y1 = np.ceil((maxy + pad) / res_deg) * res_deg
    width = int(np.ceil((maxx + pad - x0) / res_deg))
    height = int(np.ceil((y1 - (miny - pad)) / res_deg))
    transform = Affine(res_deg, 0.0, x0, 0.0, -res_deg, y1)
    # Metric source grid covering the geographic extent.
    b = transform_bounds("EPSG:4326", DEMO_CRS, x0, y1 - height * res_deg, x0 + width * res_deg, y1)
    src_res = resolution_m
    src_grid = Grid.from_bounds(
        (
            b[0] - 2 * resolution_m,
            b[1] - 2 * resolution_m,
            b[2] + 2 * resolution_m,
            b[3] + 2 * resolution_m,
        ),
        src_res,
        DEMO_CRS,
    )
    xs, ys = src_grid.centres()
    src = world.terrain.elevation_grid(xs, ys)
    dem_f = np.zeros((height, width), dtype=np.float32)
    reproject(
        src,
        dem_f,
        src_transform=src_grid.transform,
        src_crs=DEMO_CRS,
        dst_transform=transform,
        dst_crs="EPSG:4326",
        resampling=Resampling.bilinear,
    )
    land = rasterize(
        [(world.region.land_wgs84, 1)],
        out_shape=(height, width),
        transform=transform,
        fill=0,
        dtype="uint8",
    )
    dem = np.where(land > 0, np.round(dem_f), 0).astype(np.int16)
    profile = {
        "driver": "GTiff",
        "dtype": "int16",
        "count": 1,
        "width": width,
        "height": height,
        "crs": "EPSG:4326",
        "transform": transform,
        "nodata": -32768,
        "compress": "deflate",
        "predictor": 2,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(dem, 1)
        dst.update_tags(
            SYNTHETIC="true",
            UNITS="metres above sea level",
            SOURCE=f"gigacov {__version__} synthetic demo terrain (seed {world.seed})",
        )


def write_villages(world: DemoWorld, path: Path) -> None:
    import pyogrio

    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _GPKG_DATE})
    try:
        with atomic_path(path) as tmp:
            pyogrio.write_dataframe(
                world.villages.table, tmp, layer="villages", driver="GPKG", promote_to_multi=True
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def _scenario_toml(year: int, resolution_m: float, terrain: bool = True) -> str:
    name = scenario_name(year)
    dem = (
        f'dem = "{FILE_NAMES["dem"]}"'
        if terrain
        else f'# dem = "{FILE_NAMES["dem"]}"   (left out: built with terrain = False)'
    )
    prev = ""
    if year != YEARS[0]:
        prev = (
            "\n[report]\n"
            "# Year-over-year section: the 2023 run (run quanzhou-2023-synthetic.toml first).\n"
            f'previous_run = "runs/{scenario_name(YEARS[0])}"\n'
        )
    measurements = ""
    if year == YEARS[-1]:
        measurements = f"""
[measurements]
# Field truth: a synthetic drive test along the key roads and through the towns (NR SS-RSRP,
# SS-SINR) and fixed-broadband speed tests, generated from a hidden "true" network that differs
# from the model (see README-synthetic.md). gigacov compares them with its prediction, fits a
# calibration and flags disputed hexagons.
path = "{FILE_NAMES["drive_test"]}"
"""
    return f'''# gigacov demo scenario — SYNTHETIC DATA (see README-synthetic.md).
# Real: Quanzhou's county boundaries (the shipped data/boundaries/fujian.gpkg) and the county
# population totals (Quanzhou statistical yearbook 2022). Everything else is invented.
# Paths are relative to this file.

[scenario]
name = "{name}"
year = {year}
region = "{REGION}"
standards = ["miit-gigabit-city-2021", "fujian-2024"]
out_dir = "runs/{name}"
synthetic = true
title = "泉州市双千兆 {year} — Quanzhou (synthetic demo)"
description = "Synthetic Quanzhou scenario built by 'gigacov demo': real county boundaries and county populations, invented villages, sites and statistics."

[boundaries]
# counties: the shipped Fujian boundaries (default)
villages = "{FILE_NAMES["villages"]}"
villages_layer = "villages"
crs = "wgs84"

[sites]
# An operator export as of the end of {year}: GBK, Chinese headers, a few bad rows.
path = "{FILE_NAMES[f"sites_{year}"]}"
crs = "wgs84"

[broadband]
path = "{FILE_NAMES["broadband"]}"

[population]
raster = "{FILE_NAMES["population"]}"

[terrain]
# Terrain obstruction and diffraction: shadows behind the inland hills, longer runs.
{dem}

[key_places]
path = "{FILE_NAMES["key_places"]}"
crs = "wgs84"

[grid]
resolution_m = {float(resolution_m):g}
crs = "auto"

[radio]
model = "auto"
rsrp_threshold_dbm = -105
sinr_threshold_db = -3
# The radio work grows with the square of the cut-off radius: 5 km keeps the demo to about a
# minute of radio work (gigacov's default, 15 km, takes about 1.5 minutes per technology at 100 m
# on 2 cores with the DEM). Cells beyond 5 km contribute little at these thresholds.
max_radius_m = {MAX_RADIUS_M:g}
# Shared networks: China Telecom and China Unicom build one n78 network together (共建共享) on
# China Telecom's carrier; China Mobile builds its 700 MHz cells with China Broadnet on China
# Broadnet's n28 carrier. Shared cells serve both operators' users (see docs/operators.md).
shared = [["中国电信", "中国联通", "n78"], ["中国广电", "中国移动", "n28"]]

[planning]
# Weak-coverage areas, and new sites for every county that fails a coverage-related target.
# {PLANNING_BUDGET} sites per county are enough for the designed failures of 2024 (惠安县 needs about 260
# more to reach 12 per 10,000 people, 德化县 about 55 to reach its villages and key places); the
# picks are checked by re-running the coverage engine with the new sites.
budget = {PLANNING_BUDGET}
{prev}{measurements}'''


def build_demo(
    out_dir: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    resolution_m: float = 100.0,
    scale: float = 1.0,
    terrain: bool = True,
) -> dict[str, Path]:
    """Write the synthetic Quanzhou demo scenario into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder for the inputs, the two scenario files and ``README-synthetic.md`` (created).
    seed
        Seed of every random choice; the same seed gives the same files.
    resolution_m
        Grid resolution of the scenarios (metres) and of the population raster and DEM.
    scale
        Multiplies the counts of villages and sites (1 = ~2,000 villages, ~18,000 5G and ~25,000
        4G sites); small values give fast test scenarios. Population totals never scale.
    terrain
        Whether the scenarios use the synthetic DEM (``[terrain] dem``); the DEM file is written
        either way. With it the radio engine computes terrain shadows, which makes a run at
        100 m take minutes instead of seconds.

    Returns
    -------
    dict
        ``{"villages", "population", "dem", "sites_2023", "sites_2024", "broadband",
        "key_places", "scenario_2023", "scenario_2024", "readme", "metadata"}`` → path.

    Raises
    ------
    ConfigError
        ``seed``, ``resolution_m`` or ``scale`` out of range.
    """
    _check_args(seed, resolution_m, scale)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    world = generate_world(seed, float(scale), timings)
    paths = {key: out / name for key, name in FILE_NAMES.items()}
    with _step("write_villages", timings):
        write_villages(world, paths["villages"])
    with _step("write_population", timings):
        pop_totals = write_population(world, float(resolution_m), paths["population"])
    with _step("write_dem", timings):
        write_dem(world, float(resolution_m), paths["dem"])
    exports = {}
    rng_exports = np.random.default_rng([int(seed), _STREAMS.index("exports")])
    with _step("write_sites", timings):
        for year in YEARS:
            rows, bad = export_rows(rng_exports, world.cells, year)
            with atomic_path(paths[f"sites_{year}"]) as tmp:
                write_export(rows, tmp)
            exports[year] = {"rows": int(len(rows)), "bad_rows": bad}
    with _step("write_tables", timings):
        with atomic_path(paths["broadband"]) as tmp:
            world.broadband.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        with atomic_path(paths["key_places"]) as tmp:
            write_key_places(world.places, world.region, tmp)
        for year in YEARS:
            with atomic_path(paths[f"scenario_{year}"]) as tmp:
                tmp.write_text(_scenario_toml(year, resolution_m, terrain), encoding="utf-8")
    with _step("write_drive_test", timings):
        from .drive_test import write_drive_test

        drive = write_drive_test(
            world,
            paths[f"scenario_{YEARS[-1]}"],
            paths["drive_test"],
            [int(seed), _STREAMS.index("drive_test")],
            timings,
        )
    meta = metadata(world, float(resolution_m), pop_totals, exports)
    meta["drive_test"] = drive
    meta["terrain"] = bool(terrain)
    meta["max_radius_m"] = MAX_RADIUS_M
    meta["planning_budget"] = PLANNING_BUDGET
    with atomic_path(paths["metadata"]) as tmp:
        tmp.write_text(
            json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8"
        )
    with atomic_path(paths["readme"]) as tmp:
        write_readme(meta, tmp)
    log.info(
        "demo: synthetic scenario written to %s in %.1f s (%s)",
        out,
        time.perf_counter() - t0,
        ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()),
    )
    return paths
