"""The demo's synthetic drive test and fixed-broadband speed tests (all SYNTHETIC).

**Hidden "true" network.** The truth is the radio engine's own 5G prediction for the 2024 sites,
changed the way a real network differs from a generic model:

* a bias per clutter class (:data:`TRUE_BIAS_DB`, dB of extra path loss: the model is too
  optimistic in towns and too pessimistic in the countryside);
* log-normal shadowing (Gaussian in dB) of σ = :data:`SHADOWING_SIGMA_DB` with spatial
  correlation: a Gaussian random field with a squared-exponential covariance of length
  :data:`SHADOWING_LENGTH_M`, drawn with random Fourier features (exact in distribution as the
  number of features grows; 1,000 are used);
* a few gross outliers (:data:`OUTLIER_SHARE` of the samples measured 20–35 dB too low, as in an
  underground car park or with a mis-logged position);
* the SS-SINR measured is the predicted one plus Gaussian noise of 3 dB (interference-limited:
  the class bias moves signal and interference alike).

**Routes.** Along the demo's three key roads, and through the towns: in each county a tour of its
urban communities, nearest neighbour first. A sample every 50 m (a scanner logging once a second
at about 50 km/h on the roads); samples where the prediction has no server are not logged.

**Speed tests.** Per county, 200 fixed-broadband speed tests at random villages, drawn so that
the share reaching 500 Mbit/s and 1000 Mbit/s follows the county's reported 2024 user shares —
except 永春县, where the tests are drawn 20 percentage points above (designed to show the
data-quality note).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ..rundir import atomic_path

__all__ = [
    "TRUE_BIAS_DB",
    "SHADOWING_SIGMA_DB",
    "SHADOWING_LENGTH_M",
    "OUTLIER_SHARE",
    "SPEED_NOTE_COUNTY",
    "write_drive_test",
]

log = logging.getLogger(__name__)

#: Extra path loss of the hidden truth over the model, per clutter class (dB).
TRUE_BIAS_DB = {"urban": 7.0, "suburban": 4.0, "rural": -3.0}
SHADOWING_SIGMA_DB = 6.0
SHADOWING_LENGTH_M = 150.0
OUTLIER_SHARE = 0.005
SAMPLE_SPACING_M = 50.0
SPEED_TESTS_PER_COUNTY = 200
#: The county whose speed tests are drawn 20 points above its reported shares.
SPEED_NOTE_COUNTY = "350525"
_FEATURES = 1000


def _line_samples(line: shapely.LineString, spacing: float) -> np.ndarray:
    n = max(int(line.length // spacing), 1)
    pts = shapely.line_interpolate_point(line, np.arange(n + 1) * spacing)
    return np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])


def _town_tour(xy: np.ndarray, start: int = 0) -> np.ndarray:
    """Nearest-neighbour tour through the points (indices)."""
    left = list(range(len(xy)))
    order = [left.pop(start)]
    while left:
        d = np.hypot(*(xy[left] - xy[order[-1]]).T)
        order.append(left.pop(int(np.argmin(d))))
    return np.asarray(order)


def routes_m(world, spacing: float = SAMPLE_SPACING_M) -> pd.DataFrame:
    """Sample positions (DEMO_CRS metres) along the key roads and through the towns."""
    parts = []
    for p in world.places:
        if p.category == "road":
            xy = _line_samples(p.geometry_m, spacing)
            parts.append(pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "route": p.name}))
    v = world.villages
    for code in sorted(set(v.county)):
        sel = np.flatnonzero((v.county == code) & v.urban)
        if sel.size < 2:
            continue
        seeds = v.seeds_xy[sel][:25]
        tour = seeds[_town_tour(seeds)]
        xy = _line_samples(shapely.LineString(tour), spacing)
        parts.append(
            pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "route": f"{code} 城区路测（合成）"})
        )
    return pd.concat(parts, ignore_index=True)


def shadowing_field(x, y, rng, sigma: float, length_m: float, n: int = _FEATURES) -> np.ndarray:
    """A Gaussian random field (mean 0, σ, covariance σ²·exp(−d²/2ℓ²)) at points, in dB."""
    k = rng.normal(0.0, 1.0 / length_m, size=(n, 2))
    phase = rng.uniform(0.0, 2.0 * math.pi, size=n)
    out = np.zeros(np.asarray(x).size)
    for start in range(0, n, 100):
        kk = k[start : start + 100]
        arg = np.outer(x, kk[:, 0]) + np.outer(y, kk[:, 1]) + phase[start : start + 100]
        out += np.cos(arg).sum(axis=1)
    return sigma * math.sqrt(2.0 / n) * out


def _truth(world, scenario_path: Path, rng, timings):
    from ..crs import transformer
    from ..ingest import load_inputs
    from ..pipeline import make_grid
    from ..radio import RadioParams, compute_coverage
    from ..radio.engine import clutter_classes
    from ..scenario import load_scenario
    from ..zonal import population_grid
    from .fields import DEMO_CRS

    scn = load_scenario(scenario_path).replace(measurements={"path": "", "paths": []})
    inputs = load_inputs(scn)
    grid = make_grid(scn, inputs)
    pop = population_grid(inputs, grid)
    params = RadioParams.from_section(scn.radio, "5G")
    cells = inputs.cells[inputs.cells["tech"] == "5G"].reset_index(drop=True)
    cov = compute_coverage(
        cells,
        grid,
        params,
        population=pop,
        dem=inputs.dem,
        tile_size=scn.grid.tile_size,
        memory_budget_mb=scn.compute.memory_budget_mb,
    )
    timings["drive_test_coverage_s"] = cov.timings.get("compute_s", 0.0)
    classes = clutter_classes(grid, params, pop, inputs.clutter)
    pts = routes_m(world)
    lon, lat = transformer(DEMO_CRS, 4326).transform(pts["x"].to_numpy(), pts["y"].to_numpy())
    gx, gy = grid.lonlat_to_xy(lon, lat)
    r, c = grid.rowcol(gx, gy)
    ok = grid.contains_rowcol(r, c)
    pts, lon, lat, gx, gy, r, c = (a[ok] for a in (pts, lon, lat, gx, gy, r, c))
    pts = pts.reset_index(drop=True)
    pred = cov.rsrp_dbm[r, c].astype(np.float64)
    pred_sinr = cov.sinr_db[r, c].astype(np.float64)
    cls = classes[r, c] if classes is not None else np.full(r.size, 2)
    names = np.array(["", "urban", "suburban", "rural"], dtype=object)[cls]
    bias = np.array([TRUE_BIAS_DB[n] for n in names])
    shadow = shadowing_field(gx, gy, rng, SHADOWING_SIGMA_DB, SHADOWING_LENGTH_M)
    outlier = rng.random(r.size) < OUTLIER_SHARE
    gross = np.where(outlier, -rng.uniform(20.0, 35.0, r.size), 0.0)
    rsrp = pred - bias + shadow + gross
    sinr = np.clip(pred_sinr + rng.normal(0.0, 3.0, r.size), -23.0, 40.0)
    keep = np.isfinite(pred) & (rsrp > -140.0) & (rsrp < -40.0)
    return pts[keep], lon[keep], lat[keep], rsrp[keep], sinr[keep], int(outlier[keep].sum())


def _speed_tests(world, rng) -> pd.DataFrame:
    from ..crs import transformer
    from .fields import DEMO_CRS

    bb = world.broadband
    bb = bb[bb["year"] == 2024].copy()
    bb["county"] = bb["admin_code"].astype(str).str[:6]
    sums = bb.groupby("county")[["fixed_users", "users_500m_plus", "users_1000m_plus"]].sum()
    v = world.villages
    rows = []
    to84 = transformer(DEMO_CRS, 4326)
    for code, s in sums.iterrows():
        if not s["fixed_users"] > 0:
            continue
        p500 = s["users_500m_plus"] / s["fixed_users"]
        p1000 = s["users_1000m_plus"] / s["fixed_users"]
        if code == SPEED_NOTE_COUNTY:
            p500, p1000 = min(p500 + 0.2, 1.0), min(p1000 + 0.05, 1.0)
        sel = np.flatnonzero(v.county == code)
        if sel.size == 0:
            continue
        pick = rng.choice(sel, SPEED_TESTS_PER_COUNTY)
        xy = v.seeds_xy[pick] + rng.normal(0.0, 60.0, (SPEED_TESTS_PER_COUNTY, 2))
        u = rng.random(SPEED_TESTS_PER_COUNTY)
        speed = np.where(
            u < p1000,
            rng.uniform(1000.0, 1400.0, u.size),
            np.where(u < p500, rng.uniform(500.0, 999.0, u.size), rng.uniform(30.0, 480.0, u.size)),
        )
        lon, lat = to84.transform(xy[:, 0], xy[:, 1])
        rows.append(
            pd.DataFrame({"lon": lon, "lat": lat, "download": np.round(speed, 1), "county": code})
        )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def write_drive_test(world, scenario_path: Path, path: Path, seed, timings) -> dict:
    """Write the synthetic measurements file; returns its design (for the demo metadata)."""

    rng = np.random.default_rng(seed)
    pts, lon, lat, rsrp, sinr, n_out = _truth(world, scenario_path, rng, timings)
    t0 = pd.Timestamp("2024-06-03 09:00:00")
    drive = pd.DataFrame(
        {
            "经度": np.round(lon, 6),
            "纬度": np.round(lat, 6),
            "NR_SS-RSRP": np.round(rsrp, 1),
            "SS-SINR": np.round(sinr, 1),
            "下载速率(Mbps)": "",
            "网络制式": "NR",
            "时间": (t0 + pd.to_timedelta(np.arange(len(rsrp)) * 4, unit="s")).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "数据来源": "路测",
            "路线": pts["route"].to_numpy(),
            "备注": "合成数据 synthetic",
        }
    )
    speed = _speed_tests(world, rng)
    fixed = pd.DataFrame(
        {
            "经度": np.round(speed["lon"], 6),
            "纬度": np.round(speed["lat"], 6),
            "NR_SS-RSRP": "",
            "SS-SINR": "",
            "下载速率(Mbps)": speed["download"],
            "网络制式": "固定宽带",
            "时间": "2024-06-10 20:00:00",
            "数据来源": "测速",
            "路线": "",
            "备注": "合成数据 synthetic",
        }
    )
    out = pd.concat([drive, fixed], ignore_index=True)
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False, encoding="utf-8")
    log.info(
        "demo: synthetic drive test: %d radio samples (%d gross outliers), %d speed tests",
        len(drive),
        n_out,
        len(fixed),
    )
    return {
        "file": path.name,
        "radio_samples": int(len(drive)),
        "speed_tests": int(len(fixed)),
        "true_bias_db": dict(TRUE_BIAS_DB),
        "shadowing_sigma_db": SHADOWING_SIGMA_DB,
        "shadowing_length_m": SHADOWING_LENGTH_M,
        "outliers": n_out,
        "outlier_share": OUTLIER_SHARE,
        "speed_note_county": SPEED_NOTE_COUNTY,
    }
