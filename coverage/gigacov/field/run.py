"""The field stage of a run: field check, calibration fit, disputed areas, speed tests.

:func:`run_field` works on a :class:`gigacov.run_result.RunResult` whose coverage (and, for the
verdict changes, compliance) stage has run, and writes into the run directory:

* ``field_check.json`` — the sample accounting, error statistics (overall, per clutter class,
  county, operator and distance band), the disputed-area summary with the counties whose verdict
  would change, the speed-test comparison, and the calibration fitted on these samples;
* ``calibration.json`` / ``calibration.toml`` — see :mod:`gigacov.field.calibration`;
* ``disputed.gpkg`` — layer ``hexagons`` (every H3 hexagon with samples: counts, shares, p-value,
  predicted verdict, county, whether disputed) and layer ``samples`` (the compared samples with
  predicted and measured values and the error).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..rundir import write_atomic
from .calibration import fit_calibration, write_calibration
from .check import FieldCheck, field_check, json_safe
from .disputed import county_table, disputed_hexagons, verdict_changes
from .speed import speed_tests_by_county

__all__ = ["FieldResult", "run_field", "analyse"]

log = logging.getLogger(__name__)

SAMPLE_LAYER_COLUMNS = [
    "file",
    "source_row",
    "tech",
    "operator",
    "source",
    "admin_code",
    "clutter",
    "distance_m",
    "distance_band",
    "basis",
    "rsrp_dbm",
    "pred_rsrp_dbm",
    "error_rsrp_db",
    "sinr_db",
    "pred_sinr_db",
    "error_sinr_db",
    "meas_covered",
    "pred_covered",
    "hex_id",
]


@dataclass
class FieldResult:
    """What the field stage produced (also on disk, see the module docstring)."""

    check: FieldCheck
    calibration: dict[str, Any]
    hexagons: gpd.GeoDataFrame
    counties: pd.DataFrame
    verdict_changes: list[dict[str, Any]]
    speed_tests: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def compared(self) -> pd.DataFrame:
        s = self.check.samples
        return s[s["status"] == "compared"]


def _county_names(result) -> dict[str, str]:
    c = result.inputs.counties
    if c is None or not len(c):
        return {}
    return dict(zip(c["admin_code"].astype(str), c["name"], strict=True))


def analyse(result, *, with_verdicts: bool) -> FieldResult:
    scn = result.scenario
    sec = scn.measurements
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    chk = field_check(result)
    timings["predict_s"] = round(time.perf_counter() - t0, 4)
    names = _county_names(result)
    compared = chk.samples[chk.samples["status"] == "compared"]
    t1 = time.perf_counter()
    rsrp = compared[np.isfinite(compared["error_rsrp_db"].to_numpy())]
    cal = fit_calibration(
        rsrp,
        result.coverage,
        folds=sec.cv_folds,
        block_m=sec.cv_block_m,
        fit_slope=sec.fit_slope,
    )
    timings["calibration_s"] = round(time.perf_counter() - t1, 4)
    t2 = time.perf_counter()
    hexes = disputed_hexagons(
        compared,
        resolution=sec.h3_resolution,
        min_samples=sec.disputed_min_samples,
        share=sec.disputed_share,
        confidence=sec.disputed_confidence,
        county_names=names,
    )
    timings["disputed_s"] = round(time.perf_counter() - t2, 4)
    changes: list[dict[str, Any]] = []
    if with_verdicts:
        t3 = time.perf_counter()
        changes = verdict_changes(result, hexes)
        timings["verdict_changes_s"] = round(time.perf_counter() - t3, 4)
    counties_ind = None
    if result.indicators is not None and "county" in result.indicators.units:
        counties_ind = result.indicators.units["county"]
    speed = speed_tests_by_county(
        result.inputs.measurements, counties_ind, disagreement_pp=sec.speed_disagreement_pp
    )
    ctab = county_table(hexes)
    summary = dict(chk.summary)
    summary["disputed"] = {
        "h3_resolution": sec.h3_resolution,
        "min_samples": sec.disputed_min_samples,
        "share": sec.disputed_share,
        "confidence": sec.disputed_confidence,
        "test": "one-sided exact binomial, H0: contradicting share ≤ share",
        "hexagons": int(len(hexes)),
        "tested": int(hexes["tested"].sum()) if len(hexes) else 0,
        "disputed_predicted_covered_measured_not": int(
            (hexes["dispute"] == "predicted_covered_measured_not").sum()
        )
        if len(hexes)
        else 0,
        "disputed_predicted_not_measured_covered": int(
            (hexes["dispute"] == "predicted_not_measured_covered").sum()
        )
        if len(hexes)
        else 0,
        "by_county": ctab.to_dict(orient="records"),
        "verdict_changes": changes,
    }
    summary["speed_tests"] = speed
    summary["calibration"] = {
        k: cal.get(k) for k in ("tech", "n", "offsets_db", "before", "after", "downweighted")
    }
    summary["timings_s"] = timings
    return FieldResult(chk, cal, hexes, ctab, changes, speed, summary, timings)


def _write_gpkg(fr: FieldResult, path: Path) -> None:
    hexes = fr.hexagons
    hexes.to_file(path, layer="hexagons", driver="GPKG")
    comp = fr.compared.copy()
    if len(comp):
        from .disputed import hex_ids

        comp["hex_id"] = hex_ids(
            comp["lon"].to_numpy(), comp["lat"].to_numpy(), fr.summary["disputed"]["h3_resolution"]
        )
    else:
        comp["hex_id"] = pd.Series(dtype=object)
    cols = [c for c in SAMPLE_LAYER_COLUMNS if c in comp.columns]
    table = comp[cols].reset_index(drop=True)
    for c in cols:
        if isinstance(table[c].dtype, pd.CategoricalDtype):
            table[c] = table[c].astype(str)
    gdf = gpd.GeoDataFrame(
        table,
        geometry=gpd.points_from_xy(comp["lon"], comp["lat"]),
        crs="EPSG:4326",
    )
    gdf.to_file(path, layer="samples", driver="GPKG", mode="a")


def run_field(result) -> FieldResult | None:
    """The field stage of a run (see the module docstring); None without measurements."""
    samples = result.inputs.measurements
    if samples is None:
        return None
    t0 = time.perf_counter()
    fr = analyse(result, with_verdicts=True)
    run_dir = Path(result.run_dir)
    paths = write_calibration(fr.calibration, run_dir, scenario=result.scenario.name)
    text = json.dumps(json_safe(fr.summary), ensure_ascii=False, indent=2)
    write_atomic(run_dir / "field_check.json", lambda p: p.write_text(text, "utf-8"))
    write_atomic(run_dir / "disputed.gpkg", lambda p: _write_gpkg(fr, p))
    result.outputs["field_check"] = run_dir / "field_check.json"
    result.outputs["disputed"] = run_dir / "disputed.gpkg"
    result.outputs.update(paths)
    fr.timings["total_s"] = round(time.perf_counter() - t0, 3)
    log.info(
        "field check: %d samples compared, %d disputed hexagons, %d county verdict(s) would change",
        len(fr.compared),
        int(fr.hexagons["disputed"].sum()) if len(fr.hexagons) else 0,
        len(fr.verdict_changes),
    )
    return fr
