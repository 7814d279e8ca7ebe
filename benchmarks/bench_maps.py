"""Benchmark: size and build time of a Quanzhou-demo-scale map, and its load time in Chromium.

A seeded synthetic run of the demo's scale: the 12 real Quanzhou county-level units and the city
(data/boundaries/fujian.gpkg), 2,000 villages (Voronoi cells with jittered edges, so their outlines
carry about as many vertices as surveyed ones), 43,000 sites with 1–4 cells each, a 100 m RSRP
raster of the whole city (~150 × 175 km) with per-pixel shadowing noise, 100 key places and 6
roads, compliance rows for two standards, 50 weak-coverage areas and 100 recommended sites.

Reference, measured on the same run: the naive embedding folium would produce on its own —
the RGBA PNG of ``folium.ImageOverlay`` from an array, full-precision unsimplified GeoJSON
(``GeoDataFrame.to_json``), and a ready-made popup per site. The table shows our bytes per layer
and the ratio to that reference.

Usage: python benchmarks/bench_maps.py [--quick] [--no-browser]
"""

from __future__ import annotations

import argparse
import html
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from _common import peak_rss_mb, save

from gigacov.crs import metric_crs_for
from gigacov.grid import Grid
from gigacov.ingest.model import Inputs
from gigacov.maps import build_map, render_map
from gigacov.radio.result import CoverageResult, RadioParams
from gigacov.run_result import RunResult
from gigacov.scenario import default_boundaries_path, scenario_from_dict

REPO = Path(__file__).resolve().parents[1]


def _jitter(geom, rng, spacing_m: float, amp_m: float, to_m, to_deg):
    """Segmentize a WGS84 polygon at ``spacing_m`` and jitter its vertices by ±``amp_m``.

    The offset is a hash of the vertex position, so a vertex shared by two polygons (or closing a
    ring) moves the same way in both.
    """

    def _hash_jitter(c: np.ndarray) -> np.ndarray:
        r = np.round(c, 1)
        h1 = np.modf(np.abs(np.sin(r[:, 0] * 12.9898 + r[:, 1] * 78.233)) * 43758.5453)[0]
        h2 = np.modf(np.abs(np.sin(r[:, 0] * 39.3468 + r[:, 1] * 11.135)) * 24634.6345)[0]
        return c + amp_m * (2.0 * np.column_stack([h1, h2]) - 1.0)

    g = shapely.transform(geom, to_m)
    g = shapely.segmentize(g, spacing_m)
    g = shapely.transform(g, _hash_jitter)
    g = shapely.make_valid(g)
    return shapely.transform(g, to_deg)


