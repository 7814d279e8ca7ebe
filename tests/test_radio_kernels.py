"""The kernel's building blocks against the exact definitions: branch-free math, the coefficient
form of the path-loss models, and the geometric form of the antenna pattern."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gigacov.radio import kernels as K
from gigacov.radio.antenna import antenna_gain_db
from gigacov.radio.models import MODEL_CODES, RURAL, SUBURBAN, URBAN, path_loss_code
from gigacov.radio.prepare import path_loss_coefficients
from gigacov.radio.result import RadioParams
from gigacov.radio.vmath import atan2_fast, db_to_linear, log10_ge1


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
