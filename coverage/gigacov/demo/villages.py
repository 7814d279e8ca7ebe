"""Synthetic administrative villages: a seeded Voronoi tessellation of each county.

Village seeds are drawn inside each county, denser where people live (half by the town and
countryside density, half uniformly so mountain areas still get villages), with a minimum spacing
that follows the local density. The Voronoi cells of the seeds, clipped to the county, are the
village polygons: together they cover the county exactly. Seeds are grouped into townships
(k-means); codes follow the 12-digit statistical division scheme: county (6) + township (3:
街道 001…, 镇 100…, 乡 200…) + village (3: 社区 001…, 村 201…). Names are invented from common
Minnan place-name characters; every row carries ``synthetic = True``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from .design import COUNTIES, CountyDesign
from .fields import DEMO_CRS, MODEL_RES_M, PopulationModel, Region, county_labels

__all__ = ["Villages", "build_villages", "village_counts"]

log = logging.getLogger(__name__)

_FIRST = (
    "东西南北上下前后新大小石山溪洋坑湖林桥埔美霞福安丰龙凤金玉华仁和云高水竹梅桃莲古清宝鹤圳浦"
)
_SECOND = "头尾坂厝埔洋美坑田墩亭岭塘山溪林内店兜园垵湖洲口寨峰阳坪墘边营宅"
_TOWN_FIRST = "东西南北金玉龙凤云清丰福安仁和华新宝永德英蓬桃梅官罗马霞洪"
_TOWN_SECOND = "山溪阳峰江湖城田安丰美兴泉坂林岭浦华源头"


@dataclass
class Villages:
    """The synthetic villages (metric-CRS arrays plus the WGS84 table written to disk).

    Attributes
    ----------
    table
        GeoDataFrame (WGS84): ``admin_code, name, level, parent_code, township_code,
        township_name, kind (社区 / 村), synthetic`` + MultiPolygon geometry.
    seeds_xy
        (n, 2) seed points in :data:`DEMO_CRS` — each village's centre of settlement.
    county
        County code per village.
    urban
        True for urban communities (社区).
    polygons_m
        Village polygons in :data:`DEMO_CRS`.
    """

    table: gpd.GeoDataFrame
    seeds_xy: np.ndarray
    county: np.ndarray
    urban: np.ndarray
    polygons_m: np.ndarray


def village_counts(scale: float) -> dict[str, int]:
    """Villages per county at ``scale`` (at least 3 per county)."""
    return {c.code: max(3, int(round(c.villages * scale))) for c in COUNTIES}


def _seed_points(
    rng: np.random.Generator,
    region: Region,
    c: CountyDesign,
    n: int,
    cells_xy: np.ndarray,
    density: np.ndarray,
) -> np.ndarray:
    """``n`` seeds inside county ``c`` with a density-dependent minimum spacing."""
    geom = region.geometry_m(c.code)
    shapely.prepare(geom)
    pdf = 0.5 * density / density.sum() + 0.5 / len(density)
    cell_area = MODEL_RES_M**2
    spacing = np.sqrt(cell_area / (n * pdf))  # expected local spacing of the seeds (metres)
    accepted: list[tuple[float, float]] = []
    acc_spacing: list[float] = []
    attempts = 0
    factor = 0.5
    while len(accepted) < n:
        batch = rng.choice(len(pdf), size=256, p=pdf)
        jitter = rng.uniform(-0.5, 0.5, size=(256, 2)) * MODEL_RES_M
        pts = cells_xy[batch] + jitter
        inside = shapely.contains_xy(geom, pts[:, 0], pts[:, 1])
        for (px, py), s, ok in zip(pts, spacing[batch], inside, strict=True):
            attempts += 1
            if not ok:
                continue
            if accepted:
                arr = np.asarray(accepted)
                d = np.hypot(arr[:, 0] - px, arr[:, 1] - py)
                if np.any(d < factor * np.minimum(s, np.asarray(acc_spacing))):
                    continue
            accepted.append((px, py))
            acc_spacing.append(s)
            if len(accepted) == n:
                break
        if attempts > 400 * n:  # crowded: relax the spacing rather than loop for ever
            factor *= 0.7
            attempts = 0
    return np.asarray(accepted)


def _voronoi(seeds: np.ndarray, geom) -> np.ndarray:
    """Voronoi cells of ``seeds`` clipped to ``geom`` (polygonal parts only), in seed order."""
    if len(seeds) == 1:
        return np.array([geom], dtype=object)
    cells = shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=shapely.box(*shapely.bounds(geom)), ordered=True
    )
    parts = np.array(shapely.get_parts(cells), dtype=object)
    clipped = shapely.intersection(parts, geom)
    out = []
    for g in clipped:
        polys = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and not p.is_empty]
        out.append(shapely.multipolygons(polys) if polys else shapely.MultiPolygon())
    return np.array(out, dtype=object)


def _kmeans(rng: np.random.Generator, pts: np.ndarray, k: int, iters: int = 25) -> np.ndarray:
    """Plain Lloyd's k-means (k-means++ start); returns the cluster label per point."""
    n = len(pts)
    k = max(1, min(k, n))
    centres = [pts[rng.integers(n)]]
    for _ in range(1, k):
        d2 = np.min([np.sum((pts - c) ** 2, axis=1) for c in centres], axis=0)
        centres.append(
            pts[rng.choice(n, p=d2 / d2.sum())] if d2.sum() > 0 else pts[rng.integers(n)]
        )
    cen = np.asarray(centres, dtype=float)
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iters):
        d2 = ((pts[:, None, :] - cen[None, :, :]) ** 2).sum(axis=2)
        labels = d2.argmin(axis=1)
        for j in range(k):
            members = pts[labels == j]
            if len(members):
                cen[j] = members.mean(axis=0)
    # Relabel 0..m-1 without gaps.
    _, labels = np.unique(labels, return_inverse=True)
    return labels


