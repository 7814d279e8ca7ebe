"""Radio engine benchmark: numba kernels vs a straightforward NumPy implementation, the cold
compile, and province-scale runs (synthetic Fujian, 114,000 sites × 3 sectors, at 100 m and at
30 m with a DEM).

Usage: python benchmarks/bench_radio.py [--quick] [--workers N]

1. **Same inputs, two engines.** A seeded synthetic region (cells denser in town centres, a
   population grid that makes town pixels urban and the rest suburban / rural, model ``auto``):
   :func:`gigacov.radio.compute_coverage` (threads; and 1 worker) against ``numpy_engine`` below,
   which evaluates the same model — UMa/RMa NLOS by clutter class, 38.901 antenna, link budget,
   contribution rule, best server, same-frequency SINR — with whole-array NumPy operations, cell
   by cell over the cell's window. Both get the same per-cell inputs and cut-off radii (prepared
   once, untimed; for numba the timed phase is ``timings["compute_s"]``: tile payloads,
   kernels, assembling the rasters); the figure is cell-pixel evaluations per second (pairs
   within the radius, the same count for both) and the ratio, on wall time and on CPU time. The
   outputs are compared too.
2. **Province scale.** The bounding box of Fujian from ``data/boundaries/fujian.gpkg`` on UTM 50N
   at 100 m; 114,000 seeded sites on land (inside the real province outline), clustered around
   the nine prefecture cities and along the coast; 3 sectors each at 3.5 GHz; a population grid
   derived from the site density (≈ 364 persons per site). Runs in a fresh subprocess with an
   empty numba cache, so ``compile_s`` is a real compile and the peak RSS is that run's own.
2b. **Cold compile** of each kernel into an empty numba cache (a fresh process).
2c. **Province at 30 m with a DEM.** The same province at 30 m (≈ 300 M pixels) with a seeded
   synthetic DEM (:func:`synthetic_dem`: 1/f² hills of 1,500 m relief on a 240 m lattice,
   bilinear to 30 m; nothing is downloaded), horizon method, ``max_radius_m`` 5 km as in the
   demo, the outputs memory-mapped (``memory_budget_mb`` 2048): wall, CPU, peak RSS, disk.
3. **With a DEM.** The inputs of stage 1 plus a seeded synthetic hilly DEM (1/f² spectral noise,
   400 m of relief, on the grid's lattice and 6 km beyond it), ``max_radius_m`` 5 km as in the
   demo: the engine without the DEM, with ``terrain_method = "horizon"`` (default) and with
   ``"profile"`` (the exact per-path method), each on the same inputs — evaluations per second,
   wall and CPU time, their ratios — and how far horizon and profile results differ (best-server
   RSRP, covered, LOS/NLOS and diffraction loss per cell-pixel from the footprints of a sample
   of cells). Then :func:`gigacov.radio.cell_footprints` (what planning calls) for a batch of
   cells, both methods.
4. **Tile size.** The Quanzhou-sized corner of the province (10,000 sites, 100 m) without and
   with a DEM, tiles of 128 to 1,024 px a side: CPU per evaluation for each size, and a check
   that every size gives the same rasters (``--stage tiles`` runs it alone).

Writes ``bench-results/radio.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, save  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = 20240430
#: Agreement with the NumPy reference: RSRP and SINR within this (dB); server and covered identical
#: except on pixels within this of a tie or a threshold, which are counted.
NEAR_DB = 0.05

# Prefecture-level cities of Fujian (lon, lat, relative weight of their site share).
CITIES = [
    ("Fuzhou", 119.30, 26.08, 0.22),
    ("Xiamen", 118.09, 24.48, 0.14),
    ("Quanzhou", 118.60, 24.90, 0.19),
    ("Zhangzhou", 117.65, 24.51, 0.10),
    ("Putian", 119.01, 25.45, 0.08),
    ("Ningde", 119.55, 26.66, 0.07),
    ("Longyan", 117.02, 25.08, 0.07),
    ("Sanming", 117.64, 26.26, 0.07),
    ("Nanping", 118.18, 26.64, 0.06),
]
# The coast, roughly, from the Guangdong border to the Zhejiang border (lon, lat).
COAST = np.array(
    [
        (117.2, 23.6),
        (117.9, 24.3),
        (118.6, 24.6),
        (119.1, 25.2),
        (119.6, 25.7),
        (119.7, 26.3),
        (120.1, 26.7),
        (120.4, 27.2),
    ]
)


# ------------------------------------------------------------------------------------------------
# Synthetic inputs
# ------------------------------------------------------------------------------------------------


def synthetic_sites(n_sites: int, rng, region, bbox) -> tuple[np.ndarray, np.ndarray]:
    """Seeded site positions (lon, lat) inside ``region`` (shapely geometry, WGS84)."""
    from shapely import contains_xy

    lon_out, lat_out = [], []
    need = n_sites
    while need > 0:
        m = int(need * 1.6) + 100
        kind = rng.random(m)
        lon = np.empty(m)
        lat = np.empty(m)
        # 55 %: around the cities (σ 0.04°–0.15°, ~4–15 km).
        sel = kind < 0.55
        w = np.array([c[3] for c in CITIES])
        pick = rng.choice(len(CITIES), sel.sum(), p=w / w.sum())
        sigma = rng.choice([0.04, 0.08, 0.15], sel.sum(), p=[0.5, 0.3, 0.2])
        lon[sel] = np.array([c[1] for c in CITIES])[pick] + rng.normal(0, 1, sel.sum()) * sigma
        lat[sel] = np.array([c[2] for c in CITIES])[pick] + rng.normal(0, 1, sel.sum()) * sigma
        # 25 %: a band along the coast (within ~0.3° inland).
        sel2 = (kind >= 0.55) & (kind < 0.80)
        seg = rng.integers(0, len(COAST) - 1, sel2.sum())
        t = rng.random(sel2.sum())
        p = COAST[seg] * (1 - t[:, None]) + COAST[seg + 1] * t[:, None]
        inland = np.abs(rng.normal(0, 0.15, sel2.sum()))
        lon[sel2] = p[:, 0] - inland * 0.8
        lat[sel2] = p[:, 1] + inland * 0.6
        # 20 %: anywhere (villages, roads).
        sel3 = kind >= 0.80
        lon[sel3] = rng.uniform(bbox[0], bbox[2], sel3.sum())
        lat[sel3] = rng.uniform(bbox[1], bbox[3], sel3.sum())
        inside = contains_xy(region, lon, lat)
        lon_out.append(lon[inside][:need])
        lat_out.append(lat[inside][:need])
        need -= len(lon_out[-1])
    return np.concatenate(lon_out), np.concatenate(lat_out)


def cells_for_sites(lon, lat, rng) -> pd.DataFrame:
    n = lon.size
    rot = rng.uniform(0, 120, n)
    az = (rot[:, None] + np.array([0.0, 120.0, 240.0])[None, :]).ravel()
    return pd.DataFrame(
        {
            "site_id": np.repeat([f"S{i:06d}" for i in range(n)], 3),
            "cell_id": [f"S{i:06d}-{k}" for i in range(n) for k in range(3)],
            "lon": np.repeat(lon, 3),
            "lat": np.repeat(lat, 3),
            "tech": "5G",
            "freq_mhz": 3500.0,
            "bandwidth_mhz": 100.0,
            "scs_khz": 30.0,
            "n_rb": 273,
            "height_m": np.repeat(rng.uniform(20.0, 40.0, n), 3),
            "azimuth_deg": az % 360.0,
            "beamwidth_deg": 65.0,
            "tilt_deg": np.repeat(rng.uniform(3.0, 9.0, n), 3),
            "eirp_dbm": 61.0,
        }
    )


def population_from_sites(grid, cells, persons_per_site=364.0) -> np.ndarray:
    """Persons per pixel: site density on a 1 km lattice (3×3 km mean) × persons per site
    (float32; filled block of rows by block of rows, so a 30 m province grid needs no float64
    copy)."""
    x, y = grid.lonlat_to_xy(cells["lon"].to_numpy()[::3], cells["lat"].to_numpy()[::3])
    block = max(1, int(round(1000.0 / grid.resolution_m)))
    bh, bw = -(-grid.height // block), -(-grid.width // block)
    r = ((grid.transform.f - y) / grid.resolution_m // block).astype(int)
    c = ((x - grid.transform.c) / grid.resolution_m // block).astype(int)
    ok = (r >= 0) & (r < bh) & (c >= 0) & (c < bw)
    counts = np.zeros((bh + 2, bw + 2))
    np.add.at(counts, (r[ok] + 1, c[ok] + 1), 1.0)
    smooth = sum(counts[i : i + bh, j : j + bw] for i in range(3) for j in range(3)) / 9.0
    block_km2 = (block * grid.resolution_m / 1000.0) ** 2
    per_km2 = 40.0 + smooth / block_km2 * persons_per_site  # 40/km² rural floor
    per_pixel = (per_km2 * grid.pixel_area_m2 / 1e6).astype(np.float32)
    out = np.empty(grid.shape, dtype=np.float32)
    for br in range(bh):
        rows = out[br * block : (br + 1) * block]
        rows[:] = np.repeat(per_pixel[br], block)[None, : grid.width]
    return out


def synthetic_dem(grid, pad: int, rng, relief_m: float = 1500.0, cell_m: float = 240.0):
    """A seeded synthetic DEM (:class:`gigacov.grid.RasterData`) on the grid's lattice, ``pad``
    pixels beyond it on every side: :func:`fractal_dem` (1/f² hills, ``relief_m`` from lowest to
    highest) on a lattice of ``cell_m`` (at least the grid's resolution), interpolated bilinearly
    to the grid's pixels block by block (float32; nothing is downloaded). Fujian's hills rise to
    about 2,000 m."""
    from affine import Affine

    from gigacov.grid import RasterData

    res = grid.resolution_m
    f = max(1, int(round(cell_m / res)))
    h, w = grid.height + 2 * pad, grid.width + 2 * pad
    coarse = fractal_dem(rng, h // f + 2, w // f + 2, relief_m)
    out = np.empty((h, w), dtype=np.float32)
    # Fine pixel i sits at coarse coordinate (i + ½)/f − ½.
    cc = (np.arange(w) + 0.5) / f - 0.5
    c0 = np.clip(np.floor(cc).astype(np.int64), 0, coarse.shape[1] - 2)
    tc = (cc - c0).astype(np.float32)[None, :]
    step = 256
    for r0 in range(0, h, step):
        rr = (np.arange(r0, min(r0 + step, h)) + 0.5) / f - 0.5
        i0 = np.clip(np.floor(rr).astype(np.int64), 0, coarse.shape[0] - 2)
        tr = (rr - i0).astype(np.float32)[:, None]
        top = coarse[i0][:, c0] * (1 - tc) + coarse[i0][:, c0 + 1] * tc
        bot = coarse[i0 + 1][:, c0] * (1 - tc) + coarse[i0 + 1][:, c0 + 1] * tc
        out[r0 : r0 + rr.size] = top * (1 - tr) + bot * tr
    t = grid.transform
    return RasterData(
        out,
        Affine(res, 0.0, t.c - pad * res, 0.0, -res, t.f + pad * res),
        grid.crs,
        path="synthetic",
    )


# ------------------------------------------------------------------------------------------------
# The NumPy implementation (same model, whole-array operations)
# ------------------------------------------------------------------------------------------------


def numpy_engine(prep, table) -> tuple:
    """Best-server RSRP, server, SINR, covered, the evaluation count and the pixels near a tie
    or a threshold (see ``NEAR_DB``), in NumPy (float64).

    ``prep`` gives the per-cell numbers the numba engine uses (positions, radii, windows,
    clutter classes); ``table`` the cell table (grid azimuth, beamwidth and tilt in degrees).
    """
    from gigacov.radio import kernels as K

    grid, p = prep.grid, prep.params
    H, W = grid.shape
    res = grid.resolution_m
    cp, ci = prep.cellp, prep.celli
    level = p.rsrp_threshold_dbm - p.cutoff_margin_db
    hut = p.ue_height_m
    best = np.full((H, W), -np.inf)
    second = np.full((H, W), -np.inf)  # the second-best RSRP (for near ties)
    near_level = np.zeros((H, W), dtype=bool)  # a contribution within NEAR_DB of the level
    server = np.full((H, W), -1, dtype=np.int32)
    sums = np.zeros((prep.n_groups, H, W))
    classes = prep.clutter
    evals = 0
    for i in np.flatnonzero(prep.active):
        r0, r1, c0, c1 = ci[i, K.R0], ci[i, K.R1], ci[i, K.C0], ci[i, K.C1]
        x = grid.transform.c + (np.arange(c0, c1) + 0.5) * res
        y = grid.transform.f - (np.arange(r0, r1) + 0.5) * res
        dx = x[None, :] - cp[i, K.X]
        dy = y[:, None] - cp[i, K.Y]
        d = np.sqrt(dx * dx + dy * dy)
        inside = d <= cp[i, K.RADIUS]
        evals += int(inside.sum())
        hbs, f = cp[i, K.HBS], cp[i, K.FGHZ]
        d2 = np.maximum(d, 10.0)
        d3 = np.sqrt(d2 * d2 + (hbs - hut) ** 2)
        lg = np.log10(d3)
        cls = classes[r0:r1, c0:c1]
        rural = cls == 3
        pl = np.zeros_like(d)
        if not rural.all():  # UMa NLOS = max(LOS, NLOS')
            dbp = 4 * (hbs - 1) * (hut - 1) * f * 1e9 / 3e8
            los = np.where(
                d2 <= dbp,
                28 + 22 * lg + 20 * math.log10(f),
                28 + 40 * lg + 20 * math.log10(f) - 9 * math.log10(dbp**2 + (hbs - hut) ** 2),
            )
            nlos = 13.54 + 39.08 * lg + 20 * math.log10(f) - 0.6 * (hut - 1.5)
            pl = np.maximum(los, nlos)
        if rural.any():  # RMa NLOS
            h, w_st = p.building_height_m, p.street_width_m
            dbp = 2 * math.pi * hbs * hut * f * 1e9 / 3e8

            def pl1(dd, f=f, h=h):
                return (
                    20 * np.log10(40 * math.pi * dd * f / 3)
                    + min(0.03 * h**1.72, 10) * np.log10(dd)
                    - min(0.044 * h**1.72, 14.77)
                    + 0.002 * math.log10(h) * dd
                )

            los = np.where(d2 <= dbp, pl1(d3), pl1(dbp) + 40 * np.log10(d3 / dbp))
            nlos = (
                161.04
                - 7.1 * math.log10(w_st)
                + 7.5 * math.log10(h)
                - (24.37 - 3.7 * (h / hbs) ** 2) * math.log10(hbs)
                + (43.42 - 3.1 * math.log10(hbs)) * (lg - 3)
                + 20 * math.log10(f)
                - (3.2 * math.log10(11.75 * hut) ** 2 - 4.97)
            )
            pl = np.where(rural, np.maximum(los, nlos), pl)
        gain_h = 0.0
        if not math.isnan(table["az"][i]):
            phi = (np.degrees(np.arctan2(dx, dy)) - table["az"][i] + 180.0) % 360.0 - 180.0
            gain_h = -np.minimum(12 * (phi / table["bw"][i]) ** 2, 30.0)
        gain_v = 0.0
        if not math.isnan(table["tilt"][i]):
            theta = np.degrees(np.arctan2(hbs - hut, d))
            gain_v = -np.minimum(
                12 * ((theta - table["tilt"][i]) / p.vertical_beamwidth_deg) ** 2, 30.0
            )
        gain = -np.minimum(-(gain_h + gain_v), 30.0)
        rsrp = cp[i, K.EIRP_RE] - pl + gain - p.extra_loss_db
        ok = inside & (rsrp >= level)
        sums[ci[i, K.GROUP], r0:r1, c0:c1] += np.where(ok, 10.0 ** (rsrp / 10.0), 0.0)
        win_best = best[r0:r1, c0:c1]
        win_second = second[r0:r1, c0:c1]
        better = ok & (rsrp > win_best)
        win_second[:] = np.where(
            better, win_best, np.where(ok, np.maximum(win_second, rsrp), win_second)
        )
        win_best[better] = rsrp[better]
        near_level[r0:r1, c0:c1] |= inside & (np.abs(rsrp - level) <= NEAR_DB)
        server[r0:r1, c0:c1][better] = i
    served = server >= 0
    s = np.where(served, 10.0 ** (best / 10.0), np.nan)
    grp = ci[np.maximum(server, 0), K.GROUP]
    # interference weight of each carrier group for the server's group (carrier overlap share)
    weighted = np.tensordot(prep.overlap, sums, axes=1)
    total = np.take_along_axis(weighted, grp[None], axis=0)[0]
    interference = np.maximum(p.load * (total - s), 0.0)
    sinr = 10 * np.log10(s / (interference + cp[np.maximum(server, 0), K.NOISE_MW]))
    covered = served & (best >= p.rsrp_threshold_dbm) & (sinr >= p.sinr_threshold_db)
    # Pixels where a float32 engine may legitimately differ: the two best servers within NEAR_DB,
    # the RSRP or SINR within NEAR_DB of its threshold, or a contribution within NEAR_DB of the
    # contribution level (it may or may not add to the interference).
    with np.errstate(invalid="ignore"):  # −inf − (−inf) where a pixel has one server
        tie = best - second <= NEAR_DB
    near = served & (
        tie
        | (np.abs(best - p.rsrp_threshold_dbm) <= NEAR_DB)
        | (np.abs(sinr - p.sinr_threshold_db) <= NEAR_DB)
        | near_level
    )
    return (
        np.where(served, best, np.nan).astype(np.float32),
        server,
        sinr.astype(np.float32),
        covered.astype(np.uint8),
        evals,
        near,
    )


# ------------------------------------------------------------------------------------------------
# Stages
# ------------------------------------------------------------------------------------------------


def square_scene(quick: bool, rng) -> tuple:
    """A 40 km × 40 km (quick: 20 km) square around Quanzhou at 100 m with 2,500 (quick: 700)
    synthetic sites and their population: ``(grid, cells, population)``."""
    import pyproj
    from shapely.geometry import box

    from gigacov.grid import Grid

    half = 10_000.0 if quick else 20_000.0
    crs = pyproj.CRS.from_epsg(32650)
    x0, y0 = pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform(118.60, 24.90)
    grid = Grid.from_bounds((x0 - half, y0 - half, x0 + half, y0 + half), 100.0, crs)
    lon_lat = grid.xy_to_lonlat([x0 - half, x0 + half], [y0 - half, y0 + half])
    region = box(lon_lat[0][0], lon_lat[1][0], lon_lat[0][1], lon_lat[1][1])
    lon, lat = synthetic_sites(700 if quick else 2500, rng, region, region.bounds)
    cells = cells_for_sites(lon, lat, rng)
    return grid, cells, population_from_sites(grid, cells)


def fractal_dem(rng, height: int, width: int, relief_m: float = 400.0) -> np.ndarray:
    """Seeded hilly terrain: Gaussian noise filtered to a 1/f² amplitude spectrum (smooth
    ridges and valleys at every scale), scaled to ``relief_m`` metres from lowest to highest."""
    ky = np.fft.fftfreq(height)[:, None]
    kx = np.fft.rfftfreq(width)[None, :]
    k = np.hypot(kx, ky)
    k[0, 0] = 1.0
    spectrum = (rng.normal(size=k.shape) + 1j * rng.normal(size=k.shape)) / k**2
    spectrum[0, 0] = 0.0
    z = np.fft.irfft2(spectrum, s=(height, width))
    return ((z - z.min()) / (z.max() - z.min()) * relief_m).astype(np.float32)


def dem_stage(quick: bool, workers: int) -> dict:
    """The engine with a DEM: no DEM vs horizon vs profile on the same inputs."""
    from affine import Affine

    from gigacov.grid import RasterData
    from gigacov.radio import RadioParams, backends, cell_footprints, compute_coverage

    rng = np.random.default_rng(SEED + 2)
    grid, cells, population = square_scene(quick, rng)
    crs = grid.crs
    pad = 60  # 6 km: the DEM covers every cell's 5 km circle
    t = grid.transform
    z = fractal_dem(rng, grid.height + 2 * pad, grid.width + 2 * pad)
    dem = RasterData(
        z, Affine(t.a, 0.0, t.c - pad * t.a, 0.0, t.e, t.f - pad * t.e), crs, path="synthetic"
    )
    base = RadioParams(model="auto", max_radius_m=5000.0)
    backends.warm_up("serial")
    backends.warm_up("dem")
    backends.warm_up("parallel")
    backends.warm_up("footprint")

    def timed(params, with_dem, repeat):
        best = None
        for _ in range(repeat):
            res = compute_coverage(
                cells,
                grid,
                params,
                population=population,
                dem=dem if with_dem else None,
                workers=workers,
            )
            if best is None or res.timings["compute_s"] < best.timings["compute_s"]:
                best = res
        return best

    runs = {
        "no_dem": timed(base, False, 3),
        "horizon": timed(base, True, 2),
        "profile": timed(RadioParams(**{**base.to_dict(), "terrain_method": "profile"}), True, 1),
    }
    out: dict = {
        "grid": f"{grid.width}x{grid.height} @ 100 m",
        "cells": len(cells),
        "workers": workers,
        "relief_m": 400.0,
        "max_radius_m": 5000.0,
        "runs": {},
    }
    for name, res in runs.items():
        tm = res.timings
        out["runs"][name] = {
            "evaluations": tm["evaluations"],
            "compute_s": tm["compute_s"],
            "compute_cpu_s": tm["compute_cpu_s"],
            "evaluations_per_s": round(tm["evaluations"] / tm["compute_s"]),
            "cpu_ns_per_evaluation": round(tm["compute_cpu_s"] / tm["evaluations"] * 1e9, 1),
            "covered_share": round(float(res.covered.mean()), 5),
        }
    r = out["runs"]
    out["speed_ratio_no_dem_over_horizon"] = round(
        r["no_dem"]["evaluations_per_s"] / r["horizon"]["evaluations_per_s"], 2
    )
    out["speed_ratio_horizon_over_profile"] = round(
        r["horizon"]["evaluations_per_s"] / r["profile"]["evaluations_per_s"], 2
    )
    out["wall_ratio_profile_over_horizon"] = round(
        r["profile"]["compute_s"] / r["horizon"]["compute_s"], 2
    )
    h, p = runs["horizon"], runs["profile"]
    served = np.isfinite(h.rsrp_dbm) & np.isfinite(p.rsrp_dbm)
    diff = np.abs(h.rsrp_dbm - p.rsrp_dbm)[served]
    out["horizon_vs_profile"] = {
        "covered_differs_share": round(float((h.covered != p.covered).mean()), 5),
        "server_differs_share": round(float((h.server != p.server).mean()), 5),
        "served_differs_share": round(
            float((np.isfinite(h.rsrp_dbm) != np.isfinite(p.rsrp_dbm)).mean()), 5
        ),
        "best_rsrp_over_1db_share": round(float((diff > 1.0).mean()), 5),
        "best_rsrp_mean_abs_db": round(float(diff.mean()), 4),
        "best_rsrp_max_abs_db": round(float(diff.max()), 2),
    }
    # Per cell-pixel: the terrain's loss from footprints with and without the DEM (free space,
    # omni, untilted: the drop is the diffraction loss; > 0 ⇔ NLOS), for a sample of cells.
    sample = cells.iloc[rng.choice(len(cells), 60 if quick else 120, replace=False)].reset_index(
        drop=True
    )
    sample = sample.assign(azimuth_deg=np.nan, tilt_deg=np.nan)
    fs = RadioParams(model="free-space", max_radius_m=5000.0, rsrp_threshold_dbm=-250.0)
    flat = cell_footprints(sample, grid, fs)
    loss = {}
    for method in ("horizon", "profile"):
        fps = cell_footprints(
            sample, grid, RadioParams(**{**fs.to_dict(), "terrain_method": method}), dem=dem
        )
        loss[method] = np.concatenate(
            [
                (f.astype(np.float64) - d.astype(np.float64)).ravel()
                for (_t, d), (_t2, f) in zip(fps, flat, strict=True)
            ]
        )
    ok = np.isfinite(loss["horizon"]) & np.isfinite(loss["profile"])
    lh, lp = loss["horizon"][ok], loss["profile"][ok]
    out["terrain_per_cell_pixel"] = {
        "cell_pixels": int(ok.sum()),
        "nlos_share_profile": round(float((lp > 0).mean()), 4),
        "nlos_share_horizon": round(float((lh > 0).mean()), 4),
        "same_los_class_share": round(float(((lh > 0) == (lp > 0)).mean()), 5),
        "loss_over_1db_share": round(float((np.abs(lh - lp) > 1.0).mean()), 4),
        "loss_over_3db_share": round(float((np.abs(lh - lp) > 3.0).mean()), 4),
        "loss_mean_abs_db": round(float(np.abs(lh - lp).mean()), 3),
    }
    # Footprints as planning calls them (margin 0), both methods.
    batch = cells.iloc[: (300 if quick else 1000)].reset_index(drop=True)
    plan_params = RadioParams(**{**base.to_dict(), "cutoff_margin_db": 0.0})
    fp = {}
    for method in ("horizon", "profile"):
        prm = RadioParams(**{**plan_params.to_dict(), "terrain_method": method})
        cell_footprints(
            batch.iloc[:2], grid, prm, population=population, dem=dem
        )  # DEM warped (cached)
        t0 = time.perf_counter()
        cell_footprints(batch, grid, prm, population=population, dem=dem)
        fp[method] = time.perf_counter() - t0
    out["footprints"] = {
        "cells": len(batch),
        "horizon_s": round(fp["horizon"], 3),
        "profile_s": round(fp["profile"], 3),
        "horizon_cells_per_s": round(len(batch) / fp["horizon"], 1),
        "ratio_profile_over_horizon": round(fp["profile"] / fp["horizon"], 2),
    }
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


def fujian_region():
    import geopandas as gpd

    b = gpd.read_file(ROOT / "data" / "boundaries" / "fujian.gpkg")
    prov = b[b["level"] == "province"]
    geom = (prov if len(prov) else b).geometry.union_all()
    return geom, tuple(b.total_bounds)


def compare_stage(quick: bool, workers: int) -> dict:
    """numba vs NumPy on the same inputs."""
    from gigacov.radio import RadioParams, backends, compute_coverage, prepare

    rng = np.random.default_rng(SEED)
    grid, cells, population = square_scene(quick, rng)
    params = RadioParams(model="auto")
    prep = prepare.prepare(cells, grid, params, population, None, None)
    table = prepare.cell_table(cells, grid, params)

    backends.warm_up("serial")
    backends.warm_up("parallel")
    # The engine's default tile size (256 px): 4 tiles here, shared by the thread pool.
    runs = {}
    for wk in sorted({1, workers}):
        times, cpu = [], []
        for _ in range(5):
            res = compute_coverage(cells, grid, params, population=population, workers=wk)
            # The engine phase only (tiles → kernels → rasters); preparation (cell table, clutter,
            # radii, bucketing) is left out as it is for the NumPy engine, which starts from it.
            times.append(res.timings["compute_s"])
            cpu.append(res.timings["compute_cpu_s"])
        runs[wk] = (min(times), min(cpu), res)
    numba_best, numba_cpu, res = runs[workers]
    numba_1, numba_1_cpu, _ = runs[1]
    t_np, c_np = [], []
    for _ in range(2):
        t0, c0 = time.perf_counter(), time.process_time()
        np_rsrp, np_server, np_sinr, np_cov, np_evals, near = numpy_engine(prep, table)
        t_np.append(time.perf_counter() - t0)
        c_np.append(time.process_time() - c0)
    numpy_best = min(t_np)
    numpy_cpu = min(c_np)
    evals = res.timings["evaluations"]
    assert evals == np_evals, (evals, np_evals)
    served = ~np.isnan(np_rsrp)
    far = served & ~near
    d_rsrp = np.abs(res.rsrp_dbm - np_rsrp)
    d_sinr = np.abs(res.sinr_db - np_sinr)
    server_diff = res.server != np_server
    covered_diff = res.covered != np_cov
    agreement = {
        "max_abs_rsrp_db": float(np.nanmax(d_rsrp)) if served.any() else 0.0,
        "max_abs_sinr_db_away_from_ties": float(np.nanmax(d_sinr[far])) if far.any() else 0.0,
        "max_abs_sinr_db": float(np.nanmax(d_sinr)) if served.any() else 0.0,
        "near_tie_or_threshold_pixels": int(near.sum()),
        "server_differs": int(server_diff.sum()),
        "server_differs_away_from_ties": int((server_diff & ~near).sum()),
        "covered_differs": int(covered_diff.sum()),
        "covered_differs_away_from_ties": int((covered_diff & ~near).sum()),
        "served_pixels": int(served.sum()),
    }
    assert agreement["max_abs_rsrp_db"] <= NEAR_DB, agreement
    assert agreement["max_abs_sinr_db_away_from_ties"] <= NEAR_DB, agreement
    assert agreement["server_differs_away_from_ties"] == 0, agreement
    assert agreement["covered_differs_away_from_ties"] == 0, agreement
    return {
        "grid": f"{grid.width}x{grid.height} @ {grid.resolution_m:g} m",
        "cells": len(cells),
        "evaluations": evals,
        "numba_s": round(numba_best, 4),
        "numba_1worker_s": round(numba_1, 4),
        "numpy_s": round(numpy_best, 4),
        "numba_evals_per_s": round(evals / numba_best),
        "numba_1worker_evals_per_s": round(evals / numba_1),
        "numpy_evals_per_s": round(evals / numpy_best),
        "ratio": round(numpy_best / numba_best, 2),
        "ratio_1worker": round(numpy_best / numba_1, 2),
        "cpu_s": {
            "numba": round(numba_cpu, 4),
            "numba_1worker": round(numba_1_cpu, 4),
            "numpy": round(numpy_cpu, 4),
        },
        "cpu_ns_per_evaluation": {
            "numba": round(numba_cpu / evals * 1e9, 2),
            "numpy": round(numpy_cpu / evals * 1e9, 2),
        },
        "ratio_cpu_time_per_core": round(numpy_cpu / numba_1_cpu, 2),
        "ratio_cpu_time_2_cores": round(numpy_cpu / (numba_cpu / workers), 2),
        "parallel_efficiency": round(numba_1 / numba_best / workers, 2),
        "workers": workers,
        "agreement": agreement,
        "covered_share": float(res.covered.mean()),
    }


def province_scene(
    quick: bool,
    resolution_m: float = 100.0,
    with_dem: bool = False,
    max_radius_m: float | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    n_sites: int | None = None,
):
    """Synthetic Fujian (or, ``quick``, its Quanzhou-sized corner; or the ``bbox`` given, with
    ``n_sites`` sites) at ``resolution_m``: cells, grid, parameters, population and, with
    ``with_dem``, a synthetic DEM padded by the cut-off radius."""
    from gigacov.crs import metric_crs_for
    from gigacov.grid import Grid
    from gigacov.radio import RadioParams

    rng = np.random.default_rng(SEED + 1)
    region, full_bbox = fujian_region()
    if quick and bbox is None:  # Quanzhou-sized corner of the province
        bbox = (117.9, 24.4, 119.1, 25.6)
    if n_sites is None:
        n_sites = 10_000 if quick else 114_000
    if bbox is None:
        bbox = full_bbox
    else:
        from shapely.geometry import box

        region = region.intersection(box(*bbox))
    lon, lat = synthetic_sites(n_sites, rng, region, bbox)
    cells = cells_for_sites(lon, lat, rng)
    import pyproj

    crs = metric_crs_for(bbox)  # UTM 50N for Fujian, as the pipeline's [grid] crs = "auto"
    xs, ys = pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform(
        [bbox[0], bbox[2], bbox[0], bbox[2]], [bbox[1], bbox[1], bbox[3], bbox[3]]
    )
    grid = Grid.from_bounds((min(xs), min(ys), max(xs), max(ys)), resolution_m, crs)
    population = population_from_sites(grid, cells)
    params = RadioParams(model="auto")
    if max_radius_m is not None:
        params = RadioParams(**{**params.to_dict(), "max_radius_m": max_radius_m})
    dem = None
    if with_dem:
        pad = int(math.ceil(params.max_radius_m / resolution_m)) + 4
        dem = synthetic_dem(grid, pad, np.random.default_rng(SEED + 3))
    return cells, grid, params, population, dem, n_sites, crs


def province_stage(
    quick: bool,
    workers: int,
    resolution_m: float = 100.0,
    with_dem: bool = False,
    max_radius_m: float | None = None,
    memory_budget_mb: float | None = None,
) -> dict:
    """Synthetic Fujian at ``resolution_m``, optionally with a synthetic DEM (horizon method;
    run in its own process, so the compile and the peak RSS are this run's own)."""
    t_all = time.perf_counter()
    from gigacov.radio import compute_coverage

    t0 = time.perf_counter()
    cells, grid, params, population, dem, n_sites, crs = province_scene(
        quick, resolution_m, with_dem, max_radius_m
    )
    inputs_s = time.perf_counter() - t0
    rss_inputs = peak_rss_mb()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    res = compute_coverage(
        cells,
        grid,
        params,
        population=population,
        dem=dem,
        workers=workers,
        memory_budget_mb=memory_budget_mb,
    )
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    rss_run = peak_rss_mb()
    t = res.timings
    # Shares of the bounding box, a block of rows at a time (the outputs may be memmaps).
    covered = served = 0
    for r0 in range(0, grid.height, 1024):
        covered += int(np.count_nonzero(res.covered[r0 : r0 + 1024]))
        served += int(np.count_nonzero(res.server[r0 : r0 + 1024] >= 0))
    return {
        "sites": n_sites,
        "cells": len(cells),
        "grid": f"{grid.width}x{grid.height} @ {resolution_m:g} m",
        "resolution_m": resolution_m,
        "dem": "synthetic 1/f² hills, 1,500 m relief, horizon method" if with_dem else None,
        "max_radius_m": params.max_radius_m,
        "pixels": grid.n_pixels,
        "crs": crs.to_string(),
        "workers": workers,
        "inputs_s": round(inputs_s, 2),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "wall_without_compile_s": round(wall - t["compile_s"], 2),
        "compile_s": t["compile_s"],
        "prepare_s": t["prepare_s"],
        "compute_s": t["compute_s"],
        "evaluations": t["evaluations"],
        "evaluations_per_s": t["evaluations_per_s"],
        "cpu_ns_per_evaluation": round(t["compute_cpu_s"] / max(t["evaluations"], 1) * 1e9, 2),
        "tiles": t["tiles"],
        "memmap_outputs": bool(t["memmap"]),
        "disk_mb": round(grid.n_pixels * 13 / 2**20, 1) if t["memmap"] else 0.0,
        "covered_share_of_bbox": round(covered / grid.n_pixels, 4),
        "served_share_of_bbox": round(served / grid.n_pixels, 4),
        "peak_rss_mb_before_coverage": round(rss_inputs, 1),
        "peak_rss_mb": round(rss_run, 1),
        "stage_total_s": round(time.perf_counter() - t_all, 2),
    }


#: Tile sizes (px a side) the tiles stage compares; the engine's default is 256.
TILE_SIZES = (128, 256, 512, 1024)


def tiles_stage(quick: bool, workers: int) -> dict:
    """The engine's tile size measured, not guessed: the Quanzhou-sized corner of synthetic
    Fujian (10,000 sites, 100 m; ``quick``: 2,000 sites on a quarter of it) without and with a
    DEM (horizon method, 5 km), every size in :data:`TILE_SIZES`, the best of two runs each
    (CPU time of the tiles phase per evaluation). Every size must give the same rasters."""
    from gigacov.radio import backends, compute_coverage

    for kind in ("serial", "parallel", "dem"):
        backends.warm_up(kind)
    bbox, n_sites = ((118.3, 24.8, 118.9, 25.4), 2_000) if quick else (None, None)
    out: dict = {"tile_sizes": list(TILE_SIZES), "default": 256, "workers": workers}
    for name, with_dem in (("no_dem", False), ("dem", True)):
        cells, grid, params, population, dem, sites, _ = province_scene(
            True, 100.0, with_dem, 5000.0, bbox=bbox, n_sites=n_sites
        )
        rows, first = [], None
        for ts in TILE_SIZES:
            wall, cpu = [], []
            for _ in range(2):
                res = compute_coverage(
                    cells,
                    grid,
                    params,
                    population=population,
                    dem=dem,
                    workers=workers,
                    tile_size=ts,
                )
                wall.append(res.timings["compute_s"])
                cpu.append(res.timings["compute_cpu_s"])
            evals = res.timings["evaluations"]
            if first is None:
                first = res
            # Same cell-pixel pairs and the same values whatever the tiling.
            assert evals == first.timings["evaluations"], (ts, evals)
            np.testing.assert_array_equal(res.rsrp_dbm, first.rsrp_dbm)
            np.testing.assert_array_equal(res.server, first.server)
            np.testing.assert_array_equal(res.covered, first.covered)
            rows.append(
                {
                    "tile_size": ts,
                    "tiles": res.timings["tiles"],
                    "compute_s": round(min(wall), 4),
                    "cpu_ns_per_evaluation": round(min(cpu) / evals * 1e9, 2),
                }
            )
        out[name] = {
            "grid": f"{grid.width}x{grid.height} @ 100 m",
            "sites": sites,
            "cells": len(cells),
            "evaluations": int(first.timings["evaluations"]),
            "identical_outputs": True,
            "runs": rows,
        }
    return out


def print_tiles(t: dict) -> None:
    print(f"\nTile size ({t['workers']} threads; same rasters for every size, checked):")
    for name in ("no_dem", "dem"):
        d = t[name]
        label = "no DEM" if name == "no_dem" else "DEM, horizon, 5 km"
        print(f"  {label}: {d['grid']}, {d['cells']} cells, {d['evaluations']:,} evaluations")
        for r in d["runs"]:
            mark = " (default)" if r["tile_size"] == t["default"] else ""
            print(
                f"    {r['tile_size']:>5} px: {r['tiles']:>4} tiles, {r['compute_s']:.3f} s, "
                f"{r['cpu_ns_per_evaluation']} ns CPU per evaluation{mark}"
            )


def compile_stage() -> dict:
    """Cold compile, kernel by kernel, into the (empty) numba cache of this process: wall and
    CPU seconds of each :func:`gigacov.radio.backends.warm_up` kind, in the order a run meets
    them (the tile kernel without / with a DEM, the row-band kernel, the footprint kernel)."""
    t0, c0 = time.perf_counter(), time.process_time()
    from gigacov.radio import backends

    out = {"import": {"wall_s": round(time.perf_counter() - t0, 2)}}
    out["import"]["cpu_s"] = round(time.process_time() - c0, 2)
    for kind in ("serial", "dem", "parallel", "footprint"):
        t0, c0 = time.perf_counter(), time.process_time()
        backends.warm_up(kind)
        out[kind] = {
            "wall_s": round(time.perf_counter() - t0, 2),
            "cpu_s": round(time.process_time() - c0, 2),
        }
    return out


def run_compile() -> dict:
    """:func:`compile_stage` in a fresh process with an empty numba cache."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "compile.json"
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cache")}
        cmd = [sys.executable, __file__, "--stage", "compile", "--json-out", str(out)]
        subprocess.run(cmd, check=True, env=env, cwd=ROOT)
        return json.loads(out.read_text(encoding="utf-8"))


def run_province(quick: bool, workers: int, **options) -> dict:
    """:func:`province_stage` in a fresh process with an empty numba cache (so ``compile_s``
    is a cold compile and the peak RSS is that run's own)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "province.json"
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cache")}  # a real compile
        cmd = [sys.executable, __file__, "--stage", "province", "--workers", str(workers)]
        cmd += ["--json-out", str(out)]
        flags = {
            "resolution_m": "--resolution",
            "max_radius_m": "--max-radius",
            "memory_budget_mb": "--memory-budget-mb",
        }
        for key, flag in flags.items():
            if options.get(key) is not None:
                cmd += [flag, str(options[key])]
        if options.get("with_dem"):
            cmd.append("--dem")
        if quick:
            cmd.append("--quick")
        subprocess.run(cmd, check=True, env=env, cwd=ROOT)
        return json.loads(out.read_text(encoding="utf-8"))


def print_province(prov: dict, target: str) -> None:
    label = "Quanzhou-sized corner (quick)" if prov["sites"] < 114_000 else "synthetic Fujian"
    terrain = f", DEM: {prov['dem']}, max_radius_m {prov['max_radius_m']:g}" if prov["dem"] else ""
    print(
        f"\nProvince scale: {label}, {prov['sites']:,} sites / {prov['cells']:,} cells, grid "
        f"{prov['grid']} ({prov['pixels'] / 1e6:.1f} M pixels){terrain}, {prov['workers']} threads"
    )
    print(
        f"  wall {prov['wall_s']} s (compile {prov['compile_s']} s, prepare {prov['prepare_s']} s, "
        f"tiles {prov['compute_s']} s), CPU {prov['cpu_s']} s; {target}"
    )
    print(
        f"  {prov['evaluations']:,} evaluations, {prov['evaluations_per_s']:,.0f} evaluations/s, "
        f"{prov['cpu_ns_per_evaluation']} ns CPU per evaluation, {prov['tiles']} tiles"
    )
    disk = (
        f"; outputs memory-mapped, {prov['disk_mb']:.0f} MiB on disk"
        if prov["memmap_outputs"]
        else ""
    )
    print(
        f"  peak RSS {prov['peak_rss_mb']:.0f} MiB (inputs alone "
        f"{prov['peak_rss_mb_before_coverage']:.0f} MiB){disk}"
    )
    print(
        f"  served {prov['served_share_of_bbox']:.1%} / covered {prov['covered_share_of_bbox']:.1%} "
        "of the bounding box"
    )


def print_dem(dem: dict) -> None:
    print(
        f"\nWith a DEM ({dem['grid']}, {dem['cells']} cells, model auto, max_radius_m 5 km, synthetic "
        f"relief {dem['relief_m']:.0f} m, {dem['workers']} threads)"
    )
    print(
        f"  {'engine':<22}{'evaluations':>14}{'seconds':>10}{'evaluations/s':>16}{'CPU ns/eval':>13}"
    )
    for name, r in dem["runs"].items():
        print(
            f"  {name:<22}{r['evaluations']:>14,}{r['compute_s']:>10.2f}{r['evaluations_per_s']:>16,}"
            f"{r['cpu_ns_per_evaluation']:>13}"
        )
    print(
        f"  no-DEM / horizon speed: {dem['speed_ratio_no_dem_over_horizon']}× (target ≤ ~3×); "
        f"horizon / profile speed: {dem['speed_ratio_horizon_over_profile']}× "
        f"(wall {dem['wall_ratio_profile_over_horizon']}×)"
    )
    a = dem["horizon_vs_profile"]
    print(
        f"  horizon vs profile rasters: covered differs {a['covered_differs_share']:.3%}, server "
        f"{a['server_differs_share']:.3%}; best RSRP |Δ| > 1 dB {a['best_rsrp_over_1db_share']:.3%} "
        f"(mean {a['best_rsrp_mean_abs_db']} dB, max {a['best_rsrp_max_abs_db']} dB)"
    )
    t = dem["terrain_per_cell_pixel"]
    print(
        f"  per cell-pixel ({t['cell_pixels']:,}): NLOS {t['nlos_share_profile']:.1%} (profile) / "
        f"{t['nlos_share_horizon']:.1%} (horizon), same LOS/NLOS {t['same_los_class_share']:.2%}, "
        f"diffraction loss |Δ| > 1 dB {t['loss_over_1db_share']:.2%}, > 3 dB {t['loss_over_3db_share']:.2%}"
    )
    f = dem["footprints"]
    print(
        f"  cell_footprints, {f['cells']} cells: horizon {f['horizon_s']} s ({f['horizon_cells_per_s']} cells/s), "
        f"profile {f['profile_s']} s ({f['ratio_profile_over_horizon']}×)"
    )
    print(f"  peak RSS {dem['peak_rss_mb']:.0f} MiB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small version (seconds)")
    ap.add_argument(
        "--workers", type=int, default=2, help="threads for the numba engine (default 2)"
    )
    ap.add_argument(
        "--stage",
        choices=["compare", "province", "dem", "compile", "tiles", "all"],
        default="all",
    )
    ap.add_argument("--json-out", default="", help=argparse.SUPPRESS)
    ap.add_argument(
        "--resolution", type=float, default=100.0, help="province stage only: grid resolution (m)"
    )
    ap.add_argument("--dem", action="store_true", help="province stage only: with a synthetic DEM")
    ap.add_argument("--max-radius", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--memory-budget-mb", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.stage == "province":
        out = province_stage(
            args.quick,
            args.workers,
            args.resolution,
            args.dem,
            args.max_radius,
            args.memory_budget_mb,
        )
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(out), encoding="utf-8")
        else:
            print(json.dumps(out, indent=2))
        return 0
    if args.stage == "compile":
        out = compile_stage()
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(out), encoding="utf-8")
        else:
            print(json.dumps(out, indent=2))
        return 0
    if args.stage == "compare":
        print(json.dumps(compare_stage(args.quick, args.workers), indent=2))
        return 0
    if args.stage == "dem":
        dem = dem_stage(args.quick, args.workers)
        print_dem(dem)
        return 0
    if args.stage == "tiles":
        print_tiles(tiles_stage(args.quick, args.workers))
        return 0

    cmp = compare_stage(args.quick, args.workers)
    print(
        f"\nSame inputs ({cmp['grid']}, {cmp['cells']} cells, model auto, {cmp['evaluations']:,} evaluations)"
    )
    print(f"  {'engine':<28}{'seconds':>10}{'evaluations/s':>18}")
    print(
        f"  {'numba, ' + str(args.workers) + ' threads':<28}{cmp['numba_s']:>10.3f}{cmp['numba_evals_per_s']:>18,}"
    )
    print(
        f"  {'numba, 1 thread':<28}{cmp['numba_1worker_s']:>10.3f}{cmp['numba_1worker_evals_per_s']:>18,}"
    )
    print(f"  {'NumPy':<28}{cmp['numpy_s']:>10.3f}{cmp['numpy_evals_per_s']:>18,}")
    print(
        f"  ratio numba/NumPy (wall): {cmp['ratio']}× ({args.workers} threads), {cmp['ratio_1worker']}× (1 thread); target ≥ 30× on 2 cores"
    )
    print(
        f"  CPU time per evaluation: numba {cmp['cpu_ns_per_evaluation']['numba']} ns, NumPy "
        f"{cmp['cpu_ns_per_evaluation']['numpy']} ns → {cmp['ratio_cpu_time_per_core']}× per core; "
        f"thread speed-up {cmp['numba_1worker_s'] / cmp['numba_s']:.2f}× on {args.workers} threads"
    )
    a = cmp["agreement"]
    print(
        f"  agreement with NumPy: max |ΔRSRP| {a['max_abs_rsrp_db']:.2e} dB, max |ΔSINR| "
        f"{a['max_abs_sinr_db_away_from_ties']:.2e} dB away from ties ({a['max_abs_sinr_db']:.2e} "
        f"everywhere); {a['near_tie_or_threshold_pixels']:,} of {a['served_pixels']:,} served "
        f"pixels within {NEAR_DB} dB of a tie or threshold, where server differs on "
        f"{a['server_differs']} and covered on {a['covered_differs']} (none elsewhere)"
    )
    print(
        f"  CPU ratio on 2 cores (NumPy CPU / (numba CPU / 2)): {cmp['ratio_cpu_time_2_cores']}×"
        " (target ≥ 30×, ≤ 7 ns CPU per evaluation)"
    )

    comp = run_compile()
    print("\nCold compile into an empty numba cache (wall / CPU seconds; target < 10 s):")
    print(
        "  "
        + ", ".join(f"{k} {v['wall_s']} / {v['cpu_s']}" for k, v in comp.items())
        + " (serial = the tile kernel without a DEM, what a run without terrain compiles; dem ="
        " the tile kernel with one)"
    )
    prov = run_province(args.quick, args.workers)
    print_province(prov, "target < 120 s, < 4096 MiB")
    # The same province at 30 m with a DEM (horizon method), max_radius_m 5 km as in the demo;
    # the outputs as memory-mapped files (a [compute] memory_budget_mb of 2048).
    prov30 = run_province(
        args.quick,
        args.workers,
        resolution_m=30.0,
        with_dem=True,
        max_radius_m=5000.0,
        memory_budget_mb=2048.0,
    )
    print_province(prov30, "target < 300 s, < 8192 MiB")
    dem = dem_stage(args.quick, args.workers)
    print_dem(dem)
    tiles = tiles_stage(args.quick, args.workers)
    print_tiles(tiles)
    figures = {
        "quick": args.quick,
        "cpu_count": os.cpu_count(),
        "note": "timings depend on machine load; the ratio is measured in the same run on the same inputs; "
        "cpu_* figures use process CPU time (all threads), which a busy machine distorts less than wall time",
        "load_average_at_end": os.getloadavg(),
        "compare": cmp,
        "province": prov,
        "province_30m_dem": prov30,
        "cold_compile": comp,
        "dem": dem,
        "tiles": tiles,
    }
    path = save("radio", figures)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
