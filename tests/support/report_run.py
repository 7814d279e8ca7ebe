"""Hand-built runs for the report tests (no pipeline stage is run to make them).

Three square "counties" of Quanzhou side by side (0.1° each), their city and province, a 500 m
UTM 50N grid with an RSRP gradient (strong in the west, no signal at the east edge), and two
standards. Values are chosen so every status can be worked out on paper:

============  ==========  ============  ===============  ============================
county        population  5G sites      sites per 10k    household gigabit coverage
============  ==========  ============  ===============  ============================
350502 鲤城区    429,000       700       16.32 (pass ≥12)  0.85 (pass ≥ 0.8)
350582 晋江市  2,069,000     2,000        9.67 (fail)      0.72 (fail; 56,000 households)
350583 南安市  1,527,000     1,900       12.44 (pass)      no data
============  ==========  ============  ===============  ============================

晋江's 5G shortfall: 12 × 206.9 − 2000 = 482.8 → 483 more 5G base stations.
``fujian-2024``: gigabit user share > 25 % (鲤城 0.30 pass, 晋江 0.20 fail, 南安 0.26 pass).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from shapely.geometry import box

from gigacov.compliance import Standard, StandardIndicator
from gigacov.grid import Grid
from gigacov.indicators import IndicatorSet, indicator_definitions
from gigacov.ingest.model import InputReport, Inputs
from gigacov.pipeline import manifest_for
from gigacov.radio.result import CoverageResult, RadioParams
from gigacov.run_result import RunResult
from gigacov.scenario import scenario_from_dict

LICHENG, JINJIANG, NANAN = "350502", "350582", "350583"
CITY, PROVINCE = "350500", "350000"
NAMES = {
    LICHENG: ("鲤城区", "Licheng"),
    JINJIANG: ("晋江市", "Jinjiang"),
    NANAN: ("南安市", "Nan'an"),
    CITY: ("泉州市", "Quanzhou"),
    PROVINCE: ("福建省", "Fujian"),
}
BOXES = {
    LICHENG: (118.4, 24.8, 118.5, 24.9),
    JINJIANG: (118.5, 24.8, 118.6, 24.9),
    NANAN: (118.6, 24.8, 118.7, 24.9),
}


@dataclass
class MiniPlan:
    gaps: gpd.GeoDataFrame
    recommended: gpd.GeoDataFrame

    def summary(self) -> dict[str, Any]:
        """Shaped like gigacov.planning's summary: scalars, long texts, nested dicts and lists."""
        return {
            "scenario": "qz-test",
            "objective": "Greedy placement per failing county: each candidate's gain is the share of the "
            "initial shortfall it closes; ties go to more newly covered persons; lazy evaluation.",
            "settings": {"budget": 50},
            "gaps": {
                "count": int(len(self.gaps)),
                "population": 30000.0,
                "largest": [
                    {
                        "rank": 1,
                        "admin_code": JINJIANG,
                        "county_name": "晋江市",
                        "population": 30000.0,
                    }
                ],
            },
            "sites_recommended": int(len(self.recommended)),
            "counties": [
                {
                    "admin_code": JINJIANG,
                    "name": "晋江市",
                    "status_before": "fail",
                    "status_after": "fail",
                    "sites_added": 2,
                    "indicators": {"sites_5g_per_10k": {"before": 9.67, "after": 9.68}},
                },
                {
                    "admin_code": NANAN,
                    "name": "南安市",
                    "status_before": "no_data",
                    "status_after": "no_data",
                    "sites_added": 1,
                    "indicators": {},
                },
            ],
        }


