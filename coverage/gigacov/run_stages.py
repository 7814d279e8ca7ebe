"""The stages of a run, each a plain function over the previous stages' results.

Ingest (and the rejected and skipped rows), the grid, coverage, the check (indicators,
compliance), the field check, the plan, the map and the report; the checks made before a run
writes anything (standards named, paths, inputs not empty, the grid's memory budget), and moving
a staged run into its run directory (:mod:`gigacov.staging`). :mod:`gigacov.pipeline` chains
them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import staging
from .crs import resolve_grid_crs
from .errors import ConfigError
from .grid import Grid
from .run_result import RunResult
from .rundir import write_atomic
from .scenario import Scenario
from .text import write_csv

if TYPE_CHECKING:  # pragma: no cover
    from .ingest import Inputs

__all__ = [
    "Stage",
    "STAGES",
    "VALIDATE_REJECTED",
    "VALIDATE_SKIPPED",
    "make_grid",
    "check_not_empty",
    "check_grid_budget",
    "check_standards_named",
    "preflight_paths",
    "sweep_run_dir",
    "commit_run",
    "timed",
    "ingest_stage",
    "say_input_warnings",
    "write_rejected",
    "coverage_stage",
    "check_stage",
    "field_stage",
    "plan_stage",
    "map_stage",
    "report_stage",
]

log = logging.getLogger(__name__)

Stage = str


#: Stages in order. ``run(..., until=...)`` stops after the named one.
STAGES: tuple[Stage, ...] = ("validate", "coverage", "check", "plan", "map", "report")


def make_grid(scenario: Scenario, inputs: Inputs) -> Grid:
    """The analysis grid: the region's counties' bounding box in the metric CRS, snapped."""
    counties = inputs.counties
    bounds = tuple(counties.total_bounds)
    crs = resolve_grid_crs(scenario.grid.crs, bounds)
    grid = Grid.for_geometries(
        counties, scenario.grid.resolution_m, crs, buffer_m=scenario.grid.buffer_m
    )
    _check_grid_covers(grid, bounds)
    return grid


def _check_grid_covers(grid: Grid, bounds: tuple[float, ...]) -> None:
    """Refuse a grid that does not hold the region: a region too wide for one metric CRS (a
    polygon spanning half the globe) projects to a degenerate extent that would give wrong
    verdicts, not an error."""
    from .crs import transformer
    from .errors import InputError

    minx, miny, maxx, maxy = (float(b) for b in bounds)
    t = np.linspace(0.0, 1.0, 33)
    lon = np.concatenate([minx + (maxx - minx) * t, np.full(33, maxx), maxx - (maxx - minx) * t])
    lat = np.concatenate([np.full(33, miny), miny + (maxy - miny) * t, np.full(33, maxy)])
    lon = np.concatenate([lon, np.full(33, minx)])
    lat = np.concatenate([lat, maxy - (maxy - miny) * t])
    x, y = transformer(4326, grid.crs).transform(lon, lat)
    gx0, gy0, gx1, gy1 = grid.bounds
    # The lon/lat box's edges are curves in a metric CRS (meridian convergence): they stray a
    # few km outside the box of the projected polygons across a region ~1.5° wide. A wrapped or
    # degenerate projection strays by far more than a twentieth of the extent.
    tol = max(2 * grid.resolution_m, 0.05 * max(gx1 - gx0, gy1 - gy0))
    ok = (
        np.isfinite(x)
        & np.isfinite(y)
        & (x >= gx0 - tol)
        & (x <= gx1 + tol)
        & (y >= gy0 - tol)
        & (y <= gy1 + tol)
    )
    if maxx - minx > 60 or not ok.all():
        raise InputError(
            f"the region's counties span lon {minx:.3f}…{maxx:.3f}, lat {miny:.3f}…{maxy:.3f}; "
            f"that extent does not fit on one grid in {grid.crs.to_string()} — check the county "
            "boundaries ([boundaries] counties) for a wrong polygon or CRS, or set [grid] crs"
        )


@contextmanager
def timed(result: RunResult, name: str):
    t0 = time.perf_counter()
    yield
    result.timings[name] = round(time.perf_counter() - t0, 3)
    log.info("%s: %.1f s", name, result.timings[name])


def ingest_stage(scenario: Scenario, run_dir: Path, *, write: bool = True) -> RunResult:
    from .ingest import load_inputs

    result = RunResult(scenario=scenario, run_dir=run_dir, inputs=None)
    with timed(result, "ingest"):
        result.inputs = load_inputs(scenario)
    say_input_warnings(result.inputs)
    if write:
        write_rejected(result, "rejected_rows.csv")
    return result


def say_input_warnings(inputs: Any) -> None:
    """Log every warning of the inputs (repairs, defaults, skipped rows, datum doubts) once, so
    that every command shows them on stderr and the run's warnings (``--json``, the manifest)
    hold them all; a text a reader already logged is not shown twice (see :mod:`.runlog`)."""
    for text in inputs.warnings:
        log.warning("%s", text)


#: Where ``validate`` (or a run stopped by its inputs) writes the rejected rows when the run
#: directory holds a complete run, whose own ``rejected_rows.csv`` it must not replace.
VALIDATE_REJECTED = "rejected_rows.validate.csv"


#: Where ``validate`` writes the skipped rows in a complete run (see :data:`VALIDATE_REJECTED`).
VALIDATE_SKIPPED = "skipped_rows.validate.csv"


def write_rejected(result: RunResult, name: str) -> None:
    """Write the rejected rows as ``name`` and the skipped rows beside them (``skipped_rows``
    in place of ``rejected_rows`` in the name): every input row not used is listed in one of
    the two files, with its reason."""
    path = result.run_dir / name
    write_atomic(path, lambda p: write_csv(result.inputs.rejected, p))
    result.outputs["rejected_rows"] = path
    skipped = result.run_dir / name.replace("rejected_rows", "skipped_rows")
    write_atomic(skipped, lambda p: write_csv(result.inputs.skipped, p))
    result.outputs["skipped_rows"] = skipped


def check_standards_named(scn: Scenario, last: int) -> None:
    """``standards = []`` judges no unit: an error for the stages that judge (check and after)
    unless ``[scenario] allow_empty``."""
    if not scn.scenario.standards and not scn.scenario.allow_empty and last >= 2:
        raise ConfigError(
            f"{scn.path or 'scenario'}: [scenario] standards = [] judges no unit, so the run "
            "would report nothing; name at least one standard, or pass --allow-empty"
        )


def preflight_paths(scn: Scenario, last: int, skip: set[Stage]) -> None:
    """Paths checked before the run writes anything (:func:`gigacov.preflight.check_paths`)."""
    from .preflight import check_paths

    def runs(stage: Stage) -> bool:
        return last >= STAGES.index(stage) and stage not in skip

    # validate checks the previous run as the report would: a scenario it passes must not
    # fail there (last == 0 is validate)
    check_paths(scn, writes_map=runs("map"), reads_previous=runs("report") or last == 0)


def sweep_run_dir(run_dir: Path) -> None:
    """Complete or remove what killed gigacov runs left beside and in the run directory and in
    ``maps/`` (:func:`gigacov.staging.sweep`)."""
    staging.sweep(run_dir, Path.cwd() / "maps")


def commit_run(result: RunResult) -> None:
    """Move the staged run into its run directory and point the result at it."""
    from .preflight import input_paths

    st = result.staging
    assert st is not None
    st.commit(keep=[p for _, p in input_paths(result.scenario)])
    result.outputs = {k: st.final_path(v) for k, v in result.outputs.items()}
    result.run_dir = result.scenario.out_dir
    result.staging = None


def check_not_empty(inputs: Any) -> None:
    """Refuse an input file that gave no usable row for the region (a header-only sites file,
    a broadband file for another city, every row rejected): a verdict computed without it would
    look like a verdict on real data. ``[scenario] allow_empty`` (``--allow-empty``) accepts it."""
    from .errors import InputError

    for rep in inputs.reports:
        if rep.input in ("population", "dem", "clutter"):
            continue  # rasters: an all-nodata window is warned about by ingest
        if rep.used == 0 and not rep.rejected and set(rep.skipped_reasons) == {"duplicate_place"}:
            continue  # every place is in an earlier key-places file: used from there
        if rep.used == 0:
            skipped = _reasons(rep.skipped_reasons)
            why = (
                "holds no data row"
                if rep.read == 0 and not rep.skipped
                else f"has no row for this run: all {rep.skipped} rows were skipped ({skipped}, "
                "see skipped_rows.csv)"
                if rep.read == 0 or not rep.rejected
                else f"has no usable row: all {rep.read} rows were rejected or skipped — "
                f"rejected {rep.rejected} ({_reasons(_rejected_reasons(inputs, rep.path))}, see "
                "rejected_rows.csv)" + (f", skipped {rep.skipped} ({skipped})" if skipped else "")
            )
            raise InputError(
                f"{rep.path}: the {rep.input.replace('_', ' ')} file {why}; a run without it "
                "would judge the region on no data — fix the file, or pass --allow-empty"
            )


def _rejected_reasons(inputs: Any, path: str) -> dict[str, int]:
    """Rejected rows of one file by reason (each spreadsheet row once)."""
    rej = getattr(inputs, "rejected", None)
    if rej is None or rej.empty:
        return {}
    files = rej["file"].astype(str)
    # a workbook read sheet by sheet lists its rows as "file.xlsx[sheet]"
    mine = rej[(files == str(path)) | files.str.startswith(f"{path}[")]
    mine = mine.drop_duplicates(["file", "row"])
    return {str(k): int(v) for k, v in mine["reason"].value_counts().items()}


def _reasons(counts: dict[str, int]) -> str:
    """``{"duplicate_id": 5}`` → ``"duplicate_id: 5"``, largest first."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{k}: {v}" for k, v in items)


