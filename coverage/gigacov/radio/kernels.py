"""Numba kernels of the radio engine: a tile of pixels (serial and row-band parallel) and one
cell's footprint.

The tile kernel works cell by cell over bands of rows (:func:`_band`): per cell its constants are
set up once, then per row one loop over the pixels of the cell's circle evaluates the RSRP and
accumulates it (best server, server index, linear power per frequency group). That loop is
branch-free so LLVM vectorises it: path loss in the **coefficient form** below, the 38.901
antenna pattern from the geometry (:func:`antenna_gain_fast`) and :mod:`gigacov.radio.vmath`
for log10 / atan2 / 10^(x/10). Per pixel the cells are taken in ascending index order in every
kernel, so the serial, row-band-parallel and Dask paths give identical results.

Coefficient form of the path-loss models
----------------------------------------
Every model of :mod:`gigacov.radio.models` is, for a given cell and clutter class, exactly::

    PL = max( A1 + B1·log10(d3d) + C1·d3d + E1·log10(d2d),  A2 + B2·log10(d3d) )

with (A1, B1, C1) switching at the breakpoint (d2d ≤ BP: low set, else high set) and ``A2`` the
NLOS term (3GPP; replaced by −∞ for LOS pixels) or the free-space floor (COST-231 Hata). The
coefficients are computed per cell from the published formulas by
:func:`gigacov.radio.engine.path_loss_coefficients` and :func:`coef_path_loss` is tested against
the scalar model functions. Distances are clamped as in the scalar functions (d2d ≥ ``DMIN``,
d3d² ≥ ``D3MIN2``).

Array layouts (filled by :mod:`gigacov.radio.engine`)
-----------------------------------------------------
``cellp`` (float64, n × NCELLP)
    per cell: position (grid CRS), mast height, EIRP per RE, frequency, ground at the site,
    cut-off radius, noise per RE (mW), wavelength, sin/cos of the grid azimuth, antenna
    curvatures ``KH = 12/φ3dB²`` and ``KV = 12/θ3dB²`` (rad⁻²; 0 = no pattern), tilt (rad).
``coef`` (float64, n × 3·NCOEF)
    path-loss coefficients per clutter class (urban, suburban, rural).
``celli`` (int64, n × NCELLI)
    per cell: global index (server id), frequency group, window rows/cols [R0, R1) × [C0, C1).
``sp`` (float64, NSP) / ``ip`` (int64, NIP)
    scalar parameters.

A cell contributes to a pixel — as candidate server and as interferer — when the pixel centre
is within its cut-off radius and its RSRP there is ≥ ``LEVEL`` (threshold − margin). Ties between
servers go to the lowest cell index.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit, pjit, prange
from .models import AUTO, RMA, RURAL, UMA, path_loss_code
from .terrain import profile_loss, sample_bilinear
from .vmath import atan2_fast, db_to_linear, log10_ge1

__all__ = [
    "tile_kernel",
    "tile_kernel_parallel",
    "footprint_kernel",
    "coef_path_loss",
    "coef_tuple",
    "antenna_gain_fast",
    "cutoff_radius",
    "cutoff_radii",
    "resolve_model",
]

# cellp columns
X, Y, HBS, EIRP_RE, FGHZ, ZSITE, RADIUS, NOISE_MW, WAVELEN, SINAZ, COSAZ, KH, KV, TILT_RAD = range(14)
NCELLP = 14
# coefficient columns (per class block)
BP, A1L, B1L, C1L, A1H, B1H, C1H, E1, A2N, A2L, B2 = range(11)
NCOEF = 11
# celli columns
GID, GROUP, R0, R1, C0, C1 = range(6)
NCELLI = 6
# sp entries
(SX0, SY0, RES, HUT, EXTRA, LEVEL, LOAD, THR_RSRP, THR_SINR, DEM_X0, DEM_Y0, DMIN, D3MIN2) = range(13)
NSP = 13
# ip entries
MODEL, HAS_DEM, DIFFR, NGROUPS, DEM_ROW_OFF, DEM_COL_OFF, NEED_LOG_D2D, NEED_D3 = range(8)
NIP = 8
#: Scratch rows are this much longer than the tile and the pixel loops run over a multiple of it,
#: so LLVM's vector loop (4 lanes × 2) rarely falls back to its slow scalar remainder.
PAD = 8

A_M_DB = 30.0
SLA_V_DB = 30.0


@jit
def resolve_model(model: int, cls: int) -> int:
    """The concrete model for clutter class ``cls``: ``auto`` → UMa (urban, suburban) / RMa (rural)."""
    if model == AUTO:
        return RMA if cls == RURAL else UMA
    return model


@jit
def coef_tuple(coef, k, cls):
    """The NCOEF path-loss coefficients of cell ``k`` for clutter class ``cls`` (1–3), as a tuple."""
    o = (cls - 1) * NCOEF
    return (
        coef[k, o], coef[k, o + 1], coef[k, o + 2], coef[k, o + 3], coef[k, o + 4], coef[k, o + 5],
        coef[k, o + 6], coef[k, o + 7], coef[k, o + 8], coef[k, o + 9], coef[k, o + 10],
    )


@jit(inline="always")
def coef_path_loss(cu, cs, cr, cls, d2d, los, dh2, dmin, d3min2, need_log_d2d, need_d3) -> float:
    """Path loss (dB) from the coefficient tuples of the three classes (``cu``, ``cs``, ``cr``)
    for a pixel of class ``cls``; branch-free (selects), so it vectorises. ``need_d3`` may be
    False when no class has a ``C1`` term (only RMa LOS has one)."""
    u = cls == 1
    s = cls == 2
    dcl = max(d2d, dmin)
    d3sq = max(dcl * dcl + dh2, d3min2)
    lg = 0.5 * log10_ge1(d3sq)
    d3 = math.sqrt(d3sq) if need_d3 else 0.0
    bp = cu[BP] if u else (cs[BP] if s else cr[BP])
    low = dcl <= bp
    if low:
        a1 = cu[A1L] if u else (cs[A1L] if s else cr[A1L])
        b1 = cu[B1L] if u else (cs[B1L] if s else cr[B1L])
        c1 = cu[C1L] if u else (cs[C1L] if s else cr[C1L])
    else:
        a1 = cu[A1H] if u else (cs[A1H] if s else cr[A1H])
        b1 = cu[B1H] if u else (cs[B1H] if s else cr[B1H])
        c1 = cu[C1H] if u else (cs[C1H] if s else cr[C1H])
    t1 = a1 + b1 * lg + c1 * d3
    if need_log_d2d:
        t1 += (cu[E1] if u else (cs[E1] if s else cr[E1])) * log10_ge1(dcl)
    if los:
        a2 = cu[A2L] if u else (cs[A2L] if s else cr[A2L])
    else:
        a2 = cu[A2N] if u else (cs[A2N] if s else cr[A2N])
    b2 = cu[B2] if u else (cs[B2] if s else cr[B2])
    return max(t1, a2 + b2 * lg)


@jit(inline="always")
def antenna_gain_fast(dx, dy, dz, d2d, sin_az, cos_az, kh, kv, tilt_rad) -> float:
    """38.901 pattern from the geometry: A = max(A_H + A_V, −A_m) (dB).

    ``(dx, dy)`` from the antenna to the pixel (grid CRS), ``dz`` antenna minus UE height,
    ``sin_az, cos_az`` of the grid azimuth, ``kh = 12/φ3dB²``, ``kv = 12/θ3dB²`` (rad⁻²).
    """
    along = dx * sin_az + dy * cos_az
    across = dx * cos_az - dy * sin_az
    phi = atan2_fast(across, along)
    a_h = -min(kh * phi * phi, A_M_DB)
    t = atan2_fast(dz, d2d) - tilt_rad
    a_v = -min(kv * t * t, SLA_V_DB)
    return max(a_h + a_v, -A_M_DB)


@jit
def _dem_pass(k, gr, lo, hi, col_off, cellp, sp, ip, dem, los, dz, diff):
    """Terrain per pixel of a row run: LOS flag, antenna − UE height, diffraction loss (scalar)."""
    res = sp[RES]
    py = sp[SY0] - (gr + 0.5) * res
    xt = cellp[k, X]
    yt = cellp[k, Y]
    z_tx = cellp[k, ZSITE] + cellp[k, HBS]
    r2 = cellp[k, RADIUS] * cellp[k, RADIUS]
    ro = ip[DEM_ROW_OFF]
    co = ip[DEM_COL_OFF]
    for c in range(lo, hi):
        px = sp[SX0] + (col_off + c + 0.5) * res
        if (px - xt) ** 2 + (py - yt) ** 2 > r2:
            los[c] = False
            dz[c] = 0.0
            diff[c] = 0.0
            continue
        z = sample_bilinear(dem, sp[DEM_X0], sp[DEM_Y0], res, ro, co, px, py)
        z_rx = (0.0 if math.isnan(z) else z) + sp[HUT]
        los[c], diff[c] = profile_loss(
            dem, sp[DEM_X0], sp[DEM_Y0], res, ro, co, xt, yt, z_tx, px, py, z_rx,
            cellp[k, WAVELEN], ip[DIFFR],
        )
        dz[c] = z_tx - z_rx


@jit(inline="always")
def _rsrp_at(dx, dy, d, cls, is_los, z, extra, cu, cs, cr, dh2, base, sin_az, cos_az, kh, kv,
             tilt, dmin, d3min2, need_log_d2d, need_d3) -> float:
    """RSRP (dBm) at one pixel: base − path loss + antenna gain − diffraction (branch-free)."""
    pl = coef_path_loss(cu, cs, cr, cls, d, is_los, dh2, dmin, d3min2, need_log_d2d, need_d3)
    gain = antenna_gain_fast(dx, dy, z, d, sin_az, cos_az, kh, kv, tilt)
    return base - pl + gain - extra


@jit
def _row_span(k, gr, cellp, celli, sp, col_off, w):
    """Local columns [lo, hi) of global row ``gr`` that may lie within cell ``k``'s circle."""
    res = sp[RES]
    radius = cellp[k, RADIUS]
    dy = sp[SY0] - (gr + 0.5) * res - cellp[k, Y]
    if gr < celli[k, R0] or gr >= celli[k, R1] or abs(dy) > radius:
        return 0, 0
    half = math.sqrt(radius * radius - dy * dy)
    cx = cellp[k, X]
    x0 = sp[SX0]
    # One extra column on each side; the exact test (d² ≤ radius²) is in the pixel loops.
    g_lo = int(math.floor((cx - half - x0) / res - 0.5)) - 1
    g_hi = int(math.ceil((cx + half - x0) / res - 0.5)) + 2
    lo = max(max(g_lo, celli[k, C0]) - col_off, 0)
    hi = min(min(g_hi, celli[k, C1]) - col_off, w)
    return lo, hi


