"""Key places (重点场所) of the demo: a few real landmarks at approximate positions, the rest invented.

Real names (``approximate = true``): the airport, famous scenic sites, a university and the
railway station, placed within about a kilometre or two of where they are — good enough for a
demo, not for anything else. Invented ones (names end in "（合成）") stand near the county seats.
Three key roads are synthetic corridors (LineStrings). One place is designed to be out of 5G
reach: 九仙山 in the mountains of 德化县 (no 5G site within the radio model's cut-off radius).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from .design import COUNTIES
from .fields import Region

__all__ = ["KeyPlace", "build_key_places", "write_key_places", "UNREACHED_PLACE"]

#: The key place designed to stay out of 5G reach.
UNREACHED_PLACE = "九仙山风景区"

_REAL_NOTE = "real name, approximate position (synthetic demo; do not use for navigation)"
_SYNTH_NOTE = "synthetic name and position"

# (name, category, lon, lat, radius_m or 0 for a point)
_REAL = (
    ("泉州晋江国际机场", "airport", 118.590, 24.797, 900.0),
    ("开元寺", "tourism", 118.583, 24.914, 0.0),
    ("清源山风景区", "tourism", 118.600, 24.952, 1200.0),
    ("洛阳桥", "tourism", 118.680, 24.957, 0.0),
    ("崇武古城", "tourism", 118.918, 24.888, 400.0),
    ("安平桥", "tourism", 118.432, 24.703, 0.0),
    (UNREACHED_PLACE, "tourism", 118.110, 25.710, 1500.0),
    ("华侨大学（泉州校区）", "university", 118.642, 24.938, 500.0),
    ("泉州站", "railway", 118.572, 24.958, 0.0),
)

# Synthetic places near county seats: (county code, name stem, category, radius_m).
_SYNTHETIC = (
    ("350502", "示例第一人民医院", "hospital", 0.0),
    ("350502", "示例中医院", "hospital", 0.0),
    ("350503", "示例第二人民医院", "hospital", 0.0),
    ("350503", "示例妇幼保健院", "hospital", 0.0),
    ("350503", "示例师范学院", "university", 450.0),
    ("350504", "示例医院", "hospital", 0.0),
    ("350504", "示例理工学院", "university", 450.0),
    ("350505", "示例医院", "hospital", 0.0),
    ("350505", "示例高铁站", "railway", 0.0),
    ("350521", "示例医院", "hospital", 0.0),
    ("350521", "示例高铁站", "railway", 0.0),
    ("350524", "示例医院", "hospital", 0.0),
    ("350524", "示例茶学院", "university", 400.0),
    ("350524", "示例茶园景区", "tourism", 700.0),
    ("350525", "示例医院", "hospital", 0.0),
    ("350525", "示例生态园", "tourism", 600.0),
    ("350526", "示例医院", "hospital", 0.0),
    ("350526", "示例陶瓷文化园", "tourism", 400.0),
    ("350581", "示例医院", "hospital", 0.0),
    ("350581", "示例黄金海岸景区", "tourism", 500.0),
    ("350582", "示例第一医院", "hospital", 0.0),
    ("350582", "示例第二医院", "hospital", 0.0),
    ("350582", "示例职业技术学院", "university", 450.0),
    ("350582", "示例高铁站", "railway", 0.0),
    ("350583", "示例医院", "hospital", 0.0),
    ("350583", "示例高铁站", "railway", 0.0),
)

_ROADS = (
    (
        "沿海高速走廊（合成）",
        (
            (118.930, 25.170),
            (118.850, 25.090),
            (118.780, 25.040),
            (118.700, 24.985),
            (118.620, 24.975),
            (118.530, 24.950),
            (118.450, 24.880),
            (118.420, 24.760),
            (118.430, 24.705),
        ),
    ),
    (
        "环湾快速路（合成）",
        (
            (118.550, 24.860),
            (118.600, 24.830),
            (118.650, 24.790),
            (118.675, 24.740),
            (118.630, 24.700),
            (118.560, 24.720),
            (118.500, 24.780),
            (118.550, 24.860),
        ),
    ),
    (
        "泉永德高速走廊（合成）",
        (
            (118.400, 24.970),
            (118.360, 25.080),
            (118.320, 25.200),
            (118.294, 25.322),
            (118.260, 25.410),
            (118.241, 25.480),
        ),
    ),
)


@dataclass
class KeyPlace:
    """One key place; geometry in the metric CRS of the generator."""

    place_id: str
    name: str
    category: str
    geometry_m: shapely.Geometry
    county: str
    approximate: bool
    note: str
    served_5g: bool


def _county_of(region: Region, geom: shapely.Geometry) -> str:
    pt = (
        geom.representative_point()
        if geom.geom_type != "LineString"
        else geom.interpolate(0.5, normalized=True)
    )
    for code, poly in region.counties_m.geometry.items():
        if poly.contains(pt):
            return str(code)
    return ""


def build_key_places(rng: np.random.Generator, region: Region) -> list[KeyPlace]:
    """The demo's key places (deterministic for a given ``rng``)."""
    places: list[KeyPlace] = []
    for name, cat, lon, lat, radius in _REAL:
        x, y = region.to_m(lon, lat)
        geom = shapely.Point(float(x), float(y))
        if radius > 0:
            geom = geom.buffer(radius, quad_segs=8)
        places.append(
            KeyPlace(
                "",
                name,
                cat,
                geom,
                _county_of(region, geom),
                True,
                _REAL_NOTE,
                name != UNREACHED_PLACE,
            )
        )
    for code, stem, cat, radius in _SYNTHETIC:
        county = next(c for c in COUNTIES if c.code == code)
        sx, sy = region.to_m(county.centres[0][0], county.centres[0][1])
        poly = region.geometry_m(code)
        for _ in range(200):
            r = rng.uniform(600.0, 2500.0)
            a = rng.uniform(0, 2 * math.pi)
            px, py = float(sx + r * math.cos(a)), float(sy + r * math.sin(a))
            if poly.contains(shapely.Point(px, py).buffer(max(radius, 50.0))):
                break
        else:  # pragma: no cover - every seat has room within 2.5 km
            px, py = float(sx), float(sy)
        geom = shapely.Point(px, py)
        if radius > 0:
            geom = geom.buffer(radius, quad_segs=8)
        name = f"{county.short}{stem}（合成）"
        places.append(KeyPlace("", name, cat, geom, code, False, _SYNTH_NOTE, True))
    for name, pts in _ROADS:
        lon = [p[0] for p in pts]
        lat = [p[1] for p in pts]
        x, y = region.to_m(lon, lat)
        geom = shapely.LineString(np.column_stack([x, y]))
        places.append(
            KeyPlace("", name, "road", geom, _county_of(region, geom), False, _SYNTH_NOTE, True)
        )
    for i, p in enumerate(places, start=1):
        p.place_id = f"KP{i:03d}"
    return places


def write_key_places(places: list[KeyPlace], region: Region, path: Path) -> None:
    """GeoJSON (RFC 7946, WGS84 lon/lat, 6 decimals), written deterministically."""
    features = []
    for p in places:
        geom = shapely.transform(
            p.geometry_m, lambda xy: np.column_stack(region.to_wgs84(xy[:, 0], xy[:, 1]))
        )
        geom = shapely.set_precision(geom, 1e-6)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "place_id": p.place_id,
                    "name": p.name,
                    "category": p.category,
                    "approximate": p.approximate,
                    "synthetic": True,
                    "note": p.note,
                },
                "geometry": json.loads(shapely.to_geojson(geom)),
            }
        )
    doc = {
        "type": "FeatureCollection",
        "name": "key-places-synthetic",
        "description": "Synthetic demo key places for Quanzhou (gigacov). Real names are at "
        "approximate positions (approximate = true).",
        "features": features,
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
