"""Numba kernels of the radio engine: a tile of pixels (serial and row-band parallel) and the
footprints of many cells (in parallel, one cell each).

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
:func:`gigacov.radio.prepare.path_loss_coefficients` and :func:`coef_path_loss` is tested against
the scalar model functions. Distances are clamped as in the scalar functions (d2d ≥ ``DMIN``,
d3d² ≥ ``D3MIN2``).

Array layouts (filled by :mod:`gigacov.radio.prepare`)
-----------------------------------------------------
``cellp`` (float64, n × NCELLP)
    per cell: position (grid CRS), mast height, EIRP per RE, frequency, ground at the site,
    cut-off radius, noise per RE (mW), wavelength, sin/cos of the grid azimuth, antenna
    curvatures ``KH = 12/φ3dB²`` and ``KV = 12/θ3dB²`` (rad⁻²; 0 = no pattern), tilt (rad).
``coef`` (float64, n × 3·NCOEF)
    path-loss coefficients per clutter class (urban, suburban, rural).
``celli`` (int64, n × NCELLI)
    per cell: global index (server id), frequency group, window rows/cols [R0, R1) × [C0, C1),
    rays of the horizon sweep.
``sp`` (float64, NSP) / ``ip`` (int64, NIP)
    scalar parameters.

A cell contributes to a pixel — as candidate server and as interferer — when the pixel centre
is within its cut-off radius and its RSRP there is ≥ ``LEVEL`` (threshold − margin). Ties between
servers go to the lowest cell index.

Terrain (with a DEM)
--------------------
Per cell, before its rows are evaluated, two passes fill each pixel's LOS flag, antenna − UE
height and diffraction loss by the method of ``ip[TERRAIN]`` (:mod:`gigacov.radio.terrain`):

1. :func:`_terrain_needs`, per row, a vectorised float32 loop: an **upper bound** of the pixel's
   RSRP whatever the terrain (terrain only ever adds loss to the most favourable case: LOS
   formula where the clutter allows it, 0 dB vertical gain, no diffraction) decides whether the
   pixel needs terrain at all: where it is below ``LEVEL`` (with ``BOUND_SLACK_DB`` to spare)
   the pixel cannot contribute either way, so it is skipped with identical results (a sector's
   back lobe, for instance); the same loop finds the pixel's nearest ray. For ``HORIZON`` each
   ray records how far the pixels that need it reach, and :func:`_march_needed` then marches
   every such ray once, that far (per-worker scratch of ``M × S`` slopes and steps, reset per
   cell; in a tile only what its pixels need).
2. :func:`_terrain_row`, per row, pixel by pixel, only for the pixels that need it:
   ``HORIZON`` looks the horizon up (:func:`gigacov.radio.terrain.horizon_at`), ``PROFILE``
   samples the pixel's own path.

The row's evaluation loop (:func:`_row_rsrp` → :func:`_rsrp32`, float32) then takes the LOS
flag, antenna − UE height and diffraction loss of pass 2.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit, pjit, prange
from .models import AUTO, RMA, RURAL, UMA, path_loss_code
from .terrain import (
    HORIZON,
    KNIFE_EDGE,
    horizon_at,
    horizon_clear,
    march_ray,
    profile_loss,
    ray_tables,
    sample_bilinear,
)
from .vmath import atan2_fast, atan2f, exp10f_db, log10_ge1, log10f_ge1

__all__ = [
    "tile_kernel",
    "tile_kernel_dem",
    "tile_kernel_parallel",
    "footprints_kernel",
    "coef_path_loss",
    "coef_tuple",
    "antenna_gain_fast",
    "cutoff_radius",
    "cutoff_radii",
    "resolve_model",
]

# cellp columns
X, Y, HBS, EIRP_RE, FGHZ, ZSITE, RADIUS, NOISE_MW, WAVELEN, SINAZ, COSAZ, KH, KV, TILT_RAD = range(
    14
)
NCELLP = 14
# coefficient columns (per class block)
BP, A1L, B1L, C1L, A1H, B1H, C1H, E1, A2N, A2L, B2 = range(11)
NCOEF = 11
# celli columns (N_RAYS: rays of the horizon sweep, terrain.horizon_ray_count of the radius)
GID, GROUP, R0, R1, C0, C1, N_RAYS = range(7)
NCELLI = 7
# sp entries
(SX0, SY0, RES, HUT, EXTRA, LEVEL, LOAD, THR_RSRP, THR_SINR, DEM_X0, DEM_Y0, DMIN, D3MIN2) = range(
    13
)
NSP = 13
#: The tile's carrier-group overlap matrix follows the NSP entries of ``sp``, row-major:
#: ``sp[WMAT + a·NGROUPS + b]`` is the share of group ``a``'s carrier that group ``b``'s overlaps
#: (1 on the diagonal; 0 for disjoint carriers). A cell on group ``a`` sees the power of group
#: ``b``'s cells times that weight as interference.
WMAT = NSP
# ip entries
# (TERRAIN: terrain.HORIZON / PROFILE; DEM_PAD: the DEM grid's padding in pixels)
(
    MODEL,
    HAS_DEM,
    DIFFR,
    NGROUPS,
    DEM_ROW_OFF,
    DEM_COL_OFF,
    NEED_LOG_D2D,
    NEED_D3,
    TERRAIN,
    DEM_PAD,
) = range(10)
NIP = 10
#: Scratch rows are this much longer than the tile and the pixel loops run over a multiple of it,
#: so LLVM's vector loop (4 lanes × 2) rarely falls back to its slow scalar remainder.
PAD = 8

A_M_DB = 30.0
SLA_V_DB = 30.0
_F32_0 = np.float32(0.0)
_F32_HALF = np.float32(0.5)
_F32_NEG_INF = np.float32(-np.inf)
_F32_AM = np.float32(A_M_DB)  # = SLA_V_DB

#: The terrain is skipped where the upper bound of the RSRP is below LEVEL − this (dB). The bound
#: is computed by the same float32 operations as the full evaluation, term by term ≥ it, so it is
#: never below it; the slack is a margin on top.
BOUND_SLACK_DB = 1e-3


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
        coef[k, o],
        coef[k, o + 1],
        coef[k, o + 2],
        coef[k, o + 3],
        coef[k, o + 4],
        coef[k, o + 5],
        coef[k, o + 6],
        coef[k, o + 7],
        coef[k, o + 8],
        coef[k, o + 9],
        coef[k, o + 10],
    )


@jit
def coef_tuple32(coef, k, cls):
    """:func:`coef_tuple` in float32."""
    o = (cls - 1) * NCOEF
    return (
        np.float32(coef[k, o]),
        np.float32(coef[k, o + 1]),
        np.float32(coef[k, o + 2]),
        np.float32(coef[k, o + 3]),
        np.float32(coef[k, o + 4]),
        np.float32(coef[k, o + 5]),
        np.float32(coef[k, o + 6]),
        np.float32(coef[k, o + 7]),
        np.float32(coef[k, o + 8]),
        np.float32(coef[k, o + 9]),
        np.float32(coef[k, o + 10]),
    )


@jit(inline="always")
def _cell_setup(k, cellp, coef, sp, ip):
    """The per-cell constants of the pixel loops of cell ``k``, set up once per cell and the same
    way in the tile and the footprint kernels: ``(c32, gm, xm)``.

    ``c32`` (float32, for :func:`_rsrp32`): the path-loss coefficients of the three clutter
    classes, EIRP per RE − extra loss, the antenna pattern's azimuth (sin, cos), curvatures and
    tilt, mast − UE height and its square, the distance clamps and the model's flags. ``gm`` is
    the grid column of the pixel that holds the antenna and ``xm`` (float32) the x offset of
    that pixel's centre from the antenna (|xm| ≤ res/2): the float32 loop takes
    ``dx = xm + (column − gm)·res``, so ``dx`` is rounded relative to its own size, never to the
    cell's distance from the tile's edge (a float32 offset from a far edge would move the
    antenna by millimetres).
    """
    dh = cellp[k, HBS] - sp[HUT]
    base = cellp[k, EIRP_RE] - sp[EXTRA]
    dh32 = np.float32(dh)
    c32 = (
        coef_tuple32(coef, k, 1),
        coef_tuple32(coef, k, 2),
        coef_tuple32(coef, k, 3),
        np.float32(base),
        np.float32(cellp[k, SINAZ]),
        np.float32(cellp[k, COSAZ]),
        np.float32(cellp[k, KH]),
        np.float32(cellp[k, KV]),
        np.float32(cellp[k, TILT_RAD]),
        dh32,
        dh32 * dh32,
        np.float32(sp[DMIN]),
        np.float32(sp[D3MIN2]),
        ip[NEED_LOG_D2D] != 0,
        ip[NEED_D3] != 0,
    )
    res = sp[RES]
    gm = int(math.floor((cellp[k, X] - sp[SX0]) / res))
    xm = np.float32((sp[SX0] + (gm + 0.5) * res) - cellp[k, X])
    return c32, gm, xm


@jit(inline="always")
def _coef_common(cu, cs, cr, cls, d2d, dh2, dmin, d3min2, need_log_d2d, need_d3):
    """The terms of :func:`coef_path_loss` shared by LOS and NLOS: ``(t1, lg, b2, a2l, a2n)``
    with the first term ``t1`` (before the max), ``lg`` = log10 of the 3-D distance, and the
    second term's slope and LOS / NLOS intercepts of the pixel's class."""
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
    a2l = cu[A2L] if u else (cs[A2L] if s else cr[A2L])
    a2n = cu[A2N] if u else (cs[A2N] if s else cr[A2N])
    b2 = cu[B2] if u else (cs[B2] if s else cr[B2])
    return t1, lg, b2, a2l, a2n


@jit(inline="always")
def coef_path_loss(cu, cs, cr, cls, d2d, los, dh2, dmin, d3min2, need_log_d2d, need_d3) -> float:
    """Path loss (dB) from the coefficient tuples of the three classes (``cu``, ``cs``, ``cr``)
    for a pixel of class ``cls``; branch-free (selects), so it vectorises. ``need_d3`` may be
    False when no class has a ``C1`` term (only RMa LOS has one)."""
    t1, lg, b2, a2l, a2n = _coef_common(
        cu, cs, cr, cls, d2d, dh2, dmin, d3min2, need_log_d2d, need_d3
    )
    return max(t1, (a2l if los else a2n) + b2 * lg)


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


#: Rows of the terrain scratch ``tsc`` (float32; per cell row, local columns): whether the pixel
#: needs terrain (1/0), its nearest ray of the horizon sweep, the samples before it.
T_NEED, T_RAY, T_M = range(3)
NTSC = 3
#: ``tsc[T_NEED]`` of an obstructed pixel (horizon, knife edge) whose diffraction loss is
#: computed only if it contributes without it (:func:`_deferred_diffraction`).
T_DEFERRED = np.float32(2.0)
_F32_1 = np.float32(1.0)


@jit
def _terrain_needs(
    k,
    n_rays,
    gr,
    lo,
    hi,
    col_off,
    cellp,
    sp,
    ip,
    cls_row,
    c32,
    gm,
    xm,
    iota,
    rows,
    need,
    touched,
    n_touched,
) -> int:
    """Terrain, first pass over a row run ``[lo, hi)`` of cell ``k``: which pixels need terrain.

    A vectorised float32 loop bounds each pixel's RSRP from above whatever the terrain: the path
    loss of its class with the LOS formula where terrain could make it LOS (rural), the
    horizontal pattern with the vertical term at its maximum (0 dB), no diffraction — every term
    is ≥ its value in :func:`_rsrp32`, computed by the same float32 operations, so the bound is
    ≥ the full evaluation for any terrain. Where the bound is below ``LEVEL`` (with
    ``BOUND_SLACK_DB`` to spare) the pixel cannot contribute either way and is skipped with
    identical results (a sector's back lobe, for instance): ``rows[T_NEED]`` is 0 there, else 1.
    The same loop finds the pixel's nearest ray (``rows[T_RAY]``; the pixel's direction is the
    boresight's minus its bearing from the boresight). For the horizon method a scalar loop
    then takes, for the pixels that need terrain, the samples before the pixel (``rows[T_M]``,
    ``round(d/res) − 1`` in float64) and raises ``need[j]`` of their ray to it; rays needed for
    the first time are appended to ``touched``. Returns the new count of touched rays.
    """
    res = sp[RES]
    n = hi - lo
    n_pad = (n + PAD - 1) // PAD * PAD
    n32 = np.float32(n)
    res32 = np.float32(res)
    dyp = (sp[SY0] - (gr + 0.5) * res) - cellp[k, Y]
    dy = np.float32(dyp)
    dy2 = dy * dy
    j0 = np.float32(col_off + lo - gm)
    base = c32[3]
    level32 = np.float32(sp[LEVEL] - BOUND_SLACK_DB)
    theta32 = np.float32(math.atan2(cellp[k, COSAZ], cellp[k, SINAZ]))
    scale32 = np.float32(n_rays / (2.0 * math.pi))
    m32 = np.float32(n_rays)
    cls_v = cls_row[lo : lo + n_pad]
    need_v = rows[T_NEED, lo : lo + n_pad]
    ray_v = rows[T_RAY, lo : lo + n_pad]
    for i in range(n_pad):
        dx = xm + (j0 + iota[i]) * res32
        cls = cls_v[i]
        pl = _pl32(np.sqrt(dx * dx + dy2), cls, c32, cls == RURAL)
        phi, a_h = _bearing32(dx, dy, c32)
        ub = base - pl + max(a_h, -_F32_AM)
        need_v[i] = _F32_1 if ((iota[i] < n32) & (ub >= level32)) else _F32_0
        jf = np.floor((theta32 - phi) * scale32 + _F32_HALF)  # in [−M, M]
        jf = jf + m32 if jf < _F32_0 else jf
        ray_v[i] = jf - m32 if jf >= m32 else jf  # mod M, without an integer division
    if ip[TERRAIN] != HORIZON:
        return n_touched
    m_v = rows[T_M, lo : lo + n_pad]
    x_lo = sp[SX0] + (col_off + lo + 0.5) * res - cellp[k, X]
    dy2_64 = dyp * dyp
    inv_res = 1.0 / res
    for i in range(n):
        if need_v[i] == _F32_0:
            continue
        dx64 = x_lo + i * res
        m = int(math.floor(math.sqrt(dx64 * dx64 + dy2_64) * inv_res + 0.5)) - 1
        m_v[i] = np.float32(m)
        if m < 1:
            continue
        j = int(ray_v[i])
        if need[j] == 0:
            touched[n_touched] = j
            n_touched += 1
        if m > need[j]:
            need[j] = m
    return n_touched


@jit
def _march_needed(k, cellp, sp, ip, dem, n_rays, need, touched, n_touched, rays) -> None:
    """March every touched ray of cell ``k`` as far as its pixels need (and reset ``need``)."""
    hz, hstep, done, cos_r, sin_r, inv_dist, drop = rays
    res = sp[RES]
    # The antenna's fractional pixel position in the full DEM grid.
    fr0 = (sp[DEM_Y0] - cellp[k, Y]) / res - 0.5
    fc0 = (cellp[k, X] - sp[DEM_X0]) / res - 0.5
    z_tx = cellp[k, ZSITE] + cellp[k, HBS]
    ro = ip[DEM_ROW_OFF]
    co = ip[DEM_COL_OFF]
    for q in range(n_touched):
        j = touched[q]
        march_ray(
            dem,
            fr0,
            fc0,
            ro,
            co,
            z_tx,
            j,
            need[j],
            n_rays,
            hz,
            hstep,
            done,
            cos_r,
            sin_r,
            inv_dist,
            drop,
        )
        need[j] = 0


@jit
def _terrain_row(k, gr, lo, hi, col_off, cellp, sp, ip, dem, rows, los, dz, diff, rays) -> None:
    """Terrain, second pass over a row run: LOS flag, antenna − UE height and diffraction loss
    per pixel into ``los``/``dz``/``diff`` (float32, local columns). Pixels that do not need
    terrain (:func:`_terrain_needs`; they cannot contribute either way) get (True, mast − UE
    height, +inf); the others the terrain method's answer: the horizon from the rays marched by
    :func:`_march_needed`, or the exact profile of their path."""
    hz, hstep, done, cos_r, sin_r, inv_dist, drop = rays
    res = sp[RES]
    py = sp[SY0] - (gr + 0.5) * res
    xt = cellp[k, X]
    yt = cellp[k, Y]
    dyp = py - yt
    dy2 = dyp * dyp
    z_tx = cellp[k, ZSITE] + cellp[k, HBS]
    hut = sp[HUT]
    dh32 = np.float32(cellp[k, HBS] - hut)
    ro = ip[DEM_ROW_OFF]
    co = ip[DEM_COL_OFF]
    pad = ip[DEM_PAD]
    horizon = ip[TERRAIN] == HORIZON
    wavelength = cellp[k, WAVELEN]
    diffr = ip[DIFFR]
    dem_r = gr + pad - ro
    dem_c = col_off + pad - co
    for c in range(lo, hi):
        if rows[T_NEED, c] == _F32_0:
            los[c] = True
            dz[c] = dh32
            diff[c] = np.inf
            continue
        px = sp[SX0] + (col_off + c + 0.5) * res
        dxp = px - xt
        d = math.sqrt(dxp * dxp + dy2)
        if horizon:
            z = dem[dem_r, dem_c + c]
            z_rx = (0.0 if math.isnan(z) else z) + hut
            m = int(rows[T_M, c])
            clear = m < 1 or horizon_clear(hz, int(rows[T_RAY, c]), m, d, z_rx, z_tx)
            los[c] = clear
            diff[c] = 0.0
            if not clear and diffr == KNIFE_EDGE:
                # The knife-edge loss is left for :func:`_deferred_diffraction`, only where the
                # pixel still contributes without it.
                rows[T_NEED, c] = T_DEFERRED
        else:
            z = sample_bilinear(dem, sp[DEM_X0], sp[DEM_Y0], res, ro, co, px, py)
            z_rx = (0.0 if math.isnan(z) else z) + hut
            los[c], diff[c] = profile_loss(
                dem,
                sp[DEM_X0],
                sp[DEM_Y0],
                res,
                ro,
                co,
                xt,
                yt,
                z_tx,
                px,
                py,
                z_rx,
                wavelength,
                diffr,
            )
        dz[c] = z_tx - z_rx


@jit
def _deferred_diffraction(
    k, gr, a, b, col_off, cellp, sp, ip, dem, rows, rays, vrow, level32, fill
):
    """The knife-edge loss of the obstructed pixels of ``[a, b)`` that :func:`_terrain_row`
    deferred (``rows[T_NEED] == T_DEFERRED``), for those whose RSRP without it (``vrow[c − a]``,
    from :func:`_row_rsrp` with 0 dB diffraction) still reaches ``level32``: ``vrow`` becomes
    that RSRP minus the loss (float32, the last operation of :func:`_rsrp32`, so the value is
    the one a single pass with the loss gives), or ``fill`` below the level. Elsewhere the loss
    (≥ 0 dB, about 6 dB at least) could not make the pixel contribute, so it is not computed."""
    hz, hstep, done, cos_r, sin_r, inv_dist, drop = rays
    res = sp[RES]
    py = sp[SY0] - (gr + 0.5) * res
    dyp = py - cellp[k, Y]
    dy2 = dyp * dyp
    z_tx = cellp[k, ZSITE] + cellp[k, HBS]
    hut = sp[HUT]
    dem_r = gr + ip[DEM_PAD] - ip[DEM_ROW_OFF]
    dem_c = col_off + ip[DEM_PAD] - ip[DEM_COL_OFF]
    for c in range(a, b):
        v = vrow[c - a]
        if rows[T_NEED, c] != T_DEFERRED or not v >= level32:
            continue
        px = sp[SX0] + (col_off + c + 0.5) * res
        dxp = px - cellp[k, X]
        d = math.sqrt(dxp * dxp + dy2)
        z = dem[dem_r, dem_c + c]
        z_rx = (0.0 if math.isnan(z) else z) + hut
        _los, loss = horizon_at(
            hz,
            hstep,
            int(rows[T_RAY, c]),
            int(rows[T_M, c]),
            d,
            z_rx,
            z_tx,
            res,
            cellp[k, WAVELEN],
            KNIFE_EDGE,
        )
        v = v - np.float32(loss)
        vrow[c - a] = v if v >= level32 else fill


@jit(inline="always")
def _inside(gc, x0, res, xc, dy2, r2):
    """Whether the centre of global column ``gc`` is within the circle (``dy2``: the row's dy²)."""
    dx = (x0 + (gc + 0.5) * res) - xc
    return dx * dx + dy2 <= r2


@jit(inline="always")
def _row_interval(k, gr, cellp, celli, sp, col_off, w):
    """Local columns ``[lo, hi)`` of global row ``gr`` whose pixel centres lie within cell ``k``'s
    cut-off circle, exactly: a pixel at global ``(gr, gc)`` is within when
    ``dx² + dy² ≤ radius²`` with ``dx = (x0 + (gc + ½)·res) − x_cell``, ``dy = (y0 − (gr + ½)·res)
    − y_cell`` in float64 — the same test for every kernel and tiling, so the pixel loops need
    no distance test and every pixel of ``[lo, hi)`` is one evaluation. Clipped to the cell's
    window and to the tile ``[col_off, col_off + w)``; (0, 0) if empty."""
    res = sp[RES]
    xc = cellp[k, X]
    x0 = sp[SX0]
    r2 = cellp[k, RADIUS] * cellp[k, RADIUS]
    dy = (sp[SY0] - (gr + 0.5) * res) - cellp[k, Y]
    dy2 = dy * dy
    if gr < celli[k, R0] or gr >= celli[k, R1] or dy2 > r2:
        return 0, 0
    half = math.sqrt(r2 - dy2)
    a = int(math.ceil((xc - half - x0) / res - 0.5))
    b = int(math.floor((xc + half - x0) / res - 0.5))
    # The rounding of the estimate (at most a column off) is fixed up against the exact test.
    while _inside(a - 1, x0, res, xc, dy2, r2):
        a -= 1
    while a <= b and not _inside(a, x0, res, xc, dy2, r2):
        a += 1
    while _inside(b + 1, x0, res, xc, dy2, r2):
        b += 1
    while b >= a and not _inside(b, x0, res, xc, dy2, r2):
        b -= 1
    lo = max(max(a, celli[k, C0]) - col_off, 0)
    hi = min(min(b + 1, celli[k, C1]) - col_off, w)
    if lo >= hi:
        return 0, 0
    return lo, hi


@jit(inline="always")
def _pl32(d, cls, c32, los):
    """Path loss (dB, float32) at horizontal distance ``d`` for a pixel of class ``cls`` from the
    constants ``c32`` of :func:`_cell_setup`, with the LOS formula where ``los`` is True (else
    NLOS); branch-free (selects)."""
    cu, cs, cr = c32[0], c32[1], c32[2]
    dh2, dmin, d3min2, need_log_d2d, need_d3 = c32[10], c32[11], c32[12], c32[13], c32[14]
    u = cls == 1
    s = cls == 2
    dcl = max(d, dmin)
    d3sq = max(dcl * dcl + dh2, d3min2)
    lg = _F32_HALF * log10f_ge1(d3sq)
    d3 = np.sqrt(d3sq) if need_d3 else _F32_0
    bp = cu[BP] if u else (cs[BP] if s else cr[BP])
    low = dcl <= bp
    a1l = cu[A1L] if u else (cs[A1L] if s else cr[A1L])
    a1h = cu[A1H] if u else (cs[A1H] if s else cr[A1H])
    b1l = cu[B1L] if u else (cs[B1L] if s else cr[B1L])
    b1h = cu[B1H] if u else (cs[B1H] if s else cr[B1H])
    c1l = cu[C1L] if u else (cs[C1L] if s else cr[C1L])
    c1h = cu[C1H] if u else (cs[C1H] if s else cr[C1H])
    t1 = (a1l if low else a1h) + (b1l if low else b1h) * lg + (c1l if low else c1h) * d3
    if need_log_d2d:
        t1 += (cu[E1] if u else (cs[E1] if s else cr[E1])) * log10f_ge1(dcl)
    a2n = cu[A2N] if u else (cs[A2N] if s else cr[A2N])
    a2l = cu[A2L] if u else (cs[A2L] if s else cr[A2L])
    b2 = cu[B2] if u else (cs[B2] if s else cr[B2])
    return max(t1, (a2l if los else a2n) + b2 * lg)


@jit(inline="always")
def _bearing32(dx, dy, c32):
    """``(φ, A_H)``: the pixel's bearing from the boresight (rad, float32) and the horizontal
    pattern there (dB)."""
    sin_az, cos_az, kh = c32[4], c32[5], c32[6]
    phi = atan2f(dx * cos_az - dy * sin_az, dx * sin_az + dy * cos_az)
    return phi, -min(kh * phi * phi, _F32_AM)


@jit(inline="always")
def _rsrp32(dx, dy, cls, dy2, c32, is_los, dz, diff):
    """RSRP (dBm, float32) of one pixel: base − path loss + antenna gain − diffraction, in
    float32 (:func:`gigacov.radio.vmath.log10f_ge1`, :func:`~gigacov.radio.vmath.atan2f`) with
    the constants ``c32`` of :func:`_cell_setup`; branch-free. ``(dx, dy)`` from the antenna to
    the pixel (grid CRS), ``dz`` antenna − UE height, ``diff`` the diffraction loss (dB).
    Without terrain ``is_los`` is False, ``dz`` the mast − UE height and ``diff`` 0. With terrain
    the LOS formula applies only where the path is clear **and** the pixel is rural: a DEM is
    bare earth, so in urban and suburban clutter the buildings it lacks still block the direct
    path. A clear path on flat ground gives bit for bit the value without terrain."""
    base, kv, tilt = c32[3], c32[7], c32[8]
    d = np.sqrt(dx * dx + dy2)
    pl = _pl32(d, cls, c32, is_los & (cls == RURAL))
    _phi, a_h = _bearing32(dx, dy, c32)
    t = atan2f(dz, d) - tilt
    a_v = -min(kv * t * t, _F32_AM)
    return base - pl + max(a_h + a_v, -_F32_AM) - diff


@jit(inline="always")
def _row_rsrp(
    n, dy, j0, xm, res32, level32, c32, cls_v, iota, has_dem, los_v, dz_v, diff_v, vrow, fill
):
    """The vectorised pixel loop of one row run of a cell: ``vrow[i]`` = the RSRP (float32) of
    the run's pixel ``i`` where it contributes (≥ ``level32``), else ``fill``; for ``i`` up to
    ``n`` rounded up to a multiple of PAD (the padding pixels, ``i ≥ n``, get ``fill``).
    ``(dy, j0, xm)``: the row's y offset from the antenna, the run's first column relative to
    the antenna's (see :func:`_cell_setup`). With terrain, the pixels' LOS flags, antenna − UE
    heights and diffraction losses are ``los_v``/``dz_v``/``diff_v`` (from the run's start);
    without, the mast − UE height and no diffraction."""
    if has_dem:
        _row_rsrp_dem(
            n, dy, j0, xm, res32, level32, c32, cls_v, iota, los_v, dz_v, diff_v, vrow, fill
        )
    else:
        _row_rsrp_plain(n, dy, j0, xm, res32, level32, c32, cls_v, iota, vrow, fill)


@jit(inline="always")
def _row_rsrp_plain(n, dy, j0, xm, res32, level32, c32, cls_v, iota, vrow, fill):
    """:func:`_row_rsrp` without terrain (the tile kernel's loop without a DEM). The linear
    power is taken by a second loop (:func:`_power`): measured in the tile kernel, taking it in
    this loop was slower (9.8 vs 8.4–8.6 ns per evaluation)."""
    n32 = np.float32(n)
    n_pad = (n + PAD - 1) // PAD * PAD
    dy2 = dy * dy
    dh32 = c32[9]
    for i in range(n_pad):
        dx = xm + (j0 + iota[i]) * res32
        v = _rsrp32(dx, dy, cls_v[i], dy2, c32, False, dh32, _F32_0)
        vrow[i] = v if ((iota[i] < n32) & (v >= level32)) else fill


@jit(inline="always")
def _row_rsrp_dem(n, dy, j0, xm, res32, level32, c32, cls_v, iota, los_v, dz_v, diff_v, vrow, fill):
    """:func:`_row_rsrp` with terrain (the tile kernel's loop with a DEM)."""
    n32 = np.float32(n)
    n_pad = (n + PAD - 1) // PAD * PAD
    dy2 = dy * dy
    for i in range(n_pad):
        dx = xm + (j0 + iota[i]) * res32
        v = _rsrp32(dx, dy, cls_v[i], dy2, c32, los_v[i], dz_v[i], diff_v[i])
        vrow[i] = v if ((iota[i] < n32) & (v >= level32)) else fill


@jit
def ray_scratch(cellp, celli, sp, ip):
    """Scratch of the horizon sweep sized for the most rays and samples among the cells of a
    payload (1 × 1 when not needed): ``(rays, need, touched)`` — the tables of
    :func:`gigacov.radio.terrain.ray_tables` (``12·M·S`` bytes: M rays, S samples of the widest
    cell) and per ray the samples its pixels need (zeros) and the list of rays touched."""
    n_rays = 1
    steps = 1
    if ip[HAS_DEM] != 0 and ip[TERRAIN] == HORIZON:
        for k in range(cellp.shape[0]):
            n_rays = max(n_rays, celli[k, N_RAYS])
            steps = max(steps, int(math.floor(cellp[k, RADIUS] / sp[RES] + 0.5)))
    need = np.zeros(n_rays, dtype=np.int64)
    touched = np.empty(n_rays, dtype=np.int64)
    return ray_tables(n_rays, steps, sp[RES]), need, touched


@jit
def _scratch(rows, w, cellp, celli, sp, ip):
    """The per-worker scratch of :func:`_band` for ``rows`` rows of a tile ``w`` pixels wide:
    ``best`` (float32) / ``bidx`` (int32) (rows, w + PAD), ``sums`` (float64; groups, rows,
    w + PAD), ``los``/``dz``/``diff`` (w + PAD; float32 but ``los``), ``tsc`` (float32; rows,
    NTSC, w + PAD; one row without a DEM) and the horizon sweep's :func:`ray_scratch`."""
    wp = w + PAD
    has_dem = ip[HAS_DEM] != 0
    return (
        np.empty((rows, wp), dtype=np.float32),
        np.empty((rows, wp), dtype=np.int32),
        np.empty((max(ip[NGROUPS], 1), rows, wp), dtype=np.float64),
        np.zeros(wp, dtype=np.bool_),
        np.zeros(wp, dtype=np.float32),
        np.zeros(wp, dtype=np.float32),
        np.empty((rows if has_dem else 1, NTSC, wp), dtype=np.float32),
        ray_scratch(cellp, celli, sp, ip),
    )


@jit
def _cell_terrain(
    k,
    r_lo,
    r_hi,
    row_off,
    col_off,
    w,
    cellp,
    celli,
    sp,
    ip,
    clutter,
    c32,
    gm,
    xm,
    iota,
    dem,
    tsc,
    rays,
    need,
    touched,
    fresh,
):
    """The terrain passes of cell ``k`` before its rows ``r_lo..r_hi-1`` (local) are evaluated:
    :func:`_terrain_needs` per row (into ``tsc[r - r_lo]``; ``clutter[r]`` the row's classes,
    local columns) and the rays marched as far as they are needed (:func:`_march_needed`).
    ``fresh`` False keeps the rays marched for the previous cell: only when that cell's antenna
    is this one's (:func:`_same_antenna`), whose rays are the same samples and slopes."""
    n_rays = celli[k, N_RAYS]
    if fresh:
        rays[2][:n_rays] = 0  # a new antenna: no ray marched yet (done)
    n_touched = 0
    for r in range(r_lo, r_hi):
        lo, hi = _row_interval(k, row_off + r, cellp, celli, sp, col_off, w)
        if lo < hi:
            n_touched = _terrain_needs(
                k,
                n_rays,
                row_off + r,
                lo,
                hi,
                col_off,
                cellp,
                sp,
                ip,
                clutter[r],
                c32,
                gm,
                xm,
                iota,
                tsc[r - r_lo],
                need,
                touched,
                n_touched,
            )
    _march_needed(k, cellp, sp, ip, dem, n_rays, need, touched, n_touched, rays)


@jit(inline="always")
def _same_antenna(k, p, cellp, celli):
    """Whether cells ``k`` and ``p`` (≥ 0) march the same horizon rays: the same position, the
    same antenna height above sea level and the same number of rays (the sectors of one mast).
    A ray's samples and running slopes depend on nothing else, so the rays one cell marched
    serve the next unchanged (the same values as marching them again)."""
    return (
        cellp[k, X] == cellp[p, X]
        and cellp[k, Y] == cellp[p, Y]
        and cellp[k, ZSITE] + cellp[k, HBS] == cellp[p, ZSITE] + cellp[p, HBS]
        and celli[k, N_RAYS] == celli[p, N_RAYS]
    )


#: Pixels per run of the terrain path: a run none of whose pixels needs terrain is skipped.
CHUNK = 64


@jit(inline="always")
def _any_needed(need_row, a, b):
    """Whether any pixel of ``[a, b)`` needs terrain (``need_row`` is ``tsc[..., T_NEED]``)."""
    hit = _F32_0
    for i in range(a, b):
        hit = max(hit, need_row[i])
    return hit != _F32_0


@jit(inline="always")
def _rsrp_run_dem(lo, hi, dy, j0, xm, res32, level32, c32, cls_row, los, dz, diff, iota, vrow):
    """The RSRP of the pixels ``[lo, hi)`` (local columns) of one row of a cell with terrain
    into ``vrow[: hi − lo]`` (:func:`_row_rsrp_dem`; −inf where the pixel does not contribute).
    ``j0`` is local column 0's offset from the antenna's column."""
    n = hi - lo
    n_pad = (n + PAD - 1) // PAD * PAD  # rows are PAD longer than the tile: in bounds
    # Views from lo: the loop index starts at 0 (no negative-index wraparound, unit stride), so
    # LLVM vectorises the loops; padding pixels are masked out (i ≥ n).
    _row_rsrp_dem(
        n,
        dy,
        np.float32(j0 + lo),
        xm,
        res32,
        level32,
        c32,
        cls_row[lo : lo + n_pad],
        iota,
        los[lo : lo + n_pad],
        dz[lo : lo + n_pad],
        diff[lo : lo + n_pad],
        vrow,
        _F32_NEG_INF,
    )


@jit(inline="always")
def _power(n, level32, vrow, prow):
    """``prow[i]`` = the linear power ``exp10f_db`` of ``vrow[i]`` where it contributes (≥
    ``level32``), ``exp10f_db(0)`` elsewhere, for ``i`` < ``n`` rounded up to PAD (8 float32
    lanes)."""
    for i in range((n + PAD - 1) // PAD * PAD):
        v = vrow[i]
        prow[i] = exp10f_db(v if v >= level32 else _F32_0)


@jit(inline="always")
def _accumulate(lo, hi, level32, vrow, prow, s_row, best_row, bidx_row, k32):
    """Accumulate the RSRP ``vrow`` and linear power ``prow`` of the pixels ``[lo, hi)`` of one
    row of cell ``k32`` (best server, server, linear sum of the cell's carrier group in
    float64)."""
    n_pad = (hi - lo + PAD - 1) // PAD * PAD
    s_v = s_row[lo : lo + n_pad]
    best_v = best_row[lo : lo + n_pad]
    bidx_v = bidx_row[lo : lo + n_pad]
    for i in range(n_pad):
        v = vrow[i]
        ok = v >= level32
        s_v[i] += np.float64(prow[i]) if ok else 0.0
        b = best_v[i]
        better = ok & (v > b)
        best_v[i] = v if better else b
        bidx_v[i] = k32 if better else bidx_v[i]


@jit(inline="always")
def _band_results(
    r0, r1, w, best, bidx, sums, cellp, celli, sp, ip, out_rsrp, out_server, out_sinr, out_covered
):
    """The outputs of rows ``r0..r1-1`` of a tile from the accumulated best RSRP, server and
    linear sums: RSRP, server id, SINR (float64) and covered."""
    load = sp[LOAD]
    ng = ip[NGROUPS]
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
            # The server's power exactly as it was added to the sums (same float32 function of
            # the same float32 RSRP), so that taking it out leaves only the others' power.
            s = np.float64(exp10f_db(bv))
            wrow = WMAT + celli[k, GROUP] * ng
            total = 0.0
            for g in range(ng):
                wg = sp[wrow + g]
                if wg != 0.0:
                    total += wg * sums[g, r - r0, c]
            interference = load * (total - s)
            if interference < 0.0:
                interference = 0.0
            sinr = 10.0 * math.log10(s / (interference + cellp[k, NOISE_MW]))
            out_rsrp[r, c] = bv
            out_server[r, c] = celli[k, GID]
            out_sinr[r, c] = sinr
            out_covered[r, c] = 1 if (bv >= thr_rsrp and sinr >= thr_sinr) else 0


@jit
def _band(
    r0,
    r1,
    row_off,
    col_off,
    cellp,
    coef,
    celli,
    sp,
    ip,
    clutter,
    dem,
    out_rsrp,
    out_server,
    out_sinr,
    out_covered,
    scratch,
) -> int:
    """Rows ``r0..r1-1`` of a tile without a DEM, every cell, cell by cell; writes those rows
    of the outputs (:func:`_band_dem` with a DEM).

    Per cell the constants are set up once (:func:`_cell_setup`); then per row one vectorised
    loop over the pixels of the cell's circle (:func:`_row_interval`, :func:`_row_rsrp_plain`)
    evaluates the RSRP, a second its linear power (8 float32 lanes) and a third accumulates them
    (best server, server, linear sum per carrier group in float64).
    ``scratch`` is :func:`_scratch` for at least ``r1 − r0`` rows; ``clutter`` is (h, w + PAD).
    Two functions rather than one with a flag: a tile without a DEM compiles none of the
    terrain code (a shorter cold start).
    """
    best, bidx, sums, _los, _dz, _diff, _tsc, _ray_scr = scratch
    w = out_rsrp.shape[1]
    wp = w + PAD
    nr = r1 - r0
    best[:nr, :] = -np.inf
    bidx[:nr, :] = -1
    sums[:, :nr, :] = 0.0
    iota = np.arange(wp).astype(np.float32)
    vrow = np.empty(wp, dtype=np.float32)
    prow = np.empty(wp, dtype=np.float32)
    res = sp[RES]
    res32 = np.float32(res)
    level32 = np.float32(sp[LEVEL])
    evals = 0
    for k in range(cellp.shape[0]):
        ra = max(celli[k, R0] - row_off, r0)
        rb = min(celli[k, R1] - row_off, r1)
        if ra >= rb:
            continue
        c32, gm, xm = _cell_setup(k, cellp, coef, sp, ip)
        k32 = np.int32(k)
        g = celli[k, GROUP]
        for r in range(ra, rb):
            gr = row_off + r
            lo, hi = _row_interval(k, gr, cellp, celli, sp, col_off, w)
            if lo >= hi:
                continue
            evals += hi - lo
            dy = np.float32((sp[SY0] - (gr + 0.5) * res) - cellp[k, Y])
            s_row = sums[g, r - r0]
            best_row = best[r - r0]
            bidx_row = bidx[r - r0]
            n = hi - lo
            n_pad = (n + PAD - 1) // PAD * PAD
            _row_rsrp_plain(
                n,
                dy,
                np.float32(col_off - gm + lo),
                xm,
                res32,
                level32,
                c32,
                clutter[r, lo : lo + n_pad],
                iota,
                vrow,
                _F32_NEG_INF,
            )
            _power(n, level32, vrow, prow)
            _accumulate(lo, hi, level32, vrow, prow, s_row, best_row, bidx_row, k32)
    _band_results(
        r0,
        r1,
        w,
        best,
        bidx,
        sums,
        cellp,
        celli,
        sp,
        ip,
        out_rsrp,
        out_server,
        out_sinr,
        out_covered,
    )
    return evals


@jit
def _band_dem(
    r0,
    r1,
    row_off,
    col_off,
    cellp,
    coef,
    celli,
    sp,
    ip,
    clutter,
    dem,
    out_rsrp,
    out_server,
    out_sinr,
    out_covered,
    scratch,
) -> int:
    """:func:`_band` with a DEM: per cell the terrain passes first (:func:`_cell_terrain`);
    then per row, by runs of CHUNK pixels (skipped where none needs terrain), the terrain
    (:func:`_terrain_row`), the RSRP (:func:`_rsrp_run_dem`), the deferred knife-edge loss
    (:func:`_deferred_diffraction`), the linear power and the accumulation."""
    best, bidx, sums, los, dz, diff, tsc, ray_scr = scratch
    rays, need, touched = ray_scr
    w = out_rsrp.shape[1]
    wp = w + PAD
    nr = r1 - r0
    best[:nr, :] = -np.inf
    bidx[:nr, :] = -1
    sums[:, :nr, :] = 0.0
    iota = np.arange(wp).astype(np.float32)
    vrow = np.empty(wp, dtype=np.float32)
    prow = np.empty(wp, dtype=np.float32)
    res = sp[RES]
    res32 = np.float32(res)
    level32 = np.float32(sp[LEVEL])
    evals = 0
    marched = -1  # the cell whose rays the scratch holds
    for k in range(cellp.shape[0]):
        ra = max(celli[k, R0] - row_off, r0)
        rb = min(celli[k, R1] - row_off, r1)
        if ra >= rb:
            continue
        c32, gm, xm = _cell_setup(k, cellp, coef, sp, ip)
        k32 = np.int32(k)
        g = celli[k, GROUP]
        fresh = marched < 0 or not _same_antenna(k, marched, cellp, celli)
        marched = k
        _cell_terrain(
            k,
            ra,
            rb,
            row_off,
            col_off,
            w,
            cellp,
            celli,
            sp,
            ip,
            clutter,
            c32,
            gm,
            xm,
            iota,
            dem,
            tsc,
            rays,
            need,
            touched,
            fresh,
        )
        for r in range(ra, rb):
            gr = row_off + r
            lo, hi = _row_interval(k, gr, cellp, celli, sp, col_off, w)
            if lo >= hi:
                continue
            evals += hi - lo
            dy = np.float32((sp[SY0] - (gr + 0.5) * res) - cellp[k, Y])
            s_row = sums[g, r - r0]
            best_row = best[r - r0]
            bidx_row = bidx[r - r0]
            # With terrain, runs of CHUNK pixels none of which can contribute whatever the
            # terrain (:func:`_terrain_needs`) are skipped: they would evaluate to −inf.
            need_row = tsc[r - ra, T_NEED]
            for a in range(lo, hi, CHUNK):
                b = min(a + CHUNK, hi)
                if not _any_needed(need_row, a, b):
                    continue
                _terrain_row(
                    k, gr, a, b, col_off, cellp, sp, ip, dem, tsc[r - ra], los, dz, diff, rays
                )
                _rsrp_run_dem(
                    a,
                    b,
                    dy,
                    col_off - gm,
                    xm,
                    res32,
                    level32,
                    c32,
                    clutter[r],
                    los,
                    dz,
                    diff,
                    iota,
                    vrow,
                )
                _deferred_diffraction(
                    k,
                    gr,
                    a,
                    b,
                    col_off,
                    cellp,
                    sp,
                    ip,
                    dem,
                    tsc[r - ra],
                    rays,
                    vrow,
                    level32,
                    _F32_NEG_INF,
                )
                _power(b - a, level32, vrow, prow)
                _accumulate(a, b, level32, vrow, prow, s_row, best_row, bidx_row, k32)
    _band_results(
        r0,
        r1,
        w,
        best,
        bidx,
        sums,
        cellp,
        celli,
        sp,
        ip,
        out_rsrp,
        out_server,
        out_sinr,
        out_covered,
    )
    return evals


#: Rows per band of the row-parallel kernel.
BAND = 8


@jit
def tile_kernel(
    row_off,
    col_off,
    cellp,
    coef,
    celli,
    sp,
    ip,
    clutter,
    dem,
    out_rsrp,
    out_server,
    out_sinr,
    out_covered,
) -> int:
    """Best-server RSRP, server, SINR and covered on one tile without a DEM (serial; for a
    thread pool; :func:`tile_kernel_dem` with one).

    ``out_*`` have the tile's shape (h, w), ``clutter`` is (h, w + PAD) (classes, padded);
    returns the number of cell-pixel evaluations.
    """
    h, w = out_rsrp.shape
    return _band(
        np.int64(0),  # not a literal 0: the same compiled _band as the row-band kernel's
        h,
        row_off,
        col_off,
        cellp,
        coef,
        celli,
        sp,
        ip,
        clutter,
        dem,
        out_rsrp,
        out_server,
        out_sinr,
        out_covered,
        _scratch(h, w, cellp, celli, sp, ip),
    )


@jit
def tile_kernel_dem(
    row_off,
    col_off,
    cellp,
    coef,
    celli,
    sp,
    ip,
    clutter,
    dem,
    out_rsrp,
    out_server,
    out_sinr,
    out_covered,
) -> int:
    """:func:`tile_kernel` with a DEM (``ip[HAS_DEM]`` set; its terrain passes)."""
    h, w = out_rsrp.shape
    return _band_dem(
        np.int64(0),
        h,
        row_off,
        col_off,
        cellp,
        coef,
        celli,
        sp,
        ip,
        clutter,
        dem,
        out_rsrp,
        out_server,
        out_sinr,
        out_covered,
        _scratch(h, w, cellp, celli, sp, ip),
    )


@pjit
def tile_kernel_parallel(
    row_off,
    col_off,
    cellp,
    coef,
    celli,
    sp,
    ip,
    clutter,
    dem,
    out_rsrp,
    out_server,
    out_sinr,
    out_covered,
    band,
) -> int:
    """Same as :func:`tile_kernel` with bands of ``band`` rows in parallel (``prange``); each band
    writes only its own rows, and per pixel the arithmetic and its order are the same.

    Each band marches the rays its own pixels need (the horizon sweep is per band), so with a DEM
    the engine passes bands of about ``h / (2·threads)`` rows rather than ``BAND``."""
    h, w = out_rsrp.shape
    band = max(band, 1)
    n_bands = (h + band - 1) // band
    evals = np.zeros(n_bands, dtype=np.int64)
    with_dem = ip[HAS_DEM] != 0
    for b in prange(n_bands):
        r0 = b * band
        r1 = min(r0 + band, h)
        scratch = _scratch(band, w, cellp, celli, sp, ip)
        if with_dem:
            evals[b] = _band_dem(
                r0,
                r1,
                row_off,
                col_off,
                cellp,
                coef,
                celli,
                sp,
                ip,
                clutter,
                dem,
                out_rsrp,
                out_server,
                out_sinr,
                out_covered,
                scratch,
            )
        else:
            evals[b] = _band(
                r0,
                r1,
                row_off,
                col_off,
                cellp,
                coef,
                celli,
                sp,
                ip,
                clutter,
                dem,
                out_rsrp,
                out_server,
                out_sinr,
                out_covered,
                scratch,
            )
    return evals.sum()


@jit
def _footprint_cell(
    k, row_off, col_off, h, w, cellp, coef, celli, sp, ip, clutter, dem, out, o
) -> int:
    """RSRP (dBm) of cell ``k`` alone on its window ``h × w`` at global ``(row_off, col_off)``,
    row-major into ``out[o : o + h·w]``; NaN where it does not contribute. ``clutter`` is the
    full-grid class raster, padded (H, W + PAD). The per-pixel arithmetic is the tile kernel's
    (same set-up, same terrain passes, the same vectorised loop, :func:`_row_rsrp`: the same
    float32 value). Returns the evaluations."""
    _best, _bidx, _sums, los, dz, diff, tsc, ray_scr = _scratch(
        h, w, cellp[k : k + 1], celli[k : k + 1], sp, ip
    )
    rays, need, touched = ray_scr
    wp = w + PAD
    vrow = np.empty(wp, dtype=np.float32)
    iota = np.arange(wp).astype(np.float32)
    res = sp[RES]
    res32 = np.float32(res)
    level32 = np.float32(sp[LEVEL])
    has_dem = ip[HAS_DEM] != 0
    c32, gm, xm = _cell_setup(k, cellp, coef, sp, ip)
    # A C-contiguous copy (a few hundred KiB): the terrain functions then take the same array
    # types as in the tile kernel, so they are compiled (and cached) once for both.
    cl = np.ascontiguousarray(clutter[row_off : row_off + h, col_off : col_off + wp])
    evals = 0
    if has_dem:
        _cell_terrain(
            k,
            np.int64(0),
            h,
            row_off,
            col_off,
            w,
            cellp,
            celli,
            sp,
            ip,
            cl,
            c32,
            gm,
            xm,
            iota,
            dem,
            tsc,
            rays,
            need,
            touched,
            True,
        )
    for r in range(h):
        row_o = o + r * w
        out[row_o : row_o + w] = np.nan
        gr = row_off + r
        lo, hi = _row_interval(k, gr, cellp, celli, sp, col_off, w)
        if lo >= hi:
            continue
        evals += hi - lo
        dy = np.float32((sp[SY0] - (gr + 0.5) * res) - cellp[k, Y])
        # Without terrain one run; with it, runs of CHUNK pixels (skipped where no pixel needs
        # terrain: they stay NaN), as in the tile kernel.
        step = CHUNK if has_dem else hi - lo
        for a in range(lo, hi, step):
            b = min(a + step, hi)
            if has_dem:
                if not _any_needed(tsc[r, T_NEED], a, b):
                    continue
                _terrain_row(k, gr, a, b, col_off, cellp, sp, ip, dem, tsc[r], los, dz, diff, rays)
            n = b - a
            n_pad = (n + PAD - 1) // PAD * PAD
            _row_rsrp(
                n,
                dy,
                np.float32(col_off + a - gm),
                xm,
                res32,
                level32,
                c32,
                cl[r, a : a + n_pad],
                iota,
                has_dem,
                los[a : a + n_pad],
                dz[a : a + n_pad],
                diff[a : a + n_pad],
                vrow,
                np.float32(np.nan),
            )
            if has_dem:
                _deferred_diffraction(
                    k,
                    gr,
                    a,
                    b,
                    col_off,
                    cellp,
                    sp,
                    ip,
                    dem,
                    tsc[r],
                    rays,
                    vrow,
                    level32,
                    np.float32(np.nan),
                )
            out[row_o + a : row_o + b] = vrow[:n]
    return evals


@pjit
def footprints_kernel(
    ks,
    row_off,
    col_off,
    height,
    width,
    offsets,
    cellp,
    coef,
    celli,
    sp,
    ip,
    clutter,
    dem,
    out,
    evals,
):
    """:func:`_footprint_cell` for many cells in parallel (``prange``; each writes only its own
    part of ``out``): cell ``ks[q]`` on the window ``height[q] × width[q]`` at
    ``(row_off[q], col_off[q])`` into ``out[offsets[q] :]``; ``evals[q]`` its evaluations."""
    for q in prange(ks.size):
        evals[q] = _footprint_cell(
            ks[q],
            row_off[q],
            col_off[q],
            height[q],
            width[q],
            cellp,
            coef,
            celli,
            sp,
            ip,
            clutter,
            dem,
            out,
            offsets[q],
        )


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
    if (
        path_loss_code(model, env, los, max_radius_m, f_ghz, h_bs, h_ut, h_bld, w_street)
        <= budget_db
    ):
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
