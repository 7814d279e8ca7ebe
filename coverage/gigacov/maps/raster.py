"""The coverage raster as a map overlay: RSRP classes, warp to Web Mercator, GCJ-02 shift, PNG.

Leaflet's ``ImageOverlay`` stretches an image linearly between two corners in the map's own
projection (Web Mercator, EPSG:3857). A raster on a UTM grid therefore has to be *reprojected* to
EPSG:3857 first — placing the UTM image between its lon/lat corners would misplace pixels by up to
several hundred metres across a county. :func:`warp_to_web_mercator` does that with rasterio;
the overlay bounds are then the corners of the warped raster (:attr:`WarpedRaster.bounds_latlon`).

For a GCJ-02 basemap (Amap) :func:`shift_to_gcj02` resamples the warped raster once more so that
each pixel sits at the GCJ-02 position of its WGS84 location (the GCJ-02 offset varies across the
region, so a plain shift of the bounds would not be exact).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from affine import Affine

from ..crs import gcj02_to_wgs84, transformer, wgs84_to_gcj02
from ..grid import Grid

__all__ = [
    "RSRP_CLASS_EDGES_DBM",
    "RSRP_CLASSES",
    "NO_CLASS",
    "rsrp_classes",
    "WarpedRaster",
    "warp_to_web_mercator",
    "shift_to_gcj02",
    "encode_png",
    "WEB_MERCATOR",
]

WEB_MERCATOR = "EPSG:3857"

#: Class value 0: no usable signal (below the lowest edge, or no server) — drawn transparent.
NO_CLASS = 0

#: Lower edges of the signal classes, strongest first (dBm). Class ``k`` (1-based) holds
#: ``edge[k-1] <= rsrp`` and, for ``k > 1``, ``rsrp < edge[k-2]``.
RSRP_CLASS_EDGES_DBM: tuple[float, ...] = (-85.0, -95.0, -105.0, -115.0)

#: ``(class value, colour, label)`` for the legend; class 0 ("none") is transparent.
RSRP_CLASSES: tuple[tuple[int, str, str], ...] = (
    (1, "#1a9850", "≥ −85 dBm (excellent)"),
    (2, "#91cf60", "−95 … −85 dBm (good)"),
    (3, "#fee08b", "−105 … −95 dBm (moderate)"),
    (4, "#fc8d59", "−115 … −105 dBm (weak)"),
)


def rsrp_classes(rsrp_dbm: np.ndarray) -> np.ndarray:
    """Signal class per pixel (uint8): 1 = ≥ −85 dBm … 4 = −115…−105 dBm, 0 = none.

    ``NaN`` (no server) and anything below −115 dBm are class 0 (:data:`NO_CLASS`).
    """
    rsrp = np.asarray(rsrp_dbm, dtype=np.float32)
    out = np.zeros(rsrp.shape, dtype=np.uint8)
    with np.errstate(invalid="ignore"):
        # Weakest class first so that stronger ones overwrite it.
        for value in range(len(RSRP_CLASS_EDGES_DBM), 0, -1):
            out[rsrp >= RSRP_CLASS_EDGES_DBM[value - 1]] = value
    return out


@dataclass(frozen=True)
class WarpedRaster:
    """A class raster in Web Mercator (EPSG:3857 metres), north up.

    ``datum`` says which lon/lat the Mercator coordinates stand for: ``"wgs84"`` (the true
    EPSG:3857), or ``"gcj02"`` (GCJ-02 lon/lat projected with the same formulas, which is what
    Amap tiles use).
    """

    classes: np.ndarray
    transform: Affine
    datum: str = "wgs84"

    @property
    def shape(self) -> tuple[int, int]:
        return self.classes.shape  # type: ignore[return-value]

    @property
    def bounds_mercator(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` in Mercator metres."""
        h, w = self.classes.shape
        t = self.transform
        return (t.c, t.f + h * t.e, t.c + w * t.a, t.f)

    @property
    def bounds_latlon(self) -> list[list[float]]:
        """``[[south, west], [north, east]]`` — Leaflet's order — of the raster's outer edges."""
        minx, miny, maxx, maxy = self.bounds_mercator
        lon, lat = transformer(WEB_MERCATOR, 4326).transform([minx, maxx], [miny, maxy])
        return [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]


