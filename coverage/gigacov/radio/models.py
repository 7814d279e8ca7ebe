"""Path-loss models: free space, 3GPP TR 38.901 UMa / UMi-Street-Canyon / RMa, COST-231 Hata.

Every model is a scalar ``@jit`` function over plain numbers with the published formula written
out; :func:`path_loss_code` dispatches on an integer model code (strings never reach a kernel)
and :func:`path_loss_db` is the vectorised public function over NumPy arrays.

Symbols (as in the sources): ``d2d`` horizontal distance (m); ``d3d = sqrt(d2d² + (h_bs − h_ut)²)``
(m); ``fc`` carrier frequency (GHz); ``h_bs`` / ``h_ut`` antenna heights above local ground (m).

Formulas
--------
Free space, ITU-R P.525::

    L = 32.45 + 20·log10(f_MHz) + 20·log10(d_km)              with d = d3d

3GPP TR 38.901 Table 7.4.1-1 (``c = 3.0e8`` m/s in the breakpoint distances):

UMa LOS (``d'BP = 4·h'BS·h'UT·fc·1e9/c``, ``h' = h − hE``, ``hE = 1 m``)::

    PL1 = 28.0 + 22·log10(d3d) + 20·log10(fc)                                 10 m ≤ d2d ≤ d'BP
    PL2 = 28.0 + 40·log10(d3d) + 20·log10(fc) − 9·log10(d'BP² + (h_bs − h_ut)²)   d'BP ≤ d2d ≤ 5 km

UMa NLOS = max(UMa LOS, PL'), ``PL' = 13.54 + 39.08·log10(d3d) + 20·log10(fc) − 0.6·(h_ut − 1.5)``.

``hE = 1 m`` is the simplified default: 38.901 draws hE = 1 m with probability 1/(1 + C(d2d, h_ut))
and C = 0 for h_ut < 13 m, so for handheld UEs (1.5 m) hE is exactly 1 m; for h_ut ≥ 13 m we keep
1 m instead of drawing a random value (a deterministic coverage map cannot draw).

UMi-Street-Canyon LOS (same ``d'BP``, hE = 1 m)::

    PL1 = 32.4 + 21·log10(d3d) + 20·log10(fc)                                 10 m ≤ d2d ≤ d'BP
    PL2 = 32.4 + 40·log10(d3d) + 20·log10(fc) − 9.5·log10(d'BP² + (h_bs − h_ut)²) d'BP ≤ d2d ≤ 5 km

UMi NLOS = max(UMi LOS, PL'), ``PL' = 35.3·log10(d3d) + 22.4 + 21.3·log10(fc) − 0.3·(h_ut − 1.5)``.

RMa LOS (``dBP = 2π·h_bs·h_ut·fc·1e9/c`` with the actual heights; ``h`` building height 5 m and
``W`` street width 20 m by default)::

    PL1(d) = 20·log10(40π·d·fc/3) + min(0.03·h^1.72, 10)·log10(d) − min(0.044·h^1.72, 14.77)
             + 0.002·log10(h)·d                                          (d = d3d; 10 m ≤ d2d ≤ dBP)
    PL2    = PL1(dBP) + 40·log10(d3d/dBP)                                 dBP ≤ d2d ≤ 10 km

(``PL1(dBP)`` is PL1 evaluated at the distance dBP, read literally.)

RMa NLOS = max(RMa LOS, PL') for 10 m ≤ d2d ≤ 5 km::

    PL' = 161.04 − 7.1·log10(W) + 7.5·log10(h) − (24.37 − 3.7·(h/h_bs)²)·log10(h_bs)
          + (43.42 − 3.1·log10(h_bs))·(log10(d3d) − 3) + 20·log10(fc)
          − (3.2·(log10(11.75·h_ut))² − 4.97)

COST-231 Hata (COST Action 231 final report, §4.4; f in MHz, d = d2d in km)::

    L = 46.3 + 33.9·log10 f − 13.82·log10 h_bs − a(h_ut) + (44.9 − 6.55·log10 h_bs)·log10 d + Cm
    a(h_ut) = (1.1·log10 f − 0.7)·h_ut − (1.56·log10 f − 0.8)      (small / medium city)

Environment corrections: **urban** Cm = 3 dB (metropolitan centre); **suburban** Cm = 0 dB plus
the Okumura–Hata suburban correction ``− 2·(log10(f/28))² − 5.4``; **rural** Cm = 0 dB plus the
Okumura–Hata open-area correction ``− 4.78·(log10 f)² + 18.33·log10 f − 40.94``.

Validity ranges and what happens outside them
---------------------------------------------
==================  =======================  ===============  =========================
model               distance                 frequency        heights
==================  =======================  ===============  =========================
free-space          d3d ≥ 1 m                any              any
3gpp-38.901-uma     10 m ≤ d2d ≤ 5 km        0.5–100 GHz      h_bs 25 m, h_ut 1.5–22.5 m
3gpp-38.901-umi     10 m ≤ d2d ≤ 5 km        0.5–100 GHz      h_bs 10 m, h_ut 1.5–22.5 m
3gpp-38.901-rma     10 m ≤ d2d ≤ 10 km LOS,  0.5–30 GHz       h_bs 10–150 m, h_ut 1–10 m,
                    ≤ 5 km NLOS                               h 5–50 m, W 5–50 m
cost231-hata        1–20 km                  1500–2000 MHz    h_bs 30–200 m, h_ut 1–10 m
==================  =======================  ===============  =========================

* **Below the minimum distance** the distance is **clamped**: 3GPP models and COST-231 Hata use
  d2d = 10 m for any d2d < 10 m, free space uses d3d = 1 m for d3d < 1 m. COST-231 Hata between
  10 m and 1 km follows its log-distance law below its range and is **never lower than free-space
  loss** at the same d3d (the floor stops the extrapolation from becoming unphysical).
* **Beyond the maximum distance**, **outside the frequency range** and **outside the height ranges**
  the formula is **extrapolated** unchanged, and :func:`check_validity` logs one warning per model
  and kind of excursion per process. This matters in practice: 5G NR at 3.5 GHz is outside
  COST-231 Hata's 1500–2000 MHz (extrapolated), and coverage radii beyond 5 km extrapolate the
  3GPP NLOS laws.
* Negative or NaN inputs: NaN propagates; negative distances are an error (:class:`InputError`).

LOS / NLOS
----------
Without a DEM the line of sight is unknown per pixel; gigacov then uses the **NLOS formulas**
(which are max(LOS, NLOS')) everywhere — the conservative choice usual in coverage planning. With a
DEM, LOS/NLOS comes from the terrain profile (see :mod:`gigacov.radio.terrain`), and the LOS
formula is used where the terrain leaves the path clear **and the pixel's clutter class is rural**:
a DEM is bare earth, so in urban and suburban clutter the buildings it does not hold still block
the direct path and the NLOS formula stays (terrain diffraction is added in every class). Free space
and COST-231 Hata have one formula for both.
"""

