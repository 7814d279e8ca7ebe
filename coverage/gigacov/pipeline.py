"""The whole job, stage by stage: ingest → grid → coverage → indicators → compliance → outputs.

Every stage is a plain function over the previous stages' results; :func:`run` chains them and
writes the run directory (:mod:`gigacov.rundir`, docs/design.md §7–8): ``manifest.json``,
``rejected_rows.csv``, the COG rasters, ``compliance.csv``, ``indicators.gpkg``, and, when asked,
the map and the report. The in-memory result is a :class:`gigacov.run_result.RunResult`.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__, safefs, staging
from .crs import resolve_grid_crs
from .errors import ConfigError, GigacovError
from .grid import Grid
from .run_result import RunResult
from .rundir import sha256_file, write_atomic
from .runlog import collect_warnings, new_run
from .scenario import Scenario, load_scenario
from .text import write_csv

if TYPE_CHECKING:  # pragma: no cover
    from .ingest import Inputs

__all__ = [
    "RunResult",
    "Stage",
    "STAGES",
    "load",
    "make_grid",
    "run",
    "manifest_for",
    "write_manifest",
    "calibrate",
]

log = logging.getLogger(__name__)

Stage = str
#: Stages in order. ``run(..., until=...)`` stops after the named one.
STAGES: tuple[Stage, ...] = ("validate", "coverage", "check", "plan", "map", "report")


# ------------------------------------------------------------------------------------------------
# Stages
# ------------------------------------------------------------------------------------------------


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
def _timed(result: RunResult, name: str):
    t0 = time.perf_counter()
    yield
    result.timings[name] = round(time.perf_counter() - t0, 3)
    log.info("%s: %.1f s", name, result.timings[name])


def _ingest(scenario: Scenario, run_dir: Path, *, write: bool = True) -> RunResult:
    from .ingest import load_inputs

    result = RunResult(scenario=scenario, run_dir=run_dir, inputs=None)
    with _timed(result, "ingest"):
        result.inputs = load_inputs(scenario)
    _say_input_warnings(result.inputs)
    if write:
        _write_rejected(result, "rejected_rows.csv")
    return result


def _say_input_warnings(inputs: Any) -> None:
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


def _write_rejected(result: RunResult, name: str) -> None:
    """Write the rejected rows as ``name`` and the skipped rows beside them (``skipped_rows``
    in place of ``rejected_rows`` in the name): every input row not used is listed in one of
    the two files, with its reason."""
    path = result.run_dir / name
    write_atomic(path, lambda p: write_csv(result.inputs.rejected, p))
    result.outputs["rejected_rows"] = path
    skipped = result.run_dir / name.replace("rejected_rows", "skipped_rows")
    write_atomic(skipped, lambda p: write_csv(result.inputs.skipped, p))
    result.outputs["skipped_rows"] = skipped


def _coverage(result: RunResult, plan: bool = False) -> None:
    from .by_operator import compute_operator_coverage
    from .operators import operator_slug, transmitters
    from .radio import RadioParams, compute_coverage, write_coverage
    from .zonal import population_grid

    scn, inputs = result.scenario, result.inputs
    result.grid = make_grid(scn, inputs)
    check_grid_budget(scn, result.grid, plan=plan)
    with _timed(result, "population"):
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
        with _timed(result, f"coverage_{tech.lower()}"):
            cov = compute_coverage(tech_cells, result.grid, params, **engine)
        result.coverage[tech] = cov
        suffix = "" if tech == "5G" else f"_{tech.lower()}"
        result.outputs.update(write_coverage(cov, result.run_dir, suffix=suffix))
        if tech == "5G" and scn.radio.per_operator:
            with _timed(result, "coverage_5g_operators"):
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


def _preflight(scn: Scenario, last: int, skip: set[Stage]) -> None:
    """Paths checked before the run writes anything (:func:`gigacov.preflight.check_paths`)."""
    from .preflight import check_paths

    def runs(stage: Stage) -> bool:
        return last >= STAGES.index(stage) and stage not in skip

    check_paths(scn, writes_map=runs("map"), reads_previous=runs("report"))


def _sweep(run_dir: Path) -> None:
    """Complete or remove what killed gigacov runs left beside and in the run directory and in
    ``maps/`` (:func:`gigacov.staging.sweep`)."""
    staging.sweep(run_dir, Path.cwd() / "maps")


def _commit(result: RunResult) -> None:
    """Move the staged run into its run directory and point the result at it."""
    from .preflight import input_paths

    st = result.staging
    assert st is not None
    st.commit(keep=[p for _, p in input_paths(result.scenario)])
    result.outputs = {k: st.final_path(v) for k, v in result.outputs.items()}
    result.run_dir = result.scenario.out_dir
    result.staging = None


def _check_standards_named(scn: Scenario, last: int) -> None:
    """``standards = []`` judges no unit: an error for the stages that judge (check and after)
    unless ``[scenario] allow_empty``."""
    if not scn.scenario.standards and not scn.scenario.allow_empty and last >= 2:
        raise ConfigError(
            f"{scn.path or 'scenario'}: [scenario] standards = [] judges no unit, so the run "
            "would report nothing; name at least one standard, or pass --allow-empty"
        )


def check_not_empty(inputs: Any) -> None:
    """Refuse an input file that gave no usable row for the region (a header-only sites file,
    a broadband file for another city, every row rejected): a verdict computed without it would
    look like a verdict on real data. ``[scenario] allow_empty`` (``--allow-empty``) accepts it."""
    from .errors import InputError

    for rep in inputs.reports:
        if rep.input in ("population", "dem", "clutter"):
            continue  # rasters: an all-nodata window is warned about by ingest
        if rep.used == 0:
            why = (
                "holds no data row"
                if rep.read == 0 and not rep.skipped
                else f"has no row for the region ({rep.skipped} rows elsewhere)"
                if rep.read == 0
                else f"has no usable row: all {rep.rejected} rows were rejected (see "
                "rejected_rows.csv)"
            )
            raise InputError(
                f"{rep.path}: the {rep.input.replace('_', ' ')} file {why}; a run without it "
                "would judge the region on no data — fix the file, or pass --allow-empty"
            )


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


def _check(result: RunResult) -> None:
    from .by_operator import operator_indicators, write_operator_layers
    from .compliance import evaluate
    from .indicators import compute_indicators, write_indicators_gpkg
    from .standard_files import load_standards

    scn = result.scenario
    with _timed(result, "indicators"):
        result.indicators = compute_indicators(
            result.inputs, result.grid, result.population, result.coverage
        )
    if result.coverage_by_operator:
        with _timed(result, "indicators_operators"):
            result.operator_indicators = operator_indicators(
                result.inputs,
                result.grid,
                result.population,
                result.coverage_by_operator,
                result.indicators,
            )
    base = scn.path.parent if scn.path else None
    result.standards = load_standards(scn.scenario.standards, base_dir=base)
    with _timed(result, "compliance"):
        result.compliance = evaluate(result.indicators, result.standards)
    run_dir = result.run_dir
    write_atomic(run_dir / "compliance.csv", lambda p: write_csv(result.compliance, p))

    def write_gpkg(p: Path) -> None:
        write_indicators_gpkg(result.indicators, p)
        write_operator_layers(result.operator_indicators, p)

    write_atomic(run_dir / "indicators.gpkg", write_gpkg)
    result.outputs["compliance"] = run_dir / "compliance.csv"
    result.outputs["indicators"] = run_dir / "indicators.gpkg"


def _field(result: RunResult) -> None:
    if result.inputs.measurements is None:
        return
    from .field import run_field

    with _timed(result, "field"):
        result.field_result = run_field(result)


def _plan(result: RunResult, counties: Iterable[str] | None = None) -> None:
    from .planning import plan, write_plan

    operator = result.scenario.planning.operator
    with _timed(result, "planning"):
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


def _map(result: RunResult, offline: bool | None = None) -> None:
    from .maps import build_map
    from .maps.build import default_map_path

    # A staged run stages its map too: maps/<name>.html changes when the run is complete.
    path = result.staging.external(default_map_path(result)) if result.staging else None
    with _timed(result, "map"):
        result.outputs["map"] = build_map(result, path, offline=offline)


def _report(result: RunResult) -> None:
    from .report import write_report

    with _timed(result, "report"):
        result.outputs.update(write_report(result))


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


def load(scenario: Scenario | str | Path) -> Scenario:
    """A :class:`Scenario` from a path or an existing scenario."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def run(
    scenario: Scenario | str | Path,
    *,
    until: Stage = "report",
    skip: Iterable[Stage] = (),
    offline: bool | None = None,
    plan_counties: Iterable[str] | None = None,
    reuse: bool = False,
    recompute: bool = False,
) -> RunResult:
    """Run the pipeline on a scenario and write its run directory.

    Parameters
    ----------
    scenario
        A :class:`Scenario` or the path of a scenario TOML file.
    until
        Last stage to run: ``validate``, ``coverage``, ``check``, ``plan``, ``map`` or
        ``report`` (everything).
    skip
        Stages to leave out (e.g. ``{"plan"}``).
    offline
        Map option: embed all JavaScript/CSS (None = the scenario's ``[map] offline``).
    plan_counties
        Restrict planning to these county adcodes (default: every failing county).
    reuse
        Read back what a complete run in the run directory already holds, when it still
        describes the scenario (:mod:`gigacov.reuse`), and compute only what is missing or
        stale; the map and the report then include everything the run holds (its plan too).
        ``RunResult.reuse`` says what was reused and why anything was recomputed.
    recompute
        With ``reuse``: compute every stage again (``--recompute``).
    """
    new_run()  # each warning is said once per run
    with collect_warnings() as warned:
        if reuse:
            return _run_reusing(
                load(scenario), until, set(skip), offline, plan_counties, warned, recompute
            )
        return _run(scenario, until, skip, offline, plan_counties, warned)


