"""Writing a plan into the run directory: ``gaps.gpkg`` and ``recommended_sites.csv/.gpkg``."""

from __future__ import annotations

from pathlib import Path

from ..rundir import atomic_path
from ..text import write_csv
from .result import PlanResult

__all__ = ["write_plan"]


def write_plan(plan: PlanResult, run_dir: Path) -> dict[str, Path]:
    """Write the plan into a run directory, each file atomically.

    Returns
    -------
    dict
        ``{"gaps": gaps.gpkg, "recommended_csv": recommended_sites.csv,
        "recommended_gpkg": recommended_sites.gpkg}``. The GeoPackages are WGS84 (layers
        ``gaps`` and ``recommended_sites``); the CSV is UTF-8 with BOM (opens in Excel with its
        Chinese names intact) and carries ``lon``/``lat`` columns.
    """

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    out = {
        "gaps": run_dir / "gaps.gpkg",
        "recommended_csv": run_dir / "recommended_sites.csv",
        "recommended_gpkg": run_dir / "recommended_sites.gpkg",
    }
    with atomic_path(out["gaps"]) as tmp:
        plan.gaps.to_crs(4326).to_file(
            tmp,
            layer="gaps",
            driver="GPKG",
            geometry_type="MultiPolygon" if len(plan.gaps) == 0 else None,
        )
    with atomic_path(out["recommended_csv"]) as tmp:
        write_csv(plan.recommended.drop(columns="geometry"), tmp, encoding="utf-8-sig")
    with atomic_path(out["recommended_gpkg"]) as tmp:
        plan.recommended.to_crs(4326).to_file(
            tmp,
            layer="recommended_sites",
            driver="GPKG",
            geometry_type="Point" if len(plan.recommended) == 0 else None,
        )
    return out
