"""Whether each key place is reached: points, areas and roads sampled on the coverage rasters.

:func:`evaluate_key_places` gives what the indicators count (``key_places_reached_<t>``) and what
the per-operator figures reuse. A point is reached when its pixel is covered; an area when the
covered share of its area ≥ ``[indicators] key_place_area_share``; a road (line) when the
covered share of its length ≥ ``key_place_road_share``, with its longest uncovered stretch.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError
from .grid import Grid, Tile
from .scenario import IndicatorsSection
from .zonal import rasterize_zones

if TYPE_CHECKING:  # pragma: no cover
    from .radio.result import CoverageResult

__all__ = ["evaluate_key_places"]

log = logging.getLogger(__name__)


def _window(grid: Grid, bounds) -> Tile | None:
    """Grid window covering metric ``bounds`` (clipped); None when outside the grid."""
    res = grid.resolution_m
    t = grid.transform
    c0 = max(int(math.floor((bounds[0] - t.c) / res)), 0)
    c1 = min(int(math.ceil((bounds[2] - t.c) / res)), grid.width)
    r0 = max(int(math.floor((t.f - bounds[3]) / res)), 0)
    r1 = min(int(math.ceil((t.f - bounds[1]) / res)), grid.height)
    if c0 >= c1 or r0 >= r1:
        return None
    return Tile(r0, c0, r1 - r0, c1 - c0)


def _sample_pixels(
    grid: Grid, xs: np.ndarray, ys: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    row, col = grid.rowcol(xs, ys)
    ok = grid.contains_rowcol(row, col)
    return np.where(ok, row, 0), np.where(ok, col, 0), ok


def _line_samples(geom, step: float) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Per line part: sample x, y at the middles of equal pieces ≤ ``step`` m, and piece length."""
    parts = shapely.get_parts(geom) if geom.geom_type.startswith("Multi") else [geom]
    out = []
    for part in parts:
        length = part.length
        if length <= 0:
            continue
        n = max(1, int(math.ceil(length / step)))
        piece = length / n
        pts = shapely.line_interpolate_point(part, (np.arange(n) + 0.5) * piece)
        out.append((shapely.get_x(pts), shapely.get_y(pts), piece))
    return out


def _longest_run(flags: np.ndarray) -> int:
    """Longest run of True in a 1-D boolean array."""
    if flags.size == 0 or not flags.any():
        return 0
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    d = np.diff(padded)
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return int((ends - starts).max())


