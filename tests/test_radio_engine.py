"""The radio engine against a slow, obviously-correct NumPy reference of the same model.

The reference below re-implements the documented model from scratch — path-loss formulas,
38.901 antenna pattern, link budget, contribution rule (pixel within ``max_radius_m`` and RSRP ≥
threshold − margin), best server (ties to the lowest index), same-frequency SINR, covered — by
evaluating every cell on every pixel of a small grid. It uses no cut-off radius at all, so it also
checks that the engine's radii never drop a contribution.
"""

from __future__ import annotations

import math
import zlib
from functools import partial

import numpy as np
import pandas as pd
import pyproj
import pytest
from affine import Affine
from support.grids import assert_same_coverage, utm_grid

from gigacov.errors import ConfigError, InputError, ResourceError
from gigacov.grid import Grid, RasterData, Tile
from gigacov.radio import (
    NO_SERVER,
    RadioParams,
    cell_footprints,
    compute_coverage,
)

CRS = pyproj.CRS.from_epsg(32650)
TO_LL = pyproj.Transformer.from_crs(CRS, 4326, always_xy=True)
TO_XY = pyproj.Transformer.from_crs(4326, CRS, always_xy=True)
GEOD = pyproj.Geod(ellps="WGS84")
X0, Y0 = 652_000.0, 2_762_000.0  # top-left corner, near Quanzhou (UTM 50N)


#: make_grid(height, width, resolution_m) with its top-left corner at (X0, Y0).
make_grid = partial(utm_grid, west=X0, north=Y0, crs=CRS)


def random_cells(rng, grid: Grid, n: int, freqs=(3500.0,), omni=0.2, no_tilt=0.2, margin=400.0):
    minx, miny, maxx, maxy = grid.bounds
    x = rng.uniform(minx - margin, maxx + margin, n)
    y = rng.uniform(miny - margin, maxy + margin, n)
    lon, lat = TO_LL.transform(x, y)
    az = rng.uniform(0.0, 360.0, n)
    az[rng.random(n) < omni] = np.nan
    tilt = rng.uniform(0.0, 10.0, n)
    tilt[rng.random(n) < no_tilt] = np.nan
    return pd.DataFrame(
        {
            "site_id": [f"S{i}" for i in range(n)],
            "cell_id": [f"C{i}" for i in range(n)],
            "lon": lon,
            "lat": lat,
            "tech": "5G",
            "freq_mhz": rng.choice(np.asarray(freqs, dtype=float), n),
            "bandwidth_mhz": 100.0,
            "scs_khz": 30.0,
            "n_rb": 273,
            "height_m": rng.uniform(15.0, 45.0, n),
            "azimuth_deg": az,
            "beamwidth_deg": rng.choice([65.0, 90.0], n),
            "tilt_deg": tilt,
            "eirp_dbm": rng.uniform(50.0, 62.0, n),
            "source_row": np.arange(2, n + 2),
        }
    )


# ------------------------------------------------------------------------------------------------
# NumPy reference
# ------------------------------------------------------------------------------------------------

LOG = np.log10


def ref_path_loss(model, cls, los, d2d, f, hbs, hut, hbld=5.0, w=20.0):
    """Path loss (dB) per pixel; ``cls`` is the clutter class per pixel, ``los`` a bool array."""
    d2 = np.maximum(d2d, 10.0)
    dh = hbs - hut
    d3 = np.sqrt(d2**2 + dh**2)
    fs = 32.45 + 20 * LOG(f * 1000) + 20 * LOG(np.maximum(np.sqrt(d2d**2 + dh**2), 1.0) / 1000)

    def uma(umi: bool):
        dbp = 4 * max(hbs - 1, 0) * max(hut - 1, 0) * f * 1e9 / 3e8
        if umi:
            l1 = 32.4 + 21 * LOG(d3) + 20 * LOG(f)
            l2 = 32.4 + 40 * LOG(d3) + 20 * LOG(f) - 9.5 * LOG(dbp**2 + dh**2)
            nl = 35.3 * LOG(d3) + 22.4 + 21.3 * LOG(f) - 0.3 * (hut - 1.5)
        else:
            l1 = 28.0 + 22 * LOG(d3) + 20 * LOG(f)
            l2 = 28.0 + 40 * LOG(d3) + 20 * LOG(f) - 9 * LOG(dbp**2 + dh**2)
            nl = 13.54 + 39.08 * LOG(d3) + 20 * LOG(f) - 0.6 * (hut - 1.5)
        lo = np.where(d2 <= dbp, l1, l2)
        return np.where(los, lo, np.maximum(lo, nl))

    def rma():
        dbp = 2 * math.pi * hbs * hut * f * 1e9 / 3e8

        def pl1(d):
            return (
                20 * LOG(40 * math.pi * d * f / 3)
                + min(0.03 * hbld**1.72, 10) * LOG(d)
                - min(0.044 * hbld**1.72, 14.77)
                + 0.002 * math.log10(hbld) * d
            )

        lo = np.where(d2 <= dbp, pl1(d3), pl1(dbp) + 40 * LOG(d3 / dbp))
        nl = (
            161.04
            - 7.1 * math.log10(w)
            + 7.5 * math.log10(hbld)
            - (24.37 - 3.7 * (hbld / hbs) ** 2) * math.log10(hbs)
            + (43.42 - 3.1 * math.log10(hbs)) * (LOG(d3) - 3)
            + 20 * math.log10(f)
            - (3.2 * math.log10(11.75 * hut) ** 2 - 4.97)
        )
        return np.where(los, lo, np.maximum(lo, nl))

    def hata():
        fm = f * 1000
        a = (1.1 * math.log10(fm) - 0.7) * hut - (1.56 * math.log10(fm) - 0.8)
        base = (
            46.3
            + 33.9 * math.log10(fm)
            - 13.82 * math.log10(hbs)
            - a
            + (44.9 - 6.55 * math.log10(hbs)) * LOG(d2 / 1000)
        )
        loss = np.where(
            cls == 1,
            base + 3,
            np.where(
                cls == 2,
                base - 2 * math.log10(fm / 28) ** 2 - 5.4,
                base - 4.78 * math.log10(fm) ** 2 + 18.33 * math.log10(fm) - 40.94,
            ),
        )
        fs_d3 = 32.45 + 20 * math.log10(fm) + 20 * LOG(np.maximum(d3, 1.0) / 1000)
        return np.maximum(loss, fs_d3)

    if model == "free-space":
        return fs
    if model == "3gpp-38.901-uma":
        return uma(False)
    if model == "3gpp-38.901-umi":
        return uma(True)
    if model == "3gpp-38.901-rma":
        return rma()
    if model == "cost231-hata":
        return hata()
    assert model == "auto"
    return np.where(cls == 3, rma(), uma(False))


