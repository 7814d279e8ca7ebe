"""Path-loss models, antenna pattern and knife-edge loss against the published formulas.

Every expected value is the published formula evaluated by hand: the arithmetic is written out
inline (with math.log10), never by calling gigacov.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from gigacov.errors import ConfigError, InputError
from gigacov.radio import models
from gigacov.radio.antenna import antenna_gain_db
from gigacov.radio.models import path_loss_db
from gigacov.radio.terrain import fresnel_nu, knife_edge_loss_db

log10 = math.log10
UMA, UMI, RMA, HATA, FS = (
    "3gpp-38.901-uma",
    "3gpp-38.901-umi",
    "3gpp-38.901-rma",
    "cost231-hata",
    "free-space",
)


def pl(model, d, f, hbs, hut, los=True, **kw):
    return float(path_loss_db(model, d, f, hbs, hut, los, **kw))


@pytest.fixture(autouse=True)
def _fresh_warnings():
    models._WARNED.clear()
    yield
    models._WARNED.clear()


# ------------------------------------------------------------------------------------------------
# Free space (ITU-R P.525)
# ------------------------------------------------------------------------------------------------


def test_free_space_matches_p525():
    # Equal heights: d3d = d2d. 1 km at 3500 MHz: 32.45 + 20·log10(3500) + 20·log10(1).
    assert pl(FS, 1000.0, 3.5, 1.5, 1.5) == pytest.approx(32.45 + 20 * log10(3500) + 0.0, abs=1e-9)
    assert pl(FS, 1000.0, 3.5, 1.5, 1.5) == pytest.approx(103.3314, abs=1e-4)
    # 2.5 km at 700 MHz with a 30 m mast: d3d = sqrt(2500² + 28.5²) m.
    d3 = math.sqrt(2500**2 + 28.5**2) / 1000
    assert pl(FS, 2500.0, 0.7, 30.0, 1.5) == pytest.approx(
        32.45 + 20 * log10(700) + 20 * log10(d3), abs=1e-9
    )
    # Doubling the distance adds 20·log10(2) = 6.0206 dB.
    assert pl(FS, 2000.0, 2.6, 1.5, 1.5) - pl(FS, 1000.0, 2.6, 1.5, 1.5) == pytest.approx(
        6.0206, abs=1e-4
    )


def test_free_space_clamps_below_one_metre():
    # d3d < 1 m → 1 m: 32.45 + 20·log10(3500) + 20·log10(0.001) = 43.33 dB.
    assert pl(FS, 0.2, 3.5, 1.5, 1.5) == pytest.approx(32.45 + 20 * log10(3500) - 60.0, abs=1e-9)
    assert pl(FS, 0.0, 3.5, 1.5, 1.5) == pl(FS, 1.0, 3.5, 1.5, 1.5)


# ------------------------------------------------------------------------------------------------
# 3GPP TR 38.901 UMa
# ------------------------------------------------------------------------------------------------


def test_uma_los_below_and_above_breakpoint():
    # d'BP = 4·(25−1)·(1.5−1)·3.5e9/3e8 = 560 m.
    dbp = 4 * 24 * 0.5 * 3.5e9 / 3e8
    assert dbp == pytest.approx(560.0)
    d3 = math.sqrt(100**2 + 23.5**2)
    assert pl(UMA, 100.0, 3.5, 25.0, 1.5) == pytest.approx(
        28 + 22 * log10(d3) + 20 * log10(3.5), abs=1e-9
    )
    assert pl(UMA, 100.0, 3.5, 25.0, 1.5) == pytest.approx(83.138, abs=1e-3)
    d3 = math.sqrt(1000**2 + 23.5**2)
    expected = 28 + 40 * log10(d3) + 20 * log10(3.5) - 9 * log10(dbp**2 + 23.5**2)
    assert pl(UMA, 1000.0, 3.5, 25.0, 1.5) == pytest.approx(expected, abs=1e-9)


def test_uma_los_is_continuous_at_breakpoint():
    # At d2d = d'BP, d'BP² + Δh² = d3d², so PL2 = 28 + 40·log10 d3d − 18·log10 d3d = PL1.
    below = pl(UMA, 560.0 - 1e-6, 3.5, 25.0, 1.5)
    above = pl(UMA, 560.0 + 1e-6, 3.5, 25.0, 1.5)
    assert below == pytest.approx(above, abs=1e-5)


def test_uma_nlos_is_max_of_los_and_nlos_prime():
    for d in (50.0, 100.0, 400.0, 1000.0, 3000.0):
        for f, hut in ((3.5, 1.5), (2.6, 1.5), (0.7, 3.0), (28.0, 1.5)):
            d3 = math.sqrt(d**2 + (25 - hut) ** 2)
            nlos_prime = 13.54 + 39.08 * log10(d3) + 20 * log10(f) - 0.6 * (hut - 1.5)
            los = pl(UMA, d, f, 25.0, hut, True)
            assert pl(UMA, d, f, 25.0, hut, False) == pytest.approx(max(los, nlos_prime), abs=1e-9)
    # 100 m at 3.5 GHz: 13.54 + 39.08·log10(102.724) + 10.881 = 103.0375 dB.
    assert pl(UMA, 100.0, 3.5, 25.0, 1.5, False) == pytest.approx(103.0375, abs=1e-4)


def test_uma_higher_ue_moves_breakpoint():
    # h_ut = 4.5 m: d'BP = 4·24·3.5·3.5e9/3e8 = 3920 m, so 2 km is still PL1.
    d3 = math.sqrt(2000**2 + 20.5**2)
    assert pl(UMA, 2000.0, 3.5, 25.0, 4.5) == pytest.approx(
        28 + 22 * log10(d3) + 20 * log10(3.5), abs=1e-9
    )


# ------------------------------------------------------------------------------------------------
# UMi-Street-Canyon
# ------------------------------------------------------------------------------------------------


def test_umi_los_and_nlos():
    # h_bs 10 m: d'BP = 4·9·0.5·3.5e9/3e8 = 210 m.
    dbp = 4 * 9 * 0.5 * 3.5e9 / 3e8
    d3 = math.sqrt(100**2 + 8.5**2)
    assert pl(UMI, 100.0, 3.5, 10.0, 1.5) == pytest.approx(
        32.4 + 21 * log10(d3) + 20 * log10(3.5), abs=1e-9
    )
    d3 = math.sqrt(800**2 + 8.5**2)
    los = 32.4 + 40 * log10(d3) + 20 * log10(3.5) - 9.5 * log10(dbp**2 + 8.5**2)
    assert pl(UMI, 800.0, 3.5, 10.0, 1.5) == pytest.approx(los, abs=1e-9)
    nlos_prime = 35.3 * log10(d3) + 22.4 + 21.3 * log10(3.5) - 0.3 * 0.0
    assert pl(UMI, 800.0, 3.5, 10.0, 1.5, False) == pytest.approx(max(los, nlos_prime), abs=1e-9)
    # UE at 7.5 m: −0.3·(7.5 − 1.5) = −1.8 dB in PL'.
    d3 = math.sqrt(300**2 + 2.5**2)
    nlos_prime = 35.3 * log10(d3) + 22.4 + 21.3 * log10(2.6) - 1.8
    assert pl(UMI, 300.0, 2.6, 10.0, 7.5, False) >= nlos_prime - 1e-9
    assert pl(UMI, 300.0, 2.6, 10.0, 7.5, False) == pytest.approx(
        max(pl(UMI, 300.0, 2.6, 10.0, 7.5, True), nlos_prime), abs=1e-9
    )


# ------------------------------------------------------------------------------------------------
# RMa
# ------------------------------------------------------------------------------------------------


def _rma_pl1(d, f, h=5.0):
    return (
        20 * log10(40 * math.pi * d * f / 3)
        + min(0.03 * h**1.72, 10) * log10(d)
        - min(0.044 * h**1.72, 14.77)
        + 0.002 * log10(h) * d
    )


def test_rma_los_below_and_above_breakpoint():
    # dBP = 2π·35·1.5·3.5e9/3e8 = 3848.45 m.
    dbp = 2 * math.pi * 35 * 1.5 * 3.5e9 / 3e8
    assert dbp == pytest.approx(3848.45, abs=0.01)
    h = 5.0
    d3 = math.sqrt(1000**2 + 33.5**2)
    pl1 = (
        20 * log10(40 * math.pi * d3 * 3.5 / 3)
        + min(0.03 * h**1.72, 10) * log10(d3)
        - min(0.044 * h**1.72, 14.77)
        + 0.002 * log10(h) * d3
    )
    assert pl(RMA, 1000.0, 3.5, 35.0, 1.5) == pytest.approx(pl1, abs=1e-9)
    d3 = math.sqrt(8000**2 + 33.5**2)
    assert pl(RMA, 8000.0, 3.5, 35.0, 1.5) == pytest.approx(
        _rma_pl1(dbp, 3.5) + 40 * log10(d3 / dbp), abs=1e-9
    )
    # The breakpoint: PL2 uses PL1(dBP) + 40·log10(d3d/dBP) with d3d > dBP, so the loss jumps up
    # (slightly) there but never down.
    assert pl(RMA, dbp + 1e-6, 3.5, 35.0, 1.5) >= pl(RMA, dbp - 1e-6, 3.5, 35.0, 1.5)


def test_rma_nlos():
    for d, f, hbs, hut in (
        (1000.0, 3.5, 35.0, 1.5),
        (4000.0, 0.7, 50.0, 1.5),
        (200.0, 2.1, 20.0, 3.0),
    ):
        d3 = math.sqrt(d**2 + (hbs - hut) ** 2)
        W, h = 20.0, 5.0
        nlos_prime = (
            161.04
            - 7.1 * log10(W)
            + 7.5 * log10(h)
            - (24.37 - 3.7 * (h / hbs) ** 2) * log10(hbs)
            + (43.42 - 3.1 * log10(hbs)) * (log10(d3) - 3)
            + 20 * log10(f)
            - (3.2 * log10(11.75 * hut) ** 2 - 4.97)
        )
        los = pl(RMA, d, f, hbs, hut, True)
        assert pl(RMA, d, f, hbs, hut, False) == pytest.approx(max(los, nlos_prime), abs=1e-9)
    # Building height and street width enter PL'.
    a = pl(RMA, 3000.0, 3.5, 35.0, 1.5, False, h_building_m=10.0, street_width_m=40.0)
    b = pl(RMA, 3000.0, 3.5, 35.0, 1.5, False)
    d3 = math.sqrt(3000**2 + 33.5**2)
    delta = (-7.1 * log10(40) + 7.5 * log10(10) - (24.37 - 3.7 * (10 / 35) ** 2) * log10(35)) - (
        -7.1 * log10(20) + 7.5 * log10(5) - (24.37 - 3.7 * (5 / 35) ** 2) * log10(35)
    )
    assert d3 > 0 and a - b == pytest.approx(delta, abs=1e-9)


# ------------------------------------------------------------------------------------------------
# COST-231 Hata
# ------------------------------------------------------------------------------------------------


def _hata_base(d_km, f, hb, hm):
    a = (1.1 * log10(f) - 0.7) * hm - (1.56 * log10(f) - 0.8)
    return 46.3 + 33.9 * log10(f) - 13.82 * log10(hb) - a + (44.9 - 6.55 * log10(hb)) * log10(d_km)


def test_cost231_hata_environments():
    # 5 km, 1800 MHz, 30 m mast, 1.5 m UE: a(hm) = (1.1·3.2553 − 0.7)·1.5 − (1.56·3.2553 − 0.8).
    a = (1.1 * log10(1800) - 0.7) * 1.5 - (1.56 * log10(1800) - 0.8)
    base = 46.3 + 33.9 * log10(1800) - 13.82 * log10(30) - a + (44.9 - 6.55 * log10(30)) * log10(5)
    assert pl(HATA, 5000.0, 1.8, 30.0, 1.5, environment="urban") == pytest.approx(
        base + 3, abs=1e-9
    )
    assert base + 3 == pytest.approx(163.818, abs=1e-3)
    sub = base - 2 * log10(1800 / 28) ** 2 - 5.4
    assert pl(HATA, 5000.0, 1.8, 30.0, 1.5, environment="suburban") == pytest.approx(sub, abs=1e-9)
    rural = base - 4.78 * log10(1800) ** 2 + 18.33 * log10(1800) - 40.94
    assert pl(HATA, 5000.0, 1.8, 30.0, 1.5, environment="rural") == pytest.approx(rural, abs=1e-9)
    for d_km, f in ((1.0, 1500.0), (20.0, 2000.0), (10.0, 1900.0)):
        assert pl(HATA, d_km * 1000, f / 1000, 50.0, 2.0, environment="suburban") == pytest.approx(
            _hata_base(d_km, f, 50.0, 2.0) - 2 * log10(f / 28) ** 2 - 5.4, abs=1e-9
        )


def test_cost231_hata_floor_and_extrapolation_below_1km():
    # 300 m at 1800 MHz extrapolates the log-distance law (above free space there).
    assert pl(HATA, 300.0, 1.8, 30.0, 1.5, environment="urban") == pytest.approx(
        _hata_base(0.3, 1800, 30.0, 1.5) + 3, abs=1e-9
    )
    # At 10 m (rural, 60 m mast) the extrapolated Hata value falls below free space: floor.
    d3 = math.sqrt(10**2 + 58.5**2)
    fs = 32.45 + 20 * log10(1800) + 20 * log10(d3 / 1000)
    hata = _hata_base(0.01, 1800, 60.0, 1.5) - 4.78 * log10(1800) ** 2 + 18.33 * log10(1800) - 40.94
    assert hata < fs
    assert pl(HATA, 10.0, 1.8, 60.0, 1.5, environment="rural") == pytest.approx(fs, abs=1e-9)


# ------------------------------------------------------------------------------------------------
# Validity edges
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [UMA, UMI, RMA, HATA])
def test_distance_below_minimum_is_clamped_to_10m(model):
    assert pl(model, 3.0, 2.0, 25.0, 1.5, False) == pl(model, 10.0, 2.0, 25.0, 1.5, False)
    assert pl(model, 0.0, 2.0, 25.0, 1.5, False) == pl(model, 10.0, 2.0, 25.0, 1.5, False)


def test_beyond_max_distance_is_extrapolated_with_one_warning(caplog):
    caplog.set_level(logging.WARNING, logger="gigacov.radio.models")
    d3 = math.sqrt(8000**2 + 23.5**2)
    nlos_prime = 13.54 + 39.08 * log10(d3) + 20 * log10(3.5)
    assert pl(UMA, 8000.0, 3.5, 25.0, 1.5, False) == pytest.approx(nlos_prime, abs=1e-9)
    pl(UMA, 9000.0, 3.5, 25.0, 1.5, False)
    msgs = [r.getMessage() for r in caplog.records if "exceed" in r.getMessage()]
    assert len(msgs) == 1 and "3gpp-38.901-uma" in msgs[0] and "5 km" in msgs[0]
    # At exactly 5 km there is nothing to say.
    caplog.clear()
    models._WARNED.clear()
    pl(UMA, 5000.0, 3.5, 25.0, 1.5, False)
    assert not [r for r in caplog.records if "exceed" in r.getMessage()]


def test_hata_outside_band_warns_once(caplog):
    caplog.set_level(logging.WARNING, logger="gigacov.radio.models")
    pl(HATA, 5000.0, 3.5, 30.0, 1.5)
    pl(HATA, 5000.0, 3.5, 30.0, 1.5)
    msgs = [r.getMessage() for r in caplog.records if "frequencies" in r.getMessage()]
    assert len(msgs) == 1 and "1500–2000 MHz" in msgs[0]
    caplog.clear()
    pl(HATA, 5000.0, 1.8, 30.0, 1.5)
    assert not caplog.records


def test_rma_los_validity_is_10km_nlos_5km(caplog):
    caplog.set_level(logging.WARNING, logger="gigacov.radio.models")
    pl(RMA, 8000.0, 3.5, 35.0, 1.5, True)
    assert not [r for r in caplog.records if "exceed" in r.getMessage()]
    pl(RMA, 8000.0, 3.5, 35.0, 1.5, False)
    assert [r for r in caplog.records if "exceed" in r.getMessage()]


# ------------------------------------------------------------------------------------------------
# The public vectorised function
# ------------------------------------------------------------------------------------------------


def test_path_loss_db_broadcasts_and_matches_scalars():
    d = np.array([[50.0], [500.0], [5000.0]])
    f = np.array([0.7, 2.6, 3.5, 4.9])
    out = path_loss_db(UMA, d, f, 25.0, 1.5, los=False)
    assert out.shape == (3, 4) and out.dtype == np.float64
    for i in range(3):
        for j in range(4):
            assert out[i, j] == pl(UMA, d[i, 0], f[j], 25.0, 1.5, False)
    los = np.array([True, False, True, False])
    mixed = path_loss_db(UMI, 300.0, 3.5, 10.0, 1.5, los=los)
    assert mixed[0] == mixed[2] == pl(UMI, 300.0, 3.5, 10.0, 1.5, True)
    assert mixed[1] == mixed[3] == pl(UMI, 300.0, 3.5, 10.0, 1.5, False)
    assert np.isnan(path_loss_db(FS, np.nan, 3.5, 30.0, 1.5))


def test_path_loss_db_rejects_bad_input():
    with pytest.raises(ConfigError, match="'okumura' is not one of"):
        path_loss_db("okumura", 100.0, 3.5, 25.0, 1.5)
    with pytest.raises(ConfigError, match="model 'auto' picks a model per pixel"):
        path_loss_db("auto", 100.0, 3.5, 25.0, 1.5)
    with pytest.raises(ConfigError, match="environment 'city'"):
        path_loss_db(HATA, 100.0, 1.8, 30.0, 1.5, environment="city")
    with pytest.raises(InputError, match="d2d_m must be ≥ 0 metres, got -5.0"):
        path_loss_db(UMA, [-5.0, 10.0], 3.5, 25.0, 1.5)
    with pytest.raises(InputError, match="freq_ghz must be > 0"):
        path_loss_db(UMA, 100.0, 0.0, 25.0, 1.5)


def test_models_increase_with_distance_and_frequency():
    d = np.geomspace(10.0, 15000.0, 400)
    for model in (FS, UMA, UMI, RMA, HATA):
        for los in (True, False):
            loss = path_loss_db(model, d, 3.5, 30.0, 1.5, los=los)
            assert np.all(np.diff(loss) >= -1e-9), model
        assert np.all(path_loss_db(model, 2000.0, np.array([0.7, 1.8, 3.5]), 30.0, 1.5) > 0)
        f_loss = path_loss_db(model, 2000.0, np.array([0.7, 1.8, 3.5, 4.9]), 30.0, 1.5, los=False)
        assert np.all(np.diff(f_loss) > 0), model


# ------------------------------------------------------------------------------------------------
# Antenna pattern (38.901 Table 7.3-1)
# ------------------------------------------------------------------------------------------------


def test_antenna_pattern_values():
    g = antenna_gain_db
    assert g(0.0, 6.0, 65.0, 6.0, 10.0, False) == 0.0
    # Half the beamwidth off boresight: −12·(0.5)² = −3 dB, in both planes.
    assert g(32.5, 6.0, 65.0, 6.0, 10.0, False) == pytest.approx(-3.0)
    assert g(-32.5, 6.0, 65.0, 6.0, 10.0, False) == pytest.approx(-3.0)
    assert g(0.0, 11.0, 65.0, 6.0, 10.0, False) == pytest.approx(-3.0)
    assert g(32.5, 1.0, 65.0, 6.0, 10.0, False) == pytest.approx(-6.0)
    # Behind the antenna: A_m = 30 dB.
    assert g(180.0, 6.0, 65.0, 6.0, 10.0, False) == pytest.approx(-30.0)
    # 330° is −30° off boresight: −12·(30/65)².
    assert g(330.0, 6.0, 65.0, 6.0, 10.0, False) == pytest.approx(-12 * (30 / 65) ** 2)
    # A_H = −12·(90/65)² = −23.0, A_V = −12·(10/10)² = −12: sum −35.0 → capped at −30.
    assert -12 * (90 / 65) ** 2 - 12.0 < -30.0
    assert g(90.0, 16.0, 65.0, 6.0, 10.0, False) == pytest.approx(-30.0)
    # A_V alone saturates at SLA_V = 30 dB: (60 − 6)/10 → −12·5.4² ≪ −30.
    assert g(0.0, 60.0, 65.0, 6.0, 10.0, False) == pytest.approx(-30.0)
    # Omni: vertical pattern only; no tilt: no vertical pattern.
    assert g(123.0, 11.0, 65.0, 6.0, 10.0, True) == pytest.approx(-3.0)
    assert g(32.5, 40.0, 65.0, math.nan, 10.0, False) == pytest.approx(-3.0)
    assert g(170.0, 40.0, 65.0, math.nan, 10.0, True) == 0.0
    # Other beamwidths: 90° sector at 45° off: −3 dB; vertical 6.5° beam at 3.25° off: −3 dB.
    assert g(45.0, 8.0, 90.0, 4.75, 6.5, False) == pytest.approx(-6.0)


# ------------------------------------------------------------------------------------------------
# Knife edge (ITU-R P.526)
# ------------------------------------------------------------------------------------------------


def test_knife_edge_j_nu():
    # J(0) = 6.9 + 20·log10(sqrt(0.01 + 1) − 0.1) = 6.03 dB (grazing incidence).
    assert knife_edge_loss_db(0.0) == pytest.approx(
        6.9 + 20 * log10(math.sqrt(1.01) - 0.1), abs=1e-12
    )
    assert knife_edge_loss_db(0.0) == pytest.approx(6.033, abs=1e-3)
    assert knife_edge_loss_db(1.0) == pytest.approx(
        6.9 + 20 * log10(math.sqrt(0.81 + 1) + 0.9), abs=1e-12
    )
    assert knife_edge_loss_db(2.4) == pytest.approx(
        6.9 + 20 * log10(math.sqrt(2.3**2 + 1) + 2.3), abs=1e-12
    )
    assert knife_edge_loss_db(-0.78) == 0.0
    assert knife_edge_loss_db(-2.0) == 0.0
    # Just above the validity edge: J(−0.7) = 6.9 + 20·log10(sqrt(0.64 + 1) − 0.8) = 0.536 dB.
    assert knife_edge_loss_db(-0.7) == pytest.approx(
        6.9 + 20 * log10(math.sqrt(1.64) - 0.8), abs=1e-12
    )
    # ν of a 10 m obstacle half way along 2 km at 3.5 GHz: 10·sqrt(2/λ·(1/1000 + 1/1000)).
    lam = 299792458.0 / 3.5e9
    assert fresnel_nu(10.0, 1000.0, 1000.0, lam) == pytest.approx(
        10 * math.sqrt(2 / lam * 0.002), rel=1e-12
    )