def _fingerprints(result: RunResult, plan_counties: Iterable[str] | None) -> dict[str, Any]:
    from .reuse import fingerprints
    from .standard_files import load_standards

    standards = result.standards
    if not standards:
        scn = result.scenario
        base = scn.path.parent if scn.path else None
        standards = load_standards(scn.scenario.standards, base_dir=base)
    return fingerprints(
        result.scenario,
        standards,
        file_hashes=result.inputs.file_hashes,
        plan_counties=list(plan_counties) if plan_counties else None,
    )


def _record_stages(
    result: RunResult, computed: Iterable[str], plan_counties: Iterable[str] | None
) -> None:
    """Fingerprints of the stages computed in this run, for reuse by later commands."""
    from .reuse import stage_record

    computed = [s for s in computed if s in ("coverage", "check", "plan")]
    if not computed:
        return
    now = _fingerprints(result, plan_counties)
    for stage in computed:
        result.stages[stage] = stage_record(result, stage, now[stage])


def _run_reusing(
    scn: Scenario,
    until: Stage,
    skip: set[Stage],
    offline: bool | None,
    plan_counties: Iterable[str] | None,
    warned: list[str],
    force: bool,
) -> RunResult:
    """:func:`run` with ``reuse=True``: read back what is fresh, compute what is not."""
    from . import reuse
    from .ingest import load_inputs
    from .standard_files import load_standards

    if until not in STAGES:
        raise ValueError(f"until must be one of {STAGES}, got {until!r}")
    last = STAGES.index(until)
    run_dir = scn.out_dir
    _check_standards_named(scn, last)
    _preflight(scn, last, skip)
    _sweep(run_dir)
    result = RunResult(scenario=scn, run_dir=run_dir, inputs=None, warnings=warned)
    with _timed(result, "ingest"):
        result.inputs = load_inputs(scn)
    _say_input_warnings(result.inputs)
    counties = list(plan_counties) if plan_counties else None
    result.standards = load_standards(
        scn.scenario.standards, base_dir=scn.path.parent if scn.path else None
    )
    now = _fingerprints(result, counties)
    wanted = [s for s in reuse.DATA_STAGES if STAGES.index(s) <= last and s not in skip]
    # The map and the report show everything the run holds: its plan too.
    shows = any(s not in skip and STAGES.index(s) <= last for s in ("map", "report"))
    optional = ("plan",) if shows and "plan" not in wanted else ()
    decision = reuse.decide(
        run_dir,
        now,
        needed=tuple(wanted),
        optional=optional,
        force=force,
        plan_strict="plan" in wanted,
    )
    result.reuse = decision
    if not decision.compute:
        # The run's warnings were said when it was computed; -v says them again.
        for text in decision.earlier_warnings:
            if text not in result.warnings:
                log.info("when the run was computed: %s", text)
        decision.earlier_warnings = [w for w in decision.earlier_warnings if w not in warned]
    else:
        decision.earlier_warnings = []
    log.info("%s", decision.line())
    try:
        if not scn.scenario.allow_empty:
            check_not_empty(result.inputs)
    except GigacovError:
        complete = decision.manifest is not None
        _write_rejected(result, VALIDATE_REJECTED if complete else "rejected_rows.csv")
        raise
    # Built in a staging folder like a full run; the files of the stages read back are
    # hard-linked into it (gigacov.staging), so a reusing command costs no copy.
    with staging.staged_run(run_dir) as st:
        st.carry(_carried(run_dir, decision))
        result.staging, result.run_dir = st, st.dir
        _reuse_stages(result, decision, last, skip, offline, counties)
        _commit(result)
    return result


