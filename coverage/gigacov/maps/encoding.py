"""How map data is written for the page: HTML escaping, rounding, the display datum and GeoJSON.

Every text that comes from user data is HTML-escaped (:func:`esc`) before it is placed into
tooltip or popup HTML. Coordinates are converted to the basemap's datum by a :class:`Display`
(WGS84 for OpenStreetMap and Tianditu, GCJ-02 for Amap) and rounded to :data:`COORD_DIGITS`
decimals (about 1 m).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from ..crs import geoseries_from_wgs84, wgs84_to_gcj02
from ..formatting import format_threshold, format_value, is_missing

__all__ = ["COORD_DIGITS", "Display", "esc", "esc_plain"]

#: Decimal places kept in lon/lat (1e-5° ≈ 1.1 m).
COORD_DIGITS = 5


def esc(value: Any) -> str:
    """HTML-escape any value (quotes included) for tooltips and popups."""
    return html.escape("" if value is None else str(value), quote=True)


def esc_plain(value: Any) -> str:
    """``str(value)`` with NaN/None as an empty string (escaping happens where HTML is built)."""
    return "" if is_missing(value) else str(value)


def _rnd(v: float, digits: int) -> float | int | None:
    """Round for JSON: None for NaN, an int when the value is integral (shorter text)."""
    if is_missing(v):
        return None
    r = round(float(v), digits)
    return int(r) if r == int(r) and abs(r) < 2**53 else r


def _shown(value: Any, kind: str) -> str:
    """A value in a tooltip: ratios as ``85.3 %``, counts without decimals, else one decimal."""
    return format_value(
        value, kind == "ratio", 0 if kind == "count" else 1, percent=" %", missing="no data"
    )


def _shown_threshold(op: Any, threshold: Any, kind: str) -> str:
    """A threshold in a tooltip: ``≥ 95.0 %``."""
    return format_threshold(
        op, threshold, kind == "ratio", 0 if kind == "count" else 1, percent=" %"
    )


@dataclass(frozen=True)
class Display:
    """Converts WGS84 lon/lat to the basemap's datum (``"wgs84"`` or ``"gcj02"``)."""

    datum: str = "wgs84"
    simplify_m: float = 25.0

    def lonlat(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        if self.datum == "gcj02":
            return wgs84_to_gcj02(lon, lat)
        return lon, lat

    def geoms(self, geoms, *, simplify: bool = True) -> np.ndarray:
        """WGS84 geometries (GeoSeries or array) → display datum, simplified and rounded."""
        import geopandas as gpd

        gs = (
            geoms
            if isinstance(geoms, gpd.GeoSeries)
            else gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=4326)
        )
        if self.datum == "gcj02":
            gs = geoseries_from_wgs84(gs, "gcj02")
        arr = np.asarray(gs.values, dtype=object)
        if simplify and self.simplify_m > 0:
            # Degrees of latitude; longitude degrees are shorter, so this is conservative.
            arr = shapely.simplify(arr, self.simplify_m / 111_320.0, preserve_topology=True)
        return shapely.transform(arr, lambda c: np.round(c, COORD_DIGITS))


def _geometry(geom) -> dict[str, Any] | None:
    if geom is None or shapely.is_empty(geom):
        return None
    return shapely.geometry.mapping(geom)


def _feature(geom, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": _geometry(geom), "properties": props}


def _latlon_list(lon: np.ndarray, lat: np.ndarray) -> list[list[float]]:
    return np.column_stack([np.round(lat, COORD_DIGITS), np.round(lon, COORD_DIGITS)]).tolist()