def demo_scale_run(scale: float = 1.0, seed: int = 2024) -> RunResult:
    rng = np.random.default_rng(seed)
    b = gpd.read_file(default_boundaries_path())
    b = b[b["admin_code"].str.startswith("3505")].reset_index(drop=True)
    counties = b[b["level"] == "county"].reset_index(drop=True)
    city = b[b["level"] == "city"].reset_index(drop=True)
    utm = metric_crs_for(tuple(counties.total_bounds))
    fwd = pyproj.Transformer.from_crs(4326, utm, always_xy=True)
    inv = pyproj.Transformer.from_crs(utm, 4326, always_xy=True)
    to_m = lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1]))  # noqa: E731
    to_deg = lambda c: np.column_stack(inv.transform(c[:, 0], c[:, 1]))  # noqa: E731
    cm = counties.to_crs(utm)
    region = cm.geometry.union_all()
    minx, miny, maxx, maxy = region.bounds

    # Villages: Voronoi cells of random seeds, clipped to their county, edges jittered.
    n_villages = int(2000 * scale)
    pts = []
    while len(pts) < n_villages:
        x = rng.uniform(minx, maxx, 4 * n_villages)
        y = rng.uniform(miny, maxy, 4 * n_villages)
        ok = shapely.contains_xy(region, x, y)
        pts.extend(zip(x[ok], y[ok], strict=True))
    pts = np.array(pts[:n_villages])
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.MultiPoint(pts), extend_to=shapely.box(minx, miny, maxx, maxy)
        )
    )
    tree = shapely.STRtree(cells)
    village_rows = []
    county_idx = np.full(len(pts), -1)
    for ci, cg in enumerate(cm.geometry):
        county_idx[shapely.contains_xy(cg, pts[:, 0], pts[:, 1])] = ci
    for i, (x, y) in enumerate(pts):
        cell = cells[tree.query(shapely.Point(x, y), predicate="intersects")[0]]
        ci = max(county_idx[i], 0)
        geom = shapely.intersection(cell, cm.geometry.iloc[ci])
        geom = shapely.transform(geom, to_deg)
        geom = _jitter(geom, rng, 100.0, 20.0, to_m, to_deg)
        code = counties.at[ci, "admin_code"]
        village_rows.append(
            dict(
                admin_code=f"{code}{i:06d}",
                name=f"合成村{i:04d}",
                name_en="",
                level="village",
                parent_code=code,
                geometry=geom,
            )
        )
    villages = gpd.GeoDataFrame(village_rows, crs=4326)
    villages = villages.assign(
        village_reach_5g=(rng.random(len(villages)) < 0.9).astype(float),
        household_gigabit_coverage=rng.uniform(0.3, 1.0, len(villages)),
        pop_coverage_5g=rng.uniform(0.2, 1.0, len(villages)),
        households=rng.integers(100, 3000, len(villages)).astype(float),
    )

    # Sites and cells.
    n_sites = int(43_000 * scale)
    sx, sy = [], []
    while len(sx) < n_sites:
        # Denser near the coast (east): a simple density gradient.
        x = minx + (maxx - minx) * np.sqrt(rng.random(2 * n_sites))
        y = rng.uniform(miny, maxy, 2 * n_sites)
        ok = shapely.contains_xy(region, x, y)
        sx.extend(x[ok])
        sy.extend(y[ok])
    sx, sy = np.array(sx[:n_sites]), np.array(sy[:n_sites])
    slon, slat = inv.transform(sx, sy)
    is5 = rng.random(n_sites) < 0.5
    ops = np.array(["China Mobile", "China Telecom", "China Unicom", "China Broadnet"])
    ncell = rng.integers(1, 5, n_sites)
    rep = np.repeat(np.arange(n_sites), ncell)
    k = np.concatenate([np.arange(n) for n in ncell])
    site_id = np.char.add("QZ", np.char.zfill(rep.astype(str), 6))
    cells_df = pd.DataFrame(
        {
            "site_id": site_id,
            "cell_id": np.char.add(np.char.add(site_id, "-"), k.astype(str)),
            "name": "",
            "lon": slon[rep],
            "lat": slat[rep],
            "tech": np.where(is5[rep], "5G", "4G"),
            "operator": ops[rep % 4],
            "freq_mhz": np.where(is5[rep], 3500.0, 1800.0),
            "bandwidth_mhz": np.where(is5[rep], 100.0, 20.0),
            "azimuth_deg": np.where(
                ncell[rep] == 1, np.nan, (k * 120.0 + rng.integers(0, 40, len(rep))) % 360
            ),
            "height_m": np.round(rng.uniform(15, 45, len(rep)), 1),
            "tilt_deg": rng.integers(2, 10, len(rep)).astype(float),
            "eirp_dbm": np.where(is5[rep], 61.0, 55.0),
        }
    )

    # RSRP raster: best of every 5G site within 3 km, plus shadowing noise.
    grid = Grid.for_geometries(counties, 100.0, utm)
    rsrp = np.full(grid.shape, -np.inf, dtype=np.float32)
    res, x0, y1 = grid.resolution_m, grid.transform.c, grid.transform.f
    rad = int(3000 / res)
    off = (np.arange(-rad, rad + 1) + 0.0) * res
    dd = np.hypot(off[None, :], off[:, None])
    base = (-60.0 - 35.0 * np.log10(np.maximum(dd, 30.0) / 100.0)).astype(np.float32)
    for x, y, e in zip(sx[is5], sy[is5], rng.normal(0.0, 3.0, int(is5.sum())), strict=True):
        c = int((x - x0) / res)
        r = int((y1 - y) / res)
        r0, r1, c0, c1 = (
            max(r - rad, 0),
            min(r + rad + 1, grid.height),
            max(c - rad, 0),
            min(c + rad + 1, grid.width),
        )
        if r0 >= r1 or c0 >= c1:
            continue
        win = base[r0 - (r - rad) : r1 - (r - rad), c0 - (c - rad) : c1 - (c - rad)] + np.float32(e)
        np.maximum(rsrp[r0:r1, c0:c1], win, out=rsrp[r0:r1, c0:c1])
    rsrp += rng.normal(0.0, 2.0, grid.shape).astype(np.float32)
    rsrp[~np.isfinite(rsrp) | (rsrp < -125)] = np.nan
    with np.errstate(invalid="ignore"):
        covered = (rsrp >= -105).astype(np.uint8)
    cov = CoverageResult(
        "5G",
        grid,
        rsrp,
        np.zeros_like(rsrp),
        np.zeros(grid.shape, np.int32),
        covered,
        pd.DataFrame(),
        RadioParams(),
    )

    # Indicators, compliance, key places, plan.
    cnt = counties.assign(
        population=rng.uniform(2e5, 2e6, len(counties)),
        pop_coverage_5g=rng.uniform(0.6, 1, len(counties)),
        sites_5g_per_10k=rng.uniform(8, 30, len(counties)),
        key_place_reach_5g=rng.uniform(0.8, 1, len(counties)),
        household_gigabit_coverage=rng.uniform(0.6, 1, len(counties)),
        pon_10g_share=rng.uniform(0.2, 0.6, len(counties)),
        users_500m_share=rng.uniform(0.2, 0.4, len(counties)),
        users_5g_share=rng.uniform(0.3, 0.6, len(counties)),
        village_reach_5g=rng.uniform(0.7, 1, len(counties)),
    )
    ind_keys = [
        "pop_coverage_5g",
        "sites_5g_per_10k",
        "key_place_reach_5g",
        "household_gigabit_coverage",
        "pon_10g_share",
        "users_500m_share",
        "users_5g_share",
    ]
    thr = {
        "sites_5g_per_10k": 12.0,
        "pon_10g_share": 0.3,
        "users_500m_share": 0.3,
        "users_5g_share": 0.25,
        "key_place_reach_5g": 0.95,
        "household_gigabit_coverage": 0.8,
        "pop_coverage_5g": 0.9,
    }
    rows = []
    for std in ("bench-gigabit-city", "bench-targets"):
        for _, u in pd.concat([cnt, city.assign(**{k: 0.5 for k in ind_keys})]).iterrows():
            for key in ind_keys:
                v = float(u[key])
                ok = v >= thr[key]
                rows.append(
                    dict(
                        admin_code=u["admin_code"],
                        name=u["name"],
                        level=u["level"],
                        standard=std,
                        indicator=key,
                        value=v,
                        op=">=",
                        threshold=thr[key],
                        status="pass" if ok else "fail",
                        margin=v - thr[key],
                        shortfall=np.nan if ok else 10.0,
                        shortfall_unit="sites",
                    )
                )
    kp_x = rng.uniform(minx, maxx, int(100 * scale) + 1)
    kp_y = rng.uniform(miny, maxy, len(kp_x))
    kp_lon, kp_lat = inv.transform(kp_x, kp_y)
    cats = np.array(["hospital", "university", "tourism", "railway", "airport"])
    places = [
        dict(
            place_id=f"K{i}",
            name=f"重点场所{i}",
            category=cats[i % 5],
            admin_code="",
            approximate=False,
            reached_5g=bool(rng.random() < 0.9),
            covered_share_5g=1.0,
            rsrp_dbm=-90.0,
            longest_gap_m=np.nan,
            geometry=shapely.Point(kp_lon[i], kp_lat[i]),
        )
        for i in range(len(kp_x))
    ]
    for j in range(6):
        xs = np.linspace(minx, maxx, 40)
        ys = miny + (maxy - miny) * (0.15 + 0.13 * j) + 8000 * np.sin(xs / 20000.0 + j)
        lo, la = inv.transform(xs, ys)
        places.append(
            dict(
                place_id=f"R{j}",
                name=f"高速{j}",
                category="road",
                admin_code="",
                approximate=False,
                reached_5g=False,
                covered_share_5g=0.8,
                rsrp_dbm=np.nan,
                longest_gap_m=3000.0,
                geometry=shapely.LineString(np.column_stack([lo, la])),
            )
        )
    key_places = gpd.GeoDataFrame(places, crs=4326)
    gx = rng.uniform(minx, maxx, 50)
    gy = rng.uniform(miny, maxy, 50)
    gaps = gpd.GeoDataFrame(
        dict(
            population=rng.uniform(100, 5000, 50),
            area_km2=rng.uniform(0.5, 5, 50),
            admin_code=counties["admin_code"].iloc[0],
            nearest_site_id="QZ000001",
            nearest_site_m=1500.0,
            rank=np.arange(1, 51),
        ),
        geometry=[
            shapely.transform(
                _jitter(
                    shapely.transform(shapely.Point(x, y).buffer(800.0), to_deg),
                    rng,
                    100.0,
                    30.0,
                    to_m,
                    to_deg,
                ),
                lambda c: c,
            )
            for x, y in zip(gx, gy, strict=True)
        ],
        crs=4326,
    )
    rx, ry = inv.transform(rng.uniform(minx, maxx, 100), rng.uniform(miny, maxy, 100))
    recommended = gpd.GeoDataFrame(
        dict(
            county=counties["admin_code"].iloc[0],
            rank=np.arange(1, 101),
            added_population=500.0,
            added_key_places=0,
            added_villages=1,
            height_m=30.0,
            sectors=3,
            freq_mhz=3500.0,
        ),
        geometry=gpd.points_from_xy(rx, ry),
        crs=4326,
    )

    scn = scenario_from_dict(
        {
            "scenario": {
                "name": "bench-maps",
                "year": 2024,
                "synthetic": True,
                "title": "Quanzhou-scale benchmark",
                "standards": ["bench-gigabit-city", "bench-targets"],
            },
            "sites": {"path": "sites.csv"},
        }
    )
    boundaries = pd.concat(
        [b, villages[["admin_code", "name", "name_en", "level", "parent_code", "geometry"]]],
        ignore_index=True,
    )
    inputs = Inputs(scenario=scn, boundaries=gpd.GeoDataFrame(boundaries, crs=4326), cells=cells_df)
    indicators = SimpleNamespace(
        units={"county": cnt, "city": city, "village": villages},
        key_places=key_places,
        definitions=None,
    )
    return RunResult(
        scenario=scn,
        run_dir=Path("."),
        inputs=inputs,
        grid=grid,
        coverage={"5G": cov},
        indicators=indicators,
        compliance=pd.DataFrame(rows),
        plan=SimpleNamespace(gaps=gaps, recommended=recommended),
    )