def warp_to_web_mercator(
    classes: np.ndarray, grid: Grid, *, max_pixels: int = 8_000_000
) -> WarpedRaster:
    """Reproject a class raster on ``grid`` to Web Mercator with rasterio (nearest neighbour).

    The output resolution is rasterio's default for the reprojection (about the input's pixel
    size); when that would exceed ``max_pixels`` the resolution is coarsened and the classes are
    resampled by *mode* (the most frequent class wins).
    """
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    if classes.shape != grid.shape:
        raise ValueError(f"class raster has shape {classes.shape}, grid is {grid.shape}")
    left, bottom, right, top = grid.bounds
    dst_t, w, h = calculate_default_transform(
        grid.crs,
        WEB_MERCATOR,
        grid.width,
        grid.height,
        left=left,
        bottom=bottom,
        right=right,
        top=top,
    )
    resampling = Resampling.nearest
    if w * h > max_pixels:
        factor = math.sqrt(w * h / max_pixels)
        dst_t, w, h = calculate_default_transform(
            grid.crs,
            WEB_MERCATOR,
            grid.width,
            grid.height,
            left=left,
            bottom=bottom,
            right=right,
            top=top,
            resolution=abs(dst_t.a) * factor,
        )
        resampling = Resampling.mode
    dst = np.zeros((h, w), dtype=np.uint8)
    reproject(
        np.ascontiguousarray(classes, dtype=np.uint8),
        dst,
        src_transform=grid.transform,
        src_crs=grid.crs,
        src_nodata=NO_CLASS,
        dst_transform=dst_t,
        dst_crs=WEB_MERCATOR,
        dst_nodata=NO_CLASS,
        resampling=resampling,
    )
    return WarpedRaster(dst, dst_t, "wgs84")


# EPSG:3857 is the spherical Mercator on a sphere of the WGS84 semi-major axis.
_R = 6378137.0


def _merc_x_to_lon(x: np.ndarray) -> np.ndarray:
    return np.degrees(np.asarray(x, dtype=np.float64) / _R)


def _merc_y_to_lat(y: np.ndarray) -> np.ndarray:
    return np.degrees(2.0 * np.arctan(np.exp(np.asarray(y, dtype=np.float64) / _R)) - math.pi / 2.0)


def _lon_to_merc_x(lon: np.ndarray) -> np.ndarray:
    return np.radians(np.asarray(lon, dtype=np.float64)) * _R


def _lat_to_merc_y(lat: np.ndarray) -> np.ndarray:
    return _R * np.log(np.tan(math.pi / 4.0 + np.radians(np.asarray(lat, dtype=np.float64)) / 2.0))