def standards(miit_version: str = "2021.1-test") -> list[Standard]:
    """The test's two standards (versions differ from the shipped files on purpose: a run
    directory's mandatory flags then come from its compliance.csv, never from the shipped files)."""
    miit = Standard(
        id="miit-gigabit-city-2021",
        title='"双千兆"网络协同发展行动计划（2021-2023年）千兆城市评价指标',
        issuer="工业和信息化部 MIIT",
        source="工信部通信〔2021〕34号 附件",
        version=miit_version,
        year=2021,
        notes="thresholds are the commonly cited values [U]",
        indicators=[
            StandardIndicator(
                "sites_5g_per_10k",
                "每万人拥有5G基站数",
                "5G base stations per 10,000 people",
                ">=",
                12.0,
                ("city", "county"),
                True,
                False,
                "commonly cited, unconfirmed",
            ),
            StandardIndicator(
                "household_gigabit_coverage",
                "城市家庭千兆光纤网络覆盖率",
                "household gigabit-fibre coverage",
                ">=",
                0.8,
                ("city", "county"),
                True,
                False,
                "commonly cited, unconfirmed",
            ),
        ],
    )
    fujian = Standard(
        id="fujian-2024",
        title="2024年数字福建工作要点",
        issuer="福建省数字福建建设领导小组办公室",
        source="《2024年数字福建工作要点》第1条",
        version="2024.1-test",
        year=2024,
        notes="",
        indicators=[
            StandardIndicator(
                "users_1000m_share",
                "千兆宽带用户占比",
                "gigabit user share",
                ">",
                0.25,
                ("province", "city", "county"),
                True,
                True,
                "数字福建工作要点 2024 [V]",
            ),
        ],
    )
    return [miit, fujian]


#: gigacov's own definitions of the indicators the fixture fills in.
DEFINITIONS = [
    d
    for d in indicator_definitions()
    if d.key
    in ("pop_coverage_5g", "sites_5g_per_10k", "household_gigabit_coverage", "users_1000m_share")
]

#: Per-county raw figures of the 2024 run (the 2023 run overrides some of them).
VALUES_2024: dict[str, dict[str, float]] = {
    LICHENG: {
        "population": 429_000,
        "sites_5g": 700,
        "households": 150_000,
        "gigabit_households_covered": 127_500,
        "fixed_users": 120_000,
        "users_1000m_plus": 36_000,
        "covered_population_5g": 416_130,
    },
    JINJIANG: {
        "population": 2_069_000,
        "sites_5g": 2000,
        "households": 700_000,
        "gigabit_households_covered": 504_000,
        "fixed_users": 600_000,
        "users_1000m_plus": 120_000,
        "covered_population_5g": 1_800_030,
    },
    NANAN: {
        "population": 1_527_000,
        "sites_5g": 1900,
        "households": math.nan,
        "gigabit_households_covered": math.nan,
        "fixed_users": 400_000,
        "users_1000m_plus": 104_000,
        "covered_population_5g": 1_068_900,
    },
}

#: 2023: 鲤城 had too few sites and gigabit users (→ newly passing in 2024); 晋江 had 26 %
#: gigabit users (→ newly failing fujian-2024 in 2024).
VALUES_2023: dict[str, dict[str, float]] = {
    LICHENG: {
        **VALUES_2024[LICHENG],
        "sites_5g": 450,
        "users_1000m_plus": 26_400,
        "covered_population_5g": 390_000,
    },
    JINJIANG: {**VALUES_2024[JINJIANG], "sites_5g": 1500, "users_1000m_plus": 156_000},
    NANAN: {**VALUES_2024[NANAN], "sites_5g": 1700, "users_1000m_plus": 100_000},
}


def _div(a: float, b: float) -> float:
    return a / b if b and not (math.isnan(a) or math.isnan(b)) else math.nan


def _indicators(v: dict[str, float]) -> dict[str, float]:
    return {
        "pop_coverage_5g": _div(v["covered_population_5g"], v["population"]),
        "sites_5g_per_10k": _div(v["sites_5g"], v["population"] / 10_000),
        "household_gigabit_coverage": _div(v["gigabit_households_covered"], v["households"]),
        "users_1000m_share": _div(v["users_1000m_plus"], v["fixed_users"]),
    }


def _unit_table(values: dict[str, dict[str, float]]) -> dict[str, gpd.GeoDataFrame]:
    rows = []
    for code, v in values.items():
        rows.append(
            {
                "admin_code": code,
                "name": NAMES[code][0],
                "name_en": NAMES[code][1],
                "level": "county",
                "parent_code": CITY,
                **v,
                "area_km2": 110.0,
                **_indicators(v),
                "geometry": box(*BOXES[code]),
            }
        )
    county = gpd.GeoDataFrame(rows, crs=4326)
    totals = {
        k: float(np.nansum([v[k] for v in values.values()])) for k in next(iter(values.values()))
    }
    totals["households"] = float(
        sum(v["households"] for v in values.values() if not math.isnan(v["households"]))
    )
    totals["gigabit_households_covered"] = float(
        sum(
            v["gigabit_households_covered"]
            for v in values.values()
            if not math.isnan(v["households"])
        )
    )
    whole = box(118.4, 24.8, 118.7, 24.9)
    city = gpd.GeoDataFrame(
        [
            {
                "admin_code": CITY,
                "name": NAMES[CITY][0],
                "name_en": NAMES[CITY][1],
                "level": "city",
                "parent_code": PROVINCE,
                **totals,
                "area_km2": 330.0,
                **_indicators(totals),
                "geometry": whole,
            }
        ],
        crs=4326,
    )
    prov = gpd.GeoDataFrame(
        [
            {
                "admin_code": PROVINCE,
                "name": NAMES[PROVINCE][0],
                "name_en": NAMES[PROVINCE][1],
                "level": "province",
                "parent_code": "",
                **totals,
                "area_km2": 330.0,
                **_indicators(totals),
                "geometry": whole,
            }
        ],
        crs=4326,
    )
    return {"province": prov, "city": city, "county": county}


