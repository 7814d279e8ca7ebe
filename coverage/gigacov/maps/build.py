"""Assemble the folium map of a run and write it (docs/design.md §8, docs/architecture.md).

The map is a folium ``Map`` holding the basemap, the coverage overlays (``ImageOverlay`` of the
raster warped to Web Mercator) and one empty ``FeatureGroup`` per vector layer, so that folium's
layer control lists them all. The vector layers' data travel as one JSON document inside the page;
gigacov's own map runtime (``static/gigacov_map.js``) fills the groups from it, clusters the
sites in the browser (no DOM marker per site), draws the legend and the opacity slider. The page
needs Leaflet and nothing else: by default it embeds Leaflet's files from the installed
``django-js-lib-leaflet`` package (the page works with no internet); with ``offline=False``
(``--cdn``) it links Leaflet from a public CDN. Either way a guard script first in the page shows
a bilingual message, never a blank page, when the scripts fail.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from branca.element import Element

from ..compliance import unit_status
from ..errors import ConfigError
from ..operators import OPERATOR_ZH, operator_label, operator_slug
from ..run_result import RunResult
from ..rundir import write_atomic
from ..scenario import BASEMAPS
from . import assets
from .layers import (
    KEY_PLACE_SYMBOLS,
    STATUS_COLOURS,
    STATUS_LABELS,
    VILLAGE_REACH_COLOURS,
    Display,
    StandardInfo,
    fibre_classes,
    gaps_layer,
    indicator_meta,
    key_places_layer,
    recommended_layer,
    sites_layer,
    units_layer,
    villages_layer,
)
from .raster import (
    RSRP_CLASSES,
    WarpedRaster,
    encode_png,
    rsrp_classes,
    shift_to_gcj02,
    warp_to_web_mercator,
)

__all__ = ["build_map", "render_map", "RenderedMap", "default_map_path"]

log = logging.getLogger(__name__)

_TIANDITU_KEY_RE = re.compile(r"^[A-Za-z0-9]+$")
_SITE_COLOURS = {"sites_5g": "#6a3d9a", "sites_4g": "#1f78b4"}
_ROAD_COLOURS = {1: "#1a9850", 0: "#d73027", 2: "#969696"}
_GAP_COLOUR = "#c51b7d"
# Level notes for standards that carry none (docs/design.md §3: the title is awarded to cities only).
_DEFAULT_LEVEL_NOTES = {
    "county": "The gigabit-city standard applies to prefecture-level cities; county results are computed by analogy.",
}
_RECOMMENDED_COLOUR = "#ff7f00"


@dataclass
class RenderedMap:
    """A rendered map page and what went into it.

    Attributes
    ----------
    html
        The complete HTML document.
    title
        The map title (plain text, as in the page's ``<title>``).
    layer_names
        Layer names as the layer control shows them, base layers first.
    layer_keys
        Layer control name → key of the layer in the page's ``window.gigacov.layers``.
    layer_bytes
        Bytes of the page each part takes (embedded JSON per layer, PNG overlays, scripts).
    rasters
        Technology → :class:`WarpedRaster` drawn as the overlay (Web Mercator, basemap datum).
    counts
        Features per layer key (units, villages, key places, sites, ...).
    basemap, offline, datum
        The options used; ``datum`` is ``"gcj02"`` for the Amap basemap, else ``"wgs84"``.
    """

    html: str
    title: str
    layer_names: list[str]
    layer_keys: dict[str, str]
    layer_bytes: dict[str, int]
    rasters: dict[str, WarpedRaster]
    counts: dict[str, int]
    basemap: str
    offline: bool
    datum: str
    timings: dict[str, float] = field(default_factory=dict)


#: Colour of each operator's own-coverage overlay.
_OPERATOR_COLOURS = {
    "China Mobile": "#1565c0",
    "China Telecom": "#2e7d32",
    "China Unicom": "#c62828",
    "China Broadnet": "#6a1b9a",
}


def default_map_path(run: RunResult) -> Path:
    """``maps/<scenario-name>.html`` under the current working directory."""
    return Path.cwd() / "maps" / f"{run.scenario.name}.html"


def build_map(
    run: RunResult,
    path: str | Path | None = None,
    *,
    offline: bool | None = None,
    basemap: str | None = None,
) -> Path:
    """Write the interactive HTML coverage map of a run.

    Parameters
    ----------
    run
        A :class:`gigacov.run_result.RunResult` (scenario, inputs, grid, coverage, indicators,
        compliance, plan; everything but the scenario and inputs may be missing).
    path
        Output file; default ``maps/<scenario-name>.html`` under the current working directory.
    offline
        Embed every JavaScript and CSS file in the page (Leaflet from the installed
        ``django-js-lib-leaflet`` package); ``False`` links Leaflet from a CDN (``--cdn``).
        Default: embedded, unless the scenario says ``[map] cdn = true`` (or ``offline = false``).
    basemap
        ``"osm"``, ``"tianditu"`` (needs ``[map] tianditu_key``), ``"amap"`` (GCJ-02: every
        overlay is shifted to GCJ-02) or ``"none"``; default: the scenario's ``[map] basemap``.

    Returns
    -------
    Path
        The file written (atomically).

    Raises
    ------
    ConfigError
        Unknown basemap, Tianditu without a key, offline without ``django-js-lib-leaflet``, or a
        ``[map]`` setting out of range.
    """

    rendered = render_map(run, offline=offline, basemap=basemap)
    out = Path(path) if path is not None else default_map_path(run)
    write_atomic(out, lambda p: p.write_text(rendered.html, encoding="utf-8"))
    total = len(rendered.html.encode("utf-8"))
    log.info(
        "map %s: %.1f MB (%s)",
        out,
        total / 1e6,
        ", ".join(
            f"{k} {v / 1e6:.2f} MB"
            for k, v in sorted(rendered.layer_bytes.items(), key=lambda kv: -kv[1])[:6]
        ),
    )
    return out


# ------------------------------------------------------------------------------------------------
# Options
# ------------------------------------------------------------------------------------------------


def _options(run: RunResult, offline: bool | None, basemap: str | None) -> tuple[str, bool, Any]:
    section = run.scenario.map
    chosen = basemap if basemap is not None else section.basemap
    if chosen not in BASEMAPS:
        raise ConfigError(
            f"[map] basemap: {chosen!r} is not one of {', '.join(map(repr, BASEMAPS))}"
        )
    if chosen == "tianditu":
        key = (section.tianditu_key or "").strip()
        if not key:
            raise ConfigError(
                "[map] basemap = 'tianditu' needs a Tianditu API key: set [map] tianditu_key = "
                '"<your key>" in the scenario file (free keys at the Tianditu console), or choose '
                "basemap 'osm', 'amap' or 'none'"
            )
        if not _TIANDITU_KEY_RE.match(key):
            raise ConfigError(f"[map] tianditu_key {key!r} must hold only letters and digits")
    if not 0.0 <= section.raster_opacity <= 1.0:
        raise ConfigError(
            f"[map] raster_opacity must be between 0 and 1, got {section.raster_opacity!r}"
        )
    if section.raster_max_pixels < 10_000:
        raise ConfigError(
            f"[map] raster_max_pixels must be ≥ 10000, got {section.raster_max_pixels!r}"
        )
    if section.simplify_m < 0:
        raise ConfigError(f"[map] simplify_m must be ≥ 0, got {section.simplify_m!r}")
    if not 0 <= section.village_min_zoom <= 20:
        raise ConfigError(
            f"[map] village_min_zoom must be between 0 and 20, got {section.village_min_zoom!r}"
        )
    use_offline = bool(section.offline and not section.cdn) if offline is None else bool(offline)
    return chosen, use_offline, section


def _standards(run: RunResult, compliance: pd.DataFrame | None) -> list[StandardInfo]:
    out: list[StandardInfo] = []
    seen: set[str] = set()
    for s in run.standards or []:
        sid = str(getattr(s, "id", "") or "")
        if not sid or sid in seen:
            continue
        seen.add(sid)
        unconfirmed = frozenset(
            str(getattr(i, "key", ""))
            for i in (getattr(s, "indicators", None) or [])
            if getattr(i, "confirmed", True) is False
        )
        notes = getattr(s, "level_notes", None)
        out.append(
            StandardInfo(
                sid,
                str(getattr(s, "title", "") or sid),
                unconfirmed,
                _DEFAULT_LEVEL_NOTES if notes is None else dict(notes),
            )
        )
    if compliance is not None and len(compliance) and "standard" in compliance.columns:
        for sid in pd.unique(compliance["standard"].astype(str)):
            if sid not in seen:
                seen.add(sid)
                out.append(StandardInfo(sid, sid, frozenset(), _DEFAULT_LEVEL_NOTES))
    if not out:
        for sid in run.scenario.scenario.standards:
            if sid not in seen:
                seen.add(sid)
                out.append(
                    StandardInfo(
                        sid,
                        Path(sid).stem if sid.endswith(".toml") else sid,
                        frozenset(),
                        _DEFAULT_LEVEL_NOTES,
                    )
                )
    return out


def _bi(zh: str, en: str) -> str:
    """A bilingual layer name, as the reports write them: ``"5G基站 / 5G sites"``."""
    return f"{zh} / {en}"


#: Zoom from which every site is drawn on its own (no clusters): a county fills the screen.
SITE_SINGLE_ZOOM = 13


def _short_title(std: StandardInfo, limit: int = 40) -> str:
    """The standard's title for the layer control, or its id when the title is long."""
    return std.title if len(std.title) <= limit else std.id


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


# ------------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------------


class _Raw(Element):
    """A page fragment rendered exactly as given (no Jinja processing of its text)."""

    def __init__(self, content: str) -> None:
        super().__init__()
        self._content = content

    def render(self, **kwargs: Any) -> str:
        return self._content


def _script(js: str) -> str:
    """An inline ``<script>`` element; any ``</script`` inside the code becomes ``<\\/script``."""
    return (
        "<script>"
        + re.sub(r"</(script)", lambda m: "<\\/" + m.group(1), js, flags=re.IGNORECASE)
        + "</script>"
    )


def _json_for_script(payload: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (no ``<``, ``>``, ``&``)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


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


def _bounds_latlon(run: RunResult, display: Display, levels: dict[str, Any]) -> list[list[float]]:
    if "county" in levels:
        minx, miny, maxx, maxy = (float(v) for v in levels["county"].total_bounds)
    elif run.grid is not None:
        lon, lat = run.grid.xy_to_lonlat(
            [run.grid.bounds[0], run.grid.bounds[2]], [run.grid.bounds[1], run.grid.bounds[3]]
        )
        minx, maxx, miny, maxy = float(lon[0]), float(lon[1]), float(lat[0]), float(lat[1])
    else:
        cells = run.inputs.cells
        minx, maxx = float(cells["lon"].min()), float(cells["lon"].max())
        miny, maxy = float(cells["lat"].min()), float(cells["lat"].max())
    lon, lat = display.lonlat([minx, maxx], [miny, maxy])
    return [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]


def _fallback_html(scn: Any, embedded: bool) -> str:
    """The bilingual message shown (by the guard script) when the map's scripts fail.

    Hidden while the map works; shown by ``static/gigacov_fallback.js`` when a script or
    stylesheet fails to load or the runtime stops with an error, and by ``<noscript>`` when
    JavaScript is off. It says what failed and how to regenerate the map.
    """
    name = Path(scn.path).name if getattr(scn, "path", None) else "SCENARIO.toml"
    command = html.escape(f"gigacov map {name}")
    if embedded:
        why_zh = "本地图已内嵌全部脚本（无需互联网），但脚本运行出错。"
        why_en = "Every script is embedded in this file (no internet needed), but one stopped with an error."
        fix_zh = f"请重新生成地图：<code>{command} --recompute</code>"
        fix_en = f"Regenerate the map: <code>{command} --recompute</code>"
    else:
        host = html.escape(assets.LEAFLET_JS_URL.split("/")[2])
        why_zh = f"本地图以 <code>--cdn</code> 方式生成，需通过互联网从 {host} 加载 Leaflet 地图库；此处无法访问（内网或无网络）。"
        why_en = (
            f"This map was made with <code>--cdn</code>: it loads the Leaflet map library from {host} "
            "over the internet, which cannot be reached here (intranet or no network)."
        )
        fix_zh = f"请重新生成自包含地图（不加 <code>--cdn</code>）：<code>{command}</code>"
        fix_en = (
            f"Regenerate a self-contained map (without <code>--cdn</code>): <code>{command}</code>"
        )
    body = (
        '<div class="gc-fallback-title">地图无法显示 · The map could not be shown</div>'
        f'<p lang="zh-CN">{why_zh}<br>{fix_zh}</p>'
        f'<p lang="en">{why_en}<br>{fix_en}</p>'
    )
    return (
        f'<div id="gc-fallback" class="gc-fallback" role="alert" style="display:none">{body}'
        '<div class="gc-fallback-what">未能加载或运行 · What failed:'
        '<ul id="gc-fallback-what"></ul></div></div>'
        f'<noscript><div class="gc-fallback" role="alert">{body}'
        "<p>浏览器已禁用 JavaScript · JavaScript is turned off in this browser.</p></div></noscript>"
    )


def render_map(
    run: RunResult, *, offline: bool | None = None, basemap: str | None = None
) -> RenderedMap:
    """Build the map page of a run in memory (see :func:`build_map` for the parameters)."""
    import folium
    from branca.element import MacroElement
    from jinja2 import Template

    t_start = time.perf_counter()
    chosen, use_offline, section = _options(run, offline, basemap)
    if use_offline:
        leaflet_js, leaflet_css = assets.offline_leaflet()  # fails early when not installed
    datum = "gcj02" if chosen == "amap" else "wgs84"
    display = Display(datum, float(section.simplify_m))
    scn = run.scenario
    compliance = run.compliance if isinstance(run.compliance, pd.DataFrame) else None
    standards = _standards(run, compliance)
    statuses = unit_status(compliance, run.standards)
    levels = _counties_and_cities(run)
    definitions = getattr(run.indicators, "definitions", None)
    county_names: dict[str, str] = {}
    if "county" in levels and "name" in levels["county"].columns:
        county_names = dict(
            zip(
                levels["county"]["admin_code"].astype(str),
                levels["county"]["name"].astype(str),
                strict=True,
            )
        )

    # -- title -------------------------------------------------------------------------------
    std_titles = [s.title for s in standards]
    title = f"{scn.title} — {scn.year} — {', '.join(std_titles) if std_titles else 'no standard'}"
    if scn.scenario.synthetic and "synthetic data" not in title.lower():
        title += " — synthetic data"

    bounds = _bounds_latlon(run, display, levels)
    centre = [(bounds[0][0] + bounds[1][0]) / 2.0, (bounds[0][1] + bounds[1][1]) / 2.0]
    m = folium.Map(
        location=centre,
        tiles=None,
        zoom_start=9,
        prefer_canvas=True,
        control_scale=True,
        **{"maxZoom": 18},
    )
    figure = m.get_root()
    figure.title = html.escape(title)
    # First in <head>: the guard that shows a message instead of a blank page when scripts fail.
    figure.header.add_child(_Raw(_script(assets.fallback_js())), name="gigacov_guard")
    if use_offline:
        m.default_js = []
        m.default_css = []
        figure.header.add_child(_Raw(f"<style>{leaflet_css}</style>"), name="leaflet_css")
        figure.header.add_child(_Raw(_script(leaflet_js)), name="leaflet_js")
    else:
        m.default_js = [("leaflet", assets.LEAFLET_JS_URL)]
        m.default_css = [("leaflet_css", assets.LEAFLET_CSS_URL)]
    figure.header.add_child(_Raw(f"<style>{assets.own_css()}</style>"), name="gigacov_css")
    # A plain light background under the overlays: what shows where tiles cannot be loaded
    # (no network) or with no basemap; tiles cover it when they load.
    figure.header.add_child(
        _Raw(f"<style>#{m.get_name()} {{ background: #eef1f4; }}</style>"), name="gigacov_blank"
    )

    layer_names: list[str] = []
    layer_keys: dict[str, str] = {}
    groups: dict[str, Any] = {}
    layer_bytes: dict[str, int] = {}
    counts: dict[str, int] = {}
    legend: list[dict[str, Any]] = []
    payload: dict[str, Any] = {"opacity": float(section.raster_opacity), "rasters": []}

    # -- basemap -----------------------------------------------------------------------------
    if chosen == "osm":
        name = _bi("OpenStreetMap 底图", "OpenStreetMap")
        tile = folium.TileLayer("OpenStreetMap", name=name, max_zoom=19)
        tile.add_to(m)
        layer_names.append(name)
    elif chosen == "tianditu":
        key = section.tianditu_key.strip()
        common = (
            "SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        )
        folium.TileLayer(
            tiles=f"https://t{{s}}.tianditu.gov.cn/vec_w/wmts?{common}&LAYER=vec&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}",
            attr="&copy; 天地图 Tianditu",
            name=_bi("天地图", "Tianditu"),
            subdomains="01234567",
            max_zoom=18,
        ).add_to(m)
        folium.TileLayer(
            tiles=f"https://t{{s}}.tianditu.gov.cn/cva_w/wmts?{common}&LAYER=cva&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}",
            attr="&copy; 天地图 Tianditu",
            name="Tianditu labels",
            subdomains="01234567",
            max_zoom=18,
            overlay=True,
            control=False,
        ).add_to(m)
        layer_names.append(_bi("天地图", "Tianditu"))
    elif chosen == "amap":
        folium.TileLayer(
            tiles="https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            attr="&copy; 高德地图 AutoNavi (GCJ-02; overlays shifted to GCJ-02)",
            name=_bi("高德地图", "Amap (GCJ-02)"),
            subdomains="1234",
            max_zoom=18,
        ).add_to(m)
        layer_names.append(_bi("高德地图", "Amap (GCJ-02)"))

    def add_group(key: str, name: str, show: bool) -> Any:
        fg = folium.FeatureGroup(name=html.escape(name), show=show)
        fg.add_to(m)
        groups[key] = fg
        layer_names.append(name)
        layer_keys[name] = key
        return fg

    # -- coverage overlays -------------------------------------------------------------------
    rasters: dict[str, WarpedRaster] = {}
    t0 = time.perf_counter()
    for tech in ("5G", "4G"):
        cov = (run.coverage or {}).get(tech)
        if cov is None:
            continue
        classes = rsrp_classes(cov.rsrp_dbm)
        warped = warp_to_web_mercator(classes, cov.grid, max_pixels=int(section.raster_max_pixels))
        if datum == "gcj02":
            warped = shift_to_gcj02(warped)
        rasters[tech] = warped
        png = encode_png(warped.classes, {v: c for v, c, _ in RSRP_CLASSES})
        url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        key = f"coverage_{tech.lower()}"
        signal = "SS-RSRP" if tech == "5G" else "RSRP"
        name = _bi(f"{tech}覆盖 ({signal})", f"{tech} coverage ({signal})")
        overlay = folium.raster_layers.ImageOverlay(
            image=url,
            bounds=warped.bounds_latlon,
            name=html.escape(name),
            opacity=float(section.raster_opacity),
            show=(tech == "5G"),
            pixelated=True,
            interactive=False,
        )
        overlay.add_to(m)
        groups[key] = overlay
        layer_names.append(name)
        layer_keys[name] = key
        layer_bytes[key] = len(url)
        payload["rasters"].append(
            {"key": key, "tech": tech, "bounds": warped.bounds_latlon, "shape": list(warped.shape)}
        )
        legend.append(
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
    # Each operator's own 5G coverage (covered = RSRP and SINR thresholds met), one switch each.
    for op, cov in (getattr(run, "coverage_by_operator", None) or {}).items():
        colour = _OPERATOR_COLOURS.get(op, "#555555")
        warped = warp_to_web_mercator(
            (np.asarray(cov.covered) != 0).astype(np.uint8),
            cov.grid,
            max_pixels=int(section.raster_max_pixels),
        )
        if datum == "gcj02":
            warped = shift_to_gcj02(warped)
        png = encode_png(warped.classes, {1: colour})
        url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        key = f"coverage_5g_{operator_slug(op)}"
        name = _bi(f"{OPERATOR_ZH.get(op, op)}自有5G覆盖", f"5G covered — {op}")
        overlay = folium.raster_layers.ImageOverlay(
            image=url,
            bounds=warped.bounds_latlon,
            name=html.escape(name),
            opacity=float(section.raster_opacity),
            show=False,
            pixelated=True,
            interactive=False,
        )
        overlay.add_to(m)
        groups[key] = overlay
        layer_names.append(name)
        layer_keys[name] = key
        layer_bytes[key] = len(url)
        payload["rasters"].append(
            {"key": key, "tech": "5G", "bounds": warped.bounds_latlon, "shape": list(warped.shape)}
        )
        legend.append(
            {
                "keys": [key],
                "title": f"{operator_label(op)}: own 5G coverage (its cells only)",
                "items": [[colour, "covered (RSRP and SINR thresholds met)", "box"]],
                "slider": True,
            }
        )
    t_raster = time.perf_counter() - t0

    # -- counties and cities by compliance status --------------------------------------------
    payload["geoms"] = {}
    payload["units"] = []
    status_legend_keys: list[str] = []
    for level, label in (
        ("county", _bi("区县达标", "Counties")),
        ("city", _bi("地市达标", "Cities")),
    ):
        if level not in levels:
            continue
        units = levels[level]
        metas = indicator_meta(definitions, units.columns)
        # A layer per standard that judges this level (has compliance rows for it).
        level_stds = standards
        if (
            compliance is not None
            and len(compliance)
            and {"standard", "level"} <= set(compliance.columns)
        ):
            judged = set(
                compliance.loc[compliance["level"].astype(str) == level, "standard"].astype(str)
            )
            level_stds = [s for s in standards if s.id in judged]
        elif compliance is None or not len(compliance):
            level_stds = []
        fc = units_layer(
            units,
            level,
            standards=level_stds,
            compliance=compliance,
            statuses=statuses,
            metas=metas,
            display=display,
        )
        payload["geoms"][level] = fc
        layer_bytes[f"units_{level}"] = len(_json_for_script(fc))
        counts[level] = len(fc["features"])
        std_list = level_stds or [None]
        for i, std in enumerate(std_list):
            key = f"{level}_{i}"
            add_group(
                key,
                f"{label} — {_short_title(std)}" if std is not None else label,
                show=(level == "county" and i == 0),
            )
            payload["units"].append(
                {"key": key, "level": level, "std": std.id if std is not None else ""}
            )
            status_legend_keys.append(key)
            counts[key] = counts[level]
    if status_legend_keys:
        legend.append(
            {
                "keys": status_legend_keys,
                "title": "达标情况 / compliance status (click a unit for shortfalls)",
                "items": [
                    [STATUS_COLOURS[s], STATUS_LABELS[s], "box"]
                    for s in STATUS_COLOURS
                    if s != "at_risk" or (statuses["status"] == "at_risk").any()
                ],
            }
        )

    # -- villages ----------------------------------------------------------------------------
    if "village" in levels:
        fibre_thr = _fibre_threshold(compliance, run)
        fc = villages_layer(
            levels["village"], display=display, fibre_threshold=fibre_thr, county_names=county_names
        )
        n = len(fc["features"])
        gate = n >= int(section.village_zoom_gate)
        payload["villages"] = {
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
        layer_bytes["villages"] = len(_json_for_script(fc))
        counts["villages_5g"] = counts["villages_fibre"] = n
        add_group("villages_5g", _bi("行政村5G通达", "Villages — 5G reach"), show=True)
        add_group("villages_fibre", _bi("行政村千兆光纤", "Villages — gigabit fibre"), show=False)
        note = (
            f"{n:,} villages: shown from zoom level {int(section.village_min_zoom)}" if gate else ""
        )
        legend.append(
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
        legend.append(
            {
                "keys": ["villages_fibre"],
                "title": "Villages: households with gigabit fibre",
                "note": note,
                "zoomNote": gate,
                "items": [[c, lab, "box"] for _, c, lab in fibre_classes(fibre_thr)]
                + [[VILLAGE_REACH_COLOURS[None], "no data", "box"]],
            }
        )

    # -- key places and roads ----------------------------------------------------------------
    places = getattr(run.indicators, "key_places", None)
    if places is None:
        places = getattr(run.inputs, "key_places", None)
    if places is not None and len(places):
        cov5 = (run.coverage or {}).get("5G")
        kp = key_places_layer(
            places,
            grid=cov5.grid if cov5 is not None else run.grid,
            covered=cov5.covered if cov5 is not None else None,
            display=display,
        )
        payload["keyPlaces"] = {"points": kp["points"], "areas": kp["areas"]}
        layer_bytes["key_places"] = len(_json_for_script(payload["keyPlaces"]))
        if kp["points"] or kp["areas"]["features"]:
            counts["key_places"] = len(kp["points"])
            add_group("key_places", _bi("重点场所5G通达", "Key places — 5G reach"), show=True)
            cats = sorted(
                {p[2] for p in kp["points"]},
                key=lambda c: list(KEY_PLACE_SYMBOLS).index(c) if c in KEY_PLACE_SYMBOLS else 99,
            )
            legend.append(
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
                            f"{KEY_PLACE_SYMBOLS.get(c, KEY_PLACE_SYMBOLS['other'])[0]}  {KEY_PLACE_SYMBOLS.get(c, (c, c))[1]}",
                            "text",
                        ]
                        for c in cats
                    ],
                }
            )
        if kp["roads"]:
            payload["roads"] = kp["roads"]
            layer_bytes["roads"] = len(_json_for_script(kp["roads"]))
            counts["roads"] = len(kp["roads"])
            add_group("roads", _bi("重点道路5G覆盖", "Key roads — 5G coverage"), show=True)
            legend.append(
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

    # -- sites -------------------------------------------------------------------------------
    cells = getattr(run.inputs, "cells", None)
    if cells is not None and len(cells):
        t1 = time.perf_counter()
        sites = sites_layer(cells, display=display)
        payload["sites"] = sites
        layer_bytes["sites"] = len(_json_for_script(sites))
        kinds = np.asarray(sites["kind"])
        counts["sites"] = len(kinds)
        layers = []
        if (kinds == 1).any():
            counts["sites_5g"] = int((kinds == 1).sum())
            add_group("sites_5g", _bi("5G基站", "5G sites"), show=True)
            layers.append({"key": "sites_5g", "kind": 1, "colour": _SITE_COLOURS["sites_5g"]})
        if (kinds == 2).any():
            counts["sites_4g"] = int((kinds == 2).sum())
            add_group("sites_4g", _bi("仅4G基站", "4G-only sites"), show=False)
            layers.append({"key": "sites_4g", "kind": 2, "colour": _SITE_COLOURS["sites_4g"]})
        sites["layers"] = layers
        sites["single_zoom"] = SITE_SINGLE_ZOOM
        legend.append(
            {
                "keys": [lay["key"] for lay in layers],
                "title": "Base-station sites (click for cells)",
                "items": [
                    [
                        lay["colour"],
                        "site with 5G cells" if lay["kind"] == 1 else "site with 4G cells only",
                        "circle",
                    ]
                    for lay in layers
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

    # -- planning ----------------------------------------------------------------------------
    plan = run.plan
    gaps = getattr(plan, "gaps", None) if plan is not None else None
    if gaps is not None and len(gaps):
        payload["gaps"] = gaps_layer(gaps, display=display, county_names=county_names)
        layer_bytes["gaps"] = len(_json_for_script(payload["gaps"]))
        counts["gaps"] = len(payload["gaps"]["features"])
        # Off at the first view: on a real province weak coverage spans most inland counties and
        # would hide the compliance colours, which are what the map is for. One click shows it.
        add_group("gaps", _bi("弱覆盖区域", "Weak-coverage areas"), show=False)
        legend.append(
            {
                "keys": ["gaps"],
                "title": "Weak 5G coverage (hover for population)",
                "items": [[_GAP_COLOUR, "weak-coverage area", "hatch"]],
            }
        )
    rec = getattr(plan, "recommended", None) if plan is not None else None
    if rec is not None and len(rec):
        payload["recommended"] = recommended_layer(rec, display=display, county_names=county_names)
        layer_bytes["recommended"] = len(_json_for_script(payload["recommended"]))
        counts["recommended"] = len(payload["recommended"])
        add_group("recommended", _bi("建议新建站址", "Recommended new sites"), show=True)
        legend.append(
            {
                "keys": ["recommended"],
                "title": "Recommended new sites",
                "items": [[_RECOMMENDED_COLOUR, "recommended site (click for details)", "star"]],
            }
        )

    # -- field check (measurements) ----------------------------------------------------------
    from .field import add_field_layers

    add_field_layers(
        run,
        display,
        payload,
        add_group,
        legend,
        counts,
        layer_bytes,
        lambda obj: len(_json_for_script(obj)),
    )

    payload["legend"] = legend
    payload["keyPlaceSymbols"] = {k: v[0] for k, v in KEY_PLACE_SYMBOLS.items()}
    payload["statusColours"] = STATUS_COLOURS
    payload["roadColours"] = {str(k): v for k, v in _ROAD_COLOURS.items()}
    payload["gapColour"] = _GAP_COLOUR
    payload["recommendedColour"] = _RECOMMENDED_COLOUR
    payload["datum"] = datum
    payload["layerNames"] = {key: name for name, key in layer_keys.items()}

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    payload["bounds"] = bounds  # the runtime fits the view to them, without animation

    # -- page furniture: title bar, data, runtime --------------------------------------------
    sub = [str(scn.year)] + ([f"standard: {', '.join(std_titles)}"] if std_titles else [])
    badge = '<span class="gc-synthetic">synthetic data</span>' if scn.scenario.synthetic else ""
    basemap_note = {"amap": "basemap Amap — overlays shifted to GCJ-02", "none": "no basemap"}.get(
        chosen, ""
    )
    title_html = (
        f'<div class="gc-title"><div class="gc-title-main">{html.escape(scn.title)} {badge}</div>'
        f'<div class="gc-title-sub">{html.escape(" · ".join(sub))}'
        f"{' · ' + html.escape(basemap_note) if basemap_note else ''}</div></div>"
    )
    data_text = _json_for_script(payload)
    figure.html.add_child(_Raw(title_html), name="gigacov_title")
    figure.html.add_child(_Raw(_fallback_html(scn, use_offline)), name="gigacov_fallback")
    figure.html.add_child(
        _Raw(f'<script type="application/json" id="gigacov-data">{data_text}</script>'),
        name="gigacov_data",
    )
    figure.html.add_child(_Raw(_script(assets.own_js())), name="gigacov_js")
    layer_bytes["runtime_js_css"] = len(assets.own_js()) + len(assets.own_css())
    if use_offline:
        layer_bytes["leaflet_embedded"] = len(leaflet_js) + len(leaflet_css)

    builder = MacroElement()
    builder._name = "GigacovLayers"
    builder._template = Template(
        "{% macro script(this, kwargs) %}"
        "gigacov.build({{ this._parent.get_name() }}, "
        "JSON.parse(document.getElementById('gigacov-data').textContent), { "
        "{% for key, layer in this.groups.items() %}{{ key|tojson }}: {{ layer.get_name() }},{% endfor %}"
        "});"
        "{% endmacro %}"
    )
    builder.groups = groups
    m.add_child(builder)

    html_text = figure.render()
    timings = {"raster_s": round(t_raster, 3), "total_s": round(time.perf_counter() - t_start, 3)}
    return RenderedMap(
        html=html_text,
        title=title,
        layer_names=layer_names,
        layer_keys=layer_keys,
        layer_bytes=layer_bytes,
        rasters=rasters,
        counts=counts,
        basemap=chosen,
        offline=use_offline,
        datum=datum,
        timings=timings,
    )
