"""The layers of the map page, one function each.

:func:`gigacov.maps.build.render_map` makes a :class:`~gigacov.maps.context.MapLayers` for a run
(the folium map, the display datum and what every layer needs from the run) and passes it to each
function of :data:`LAYERS` in turn; the basemaps are a table of tile sources in
:mod:`gigacov.maps.basemaps`. A layer function adds its folium group or overlay (so that the layer
control lists it), its data to the page's JSON payload, its legend entry, its feature counts and
the bytes it takes; a layer with nothing to show adds nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..operators import OPERATOR_ZH, operator_label, operator_slug
from ..run_result import RunResult
from ..standard_files import StandardInfo
from .basemaps import BASEMAP_LAYERS, TileSource
from .context import MapLayers, _bi, map_standards
from .field import add_field_layers
from .layers import (
    STATUS_COLOURS,
    STATUS_LABELS,
    VILLAGE_REACH_COLOURS,
    fibre_classes,
    indicator_meta,
    units_layer,
    villages_layer,
)
from .place_layers import KEY_PLACE_SYMBOLS, key_places_layer, sites_layer
from .planning_layers import gaps_layer, recommended_layer
from .raster import RSRP_CLASSES, rsrp_classes

__all__ = [
    "BASEMAP_LAYERS",
    "LAYERS",
    "RASTER_LAYERS",
    "MapLayers",
    "TileSource",
    "SITE_SINGLE_ZOOM",
    "map_standards",
    "page_colours",
]

log = logging.getLogger(__name__)

#: Zoom from which every site is drawn on its own (no clusters): a county fills the screen.
SITE_SINGLE_ZOOM = 13

_SITE_COLOURS = {"sites_5g": "#6a3d9a", "sites_4g": "#1f78b4"}
_ROAD_COLOURS = {1: "#1a9850", 0: "#d73027", 2: "#969696"}
_GAP_COLOUR = "#c51b7d"
_RECOMMENDED_COLOUR = "#ff7f00"
#: Colour of each operator's own-coverage overlay.
_OPERATOR_COLOURS = {
    "China Mobile": "#1565c0",
    "China Telecom": "#2e7d32",
    "China Unicom": "#c62828",
    "China Broadnet": "#6a1b9a",
}


# ------------------------------------------------------------------------------------------------
# The layers, one function each
# ------------------------------------------------------------------------------------------------


def add_basemap(lay: MapLayers) -> None:
    """The basemap's tile layers (:data:`BASEMAP_LAYERS`)."""
    import folium

    key = (lay.section.tianditu_key or "").strip()
    for src in BASEMAP_LAYERS[lay.basemap]:
        extra: dict[str, Any] = {"subdomains": src.subdomains} if src.subdomains else {}
        if src.labels:
            extra.update(overlay=True, control=False)
        folium.TileLayer(
            tiles=src.url.replace("{key}", key),
            attr=src.attr,
            name=src.name,
            max_zoom=src.max_zoom,
            **extra,
        ).add_to(lay.map)
        if not src.labels:
            lay.names.append(src.name)


def add_coverage(lay: MapLayers) -> None:
    """The 5G and 4G signal overlays in RSRP classes (5G shown at first)."""
    for tech in ("5G", "4G"):
        cov = (lay.run.coverage or {}).get(tech)
        if cov is None:
            continue
        warped = lay._warp(rsrp_classes(cov.rsrp_dbm), cov.grid)
        lay.rasters[tech] = warped
        key = f"coverage_{tech.lower()}"
        signal = "SS-RSRP" if tech == "5G" else "RSRP"
        name = _bi(f"{tech}覆盖 ({signal})", f"{tech} coverage ({signal})")
        colours = {v: c for v, c, _ in RSRP_CLASSES}
        lay.add_overlay(key, name, tech, warped, colours, show=(tech == "5G"))
        lay.legend.append(
            {
                "keys": [key],
                "title": f"{tech} signal ({signal}, {cov.params.rsrp_threshold_dbm:g} dBm = covered)"
                if getattr(cov, "params", None) is not None
                else f"{tech} signal ({signal})",
                "items": [[c, lab, "box"] for _, c, lab in RSRP_CLASSES]
                + [["", "< −115 dBm or no signal", "hollow"]],
                "slider": True,
            }
        )