def naive_sizes(run: RunResult) -> dict[str, int]:
    """Bytes the same layers take when embedded the plain folium way."""
    from folium.utilities import image_to_url

    from gigacov.maps.raster import RSRP_CLASSES, rsrp_classes, warp_to_web_mercator

    cov = run.coverage["5G"]
    warped = warp_to_web_mercator(rsrp_classes(cov.rsrp_dbm), cov.grid)
    lut = np.zeros((256, 4), dtype=np.uint8)
    for v, c, _ in RSRP_CLASSES:
        c = c.lstrip("#")
        lut[v] = [int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), 255]
    rgba = lut[warped.classes]
    units = run.indicators.units
    cells = run.inputs.cells
    per_site_popup = 0
    for sid, g in cells.groupby("site_id", sort=False):
        rows = "".join(
            f"<tr><td>{html.escape(str(r.cell_id))}</td><td>{r.tech}</td><td>{r.freq_mhz}</td><td>{r.azimuth_deg}</td>"
            f"<td>{r.height_m}</td><td>{r.tilt_deg}</td><td>{html.escape(str(r.operator))}</td></tr>"
            for r in g.itertuples()
        )
        per_site_popup += (
            len(f"<b>{html.escape(sid)}</b><table>{rows}</table>") + 60
        )  # + marker JS per site
    return {
        "coverage_5g": len(image_to_url(rgba)),
        "units_county": len(units["county"].to_json()),
        "units_city": len(units["city"].to_json()),
        "villages": len(units["village"].to_json()),
        "sites": per_site_popup,
    }


