"""Tables the workbook, the HTML report and the comparison share, taken from a run.

Everything here is plain pandas over the contracts of docs/architecture.md: the compliance table
(docs/design.md §8 columns), the indicator unit tables, the standards and the inputs' reports. No
file is written here.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ..compliance import COMPLIANCE_COLUMNS as _COMPLIANCE_COLUMNS
from ..compliance import STATUSES, mandatory_flags
from ..errors import RunError
from ..run_result import RunResult
from ..standard_files import standards_info
from .labels import KNOWN_KEYS, LEVELS

__all__ = [
    "COMPLIANCE_COLUMNS",
    "normalise_compliance",
    "levels_present",
    "indicator_columns",
    "region_summary",
    "input_summary",
    "provenance",
]

log = logging.getLogger(__name__)

#: The compliance table's columns; ``mandatory`` is absent from the tables of older runs, and
#: :func:`gigacov.compliance.mandatory_flags` then takes the flags from the standards.
COMPLIANCE_COLUMNS = [c for c in _COMPLIANCE_COLUMNS if c != "mandatory"]


def normalise_compliance(df: pd.DataFrame | None, where: str = "compliance table") -> pd.DataFrame:
    """The compliance table with docs/design.md §8 columns and plain dtypes.

    ``admin_code`` becomes a string (a CSV read back may have made it an integer), numbers
    float64, ``status`` one of ``pass`` / ``at_risk`` / ``fail`` / ``no_data``.
    """
    if df is None:
        raise RunError(
            f"{where}: there is no compliance table; run the 'check' stage before the report "
            "(gigacov run SCENARIO or gigacov report SCENARIO)"
        )
    missing = [
        c
        for c in ("admin_code", "level", "standard", "indicator", "value", "status")
        if c not in df
    ]
    if missing:
        raise RunError(
            f"{where}: missing column(s) {', '.join(missing)} (docs/design.md §8 lists them)"
        )
    out = df.copy()
    for col in COMPLIANCE_COLUMNS:
        if col not in out:
            out[col] = np.nan if col in ("value", "threshold", "margin", "shortfall") else ""
    for col in (
        "admin_code",
        "name",
        "level",
        "standard",
        "indicator",
        "op",
        "status",
        "shortfall_unit",
    ):
        out[col] = out[col].map(_text).astype(object)
    for col in ("value", "threshold", "margin", "shortfall"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    out["status"] = (
        out["status"]
        .str.strip()
        .str.lower()
        .replace({"no data": "no_data", "nodata": "no_data", "": "no_data", "at risk": "at_risk"})
    )
    bad = sorted(set(out["status"]) - set(STATUSES))
    if bad:
        raise RunError(
            f"{where}: column 'status' holds {bad[0]!r}; expected one of {', '.join(STATUSES)}"
        )
    if "mandatory" in out:
        out["mandatory"] = mandatory_flags(out).tolist()
    return out


def _text(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        if math.isnan(x):
            return ""
        if x.is_integer():
            return str(int(x))
    return str(x)


def levels_present(indicators: Any, compliance: pd.DataFrame) -> list[str]:
    """Levels with units in the indicator set or the compliance table, top down."""
    units = getattr(indicators, "units", None) or {}
    have = {lv for lv, t in units.items() if t is not None and len(t)}
    have |= set(compliance["level"].unique()) if len(compliance) else set()
    ordered = [lv for lv in LEVELS if lv in have]
    return ordered + sorted(have - set(LEVELS))


def indicator_columns(table: pd.DataFrame, extra: list[str] | None = None) -> list[str]:
    """Indicator-key columns of a unit table: the known keys first, then ``extra`` ones present."""
    keys = [k for k in KNOWN_KEYS if k in table.columns]
    for k in extra or []:
        if k in table.columns and k not in keys:
            keys.append(k)
    return keys


def _sum(t: pd.DataFrame, col: str) -> float:
    if col not in t:
        return math.nan
    s = pd.to_numeric(t[col], errors="coerce")
    return float(s.sum()) if s.notna().any() else math.nan


def _div(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) and b > 0 else math.nan


def region_summary(indicators: Any) -> tuple[str, pd.DataFrame]:
    """Headline figures: ``(level, table)``.

    The table is the province row of the indicator set, else the one city's row; a row that
    covers only part of its unit (``partial``: the scenario analyses one city of the province)
    is not a headline. Otherwise it is one row rolled up from the counties' numerators and
    denominators (level ``"region"``).
    """
    units = getattr(indicators, "units", None) or {}
    for level in ("province", "city"):
        t = units.get(level)
        if t is None or not len(t):
            continue
        if "partial" in t.columns and t["partial"].fillna(False).astype(bool).any():
            continue
        if level == "city" and len(t) > 1:
            continue
        return level, pd.DataFrame(t.drop(columns="geometry", errors="ignore")).reset_index(
            drop=True
        )
    t = units.get("county")
    if t is None or not len(t):
        return "region", pd.DataFrame()
    pop = _sum(t, "population")
    row = {
        "admin_code": "",
        "name": "",
        "level": "region",
        "population": pop,
        "area_km2": _sum(t, "area_km2"),
        "sites_5g": _sum(t, "sites_5g"),
        "covered_population_5g": _sum(t, "covered_population_5g"),
        "pop_coverage_5g": _div(_sum(t, "covered_population_5g"), pop),
        "area_coverage_5g": _div(_sum(t, "covered_area_km2_5g"), _sum(t, "area_km2")),
        "sites_5g_per_10k": _div(_sum(t, "sites_5g"), pop / 10_000 if pop == pop else math.nan),
        "village_reach_5g": _div(_sum(t, "villages_reached_5g"), _sum(t, "villages")),
        "key_place_reach_5g": _div(_sum(t, "key_places_reached_5g"), _sum(t, "key_places")),
        "household_gigabit_coverage": _div(
            _sum(t, "gigabit_households_covered"), _sum(t, "households")
        ),
        "pon_10g_share": _div(_sum(t, "pon_10g_ports"), _sum(t, "pon_ports")),
        "users_500m_share": _div(_sum(t, "users_500m_plus"), _sum(t, "fixed_users")),
        "users_1000m_count": _sum(t, "users_1000m_plus"),
        "users_1000m_share": _div(_sum(t, "users_1000m_plus"), _sum(t, "fixed_users")),
        "users_5g_share": _div(_sum(t, "users_5g"), _sum(t, "mobile_users")),
    }
    return "region", pd.DataFrame([row])


def input_summary(inputs: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per input: rows read / used / rejected / skipped (each file row counted once; sites also
    count the cells their used rows made) and defaults; and rejected rows by file and reason."""
    rows = []
    for rep in getattr(inputs, "reports", None) or []:
        d = rep.to_dict() if hasattr(rep, "to_dict") else dict(rep)
        defaults = d.get("defaults") or {}
        fixed = d.get("fixed") or {}
        rows.append(
            {
                "input": d.get("input", ""),
                "path": d.get("path", ""),
                "read": int(d.get("read", 0) or 0),
                "used": int(d.get("used", 0) or 0),
                "rejected": int(d.get("rejected", 0) or 0),
                "defaults": ", ".join(f"{k}: {v}" for k, v in defaults.items()),
                "fixed": ", ".join(f"{k}: {v}" for k, v in fixed.items()),
                "skipped": int(d.get("skipped", 0) or 0),
                "skipped_reasons": ", ".join(
                    f"{k}: {v}" for k, v in (d.get("skipped_reasons") or {}).items()
                ),
                "cells": d.get("cells"),
            }
        )
    reports = pd.DataFrame(
        rows,
        columns=[
            "input",
            "path",
            "read",
            "used",
            "rejected",
            "defaults",
            "fixed",
            "skipped",
            "skipped_reasons",
            "cells",
        ],
    )
    rejected = getattr(inputs, "rejected", None)
    if rejected is not None and len(rejected) and {"file", "reason"} <= set(rejected.columns):
        reasons = (
            rejected.groupby(["file", "reason"], sort=True).size().rename("rows").reset_index()
        )
    else:
        reasons = pd.DataFrame(columns=["file", "reason", "rows"])
    return reports, reasons