def add_operator_coverage(lay: MapLayers) -> None:
    """Each operator's own 5G coverage (RSRP and SINR thresholds met), one switch each, off."""
    for op, cov in (getattr(lay.run, "coverage_by_operator", None) or {}).items():
        colour = _OPERATOR_COLOURS.get(op, "#555555")
        warped = lay._warp((np.asarray(cov.covered) != 0).astype(np.uint8), cov.grid)
        key = f"coverage_5g_{operator_slug(op)}"
        name = _bi(f"{OPERATOR_ZH.get(op, op)}自有5G覆盖", f"5G covered — {op}")
        lay.add_overlay(key, name, "5G", warped, {1: colour}, show=False)
        lay.legend.append(
            {
                "keys": [key],
                "title": f"{operator_label(op)}: own 5G coverage (its cells only)",
                "items": [[colour, "covered (RSRP and SINR thresholds met)", "box"]],
                "slider": True,
            }
        )


def _short_title(std: StandardInfo, limit: int = 40) -> str:
    """The standard's title for the layer control, or its id when the title is long."""
    return std.title if len(std.title) <= limit else std.id


def add_units(lay: MapLayers) -> None:
    """Counties and cities coloured by compliance status, one layer per standard judging them."""
    compliance = lay.compliance
    definitions = getattr(lay.run.indicators, "definitions", None)
    lay.payload["geoms"] = {}
    lay.payload["units"] = []
    status_legend_keys: list[str] = []
    for level, label in (
        ("county", _bi("区县达标", "Counties")),
        ("city", _bi("地市达标", "Cities")),
    ):
        if level not in lay.levels:
            continue
        units = lay.levels[level]
        metas = indicator_meta(definitions, units.columns)
        # A layer per standard that judges this level (has compliance rows for it).
        level_stds = lay.standards
        if (
            compliance is not None
            and len(compliance)
            and {"standard", "level"} <= set(compliance.columns)
        ):
            judged = set(
                compliance.loc[compliance["level"].astype(str) == level, "standard"].astype(str)
            )
            level_stds = [s for s in lay.standards if s.id in judged]
        elif compliance is None or not len(compliance):
            level_stds = []
        fc = units_layer(
            units,
            level,
            standards=level_stds,
            compliance=compliance,
            statuses=lay.statuses,
            metas=metas,
            display=lay.display,
        )
        lay.payload["geoms"][level] = fc
        lay.bytes[f"units_{level}"] = lay.size(fc)
        lay.counts[level] = len(fc["features"])
        std_list = level_stds or [None]
        for i, std in enumerate(std_list):
            key = f"{level}_{i}"
            lay.add_group(
                key,
                f"{label} — {_short_title(std)}" if std is not None else label,
                show=(level == "county" and i == 0),
            )
            lay.payload["units"].append(
                {"key": key, "level": level, "std": std.id if std is not None else ""}
            )
            status_legend_keys.append(key)
            lay.counts[key] = lay.counts[level]
    if status_legend_keys:
        lay.legend.append(
            {
                "keys": status_legend_keys,
                "title": "达标情况 / compliance status (click a unit for shortfalls)",
                "items": [
                    [STATUS_COLOURS[s], STATUS_LABELS[s], "box"]
                    for s in STATUS_COLOURS
                    if s != "at_risk" or (lay.statuses["status"] == "at_risk").any()
                ],
            }
        )


def _fibre_threshold(compliance: pd.DataFrame | None, run: RunResult) -> float:
    if compliance is not None and len(compliance) and "indicator" in compliance.columns:
        rows = compliance[compliance["indicator"].astype(str) == "household_gigabit_coverage"]
        thr = (
            pd.to_numeric(rows.get("threshold"), errors="coerce").dropna()
            if len(rows)
            else pd.Series([], dtype=float)
        )
        if len(thr):
            return float(thr.iloc[0])
    for s in run.standards or []:
        for ind in getattr(s, "indicators", None) or []:
            if getattr(ind, "key", "") == "household_gigabit_coverage":
                return float(ind.threshold)
    return 0.8