@jit
def _band(r0, r1, row_off, col_off, cellp, coef, celli, sp, ip, clutter, dem,
          out_rsrp, out_server, out_sinr, out_covered, best, bidx, sums, los, dz, diff) -> int:
    """Rows ``r0..r1-1`` of a tile, every cell, cell by cell; writes those rows of the outputs.

    Per cell the constants are set up once; per row one vectorised loop over the pixels of the
    cell's circle evaluates the RSRP and accumulates it (best server, server, linear sum per
    frequency group). Scratch: ``best``/``bidx`` (≥ r1 − r0, w + PAD), ``sums`` (groups,
    ≥ r1 − r0, w + PAD), ``los``/``dz``/``diff`` (w + PAD); ``clutter`` is (h, w + PAD).
    """
    w = out_rsrp.shape[1]
    nr = r1 - r0
    best[:nr, :] = -np.inf
    bidx[:nr, :] = -1
    sums[:, :nr, :] = 0.0
    res = sp[RES]
    level = sp[LEVEL]
    dmin = sp[DMIN]
    d3min2 = sp[D3MIN2]
    need_log_d2d = ip[NEED_LOG_D2D] != 0
    need_d3 = ip[NEED_D3] != 0
    has_dem = ip[HAS_DEM] != 0
    evals = 0
    for k in range(cellp.shape[0]):
        ra = max(celli[k, R0] - row_off, r0)
        rb = min(celli[k, R1] - row_off, r1)
        if ra >= rb:
            continue
        cu = coef_tuple(coef, k, 1)
        cs = coef_tuple(coef, k, 2)
        cr = coef_tuple(coef, k, 3)
        cx = cellp[k, X]
        r2 = cellp[k, RADIUS] * cellp[k, RADIUS]
        dh = cellp[k, HBS] - sp[HUT]
        dh2 = dh * dh
        base = cellp[k, EIRP_RE] - sp[EXTRA]
        sin_az = cellp[k, SINAZ]
        cos_az = cellp[k, COSAZ]
        kh = cellp[k, KH]
        kv = cellp[k, KV]
        tilt = cellp[k, TILT_RAD]
        g = celli[k, GROUP]
        x_first = sp[SX0] + (col_off + 0.5) * res - cx
        y_first = sp[SY0] - (row_off + 0.5) * res - cellp[k, Y]
        # Columns of the cell's window, local to the tile.
        c_min = max(celli[k, C0] - col_off, 0)
        c_max = min(celli[k, C1] - col_off, w)
        for r in range(ra, rb):
            dy = y_first - r * res
            dy2 = dy * dy
            if dy2 > r2:
                continue
            # Columns whose centre may lie within the circle on this row (one extra on each
            # side; the exact test d² ≤ radius² is in the loop).
            half = math.sqrt(r2 - dy2)
            lo = max(int(math.floor((-half - x_first) / res)) - 1, c_min)
            hi = min(int(math.ceil((half - x_first) / res)) + 2, c_max)
            if lo >= hi:
                continue
            gr = row_off + r
            if has_dem:
                _dem_pass(k, gr, lo, hi, col_off, cellp, sp, ip, dem, los, dz, diff)
            n = hi - lo
            n_pad = (n + PAD - 1) // PAD * PAD  # rows are PAD longer than the tile: in bounds
            # Views from lo: the loop index starts at 0 (no negative-index wraparound, unit
            # stride), so LLVM vectorises the loop; padding pixels are masked out (i ≥ n).
            cls_v = clutter[r, lo : lo + n_pad]
            los_v = los[lo : lo + n_pad]
            dz_v = dz[lo : lo + n_pad]
            diff_v = diff[lo : lo + n_pad]
            s_v = sums[g, r - r0, lo : lo + n_pad]
            best_v = best[r - r0, lo : lo + n_pad]
            bidx_v = bidx[r - r0, lo : lo + n_pad]
            x_lo = x_first + lo * res
            for i in range(n_pad):
                dx = x_lo + i * res
                d2 = dx * dx + dy2
                d = math.sqrt(d2)
                inside = (d2 <= r2) & (i < n)
                evals += 1 if inside else 0
                los_i = los_v[i]
                dz_i = dz_v[i]
                diff_i = diff_v[i]
                v = _rsrp_at(
                    dx, dy, d, cls_v[i], los_i if has_dem else False, dz_i if has_dem else dh,
                    diff_i if has_dem else 0.0, cu, cs, cr, dh2, base, sin_az, cos_az, kh, kv,
                    tilt, dmin, d3min2, need_log_d2d, need_d3,
                )
                ok = inside & (v >= level)
                p = db_to_linear(v if ok else 0.0)
                s_v[i] += p if ok else 0.0
                b = best_v[i]
                better = ok & (v > b)
                best_v[i] = v if better else b
                bidx_v[i] = k if better else bidx_v[i]
    load = sp[LOAD]
    thr_rsrp = sp[THR_RSRP]
    thr_sinr = sp[THR_SINR]
    for r in range(r0, r1):
        for c in range(w):
            k = bidx[r - r0, c]
            if k < 0:
                out_rsrp[r, c] = np.nan
                out_server[r, c] = -1
                out_sinr[r, c] = np.nan
                out_covered[r, c] = 0
                continue
            bv = best[r - r0, c]
            s = db_to_linear(bv)
            interference = load * (sums[celli[k, GROUP], r - r0, c] - s)
            if interference < 0.0:
                interference = 0.0
            sinr = 10.0 * math.log10(s / (interference + cellp[k, NOISE_MW]))
            out_rsrp[r, c] = bv
            out_server[r, c] = celli[k, GID]
            out_sinr[r, c] = sinr
            out_covered[r, c] = 1 if (bv >= thr_rsrp and sinr >= thr_sinr) else 0
    return evals


