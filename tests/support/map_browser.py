"""Checking a gigacov map in headless Chromium (tests/browser.py), with the network blocked.

:func:`check_map` holds the assertions and takes any map file, so the demo test points it at the
real demo map as well::

    from support.map_browser import check_map
    check_map(Path("maps/quanzhou-2024.html"), layers=[...], feature_counts={"Counties — …": 12})

The online variant links Leaflet from its CDN address; those two requests are answered from the
installed ``django-js-lib-leaflet`` files and tile requests with a blank PNG, so that the page is
exercised exactly as written without a network. Screenshots and load figures go to
``test-artifacts/`` (repository root, gitignored).
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest
from browser import chromium_page

from gigacov.maps.assets import LEAFLET_CSS_URL, LEAFLET_JS_URL, leaflet_static_dir

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# 1×1 transparent PNG for tile requests.
_BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
_TILE_HOSTS = ("tile.openstreetmap.org", "tianditu.gov.cn", "autonavi.com")

LAYER_NAMES_JS = """
() => Array.from(document.querySelectorAll('.leaflet-control-layers label'))
        .map(l => l.textContent.trim())
"""


def _serve_locally(page) -> None:
    """Answer the Leaflet CDN URLs from the installed package and tile URLs with a blank PNG."""
    folder = leaflet_static_dir()
    files = {
        LEAFLET_JS_URL: (folder / "leaflet.js", "application/javascript"),
        LEAFLET_CSS_URL: (folder / "leaflet.css", "text/css"),
    }

    def handle(route):
        url = route.request.url
        if url in files:
            path, ctype = files[url]
            route.fulfill(status=200, body=path.read_bytes(), content_type=ctype)
        elif any(h in url for h in _TILE_HOSTS):
            route.fulfill(status=200, body=_BLANK_PNG, content_type="image/png")
        else:
            route.fallback()

    page.route("https://**/*", handle)


def check_map(
    path: Path,
    *,
    layers: list[str],
    feature_counts: dict[str, int],
    raster_bounds: list[list[float]] | None = None,
    serve_cdn: bool = True,
    screenshot: str | None = None,
    timeout_ms: int = 60_000,
) -> dict[str, Any]:
    """Open a map in headless Chromium with the network blocked and check that it works.

    Asserts: the page loads Leaflet and the gigacov runtime finishes building; no console or
    page errors; every name in ``layers`` is in the layer control; each layer named in
    ``feature_counts`` holds that many features (e.g. one per county); the 5G coverage overlay's
    bounds equal ``raster_bounds`` (``[[S, W], [N, E]]`` of the warped raster) when given.
    ``serve_cdn`` answers the online page's Leaflet CDN requests from the installed package
    (offline pages make none). Writes a screenshot to ``test-artifacts/<screenshot>.png``.

    Returns figures of the load: ``load_ms`` (navigation start → runtime ready), ``dom_markers``,
    ``blocked`` (URLs the page tried and was refused), ``layer_names``.
    """
    with chromium_page(block_network=True) as page:
        if serve_cdn:
            _serve_locally(page)
        t0 = time.perf_counter()
        page.goto(Path(path).resolve().as_uri(), wait_until="load", timeout=timeout_ms)
        page.wait_for_function(
            "() => window.L && window.gigacov && window.gigacov.ready === true", timeout=timeout_ms
        )
        wall_ms = (time.perf_counter() - t0) * 1000.0
        page.wait_for_timeout(200)
        assert page.errors == [], f"JavaScript errors: {page.errors}"
        names = page.evaluate(LAYER_NAMES_JS)
        missing = [n for n in layers if n not in names]
        assert not missing, f"layers missing from the layer control: {missing}; it has {names}"
        for name, n in feature_counts.items():
            got = page.evaluate(
                "(name) => { const k = gigacov.keyOf(name); return k === null ? null : gigacov.featureCount(k); }",
                name,
            )
            assert got == n, f"layer {name!r}: {got} features, expected {n}"
        if raster_bounds is not None:
            b = page.evaluate(
                "() => { const b = gigacov.layers.coverage_5g.getBounds();"
                " return [[b.getSouth(), b.getWest()], [b.getNorth(), b.getEast()]]; }"
            )
            for got_pair, exp_pair in zip(b, raster_bounds, strict=True):
                assert got_pair == pytest.approx(exp_pair, abs=1e-7), (b, raster_bounds)
        figures = {
            "load_ms": page.evaluate("() => gigacov.readyAt"),
            "wall_ms_until_ready": round(wall_ms, 1),
            "dom_markers": page.evaluate(
                "() => document.querySelectorAll('.leaflet-marker-icon').length"
            ),
            "blocked": list(page.blocked),
            "layer_names": names,
        }
        if screenshot:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{screenshot}.png"))
        assert page.errors == [], f"JavaScript errors: {page.errors}"
    return figures
