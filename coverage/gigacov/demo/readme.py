"""``README-synthetic.md``: what the demo scenario is, where its numbers come from, what it should show."""

from __future__ import annotations

from pathlib import Path

from ..catalogue import INDICATORS
from .design import ASSUMED_THRESHOLDS, YEARS

__all__ = ["write_readme", "render_readme"]


def _pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def render_readme(meta: dict) -> str:
    t = meta["totals"]
    y0, y1 = (str(y) for y in YEARS)
    lines = [
        "# Quanzhou demo scenario — SYNTHETIC DATA",
        "",
        "Built by `gigacov demo` (" + meta["generator"] + f", seed {meta['seed']}, scale "
        f"{meta['scale']:g}, resolution {meta['resolution_m']:g} m). **Everything here except the "
        "county boundaries and the county population totals is invented.** It looks like "
        "Quanzhou so that the tool can be tried on something familiar; do not use it for any "
        "decision.",
        "",
        "## What is real, approximate, invented",
        "",
        "* **Real**: the county boundaries (" + meta["sources"]["boundaries"] + ") and the county "
        "resident populations: " + meta["sources"]["population"] + ". The population raster sums "
        "to these figures per county (pixel-centre rule).",
        "* **Approximate**: the positions of the county seats and main towns that carry the urban "
        "population, and the real landmark names among the key places (flagged "
        "`approximate = true` in the GeoJSON, positions within a kilometre or two).",
        "* **Invented**: the villages (a Voronoi tessellation of each county, names from common "
        "place-name characters, plausible 12-digit codes), the distribution of people inside each "
        "county, the terrain (hills rising towards 德化/永春/安溪), the sites and cells, the "
        "broadband statistics, and most key places (names ending in “（合成）”).",
        f"* **Sites**: {meta['sources']['sites']}.",
        f"* **Broadband**: {meta['sources']['broadband']}.",
        f"* **金门县 ({meta['excluded_county']['admin_code']})**: {meta['excluded_county']['note']}.",
        "",
        "## Files",
        "",
        "| file | content |",
        "|---|---|",
        "| `villages-synthetic.gpkg` | layer `villages`: admin_code (12 digits), name, level, "
        "parent_code, township_code, township_name, kind (社区/村), synthetic |",
        "| `population-synthetic.tif` | persons per pixel, float32, EPSG:32650, on the scenario "
        "grid; −9999 outside the 11 administered counties |",
        "| `dem-synthetic.tif` | metres, int16, EPSG:4326 (like SRTM); sea = 0 |",
        f"| `sites-{y0}-synthetic.csv`, `sites-{y1}-synthetic.csv` | operator exports (cells "
        "in service at the end of each year): GBK, Chinese headers (站号, 站名, 小区ID, 小区名称, "
        "区县, 经度, 纬度, 制式, 运营商, 频段, 带宽(MHz), 子载波间隔(kHz), 方位角, 水平波瓣宽度, "
        "挂高(m), 下倾角, EIRP(dBm), 开通时间, 站型), EIRP = peak EIRP over the carrier |",
        "| `broadband-synthetic.csv` | per village and year: docs/design.md §4 columns |",
        "| `key-places-synthetic.geojson` | hospitals, universities, scenic areas, railway "
        "stations, the airport (points/polygons), three key roads (LineStrings) |",
        f"| `quanzhou-{y0}-synthetic.toml`, `quanzhou-{y1}-synthetic.toml` | the scenarios "
        f"(runs go to `runs/`; the {y1} report compares with the {y0} run) |",
        "| `demo-synthetic.json` | every figure of this README, machine-readable |",
        *_drive_test_rows(meta),
        "",
        "## Counts",
        "",
        f"* {t['villages']:,} villages; {t['key_places']} key places; population "
        f"{t['population']:,}.",
        f"* 5G sites: {t['sites_5g'][y0]:,} ({y0}), {t['sites_5g'][y1]:,} ({y1}); "
        f"4G sites: {t['sites_4g'][y0]:,} ({y0}), {t['sites_4g'][y1]:,} ({y1}); "
        f"cells: {t['cells'][y0]:,} ({y0}), {t['cells'][y1]:,} ({y1}).",
    ]
    for y in (y0, y1):
        e = meta["exports"][y]
        kinds: dict[str, list[int]] = {}
        for b in e["bad_rows"]:
            kinds.setdefault(b["kind"], []).append(b["row"])
        desc = "; ".join(
            f"{k} ×{len(v)} (rows {', '.join(map(str, v[:3]))}{', …' if len(v) > 3 else ''})"
            for k, v in kinds.items()
        )
        lines.append(
            f"* `sites-{y}-synthetic.csv`: {e['rows']:,} rows, of which "
            f"{len(e['bad_rows'])} are deliberately bad (row numbers as in a spreadsheet, "
            f"header = row 1; all listed in `demo-synthetic.json`) — {desc}."
        )
    lines += [
        "",
        "## Intended outcome per county",
        "",
        "The design assumes these thresholds (docs/design.md §3; most are commonly cited values, not "
        "confirmed against the official text — the shipped standard files are authoritative): "
        + ", ".join(
            f"{INDICATORS[k].name_en} ({s}) {op.replace('>=', '≥')} {v:g}"
            if k == "sites_5g_per_10k"
            else f"{INDICATORS[k].name_en} ({s}) {op.replace('>=', '≥')} {_pct(v)}"
            for k, (s, op, v) in ASSUMED_THRESHOLDS.items()
        )
        + ". Margins are at least 2 percentage points. County results are computed by analogy "
        "(the gigabit-city title is for prefecture-level cities).",
        "",
        f"| county | population | villages | 5G sites {y0} / {y1} (per 10k) | gigabit households "
        f"{y1} | 10G-PON {y1} | 500M+ {y1} | gigabit users {y0} / {y1} | 5G users {y1} | "
        f"designed to fail ({y1}) | designed to fail ({y0}) |",
        "|---|---:|---:|---|---:|---:|---:|---|---:|---|---|",
    ]
    for c in meta["counties"]:
        s0, s1 = c["statistics"][y0], c["statistics"][y1]
        f1 = ", ".join(c["intended_failures"][y1]) or "— (passes)"
        f0 = ", ".join(c["intended_failures"][y0]) or "— (passes)"
        lines.append(
            f"| {c['name']} {c['admin_code']} | {c['population']:,} | {c['villages']} | "
            f"{c['sites_5g'][y0]:,} / {c['sites_5g'][y1]:,} ({c['sites_5g_per_10k'][y0]:.1f} / "
            f"{c['sites_5g_per_10k'][y1]:.1f}) | {_pct(s1['household_gigabit_coverage'])} | "
            f"{_pct(s1['pon_10g_share'])} | {_pct(s1['users_500m_share'])} | "
            f"{_pct(s0['users_1000m_share'])} / {_pct(s1['users_1000m_share'])} | "
            f"{_pct(s1['users_5g_share'])} | {f1} | {f0} |"
        )
    lines.append(
        f"| 金门县 {meta['excluded_county']['admin_code']} | — | — | — | — | — | — | — | — | "
        "no data (not pass, not fail) | no data |"
    )
    lines += ["", "In words:", ""]
    for c in meta["counties"]:
        extra = ""
        if c["villages_designed_without_5g"]:
            extra = (
                f" ({c['villages_designed_without_5g']} of {c['villages']} villages have no "
                f"5G site; {c['villages_out_of_5g_reach']} of them lie more than 15 km from "
                "any 5G site, beyond the scenario's `max_radius_m` (5 km) and even gigacov's "
                "default (15 km), so they cannot be reached under any propagation model; "
                "unreached key place: "
                f"{', '.join(c['key_places_designed_unreached']) or 'none'}.)"
            )
        lines.append(f"* **{c['name']}**: {c['story']}{extra}")
    lines += [
        "",
        f"Raster indicators other than those above are designed to pass in {y1}: a 5G site "
        "stands near every village and key place of the other counties and every kilometre "
        f"along the key roads. In {y0} the rural sites commissioned in {y1} are missing, so "
        f"village reach is lower in {y0}; whether that fails depends on the standard's "
        "threshold and the radio model. The lowest of the statistics also fail the Fujian 2024 "
        f"gigabit-user target (> 25 %) in {y0}, as the table shows.",
        "",
        *_drive_test_section(meta),
        "## Where to build",
        "",
        "The planning stage (`[planning] budget = "
        f"{meta.get('planning_budget', 300)}` new sites per county) recommends sites for every "
        "county that fails a coverage-related indicator (5G sites per 10,000 people, key-place and "
        "village reach, population coverage) and checks them by re-running the coverage engine "
        "with the new sites: see `recommended_sites.csv` in each run and the report's planning "
        "section. Statistics-based failures (fibre, ports, users) are not something new sites fix.",
        "",
        "## Run it",
        "",
        (
            "The scenarios use the synthetic DEM (terrain shadows); the radio engine then follows the "
            "terrain to every pixel, so a 100 m run takes much longer than without it. "
            if meta.get("terrain", True)
            else "The scenarios leave the synthetic DEM out (built with `terrain = False`); uncomment "
            "`[terrain] dem` to get terrain shadows, at the cost of a much longer run. "
        )
        + f"The cut-off radius of the radio model is {meta.get('max_radius_m', 5000) / 1000:g} km "
        "(`[radio] max_radius_m`).",
        "",
        "```",
        "gigacov demo --out out/demo            # builds this folder and runs everything",
        f"gigacov run quanzhou-{y0}-synthetic.toml",
        f"gigacov run quanzhou-{y1}-synthetic.toml",
        f"gigacov compare runs/quanzhou-{y0}-synthetic runs/quanzhou-{y1}-synthetic",
        "```",
        "",
    ]
    return "\n".join(lines)


