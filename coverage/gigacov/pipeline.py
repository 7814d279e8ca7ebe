"""The whole job, stage by stage: ingest → grid → coverage → indicators → compliance → outputs.

:func:`run` chains the stages (:mod:`gigacov.run_stages`) and writes the run directory
(:mod:`gigacov.rundir`, docs/design.md §7–8): ``manifest.json`` (:mod:`gigacov.run_manifest`),
``rejected_rows.csv``, the COG rasters, ``compliance.csv``, ``indicators.gpkg``, and, when asked,
the map and the report; with ``reuse=True`` it reads back what is fresh
(:mod:`gigacov.run_reusing`). :func:`calibrate` is ``gigacov calibrate``. The in-memory result
is a :class:`gigacov.run_result.RunResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from . import safefs, staging
from .errors import GigacovError
from .run_manifest import manifest_for, write_manifest
from .run_result import RunResult
from .run_reusing import record_stages, run_reusing
from .run_stages import (
    STAGES,
    VALIDATE_REJECTED,
    VALIDATE_SKIPPED,
    Stage,
    check_grid_budget,
    check_not_empty,
    check_stage,
    check_standards_named,
    commit_run,
    coverage_stage,
    field_stage,
    ingest_stage,
    make_grid,
    map_stage,
    plan_stage,
    preflight_paths,
    report_stage,
    sweep_run_dir,
    write_rejected,
)
from .runlog import collect_warnings, new_run
from .scenario import Scenario, load_scenario

__all__ = [
    "RunResult",
    "Stage",
    "STAGES",
    "VALIDATE_REJECTED",
    "VALIDATE_SKIPPED",
    "load",
    "make_grid",
    "check_grid_budget",
    "check_not_empty",
    "run",
    "manifest_for",
    "write_manifest",
    "calibrate",
]


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
            return run_reusing(
                load(scenario), until, set(skip), offline, plan_counties, warned, recompute
            )
        return _run(scenario, until, skip, offline, plan_counties, warned)


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
    check_standards_named(scn, last)
    preflight_paths(scn, last, skip)
    sweep_run_dir(run_dir)
    result = ingest_stage(scn, run_dir, write=False)
    result.warnings = warned
    complete = (run_dir / "manifest.json").is_file()
    try:
        if not scn.scenario.allow_empty:
            check_not_empty(result.inputs)
    except GigacovError:
        write_rejected(result, VALIDATE_REJECTED if complete else "rejected_rows.csv")
        raise
    if until == "validate":
        # validate computes nothing: it leaves a run directory as it was, but for its report.
        write_rejected(result, VALIDATE_REJECTED if complete else "rejected_rows.csv")
        return result
    # The new run is built in a staging folder and moved into the run directory when complete
    # (gigacov.staging): until then the previous run stays as it was, and an interrupted run
    # leaves it untouched.
    with staging.staged_run(run_dir) as st:
        result.staging, result.run_dir = st, st.dir
        _run_stages(result, last, skip, offline, plan_counties)
        commit_run(result)
    return result


def _run_stages(
    result: RunResult,
    last: int,
    skip: set[Stage],
    offline: bool | None,
    plan_counties: Iterable[str] | None,
) -> None:
    """Every stage of a full run, written into ``result.run_dir``, the manifest last."""
    write_rejected(result, "rejected_rows.csv")
    steps: list[tuple[Stage, Callable[[], None]]] = [
        (
            "coverage",
            lambda: coverage_stage(
                result, plan=last >= STAGES.index("plan") and "plan" not in skip
            ),
        ),
        ("check", lambda: check_stage(result)),
        ("check", lambda: field_stage(result)),
        ("plan", lambda: plan_stage(result, plan_counties)),
        ("map", lambda: map_stage(result, offline)),
        ("report", lambda: report_stage(result)),
    ]
    computed = []
    for name, step in steps:
        if STAGES.index(name) > last:
            break
        if name in skip:
            continue
        step()
        computed.append(name)
    record_stages(result, computed, plan_counties)
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
    sweep_run_dir(run_dir)
    result = ingest_stage(scn, run_dir, write=False)
    # The rejected rows go beside the calibration; in a complete run they must not replace the
    # run's own (like validate).
    result.run_dir = folder
    complete = (folder / "manifest.json").is_file()
    write_rejected(result, VALIDATE_REJECTED if complete else "rejected_rows.csv")
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
        coverage_stage(result)
        fr = field_analyse(result, with_verdicts=False)
    paths = write_calibration(fr.calibration, folder, scenario=scn.name)
    return fr.calibration, paths
