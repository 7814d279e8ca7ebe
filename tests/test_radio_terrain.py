"""Terrain: a synthetic ridge casts a shadow whose depth is J(ν) of ITU-R P.526, computed by hand.

The ridges are wedges whose kinks lie on pixel centres and that do not vary along the grid's y
axis, so the DEM's bilinear interpolation reproduces them exactly: the height at any point of a
path is known in closed form, and so is ν at every sample of the path.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyproj
import pytest
from affine import Affine

from gigacov.grid import Grid, RasterData
from gigacov.radio import RadioParams, compute_coverage, path_loss_db
from gigacov.radio.terrain import KNIFE_EDGE, profile_loss, sample_bilinear

CRS = pyproj.CRS.from_epsg(32650)
TO_LL = pyproj.Transformer.from_crs(CRS, 4326, always_xy=True)
TO_XY = pyproj.Transformer.from_crs(4326, CRS, always_xy=True)
RES = 100.0
X0, Y0 = 600_000.0, 2_700_000.0
GROUND = 100.0  # base elevation of the whole DEM
A_E = 8.5e6  # effective earth radius


def wedge(x, peak_col, height, half_width_px):
    """Height above the base of a N–S wedge ridge centred on column ``peak_col`` (pixel centres)."""
    xp = X0 + (peak_col + 0.5) * RES
    return max(0.0, height * (1 - abs(x - xp) / (half_width_px * RES)))


def make_case(ridges, rows=5, cols=60):
    grid = Grid(CRS, Affine(RES, 0.0, X0, 0.0, -RES, Y0), cols, rows)
    pad = 200
    z = np.full((rows + 2 * pad, cols + 2 * pad), GROUND, dtype=np.float64)
    for c in range(-pad, cols + pad):
        x = X0 + (c + 0.5) * RES
        z[:, c + pad] += sum(wedge(x, *r) for r in ridges)
    dem = RasterData(z.astype(np.float32), Affine(RES, 0.0, X0 - pad * RES, 0.0, -RES, Y0 + pad * RES), CRS)
    return grid, dem


def one_cell(x, y, height=30.0, freq=3500.0):
    lon, lat = TO_LL.transform(x, y)
    return pd.DataFrame(
        {"lon": [lon], "lat": [lat], "tech": "5G", "freq_mhz": freq, "n_rb": 273, "scs_khz": 30.0,
         "height_m": height, "azimuth_deg": np.nan, "tilt_deg": np.nan, "eirp_dbm": 61.0}
    )


def hand_profile(xs, ys, xr, yr, z_tx, z_rx, ridges, lam, i_from=None, i_to=None, za=None, zb=None):
    """ν at every sample k of the documented profile (closed-form terrain); returns (k, ν) list."""
    D = math.hypot(xr - xs, yr - ys)
    n = math.ceil(D / RES)
    assert abs(D / RES - round(D / RES)) > 0.01  # no ambiguity in the number of samples
    i_from = 1 if i_from is None else i_from
    i_to = n if i_to is None else i_to
    za = z_tx if za is None else za
    zb = z_rx if zb is None else zb
    ta, tb = (i_from - 1) / n, i_to / n
    out = []
    for k in range(i_from, i_to):
        t = k / n
        x = xs + (xr - xs) * t
        z = GROUND + sum(wedge(x, *r) for r in ridges)
        d1 = t * D
        h = z + d1 * (D - d1) / (2 * A_E) - (za + (zb - za) * (t - ta) / (tb - ta))
        nu = h * math.sqrt(2 / lam * (1 / ((t - ta) * D) + 1 / ((tb - t) * D)))
        out.append((k, nu, z + d1 * (D - d1) / (2 * A_E)))
    return n, out


def j(nu):
    return 0.0 if nu <= -0.78 else 6.9 + 20 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1) + nu - 0.1)


def test_ridge_shadow_depth_is_j_nu():
    ridge = (20, 40.0, 2)  # peak on column 20, 40 m high, feet two pixels away
    grid, dem = make_case([ridge])
    xs, ys = X0 + 3.3 * RES, Y0 - 2.5 * RES  # site: ground = 100 m, antenna 130 m a.s.l.
    cells = one_cell(xs, ys)
    params = RadioParams(model="free-space", max_radius_m=6000.0, rsrp_threshold_dbm=-160.0)
    with_dem = compute_coverage(cells, grid, params, dem=dem)
    flat = compute_coverage(cells, grid, params)
    drop = flat.rsrp_dbm - with_dem.rsrp_dbm
    lam = 299_792_458.0 / 3.5e9
    # A pixel 3.7 km behind the site, beyond the ridge, one row off the site's row.
    r, c = 1, 40
    xr, yr = X0 + (c + 0.5) * RES, Y0 - (r + 0.5) * RES
    _n, samples = hand_profile(xs, ys, xr, yr, GROUND + 30.0, GROUND + 1.5, [ridge], lam)
    nu_max = max(nu for _k, nu, _z in samples)
    assert nu_max > 2.0  # deep shadow
    assert drop[r, c] == pytest.approx(j(nu_max), abs=1e-4)
    # Hand values: 38 samples, the dominant one on the ridge's slope, ν = 2.424, J(ν) = 20.62 dB.
    assert nu_max == pytest.approx(2.424, abs=1e-3) and j(nu_max) == pytest.approx(20.62, abs=0.01)
    # In front of the ridge the path is clear: no loss at all.
    assert (drop[:, :17] == 0).all()
    # Behind it the whole band is shadowed, deepest just behind the ridge.
    assert (drop[:, 23:] > 6.0).all()
    assert drop[2, 23] > drop[2, 59]


def test_deygout_three_edges_by_hand():
    ridges = [(12, 50.0, 2), (27, 60.0, 2), (42, 30.0, 2)]  # the middle one dominates
    grid, dem = make_case(ridges)
    xs, ys = X0 + 2.2 * RES, Y0 - 2.5 * RES
    cells = one_cell(xs, ys, height=25.0)
    lam = 299_792_458.0 / 3.5e9
    base = RadioParams(model="free-space", max_radius_m=6000.0, rsrp_threshold_dbm=-170.0)
    flat = compute_coverage(cells, grid, base)
    knife = compute_coverage(cells, grid, RadioParams(**{**base.to_dict(), "diffraction": "knife-edge"}), dem=dem)
    deyg = compute_coverage(cells, grid, RadioParams(**{**base.to_dict(), "diffraction": "deygout"}), dem=dem)
    none = compute_coverage(cells, grid, RadioParams(**{**base.to_dict(), "diffraction": "none"}), dem=dem)
    r, c = 3, 52
    xr, yr = X0 + (c + 0.5) * RES, Y0 - (r + 0.5) * RES
    z_tx, z_rx = GROUND + 25.0, GROUND + 1.5
    n, samples = hand_profile(xs, ys, xr, yr, z_tx, z_rx, ridges, lam)
    kp, nu_p, e_p = max(samples, key=lambda s: s[1])
    # Transmitter side: samples 1..kp−1, ray from the antenna to the top of the main edge.
    _n, left = hand_profile(xs, ys, xr, yr, z_tx, z_rx, ridges, lam, 1, kp, z_tx, e_p)
    # Receiver side: samples kp+1..n−1, ray from the top of the main edge to the UE.
    _n, right = hand_profile(xs, ys, xr, yr, z_tx, z_rx, ridges, lam, kp + 1, n, e_p, z_rx)
    nu_t = max(nu for _k, nu, _z in left)
    nu_r = max(nu for _k, nu, _z in right)
    # Hand values: main edge on the middle ridge (ν ≈ 5.05), both side ridges still cut their
    # sub-paths (ν_t ≈ 0.91, ν_r ≈ 1.44), so all three edges count.
    assert 20 < kp < 32 and nu_p == pytest.approx(5.05, abs=0.01)
    assert nu_t == pytest.approx(0.91, abs=0.01) and nu_r == pytest.approx(1.44, abs=0.01)
    assert (flat.rsrp_dbm - knife.rsrp_dbm)[r, c] == pytest.approx(j(nu_p), abs=1e-4)
    assert (flat.rsrp_dbm - deyg.rsrp_dbm)[r, c] == pytest.approx(j(nu_p) + j(nu_t) + j(nu_r), abs=1e-4)
    # 'none': geometry only; free space has one formula, so no change at all.
    np.testing.assert_array_equal(none.rsrp_dbm, flat.rsrp_dbm)


def test_dem_switches_3gpp_model_between_los_and_nlos():
    ridge = (25, 60.0, 2)
    grid, dem = make_case([ridge])
    xs, ys = X0 + 5.4 * RES, Y0 - 2.5 * RES
    cells = one_cell(xs, ys, height=35.0)
    params = RadioParams(model="3gpp-38.901-uma", max_radius_m=6000.0, rsrp_threshold_dbm=-170.0)
    res = compute_coverage(cells, grid, params, dem=dem)
    eirp_re = 61 - 10 * math.log10(12 * 273)
    lam = 299_792_458.0 / 3.5e9
    # In front of the ridge: LOS formula, heights above local ground (35 m and 1.5 m).
    r, c = 2, 15
    d = math.hypot(X0 + (c + 0.5) * RES - xs, Y0 - (r + 0.5) * RES - ys)
    los = float(path_loss_db("3gpp-38.901-uma", d, 3.5, 35.0, 1.5, los=True))
    assert res.rsrp_dbm[r, c] == pytest.approx(eirp_re - los, abs=1e-4)
    # Behind it: NLOS formula plus J(ν) of the ridge.
    r, c = 2, 45
    xr, yr = X0 + (c + 0.5) * RES, Y0 - (r + 0.5) * RES
    d = math.hypot(xr - xs, yr - ys)
    nlos = float(path_loss_db("3gpp-38.901-uma", d, 3.5, 35.0, 1.5, los=False))
    _n, samples = hand_profile(xs, ys, xr, yr, GROUND + 35.0, GROUND + 1.5, [ridge], lam)
    nu = max(s[1] for s in samples)
    assert res.rsrp_dbm[r, c] == pytest.approx(eirp_re - nlos - j(nu), abs=1e-4)


def test_sample_bilinear_and_profile_primitives():
    dem = np.array([[0.0, 10.0, 20.0], [30.0, 40.0, 50.0]], dtype=np.float32)
    # Pixel centres are exact; half way between four centres is their mean.
    assert sample_bilinear(dem, 0.0, 200.0, 100.0, 0, 0, 50.0, 150.0) == 0.0
    assert sample_bilinear(dem, 0.0, 200.0, 100.0, 0, 0, 250.0, 50.0) == 50.0
    assert sample_bilinear(dem, 0.0, 200.0, 100.0, 0, 0, 100.0, 100.0) == pytest.approx((0 + 10 + 30 + 40) / 4)
    assert math.isnan(sample_bilinear(dem, 0.0, 200.0, 100.0, 0, 0, 10.0, 150.0))
    # A window starting at pixel (0, 1) gives the same values at the same places.
    assert sample_bilinear(dem[:, 1:], 0.0, 200.0, 100.0, 0, 1, 175.0, 120.0) == pytest.approx(
        sample_bilinear(dem, 0.0, 200.0, 100.0, 0, 0, 175.0, 120.0), abs=1e-12
    )
    # A flat path high above the terrain: LOS, no loss; a wall: NLOS with loss.
    flat = np.zeros((1, 50), dtype=np.float32)
    los, loss = profile_loss(flat, 0.0, 100.0, 100.0, 0, 0, 50.0, 50.0, 30.0, 4850.0, 50.0, 30.0, 0.0857, KNIFE_EDGE)
    assert los and loss == 0.0
    wall = flat.copy()
    wall[0, 20:30] = 100.0
    los, loss = profile_loss(wall, 0.0, 100.0, 100.0, 0, 0, 50.0, 50.0, 30.0, 4850.0, 50.0, 30.0, 0.0857, KNIFE_EDGE)
    assert not los and loss > 20.0