def _carried(run_dir: Path, decision: Any) -> list[str]:
    """The files of the existing run that a reusing command keeps: those of every stage it does
    not recompute and, when it computes nothing, every output of the run (its report, its field
    check); when it computes a stage, the old run's other outputs describe the old data and go
    when the new run is moved in."""
    from . import reuse

    old = decision.manifest
    if old is None:
        return []
    records = old.get("stages") or {}
    # the stages read back, and those the command neither reads nor computes (they stay
    # recorded as they were; a later command finds them stale if they are)
    names = [
        n
        for stage, record in records.items()
        if stage in reuse.DATA_STAGES and stage not in decision.compute and isinstance(record, dict)
        for n in reuse.stage_files(stage, record)
    ]
    # The old manifest too: reading the stages back goes through it (the new one replaces it
    # in the staging folder before the run is moved in).
    names.append(staging.MANIFEST)
    if not decision.compute and run_dir.is_dir():
        names += [
            p.name
            for p in run_dir.iterdir()
            if staging.is_run_output(p.name) and p.name != staging.MANIFEST
        ]
        names += [
            str(rel)
            for rel in (old.get("outputs") or {}).values()
            if isinstance(rel, str) and Path(rel).name == rel and rel != staging.MANIFEST
        ]
    return names


def _reuse_stages(
    result: RunResult,
    decision: Any,
    last: int,
    skip: set[Stage],
    offline: bool | None,
    counties: list[str] | None,
) -> None:
    """The stages of a reusing command, into ``result.run_dir`` (the staging folder)."""
    from . import reuse
    from .zonal import population_grid

    scn, run_dir = result.scenario, result.run_dir
    old = decision.manifest or {}
    if decision.compute:
        _write_rejected(result, "rejected_rows.csv")
    result.outputs["rejected_rows"] = run_dir / "rejected_rows.csv"
    result.outputs["skipped_rows"] = run_dir / "skipped_rows.csv"
    result.grid = make_grid(scn, result.inputs)
    for stage in reuse.DATA_STAGES:
        if stage in decision.reuse:
            with _timed(result, f"read_{stage}"):
                reuse.restore(result, decision, stage)
            result.stages[stage] = (old.get("stages") or {})[stage]
        elif stage in decision.compute:
            if stage == "coverage":
                _coverage(result)
            else:
                if result.population is None:
                    with _timed(result, "population"):
                        result.population = population_grid(result.inputs, result.grid)
                if stage == "check":
                    _check(result)
                else:
                    _plan(result, counties)
    # The field check (with [measurements]) is derived from the rasters and the measurements at
    # little cost; it is redone rather than stored, so the map and report always have it.
    if "check" in decision.reuse or "check" in decision.compute:
        _field(result)
    _record_stages(result, decision.compute, counties)
    # Stages this command neither read nor computed stay recorded as they were (a later
    # command finds them stale if they are).
    for stage, record in (old.get("stages") or {}).items():
        result.stages.setdefault(stage, record)
    for key, rel in (old.get("outputs") or {}).items():
        # the old run's files that were carried into this one, and its map
        path = Path(rel) if Path(rel).is_absolute() else run_dir / rel
        if key not in result.outputs and path.exists():
            result.outputs[key] = path
    if decision.reuse:
        # The report's provenance shows how long the reused stages took when computed.
        for key, seconds in (old.get("timings_s") or {}).items():
            if key not in ("map", "report", "ingest"):
                result.timings.setdefault(key, seconds)
    if last >= STAGES.index("map") and "map" not in skip:
        _map(result, offline)
    if last >= STAGES.index("report") and "report" not in skip:
        _report(result)
    if decision.reuse:
        # The reused stages' warnings and timings stay with the run.
        result.warnings.extend(w for w in old.get("warnings") or [] if w not in result.warnings)
    write_manifest(result)


