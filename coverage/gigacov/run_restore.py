"""Reading the reused stages of a run back into a :class:`~gigacov.run_result.RunResult`.

Every file is read through the run directory's readers (:mod:`gigacov.rundir`): the coverage
rasters (per technology, and per operator when the run computed them), the indicator tables with
their geometries and the compliance table (through the reader a comparison uses), and the plan
(weak-coverage areas, recommended sites and the plan summary kept in the manifest).
:mod:`gigacov.reuse` decides which stages are read back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import RunError
from .rundir import (
    COMPLIANCE,
    COVERAGE_LAYERS,
    GAPS,
    INDICATORS,
    RECOMMENDED_CSV,
    RECOMMENDED_GPKG,
    coverage_file,
    coverage_suffix,
    gpkg_layers,
    read_gpkg,
)

if TYPE_CHECKING:  # pragma: no cover
    from .reuse import Decision

__all__ = ["StoredPlan", "restore"]


class StoredPlan:
    """A plan read back from a run directory: the areas, the sites and the stored summary.

    Offers what the map, the report and ``gigacov plan`` use of a
    :class:`gigacov.planning.PlanResult`: ``gaps``, ``recommended``, ``summary()``.
    """

    def __init__(self, gaps: Any, recommended: Any, summary: dict[str, Any]) -> None:
        self.gaps = gaps
        self.recommended = recommended
        self._summary = summary
        self.counties: list[Any] = []
        self.new_cells = None
        self.settings = dict(summary.get("settings") or {})
        self.timings = dict(summary.get("timings_s") or {})

    def summary(self) -> dict[str, Any]:
        return self._summary


def _restore_coverage(result: Any, record: dict[str, Any], manifest: dict[str, Any]) -> None:
    from .operators import cells_serving, transmitters
    from .radio import RadioParams, read_coverage
    from .radio.result import CoverageResult

    scn, cells = result.scenario, result.inputs.cells
    timings = manifest.get("radio_timings") or {}
    op_timings = manifest.get("radio_timings_by_operator") or {}

    def read(tech: str, suffix: str, tech_cells, times) -> CoverageResult:
        arrays = read_coverage(result.run_dir, suffix=suffix)
        grid = arrays["grid"]
        if result.grid is not None and not result.grid.same_as(grid):
            raise RunError(
                f"{result.run_dir}: the {tech} rasters are not on the scenario's grid; "
                "rerun with --recompute"
            )
        result.outputs.update(
            {
                f"{layer}{suffix}": result.run_dir / coverage_file(layer, suffix)
                for layer in COVERAGE_LAYERS
            }
        )
        return CoverageResult(
            tech=tech,
            grid=grid,
            rsrp_dbm=arrays["rsrp"],
            sinr_db=arrays["sinr"],
            server=arrays["server"],
            covered=arrays["covered"],
            cells=tech_cells,
            params=RadioParams.from_section(scn.radio, tech),
            timings=dict(times or {}),
        )

    for tech in record.get("technologies", []):
        tech = str(tech).upper()
        suffix = coverage_suffix(tech)
        # the transmitters the engine ran on (server indices refer to them)
        tech_cells = transmitters(cells[cells["tech"] == tech])
        result.coverage[tech] = read(tech, suffix, tech_cells, timings.get(tech))
        if tech == "5G":
            result.coverage_by_operator = {
                op: read(
                    "5G",
                    coverage_suffix("5G", slug),
                    cells_serving(tech_cells, op),
                    op_timings.get(op),
                )
                for op, slug in (record.get("operators") or {}).items()
            }


def _restore_check(result: Any, record: dict[str, Any]) -> None:
    """The compliance table and the indicator tables, through the reader ``compare`` uses.

    :func:`gigacov.report.compare.load_run` reads and checks the manifest, ``compliance.csv``
    (text cells un-neutralised, statuses normalised) and the unit tables; the geometries, which
    a comparison does not need, are added here from the same GeoPackage layers.
    """
    import geopandas as gpd

    from .indicators import IndicatorSet, indicator_definitions
    from .report.compare import load_run

    run_dir = result.run_dir
    stored = load_run(run_dir)
    gpkg = run_dir / INDICATORS
    units = {}
    for level, table in stored.units.items():
        shapes = read_gpkg(gpkg, level, columns=[])
        if len(shapes) != len(table):
            raise RunError(
                f"{gpkg}: layer {level!r} has {len(shapes)} shapes for {len(table)} rows; "
                "rerun with --recompute"
            )
        for col in ("parent_code",):
            if col in table.columns:
                table[col] = table[col].astype(str).where(table[col].notna(), None)
        units[level] = gpd.GeoDataFrame(
            table.reset_index(drop=True), geometry=shapes.geometry.values, crs=shapes.crs
        )
    layers = gpkg_layers(gpkg)
    key_places = read_gpkg(gpkg, "key_places") if "key_places" in layers else None
    result.operator_indicators = {}
    for level in ("province", "city", "county", "village"):
        if f"{level}_operator" in layers:
            table = read_gpkg(gpkg, f"{level}_operator")
            table["admin_code"] = table["admin_code"].astype(str)
            result.operator_indicators[level] = table
    techs = tuple(str(t).lower() for t in record.get("technologies", ["5g"]))
    result.indicators = IndicatorSet(
        units=units,
        key_places=key_places,
        definitions=indicator_definitions(techs),
        year=int(result.scenario.year),
        technologies=techs,
    )
    result.compliance = stored.compliance
    result.outputs["compliance"] = run_dir / COMPLIANCE
    result.outputs["indicators"] = gpkg


def _restore_plan(result: Any, record: dict[str, Any]) -> None:
    run_dir = result.run_dir
    gaps = read_gpkg(run_dir / GAPS, "gaps")
    recommended = read_gpkg(run_dir / RECOMMENDED_GPKG, "recommended_sites")
    for table in (gaps, recommended):
        for col in ("admin_code", "county"):
            if col in table.columns:
                table[col] = table[col].astype(str)
    result.plan = StoredPlan(gaps, recommended, dict(record.get("summary") or {}))
    result.outputs.update(
        {
            "gaps": run_dir / GAPS,
            "recommended_csv": run_dir / RECOMMENDED_CSV,
            "recommended_gpkg": run_dir / RECOMMENDED_GPKG,
        }
    )


def restore(result: Any, decision: Decision, stage: str) -> None:
    """Read one reused stage back into ``result`` (a :class:`gigacov.run_result.RunResult`)."""
    manifest = decision.manifest or {}
    record = (manifest.get("stages") or {}).get(stage) or {}
    if stage == "coverage":
        _restore_coverage(result, record, manifest)
    elif stage == "check":
        _restore_check(result, record)
    elif stage == "plan":
        _restore_plan(result, record)
    else:  # pragma: no cover - programming error
        raise ValueError(stage)