#: Rows per band of the row-parallel kernel.
BAND = 8


@jit
def tile_kernel(row_off, col_off, cellp, coef, celli, sp, ip, clutter, dem,
                out_rsrp, out_server, out_sinr, out_covered) -> int:
    """Best-server RSRP, server, SINR and covered on one tile (serial; for a thread pool).

    ``out_*`` have the tile's shape (h, w), ``clutter`` is (h, w + PAD) (classes, padded);
    returns the number of cell-pixel evaluations.
    """
    h, w = out_rsrp.shape
    wp = w + PAD
    best = np.empty((h, wp), dtype=np.float64)
    bidx = np.empty((h, wp), dtype=np.int64)
    sums = np.empty((max(ip[NGROUPS], 1), h, wp), dtype=np.float64)
    los = np.zeros(wp, dtype=np.bool_)
    dz = np.zeros(wp, dtype=np.float64)
    diff = np.zeros(wp, dtype=np.float64)
    return _band(0, h, row_off, col_off, cellp, coef, celli, sp, ip, clutter, dem,
                 out_rsrp, out_server, out_sinr, out_covered, best, bidx, sums, los, dz, diff)


@pjit
def tile_kernel_parallel(row_off, col_off, cellp, coef, celli, sp, ip, clutter, dem,
                         out_rsrp, out_server, out_sinr, out_covered) -> int:
    """Same as :func:`tile_kernel` with bands of ``BAND`` rows in parallel (``prange``); each band
    writes only its own rows, and per pixel the arithmetic and its order are the same."""
    h, w = out_rsrp.shape
    wp = w + PAD
    ng = max(ip[NGROUPS], 1)
    n_bands = (h + BAND - 1) // BAND
    evals = np.zeros(n_bands, dtype=np.int64)
    for b in prange(n_bands):
        r0 = b * BAND
        r1 = min(r0 + BAND, h)
        best = np.empty((BAND, wp), dtype=np.float64)
        bidx = np.empty((BAND, wp), dtype=np.int64)
        sums = np.empty((ng, BAND, wp), dtype=np.float64)
        los = np.zeros(wp, dtype=np.bool_)
        dz = np.zeros(wp, dtype=np.float64)
        diff = np.zeros(wp, dtype=np.float64)
        evals[b] = _band(r0, r1, row_off, col_off, cellp, coef, celli, sp, ip, clutter, dem,
                         out_rsrp, out_server, out_sinr, out_covered, best, bidx, sums, los, dz, diff)
    return evals.sum()