from __future__ import annotations

import logging
import math
from typing import Literal

import numpy as np

from .._jit import jit
from ..errors import ConfigError, InputError

__all__ = [
    "FREE_SPACE",
    "UMA",
    "UMI",
    "RMA",
    "COST231_HATA",
    "AUTO",
    "MODEL_CODES",
    "URBAN",
    "SUBURBAN",
    "RURAL",
    "ENVIRONMENT_CODES",
    "Environment",
    "fspl_db",
    "uma_los_db",
    "uma_nlos_db",
    "umi_los_db",
    "umi_nlos_db",
    "rma_los_db",
    "rma_nlos_db",
    "cost231_hata_db",
    "path_loss_code",
    "path_loss_db",
    "check_validity",
    "VALIDITY",
]

log = logging.getLogger(__name__)

# Integer model codes (the kernels' view of the scenario's model names).
FREE_SPACE = 0
UMA = 1
UMI = 2
RMA = 3
COST231_HATA = 4
AUTO = 5

MODEL_CODES: dict[str, int] = {
    "free-space": FREE_SPACE,
    "3gpp-38.901-uma": UMA,
    "3gpp-38.901-umi": UMI,
    "3gpp-38.901-rma": RMA,
    "cost231-hata": COST231_HATA,
    "auto": AUTO,
}

# Clutter / environment classes (also the values of a clutter raster).
URBAN = 1
SUBURBAN = 2
RURAL = 3
Environment = Literal["urban", "suburban", "rural"]
ENVIRONMENT_CODES: dict[str, int] = {"urban": URBAN, "suburban": SUBURBAN, "rural": RURAL}

