"""gigacov maps in headless Chromium (tests/browser.py): they load, draw and escape.

:func:`check_map` holds the assertions and takes any map file, so it can be pointed at the real
demo map as well::

    from support.map_browser import check_map
    check_map(Path("maps/quanzhou-2024.html"), layers=[...], feature_counts={"区县达标 / Counties — …": 12})

Every page here runs with the network blocked. The online variant links Leaflet from its CDN
address; those two requests are answered from the installed ``django-js-lib-leaflet`` files and
tile requests with a blank PNG, so that the page is exercised exactly as written without a
network. Screenshots and load figures go to ``test-artifacts/`` (repository root, gitignored).
"""

from __future__ import annotations

import json
import re
import time

import pytest
from browser import chromium_page
from support.map_browser import (
    ARTIFACTS,
    LAYER_NAMES_JS,
    check_map,
)
from support.map_run import STD1, expected_overlay_bounds, make_grid, make_run

from gigacov.maps import build_map

pytestmark = pytest.mark.browser

EXPECTED_LAYERS = [
    "5G覆盖 (SS-RSRP) / 5G coverage (SS-RSRP)",
    "4G覆盖 (RSRP) / 4G coverage (RSRP)",
    "区县达标 / Counties — MIIT gigabit city 2021",
    "区县达标 / Counties — Fujian 2024 targets",
    "地市达标 / Cities — MIIT gigabit city 2021",
    "行政村5G通达 / Villages — 5G reach",
    "行政村千兆光纤 / Villages — gigabit fibre",
    "重点场所5G通达 / Key places — 5G reach",
    "重点道路5G覆盖 / Key roads — 5G coverage",
    "5G基站 / 5G sites",
    "仅4G基站 / 4G-only sites",
    "弱覆盖区域 / Weak-coverage areas",
    "建议新建站址 / Recommended new sites",
]
EXPECTED_COUNTS = {
    "区县达标 / Counties — MIIT gigabit city 2021": 3,
    "区县达标 / Counties — Fujian 2024 targets": 3,
    "地市达标 / Cities — MIIT gigabit city 2021": 1,
    "行政村5G通达 / Villages — 5G reach": 6,
    "重点场所5G通达 / Key places — 5G reach": 3,
    "5G基站 / 5G sites": 2,
    "弱覆盖区域 / Weak-coverage areas": 2,
    "建议新建站址 / Recommended new sites": 2,
}


def test_online_map_loads_and_works(tmp_path):
    path = build_map(make_run(), tmp_path / "online.html", offline=False, basemap="osm")
    fig = check_map(
        path,
        layers=["OpenStreetMap 底图 / OpenStreetMap", *EXPECTED_LAYERS],
        feature_counts=EXPECTED_COUNTS,
        raster_bounds=expected_overlay_bounds(make_grid()),
        screenshot="map-online",
    )
    assert fig["blocked"] == []  # Leaflet and tiles answered locally, nothing else requested


def test_offline_map_needs_no_network(tmp_path):
    path = build_map(make_run(), tmp_path / "offline.html", offline=True, basemap="none")
    fig = check_map(
        path,
        layers=EXPECTED_LAYERS,
        feature_counts=EXPECTED_COUNTS,
        raster_bounds=expected_overlay_bounds(make_grid()),
        serve_cdn=False,
        screenshot="map-offline",
    )
    assert fig["blocked"] == []  # not a single request left the page


def test_controls_legend_and_opacity(tmp_path):
    path = build_map(make_run(), tmp_path / "m.html", offline=True, basemap="none")
    with chromium_page(block_network=True) as page:
        page.goto(path.as_uri())
        page.wait_for_function("() => window.gigacov && gigacov.ready")
        visible = "(k) => getComputedStyle(document.querySelector(`.gc-legend-section[data-keys~='${k}']`)).display"
        assert page.evaluate(visible, "coverage_5g") == "block"
        assert page.evaluate(visible, "coverage_4g") == "none"  # off by default
        # A person ticks "4G coverage" in the layer control: its overlay and legend appear.
        page.get_by_text("4G覆盖 (RSRP) / 4G coverage (RSRP)", exact=True).click()
        page.wait_for_timeout(100)
        assert page.evaluate("() => gigacov.map.hasLayer(gigacov.layers.coverage_4g)") is True
        assert page.evaluate(visible, "coverage_4g") == "block"
        # The opacity slider drives every coverage overlay.
        page.locator(".gc-opacity-input").first.fill("20")
        page.locator(".gc-opacity-input").first.dispatch_event("input")
        assert page.evaluate(
            "() => [gigacov.layers.coverage_5g.options.opacity, gigacov.layers.coverage_4g.options.opacity]"
        ) == [0.2, 0.2]
        # Hovering a county shows its indicator table; clicking shows the shortfalls.
        page.evaluate(
            "() => { const l = gigacov.inner.county_0.getLayers()[1]; l.openTooltip(l.getBounds().getCenter()); }"
        )
        tip = page.locator(".gc-tooltip").first.inner_text()
        assert "晋江市" in tip and "5G base stations per 10,000 people" in tip and "10.3" in tip
        page.evaluate(
            "() => { const l = gigacov.inner.county_0.getLayers()[1]; l.openPopup(l.getBounds().getCenter()); }"
        )
        assert (
            "needs 37 more 5G base stations"
            in page.locator(".leaflet-popup-content").last.inner_text()
        )
        assert page.errors == []