def _run(
    scenario: Scenario | str | Path,
    until: Stage,
    skip: Iterable[Stage],
    offline: bool | None,
    plan_counties: Iterable[str] | None,
    warned: list[str],
) -> RunResult:
    scn = load(scenario)
    if until not in STAGES:
        raise ValueError(f"until must be one of {STAGES}, got {until!r}")
    skip = set(skip)
    last = STAGES.index(until)
    run_dir = scn.out_dir
    # Everything that can be checked is checked before anything is written.
    _check_standards_named(scn, last)
    _preflight(scn, last, skip)
    _sweep(run_dir)
    result = _ingest(scn, run_dir, write=False)
    result.warnings = warned
    complete = (run_dir / "manifest.json").is_file()
    try:
        if not scn.scenario.allow_empty:
            check_not_empty(result.inputs)
    except GigacovError:
        _write_rejected(result, VALIDATE_REJECTED if complete else "rejected_rows.csv")
        raise
    if until == "validate":
        # validate computes nothing: it leaves a run directory as it was, but for its report.
        _write_rejected(result, VALIDATE_REJECTED if complete else "rejected_rows.csv")
        return result
    # The new run is built in a staging folder and moved into the run directory when complete
    # (gigacov.staging): until then the previous run stays as it was, and an interrupted run
    # leaves it untouched.
    with staging.staged_run(run_dir) as st:
        result.staging, result.run_dir = st, st.dir
        _run_stages(result, last, skip, offline, plan_counties)
        _commit(result)
    return result


