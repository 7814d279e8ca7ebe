"""The basemaps as a table of tile sources, one entry per ``[map] basemap`` choice."""

from __future__ import annotations

from dataclasses import dataclass

from .context import _bi

__all__ = ["BASEMAP_LAYERS", "TileSource"]


@dataclass(frozen=True)
class TileSource:
    """One tile layer of a basemap.

    ``url`` is a Leaflet tile URL template (or a name folium knows, such as ``"OpenStreetMap"``);
    ``{key}`` in it stands for the basemap's API key. A ``labels`` layer is drawn over the base
    layer and is not listed in the layer control.
    """

    name: str
    url: str
    attr: str | None = None
    subdomains: str | None = None
    max_zoom: int = 18
    labels: bool = False


def _tianditu_wmts(layer: str) -> str:
    """Tianditu's WMTS tile URL of one layer (``vec`` streets, ``cva`` their labels)."""
    return (
        f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        f"&LAYER={layer}&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={{key}}"
    )


#: ``[map] basemap`` → its tile layers, bottom first (``none``: the plain background shows).
BASEMAP_LAYERS: dict[str, tuple[TileSource, ...]] = {
    "osm": (TileSource(_bi("OpenStreetMap 底图", "OpenStreetMap"), "OpenStreetMap", max_zoom=19),),
    "tianditu": (
        TileSource(
            _bi("天地图", "Tianditu"), _tianditu_wmts("vec"), "&copy; 天地图 Tianditu", "01234567"
        ),
        TileSource(
            "Tianditu labels",
            _tianditu_wmts("cva"),
            "&copy; 天地图 Tianditu",
            "01234567",
            labels=True,
        ),
    ),
    "amap": (
        TileSource(
            _bi("高德地图", "Amap (GCJ-02)"),
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            "&copy; 高德地图 AutoNavi (GCJ-02; overlays shifted to GCJ-02)",
            "1234",
        ),
    ),
    "none": (),
}
