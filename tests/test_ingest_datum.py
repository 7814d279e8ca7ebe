"""The GCJ-02 / WGS84 sign test on synthetic points near the real Quanzhou coast."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gigacov.crs import metric_crs_for, wgs84_to_gcj02
from gigacov.ingest import load_inputs
from gigacov.ingest.datum_check import binomial_sf_half, datum_test, datum_warning
from gigacov.ingest.geo import Region
from gigacov.scenario import default_boundaries_path, scenario_from_dict


@pytest.fixture(scope="module")
def region():
    b = gpd.read_file(default_boundaries_path())
    q = b[(b.level == "county") & b.admin_code.str.startswith("3505")]
    return Region.from_counties(q.admin_code.to_numpy(), q.geometry.to_numpy(), 5000.0)


@pytest.fixture(scope="module")
def edge_points(region):
    """300 seeded WGS84 points inside the region, within 1.5 km of its edge (coast included)."""
    crs = metric_crs_for(region.bounds)
    u = gpd.GeoSeries([region.union], crs=4326).to_crs(crs).iloc[0]
    band = gpd.GeoSeries([u.difference(u.buffer(-1500))], crs=crs).to_crs(4326).iloc[0]
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = band.bounds
    x = rng.uniform(minx, maxx, 30000)
    y = rng.uniform(miny, maxy, 30000)
    keep = shapely.contains_xy(band, x, y)
    return x[keep][:300], y[keep][:300]


def test_binomial_tail_golden_values():
    assert binomial_sf_half(0, 10) == 1.0
    assert binomial_sf_half(10, 10) == pytest.approx(2.0**-10)
    # P(X ≥ 8 | n = 10) = (45 + 10 + 1) / 1024
    assert binomial_sf_half(8, 10) == pytest.approx(56 / 1024)
    # symmetric: P(X ≥ 6 | 10) = 386 / 1024
    assert binomial_sf_half(6, 10) == pytest.approx(386 / 1024)
    assert binomial_sf_half(11, 10) == 0.0
    # large n stays finite and accurate: P(X ≥ 600 | 1000) ≈ 1.4e-10 (normal approx. 1.3e-10)
    assert 1e-11 < binomial_sf_half(600, 1000) < 1e-9


def test_true_wgs84_points_give_no_warning(region, edge_points):
    x, y = edge_points
    tests = datum_test(x, y, "wgs84", region)
    assert {t.alternative for t in tests} == {"gcj02", "bd09"}
    gcj = next(t for t in tests if t.alternative == "gcj02")
    assert gcj.only_alternative == 0 < gcj.only_declared
    assert datum_warning(tests, what="sites", path="s.csv", key="[sites] crs") is None


def test_gcj_points_declared_wgs84_are_caught(region, edge_points):
    gx, gy = wgs84_to_gcj02(*edge_points)
    tests = datum_test(gx, gy, "wgs84", region)
    t = next(t for t in tests if t.alternative == "gcj02")
    assert t.only_alternative >= 20 and t.only_declared == 0
    assert t.p_value == pytest.approx(2.0**-t.only_alternative)
    msg = datum_warning(tests, what="sites", path="s.csv", key="[sites] crs")
    assert msg is not None and "GCJ-02" in msg and 'set [sites] crs = "gcj02"' in msg
    assert f"{t.only_alternative} (100%)" in msg and "p = " in msg


def test_wgs84_points_declared_gcj02_are_caught(region, edge_points):
    x, y = edge_points
    tests = datum_test(x, y, "gcj02", region)
    msg = datum_warning(tests, what="sites", path="s.csv", key="[sites] crs")
    assert msg is not None and 'set [sites] crs = "wgs84"' in msg and "declares GCJ-02" in msg
    # and real GCJ-02 data declared GCJ-02 pass
    gx, gy = wgs84_to_gcj02(x, y)
    assert (
        datum_warning(datum_test(gx, gy, "gcj02", region), what="sites", path="s", key="k") is None
    )


def test_few_discordant_points_do_not_warn(region, edge_points):
    gx, gy = wgs84_to_gcj02(*(a[:4] for a in edge_points))
    assert (
        datum_warning(datum_test(gx, gy, "wgs84", region), what="sites", path="s", key="k") is None
    )


def test_load_inputs_reports_the_shift(tmp_path, edge_points):
    gx, gy = wgs84_to_gcj02(*edge_points)
    path = tmp_path / "amap_sites.csv"
    path.write_text(
        "lon,lat\n"
        + "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in zip(gx, gy, strict=True))
        + "\n",
        "utf-8",
    )
    scn = scenario_from_dict(
        {"scenario": {"name": "d", "year": 2024, "region": "350500"}, "sites": {"path": str(path)}}
    )
    inp = load_inputs(scn)
    assert any("look like GCJ-02 coordinates" in w for w in inp.warnings)
    rep = next(r for r in inp.reports if r.input == "sites")
    assert any("GCJ-02" in w for w in rep.warnings)
    # declared correctly: converted, no warning, and the points are back on land
    inp = load_inputs(scn.replace(sites={"crs": "gcj02"}))
    assert not any("coordinates although" in w for w in inp.warnings)
    assert math.isclose(inp.cells["lon"].iloc[0], edge_points[0][0], abs_tol=1e-8)
