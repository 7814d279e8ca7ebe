"""Synthetic 5G / 4G sites and cells, written the way an operator export looks (GBK CSV).

Placement (5G), per county, on the fixed 200 m model grid:

1. **key places** — a site within ~250 m of every key place designed to be reached (one per
   1.5 km² of a polygon place) and one every kilometre along the key roads;
2. **villages** — a site near the settlement centre of every village designed to be reached;
3. **the rest** of the county's designed count, drawn in proportion to population.

德化县's villages more than :data:`DEHUA_5G_RADIUS_M` from the county seat get no 5G site, and no
5G site stands within :data:`EXCLUSION_M` of 九仙山: the villages and the scenic area beyond the
radio model's cut-off radius cannot be reached, whatever the propagation model. 4G covers
everything (a site at three villages in four, the rest by population).

Commissioning years: 5G 2019–2024 (each county's designed share in 2024), 4G 2014–2024, mostly
before 2020. The sites' radio values (operator, band, heights, EIRP, years, names) are drawn in
:mod:`gigacov.demo.site_radio`; the operator's export (cells, bad rows, GBK CSV) is written by
:mod:`gigacov.demo.site_export`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from .design import COUNTIES, SITES_4G_TOTAL, UNREACHABLE_M, CountyDesign
from .fields import MODEL_RES_M, Region
from .key_places import KeyPlace
from .site_export import BAD_ROW_SHARE, SITE_COLUMNS_ZH, cells_table, export_rows, write_export
from .site_radio import site_attributes
from .villages import Villages

__all__ = [
    "SiteTable",
    "build_sites",
    "cells_table",
    "export_rows",
    "write_export",
    "SITE_COLUMNS_ZH",
    "DEHUA_5G_RADIUS_M",
    "EXCLUSION_M",
    "BAD_ROW_SHARE",
    "designed_5g_counts",
    "designed_4g_counts",
]

log = logging.getLogger(__name__)

#: 德化县: 5G only for villages within this distance of the county seat (metres).
DEHUA_5G_RADIUS_M = 12_000.0
#: No 5G site within this distance of the designed-unreached key place (metres): more than
#: :data:`~gigacov.demo.design.UNREACHABLE_M` (15 km, gigacov's default cut-off radius).
EXCLUSION_M = 16_500.0
ROAD_SITE_SPACING_M = 1000.0


@dataclass
class SiteTable:
    """One row per site (both technologies), metric coordinates, and the designed gaps.

    ``sites`` columns: site_id, tech, county, x, y, lon, lat, env, kind, year, month, day,
    operator, band, sectors, height_m, tilt_deg, eirp_dbm, bandwidth_mhz, scs_khz, azimuth0,
    bearing, village (index or -1), name.
    """

    sites: pd.DataFrame
    village_5g: np.ndarray
    """Per village: True if designed to be reached by 5G (a 5G site was placed for it)."""
    unreachable_villages: np.ndarray
    """Per village: True if no 5G site lies within 15 km of its polygon — out of reach under any
    propagation model with a cut-off radius up to gigacov's default (the demo uses 5 km)."""


def designed_5g_counts(scale: float) -> dict[str, int]:
    """Designed 5G sites per county at ``scale`` (before anchors can push a count up)."""
    return {c.code: int(round(c.sites_5g_per_10k * c.population_10k * scale)) for c in COUNTIES}


def designed_4g_counts(scale: float) -> dict[str, int]:
    """4G sites per county: 25,000 × scale shared by population^0.75 × area-weight^0.25."""
    w = np.array([c.population_10k**0.75 * c.villages**0.25 for c in COUNTIES])
    n = np.round(SITES_4G_TOTAL * scale * w / w.sum()).astype(int)
    return {c.code: int(k) for c, k in zip(COUNTIES, n, strict=True)}


def _offset_inside(rng, x, y, rmin, rmax, geom, tries=30) -> tuple[float, float]:
    for _ in range(tries):
        r = rng.uniform(rmin, rmax)
        a = rng.uniform(0, 2 * math.pi)
        px, py = x + r * math.cos(a), y + r * math.sin(a)
        if shapely.contains_xy(geom, px, py):
            return px, py
    return x, y


