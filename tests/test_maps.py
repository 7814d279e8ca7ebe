"""Tests of gigacov.maps on a small hand-made run around Quanzhou (118.6° E, 24.9° N).

The fixture (``make_run``) is built by hand so that its answers can be worked out on paper:

* a 60 × 50 grid of 200 m pixels in EPSG:32650, x 660,000–672,000 m, y 2,746,000–2,756,000 m;
* one 5G site at (663,000, 2,751,000) whose RSRP falls linearly, −70 dBm − 0.008 dB/m × distance,
  so the class edges −85 / −95 / −105 / −115 dBm lie at 1,875 / 3,125 / 4,375 / 5,625 m, and
  nothing is received beyond 7,000 m (NaN); covered = RSRP ≥ −105 dBm;
* three counties as 4 km-wide strips (A: 石狮市, B: 晋江市, C: 南安市), a city around them, six
  villages (top and bottom half of each county);
* compliance rows for two standards: A passes, B fails (needs 37 more 5G base stations),
  C has no data for the gigabit-fibre indicator;
* key places (a reached hospital, an unreached university polygon and railway station, a road
  along a row of pixel centres), two weak-coverage areas and two recommended sites.
"""

from __future__ import annotations

import io
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
from shapely.geometry import LineString
from support.map_run import (
    RES,
    ROAD_Y,
    SITE_XY,
    STD1,
    STD2,
    TO_UTM,
    TO_WGS,
    X0,
    Y1,
    H,
    W,
    coverage,
    expected_overlay_bounds,
    make_cells,
    make_grid,
    make_run,
    merc_pixel,
    page_data,
    png_of_overlay,
    rsrp_field,
)

from gigacov.crs import wgs84_to_gcj02
from gigacov.errors import ConfigError
from gigacov.maps import build_map, render_map
from gigacov.maps.layers import (
    Display,
    road_pieces,
    shortfall_text,
    sites_layer,
)
from gigacov.maps.raster import encode_png, rsrp_classes, shift_to_gcj02, warp_to_web_mercator

# ------------------------------------------------------------------------------------------------
# Raster: classes, warp, PNG, GCJ-02
# ------------------------------------------------------------------------------------------------


def test_rsrp_classes_follow_the_class_edges():
    rsrp = np.array(
        [-60, -85, -85.01, -95, -100, -105, -105.5, -115, -115.01, np.nan], dtype=np.float32
    )
    assert rsrp_classes(rsrp).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 0, 0]


def test_warp_to_web_mercator_matches_rasterio_bounds_and_keeps_the_pattern():
    grid = make_grid()
    classes = rsrp_classes(rsrp_field(grid))
    warped = warp_to_web_mercator(classes, grid)
    assert np.allclose(warped.bounds_latlon, expected_overlay_bounds(grid), atol=1e-9)
    # Pixel size in Mercator ≈ 200 m / cos(24.9°) and the class at points of known distance.
    assert warped.transform.a == pytest.approx(RES / math.cos(math.radians(24.87)), rel=0.02)
    for dist, cls in ((500.0, 1), (2500.0, 2), (3700.0, 3), (5000.0, 4), (6500.0, 0)):
        lon, lat = TO_WGS.transform(SITE_XY[0] + dist, SITE_XY[1])
        r, c = merc_pixel(warped, lon, lat)
        assert warped.classes[r, c] == cls, (dist, cls)


def test_warp_coarsens_above_max_pixels():
    grid = make_grid()
    classes = rsrp_classes(rsrp_field(grid))
    warped = warp_to_web_mercator(classes, grid, max_pixels=750)
    h, w = warped.shape
    assert h * w <= 800 and h * w >= 500
    lon, lat = TO_WGS.transform(*SITE_XY)
    r, c = merc_pixel(warped, lon, lat)
    assert warped.classes[r, c] == 1


def test_png_is_a_palette_image_with_transparent_none_class():
    from PIL import Image

    classes = np.array([[0, 1, 2], [3, 4, 0]], dtype=np.uint8)
    png = encode_png(classes, {1: "#1a9850", 2: "#91cf60", 3: "#fee08b", 4: "#fc8d59"})
    img = Image.open(io.BytesIO(png))
    assert img.mode == "P"
    assert np.asarray(img).tolist() == classes.tolist()
    assert img.info["transparency"] == 0
    rgba = np.asarray(img.convert("RGBA"))
    assert rgba[0, 0, 3] == 0 and rgba[0, 1].tolist() == [0x1A, 0x98, 0x50, 255]