def check_grid_budget(scenario: Scenario, grid: Grid, *, plan: bool = False) -> None:
    """Refuse a grid whose full-grid arrays would exceed ``[compute] memory_budget_mb``.

    Checked once, before anything is computed on the grid: the population grid, the coverage
    rasters of each technology (they stay in memory together), the clutter classes and the
    DEM on the grid, and, when the run plans, the planner's rasters. Each stage checks its own
    allocation again (``Grid.check_allocation``); this check makes a run fail in seconds instead
    of after the stages before the one that would not fit.
    """
    from .planning.core import PLANNING_BYTES_PER_PIXEL
    from .radio.backends import OUTPUT_BYTES_PER_PIXEL
    from .zonal import POPULATION_BYTES_PER_PIXEL

    budget = int(scenario.compute.memory_budget_mb) * 2**20
    techs = len(scenario.radio.technologies)
    per_pixel = (
        POPULATION_BYTES_PER_PIXEL
        + OUTPUT_BYTES_PER_PIXEL * techs
        + (1 if not scenario.radio.clutter else 0)
        + (4 if scenario.terrain.dem else 0)
    )
    what = f"the run's full-grid arrays (population, {techs} coverage technolog"
    what += "y" if techs == 1 else "ies"
    what += ", clutter" + (", DEM" if scenario.terrain.dem else "") + ")"
    grid.check_allocation(per_pixel, budget, what)
    if plan:
        grid.check_allocation(PLANNING_BYTES_PER_PIXEL + per_pixel, budget, "planning")


