"""Key places and villages as weighted pixel sets, for the planning bookkeeping.

A key place or village is *reached* when its covered share meets a requirement
(``[indicators]`` settings, the same as the indicator stage):

* point key place — its pixel is covered (requirement 1);
* polygon key place — ``key_place_area_share`` of its area (pixels whose centres lie inside,
  equal weights; a polygon holding no pixel centre uses the pixel of its representative point);
* line key place (road) — ``key_place_road_share`` of its length (the line sampled every quarter
  pixel, each sample weighted by the length it stands for);
* village — ``village_reached_pop_share`` of its population (pixels whose centres lie inside,
  weighted by persons; an unpopulated village weights its pixels equally, i.e. by area). Its
  county is the first six digits of its code (as in :mod:`gigacov.indicators`).

The baseline share and reached flag come from the indicator stage when it provides them
(``IndicatorSet.key_places``: ``reached_5g``, ``covered_share_5g``; village table:
``villages_reached_5g`` and ``covered_population_5g`` / ``population``), so planning starts from
exactly what compliance saw;
the pixel weights above only measure what new sites add.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import shapely

from ..grid import Grid
from ._kernels import KIND_KEY_PLACE, KIND_VILLAGE
from .network import ObjectTable

__all__ = ["build_objects", "key_place_pixels", "zone_pixels"]

log = logging.getLogger(__name__)


def _flat(grid: Grid, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    return (np.asarray(row, np.int64) * grid.width + np.asarray(col, np.int64)).astype(np.int64)


def key_place_pixels(geom, grid: Grid) -> tuple[np.ndarray, np.ndarray, str]:
    """Flat pixel indices, weights and geometry kind (``point``/``line``/``polygon``) of one
    key place given in the grid CRS. Pixels outside the grid are dropped."""
    gtype = geom.geom_type
    res = grid.resolution_m
    if gtype in ("Point", "MultiPoint"):
        pts = shapely.get_parts(geom)
        kind = "point"
        xs, ys = shapely.get_x(pts), shapely.get_y(pts)
        w = np.ones(len(pts))
    elif gtype in ("LineString", "MultiLineString", "LinearRing"):
        kind = "line"
        xs_l, ys_l, w_l = [], [], []
        for part in shapely.get_parts(geom):
            length = part.length
            n = max(1, int(math.ceil(length / (res / 4.0))))
            d = (np.arange(n) + 0.5) * (length / n)
            pts = shapely.line_interpolate_point(part, d)
            xs_l.append(shapely.get_x(pts))
            ys_l.append(shapely.get_y(pts))
            w_l.append(np.full(n, length / n))
        xs, ys, w = np.concatenate(xs_l), np.concatenate(ys_l), np.concatenate(w_l)
    else:
        kind = "polygon"
        minx, miny, maxx, maxy = geom.bounds
        c0 = int(math.floor((minx - grid.transform.c) / res))
        c1 = int(math.ceil((maxx - grid.transform.c) / res))
        r0 = int(math.floor((grid.transform.f - maxy) / res))
        r1 = int(math.ceil((grid.transform.f - miny) / res))
        cols = np.arange(max(c0, 0), min(c1, grid.width))
        rows = np.arange(max(r0, 0), min(r1, grid.height))
        xs = ys = np.empty(0)
        if len(cols) and len(rows):
            cc, rr = np.meshgrid(cols, rows)
            cx = grid.transform.c + (cc.ravel() + 0.5) * res
            cy = grid.transform.f - (rr.ravel() + 0.5) * res
            inside = shapely.contains_xy(geom, cx, cy)
            xs, ys = cx[inside], cy[inside]
        if len(xs) == 0:
            pt = geom.representative_point()
            xs, ys = np.array([pt.x]), np.array([pt.y])
        w = np.ones(len(xs))
    row, col = grid.rowcol(xs, ys)
    ok = grid.contains_rowcol(row, col)
    return _flat(grid, row[ok], col[ok]), w[ok], kind


def zone_pixels(zone_index: np.ndarray, n_zones: int) -> list[np.ndarray]:
    """Flat pixel indices of each zone ``0..n_zones-1`` from an int raster (−1 = none)."""
    flat = zone_index.ravel()
    sel = np.flatnonzero(flat >= 0)
    z = flat[sel]
    order = np.argsort(z, kind="stable")
    sel, z = sel[order], z[order]
    bounds = np.searchsorted(z, np.arange(n_zones + 1))
    return [sel[bounds[i] : bounds[i + 1]].astype(np.int64) for i in range(n_zones)]


def _by_id(table: pd.DataFrame | None, id_col: str) -> dict[str, pd.Series]:
    if table is None or len(table) == 0 or id_col not in table.columns:
        return {}
    return {str(k): row for k, row in table.set_index(table[id_col].astype(str)).iterrows()}


def build_objects(
    *,
    grid: Grid,
    population: np.ndarray,
    covered: np.ndarray,
    key_places,
    key_place_status: pd.DataFrame | None,
    villages,
    village_status: pd.DataFrame | None,
    county_index: dict[str, int],
    village_reached_pop_share: float,
    key_place_area_share: float,
    key_place_road_share: float,
) -> ObjectTable:
    """The :class:`~gigacov.planning.network.ObjectTable` of a run's key places and villages.

    Parameters
    ----------
    grid
        Analysis grid (metric CRS).
    population, covered
        Persons per pixel and the 5G covered mask (H, W).
    key_places
        GeoDataFrame (WGS84) with ``place_id`` and ``admin_code`` (county), or None.
    key_place_status
        ``IndicatorSet.key_places`` (``place_id``, ``reached_5g``, ``covered_share_5g``) or None.
    villages
        GeoDataFrame (WGS84) of villages with ``admin_code`` and ``parent_code``, or None.
    village_status
        Village indicator table (``admin_code``, ``population``, ``covered_population_5g``) or
        None.
    county_index
        County adcode → 1-based county index (0 = not a county of the region).
    """
    from ..zonal import rasterize_zones

    pop = np.nan_to_num(np.asarray(population, dtype=np.float64), nan=0.0).ravel()
    cov = np.asarray(covered).ravel()
    ids: list[str] = []
    kind: list[int] = []
    county: list[int] = []
    req: list[float] = []
    pixels: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    share: list[float] = []
    reached: list[bool] = []

    def _own_share(p: np.ndarray, w: np.ndarray) -> float:
        return float(w[cov[p] != 0].sum() / w.sum()) if len(p) and w.sum() > 0 else 0.0

    if key_places is not None and len(key_places):
        status = _by_id(key_place_status, "place_id")
        metric = key_places.geometry.to_crs(grid.crs)
        for i, (pid, code, geom) in enumerate(
            zip(
                key_places["place_id"].astype(str),
                key_places["admin_code"].astype(str),
                metric.values,
                strict=True,
            )
        ):
            if geom is None or geom.is_empty:
                continue
            p, w, gkind = key_place_pixels(geom, grid)
            r = {"point": 1.0, "line": key_place_road_share, "polygon": key_place_area_share}[gkind]
            st = status.get(pid)
            own = _own_share(p, w)
            s = own
            if st is not None and "covered_share_5g" in st and pd.notna(st["covered_share_5g"]):
                s = float(st["covered_share_5g"])
            if st is not None and "reached_5g" in st and pd.notna(st["reached_5g"]):
                done = bool(st["reached_5g"])
            else:
                done = s >= r - 1e-9
            if not done and s >= r - 1e-9:
                # The indicator stage says "not reached" although the share meets the rule here
                # (edge effects): let any newly covered pixel of it count as reaching it.
                s = max(0.0, r - 1e-6)
            ids.append(f"key_place:{pid}")
            kind.append(KIND_KEY_PLACE)
            county.append(county_index.get(code, 0))
            req.append(r)
            pixels.append(p)
            weights.append(w)
            share.append(s)
            reached.append(done)
            del i

    if villages is not None and len(villages):
        zone = rasterize_zones(villages.geometry, grid, subpixel=1)
        per_village = zone_pixels(zone, len(villages))
        status = _by_id(village_status, "admin_code")
        metric = None
        for i, (code, parent) in enumerate(
            zip(
                villages["admin_code"].astype(str), villages["parent_code"].astype(str), strict=True
            )
        ):
            p = per_village[i]
            if len(p) == 0:
                if metric is None:
                    metric = villages.geometry.to_crs(grid.crs)
                geom = metric.values[i]
                if geom is None or geom.is_empty:
                    continue
                pt = geom.representative_point()
                row, col = grid.rowcol([pt.x], [pt.y])
                if not grid.contains_rowcol(row, col)[0]:
                    continue
                p = _flat(grid, row, col)
            w = pop[p]
            if w.sum() <= 0:
                w = np.ones(len(p))
            r = village_reached_pop_share
            own = _own_share(p, w)
            s = own
            st = status.get(code)
            if st is not None:
                vp = float(st.get("population", np.nan))
                vc = float(st.get("covered_population_5g", np.nan))
                if vp > 0 and not math.isnan(vc):
                    s = vc / vp
            done = s >= r - 1e-9
            if (
                st is not None
                and "villages_reached_5g" in st
                and pd.notna(st["villages_reached_5g"])
            ):
                done = bool(st["villages_reached_5g"])
            if not done and s >= r - 1e-9:
                s = max(0.0, r - 1e-6)
            cty = county_index.get(code[:6], county_index.get(parent, 0))
            ids.append(f"village:{code}")
            kind.append(KIND_VILLAGE)
            county.append(cty)
            req.append(r)
            pixels.append(p)
            weights.append(w)
            share.append(s)
            reached.append(done)
    log.debug("planning objects: %d key places and villages", len(ids))
    return ObjectTable.build(
        grid.n_pixels, ids, kind, county, req, pixels, weights, share=share, reached=reached
    )
