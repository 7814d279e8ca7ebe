"""Interactive HTML coverage maps (docs/design.md §8): one self-describing folium page per scenario.

``build_map(run)`` writes ``maps/<scenario-name>.html``: the coverage raster in RSRP classes
(warped to Web Mercator), counties and cities coloured by compliance status per standard,
villages by 5G reach and gigabit fibre, key places and key roads, clustered sites, weak-coverage
areas and recommended sites, each with a legend; OpenStreetMap, Tianditu, Amap (GCJ-02, overlays
shifted) or no basemap; ``offline=True`` embeds every script and stylesheet.
"""

from __future__ import annotations

from .build import RenderedMap, build_map, default_map_path, render_map
from .raster import (
    RSRP_CLASS_EDGES_DBM,
    RSRP_CLASSES,
    WarpedRaster,
    rsrp_classes,
    warp_to_web_mercator,
)

__all__ = [
    "build_map",
    "render_map",
    "default_map_path",
    "RenderedMap",
    "WarpedRaster",
    "RSRP_CLASSES",
    "RSRP_CLASS_EDGES_DBM",
    "rsrp_classes",
    "warp_to_web_mercator",
]
