"""A small hand-made run around Quanzhou (118.6° E, 24.9° N) for the map tests.

The fixture (``make_run``) is built by hand so that its answers can be worked out on paper:

* a 60 × 50 grid of 200 m pixels in EPSG:32650, x 660,000–672,000 m, y 2,746,000–2,756,000 m;
* one 5G site at (663,000, 2,751,000) whose RSRP falls linearly, −70 dBm − 0.008 dB/m × distance,
  so the class edges −85 / −95 / −105 / −115 dBm lie at 1,875 / 3,125 / 4,375 / 5,625 m, and
  nothing is received beyond 7,000 m (NaN); covered = RSRP ≥ −105 dBm;
* three counties as 4 km-wide strips (A: 石狮市, B: 晋江市, C: 南安市), a city around them, six
  villages (top and bottom half of each county);
* compliance rows for two standards: A passes, B fails (needs 37 more 5G base stations),
  C has no data for the gigabit-fibre indicator;
* key places (a reached hospital, an unreached university polygon and railway station, a road
  along a row of pixel centres), two weak-coverage areas and two recommended sites.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from gigacov.grid import Grid
from gigacov.ingest.model import Inputs
from gigacov.radio.result import CoverageResult, RadioParams
from gigacov.run_result import RunResult
from gigacov.scenario import scenario_from_dict
from support.grids import utm_grid

UTM = pyproj.CRS.from_epsg(32650)
X0, Y1, RES, W, H = 660_000.0, 2_756_000.0, 200.0, 60, 50
SITE_XY = (663_000.0, 2_751_000.0)
ROAD_Y = 2_751_100.0  # a row of pixel centres (row 24)
TO_WGS = pyproj.Transformer.from_crs(UTM, 4326, always_xy=True)
TO_UTM = pyproj.Transformer.from_crs(4326, UTM, always_xy=True)

STD1 = SimpleNamespace(
    id="test-gigabit-city",
    title="MIIT gigabit city 2021",
    version="2021",
    indicators=[
        SimpleNamespace(key="sites_5g_per_10k", threshold=12.0, confirmed=False),
        SimpleNamespace(key="key_place_reach_5g", threshold=0.95, confirmed=False),
        SimpleNamespace(key="household_gigabit_coverage", threshold=0.8, confirmed=False),
    ],
)
STD2 = SimpleNamespace(
    id="test-targets",
    title="Fujian 2024 targets",
    version="2024",
    indicators=[SimpleNamespace(key="village_reach_5g", threshold=0.8, confirmed=True)],
)
COUNTY_CODES = ["350581", "350582", "350583"]


def utm_poly(x0: float, y0: float, x1: float, y1: float, densify: bool = False) -> Polygon:
    """A UTM rectangle as a WGS84 polygon (corners only unless ``densify``)."""
    ring = box(x0, y0, x1, y1)
    if densify:
        ring = shapely.segmentize(ring, 500.0)
    return shapely.transform(ring, lambda c: np.column_stack(TO_WGS.transform(c[:, 0], c[:, 1])))


def utm_point(x: float, y: float) -> Point:
    return Point(*TO_WGS.transform(x, y))


def make_grid() -> Grid:
    return utm_grid(H, W, RES, west=X0, north=Y1, crs=UTM)


def rsrp_field(grid: Grid, offset_db: float = 0.0) -> np.ndarray:
    x, y = grid.centres()
    d = np.hypot(x[None, :] - SITE_XY[0], y[:, None] - SITE_XY[1])
    rsrp = (-70.0 - 0.008 * d + offset_db).astype(np.float32)
    rsrp[d > 7000.0] = np.nan
    return rsrp


def coverage(grid: Grid, tech: str, offset_db: float = 0.0) -> CoverageResult:
    rsrp = rsrp_field(grid, offset_db)
    with np.errstate(invalid="ignore"):
        covered = (rsrp >= -105.0).astype(np.uint8)
    server = np.where(np.isnan(rsrp), -1, 0).astype(np.int32)
    return CoverageResult(
        tech=tech,
        grid=grid,
        rsrp_dbm=rsrp,
        sinr_db=np.where(np.isnan(rsrp), np.nan, 10.0).astype(np.float32),
        server=server,
        covered=covered,
        cells=pd.DataFrame(),
        params=RadioParams(tech=tech),
    )


def make_cells(n_sites: int = 0, seed: int = 7, site_name: str | None = None) -> pd.DataFrame:
    """Cells of hand-placed sites (S1 is the 5G site of the RSRP field), or ``n_sites`` random ones."""
    rows = []
    if n_sites == 0:
        lon, lat = TO_WGS.transform(*SITE_XY)
        for k, az in enumerate((0.0, 120.0, 240.0)):
            rows.append(
                dict(
                    site_id="S1",
                    cell_id=f"S1-{k + 1}",
                    name=site_name or "Jinjiang Tower",
                    lon=lon,
                    lat=lat,
                    tech="5G",
                    operator="China Mobile",
                    freq_mhz=3500.0,
                    bandwidth_mhz=100.0,
                    azimuth_deg=az,
                    height_m=30.0,
                    tilt_deg=6.0,
                    eirp_dbm=61.0,
                )
            )
        rows.append(
            dict(
                site_id="S1",
                cell_id="S1-L1",
                name=site_name or "Jinjiang Tower",
                lon=lon,
                lat=lat,
                tech="4G",
                operator="China Mobile",
                freq_mhz=1800.0,
                bandwidth_mhz=20.0,
                azimuth_deg=np.nan,
                height_m=30.0,
                tilt_deg=4.0,
                eirp_dbm=55.0,
            )
        )
        for sid, (x, y), tech in (
            ("S2", (669_000.0, 2_753_000.0), "5G"),
            ("S3", (667_000.0, 2_748_000.0), "4G"),
            ("S4", (670_500.0, 2_747_500.0), "4G"),
        ):
            lon, lat = TO_WGS.transform(x, y)
            rows.append(
                dict(
                    site_id=sid,
                    cell_id=f"{sid}-1",
                    name="",
                    lon=lon,
                    lat=lat,
                    tech=tech,
                    operator="China Telecom",
                    freq_mhz=3500.0 if tech == "5G" else 2100.0,
                    bandwidth_mhz=100.0 if tech == "5G" else 20.0,
                    azimuth_deg=90.0,
                    height_m=25.5,
                    tilt_deg=5.0,
                    eirp_dbm=60.0,
                )
            )
    else:
        rng = np.random.default_rng(seed)
        x = rng.uniform(X0, X0 + W * RES, n_sites)
        y = rng.uniform(Y1 - H * RES, Y1, n_sites)
        lon, lat = TO_WGS.transform(x, y)
        ops = np.array(["China Mobile", "China Telecom", "China Unicom", "China Broadnet"])
        n_cells = rng.integers(1, 4, n_sites)
        tech = np.where(rng.random(n_sites) < 0.6, "5G", "4G")
        for i in range(n_sites):
            for k in range(n_cells[i]):
                rows.append(
                    dict(
                        site_id=f"Q{i:06d}",
                        cell_id=f"Q{i:06d}-{k}",
                        name="",
                        lon=lon[i],
                        lat=lat[i],
                        tech=tech[i],
                        operator=ops[i % 4],
                        freq_mhz=3500.0,
                        bandwidth_mhz=100.0,
                        azimuth_deg=float(120 * k),
                        height_m=30.0,
                        tilt_deg=6.0,
                        eirp_dbm=61.0,
                    )
                )
    return pd.DataFrame(rows)


def make_run(
    *,
    names: dict[str, str] | None = None,
    n_sites: int = 0,
    map_settings: dict | None = None,
    title: str = "Quanzhou test",
    synthetic: bool = True,
    site_name: str | None = None,
    key_place_name: str | None = None,
    with_4g: bool = True,
    with_plan: bool = True,
) -> RunResult:
    """The hand-made run described in the module docstring."""
    names = {"350581": "石狮市", "350582": "晋江市", "350583": "南安市", **(names or {})}
    scn = scenario_from_dict(
        {
            "scenario": {
                "name": "quanzhou-test",
                "year": 2024,
                "synthetic": synthetic,
                "title": title,
                "standards": [STD1.id, STD2.id],
            },
            "sites": {"path": "sites.csv"},
            "map": map_settings or {},
        }
    )
    grid = make_grid()
    strips = [(X0 + 4000.0 * i, X0 + 4000.0 * (i + 1)) for i in range(3)]
    y0 = Y1 - H * RES
    county_rows = []
    for code, (xa, xb) in zip(COUNTY_CODES, strips, strict=True):
        county_rows.append(
            dict(
                admin_code=code,
                name=names[code],
                name_en="",
                level="county",
                parent_code="350500",
                geometry=utm_poly(xa, y0, xb, Y1),
            )
        )
    city_row = dict(
        admin_code="350500",
        name=names.get("350500", "泉州市"),
        name_en="Quanzhou",
        level="city",
        parent_code="350000",
        geometry=utm_poly(X0, y0, X0 + W * RES, Y1),
    )
    village_rows = []
    for code, (xa, xb) in zip(COUNTY_CODES, strips, strict=True):
        for half, (ya, yb) in enumerate(((2_751_000.0, Y1), (y0, 2_751_000.0))):
            vcode = f"{code}{100 + half:03d}000"
            village_rows.append(
                dict(
                    admin_code=vcode,
                    name=names.get(vcode, f"村{code[-1]}{half}"),
                    name_en="",
                    level="village",
                    parent_code=code,
                    geometry=utm_poly(xa, ya, xb, yb),
                )
            )
    boundaries = gpd.GeoDataFrame(county_rows + [city_row] + village_rows, crs=4326)

    counties = gpd.GeoDataFrame(county_rows, crs=4326).assign(
        population=[300_000.0, 500_000.0, 200_000.0],
        pop_coverage_5g=[0.932, 0.41, 0.0],
        sites_5g_per_10k=[15.2, 10.3, 13.0],
        key_place_reach_5g=[1.0, 0.5, 1.0],
        household_gigabit_coverage=[0.85, 0.9, np.nan],
        village_reach_5g=[1.0, 0.5, 0.0],
        users_1000m_count=[12_345.0, 20_000.0, np.nan],
    )
    city = gpd.GeoDataFrame([city_row], crs=4326).assign(
        population=[1_000_000.0],
        pop_coverage_5g=[0.5],
        sites_5g_per_10k=[12.5],
        key_place_reach_5g=[0.96],
        household_gigabit_coverage=[0.86],
        village_reach_5g=[0.5],
        users_1000m_count=[32_345.0],
    )
    villages = gpd.GeoDataFrame(village_rows, crs=4326).assign(
        village_reach_5g=[1.0, 1.0, 1.0, 0.0, 0.0, np.nan],
        household_gigabit_coverage=[0.9, 0.6, 0.3, np.nan, 0.85, 0.1],
        pop_coverage_5g=[0.95, 0.7, 0.6, 0.1, 0.0, np.nan],
        households=[1200.0, 800.0, 950.0, 400.0, 300.0, 100.0],
    )
    definitions = [
        SimpleNamespace(
            key="pop_coverage_5g",
            name_zh="5G人口覆盖率",
            name_en="5G population coverage",
            unit="ratio",
        ),
        SimpleNamespace(
            key="sites_5g_per_10k",
            name_zh="每万人5G基站数",
            name_en="5G base stations per 10,000 people",
            unit="per 10,000 people",
        ),
        SimpleNamespace(
            key="key_place_reach_5g",
            name_zh="重点场所5G通达率",
            name_en="key-place 5G reach",
            unit="ratio",
        ),
        SimpleNamespace(
            key="household_gigabit_coverage",
            name_zh="家庭千兆光纤覆盖率",
            name_en="household gigabit-fibre coverage",
            unit="ratio",
        ),
        SimpleNamespace(
            key="village_reach_5g",
            name_zh="行政村5G通达率",
            name_en="village 5G reach",
            unit="ratio",
        ),
        SimpleNamespace(
            key="users_1000m_count", name_zh="千兆用户数", name_en="users ≥ 1000 Mbps", unit="count"
        ),
    ]
    road = LineString([TO_WGS.transform(660_100.0, ROAD_Y), TO_WGS.transform(673_000.0, ROAD_Y)])
    place_columns = (
        "place_id name category admin_code approximate reached_5g covered_share_5g rsrp_dbm "
        "longest_gap_m geometry"
    ).split()
    place_rows = [
        ("K1", key_place_name or "泉州市第一医院", "hospital", "350581", False, True, 1.0, -75.7,
         np.nan, utm_point(663_500.0, 2_751_500.0)),
        ("K2", "华侨大学", "university", "350583", True, False, 0.0, np.nan, np.nan,
         utm_poly(669_800.0, 2_753_800.0, 670_200.0, 2_754_200.0)),
        ("K3", "泉州站", "railway", "350582", False, False, 0.0, -110.0, np.nan,
         utm_point(666_000.0, 2_747_000.0)),
        ("K4", "沈海高速", "road", "350582", False, False, 0.56, np.nan, 5600.0, road),
    ]  # fmt: skip
    key_places = gpd.GeoDataFrame(
        [dict(zip(place_columns, row, strict=True)) for row in place_rows], crs=4326
    )
    rows = []

    def add(
        code, level, std, key, value, op, thr, status, shortfall=np.nan, unit="", margin=np.nan
    ):
        rows.append(
            dict(
                admin_code=code,
                name=names.get(code, ""),
                level=level,
                standard=std,
                indicator=key,
                value=value,
                op=op,
                threshold=thr,
                status=status,
                margin=margin,
                shortfall=shortfall,
                shortfall_unit=unit,
            )
        )

    s1, s2 = STD1.id, STD2.id
    add("350581", "county", s1, "sites_5g_per_10k", 15.2, ">=", 12.0, "pass", margin=3.2)
    add("350581", "county", s1, "key_place_reach_5g", 1.0, ">=", 0.95, "pass", margin=0.05)
    add("350581", "county", s1, "household_gigabit_coverage", 0.85, ">=", 0.8, "pass", margin=0.05)
    add("350582", "county", s1, "sites_5g_per_10k", 10.3, ">=", 12.0, "fail", 37.0, "sites", -1.7)
    add(
        "350582",
        "county",
        s1,
        "key_place_reach_5g",
        0.5,
        ">=",
        0.95,
        "fail",
        1.0,
        "key_places",
        -0.45,
    )
    add("350582", "county", s1, "household_gigabit_coverage", 0.9, ">=", 0.8, "pass", margin=0.1)
    add("350583", "county", s1, "sites_5g_per_10k", 13.0, ">=", 12.0, "pass", margin=1.0)
    add("350583", "county", s1, "key_place_reach_5g", 1.0, ">=", 0.95, "pass", margin=0.05)
    add("350583", "county", s1, "household_gigabit_coverage", np.nan, ">=", 0.8, "no_data")
    add("350581", "county", s2, "village_reach_5g", 1.0, ">=", 0.8, "pass", margin=0.2)
    add("350582", "county", s2, "village_reach_5g", 0.5, ">=", 0.8, "fail", 1.0, "villages", -0.3)
    add("350583", "county", s2, "village_reach_5g", 0.0, ">=", 0.8, "fail", 2.0, "villages", -0.8)
    add("350500", "city", s1, "sites_5g_per_10k", 12.5, ">=", 12.0, "pass", margin=0.5)
    add("350500", "city", s2, "village_reach_5g", 0.5, ">=", 0.8, "fail", 3.0, "villages", -0.3)
    compliance = pd.DataFrame(rows)

    plan = None
    if with_plan:
        gaps = gpd.GeoDataFrame(
            [
                dict(
                    population=1234.0,
                    area_km2=1.5,
                    admin_code="350583",
                    nearest_site_id="S2",
                    nearest_site_m=2500.0,
                    rank=1,
                    geometry=utm_poly(670_000.0, 2_748_000.0, 671_500.0, 2_749_000.0),
                ),
                dict(
                    population=321.0,
                    area_km2=0.4,
                    admin_code="350582",
                    nearest_site_id="S3",
                    nearest_site_m=900.0,
                    rank=2,
                    geometry=utm_poly(665_000.0, 2_754_000.0, 665_800.0, 2_754_500.0),
                ),
            ],
            crs=4326,
        )
        recommended = gpd.GeoDataFrame(
            [
                dict(
                    county="350583",
                    rank=1,
                    added_population=1100.0,
                    added_key_places=1,
                    added_villages=1,
                    height_m=30.0,
                    sectors=3,
                    freq_mhz=3500.0,
                    geometry=utm_point(670_700.0, 2_748_500.0),
                ),
                dict(
                    county="350582",
                    rank=2,
                    added_population=300.0,
                    added_key_places=0,
                    added_villages=0,
                    height_m=30.0,
                    sectors=3,
                    freq_mhz=3500.0,
                    geometry=utm_point(665_400.0, 2_754_250.0),
                ),
            ],
            crs=4326,
        )
        plan = SimpleNamespace(gaps=gaps, recommended=recommended)

    inputs = Inputs(
        scenario=scn,
        boundaries=boundaries,
        cells=make_cells(n_sites, site_name=site_name),
        key_places=key_places.drop(
            columns=["reached_5g", "covered_share_5g", "rsrp_dbm", "longest_gap_m"]
        ),
    )
    indicators = SimpleNamespace(
        units={"county": counties, "city": city, "village": villages},
        key_places=key_places,
        definitions=definitions,
    )
    cov = {"5G": coverage(grid, "5G")}
    if with_4g:
        cov["4G"] = coverage(grid, "4G", offset_db=5.0)
    return RunResult(
        scenario=scn,
        run_dir=Path("."),
        inputs=inputs,
        grid=grid,
        coverage=cov,
        indicators=indicators,
        standards=[STD1, STD2],
        compliance=compliance,
        plan=plan,
    )


def expected_overlay_bounds(grid: Grid) -> list[list[float]]:
    """Corners of the EPSG:3857 raster rasterio chooses for ``grid``, as [[S, W], [N, E]]."""
    from rasterio.warp import calculate_default_transform

    t, w, h = calculate_default_transform(
        grid.crs, "EPSG:3857", grid.width, grid.height, *grid.bounds
    )
    lon, lat = pyproj.Transformer.from_crs(3857, 4326, always_xy=True).transform(
        [t.c, t.c + w * t.a], [t.f + h * t.e, t.f]
    )
    return [[lat[0], lon[0]], [lat[1], lon[1]]]


def page_data(html_text: str) -> dict:
    """The JSON document a map page carries (``<script id="gigacov-data">``)."""
    m = re.search(
        r'<script type="application/json" id="gigacov-data">(.*?)</script>', html_text, re.S
    )
    assert m, "map page has no gigacov-data block"
    return json.loads(m.group(1))


def png_of_overlay(html_text: str, n: int = 0) -> np.ndarray:
    """Palette indices of the n-th ImageOverlay's PNG in the page."""
    from PIL import Image

    urls = re.findall(r'L\.imageOverlay\(\s*"data:image/png;base64,([A-Za-z0-9+/=]+)"', html_text)
    img = Image.open(io.BytesIO(base64.b64decode(urls[n])))
    assert img.mode == "P"
    return np.asarray(img)


TO_MERC = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)


def merc_pixel(raster, lon, lat):
    """Row and column of the raster pixel holding lon/lat (scalars or arrays)."""
    x, y = TO_MERC.transform(lon, lat)
    t = raster.transform
    row = np.floor((t.f - np.asarray(y)) / -t.e).astype(int)
    col = np.floor((np.asarray(x) - t.c) / t.a).astype(int)
    return (int(row), int(col)) if row.ndim == 0 else (row, col)