C_3GPP = 3.0e8  # propagation velocity used by TR 38.901 for breakpoint distances (m/s)
D2D_MIN_M = 10.0  # minimum 2-D distance of the 3GPP models and of COST-231 Hata (clamp)
D3D_MIN_FREE_SPACE_M = 1.0
H_E_M = 1.0  # effective environment height for UMa / UMi (simplified default, see module doc)

#: Validity ranges: model → (d2d_min_m, d2d_max_los_m, d2d_max_nlos_m, f_min_ghz, f_max_ghz,
#: h_bs_min_m, h_bs_max_m, h_ut_min_m, h_ut_max_m). ``inf`` / ``0`` = no limit.
VALIDITY: dict[int, tuple[float, float, float, float, float, float, float, float, float]] = {
    FREE_SPACE: (0.0, math.inf, math.inf, 0.0, math.inf, 0.0, math.inf, 0.0, math.inf),
    UMA: (10.0, 5000.0, 5000.0, 0.5, 100.0, 0.0, math.inf, 1.5, 22.5),
    UMI: (10.0, 5000.0, 5000.0, 0.5, 100.0, 0.0, math.inf, 1.5, 22.5),
    RMA: (10.0, 10000.0, 5000.0, 0.5, 30.0, 10.0, 150.0, 1.0, 10.0),
    COST231_HATA: (1000.0, 20000.0, 20000.0, 1.5, 2.0, 30.0, 200.0, 1.0, 10.0),
}
_CODE_NAMES = {v: k for k, v in MODEL_CODES.items()}


# ------------------------------------------------------------------------------------------------
# Scalar models (numba)
# ------------------------------------------------------------------------------------------------


@jit
def fspl_db(d3d_m: float, f_ghz: float) -> float:
    """Free-space loss (ITU-R P.525): 32.45 + 20·log10(f_MHz) + 20·log10(d_km); d3d ≥ 1 m."""
    d = max(d3d_m, D3D_MIN_FREE_SPACE_M)
    return 32.45 + 20.0 * math.log10(f_ghz * 1000.0) + 20.0 * math.log10(d / 1000.0)


@jit
def _d3d(d2d_m: float, h_bs_m: float, h_ut_m: float) -> float:
    dh = h_bs_m - h_ut_m
    return math.sqrt(d2d_m * d2d_m + dh * dh)


@jit
def _dbp_prime(f_ghz: float, h_bs_m: float, h_ut_m: float) -> float:
    """d'BP = 4·h'BS·h'UT·fc/c with effective heights h' = h − hE (hE = 1 m; h' ≥ 0)."""
    hb = max(h_bs_m - H_E_M, 0.0)
    hu = max(h_ut_m - H_E_M, 0.0)
    return 4.0 * hb * hu * f_ghz * 1e9 / C_3GPP


@jit
def uma_los_db(d2d_m: float, f_ghz: float, h_bs_m: float, h_ut_m: float) -> float:
    """3GPP TR 38.901 UMa LOS path loss (dB); d2d clamped to ≥ 10 m."""
    d2d = max(d2d_m, D2D_MIN_M)
    d3d = _d3d(d2d, h_bs_m, h_ut_m)
    dbp = _dbp_prime(f_ghz, h_bs_m, h_ut_m)
    if d2d <= dbp:
        return 28.0 + 22.0 * math.log10(d3d) + 20.0 * math.log10(f_ghz)
    dh = h_bs_m - h_ut_m
    return (
        28.0
        + 40.0 * math.log10(d3d)
        + 20.0 * math.log10(f_ghz)
        - 9.0 * math.log10(dbp * dbp + dh * dh)
    )


@jit
def uma_nlos_db(d2d_m: float, f_ghz: float, h_bs_m: float, h_ut_m: float) -> float:
    """3GPP TR 38.901 UMa NLOS path loss = max(LOS, PL'NLOS) (dB)."""
    d2d = max(d2d_m, D2D_MIN_M)
    d3d = _d3d(d2d, h_bs_m, h_ut_m)
    nlos = 13.54 + 39.08 * math.log10(d3d) + 20.0 * math.log10(f_ghz) - 0.6 * (h_ut_m - 1.5)
    return max(uma_los_db(d2d, f_ghz, h_bs_m, h_ut_m), nlos)


