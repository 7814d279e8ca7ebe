"""Reusing a finished run: the run directory is the source of truth.

``gigacov map``, ``report``, ``check`` and ``plan`` read a complete run (``manifest.json``
present) back instead of computing it again, as long as it still describes the scenario: every
stage the run computed records in the manifest a *fingerprint*, the values it depended on.

======== =================================================================================
stage    depends on
======== =================================================================================
coverage gigacov's version; ``[scenario] region, year``; ``[boundaries]``, ``[sites]``,
         ``[population]``, ``[terrain]``, ``[grid]``, ``[radio]``; the SHA-256 of every input
         file these name (boundaries, villages, sites, population raster, DEM, clutter)
check    coverage's, plus ``[scenario] standards``, ``[broadband]``, ``[key_places]``,
         ``[indicators]``, the broadband and key-place files' SHA-256, and the SHA-256 of every
         standard file
plan     check's, plus ``[planning]`` (the candidates file by SHA-256) and the counties asked for
======== =================================================================================

Paths never count, contents do: a run folder moved with its inputs is still reusable.
:func:`decide` compares the fingerprints of the scenario as it is now with the manifest's, stage
by stage, and returns a :class:`Decision`: which stages are read back, which are computed again
(missing, or stale — and then exactly what changed), in one line for the user
(:meth:`Decision.line`). A stage after a recomputed one is recomputed too. ``force=True``
(``--recompute``) recomputes everything. :func:`restore` (:mod:`gigacov.run_restore`) reads the
reused stages into a :class:`~gigacov.run_result.RunResult`: coverage rasters, indicator tables
with their geometries, the compliance table, and the plan (weak-coverage areas, recommended
sites and the plan summary kept in the manifest).

Presentation settings (``[map]``, ``[report]``, ``[compute]``, the scenario's title and
description) are not part of any fingerprint: a new report title or basemap never recomputes
coverage.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .errors import RunError
from .run_restore import StoredPlan, restore
from .rundir import (
    COMPLIANCE,
    COVERAGE_LAYERS,
    GAPS,
    INDICATORS,
    MANIFEST,
    RECOMMENDED_CSV,
    RECOMMENDED_GPKG,
    coverage_file,
    coverage_suffix,
    read_manifest,
    sha256_file,
)
from .scenario import Scenario, default_boundaries_path, path_keys

__all__ = [
    "DATA_STAGES",
    "STAGE_FILES",
    "Decision",
    "fingerprints",
    "decide",
    "restore",
    "StoredPlan",
    "read_manifest_if_complete",
    "dropped_record",
    "stage_record",
    "stage_files",
    "own_changes",
]

log = logging.getLogger(__name__)

#: Stages whose results live in the run directory and can be read back, in order.
DATA_STAGES: tuple[str, ...] = ("coverage", "check", "plan")

#: Files each stage leaves in the run directory (coverage: per technology, see _stage_files).
STAGE_FILES: dict[str, tuple[str, ...]] = {
    "coverage": COVERAGE_LAYERS,
    "check": (COMPLIANCE, INDICATORS),
    "plan": (GAPS, RECOMMENDED_GPKG, RECOMMENDED_CSV),
}

_COVERAGE_SECTIONS = ("boundaries", "sites", "population", "terrain", "grid", "radio")
_CHECK_SECTIONS = ("broadband", "key_places", "indicators")
_PLAN_SECTIONS = ("planning",)


# ------------------------------------------------------------------------------------------------
# Fingerprints
# ------------------------------------------------------------------------------------------------


def _file_digest(path: str, known: dict[str, str]) -> str:
    """``sha256:<hex> (<file name>)`` of a file, ``""`` when none is configured."""

    if not path:
        return ""
    p = Path(path)
    if not p.exists():
        return f"missing ({p.name})"
    if p.is_dir():
        return f"folder ({p.name})"
    digest = known.get(str(p)) or known.get(str(p.resolve())) or sha256_file(p)
    return f"sha256:{digest} ({p.name})"


def _section_values(
    scn: Scenario, section: str, hashes: dict[str, str], skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    values = scn.to_dict()[section]
    paths = path_keys()
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in skip:
            continue
        label = f"[{section}] {key}"
        if (section, key) in paths:
            if section == "boundaries" and key == "counties" and not value:
                value = str(default_boundaries_path())
            if isinstance(value, list):  # a list of files: each one's content counts
                out[label] = [_file_digest(str(v), hashes) for v in value]
            else:
                out[label] = _file_digest(str(value), hashes)
        elif section == "key_places" and key == "files":
            out[label] = [{**f, "path": _file_digest(str(f["path"]), hashes)} for f in value]
        else:
            out[label] = value
    return out


def fingerprints(
    scn: Scenario,
    standards: list[Any],
    *,
    file_hashes: dict[str, str] | None = None,
    plan_counties: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Stage → {what it depends on → value} for the scenario as it is now.

    ``file_hashes`` (path → SHA-256, as ``Inputs.file_hashes``) saves hashing files again.
    """
    hashes = dict(file_hashes or {})
    cov: dict[str, Any] = {
        "gigacov version": __version__,
        "[scenario] region": scn.scenario.region,
        "[scenario] year": scn.scenario.year,
    }
    for section in _COVERAGE_SECTIONS:
        cov.update(_section_values(scn, section, hashes))
    check = dict(cov)
    check["[scenario] standards"] = list(scn.scenario.standards)
    for section in _CHECK_SECTIONS:
        check.update(_section_values(scn, section, hashes))
    for s in standards:
        path = str(getattr(s, "path", "") or "")
        check[f"standard {s.id}"] = _file_digest(path, hashes) if path else str(s.version)
    plan = dict(check)
    for section in _PLAN_SECTIONS:
        plan.update(_section_values(scn, section, hashes))
    plan["plan counties"] = sorted(plan_counties) if plan_counties else "every failing county"
    return {"coverage": cov, "check": check, "plan": plan}


