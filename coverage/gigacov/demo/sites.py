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
before 2020. Bands, bandwidths, EIRP and heights are typical of the Chinese operators: 5G n41
(2.6 GHz, China Mobile), n79 (4.9 GHz, China Mobile), n78 (3.5 GHz, China Telecom / China Unicom
shared network), n28 (700 MHz, China Broadnet / China Mobile); 4G B3 (1.8 GHz), B1 (2.1 GHz),
B8 (900 MHz).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from .design import COUNTIES, SITES_4G_TOTAL, UNREACHABLE_M, CountyDesign
from .fields import MODEL_RES_M, Region
from .key_places import KeyPlace
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
#: Share of rows in an export that are deliberately bad (≈ 0.1 %).
BAD_ROW_SHARE = 0.001
ROAD_SITE_SPACING_M = 1000.0

#: Export columns: canonical name (docs/design.md §4) → Chinese header as in an operator's export.
SITE_COLUMNS_ZH: dict[str, str] = {
    "site_id": "站号",
    "name": "站名",
    "cell_id": "小区ID",
    "cell_name": "小区名称",
    "county": "区县",
    "lon": "经度",
    "lat": "纬度",
    "tech": "制式",
    "operator": "运营商",
    "band": "频段",
    "bandwidth_mhz": "带宽(MHz)",
    "scs_khz": "子载波间隔(kHz)",
    "azimuth_deg": "方位角",
    "beamwidth_deg": "水平波瓣宽度",
    "height_m": "挂高(m)",
    "tilt_deg": "下倾角",
    "eirp_dbm": "EIRP(dBm)",
    "commissioned": "开通时间",
    "site_type": "站型",
}

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
_SITE_TYPE = {
    "macro": "宏站",
    "small": "微站",
    "road": "道路覆盖",
    "keyplace": "重点场所",
    "village": "农村覆盖",
}


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


def _pick(rng: np.random.Generator, mix, n: int) -> list[tuple[str, str]]:
    opts = [m[0] for m in mix]
    p = np.array([m[1] for m in mix])
    idx = rng.choice(len(opts), size=n, p=p / p.sum())
    return [opts[i] for i in idx]


def _env(density_per_km2: np.ndarray) -> np.ndarray:
    return np.where(
        density_per_km2 >= 3000, "urban", np.where(density_per_km2 >= 300, "suburban", "rural")
    )


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
    sites = _attributes(rng, region, sites, grid, density, village_of_pixel, villages)
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