@jit
def umi_los_db(d2d_m: float, f_ghz: float, h_bs_m: float, h_ut_m: float) -> float:
    """3GPP TR 38.901 UMi-Street-Canyon LOS path loss (dB); d2d clamped to ≥ 10 m."""
    d2d = max(d2d_m, D2D_MIN_M)
    d3d = _d3d(d2d, h_bs_m, h_ut_m)
    dbp = _dbp_prime(f_ghz, h_bs_m, h_ut_m)
    if d2d <= dbp:
        return 32.4 + 21.0 * math.log10(d3d) + 20.0 * math.log10(f_ghz)
    dh = h_bs_m - h_ut_m
    return (
        32.4
        + 40.0 * math.log10(d3d)
        + 20.0 * math.log10(f_ghz)
        - 9.5 * math.log10(dbp * dbp + dh * dh)
    )


@jit
def umi_nlos_db(d2d_m: float, f_ghz: float, h_bs_m: float, h_ut_m: float) -> float:
    """3GPP TR 38.901 UMi-Street-Canyon NLOS path loss = max(LOS, PL'NLOS) (dB)."""
    d2d = max(d2d_m, D2D_MIN_M)
    d3d = _d3d(d2d, h_bs_m, h_ut_m)
    nlos = 35.3 * math.log10(d3d) + 22.4 + 21.3 * math.log10(f_ghz) - 0.3 * (h_ut_m - 1.5)
    return max(umi_los_db(d2d, f_ghz, h_bs_m, h_ut_m), nlos)


@jit
def _rma_pl1(d_m: float, f_ghz: float, h_bld_m: float) -> float:
    hp = h_bld_m**1.72
    return (
        20.0 * math.log10(40.0 * math.pi * d_m * f_ghz / 3.0)
        + min(0.03 * hp, 10.0) * math.log10(d_m)
        - min(0.044 * hp, 14.77)
        + 0.002 * math.log10(h_bld_m) * d_m
    )


@jit
def rma_los_db(
    d2d_m: float, f_ghz: float, h_bs_m: float, h_ut_m: float, h_bld_m: float = 5.0
) -> float:
    """3GPP TR 38.901 RMa LOS path loss (dB); d2d clamped to ≥ 10 m."""
    d2d = max(d2d_m, D2D_MIN_M)
    d3d = _d3d(d2d, h_bs_m, h_ut_m)
    dbp = 2.0 * math.pi * h_bs_m * h_ut_m * f_ghz * 1e9 / C_3GPP
    if d2d <= dbp:
        return _rma_pl1(d3d, f_ghz, h_bld_m)
    return _rma_pl1(dbp, f_ghz, h_bld_m) + 40.0 * math.log10(d3d / dbp)


@jit
def rma_nlos_db(
    d2d_m: float,
    f_ghz: float,
    h_bs_m: float,
    h_ut_m: float,
    h_bld_m: float = 5.0,
    street_width_m: float = 20.0,
) -> float:
    """3GPP TR 38.901 RMa NLOS path loss = max(LOS, PL'NLOS) (dB)."""
    d2d = max(d2d_m, D2D_MIN_M)
    d3d = _d3d(d2d, h_bs_m, h_ut_m)
    lh = math.log10(h_bs_m)
    lu = math.log10(11.75 * h_ut_m)
    nlos = (
        161.04
        - 7.1 * math.log10(street_width_m)
        + 7.5 * math.log10(h_bld_m)
        - (24.37 - 3.7 * (h_bld_m / h_bs_m) ** 2) * lh
        + (43.42 - 3.1 * lh) * (math.log10(d3d) - 3.0)
        + 20.0 * math.log10(f_ghz)
        - (3.2 * lu * lu - 4.97)
    )
    return max(rma_los_db(d2d, f_ghz, h_bs_m, h_ut_m, h_bld_m), nlos)


@jit
def cost231_hata_db(d2d_m: float, f_ghz: float, h_bs_m: float, h_ut_m: float, env: int) -> float:
    """COST-231 Hata path loss (dB) for environment ``URBAN`` / ``SUBURBAN`` / ``RURAL``.

    d2d clamped to ≥ 10 m; never below free-space loss (see the module doc).
    """
    d2d = max(d2d_m, D2D_MIN_M)
    f = f_ghz * 1000.0
    lf = math.log10(f)
    a_hm = (1.1 * lf - 0.7) * h_ut_m - (1.56 * lf - 0.8)
    lhb = math.log10(h_bs_m)
    loss = 46.3 + 33.9 * lf - 13.82 * lhb - a_hm + (44.9 - 6.55 * lhb) * math.log10(d2d / 1000.0)
    if env == URBAN:
        loss += 3.0
    elif env == SUBURBAN:
        q = math.log10(f / 28.0)
        loss += -2.0 * q * q - 5.4
    else:
        loss += -4.78 * lf * lf + 18.33 * lf - 40.94
    return max(loss, fspl_db(_d3d(d2d, h_bs_m, h_ut_m), f_ghz))