def browser_load(path: Path) -> dict[str, float] | None:
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return None
    sys.path.insert(0, str(REPO / "tests"))
    from browser import chromium_page

    with chromium_page(block_network=True) as page:
        t0 = time.perf_counter()
        page.goto(path.resolve().as_uri(), timeout=120_000)
        page.wait_for_function("() => window.gigacov && gigacov.ready === true", timeout=120_000)
        wall = (time.perf_counter() - t0) * 1000
        ready = page.evaluate("() => gigacov.readyAt")
        stats = page.evaluate("() => gigacov.siteStats.sites_5g")
        t1 = page.evaluate("() => performance.now()")
        page.evaluate("() => { gigacov.map.setZoom(gigacov.map.getZoom() + 2, {animate: false}); }")
        zoom_ms = page.evaluate("(t) => performance.now() - t", t1)
        markers = page.evaluate("() => document.querySelectorAll('.leaflet-marker-icon').length")
        errors = list(page.errors)
    return {
        "ready_ms": round(ready, 1),
        "wall_ms": round(wall, 1),
        "cluster_redraw_ms": round(stats["lastMs"], 2),
        "zoom_in_ms": round(zoom_ms, 1),
        "dom_markers": markers,
        "js_errors": len(errors),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a tenth of the demo's scale")
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium load measurement")
    args = ap.parse_args()
    scale = 0.1 if args.quick else 1.0

    t0 = time.perf_counter()
    run = demo_scale_run(scale)
    gen_s = time.perf_counter() - t0
    cov = run.coverage["5G"]
    print(
        f"synthetic run: {len(run.indicators.units['village'])} villages, {run.inputs.cells['site_id'].nunique()} sites, "
        f"{len(run.inputs.cells)} cells, raster {cov.grid.width}×{cov.grid.height} at {cov.grid.resolution_m:g} m "
        f"(built in {gen_s:.1f} s)"
    )

    render_map(run, offline=False)  # warm: imports, numba-cached GCJ kernels, templates
    t1 = time.perf_counter()
    online = render_map(run, offline=False)
    online_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    offline = render_map(run, offline=True, basemap="none")
    offline_s = time.perf_counter() - t2
    t3 = time.perf_counter()
    amap = render_map(run, offline=False, basemap="amap")
    amap_s = time.perf_counter() - t3
    naive = naive_sizes(run)

    total_online = len(online.html.encode("utf-8"))
    total_offline = len(offline.html.encode("utf-8"))
    print(f"\n{'layer':<18}{'ours (MB)':>11}{'naive folium (MB)':>19}{'ratio':>8}")
    for key, size in sorted(online.layer_bytes.items(), key=lambda kv: -kv[1]):
        ref = naive.get(key)
        print(
            f"{key:<18}{size / 1e6:>11.3f}{'' if ref is None else f'{ref / 1e6:>19.3f}':>19}"
            f"{'' if ref is None else f'{size / ref:>8.3f}':>8}"
        )
    total_amap = len(amap.html.encode("utf-8"))
    print(
        f"\nwhole page: online {total_online / 1e6:.2f} MB, offline {total_offline / 1e6:.2f} MB, "
        f"amap {total_amap / 1e6:.2f} MB (limit 15 MB)"
    )
    print(
        f"render_map: online {online_s:.2f} s, offline {offline_s:.2f} s, amap (GCJ-02 shift) {amap_s:.2f} s; "
        f"raster part {online.timings['raster_s']:.2f} s"
    )

    load = None
    if not args.no_browser:
        with tempfile.TemporaryDirectory() as tmp:
            path = build_map(run, Path(tmp) / "bench.html", offline=True, basemap="none")
            load = browser_load(path)
        if load:
            print(
                f"Chromium: ready {load['ready_ms']} ms after navigation start (wall {load['wall_ms']} ms), "
                f"cluster redraw {load['cluster_redraw_ms']} ms, zoom +2 {load['zoom_in_ms']} ms, "
                f"{load['dom_markers']} DOM markers, {load['js_errors']} JS errors"
            )
    print(f"peak memory: {peak_rss_mb():.0f} MiB")

    figures = {
        "scale": scale,
        "villages": int(len(run.indicators.units["village"])),
        "sites": int(run.inputs.cells["site_id"].nunique()),
        "cells": int(len(run.inputs.cells)),
        "raster_px": [cov.grid.width, cov.grid.height],
        "page_mb_online": round(total_online / 1e6, 3),
        "page_mb_offline": round(total_offline / 1e6, 3),
        "page_mb_amap": round(total_amap / 1e6, 3),
        "layer_mb": {k: round(v / 1e6, 4) for k, v in online.layer_bytes.items()},
        "naive_mb": {k: round(v / 1e6, 4) for k, v in naive.items()},
        "ratio_to_naive": {
            k: round(online.layer_bytes[k] / v, 4)
            for k, v in naive.items()
            if k in online.layer_bytes
        },
        "render_s": {
            "online": round(online_s, 3),
            "offline": round(offline_s, 3),
            "amap": round(amap_s, 3),
        },
        "browser": load,
        "peak_rss_mib": round(peak_rss_mb(), 1),
        "note": "timings on a shared 2-core machine",
    }
    print(f"wrote {save('maps', figures)}")


if __name__ == "__main__":
    main()
