"""WGS84 ⇄ GCJ-02 ⇄ BD-09 conversion, CRS parsing and the metric CRS choice."""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gigacov import crs
from gigacov.errors import CRSError

# Reference pairs published with the widely used `coordtransform` library (wandergis,
# test/app.js), input (116.404, 39.915) — Tiananmen, Beijing.
REF_WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
REF_GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
# That library inverts GCJ-02 and BD-09 with a one-step approximation; ours iterates to the exact
# inverse, so these agree only to a few centimetres (checked at 1e-6° ≈ 0.1 m).
REF_GCJ_TO_WGS_APPROX = (116.39775550083061, 39.91359571849836)
REF_BD_TO_GCJ_APPROX = (116.39762729119315, 39.90865673957631)


def _metres(lon0, lat0, lon1, lat1):
    geod = pyproj.Geod(ellps="WGS84")
    _, _, dist = geod.inv(lon0, lat0, lon1, lat1)
    return np.abs(dist)


def _py_wgs_to_gcj(lon, lat):
    """Independent pure-Python transcription of the published forward algorithm."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * math.sqrt(abs(x))
        + (20 * math.sin(6 * x * pi) + 20 * math.sin(2 * x * pi)) * 2 / 3
        + (20 * math.sin(y * pi) + 40 * math.sin(y / 3 * pi)) * 2 / 3
        + (160 * math.sin(y / 12 * pi) + 320 * math.sin(y * pi / 30)) * 2 / 3
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * math.sqrt(abs(x))
        + (20 * math.sin(6 * x * pi) + 20 * math.sin(2 * x * pi)) * 2 / 3
        + (20 * math.sin(x * pi) + 40 * math.sin(x / 3 * pi)) * 2 / 3
        + (150 * math.sin(x / 12 * pi) + 300 * math.sin(x / 30 * pi)) * 2 / 3
    )
    rad = lat / 180 * pi
    magic = 1 - ee * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = dlat * 180 / ((a * (1 - ee)) / (magic * sq) * pi)
    dlon = dlon * 180 / (a / sq * math.cos(rad) * pi)
    return lon + dlon, lat + dlat


def test_forward_matches_published_reference_pairs():
    assert crs.wgs84_to_gcj02(116.404, 39.915) == pytest.approx(REF_WGS_TO_GCJ, abs=1e-12)
    assert crs.gcj02_to_bd09(116.404, 39.915) == pytest.approx(REF_GCJ_TO_BD, abs=1e-12)


def test_inverses_agree_with_published_approximations():
    assert crs.gcj02_to_wgs84(116.404, 39.915) == pytest.approx(REF_GCJ_TO_WGS_APPROX, abs=1e-6)
    assert crs.bd09_to_gcj02(116.404, 39.915) == pytest.approx(REF_BD_TO_GCJ_APPROX, abs=1e-6)


def test_forward_kernel_matches_pure_python_reference():
    rng = np.random.default_rng(7)
    lon = rng.uniform(73.0, 135.0, 200)
    lat = rng.uniform(4.0, 53.0, 200)
    got_lon, got_lat = crs.wgs84_to_gcj02(lon, lat)
    ref = np.array([_py_wgs_to_gcj(a, b) for a, b in zip(lon, lat, strict=True)])
    np.testing.assert_allclose(got_lon, ref[:, 0], rtol=0, atol=1e-11)
    np.testing.assert_allclose(got_lat, ref[:, 1], rtol=0, atol=1e-11)


def test_offset_in_fujian_is_hundreds_of_metres():
    # Quanzhou: the GCJ-02 offset is a few hundred metres, as docs/design.md §2 says (100-700 m).
    lon, lat = crs.wgs84_to_gcj02(118.6, 24.9)
    d = float(_metres(118.6, 24.9, lon, lat))
    assert 100 < d < 700


def test_identity_outside_china():
    for lon, lat in [(2.35, 48.85), (-74.0, 40.7), (151.2, -33.9), (139.0, 60.0)]:
        assert crs.wgs84_to_gcj02(lon, lat) == (lon, lat)
        assert crs.gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert bool(crs.out_of_china(2.35, 48.85))
    assert not bool(crs.out_of_china(118.6, 24.9))


def test_nan_passes_through_and_shapes_are_kept():
    lon = np.array([[118.6, np.nan], [119.0, 120.0]])
    lat = np.array([[24.9, 25.0], [np.nan, 26.0]])
    out_lon, out_lat = crs.wgs84_to_bd09(lon, lat)
    assert out_lon.shape == (2, 2)
    assert np.isnan(out_lon[0, 1]) and np.isnan(out_lat[1, 0])
    assert np.isfinite(out_lon[1, 1])


china_lon = st.floats(73.7, 135.0, allow_nan=False)
china_lat = st.floats(3.9, 53.5, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_round_trip_gcj_under_half_a_metre(lon, lat):
    g_lon, g_lat = crs.wgs84_to_gcj02(lon, lat)
    back = crs.gcj02_to_wgs84(g_lon, g_lat)
    assert _metres(lon, lat, *back) < 0.5


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_round_trip_bd_under_half_a_metre(lon, lat):
    b_lon, b_lat = crs.wgs84_to_bd09(lon, lat)
    back = crs.bd09_to_wgs84(b_lon, b_lat)
    assert _metres(lon, lat, *back) < 0.5


def test_round_trip_vectorised_over_china_grid():
    lon, lat = np.meshgrid(np.linspace(73.7, 135.0, 300), np.linspace(3.9, 53.5, 300))
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    assert _metres(lon.ravel(), lat.ravel(), back[0].ravel(), back[1].ravel()).max() < 0.01


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("wgs84", "wgs84"),
        ("WGS84", "wgs84"),
        ("cgcs2000", "wgs84"),
        ("EPSG:4490", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("bd09", "bd09"),
        ("EPSG:32650", "epsg"),
        ("epsg:3857", "epsg"),
        (32650, "epsg"),
    ],
)
def test_parse_crs_accepts(text, kind):
    spec = crs.parse_crs(text)
    assert spec.kind == kind


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty CRS"),
        ("wgs-85", "unknown CRS 'wgs-85'"),
        ("EPSG:abc", "not a valid EPSG code"),
        ("EPSG:999999", "not an EPSG code pyproj knows"),
        (None, "no CRS given"),
    ],
)
def test_parse_crs_rejects_with_clear_message(text, match):
    with pytest.raises(CRSError, match=match):
        crs.parse_crs(text, what="[sites] crs")


def test_parse_crs_message_names_setting_and_choices():
    with pytest.raises(CRSError, match=r"\[sites\] crs: unknown CRS 'mercator'.*'gcj02'"):
        crs.parse_crs("mercator", what="[sites] crs")


@pytest.mark.parametrize(
    ("bounds", "epsg"),
    [
        ((115.8, 23.5, 120.7, 28.3), 32650),  # Fujian
        ((118.3, 24.5, 119.1, 25.6), 32650),  # Quanzhou
        ((116.0, 39.5, 117.0, 40.5), 32650),  # Beijing
        ((121.0, 30.7, 122.0, 31.5), 32651),  # Shanghai
        ((-74.1, 40.6, -73.9, 40.9), 32618),  # New York
        ((150.9, -34.1, 151.3, -33.7), 32756),
    ],  # Sydney
)
def test_metric_crs_for_picks_utm_zone(bounds, epsg):
    assert crs.metric_crs_for(bounds).to_epsg() == epsg


def test_metric_crs_for_rejects_projected_bounds():
    with pytest.raises(CRSError, match="not WGS84 longitude/latitude"):
        crs.metric_crs_for((500000, 2700000, 600000, 2800000))


def test_require_metric_refuses_geographic():
    with pytest.raises(CRSError, match="geographic"):
        crs.require_metric(pyproj.CRS.from_epsg(4326))
    assert crs.require_metric(pyproj.CRS.from_epsg(32650)).to_epsg() == 32650


def test_to_wgs84_from_projected_and_back():
    x, y = crs.from_wgs84(118.6, 24.9, "EPSG:32650")
    lon, lat = crs.to_wgs84(x, y, "EPSG:32650")
    assert float(lon) == pytest.approx(118.6, abs=1e-9)
    assert float(lat) == pytest.approx(24.9, abs=1e-9)


def test_geoseries_conversion_shifts_polygons_by_the_gcj_offset():
    import geopandas as gpd
    from shapely.geometry import Polygon

    square = Polygon([(118.6, 24.9), (118.61, 24.9), (118.61, 24.91), (118.6, 24.91)])
    gs = gpd.GeoSeries([square], crs=4326)
    shifted = crs.geoseries_from_wgs84(gs, "gcj02")
    back = crs.geoseries_to_wgs84(shifted, "gcj02")
    dx, dy = crs.wgs84_to_gcj02(118.6, 24.9)
    assert shifted.iloc[0].exterior.coords[0] == pytest.approx((dx, dy), abs=1e-12)
    assert back.iloc[0].equals_exact(square, tolerance=1e-8)