def test_gcj02_shift_moves_every_pixel_by_the_local_offset():
    grid = make_grid()
    warped = warp_to_web_mercator(rsrp_classes(rsrp_field(grid)), grid)
    shifted = shift_to_gcj02(warped)
    assert shifted.datum == "gcj02"
    # Sample points across the raster: the class at the GCJ-02 image of a WGS84 point in the
    # shifted raster is the class at that point in the original, up to nearest-neighbour
    # resampling (one pixel). The offset here is ~450 m E and ~330 m S, more than two pixels, so
    # reading the shifted raster at the unshifted point fails that test near class edges.
    rng = np.random.default_rng(1)
    n = 400
    lon, lat = TO_WGS.transform(
        rng.uniform(X0 + 1500, X0 + W * RES - 1500, n),
        rng.uniform(Y1 - H * RES + 1500, Y1 - 1500, n),
    )
    r0, c0 = merc_pixel(warped, lon, lat)
    r1, c1 = merc_pixel(shifted, *wgs84_to_gcj02(lon, lat))
    r2, c2 = merc_pixel(shifted, lon, lat)
    mismatched_unshifted = 0
    for i in range(n):
        near = set(warped.classes[r0[i] - 1 : r0[i] + 2, c0[i] - 1 : c0[i] + 2].ravel().tolist())
        assert shifted.classes[r1[i], c1[i]] in near
        mismatched_unshifted += shifted.classes[r2[i], c2[i]] not in near
    assert mismatched_unshifted > n * 0.05
    # The offset interpolated between lattice points gives the same raster as the exact offset
    # evaluated at every pixel.
    exact = shift_to_gcj02(warped, lattice_px=1)
    assert exact.transform == shifted.transform
    assert np.array_equal(exact.classes, shifted.classes)


# ------------------------------------------------------------------------------------------------
# The page
# ------------------------------------------------------------------------------------------------


def test_title_layers_and_counts():
    rendered = render_map(make_run())
    title = re.search(r"<title>(.*?)</title>", rendered.html).group(1)
    for part in (
        "Quanzhou test",
        "2024",
        "MIIT gigabit city 2021",
        "Fujian 2024 targets",
        "synthetic data",
    ):
        assert part in title
    assert rendered.layer_names == [
        "OpenStreetMap 底图 / OpenStreetMap",
        "5G覆盖 (SS-RSRP) / 5G coverage (SS-RSRP)",
        "4G覆盖 (RSRP) / 4G coverage (RSRP)",
        "区县达标 / Counties — MIIT gigabit city 2021",
        "区县达标 / Counties — Fujian 2024 targets",
        "地市达标 / Cities — MIIT gigabit city 2021",
        "地市达标 / Cities — Fujian 2024 targets",
        "行政村5G通达 / Villages — 5G reach",
        "行政村千兆光纤 / Villages — gigabit fibre",
        "重点场所5G通达 / Key places — 5G reach",
        "重点道路5G覆盖 / Key roads — 5G coverage",
        "5G基站 / 5G sites",
        "仅4G基站 / 4G-only sites",
        "弱覆盖区域 / Weak-coverage areas",
        "建议新建站址 / Recommended new sites",
    ]
    data = page_data(rendered.html)
    assert len(data["geoms"]["county"]["features"]) == 3
    assert len(data["geoms"]["city"]["features"]) == 1
    assert len(data["villages"]["fc"]["features"]) == 6
    assert data["villages"]["gate"] is False  # 6 villages < village_zoom_gate (500)
    assert rendered.counts["sites_5g"] == 2 and rendered.counts["sites_4g"] == 2  # S1, S2 | S3, S4
    # Every coloured layer has a legend section.
    legend_keys = {k for sec in data["legend"] for k in sec["keys"]}
    assert set(rendered.layer_keys.values()) <= legend_keys


def test_a_real_scenario_title_has_no_synthetic_label():
    rendered = render_map(make_run(synthetic=False))
    assert "synthetic" not in re.search(r"<title>(.*?)</title>", rendered.html).group(1).lower()
    assert 'class="gc-synthetic"' not in rendered.html
    assert 'class="gc-synthetic"' in render_map(make_run(synthetic=True)).html


