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

import html
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..run_result import RunResult
from ..rundir import write_atomic
from ..scenario import BASEMAPS
from . import assets
from .compose import LAYERS, RASTER_LAYERS, MapLayers, page_colours
from .encoding import Display
from .page import Raw, fallback_html, json_for_script, script_tag
from .raster import WarpedRaster

__all__ = ["build_map", "render_map", "RenderedMap", "default_map_path"]

log = logging.getLogger(__name__)

_TIANDITU_KEY_RE = re.compile(r"^[A-Za-z0-9]+$")


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


def render_map(
    run: RunResult, *, offline: bool | None = None, basemap: str | None = None
) -> RenderedMap:
    """Build the map page of a run in memory (see :func:`build_map` for the parameters).

    The page is folium's map with Leaflet (embedded or from a CDN), gigacov's stylesheet and the
    guard script in its head; the layers of :data:`gigacov.maps.compose.LAYERS`, each added by
    its own function; then the title bar, the fallback message, the layers' data as one JSON
    document and the runtime that fills the layers from it.
    """
    import folium
    from branca.element import MacroElement
    from jinja2 import Template

    t_start = time.perf_counter()
    chosen, use_offline, section = _options(run, offline, basemap)
    if use_offline:
        leaflet_js, leaflet_css = assets.offline_leaflet()  # fails early when not installed
    lay = MapLayers.for_run(run, section, chosen)
    scn = run.scenario

    # -- title -------------------------------------------------------------------------------
    std_titles = [s.title for s in lay.standards]
    title = f"{scn.title} — {scn.year} — {', '.join(std_titles) if std_titles else 'no standard'}"
    if scn.scenario.synthetic and "synthetic data" not in title.lower():
        title += " — synthetic data"

    bounds = _bounds_latlon(run, lay.display, lay.levels)
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
    figure.header.add_child(Raw(script_tag(assets.fallback_js())), name="gigacov_guard")
    if use_offline:
        m.default_js = []
        m.default_css = []
        figure.header.add_child(Raw(f"<style>{leaflet_css}</style>"), name="leaflet_css")
        figure.header.add_child(Raw(script_tag(leaflet_js)), name="leaflet_js")
    else:
        m.default_js = [("leaflet", assets.LEAFLET_JS_URL)]
        m.default_css = [("leaflet_css", assets.LEAFLET_CSS_URL)]
    figure.header.add_child(Raw(f"<style>{assets.own_css()}</style>"), name="gigacov_css")
    # A plain light background under the overlays: what shows where tiles cannot be loaded
    # (no network) or with no basemap; tiles cover it when they load.
    figure.header.add_child(
        Raw(f"<style>#{m.get_name()} {{ background: #eef1f4; }}</style>"), name="gigacov_blank"
    )

    # -- the layers, one function each -------------------------------------------------------
    lay.map = m
    t_raster = 0.0
    for add_layer in LAYERS:
        t0 = time.perf_counter()
        add_layer(lay)
        if add_layer in RASTER_LAYERS:
            t_raster += time.perf_counter() - t0

    payload = lay.payload
    payload["legend"] = lay.legend
    payload.update(page_colours())
    payload["datum"] = lay.datum
    payload["layerNames"] = {key: name for name, key in lay.keys.items()}

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
    data_text = json_for_script(payload)
    figure.html.add_child(Raw(title_html), name="gigacov_title")
    figure.html.add_child(Raw(fallback_html(scn, use_offline)), name="gigacov_fallback")
    figure.html.add_child(
        Raw(f'<script type="application/json" id="gigacov-data">{data_text}</script>'),
        name="gigacov_data",
    )
    figure.html.add_child(Raw(script_tag(assets.own_js())), name="gigacov_js")
    layer_bytes = lay.bytes
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
    builder.groups = lay.groups
    m.add_child(builder)

    html_text = figure.render()
    timings = {"raster_s": round(t_raster, 3), "total_s": round(time.perf_counter() - t_start, 3)}
    return RenderedMap(
        html=html_text,
        title=title,
        layer_names=lay.names,
        layer_keys=lay.keys,
        layer_bytes=layer_bytes,
        rasters=lay.rasters,
        counts=lay.counts,
        basemap=chosen,
        offline=use_offline,
        datum=lay.datum,
        timings=timings,
    )