def coverage_stage(result: RunResult, plan: bool = False) -> None:
    from .by_operator import compute_operator_coverage
    from .operators import operator_slug, transmitters
    from .radio import RadioParams, compute_coverage, write_coverage
    from .zonal import population_grid

    scn, inputs = result.scenario, result.inputs
    result.grid = make_grid(scn, inputs)
    check_grid_budget(scn, result.grid, plan=plan)
    with timed(result, "population"):
        result.population = population_grid(inputs, result.grid)
    cells = inputs.cells
    engine = {
        "population": result.population,
        "clutter": inputs.clutter,
        "dem": inputs.dem,
        "backend": scn.compute.backend,
        "scheduler": scn.compute.scheduler,
        "workers": scn.compute.workers,
        "tile_size": scn.grid.tile_size,
        "progress": scn.compute.progress,
        "memory_budget_mb": scn.compute.memory_budget_mb,
    }
    for tech in scn.radio.technologies:
        tech = tech.upper()
        # a shared cell that several operators list is one transmitter
        tech_cells = transmitters(cells[cells["tech"] == tech])
        if tech != "5G" and tech_cells.empty:
            # No data is not zero: without cells of a technology its coverage is unknown, not
            # 0 % (ingest warned); no rasters, no layers, its indicators stay no_data.
            log.info("no %s cells: %s coverage not computed", tech, tech)
            continue
        params = RadioParams.from_section(scn.radio, tech)
        with timed(result, f"coverage_{tech.lower()}"):
            cov = compute_coverage(tech_cells, result.grid, params, **engine)
        result.coverage[tech] = cov
        suffix = "" if tech == "5G" else f"_{tech.lower()}"
        result.outputs.update(write_coverage(cov, result.run_dir, suffix=suffix))
        if tech == "5G" and scn.radio.per_operator:
            with timed(result, "coverage_5g_operators"):
                by_op, op_timings = compute_operator_coverage(
                    tech_cells, result.grid, params, **engine
                )
            result.coverage_by_operator = by_op
            result.timings.update(
                {f"coverage_5g_{operator_slug(o)}": t for o, t in op_timings.items()}
            )
            for op, c in by_op.items():
                result.outputs.update(
                    write_coverage(c, result.run_dir, suffix=f"_5g_{operator_slug(op)}")
                )