def test_county_status_tooltip_and_shortfalls():
    data = page_data(render_map(make_run()).html)
    props = {f["properties"]["c"]: f["properties"] for f in data["geoms"]["county"]["features"]}
    s1, s2 = STD1.id, STD2.id
    assert {c: p["st"][s1] for c, p in props.items()} == {
        "350581": "pass",
        "350582": "fail",
        "350583": "no_data",
    }
    assert {c: p["st"][s2] for c, p in props.items()} == {
        "350581": "pass",
        "350582": "fail",
        "350583": "fail",
    }
    tip_b = props["350582"]["tip"][s1]
    # Every indicator of the unit, ratios as percentages, against the standard's threshold.
    assert "41.0 %" in tip_b  # 5G population coverage (no threshold in this standard)
    assert "10.3" in tip_b and "≥ 12.0*" in tip_b  # unconfirmed threshold is starred
    assert "50.0 %" in tip_b and "≥ 95.0 %" in tip_b
    assert "20,000" in tip_b  # count indicator with thousands separator
    pop_b = props["350582"]["pop"][s1]
    assert "needs 37 more 5G base stations" in pop_b
    assert "needs 1 more key places reached by 5G" in pop_b
    pop_c = props["350583"]["pop"][s1]
    assert "No data" in pop_c and "household gigabit-fibre coverage" in pop_c
    assert "computed by analogy" in pop_c
    assert "Meets every indicator" in props["350581"]["pop"][s1]


def test_shortfall_texts_name_what_is_missing():
    row = dict(indicator="sites_5g_per_10k", shortfall=36.2, shortfall_unit="sites", margin=-1.7)
    assert shortfall_text(row, "number") == "needs 37 more 5G base stations"
    row = dict(
        indicator="household_gigabit_coverage", shortfall=12_400.0, shortfall_unit="households"
    )
    assert shortfall_text(row, "ratio") == "needs 12,400 more gigabit-capable households"
    row = dict(indicator="users_500m_share", shortfall=5.0, shortfall_unit="users")
    assert shortfall_text(row, "ratio") == "needs 5 more users on ≥ 500 Mbps plans"
    row = dict(indicator="area_coverage_5g", shortfall=2.25, shortfall_unit="km2")
    assert shortfall_text(row, "ratio") == "needs 2.2 km² more 5G coverage"
    row = dict(indicator="pop_coverage_5g", shortfall=np.nan, shortfall_unit="", margin=-0.031)
    assert shortfall_text(row, "ratio") == "short by 3.1 %"


def test_village_reach_and_fibre_classes():
    data = page_data(render_map(make_run()).html)
    props = [f["properties"] for f in data["villages"]["fc"]["features"]]
    assert [p["r"] for p in props] == [1, 1, 1, 0, 0, None]
    # Fibre threshold 0.8 comes from the compliance rows: ≥ 80 % → 0, 50–80 % → 1, < 50 % → 2.
    assert [p["f"] for p in props] == [0, 1, 2, None, 0, 2]
    gated = page_data(
        render_map(make_run(map_settings={"village_zoom_gate": 6, "village_min_zoom": 13})).html
    )
    assert gated["villages"]["gate"] is True and gated["villages"]["minZoom"] == 13


def test_weak_coverage_areas_and_recommended_sites():
    data = page_data(render_map(make_run()).html)
    tip = data["gaps"]["features"][0]["properties"]["tip"]
    for text in (
        "Weak 5G coverage — rank 1",
        "1,234",
        "1.50 km²",
        "南安市 350583",
        "S2 at 2,500 m",
    ):
        assert text in tip, text
    lat, lon, pop = data["recommended"][0]
    x, y = TO_UTM.transform(lon, lat)
    assert (x, y) == pytest.approx((670_700.0, 2_748_500.0), abs=2.0)
    for text in (
        "Recommended new 5G site",
        "南安市 350583",
        "people newly covered</td><td>1,100",
        "sectors</td><td>3",
    ):
        assert text in pop, text