def ref_gain(phi, theta, bw, tilt, vbw, omni):
    a_h = (
        np.zeros_like(phi)
        if omni
        else -np.minimum(12 * (((phi + 180) % 360 - 180) / bw) ** 2, 30.0)
    )
    a_v = (
        np.zeros_like(theta)
        if math.isnan(tilt)
        else -np.minimum(12 * ((theta - tilt) / vbw) ** 2, 30.0)
    )
    return -np.minimum(-(a_h + a_v), 30.0)


def ref_bilinear(dem, tf, x, y):
    fc = (x - tf.c) / tf.a - 0.5
    fr = (tf.f - y) / (-tf.e) - 0.5
    h, w = dem.shape
    if not (0 <= fc <= w - 1 and 0 <= fr <= h - 1):
        return math.nan
    c0, r0 = int(fc), int(fr)
    tc, tr = fc - c0, fr - r0
    c1, r1 = min(c0 + 1, w - 1), min(r0 + 1, h - 1)
    top = dem[r0, c0] * (1 - tc) + dem[r0, c1] * tc
    bot = dem[r1, c0] * (1 - tc) + dem[r1, c1] * tc
    return float(top * (1 - tr) + bot * tr)


def ref_j(nu):
    return 0.0 if nu <= -0.78 else 6.9 + 20 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1) + nu - 0.1)


def ref_profile(dem, tf, res, xt, yt, zt, xr, yr, zr, lam, method):
    """(los, diffraction loss) on the path t → r, as documented in gigacov.radio.terrain."""
    D = math.hypot(xr - xt, yr - yt)
    n = math.ceil(D / res)
    if n < 2:
        return True, 0.0

    def eff(i):
        t = i / n
        z = ref_bilinear(dem, tf, xt + (xr - xt) * t, yt + (yr - yt) * t)
        return None if math.isnan(z) else z + t * D * (D - t * D) / (2 * 8.5e6)

    def max_nu(i0, i1, za, zb):
        ta, tb = (i0 - 1) / n, i1 / n
        best, bi, blocked = -math.inf, -1, False
        for i in range(i0, i1):
            e = eff(i)
            if e is None:
                continue
            t = i / n
            h = e - (za + (zb - za) * (t - ta) / (tb - ta))
            blocked |= h > 0
            nu = h * math.sqrt(2 / lam * (1 / ((t - ta) * D) + 1 / ((tb - t) * D)))
            if nu > best:
                best, bi = nu, i
        return best, bi, blocked

    nu_p, ip, blocked = max_nu(1, n, zt, zr)
    if method == "none" or not blocked:
        return not blocked, 0.0
    loss = ref_j(nu_p)
    if method == "deygout":
        e_p = eff(ip)
        if ip > 1:
            loss += ref_j(max_nu(1, ip, zt, e_p)[0])
        if ip < n - 1:
            loss += ref_j(max_nu(ip + 1, n, e_p, zr)[0])
    return False, loss


def ref_horizon(dem, tf, res, xt, yt, zt, xr, yr, zr, lam, method, n_rays):
    """(los, diffraction loss) by the horizon method documented in gigacov.radio.terrain: the
    nearest of the cell's ``n_rays`` rays, its samples one pixel apart before the receiver, the
    largest elevation slope (earth-curvature frame) as a single knife edge. Marches the ray
    afresh for every pixel (the kernel shares the march between pixels)."""
    dx, dy = xr - xt, yr - yt
    D = math.hypot(dx, dy)
    m = math.floor(D / res + 0.5) - 1
    if m < 1:
        return True, 0.0
    j = math.floor(math.atan2(dy, dx) * n_rays / (2 * math.pi) + 0.5) % n_rays
    theta = 2 * math.pi * j / n_rays
    best, i_h = -math.inf, 0
    for i in range(1, m + 1):
        d = i * res
        z = ref_bilinear(dem, tf, xt + d * math.cos(theta), yt + d * math.sin(theta))
        if math.isnan(z):
            continue
        slope = (z - d * d / (2 * 8.5e6) - zt) / d
        if slope > best:
            best, i_h = slope, i
    s = (zr - D * D / (2 * 8.5e6) - zt) / D
    if s >= best:
        return True, 0.0
    if method == "none":
        return False, 0.0
    d_h = i_h * res
    nu = d_h * (best - s) * math.sqrt(2 / lam * (1 / d_h + 1 / (D - d_h)))
    return False, ref_j(nu)


def ref_classes(grid, params, population=None, clutter=None):
    if population is None and clutter is None:
        return np.full(grid.shape, 2, dtype=np.int64)
    cls = np.full(grid.shape, 2, dtype=np.int64)
    if population is not None:
        dens = population / (grid.resolution_m**2 / 1e6)
        cls = np.where(
            dens >= params.urban_density_per_km2,
            1,
            np.where(dens >= params.suburban_density_per_km2, 2, 3),
        )
    if clutter is not None:
        cls = np.where(np.isin(clutter, (1, 2, 3)), clutter, cls)
    return cls