#: Shortfall unit (as gigacov.compliance names it) and the numerator change needed to pass.
_SHORTFALL = {
    "sites_5g_per_10k": ("sites", lambda u, t: t * u["population"] / 10_000 - u["sites_5g"]),
    "household_gigabit_coverage": (
        "households",
        lambda u, t: t * u["households"] - u["gigabit_households_covered"],
    ),
    "users_1000m_share": ("users", lambda u, t: t * u["fixed_users"] - u["users_1000m_plus"] + 1),
}


def evaluate(units: dict[str, gpd.GeoDataFrame], stds: list[Standard]) -> pd.DataFrame:
    """A plain reference evaluation (value op threshold; missing → no_data; shortfall rounded up)."""
    ops = {">=": lambda v, t: v >= t, ">": lambda v, t: v > t}
    rows = []
    for s in stds:
        for ind in s.indicators:
            for level in ind.level:
                if level not in units:
                    continue
                for _, u in units[level].iterrows():
                    value = float(u[ind.key])
                    unit, f = _SHORTFALL[ind.key]
                    if math.isnan(value):
                        status, margin, shortfall = "no_data", math.nan, math.nan
                    else:
                        ok = ops[ind.op](value, ind.threshold)
                        status = "pass" if ok else "fail"
                        margin = value - ind.threshold
                        shortfall = 0.0 if ok else float(math.ceil(round(f(u, ind.threshold), 6)))
                    rows.append(
                        {
                            "admin_code": u["admin_code"],
                            "name": u["name"],
                            "level": level,
                            "standard": s.id,
                            "indicator": ind.key,
                            "value": value,
                            "op": ind.op,
                            "threshold": ind.threshold,
                            "mandatory": ind.mandatory,
                            "status": status,
                            "margin": margin,
                            "shortfall": shortfall,
                            "shortfall_unit": unit,
                        }
                    )
    return pd.DataFrame(rows)


def make_grid(resolution_m: float = 500.0) -> Grid:
    crs = pyproj.CRS.from_epsg(32650)
    bounds = gpd.GeoSeries([box(118.4, 24.8, 118.7, 24.9)], crs=4326).to_crs(crs).total_bounds
    return Grid.from_bounds(tuple(bounds), resolution_m, crs)


def make_coverage(grid: Grid) -> CoverageResult:
    """RSRP falls 0.8 dB per pixel from −80 dBm in the west; the last 8 columns have no server."""
    h, w = grid.shape
    rsrp = np.tile((-80.0 - 0.8 * np.arange(w)).astype(np.float32), (h, 1))
    rsrp[:, w - 8 :] = np.nan
    sinr = np.where(np.isnan(rsrp), np.nan, 5.0).astype(np.float32)
    server = np.where(np.isnan(rsrp), -1, 0).astype(np.int32)
    covered = (np.nan_to_num(rsrp, nan=-999) >= -105).astype(np.uint8)
    cells = pd.DataFrame({"site_id": ["S1"], "lon": [118.45], "lat": [24.85], "tech": ["5G"]})
    return CoverageResult(
        "5G", grid, rsrp, sinr, server, covered, cells, RadioParams(), {"compute_s": 0.1}
    )


