"""Synthetic broadband and mobile statistics per village for the two demo years.

Households follow the village population (2.6 persons per household in urban communities, 3.1 in
villages); every numerator is drawn around the county's designed ratio with village-level noise
and then rescaled so that the county total meets the designed ratio (docs/design.md §4 columns):

* ``gigabit_households_covered ≤ fttx_households_covered ≤ households``
* ``pon_10g_ports ≤ pon_ports``
* ``users_1000m_plus ≤ users_500m_plus ≤ fixed_users``
* ``users_5g ≤ mobile_users``
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .design import COUNTIES, YEARS

__all__ = ["build_broadband", "BROADBAND_COLUMNS_OUT"]

BROADBAND_COLUMNS_OUT = [
    "admin_code",
    "name",
    "year",
    "households",
    "fttx_households_covered",
    "gigabit_households_covered",
    "pon_ports",
    "pon_10g_ports",
    "fixed_users",
    "users_500m_plus",
    "users_1000m_plus",
    "mobile_users",
    "users_5g",
]


def _calibrated(
    rng: np.random.Generator, den: np.ndarray, ratio: float, cap: np.ndarray, sigma: float = 0.10
) -> np.ndarray:
    """Integer numerators ≈ ``den × ratio × noise`` with Σnum / Σden = ``ratio`` and num ≤ cap."""
    noise = np.exp(rng.normal(0.0, sigma, len(den)))
    target = ratio * den.sum()
    num = np.minimum(den * ratio * noise, cap)
    for _ in range(20):  # rescale the uncapped villages until the total fits
        free = num < cap - 1e-9
        missing = target - num.sum()
        if abs(missing) < 0.5 or not free.any():
            break
        num[free] *= 1.0 + missing / max(num[free].sum(), 1e-9)
        num = np.minimum(num, cap)
    out = np.floor(num).astype(np.int64)
    # Largest-remainder rounding so the county total is exactly round(target) where caps allow.
    short = int(round(min(target, cap.sum()))) - int(out.sum())
    if short > 0:
        room = np.nonzero(out < np.floor(cap))[0]
        order = room[np.argsort(-(num[room] - out[room]), kind="stable")]
        out[order[:short]] += 1
    return np.minimum(out, np.floor(cap).astype(np.int64))


def build_broadband(
    rng: np.random.Generator,
    codes: np.ndarray,
    names: np.ndarray,
    county: np.ndarray,
    urban: np.ndarray,
    population: np.ndarray,
) -> pd.DataFrame:
    """Rows for every village and both years (:data:`BROADBAND_COLUMNS_OUT`)."""
    n = len(codes)
    hh_size = np.where(urban, 2.6, 3.1)
    households24 = np.maximum(np.round(population / hh_size), 20).astype(np.int64)
    fixed_rate = rng.uniform(0.80, 1.00, n)
    mobile_rate = rng.uniform(1.15, 1.35, n)
    fttx_rate = rng.uniform(0.97, 1.00, n)
    port_load = rng.uniform(14.0, 20.0, n)
    frames = []
    for year in YEARS:
        growth = 1.0 if year == YEARS[-1] else 0.99
        hh = np.maximum(np.round(households24 * growth), 20).astype(np.int64)
        fttx = np.floor(hh * fttx_rate).astype(np.int64)
        fixed = np.round(hh * fixed_rate * (1.0 if year == YEARS[-1] else 0.97)).astype(np.int64)
        mobile = np.round(population * mobile_rate * (1.0 if year == YEARS[-1] else 0.98)).astype(
            np.int64
        )
        pon = np.maximum(np.ceil(fixed / port_load), 1).astype(np.int64)
        cols = {
            k: np.zeros(n, dtype=np.int64)
            for k in (
                "gigabit_households_covered",
                "pon_10g_ports",
                "users_500m_plus",
                "users_1000m_plus",
                "users_5g",
            )
        }
        for c in COUNTIES:
            m = county == c.code
            if not m.any():
                continue
            s = c.stats[year]
            cols["gigabit_households_covered"][m] = _calibrated(
                rng,
                hh[m].astype(float),
                s["household_gigabit_coverage"],
                fttx[m].astype(float),
                0.05,
            )
            cols["pon_10g_ports"][m] = _calibrated(
                rng, pon[m].astype(float), s["pon_10g_share"], pon[m].astype(float), 0.15
            )
            u500 = _calibrated(
                rng, fixed[m].astype(float), s["users_500m_share"], fixed[m].astype(float)
            )
            cols["users_500m_plus"][m] = u500
            cols["users_1000m_plus"][m] = _calibrated(
                rng, fixed[m].astype(float), s["users_1000m_share"], u500.astype(float)
            )
            cols["users_5g"][m] = _calibrated(
                rng, mobile[m].astype(float), s["users_5g_share"], mobile[m].astype(float)
            )
        frames.append(
            pd.DataFrame(
                {
                    "admin_code": codes,
                    "name": names,
                    "year": year,
                    "households": hh,
                    "fttx_households_covered": fttx,
                    "gigabit_households_covered": cols["gigabit_households_covered"],
                    "pon_ports": pon,
                    "pon_10g_ports": cols["pon_10g_ports"],
                    "fixed_users": fixed,
                    "users_500m_plus": cols["users_500m_plus"],
                    "users_1000m_plus": cols["users_1000m_plus"],
                    "mobile_users": mobile,
                    "users_5g": cols["users_5g"],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[BROADBAND_COLUMNS_OUT]