def _drive_test_rows(meta: dict) -> list[str]:
    d = meta.get("drive_test")
    if not d:
        return []
    return [
        f"| `{d['file']}` | field measurements for {meta.get('years', [2023, 2024])[-1]}: "
        f"{d['radio_samples']:,} drive-test samples (经度, 纬度, NR_SS-RSRP, SS-SINR, 网络制式, 时间, "
        f"数据来源, 路线) and {d['speed_tests']:,} fixed-broadband speed tests (下载速率(Mbps)) |",
    ]


def _drive_test_section(meta: dict) -> list[str]:
    d = meta.get("drive_test")
    if not d:
        return []
    bias = ", ".join(f"{k} {v:+g} dB" for k, v in d["true_bias_db"].items())
    return [
        "## Field measurements (synthetic drive test)",
        "",
        "A drive test along the three key roads and through the towns (a sample every 50 m) and "
        "fixed-broadband speed tests, generated from a hidden “true” network that differs from "
        "the model: the radio engine's own prediction for the sites of the last year with extra "
        f"path loss per clutter class ({bias}), log-normal shadowing of σ = "
        f"{d['shadowing_sigma_db']:g} dB with spatial correlation (Gaussian random field, "
        f"correlation length {d['shadowing_length_m']:g} m), {d['outliers']} gross outliers "
        f"({100 * d['outlier_share']:g} % of the samples, 20–35 dB too low) and 3 dB of SINR noise. "
        f"The speed tests of {d['speed_note_county']} are drawn 20 percentage points above its "
        "reported 500 Mbps+ user share, so the report notes the disagreement. The run's field "
        "check, calibration (which should recover the biases above and bring the held-out RMSE "
        "close to σ) and disputed hexagons are in its run directory and report.",
        "",
    ]


def write_readme(meta: dict, path: Path) -> None:
    Path(path).write_text(render_readme(meta), encoding="utf-8")
