"""Weak-coverage areas: connected regions of populated pixels that 5G does not cover.

A gap is a set of pixels with population > 0 and ``covered == 0`` that are 8-connected and lie in
the same county (a weak area that crosses a county line is split at it, so every gap belongs to
exactly one county and per-county sums add up). Regions are labelled with the numba kernel
:func:`gigacov.planning._kernels.label_zones` and turned into polygons with
``rasterio.features.shapes``; all pixels of one label form one (multi)polygon.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features

from ..grid import Grid
from ._kernels import label_zones, region_sums

__all__ = ["GAP_COLUMNS", "find_gaps", "gap_zones"]

log = logging.getLogger(__name__)

#: Columns of ``PlanResult.gaps`` (plus ``geometry``, WGS84).
GAP_COLUMNS = [
    "gap_id",
    "rank",
    "admin_code",
    "county_name",
    "population",
    "area_km2",
    "pixels",
    "nearest_site_id",
    "nearest_site_m",
]


def gap_zones(population: np.ndarray, covered: np.ndarray, county_zone: np.ndarray) -> np.ndarray:
    """int32 zone raster for the labelling: county index where a pixel is a gap pixel, else 0.

    A gap pixel has population > 0, is not covered, and lies in a county (``county_zone > 0``).
    """
    pop = np.nan_to_num(np.asarray(population, dtype=np.float64), nan=0.0)
    mask = (pop > 0) & (np.asarray(covered) == 0) & (county_zone > 0)
    return np.where(mask, county_zone, 0).astype(np.int32)


def find_gaps(
    grid: Grid,
    population: np.ndarray,
    covered: np.ndarray,
    county_zone: np.ndarray,
    county_codes: list[str],
    county_names: list[str],
    site_ids: np.ndarray,
    site_x: np.ndarray,
    site_y: np.ndarray,
    *,
    min_population: float = 0.0,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Weak-coverage polygons ranked by population.

    Parameters
    ----------
    grid
        The analysis grid (metric CRS).
    population
        Persons per pixel, float (H, W); NaN counts as 0.
    covered
        uint8 (H, W), 1 where 5G covers the pixel.
    county_zone
        int32 (H, W): 1-based index into ``county_codes`` of the county containing each pixel
        centre, 0 outside every county considered.
    county_codes, county_names
        Adcode and name of each county index (index 1 is element 0).
    site_ids, site_x, site_y
        Existing 5G sites: ids and positions in the grid CRS (metres).
    min_population
        Leave out gaps with fewer persons (0 = keep all).

    Returns
    -------
    gaps, labels
        GeoDataFrame (:data:`GAP_COLUMNS` + geometry in EPSG:4326), rank 1 = most people; and
        the int32 label raster (``gap_id`` per pixel, 0 elsewhere; dropped small gaps keep their
        labels here).
    """
    zone = gap_zones(population, covered, county_zone)
    labels, n = label_zones(zone)
    pop = np.nan_to_num(np.asarray(population, dtype=np.float64), nan=0.0)
    count, total, zone_of = region_sums(labels, n, pop, zone)
    log.info("planning: %d weak-coverage regions, %.0f persons", n, float(total[1:].sum()))
    if n == 0:
        return _empty_gaps(), labels

    keep = (
        np.flatnonzero(total[1:] >= min_population) + 1
        if min_population > 0
        else np.arange(1, n + 1)
    )
    parts: dict[int, list] = defaultdict(list)
    keep_mask = np.zeros(n + 1, dtype=bool)
    keep_mask[keep] = True
    shape_src = np.where(keep_mask[labels], labels, 0).astype(np.int32)
    for geom, value in features.shapes(
        shape_src, mask=shape_src > 0, connectivity=8, transform=grid.transform
    ):
        parts[int(value)].append(shapely.geometry.shape(geom))
    ids = np.array(sorted(parts), dtype=np.int64)
    geoms = [shapely.union_all(parts[i]) if len(parts[i]) > 1 else parts[i][0] for i in ids]
    metric = gpd.GeoSeries(geoms, crs=grid.crs)

    nearest_id = np.full(len(ids), "", dtype=object)
    nearest_m = np.full(len(ids), np.nan)
    if len(site_x):
        points = shapely.points(np.asarray(site_x, float), np.asarray(site_y, float))
        tree = shapely.STRtree(points)
        (gi, si), dist = tree.query_nearest(metric.values, return_distance=True, all_matches=False)
        nearest_id[gi] = np.asarray(site_ids, dtype=object)[si]
        nearest_m[gi] = dist

    zones = zone_of[ids]
    codes = np.asarray(county_codes, dtype=object)
    names = np.asarray(county_names, dtype=object)
    df = pd.DataFrame(
        {
            "gap_id": ids.astype(np.int64),
            "admin_code": codes[zones - 1],
            "county_name": names[zones - 1],
            "population": total[ids],
            "area_km2": count[ids] * grid.pixel_area_m2 / 1e6,
            "pixels": count[ids].astype(np.int64),
            "nearest_site_id": nearest_id,
            "nearest_site_m": np.round(nearest_m, 1),
        }
    )
    order = np.lexsort((df["gap_id"].to_numpy(), -df["population"].to_numpy()))
    df = df.iloc[order].reset_index(drop=True)
    df.insert(1, "rank", np.arange(1, len(df) + 1, dtype=np.int64))
    geometry = metric.iloc[order].to_crs(4326).reset_index(drop=True)
    gaps = gpd.GeoDataFrame(df[GAP_COLUMNS], geometry=geometry.values, crs=4326)
    return gaps, labels


def _empty_gaps() -> gpd.GeoDataFrame:
    df = pd.DataFrame(
        {
            "gap_id": pd.Series(dtype="int64"),
            "rank": pd.Series(dtype="int64"),
            "admin_code": pd.Series(dtype="object"),
            "county_name": pd.Series(dtype="object"),
            "population": pd.Series(dtype="float64"),
            "area_km2": pd.Series(dtype="float64"),
            "pixels": pd.Series(dtype="int64"),
            "nearest_site_id": pd.Series(dtype="object"),
            "nearest_site_m": pd.Series(dtype="float64"),
        }
    )
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