@jit
def footprint_kernel(k, row_off, col_off, cellp, coef, celli, sp, ip, clutter, dem, out) -> int:
    """RSRP (dBm) of cell ``k`` alone on a window; NaN where it does not contribute.

    ``out`` has the window's shape (h, w) at global offset ``(row_off, col_off)``; ``clutter`` is
    (h, w + PAD). The per-pixel arithmetic is the tile kernel's.
    """
    h, w = out.shape
    wp = w + PAD
    los = np.zeros(wp, dtype=np.bool_)
    dz = np.zeros(wp, dtype=np.float64)
    diff = np.zeros(wp, dtype=np.float64)
    res = sp[RES]
    level = sp[LEVEL]
    has_dem = ip[HAS_DEM] != 0
    cu = coef_tuple(coef, k, 1)
    cs = coef_tuple(coef, k, 2)
    cr = coef_tuple(coef, k, 3)
    r2 = cellp[k, RADIUS] * cellp[k, RADIUS]
    dh = cellp[k, HBS] - sp[HUT]
    base = cellp[k, EIRP_RE] - sp[EXTRA]
    x_first = sp[SX0] + (col_off + 0.5) * res - cellp[k, X]
    evals = 0
    for r in range(h):
        out[r, :] = np.nan
        gr = row_off + r
        lo, hi = _row_span(k, gr, cellp, celli, sp, col_off, w)
        if lo >= hi:
            continue
        if has_dem:
            _dem_pass(k, gr, lo, hi, col_off, cellp, sp, ip, dem, los, dz, diff)
        dy = sp[SY0] - (gr + 0.5) * res - cellp[k, Y]
        n = hi - lo
        for i in range(n):
            c = lo + i
            dx = x_first + c * res
            d2 = dx * dx + dy * dy
            if d2 > r2:
                continue
            evals += 1
            v = _rsrp_at(
                dx, dy, math.sqrt(d2), clutter[r, c], los[c] if has_dem else False,
                dz[c] if has_dem else dh, diff[c] if has_dem else 0.0, cu, cs, cr, dh * dh, base,
                cellp[k, SINAZ], cellp[k, COSAZ], cellp[k, KH], cellp[k, KV], cellp[k, TILT_RAD],
                sp[DMIN], sp[D3MIN2], ip[NEED_LOG_D2D] != 0, ip[NEED_D3] != 0,
            )
            if v >= level:
                out[r, c] = v
    return evals