def test_road_is_split_where_coverage_ends():
    grid = make_grid()
    cov = coverage(grid, "5G")
    road = LineString([TO_WGS.transform(660_100.0, ROAD_Y), TO_WGS.transform(673_000.0, ROAD_Y)])
    pieces = road_pieces(road, grid, cov.covered, Display("wgs84", 0.0))
    assert [p[0] for p in pieces] == [1, 0, 2]
    # Last covered pixel centre on the road: dx ≤ √(4375² − 100²) = 4373.9 m → x = 667,300 m,
    # its pixel ends at 667,400 m; the grid ends at 672,000 m.
    for piece, x_end in ((pieces[0], 667_400.0), (pieces[1], 672_000.0)):
        lat, lon = piece[1][-1]
        x, y = TO_UTM.transform(lon, lat)
        assert x == pytest.approx(x_end, abs=2.0) and y == pytest.approx(ROAD_Y, abs=2.0)
    assert pieces[1][1][0] == pieces[0][1][-1] and pieces[2][1][0] == pieces[1][1][-1]


def test_sites_layer_groups_cells_by_site():
    sites = sites_layer(make_cells(), display=Display())
    assert sites["id"] == ["S1", "S2", "S3", "S4"]
    assert sites["kind"] == [1, 1, 2, 2]
    assert sites["cells"]["n"] == [4, 1, 1, 1]
    assert sites["cid_suffix"] is True and sites["cells"]["cid"][:4] == ["-1", "-2", "-3", "-L1"]
    assert sites["cells"]["az"][:4] == [0, 120, 240, None]  # omni = None
    assert sites["cells"]["tech"][:4] == [5, 5, 5, 4]
    assert sites["cells"]["h"] == [30, 30, 30, 30, 25.5, 25.5, 25.5]
    assert sites["ops"] == ["China Mobile", "China Telecom"]
    assert sites["name"][0] == "Jinjiang Tower" and sites["name"][1] == ""


def test_user_text_is_escaped_and_cannot_close_the_data_script():
    evil = '<img src=x onerror="window.__pwned=1">'
    closer = "</script><script>window.__pwned=2</script>"
    run = make_run(
        names={"350581": evil, "350581100000": closer},
        site_name=closer,
        key_place_name=evil,
        title=f"T {evil}",
    )
    html_text = render_map(run).html
    assert "<img src=x" not in html_text and "<script>window.__pwned" not in html_text
    data = page_data(html_text)
    tip = data["geoms"]["county"]["features"][0]["properties"]["tip"][STD1.id]
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in tip
    assert data["sites"]["name"][0] == closer  # raw in the JSON; escaped by the runtime
    assert "&lt;/script&gt;" in data["villages"]["fc"]["features"][0]["properties"]["tip"]


# ------------------------------------------------------------------------------------------------
# Basemaps
# ------------------------------------------------------------------------------------------------