def _describe(label: str, old: Any, new: Any) -> str:
    """One change in words: a file by name, a setting with its old and new value."""
    if label.startswith("standard "):
        name = new.split("(", 1)[-1].rstrip(")") if isinstance(new, str) and "(" in new else ""
        return f"standard file {name or label[9:]} changed ({label[9:]}; SHA-256 differs)"
    if isinstance(new, str) and (new.startswith("sha256:") or new.startswith("missing")):
        name = new.split("(", 1)[-1].rstrip(")") if "(" in new else label
        if new.startswith("missing"):
            return f"input file {name} is missing ({label})"
        if not old:
            return f"input file {name} added ({label})"
        old_name = old.split("(", 1)[-1].rstrip(")") if isinstance(old, str) and "(" in old else ""
        if old_name and old_name != name:
            return f"input file {label} is now {name} (was {old_name}), contents differ"
        return f"input file {name} changed ({label}; SHA-256 differs)"
    if isinstance(old, str) and old.startswith("sha256:") and not new:
        return f"input file {old.split('(', 1)[-1].rstrip(')')} removed ({label})"
    if old is None:
        return f"{label} is new"
    return f"{label}: {old!r} → {new!r}"


def _diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for label in new:
        if label not in old:
            if label.startswith("standard ") and label not in old:
                out.append(f"{label} added")
            continue
        if _norm(old[label]) != _norm(new[label]):
            out.append(_describe(label, old[label], new[label]))
    for label in old:
        if label.startswith("standard ") and label not in new:
            out.append(f"{label} removed")
    return out


def _norm(v: Any) -> Any:
    """JSON round trip, so that tuples and lists, ints and floats compare as the manifest does."""
    return json.loads(json.dumps(v, default=str))


def own_changes(
    stage: str,
    old: dict[str, Any],
    new: dict[str, Any],
    now: dict[str, dict[str, Any]],
    upstream_recomputed: bool,
) -> list[str]:
    """What changed for ``stage``, upstream changes said once (for the upstream stage)."""
    if stage == DATA_STAGES[0]:
        return _diff(old, new)
    prev_stage = DATA_STAGES[DATA_STAGES.index(stage) - 1]
    prev = now[prev_stage]
    own = _diff(
        {k: v for k, v in old.items() if k not in prev},
        {k: v for k, v in new.items() if k not in prev},
    )
    if own:
        return own
    if upstream_recomputed:
        return [f"follows {prev_stage}"]
    if _diff(old, new):
        return [f"made from an earlier {prev_stage}"]
    return []


# ------------------------------------------------------------------------------------------------
# Deciding
# ------------------------------------------------------------------------------------------------