def make_run(
    tmp: Path,
    *,
    year: int = 2024,
    values: dict[str, dict[str, float]] | None = None,
    synthetic: bool = True,
    name: str = "qz-test",
    miit_version: str = "2021.1-test",
    resolution_m: float = 500.0,
    report: dict[str, Any] | None = None,
    with_plan: bool = False,
    with_map: bool = True,
) -> RunResult:
    """A RunResult built by hand (see the module docstring for the figures)."""
    values = values or VALUES_2024
    run_dir = Path(tmp) / f"run-{year}"
    run_dir.mkdir(parents=True, exist_ok=True)
    scn = scenario_from_dict(
        {
            "scenario": {
                "name": name,
                "year": year,
                "synthetic": synthetic,
                "region": "350500",
                "title": f"泉州 {year} 双千兆评估",
                "out_dir": str(run_dir),
                "standards": ["miit-gigabit-city-2021", "fujian-2024"],
            },
            "sites": {"path": "sites.csv"},
            "report": report or {},
        },
        base_dir=Path(tmp),
    )
    units = _unit_table(values)
    stds = standards(miit_version)
    boundaries = pd.concat([units["province"], units["city"], units["county"]], ignore_index=True)[
        ["admin_code", "name", "name_en", "level", "parent_code", "geometry"]
    ]
    sites_path = str(Path(tmp) / "sites.csv")
    inputs = Inputs(
        scenario=scn,
        boundaries=gpd.GeoDataFrame(boundaries, crs=4326),
        cells=pd.DataFrame({"site_id": ["S1", "S2"], "tech": ["5G", "5G"]}),
        rejected=pd.DataFrame(
            {
                "file": [sites_path] * 3,
                "row": [4, 7, 9],
                "column": ["lat", "lat", "tech"],
                "value": ["118.5", "", "6G"],
                "reason": ["lat_lon_swapped", "missing_value", "unknown_technology"],
                "message": ["", "", ""],
            }
        ),
        reports=[
            InputReport(
                "sites", sites_path, read=4603, used=4600, rejected=3, defaults={"height_m": 120}
            ),
            InputReport("broadband", str(Path(tmp) / "broadband.csv"), read=3, used=3, rejected=0),
        ],
        file_hashes={sites_path: "a" * 64, str(Path(tmp) / "broadband.csv"): "b" * 64},
    )
    grid = make_grid(resolution_m)
    key_places = gpd.GeoDataFrame(
        {
            "place_id": ["K1", "K2"],
            "name": ["泉州站", "晋江机场"],
            "category": ["railway", "airport"],
            "admin_code": [LICHENG, JINJIANG],
            "reached_5g": [True, False],
            "covered_share_5g": [1.0, 0.0],
            "rsrp_dbm": [-85.0, -112.5],
        },
        geometry=gpd.points_from_xy([118.45, 118.58], [24.85, 24.80]),
        crs=4326,
    )
    run = RunResult(
        scenario=scn,
        run_dir=run_dir,
        inputs=inputs,
        grid=grid,
        coverage={"5G": make_coverage(grid)},
        indicators=IndicatorSet(units, key_places, list(DEFINITIONS)),
        standards=stds,
        compliance=evaluate(units, stds),
        timings={"ingest": 0.5, "coverage_5g": 2.0},
    )
    if with_plan:
        rec = gpd.GeoDataFrame(
            {
                "county": [JINJIANG, JINJIANG, NANAN],
                "rank": [1, 2, 1],
                "added_population": [12000.0, 8000.0, 5000.0],
            },
            geometry=gpd.points_from_xy([118.55, 118.56, 118.65], [24.85, 24.86, 24.85]),
            crs=4326,
        )
        gaps = gpd.GeoDataFrame(
            {"population": [30000.0], "area_km2": [12.5], "admin_code": [JINJIANG], "rank": [1]},
            geometry=[box(118.55, 24.82, 118.6, 24.86)],
            crs=4326,
        )
        run.plan = MiniPlan(gaps, rec)
    if with_map:
        map_path = Path(tmp) / "maps" / f"{name}.html"
        map_path.parent.mkdir(parents=True, exist_ok=True)
        map_path.write_text("<html><body>map</body></html>", encoding="utf-8")
        run.outputs["map"] = map_path
    return run


def write_run_dir(run: RunResult) -> Path:
    """Write the three files a comparison reads (manifest.json last, as the pipeline does)."""
    d = Path(run.run_dir)
    run.compliance.to_csv(d / "compliance.csv", index=False)
    for i, (level, table) in enumerate(run.indicators.units.items()):
        table.to_file(
            d / "indicators.gpkg", layer=level, driver="GPKG", mode="w" if i == 0 else "a"
        )
    manifest = manifest_for(run)
    (d / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return d
