"""Benchmark: annual-review outputs at province scale (workbook, HTML report, comparison).

A seeded synthetic Fujian-sized run: 1 province, 9 cities, 84 counties, 14,000 villages
(``--quick``: 1,400), a 100 m grid (``--quick``: 250 m) with an RSRP field, two standards.
Timed: the CJK font lookup, ``compliance.xlsx`` (reference: pandas ``to_excel`` of the same unit
tables without styles, in the same run), ``report.html`` with and without the per-county static
maps, and a year-over-year comparison of two run directories. Peak RSS is reported after each
step. Usage: python benchmarks/bench_report.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gigacov.compliance import Standard, StandardIndicator
from gigacov.grid import Grid
from gigacov.indicators import IndicatorSet, indicator_definitions
from gigacov.ingest.model import InputReport, Inputs
from gigacov.pipeline import manifest_for
from gigacov.radio.result import CoverageResult, RadioParams
from gigacov.report import charts, compare_runs
from gigacov.report.html import write_html
from gigacov.report.workbook import write_workbook
from gigacov.run_result import RunResult
from gigacov.scenario import scenario_from_dict

RESULTS = Path(__file__).resolve().parents[1] / "bench-results"


def _std(id_: str, title: str, version: str, indicators: list[StandardIndicator]) -> Standard:
    return Standard(
        id=id_,
        title=title,
        issuer="benchmark",
        source="benchmark",
        version=version,
        year=2024,
        notes="",
        indicators=indicators,
    )


def _ind(
    key: str,
    zh: str,
    en: str,
    op: str,
    threshold: float,
    levels: list[str],
    confirmed: bool = False,
) -> StandardIndicator:
    return StandardIndicator(
        key, zh, en, op, threshold, tuple(levels), confirmed=confirmed, source="synthetic benchmark"
    )


STANDARDS = [
    _std(
        "miit-gigabit-city-2021",
        "千兆城市",
        "2021.1",
        [
            _ind(
                "sites_5g_per_10k",
                "每万人拥有5G基站数",
                "5G sites per 10k",
                ">=",
                12.0,
                ["city", "county"],
            ),
            _ind(
                "household_gigabit_coverage",
                "家庭千兆覆盖率",
                "household gigabit coverage",
                ">=",
                0.8,
                ["city", "county"],
            ),
            _ind(
                "pon_10g_share", "10G-PON端口占比", "10G-PON share", ">=", 0.3, ["city", "county"]
            ),
            _ind("users_500m_share", "500M用户占比", "500M share", ">=", 0.3, ["city", "county"]),
            _ind("users_5g_share", "5G用户占比", "5G user share", ">=", 0.25, ["city", "county"]),
        ],
    ),
    _std(
        "fujian-2024",
        "2024数字福建",
        "2024.1",
        [
            _ind(
                "users_1000m_share",
                "千兆用户占比",
                "gigabit share",
                ">",
                0.25,
                ["province", "city", "county", "village"],
                confirmed=True,
            ),
            _ind(
                "village_reach_5g",
                "行政村5G通达率",
                "village reach",
                ">=",
                0.8,
                ["province", "city", "county"],
                confirmed=True,
            ),
        ],
    ),
]
KEYS = [i.key for s in STANDARDS for i in s.indicators] + ["pop_coverage_5g", "area_coverage_5g"]


def unit_tables(
    rng: np.random.Generator, n_villages: int, year_shift: float
) -> dict[str, gpd.GeoDataFrame]:
    lon0, lat0, d = 116.5, 24.0, 0.12
    boxes, codes = [], []
    for k in range(84):
        r, c = divmod(k, 12)
        boxes.append(
            shapely.box(lon0 + c * d, lat0 + r * d, lon0 + (c + 1) * d, lat0 + (r + 1) * d)
        )
        codes.append(f"35{(k // 10) + 1:02d}{k % 10 + 1:02d}")
    county = gpd.GeoDataFrame(
        {
            "admin_code": codes,
            "name": [f"县{k:02d}" for k in range(84)],
            "level": "county",
            "parent_code": [c[:4] + "00" for c in codes],
        },
        geometry=boxes,
        crs=4326,
    )
    n = len(county)
    county["population"] = rng.uniform(2e5, 2e6, n).round()
    county["sites_5g"] = (
        county["population"] / 1e4 * rng.uniform(6, 20, n) * (1 + year_shift)
    ).round()
    county["area_km2"] = 160.0
    for key, lo, hi in (
        ("household_gigabit_coverage", 0.6, 0.95),
        ("pon_10g_share", 0.15, 0.6),
        ("users_500m_share", 0.15, 0.45),
        ("users_5g_share", 0.2, 0.6),
        ("users_1000m_share", 0.1, 0.4),
        ("village_reach_5g", 0.6, 1.0),
        ("pop_coverage_5g", 0.7, 1.0),
        ("area_coverage_5g", 0.3, 0.95),
    ):
        county[key] = np.clip(rng.uniform(lo, hi, n) + year_shift, 0, 1)
    county.loc[rng.choice(n, 5, replace=False), "household_gigabit_coverage"] = np.nan
    county["sites_5g_per_10k"] = county["sites_5g"] / (county["population"] / 1e4)
    parents = sorted(set(county["parent_code"]))
    agg = county.drop(columns="geometry").groupby("parent_code")
    city = gpd.GeoDataFrame(
        {
            "admin_code": parents,
            "name": [f"市{i}" for i in range(len(parents))],
            "level": "city",
            "parent_code": "350000",
            "population": agg["population"].sum().to_numpy(),
            "sites_5g": agg["sites_5g"].sum().to_numpy(),
        },
        geometry=[
            shapely.union_all(county.geometry[county["parent_code"] == p].to_numpy())
            for p in parents
        ],
        crs=4326,
    )
    for key in KEYS:
        if key != "sites_5g_per_10k":
            city[key] = agg[key].mean().to_numpy()
    city["sites_5g_per_10k"] = city["sites_5g"] / (city["population"] / 1e4)
    prov = gpd.GeoDataFrame(
        {
            "admin_code": ["350000"],
            "name": ["福建省"],
            "level": "province",
            "parent_code": "",
            "population": [county["population"].sum()],
            "sites_5g": [county["sites_5g"].sum()],
        },
        geometry=[shapely.union_all(county.geometry.to_numpy())],
        crs=4326,
    )
    for key in KEYS:
        prov[key] = county[key].mean()
    prov["sites_5g_per_10k"] = prov["sites_5g"] / (prov["population"] / 1e4)
    vc = rng.integers(0, n, n_villages)
    village = gpd.GeoDataFrame(
        {
            "admin_code": [f"{codes[c]}{i:06d}" for i, c in enumerate(vc)],
            "name": [f"村{i}" for i in range(n_villages)],
            "level": "village",
            "parent_code": [codes[c] for c in vc],
            "population": rng.uniform(300, 5000, n_villages).round(),
            "users_1000m_share": np.clip(rng.uniform(0.05, 0.45, n_villages) + year_shift, 0, 1),
            "pop_coverage_5g": rng.uniform(0.3, 1.0, n_villages),
        },
        geometry=gpd.points_from_xy(
            rng.uniform(116.5, 117.9, n_villages), rng.uniform(24.0, 24.8, n_villages)
        ),
        crs=4326,
    )
    return {"province": prov, "city": city, "county": county, "village": village}


def evaluate(units: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    frames = []
    for s in STANDARDS:
        for ind in s.indicators:
            for lv in ind.level:
                t = units[lv]
                v = t[ind.key].to_numpy(dtype=float)
                ok = v >= ind.threshold if ind.op == ">=" else v > ind.threshold
                status = np.where(np.isnan(v), "no_data", np.where(ok, "pass", "fail"))
                frames.append(
                    pd.DataFrame(
                        {
                            "admin_code": t["admin_code"],
                            "name": t["name"],
                            "level": lv,
                            "standard": s.id,
                            "indicator": ind.key,
                            "value": v,
                            "op": ind.op,
                            "threshold": ind.threshold,
                            "status": status,
                            "margin": v - ind.threshold,
                            "shortfall": np.where(
                                status == "fail",
                                np.ceil((ind.threshold - v) * t["population"] / 10),
                                0,
                            ),
                            "shortfall_unit": np.where(status == "fail", "users", ""),
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)


def make_run(tmp: Path, year: int, n_villages: int, res_m: float, seed: int) -> RunResult:
    rng = np.random.default_rng(seed)
    run_dir = tmp / f"run-{year}"
    run_dir.mkdir(parents=True, exist_ok=True)
    scn = scenario_from_dict(
        {
            "scenario": {"name": "bench", "year": year, "synthetic": True, "out_dir": str(run_dir)},
            "sites": {"path": "sites.csv"},
            "report": {"county_maps_max": 40},
        },
        base_dir=tmp,
    )
    units = unit_tables(rng, n_villages, 0.0 if year == 2024 else -0.03)
    crs = pyproj.CRS.from_epsg(32650)
    grid = Grid.for_geometries(units["province"], res_m, crs)
    h, w = grid.shape
    yy, xx = np.mgrid[0:h, 0:w]
    rsrp = (
        -85 - 30 * np.abs(np.sin(xx / 37.0) * np.cos(yy / 23.0)) - rng.normal(0, 3, (h, w))
    ).astype(np.float32)
    rsrp[rsrp < -118] = np.nan
    cov = CoverageResult(
        "5G",
        grid,
        rsrp,
        rsrp,
        np.zeros((h, w), np.int32),
        (rsrp >= -105).astype(np.uint8),
        pd.DataFrame(),
        RadioParams(),
        {},
    )
    inputs = Inputs(
        scenario=scn,
        boundaries=gpd.GeoDataFrame(geometry=[], crs=4326),
        cells=pd.DataFrame(),
        reports=[InputReport("sites", str(tmp / "sites.csv"), 114000, 113990, 10)],
    )
    return RunResult(
        scenario=scn,
        run_dir=run_dir,
        inputs=inputs,
        grid=grid,
        coverage={"5G": cov},
        indicators=IndicatorSet(units, None, indicator_definitions()),
        standards=STANDARDS,
        compliance=evaluate(units),
    )


def write_run_dir(run: RunResult) -> Path:
    d = run.run_dir
    run.compliance.to_csv(d / "compliance.csv", index=False)
    for i, (lv, t) in enumerate(run.indicators.units.items()):
        t.to_file(d / "indicators.gpkg", layer=lv, driver="GPKG", mode="w" if i == 0 else "a")
    (d / "manifest.json").write_text(
        json.dumps(manifest_for(run), ensure_ascii=False), encoding="utf-8"
    )
    return d


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n_vil = 1_400 if args.quick else 14_000
    res = 250.0 if args.quick else 100.0
    figures: dict[str, object] = {
        "quick": args.quick,
        "villages": n_vil,
        "grid_resolution_m": res,
        "counties": 84,
        "cities": 9,
    }
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        run, t = timed(lambda: make_run(tmp, 2024, n_vil, res, 2024))
        figures["grid_pixels"] = run.grid.n_pixels
        figures["compliance_rows"] = len(run.compliance)
        figures["setup_s"] = round(t, 2)

        font, t = timed(charts.find_cjk_font)
        figures["font"] = font
        figures["font_lookup_s"] = round(t, 3)

        path, t = timed(lambda: write_workbook(run, tmp / "compliance.xlsx"))
        figures["workbook_s"] = round(t, 2)
        figures["workbook_mb"] = round(path.stat().st_size / 2**20, 2)
        figures["rss_after_workbook_mb"] = round(rss_mb())

        def reference():
            with pd.ExcelWriter(tmp / "plain.xlsx", engine="openpyxl") as xw:
                for lv, tab in run.indicators.units.items():
                    pd.DataFrame(tab.drop(columns="geometry")).to_excel(
                        xw, sheet_name=lv, index=False
                    )

        _, t_ref = timed(reference)
        figures["reference_to_excel_s"] = round(t_ref, 2)
        figures["workbook_vs_plain_to_excel"] = round(figures["workbook_s"] / t_ref, 2)

        no_maps = run.scenario.replace(report={"county_maps_max": 0})
        run_nomaps = RunResult(**{**run.__dict__, "scenario": no_maps})
        p, t = timed(lambda: write_html(run_nomaps, tmp / "report-nomaps.html", font))
        figures["html_without_maps_s"] = round(t, 2)
        p, t = timed(lambda: write_html(run, tmp / "report.html", font))
        figures["html_with_40_maps_s"] = round(t, 2)
        figures["html_mb"] = round(p.stat().st_size / 2**20, 2)
        figures["seconds_per_county_map"] = round(
            (figures["html_with_40_maps_s"] - figures["html_without_maps_s"]) / 40, 3
        )
        figures["rss_after_html_mb"] = round(rss_mb())

        a = write_run_dir(make_run(tmp / "a", 2023, n_vil, res, 2023))
        b = write_run_dir(run)
        out, t = timed(lambda: compare_runs(a, b))
        figures["compare_s"] = round(t, 2)
        figures["comparison_xlsx_mb"] = round(out["workbook"].stat().st_size / 2**20, 2)
        figures["rss_peak_mb"] = round(rss_mb())

    print(f"{'figure':<32} value")
    print("-" * 50)
    for k, v in figures.items():
        print(f"{k:<32} {v}")
    RESULTS.mkdir(exist_ok=True)
    out_path = RESULTS / "report.json"
    out_path.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nwritten: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
