"""Units that a population raster leaves without data.

A population raster read into the grid counts its nodata pixels as nobody (the grid keeps the
total of the valid pixels). For the region as a whole the share of nodata is warned about when
the raster is read; a unit that lies mostly in nodata — a county at the raster's edge, islands
the raster leaves out — then shows a population near 0. :func:`population_gaps` measures, on
the raster's own pixels, the share of each unit's pixels that hold data and names in a warning
every unit below :data:`WARN_BELOW`, with its share, so that such a figure is never read as a
count of people.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pyproj

from .grid import RasterData

__all__ = ["WARN_BELOW", "population_gaps"]

log = logging.getLogger(__name__)

#: A unit with less than this share of valid pixels is named in a warning.
WARN_BELOW = 0.95


def population_gaps(raster: RasterData, units: gpd.GeoDataFrame, level: str) -> list[str]:
    """The admin codes of ``units`` with less than :data:`WARN_BELOW` of their raster pixels
    holding data, warned about with their shares. Units smaller than one raster pixel are left
    alone."""
    from rasterio.features import rasterize

    if not len(units):
        return []
    valid = raster.valid_mask()
    if valid.all():
        return []
    geoms = units.geometry.to_crs(pyproj.CRS.from_user_input(raster.crs)).to_numpy()
    ids = rasterize(
        ((g, i + 1) for i, g in enumerate(geoms) if g is not None and not g.is_empty),
        out_shape=valid.shape,
        transform=raster.transform,
        fill=0,
        dtype="int32",
    )
    n = len(units) + 1
    total = np.bincount(ids.ravel(), minlength=n)[1:]
    good = np.bincount(ids[valid].ravel(), minlength=n)[1:]
    share = np.where(total > 0, good / np.maximum(total, 1), 1.0)
    codes = units["admin_code"].astype(str).to_numpy()
    names = units["name"].astype(str).to_numpy() if "name" in units else codes
    low = np.flatnonzero((total > 0) & (share < WARN_BELOW))
    if low.size:
        ex = ", ".join(f"{names[i]} ({codes[i]}) {share[i]:.0%}" for i in low[:8])
        log.warning(
            "population raster%s: %d %s unit(s) have data on only part of their pixels (%s%s); "
            "their population counts the pixels with data only, so it is low (0 with none)",
            f" {raster.path}" if raster.path else "",
            low.size,
            level,
            ex,
            ", ..." if low.size > 8 else "",
        )
    return [str(c) for c in codes[low]]