def test_amap_shifts_every_overlay_to_gcj02():
    run = make_run()
    plain = render_map(run, basemap="osm")
    amap = render_map(run, basemap="amap")
    assert amap.datum == "gcj02" and "autonavi.com" in amap.html
    d0, d1 = page_data(plain.html), page_data(amap.html)
    # County corners: exactly the GCJ-02 image of the WGS84 corners (rounded to 1e-5°).
    c0 = np.array(d0["geoms"]["county"]["features"][0]["geometry"]["coordinates"][0])
    c1 = np.array(d1["geoms"]["county"]["features"][0]["geometry"]["coordinates"][0])
    glon, glat = wgs84_to_gcj02(c0[:, 0], c0[:, 1])
    assert np.allclose(c1[:, 0], glon, atol=2e-5) and np.allclose(c1[:, 1], glat, atol=2e-5)
    assert np.all(np.abs(c1[:, 0] - c0[:, 0]) > 0.004)  # ~450 m east at Quanzhou
    # Sites, key places, recommended sites.
    for lat0, lon0, lat1, lon1 in (
        (
            d0["sites"]["lat"][0],
            d0["sites"]["lon"][0],
            d1["sites"]["lat"][0],
            d1["sites"]["lon"][0],
        ),
        (*d0["keyPlaces"]["points"][0][:2], *d1["keyPlaces"]["points"][0][:2]),
        (*d0["recommended"][0][:2], *d1["recommended"][0][:2]),
    ):
        glon, glat = wgs84_to_gcj02(lon0, lat0)
        assert (lon1, lat1) == pytest.approx((glon, glat), abs=2e-5)
    # Roads and weak-coverage areas.
    r0, r1 = d0["roads"][0]["pieces"][0][1][0], d1["roads"][0]["pieces"][0][1][0]
    assert (r1[1], r1[0]) == pytest.approx(wgs84_to_gcj02(r0[1], r0[0]), abs=2e-5)
    g0 = d0["gaps"]["features"][0]["geometry"]["coordinates"][0][0]
    g1 = d1["gaps"]["features"][0]["geometry"]["coordinates"][0][0]
    assert tuple(g1) == pytest.approx(wgs84_to_gcj02(*g0), abs=2e-5)
    # Raster: the overlay bounds move by the offset, and the site's pixel sits at its GCJ-02 spot.
    b0, b1 = np.array(plain.rasters["5G"].bounds_latlon), np.array(amap.rasters["5G"].bounds_latlon)
    off_lon, off_lat = np.array(wgs84_to_gcj02(118.6, 24.9)) - np.array([118.6, 24.9])
    px_deg = amap.rasters["5G"].transform.a / 111_320.0
    assert np.allclose(b1[:, 1] - b0[:, 1], off_lon, atol=2 * px_deg)
    assert np.allclose(b1[:, 0] - b0[:, 0], off_lat, atol=2 * px_deg)
    classes = png_of_overlay(amap.html)
    assert classes.shape == amap.rasters["5G"].shape
    lon, lat = TO_WGS.transform(SITE_XY[0] + 2500.0, SITE_XY[1])  # class 2 ring
    r, c = merc_pixel(amap.rasters["5G"], *wgs84_to_gcj02(lon, lat))
    assert classes[r, c] == 2


def test_tianditu_needs_a_key():
    with pytest.raises(ConfigError, match=r"\[map\] tianditu_key"):
        render_map(make_run(), basemap="tianditu")
    with pytest.raises(ConfigError, match=r"tianditu_key 'abc\"' must hold only letters"):
        render_map(make_run(map_settings={"tianditu_key": 'abc"'}), basemap="tianditu")
    rendered = render_map(make_run(map_settings={"tianditu_key": "0123abcd"}), basemap="tianditu")
    assert "tianditu.gov.cn/vec_w" in rendered.html and "tk=0123abcd" in rendered.html
    assert rendered.datum == "wgs84"


def test_unknown_basemap_and_bad_map_settings():
    with pytest.raises(ConfigError, match=r"\[map\] basemap: 'google'"):
        render_map(make_run(), basemap="google")
    with pytest.raises(
        ConfigError, match=r"\[map\] raster_opacity must be between 0 and 1, got 1\.5"
    ):
        render_map(make_run(map_settings={"raster_opacity": 1.5}))


def test_none_basemap_has_no_tile_layer():
    rendered = render_map(make_run(), basemap="none")
    assert "L.tileLayer" not in rendered.html
    assert rendered.layer_names[0] == "5G覆盖 (SS-RSRP) / 5G coverage (SS-RSRP)"


# ------------------------------------------------------------------------------------------------
# Online / offline scripts, output path
# ------------------------------------------------------------------------------------------------


def _external_refs(html_text: str) -> list[str]:
    return re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html_text)


def test_cdn_page_links_only_leaflet():
    refs = _external_refs(render_map(make_run(), offline=False).html)
    assert sorted(refs) == [
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css",
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js",
    ]


def test_offline_page_embeds_leaflet_from_the_installed_package():
    rendered = render_map(make_run(), offline=True, basemap="none")
    assert _external_refs(rendered.html) == []
    assert "<link" not in rendered.html
    assert '"1.9.4"' in rendered.html  # Leaflet's version string inside the embedded leaflet.js
    assert "url(images/" not in rendered.html and "url(data:image/png;base64," in rendered.html


def test_default_page_is_self_contained_with_a_guard_first():
    rendered = render_map(make_run())
    assert rendered.offline is True and _external_refs(rendered.html) == []
    head = rendered.html.split("</head>")[0]
    # The guard is the first script of the page, so it can report the others' failures.
    first = head[head.index("<script") :]
    assert first.startswith("<script>/* gigacov map guard") and "gigacovFallback" in first[:3000]
    assert 'id="gc-fallback"' in rendered.html and "<noscript>" in rendered.html


