"""A map being built (:class:`MapLayers`): what the layer functions of
:mod:`gigacov.maps.compose` read from the run, and what they add to the page.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..compliance import unit_status
from ..run_result import RunResult
from ..standard_files import StandardInfo, standards_info
from .encoding import Display
from .page import json_for_script
from .raster import WarpedRaster, encode_png, shift_to_gcj02, warp_to_web_mercator

__all__ = ["MapLayers", "map_standards"]


# Level notes for standards that carry none (docs/design.md §3: the title is awarded to cities only).
_DEFAULT_LEVEL_NOTES = {
    "county": "The gigabit-city standard applies to prefecture-level cities; county results are computed by analogy.",
}


def _bi(zh: str, en: str) -> str:
    """A bilingual layer name, as the reports write them: ``"5G基站 / 5G sites"``."""
    return f"{zh} / {en}"


def map_standards(run: RunResult, compliance: pd.DataFrame | None) -> list[StandardInfo]:
    """The standards the map shows: the run's, then any other the compliance table names, else
    the scenario's standard ids. A standard without level notes gets the county note."""
    default_notes = tuple(_DEFAULT_LEVEL_NOTES.items())
    out: list[StandardInfo] = []
    seen: set[str] = set()
    for s, info in zip(run.standards or [], standards_info(run.standards), strict=True):
        if not info.id or info.id in seen:
            continue
        seen.add(info.id)
        out.append(
            replace(
                info,
                title=info.title or info.id,
                level_notes=default_notes
                if getattr(s, "level_notes", None) is None
                else info.level_notes,
            )
        )
    if compliance is not None and len(compliance) and "standard" in compliance.columns:
        for sid in pd.unique(compliance["standard"].astype(str)):
            if sid not in seen:
                seen.add(sid)
                out.append(StandardInfo(sid, sid, level_notes=default_notes))
    if not out:
        for sid in run.scenario.scenario.standards:
            if sid not in seen:
                seen.add(sid)
                title = Path(sid).stem if sid.endswith(".toml") else sid
                out.append(StandardInfo(sid, title, level_notes=default_notes))
    return out


def _counties_and_cities(run: RunResult) -> dict[str, Any]:
    """Level → GeoDataFrame of units (indicator tables when present, else the boundaries)."""
    out: dict[str, Any] = {}
    units = getattr(run.indicators, "units", None) or {}
    boundaries = getattr(run.inputs, "boundaries", None)
    for level in ("county", "city", "village"):
        if level in units and units[level] is not None and len(units[level]):
            out[level] = units[level]
        elif boundaries is not None and "level" in boundaries.columns:
            sub = boundaries[boundaries["level"] == level]
            if len(sub):
                out[level] = sub
    return out


@dataclass
class MapLayers:
    """A map being built: what the layer functions read, and what they add.

    Read: ``run``, the ``[map]`` settings ``section``, the ``basemap``, the display ``datum``
    (GCJ-02 for Amap, else WGS84) and ``display``,
    the unit tables per ``levels`` (county, city, village), the ``compliance`` table, the
    ``standards`` shown, the units' ``statuses`` and ``county_names`` (admin code → name).
    Added: ``payload`` (the page's JSON), ``groups`` (layer key → folium layer, filled by the
    page's runtime), ``names`` (the layer control's names in order), ``keys`` (name → key),
    ``bytes`` (page bytes per part), ``counts`` (features per layer key), ``legend`` and
    ``rasters`` (technology → warped overlay raster).
    """

    run: RunResult
    section: Any
    basemap: str
    datum: str
    display: Display
    levels: dict[str, Any]
    compliance: pd.DataFrame | None
    standards: list[StandardInfo]
    statuses: pd.DataFrame
    county_names: dict[str, str]
    payload: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, Any] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    legend: list[dict[str, Any]] = field(default_factory=list)
    rasters: dict[str, WarpedRaster] = field(default_factory=dict)
    map: Any = None
    """The folium map the layers go on (set once the map is made)."""

    @classmethod
    def for_run(cls, run: RunResult, section: Any, basemap: str) -> MapLayers:
        """The layers of ``run`` for a map on ``basemap`` with the ``[map]`` settings ``section``."""
        datum = "gcj02" if basemap == "amap" else "wgs84"
        compliance = run.compliance if isinstance(run.compliance, pd.DataFrame) else None
        levels = _counties_and_cities(run)
        county_names: dict[str, str] = {}
        if "county" in levels and "name" in levels["county"].columns:
            county_names = dict(
                zip(
                    levels["county"]["admin_code"].astype(str),
                    levels["county"]["name"].astype(str),
                    strict=True,
                )
            )
        return cls(
            run=run,
            section=section,
            basemap=basemap,
            datum=datum,
            display=Display(datum, float(section.simplify_m)),
            levels=levels,
            compliance=compliance,
            standards=map_standards(run, compliance),
            statuses=unit_status(compliance, run.standards),
            county_names=county_names,
            payload={"opacity": float(section.raster_opacity), "rasters": []},
        )

    def add_group(self, key: str, name: str, show: bool) -> Any:
        """An empty feature group that the page's runtime fills from the embedded data."""
        import folium

        group = folium.FeatureGroup(name=html.escape(name), show=show)
        group.add_to(self.map)
        self._register(key, name, group)
        return group

    def add_overlay(
        self, key: str, name: str, tech: str, warped: WarpedRaster, colours: dict, show: bool
    ) -> None:
        """A raster overlay: ``warped``'s classes as a PNG in ``colours``, under the slider."""
        import folium

        png = encode_png(warped.classes, colours)
        url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        overlay = folium.raster_layers.ImageOverlay(
            image=url,
            bounds=warped.bounds_latlon,
            name=html.escape(name),
            opacity=float(self.section.raster_opacity),
            show=show,
            pixelated=True,
            interactive=False,
        )
        overlay.add_to(self.map)
        self._register(key, name, overlay)
        self.bytes[key] = len(url)
        self.payload["rasters"].append(
            {"key": key, "tech": tech, "bounds": warped.bounds_latlon, "shape": list(warped.shape)}
        )

    def put(self, name: str, data: Any, bytes_key: str) -> None:
        """``data`` into the page's JSON under ``name``; its size counted as ``bytes_key``."""
        self.payload[name] = data
        self.bytes[bytes_key] = self.size(data)

    @staticmethod
    def size(obj: Any) -> int:
        """Bytes ``obj`` takes in the page's embedded JSON."""
        return len(json_for_script(obj))

    def _register(self, key: str, name: str, layer: Any) -> None:
        self.groups[key] = layer
        self.names.append(name)
        self.keys[name] = key

    def _warp(self, values: np.ndarray, grid: Any) -> WarpedRaster:
        warped = warp_to_web_mercator(values, grid, max_pixels=int(self.section.raster_max_pixels))
        return shift_to_gcj02(warped) if self.datum == "gcj02" else warped
