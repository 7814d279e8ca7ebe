"""The run's ``manifest.json``: provenance of a run (inputs with SHA-256, standards, settings,
grid, radio parameters, versions, timings, outputs, row counts, warnings), written last."""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .run_result import RunResult
from .rundir import sha256_file, write_atomic

__all__ = ["manifest_for", "write_manifest"]


def manifest_for(result: RunResult) -> dict[str, Any]:
    """Provenance of a run: inputs with SHA-256, standards, parameters, versions, timings."""
    scn = result.scenario
    inputs = result.inputs
    return {
        "tool": "gigacov",
        "tool_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "scenario": {
            "name": scn.name,
            "year": scn.year,
            "path": str(scn.path) if scn.path else None,
            "sha256": sha256_file(scn.path) if scn.path and scn.path.is_file() else None,
            "synthetic": scn.scenario.synthetic,
            "region": scn.scenario.region,
        },
        "settings": scn.to_dict(),
        "inputs": [
            {**rep.to_dict(), "sha256": inputs.file_hashes.get(rep.path)} for rep in inputs.reports
        ]
        if inputs is not None
        else [],
        "standards": [
            {"id": s.id, "version": s.version, "title": s.title, "source": s.source}
            for s in result.standards
        ],
        "grid": result.grid.to_dict() if result.grid is not None else None,
        "radio": {tech: cov.params.to_dict() for tech, cov in result.coverage.items()},
        "radio_timings": {tech: cov.timings for tech, cov in result.coverage.items()},
        "calibration": {
            tech: (
                {
                    "file": cov.params.calibration,
                    "offsets_db": list(cov.params.calibration_offsets_db),
                    "slopes_db_per_decade": list(cov.params.calibration_slopes_db),
                }
                if getattr(cov.params, "calibrated", False)
                else None
            )
            for tech, cov in result.coverage.items()
        },
        "field": (
            {
                k: result.field_result.summary.get(k)
                for k in ("samples", "status", "calibration", "timings_s")
            }
            if result.field_result is not None
            else None
        ),
        "carriers": _carriers_manifest(inputs),
        "radio_timings_by_operator": {
            op: cov.timings for op, cov in result.coverage_by_operator.items()
        },
        "timings_s": result.timings,
        "outputs": {k: _manifest_path(result, v) for k, v in result.outputs.items()},
        "stages": result.stages,
        "plan": result.plan.summary() if result.plan is not None else None,
        "rejected_rows": int(len(inputs.rejected)) if inputs is not None else 0,
        "skipped_rows": int(len(inputs.skipped)) if inputs is not None else 0,
        "warnings": list(
            dict.fromkeys([*(inputs.warnings if inputs is not None else []), *result.warnings])
        ),
    }


def _carriers_manifest(inputs: Any) -> dict[str, Any] | None:
    table = getattr(inputs, "carrier_table", None)
    if table is None:
        return None
    summ = getattr(inputs, "carriers", None)
    return {**table.to_dict(), "cells": summ.to_dict() if summ is not None else None}


def _manifest_path(result: RunResult, path: Path) -> str:
    """An output as the manifest names it: relative inside the run directory, else absolute
    (where it is once a staged run is complete)."""
    final, run_dir = result.final_path(path), result.final_path(result.run_dir)
    if _inside(final, run_dir):
        return str(Path(final).resolve().relative_to(Path(run_dir).resolve()))
    return str(final)


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def write_manifest(result: RunResult) -> Path:
    result.manifest = manifest_for(result)
    path = result.run_dir / "manifest.json"
    write_atomic(
        path,
        lambda p: p.write_text(json.dumps(result.manifest, ensure_ascii=False, indent=2), "utf-8"),
    )
    return path