def ref_cell_rsrp(cells, grid, params, cls, dem=None, n_rays=None, stats=None):
    """(n, H, W) RSRP per cell, −inf where the cell does not contribute.

    With a DEM and ``params.terrain_method == "horizon"`` (and not Deygout), ``n_rays[i]`` is
    cell i's ray count (set by its cut-off radius). ``stats`` (a dict) counts the contributing
    pixels that are NLOS and that carry a diffraction loss."""
    xs, ys = TO_XY.transform(cells["lon"].to_numpy(), cells["lat"].to_numpy())
    cx, cy = grid.centres()
    X, Y = np.meshgrid(cx, cy)
    level = params.rsrp_threshold_dbm - params.cutoff_margin_db
    out = np.full((len(cells),) + grid.shape, -np.inf)
    hut = params.ue_height_m
    for i, row in enumerate(cells.itertuples()):
        dx, dy = X - xs[i], Y - ys[i]
        d = np.sqrt(dx**2 + dy**2)
        f = row.freq_mhz / 1000
        omni = math.isnan(row.azimuth_deg)
        phi = np.zeros_like(d)
        if not omni:
            lon2, lat2, _ = GEOD.fwd(row.lon, row.lat, row.azimuth_deg, 100.0)
            x2, y2 = TO_XY.transform(lon2, lat2)
            az = math.degrees(math.atan2(x2 - xs[i], y2 - ys[i]))
            phi = np.degrees(np.arctan2(dx, dy)) - az
        bw = row.beamwidth_deg if np.isfinite(row.beamwidth_deg) else params.default_beamwidth_deg
        los = np.zeros(grid.shape, dtype=bool)
        diff = np.zeros(grid.shape)
        dz = np.full(grid.shape, row.height_m - hut)
        if dem is not None:
            dem_arr, tf = dem
            zs = ref_bilinear(dem_arr, tf, xs[i], ys[i])
            lam = 299792458.0 / (row.freq_mhz * 1e6)
            for r in range(grid.height):
                for c in range(grid.width):
                    if d[r, c] > params.max_radius_m:
                        continue
                    zp = ref_bilinear(dem_arr, tf, X[r, c], Y[r, c])
                    zp = 0.0 if math.isnan(zp) else zp
                    if params.terrain_method == "horizon" and params.diffraction != "deygout":
                        los[r, c], diff[r, c] = ref_horizon(
                            dem_arr,
                            tf,
                            grid.resolution_m,
                            xs[i],
                            ys[i],
                            zs + row.height_m,
                            X[r, c],
                            Y[r, c],
                            zp + hut,
                            lam,
                            params.diffraction,
                            n_rays[i],
                        )
                    else:
                        los[r, c], diff[r, c] = ref_profile(
                            dem_arr,
                            tf,
                            grid.resolution_m,
                            xs[i],
                            ys[i],
                            zs + row.height_m,
                            X[r, c],
                            Y[r, c],
                            zp + hut,
                            lam,
                            params.diffraction,
                        )
                    dz[r, c] = zs + row.height_m - zp - hut
        theta = np.degrees(np.arctan2(dz, d))
        # LOS formula only where the terrain is clear and the pixel is rural (bare-earth DEM: in
        # urban and suburban clutter the buildings still block the direct path).
        model_los = los & (cls == 3)
        loss = ref_path_loss(
            params.model,
            cls,
            model_los,
            d,
            f,
            row.height_m,
            hut,
            params.building_height_m,
            params.street_width_m,
        )
        gain = ref_gain(phi, theta, bw, row.tilt_deg, params.vertical_beamwidth_deg, omni)
        rsrp = (
            row.eirp_dbm
            - 10 * math.log10(12 * row.n_rb)
            - loss
            + gain
            - params.extra_loss_db
            - diff
        )
        out[i] = np.where((d <= params.max_radius_m) & (rsrp >= level), rsrp, -np.inf)
        if stats is not None:
            contributes = np.isfinite(out[i])
            stats["nlos"] = stats.get("nlos", 0) + int((contributes & ~los).sum())
            stats["diffracted"] = stats.get("diffracted", 0) + int((contributes & (diff > 0)).sum())
    return out


def reference_coverage(
    cells, grid, params, population=None, clutter=None, dem=None, n_rays=None, stats=None
):
    cls = ref_classes(grid, params, population, clutter)
    per_cell = ref_cell_rsrp(cells, grid, params, cls, dem, n_rays, stats)
    best = per_cell.max(axis=0)
    server = per_cell.argmax(axis=0)  # first maximum = lowest index
    none = ~np.isfinite(best)
    server[none] = -1
    lin = np.where(np.isfinite(per_cell), 10 ** (per_cell / 10), 0.0)
    # Interference weight of cell j for server i: the share of i's carrier (freq ± bw/2) that
    # j's carrier overlaps; a carrier without a bandwidth is a point hit only by the same point.
    freq = cells["freq_mhz"].to_numpy(dtype=float)
    bw = (
        cells["bandwidth_mhz"].to_numpy(dtype=float)
        if "bandwidth_mhz" in cells.columns
        else np.zeros(len(cells))
    )
    lo, hi = freq - bw / 2, freq + bw / 2
    total = np.zeros(grid.shape)
    srv = np.maximum(server, 0)
    for i in range(len(cells)):
        if bw[i] > 0:
            w = np.clip(np.minimum(hi[i], hi) - np.maximum(lo[i], lo), 0, None) / bw[i]
        else:
            w = ((lo == lo[i]) & (hi == hi[i])).astype(float)
        w[i] = 1.0
        weighted = np.tensordot(w, lin, axes=1)
        total = np.where(~none & (srv == i), weighted, total)
    s = np.where(none, np.nan, 10 ** (best / 10))
    noise = 10 ** (
        (-174 + 10 * np.log10(cells["scs_khz"].to_numpy() * 1000) + params.noise_figure_db) / 10
    )
    interference = np.maximum(params.load * (total - s), 0.0)
    sinr = 10 * np.log10(s / (interference + noise[np.maximum(server, 0)]))
    covered = (~none) & (best >= params.rsrp_threshold_dbm) & (sinr >= params.sinr_threshold_db)
    rsrp = np.where(none, np.nan, best)
    return rsrp, server, np.where(none, np.nan, sinr), covered.astype(np.uint8), per_cell


def assert_matches_reference(res, ref):
    rsrp, server, sinr, covered, _ = ref
    np.testing.assert_array_equal(res.server, server)
    np.testing.assert_array_equal(np.isnan(res.rsrp_dbm), np.isnan(rsrp))
    np.testing.assert_allclose(res.rsrp_dbm, rsrp, atol=1e-3, equal_nan=True)
    np.testing.assert_allclose(res.sinr_db, sinr, atol=1e-3, equal_nan=True)
    np.testing.assert_array_equal(res.covered, covered)


# ------------------------------------------------------------------------------------------------
# Kernels vs reference
# ------------------------------------------------------------------------------------------------