@dataclass
class Decision:
    """What a command does with the run directory.

    Attributes
    ----------
    run_dir
        The run directory.
    reuse
        Stages read back from the run directory.
    compute
        Stages computed now (in order).
    reasons
        Why each computed stage is computed: ``{stage: [reason, ...]}`` (missing, stale with
        what changed, forced).
    created_utc
        When the reused run was made (from its manifest).
    manifest
        The run's manifest as read (None without a complete run).
    kept_plan_settings
        Planning settings in which the kept plan differs from the scenario (``map``/``report``
        show the plan as ``gigacov plan`` made it, and say so).
    """

    run_dir: Path
    reuse: list[str] = field(default_factory=list)
    compute: list[str] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    created_utc: str = ""
    manifest: dict[str, Any] | None = None
    kept_plan_settings: list[str] = field(default_factory=list)
    earlier_warnings: list[str] = field(default_factory=list)
    """Warnings the reused stages gave when they were computed (from the manifest)."""
    dropped: dict[str, list[str]] = field(default_factory=dict)
    """Stages the command neither needs nor computes whose record in the run no longer
    describes the scenario (made from an earlier stage now recomputed, or from other inputs):
    their files are not kept (``gigacov check`` after a new site list drops the old plan)."""

    @property
    def stale(self) -> bool:
        return any(
            r not in ("missing", "forced (--recompute)", "no complete run")
            for rs in self.reasons.values()
            for r in rs
        )

    def line(self) -> str:
        """One line: what is reused, what is recomputed and why."""
        if self.compute and all(
            self.reasons.get(stage) == ["no complete run"] for stage in self.compute
        ):
            return f"no complete run in {self.run_dir} yet: computing {', '.join(self.compute)}"
        parts = []
        if self.reuse:
            when = f" (made {self.created_utc})" if self.created_utc else ""
            parts.append(f"reusing {', '.join(self.reuse)} from {self.run_dir}{when}")
        if self.compute:
            why: list[str] = []
            for stage in self.compute:
                for r in self.reasons.get(stage, []):
                    if r not in why and not r.startswith("follows "):
                        why.append(r)
            head = "stale run, " if self.stale else ""
            parts.append(
                f"{head}recomputing {', '.join(self.compute)}"
                + (f": {'; '.join(why)}" if why else "")
            )
        if self.kept_plan_settings:
            parts.append(
                "plan kept as made by 'gigacov plan' ("
                + "; ".join(self.kept_plan_settings)
                + "; 'gigacov plan' redoes it)"
            )
        if self.reuse and self.earlier_warnings:
            n = len(self.earlier_warnings)
            parts.append(
                f"{n} warning{'s' if n > 1 else ''} when it was computed "
                "(in manifest.json; -v shows them)"
            )
        if self.dropped:
            parts.append(
                "dropping the earlier "
                + ", ".join(f"{st} ({_why_dropped(rs)})" for st, rs in self.dropped.items())
            )
        if not parts:
            return f"nothing to compute in {self.run_dir}"
        return "; ".join(parts)


def dropped_record(reasons: list[str], record: dict[str, Any]) -> dict[str, Any]:
    """What the manifest keeps of a stage a command dropped (:attr:`Decision.dropped`): no
    files, but the stage stays part of the run, so ``map`` and ``report`` compute it again."""
    from datetime import UTC, datetime

    return {
        "dropped": _why_dropped(reasons),
        "dropped_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "fingerprint": record.get("fingerprint") or {},
    }


def _why_dropped(reasons: list[str]) -> str:
    """Why a stage was dropped, in words: its own changes, or the stage it was made from."""
    own = [r for r in reasons if not r.startswith("follows ")]
    if own:
        return "; ".join(own)
    after = reasons[0].removeprefix("follows ") if reasons else "an earlier stage"
    return f"made from the {after} now recomputed"


def read_manifest_if_complete(run_dir: Path) -> dict[str, Any] | None:
    """The run's manifest, or None when the folder holds no complete run."""
    if not (Path(run_dir) / MANIFEST).is_file():
        return None
    try:
        return read_manifest(run_dir)
    except (RunError, OSError) as exc:
        raise RunError(f"{exc}; rerun the scenario with --recompute") from None


def stage_files(stage: str, record: dict[str, Any]) -> list[str]:
    """The files a stage left in the run directory (from its manifest record)."""
    return _stage_files(stage, record)


def _stage_files(stage: str, record: dict[str, Any]) -> list[str]:
    if stage == "coverage":
        files = []
        for tech in record.get("technologies", []):
            files += [coverage_file(lay, coverage_suffix(tech)) for lay in COVERAGE_LAYERS]
        for slug in (record.get("operators") or {}).values():
            files += [coverage_file(lay, coverage_suffix("5G", slug)) for lay in COVERAGE_LAYERS]
        return files
    return list(STAGE_FILES[stage])


