"""The kernel's building blocks against the exact definitions: branch-free math, the coefficient
form of the path-loss models, and the geometric form of the antenna pattern."""

from __future__ import annotations

import math
import re

import numba
import numpy as np
import pytest

from gigacov.radio import kernels as K
from gigacov.radio.antenna import antenna_gain_db
from gigacov.radio.models import MODEL_CODES, RURAL, SUBURBAN, URBAN, path_loss_code
from gigacov.radio.prepare import path_loss_coefficients
from gigacov.radio.result import RadioParams
from gigacov.radio.vmath import (
    atan2_fast,
    atan2f,
    db_to_linear,
    exp10f_db,
    f32_from_bits,
    log10_ge1,
    log10f_ge1,
)


def test_log10_matches_math_log10():
    rng = np.random.default_rng(1)
    xs = np.concatenate(
        [np.exp(rng.uniform(0, 43, 3000)), [1.0, 2.0, math.sqrt(2), 10.0, 1e4, 2.0**40, 2.0**63]]
    )
    for x in xs:
        assert abs(log10_ge1(x) - math.log10(x)) < 3e-13, x


def test_db_to_linear_matches_pow():
    for v in np.concatenate(
        [np.random.default_rng(2).uniform(-300, 300, 3000), [0.0, -105.0, 10.0, -300.0]]
    ):
        assert db_to_linear(v) == pytest.approx(10.0 ** (v / 10.0), rel=3e-13), v


def test_atan2_matches_math_atan2():
    rng = np.random.default_rng(3)
    pts = list(
        zip(
            rng.normal(size=3000) * 10.0 ** rng.uniform(-3, 4, 3000),
            rng.normal(size=3000) * 1e3,
            strict=True,
        )
    )
    pts += [
        (0.0, 0.0),
        (0.0, 5.0),
        (0.0, -5.0),
        (5.0, 0.0),
        (-5.0, 0.0),
        (1.0, 1.0),
        (-1.0, -1.0),
        (0.41421356237309503, 1.0),
        (1e-9, 1e4),
        (28.5, 3.0),
        (-2.0, 1e-12),
    ]
    for y, x in pts:
        assert abs(atan2_fast(y, x) - math.atan2(y, x)) < 5e-13, (y, x)


def _table(f_ghz, h_bs):
    f = np.asarray(f_ghz, dtype=float)
    return {"f_ghz": f, "h_bs": np.asarray(h_bs, dtype=float)}


@pytest.mark.parametrize(
    "model",
    ["free-space", "3gpp-38.901-uma", "3gpp-38.901-umi", "3gpp-38.901-rma", "cost231-hata", "auto"],
)
def test_coefficient_form_equals_the_published_formulas(model):
    rng = np.random.default_rng(len(model))
    n = 6
    f = rng.choice([0.7, 1.8, 2.6, 3.5, 4.9], n)
    hbs = rng.uniform(12.0, 60.0, n)
    params = RadioParams(
        model=model,
        ue_height_m=float(rng.choice([1.5, 2.0])),
        building_height_m=7.0,
        street_width_m=15.0,
    )
    coef = path_loss_coefficients(_table(f, hbs), params)
    code = MODEL_CODES[model]
    hut = params.ue_height_m
    fs = model == "free-space"
    dmin, d3min2 = (0.0, 1.0) if fs else (10.0, 0.0)
    need_d3 = True
    for k in range(n):
        cu, cs, cr = (K.coef_tuple(coef, k, c) for c in (URBAN, SUBURBAN, RURAL))
        # Distances around every breakpoint, below the clamp and far beyond the validity range.
        d = np.concatenate([rng.uniform(0, 20000, 40), [0.0, 3.0, 10.0, 999.9, 1000.0]])
        for cls in (URBAN, SUBURBAN, RURAL):
            bp = coef[k, (cls - 1) * K.NCOEF + K.BP]
            if np.isfinite(bp):
                d = np.concatenate([d, [bp - 1e-6, bp, bp + 1e-6]])
            for los in (False, True):
                for dd in d:
                    expected = path_loss_code(
                        K.resolve_model(code, cls),
                        cls,
                        los,
                        dd,
                        f[k],
                        hbs[k],
                        hut,
                        params.building_height_m,
                        params.street_width_m,
                    )
                    got = K.coef_path_loss(
                        cu,
                        cs,
                        cr,
                        cls,
                        dd,
                        los,
                        (hbs[k] - hut) ** 2,
                        dmin,
                        d3min2,
                        model == "cost231-hata",
                        need_d3,
                    )
                    assert got == pytest.approx(expected, abs=1e-9), (model, cls, los, dd)