@jit
def cutoff_radius(budget_db, model, env, los, f_ghz, h_bs, h_ut, h_bld, w_street, max_radius_m):
    """Largest distance (m, ≤ ``max_radius_m``) at which the path loss can still be ≤ ``budget_db``.

    ``budget_db`` = EIRP per RE − extra loss − contribution level, i.e. the largest loss at which a
    boresight pixel still contributes. Bisection on the exact scalar model (every model is
    non-decreasing in distance; tested) to 0.1 mm; the result is 1 mm beyond the crossing.
    0 when even the loss at 0 m exceeds the budget.
    """
    if path_loss_code(model, env, los, 0.0, f_ghz, h_bs, h_ut, h_bld, w_street) > budget_db:
        return 0.0
    if path_loss_code(model, env, los, max_radius_m, f_ghz, h_bs, h_ut, h_bld, w_street) <= budget_db:
        return max_radius_m
    lo = 0.0
    hi = max_radius_m
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if path_loss_code(model, env, los, mid, f_ghz, h_bs, h_ut, h_bld, w_street) <= budget_db:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-4:
            break
    return min(hi + 1e-3, max_radius_m)


@jit
def cutoff_radii(budget_db, model, env, los, f_ghz, h_bs, h_ut, h_bld, w_street, max_radius_m, out):
    """:func:`cutoff_radius` for many cells (arrays ``budget_db``, ``f_ghz``, ``h_bs``; ``out``)."""
    for i in range(out.size):
        out[i] = cutoff_radius(
            budget_db[i], model, env, los, f_ghz[i], h_bs[i], h_ut, h_bld, w_street, max_radius_m
        )