def test_villages_appear_only_from_their_zoom_level(tmp_path):
    run = make_run(map_settings={"village_zoom_gate": 6, "village_min_zoom": 15})
    path = build_map(run, tmp_path / "v.html", offline=True, basemap="none")
    with chromium_page(block_network=True) as page:
        page.goto(path.as_uri())
        page.wait_for_function("() => window.gigacov && gigacov.ready")
        assert page.evaluate("() => gigacov.map.getZoom()") < 15
        assert page.evaluate("() => gigacov.drawn('villages_5g')") == 0
        assert page.locator(".gc-zoom-note").first.is_visible()
        page.evaluate("() => { gigacov.map.setZoom(15, {animate: false}); }")
        page.wait_for_function("() => gigacov.drawn('villages_5g') > 0")
        assert page.evaluate("() => gigacov.drawn('villages_5g')") == 6
        assert not page.locator(".gc-zoom-note").first.is_visible()
        assert page.errors == []


def test_recommended_sites_are_drawn_small_at_city_scale(tmp_path):
    path = build_map(make_run(), tmp_path / "r.html", offline=True, basemap="none")
    star_px = "() => parseFloat(getComputedStyle(document.querySelector('.gc-rec')).fontSize)"
    with chromium_page(block_network=True) as page:
        page.goto(path.as_uri())
        page.wait_for_function("() => window.gigacov && gigacov.ready")
        page.evaluate("() => { gigacov.map.setZoom(9, {animate: false}); }")
        page.wait_for_timeout(100)
        far = page.evaluate(star_px)
        page.evaluate("() => { gigacov.map.setZoom(13, {animate: false}); }")
        page.wait_for_timeout(100)
        near = page.evaluate(star_px)
        assert (far, near) == (13.0, 22.0)
        assert page.errors == []


def test_malicious_names_render_as_text(tmp_path):
    evil = '<img src=x onerror="window.__pwned=1">'
    script = "<script>window.__pwned=2</script>"
    run = make_run(
        names={"350582": evil, "350581100000": script},
        site_name=f"{script}{evil}",
        key_place_name=evil,
        title=f"Map {script}",
    )
    path = build_map(run, tmp_path / "evil.html", offline=True, basemap="none")
    with chromium_page(block_network=True) as page:
        page.goto(path.as_uri())
        page.wait_for_function("() => window.gigacov && gigacov.ready")
        # Show every place a name appears: county tooltip and popup, village tooltip, key-place
        # tooltip, site popup; the title bar and the <title> are already there.
        page.evaluate(
            "() => { const l = gigacov.inner.county_0.getLayers()[1]; l.openTooltip(l.getBounds().getCenter()); }"
        )
        county_tip = page.locator(".gc-tooltip").last.inner_text()
        page.evaluate(
            "() => { const l = gigacov.inner.county_0.getLayers()[1]; l.openPopup(l.getBounds().getCenter()); }"
        )
        county_pop = page.locator(".leaflet-popup-content").last.inner_text()
        page.evaluate(
            "() => { const l = gigacov.inner.villages_5g.getLayers()[0]; l.openTooltip(l.getBounds().getCenter()); }"
        )
        village_tip = page.locator(".gc-tooltip").last.inner_text()
        page.evaluate("() => { gigacov.inner.key_places.getLayers()[0].openTooltip(); }")
        kp_tip = page.locator(".gc-tooltip").last.inner_text()
        page.evaluate("() => gigacov.sites.sites_5g.openSite(0)")
        site_pop = page.locator(".leaflet-popup-content").last.inner_text()
        title_bar = page.locator(".gc-title").inner_text()
        page.wait_for_timeout(300)  # give any injected handler time to run
        assert page.evaluate("() => window.__pwned") is None
        assert (
            page.evaluate(
                "() => document.querySelectorAll('img[src=\"x\"], .leaflet-pane script').length"
            )
            == 0
        )
        assert evil in county_tip and evil in county_pop
        assert script in village_tip and evil in kp_tip
        assert f"{script}{evil}" in site_pop
        assert script in title_bar and script in page.title()
        assert page.errors == []