def test_geometric_antenna_pattern_equals_table_7_3_1():
    rng = np.random.default_rng(9)
    for _ in range(2000):
        az = rng.uniform(0, 360)
        bw = rng.choice([33.0, 65.0, 90.0])
        tilt = rng.choice([np.nan, rng.uniform(-2, 12)])
        vbw = rng.choice([6.5, 10.0])
        omni = rng.random() < 0.2
        dx, dy = rng.normal(size=2) * 10.0 ** rng.uniform(0, 4)
        dz = rng.uniform(-50, 80)
        d = math.hypot(dx, dy)
        phi = math.degrees(math.atan2(dx, dy)) - az
        theta = math.degrees(math.atan2(dz, d))
        expected = antenna_gain_db(phi, theta, bw, tilt, vbw, omni)
        kh = 0.0 if omni else 12.0 / math.radians(bw) ** 2
        kv = 0.0 if math.isnan(tilt) else 12.0 / math.radians(vbw) ** 2
        tilt_rad = 0.0 if math.isnan(tilt) else math.radians(tilt)
        a = math.radians(0.0 if omni else az)
        got = K.antenna_gain_fast(dx, dy, dz, d, math.sin(a), math.cos(a), kh, kv, tilt_rad)
        assert got == pytest.approx(expected, abs=1e-9)


# ------------------------------------------------------------------------------------------------
# float32 maths: error bounds over every float32 input of the reduced ranges (exhaustive) or on
# dense grids, against math in float64
# ------------------------------------------------------------------------------------------------


@numba.njit(cache=False)
def _log10f_max_error(e_lo, e_hi):
    """Largest |log10f_ge1(x) − log10(x)| over EVERY float32 x in [2^e_lo, 2^e_hi)."""
    worst = 0.0
    for e in range(e_lo, e_hi):
        for mant in range(1 << 23):
            x = f32_from_bits(np.int32(((e + 127) << 23) | mant))
            err = abs(float(log10f_ge1(x)) - math.log10(float(x)))
            worst = max(worst, err)
    return worst


@numba.njit(cache=False)
def _exp10f_max_rel_error(lo, hi, step):
    """Largest relative error of exp10f_db on the float32 grid lo, lo + step, … < hi."""
    worst = 0.0
    n = int((hi - lo) / step)
    for i in range(n):
        x = np.float32(lo + i * step)
        exact = 10.0 ** (float(x) / 10.0)
        worst = max(worst, abs(float(exp10f_db(x)) / exact - 1.0))
    return worst


@numba.njit(cache=False)
def _atan_max_error():
    """Largest |atan2f(a, 1) − atan(a)| over EVERY float32 a in [2^-12, 1], and the largest
    |atan2f(y, x) − atan2(y, x)| over a dense ring of 4,000,000 directions (all octants)."""
    worst = 0.0
    for e in range(-12, 0):
        for mant in range(1 << 23):
            a = f32_from_bits(np.int32(((e + 127) << 23) | mant))
            worst = max(worst, abs(float(atan2f(a, np.float32(1.0))) - math.atan(float(a))))
    ring = 0.0
    for i in range(4_000_000):
        ang = -math.pi + 2.0 * math.pi * (i + 0.5) / 4_000_000
        for radius in (0.37, 1234.5):
            y = np.float32(radius * math.sin(ang))
            x = np.float32(radius * math.cos(ang))
            ring = max(ring, abs(float(atan2f(y, x)) - math.atan2(float(y), float(x))))
    return worst, ring