@pytest.mark.parametrize(
    ("settings", "embedded"),
    [({}, True), ({"cdn": True}, False), ({"offline": False}, False), ({"offline": True}, True)],
)
def test_scenario_chooses_embedded_or_cdn(settings, embedded):
    run = make_run()
    run.scenario = run.scenario.replace(map=settings) if settings else run.scenario
    assert render_map(run).offline is embedded
    assert render_map(run, offline=True).offline is True  # the argument wins


def test_fallback_message_says_what_to_do_in_both_languages():
    cdn = render_map(make_run(), offline=False).html
    embedded = render_map(make_run()).html
    for page in (cdn, embedded):
        box = page[page.index('id="gc-fallback"') :]
        box = box[: box.index("</noscript>")]
        assert "地图无法显示" in box and "The map could not be shown" in box
        assert "gigacov map " in box
    assert "cdn.jsdelivr.net" in cdn[cdn.index('id="gc-fallback"') :]
    assert "without <code>--cdn</code>" in cdn
    assert "--recompute" in embedded[embedded.index('id="gc-fallback"') :]


def test_build_map_writes_default_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = build_map(make_run(), offline=False)
    assert path == tmp_path / "maps" / "quanzhou-test.html"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "gigacov.build(" in text
    assert [p.name for p in (tmp_path / "maps").iterdir()] == [
        "quanzhou-test.html"
    ]  # no partial files
    other = build_map(make_run(), tmp_path / "x" / "m.html", basemap="none")
    assert other.is_file()


def test_run_without_optional_parts():
    run = make_run(with_4g=False, with_plan=False)
    run.indicators = None
    run.compliance = None
    rendered = render_map(run)
    assert "4G覆盖 (RSRP) / 4G coverage (RSRP)" not in rendered.layer_names
    assert "弱覆盖区域 / Weak-coverage areas" not in rendered.layer_names
    data = page_data(rendered.html)
    props = data["geoms"]["county"]["features"][0]["properties"]
    assert props["st"] == {"": "no_data"}  # no compliance: one plain layer per level
    assert (
        "区县达标 / Counties" in rendered.layer_names
        and "地市达标 / Cities" in rendered.layer_names
    )
    assert len(data["geoms"]["county"]["features"]) == 3  # from the boundaries


def test_long_standard_titles_give_way_to_ids_in_the_layer_control():
    run = make_run()
    run.standards = [
        SimpleNamespace(
            **{
                **vars(STD1),
                "title": "Gigabit-city evaluation indicators (MIIT dual-gigabit action plan 2021-2023)",
            }
        ),
        STD2,
    ]
    rendered = render_map(run)
    assert f"区县达标 / Counties — {STD1.id}" in rendered.layer_names
    assert "区县达标 / Counties — Fujian 2024 targets" in rendered.layer_names


def test_inline_scripts_cannot_be_closed_from_inside():
    from gigacov.maps.page import script_tag

    assert script_tag('var s = "</script><b>";') == '<script>var s = "<\\/script><b>";</script>'


def test_every_basemap_choice_has_its_tile_sources():
    from gigacov.maps.compose import BASEMAP_LAYERS
    from gigacov.scenario import BASEMAPS

    assert set(BASEMAP_LAYERS) == set(BASEMAPS)
    assert BASEMAP_LAYERS["none"] == ()
    vec, labels = BASEMAP_LAYERS["tianditu"]
    assert "/vec_w/wmts?" in vec.url and "&LAYER=vec&" in vec.url and vec.url.endswith("tk={key}")
    assert "/cva_w/wmts?" in labels.url and "&LAYER=cva&" in labels.url and labels.labels


def test_offline_without_the_leaflet_package_is_a_config_error(monkeypatch):
    import importlib.util

    from gigacov.maps import assets

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "js_lib_leaflet" else real_find_spec(name, *a),
    )
    assets.offline_leaflet.cache_clear()
    try:
        with pytest.raises(
            ConfigError, match=r"self-contained map .*'django-js-lib-leaflet'.*pip install.*--cdn"
        ):
            render_map(make_run(), offline=True)
    finally:
        assets.offline_leaflet.cache_clear()