def test_20000_sites_stay_clustered(tmp_path):
    """Load a map with 20,000 sites; record load figures (no timing assertion: see benchmarks/)."""
    run = make_run(n_sites=20_000)
    t0 = time.perf_counter()
    path = build_map(run, tmp_path / "sites20k.html", offline=True, basemap="none")
    build_s = time.perf_counter() - t0
    fig = check_map(
        path,
        layers=["5G基站 / 5G sites", "仅4G基站 / 4G-only sites"],
        feature_counts={},
        serve_cdn=False,
        screenshot="map-20000-sites",
    )
    with chromium_page(block_network=True) as page:
        page.goto(path.as_uri())
        page.wait_for_function("() => window.gigacov && gigacov.ready")
        # 20,000 sites on a test area a dozen km wide: the first view is already at zoom 13+
        # (single sites); one step out they are clusters.
        page.evaluate("() => gigacov.map.setZoom(12, {animate: false})")
        page.wait_for_timeout(200)
        stats = page.evaluate("() => gigacov.siteStats.sites_5g")
        n5 = int(
            sum(
                1
                for k in json.loads(page.evaluate("() => JSON.stringify(gigacov.data.sites.kind)"))
                if k == 1
            )
        )
        assert stats["sites"] == n5 > 10_000
        assert 0 < stats["clusters"] + stats["singles"] < 2_000
        dom_markers = page.evaluate(
            "() => document.querySelectorAll('.leaflet-marker-icon').length"
        )
        assert dom_markers < 2_000  # clusters only: no DOM marker per site
        # The clusters in view account for every 5G site in view.
        counted = page.evaluate(
            "() => Array.from(document.querySelectorAll('.gc-cluster-sites_5g span')).reduce((a, s) => a + Number(s.textContent), 0)"
        )
        assert counted + stats["singles"] == n5
        # Zoomed in to street level, sites are single canvas circles and open their cells.
        t1 = page.evaluate("() => performance.now()")
        page.evaluate(
            "() => { gigacov.map.setView([gigacov.data.sites.lat[0], gigacov.data.sites.lon[0]], 16, {animate: false}); }"
        )
        zoom_ms = page.evaluate("(t1) => performance.now() - t1", t1)
        zoomed = page.evaluate("() => gigacov.siteStats.sites_5g")
        assert zoomed["clusters"] == 0 and zoomed["singles"] > 0
        page.evaluate("() => gigacov.sites.sites_5g.openSite(0)")
        assert "Q000000" in page.locator(".leaflet-popup-content").last.inner_text()
        assert page.errors == []
    figures = {
        "sites": 20_000,
        "build_map_s": round(build_s, 2),
        "file_mb": round(path.stat().st_size / 1e6, 2),
        "load_ms": round(fig["load_ms"], 1),
        "wall_ms_until_ready": fig["wall_ms_until_ready"],
        "dom_markers_at_start": fig["dom_markers"],
        "clusters_at_start": stats["clusters"],
        "cluster_redraw_ms": round(stats["lastMs"], 2),
        "zoom_to_16_ms": round(zoom_ms, 1),
        "note": "measured in the test run (machine may be busy); not asserted",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "map-20000-sites.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures))


def test_check_map_fails_on_a_wrong_count(tmp_path):
    path = build_map(make_run(), tmp_path / "m.html", offline=True, basemap="none")
    with pytest.raises(
        AssertionError,
        match=r"区县达标 / Counties — MIIT gigabit city 2021.*3 features, expected 4",
    ):
        check_map(
            path,
            layers=[],
            feature_counts={f"区县达标 / Counties — {STD1.title}": 4},
            serve_cdn=False,
        )


def test_default_map_renders_with_no_network_at_all(tmp_path):
    """The default map (OSM basemap, nothing passed) with every request refused: no CDN, no tiles."""
    path = build_map(make_run(), tmp_path / "default.html")
    with chromium_page(block_network=True) as page:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function("() => window.L && window.gigacov && gigacov.ready === true")
        page.wait_for_timeout(300)
        # Leaflet rendered: its panes, the overlays and the layer control are in the page.
        assert page.locator(".leaflet-map-pane").count() == 1
        assert page.evaluate("() => gigacov.map.hasLayer(gigacov.layers.coverage_5g)") is True
        names = page.evaluate(LAYER_NAMES_JS)
        assert [
            n for n in ["OpenStreetMap 底图 / OpenStreetMap", *EXPECTED_LAYERS] if n not in names
        ] == []
        assert (
            page.evaluate(
                "() => gigacov.featureCount(gigacov.keyOf('Counties — MIIT gigabit city 2021'))"
            )
            == 3
        )
        # Only basemap tiles were asked for (and refused); the page says so and shows no error box.
        assert page.blocked and all("tile.openstreetmap.org" in u for u in page.blocked)
        assert "basemap tiles unavailable" in page.locator(".gc-title-sub").inner_text()
        assert not page.locator("#gc-fallback").is_visible()
        scripts = [e for e in page.errors if "Failed to load resource" not in e]
        assert scripts == [], scripts
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map-default-no-network.png"))


def test_cdn_map_without_network_explains_itself(tmp_path):
    """A --cdn map where the CDN cannot be reached is a bilingual message, not a blank page."""
    path = build_map(make_run(), tmp_path / "cdn.html", offline=False, basemap="none")
    with chromium_page(block_network=True) as page:
        page.goto(path.as_uri(), wait_until="load")
        box = page.locator("#gc-fallback")
        box.wait_for(state="visible", timeout=10_000)
        text = box.inner_text()
        assert "地图无法显示" in text and "The map could not be shown" in text
        assert "without --cdn" in text and "gigacov map" in text
        assert "cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js" in text  # what failed
        assert any("leaflet.js" in u for u in page.blocked)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map-cdn-no-network.png"))


def test_a_failing_embedded_script_shows_the_message(tmp_path):
    path = build_map(make_run(), tmp_path / "broken.html", basemap="none")
    text = path.read_text(encoding="utf-8")
    # Simulate a corrupted copy: the runtime's entry point throws.
    path.write_text(
        text.replace(
            "G.build = function (map, data, groups) {",
            "G.build = function (map, data, groups) { throw new Error('corrupted copy');",
            1,
        ),
        encoding="utf-8",
    )
    with chromium_page(block_network=True) as page:
        page.goto(path.as_uri(), wait_until="load")
        box = page.locator("#gc-fallback")
        box.wait_for(state="visible", timeout=10_000)
        assert "corrupted copy" in box.inner_text() and "--recompute" in box.inner_text()


def test_first_view_shows_compliance_weak_coverage_off_clusters_break_legend_folds(tmp_path):
    """The map's first view is about compliance: the county fill is on and not covered by the
    weak-coverage layer (off until asked for); sites are single points from zoom 13; the legend
    folds away; layer names are bilingual."""
    path = build_map(make_run(), tmp_path / "first.html", offline=True, basemap="none")
    with chromium_page(block_network=True) as page:
        page.goto(path.as_uri())
        page.wait_for_function("() => window.gigacov && gigacov.ready")
        state = page.evaluate(
            """() => {
              const G = gigacov, on = k => G.map.hasLayer(G.layers[k]);
              const fills = [];
              G.inner.county_0.eachLayer(l => fills.push([l.options.fillColor, l.options.fillOpacity]));
              return {county: on('county_0'), gaps: on('gaps'), fills: fills,
                      colours: G.data.statusColours,
                      names: Object.values(G.data.layerNames)};
            }"""
        )
        assert state["county"] is True and state["gaps"] is False
        assert len(state["fills"]) == 3 and all(op >= 0.25 for _, op in state["fills"])
        assert {c for c, _ in state["fills"]} <= set(state["colours"].values())
        assert all(" / " in n and re.search(r"[\u4e00-\u9fff]", n) for n in state["names"])
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map-first-view.png"))
        # The weak-coverage areas come back with one click in the layer control.
        page.get_by_text("弱覆盖区域 / Weak-coverage areas", exact=True).click()
        page.wait_for_timeout(100)
        assert page.evaluate("() => gigacov.map.hasLayer(gigacov.layers.gaps)") is True
        # Clusters break up by zoom 13.
        page.evaluate("() => gigacov.map.setZoom(13, {animate: false})")
        page.wait_for_timeout(200)
        stats = page.evaluate("() => gigacov.siteStats.sites_5g")
        assert stats["clusters"] == 0
        # The legend folds and unfolds.
        toggle = page.locator(".gc-legend-toggle")
        assert toggle.get_attribute("aria-expanded") == "true"
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "false"
        assert page.locator(".gc-legend-body").is_hidden()
        toggle.click()
        assert page.locator(".gc-legend-body").is_visible()
    # A phone-sized first view starts with the legend folded.
    with chromium_page(viewport=(390, 800), block_network=True) as page:
        page.goto(path.as_uri())
        page.wait_for_function("() => window.gigacov && gigacov.ready")
        assert page.locator(".gc-legend-toggle").get_attribute("aria-expanded") == "false"
        page.screenshot(path=str(ARTIFACTS / "map-first-view-390.png"))