CASES = {
    # name: (model, freqs, tile_size, workers, extra params)
    "auto-population-2freq-pool": ("auto", (3500.0, 2600.0), 16, 2, {}),
    "uma-single-tile-prange": (
        "3gpp-38.901-uma",
        (3500.0,),
        256,
        2,
        {"rsrp_threshold_dbm": -100.0},
    ),
    "umi-serial": ("3gpp-38.901-umi", (3500.0, 4900.0), 23, 1, {"load": 1.0}),
    "rma-extra-loss": (
        "3gpp-38.901-rma",
        (700.0, 2600.0),
        16,
        2,
        {"extra_loss_db": 8.0, "rsrp_threshold_dbm": -95.0},
    ),
    "hata-clutter": ("cost231-hata", (1800.0, 2100.0), 32, 2, {"sinr_threshold_db": 0.0}),
    "free-space-margin0": (
        "free-space",
        (3500.0,),
        20,
        2,
        {"cutoff_margin_db": 0.0, "rsrp_threshold_dbm": -75.0},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_kernels_match_numpy_reference(case):
    model, freqs, tile_size, workers, extra = CASES[case]
    # a fixed seed per case (hash() of a string changes with every process)
    rng = np.random.default_rng(zlib.crc32(case.encode("utf-8")))
    grid = make_grid(36, 44, 50.0)
    cells = random_cells(rng, grid, 14, freqs=freqs)
    params = RadioParams(model=model, max_radius_m=3000.0, **extra)
    population = rng.choice([0.0, 1.0, 2.0, 30.0], size=grid.shape).astype(np.float32)
    clutter = None
    clutter_arr = None
    if model == "cost231-hata":
        clutter_arr = rng.choice([0, 1, 2, 3], size=grid.shape).astype(np.float32)
        clutter = RasterData(clutter_arr, grid.transform, CRS, nodata=None)
    before = cells.copy()
    res = compute_coverage(
        cells,
        grid,
        params,
        population=population,
        clutter=clutter,
        tile_size=tile_size,
        workers=workers,
    )
    pd.testing.assert_frame_equal(cells, before)  # the caller's frame is untouched
    ref = reference_coverage(cells, grid, params, population=population, clutter=clutter_arr)
    assert_matches_reference(res, ref)
    # The case is not trivial: some pixels served, some covered, some not.
    assert 0 < (res.server >= 0).sum() and 0 < res.covered.sum() < res.covered.size
    assert res.rsrp_dbm.dtype == np.float32 and res.sinr_db.dtype == np.float32
    assert res.server.dtype == np.int32 and res.covered.dtype == np.uint8
    # evaluations = cell-pixel pairs within the cut-off radii (counted from the footprints).
    fps = cell_footprints(cells, grid, params, population=population, clutter=clutter)
    assert res.timings["evaluations"] == sum(
        _pixels_within(fp, cells, grid, params, population, clutter, k) for k, fp in enumerate(fps)
    )


def _pixels_within(fp, cells, grid, params, population, clutter, k):
    from gigacov.radio import kernels as K
    from gigacov.radio import prepare

    tile, _ = fp
    if tile.size == 0:
        return 0
    prep = prepare.prepare(cells.reset_index(drop=True), grid, params, population, clutter, None)
    x, y = prep.cellp[k, K.X], prep.cellp[k, K.Y]
    cx, cy = grid.centres(tile)
    X, Y = np.meshgrid(cx, cy)
    return int(((X - x) ** 2 + (Y - y) ** 2 <= prep.cellp[k, K.RADIUS] ** 2).sum())


def test_results_do_not_depend_on_tiling_or_workers():
    rng = np.random.default_rng(7)
    grid = make_grid(50, 61, 40.0)
    cells = random_cells(rng, grid, 20, freqs=(3500.0, 2600.0))
    params = RadioParams(model="3gpp-38.901-uma")
    runs = [
        compute_coverage(cells, grid, params, tile_size=ts, workers=wk)
        for ts, wk in ((256, 2), (256, 1), (13, 2), (64, 2), (7, 1))
    ]
    for other in runs[1:]:
        assert_same_coverage(runs[0], other)


# ------------------------------------------------------------------------------------------------
# Footprints
# ------------------------------------------------------------------------------------------------


def test_cell_footprints_match_reference_and_coverage():
    rng = np.random.default_rng(11)
    grid = make_grid(30, 40, 50.0)
    cells = random_cells(rng, grid, 9, margin=2500.0)
    # One cell far outside the grid: its window misses the grid.
    lon, lat = TO_LL.transform(X0 - 60_000.0, Y0)
    cells.loc[8, ["lon", "lat"]] = [lon, lat]
    params = RadioParams(model="auto", max_radius_m=2500.0)
    population = rng.choice([0.0, 5.0, 30.0], size=grid.shape).astype(np.float32)
    fps = cell_footprints(cells, grid, params, population=population)
    assert len(fps) == len(cells)
    assert fps[8][0] == Tile(0, 0, 0, 0) and fps[8][1].shape == (0, 0)
    ref = reference_coverage(cells, grid, params, population=population)
    per_cell = ref[4]
    best = np.full(grid.shape, np.nan, dtype=np.float32)
    xs, ys = TO_XY.transform(cells["lon"].to_numpy(), cells["lat"].to_numpy())
    for k, (tile, rsrp) in enumerate(fps):
        assert rsrp.dtype == np.float32
        expected = np.full(grid.shape, np.nan)
        finite = np.isfinite(per_cell[k])
        expected[finite] = per_cell[k][finite]
        # Nothing outside the window.
        mask = np.ones(grid.shape, dtype=bool)
        if tile.size:
            mask[tile.slices] = False
            np.testing.assert_allclose(rsrp, expected[tile.slices], atol=1e-3, equal_nan=True)
            assert tile == grid.window_around(
                xs[k], ys[k], _radius(cells, grid, params, population, k)
            )
            best[tile.slices] = np.fmax(best[tile.slices], rsrp)
        assert np.isnan(expected[mask]).all()
    res = compute_coverage(cells, grid, params, population=population)
    np.testing.assert_array_equal(res.rsrp_dbm, best)


def _radius(cells, grid, params, population, k):
    from gigacov.radio import kernels as K
    from gigacov.radio import prepare

    return prepare.prepare(cells, grid, params, population, None, None).cellp[k, K.RADIUS]


# ------------------------------------------------------------------------------------------------
# Analytical checks
# ------------------------------------------------------------------------------------------------


def test_one_omni_site_free_space_covers_a_disc_of_link_budget_radius():
    res_m = 50.0
    grid = make_grid(90, 90, res_m)
    xc, yc = X0 + 45 * res_m + 10.0, Y0 - 45 * res_m - 20.0  # site near the centre, off-lattice
    lon, lat = TO_LL.transform(xc, yc)
    cells = pd.DataFrame(
        {
            "lon": [lon],
            "lat": [lat],
            "tech": ["5G"],
            "freq_mhz": [3500.0],
            "n_rb": [273],
            "scs_khz": [30.0],
            "height_m": [30.0],
            "azimuth_deg": [np.nan],
            "tilt_deg": [np.nan],
            "eirp_dbm": [61.0],
        }
    )
    threshold = -80.0
    params = RadioParams(model="free-space", rsrp_threshold_dbm=threshold, sinr_threshold_db=-50.0)
    res = compute_coverage(cells, grid, params)
    # Link budget: EIRP per RE = 61 − 10·log10(12·273) = 25.8466 dBm; covered while
    # 32.45 + 20·log10(3500) + 20·log10(d3d_km) ≤ 25.8466 − (−80) = 105.8466 dB.
    eirp_re = 61 - 10 * math.log10(12 * 273)
    d3d_km = 10 ** ((eirp_re - threshold - 32.45 - 20 * math.log10(3500)) / 20)
    r = math.sqrt((d3d_km * 1000) ** 2 - (30 - 1.5) ** 2)
    assert r == pytest.approx(1335.4, abs=0.5)
    area = res.covered.sum() * res_m**2
    # Pixels are counted by their centres: the union lies between the discs r ± half a diagonal.
    half_diag = res_m / math.sqrt(2)
    assert math.pi * (r - half_diag) ** 2 < area < math.pi * (r + half_diag) ** 2
    assert area == pytest.approx(math.pi * r**2, rel=0.01)
    # No interferer: SINR = RSRP − noise per RE (−174 + 10·log10(30 kHz) + 7 dB).
    noise = -174 + 10 * math.log10(30e3) + 7.0
    served = res.server == 0
    np.testing.assert_allclose(res.sinr_db[served], res.rsrp_dbm[served] - noise, atol=1e-3)


def test_sinr_counts_same_frequency_only():
    grid = make_grid(3, 41, 50.0)
    # Two identical omni cells 1000 m apart on the middle row; the middle pixel is equidistant.
    ym = Y0 - 1.5 * 50.0
    xa, xb = X0 + 10.5 * 50.0, X0 + 30.5 * 50.0
    lon, lat = TO_LL.transform([xa, xb], [ym, ym])

    def run(freq_b):
        cells = pd.DataFrame(
            {
                "lon": lon,
                "lat": lat,
                "tech": "5G",
                "freq_mhz": [3500.0, freq_b],
                "n_rb": 273,
                "scs_khz": 30.0,
                "height_m": 30.0,
                "azimuth_deg": np.nan,
                "tilt_deg": np.nan,
                "eirp_dbm": 61.0,
            }
        )
        return compute_coverage(cells, grid, RadioParams(model="free-space", load=0.5))

    same, other = run(3500.0), run(3500.0 + 100.0)
    r, c = 1, 20
    s = 10 ** (same.rsrp_dbm[r, c] / 10)
    noise = 10 ** ((-174 + 10 * math.log10(30e3) + 7.0) / 10)
    # Same frequency: the twin interferes at full strength × load 0.5.
    assert same.sinr_db[r, c] == pytest.approx(10 * math.log10(s / (0.5 * s + noise)), abs=1e-3)
    assert same.sinr_db[r, c] == pytest.approx(10 * math.log10(2.0), abs=0.01)
    # Equal RSRP: the tie goes to the lower index.
    assert same.server[r, c] == 0
    # Other frequency: noise only.
    assert other.sinr_db[r, c] == pytest.approx(10 * math.log10(s / noise), abs=1e-3)


def test_interference_groups_take_an_overlap_matrix():
    """The kernels weigh each interferer by ``overlap[server's group, its group]``, also when the
    matrix is not symmetric: here 0.4 and 0.25 of the other carrier's power counts."""
    from gigacov.radio import backends, prepare

    rng = np.random.default_rng(23)
    grid = make_grid(22, 26, 50.0)
    cells = random_cells(rng, grid, 10, freqs=(3500.0, 3600.0), margin=200.0)
    params = RadioParams(model="3gpp-38.901-uma", load=0.7, max_radius_m=2500.0)
    prep = prepare.prepare(cells, grid, params, None, None, None)
    np.testing.assert_array_equal(prep.overlap, np.eye(2))  # 100 MHz apart: no overlap
    weight = np.array([[1.0, 0.4], [0.25, 1.0]])
    prep.overlap = weight
    sinr = {}
    for tile_size, workers in ((9, 2), (64, 1)):
        outputs, _ = backends.allocate_outputs(grid, 2**30)
        tiles = backends.bucket_tiles(prep, tile_size)
        backends.run_threads(prep, tiles, outputs, workers, lambda: None)
        sinr[tile_size] = outputs["sinr"]
    np.testing.assert_array_equal(sinr[9], sinr[64])

    _, server, plain_sinr, _, per_cell = reference_coverage(cells, grid, params)
    np.testing.assert_array_equal(outputs["server"], server)
    group = np.unique(cells["freq_mhz"].to_numpy(), return_inverse=True)[1]
    lin = np.where(np.isfinite(per_cell), 10 ** (per_cell / 10), 0.0)
    noise = 10 ** ((-174 + 10 * math.log10(30e3) + params.noise_figure_db) / 10)
    served = server >= 0
    gs = group[np.maximum(server, 0)]
    total = sum(weight[gs, group[j]] * lin[j] for j in range(len(cells)))
    s = np.where(served, 10 ** (np.nanmax(np.where(served, per_cell, -np.inf), axis=0) / 10), 1.0)
    interference = np.maximum(params.load * (total - s), 0.0)
    expected = np.where(served, 10 * np.log10(s / (interference + noise)), np.nan)
    np.testing.assert_allclose(outputs["sinr"], expected, atol=1e-3, equal_nan=True)
    # The weights matter: cross-carrier interference lowers the SINR where both groups reach.
    assert (outputs["sinr"][served] < plain_sinr[served] - 0.1).sum() > 20


# ------------------------------------------------------------------------------------------------
# Edge cases and errors
# ------------------------------------------------------------------------------------------------


def test_empty_cells_give_all_uncovered():
    grid = make_grid(10, 12, 100.0)
    cells = random_cells(np.random.default_rng(0), grid, 3).iloc[0:0]
    res = compute_coverage(cells, grid, RadioParams())
    assert np.isnan(res.rsrp_dbm).all() and np.isnan(res.sinr_db).all()
    assert (res.server == NO_SERVER).all() and (res.covered == 0).all()
    assert res.timings["evaluations"] == 0 and res.timings["tiles"] == 0
    assert cell_footprints(cells, grid, RadioParams()) == []


def test_cells_far_outside_do_nothing():
    grid = make_grid(10, 12, 100.0)
    lon, lat = TO_LL.transform([X0 - 50_000.0], [Y0 + 50_000.0])
    cells = random_cells(np.random.default_rng(0), grid, 1)
    cells[["lon", "lat"]] = [[lon[0], lat[0]]]
    res = compute_coverage(cells, grid, RadioParams(max_radius_m=15_000.0))
    assert (res.server == NO_SERVER).all() and res.timings["evaluations"] == 0


def test_bad_cells_name_row_and_column():
    grid = make_grid(10, 12, 100.0)
    cells = random_cells(np.random.default_rng(0), grid, 4)
    bad = cells.copy()
    bad.loc[2, "freq_mhz"] = np.nan
    with pytest.raises(
        InputError, match=r"cells row 4, column 'freq_mhz': nan is not a positive frequency"
    ):
        compute_coverage(bad, grid, RadioParams())
    bad = cells.copy()
    bad.loc[1, "height_m"] = -3.0
    with pytest.raises(
        InputError, match=r"row 3, column 'height_m': -3.0 is not a positive height"
    ):
        cell_footprints(bad, grid, RadioParams())
    with pytest.raises(InputError, match="required column 'eirp_dbm' is missing"):
        compute_coverage(cells.drop(columns="eirp_dbm"), grid, RadioParams())
    bad = cells.copy()
    bad.loc[3, "tech"] = "4G"
    with pytest.raises(InputError, match=r"row 5, column 'tech': '4G' but this call computes '5G'"):
        compute_coverage(bad, grid, RadioParams(tech="5G"))
    bad = cells.drop(columns="n_rb").assign(bandwidth_mhz=[100.0, 100.0, 33.0, 100.0])
    with pytest.raises(
        InputError, match=r"row 4, column 'bandwidth_mhz': 33.0 is not a resource-block count"
    ):
        compute_coverage(bad, grid, RadioParams())
    # Without n_rb the 3GPP table gives 273 RBs for 100 MHz at 30 kHz: same result as with it.
    a = compute_coverage(cells.drop(columns="n_rb"), grid, RadioParams())
    b = compute_coverage(cells, grid, RadioParams())
    np.testing.assert_array_equal(a.rsrp_dbm, b.rsrp_dbm)


def test_bad_parameters_name_the_key():
    grid = make_grid(10, 12, 100.0)
    cells = random_cells(np.random.default_rng(0), grid, 2)
    with pytest.raises(ConfigError, match=r"\[radio\] model: 'hata' is not one of"):
        compute_coverage(cells, grid, RadioParams(model="hata"))
    with pytest.raises(ConfigError, match=r"\[radio\] load must be between 0 and 1, got 1.5"):
        compute_coverage(cells, grid, RadioParams(load=1.5))
    with pytest.raises(
        ConfigError, match=r"\[radio\] vertical_beamwidth_deg must be > 0 degrees, got 0.0"
    ):
        cell_footprints(cells, grid, RadioParams(vertical_beamwidth_deg=0.0))
    with pytest.raises(ConfigError, match=r"\[compute\] backend: 'spark' is not one of"):
        compute_coverage(cells, grid, RadioParams(), backend="spark")
    with pytest.raises(ConfigError, match=r"\[grid\] tile_size must be a positive integer, got 0"):
        compute_coverage(cells, grid, RadioParams(), tile_size=0)
    with pytest.raises(InputError, match=r"population grid has shape \(3, 3\)"):
        compute_coverage(
            cells, grid, RadioParams(model="auto"), population=np.zeros((3, 3), np.float32)
        )
    with pytest.raises(
        ConfigError, match=r"\[radio\] terrain_method: 'fast' is not one of 'horizon', 'profile'"
    ):
        compute_coverage(cells, grid, RadioParams(terrain_method="fast"))


def test_outputs_spill_to_memmap_over_budget_with_same_values():
    rng = np.random.default_rng(5)
    grid = make_grid(40, 40, 50.0)
    cells = random_cells(rng, grid, 6)
    params = RadioParams(model="3gpp-38.901-uma")
    in_memory = compute_coverage(cells, grid, params)
    # 40×40 pixels × 13 bytes = 20,800 bytes > a 0.01 MiB budget.
    spilled = compute_coverage(cells, grid, params, memory_budget_mb=0.01)
    assert isinstance(spilled.rsrp_dbm, np.memmap) and isinstance(spilled.covered, np.memmap)
    assert not isinstance(in_memory.rsrp_dbm, np.memmap)
    assert spilled.timings["memmap"] == 1.0
    assert_same_coverage(in_memory, spilled)


def test_azimuth_is_corrected_for_meridian_convergence():
    # A sector pointing true north, 2° east of the zone's central meridian (117°E) at 25°N: in
    # UTM its boresight is rotated by the meridian convergence γ (grid north → true north).
    lon, lat = 119.0, 25.0
    x, y = TO_XY.transform(lon, lat)
    gamma = pyproj.Proj(CRS).get_factors(lon, lat).meridian_convergence
    assert abs(gamma) > 0.5
    res = 20.0
    grid = Grid(CRS, Affine(res, 0.0, x - 1000.0, 0.0, -res, y + 1000.0), 100, 100)
    cells = pd.DataFrame(
        {
            "lon": [lon],
            "lat": [lat],
            "tech": "5G",
            "freq_mhz": 3500.0,
            "n_rb": 273,
            "scs_khz": 30.0,
            "height_m": 30.0,
            "azimuth_deg": 0.0,
            "beamwidth_deg": 10.0,
            "tilt_deg": np.nan,
            "eirp_dbm": 61.0,
        }
    )
    ((tile, rsrp),) = cell_footprints(
        cells, grid, RadioParams(model="free-space", max_radius_m=900.0)
    )
    # On a circle of radius 800 m the strongest pixel lies on the grid bearing of true north.
    cx, cy = grid.centres(tile)
    X, Y = np.meshgrid(cx, cy)
    ring = np.abs(np.hypot(X - x, Y - y) - 800.0) < 10.0
    k = np.nanargmax(np.where(ring, rsrp, np.nan))
    bearing = math.degrees(math.atan2(X.flat[k] - x, Y.flat[k] - y))
    assert bearing == pytest.approx(-gamma, abs=1.0)


# ------------------------------------------------------------------------------------------------
# Terrain against the reference
# ------------------------------------------------------------------------------------------------


DEM_CASES = {
    # name: (terrain_method, diffraction, seed, tile_size, workers)
    "horizon-knife-edge": ("horizon", "knife-edge", 4, 8, 2),
    "horizon-none-one-tile-prange": ("horizon", "none", 5, 256, 2),
    "profile-knife-edge": ("profile", "knife-edge", 4, 8, 2),
    "profile-deygout": ("profile", "deygout", 3, 8, 1),
    "horizon-setting-deygout": ("horizon", "deygout", 3, 256, 2),  # → profile
}


def hills_dem(rng, grid, pad=40, n=10, heights=(30.0, 90.0)):
    """A DEM on the grid lattice, ``pad`` pixels larger on each side: smooth random hills."""
    res = grid.resolution_m
    hh, ww = grid.height + 2 * pad, grid.width + 2 * pad
    yy, xx = np.mgrid[0:hh, 0:ww]
    z = np.zeros((hh, ww))
    for _ in range(n):  # centred over the grid and just around it
        r0, c0 = (
            rng.uniform(pad - 8, pad + grid.height + 8),
            rng.uniform(pad - 8, pad + grid.width + 8),
        )
        z += rng.uniform(*heights) * np.exp(
            -((yy - r0) ** 2 + (xx - c0) ** 2) / (2 * rng.uniform(2, 6) ** 2)
        )
    tf = Affine(res, 0.0, X0 - pad * res, 0.0, -res, Y0 + pad * res)
    return RasterData(z.astype(np.float32), tf, CRS, nodata=None), (
        z.astype(np.float32).astype(np.float64),
        tf,
    )


@pytest.mark.parametrize("case", list(DEM_CASES))
def test_dem_kernels_match_reference(case):
    from gigacov.radio import kernels as K
    from gigacov.radio import prepare

    method, diffraction, seed, tile_size, workers = DEM_CASES[case]
    rng = np.random.default_rng(seed)
    res = 50.0
    grid = make_grid(18, 20, res)
    cells = random_cells(rng, grid, 3, freqs=(3500.0, 2600.0), margin=100.0)
    params = RadioParams(
        model="auto",
        diffraction=diffraction,
        terrain_method=method,
        max_radius_m=1500.0,
        rsrp_threshold_dbm=-110.0,
    )
    dem, dem_ref = hills_dem(rng, grid)
    population = rng.choice([0.0, 30.0], size=grid.shape).astype(np.float32)
    out = compute_coverage(
        cells, grid, params, population=population, dem=dem, tile_size=tile_size, workers=workers
    )
    n_rays = prepare.prepare(cells, grid, params, population, None, dem).celli[:, K.N_RAYS]
    stats: dict[str, int] = {}
    ref = reference_coverage(
        cells, grid, params, population=population, dem=dem_ref, n_rays=n_rays, stats=stats
    )
    assert_matches_reference(out, ref)
    flat = compute_coverage(cells, grid, params, population=population, tile_size=tile_size)
    assert not np.array_equal(out.rsrp_dbm, flat.rsrp_dbm, equal_nan=True)  # terrain mattered
    # ... through NLOS pixels that contribute, with diffraction loss where it is charged.
    assert stats["nlos"] > 20 and (stats["diffracted"] > 20) == (diffraction != "none"), stats
    # The footprints take the same terrain path: each cell's own RSRP as in the reference.
    for k, (tile, rsrp) in enumerate(
        cell_footprints(cells, grid, params, population=population, dem=dem)
    ):
        expected = np.where(np.isfinite(ref[4][k]), ref[4][k], np.nan)[tile.slices]
        np.testing.assert_allclose(rsrp, expected, atol=1e-3, equal_nan=True)


def test_terrain_method_comes_from_the_scenario_and_defaults_to_horizon():
    from gigacov.scenario import RadioSection

    assert RadioParams().terrain_method == "horizon" == RadioSection().terrain_method
    assert (
        RadioParams.from_section(RadioSection(terrain_method="profile"), "4G").terrain_method
        == "profile"
    )


def test_horizon_scratch_over_the_memory_budget_is_an_error():
    # 15 km at 10 m: 9,425 rays × 1,500 samples × 12 bytes ≈ 162 MiB per worker > 100 MiB (the
    # padded DEM, 3,024² × 4 bytes ≈ 35 MiB, fits).
    grid = make_grid(20, 20, 10.0)
    cells = random_cells(np.random.default_rng(1), grid, 1, margin=0.0)
    dem = RasterData(np.zeros((4, 4), np.float32), Affine(100.0, 0, X0, 0, -100.0, Y0), CRS)
    params = RadioParams(model="free-space", max_radius_m=15_000.0, rsrp_threshold_dbm=-200.0)
    with pytest.raises(
        ResourceError,
        match=r"the horizon sweep needs 16\d MiB of scratch per worker for a "
        r"cut-off radius of 15000 m at 10 m, over the budget of 100 MiB",
    ):
        compute_coverage(cells, grid, params, dem=dem, memory_budget_mb=100)


def test_warped_dem_is_reused_but_never_stale():
    from gigacov.radio import ground

    rng = np.random.default_rng(2)
    grid = make_grid(16, 16, 50.0)
    cells = random_cells(rng, grid, 2, margin=0.0)
    dem, _ = hills_dem(rng, grid, pad=30, n=6)
    params = RadioParams(model="3gpp-38.901-uma", max_radius_m=1200.0)
    first = compute_coverage(cells, grid, params, dem=dem)
    cached = next(iter(ground._DEM_CACHE.values()))
    again = compute_coverage(cells, grid, params, dem=dem)
    assert next(iter(ground._DEM_CACHE.values())) is cached  # same DEM and grid: not warped again
    np.testing.assert_array_equal(again.rsrp_dbm, first.rsrp_dbm)
    # The caller changes the DEM in place (a 300 m plateau): warped afresh, results change.
    dem.array[:, :] += np.float32(300.0) * (np.arange(dem.array.shape[1]) > 40)
    changed = compute_coverage(cells, grid, params, dem=dem)
    assert next(iter(ground._DEM_CACHE.values())) is not cached
    assert not np.array_equal(changed.rsrp_dbm, first.rsrp_dbm, equal_nan=True)


def test_dem_results_do_not_depend_on_tiling_or_workers():
    rng = np.random.default_rng(12)
    grid = make_grid(40, 44, 50.0)
    cells = random_cells(rng, grid, 12, freqs=(3500.0, 2600.0))
    dem, _ = hills_dem(rng, grid, pad=60, n=12)
    params = RadioParams(model="3gpp-38.901-uma", max_radius_m=2500.0)
    runs = [
        compute_coverage(cells, grid, params, dem=dem, tile_size=ts, workers=wk)
        for ts, wk in ((256, 2), (256, 1), (13, 2), (7, 1))  # row bands in parallel, serial, pools
    ]
    for other in runs[1:]:
        assert_same_coverage(runs[0], other)


def test_sectors_of_one_mast_share_horizon_rays_only_when_the_antenna_is_the_same():
    """Consecutive cells with the same antenna position and height reuse the rays the previous
    one marched; a cell on the same mast at another height must not. Both against the
    per-cell reference and against an order in which no two neighbours share a mast."""
    from gigacov.radio import kernels as K
    from gigacov.radio import prepare

    rng = np.random.default_rng(31)
    grid = make_grid(30, 32, 50.0)
    cells = random_cells(rng, grid, 8, margin=0.0, omni=0.0)
    mast = cells.iloc[0]
    # Cells 0–2: three sectors of one mast; 3: the same mast 12 m lower; 4: the same position
    # and height with less power (a shorter radius, so other rays).
    for i, (az, h, eirp) in enumerate(
        [(0.0, 30.0, 60.0), (120.0, 30.0, 60.0), (240.0, 30.0, 60.0), (60.0, 18.0, 60.0)]
        + [(300.0, 30.0, 10.0)]
    ):
        cells.loc[i, ["lon", "lat"]] = mast["lon"], mast["lat"]
        cells.loc[i, ["azimuth_deg", "height_m", "freq_mhz", "eirp_dbm"]] = az, h, 3500.0, eirp
    dem, dem_ref = hills_dem(rng, grid, pad=50, n=14, heights=(40.0, 120.0))
    params = RadioParams(model="auto", max_radius_m=2000.0, rsrp_threshold_dbm=-110.0)
    population = rng.choice([0.0, 30.0], size=grid.shape).astype(np.float32)
    prep = prepare.prepare(cells, grid, params, population, None, dem)
    n_rays = prep.celli[:, K.N_RAYS]
    assert n_rays[0] == n_rays[1] == n_rays[2] != n_rays[4]

    shared = compute_coverage(cells, grid, params, population=population, dem=dem, workers=1)
    ref = reference_coverage(cells, grid, params, population=population, dem=dem_ref, n_rays=n_rays)
    assert_matches_reference(shared, ref)
    # The mast's cells apart (another mast between each): no ray is reused, same values.
    order = [0, 5, 1, 6, 2, 7, 3, 4]
    apart = compute_coverage(
        cells.iloc[order].reset_index(drop=True),
        grid,
        params,
        population=population,
        dem=dem,
        workers=1,
    )
    np.testing.assert_array_equal(apart.rsrp_dbm, shared.rsrp_dbm)
    served = shared.server >= 0
    np.testing.assert_array_equal(
        cells["cell_id"].to_numpy()[shared.server[served]],
        cells["cell_id"].to_numpy()[order][apart.server[served]],
    )
    # (the SINR sums add the cells in another order: equal to rounding)
    np.testing.assert_allclose(apart.sinr_db, shared.sinr_db, rtol=0, atol=1e-9)
    # The sectors that reuse rays and the lower antenna serve pixels, so the test sees them.
    ids = set(cells["cell_id"].to_numpy()[np.unique(shared.server[served])])
    assert {"C1", "C2", "C3"} <= ids, ids


# ------------------------------------------------------------------------------------------------
# Dask
# ------------------------------------------------------------------------------------------------


def test_dask_localcluster_gives_identical_rasters():
    rng = np.random.default_rng(21)
    grid = make_grid(48, 52, 50.0)
    cells = random_cells(rng, grid, 16, freqs=(3500.0, 2600.0))
    params = RadioParams(model="auto")
    population = rng.choice([0.0, 1.0, 30.0], size=grid.shape).astype(np.float32)
    threads = compute_coverage(cells, grid, params, population=population, tile_size=16, workers=2)
    dask = compute_coverage(
        cells, grid, params, population=population, tile_size=16, workers=2, backend="dask"
    )
    assert_same_coverage(threads, dask)
    assert threads.timings["evaluations"] > 0
    assert dask.timings["tiles"] == threads.timings["tiles"] == 12  # 48×52 pixels in 16² tiles: 3×4


# ------------------------------------------------------------------------------------------------
# Rasters in other CRSs
# ------------------------------------------------------------------------------------------------


def test_clutter_raster_in_wgs84_is_warped_with_nearest():
    from gigacov.radio import clutter_classes

    grid = make_grid(40, 60, 50.0)
    (lon0, lon1), (lat0, lat1) = TO_LL.transform(
        [X0 - 500, X0 + 60 * 50 + 500], [Y0 - 40 * 50 - 500, Y0 + 500]
    )
    # West of the middle longitude urban (1), east rural (3); a band of class 0 (unknown) in the
    # west where the population rule decides (4 persons/km²: rural).
    n = 200
    arr = np.where(np.arange(n)[None, :] < n // 2, 1, 3).repeat(n, axis=0).astype(np.uint8)
    arr[:, 40:60] = 0
    tf = Affine((lon1 - lon0) / n, 0.0, lon0, 0.0, -(lat1 - lat0) / n, lat1)
    raster = RasterData(arr, tf, pyproj.CRS.from_epsg(4326), nodata=None)
    population = np.full(grid.shape, 0.01, dtype=np.float32)  # 4 persons/km² → rural by density
    cls = clutter_classes(grid, RadioParams(), population=population, clutter=raster)
    assert cls.dtype == np.int8 and cls.shape == grid.shape
    xs, ys = grid.centres()
    lon, _ = TO_LL.transform(xs, np.full_like(xs, ys[20]))
    mid = lon0 + (lon1 - lon0) / 2
    step = (lon1 - lon0) / n
    band = (lon > lon0 + 40 * step + 0.001) & (lon < lon0 + 60 * step - 0.001)
    west = (lon < mid - 0.001) & ~(
        (lon > lon0 + 40 * step - 0.001) & (lon < lon0 + 60 * step + 0.001)
    )
    east = lon > mid + 0.001
    assert band.any() and west.any() and east.any()
    assert (cls[20, west] == 1).all() and (cls[20, east] == 3).all() and (cls[20, band] == 3).all()
    # Without population, unknown clutter falls back to suburban.
    no_pop = clutter_classes(
        grid, RadioParams(), clutter=RasterData(np.zeros_like(arr), tf, pyproj.CRS.from_epsg(4326))
    )
    assert (no_pop == 2).all()


def test_dem_in_wgs84_is_warped_and_flat_terrain_changes_nothing(caplog):
    grid = make_grid(20, 24, 50.0)
    rng = np.random.default_rng(8)
    cells = random_cells(rng, grid, 4, omni=1.0, no_tilt=1.0, margin=0.0)
    (lon0, lon1), (lat0, lat1) = TO_LL.transform([X0 - 5000, X0 + 6000], [Y0 - 6000, Y0 + 5000])
    flat = RasterData(
        np.full((300, 300), 250.0, np.float32),
        Affine((lon1 - lon0) / 300, 0, lon0, 0, -(lat1 - lat0) / 300, lat1),
        pyproj.CRS.from_epsg(4326),
    )
    params = RadioParams(model="free-space", max_radius_m=2000.0)
    with_dem = compute_coverage(cells, grid, params, dem=flat)
    without = compute_coverage(cells, grid, params)
    # Flat ground: every path is LOS, no diffraction; free space has one formula.
    np.testing.assert_allclose(with_dem.rsrp_dbm, without.rsrp_dbm, atol=1e-4, equal_nan=True)
    np.testing.assert_array_equal(with_dem.server, without.server)
    # A DEM that covers only part of the grid is reported.
    small = RasterData(np.full((10, 10), 250.0, np.float32), Affine(50.0, 0, X0, 0, -50.0, Y0), CRS)
    caplog.set_level("WARNING", logger="gigacov.radio.ground")
    compute_coverage(cells, grid, params, dem=small)
    assert any("covers only" in r.getMessage() for r in caplog.records)


def test_validity_warnings_name_only_the_models_used_beyond_their_range(caplog):
    from gigacov.radio import models

    models._WARNED.clear()
    grid = make_grid(20, 20, 100.0)
    cells = random_cells(np.random.default_rng(4), grid, 3, margin=0.0)
    cells["freq_mhz"] = 700.0  # long reach: RMa up to the 15 km cap
    rural = np.zeros(grid.shape, dtype=np.float32)  # 0 persons → every pixel rural → RMa only
    caplog.set_level("WARNING", logger="gigacov.radio.models")
    compute_coverage(
        cells, grid, RadioParams(model="auto", max_radius_m=15_000.0), population=rural
    )
    msgs = [r.getMessage() for r in caplog.records if "exceed" in r.getMessage()]
    # RMa NLOS at 700 MHz reaches the contribution level at ≈ 5.9 km (> its 5 km range); UMa is
    # not used at all, so it is not mentioned.
    assert len(msgs) == 1 and msgs[0].startswith("3gpp-38.901-rma: distances up to 5.9 km"), msgs
    models._WARNED.clear()