def _county_at(region: Region, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.full(len(x), "", dtype=object)
    for code in region.counties_m.index:
        if code not in region.administered:
            continue
        geom = region.geometry_m(code)
        hit = shapely.contains_xy(geom, x, y) & (out == "")
        out[hit] = code
    return out


def build_sites(
    rng: np.random.Generator,
    region: Region,
    villages: Villages,
    places: list[KeyPlace],
    pop200: np.ndarray,
    labels200: np.ndarray,
    village_of_pixel: np.ndarray,
    scale: float = 1.0,
) -> SiteTable:
    """Place the 5G and 4G sites and give them their radio parameters."""
    grid = region.grid(MODEL_RES_M)
    xc, yc = grid.centres()
    density = pop200 / (MODEL_RES_M**2 / 1e6)
    seat = {c.code: np.array(region.to_m(c.centres[0][0], c.centres[0][1])) for c in COUNTIES}
    unreached = [p for p in places if not p.served_5g]
    excl_geoms = [p.geometry_m for p in unreached]

    # Villages designed to be reached by 5G.
    n_v = len(villages.seeds_xy)
    village_5g = np.ones(n_v, dtype=bool)
    for i in range(n_v):
        c = villages.county[i]
        design = next(d for d in COUNTIES if d.code == c)
        if design.remote_villages_without_5g:
            d = np.hypot(*(villages.seeds_xy[i] - seat[c]))
            village_5g[i] = d <= DEHUA_5G_RADIUS_M
    # 5G-free zone: remote 德化 villages, and around the unreached key place.
    no5g_pix = np.isin(village_of_pixel, np.nonzero(~village_5g)[0])
    if excl_geoms:
        from rasterio.features import rasterize

        zone = shapely.union_all([shapely.buffer(g, EXCLUSION_M) for g in excl_geoms])
        no5g_pix |= rasterize(
            [(zone, 1)],
            out_shape=grid.shape,
            transform=grid.transform,
            fill=0,
            dtype="uint8",
            all_touched=True,
        ).astype(bool)

    def allowed_5g(x: float, y: float) -> bool:
        r, c = grid.rowcol(x, y)
        if not grid.contains_rowcol(r, c):
            return False
        return not bool(no5g_pix[int(r), int(c)])

    rows: list[dict] = []

    def add(tech, county, x, y, kind, village=-1, bearing=np.nan):
        rows.append(
            {
                "tech": tech,
                "county": county,
                "x": float(x),
                "y": float(y),
                "kind": kind,
                "village": int(village),
                "bearing": bearing,
            }
        )

    # --- 5G anchors: key places and roads ----------------------------------------------------
    for p in places:
        if not p.served_5g:
            continue
        g = p.geometry_m
        if g.geom_type == "LineString":
            n_pts = max(2, int(g.length // ROAD_SITE_SPACING_M) + 1)
            t = np.linspace(0, g.length, n_pts)
            pt = shapely.get_coordinates(shapely.line_interpolate_point(g, t))
            ahead = shapely.get_coordinates(
                shapely.line_interpolate_point(g, np.minimum(t + 50.0, g.length))
            )
            behind = shapely.get_coordinates(
                shapely.line_interpolate_point(g, np.maximum(t - 50.0, 0.0))
            )
            bearing = (
                np.degrees(np.arctan2(ahead[:, 0] - behind[:, 0], ahead[:, 1] - behind[:, 1])) % 360
            )
            off = rng.uniform(-120, 120, n_pts)
            x = pt[:, 0] + off * np.cos(np.radians(bearing))
            y = pt[:, 1] - off * np.sin(np.radians(bearing))
            county = _county_at(region, x, y)
            for xi, yi, ci, bi in zip(x, y, county, bearing, strict=True):
                if ci and allowed_5g(xi, yi):
                    add("5G", ci, xi, yi, "road", bearing=float(bi))
        else:
            n_s = max(1, int(math.ceil(g.area / 1.5e6))) if g.geom_type != "Point" else 1
            geom_c = region.geometry_m(p.county) if p.county else None
            cx, cy = g.centroid.x, g.centroid.y
            for _ in range(n_s):
                rmax = (
                    250.0
                    if g.geom_type == "Point"
                    else max(250.0, math.sqrt(g.area / math.pi) * 0.6)
                )
                x, y = (
                    _offset_inside(rng, cx, cy, 80.0, rmax, geom_c)
                    if geom_c is not None
                    else (cx, cy)
                )
                if p.county and allowed_5g(x, y):
                    add("5G", p.county, x, y, "keyplace")

    anchor_xy = np.array([[r["x"], r["y"]] for r in rows]) if rows else np.zeros((0, 2))
    # --- 5G anchors: villages ----------------------------------------------------------------
    for i in np.nonzero(village_5g)[0]:
        sx, sy = villages.seeds_xy[i]
        if len(anchor_xy) and np.min(np.hypot(anchor_xy[:, 0] - sx, anchor_xy[:, 1] - sy)) < 400.0:
            continue
        x, y = _offset_inside(rng, sx, sy, 0.0, 250.0, villages.polygons_m[i])
        if allowed_5g(x, y):
            add("5G", villages.county[i], x, y, "village", village=i)
        else:
            village_5g[i] = False

    # --- the rest, by population ---------------------------------------------------------------
    target5 = designed_5g_counts(scale)
    target4 = designed_4g_counts(scale)
    anchors_5g = pd.Series([r["county"] for r in rows if r["tech"] == "5G"]).value_counts()
    for idx, c in enumerate(COUNTIES, start=1):
        rr, cc = np.nonzero((labels200 == idx) & ~no5g_pix)
        need = target5[c.code] - int(anchors_5g.get(c.code, 0))
        if need < 0:
            log.info(
                "%s: %d 5G anchor sites exceed the designed %d at scale %g",
                c.name,
                target5[c.code] - need,
                target5[c.code],
                scale,
            )
        _sample(rng, region, c, rr, cc, xc, yc, pop200, max(need, 0), "5G", add, power=1.2)
    for i in range(n_v):
        if rng.random() < 0.75:
            sx, sy = villages.seeds_xy[i]
            x, y = _offset_inside(rng, sx, sy, 100.0, 400.0, villages.polygons_m[i])
            add("4G", villages.county[i], x, y, "village", village=i)
    anchors_4g = pd.Series([r["county"] for r in rows if r["tech"] == "4G"]).value_counts()
    for idx, c in enumerate(COUNTIES, start=1):
        rr, cc = np.nonzero(labels200 == idx)
        need = max(target4[c.code] - int(anchors_4g.get(c.code, 0)), 0)
        _sample(rng, region, c, rr, cc, xc, yc, pop200, need, "4G", add, power=0.9)

    sites = pd.DataFrame(rows)
    sites = site_attributes(rng, region, sites, grid, density, village_of_pixel, villages)
    unreachable = _unreachable(villages, sites)
    log.info(
        "sites: %d 5G, %d 4G; %d villages designed without 5G, %d out of reach",
        int((sites.tech == "5G").sum()),
        int((sites.tech == "4G").sum()),
        int((~village_5g).sum()),
        int(unreachable.sum()),
    )
    return SiteTable(sites=sites, village_5g=village_5g, unreachable_villages=unreachable)


def _sample(rng, region, c: CountyDesign, rr, cc, xc, yc, pop200, n, tech, add, power):
    if n <= 0 or len(rr) == 0:
        return
    w = pop200[rr, cc] ** power
    w = w / w.sum()
    geom = region.geometry_m(c.code)
    pick = rng.choice(len(rr), size=n, p=w)
    x = xc[cc[pick]] + rng.uniform(-0.5, 0.5, n) * MODEL_RES_M
    y = yc[rr[pick]] + rng.uniform(-0.5, 0.5, n) * MODEL_RES_M
    inside = shapely.contains_xy(geom, x, y)
    x = np.where(inside, x, xc[cc[pick]])  # pixel centres lie inside (centre rule)
    y = np.where(inside, y, yc[rr[pick]])
    for px, py in zip(x, y, strict=True):
        add(tech, c.code, px, py, "macro")


def _unreachable(
    villages: Villages, sites: pd.DataFrame, radius_m: float = UNREACHABLE_M
) -> np.ndarray:
    """Villages whose polygon is farther than ``radius_m`` from every 5G site (cannot be reached
    by a model with that cut-off). Polygons are simplified to 200 m for speed and the distance
    widened by the same 200 m, so the answer errs on the side of "reachable"."""
    s5 = sites[sites["tech"] == "5G"]
    pts = shapely.points(s5["x"].to_numpy(), s5["y"].to_numpy())
    tree = shapely.STRtree(pts)
    simple = shapely.simplify(np.asarray(villages.polygons_m, dtype=object), 200.0)
    (poly_idx, _), dist = tree.query_nearest(simple, return_distance=True, all_matches=False)
    nearest = np.full(len(simple), np.inf)
    nearest[poly_idx] = dist
    return nearest > radius_m + 200.0