def check_stage(result: RunResult) -> None:
    from .by_operator import operator_indicators, write_operator_layers
    from .compliance import evaluate
    from .indicators import compute_indicators, write_indicators_gpkg
    from .standard_files import load_standards

    scn = result.scenario
    with timed(result, "indicators"):
        result.indicators = compute_indicators(
            result.inputs, result.grid, result.population, result.coverage
        )
    if result.coverage_by_operator:
        with timed(result, "indicators_operators"):
            result.operator_indicators = operator_indicators(
                result.inputs,
                result.grid,
                result.population,
                result.coverage_by_operator,
                result.indicators,
            )
    base = scn.path.parent if scn.path else None
    result.standards = load_standards(scn.scenario.standards, base_dir=base)
    with timed(result, "compliance"):
        result.compliance = evaluate(result.indicators, result.standards)
    run_dir = result.run_dir
    write_atomic(run_dir / "compliance.csv", lambda p: write_csv(result.compliance, p))

    def write_gpkg(p: Path) -> None:
        write_indicators_gpkg(result.indicators, p)
        write_operator_layers(result.operator_indicators, p)

    write_atomic(run_dir / "indicators.gpkg", write_gpkg)
    result.outputs["compliance"] = run_dir / "compliance.csv"
    result.outputs["indicators"] = run_dir / "indicators.gpkg"


def field_stage(result: RunResult) -> None:
    if result.inputs.measurements is None:
        return
    from .field import run_field

    with timed(result, "field"):
        result.field_result = run_field(result)


def plan_stage(result: RunResult, counties: Iterable[str] | None = None) -> None:
    from .planning import plan, write_plan

    operator = result.scenario.planning.operator
    with timed(result, "planning"):
        if operator:
            from .by_operator import operator_view

            # the operator's own coverage gaps, new sites on its main carrier
            view = operator_view(result, operator)
            result.plan = plan(view, counties=list(counties) if counties else None)
            _label_plan(result.plan, view.scenario.planning.operator)
        else:
            result.plan = plan(result, counties=list(counties) if counties else None)
    result.outputs.update(write_plan(result.plan, result.run_dir))


def _label_plan(plan_result: Any, operator: str) -> None:
    """Put the operator on the recommended sites and their cells."""
    from .operators import load_carrier_table

    if plan_result.recommended is not None:
        plan_result.recommended["operator"] = operator
    cells = plan_result.new_cells
    if cells is not None and len(cells):
        cells["operator"] = operator
        cells["freq_source"] = "input"
    plan_result.settings["operator"] = operator
    carrier = load_carrier_table().main(operator, "5G")
    if carrier is not None:
        plan_result.settings["carrier_mhz"] = [carrier.low_mhz, carrier.high_mhz]


def map_stage(result: RunResult, offline: bool | None = None) -> None:
    from .maps import build_map
    from .maps.build import default_map_path

    # A staged run stages its map too: maps/<name>.html changes when the run is complete.
    path = result.staging.external(default_map_path(result)) if result.staging else None
    with timed(result, "map"):
        result.outputs["map"] = build_map(result, path, offline=offline)


def report_stage(result: RunResult) -> None:
    from .report import write_report

    with timed(result, "report"):
        result.outputs.update(write_report(result))