def evaluate_key_places(
    key_places: gpd.GeoDataFrame,
    grid: Grid,
    coverage: Mapping[str, CoverageResult],
    options: IndicatorsSection | None = None,
) -> gpd.GeoDataFrame:
    """Whether each key place is reached, per technology.

    Parameters
    ----------
    key_places
        Points, lines (roads) or polygons, any CRS with a CRS set (WGS84 from ingest).
    grid
        The grid of the coverage rasters.
    coverage
        ``{tech: CoverageResult}`` (``"5G"``, ``"4G"``).
    options
        ``[indicators]`` settings (shares and sub-pixel factor).

    Returns
    -------
    GeoDataFrame
        A copy of ``key_places`` (original geometry) with, per technology ``t`` present:
        ``reached_<t>`` (bool), ``covered_share_<t>`` (fraction of the point(s) / area / length
        covered; NaN when the place lies outside the grid); for 5G also ``rsrp_dbm`` (at a
        point, the median over the samples otherwise) and ``longest_gap_m`` (the longest
        uncovered stretch of a road, metres; NaN for points and areas). Without a 5G result
        the 5G columns are there with NA / NaN.

    Notes
    -----
    A point is reached when its pixel is covered; a multi-point, like an area, when the covered
    share ≥ ``key_place_area_share``. Areas are sampled at the sub-cell centres inside them
    (``subpixel`` per pixel edge; a place smaller than a sub-cell at its representative point);
    roads at the middles of equal pieces of at most ``resolution / subpixel`` metres, per part,
    so ``longest_gap_m`` is exact to that step and never runs across two parts.
    """
    opts = options or IndicatorsSection()
    s = int(opts.subpixel)
    out = key_places.copy()
    if key_places.crs is None:
        raise InputError("key places have no CRS; ingest should hand them over in WGS84")
    metric = key_places.geometry.to_crs(grid.crs)
    step = grid.resolution_m / s
    n = len(out)
    samples: list[tuple[np.ndarray, np.ndarray, np.ndarray, list[int], str]] = []
    # One set of sample pixels per place (rows, cols, weights, run boundaries, kind).
    for geom in metric.values:
        kind = "point"
        if geom is None or geom.is_empty:
            samples.append((np.zeros(0, int), np.zeros(0, int), np.zeros(0), [], "empty"))
            continue
        gt = geom.geom_type
        if gt in ("Point", "MultiPoint"):
            pts = shapely.get_parts(geom)
            xs, ys = shapely.get_x(pts), shapely.get_y(pts)
            w = np.ones(len(xs))
            runs = [len(xs)]
            kind = "point" if gt == "Point" else "points"
        elif gt in ("LineString", "MultiLineString", "LinearRing"):
            parts = _line_samples(geom, step)
            xs = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
            ys = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
            w = np.concatenate([np.full(len(p[0]), p[2]) for p in parts]) if parts else np.zeros(0)
            runs = [len(p[0]) for p in parts]
            kind = "line"
        elif gt in ("Polygon", "MultiPolygon"):
            kind = "area"
            win = _window(grid, geom.bounds)
            xs = ys = np.zeros(0)
            if win is not None:
                sub = rasterize_zones([geom], grid, s, tile=win)
                rr, cc = np.nonzero(sub == 0)
                res = grid.resolution_m
                xs = grid.transform.c + (win.col_off + (cc + 0.5) / s) * res
                ys = grid.transform.f - (win.row_off + (rr + 0.5) / s) * res
            if len(xs) == 0:  # smaller than a sub-cell: its representative point
                p = geom.representative_point()
                xs, ys = np.array([p.x]), np.array([p.y])
            w = np.ones(len(xs))
            runs = [len(xs)]
        else:
            p = geom.representative_point()
            xs, ys, w, runs = np.array([p.x]), np.array([p.y]), np.ones(1), [1]
        row, col, ok = _sample_pixels(grid, np.asarray(xs), np.asarray(ys))
        samples.append(
            (row[ok], col[ok], np.asarray(w)[ok], runs if ok.all() else [int(ok.sum())], kind)
        )
        if not ok.all():
            log.warning("key place partly or wholly outside the grid; the part outside is ignored")
    outside = 0
    for tech, cov in coverage.items():
        t = tech.lower()
        shares = np.full(n, np.nan)
        reached = np.zeros(n, dtype=bool)
        rsrp = np.full(n, np.nan)
        gaps = np.full(n, np.nan)
        covered = cov.covered
        for i, (row, col, w, runs, kind) in enumerate(samples):
            if row.size == 0:
                if kind != "empty" and t == "5g":
                    outside += 1
                continue
            cv = covered[row, col] != 0
            share = float((w * cv).sum() / w.sum())
            shares[i] = share
            if kind == "point":
                reached[i] = bool(cv[0])
            elif kind == "line":
                reached[i] = share >= opts.key_place_road_share - 1e-12
            else:
                reached[i] = share >= opts.key_place_area_share - 1e-12
            if t == "5g":
                vals = cov.rsrp_dbm[row, col]
                if np.isfinite(vals).any():
                    rsrp[i] = float(np.nanmedian(vals))
                if kind == "line":
                    longest, start = 0.0, 0
                    for nrun in runs:
                        seg = ~cv[start : start + nrun]
                        if seg.size:
                            longest = max(longest, _longest_run(seg) * float(w[start]))
                        start += nrun
                    gaps[i] = longest
        out[f"reached_{t}"] = reached
        out[f"covered_share_{t}"] = shares
        if t == "5g":
            out["rsrp_dbm"] = rsrp
            out["longest_gap_m"] = gaps
    if "5g" not in {t.lower() for t in coverage}:
        # No 5G raster: reach is unknown, not "not reached".
        out["reached_5g"] = pd.array([pd.NA] * n, dtype="boolean")
        out["covered_share_5g"] = np.nan
        out["rsrp_dbm"] = np.nan
        out["longest_gap_m"] = np.nan
    if outside:
        log.warning("%d key place(s) lie outside the grid: counted as not reached", outside)
    return out