def decide(
    run_dir: Path,
    now: dict[str, dict[str, Any]],
    *,
    needed: tuple[str, ...],
    optional: tuple[str, ...] = (),
    force: bool = False,
    plan_strict: bool = True,
) -> Decision:
    """Which stages to read back and which to compute.

    Parameters
    ----------
    run_dir
        The scenario's run directory.
    now
        :func:`fingerprints` of the scenario as it is now.
    needed
        Data stages the command needs (e.g. ``("coverage", "check")`` for ``map``).
    optional
        Stages used when the run holds them (``("plan",)`` for ``map`` and ``report``): read
        back when fresh, recomputed when stale, left out when the run has none.
    force
        Recompute every needed stage (``--recompute``).
    plan_strict
        Whether the plan's own ``[planning]`` settings must match (``gigacov plan``); when
        False, a plan that differs only in them is kept and the differences are listed.
    """
    decision = Decision(run_dir=Path(run_dir))
    try:
        manifest = read_manifest_if_complete(run_dir)
    except RunError:
        if not force:
            raise
        manifest = None
    decision.manifest = manifest
    records: dict[str, Any] = (manifest or {}).get("stages") or {}
    if manifest is not None:
        first = records.get(DATA_STAGES[0]) or {}
        decision.created_utc = str(first.get("computed_utc") or manifest.get("created_utc", ""))
    upstream_recomputed = False
    for stage in DATA_STAGES:
        record = records.get(stage)
        if stage not in needed and stage not in optional:
            # not part of this command: kept as it was while it still describes the scenario
            if record is not None and manifest is not None and not record.get("dropped"):
                # recomputed only because forced or a file was missing, the upstream stages
                # come out as they were (same inputs, same settings): the stage still holds
                changed = any(
                    r != "forced (--recompute)"
                    and not r.endswith(" missing")
                    and not r.startswith("follows ")
                    for st in decision.compute
                    for r in decision.reasons[st]
                )
                why = _unneeded_changes(stage, record, now, changed)
                if why:
                    decision.dropped[stage] = why
                    upstream_recomputed = True
            continue
        if stage not in needed and record is None:
            continue
        reasons: list[str] = []
        if force:
            reasons.append("forced (--recompute)")
        elif manifest is None:
            reasons.append("no complete run")
        elif record is None:
            reasons.append("missing")
        elif record.get("dropped"):
            reasons.append(f"dropped earlier: {record['dropped']}")
        else:
            missing = [f for f in _stage_files(stage, record) if not (run_dir / f).is_file()]
            if missing:
                reasons.append(f"{', '.join(missing)} missing")
            old = record.get("fingerprint") or {}
            new = now[stage]
            if stage == "plan" and not plan_strict:
                own = {k for k in new if k.startswith("[planning]") or k == "plan counties"}
                decision.kept_plan_settings = _diff(
                    {k: v for k, v in old.items() if k in own},
                    {k: v for k, v in new.items() if k in own},
                )
                old = {k: v for k, v in old.items() if k not in own}
                new = {k: v for k, v in new.items() if k not in own}
            reasons += own_changes(stage, old, new, now, upstream_recomputed)
        if reasons:
            decision.compute.append(stage)
            decision.reasons[stage] = reasons
            upstream_recomputed = True
        else:
            decision.reuse.append(stage)
    if decision.reuse and manifest is not None:
        decision.earlier_warnings = [str(w) for w in manifest.get("warnings") or []]
    if decision.compute:
        decision.kept_plan_settings = (
            [] if "plan" in decision.compute else decision.kept_plan_settings
        )
    return decision


def _unneeded_changes(
    stage: str,
    record: dict[str, Any],
    now: dict[str, dict[str, Any]],
    upstream_changed: bool,
) -> list[str]:
    """Why a stage the command does not need no longer describes the scenario (empty: it
    still does). A plan whose only changes are its own ``[planning]`` settings still does: it
    is the plan as ``gigacov plan`` made it, which ``map`` and ``report`` show and say so.
    ``upstream_changed``: an earlier stage is recomputed for a change (not only forced)."""
    old = dict(record.get("fingerprint") or {})
    new = dict(now[stage])
    if stage == "plan":
        own = {k for k in new if k.startswith("[planning]") or k == "plan counties"}
        old = {k: v for k, v in old.items() if k not in own}
        new = {k: v for k, v in new.items() if k not in own}
    return own_changes(stage, old, new, now, upstream_changed)


def stage_record(result: Any, stage: str, fingerprint: dict[str, Any]) -> dict[str, Any]:
    """What the manifest keeps of a stage: its fingerprint and what reading it back needs."""
    from datetime import UTC, datetime

    record: dict[str, Any] = {
        "fingerprint": fingerprint,
        "computed_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if stage == "coverage":
        from .operators import operator_slug

        record["technologies"] = list(result.coverage)
        by_op = getattr(result, "coverage_by_operator", None) or {}
        record["operators"] = {op: operator_slug(op) for op in by_op}
    elif stage == "check":
        record["technologies"] = list(getattr(result.indicators, "technologies", ()) or ())
    elif stage == "plan" and result.plan is not None:
        record["summary"] = result.plan.summary()
    return record