def _unique_names(
    rng: np.random.Generator, n: int, first: str, second: str, taken: set[str]
) -> list[str]:
    names = []
    while len(names) < n:
        a, b = first[rng.integers(len(first))], second[rng.integers(len(second))]
        if a == b:
            continue
        name = a + b
        if name in taken:
            # add a third character when the two-character pool runs out
            name = name + second[rng.integers(len(second))]
            if name in taken:
                continue
        taken.add(name)
        names.append(name)
    return names


def build_villages(
    rng: np.random.Generator, region: Region, model: PopulationModel, scale: float = 1.0
) -> Villages:
    """Draw the village seeds, tessellate each county, assign townships, codes and names."""
    grid = region.grid(MODEL_RES_M)
    labels = county_labels(region, grid)
    xc, yc = grid.centres()
    gcomp = model.components_grid(grid)
    counts = village_counts(scale)
    rows = []
    all_seeds, all_county, all_urban, all_polys = [], [], [], []
    for idx, c in enumerate(COUNTIES, start=1):
        rr, cc = np.nonzero(labels == idx)
        cells_xy = np.column_stack([xc[cc], yc[rr]])
        comp = {k: gcomp[k][rr, cc] for k in ("urban", "diffuse")}
        urban = comp["urban"] / comp["urban"].sum()
        diffuse = comp["diffuse"] / comp["diffuse"].sum()
        density = c.urban_share * urban + (1 - c.urban_share) * diffuse
        n = counts[c.code]
        seeds = _seed_points(rng, region, c, n, cells_xy, density)
        polys = _voronoi(seeds, region.geometry_m(c.code))
        # Urban communities: where the town component dominates at the seed.
        sc = model.components(seeds[:, 0], seeds[:, 1])
        u_share = (c.urban_share * sc["urban"] / comp["urban"].sum()) / (
            c.urban_share * sc["urban"] / comp["urban"].sum()
            + (1 - c.urban_share) * sc["diffuse"] / comp["diffuse"].sum()
        )
        is_urban = u_share > 0.5
        # Townships.
        k = max(1, int(round(n / 12.5)))
        town = _kmeans(rng, seeds, k)
        seat_x, seat_y = region.to_m(c.centres[0][0], c.centres[0][1])
        n_town = town.max() + 1
        tcent = np.array([seeds[town == t].mean(axis=0) for t in range(n_town)])
        t_urban = np.array([is_urban[town == t].mean() for t in range(n_town)])
        t_elev = np.array([sc["elevation"][town == t].mean() for t in range(n_town)])
        order = np.argsort(np.hypot(tcent[:, 0] - seat_x, tcent[:, 1] - seat_y), kind="stable")
        kind = np.where(t_urban > 0.5, "街道", "镇").astype(object)
        rural = np.nonzero(kind == "镇")[0]
        if len(rural) >= 4 and c.villages >= 150:  # mountain counties: the highest quarter are 乡
            high = rural[np.argsort(-t_elev[rural], kind="stable")[: len(rural) // 4]]
            kind[high] = "乡"
        base = {"街道": 1, "镇": 100, "乡": 200}
        next_code = dict(base)
        t_code = np.zeros(n_town, dtype=object)
        for t in order:
            t_code[t] = f"{next_code[kind[t]]:03d}"
            next_code[kind[t]] += 1
        t_names = _unique_names(rng, n_town, _TOWN_FIRST, _TOWN_SECOND, set())
        v_names = _unique_names(rng, n, _FIRST, _SECOND, set())
        codes = np.zeros(n, dtype=object)
        for t in range(n_town):
            members = np.nonzero(town == t)[0]
            d = np.hypot(seeds[members, 0] - tcent[t, 0], seeds[members, 1] - tcent[t, 1])
            members = members[np.argsort(d, kind="stable")]
            n_comm, n_vill = 1, 201
            for m in members:
                if is_urban[m]:
                    codes[m] = f"{c.code}{t_code[t]}{n_comm:03d}"
                    n_comm += 1
                else:
                    codes[m] = f"{c.code}{t_code[t]}{n_vill:03d}"
                    n_vill += 1
        for i in range(n):
            suffix = "社区" if is_urban[i] else "村"
            t = town[i]
            rows.append(
                {
                    "admin_code": codes[i],
                    "name": v_names[i] + suffix,
                    "level": "village",
                    "parent_code": c.code,
                    "township_code": f"{c.code}{t_code[t]}",
                    "township_name": t_names[t] + kind[t],
                    "kind": suffix,
                    "synthetic": True,
                }
            )
        all_seeds.append(seeds)
        all_county += [c.code] * n
        all_urban.append(is_urban)
        all_polys.append(polys)
    polys_m = np.concatenate(all_polys)
    table = gpd.GeoDataFrame(rows, geometry=list(polys_m), crs=DEMO_CRS).to_crs(4326)
    log.info("villages: %d in %d counties", len(table), len(COUNTIES))
    return Villages(
        table=table,
        seeds_xy=np.concatenate(all_seeds),
        county=np.asarray(all_county, dtype=object),
        urban=np.concatenate(all_urban),
        polygons_m=polys_m,
    )
