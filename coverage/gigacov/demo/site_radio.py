"""The radio values of the demo's sites: operator and band by environment, sectors, heights,
tilts, EIRP, commissioning years, ids and names.

Bands, bandwidths, EIRP and heights are typical of the Chinese operators: 5G n41 (2.6 GHz, China
Mobile), n79 (4.9 GHz, China Mobile), n78 (3.5 GHz, China Telecom / China Unicom shared network),
n28 (700 MHz, China Broadnet / China Mobile); 4G B3 (1.8 GHz), B1 (2.1 GHz), B8 (900 MHz).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .design import COUNTIES
from .fields import Region
from .villages import Villages

__all__ = ["site_attributes"]


# Band catalogue: band → (bandwidth MHz, SCS kHz, EIRP range dBm for a macro cell).
_BANDS_5G = {
    "n78": (100.0, 30.0, (73.0, 77.0)),
    "n41": (100.0, 30.0, (72.0, 76.0)),
    "n79": (100.0, 30.0, (71.0, 75.0)),
    "n28": (30.0, 15.0, (65.0, 69.0)),
}


_BANDS_4G = {
    "B3": (20.0, 15.0, (65.0, 69.0)),
    "B1": (20.0, 15.0, (65.0, 69.0)),
    "B8": (10.0, 15.0, (61.0, 65.0)),
}


# (operator, band) mixes by environment.
_MIX_5G = {
    "urban": (
        (("中国移动", "n41"), 0.45),
        (("中国移动", "n79"), 0.08),
        (("中国电信", "n78"), 0.22),
        (("中国联通", "n78"), 0.20),
        (("中国广电", "n28"), 0.05),
    ),
    "suburban": (
        (("中国移动", "n41"), 0.38),
        (("中国电信", "n78"), 0.21),
        (("中国联通", "n78"), 0.19),
        (("中国广电", "n28"), 0.10),
        (("中国移动", "n28"), 0.12),
    ),
    "rural": (
        (("中国移动", "n41"), 0.22),
        (("中国电信", "n78"), 0.16),
        (("中国联通", "n78"), 0.14),
        (("中国广电", "n28"), 0.22),
        (("中国移动", "n28"), 0.26),
    ),
}


_MIX_4G = {
    "urban": (
        (("中国移动", "B3"), 0.30),
        (("中国移动", "B8"), 0.12),
        (("中国电信", "B3"), 0.15),
        (("中国电信", "B1"), 0.13),
        (("中国联通", "B3"), 0.12),
        (("中国联通", "B1"), 0.12),
        (("中国联通", "B8"), 0.06),
    ),
    "suburban": (
        (("中国移动", "B3"), 0.25),
        (("中国移动", "B8"), 0.20),
        (("中国电信", "B3"), 0.15),
        (("中国电信", "B1"), 0.12),
        (("中国联通", "B3"), 0.10),
        (("中国联通", "B1"), 0.08),
        (("中国联通", "B8"), 0.10),
    ),
    "rural": (
        (("中国移动", "B8"), 0.32),
        (("中国移动", "B3"), 0.13),
        (("中国电信", "B3"), 0.18),
        (("中国电信", "B1"), 0.09),
        (("中国联通", "B8"), 0.18),
        (("中国联通", "B3"), 0.06),
        (("中国联通", "B1"), 0.04),
    ),
}


_YEARS_5G = np.array([2019, 2020, 2021, 2022, 2023])


_W_5G_GENERAL = np.array([0.06, 0.20, 0.25, 0.25, 0.24])


_W_5G_VILLAGE = np.array([0.00, 0.10, 0.20, 0.30, 0.40])


_W_5G_ANCHOR = np.array([0.15, 0.30, 0.30, 0.25, 0.00])


_YEARS_4G = np.arange(2014, 2025)


_W_4G = np.array([0.08, 0.16, 0.18, 0.16, 0.13, 0.10, 0.07, 0.05, 0.04, 0.02, 0.01])


def _pick(rng: np.random.Generator, mix, n: int) -> list[tuple[str, str]]:
    opts = [m[0] for m in mix]
    p = np.array([m[1] for m in mix])
    idx = rng.choice(len(opts), size=n, p=p / p.sum())
    return [opts[i] for i in idx]


def _env(density_per_km2: np.ndarray) -> np.ndarray:
    return np.where(
        density_per_km2 >= 3000, "urban", np.where(density_per_km2 >= 300, "suburban", "rural")
    )


def site_attributes(
    rng, region: Region, sites: pd.DataFrame, grid, density, village_of_pixel, villages: Villages
) -> pd.DataFrame:
    """Operator, band, sectors, heights, tilts, EIRP, years, ids and names."""
    n = len(sites)
    r, c = grid.rowcol(sites["x"].to_numpy(), sites["y"].to_numpy())
    r = np.clip(r, 0, grid.height - 1)
    c = np.clip(c, 0, grid.width - 1)
    dens = density[r, c]
    sites["env"] = _env(dens)
    vill = village_of_pixel[r, c]
    sites["village"] = np.where(sites["village"] >= 0, sites["village"], vill)
    lon, lat = region.to_wgs84(sites["x"].to_numpy(), sites["y"].to_numpy())
    sites["lon"] = np.round(lon, 6)
    sites["lat"] = np.round(lat, 6)
    # Small cells: 12 % of the urban population-drawn 5G and 4G sites.
    small = (sites["kind"] == "macro") & (sites["env"] == "urban") & (rng.random(n) < 0.12)
    sites.loc[small, "kind"] = "small"
    op = np.empty(n, dtype=object)
    band = np.empty(n, dtype=object)
    for tech, mix in (("5G", _MIX_5G), ("4G", _MIX_4G)):
        for env in ("urban", "suburban", "rural"):
            m = (sites["tech"] == tech).to_numpy() & (sites["env"] == env).to_numpy()
            picks = _pick(rng, mix[env], int(m.sum()))
            op[m] = [p[0] for p in picks]
            band[m] = [p[1] for p in picks]
    # Small cells use the capacity bands.
    sm = sites["kind"].to_numpy() == "small"
    band[sm & (sites["tech"].to_numpy() == "5G") & np.isin(band, ["n28"])] = "n41"
    op[sm & (band == "n41")] = "中国移动"
    band[sm & (sites["tech"].to_numpy() == "4G") & (band == "B8")] = "B3"
    sites["operator"] = op
    sites["band"] = band
    bw = np.array([(_BANDS_5G | _BANDS_4G)[b][0] for b in band])
    scs = np.array([(_BANDS_5G | _BANDS_4G)[b][1] for b in band])
    lo = np.array([(_BANDS_5G | _BANDS_4G)[b][2][0] for b in band])
    hi = np.array([(_BANDS_5G | _BANDS_4G)[b][2][1] for b in band])
    eirp = rng.uniform(lo, hi)
    env = sites["env"].to_numpy()
    height = np.where(
        env == "urban",
        rng.uniform(25, 45, n),
        np.where(env == "suburban", rng.uniform(30, 40, n), rng.uniform(35, 50, n)),
    )
    tilt = np.where(
        env == "urban",
        rng.uniform(6, 10, n),
        np.where(env == "suburban", rng.uniform(4, 8, n), rng.uniform(2, 6, n)),
    )
    tilt = np.where(np.isin(band, ["n28", "B8"]), np.minimum(tilt, rng.uniform(2, 4, n)), tilt)
    sectors = rng.choice([3, 2, 1], size=n, p=[0.85, 0.10, 0.05])
    kind = sites["kind"].to_numpy()
    sectors = np.where(
        kind == "road", 2, np.where(np.isin(kind, ["keyplace", "village"]), 3, sectors)
    )
    sectors = np.where(kind == "small", 1, sectors)
    height = np.where(kind == "small", rng.uniform(8, 15, n), height)
    eirp = np.where(kind == "small", rng.uniform(47, 53, n), eirp)
    tilt = np.where(kind == "small", 0.0, tilt)
    sites["sectors"] = sectors
    sites["height_m"] = np.round(height, 1)
    sites["tilt_deg"] = np.round(tilt, 1)
    sites["eirp_dbm"] = np.round(eirp, 1)
    sites["bandwidth_mhz"] = bw
    sites["scs_khz"] = scs
    sites["azimuth0"] = np.round(rng.uniform(0, 120, n))
    # Years.
    year = np.zeros(n, dtype=np.int64)
    for code in sites["county"].unique():
        design = next(d for d in COUNTIES if d.code == code)
        m5 = np.nonzero(((sites["tech"] == "5G") & (sites["county"] == code)).to_numpy())[0]
        eligible = m5[~np.isin(kind[m5], ["keyplace", "road"])]
        n24 = min(len(eligible), int(round(len(m5) * design.share_5g_2024)))
        late = rng.choice(eligible, size=n24, replace=False) if n24 else np.array([], dtype=int)
        year[late] = 2024
        rest = np.setdiff1d(m5, late)
        for k, w in (
            ("village", _W_5G_VILLAGE),
            ("anchor", _W_5G_ANCHOR),
            ("general", _W_5G_GENERAL),
        ):
            if k == "village":
                sel = rest[kind[rest] == "village"]
            elif k == "anchor":
                sel = rest[np.isin(kind[rest], ["keyplace", "road"])]
            else:
                sel = rest[~np.isin(kind[rest], ["village", "keyplace", "road"])]
            year[sel] = rng.choice(_YEARS_5G, size=len(sel), p=w)
    m4 = (sites["tech"] == "4G").to_numpy()
    year[m4] = rng.choice(_YEARS_4G, size=int(m4.sum()), p=_W_4G / _W_4G.sum())
    sites["year"] = year
    sites["month"] = rng.integers(1, 13, n)
    sites["day"] = rng.integers(1, 29, n)
    # Ids and names (sorted by technology, county, position for a stable, readable order).
    sites = sites.sort_values(
        ["tech", "county", "y", "x"], ascending=[False, True, False, True], kind="stable"
    ).reset_index(drop=True)
    seq = sites.groupby(["tech", "county"]).cumcount() + 1
    prefix = np.where(sites["tech"] == "5G", "NR", "LTE")
    sites["site_id"] = [
        f"QZ-{p}-{c}-{s:05d}" for p, c, s in zip(prefix, sites["county"], seq, strict=True)
    ]
    vnames = villages.table["name"].to_numpy()
    short = {d.code: d.short for d in COUNTIES}
    tags = {"small": "微站", "road": "道路", "keyplace": "重点", "village": "", "macro": ""}
    sites["name"] = [
        f"{short[c]}{vnames[v] if v >= 0 else '城区'}{tags[k]}{'NR' if t == '5G' else 'LTE'}{s:04d}"
        for c, v, k, t, s in zip(
            sites["county"],
            sites["village"].astype(int),
            sites["kind"],
            sites["tech"],
            seq,
            strict=True,
        )
    ]
    return sites
