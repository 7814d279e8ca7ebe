"""A 4×4 world whose indicator answers are worked out by hand (the indicator tests use it).

The world (100 m pixels, UTM 50N)::

    population            5G covered          units
    10 10  1  1           1 1 0 0             county A = columns 0-1 (villages VA1 = rows 0-1,
    10 10  1  1           1 1 0 0                                      VA2 = rows 2-3)
     5  5  1  1           0 0 1 0             county B = columns 2-3
     5  5  1  1           0 0 1 0             city C = A + B, province P = C

A: 60 persons, 40 covered; B: 8 persons, 2 covered.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from affine import Affine

from gigacov.grid import Grid
from gigacov.ingest.model import Inputs
from gigacov.radio.result import CoverageResult, RadioParams
from gigacov.scenario import scenario_from_dict

pytestmark = pytest.mark.filterwarnings("ignore:Dataset has no geotransform")

UTM50 = pyproj.CRS.from_epsg(32650)
X0, Y1, RES = 500_000.0, 2_800_000.0, 100.0
GRID = Grid(UTM50, Affine(RES, 0.0, X0, 0.0, -RES, Y1), 4, 4)

POP = np.array([[10, 10, 1, 1], [10, 10, 1, 1], [5, 5, 1, 1], [5, 5, 1, 1]], np.float32)
COVERED = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0]], np.uint8)


def box(c0, r0, c1, r1):
    return shapely.box(X0 + c0 * RES, Y1 - r1 * RES, X0 + c1 * RES, Y1 - r0 * RES)


def xy(c, r):
    """A metric point at pixel coordinates (column c, row r)."""
    return shapely.Point(X0 + c * RES, Y1 - r * RES)


def wgs(geoms):
    return gpd.GeoSeries(geoms, crs=UTM50).to_crs(4326).values


def coverage(covered=COVERED, tech="5G"):
    covered = np.asarray(covered, np.uint8)
    rsrp = np.where(covered > 0, -90.0, -115.0).astype(np.float32)
    return CoverageResult(
        tech,
        GRID,
        rsrp,
        np.zeros_like(rsrp),
        np.zeros(GRID.shape, np.int32),
        covered,
        pd.DataFrame(),
        RadioParams(tech=tech),
    )


def boundaries(villages=True, population=None):
    rows = [
        ("350000", "P", "province", "", box(0, 0, 4, 4)),
        ("350500", "C", "city", "350000", box(0, 0, 4, 4)),
        ("350502", "A", "county", "350500", box(0, 0, 2, 4)),
        ("350503", "B", "county", "350500", box(2, 0, 4, 4)),
    ]
    if villages:
        rows += [
            ("350502001001", "VA1", "village", "350502", box(0, 0, 2, 2)),
            ("350502001002", "VA2", "village", "350502", box(0, 2, 2, 4)),
        ]
    code, name, level, parent, geom = zip(*rows, strict=True)
    d = {"admin_code": code, "name": name, "name_en": "", "level": level, "parent_code": parent}
    if population is not None:
        d["population"] = population
    return gpd.GeoDataFrame(d, geometry=wgs(list(geom)), crs=4326)


CELLS = pd.DataFrame(
    {
        "site_id": ["s1", "s1", "s2", "s3", "s4"],
        "tech": ["5G", "5G", "5G", "4G", "5G"],
        "admin_code": ["350502", "350502", "350503", "350503", ""],
        "lon": np.nan,
        "lat": np.nan,
    }
)


def broadband(rows):
    cols = [
        "admin_code",
        "level",
        "year",
        "households",
        "gigabit_households_covered",
        "fixed_users",
        "users_1000m_plus",
    ]
    return pd.DataFrame([dict(zip(cols, r, strict=False)) for r in rows])


BB = broadband(
    [
        ("350502001001", "village", 2024, 100, 90),
        ("350502001002", "village", 2024, 50, 20),
        ("350503", "county", 2024, 40, 40),
        ("350503", "county", 2023, 400, 1),  # another year: ignored
    ]
)


def make_inputs(b=None, cells=CELLS, bb=BB, key_places=None, year=2024, indicators=None, region=""):
    scn = scenario_from_dict(
        {
            "scenario": {"name": "t", "year": year, "region": region},
            "sites": {"path": "sites.csv"},
            "indicators": indicators or {},
        }
    )
    return Inputs(
        scenario=scn,
        boundaries=boundaries() if b is None else b,
        cells=cells,
        broadband=bb,
        key_places=key_places,
    )