def provenance(run: RunResult) -> dict[str, Any]:
    """Provenance of a run as the reports show it (the same facts as ``manifest.json``).

    Built from the run itself, because the pipeline writes ``manifest.json`` after the report:
    input files with SHA-256, standard ids and versions, grid, model parameters, tool version,
    time, timings.
    """
    from .. import __version__

    scn = run.scenario
    inputs = run.inputs
    hashes = dict(getattr(inputs, "file_hashes", None) or {})
    listed = []
    for rep in getattr(inputs, "reports", None) or []:
        d = rep.to_dict() if hasattr(rep, "to_dict") else dict(rep)
        listed.append(
            {
                "input": d.get("input", ""),
                "path": d.get("path", ""),
                "sha256": hashes.get(d.get("path", ""), ""),
            }
        )
    seen = {d["path"] for d in listed}
    for path, digest in hashes.items():
        if path not in seen:
            listed.append({"input": "", "path": path, "sha256": digest})
    grid = run.grid.to_dict() if getattr(run, "grid", None) is not None else None
    return {
        "tool": "gigacov",
        "tool_version": __version__,
        "generated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": {
            "name": scn.name,
            "title": scn.title,
            "year": scn.year,
            "synthetic": bool(scn.scenario.synthetic),
            "region": scn.scenario.region,
            "path": str(scn.path) if scn.path else "",
        },
        "inputs": listed,
        "standards": [
            {"id": s.id, "version": s.version, "title": s.title, "source": s.source}
            for s in standards_info(run.standards)
        ],
        "grid": grid,
        "radio": {tech: cov.params.to_dict() for tech, cov in (run.coverage or {}).items()},
        "timings_s": dict(run.timings or {}),
    }