def add_villages(lay: MapLayers) -> None:
    """Villages by 5G reach and by gigabit-fibre share (shown from a zoom level when many)."""
    if "village" not in lay.levels:
        return
    section = lay.section
    fibre_thr = _fibre_threshold(lay.compliance, lay.run)
    fc = villages_layer(
        lay.levels["village"],
        display=lay.display,
        fibre_threshold=fibre_thr,
        county_names=lay.county_names,
    )
    n = len(fc["features"])
    gate = n >= int(section.village_zoom_gate)
    lay.payload["villages"] = {
        "fc": fc,
        "gate": gate,
        "minZoom": int(section.village_min_zoom),
        "reachColours": {
            "1": VILLAGE_REACH_COLOURS[1],
            "0": VILLAGE_REACH_COLOURS[0],
            "null": VILLAGE_REACH_COLOURS[None],
        },
        "fibreColours": [c for _, c, _ in fibre_classes(fibre_thr)],
    }
    lay.bytes["villages"] = lay.size(fc)
    lay.counts["villages_5g"] = lay.counts["villages_fibre"] = n
    lay.add_group("villages_5g", _bi("行政村5G通达", "Villages — 5G reach"), show=True)
    lay.add_group("villages_fibre", _bi("行政村千兆光纤", "Villages — gigabit fibre"), show=False)
    note = f"{n:,} villages: shown from zoom level {int(section.village_min_zoom)}" if gate else ""
    lay.legend.append(
        {
            "keys": ["villages_5g"],
            "title": "Villages: 5G reach",
            "note": note,
            "zoomNote": gate,
            "items": [
                [VILLAGE_REACH_COLOURS[1], "reached by 5G", "box"],
                [VILLAGE_REACH_COLOURS[0], "not reached", "box"],
                [VILLAGE_REACH_COLOURS[None], "no data", "box"],
            ],
        }
    )
    lay.legend.append(
        {
            "keys": ["villages_fibre"],
            "title": "Villages: households with gigabit fibre",
            "note": note,
            "zoomNote": gate,
            "items": [[c, lab, "box"] for _, c, lab in fibre_classes(fibre_thr)]
            + [[VILLAGE_REACH_COLOURS[None], "no data", "box"]],
        }
    )


def add_key_places(lay: MapLayers) -> None:
    """Key places reached by 5G or not, and key roads coloured along their length."""
    run = lay.run
    places = getattr(run.indicators, "key_places", None)
    if places is None:
        places = getattr(run.inputs, "key_places", None)
    if places is None or not len(places):
        return
    cov5 = (run.coverage or {}).get("5G")
    kp = key_places_layer(
        places,
        grid=cov5.grid if cov5 is not None else run.grid,
        covered=cov5.covered if cov5 is not None else None,
        display=lay.display,
    )
    lay.put("keyPlaces", {"points": kp["points"], "areas": kp["areas"]}, "key_places")
    if kp["points"] or kp["areas"]["features"]:
        lay.counts["key_places"] = len(kp["points"])
        lay.add_group("key_places", _bi("重点场所5G通达", "Key places — 5G reach"), show=True)
        cats = sorted(
            {p[2] for p in kp["points"]},
            key=lambda c: list(KEY_PLACE_SYMBOLS).index(c) if c in KEY_PLACE_SYMBOLS else 99,
        )
        lay.legend.append(
            {
                "keys": ["key_places"],
                "title": "Key places",
                "items": [
                    [STATUS_COLOURS["pass"], "reached by 5G", "circle"],
                    [STATUS_COLOURS["fail"], "not reached", "circle"],
                    [STATUS_COLOURS["no_data"], "no data", "circle"],
                ]
                + [
                    [
                        "",
                        f"{KEY_PLACE_SYMBOLS.get(c, KEY_PLACE_SYMBOLS['other'])[0]}  "
                        f"{KEY_PLACE_SYMBOLS.get(c, (c, c))[1]}",
                        "text",
                    ]
                    for c in cats
                ],
            }
        )
    if kp["roads"]:
        lay.put("roads", kp["roads"], "roads")
        lay.counts["roads"] = len(kp["roads"])
        lay.add_group("roads", _bi("重点道路5G覆盖", "Key roads — 5G coverage"), show=True)
        lay.legend.append(
            {
                "keys": ["roads"],
                "title": "Key roads (coloured along their length)",
                "items": [
                    [_ROAD_COLOURS[1], "5G covered", "line"],
                    [_ROAD_COLOURS[0], "not covered", "line"],
                    [_ROAD_COLOURS[2], "outside the analysed area", "line"],
                ],
            }
        )


