"""The analysis grid: a north-up raster in a metric CRS, and its tiles.

Pixel convention (used everywhere in gigacov): pixel ``(row, col)`` covers
``[x0 + col·res, x0 + (col+1)·res) × (y0 − (row+1)·res, y0 − row·res]`` where ``(x0, y0)`` is the
top-left corner given by the affine ``transform``; its **centre** is at
``(x0 + (col + 0.5)·res, y0 − (row + 0.5)·res)``. The affine transform is the only source of pixel
positions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
from affine import Affine

from .crs import require_metric, transformer
from .errors import ConfigError, InputError, ResourceError

__all__ = ["Grid", "Tile", "RasterData", "warp_to_grid", "population_to_grid"]


@dataclass(frozen=True)
class Tile:
    """A rectangular window of a :class:`Grid` (row/column offsets and size in pixels)."""

    row_off: int
    col_off: int
    height: int
    width: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """``(row_slice, col_slice)`` to index the full-grid arrays with."""
        return (
            slice(self.row_off, self.row_off + self.height),
            slice(self.col_off, self.col_off + self.width),
        )

    @property
    def size(self) -> int:
        return self.height * self.width


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid in a projected, metre-based CRS.

    Attributes
    ----------
    crs
        Projected CRS in metres (e.g. EPSG:32650, UTM 50N for Fujian).
    transform
        Affine transform from (col, row) to (x, y) of the top-left pixel corner; square pixels.
    width, height
        Grid size in pixels.
    """

    crs: pyproj.CRS
    transform: Affine
    width: int
    height: int

    def __post_init__(self) -> None:
        require_metric(self.crs)
        if self.transform.b != 0 or self.transform.d != 0:
            raise ConfigError("grid transform must be north-up (no rotation)")
        if not math.isclose(self.transform.a, -self.transform.e, rel_tol=1e-9):
            raise ConfigError("grid pixels must be square")
        if self.width <= 0 or self.height <= 0:
            raise ConfigError(f"grid size must be positive, got {self.width}×{self.height}")

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_bounds(
        cls, bounds: tuple[float, float, float, float], resolution_m: float, crs: pyproj.CRS
    ) -> Grid:
        """Smallest grid aligned to multiples of ``resolution_m`` that covers ``bounds``.

        ``bounds`` are ``(minx, miny, maxx, maxy)`` in ``crs`` (metres).
        """
        if not resolution_m > 0:
            raise ConfigError(f"[grid] resolution_m must be > 0, got {resolution_m!r}")
        minx, miny, maxx, maxy = bounds
        res = float(resolution_m)
        x0 = math.floor(minx / res) * res
        y1 = math.ceil(maxy / res) * res
        x1 = math.ceil(maxx / res) * res
        y0 = math.floor(miny / res) * res
        width = max(1, int(round((x1 - x0) / res)))
        height = max(1, int(round((y1 - y0) / res)))
        return cls(
            pyproj.CRS.from_user_input(crs), Affine(res, 0.0, x0, 0.0, -res, y1), width, height
        )

    @classmethod
    def for_geometries(
        cls, geoms_wgs84, resolution_m: float, crs: pyproj.CRS, buffer_m: float = 0.0
    ) -> Grid:
        """Grid covering WGS84 geometries (a GeoSeries/GeoDataFrame in EPSG:4326) in ``crs``."""
        projected = geoms_wgs84.to_crs(crs)
        minx, miny, maxx, maxy = projected.total_bounds
        return cls.from_bounds(
            (minx - buffer_m, miny - buffer_m, maxx + buffer_m, maxy + buffer_m), resolution_m, crs
        )

    # -- properties --------------------------------------------------------------------------

    @property
    def resolution_m(self) -> float:
        return float(self.transform.a)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` in the grid CRS (metres)."""
        x0, y1 = self.transform.c, self.transform.f
        return (x0, y1 - self.height * self.resolution_m, x0 + self.width * self.resolution_m, y1)

    @property
    def pixel_area_m2(self) -> float:
        return self.resolution_m**2

    @property
    def n_pixels(self) -> int:
        return self.width * self.height

    # -- coordinates -------------------------------------------------------------------------

    def centres(self, tile: Tile | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates: 1-D ``x`` (per column) and ``y`` (per row), float64 metres."""
        tile = tile or Tile(0, 0, self.height, self.width)
        res = self.resolution_m
        x = self.transform.c + (np.arange(tile.col_off, tile.col_off + tile.width) + 0.5) * res
        y = self.transform.f - (np.arange(tile.row_off, tile.row_off + tile.height) + 0.5) * res
        return x, y

    def rowcol(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Row and column (int64, floor) of the pixels containing metric points ``(x, y)``.

        Points outside the grid get indices outside ``[0, height)`` / ``[0, width)``;
        use :meth:`contains_rowcol` to mask them.
        """
        res = self.resolution_m
        col = np.floor((np.asarray(x, dtype=np.float64) - self.transform.c) / res).astype(np.int64)
        row = np.floor((self.transform.f - np.asarray(y, dtype=np.float64)) / res).astype(np.int64)
        return row, col

    def contains_rowcol(self, row, col) -> np.ndarray:
        row = np.asarray(row)
        col = np.asarray(col)
        return (row >= 0) & (row < self.height) & (col >= 0) & (col < self.width)

    def lonlat_to_xy(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 lon/lat → grid CRS x/y (metres)."""
        x, y = transformer(4326, self.crs).transform(
            np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        )
        return np.asarray(x), np.asarray(y)

    def xy_to_lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Grid CRS x/y (metres) → WGS84 lon/lat."""
        lon, lat = transformer(self.crs, 4326).transform(
            np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        )
        return np.asarray(lon), np.asarray(lat)

    # -- tiling ------------------------------------------------------------------------------

    def tiles(self, tile_size: int = 256) -> Iterator[Tile]:
        """Tiles of at most ``tile_size``×``tile_size`` pixels, row-major."""
        if tile_size <= 0:
            raise ConfigError(f"tile size must be > 0, got {tile_size!r}")
        for r in range(0, self.height, tile_size):
            for c in range(0, self.width, tile_size):
                yield Tile(r, c, min(tile_size, self.height - r), min(tile_size, self.width - c))

    def subgrid(self, tile: Tile) -> Grid:
        """The grid of one tile (same CRS and resolution, shifted transform)."""
        res = self.resolution_m
        t = self.transform
        return Grid(
            self.crs,
            Affine(res, 0.0, t.c + tile.col_off * res, 0.0, -res, t.f - tile.row_off * res),
            tile.width,
            tile.height,
        )

    def window_around(self, x: float, y: float, radius_m: float) -> Tile | None:
        """The tile of pixels whose centres may lie within ``radius_m`` of ``(x, y)``, clipped.

        Returns ``None`` when that window does not intersect the grid.
        """
        res = self.resolution_m
        c0 = int(math.floor((x - radius_m - self.transform.c) / res))
        c1 = int(math.ceil((x + radius_m - self.transform.c) / res))
        r0 = int(math.floor((self.transform.f - (y + radius_m)) / res))
        r1 = int(math.ceil((self.transform.f - (y - radius_m)) / res))
        c0, r0 = max(c0, 0), max(r0, 0)
        c1, r1 = min(c1, self.width), min(r1, self.height)
        if c0 >= c1 or r0 >= r1:
            return None
        return Tile(r0, c0, r1 - r0, c1 - c0)

    # -- memory ------------------------------------------------------------------------------

    def check_allocation(self, bytes_per_pixel: int, budget_bytes: int, what: str) -> None:
        """Raise :class:`ResourceError` if a full-grid allocation would exceed ``budget_bytes``."""
        need = self.n_pixels * bytes_per_pixel
        if need > budget_bytes:
            raise ResourceError(
                f"{what} needs {need / 2**20:.0f} MiB for a {self.width}×{self.height} grid at "
                f"{self.resolution_m:g} m, over the budget of {budget_bytes / 2**20:.0f} MiB; "
                "use a coarser [grid] resolution_m, a smaller region, or raise "
                "[compute] memory_budget_mb"
            )

    # -- serialisation -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (for manifests and comparisons between runs)."""
        return {
            "crs": self.crs.to_string(),
            "transform": list(self.transform)[:6],
            "width": self.width,
            "height": self.height,
            "resolution_m": self.resolution_m,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Grid:
        return cls(
            pyproj.CRS.from_user_input(d["crs"]),
            Affine(*d["transform"]),
            int(d["width"]),
            int(d["height"]),
        )

    def same_as(self, other: Grid) -> bool:
        return (
            self.crs == other.crs
            and self.shape == other.shape
            and self.transform.almost_equals(other.transform, precision=1e-6)
        )


@dataclass
class RasterData:
    """An in-memory raster as read from a file: first band, its transform, CRS and nodata."""

    array: np.ndarray
    transform: Affine
    crs: pyproj.CRS
    nodata: float | None = None
    path: str = ""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        h, w = self.array.shape
        t = self.transform
        xs = [t.c, t.c + w * t.a + h * t.b]
        ys = [t.f, t.f + w * t.d + h * t.e]
        return (min(xs), min(ys), max(xs), max(ys))

    def valid_mask(self) -> np.ndarray:
        a = self.array
        mask = np.isfinite(a) if np.issubdtype(a.dtype, np.floating) else np.ones(a.shape, bool)
        if self.nodata is not None and not (
            isinstance(self.nodata, float) and math.isnan(self.nodata)
        ):
            mask &= a != self.nodata
        return mask


def warp_to_grid(
    raster: RasterData, grid: Grid, resampling: str = "bilinear", dst_nodata: float = np.nan
) -> np.ndarray:
    """Reproject ``raster`` onto ``grid`` (float32); pixels with no source data get ``dst_nodata``."""
    from rasterio.warp import Resampling, reproject

    src = np.where(raster.valid_mask(), raster.array, np.nan).astype(np.float32)
    dst = np.full(grid.shape, np.nan, dtype=np.float32)
    reproject(
        src,
        dst,
        src_transform=raster.transform,
        src_crs=raster.crs,
        src_nodata=np.nan,
        dst_transform=grid.transform,
        dst_crs=grid.crs,
        dst_nodata=np.nan,
        resampling=getattr(Resampling, resampling),
    )
    if not (isinstance(dst_nodata, float) and math.isnan(dst_nodata)):
        dst[np.isnan(dst)] = dst_nodata
    return dst


def population_to_grid(raster: RasterData, grid: Grid) -> np.ndarray:
    """Persons per grid pixel (float32), preserving the total population that falls on the grid.

    The source counts are turned into a density (persons per m² of source pixel), reprojected
    with area-weighted averaging, multiplied by the grid pixel area, and finally rescaled so that
    the grid total equals the sum of the source pixels whose centres lie inside the grid extent.
    Missing data counts as zero persons.
    """
    from rasterio.warp import Resampling, reproject

    src_crs = pyproj.CRS.from_user_input(raster.crs)
    valid = raster.valid_mask()
    counts = np.where(valid, raster.array, 0.0).astype(np.float64)
    if (counts < 0).any():
        bad = np.argwhere(counts < 0)[0]
        raise InputError(
            f"{raster.path or 'population raster'}: negative population {float(counts[tuple(bad)])!r} "
            f"at row {int(bad[0])}, column {int(bad[1])}"
        )
    t = raster.transform
    if src_crs.is_geographic:
        # Pixel area varies with latitude: compute it per row on the WGS84 ellipsoid.
        geod = pyproj.Geod(ellps="WGS84")
        h, w = counts.shape
        areas = np.empty(h)
        for r in range(h):
            lat0 = t.f + r * t.e
            lat1 = lat0 + t.e
            lon0, lon1 = t.c, t.c + t.a
            area, _ = geod.polygon_area_perimeter(
                [lon0, lon1, lon1, lon0], [lat0, lat0, lat1, lat1]
            )
            areas[r] = abs(area)
        density = counts / areas[:, None]
    else:
        density = counts / abs(t.a * t.e - t.b * t.d)
    dst = np.zeros(grid.shape, dtype=np.float64)
    reproject(
        density,
        dst,
        src_transform=t,
        src_crs=src_crs,
        dst_transform=grid.transform,
        dst_crs=grid.crs,
        dst_nodata=0.0,
        resampling=Resampling.average,
    )
    dst *= grid.pixel_area_m2
    # Source total over pixels whose centres fall inside the grid extent.
    h, w = counts.shape
    cols = np.arange(w) + 0.5
    rows = np.arange(h) + 0.5
    cc, rr = np.meshgrid(cols, rows)
    xs = t.c + cc * t.a + rr * t.b
    ys = t.f + cc * t.d + rr * t.e
    gx, gy = transformer(src_crs, grid.crs).transform(xs.ravel(), ys.ravel())
    minx, miny, maxx, maxy = grid.bounds
    inside = ((gx >= minx) & (gx < maxx) & (gy > miny) & (gy <= maxy)).reshape(counts.shape)
    target = counts[inside].sum()
    got = dst.sum()
    if got > 0 and target > 0:
        dst *= target / got
    return dst.astype(np.float32)
