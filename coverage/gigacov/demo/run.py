"""``gigacov demo``: build the synthetic Quanzhou scenario and run everything on it."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pandas as pd

from .build import build_demo
from .design import KINMEN_CODE, predicted_indicators

__all__ = ["run_demo", "outcome_check"]

log = logging.getLogger(__name__)


def outcome_check(result, metadata: dict) -> pd.DataFrame:
    """Designed versus actual outcome of every county indicator of one run.

    One row per county × standard × indicator of the compliance table: ``admin_code, name,
    standard, indicator, value, designed, actual, agrees``. ``designed`` is ``fail`` for the
    county's ``intended_failures`` (any standard that has the indicator), ``pass`` for the other
    :func:`~gigacov.demo.design.predicted_indicators`, ``no_data`` for 金门县, and ``any`` where
    the design makes no prediction (e.g. population coverage, 2023 village reach, indicators
    without a threshold). ``agrees`` is True when ``designed`` is ``any`` or equals the status.
    """
    year = int(result.scenario.year)
    comp = result.compliance
    comp = comp[comp["level"] == "county"]
    designed = {
        c["admin_code"]: {f.split(":", 1)[1] for f in c["intended_failures"][str(year)]}
        for c in metadata["counties"]
    }
    predicted = set(predicted_indicators(year))
    rows = []
    for code, name, std, ind, value, status, thr in zip(
        comp["admin_code"].astype(str),
        comp["name"],
        comp["standard"],
        comp["indicator"],
        comp["value"],
        comp["status"],
        comp["threshold"],
        strict=True,
    ):
        if code == KINMEN_CODE:
            want = "no_data"
        elif ind in designed.get(code, set()):
            want = "fail"
        elif ind in predicted and pd.notna(thr):
            want = "pass"
        else:
            want = "any"
        rows.append(
            {
                "year": year,
                "admin_code": code,
                "name": name,
                "standard": std,
                "indicator": ind,
                "value": value,
                "designed": want,
                "actual": status,
                "agrees": want in ("any", status),
            }
        )
    return pd.DataFrame(rows)


def run_demo(
    out_dir: str | Path,
    *,
    resolution_m: float = 100.0,
    offline: bool | None = None,
    scale: float = 1.0,
    terrain: bool = True,
) -> dict[str, Path]:
    """Build the synthetic Quanzhou scenario and run it end to end for 2023 and 2024.

    Steps: :func:`build_demo` → ``pipeline.run`` on the 2023 scenario (validation, coverage,
    compliance, planning, map, report) → the same on 2024 (its report includes the 2023
    comparison) → ``report.compare_runs(run_2023, run_2024)``. Logs progress and, per county,
    whether the outcome matches the design (``outcome-check-synthetic.csv`` in ``out_dir``).

    Parameters
    ----------
    out_dir
        Folder for the scenario, its inputs and the run directories (``runs/``).
    resolution_m
        Grid resolution in metres (100 = the full demo; 500–1000 for a quick look).
    offline
        ``True``/``None``: the maps embed all JavaScript/CSS (the default); ``False``: they load
        Leaflet from a CDN (``--cdn``).
    scale
        Shrinks the counts of villages and sites (tests).
    terrain
        Use the synthetic DEM (terrain shadows). Measured at 100 m, scale 1 on two cores: about
        24 minutes with it, about 1 minute without (see ``README-synthetic.md``).

    Returns
    -------
    dict
        ``map``, ``report``, ``workbook``, ``comparison`` (HTML), ``comparison_workbook``,
        ``run_2024``, ``run_2023``, ``map_2023``, ``scenario`` (the 2024 file), ``readme``,
        ``outcome_check`` → path.
    """
    from ..pipeline import run
    from ..report import compare_runs

    out = Path(out_dir)
    t0 = time.perf_counter()
    inputs = build_demo(out, resolution_m=resolution_m, scale=scale, terrain=terrain)
    log.info("demo: inputs built in %.1f s", time.perf_counter() - t0)
    results = {}
    for year in (2023, 2024):
        t1 = time.perf_counter()
        log.info("demo: running %s", inputs[f"scenario_{year}"].name)
        results[year] = run(inputs[f"scenario_{year}"], offline=offline)
        log.info(
            "demo: %d run finished in %.1f s (%s)",
            year,
            time.perf_counter() - t1,
            ", ".join(f"{k} {v:.1f} s" for k, v in results[year].timings.items()),
        )
    r23, r24 = results[2023], results[2024]
    comparison = compare_runs(r23.run_dir, r24.run_dir)
    meta = json.loads(inputs["metadata"].read_text(encoding="utf-8"))
    checks = pd.concat([outcome_check(r, meta) for r in results.values()], ignore_index=True)
    check_path = out / "outcome-check-synthetic.csv"
    checks.to_csv(check_path, index=False)
    for row in checks[~checks["agrees"]].itertuples():
        log.warning(
            "demo: %s %s %s %s = %.4g: designed %s, got %s",
            row.year,
            row.name,
            row.standard,
            row.indicator,
            row.value,
            row.designed,
            row.actual,
        )
    judged = checks[checks["designed"] != "any"]
    log.info(
        "demo: %d of %d predicted county indicator outcomes match the design; finished in %.1f s",
        int(judged["agrees"].sum()),
        len(judged),
        time.perf_counter() - t0,
    )
    outputs: dict[str, Path] = {
        "map": r24.outputs.get("map"),
        "report": r24.outputs.get("report"),
        "workbook": r24.outputs.get("workbook"),
        "comparison": comparison.get("report"),
        "comparison_workbook": comparison.get("workbook"),
        "run_2024": r24.run_dir,
        "run_2023": r23.run_dir,
        "map_2023": r23.outputs.get("map"),
        "scenario": inputs["scenario_2024"],
        "readme": inputs["readme"],
        "outcome_check": check_path,
    }
    return {k: Path(v) for k, v in outputs.items() if v is not None}