def add_sites(lay: MapLayers) -> None:
    """Base-station sites, clustered in the browser, with their cells in a popup."""
    cells = getattr(lay.run.inputs, "cells", None)
    if cells is None or not len(cells):
        return
    t1 = time.perf_counter()
    sites = sites_layer(cells, display=lay.display)
    kinds = np.asarray(sites["kind"])
    lay.counts["sites"] = len(kinds)
    layers = []
    if (kinds == 1).any():
        lay.counts["sites_5g"] = int((kinds == 1).sum())
        lay.add_group("sites_5g", _bi("5G基站", "5G sites"), show=True)
        layers.append({"key": "sites_5g", "kind": 1, "colour": _SITE_COLOURS["sites_5g"]})
    if (kinds == 2).any():
        lay.counts["sites_4g"] = int((kinds == 2).sum())
        lay.add_group("sites_4g", _bi("仅4G基站", "4G-only sites"), show=False)
        layers.append({"key": "sites_4g", "kind": 2, "colour": _SITE_COLOURS["sites_4g"]})
    # Sized as data only, before the layer switches and the zoom are attached.
    lay.put("sites", sites, "sites")
    sites["layers"] = layers
    sites["single_zoom"] = SITE_SINGLE_ZOOM
    lay.legend.append(
        {
            "keys": [one["key"] for one in layers],
            "title": "Base-station sites (click for cells)",
            "items": [
                [
                    one["colour"],
                    "site with 5G cells" if one["kind"] == 1 else "site with 4G cells only",
                    "circle",
                ]
                for one in layers
            ]
            + [
                [
                    "",
                    f"number = sites in a cluster; click to zoom in (single sites from zoom "
                    f"{SITE_SINGLE_ZOOM})",
                    "text",
                ]
            ],
        }
    )
    log.debug("sites layer: %d sites in %.2f s", len(kinds), time.perf_counter() - t1)


def add_planning(lay: MapLayers) -> None:
    """Weak-coverage areas (off at first) and recommended new sites."""
    plan = lay.run.plan
    gaps = getattr(plan, "gaps", None) if plan is not None else None
    if gaps is not None and len(gaps):
        lay.put(
            "gaps", gaps_layer(gaps, display=lay.display, county_names=lay.county_names), "gaps"
        )
        lay.counts["gaps"] = len(lay.payload["gaps"]["features"])
        # Off at the first view: on a real province weak coverage spans most inland counties and
        # would hide the compliance colours, which are what the map is for. One click shows it.
        lay.add_group("gaps", _bi("弱覆盖区域", "Weak-coverage areas"), show=False)
        lay.legend.append(
            {
                "keys": ["gaps"],
                "title": "Weak 5G coverage (hover for population)",
                "items": [[_GAP_COLOUR, "weak-coverage area", "hatch"]],
            }
        )
    rec = getattr(plan, "recommended", None) if plan is not None else None
    if rec is not None and len(rec):
        lay.put(
            "recommended",
            recommended_layer(rec, display=lay.display, county_names=lay.county_names),
            "recommended",
        )
        lay.counts["recommended"] = len(lay.payload["recommended"])
        lay.add_group("recommended", _bi("建议新建站址", "Recommended new sites"), show=True)
        lay.legend.append(
            {
                "keys": ["recommended"],
                "title": "Recommended new sites",
                "items": [[_RECOMMENDED_COLOUR, "recommended site (click for details)", "star"]],
            }
        )


#: The overlays drawn from rasters (their time is reported as the map's ``raster_s``).
RASTER_LAYERS: tuple[Callable[[MapLayers], None], ...] = (add_coverage, add_operator_coverage)

#: Every layer of the map, in the order the layer control lists them.
LAYERS: tuple[Callable[[MapLayers], None], ...] = (
    add_basemap,
    *RASTER_LAYERS,
    add_units,
    add_villages,
    add_key_places,
    add_sites,
    add_planning,
    add_field_layers,
)


def page_colours() -> dict[str, Any]:
    """The colours the page's runtime draws with, for the JSON payload."""
    return {
        "keyPlaceSymbols": {k: v[0] for k, v in KEY_PLACE_SYMBOLS.items()},
        "statusColours": STATUS_COLOURS,
        "roadColours": {str(k): v for k, v in _ROAD_COLOURS.items()},
        "gapColour": _GAP_COLOUR,
        "recommendedColour": _RECOMMENDED_COLOUR,
    }