def test_log10f_error_bound_exhaustive():
    # Every float32 in [1, 2^40): 40 × 2^23 inputs (squared distances up to 1,000 km).
    assert _log10f_max_error(0, 40) < 2.5e-6  # 2 ulp of the result (≤ 12)
    assert log10f_ge1(np.float32(1.0)) == 0.0


def test_exp10f_error_bound_dense():
    # 10^(x/10) for x from −250 to 100 dB in steps of 2^-14 dB (5.7 M points).
    assert _exp10f_max_rel_error(-250.0, 100.0, 2.0**-14) < 1.2e-5  # 5e-5 dB
    assert _exp10f_max_rel_error(-130.0, 0.0, 2.0**-14) < 4e-6  # the RSRP range: 2e-5 dB


def test_atan2f_error_bound_exhaustive_and_dense():
    core, ring = _atan_max_error()
    assert core < 2e-7  # below 2^-12, atan a = a − a³/3 … and the polynomial is a·(1 − 7e-7)
    assert ring < 5e-7  # the octant reduction adds the rounding of π/2 − r and π − r
    assert atan2f(np.float32(0.0), np.float32(0.0)) == 0.0


def _row_loop(has_dem):
    """A jitted call of the kernels' row loop with ``has_dem`` a compile-time constant (so that
    LLVM drops the other loop and the machine code is that of one loop)."""

    @numba.njit(cache=False, nogil=True)
    def row(n, v_v, iota_v, cls_v, c32, xm, j0, res32, dy, level32, los_v, dz_v, diff_v):
        K._row_rsrp(
            n,
            dy,
            j0,
            xm,
            res32,
            level32,
            c32,
            cls_v,
            iota_v,
            has_dem,
            los_v,
            dz_v,
            diff_v,
            v_v,
            np.float32(-np.inf),
        )

    return row


@pytest.mark.parametrize("has_dem", [False, True])
def test_float32_pixel_loop_vectorises(has_dem):
    """The kernels' float32 pixel loop (:func:`kernels._row_rsrp`: without terrain
    :func:`kernels._row_rsrp_plain`, with it :func:`kernels._row_rsrp_dem`, the loops of the
    tile and the footprint kernels) compiles to packed SIMD code (8 lanes with AVX2), without
    and with terrain."""
    import llvmlite.binding as llvm

    row = _row_loop(has_dem)
    f = np.float32
    coef = tuple(f(x) for x in (500.0, 30.0, 22.0, 0.0, 10.0, 40.0, 0.0, 0.0, 30.0, -np.inf, 39.0))
    c32 = (coef, coef, coef, f(30.0), f(0.5), f(0.8), f(9.0), f(394.0), f(0.1), f(28.5))
    c32 = c32 + (f(812.25), f(10.0), f(0.0), False, False)
    n = 64
    iota = np.arange(n).astype(np.float32)
    v = np.empty(n, np.float32)
    cls = np.full(n, 3, np.int8)
    los = np.arange(n) % 3 == 0
    dz = np.full(n, 28.5, np.float32)
    diff = np.where(los, 0.0, 6.0).astype(np.float32)
    row(n - 5, v, iota, cls, c32, f(-3.0), f(-32.0), f(100.0), f(523.0), f(-250.0), los, dz, diff)
    assert np.isfinite(v[: n - 5]).all() and (v[n - 5 :] == -np.inf).all()
    asm = row.inspect_asm(row.signatures[0])
    packed = set(re.findall(r"\bv(?:div|mul|add|sub|sqrt|fmadd\w*)ps\s[^\n]*?%([xyz])mm", asm))
    features = llvm.get_host_cpu_features()
    if features.get("avx2", False):
        assert packed & {"y", "z"}, "the float32 pixel loop did not vectorise to 8+ lanes"
    else:
        assert packed, "the float32 pixel loop did not vectorise"