@jit
def path_loss_code(
    model: int,
    env: int,
    los: bool,
    d2d_m: float,
    f_ghz: float,
    h_bs_m: float,
    h_ut_m: float,
    h_bld_m: float,
    street_width_m: float,
) -> float:
    """Path loss (dB) of model ``model`` (an integer code; ``AUTO`` is resolved by the caller)."""
    if model == FREE_SPACE:
        return fspl_db(_d3d(d2d_m, h_bs_m, h_ut_m), f_ghz)
    if model == UMA:
        if los:
            return uma_los_db(d2d_m, f_ghz, h_bs_m, h_ut_m)
        return uma_nlos_db(d2d_m, f_ghz, h_bs_m, h_ut_m)
    if model == UMI:
        if los:
            return umi_los_db(d2d_m, f_ghz, h_bs_m, h_ut_m)
        return umi_nlos_db(d2d_m, f_ghz, h_bs_m, h_ut_m)
    if model == RMA:
        if los:
            return rma_los_db(d2d_m, f_ghz, h_bs_m, h_ut_m, h_bld_m)
        return rma_nlos_db(d2d_m, f_ghz, h_bs_m, h_ut_m, h_bld_m, street_width_m)
    if model == COST231_HATA:
        return cost231_hata_db(d2d_m, f_ghz, h_bs_m, h_ut_m, env)
    return math.nan


@jit
def _path_loss_flat(model, env, los, d2d, f, hbs, hut, hbld, wst, out):
    for i in range(out.size):
        out[i] = path_loss_code(model, env, los[i], d2d[i], f[i], hbs[i], hut[i], hbld[i], wst[i])


# ------------------------------------------------------------------------------------------------
# Validity warnings
# ------------------------------------------------------------------------------------------------

_WARNED: set[tuple[int, str]] = set()


def _warn_once(model: int, kind: str, message: str) -> None:
    key = (model, kind)
    if key in _WARNED:
        return
    _WARNED.add(key)
    log.warning("%s: %s", _CODE_NAMES.get(model, str(model)), message)


def check_validity(
    model: int, d2d_max_m: float, f_ghz, h_bs_m, h_ut_m, *, los: bool = False
) -> None:
    """Log (once per process and model) where the inputs leave the model's validity range.

    Values outside the range are extrapolated by the formulas (see the module doc); this only
    tells the user. ``f_ghz`` and ``h_bs_m`` may be arrays; ``d2d_max_m`` is the largest distance
    that will be evaluated.
    """
    if model not in VALIDITY:
        return
    _dmin, dmax_los, dmax_nlos, fmin, fmax, hbmin, hbmax, humin, humax = VALIDITY[model]
    f = np.asarray(f_ghz, dtype=np.float64)
    hb = np.asarray(h_bs_m, dtype=np.float64)
    hu = np.asarray(h_ut_m, dtype=np.float64)
    dmax = dmax_los if los else dmax_nlos
    if np.isfinite(d2d_max_m) and d2d_max_m > dmax:
        _warn_once(
            model,
            "distance",
            f"distances up to {d2d_max_m / 1000:.1f} km exceed the model's validity "
            f"({dmax / 1000:g} km); the formula is extrapolated",
        )
    if f.size and (np.nanmin(f) < fmin or np.nanmax(f) > fmax):
        _warn_once(
            model,
            "frequency",
            f"frequencies {np.nanmin(f) * 1000:g}–{np.nanmax(f) * 1000:g} MHz are outside the "
            f"model's validity ({fmin * 1000:g}–{fmax * 1000:g} MHz); the formula is extrapolated",
        )
    if hb.size and (np.nanmin(hb) < hbmin or np.nanmax(hb) > hbmax):
        _warn_once(
            model,
            "h_bs",
            f"base-station heights {np.nanmin(hb):g}–{np.nanmax(hb):g} m are outside the model's "
            f"validity ({hbmin:g}–{hbmax:g} m); the formula is extrapolated",
        )
    if hu.size and (np.nanmin(hu) < humin or np.nanmax(hu) > humax):
        _warn_once(
            model,
            "h_ut",
            f"UE heights {np.nanmin(hu):g}–{np.nanmax(hu):g} m are outside the model's validity "
            f"({humin:g}–{humax:g} m); the formula is extrapolated",
        )


