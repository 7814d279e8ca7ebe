"""A run with ``reuse=True``: read back the stages a complete run still holds for the scenario
(:mod:`gigacov.reuse`), compute only what is missing or stale, and record every computed stage's
fingerprint for later commands."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import staging
from .errors import GigacovError
from .run_manifest import write_manifest
from .run_result import RunResult
from .run_stages import (
    STAGES,
    VALIDATE_REJECTED,
    Stage,
    check_not_empty,
    check_stage,
    check_standards_named,
    commit_run,
    coverage_stage,
    field_stage,
    make_grid,
    map_stage,
    plan_stage,
    preflight_paths,
    report_stage,
    say_input_warnings,
    sweep_run_dir,
    timed,
    write_rejected,
)
from .scenario import Scenario

__all__ = ["run_reusing", "record_stages"]

log = logging.getLogger(__name__)


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


def record_stages(
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


def run_reusing(
    scn: Scenario,
    until: Stage,
    skip: set[Stage],
    offline: bool | None,
    plan_counties: Iterable[str] | None,
    warned: list[str],
    force: bool,
) -> RunResult:
    """:func:`gigacov.pipeline.run` with ``reuse=True``: read back what is fresh, compute what is not."""
    from . import reuse
    from .ingest import load_inputs
    from .standard_files import load_standards

    if until not in STAGES:
        raise ValueError(f"until must be one of {STAGES}, got {until!r}")
    last = STAGES.index(until)
    run_dir = scn.out_dir
    check_standards_named(scn, last)
    preflight_paths(scn, last, skip)
    sweep_run_dir(run_dir)
    result = RunResult(scenario=scn, run_dir=run_dir, inputs=None, warnings=warned)
    with timed(result, "ingest"):
        result.inputs = load_inputs(scn)
    say_input_warnings(result.inputs)
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
        write_rejected(result, VALIDATE_REJECTED if complete else "rejected_rows.csv")
        raise
    # Built in a staging folder like a full run; the files of the stages read back are
    # hard-linked into it (gigacov.staging), so a reusing command costs no copy.
    with staging.staged_run(run_dir) as st:
        st.carry(_carried(run_dir, decision))
        result.staging, result.run_dir = st, st.dir
        _reuse_stages(result, decision, last, skip, offline, counties)
        commit_run(result)
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
        if stage in reuse.DATA_STAGES
        and stage not in decision.compute
        and stage not in decision.dropped
        and isinstance(record, dict)
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


def _say_dropped(result: RunResult, decision: Any, stale_map: Path | None) -> None:
    """Say which of the earlier run's outputs this command leaves out because they describe
    data it has just recomputed (a stale plan, the report, the map): exactly the files the
    commit removes, and the map, which stays on disk outside the run. Nothing made from other
    data stays in the run silently."""
    if not decision.compute:
        return
    old_dir = decision.run_dir
    gone = sorted(
        p.name
        for p in (old_dir.iterdir() if old_dir.is_dir() else ())
        if staging.is_run_output(p.name)
        and p.name not in (staging.MANIFEST, VALIDATE_REJECTED)
        and p.is_file()
        and not (result.run_dir / p.name).exists()
    )
    if not gone and stale_map is None:
        return
    redo = ["'gigacov plan'"] if decision.dropped else []
    if stale_map is not None:
        redo.append("'gigacov map'")
    if any(n.startswith(("report", "comparison")) for n in gone):
        redo.append("'gigacov report'")
    what = "removed: " + ", ".join(gone) if gone else ""
    if stale_map is not None:
        what += ("; " if what else "") + f"the map {stale_map} stays on disk outside the run"
    text = (
        f"{old_dir}: {', '.join(decision.compute)} recomputed, so the earlier outputs made from "
        f"the old data leave the run ({what}); {', '.join(redo) or 'gigacov run'} makes them again"
    )
    log.warning("%s", text)
    result.warnings.append(text)


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
        write_rejected(result, "rejected_rows.csv")
    result.outputs["rejected_rows"] = run_dir / "rejected_rows.csv"
    result.outputs["skipped_rows"] = run_dir / "skipped_rows.csv"
    result.grid = make_grid(scn, result.inputs)
    for stage in reuse.DATA_STAGES:
        if stage in decision.reuse:
            with timed(result, f"read_{stage}"):
                reuse.restore(result, decision, stage)
            result.stages[stage] = (old.get("stages") or {})[stage]
        elif stage in decision.compute:
            if stage == "coverage":
                coverage_stage(result)
            else:
                if result.population is None:
                    with timed(result, "population"):
                        result.population = population_grid(result.inputs, result.grid)
                if stage == "check":
                    check_stage(result)
                else:
                    plan_stage(result, counties)
    # The field check (with [measurements]) is derived from the rasters and the measurements at
    # little cost; it is redone rather than stored, so the map and report always have it.
    if "check" in decision.reuse or "check" in decision.compute:
        field_stage(result)
    record_stages(result, decision.compute, counties)
    # Stages this command neither read nor computed stay recorded as they were, unless they no
    # longer describe the scenario (decision.dropped): their files are not carried, and their
    # record says so, so that map and report compute them again.
    for stage, record in (old.get("stages") or {}).items():
        if stage in decision.dropped:
            record = reuse.dropped_record(decision.dropped[stage], record)
        result.stages.setdefault(stage, record)
    redraws = last >= STAGES.index("map") and "map" not in skip
    stale_map = None
    for key, rel in (old.get("outputs") or {}).items():
        # the old run's files that were carried into this one, and its map
        path = Path(rel) if Path(rel).is_absolute() else run_dir / rel
        if key == "map" and decision.compute and not redraws:
            stale_map = path if path.exists() else None  # drawn from the data now recomputed
            continue
        if key not in result.outputs and path.exists():
            result.outputs[key] = path
    if decision.reuse:
        # The report's provenance shows how long the reused stages took when computed.
        for key, seconds in (old.get("timings_s") or {}).items():
            if key not in ("map", "report", "ingest"):
                result.timings.setdefault(key, seconds)
    if last >= STAGES.index("map") and "map" not in skip:
        map_stage(result, offline)
    if last >= STAGES.index("report") and "report" not in skip:
        report_stage(result)
    if decision.reuse:
        # The reused stages' warnings and timings stay with the run.
        result.warnings.extend(w for w in old.get("warnings") or [] if w not in result.warnings)
    _say_dropped(result, decision, stale_map)
    write_manifest(result)