def _run_stages(
    result: RunResult,
    last: int,
    skip: set[Stage],
    offline: bool | None,
    plan_counties: Iterable[str] | None,
) -> None:
    """Every stage of a full run, written into ``result.run_dir``, the manifest last."""
    _write_rejected(result, "rejected_rows.csv")
    steps: list[tuple[Stage, Callable[[], None]]] = [
        (
            "coverage",
            lambda: _coverage(result, plan=last >= STAGES.index("plan") and "plan" not in skip),
        ),
        ("check", lambda: _check(result)),
        ("check", lambda: _field(result)),
        ("plan", lambda: _plan(result, plan_counties)),
        ("map", lambda: _map(result, offline)),
        ("report", lambda: _report(result)),
    ]
    computed = []
    for name, step in steps:
        if STAGES.index(name) > last:
            break
        if name in skip:
            continue
        step()
        computed.append(name)
    _record_stages(result, computed, plan_counties)
    write_manifest(result)


def calibrate(
    scenario: Scenario | str | Path, *, out_dir: str | Path | None = None
) -> tuple[dict[str, Any], dict[str, Path]]:
    """``gigacov calibrate``: ingest and coverage of the measured technologies, then the field
    check and the fit of :mod:`gigacov.field`, written to ``calibration.toml/.json``.

    Returns the content of ``calibration.json`` and the paths written (in the run directory or
    ``out_dir``).
    """
    from .errors import ConfigError
    from .field import write_calibration
    from .field.run import analyse as field_analyse

    scn = load(scenario)
    if not (scn.measurements.path or scn.measurements.paths):
        raise ConfigError(
            f"{scn.path or 'scenario'}: calibrate needs measurements: add a [measurements] "
            'section with path = "drive_test.csv"'
        )
    run_dir = Path(scn.out_dir)
    folder = Path(out_dir) if out_dir else run_dir
    _sweep(run_dir)
    result = _ingest(scn, run_dir, write=False)
    # The rejected rows go beside the calibration; in a complete run they must not replace the
    # run's own (like validate).
    result.run_dir = folder
    complete = (folder / "manifest.json").is_file()
    _write_rejected(result, VALIDATE_REJECTED if complete else "rejected_rows.csv")
    techs = set(result.inputs.measurements["tech"]) & {"5G", "4G"}
    if not techs:
        raise ConfigError(
            f"{scn.path or 'scenario'}: the measurements hold no 5G or 4G radio samples to "
            "calibrate with"
        )
    wanted = [t for t in scn.radio.technologies if t.upper() in techs]
    scn_c = scn.replace(radio={"technologies": wanted})
    result.scenario = scn_c
    # The coverage computed for the fit is the measured technologies' only, under the
    # calibration being fitted: its rasters go to a private scratch folder, never over the run's.
    with safefs.partial_dir(folder) as scratch:
        result.run_dir = scratch
        _coverage(result)
        fr = field_analyse(result, with_verdicts=False)
    paths = write_calibration(fr.calibration, folder, scenario=scn.name)
    return fr.calibration, paths