# ------------------------------------------------------------------------------------------------
# Public vectorised function
# ------------------------------------------------------------------------------------------------


def model_code(model: str) -> int:
    """Integer code of a scenario model name (``ConfigError`` naming ``[radio] model`` if unknown)."""
    try:
        return MODEL_CODES[model]
    except (KeyError, TypeError):
        raise ConfigError(
            f"[radio] model: {model!r} is not one of {', '.join(map(repr, MODEL_CODES))}"
        ) from None


def path_loss_db(
    model: str,
    d2d_m,
    freq_ghz,
    h_bs_m,
    h_ut_m,
    los=True,
    *,
    environment: Environment = "urban",
    h_building_m=5.0,
    street_width_m=20.0,
) -> np.ndarray:
    """Path loss in dB of a named model, vectorised over NumPy arrays (broadcasting).

    Parameters
    ----------
    model
        ``"free-space"``, ``"3gpp-38.901-uma"``, ``"3gpp-38.901-umi"``, ``"3gpp-38.901-rma"`` or
        ``"cost231-hata"`` (``"auto"`` needs a clutter class per pixel and is only available in
        :func:`gigacov.radio.compute_coverage`).
    d2d_m
        Horizontal distance base station → UE, metres (≥ 0).
    freq_ghz
        Carrier frequency, GHz.
    h_bs_m, h_ut_m
        Base-station and UE antenna heights above local ground, metres.
    los
        True for the LOS formula, False for NLOS (= max(LOS, NLOS')); bool or bool array.
        Ignored by free space and COST-231 Hata.
    environment
        COST-231 Hata environment: ``"urban"``, ``"suburban"`` or ``"rural"`` (ignored by the
        other models).
    h_building_m, street_width_m
        RMa average building height and street width (defaults 5 m and 20 m).

    Returns
    -------
    numpy.ndarray
        float64 path loss (dB) with the broadcast shape of the inputs.

    Notes
    -----
    Out of the validity range: distances below the minimum are clamped, everything else is
    extrapolated with one logged warning per model and kind (module documentation).
    """
    code = model_code(model)
    if code == AUTO:
        raise ConfigError(
            "path_loss_db: model 'auto' picks a model per pixel from the clutter class; "
            "call it with a concrete model such as '3gpp-38.901-uma'"
        )
    if environment not in ENVIRONMENT_CODES:
        raise ConfigError(
            f"path_loss_db: environment {environment!r} is not one of "
            f"{', '.join(map(repr, ENVIRONMENT_CODES))}"
        )
    arrays = np.broadcast_arrays(
        np.asarray(d2d_m, dtype=np.float64),
        np.asarray(freq_ghz, dtype=np.float64),
        np.asarray(h_bs_m, dtype=np.float64),
        np.asarray(h_ut_m, dtype=np.float64),
        np.asarray(los, dtype=np.bool_),
        np.asarray(h_building_m, dtype=np.float64),
        np.asarray(street_width_m, dtype=np.float64),
    )
    d2d, f, hbs, hut, los_a, hbld, wst = (np.ascontiguousarray(a).ravel() for a in arrays)
    shape = arrays[0].shape
    if np.any(d2d < 0):
        raise InputError(f"path_loss_db: d2d_m must be ≥ 0 metres, got {float(d2d[d2d < 0][0])!r}")
    for name, values in (("freq_ghz", f), ("h_bs_m", hbs)):
        if np.any(values <= 0):
            raise InputError(
                f"path_loss_db: {name} must be > 0, got {float(values[values <= 0][0])!r}"
            )
    if d2d.size:
        dmax = float(np.nanmax(d2d)) if np.isfinite(d2d).any() else 0.0
        check_validity(code, dmax, f, hbs, hut, los=bool(los_a.all()))
    out = np.empty(d2d.size, dtype=np.float64)
    _path_loss_flat(code, ENVIRONMENT_CODES[environment], los_a, d2d, f, hbs, hut, hbld, wst, out)
    return out.reshape(shape)