def _gcj_offset_lattice(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS84 offsets ``(dlon, dlat)`` (degrees) on the lattice ``lat × lon``."""
    g_lon, g_lat = np.meshgrid(lon, lat)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    return w_lon - g_lon, w_lat - g_lat


def shift_to_gcj02(
    raster: WarpedRaster, *, lattice_px: int = 16, block_rows: int = 512
) -> WarpedRaster:
    """Resample a WGS84 Web-Mercator raster so that it lies on a GCJ-02 (Amap) basemap.

    The output keeps the pixel size; its extent is the GCJ-02 image of the input's outline. Each
    output pixel centre (GCJ-02) is taken back to WGS84 and gets the class of the input pixel that
    contains it (nearest neighbour). The GCJ-02 → WGS84 offset (:func:`gigacov.crs.gcj02_to_wgs84`)
    is evaluated exactly on a lattice every ``lattice_px`` pixels and interpolated bilinearly in
    between; the offset varies by well under a metre over such a step, so this is exact at the
    raster's resolution while needing a few thousand iterative inversions instead of millions.
    """
    if raster.datum != "wgs84":
        raise ValueError(f"raster is already in datum {raster.datum!r}")
    src = raster.classes
    h, w = src.shape
    t = raster.transform
    res_x, res_y = t.a, -t.e
    # Outline of the input (edges sampled every 16 pixels) → GCJ-02 → Mercator → new extent.
    cols = np.unique(np.r_[np.arange(0, w, 16), w]).astype(np.float64)
    rows = np.unique(np.r_[np.arange(0, h, 16), h]).astype(np.float64)
    edge_x = np.r_[
        t.c + cols * res_x,
        t.c + cols * res_x,
        np.full(rows.size, t.c),
        np.full(rows.size, t.c + w * res_x),
    ]
    edge_y = np.r_[
        np.full(cols.size, t.f),
        np.full(cols.size, t.f - h * res_y),
        t.f - rows * res_y,
        t.f - rows * res_y,
    ]
    glon, glat = wgs84_to_gcj02(_merc_x_to_lon(edge_x), _merc_y_to_lat(edge_y))
    gx, gy = _lon_to_merc_x(glon), _lat_to_merc_y(glat)
    x0, y1 = float(gx.min()), float(gy.max())
    out_w = max(1, int(math.ceil((gx.max() - x0) / res_x)))
    out_h = max(1, int(math.ceil((y1 - gy.min()) / res_y)))
    out_t = Affine(res_x, 0.0, x0, 0.0, -res_y, y1)
    out = np.zeros((out_h, out_w), dtype=np.uint8)
    # Pixel-centre lon (per column) and lat (per row) of the output, GCJ-02.
    lon_c = _merc_x_to_lon(x0 + (np.arange(out_w) + 0.5) * res_x)
    lat_r = _merc_y_to_lat(y1 - (np.arange(out_h) + 0.5) * res_y)
    # Exact offsets on a lattice of pixel centres, then bilinear weights per column / row.
    lc = np.unique(np.r_[np.arange(0, out_w, lattice_px), out_w - 1])
    lr = np.unique(np.r_[np.arange(0, out_h, lattice_px), out_h - 1])
    dlon_l, dlat_l = _gcj_offset_lattice(lon_c[lc], lat_r[lr])
    ci = np.clip(np.searchsorted(lc, np.arange(out_w), side="right") - 1, 0, max(len(lc) - 2, 0))
    ri = np.clip(np.searchsorted(lr, np.arange(out_h), side="right") - 1, 0, max(len(lr) - 2, 0))
    ci1, ri1 = np.minimum(ci + 1, len(lc) - 1), np.minimum(ri + 1, len(lr) - 1)
    fc = np.where(
        lc[ci1] > lc[ci], (np.arange(out_w) - lc[ci]) / np.maximum(lc[ci1] - lc[ci], 1), 0.0
    )
    fr = np.where(
        lr[ri1] > lr[ri], (np.arange(out_h) - lr[ri]) / np.maximum(lr[ri1] - lr[ri], 1), 0.0
    )
    for r0 in range(0, out_h, block_rows):
        r1 = min(out_h, r0 + block_rows)
        rr, rr1, wr = ri[r0:r1, None], ri1[r0:r1, None], fr[r0:r1, None]

        def interp(grid_vals: np.ndarray, rr=rr, rr1=rr1, wr=wr) -> np.ndarray:
            top = grid_vals[rr, ci] * (1.0 - fc) + grid_vals[rr, ci1] * fc
            bottom = grid_vals[rr1, ci] * (1.0 - fc) + grid_vals[rr1, ci1] * fc
            return top * (1.0 - wr) + bottom * wr

        w_lon = lon_c[None, :] + interp(dlon_l)
        w_lat = lat_r[r0:r1, None] + interp(dlat_l)
        src_col = np.floor((_lon_to_merc_x(w_lon) - t.c) / res_x).astype(np.int64)
        src_row = np.floor((t.f - _lat_to_merc_y(w_lat)) / res_y).astype(np.int64)
        inside = (src_col >= 0) & (src_col < w) & (src_row >= 0) & (src_row < h)
        block = np.zeros(src_col.shape, dtype=np.uint8)
        block[inside] = src[src_row[inside], src_col[inside]]
        out[r0:r1] = block
    return WarpedRaster(out, out_t, "gcj02")


def encode_png(classes: np.ndarray, colours: dict[int, str]) -> bytes:
    """A palette PNG: class value = palette index, class 0 transparent."""
    from PIL import Image

    h, w = classes.shape
    img = Image.frombytes("P", (w, h), np.ascontiguousarray(classes, dtype=np.uint8).tobytes())
    n = max(max(colours, default=0) + 1, 2)
    palette = [0, 0, 0] * n
    for value, colour in colours.items():
        c = colour.lstrip("#")
        palette[3 * value : 3 * value + 3] = [int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)]
    img.putpalette(palette)
    buf = io.BytesIO()
    # zlib level 6: within ~1 % of level 9 / optimize on coverage rasters, 5× faster.
    img.save(buf, format="PNG", transparency=NO_CLASS, compress_level=6)
    return buf.getvalue()