def _attributes(
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


def cells_table(rng: np.random.Generator, sites: pd.DataFrame) -> pd.DataFrame:
    """One row per cell (sector) with the export's canonical columns."""
    reps = sites["sectors"].to_numpy()
    idx = np.repeat(np.arange(len(sites)), reps)
    k = np.concatenate([np.arange(1, r + 1) for r in reps]) if len(reps) else np.array([], int)
    s = sites.iloc[idx].reset_index(drop=True)
    n = len(s)
    jitter = rng.uniform(-10, 10, n)
    az = (
        np.where(
            s["kind"].to_numpy() == "road",
            s["bearing"].to_numpy() + 180.0 * (k - 1),
            s["azimuth0"].to_numpy()
            + (k - 1) * np.where(s["sectors"].to_numpy() == 2, 180.0, 120.0),
        )
        + jitter
    )
    az = np.round(np.mod(az, 360.0))
    omni = s["kind"].to_numpy() == "small"
    az = np.where(omni, np.nan, az)
    beam = np.where(omni, np.nan, 65.0)
    county_name = {d.code: d.name for d in COUNTIES}
    tech = s["tech"].to_numpy()
    cells = pd.DataFrame(
        {
            "site_id": s["site_id"],
            "name": s["name"],
            "cell_id": [f"{sid}-{j}" for sid, j in zip(s["site_id"], k, strict=True)],
            "cell_name": [f"{nm}_{j}" for nm, j in zip(s["name"], k, strict=True)],
            "county": [county_name[c] for c in s["county"]],
            "lon": s["lon"],
            "lat": s["lat"],
            "tech": tech,
            "operator": s["operator"],
            "band": s["band"],
            "bandwidth_mhz": s["bandwidth_mhz"],
            "scs_khz": s["scs_khz"],
            "azimuth_deg": az,
            "beamwidth_deg": beam,
            "height_m": s["height_m"],
            "tilt_deg": s["tilt_deg"],
            "eirp_dbm": s["eirp_dbm"],
            "commissioned": [
                f"{y:04d}-{m:02d}-{d:02d}"
                for y, m, d in zip(s["year"], s["month"], s["day"], strict=True)
            ],
            "site_type": [_SITE_TYPE[x] for x in s["kind"]],
            "year": s["year"].to_numpy(),
        }
    )
    return cells


def export_rows(
    rng: np.random.Generator, cells: pd.DataFrame, year: int
) -> tuple[pd.DataFrame, list[dict]]:
    """The export of ``year``: the cells in service by then, plus ≈ 0.1 % deliberately bad rows.

    Bad rows, each an extra row (the good cells stay complete), in equal numbers:
    ``lat_lon_swapped`` (经度 and 纬度 exchanged), ``missing_coordinate`` (纬度 empty),
    ``duplicate_cell_id`` (a second row with an existing 小区ID and a different azimuth),
    ``unknown_technology`` (制式 "3G", a leftover WCDMA cell). Returns the rows (export columns,
    without ``year``) and the list of bad rows with their spreadsheet row numbers (header = 1).
    """
    good = cells[cells["year"] <= year].reset_index(drop=True)
    n_bad = max(4, int(round(BAD_ROW_SHARE * len(good))))
    kinds = ["lat_lon_swapped", "missing_coordinate", "duplicate_cell_id", "unknown_technology"]
    bad_rows = []
    for i in range(n_bad):
        kind = kinds[i % 4]
        src = good.iloc[int(rng.integers(len(good)))].copy()
        if kind == "duplicate_cell_id":
            src["azimuth_deg"] = (
                (src["azimuth_deg"] + 10.0) % 360 if not np.isnan(src["azimuth_deg"]) else 0.0
            )
        else:
            sid = f"{src['site_id']}-X{i:03d}"
            src["site_id"] = sid
            src["cell_id"] = f"{sid}-1"
            src["name"] = f"{src['name']}补{i:03d}"
            src["cell_name"] = f"{src['name']}_1"
            src["commissioned"] = f"{int(rng.integers(2019, min(year, 2023) + 1)):04d}-06-30"
            if kind == "lat_lon_swapped":
                src["lon"], src["lat"] = src["lat"], src["lon"]
            elif kind == "missing_coordinate":
                src["lat"] = np.nan
            else:
                src["tech"] = "3G"
                src["band"] = "B1"
                src["bandwidth_mhz"] = 5.0
        bad_rows.append((kind, src))
    out = good.drop(columns=["year"])
    bad_df = pd.DataFrame([row for _, row in bad_rows]).drop(columns=["year"])
    total = len(out) + n_bad
    positions = np.sort(rng.choice(total, size=n_bad, replace=False))
    is_bad = np.zeros(total, dtype=bool)
    is_bad[positions] = True
    order = np.empty(total, dtype=np.int64)
    order[~is_bad] = np.arange(len(out))
    order[is_bad] = len(out) + np.arange(n_bad)
    rows = pd.concat([out, bad_df], ignore_index=True).iloc[order].reset_index(drop=True)
    report = [
        {
            "row": int(pos) + 2,
            "kind": kind,
            "cell_id": str(row["cell_id"]),
            "site_id": str(row["site_id"]),
        }
        for pos, (kind, row) in zip(positions, bad_rows, strict=True)
    ]
    return rows, report


def write_export(rows: pd.DataFrame, path: Path) -> None:
    """Write the export as an operator would: Chinese headers, GBK, CRLF line ends."""
    df = rows.rename(columns=SITE_COLUMNS_ZH)[list(SITE_COLUMNS_ZH.values())].copy()
    for col in ("带宽(MHz)", "子载波间隔(kHz)", "方位角", "水平波瓣宽度"):
        df[col] = pd.to_numeric(df[col]).map(lambda v: "" if pd.isna(v) else f"{v:g}")
    for col in ("挂高(m)", "下倾角", "EIRP(dBm)"):
        df[col] = pd.to_numeric(df[col]).map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    for col in ("经度", "纬度"):
        df[col] = pd.to_numeric(df[col]).map(lambda v: "" if pd.isna(v) else f"{v:.6f}")
    df.to_csv(path, index=False, encoding="gbk", lineterminator="\r\n")
